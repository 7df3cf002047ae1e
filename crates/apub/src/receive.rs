//! Other instances' content coming in: reviews, incidents and corroborations checked by the same rules as local ones and stored with their origin, so they count in aggregates and waves and notify followers here; deletions; and announces, whose objects are fetched from their origin rather than trusted.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::fetch_object_http;
use chrono::NaiveDateTime;
use picket_core::incident::{IncidentInput, validate_corroboration, validate_incident};
use picket_core::moderation::{ModAction, ReportReason, TargetType};
use picket_core::platform::Platform;
use picket_core::review::{ReviewInput, validate_review};
use picket_core::secrets::new_public_id;
use picket_db::comments::{self, CommentRow, NewComment, Parent};
use picket_db::events::{self, EventKind, ObjectType};
use picket_db::incidents::{self, IncidentRow, RemoteIncident, Waves};
use picket_db::models::now;
use picket_db::reviews::{self, RemoteOrigin, RemoteOutcome};
use picket_db::{DbConn, DbError, delivery, moderation, requesters};
use serde_json::Value;
use url::Url;

use crate::activities::once;
use crate::objects::{
    Announce, CommentNote, ContentPage, CorroborationNote, Flag, PageBody, PicketObject, origin,
};
use crate::publish::missing_as_none;
use crate::{ApubData, ApubError};

/// Runs `apply` in one transaction: with recording `activity_id` when the object came in an
/// activity (so it is applied once), on its own when it was fetched (backfill, a dependency).
async fn apply<F>(data: &ApubData, activity_id: Option<&Url>, apply: F) -> Result<(), ApubError>
where
    F: FnMut(&mut DbConn) -> Result<(), DbError> + Send + 'static,
{
    match activity_id {
        Some(id) => once(data, id, apply).await,
        None => {
            let mut apply = apply;
            data.db.tx(move |conn| apply(conn)).await?;
            Ok(())
        }
    }
}

/// `apply` for storing a remote object `ap_id`, unless it was deleted before it was ever held:
/// a `Delete` that overtook its `Create` wins over it, as a tombstone does over a late `Create`.
/// The activity is still recorded, so it is acknowledged and applied (as nothing) once.
async fn apply_content<F>(
    data: &ApubData,
    activity_id: Option<&Url>,
    ap_id: String,
    mut store: F,
) -> Result<(), ApubError>
where
    F: FnMut(&mut DbConn) -> Result<(), DbError> + Send + 'static,
{
    apply(data, activity_id, move |conn| {
        if delivery::deletion_remembered(conn, &ap_id)? {
            return Ok(());
        }
        store(conn)
    })
    .await
}

/// Where a remote object comes from, as stored with it.
struct Remote {
    ap_id: String,
    origin: String,
    author: String,
    version: NaiveDateTime,
}

impl Remote {
    fn of(object: &PicketObject) -> Remote {
        Remote {
            ap_id: object.id().to_string(),
            origin: origin(object.id()),
            author: object.attributed_to().to_string(),
            version: object.version().naive_utc(),
        }
    }

    fn as_origin(&self) -> RemoteOrigin<'_> {
        RemoteOrigin {
            ap_id: &self.ap_id,
            origin: &self.origin,
            author: &self.author,
            version: self.version,
        }
    }
}

/// Stores an object whose origin was already checked (it came signed by its author, or was
/// fetched from its own instance), applying it once per `activity_id`.
pub(crate) async fn store(
    data: &Data<ApubData>,
    activity_id: Option<&Url>,
    object: PicketObject,
) -> Result<(), ApubError> {
    let remote = Remote::of(&object);
    match object {
        PicketObject::Page(page) => {
            let published = page.published.naive_utc();
            match page.body {
                PageBody::Campaign { ref campaign } => {
                    let campaign = campaign.clone();
                    store_campaign(data, activity_id, remote, *page, campaign, published).await
                }
                PageBody::Review { ref review } => {
                    let review = review.clone();
                    store_review(data, activity_id, remote, *page, review, published).await
                }
                PageBody::Incident {
                    ref incident,
                    status,
                } => {
                    let input: IncidentInput = serde_json::from_value(incident.clone())
                        .map_err(|e| ApubError::Invalid(format!("picket:incident: {e}")))?;
                    // A day's grace: the author's clock may be a time zone ahead of ours.
                    let today = now().date() + chrono::Duration::days(1);
                    let incident = validate_incident(&input, today, true)
                        .map_err(|e| ApubError::Invalid(e.to_string()))?;
                    if let Some(name) = incident.requester_name.as_deref() {
                        picket_core::platform::validate_requester_name(name).map_err(|e| {
                            ApubError::Invalid(format!("picket:incident requester_name: {e}"))
                        })?;
                    }
                    let local_instance = data.local_instance();
                    let window = data.wave_window_days;
                    let ap_id = remote.ap_id.clone();
                    apply_content(data, activity_id, ap_id, move |conn| {
                        let at = now();
                        let requester = match &incident.requester_id {
                            Some(id) => Some(requesters::mention(
                                conn,
                                incident.platform.as_str(),
                                id,
                                incident.requester_name.as_deref().unwrap_or(id),
                                None,
                                at,
                            )?),
                            None => None,
                        };
                        incidents::upsert_remote(
                            conn,
                            &new_public_id(),
                            remote.as_origin(),
                            RemoteIncident {
                                incident: &incident,
                                status,
                                published_at: published,
                            },
                            Waves {
                                requester: requester.as_ref(),
                                platform: incident.platform.as_str(),
                                window_days: window,
                                local_instance: &local_instance,
                                at,
                            },
                        )?;
                        Ok(())
                    })
                    .await
                }
            }
        }
        PicketObject::Note(note) => store_corroboration(data, activity_id, remote, *note).await,
        PicketObject::Comment(note) => store_comment(data, activity_id, remote, *note).await,
        PicketObject::Fact(note) => store_fact(data, activity_id, remote, *note).await,
    }
}

/// Another instance's campaign, checked like a local one, kept with its counts and outcome.
async fn store_campaign(
    data: &ApubData,
    activity_id: Option<&Url>,
    remote: Remote,
    page: ContentPage,
    campaign: crate::objects::CampaignFields,
    published: NaiveDateTime,
) -> Result<(), ApubError> {
    let platform: Platform = page
        .platform
        .parse()
        .map_err(|e: String| ApubError::Invalid(e))?;
    let requester = match page.requester_id.as_deref() {
        Some(id) => {
            let id = platform
                .normalize_requester_id(id)
                .map_err(ApubError::Invalid)?;
            let name = match page.requester_name.as_deref() {
                Some(name) => picket_core::platform::validate_requester_name(name)
                    .map_err(|e| ApubError::Invalid(format!("picket:requesterName: {e}")))?,
                None => id.clone(),
            };
            Some((id, name))
        }
        None => None,
    };
    let terms = picket_core::campaign::validate_terms(
        &campaign.terms,
        requester.as_ref().map_or("", |(id, _)| id.as_str()),
        true,
    )
    .map_err(|e| ApubError::Invalid(e.to_string()))?;
    // Counts are the home's to give, but they must be counts: a few hundred instances at most,
    // each named like a host, each count a believable number of workers.
    if campaign.counts.len() > 500
        || campaign.counts.iter().any(|c| {
            !(0..=1_000_000).contains(&c.signatures)
                || c.instance.is_empty()
                || c.instance.len() > 255
                || c.instance
                    .chars()
                    .any(|ch| ch.is_whitespace() || ch.is_control())
        })
    {
        return Err(ApubError::Invalid(
            "picket:campaign counts are no counts".into(),
        ));
    }
    let counts = campaign.counts;
    let ap_id = remote.ap_id.clone();
    apply_content(data, activity_id, ap_id, move |conn| {
        let at = now();
        let requester_pk = match &requester {
            Some((id, name)) => {
                Some(requesters::mention(conn, platform.as_str(), id, name, None, at)?.id)
            }
            None => None,
        };
        picket_db::campaigns::upsert_remote(
            conn,
            &new_public_id(),
            remote.as_origin(),
            picket_db::campaigns::RemoteCampaign {
                platform: platform.as_str(),
                requester_pk,
                kind: campaign.kind,
                since: campaign.since,
                terms: &terms,
                counts: &counts,
                outcome: campaign.outcome.zip(campaign.outcome_on),
                published_at: published,
            },
            at,
        )?;
        Ok(())
    })
    .await
}

/// A worker on another instance signs one of this instance's campaigns: counted once per token
/// from that instance. Anything else (a campaign not ours) is acknowledged and dropped.
pub(crate) async fn joined(
    data: &Data<ApubData>,
    join: crate::objects::JoinCampaign,
) -> Result<(), ApubError> {
    let Some(public_id) = data
        .local_path(&join.object)
        .and_then(|path| path.strip_prefix("campaigns/").map(str::to_owned))
    else {
        tracing::debug!(id = %join.id, "a join of nothing of ours");
        return Ok(());
    };
    // Only an instance signs for its workers (a person's account could mint tokens at will),
    // and only an instance whose content counts here adds to the count.
    let sender = Sender::of(data, &join.actor).await?;
    if !sender.is_instance() {
        tracing::debug!(id = %join.id, "a join from an actor that is no instance");
        return Ok(());
    }
    let origin = origin(join.actor.inner());
    let signer = join.signer.clone();
    once(data, &join.id, move |conn| {
        let Some(row) = missing_as_none(picket_db::campaigns::by_public_id(conn, &public_id))?
        else {
            return Ok(());
        };
        if row.is_local() && row.outcome.is_none() && picket_db::policy::is_counted(conn, &origin)?
        {
            picket_db::campaigns::record_remote_signature(conn, &row, &signer, &origin, now())?;
        }
        Ok(())
    })
    .await
}

/// Another instance's version of a fact about a requester, checked by the same rules as a local
/// one (business details only; its home asked about worker IDs), and kept with its origin.
async fn store_fact(
    data: &ApubData,
    activity_id: Option<&Url>,
    remote: Remote,
    note: crate::objects::FactNote,
) -> Result<(), ApubError> {
    let platform: Platform = note
        .platform
        .parse()
        .map_err(|e: String| ApubError::Invalid(e))?;
    let requester_id = platform
        .normalize_requester_id(&note.requester_id)
        .map_err(ApubError::Invalid)?;
    let fact = picket_core::fact::validate_fact(
        note.fact.field,
        &picket_core::fact::FactInput {
            value: note.fact.value.clone(),
            sources: note.fact.sources.clone(),
        },
        &requester_id,
        true,
    )
    .map_err(|e| ApubError::Invalid(e.to_string()))?;
    let name = match note.requester_name.as_deref() {
        Some(name) => picket_core::platform::validate_requester_name(name)
            .map_err(|e| ApubError::Invalid(format!("picket:requesterName: {e}")))?,
        None => requester_id.clone(),
    };
    // The newest version is the fact: a version dated in the future must not outrank every
    // later correction, so it is taken as written now at the latest.
    let published = note.published.naive_utc().min(now());
    let ap_id = remote.ap_id.clone();
    apply_content(data, activity_id, ap_id, move |conn| {
        let at = now();
        // Facts never rename a requester: only reviews vote for its name.
        let requester =
            requesters::mention(conn, platform.as_str(), &requester_id, &name, None, at)?;
        picket_db::facts::upsert_remote(
            conn,
            &new_public_id(),
            remote.as_origin(),
            requester.id,
            &fact,
            published,
        )?;
        Ok(())
    })
    .await
}

async fn store_review(
    data: &ApubData,
    activity_id: Option<&Url>,
    remote: Remote,
    page: ContentPage,
    review: Value,
    published: NaiveDateTime,
) -> Result<(), ApubError> {
    let platform: Platform = page
        .platform
        .parse()
        .map_err(|e: String| ApubError::Invalid(e))?;
    let requester_id = platform
        .normalize_requester_id(page.requester_id.as_deref().unwrap_or_default())
        .map_err(ApubError::Invalid)?;
    let input: ReviewInput = serde_json::from_value(review)
        .map_err(|e| ApubError::Invalid(format!("picket:review: {e}")))?;
    // The author's own instance already asked about worker IDs; its answer stands.
    let review = validate_review(&input, platform, &requester_id, true)
        .map_err(|e| ApubError::Invalid(e.to_string()))?;
    // The same rule as for local reviews: printable, at most 200 characters.
    let name = match page.requester_name.as_deref() {
        Some(name) => picket_core::platform::validate_requester_name(name)
            .map_err(|e| ApubError::Invalid(format!("picket:requesterName: {e}")))?,
        None => requester_id.clone(),
    };
    let ap_id = remote.ap_id.clone();
    apply_content(data, activity_id, ap_id, move |conn| {
        let at = now();
        // The remote author's review is that author's vote for the requester's name, if its
        // instance counts here: throwaway instances cannot outvote real reviewers.
        let voter = picket_db::policy::is_counted(conn, &remote.origin)?.then_some(&remote.author);
        let requester = requesters::mention(
            conn,
            platform.as_str(),
            &requester_id,
            &name,
            voter.map(String::as_str),
            at,
        )?;
        let public_id = new_public_id();
        reviews::upsert_remote(
            conn,
            &public_id,
            remote.as_origin(),
            requester.id,
            &review,
            published,
            at,
        )?;
        Ok(())
    })
    .await
}

/// Leaves the event by which this instance announces another instance's reply to one of its
/// own reviews or incidents (a corroboration, a comment), or its withdrawal, to its followers.
fn pass_on(
    conn: &mut DbConn,
    object_type: ObjectType,
    public_id: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    events::record(conn, object_type, EventKind::Announce, public_id, at)
}

/// The incident a reply is about, if it is held here: one of ours, or a copy of another's.
fn replied_to(
    data: &ApubData,
    conn: &mut DbConn,
    in_reply_to: &Url,
) -> Result<Option<IncidentRow>, DbError> {
    match data
        .local_path(in_reply_to)
        .as_deref()
        .and_then(|path| path.strip_prefix("incidents/"))
    {
        Some(public_id) => match incidents::by_public_id(conn, public_id) {
            Ok(row) if row.ap_id.is_none() => Ok(Some(row)),
            Ok(_) | Err(DbError::NotFound) => Ok(None),
            Err(other) => Err(other),
        },
        None => incidents::by_ap_id(conn, in_reply_to.as_str()),
    }
}

async fn store_corroboration(
    data: &Data<ApubData>,
    activity_id: Option<&Url>,
    remote: Remote,
    note: CorroborationNote,
) -> Result<(), ApubError> {
    let target = note.in_reply_to.clone();
    let lookup = || {
        let (shared, target) = (data.app_data().clone(), target.clone());
        data.db.run(move |conn| {
            let Some(incident) = replied_to(&shared, conn, &target)? else {
                return Ok(None);
            };
            let requester_id = incident
                .requester_pk
                .map(|pk| requesters::by_pk(conn, pk).map(|r| r.requester_id))
                .transpose()?;
            Ok(Some(requester_id))
        })
    };
    let requester_id = match lookup().await? {
        Some(requester_id) => requester_id,
        None => {
            // A reply to an incident not seen here yet: fetch that from its own origin first.
            if data.local_path(&target).is_some() {
                return Err(ApubError::Invalid(format!(
                    "{target} is no incident of this instance"
                )));
            }
            let incident = fetch(data, &target).await?;
            // Boxed: storing a reply may store the incident it replies to first.
            Box::pin(store(data, None, incident)).await?;
            lookup()
                .await?
                .ok_or_else(|| ApubError::Invalid(format!("{target} is no incident")))?
        }
    };
    let input = validate_corroboration(
        &note.corroboration,
        requester_id.as_deref().unwrap_or_default(),
        true,
    )
    .map_err(|e| ApubError::Invalid(e.to_string()))?;
    let (local_instance, window) = (data.local_instance(), data.wave_window_days);
    let shared = data.app_data().clone();
    let published = note.published.naive_utc();
    let ap_id = remote.ap_id.clone();
    apply_content(data, activity_id, ap_id, move |conn| {
        let incident = replied_to(&shared, conn, &target)?.ok_or(DbError::NotFound)?;
        if !incident.is_published() {
            return Ok(());
        }
        let requester = incident
            .requester_pk
            .map(|pk| requesters::by_pk(conn, pk))
            .transpose()?;
        let at = now();
        let (row, outcome) = incidents::upsert_remote_corroboration(
            conn,
            &new_public_id(),
            remote.as_origin(),
            incident.id,
            &input,
            published,
            Waves {
                requester: requester.as_ref(),
                platform: &incident.platform,
                window_days: window,
                local_instance: &local_instance,
                at,
            },
        )?;
        // A reply to one of our incidents: this instance's followers hear of it from us.
        if incident.ap_id.is_none() && outcome != RemoteOutcome::Tombstoned {
            pass_on(conn, ObjectType::Corroboration, &row.public_id, at)?;
        }
        Ok(())
    })
    .await
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
    let requester_id = requester_pk
        .map(|pk| requesters::by_pk(conn, pk).map(|r| r.requester_id))
        .transpose()?;
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

/// A comment from another Picket instance, or a Mastodon or Lemmy reply to a post of a
/// requester feed, stored as a comment on what it replies to. A reply to something not held
/// here fetches that first (a review, an incident, or a comment on one held here), one level
/// deep at most: threads of strangers' replies are not followed up their whole length.
async fn store_comment(
    data: &Data<ApubData>,
    activity_id: Option<&Url>,
    remote: Remote,
    note: CommentNote,
) -> Result<(), ApubError> {
    let target = note.in_reply_to.clone();
    let lookup = |url: Url| {
        let shared = data.app_data().clone();
        data.db
            .run(move |conn| comment_target(&shared, conn, &url).map(|t| t.map(|t| t.requester_id)))
    };
    let requester_id = match lookup(target.clone()).await? {
        Some(requester_id) => requester_id,
        None => {
            if data.local_path(&target).is_some() {
                // A reply to a post of ours that is gone, or to anything else here: nothing to keep.
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
            Box::pin(store(data, None, fetched)).await?;
            lookup(target.clone())
                .await?
                .ok_or_else(|| ApubError::Invalid(format!("{target} is not held here")))?
        }
    };
    // A Picket instance asked its author about worker IDs; a stranger's reply was never asked.
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
        // Another instance's word that its author speaks for the requester is believed only
        // from an instance this one trusts (follows or allows).
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

/// Who sent a deletion or removal: an author may delete what it wrote, and only an instance's
/// own actor (an `Application`) may remove, or delete for others. (`Service` actors are bots
/// on Mastodon: accounts like any other.)
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    actor: String,
    instance: bool,
}

impl Sender {
    pub(crate) async fn of(
        data: &Data<ApubData>,
        actor: &activitypub_federation::fetch::object_id::ObjectId<crate::actors::ApubActor>,
    ) -> Result<Sender, ApubError> {
        let actor = actor.dereference(data).await?;
        Ok(Sender {
            instance: actor.kind == crate::actors::ActorKind::Application,
            actor: actor.id.to_string(),
        })
    }

    /// Whether this is an instance's own actor, which alone removes content.
    pub(crate) fn is_instance(&self) -> bool {
        self.instance
    }

    /// Whether this sender may delete something by `author` (an actor URL).
    fn may_delete(&self, author: Option<&str>) -> bool {
        self.instance || author == Some(self.actor.as_str())
    }
}

/// Deletes the copy of a remote object, whatever it is, leaving its tombstone; or, for an
/// actor's id, everything that account wrote. `sender` is `None` when the object's own instance
/// said it is gone (a fetch answered 410); otherwise it must be the author or its instance.
pub(crate) async fn delete(
    data: &ApubData,
    activity_id: Option<&Url>,
    sender: Option<&Sender>,
    object_id: &Url,
) -> Result<(), ApubError> {
    delete_copies(data, activity_id, sender, object_id).await?;
    // What was erased leaves SQLite's write-ahead log too.
    data.db.erase(|_| Ok(())).await?;
    Ok(())
}

async fn delete_copies(
    data: &ApubData,
    activity_id: Option<&Url>,
    sender: Option<&Sender>,
    object_id: &Url,
) -> Result<(), ApubError> {
    let ap_id = object_id.to_string();
    let sender = sender.cloned();
    apply(data, activity_id, move |conn| {
        let at = now();
        let allowed = |author: Option<&str>| sender.as_ref().is_none_or(|s| s.may_delete(author));
        if let Some(row) = reviews::by_ap_id(conn, &ap_id)? {
            if allowed(row.remote_author.as_deref()) {
                reviews::delete_remote(conn, &ap_id, at)?;
            }
            return Ok(());
        }
        if let Some(row) = incidents::by_ap_id(conn, &ap_id)? {
            if allowed(row.remote_author.as_deref()) {
                incidents::delete_remote(conn, &ap_id, at)?;
            }
            return Ok(());
        }
        if let Some(row) = incidents::corroboration_by_ap_id(conn, &ap_id)? {
            if allowed(row.remote_author.as_deref())
                && let Some(row) = incidents::delete_remote_corroboration(conn, &ap_id)?
                && incidents::by_pk(conn, row.incident_pk)?.ap_id.is_none()
            {
                // Withdrawn from one of our incidents: our followers refetch it and find it gone.
                pass_on(conn, ObjectType::Corroboration, &row.public_id, at)?;
            }
            return Ok(());
        }
        if let Some(row) = picket_db::facts::by_ap_id(conn, &ap_id)? {
            if allowed(row.remote_author.as_deref()) {
                picket_db::facts::delete_remote(conn, &ap_id)?;
            }
            return Ok(());
        }
        if let Some(row) = comments::by_ap_id(conn, &ap_id)? {
            if allowed(row.remote_author.as_deref())
                && let Some(row) = comments::delete_remote(conn, &ap_id, at)?
                && about_local(conn, &row)?
            {
                pass_on(conn, ObjectType::Comment, &row.public_id, at)?;
            }
            return Ok(());
        }
        // Nothing held by that id. Unless it is an actor (an account deleted on its instance,
        // below), the Delete overtook its Create: remembered, so the late Create stores nothing.
        // (`DeleteObject::verify` has checked that the sender is on the object's host.) The id
        // of an actor known here is not kept: a deleted account leaves nothing, not its name;
        // an unknown id cannot be told from content's and is forgotten with received ids.
        let an_actor = sender.as_ref().is_some_and(|s| s.actor == ap_id)
            || picket_db::actors::remote(conn, &ap_id)?.is_some();
        if !an_actor {
            delivery::remember_deletion(conn, &ap_id, at)?;
        }
        // An account deleted on its instance: what it wrote goes here too.
        if allowed(Some(&ap_id)) {
            for row in reviews::remote_by_author(conn, &ap_id)? {
                reviews::delete_remote(conn, row.ap_id.as_deref().unwrap_or_default(), at)?;
            }
            for row in incidents::remote_by_author(conn, &ap_id)? {
                incidents::delete_remote(conn, row.ap_id.as_deref().unwrap_or_default(), at)?;
            }
            for row in incidents::remote_corroborations_by_author(conn, &ap_id)? {
                if let Some(row) = incidents::delete_remote_corroboration(
                    conn,
                    row.ap_id.as_deref().unwrap_or_default(),
                )? && incidents::by_pk(conn, row.incident_pk)?.ap_id.is_none()
                {
                    pass_on(conn, ObjectType::Corroboration, &row.public_id, at)?;
                }
            }
            for row in comments::remote_by_author(conn, &ap_id)? {
                if let Some(row) =
                    comments::delete_remote(conn, row.ap_id.as_deref().unwrap_or_default(), at)?
                    && about_local(conn, &row)?
                {
                    pass_on(conn, ObjectType::Comment, &row.public_id, at)?;
                }
            }
            for row in picket_db::facts::remote_by_author(conn, &ap_id)? {
                picket_db::facts::delete_remote(conn, row.ap_id.as_deref().unwrap_or_default())?;
            }
            // Nothing of the account is kept: not its votes for names, not its actor.
            requesters::forget_voter(conn, &ap_id)?;
            picket_db::actors::forget_remote(conn, &ap_id)?;
        }
        Ok(())
    })
    .await
}

/// Longest removal reason or report text kept from another server.
const REMOTE_TEXT_MAX: usize = picket_core::moderation::TEXT_MAX_CHARS;

fn capped(text: &str) -> String {
    text.trim().chars().take(REMOTE_TEXT_MAX).collect()
}

/// A removal by the content's home instance (`reason`), or its reversal (`None`): the copies
/// held here leave (or return to) lists and aggregates, and the public log records it. An
/// actor's id stands for everything of that account's (a suspension). Only an instance's own
/// actor removes; a restoration leaves alone what this instance's moderators removed.
pub(crate) async fn removal(
    data: &ApubData,
    activity_id: &Url,
    sender: &Sender,
    object_id: &Url,
    reason: Option<String>,
) -> Result<(), ApubError> {
    if !sender.instance {
        tracing::debug!(id = %activity_id, "a removal from an actor that is no instance");
        return Ok(());
    }
    let (ap_id, home) = (object_id.to_string(), origin(object_id));
    let reason = reason.map(|r| capped(&r));
    let account_level = std::cell::Cell::new(false);
    once(data, activity_id, move |conn| {
        // A retried transaction starts afresh.
        account_level.set(false);
        let at = now();
        let reason = reason.as_deref();
        // The state a copy must be in for this to change it.
        let from = if reason.is_some() {
            "published"
        } else {
            "removed"
        };
        let keeps = |conn: &mut DbConn, public_id: &str, ap_id: Option<&str>| {
            // A restoration does not undo what moderators here removed, nor (for a whole
            // account) what its home removed one by one.
            Ok::<_, DbError>(
                reason.is_none()
                    && (moderation::latest_removal_action(conn, public_id)?.as_deref()
                        == Some(ModAction::Remove.as_str())
                        || (account_level.get()
                            && moderation::latest_removal_action(
                                conn,
                                ap_id.unwrap_or_default(),
                            )?
                            .as_deref()
                                == Some(ModAction::RemoteRemoval.as_str()))),
            )
        };
        let apply_review = |conn: &mut DbConn, row: reviews::ReviewRow| {
            if row.state == from && !keeps(conn, &row.public_id, row.ap_id.as_deref())? {
                reviews::set_removed(conn, &row, reason, at)?;
            }
            Ok::<_, DbError>(())
        };
        let apply_incident = |conn: &mut DbConn, row: IncidentRow| {
            if row.state == from && !keeps(conn, &row.public_id, row.ap_id.as_deref())? {
                incidents::set_removed(conn, &row, reason, at)?;
            }
            Ok::<_, DbError>(())
        };
        let apply_comment = |conn: &mut DbConn, row: CommentRow| {
            if row.state == from && !keeps(conn, &row.public_id, row.ap_id.as_deref())? {
                comments::mark_removed(conn, &row, reason, at)?;
            }
            Ok::<_, DbError>(())
        };
        let apply_fact = |conn: &mut DbConn, row: picket_db::facts::FactRow| {
            if row.state == from && !keeps(conn, &row.public_id, row.ap_id.as_deref())? {
                picket_db::facts::mark_removed(conn, &row, reason)?;
            }
            Ok::<_, DbError>(())
        };
        let target_type = if let Some(row) = reviews::by_ap_id(conn, &ap_id)? {
            apply_review(conn, row)?;
            "review"
        } else if let Some(row) = incidents::by_ap_id(conn, &ap_id)? {
            apply_incident(conn, row)?;
            "incident"
        } else if let Some(row) = comments::by_ap_id(conn, &ap_id)? {
            apply_comment(conn, row)?;
            "comment"
        } else if let Some(row) = picket_db::facts::by_ap_id(conn, &ap_id)? {
            apply_fact(conn, row)?;
            "fact"
        } else {
            let (reviews_of, incidents_of, comments_of, facts_of) = (
                reviews::remote_by_author(conn, &ap_id)?,
                incidents::remote_by_author(conn, &ap_id)?,
                comments::remote_by_author(conn, &ap_id)?,
                picket_db::facts::remote_by_author(conn, &ap_id)?,
            );
            if reviews_of.is_empty()
                && incidents_of.is_empty()
                && comments_of.is_empty()
                && facts_of.is_empty()
            {
                return Ok(());
            }
            account_level.set(true);
            for row in reviews_of {
                apply_review(conn, row)?;
            }
            for row in incidents_of {
                apply_incident(conn, row)?;
            }
            for row in comments_of {
                apply_comment(conn, row)?;
            }
            for row in facts_of {
                apply_fact(conn, row)?;
            }
            "account"
        };
        moderation::log(
            conn,
            moderation::NewEntry {
                action: if reason.is_some() {
                    ModAction::RemoteRemoval
                } else {
                    ModAction::RemoteRestore
                },
                target_type,
                target: &ap_id,
                reason: reason.unwrap_or("restored by its home instance"),
                role: "remote",
                moderator: None,
                origin: Some(&home),
            },
            at,
        )
    })
    .await
}

/// A `Flag` from another server: each reported object or account of ours becomes a report in
/// the local queue, from that server (whoever reported it there stays unknown here).
pub(crate) async fn flagged(data: &ApubData, flag: Flag) -> Result<(), ApubError> {
    let targets: Vec<(TargetType, String)> = flag
        .object
        .ids()
        .iter()
        .filter_map(|id| {
            let path = data.local_path(id)?;
            let (kind, rest) = path.split_once('/')?;
            let target_type = match kind {
                "reviews" => TargetType::Review,
                "incidents" => TargetType::Incident,
                "corroborations" => TargetType::Corroboration,
                "comments" => TargetType::Comment,
                "facts" => TargetType::Fact,
                "u" => TargetType::Account,
                _ => return None,
            };
            Some((target_type, rest.to_owned()))
        })
        .collect();
    // A report naming an account and its content is about the content.
    let about_content = targets.iter().any(|(t, _)| *t != TargetType::Account);
    let targets: Vec<(TargetType, String)> = targets
        .into_iter()
        .filter(|(t, _)| !about_content || *t != TargetType::Account)
        .collect();
    if targets.is_empty() {
        tracing::debug!(id = %flag.id, "a flag of nothing of ours");
        return Ok(());
    }
    // One report names a few things; a list of hundreds is a flood, not a report.
    let targets: Vec<(TargetType, String)> =
        targets.into_iter().take(crate::MAX_FLAG_TARGETS).collect();
    data.check_flag_quota(flag.actor.inner(), targets.len())?;
    let text = capped(&flag.reason());
    let reason = ReportReason::from_text(&text);
    let home = origin(flag.actor.inner());
    once(data, &flag.id, move |conn| {
        for (target_type, target) in &targets {
            // Only what exists here, and the same words from one instance once while open.
            let exists = match target_type {
                TargetType::Account => {
                    missing_as_none(picket_db::users::by_username(conn, target))?.is_some()
                }
                _ => missing_as_none(moderation::held(conn, *target_type, target))?
                    .is_some_and(|held| held.ap_id.is_none() && held.published),
            };
            if !exists || moderation::open_report_from(conn, target, &home, &text)? {
                continue;
            }
            moderation::create_report(
                conn,
                moderation::NewReport {
                    public_id: &new_public_id(),
                    target_type: *target_type,
                    target,
                    reason,
                    text: &text,
                    reporter_id: None,
                    origin: Some(&home),
                },
                now(),
            )?;
        }
        Ok(())
    })
    .await
}

/// Fetches a Picket object from where its id points, and checks that it lives on its author's
/// instance and is the object asked for.
pub(crate) async fn fetch(data: &Data<ApubData>, id: &Url) -> Result<PicketObject, ApubError> {
    data.check_peer(id).await?;
    let fetched: Value = fetch_object_http(id, data).await?.object;
    let object: PicketObject = serde_json::from_value(fetched)
        .map_err(|e| ApubError::Invalid(format!("{id} is no Picket object: {e}")))?;
    if object.id() != id {
        return Err(ApubError::Invalid(format!(
            "{id} answered with another object, {}",
            object.id()
        )));
    }
    object.verify_origin()?;
    Ok(object)
}

/// An `Announce` from an actor this instance follows (a requester feed, an instance): what it
/// points at is fetched from its origin and stored, or deleted when its origin says it is gone.
/// Announces from anyone else, and of anything that is not Picket content, are acknowledged and
/// dropped.
pub(crate) async fn announced(data: &Data<ApubData>, announce: Announce) -> Result<(), ApubError> {
    let announcer = announce.actor.inner().to_string();
    let followed = data
        .db
        .run(move |conn| delivery::follows_remote(conn, &announcer))
        .await?;
    let target = announce.object.innermost().clone();
    if !followed || data.local_path(&target).is_some() {
        tracing::debug!(id = %announce.id, "announce not followed or of our own content");
        return Ok(());
    }
    match fetch(data, &target).await {
        Ok(object) => store(data, Some(&announce.id), object).await,
        Err(ApubError::Federation(activitypub_federation::error::Error::ObjectDeleted(_))) => {
            delete(data, Some(&announce.id), None, &target).await
        }
        Err(ApubError::Invalid(reason)) => {
            tracing::debug!(id = %announce.id, %reason, "announce of something we do not keep");
            Ok(())
        }
        Err(other) => Err(other),
    }
}
