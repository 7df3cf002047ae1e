//! A comment as federated content: a `Note` replying to a review, an incident or a comment
//! (`picket:comment`), sent to the home of what it answers, which passes it on; and how another
//! instance's, or a Mastodon or Lemmy user's reply to a feed's post, is checked and stored.

use activitypub_federation::config::Data;
use activitypub_federation::kinds::object::NoteType;
use chrono::NaiveDateTime;
use picket_core::secrets::new_public_id;
use picket_db::comments::{self, CommentRow, NewComment, Parent};
use picket_db::events::ObjectType;
use picket_db::incidents::{self, IncidentRow};
use picket_db::models::now;
use picket_db::requesters::RequesterRow;
use picket_db::reviews::{self, RemoteOutcome, ReviewRow};
use picket_db::{DbConn, DbError};
use url::Url;

use super::incident::incident_id;
use super::{
    Content, ContentKind, HeldCopy, boxed_copy, feed_of, missing_as_none, object_id, platform_of,
    requester_of, signer_of, texts, username,
};
use crate::actors::LocalActor;
use crate::objects::{CommentFields, CommentNote, PicketObject, public};
use crate::receive::{Remote, apply_content, fetch, pass_on};
use crate::{ApubData, ApubError};

/// What a comment is about, as loaded for its wire form.
#[derive(Debug)]
enum CommentParent {
    Review(ReviewRow),
    Incident(IncidentRow),
}

impl CommentParent {
    fn id(&self, data: &ApubData) -> Result<Url, DbError> {
        match self {
            CommentParent::Review(row) => {
                object_id(data, row.ap_id.as_deref(), "reviews", &row.public_id)
            }
            CommentParent::Incident(row) => incident_id(data, row),
        }
    }

    fn is_published(&self) -> bool {
        match self {
            CommentParent::Review(row) => row.state == "published",
            CommentParent::Incident(row) => row.is_published(),
        }
    }

    fn remote_author(&self) -> Option<&str> {
        match self {
            CommentParent::Review(row) => row.remote_author.as_deref(),
            CommentParent::Incident(row) => row.remote_author.as_deref(),
        }
    }
}

/// A comment with what it is about, the comment it answers, the requester and its local
/// author's name.
#[derive(Debug)]
pub(crate) struct ApubComment {
    id: Url,
    row: CommentRow,
    parent: CommentParent,
    answered: Option<CommentRow>,
    requester: Option<RequesterRow>,
    author: Option<String>,
}

impl ApubComment {
    fn with_context(conn: &mut DbConn, data: &ApubData, row: CommentRow) -> Result<Self, DbError> {
        let (parent, requester_pk) = match row.parent()? {
            Parent::Review(pk) => {
                let review = reviews::by_pk(conn, pk)?;
                let requester_pk = Some(review.requester_pk);
                (CommentParent::Review(review), requester_pk)
            }
            Parent::Incident(pk) => {
                let incident = incidents::by_pk(conn, pk)?;
                let requester_pk = incident.requester_pk;
                (CommentParent::Incident(incident), requester_pk)
            }
        };
        let answered = row
            .reply_to_pk
            .map(|pk| comments::by_pk(conn, pk))
            .transpose()?;
        Ok(ApubComment {
            id: object_id(data, row.ap_id.as_deref(), "comments", &row.public_id)?,
            requester: requester_of(conn, requester_pk)?,
            author: username(conn, row.author_id)?,
            row,
            parent,
            answered,
        })
    }

    /// A reply to the comment it answers, else to the review or incident, addressed to the
    /// requester feed's followers too, so that Lemmy shows it under the post and Mastodon as a
    /// reply.
    fn to_json(&self, data: &ApubData) -> Result<CommentNote, ApubError> {
        let row = &self.row;
        let in_reply_to = match &self.answered {
            Some(answered) => object_id(
                data,
                answered.ap_id.as_deref(),
                "comments",
                &answered.public_id,
            )?,
            None => self.parent.id(data)?,
        };
        let cc =
            match &self.requester {
                Some(requester) => vec![
                    data.local_url(
                        &LocalActor::Feed(platform_of(requester)?, requester.requester_id.clone())
                            .path(),
                    ),
                ],
                None => Vec::new(),
            };
        Ok(CommentNote {
            kind: NoteType::Note,
            url: Some(self.id.clone()),
            id: self.id.clone(),
            attributed_to: data.local_url(&self.signer().path()),
            in_reply_to,
            to: vec![public()],
            cc,
            content: texts(&row.body).1,
            media_type: Some("text/html".to_owned()),
            source: None,
            published: row.created_at.and_utc(),
            updated: (row.updated_at != row.created_at).then(|| row.updated_at.and_utc()),
            comment: Some(CommentFields {
                body: row.body.clone(),
                as_requester: row.as_requester,
            }),
        })
    }
}

impl Content for ApubComment {
    fn url(&self) -> &Url {
        &self.id
    }

    fn is_local(&self) -> bool {
        self.row.ap_id.is_none()
    }

    fn is_gone(&self) -> bool {
        !self.row.is_published() || !self.parent.is_published() || self.author.is_none()
    }

    fn signer(&self) -> LocalActor {
        signer_of(self.author.as_ref())
    }

    fn feed(&self) -> Result<Option<LocalActor>, ApubError> {
        match (&self.requester, &self.parent) {
            (Some(requester), _) => feed_of(Some(requester), "").map(Some),
            (None, CommentParent::Incident(row)) => feed_of(None, &row.platform).map(Some),
            (None, CommentParent::Review(_)) => Ok(None),
        }
    }

    fn wire(&self, data: &ApubData) -> Result<PicketObject, ApubError> {
        Ok(PicketObject::Comment(Box::new(self.to_json(data)?)))
    }

    fn moderation(&self) -> (&str, Option<String>) {
        (&self.row.state, self.row.removed_reason.clone())
    }

    /// The home of what it is about, and the author of the comment it answers (a Mastodon
    /// user hears of the answer).
    fn reply_authors(&self) -> Vec<&str> {
        self.parent
            .remote_author()
            .into_iter()
            .chain(
                self.answered
                    .as_ref()
                    .and_then(|a| a.remote_author.as_deref()),
            )
            .collect()
    }
}

/// What a comment replies to, when it is held here: the review or incident (ours or a copy),
/// the comment it answers, and the requester's ID (for the worker-ID guard).
struct CommentTarget {
    parent: Parent,
    answered: Option<CommentRow>,
    requester_id: Option<String>,
    /// About one of this instance's own reviews or incidents: its followers hear of it from here.
    parent_is_local: bool,
    published: bool,
}

fn comment_target(
    data: &ApubData,
    conn: &mut DbConn,
    in_reply_to: &Url,
) -> Result<Option<CommentTarget>, DbError> {
    let local = data.local_path(in_reply_to);
    let local = local.as_deref().and_then(|path| path.split_once('/'));
    let mine = |ap_id: &Option<String>| ap_id.is_none();
    let (parent, answered) = match local {
        Some(("reviews", id)) => match missing_as_none(reviews::by_public_id(conn, id))? {
            Some(row) if mine(&row.ap_id) => (Parent::Review(row.id), None),
            _ => return Ok(None),
        },
        Some(("incidents", id)) => match missing_as_none(incidents::by_public_id(conn, id))? {
            Some(row) if mine(&row.ap_id) => (Parent::Incident(row.id), None),
            _ => return Ok(None),
        },
        Some(("comments", id)) => match missing_as_none(comments::by_public_id(conn, id))? {
            Some(row) if mine(&row.ap_id) => (row.parent()?, Some(row)),
            _ => return Ok(None),
        },
        Some(_) => return Ok(None),
        None => {
            let url = in_reply_to.as_str();
            if let Some(row) = reviews::by_ap_id(conn, url)? {
                (Parent::Review(row.id), None)
            } else if let Some(row) = incidents::by_ap_id(conn, url)? {
                (Parent::Incident(row.id), None)
            } else if let Some(row) = comments::by_ap_id(conn, url)? {
                (row.parent()?, Some(row))
            } else {
                return Ok(None);
            }
        }
    };
    let (published, ap_id, requester_pk) = match parent {
        Parent::Review(pk) => {
            let row = reviews::by_pk(conn, pk)?;
            (row.state == "published", row.ap_id, Some(row.requester_pk))
        }
        Parent::Incident(pk) => {
            let row = incidents::by_pk(conn, pk)?;
            (row.is_published(), row.ap_id, row.requester_pk)
        }
    };
    let requester_id = requester_of(conn, requester_pk)?.map(|r| r.requester_id);
    Ok(Some(CommentTarget {
        published: published && answered.as_ref().is_none_or(CommentRow::is_published),
        parent,
        answered,
        requester_id,
        parent_is_local: ap_id.is_none(),
    }))
}

/// Whether a comment is about one of this instance's own reviews or incidents.
fn about_local(conn: &mut DbConn, row: &CommentRow) -> Result<bool, DbError> {
    Ok(match row.parent()? {
        Parent::Review(pk) => reviews::by_pk(conn, pk)?.ap_id.is_none(),
        Parent::Incident(pk) => incidents::by_pk(conn, pk)?.ap_id.is_none(),
    })
}

#[async_trait::async_trait]
impl ContentKind for ApubComment {
    const COLLECTION: &'static str = "comments";

    fn load(conn: &mut DbConn, data: &ApubData, public_id: &str) -> Result<Self, DbError> {
        let row = comments::by_public_id(conn, public_id)?;
        ApubComment::with_context(conn, data, row)
    }

    fn by_ap_id(conn: &mut DbConn, data: &ApubData, ap_id: &str) -> Result<Option<Self>, DbError> {
        comments::by_ap_id(conn, ap_id)?
            .map(|row| ApubComment::with_context(conn, data, row))
            .transpose()
    }

    /// A comment from another Picket instance, or a Mastodon or Lemmy reply to a post of a
    /// requester feed, stored as a comment on what it replies to. A reply to something not held
    /// here fetches that first (a review, an incident, or a comment on one held here), one level
    /// deep at most: threads of strangers' replies are not followed up their whole length.
    async fn store(
        data: &Data<ApubData>,
        activity_id: Option<&Url>,
        note: CommentNote,
    ) -> Result<(), ApubError> {
        let remote = Remote::new(
            &note.id,
            &note.attributed_to,
            note.updated.unwrap_or(note.published),
        );
        let target = note.in_reply_to.clone();
        let lookup = |url: Url| {
            let shared = data.app_data().clone();
            data.db.run(move |conn| {
                comment_target(&shared, conn, &url).map(|t| t.map(|t| t.requester_id))
            })
        };
        let requester_id = match lookup(target.clone()).await? {
            Some(requester_id) => requester_id,
            None => {
                if data.local_path(&target).is_some() {
                    // A reply to a post of ours that is gone, or to anything else here: nothing
                    // to keep.
                    tracing::debug!(%target, "a reply to nothing held here");
                    return Ok(());
                }
                let fetched = fetch(data, &target).await?;
                match &fetched {
                    PicketObject::Page(_) => {}
                    PicketObject::Comment(parent)
                        if lookup(parent.in_reply_to.clone()).await?.is_some() => {}
                    PicketObject::Comment(_) => {
                        return Err(ApubError::Invalid(format!(
                            "{target} answers nothing held here"
                        )));
                    }
                    PicketObject::Note(_) | PicketObject::Fact(_) => {
                        return Err(ApubError::Invalid(
                            "a comment answers a review, an incident or a comment".into(),
                        ));
                    }
                }
                Box::pin(super::store(data, None, fetched)).await?;
                lookup(target.clone())
                    .await?
                    .ok_or_else(|| ApubError::Invalid(format!("{target} is not held here")))?
            }
        };
        // A Picket instance asked its author about worker IDs; a stranger's reply was never
        // asked.
        let body = picket_core::comment::validate_comment(
            &note.text(),
            requester_id.as_deref().unwrap_or_default(),
            note.comment.is_some(),
        )
        .map_err(|e| ApubError::Invalid(e.to_string()))?;
        let as_requester = note.as_requester();
        let shared = data.app_data().clone();
        let published = note.published.naive_utc();
        let ap_id = remote.ap_id.clone();
        apply_content(data, activity_id, ap_id, move |conn| {
            let Some(found) = comment_target(&shared, conn, &target)? else {
                return Ok(());
            };
            if !found.published {
                return Ok(());
            }
            let at = now();
            // Another instance's word that its author speaks for the requester is believed
            // only from an instance this one trusts (follows or allows).
            let as_requester = as_requester && picket_db::policy::is_counted(conn, &remote.origin)?;
            let (row, outcome) = comments::upsert_remote(
                conn,
                remote.as_origin(),
                NewComment {
                    public_id: &new_public_id(),
                    parent: found.parent,
                    reply_to: found.answered.as_ref(),
                    body: &body,
                    as_requester,
                },
                published,
                at,
            )?;
            if found.parent_is_local && outcome == RemoteOutcome::Created {
                pass_on(conn, ObjectType::Comment, &row.public_id, at)?;
            }
            Ok(())
        })
        .await
    }
}

super::federated_object!(ApubComment, CommentNote);

impl HeldCopy for CommentRow {
    fn delete_copy(&self, conn: &mut DbConn, at: NaiveDateTime) -> Result<(), DbError> {
        let ap_id = self.ap_id.as_deref().unwrap_or_default();
        if let Some(row) = comments::delete_remote(conn, ap_id, at)?
            && about_local(conn, &row)?
        {
            pass_on(conn, ObjectType::Comment, &row.public_id, at)?;
        }
        Ok(())
    }
}

pub(super) fn copy(conn: &mut DbConn, ap_id: &str) -> Result<Option<Box<dyn HeldCopy>>, DbError> {
    Ok(comments::by_ap_id(conn, ap_id)?.map(boxed_copy))
}

pub(super) fn copies_by(
    conn: &mut DbConn,
    author: &str,
) -> Result<Vec<Box<dyn HeldCopy>>, DbError> {
    Ok(comments::remote_by_author(conn, author)?
        .into_iter()
        .map(boxed_copy)
        .collect())
}
