//! The three kinds of local actor (the instance, pseudonymous workers, requester feeds) and remote actors, as one `Actor` type the federation library can fetch, serve and verify.

use std::str::FromStr;

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::http_signatures::generate_actor_keypair;
use activitypub_federation::protocol::public_key::PublicKey;
use activitypub_federation::protocol::verification::verify_domains_match;
use activitypub_federation::traits::{Actor, Object};
use chrono::{DateTime, Utc};
use picket_core::accounts::AccountStatus;
use picket_core::platform::Platform;
use picket_db::actors::{self, KeyPair, RemoteActorRow};
use picket_db::models::now;
use picket_db::{DbError, requesters, users};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::{ApubData, ApubError};

/// What kind of actor: the words ActivityStreams uses for them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ActorKind {
    Application,
    Person,
    Group,
    Service,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Application => "Application",
            ActorKind::Person => "Person",
            ActorKind::Group => "Group",
            ActorKind::Service => "Service",
        }
    }
}

impl FromStr for ActorKind {
    type Err = String;

    fn from_str(word: &str) -> Result<Self, String> {
        [
            ActorKind::Application,
            ActorKind::Person,
            ActorKind::Group,
            ActorKind::Service,
        ]
        .into_iter()
        .find(|kind| kind.as_str() == word)
        .ok_or_else(|| format!("unknown actor type `{word}`"))
    }
}

/// A local actor, named the way its URL path and its key row name it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LocalActor {
    /// The instance itself (`/actor`, WebFinger `instance@host`): follows instances, signs fetches.
    Instance,
    /// A worker's pseudonymous account (`/u/{username}`).
    Person(String),
    /// One requester's feed (`/r/{platform}/{requester_id}`, WebFinger `platform.requesterid@host`).
    Feed(Platform, String),
    /// A platform's feed of incidents that name no requester (lock-outs, suspensions, withheld
    /// earnings): `/p/{platform}`, WebFinger `platform.<platform>@host`.
    Platform(Platform),
}

/// The WebFinger prefix of platform feeds: `platform.mturk`.
const PLATFORM_PREFIX: &str = "platform.";

/// The WebFinger name of the instance actor.
pub const INSTANCE_NAME: &str = "instance";

impl LocalActor {
    /// The path below the public URL, which is also the key row's name.
    pub fn path(&self) -> String {
        match self {
            LocalActor::Instance => picket_db::delivery::INSTANCE_ACTOR.to_owned(),
            LocalActor::Person(name) => format!("u/{name}"),
            LocalActor::Feed(platform, id) => format!("r/{}/{id}", platform.as_str()),
            LocalActor::Platform(platform) => format!("p/{}", platform.as_str()),
        }
    }

    /// The account name WebFinger answers for (`acct:<name>@host`).
    pub fn webfinger_name(&self) -> String {
        match self {
            LocalActor::Instance => INSTANCE_NAME.to_owned(),
            LocalActor::Person(name) => name.clone(),
            LocalActor::Feed(platform, id) => {
                format!("{}.{}", platform.as_str(), id.to_lowercase())
            }
            LocalActor::Platform(platform) => format!("{PLATFORM_PREFIX}{}", platform.as_str()),
        }
    }

    /// Reads a WebFinger account name: `instance`, a username, or `platform.requesterid`.
    pub fn from_webfinger_name(name: &str) -> Result<LocalActor, ApubError> {
        if name == INSTANCE_NAME {
            return Ok(LocalActor::Instance);
        }
        if let Some(platform) = name.strip_prefix(PLATFORM_PREFIX) {
            return platform_feed(platform);
        }
        match name.split_once('.') {
            Some((platform, id)) => feed(platform, id),
            None => Ok(LocalActor::Person(name.to_ascii_lowercase())),
        }
    }

    /// Reads a local actor URL's path (`actor`, `u/alice`, `r/mturk/A1…`).
    pub(crate) fn from_path(path: &str) -> Option<LocalActor> {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        match parts.as_slice() {
            ["actor"] => Some(LocalActor::Instance),
            ["u", name] => Some(LocalActor::Person((*name).to_owned())),
            ["r", platform, id] => feed(platform, id).ok(),
            ["p", platform] => platform_feed(platform).ok(),
            _ => None,
        }
    }

    fn kind(&self) -> ActorKind {
        match self {
            LocalActor::Instance => ActorKind::Application,
            LocalActor::Person(_) => ActorKind::Person,
            LocalActor::Feed(..) | LocalActor::Platform(_) => ActorKind::Group,
        }
    }
}

pub(crate) fn platform_feed(platform: &str) -> Result<LocalActor, ApubError> {
    platform
        .parse()
        .map(LocalActor::Platform)
        .map_err(|_| ApubError::NotFound("no such platform"))
}

fn feed(platform: &str, id: &str) -> Result<LocalActor, ApubError> {
    let platform: Platform = platform
        .parse()
        .map_err(|_| ApubError::NotFound("no such platform"))?;
    let id = platform
        .normalize_requester_id(id)
        .map_err(|_| ApubError::NotFound("no such requester"))?;
    Ok(LocalActor::Feed(platform, id))
}

/// An actor, local or remote, with what signing and delivery need.
#[derive(Debug, Clone)]
pub struct ApubActor {
    pub id: Url,
    pub kind: ActorKind,
    pub username: String,
    pub name: Option<String>,
    pub inbox: Url,
    pub shared_inbox: Option<Url>,
    /// Where the actor's history can be paged (the instance actor's: all local content; a
    /// requester feed's: its latest announces).
    pub outbox: Option<Url>,
    pub public_key_pem: String,
    /// Only local actors have one.
    pub private_key_pem: Option<String>,
    /// When a remote actor was last fetched; `None` for local actors, which never go stale.
    pub fetched_at: Option<DateTime<Utc>>,
}

impl ApubActor {
    /// Loads a local actor, making its key pair on first use. `NotFound` when the worker or the
    /// requester does not exist here (or the account cannot sign in).
    pub async fn local(data: &ApubData, actor: LocalActor) -> Result<ApubActor, ApubError> {
        let lookup = actor.clone();
        let name = data
            .db
            .run(move |conn| match &lookup {
                LocalActor::Instance => Ok(None),
                LocalActor::Person(username) => {
                    let user = users::by_username(conn, username)?;
                    if user.status() == AccountStatus::Active {
                        Ok(None)
                    } else {
                        Err(DbError::NotFound)
                    }
                }
                LocalActor::Feed(platform, id) => requesters::by_key(conn, platform.as_str(), id)?
                    .map(|r| Some(r.name))
                    .ok_or(DbError::NotFound),
                LocalActor::Platform(platform) => Ok(Some(format!(
                    "{}: lock-outs, suspensions and withheld pay",
                    platform.display_name()
                ))),
            })
            .await
            .map_err(|error| match error {
                DbError::NotFound => ApubError::NotFound("no such actor"),
                other => other.into(),
            })?;
        let keys = local_key(data, &actor.path()).await?;
        let id = data.local_url(&actor.path());
        Ok(ApubActor {
            inbox: data.local_url(&format!("{}/inbox", actor.path())),
            shared_inbox: Some(data.local_url("inbox")),
            // Every actor has an outbox (ActivityPub 4.1): a worker's lists what they published.
            outbox: Some(data.local_url(&format!("{}/outbox", actor.path()))),
            kind: actor.kind(),
            username: actor.webfinger_name(),
            name,
            public_key_pem: keys.public_key_pem,
            private_key_pem: Some(keys.private_key_pem),
            fetched_at: None,
            id,
        })
    }

    /// For a requester feed (`…/r/{platform}/{requester_id}`, a Picket instance's `Group`):
    /// the requester it is about.
    pub fn requester_key(&self) -> Option<(Platform, String)> {
        if self.kind != ActorKind::Group {
            return None;
        }
        let segments: Vec<&str> = self.id.path_segments()?.collect();
        match segments.as_slice() {
            [.., "r", platform, id] => {
                let platform: Platform = platform.parse().ok()?;
                let id = platform.normalize_requester_id(id).ok()?;
                Some((platform, id))
            }
            _ => None,
        }
    }

    fn from_remote(row: RemoteActorRow) -> Result<ApubActor, ApubError> {
        let url = |raw: &str| Url::parse(raw).map_err(|e| DbError::Corrupt(e.to_string()));
        Ok(ApubActor {
            id: url(&row.url)?,
            kind: row.kind.parse().map_err(DbError::Corrupt)?,
            username: row.username,
            name: row.name,
            inbox: url(&row.inbox)?,
            shared_inbox: row.shared_inbox.as_deref().map(url).transpose()?,
            outbox: row.outbox.as_deref().map(url).transpose()?,
            public_key_pem: row.public_key_pem,
            private_key_pem: None,
            fetched_at: Some(row.fetched_at.and_utc()),
        })
    }
}

/// Whether a stored key pair can sign: its private key parses and the public key is that
/// key's own (a mismatch would make every signature fail at the other end).
pub fn key_pair_usable(keys: &KeyPair) -> bool {
    use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
    match (
        rsa::RsaPrivateKey::from_pkcs8_pem(&keys.private_key_pem),
        rsa::RsaPublicKey::from_public_key_pem(&keys.public_key_pem),
    ) {
        (Ok(private), Ok(public)) => rsa::RsaPublicKey::from(&private) == public,
        _ => false,
    }
}

/// A local actor's key pair: read, or made once (off the async threads: RSA-2048 generation
/// takes a noticeable fraction of a second) and kept.
async fn local_key(data: &ApubData, actor: &str) -> Result<KeyPair, ApubError> {
    let name = actor.to_owned();
    if let Some(keys) = data.db.run(move |conn| actors::key(conn, &name)).await? {
        return Ok(keys);
    }
    let made = tokio::task::spawn_blocking(generate_actor_keypair)
        .await
        .map_err(|e| ApubError::Keys(e.to_string()))?
        .map_err(|e| ApubError::Keys(e.to_string()))?;
    let made = KeyPair {
        public_key_pem: made.public_key,
        private_key_pem: made.private_key,
    };
    let name = actor.to_owned();
    Ok(data
        .db
        .run(move |conn| actors::keep_key(conn, &name, &made, now()))
        .await?)
}

/// Where a server accepts activities for all its actors.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Endpoints {
    pub shared_inbox: Url,
}

/// An actor on the wire: what we serve and what we read from other servers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActorJson {
    #[serde(rename = "type")]
    pub kind: ActorKind,
    pub id: ObjectId<ApubActor>,
    pub preferred_username: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    pub inbox: Url,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub followers: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub following: Option<Url>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub endpoints: Option<Endpoints>,
    pub public_key: PublicKey,
    /// Never set by us: a requester feed accepts every follower.
    #[serde(default)]
    pub manually_approves_followers: bool,
}

#[async_trait::async_trait]
impl Object for ApubActor {
    type DataType = ApubData;
    type Kind = ActorJson;
    type Error = ApubError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        self.fetched_at
    }

    async fn read_from_id(url: Url, data: &Data<ApubData>) -> Result<Option<Self>, ApubError> {
        if data.local_path(&url).is_some() {
            let Some(actor) = data.local_actor(&url) else {
                return Ok(None);
            };
            return match ApubActor::local(data, actor).await {
                Ok(actor) => Ok(Some(actor)),
                Err(ApubError::NotFound(_)) => Ok(None),
                Err(other) => Err(other),
            };
        }
        // A domain the rules refuse is neither fetched nor used.
        data.check_peer(&url).await?;
        let key = url.to_string();
        let stored = data
            .db
            .run(move |conn| actors::remote(conn, &key))
            .await?
            .map(ApubActor::from_remote)
            .transpose()?;
        // Not held: the library fetches it next. Whoever made us look, the actor's host is
        // asked only so often, and not again soon after it failed.
        if stored.is_none() {
            data.check_actor_fetch(&url)?;
        }
        Ok(stored)
    }

    async fn into_json(self, _data: &Data<ApubData>) -> Result<ActorJson, ApubError> {
        // Ours (we hold the key) have every collection ActivityPub asks of an actor.
        let collection = |name: &str| {
            self.private_key_pem
                .as_ref()
                .and_then(|_| Url::parse(&format!("{}/{name}", self.id)).ok())
        };
        let (followers, following) = (collection("followers"), collection("following"));
        Ok(ActorJson {
            followers,
            following,
            public_key: self.public_key(),
            kind: self.kind,
            id: self.id.clone().into(),
            preferred_username: self.username,
            name: self.name,
            inbox: self.inbox,
            outbox: self.outbox,
            endpoints: self
                .shared_inbox
                .map(|shared_inbox| Endpoints { shared_inbox }),
            manually_approves_followers: false,
        })
    }

    async fn verify(
        json: &ActorJson,
        expected_domain: &Url,
        _data: &Data<ApubData>,
    ) -> Result<(), ApubError> {
        verify_domains_match(json.id.inner(), expected_domain)?;
        // A key that names another owner would let one actor sign as another.
        if &json.public_key.owner != json.id.inner() {
            return Err(ApubError::Invalid(format!(
                "the key of {} belongs to {}",
                json.id.inner(),
                json.public_key.owner
            )));
        }
        verify_domains_match(&json.inbox, expected_domain)?;
        // Deliveries go to the shared inbox and backfill reads the outbox: both must be the
        // actor's own server's, or anyone could point us at a third party.
        if let Some(endpoints) = &json.endpoints {
            verify_domains_match(&endpoints.shared_inbox, expected_domain)?;
        }
        if let Some(outbox) = &json.outbox {
            verify_domains_match(outbox, expected_domain)?;
        }
        Ok(())
    }

    async fn from_json(json: ActorJson, data: &Data<ApubData>) -> Result<Self, ApubError> {
        let row = RemoteActorRow {
            url: json.id.inner().to_string(),
            kind: json.kind.as_str().to_owned(),
            username: json.preferred_username,
            name: json.name,
            inbox: json.inbox.to_string(),
            shared_inbox: json.endpoints.map(|e| e.shared_inbox.to_string()),
            outbox: json.outbox.map(|o| o.to_string()),
            public_key_pem: json.public_key.public_key_pem,
            fetched_at: now(),
        };
        let stored = row.clone();
        data.db
            .run(move |conn| actors::store_remote(conn, &stored))
            .await?;
        ApubActor::from_remote(row)
    }
}

impl Actor for ApubActor {
    fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    fn private_key_pem(&self) -> Option<String> {
        self.private_key_pem.clone()
    }

    fn inbox(&self) -> Url {
        self.inbox.clone()
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.shared_inbox.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_names_round_trip() {
        let feed = LocalActor::Feed(Platform::Mturk, "A1B2C3D4E5".into());
        assert_eq!(feed.path(), "r/mturk/A1B2C3D4E5");
        assert_eq!(feed.webfinger_name(), "mturk.a1b2c3d4e5");
        assert_eq!(
            LocalActor::from_webfinger_name("mturk.a1b2c3d4e5").ok(),
            Some(feed.clone())
        );
        assert_eq!(LocalActor::from_path("/r/mturk/a1b2c3d4e5"), Some(feed));
        assert_eq!(
            LocalActor::from_webfinger_name("instance").ok(),
            Some(LocalActor::Instance)
        );
        assert_eq!(
            LocalActor::from_webfinger_name("Alice").ok(),
            Some(LocalActor::Person("alice".into()))
        );
        assert!(LocalActor::from_webfinger_name("ebay.123").is_err());
        assert_eq!(LocalActor::from_path("u/a/b"), None);
    }
}
