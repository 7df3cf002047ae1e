//! Other instances' content coming in, whatever its kind (each kind stores its own, in `kinds`): applied once per activity, deletions and removals by the content's home, reports, and announces, whose objects are fetched from their origin rather than trusted.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::fetch_object_http;
use chrono::{DateTime, NaiveDateTime, Utc};
use picket_core::moderation::{ModAction, ReportReason, TargetType};
use picket_core::secrets::new_public_id;
use picket_db::events::{self, EventKind, ObjectType};
use picket_db::models::now;
use picket_db::reviews::RemoteOrigin;
use picket_db::{DbConn, DbError, delivery, moderation, requesters};
use serde_json::Value;
use url::Url;

use crate::activities::once;
use crate::activities::{Announce, Flag};
use crate::kinds::missing_as_none;
use crate::objects::{PicketObject, origin};
use crate::{ApubData, ApubError};

/// Runs `apply` in one transaction: with recording `activity_id` when the object came in an
/// activity (so it is applied once), on its own when it was fetched (backfill, a dependency).
async fn apply<F>(data: &ApubData, activity_id: Option<&Url>, apply: F) -> Result<(), ApubError>
where
    F: FnMut(&mut DbConn) -> Result<(), DbError> + Send + 'static,
{
    match activity_id {
        Some(id) => once(data, id, apply).await,
        None => {
            let mut apply = apply;
            data.db.tx(move |conn| apply(conn)).await?;
            Ok(())
        }
    }
}

/// `apply` for storing a remote object `ap_id`, unless it was deleted before it was ever held:
/// a `Delete` that overtook its `Create` wins over it, as a tombstone does over a late `Create`.
/// The activity is still recorded, so it is acknowledged and applied (as nothing) once.
pub(crate) async fn apply_content<F>(
    data: &ApubData,
    activity_id: Option<&Url>,
    ap_id: String,
    mut store: F,
) -> Result<(), ApubError>
where
    F: FnMut(&mut DbConn) -> Result<(), DbError> + Send + 'static,
{
    apply(data, activity_id, move |conn| {
        if delivery::deletion_remembered(conn, &ap_id)? {
            return Ok(());
        }
        store(conn)
    })
    .await
}

/// Where a remote object comes from, as stored with it.
pub(crate) struct Remote {
    pub(crate) ap_id: String,
    pub(crate) origin: String,
    pub(crate) author: String,
    version: NaiveDateTime,
}

impl Remote {
    /// An object `id` by `author`, in its version of `version` (its last update).
    pub(crate) fn new(id: &Url, author: &Url, version: DateTime<Utc>) -> Remote {
        Remote {
            ap_id: id.to_string(),
            origin: origin(id),
            author: author.to_string(),
            version: version.naive_utc(),
        }
    }

    pub(crate) fn as_origin(&self) -> RemoteOrigin<'_> {
        RemoteOrigin {
            ap_id: &self.ap_id,
            origin: &self.origin,
            author: &self.author,
            version: self.version,
        }
    }
}

/// Leaves the event by which this instance announces another instance's reply to one of its
/// own reviews or incidents (a corroboration, a comment), or its withdrawal, to its followers.
pub(crate) fn pass_on(
    conn: &mut DbConn,
    object_type: ObjectType,
    public_id: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    events::record(conn, object_type, EventKind::Announce, public_id, at)
}

pub(crate) use crate::kinds::store;

/// Who sent a deletion or removal: an author may delete what it wrote, and only an instance's
/// own actor (an `Application`) may remove, or delete for others. (`Service` actors are bots
/// on Mastodon: accounts like any other.)
#[derive(Debug, Clone)]
pub(crate) struct Sender {
    actor: String,
    instance: bool,
}

impl Sender {
    pub(crate) async fn of(
        data: &Data<ApubData>,
        actor: &activitypub_federation::fetch::object_id::ObjectId<crate::actors::ApubActor>,
    ) -> Result<Sender, ApubError> {
        let actor = actor.dereference(data).await?;
        Ok(Sender {
            instance: actor.kind == crate::actors::ActorKind::Application,
            actor: actor.id.to_string(),
        })
    }

    /// Whether this is an instance's own actor, which alone removes content.
    pub(crate) fn is_instance(&self) -> bool {
        self.instance
    }

    /// Whether this sender may delete something by `author` (an actor URL).
    fn may_delete(&self, author: Option<&str>) -> bool {
        self.instance || author == Some(self.actor.as_str())
    }
}

/// Deletes the copy of a remote object, whatever it is, leaving its tombstone; or, for an
/// actor's id, everything that account wrote. `sender` is `None` when the object's own instance
/// said it is gone (a fetch answered 410); otherwise it must be the author or its instance.
pub(crate) async fn delete(
    data: &ApubData,
    activity_id: Option<&Url>,
    sender: Option<&Sender>,
    object_id: &Url,
) -> Result<(), ApubError> {
    delete_copies(data, activity_id, sender, object_id).await?;
    // What was erased leaves SQLite's write-ahead log too.
    data.db.erase(|_| Ok(())).await?;
    Ok(())
}

async fn delete_copies(
    data: &ApubData,
    activity_id: Option<&Url>,
    sender: Option<&Sender>,
    object_id: &Url,
) -> Result<(), ApubError> {
    let ap_id = object_id.to_string();
    let sender = sender.cloned();
    apply(data, activity_id, move |conn| {
        let at = now();
        let allowed = |author: Option<&str>| sender.as_ref().is_none_or(|s| s.may_delete(author));
        if let Some(copy) = crate::kinds::copy(conn, &ap_id)? {
            if allowed(copy.remote_author()) {
                copy.delete_copy(conn, at)?;
            }
            return Ok(());
        }
        // Nothing held by that id. Unless it is an actor (an account deleted on its instance,
        // below), the Delete overtook its Create: remembered, so the late Create stores nothing.
        // (`DeleteObject::verify` has checked that the sender is on the object's host.) The id
        // of an actor known here is not kept: a deleted account leaves nothing, not its name;
        // an unknown id cannot be told from content's and is forgotten with received ids.
        let an_actor = sender.as_ref().is_some_and(|s| s.actor == ap_id)
            || picket_db::actors::remote(conn, &ap_id)?.is_some();
        if !an_actor {
            delivery::remember_deletion(conn, &ap_id, at)?;
        }
        // An account deleted on its instance: what it wrote goes here too.
        if allowed(Some(&ap_id)) {
            for copy in crate::kinds::copies_by(conn, &ap_id)? {
                copy.delete_copy(conn, at)?;
            }
            // Nothing of the account is kept: not its votes for names, not its actor.
            requesters::forget_voter(conn, &ap_id)?;
            picket_db::actors::forget_remote(conn, &ap_id)?;
        }
        Ok(())
    })
    .await
}

/// Longest removal reason or report text kept from another server.
const REMOTE_TEXT_MAX: usize = picket_core::moderation::TEXT_MAX_CHARS;

fn capped(text: &str) -> String {
    text.trim().chars().take(REMOTE_TEXT_MAX).collect()
}

/// A removal by the content's home instance (`reason`), or its reversal (`None`): the copies
/// held here leave (or return to) lists and aggregates, and the public log records it. An
/// actor's id stands for everything of that account's (a suspension). Only an instance's own
/// actor removes; a restoration leaves alone what this instance's moderators removed.
pub(crate) async fn removal(
    data: &ApubData,
    activity_id: &Url,
    sender: &Sender,
    object_id: &Url,
    reason: Option<String>,
) -> Result<(), ApubError> {
    if !sender.instance {
        tracing::debug!(id = %activity_id, "a removal from an actor that is no instance");
        return Ok(());
    }
    let (ap_id, home) = (object_id.to_string(), origin(object_id));
    let reason = reason.map(|r| capped(&r));
    let account_level = std::cell::Cell::new(false);
    once(data, activity_id, move |conn| {
        // A retried transaction starts afresh.
        account_level.set(false);
        let at = now();
        let reason = reason.as_deref();
        // The state a copy must be in for this to change it.
        let from = if reason.is_some() {
            "published"
        } else {
            "removed"
        };
        let keeps = |conn: &mut DbConn, public_id: &str, ap_id: Option<&str>| {
            // A restoration does not undo what moderators here removed, nor (for a whole
            // account) what its home removed one by one.
            Ok::<_, DbError>(
                reason.is_none()
                    && (moderation::latest_removal_action(conn, public_id)?.as_deref()
                        == Some(ModAction::Remove.as_str())
                        || (account_level.get()
                            && moderation::latest_removal_action(
                                conn,
                                ap_id.unwrap_or_default(),
                            )?
                            .as_deref()
                                == Some(ModAction::RemoteRemoval.as_str()))),
            )
        };
        let apply = |conn: &mut DbConn, copy: &dyn crate::kinds::HeldCopy| {
            if copy.state() == from && !keeps(conn, copy.public_id(), copy.ap_id())? {
                copy.apply_removal(conn, reason, at)?;
            }
            Ok::<_, DbError>(())
        };
        let target_type = if let Some(copy) = crate::kinds::copy(conn, &ap_id)? {
            apply(conn, copy.as_ref())?;
            copy.object_type().as_str()
        } else {
            let copies = crate::kinds::copies_by(conn, &ap_id)?;
            if copies.is_empty() {
                return Ok(());
            }
            account_level.set(true);
            for copy in &copies {
                apply(conn, copy.as_ref())?;
            }
            "account"
        };
        moderation::log(
            conn,
            moderation::NewEntry {
                action: if reason.is_some() {
                    ModAction::RemoteRemoval
                } else {
                    ModAction::RemoteRestore
                },
                target_type,
                target: &ap_id,
                reason: reason.unwrap_or("restored by its home instance"),
                role: "remote",
                moderator: None,
                origin: Some(&home),
            },
            at,
        )
    })
    .await
}

/// A `Flag` from another server: each reported object or account of ours becomes a report in
/// the local queue, from that server (whoever reported it there stays unknown here).
pub(crate) async fn flagged(data: &ApubData, flag: Flag) -> Result<(), ApubError> {
    let targets: Vec<(TargetType, String)> = flag
        .object
        .ids()
        .iter()
        .filter_map(|id| {
            let path = data.local_path(id)?;
            let (kind, rest) = path.split_once('/')?;
            let target_type = match kind {
                "u" => TargetType::Account,
                collection => crate::kinds::reported(collection)?,
            };
            Some((target_type, rest.to_owned()))
        })
        .collect();
    // A report naming an account and its content is about the content.
    let about_content = targets.iter().any(|(t, _)| *t != TargetType::Account);
    let targets: Vec<(TargetType, String)> = targets
        .into_iter()
        .filter(|(t, _)| !about_content || *t != TargetType::Account)
        .collect();
    if targets.is_empty() {
        tracing::debug!(id = %flag.id, "a flag of nothing of ours");
        return Ok(());
    }
    // One report names a few things; a list of hundreds is a flood, not a report.
    let targets: Vec<(TargetType, String)> =
        targets.into_iter().take(crate::MAX_FLAG_TARGETS).collect();
    data.check_flag_quota(flag.actor.inner(), targets.len())?;
    let text = capped(&flag.reason());
    let reason = ReportReason::from_text(&text);
    let home = origin(flag.actor.inner());
    once(data, &flag.id, move |conn| {
        for (target_type, target) in &targets {
            // Only what exists here, and the same words from one instance once while open.
            let exists = match target_type {
                TargetType::Account => {
                    missing_as_none(picket_db::users::by_username(conn, target))?.is_some()
                }
                _ => missing_as_none(moderation::held(conn, *target_type, target))?
                    .is_some_and(|held| held.ap_id.is_none() && held.published),
            };
            if !exists || moderation::open_report_from(conn, target, &home, &text)? {
                continue;
            }
            moderation::create_report(
                conn,
                moderation::NewReport {
                    public_id: &new_public_id(),
                    target_type: *target_type,
                    target,
                    reason,
                    text: &text,
                    reporter_id: None,
                    origin: Some(&home),
                },
                now(),
            )?;
        }
        Ok(())
    })
    .await
}

/// Fetches a Picket object from where its id points, and checks that it lives on its author's
/// instance and is the object asked for.
pub(crate) async fn fetch(data: &Data<ApubData>, id: &Url) -> Result<PicketObject, ApubError> {
    data.check_peer(id).await?;
    let fetched: Value = fetch_object_http(id, data).await?.object;
    let object: PicketObject = serde_json::from_value(fetched)
        .map_err(|e| ApubError::Invalid(format!("{id} is no Picket object: {e}")))?;
    if object.id() != id {
        return Err(ApubError::Invalid(format!(
            "{id} answered with another object, {}",
            object.id()
        )));
    }
    object.verify_origin()?;
    Ok(object)
}

/// An `Announce` from an actor this instance follows (a requester feed, an instance): what it
/// points at is fetched from its origin and stored, or deleted when its origin says it is gone.
/// Announces from anyone else, and of anything that is not Picket content, are acknowledged and
/// dropped.
pub(crate) async fn announced(data: &Data<ApubData>, announce: Announce) -> Result<(), ApubError> {
    let announcer = announce.actor.inner().to_string();
    let followed = data
        .db
        .run(move |conn| delivery::follows_remote(conn, &announcer))
        .await?;
    let target = announce.object.innermost().clone();
    if !followed || data.local_path(&target).is_some() {
        tracing::debug!(id = %announce.id, "announce not followed or of our own content");
        return Ok(());
    }
    match fetch(data, &target).await {
        Ok(object) => store(data, Some(&announce.id), object).await,
        Err(ApubError::Federation(activitypub_federation::error::Error::ObjectDeleted(_))) => {
            delete(data, Some(&announce.id), None, &target).await
        }
        Err(ApubError::Invalid(reason)) => {
            tracing::debug!(id = %announce.id, %reason, "announce of something we do not keep");
            Ok(())
        }
        Err(other) => Err(other),
    }
}
