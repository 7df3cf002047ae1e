//! Local content going out: reviews, incidents and corroborations as the objects other servers read, served at their ids, and the federation events that send them to every follower, each in one transaction with taking its event.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::object::{NoteType, PageType};
use activitypub_federation::traits::Actor;
use picket_core::incident::IncidentStatus;
use picket_core::platform::Platform;
use picket_core::review::ValidReview;
use picket_db::campaigns::{self, CampaignRow};
use picket_db::comments::{self, CommentRow};
use picket_db::events::{self, Event, EventKind, ObjectType};
use picket_db::facts::{self, FactRow};
use picket_db::incidents::{self, CorroborationRow, IncidentRow};
use picket_db::models::now;
use picket_db::requesters::{self, RequesterRow};
use picket_db::reviews::{self, ReviewRow};
use picket_db::{DbConn, DbError, delivery, moderation, users};
use serde_json::{Value, json};
use url::Url;

use crate::activities::{activity_context, new_activity_id};
use crate::actors::{ApubActor, LocalActor};
use crate::objects::{
    CommentFields, CommentNote, ContentPage, CorroborationNote, CreateOrUpdate, CreateOrUpdateType,
    DeleteObject, FactNote, Flag, IdOrObject, JoinCampaign, PUBLIC, PageBody, PicketObject,
    UndoDelete, public, wire,
};
use crate::{ApubData, ApubError};

fn corrupt(error: impl ToString) -> ApubError {
    ApubError::Db(DbError::Corrupt(error.to_string()))
}

fn platform_of(requester: &RequesterRow) -> Result<Platform, ApubError> {
    requester.platform.parse().map_err(corrupt)
}

/// A short plain excerpt (what Mastodon shows) and the full text as escaped HTML.
fn texts(body: &str) -> (String, String) {
    (
        body.chars().take(280).collect(),
        format!("<p>{}</p>", html_escape::encode_text(body)),
    )
}

/// The line a person reads in a timeline.
fn review_title(review: &ValidReview, requester: &str, platform: Platform) -> String {
    let pay = i128::from(review.reward_minor) + i128::from(review.bonus_minor.unwrap_or(0));
    let hourly = i64::try_from(pay * 3600 / i128::from(review.time_spent_seconds.max(1)))
        .unwrap_or(i64::MAX);
    let recommend = match review.recommend.map(|r| r.as_str()) {
        Some("yes") => ", recommends",
        Some("no") => ", does not recommend",
        _ => "",
    };
    format!(
        "Review of {requester} on {}: {}/h, {}{recommend}",
        platform.display_name(),
        picket_core::money::format_money(hourly, &review.currency),
        review.approval.as_str().replace('_', " ")
    )
}

/// The `Page` for a local review by `author`.
pub(crate) fn review_page(
    data: &ApubData,
    row: &ReviewRow,
    requester: &RequesterRow,
    author: &LocalActor,
) -> Result<ContentPage, ApubError> {
    let platform = platform_of(requester)?;
    let content = row.content()?;
    let feed = LocalActor::Feed(platform, requester.requester_id.clone());
    let (summary, html) = texts(&content.body);
    let id = data.local_url(&format!("reviews/{}", row.public_id));
    Ok(ContentPage {
        kind: PageType::Page,
        attributed_to: data.local_url(&author.path()),
        to: vec![public()],
        cc: vec![data.local_url(&feed.path())],
        name: review_title(&content, &requester.name, platform),
        summary,
        content: html,
        media_type: Some("text/html".to_owned()),
        url: Some(id.clone()),
        id,
        published: row.published_at.unwrap_or(row.created_at).and_utc(),
        updated: (row.updated_at != row.created_at).then(|| row.updated_at.and_utc()),
        platform: platform.as_str().to_owned(),
        requester_id: Some(requester.requester_id.clone()),
        requester_name: Some(requester.name.clone()),
        body: PageBody::Review {
            review: serde_json::to_value(&content).map_err(corrupt)?,
        },
    })
}

/// "Mass rejection reported against Acme on MTurk: 120 tasks, $36.00 withheld".
fn incident_title(
    row: &IncidentRow,
    requester: Option<&RequesterRow>,
) -> Result<String, ApubError> {
    let kind: picket_core::incident::IncidentKind = row.kind.parse().map_err(corrupt)?;
    let platform: Platform = row.platform.parse().map_err(corrupt)?;
    let mut title = match requester {
        Some(requester) => format!(
            "{} reported against {} on {}",
            kind.label(),
            requester.name,
            platform.display_name()
        ),
        None => format!("{} reported on {}", kind.label(), platform.display_name()),
    };
    let figures: Vec<String> = [
        row.tasks_affected.map(|n| format!("{n} tasks")),
        row.amount_lost_minor.map(|minor| {
            format!(
                "{} withheld",
                picket_core::money::format_money(minor, &row.currency)
            )
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !figures.is_empty() {
        title.push_str(": ");
        title.push_str(&figures.join(", "));
    }
    Ok(title)
}

/// The `Page` for a local incident report by `author`.
pub(crate) fn incident_page(
    data: &ApubData,
    row: &IncidentRow,
    requester: Option<&RequesterRow>,
    author: &LocalActor,
) -> Result<ContentPage, ApubError> {
    let content = row.content(requester)?;
    let mut text = content.description.clone();
    if let Some(message) = &content.message_received {
        text.push_str(&format!("\n\nMessage received: {message}"));
    }
    let (summary, html) = texts(&text);
    let id = data.local_url(&format!("incidents/{}", row.public_id));
    let cc = vec![data.local_url(&feed_of(requester, &row.platform)?.path())];
    Ok(ContentPage {
        kind: PageType::Page,
        attributed_to: data.local_url(&author.path()),
        to: vec![public()],
        cc,
        name: incident_title(row, requester)?,
        summary,
        content: html,
        media_type: Some("text/html".to_owned()),
        url: Some(id.clone()),
        id,
        published: row.created_at.and_utc(),
        updated: (row.updated_at != row.created_at).then(|| row.updated_at.and_utc()),
        platform: row.platform.clone(),
        requester_id: requester.map(|r| r.requester_id.clone()),
        requester_name: requester.map(|r| r.name.clone()),
        body: PageBody::Incident {
            incident: serde_json::to_value(&content).map_err(corrupt)?,
            status: row.status.parse::<IncidentStatus>().map_err(corrupt)?,
        },
    })
}

/// The feed that passes content on to the fediverse: the requester's, or for incidents that
/// name none, the platform's.
fn feed_of(requester: Option<&RequesterRow>, platform: &str) -> Result<LocalActor, ApubError> {
    Ok(match requester {
        Some(requester) => {
            LocalActor::Feed(platform_of(requester)?, requester.requester_id.clone())
        }
        None => LocalActor::Platform(platform.parse().map_err(corrupt)?),
    })
}

/// An object's ActivityPub id: its original's (`ap_id`) for a copy of another instance's, ours
/// (`{collection}/{public_id}`) otherwise.
fn object_id(
    data: &ApubData,
    ap_id: Option<&str>,
    collection: &str,
    public_id: &str,
) -> Result<Url, ApubError> {
    match ap_id {
        Some(id) => Url::parse(id).map_err(corrupt),
        None => Ok(data.local_url(&format!("{collection}/{public_id}"))),
    }
}

/// An incident's ActivityPub id: its own for a copy of another instance's, ours otherwise.
pub(crate) fn incident_id(data: &ApubData, row: &IncidentRow) -> Result<Url, ApubError> {
    object_id(data, row.ap_id.as_deref(), "incidents", &row.public_id)
}

/// The `Note` for a local corroboration by `author` of `incident`.
pub(crate) fn corroboration_note(
    data: &ApubData,
    row: &CorroborationRow,
    incident: &IncidentRow,
    author: &LocalActor,
) -> Result<CorroborationNote, ApubError> {
    let mut text = "This happened to me too.".to_owned();
    if !row.note.is_empty() {
        text.push(' ');
        text.push_str(&row.note);
    }
    Ok(CorroborationNote {
        kind: NoteType::Note,
        id: data.local_url(&format!("corroborations/{}", row.public_id)),
        attributed_to: data.local_url(&author.path()),
        in_reply_to: incident_id(data, incident)?,
        to: vec![public()],
        cc: Vec::new(),
        content: texts(&text).1,
        media_type: Some("text/html".to_owned()),
        published: row.created_at.and_utc(),
        corroboration: picket_core::incident::CorroborationInput {
            tasks_affected: row.tasks_affected,
            amount_lost_minor: row.amount_lost_minor,
            note: row.note.clone(),
        },
    })
}

/// What a comment is about, as loaded for its wire form.
pub(crate) enum CommentParent {
    Review(ReviewRow),
    Incident(IncidentRow),
}

impl CommentParent {
    fn id(&self, data: &ApubData) -> Result<Url, ApubError> {
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

/// A comment's own id: its original's for a copy, ours otherwise.
fn comment_id(data: &ApubData, row: &CommentRow) -> Result<Url, ApubError> {
    object_id(data, row.ap_id.as_deref(), "comments", &row.public_id)
}

/// The `Note` for a local comment by `author`: a reply to the comment it answers, else to the
/// review or incident, addressed to the requester feed's followers too, so that Lemmy shows it
/// under the post and Mastodon as a reply.
pub(crate) fn comment_note(
    data: &ApubData,
    row: &CommentRow,
    parent: &CommentParent,
    answered: Option<&CommentRow>,
    requester: Option<&RequesterRow>,
    author: &LocalActor,
) -> Result<CommentNote, ApubError> {
    let id = data.local_url(&format!("comments/{}", row.public_id));
    let in_reply_to = match answered {
        Some(answered) => comment_id(data, answered)?,
        None => parent.id(data)?,
    };
    let cc = match requester {
        Some(requester) => vec![data.local_url(
            &LocalActor::Feed(platform_of(requester)?, requester.requester_id.clone()).path(),
        )],
        None => Vec::new(),
    };
    Ok(CommentNote {
        kind: NoteType::Note,
        url: Some(id.clone()),
        id,
        attributed_to: data.local_url(&author.path()),
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

/// The `Note` for a local version of a fact about `requester`, by `author`: addressed to the
/// requester feed's followers, so it reads in their timelines as a sentence.
pub(crate) fn fact_note(
    data: &ApubData,
    row: &FactRow,
    requester: &RequesterRow,
    author: &LocalActor,
) -> Result<FactNote, ApubError> {
    let field: picket_core::fact::FactField = row.field.parse().map_err(corrupt)?;
    let platform = platform_of(requester)?;
    let feed = LocalActor::Feed(platform, requester.requester_id.clone());
    let value = match field {
        picket_core::fact::FactField::Kind => row
            .value
            .parse::<picket_core::fact::OrganisationKind>()
            .map_or(row.value.as_str(), |kind| kind.label()),
        _ => row.value.as_str(),
    };
    let sentence = format!(
        "{} ({}). {}: {value}",
        requester.name,
        platform.display_name(),
        field.label()
    );
    Ok(FactNote {
        kind: NoteType::Note,
        id: data.local_url(&format!("facts/{}", row.public_id)),
        attributed_to: data.local_url(&author.path()),
        to: vec![public()],
        cc: vec![data.local_url(&feed.path())],
        content: texts(&sentence).1,
        media_type: Some("text/html".to_owned()),
        published: row.created_at.and_utc(),
        platform: platform.as_str().to_owned(),
        requester_id: requester.requester_id.clone(),
        requester_name: Some(requester.name.clone()),
        fact: picket_core::fact::ValidFact {
            field,
            value: row.value.clone(),
            sources: row.sources(),
        },
    })
}

/// The `Page` for a local campaign: its letter as content, its terms, counts and outcome under
/// `picket:campaign`, about the requester's feed or the platform's.
pub(crate) fn campaign_page(
    data: &ApubData,
    row: &CampaignRow,
    requester: Option<&RequesterRow>,
    counts: &[picket_core::campaign::InstanceCount],
    author: &LocalActor,
) -> Result<ContentPage, ApubError> {
    let kind = row.kind()?;
    let platform: Platform = row.platform.parse().map_err(corrupt)?;
    let about = requester.map_or(platform.display_name(), |r| r.name.as_str());
    let id = data.local_url(&format!("campaigns/{}", row.public_id));
    let (summary, html) = texts(&row.letter);
    Ok(ContentPage {
        kind: PageType::Page,
        attributed_to: data.local_url(&author.path()),
        to: vec![public()],
        cc: vec![data.local_url(&feed_of(requester, &row.platform)?.path())],
        name: format!("Campaign to {about} about {}", kind.plural()),
        summary,
        content: html,
        media_type: Some("text/html".to_owned()),
        url: Some(id.clone()),
        id,
        published: row.created_at.and_utc(),
        updated: (row.updated_at != row.created_at).then(|| row.updated_at.and_utc()),
        platform: row.platform.clone(),
        requester_id: requester.map(|r| r.requester_id.clone()),
        requester_name: requester.map(|r| r.name.clone()),
        body: PageBody::Campaign {
            campaign: crate::objects::CampaignFields {
                kind,
                since: row.since,
                terms: row.terms()?,
                counts: counts.to_vec(),
                outcome: row.outcome()?,
                outcome_on: row.outcome_on,
            },
        },
    })
}

/// What a local object's id answers.
pub(crate) enum Served {
    Object(PicketObject),
    /// Deleted or removed: a `Tombstone` with 410.
    Gone(Url),
}

fn username(conn: &mut DbConn, author_id: Option<i64>) -> Result<Option<String>, DbError> {
    author_id
        .map(|id| users::by_id(conn, id).map(|u| u.username))
        .transpose()
}

pub(crate) fn missing_as_none<T>(found: Result<T, DbError>) -> Result<Option<T>, DbError> {
    match found {
        Ok(value) => Ok(Some(value)),
        Err(DbError::NotFound) => Ok(None),
        Err(other) => Err(other),
    }
}

/// A local object by kind and public id; `None` when there is no such object of ours (copies
/// of other instances' content, imported history and drafts are not ours to serve).
pub(crate) async fn served(
    data: &ApubData,
    object_type: ObjectType,
    public_id: String,
) -> Result<Option<Served>, ApubError> {
    let loaded = data
        .db
        .run(move |conn| missing_as_none(load(conn, object_type, &public_id)))
        .await?;
    let Some(loaded) = loaded else {
        return Ok(None);
    };
    if !loaded.is_local() {
        return Ok(None);
    }
    let id = loaded.id(data)?;
    if loaded.is_gone() {
        return Ok(Some(Served::Gone(id)));
    }
    match loaded.object(data)? {
        Some(object) => Ok(Some(Served::Object(object))),
        None => Ok(None),
    }
}

/// A local object with what building its wire form needs.
pub(crate) enum Loaded {
    Review(ReviewRow, RequesterRow, Option<String>),
    Incident(IncidentRow, Option<RequesterRow>, Option<String>),
    Corroboration(
        CorroborationRow,
        Box<IncidentRow>,
        Option<RequesterRow>,
        Option<String>,
    ),
    /// A campaign, its requester (none for a letter to the platform), its counts.
    Campaign(
        Box<CampaignRow>,
        Option<RequesterRow>,
        Vec<picket_core::campaign::InstanceCount>,
    ),
    /// A version of a fact, its requester, its author.
    Fact(FactRow, RequesterRow, Option<String>),
    /// The comment, what it is about, the comment it answers, the requester, the author.
    Comment(
        CommentRow,
        Box<(CommentParent, Option<CommentRow>)>,
        Option<RequesterRow>,
        Option<String>,
    ),
}

pub(crate) fn load(
    conn: &mut DbConn,
    object_type: ObjectType,
    public_id: &str,
) -> Result<Loaded, DbError> {
    let requester_of =
        |conn: &mut DbConn, pk: Option<i64>| pk.map(|pk| requesters::by_pk(conn, pk)).transpose();
    Ok(match object_type {
        ObjectType::Review => {
            let row = reviews::by_public_id(conn, public_id)?;
            let requester = requesters::by_pk(conn, row.requester_pk)?;
            let author = username(conn, row.author_id)?;
            Loaded::Review(row, requester, author)
        }
        ObjectType::Incident => {
            let row = incidents::by_public_id(conn, public_id)?;
            let requester = requester_of(conn, row.requester_pk)?;
            let author = username(conn, row.author_id)?;
            Loaded::Incident(row, requester, author)
        }
        ObjectType::Corroboration => {
            let row = incidents::corroboration_by_public_id(conn, public_id)?;
            let incident = incidents::by_pk(conn, row.incident_pk)?;
            let requester = requester_of(conn, incident.requester_pk)?;
            let author = username(conn, row.author_id)?;
            Loaded::Corroboration(row, Box::new(incident), requester, author)
        }
        ObjectType::Campaign => {
            let row = campaigns::by_public_id(conn, public_id)?;
            let requester = requester_of(conn, row.requester_pk)?;
            let counts = campaigns::counts(conn, &row)?;
            Loaded::Campaign(Box::new(row), requester, counts)
        }
        ObjectType::Fact => {
            let row = facts::by_public_id(conn, public_id)?;
            let requester = requesters::by_pk(conn, row.requester_pk)?;
            let author = username(conn, row.author_id)?;
            Loaded::Fact(row, requester, author)
        }
        ObjectType::Comment => {
            let row = comments::by_public_id(conn, public_id)?;
            let (parent, requester_pk) = match row.parent()? {
                comments::Parent::Review(pk) => {
                    let review = reviews::by_pk(conn, pk)?;
                    let requester_pk = Some(review.requester_pk);
                    (CommentParent::Review(review), requester_pk)
                }
                comments::Parent::Incident(pk) => {
                    let incident = incidents::by_pk(conn, pk)?;
                    let requester_pk = incident.requester_pk;
                    (CommentParent::Incident(incident), requester_pk)
                }
            };
            let answered = row
                .reply_to_pk
                .map(|pk| comments::by_pk(conn, pk))
                .transpose()?;
            let requester = requester_of(conn, requester_pk)?;
            let author = username(conn, row.author_id)?;
            Loaded::Comment(row, Box::new((parent, answered)), requester, author)
        }
        ObjectType::Account | ObjectType::Report | ObjectType::Signature => {
            return Err(DbError::Corrupt(format!(
                "a {} is not content",
                object_type.as_str()
            )));
        }
    })
}

impl Loaded {
    /// Written here by a local account (or by one since deleted), not a copy or imported history.
    fn is_local(&self) -> bool {
        match self {
            Loaded::Review(row, ..) => row.ap_id.is_none() && row.state != "draft",
            Loaded::Incident(row, ..) => row.ap_id.is_none(),
            Loaded::Corroboration(row, ..) => row.ap_id.is_none(),
            Loaded::Comment(row, ..) => row.ap_id.is_none(),
            Loaded::Fact(row, ..) => row.ap_id.is_none(),
            Loaded::Campaign(row, ..) => row.ap_id.is_none(),
        }
    }

    fn is_gone(&self) -> bool {
        match self {
            Loaded::Review(row, _, author) => row.state != "published" || author.is_none(),
            Loaded::Incident(row, _, author) => !row.is_published() || author.is_none(),
            Loaded::Corroboration(row, incident, _, author) => {
                row.state != "published" || !incident.is_published() || author.is_none()
            }
            Loaded::Comment(row, on, _, author) => {
                !row.is_published() || !on.0.is_published() || author.is_none()
            }
            Loaded::Fact(row, _, author) => !row.is_published() || author.is_none(),
            // A campaign is the signers' as much as its author's: it outlives the account.
            Loaded::Campaign(..) => false,
        }
    }

    fn id(&self, data: &ApubData) -> Result<Url, ApubError> {
        Ok(match self {
            Loaded::Review(row, ..) => data.local_url(&format!("reviews/{}", row.public_id)),
            Loaded::Incident(row, ..) => incident_id(data, row)?,
            Loaded::Corroboration(row, ..) => {
                object_id(data, row.ap_id.as_deref(), "corroborations", &row.public_id)?
            }
            Loaded::Comment(row, ..) => comment_id(data, row)?,
            Loaded::Campaign(row, ..) => {
                object_id(data, row.ap_id.as_deref(), "campaigns", &row.public_id)?
            }
            Loaded::Fact(row, ..) => {
                object_id(data, row.ap_id.as_deref(), "facts", &row.public_id)?
            }
        })
    }

    /// The author as a local actor: the instance signs for deleted accounts' tombstones.
    fn signer(&self) -> LocalActor {
        let author = match self {
            Loaded::Review(_, _, author)
            | Loaded::Incident(_, _, author)
            | Loaded::Corroboration(_, _, _, author)
            | Loaded::Comment(_, _, _, author)
            | Loaded::Fact(_, _, author) => author,
            // A campaign is its signers', and who opened it is a signer: the instance speaks
            // for it, so nothing names the worker and it outlives the account.
            Loaded::Campaign(..) => return LocalActor::Instance,
        };
        author
            .clone()
            .map_or(LocalActor::Instance, LocalActor::Person)
    }

    /// The object as sent and served; `None` for a tombstone.
    pub(crate) fn object(&self, data: &ApubData) -> Result<Option<PicketObject>, ApubError> {
        if self.is_gone() {
            return Ok(None);
        }
        let author = self.signer();
        Ok(Some(match self {
            Loaded::Review(row, requester, _) => {
                PicketObject::Page(Box::new(review_page(data, row, requester, &author)?))
            }
            Loaded::Incident(row, requester, _) => PicketObject::Page(Box::new(incident_page(
                data,
                row,
                requester.as_ref(),
                &author,
            )?)),
            Loaded::Corroboration(row, incident, ..) => {
                PicketObject::Note(Box::new(corroboration_note(data, row, incident, &author)?))
            }
            Loaded::Fact(row, requester, _) => {
                PicketObject::Fact(Box::new(fact_note(data, row, requester, &author)?))
            }
            Loaded::Campaign(row, requester, counts) => PicketObject::Page(Box::new(
                campaign_page(data, row, requester.as_ref(), counts, &author)?,
            )),
            Loaded::Comment(row, on, requester, _) => PicketObject::Comment(Box::new(
                comment_note(data, row, &on.0, on.1.as_ref(), requester.as_ref(), &author)?,
            )),
        }))
    }

    /// The feed the object is about: the requester's, or for an incident naming no requester
    /// (and what replies to it) the platform's.
    fn feed(&self) -> Result<Option<LocalActor>, ApubError> {
        let (requester, platform) = match self {
            Loaded::Review(_, requester, _) | Loaded::Fact(_, requester, _) => {
                (Some(requester), None)
            }
            Loaded::Incident(row, requester, _) => {
                (requester.as_ref(), Some(row.platform.as_str()))
            }
            Loaded::Campaign(row, requester, ..) => {
                (requester.as_ref(), Some(row.platform.as_str()))
            }
            Loaded::Corroboration(_, incident, requester, _) => {
                (requester.as_ref(), Some(incident.platform.as_str()))
            }
            Loaded::Comment(_, on, requester, _) => (
                requester.as_ref(),
                match &on.0 {
                    CommentParent::Incident(row) => Some(row.platform.as_str()),
                    CommentParent::Review(_) => None,
                },
            ),
        };
        match (requester, platform) {
            (Some(requester), _) => feed_of(Some(requester), "").map(Some),
            (None, Some(platform)) => feed_of(None, platform).map(Some),
            (None, None) => Ok(None),
        }
    }
}

/// Turns pending federation events into queued activities, each in one transaction with taking
/// its event. Returns how many events were handled; one that fails stays for the next round
/// without holding up the others.
pub(crate) async fn process_events(data: &Data<ApubData>) -> Result<usize, ApubError> {
    let pending = data.db.run(|conn| events::pending(conn, now(), 32)).await?;
    let mut handled = 0;
    for event in pending {
        let id = event.id;
        match process(data, event).await {
            Ok(()) => handled += 1,
            // The object is gone altogether: nothing is left to announce.
            Err(ApubError::Db(DbError::NotFound)) => {
                data.db
                    .run(move |conn| events::take(conn, id).map(drop))
                    .await?;
                handled += 1;
            }
            Err(error) => {
                tracing::warn!(event = id, %error, "cannot federate a change yet");
                data.db
                    .run(move |conn| events::postpone(conn, id, now()))
                    .await?;
            }
        }
    }
    Ok(handled)
}

/// One activity to queue and who gets it.
struct Outgoing {
    signer: LocalActor,
    activity: Value,
    /// Local actors whose followers get the activity as it is.
    audiences: Vec<String>,
    /// The requester feed whose followers get it: Picket instances as it is, others as the
    /// feed's `Announce` (FEP-1b12) when `announce_to_feed` is set, as it is otherwise.
    feed: Option<LocalActor>,
    announce_to_feed: bool,
    object_id: Url,
    /// Further inboxes: the home instance of the incident a corroboration replies to.
    extra_inboxes: Vec<String>,
    /// Never sent back to the instance the object came from.
    except_origin: Option<String>,
}

impl Outgoing {
    /// An activity of the instance actor's about `object_id`, to nobody yet: callers name the
    /// audience.
    fn from_instance(activity: Value, object_id: Url) -> Outgoing {
        Outgoing {
            signer: LocalActor::Instance,
            activity,
            audiences: Vec::new(),
            feed: None,
            announce_to_feed: false,
            object_id,
            extra_inboxes: Vec::new(),
            except_origin: None,
        }
    }
}

async fn process(data: &Data<ApubData>, event: Event) -> Result<(), ApubError> {
    match event.object_type {
        ObjectType::Account => return account_event(data, event).await,
        ObjectType::Report => return flag(data, event).await,
        ObjectType::Signature => return sign_on(data, event).await,
        _ => {}
    }
    let (object_type, public_id) = (event.object_type, event.object_id.clone());
    let loaded = data
        .db
        .run(move |conn| load(conn, object_type, &public_id))
        .await?;
    let object_id = loaded.id(data)?;
    let outgoing = if matches!(event.kind, EventKind::Remove | EventKind::Restore) {
        // A moderator's removal: from the instance (moderators stay unnamed), with the reason.
        let (state, reason) = match &loaded {
            Loaded::Review(row, ..) => (row.state.as_str(), row.removed_reason.clone()),
            Loaded::Incident(row, ..) => (row.state.as_str(), row.removed_reason.clone()),
            Loaded::Corroboration(row, ..) => (row.state.as_str(), None),
            Loaded::Comment(row, ..) => (row.state.as_str(), row.removed_reason.clone()),
            Loaded::Fact(row, ..) => (row.state.as_str(), row.removed_reason.clone()),
            Loaded::Campaign(..) => ("published", None),
        };
        // Only what still holds is sent: a removal since undone (or a restoration since
        // removed again) would otherwise arrive after its reversal and stick.
        let holds = match event.kind {
            EventKind::Remove => state == "removed",
            _ => state == "published",
        };
        if !holds {
            return take(data, event.id).await;
        }
        Outgoing {
            audiences: vec![LocalActor::Instance.path(), loaded.signer().path()],
            feed: loaded.feed()?,
            ..Outgoing::from_instance(
                moderation_activity(data, event.kind, &object_id, reason).await?,
                object_id,
            )
        }
    } else if event.kind == EventKind::Announce {
        // Another instance's reply to a local incident, passed on to this instance's
        // followers, who fetch it from its origin.
        let instance = ApubActor::local(data, LocalActor::Instance).await?;
        let announce = json!({
            "type": "Announce",
            "id": new_activity_id(data),
            "actor": instance.id,
            "to": [PUBLIC],
            "cc": [],
            "object": object_id,
        });
        Outgoing {
            audiences: vec![LocalActor::Instance.path()],
            except_origin: Some(crate::objects::origin(&object_id)),
            ..Outgoing::from_instance(announce, object_id)
        }
    } else {
        let author = loaded.signer();
        // The key is made (if need be) before the transaction, never inside it.
        let (signer, actor) = match ApubActor::local(data, author.clone()).await {
            Ok(actor) => (author.clone(), actor),
            // The author's account is gone: its instance signs the deletions, as peers accept
            // for content of that instance's.
            Err(error) if error.is_not_found() && event.kind == EventKind::Delete => (
                LocalActor::Instance,
                ApubActor::local(data, LocalActor::Instance).await?,
            ),
            Err(error) => return Err(error),
        };
        let object = match (event.kind, loaded.object(data)?) {
            (EventKind::Delete, _) => None,
            (_, Some(object)) => Some(object),
            // Gone since the event was written: its own delete event follows.
            (_, None) => return take(data, event.id).await,
        };
        let activity = match &object {
            None => wire(&DeleteObject::new(
                new_activity_id(data),
                actor.id.clone(),
                IdOrObject::tombstone(object_id.clone()),
                None,
            ))?,
            Some(object) => {
                let kind = if event.kind == EventKind::Create {
                    CreateOrUpdateType::Create
                } else {
                    CreateOrUpdateType::Update
                };
                wire(&CreateOrUpdate::new(
                    kind,
                    new_activity_id(data),
                    actor.id.clone(),
                    object.clone(),
                ))?
            }
        };
        Outgoing {
            audiences: vec![LocalActor::Instance.path(), author.path()],
            feed: loaded.feed()?,
            announce_to_feed: object.is_some(),
            extra_inboxes: reply_home(data, &loaded).await?,
            signer,
            activity,
            object_id,
            except_origin: None,
        }
    };
    queue(data, event.id, outgoing).await
}

/// A moderator's removal (`Delete` with the reason as `summary`, which Lemmy records as a
/// removal) or its reversal (`Undo` of that), from the instance actor.
async fn moderation_activity(
    data: &ApubData,
    kind: EventKind,
    object_id: &Url,
    reason: Option<String>,
) -> Result<Value, ApubError> {
    let instance = ApubActor::local(data, LocalActor::Instance).await?;
    let removal = DeleteObject::new(
        new_activity_id(data),
        instance.id.clone(),
        IdOrObject::Id(object_id.clone()),
        Some(reason.unwrap_or_else(|| "Removed by this instance's moderators".to_owned())),
    );
    if kind == EventKind::Remove {
        wire(&removal)
    } else {
        wire(&UndoDelete::new(
            new_activity_id(data),
            instance.id,
            removal,
        ))
    }
}

/// A local account suspended (`Remove`) or unsuspended (`Restore`): followers of the instance
/// and of the worker hide (or show again) what they hold of the worker's.
async fn account_event(data: &Data<ApubData>, event: Event) -> Result<(), ApubError> {
    let person = LocalActor::Person(event.object_id.clone());
    let id = data.local_url(&person.path());
    let activity = if event.kind == EventKind::Delete {
        // A deleted account: its actor no longer answers, so the instance says it is gone.
        let instance = ApubActor::local(data, LocalActor::Instance).await?;
        wire(&DeleteObject::new(
            new_activity_id(data),
            instance.id,
            IdOrObject::Id(id.clone()),
            None,
        ))?
    } else {
        moderation_activity(
            data,
            event.kind,
            &id,
            Some(picket_db::moderation::SUSPENDED_REASON.to_owned()),
        )
        .await?
    };
    queue(
        data,
        event.id,
        Outgoing {
            audiences: vec![LocalActor::Instance.path(), person.path()],
            ..Outgoing::from_instance(activity, id)
        },
    )
    .await
}

/// A report of another instance's content or account, sent to that instance's moderators as a
/// `Flag` from the instance actor, so the reporter stays unknown there. The reason goes in both
/// `content` (Mastodon, GoToSocial) and `summary` (Lemmy).
async fn flag(data: &Data<ApubData>, event: Event) -> Result<(), ApubError> {
    let public_id = event.object_id.clone();
    let (report, author) = data
        .db
        .run(move |conn| {
            let report = moderation::report_by_public_id(conn, &public_id)?;
            let target_type: picket_core::moderation::TargetType =
                report.target_type.parse().map_err(DbError::Corrupt)?;
            let author = match target_type {
                picket_core::moderation::TargetType::Account => Some(report.target.clone()),
                _ => moderation::held(conn, target_type, &report.target)?.remote_author,
            };
            Ok((report, author.ok_or(DbError::NotFound)?))
        })
        .await?;
    let author_url = Url::parse(&author).map_err(corrupt)?;
    let author: ObjectId<ApubActor> = author_url.clone().into();
    let inbox = author.dereference(data).await?.shared_inbox_or_inbox();
    let reason: picket_core::moderation::ReportReason = report.reason.parse().map_err(corrupt)?;
    let words = if report.text.is_empty() {
        reason.label().to_owned()
    } else {
        format!("{}: {}", reason.label(), report.text)
    };
    let mut objects = vec![author_url.clone()];
    if report.target != author_url.as_str() {
        objects.push(Url::parse(&report.target).map_err(corrupt)?);
    }
    let instance = ApubActor::local(data, LocalActor::Instance).await?;
    let activity = wire(&Flag::new(
        new_activity_id(data),
        instance.id,
        author_url.clone(),
        objects,
        words,
    ))?;
    queue(
        data,
        event.id,
        Outgoing {
            extra_inboxes: vec![inbox.to_string()],
            ..Outgoing::from_instance(activity, author_url)
        },
    )
    .await
}

/// A local worker's signature of another instance's campaign, sent home as a `Join` from this
/// instance's actor, naming the worker only by the signature's token.
async fn sign_on(data: &Data<ApubData>, event: Event) -> Result<(), ApubError> {
    let token = event.object_id.clone();
    let (signer, campaign) = data
        .db
        .run(move |conn| campaigns::signature_by_token(conn, &token))
        .await?;
    let (Some(campaign_id), Some(author)) = (&campaign.ap_id, &campaign.remote_author) else {
        return take(data, event.id).await;
    };
    let author: ObjectId<ApubActor> = Url::parse(author).map_err(corrupt)?.into();
    let inbox = author.dereference(data).await?.shared_inbox_or_inbox();
    let instance = ApubActor::local(data, LocalActor::Instance).await?;
    let campaign_url = Url::parse(campaign_id).map_err(corrupt)?;
    let join = wire(&JoinCampaign::new(
        new_activity_id(data),
        instance.id,
        campaign_url.clone(),
        signer,
    ))?;
    queue(
        data,
        event.id,
        Outgoing {
            extra_inboxes: vec![inbox.to_string()],
            ..Outgoing::from_instance(join, campaign_url)
        },
    )
    .await
}

/// A corroboration of another instance's incident also goes to that instance, whose followers
/// then hear of it from there; so does a comment on another instance's review or incident, and
/// to the author of the comment it answers (a Mastodon user hears of the answer).
async fn reply_home(data: &Data<ApubData>, loaded: &Loaded) -> Result<Vec<String>, ApubError> {
    let authors: Vec<&str> = match loaded {
        Loaded::Corroboration(_, incident, ..) => {
            incident.remote_author.iter().map(String::as_str).collect()
        }
        Loaded::Comment(_, on, ..) => {
            on.0.remote_author()
                .into_iter()
                .chain(on.1.as_ref().and_then(|a| a.remote_author.as_deref()))
                .collect()
        }
        _ => Vec::new(),
    };
    let mut inboxes = Vec::new();
    for author in authors {
        // Known since the content arrived, unless it came by an announce: then fetched now.
        let author: ObjectId<ApubActor> = Url::parse(author).map_err(corrupt)?.into();
        let inbox = author
            .dereference(data)
            .await?
            .shared_inbox_or_inbox()
            .to_string();
        if !inboxes.contains(&inbox) {
            inboxes.push(inbox);
        }
    }
    Ok(inboxes)
}

async fn take(data: &ApubData, event_id: i64) -> Result<(), ApubError> {
    data.db
        .run(move |conn| events::take(conn, event_id).map(drop))
        .await?;
    Ok(())
}

/// Servers that read a group's `Announce{Create{Page}}` as a post in a community.
const LEMMY_FAMILY: &[&str] = &["lemmy", "mbin", "kbin", "piefed"];

/// An `Announce` by a requester feed of `object` (an activity, or an object's id), public, with
/// both `to` and `cc` present as Lemmy requires.
fn announce(id: Url, feed: &Url, object: Value) -> Value {
    json!({
        "type": "Announce",
        "id": id,
        "actor": feed,
        "to": [PUBLIC],
        "cc": [],
        "object": object,
    })
}

/// The activity as stored for sending: with its `@context`, and its id.
fn envelope(data: &ApubData, mut body: Value) -> (String, String) {
    body["@context"] = activity_context(data);
    (
        body["id"].as_str().unwrap_or_default().to_owned(),
        body.to_string(),
    )
}

/// Takes the event and queues the activity for every inbox it goes to, in one transaction.
async fn queue(data: &ApubData, event_id: i64, outgoing: Outgoing) -> Result<(), ApubError> {
    let feed_path = outgoing.feed.as_ref().map(LocalActor::path);
    let announces = match (&outgoing.feed, outgoing.announce_to_feed) {
        (Some(feed), true) => {
            let feed_id = data.local_url(&feed.path());
            Some((
                envelope(
                    data,
                    announce(new_activity_id(data), &feed_id, outgoing.activity.clone()),
                ),
                envelope(
                    data,
                    announce(new_activity_id(data), &feed_id, json!(outgoing.object_id)),
                ),
            ))
        }
        _ => None,
    };
    let (activity_id, body) = envelope(data, outgoing.activity);
    let signer = outgoing.signer.path();
    let Outgoing {
        audiences,
        extra_inboxes,
        except_origin,
        ..
    } = outgoing;
    data.db
        .tx(move |conn| {
            if !events::take(conn, event_id)? {
                return Ok(());
            }
            let mut direct: Vec<String> = extra_inboxes.clone();
            let (mut lemmy, mut other) = (Vec::new(), Vec::new());
            for audience in &audiences {
                direct.extend(
                    delivery::follower_inboxes(conn, audience)?
                        .into_iter()
                        .map(|(inbox, _)| inbox),
                );
            }
            if let Some(feed_path) = &feed_path {
                for (inbox, software) in delivery::follower_inboxes(conn, feed_path)? {
                    match (software.as_deref(), &announces) {
                        (Some("picket"), _) | (_, None) => direct.push(inbox),
                        (Some(name), Some(_)) if LEMMY_FAMILY.contains(&name) => lemmy.push(inbox),
                        _ => other.push(inbox),
                    }
                }
            }
            let keep = |inbox: &String| {
                except_origin.as_deref().is_none_or(|origin| {
                    Url::parse(inbox).is_ok_and(|url| crate::objects::origin(&url) != origin)
                })
            };
            direct.retain(keep);
            // Whoever gets the activity itself needs no announce of it.
            lemmy.retain(|inbox| keep(inbox) && !direct.contains(inbox));
            other.retain(|inbox| keep(inbox) && !direct.contains(inbox));
            if !direct.is_empty() {
                delivery::enqueue(conn, &activity_id, &signer, &body, &direct, now())?;
            }
            if let Some(((lemmy_id, lemmy_body), (other_id, other_body))) = &announces {
                let feed = feed_path.as_deref().unwrap_or_default();
                if !lemmy.is_empty() {
                    delivery::enqueue(conn, lemmy_id, feed, lemmy_body, &lemmy, now())?;
                }
                if !other.is_empty() {
                    delivery::enqueue(conn, other_id, feed, other_body, &other, now())?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(())
}
