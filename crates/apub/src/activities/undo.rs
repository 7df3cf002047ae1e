//! `Undo` of a removal: a moderator's removal taken back, sent and received as this one type.

use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::protocol::verification::verify_domains_match;
use serde::{Deserialize, Serialize};
use url::Url;

use super::DeleteObject;
use crate::ApubError;
use crate::actors::ApubActor;
use crate::objects::{addresses, public};

/// A moderator's removal taken back: `Undo` of a `Delete`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoDelete {
    #[serde(rename = "type")]
    pub(crate) kind: activitypub_federation::kinds::activity::UndoType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    pub object: DeleteObject,
}

impl UndoDelete {
    /// The instance takes back its removal.
    pub(crate) fn new(id: Url, actor: Url, removal: DeleteObject) -> Self {
        UndoDelete {
            kind: activitypub_federation::kinds::activity::UndoType::Undo,
            id,
            actor: actor.into(),
            to: vec![public()],
            object: removal,
        }
    }

    /// Only the instance that removed something may restore it.
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        verify_domains_match(self.actor.inner(), self.object.actor.inner())?;
        self.object.verify()
    }
}
