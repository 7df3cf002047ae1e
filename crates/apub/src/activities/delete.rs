//! `Delete`: an author's deletion (a `Tombstone`), an account's, or a moderator's removal (with its reason), sent and received as this one type.

use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::protocol::verification::verify_domains_match;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::ApubError;
use crate::actors::ApubActor;
use crate::objects::{addresses, public};
use activitypub_federation::kinds::activity::DeleteType;

/// An object given by id alone, or as an object (a `Tombstone`, an activity) with one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IdOrObject {
    Id(Url),
    Object {
        /// `Tombstone` for what is gone, or an activity's type.
        #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
        kind: Option<String>,
        id: Url,
        /// An activity's own object: what an `Announce{Create{Page}}` is really about.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        object: Option<Box<IdOrObject>>,
    },
}

impl IdOrObject {
    /// The tombstone of what was at `id`.
    pub(crate) fn tombstone(id: Url) -> IdOrObject {
        IdOrObject::Object {
            kind: Some("Tombstone".to_owned()),
            id,
            object: None,
        }
    }

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
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    pub object: IdOrObject,
    /// Present on a moderator's removal: the reason (Lemmy's shape); absent on an author's deletion.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub summary: Option<String>,
}

impl DeleteObject {
    /// A public `Delete` of `object` by `actor`; with a `reason`, a moderator's removal.
    pub(crate) fn new(id: Url, actor: Url, object: IdOrObject, reason: Option<String>) -> Self {
        DeleteObject {
            kind: DeleteType::Delete,
            id,
            actor: actor.into(),
            to: vec![public()],
            object,
            summary: reason,
        }
    }

    /// Only the object's own instance may delete it.
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        verify_domains_match(self.object.id(), self.actor.inner())?;
        Ok(())
    }
}
