//! One home per kind of federated content: each kind is a wrapper over its database row (and
//! what its wire form needs) implementing the library's `Object`, so serving, sending, storing,
//! deleting and removing a kind are written once, in its own file, and the rest of the crate
//! asks "any content" through the two traits here instead of matching on kinds.

mod campaign;
mod comment;
mod corroboration;
mod fact;
mod incident;
mod review;

pub(crate) use campaign::{ApubCampaign, joined};
pub(crate) use comment::ApubComment;
pub(crate) use corroboration::ApubCorroboration;
pub(crate) use fact::ApubFact;
pub(crate) use incident::ApubIncident;
pub(crate) use review::ApubReview;

use activitypub_federation::config::Data;
use activitypub_federation::protocol::verification::verify_domains_match;
use activitypub_federation::traits::Object;
use chrono::NaiveDateTime;
use picket_core::moderation::TargetType;
use picket_core::platform::Platform;
use picket_db::events::ObjectType;
use picket_db::requesters::RequesterRow;
use picket_db::{DbConn, DbError, users};
use url::Url;

use crate::actors::LocalActor;
use crate::objects::{PageBody, PicketObject};
use crate::{ApubData, ApubError};

/// Any local object (or a copy held here) with what its wire form needs: what the federation
/// events, the object routes and the outbox ask of content, whatever its kind.
pub(crate) trait Content: Send + Sync {
    /// Its ActivityPub id: ours, or its original's for a copy.
    fn url(&self) -> &Url;

    /// Written here by a local account (or one since deleted), not a copy, an import or a draft.
    fn is_local(&self) -> bool;

    /// Deleted or removed (or what it answers is): its id answers a `Tombstone`.
    fn is_gone(&self) -> bool;

    /// Who signs what is sent about it: its author, or the instance (for a deleted account's
    /// tombstones, and for what belongs to everyone who signed it).
    fn signer(&self) -> LocalActor;

    /// The feed whose followers hear of it: the requester's, or the platform's for an incident
    /// naming no requester (and what replies to one).
    fn feed(&self) -> Result<Option<LocalActor>, ApubError>;

    /// The object as sent and served, whether or not it is gone.
    fn wire(&self, data: &ApubData) -> Result<PicketObject, ApubError>;

    /// Its state and, when a moderator removed it, the reason: what a removal event sends.
    fn moderation(&self) -> (&str, Option<String>);

    /// Actors of other instances that must hear of it beyond the followers: the authors of
    /// what it replies to (its home passes it on to its own followers).
    fn reply_authors(&self) -> Vec<&str> {
        Vec::new()
    }
}

/// The object as sent and served; `None` for a tombstone.
pub(crate) fn served(
    content: &dyn Content,
    data: &ApubData,
) -> Result<Option<PicketObject>, ApubError> {
    if content.is_gone() {
        return Ok(None);
    }
    content.wire(data).map(Some)
}

/// A kind of content: how one is found by its local id and how another instance's is stored.
#[async_trait::async_trait]
pub(crate) trait ContentKind:
    Content + Object<DataType = ApubData, Error = ApubError> + Sized + 'static
{
    /// The path under which its local ids live: `reviews` for `/reviews/{public_id}`.
    const COLLECTION: &'static str;

    /// The object with this public id here (a local one, or a copy), with its context.
    fn load(conn: &mut DbConn, data: &ApubData, public_id: &str) -> Result<Self, DbError>;

    /// The copy held here of another instance's object with this id.
    fn by_ap_id(conn: &mut DbConn, data: &ApubData, ap_id: &str) -> Result<Option<Self>, DbError>;

    /// Stores another instance's object after the same checks a local one gets, applied once
    /// per `activity_id` (none for an object fetched on its own: a backfill, a dependency).
    async fn store(
        data: &Data<ApubData>,
        activity_id: Option<&Url>,
        json: <Self as Object>::Kind,
    ) -> Result<(), ApubError>;
}

/// Any content by its kind and public id.
pub(crate) fn load(
    conn: &mut DbConn,
    data: &ApubData,
    object_type: ObjectType,
    public_id: &str,
) -> Result<Box<dyn Content>, DbError> {
    fn boxed<K: ContentKind>(
        conn: &mut DbConn,
        data: &ApubData,
        public_id: &str,
    ) -> Result<Box<dyn Content>, DbError> {
        Ok(Box::new(K::load(conn, data, public_id)?))
    }
    match object_type {
        ObjectType::Review => boxed::<ApubReview>(conn, data, public_id),
        ObjectType::Incident => boxed::<ApubIncident>(conn, data, public_id),
        ObjectType::Corroboration => boxed::<ApubCorroboration>(conn, data, public_id),
        ObjectType::Comment => boxed::<ApubComment>(conn, data, public_id),
        ObjectType::Fact => boxed::<ApubFact>(conn, data, public_id),
        ObjectType::Campaign => boxed::<ApubCampaign>(conn, data, public_id),
        ObjectType::Account | ObjectType::Report | ObjectType::Signature => Err(DbError::Corrupt(
            format!("a {} is not content", object_type.as_str()),
        )),
    }
}

/// Stores another instance's object of any kind (its origin already checked: it came signed
/// by its author, or was fetched from its own instance).
pub(crate) async fn store(
    data: &Data<ApubData>,
    activity_id: Option<&Url>,
    object: PicketObject,
) -> Result<(), ApubError> {
    let id = object.id().clone();
    let at = (data, activity_id, &id);
    match object {
        PicketObject::Page(page) => match page.body {
            PageBody::Review { .. } => checked::<ApubReview>(at, *page).await,
            PageBody::Incident { .. } => checked::<ApubIncident>(at, *page).await,
            PageBody::Campaign { .. } => checked::<ApubCampaign>(at, *page).await,
        },
        PicketObject::Note(note) => checked::<ApubCorroboration>(at, *note).await,
        PicketObject::Comment(note) => checked::<ApubComment>(at, *note).await,
        PicketObject::Fact(note) => checked::<ApubFact>(at, *note).await,
    }
}

/// The library's `verify` (it lives on its author's instance), then the kind's own checks and
/// storing.
async fn checked<K: ContentKind>(
    (data, activity_id, id): (&Data<ApubData>, Option<&Url>, &Url),
    json: <K as Object>::Kind,
) -> Result<(), ApubError>
where
    <K as Object>::Kind: Send + Sync,
{
    K::verify(&json, id, data).await?;
    K::store(data, activity_id, json).await
}

/// What a report of a local object under `collection` is about. (A campaign is not reported:
/// it says only what the workers who signed it say.)
pub(crate) fn reported(collection: &str) -> Option<TargetType> {
    [
        (ApubReview::COLLECTION, TargetType::Review),
        (ApubIncident::COLLECTION, TargetType::Incident),
        (ApubCorroboration::COLLECTION, TargetType::Corroboration),
        (ApubComment::COLLECTION, TargetType::Comment),
        (ApubFact::COLLECTION, TargetType::Fact),
    ]
    .into_iter()
    .find_map(|(known, target)| (known == collection).then_some(target))
}

/// A copy of another instance's content, as its home's deletions and removals reach it.
pub(crate) trait HeldCopy: picket_db::content::Content {
    /// Its home deleted it: it leaves nothing but its tombstone (and, for a reply to one of
    /// ours, the event by which our followers hear it went).
    fn delete_copy(&self, conn: &mut DbConn, at: NaiveDateTime) -> Result<(), DbError>;

    /// Its home removed it (`reason`) or restored it (`None`).
    fn apply_removal(
        &self,
        conn: &mut DbConn,
        reason: Option<&str>,
        at: NaiveDateTime,
    ) -> Result<(), DbError> {
        self.mark_removed(conn, reason, at)
    }
}

type CopyById = fn(&mut DbConn, &str) -> Result<Option<Box<dyn HeldCopy>>, DbError>;
type CopiesByAuthor = fn(&mut DbConn, &str) -> Result<Vec<Box<dyn HeldCopy>>, DbError>;

/// Every kind whose copies their home deletes and removes. (A campaign is its signers': its
/// home neither deletes nor removes it.)
const COPIES: [(CopyById, CopiesByAuthor); 5] = [
    (review::copy, review::copies_by),
    (incident::copy, incident::copies_by),
    (corroboration::copy, corroboration::copies_by),
    (comment::copy, comment::copies_by),
    (fact::copy, fact::copies_by),
];

/// The copy held with this ActivityPub id, of whatever kind.
pub(crate) fn copy(conn: &mut DbConn, ap_id: &str) -> Result<Option<Box<dyn HeldCopy>>, DbError> {
    for (by_id, _) in COPIES {
        if let Some(found) = by_id(conn, ap_id)? {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Every copy held of what a remote actor wrote.
pub(crate) fn copies_by(
    conn: &mut DbConn,
    author: &str,
) -> Result<Vec<Box<dyn HeldCopy>>, DbError> {
    let mut found = Vec::new();
    for (_, by_author) in COPIES {
        found.extend(by_author(conn, author)?);
    }
    Ok(found)
}

fn boxed_copy<T: HeldCopy + 'static>(row: T) -> Box<dyn HeldCopy> {
    Box::new(row)
}

/// The library's `read_from_id` for any kind: a local object by its id here (gone ones
/// included: they answer tombstones), or the copy held of another instance's.
async fn read<K: ContentKind>(id: Url, data: &Data<ApubData>) -> Result<Option<K>, ApubError> {
    let local = data.local_path(&id).map(|path| {
        path.strip_prefix(&format!("{}/", K::COLLECTION))
            .map(str::to_owned)
    });
    let shared = data.app_data().clone();
    let found = data
        .db
        .run(move |conn| match local {
            Some(Some(public_id)) => {
                Ok(missing_as_none(K::load(conn, &shared, &public_id))?.filter(Content::is_local))
            }
            Some(None) => Ok(None),
            None => K::by_ap_id(conn, &shared, id.as_str()),
        })
        .await?;
    Ok(found)
}

/// The library's `verify` for any kind: the object lives where it was said to, and on its
/// author's instance. (What it says is checked as a local object's is, by `store`.)
fn verify_home(id: &Url, attributed_to: &Url, expected_domain: &Url) -> Result<(), ApubError> {
    verify_domains_match(id, expected_domain)?;
    verify_domains_match(id, attributed_to)?;
    Ok(())
}

/// The library's `from_json` for any kind: stored, then read back as held.
async fn stored<K: ContentKind>(
    json: <K as Object>::Kind,
    id: Url,
    data: &Data<ApubData>,
) -> Result<K, ApubError>
where
    <K as Object>::Kind: Send,
{
    K::store(data, None, json).await?;
    read::<K>(id, data)
        .await?
        .ok_or(ApubError::NotFound("not kept here"))
}

pub(crate) fn missing_as_none<T>(found: Result<T, DbError>) -> Result<Option<T>, DbError> {
    match found {
        Ok(value) => Ok(Some(value)),
        Err(DbError::NotFound) => Ok(None),
        Err(other) => Err(other),
    }
}

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
) -> Result<Url, DbError> {
    match ap_id {
        Some(id) => Url::parse(id).map_err(|e| DbError::Corrupt(e.to_string())),
        None => Ok(data.local_url(&format!("{collection}/{public_id}"))),
    }
}

fn username(conn: &mut DbConn, author_id: Option<i64>) -> Result<Option<String>, DbError> {
    author_id
        .map(|id| users::by_id(conn, id).map(|u| u.username))
        .transpose()
}

fn requester_of(conn: &mut DbConn, pk: Option<i64>) -> Result<Option<RequesterRow>, DbError> {
    pk.map(|pk| picket_db::requesters::by_pk(conn, pk))
        .transpose()
}

/// The author as a local actor: the instance signs for deleted accounts' tombstones.
fn signer_of(author: Option<&String>) -> LocalActor {
    author
        .cloned()
        .map_or(LocalActor::Instance, LocalActor::Person)
}

/// The library's `Object` for a kind: `id`, tombstones, and reading, sending, checking and
/// storing through the kind's own `load`, `to_json` and `store`.
macro_rules! federated_object {
    ($kind:ty, $wire:ty) => {
        #[async_trait::async_trait]
        impl activitypub_federation::traits::Object for $kind {
            type DataType = crate::ApubData;
            type Kind = $wire;
            type Error = crate::ApubError;

            fn id(&self) -> &url::Url {
                &self.id
            }

            fn is_deleted(&self) -> bool {
                crate::kinds::Content::is_gone(self)
            }

            async fn read_from_id(
                id: url::Url,
                data: &activitypub_federation::config::Data<crate::ApubData>,
            ) -> Result<Option<Self>, crate::ApubError> {
                crate::kinds::read(id, data).await
            }

            async fn into_json(
                self,
                data: &activitypub_federation::config::Data<crate::ApubData>,
            ) -> Result<$wire, crate::ApubError> {
                self.to_json(data)
            }

            async fn verify(
                json: &$wire,
                expected_domain: &url::Url,
                _data: &activitypub_federation::config::Data<crate::ApubData>,
            ) -> Result<(), crate::ApubError> {
                crate::kinds::verify_home(&json.id, &json.attributed_to, expected_domain)
            }

            async fn from_json(
                json: $wire,
                data: &activitypub_federation::config::Data<crate::ApubData>,
            ) -> Result<Self, crate::ApubError> {
                let id = json.id.clone();
                crate::kinds::stored(json, id, data).await
            }
        }
    };
}
pub(crate) use federated_object;
