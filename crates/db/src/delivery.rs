//! Durable federation state: the outbox and its per-inbox deliveries, received activity ids, and follows between local and remote actors.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::error::conflict_as;
use crate::schema::{
    deliveries, federation_follows, outbox, peer_instances, received_activities,
    remembered_deletions, remote_actors,
};
use crate::{DbConn, DbError};

const PENDING: &str = "pending";
const DELIVERED: &str = "delivered";
const FAILED: &str = "failed";

/// An activity to queue: its id, the local actor that signs it, its body and, when it is about
/// an object (a `Create`, `Update` or `Delete` of a review, say), that object's id, so that
/// activities about one object reach each inbox in the order they were queued.
#[derive(Debug, Clone, Copy)]
pub struct Outgoing<'a> {
    pub activity_id: &'a str,
    pub actor: &'a str,
    pub body: &'a str,
    pub object: Option<&'a str>,
}

/// Writes an outgoing activity and one delivery per distinct inbox. Call it in the transaction
/// that makes the change the activity announces, so both commit or neither does.
pub fn enqueue(
    conn: &mut DbConn,
    activity: Outgoing<'_>,
    inboxes: &[String],
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let Outgoing {
        activity_id,
        actor,
        body,
        object,
    } = activity;
    let mut distinct: Vec<&String> = inboxes.iter().collect();
    distinct.sort();
    distinct.dedup();
    // With nobody to send it to, the body is not needed even now (see `forget_body_when_done`).
    let body = if distinct.is_empty() { "" } else { body };
    let outbox_id: i64 = diesel::insert_into(outbox::table)
        .values((
            outbox::activity_id.eq(activity_id),
            outbox::actor.eq(actor),
            outbox::body.eq(body),
            outbox::created_at.eq(at),
        ))
        .returning(outbox::id)
        .get_result(conn)
        .map_err(conflict_as("activity"))?;
    for inbox in distinct {
        diesel::insert_into(deliveries::table)
            .values((
                deliveries::outbox_id.eq(outbox_id),
                deliveries::inbox.eq(inbox),
                deliveries::host.eq(host_of(inbox)),
                deliveries::state.eq(PENDING),
                deliveries::attempts.eq(0),
                deliveries::next_attempt_at.eq(at),
                deliveries::object_key.eq(object),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The instance an inbox URL belongs to: `host` or `host:port`, as peers are tracked.
pub fn host_of(inbox: &str) -> &str {
    let rest = inbox.split_once("://").map_or(inbox, |(_, rest)| rest);
    rest.split(['/', '?', '#']).next().unwrap_or(rest)
}

/// A delivery this worker holds the lease on, with what sending it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub delivery_id: i64,
    pub inbox: String,
    pub attempts: i32,
    pub activity_id: String,
    /// The local actor whose key signs it.
    pub actor: String,
    pub body: String,
}

diesel::alias!(deliveries as earlier: EarlierDeliveries);

/// Leases up to `limit` due deliveries for `lease`, none to the instances in `busy` (which
/// have as many in flight as the caller allows). Each row is taken by a conditional update,
/// so several workers on one database (several `picket serve` on one PostgreSQL) never hold the
/// same delivery; a worker that dies leaves its rows to be taken again when the lease runs out.
/// A delivery about an object waits while an earlier one of the same object to the same inbox
/// is pending (in flight, or waiting to be retried), so an `Update` never overtakes its `Create`.
pub fn claim_due(
    conn: &mut DbConn,
    now: NaiveDateTime,
    lease: Duration,
    limit: i64,
    busy: &[String],
) -> Result<Vec<Claimed>, DbError> {
    let free = deliveries::locked_until
        .is_null()
        .or(deliveries::locked_until.lt(now));
    // An unreachable instance's deliveries wait until its next probe.
    let resting = peer_instances::table
        .filter(peer_instances::unreachable_since.is_not_null())
        .filter(peer_instances::next_probe_at.gt(now))
        .select(peer_instances::host);
    let overtaking = earlier
        .filter(earlier.field(deliveries::state).eq(PENDING))
        .filter(earlier.field(deliveries::inbox).eq(deliveries::inbox))
        .filter(
            earlier
                .field(deliveries::object_key)
                .eq(deliveries::object_key),
        )
        .filter(earlier.field(deliveries::id).lt(deliveries::id));
    let candidates: Vec<i64> = deliveries::table
        .filter(deliveries::state.eq(PENDING))
        .filter(deliveries::next_attempt_at.le(now))
        .filter(free)
        .filter(deliveries::host.ne_all(resting))
        .filter(deliveries::host.ne_all(busy))
        .filter(diesel::dsl::not(diesel::dsl::exists(overtaking)))
        .order(deliveries::next_attempt_at)
        .select(deliveries::id)
        .limit(limit)
        .load(conn)?;
    if candidates.is_empty() {
        return Ok(Vec::new());
    }
    // One conditional update takes them all: a row another worker took meanwhile is not
    // matched, and so not returned.
    let taken: Vec<i64> = diesel::update(
        deliveries::table
            .filter(deliveries::id.eq_any(&candidates))
            .filter(deliveries::state.eq(PENDING))
            .filter(free),
    )
    .set(deliveries::locked_until.eq(now + lease))
    .returning(deliveries::id)
    .get_results(conn)?;
    let rows = deliveries::table
        .inner_join(outbox::table)
        .filter(deliveries::id.eq_any(&taken))
        .order(deliveries::id)
        .select((
            (deliveries::id, deliveries::inbox, deliveries::attempts),
            (outbox::activity_id, outbox::actor, outbox::body),
        ))
        .load::<((i64, String, i32), (String, String, String))>(conn)?;
    Ok(rows
        .into_iter()
        .map(|(delivery, activity)| Claimed {
            delivery_id: delivery.0,
            inbox: delivery.1,
            attempts: delivery.2,
            activity_id: activity.0,
            actor: activity.1,
            body: activity.2,
        })
        .collect())
}

/// Frees every lease: for a worker starting on a database no other worker can be using (SQLite
/// is served by one process), so deliveries a killed process held are sent at once, not when
/// their lease runs out.
pub fn release_leases(conn: &mut DbConn) -> Result<usize, DbError> {
    Ok(
        diesel::update(deliveries::table.filter(deliveries::locked_until.is_not_null()))
            .set(deliveries::locked_until.eq(None::<NaiveDateTime>))
            .execute(conn)?,
    )
}

pub fn mark_delivered(conn: &mut DbConn, delivery_id: i64) -> Result<(), DbError> {
    diesel::update(deliveries::table.find(delivery_id))
        .set((
            deliveries::state.eq(DELIVERED),
            deliveries::locked_until.eq(None::<NaiveDateTime>),
            deliveries::last_error.eq(None::<String>),
        ))
        .execute(conn)?;
    forget_body_when_done(conn, delivery_id)
}

/// Once no delivery of an activity is pending, its body is no longer needed: it is blanked, so
/// what was sent (a review's words, say) is not kept for ever. The rows stay, empty, as the
/// record of who was sent what activity id.
fn forget_body_when_done(conn: &mut DbConn, delivery_id: i64) -> Result<(), DbError> {
    let Some(outbox_id) = deliveries::table
        .find(delivery_id)
        .select(deliveries::outbox_id)
        .first::<i64>(conn)
        .optional()?
    else {
        return Ok(());
    };
    // The activity's row first, which locks it (PostgreSQL) or takes the write lock (SQLite):
    // two of its deliveries ending at once then count one after the other, so the last one
    // sees none pending and blanks the body, instead of each seeing the other still pending.
    diesel::update(outbox::table.find(outbox_id))
        .set(outbox::id.eq(outbox::id))
        .execute(conn)?;
    // Whether any is pending, not how many: a fan-out to thousands of inboxes asks this once
    // per delivery, and the index answers at its first entry.
    let pending: bool = diesel::select(diesel::dsl::exists(
        deliveries::table
            .filter(deliveries::outbox_id.eq(outbox_id))
            .filter(deliveries::state.eq(PENDING)),
    ))
    .get_result(conn)?;
    if !pending {
        diesel::update(outbox::table.find(outbox_id))
            .set(outbox::body.eq(""))
            .execute(conn)?;
    }
    Ok(())
}

/// Erases what the outbox still holds of an object being erased (its `Create`s, `Update`s and
/// `Announce`s, found by `path`, such as `/reviews/{id}`): their bodies are blanked and their
/// pending deliveries given up. The object's `Delete` and `Undo`s are kept: they carry only
/// its id, and must still go out.
pub fn scrub_object(conn: &mut DbConn, path: &str) -> Result<usize, DbError> {
    let needle = format!("{path}\"");
    let pattern = format!("%{}%", crate::requesters::like_escape(&needle));
    // Only activities still waiting for a delivery hold a body: the search stays among those.
    let waiting = deliveries::table
        .filter(deliveries::state.eq(PENDING))
        .select(deliveries::outbox_id);
    let held: Vec<(i64, String)> = outbox::table
        .filter(outbox::id.eq_any(waiting))
        .filter(outbox::body.like(pattern).escape('\\'))
        .select((outbox::id, outbox::body))
        .load(conn)?;
    let mut scrubbed = 0;
    for (id, body) in held {
        if !body.contains(&needle) {
            continue;
        }
        let kind = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|v| v.get("type").and_then(|t| t.as_str()).map(str::to_owned));
        if matches!(kind.as_deref(), Some("Delete" | "Undo")) {
            continue;
        }
        diesel::update(outbox::table.find(id))
            .set(outbox::body.eq(""))
            .execute(conn)?;
        diesel::update(
            deliveries::table
                .filter(deliveries::outbox_id.eq(id))
                .filter(deliveries::state.eq(PENDING)),
        )
        .set((
            deliveries::state.eq(FAILED),
            deliveries::locked_until.eq(None::<NaiveDateTime>),
            deliveries::last_error.eq("the object was erased before this was delivered"),
        ))
        .execute(conn)?;
        scrubbed += 1;
    }
    Ok(scrubbed)
}

/// Forgets received activity ids, and deletions remembered, recorded before `before`: a replay
/// older than the signature window is refused by its date anyway, so neither need be kept for ever.
pub fn purge_received(conn: &mut DbConn, before: NaiveDateTime) -> Result<usize, DbError> {
    let ids = diesel::delete(
        received_activities::table.filter(received_activities::received_at.lt(before)),
    )
    .execute(conn)?;
    let deletions = diesel::delete(
        remembered_deletions::table.filter(remembered_deletions::deleted_at.lt(before)),
    )
    .execute(conn)?;
    Ok(ids + deletions)
}

/// Remembers that the remote object `ap_id`, not held here, was deleted by its origin: a
/// `Delete` can overtake its `Create` (another path, a retry), and without this the late
/// `Create` would store what its author already took back. Only the id is kept.
pub fn remember_deletion(conn: &mut DbConn, ap_id: &str, at: NaiveDateTime) -> Result<(), DbError> {
    let remembered = crate::savepoint(conn, |conn| {
        diesel::insert_into(remembered_deletions::table)
            .values((
                remembered_deletions::ap_id.eq(ap_id),
                remembered_deletions::deleted_at.eq(at),
            ))
            .execute(conn)
            .map_err(conflict_as("deletion"))
    });
    match remembered {
        // Deleted twice (a replay under a new id): once is remembered enough.
        Ok(_) | Err(DbError::Conflict(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

/// Whether the remote object `ap_id` was deleted before it was ever held here.
pub fn deletion_remembered(conn: &mut DbConn, ap_id: &str) -> Result<bool, DbError> {
    Ok(remembered_deletions::table
        .find(ap_id)
        .count()
        .get_result::<i64>(conn)?
        > 0)
}

/// Records a failed attempt: tried again at `retry_at`, or given up on when `retry_at` is `None`.
/// An attempt counts towards giving up only while its instance is reachable (`counted`): a
/// delivery to an unreachable instance waits for it instead of expiring.
pub fn mark_failed_attempt(
    conn: &mut DbConn,
    delivery_id: i64,
    error: &str,
    retry_at: Option<NaiveDateTime>,
    counted: bool,
) -> Result<(), DbError> {
    let state = if retry_at.is_some() { PENDING } else { FAILED };
    diesel::update(deliveries::table.find(delivery_id))
        .set((
            deliveries::state.eq(state),
            deliveries::attempts.eq(deliveries::attempts + i32::from(counted)),
            deliveries::next_attempt_at.eq(retry_at.unwrap_or_else(crate::models::now)),
            deliveries::locked_until.eq(None::<NaiveDateTime>),
            deliveries::last_error.eq(error),
        ))
        .execute(conn)?;
    if retry_at.is_none() {
        forget_body_when_done(conn, delivery_id)?;
    }
    Ok(())
}

/// How an instance has answered deliveries lately.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = peer_instances)]
pub struct PeerRow {
    pub host: String,
    /// Failed attempts since the last success.
    pub failures: i32,
    pub unreachable_since: Option<NaiveDateTime>,
    pub next_probe_at: Option<NaiveDateTime>,
    pub last_success_at: Option<NaiveDateTime>,
    pub last_failure_at: Option<NaiveDateTime>,
}

/// Every instance deliveries went to, by host.
pub fn peers(conn: &mut DbConn) -> Result<Vec<PeerRow>, DbError> {
    Ok(peer_instances::table
        .order(peer_instances::host)
        .select(PeerRow::as_select())
        .load(conn)?)
}

/// What a failed attempt made of an instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerState {
    Reachable,
    /// Just marked unreachable by this failure.
    BecameUnreachable,
    Unreachable,
}

/// Counts a failed attempt against `host`; after `unreachable_after` in a row it is marked
/// unreachable, and from then on probed once every `probe_interval`.
pub fn peer_failed(
    conn: &mut DbConn,
    host: &str,
    at: NaiveDateTime,
    unreachable_after: i32,
    probe_interval: Duration,
) -> Result<PeerState, DbError> {
    // First failure of this host: its row, unless another worker just made it.
    let made = conn.transaction(|conn| {
        diesel::insert_into(peer_instances::table)
            .values((
                peer_instances::host.eq(host),
                peer_instances::failures.eq(0),
            ))
            .execute(conn)
            .map_err(conflict_as("peer"))
    });
    match made {
        Ok(_) | Err(DbError::Conflict(_)) => {}
        Err(other) => return Err(other),
    }
    let peer: PeerRow = diesel::update(peer_instances::table.find(host))
        .set((
            peer_instances::failures.eq(peer_instances::failures + 1),
            peer_instances::last_failure_at.eq(at),
        ))
        .returning(peer_instances::all_columns)
        .get_result(conn)?;
    let state = match peer.unreachable_since {
        Some(_) => PeerState::Unreachable,
        None if peer.failures >= unreachable_after => PeerState::BecameUnreachable,
        None => return Ok(PeerState::Reachable),
    };
    diesel::update(peer_instances::table.find(host))
        .set((
            peer_instances::unreachable_since.eq(peer.unreachable_since.unwrap_or(at)),
            peer_instances::next_probe_at.eq(at + probe_interval),
        ))
        .execute(conn)?;
    Ok(state)
}

/// Ends, as failed, every waiting delivery to an instance unreachable since before `before`:
/// a peer gone for good must not grow the queue for ever. Returns each host with how many of
/// its deliveries were dropped; if it comes back, what it missed is not sent.
pub fn drop_dead_peers(
    conn: &mut DbConn,
    before: NaiveDateTime,
) -> Result<Vec<(String, usize)>, DbError> {
    let dead: Vec<String> = peer_instances::table
        .filter(peer_instances::unreachable_since.lt(before))
        .select(peer_instances::host)
        .load(conn)?;
    let mut dropped = Vec::new();
    for host in dead {
        let count = diesel::update(
            deliveries::table
                .filter(deliveries::host.eq(&host))
                .filter(deliveries::state.eq(PENDING)),
        )
        .set((
            deliveries::state.eq(FAILED),
            deliveries::locked_until.eq(None::<NaiveDateTime>),
            deliveries::last_error.eq("dropped: the instance has been unreachable too long"),
        ))
        .execute(conn)?;
        if count > 0 {
            dropped.push((host, count));
        }
    }
    Ok(dropped)
}

/// Records that `host` answered. `true` when it was unreachable: it is revived, and every
/// delivery waiting for it is due at once.
pub fn peer_answered(conn: &mut DbConn, host: &str, at: NaiveDateTime) -> Result<bool, DbError> {
    let was: Option<Option<NaiveDateTime>> = peer_instances::table
        .find(host)
        .select(peer_instances::unreachable_since)
        .first(conn)
        .optional()?;
    let Some(unreachable_since) = was else {
        return Ok(false);
    };
    diesel::update(peer_instances::table.find(host))
        .set((
            peer_instances::failures.eq(0),
            peer_instances::unreachable_since.eq(None::<NaiveDateTime>),
            peer_instances::next_probe_at.eq(None::<NaiveDateTime>),
            peer_instances::last_success_at.eq(at),
        ))
        .execute(conn)?;
    if unreachable_since.is_none() {
        return Ok(false);
    }
    diesel::update(
        deliveries::table
            .filter(deliveries::host.eq(host))
            .filter(deliveries::state.eq(PENDING))
            .filter(deliveries::next_attempt_at.gt(at)),
    )
    .set(deliveries::next_attempt_at.eq(at))
    .execute(conn)?;
    Ok(true)
}

/// Deliveries waiting to be sent, and when the activity of the oldest of them was written:
/// whether delivery keeps up.
pub fn backlog(conn: &mut DbConn) -> Result<(i64, Option<NaiveDateTime>), DbError> {
    Ok(deliveries::table
        .inner_join(outbox::table)
        .filter(deliveries::state.eq(PENDING))
        .select((
            diesel::dsl::count_star(),
            diesel::dsl::min(outbox::created_at),
        ))
        .first(conn)?)
}

/// How many deliveries are in each state: what tests and operators check progress by.
pub fn counts(conn: &mut DbConn) -> Result<Vec<(String, i64)>, DbError> {
    Ok(deliveries::table
        .group_by(deliveries::state)
        .select((deliveries::state, diesel::dsl::count_star()))
        .order(deliveries::state)
        .load(conn)?)
}

/// Records that an activity was received. `false` when it was already: the caller acknowledges
/// it and applies nothing. Call it in the transaction that applies the activity's effects, so an
/// activity that failed to apply is not marked and can be redelivered.
pub fn record_received(
    conn: &mut DbConn,
    activity_id: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(received_activities::table)
            .values((
                received_activities::activity_id.eq(activity_id),
                received_activities::received_at.eq(at),
            ))
            .execute(conn)
            .map_err(conflict_as("activity"))
    });
    match inserted {
        Ok(_) => Ok(true),
        Err(DbError::Conflict(_)) => Ok(false),
        Err(other) => Err(other),
    }
}

/// Which way a follow points: a remote actor following ours, or ours following a remote one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "inbound",
            Direction::Outbound => "outbound",
        }
    }
}

/// A follow between a local actor (by path) and a remote one (by URL).
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = federation_follows)]
pub struct FollowRow {
    pub local_actor: String,
    pub remote_actor: String,
    pub state: String,
    pub follow_activity_id: String,
    pub software: Option<String>,
    /// What the other side answered when it refused the follow (state `refused`).
    pub refusal: Option<String>,
}

impl FollowRow {
    pub fn is_accepted(&self) -> bool {
        self.state == "accepted"
    }

    pub fn is_refused(&self) -> bool {
        self.state == "refused"
    }
}

/// Longest refusal kept: enough for a status and an error message, never a whole page.
const MAX_REFUSAL: usize = 300;

/// What a peer answered, made fit to show an admin: one line of printable text, cut short.
pub fn refusal_text(raw: &str) -> String {
    let line: String = raw
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    match line.char_indices().nth(MAX_REFUSAL) {
        Some((cut, _)) => format!("{}…", &line[..cut]),
        None => line,
    }
}

/// The two ends of a follow and the state it starts in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NewFollow<'a> {
    pub local_actor: &'a str,
    pub remote_actor: &'a str,
    pub direction: Direction,
    pub accepted: bool,
    pub follow_activity_id: &'a str,
    /// The software the remote actor's server runs (NodeInfo's name), when known: what decides
    /// the shape of what a requester feed sends it.
    pub software: Option<&'a str>,
}

/// Records a follow (replacing an earlier one of the same pair and direction).
pub fn set_follow(
    conn: &mut DbConn,
    follow: NewFollow<'_>,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let NewFollow {
        local_actor,
        remote_actor,
        direction,
        accepted,
        follow_activity_id,
        software,
    } = follow;
    remove_follow(conn, local_actor, remote_actor, direction)?;
    diesel::insert_into(federation_follows::table)
        .values((
            federation_follows::local_actor.eq(local_actor),
            federation_follows::remote_actor.eq(remote_actor),
            federation_follows::direction.eq(direction.as_str()),
            federation_follows::state.eq(if accepted { "accepted" } else { "pending" }),
            federation_follows::follow_activity_id.eq(follow_activity_id),
            federation_follows::software.eq(software),
            federation_follows::created_at.eq(at),
        ))
        .execute(conn)?;
    if accepted && direction == Direction::Outbound {
        crate::policy::refresh_hidden(conn, at)?;
    }
    Ok(())
}

/// Marks our pending follow `follow_activity_id` of `remote_actor` accepted. Only a follow that
/// is still pending, with that id, sent to that actor, is matched: an unsolicited or replayed
/// `Accept` changes nothing (and the caller must then not backfill).
pub fn accept_outbound(
    conn: &mut DbConn,
    follow_activity_id: &str,
    remote_actor: &str,
) -> Result<bool, DbError> {
    let updated = diesel::update(
        federation_follows::table
            .filter(federation_follows::direction.eq(Direction::Outbound.as_str()))
            .filter(federation_follows::follow_activity_id.eq(follow_activity_id))
            .filter(federation_follows::remote_actor.eq(remote_actor))
            .filter(federation_follows::state.eq("pending")),
    )
    .set(federation_follows::state.eq("accepted"))
    .execute(conn)?;
    if updated > 0 {
        // A followed instance's content counts from now on.
        crate::policy::refresh_hidden(conn, crate::models::now())?;
    }
    Ok(updated > 0)
}

pub fn remove_follow(
    conn: &mut DbConn,
    local_actor: &str,
    remote_actor: &str,
    direction: Direction,
) -> Result<bool, DbError> {
    let removed = diesel::delete(
        federation_follows::table
            .filter(federation_follows::local_actor.eq(local_actor))
            .filter(federation_follows::remote_actor.eq(remote_actor))
            .filter(federation_follows::direction.eq(direction.as_str())),
    )
    .execute(conn)?;
    if removed > 0 && direction == Direction::Outbound {
        crate::policy::refresh_hidden(conn, crate::models::now())?;
    }
    Ok(removed > 0)
}

/// Whether some local actor follows `remote_actor` (and was accepted): whose announces we read.
pub fn follows_remote(conn: &mut DbConn, remote_actor: &str) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        federation_follows::table
            .filter(federation_follows::remote_actor.eq(remote_actor))
            .filter(federation_follows::direction.eq(Direction::Outbound.as_str()))
            .filter(federation_follows::state.eq("accepted")),
    ))
    .get_result(conn)?)
}

/// Marks our follow `follow_activity_id` refused, with what the other side answered: its
/// `Reject` (then only when `remote_actor`, the sender, is the actor we followed) or a final
/// error answer to the `Follow` itself (`remote_actor` `None`). A refusal naming a follow we
/// never sent changes nothing. The row stays, so admins see the refusal, until a new follow of
/// the same actor replaces it.
pub fn refuse_outbound(
    conn: &mut DbConn,
    follow_activity_id: &str,
    remote_actor: Option<&str>,
    refusal: &str,
) -> Result<bool, DbError> {
    let mut query = federation_follows::table
        .filter(federation_follows::direction.eq(Direction::Outbound.as_str()))
        .filter(federation_follows::follow_activity_id.eq(follow_activity_id))
        .into_boxed();
    if let Some(actor) = remote_actor {
        query = query.filter(federation_follows::remote_actor.eq(actor.to_owned()));
    }
    let matched: Vec<i64> = query.select(federation_follows::id).load(conn)?;
    if matched.is_empty() {
        return Ok(false);
    }
    diesel::update(federation_follows::table.filter(federation_follows::id.eq_any(&matched)))
        .set((
            federation_follows::state.eq("refused"),
            federation_follows::refusal.eq(refusal_text(refusal)),
        ))
        .execute(conn)?;
    // An instance that refused us no longer counts.
    crate::policy::refresh_hidden(conn, crate::models::now())?;
    Ok(true)
}

/// How many accepted follows a local actor has in `direction`: its followers (inbound) or
/// what it follows (outbound).
pub fn follow_count(
    conn: &mut DbConn,
    local_actor: &str,
    direction: Direction,
) -> Result<i64, DbError> {
    Ok(federation_follows::table
        .filter(federation_follows::local_actor.eq(local_actor))
        .filter(federation_follows::direction.eq(direction.as_str()))
        .filter(federation_follows::state.eq("accepted"))
        .count()
        .get_result(conn)?)
}

/// What one local actor follows elsewhere, oldest first.
pub fn follows_of(conn: &mut DbConn, local_actor: &str) -> Result<Vec<FollowRow>, DbError> {
    Ok(federation_follows::table
        .filter(federation_follows::local_actor.eq(local_actor))
        .filter(federation_follows::direction.eq(Direction::Outbound.as_str()))
        .order(federation_follows::id)
        .select(FollowRow::as_select())
        .load(conn)?)
}

/// Follows in one direction, oldest first.
pub fn follows(conn: &mut DbConn, direction: Direction) -> Result<Vec<FollowRow>, DbError> {
    Ok(federation_follows::table
        .filter(federation_follows::direction.eq(direction.as_str()))
        .order(federation_follows::id)
        .select(FollowRow::as_select())
        .load(conn)?)
}

/// The inboxes that activities of `local_actor` go to, each with the software of the follower
/// behind it: each accepted follower's shared inbox when it has one, else its own, without repeats.
pub fn follower_inboxes(
    conn: &mut DbConn,
    local_actor: &str,
) -> Result<Vec<(String, Option<String>)>, DbError> {
    let rows: Vec<(String, Option<String>, Option<String>)> = federation_follows::table
        .inner_join(
            remote_actors::table.on(remote_actors::url.eq(federation_follows::remote_actor)),
        )
        .filter(federation_follows::local_actor.eq(local_actor))
        .filter(federation_follows::direction.eq(Direction::Inbound.as_str()))
        .filter(federation_follows::state.eq("accepted"))
        .select((
            remote_actors::inbox,
            remote_actors::shared_inbox,
            federation_follows::software,
        ))
        .load(conn)?;
    let mut inboxes: Vec<(String, Option<String>)> = rows
        .into_iter()
        .map(|(inbox, shared, software)| (shared.unwrap_or(inbox), software))
        .collect();
    inboxes.sort();
    inboxes.dedup_by(|a, b| a.0 == b.0);
    Ok(inboxes)
}

/// The instance actor's path, as follows and the outbox name it.
pub const INSTANCE_ACTOR: &str = "actor";

/// Where federation stands, as `picket admin federation` and the admin page show it.
#[derive(Debug, Clone, PartialEq)]
pub struct FederationStatus {
    pub peers: Vec<PeerRow>,
    /// Deliveries waiting, and when the activity of the oldest of them was written.
    pub queued: i64,
    pub oldest_queued_at: Option<NaiveDateTime>,
    /// What `local_actor` (the instance) follows: pending, accepted or refused with the answer.
    pub following: Vec<FollowRow>,
    /// Remote actors following `local_actor`, accepted.
    pub followers: Vec<FollowRow>,
}

/// The federation status of `local_actor` (the instance actor's path).
pub fn status(conn: &mut DbConn, local_actor: &str) -> Result<FederationStatus, DbError> {
    let (queued, oldest_queued_at) = backlog(conn)?;
    let followers = federation_follows::table
        .filter(federation_follows::local_actor.eq(local_actor))
        .filter(federation_follows::direction.eq(Direction::Inbound.as_str()))
        .filter(federation_follows::state.eq("accepted"))
        .order(federation_follows::id)
        .select(FollowRow::as_select())
        .load(conn)?;
    Ok(FederationStatus {
        peers: peers(conn)?,
        queued,
        oldest_queued_at,
        following: follows_of(conn, local_actor)?,
        followers,
    })
}
