//! What Picket content looks like on the wire: reviews and incidents as `Page`s whose Picket fields sit in our own namespace, corroborations as `Note` replies, and the activities that carry them.

use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::{AnnounceType, DeleteType};
use activitypub_federation::kinds::object::{NoteType, PageType};
use activitypub_federation::protocol::verification::verify_domains_match;
use chrono::{DateTime, Utc};
use picket_core::incident::{CorroborationInput, IncidentStatus};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use url::Url;

use crate::ApubError;
use crate::actors::ApubActor;

pub(crate) const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// A review or an incident. Lemmy and Mastodon read `name`, `summary`, `content` and `url`;
/// Picket instances read the `picket:` fields, which carry every field of the original.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentPage {
    #[serde(rename = "type")]
    pub(crate) kind: PageType,
    pub id: Url,
    pub attributed_to: Url,
    #[serde(default)]
    pub to: Vec<Url>,
    #[serde(default)]
    pub cc: Vec<Url>,
    pub name: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Where people read it: the same URL, which answers HTML to browsers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    pub published: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    #[serde(rename = "picket:platform")]
    pub platform: String,
    /// Absent only for incidents that name no requester (a platform suspension, say).
    #[serde(
        rename = "picket:requesterId",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub requester_id: Option<String>,
    #[serde(
        rename = "picket:requesterName",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub requester_name: Option<String>,
    #[serde(flatten)]
    pub body: PageBody,
}

/// What a page is, by `picket:kind`, with its fields in the API's own shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "picket:kind")]
pub enum PageBody {
    #[serde(rename = "review")]
    Review {
        #[serde(rename = "picket:review")]
        review: Value,
    },
    #[serde(rename = "incident")]
    Incident {
        #[serde(rename = "picket:incident")]
        incident: Value,
        #[serde(rename = "picket:status")]
        status: IncidentStatus,
    },
}

/// "This happened to me too": a reply to the incident, which Lemmy shows as a comment and
/// Mastodon as a reply, with the figures under `picket:corroboration`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CorroborationNote {
    #[serde(rename = "type")]
    pub(crate) kind: NoteType,
    pub id: Url,
    pub attributed_to: Url,
    pub in_reply_to: Url,
    #[serde(default)]
    pub to: Vec<Url>,
    #[serde(default)]
    pub cc: Vec<Url>,
    #[serde(default)]
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    pub published: DateTime<Utc>,
    #[serde(rename = "picket:corroboration")]
    pub corroboration: CorroborationInput,
}

/// Any Picket object; untagged, told apart by `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PicketObject {
    Page(Box<ContentPage>),
    Note(Box<CorroborationNote>),
}

impl PicketObject {
    pub fn id(&self) -> &Url {
        match self {
            PicketObject::Page(page) => &page.id,
            PicketObject::Note(note) => &note.id,
        }
    }

    pub fn attributed_to(&self) -> &Url {
        match self {
            PicketObject::Page(page) => &page.attributed_to,
            PicketObject::Note(note) => &note.attributed_to,
        }
    }

    /// The author's time of this version: when it was last changed, else when it was published.
    pub fn version(&self) -> DateTime<Utc> {
        match self {
            PicketObject::Page(page) => page.updated.unwrap_or(page.published),
            PicketObject::Note(note) => note.published,
        }
    }

    /// An object must live on its author's instance: anything else is someone speaking for
    /// another server.
    pub(crate) fn verify_origin(&self) -> Result<(), ApubError> {
        verify_domains_match(self.id(), self.attributed_to())?;
        Ok(())
    }
}

/// `Create` and `Update` carry the whole object; receiving either stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreateOrUpdateType {
    Create,
    Update,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrUpdate {
    #[serde(rename = "type")]
    pub kind: CreateOrUpdateType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: PicketObject,
}

impl CreateOrUpdate {
    /// The object must come from its author, on its author's instance.
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        self.object.verify_origin()?;
        if self.object.attributed_to() != self.actor.inner() {
            return Err(ApubError::Invalid(
                "content can only be sent by its author".into(),
            ));
        }
        Ok(())
    }
}

/// An object given by id alone, or as an object (a `Tombstone`, an activity) with one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IdOrObject {
    Id(Url),
    Object {
        id: Url,
        /// An activity's own object: what an `Announce{Create{Page}}` is really about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        object: Option<Box<IdOrObject>>,
    },
}

impl IdOrObject {
    pub fn id(&self) -> &Url {
        match self {
            IdOrObject::Id(id) | IdOrObject::Object { id, .. } => id,
        }
    }

    /// The innermost object's id: the page of an `Announce{Create{Page}}`, the object itself otherwise.
    pub fn innermost(&self) -> &Url {
        match self {
            IdOrObject::Object {
                object: Some(inner),
                ..
            } => inner.innermost(),
            other => other.id(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteObject {
    #[serde(rename = "type")]
    pub(crate) kind: DeleteType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: IdOrObject,
    /// Present on a moderator's removal: the reason (Lemmy's shape); absent on an author's deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

impl DeleteObject {
    /// Only the object's own instance may delete it.
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        verify_domains_match(self.object.id(), self.actor.inner())?;
        Ok(())
    }
}

/// A moderator's removal taken back: `Undo` of a `Delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoDelete {
    #[serde(rename = "type")]
    pub(crate) kind: activitypub_federation::kinds::activity::UndoType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: DeleteObject,
}

impl UndoDelete {
    /// Only the instance that removed something may restore it.
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        verify_domains_match(self.actor.inner(), self.object.actor.inner())?;
        self.object.verify()
    }
}

/// One id or several: `Flag`s name a single object (Lemmy) or an array (Mastodon).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany {
    One(Url),
    Many(Vec<Url>),
}

impl OneOrMany {
    pub fn ids(&self) -> &[Url] {
        match self {
            OneOrMany::One(id) => std::slice::from_ref(id),
            OneOrMany::Many(ids) => ids,
        }
    }
}

/// A report from another server's moderators or users, about content or accounts here. The
/// reason is in `summary` (Lemmy) or `content` (Mastodon, GoToSocial).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Flag {
    #[serde(rename = "type")]
    pub(crate) kind: activitypub_federation::kinds::activity::FlagType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: OneOrMany,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
}

impl Flag {
    /// The reason as given, whichever field carries it.
    pub fn reason(&self) -> String {
        [&self.summary, &self.content]
            .into_iter()
            .flatten()
            .map(|text| text.trim())
            .find(|text| !text.is_empty())
            .unwrap_or_default()
            .to_owned()
    }
}

/// A requester feed or an instance passing something on. The wrapper is not trusted: what it
/// points at is fetched from its origin.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announce {
    #[serde(rename = "type")]
    pub(crate) kind: AnnounceType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: IdOrObject,
}

/// The host a remote object comes from: what it is shown with and counted under.
pub(crate) fn origin(url: &Url) -> String {
    picket_core::wave::instance_name(url.host_str().unwrap_or_default(), url.port())
}
