//! `Create` and `Update` of Picket content, sent and received as this one type.

use activitypub_federation::fetch::object_id::ObjectId;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::ApubError;
use crate::actors::ApubActor;
use crate::objects::{PicketObject, addresses};

/// `Create` and `Update` carry the whole object; receiving either stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreateOrUpdateType {
    Create,
    Update,
}

/// The one type of a `Create` or `Update` of Picket content, sent and received: what goes out
/// is built here, what comes in is parsed here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrUpdate {
    #[serde(rename = "type")]
    pub kind: CreateOrUpdateType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    /// Always sent, empty or not: Lemmy refuses activities without it.
    #[serde(default, deserialize_with = "addresses")]
    pub cc: Vec<Url>,
    pub object: PicketObject,
}

impl CreateOrUpdate {
    /// `kind` of `object` by `actor`, addressed as the object is.
    pub(crate) fn new(kind: CreateOrUpdateType, id: Url, actor: Url, object: PicketObject) -> Self {
        let (to, cc) = object.audience();
        CreateOrUpdate {
            kind,
            id,
            actor: actor.into(),
            to: to.to_vec(),
            cc: cc.to_vec(),
            object,
        }
    }

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
