//! The inbox's activities and follows between actors: `Follow`, `Accept`, `Reject` and `Undo(Follow)` received idempotently and answered through the durable outbox; content activities are handed to `receive`.

mod announce;
mod create_or_update;
mod delete;
mod flag;
mod join;
mod undo;

pub use announce::Announce;
pub use create_or_update::{CreateOrUpdate, CreateOrUpdateType};
pub use delete::{DeleteObject, IdOrObject};
pub use flag::Flag;
pub use join::JoinCampaign;
pub use undo::UndoDelete;

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::{AcceptType, FollowType, RejectType, UndoType};
use activitypub_federation::traits::{Activity, Actor};
use picket_core::secrets::new_public_id;
use picket_db::delivery::{self, Direction, NewFollow};
use picket_db::models::now;
use picket_db::{DbConn, DbError, actors};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::actors::{ActorKind, ApubActor, LocalActor};
use crate::{ApubData, ApubError};

/// The `@context` of every activity we send.
/// ActivityStreams, and our own namespace (served at `/ns`), which defines the `picket:` prefix.
pub(crate) fn activity_context(data: &ApubData) -> serde_json::Value {
    serde_json::json!([
        "https://www.w3.org/ns/activitystreams",
        data.local_url("ns")
    ])
}

/// A fresh activity id on this instance: ids are never reused (Lemmy refuses a repeated one).
pub(crate) fn new_activity_id(data: &ApubData) -> Url {
    data.local_url(&format!("activities/{}", new_public_id()))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Follow {
    #[serde(rename = "type")]
    kind: FollowType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: ObjectId<ApubActor>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Accept {
    #[serde(rename = "type")]
    kind: AcceptType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: Follow,
}

/// A followed actor turning our follow down (a Mastodon account that approves followers, say).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Reject {
    #[serde(rename = "type")]
    kind: RejectType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: Follow,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UndoFollow {
    #[serde(rename = "type")]
    kind: UndoType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: Follow,
}

/// Everything the inbox understands. Untagged, and each variant's `type` is checked, so the
/// first variant whose shape and type match wins.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum InboxActivity {
    Follow(Follow),
    Accept(Accept),
    Reject(Reject),
    UndoFollow(UndoFollow),
    UndoDelete(UndoDelete),
    CreateOrUpdate(Box<CreateOrUpdate>),
    Delete(DeleteObject),
    Announce(Announce),
    Flag(Flag),
    Join(JoinCampaign),
    /// Last, so it takes only what nothing above did.
    Other(OtherActivity),
}

/// Anything else peers send (Lemmy's likes and comments, reports, undos of those): its
/// signature is checked like any other, then it is acknowledged and dropped, so the sender does
/// not retry it for days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OtherActivity {
    #[serde(rename = "type")]
    pub kind: String,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
}

/// How often an activity found stale is applied again before the sender is told to retry.
const STALE_RETRIES: u32 = 3;

/// Runs `apply` in one transaction with the record that `activity_id` was received: a
/// redelivered activity is acknowledged without effect, and a failed one stays unrecorded.
pub(crate) async fn once<F>(data: &ApubData, activity_id: &Url, apply: F) -> Result<(), ApubError>
where
    F: FnMut(&mut DbConn) -> Result<(), DbError> + Send + 'static,
{
    let id = activity_id.to_string();
    let apply = std::sync::Arc::new(std::sync::Mutex::new(apply));
    // Another activity about the same rows may commit between this one's read and its write
    // (two deletions of one account's copies, say): the change is then found stale, and the
    // activity is simply applied again on what is there now.
    let mut attempt = 0;
    loop {
        let (id, apply) = (id.clone(), apply.clone());
        let result = data
            .db
            .tx(move |conn| {
                // A write first: on SQLite a transaction that reads first cannot always take
                // the write lock later, and would be retried.
                let fresh = delivery::record_received(conn, &id, now())?;
                // The sender is up: if it was marked unreachable, what waits for it goes now.
                delivery::peer_answered(conn, delivery::host_of(&id), now())?;
                if !fresh {
                    return Ok(());
                }
                let mut apply = apply
                    .lock()
                    .map_err(|_| DbError::Task("an earlier attempt panicked".into()))?;
                (*apply)(conn)
            })
            .await;
        match result {
            Err(DbError::Stale(_)) if attempt < STALE_RETRIES => attempt += 1,
            other => return other.map_err(Into::into),
        }
    }
}

/// The local actor an activity is addressed to, or an error naming what is wrong.
fn local_target(data: &ApubData, id: &ObjectId<ApubActor>) -> Result<LocalActor, ApubError> {
    data.local_actor(id.inner())
        .ok_or_else(|| ApubError::Invalid(format!("{} is not an actor here", id.inner())))
}

#[async_trait::async_trait]
impl Activity for InboxActivity {
    type DataType = ApubData;
    type Error = ApubError;

    fn id(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => &a.id,
            InboxActivity::Accept(a) => &a.id,
            InboxActivity::Reject(a) => &a.id,
            InboxActivity::UndoFollow(a) => &a.id,
            InboxActivity::UndoDelete(a) => &a.id,
            InboxActivity::CreateOrUpdate(a) => &a.id,
            InboxActivity::Delete(a) => &a.id,
            InboxActivity::Announce(a) => &a.id,
            InboxActivity::Flag(a) => &a.id,
            InboxActivity::Join(a) => &a.id,
            InboxActivity::Other(a) => &a.id,
        }
    }

    fn actor(&self) -> &Url {
        match self {
            InboxActivity::Follow(a) => a.actor.inner(),
            InboxActivity::Accept(a) => a.actor.inner(),
            InboxActivity::Reject(a) => a.actor.inner(),
            InboxActivity::UndoFollow(a) => a.actor.inner(),
            InboxActivity::UndoDelete(a) => a.actor.inner(),
            InboxActivity::CreateOrUpdate(a) => a.actor.inner(),
            InboxActivity::Delete(a) => a.actor.inner(),
            InboxActivity::Announce(a) => a.actor.inner(),
            InboxActivity::Flag(a) => a.actor.inner(),
            InboxActivity::Join(a) => a.actor.inner(),
            InboxActivity::Other(a) => a.actor.inner(),
        }
    }

    async fn verify(&self, data: &Data<ApubData>) -> Result<(), ApubError> {
        // Runs once the signature checked out: the quota is the signer's instance's own.
        data.check_inbox_quota(self.actor())?;
        match self {
            InboxActivity::Follow(follow) => local_target(data, &follow.object).map(drop),
            // Only the followed actor may accept, and only a follow of ours.
            InboxActivity::Accept(accept) => {
                if accept.actor != accept.object.object {
                    return Err(ApubError::Invalid(
                        "an Accept must come from the actor that was followed".into(),
                    ));
                }
                local_target(data, &accept.object.actor).map(drop)
            }
            InboxActivity::Reject(reject) => {
                if reject.actor != reject.object.object {
                    return Err(ApubError::Invalid(
                        "a Reject must come from the actor that was followed".into(),
                    ));
                }
                local_target(data, &reject.object.actor).map(drop)
            }
            // Only the follower may undo its follow.
            InboxActivity::UndoFollow(undo) => {
                if undo.actor != undo.object.actor {
                    return Err(ApubError::Invalid(
                        "only the follower can undo a follow".into(),
                    ));
                }
                local_target(data, &undo.object.object).map(drop)
            }
            InboxActivity::UndoDelete(undo) => undo.verify(),
            InboxActivity::CreateOrUpdate(create) => create.verify(),
            InboxActivity::Delete(delete) => delete.verify(),
            // What an announce points at is fetched from its origin and checked there; a flag
            // only files a report about what is ours.
            InboxActivity::Join(join) => join.verify(),
            InboxActivity::Announce(_) | InboxActivity::Flag(_) | InboxActivity::Other(_) => Ok(()),
        }
    }

    async fn receive(self, data: &Data<ApubData>) -> Result<(), ApubError> {
        match self {
            InboxActivity::Follow(follow) => receive_follow(data, follow).await,
            InboxActivity::Accept(accept) => {
                let follow_id = accept.object.id.to_string();
                let sender = accept.actor.inner().to_string();
                let matched = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let seen = matched.clone();
                once(data, &accept.id, move |conn| {
                    let accepted = delivery::accept_outbound(conn, &follow_id, &sender)?;
                    seen.store(accepted, std::sync::atomic::Ordering::Relaxed);
                    Ok(())
                })
                .await?;
                // Only an Accept of a follow we sent, still pending, imports anything: an
                // unsolicited one would make us pull a stranger's whole history.
                if !matched.load(std::sync::atomic::Ordering::Relaxed) {
                    tracing::info!(accept = %accept.id, "Accept of no pending follow of ours; ignored");
                    return Ok(());
                }
                // An instance that accepted us: import what it published before we followed.
                let accepted_by = accept.actor.dereference(data).await?;
                if let (ActorKind::Application, Some(outbox)) =
                    (accepted_by.kind, accepted_by.outbox)
                {
                    let data = data.reset_request_count();
                    tokio::spawn(async move {
                        match crate::outbox::backfill(data, outbox.clone()).await {
                            Ok(imported) => tracing::info!(%outbox, imported, "backfilled"),
                            Err(error) => tracing::warn!(%outbox, %error, "backfill failed"),
                        }
                    });
                }
                Ok(())
            }
            InboxActivity::Reject(reject) => {
                let follow_id = reject.object.id.to_string();
                let sender = reject.actor.inner().to_string();
                once(data, &reject.id, move |conn| {
                    delivery::refuse_outbound(
                        conn,
                        &follow_id,
                        Some(&sender),
                        "Reject: the instance turned the follow down",
                    )
                    .map(drop)
                })
                .await
            }
            InboxActivity::UndoFollow(undo) => {
                let local = local_target(data, &undo.object.object)?.path();
                let follower = undo.actor.inner().to_string();
                once(data, &undo.id, move |conn| {
                    delivery::remove_follow(conn, &local, &follower, Direction::Inbound).map(drop)
                })
                .await
            }
            InboxActivity::CreateOrUpdate(create) => {
                crate::receive::store(data, Some(&create.id), create.object).await
            }
            InboxActivity::Delete(delete) => {
                let sender = crate::receive::Sender::of(data, &delete.actor).await?;
                // A reason makes an instance's `Delete` a removal; an author's is a deletion.
                match delete.summary.filter(|_| sender.is_instance()) {
                    Some(reason) => {
                        crate::receive::removal(
                            data,
                            &delete.id,
                            &sender,
                            delete.object.id(),
                            Some(reason),
                        )
                        .await
                    }
                    None => {
                        crate::receive::delete(
                            data,
                            Some(&delete.id),
                            Some(&sender),
                            delete.object.id(),
                        )
                        .await
                    }
                }
            }
            InboxActivity::UndoDelete(undo) => {
                let sender = crate::receive::Sender::of(data, &undo.actor).await?;
                crate::receive::removal(data, &undo.id, &sender, undo.object.object.id(), None)
                    .await
            }
            InboxActivity::Announce(announce) => crate::receive::announced(data, announce).await,
            InboxActivity::Flag(flag) => crate::receive::flagged(data, flag).await,
            InboxActivity::Join(join) => crate::kinds::joined(data, join).await,
            InboxActivity::Other(other) => {
                tracing::debug!(kind = %other.kind, id = %other.id, "activity not handled yet");
                Ok(())
            }
        }
    }
}

/// Every follow is accepted at once (a requester feed never asks for approval; instances follow
/// each other's public content): the follower is recorded and the `Accept` queued together.
async fn receive_follow(data: &ApubData, follow: Follow) -> Result<(), ApubError> {
    let target = local_target(data, &follow.object)?;
    let accepting = ApubActor::local(data, target.clone()).await?;
    let accept = Accept {
        kind: AcceptType::Accept,
        id: new_activity_id(data),
        actor: accepting.id.clone().into(),
        object: follow.clone(),
    };
    let body = serde_json::to_string(&crate::WithContext::new(&accept, activity_context(data)))
        .map_err(|e| ApubError::Invalid(e.to_string()))?;
    // What a requester feed sends a follower depends on the follower's software.
    let software = match target {
        LocalActor::Feed(..) | LocalActor::Platform(_) => {
            software_of(data, follow.actor.inner()).await
        }
        _ => None,
    };
    let (local, follower) = (target.path(), follow.actor.inner().to_string());
    let (follow_id, accept_id) = (follow.id.to_string(), accept.id.to_string());
    once(data, &follow.id, move |conn| {
        let remote = actors::remote(conn, &follower)?.ok_or(DbError::NotFound)?;
        delivery::set_follow(
            conn,
            NewFollow {
                local_actor: &local,
                remote_actor: &follower,
                direction: Direction::Inbound,
                accepted: true,
                follow_activity_id: &follow_id,
                software: software.as_deref(),
            },
            now(),
        )?;
        let activity = delivery::Outgoing {
            activity_id: &accept_id,
            actor: &local,
            body: &body,
            object: Some(&follow_id),
        };
        delivery::enqueue(
            conn,
            activity,
            &[remote.shared_inbox.unwrap_or(remote.inbox)],
            now(),
        )
    })
    .await
}

/// The software an actor's server runs, as its NodeInfo names it (`mastodon`, `lemmy`, `picket`
/// …), lower-cased; `None` when it does not say. Asked through the instance's one outgoing
/// client, so the lookup reaches public addresses only and reads little.
async fn software_of(data: &ApubData, actor: &Url) -> Option<String> {
    #[derive(Deserialize)]
    struct Links {
        links: Vec<Link>,
    }
    #[derive(Deserialize)]
    struct Link {
        rel: String,
        href: Url,
    }
    #[derive(Deserialize)]
    struct NodeInfo {
        software: Software,
    }
    #[derive(Deserialize)]
    struct Software {
        name: String,
    }
    const MAX_NODEINFO_BYTES: usize = 64 * 1024;
    let mut well_known = actor.clone();
    well_known.set_path("/.well-known/nodeinfo");
    well_known.set_query(None);
    let links = data
        .http
        .get(&well_known, "application/json", MAX_NODEINFO_BYTES)
        .await
        .ok()?;
    let links: Links = serde_json::from_slice(&links).ok()?;
    let href = links
        .links
        .into_iter()
        .find(|l| {
            l.rel
                .starts_with("http://nodeinfo.diaspora.software/ns/schema/")
        })?
        .href;
    // The document must be the actor's own server's, not somewhere it points us to.
    if href.origin() != actor.origin() {
        return None;
    }
    let info = data
        .http
        .get(&href, "application/json", MAX_NODEINFO_BYTES)
        .await
        .ok()?;
    let info: NodeInfo = serde_json::from_slice(&info).ok()?;
    Some(info.software.name.to_lowercase())
}

/// Follows `target` (an actor URL, or a WebFinger handle `name@host`) as local actor `from`:
/// the follow is recorded as pending and its `Follow` queued in one transaction; the remote
/// `Accept` completes it. Returns the followed actor.
pub async fn follow(
    data: &Data<ApubData>,
    from: LocalActor,
    target: &str,
) -> Result<ApubActor, ApubError> {
    let remote = resolve(data, target).await?;
    if data.local_actor(&remote.id).is_some() {
        return Err(ApubError::BadRequest(format!(
            "{} is on this instance: follow it here",
            remote.id
        )));
    }
    let follower = ApubActor::local(data, from.clone()).await?;
    let activity = Follow {
        kind: FollowType::Follow,
        id: new_activity_id(data),
        actor: follower.id.clone().into(),
        object: remote.id.clone().into(),
    };
    let body = serde_json::to_string(&crate::WithContext::new(&activity, activity_context(data)))
        .map_err(|e| ApubError::Invalid(e.to_string()))?;
    let (local, remote_id, follow_id) =
        (from.path(), remote.id.to_string(), activity.id.to_string());
    let inbox = remote.shared_inbox_or_inbox().to_string();
    data.db
        .tx(move |conn| {
            delivery::set_follow(
                conn,
                NewFollow {
                    local_actor: &local,
                    remote_actor: &remote_id,
                    direction: Direction::Outbound,
                    accepted: false,
                    follow_activity_id: &follow_id,
                    software: None,
                },
                now(),
            )?;
            // A follow and its undoing reach the other side in order.
            let activity = delivery::Outgoing {
                activity_id: &follow_id,
                actor: &local,
                body: &body,
                object: Some(&remote_id),
            };
            delivery::enqueue(conn, activity, std::slice::from_ref(&inbox), now())
        })
        .await?;
    Ok(remote)
}

/// Stops following `target`: the follow is forgotten and an `Undo(Follow)` queued together.
pub async fn unfollow(
    data: &Data<ApubData>,
    from: LocalActor,
    target: &str,
) -> Result<(), ApubError> {
    let remote = resolve(data, target).await?;
    let local = from.path();
    let remote_id = remote.id.to_string();
    let existing = {
        let (local, remote_id) = (local.clone(), remote_id.clone());
        data.db
            .run(move |conn| {
                Ok(delivery::follows(conn, Direction::Outbound)?
                    .into_iter()
                    .find(|f| f.local_actor == local && f.remote_actor == remote_id))
            })
            .await?
    }
    .ok_or(ApubError::NotFound(
        "this instance does not follow that actor",
    ))?;
    let follower = ApubActor::local(data, from).await?;
    let undo = UndoFollow {
        kind: UndoType::Undo,
        id: new_activity_id(data),
        actor: follower.id.clone().into(),
        object: Follow {
            kind: FollowType::Follow,
            id: Url::parse(&existing.follow_activity_id)
                .map_err(|e| ApubError::Invalid(e.to_string()))?,
            actor: follower.id.clone().into(),
            object: remote.id.clone().into(),
        },
    };
    let body = serde_json::to_string(&crate::WithContext::new(&undo, activity_context(data)))
        .map_err(|e| ApubError::Invalid(e.to_string()))?;
    let undo_id = undo.id.to_string();
    let inbox = remote.shared_inbox_or_inbox().to_string();
    data.db
        .tx(move |conn| {
            delivery::remove_follow(conn, &local, &remote_id, Direction::Outbound)?;
            let activity = delivery::Outgoing {
                activity_id: &undo_id,
                actor: &local,
                body: &body,
                object: Some(&remote_id),
            };
            delivery::enqueue(conn, activity, std::slice::from_ref(&inbox), now())
        })
        .await?;
    Ok(())
}

/// An actor by URL, or by WebFinger handle (`name@host`, with or without a leading `@`).
async fn resolve(data: &Data<ApubData>, target: &str) -> Result<ApubActor, ApubError> {
    let target = target.trim().trim_start_matches('@');
    // Nothing is looked up on a domain the rules refuse, not even its WebFinger.
    let host = match target.split_once("://") {
        Some(_) => Url::parse(target).ok(),
        None => target
            .rsplit_once('@')
            .and_then(|(_, host)| Url::parse(&format!("https://{host}/")).ok()),
    };
    if let Some(host) = host {
        data.check_peer(&host).await?;
    }
    let actor = if target.contains("://") {
        Url::parse(target).map_err(|_| ApubError::BadRequest(format!("`{target}` is not a URL")))?
    } else {
        webfinger(data, target).await?
    };
    let fetched = ObjectId::<ApubActor>::from(actor.clone())
        .dereference(data)
        .await;
    if let Err(error) = &fetched
        && !matches!(error, ApubError::TooMany(_) | ApubError::Backoff(_))
    {
        data.actor_fetch_failed(&actor);
    }
    fetched
}

/// The actor URL WebFinger gives for `name@host`. The answer must be about that very handle
/// and point at an actor on that host: a server cannot hand out handles of others.
async fn webfinger(data: &Data<ApubData>, handle: &str) -> Result<Url, ApubError> {
    #[derive(Deserialize)]
    struct Jrd {
        subject: String,
        #[serde(default)]
        links: Vec<JrdLink>,
    }
    #[derive(Deserialize)]
    struct JrdLink {
        #[serde(rename = "type")]
        kind: Option<String>,
        href: Option<Url>,
        rel: Option<String>,
    }
    const MAX_WEBFINGER_BYTES: usize = 64 * 1024;
    let (name, host) = handle
        .rsplit_once('@')
        .filter(|(name, host)| !name.is_empty() && !host.is_empty())
        .ok_or_else(|| {
            ApubError::BadRequest("give a handle as name@host, or an actor URL".into())
        })?;
    let scheme = if data.http.allows_loopback() {
        "http"
    } else {
        "https"
    };
    let mut url = Url::parse(&format!("{scheme}://{host}/.well-known/webfinger"))
        .map_err(|_| ApubError::BadRequest(format!("`{host}` is not a host name")))?;
    if url.host_str().is_none() || url.path() != "/.well-known/webfinger" {
        return Err(ApubError::BadRequest(format!(
            "`{host}` is not a host name"
        )));
    }
    url.query_pairs_mut()
        .append_pair("resource", &format!("acct:{name}@{host}"));
    data.check_actor_fetch(&url)?;
    let body = match data
        .http
        .get(
            &url,
            "application/jrd+json, application/json",
            MAX_WEBFINGER_BYTES,
        )
        .await
    {
        Ok(body) => body,
        Err(crate::http::FetchError::Status(status))
            if status == reqwest::StatusCode::NOT_FOUND =>
        {
            return Err(ApubError::NotFound("no such account on that server"));
        }
        Err(error) => {
            data.actor_fetch_failed(&url);
            tracing::info!(%host, %error, "WebFinger lookup failed");
            return Err(ApubError::Unreachable(error.to_string()));
        }
    };
    let jrd: Jrd = serde_json::from_slice(&body)
        .map_err(|_| ApubError::NotFound("no such account on that server"))?;
    let expected = format!("acct:{name}@{host}");
    if !jrd.subject.eq_ignore_ascii_case(&expected) {
        return Err(ApubError::Invalid(
            "that server's WebFinger answer is about another account".into(),
        ));
    }
    let same_host = |href: &Url| {
        href.host_str().is_some_and(|h| {
            let authority = match href.port() {
                Some(port) => format!("{h}:{port}"),
                None => h.to_owned(),
            };
            authority.eq_ignore_ascii_case(host)
        })
    };
    jrd.links
        .into_iter()
        .filter(|l| l.rel.as_deref() == Some("self"))
        .filter(|l| {
            l.kind
                .as_deref()
                .is_some_and(|k| k.starts_with("application/"))
        })
        .filter_map(|l| l.href)
        .find(same_host)
        .ok_or(ApubError::Invalid(
            "that server's WebFinger answer names no actor of its own".into(),
        ))
}
