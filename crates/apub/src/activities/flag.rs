//! `Flag`: a report to another instance's moderators, sent and received as this one type.

use activitypub_federation::fetch::object_id::ObjectId;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::actors::ApubActor;
use crate::objects::addresses;

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
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    pub object: OneOrMany,
    #[serde(default)]
    pub content: Option<String>,
    #[serde(default)]
    pub summary: Option<String>,
}

impl Flag {
    /// A report from this instance's `actor` to `to`, about `objects`, with the reason in both
    /// `content` (Mastodon, GoToSocial) and `summary` (Lemmy).
    pub(crate) fn new(id: Url, actor: Url, to: Url, objects: Vec<Url>, words: String) -> Self {
        Flag {
            kind: activitypub_federation::kinds::activity::FlagType::Flag,
            id,
            actor: actor.into(),
            to: vec![to],
            object: OneOrMany::Many(objects),
            content: Some(words.clone()),
            summary: Some(words),
        }
    }

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
