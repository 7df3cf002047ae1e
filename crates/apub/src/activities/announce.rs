//! `Announce`: a feed or an instance passing content on, sent and received as this one type.

use activitypub_federation::fetch::object_id::ObjectId;
use serde::{Deserialize, Serialize};
use url::Url;

use super::IdOrObject;
use crate::actors::ApubActor;
use crate::objects::{addresses, public};
use activitypub_federation::kinds::activity::AnnounceType;

/// A requester feed or an instance passing something on: what is received names any object
/// (`IdOrObject`) and is not trusted, what points at it is fetched from its origin; what is sent
/// carries a whole `Create` (for Lemmy's communities) or an object's id (for everyone else).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Announce<O = IdOrObject> {
    #[serde(rename = "type")]
    pub(crate) kind: AnnounceType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    /// Always sent, empty or not: Lemmy refuses activities without it.
    #[serde(default, deserialize_with = "addresses")]
    pub cc: Vec<Url>,
    pub object: O,
}

impl<O> Announce<O> {
    /// A public announce of `object` by `actor`.
    pub(crate) fn new(id: Url, actor: Url, object: O) -> Self {
        Announce {
            kind: AnnounceType::Announce,
            id,
            actor: actor.into(),
            to: vec![public()],
            cc: Vec::new(),
            object,
        }
    }
}
