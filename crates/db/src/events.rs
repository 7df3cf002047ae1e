//! Federation events: what a local change leaves, in its own transaction, for the delivery worker to turn into activities, so nothing that should federate is lost between the two.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::federation_events;
use crate::{DbConn, DbError};

/// What happened to the object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    Create,
    Update,
    Delete,
    /// Another instance's object that followers of this one should hear of (a remote
    /// corroboration of a local incident): passed on by the instance, not authored here.
    Announce,
    /// Removed by a moderator here (or, for an account, suspended), with the reason stored on it.
    Remove,
    /// Restored by a moderator (or unsuspended).
    Restore,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::Create => "create",
            EventKind::Update => "update",
            EventKind::Delete => "delete",
            EventKind::Announce => "announce",
            EventKind::Remove => "remove",
            EventKind::Restore => "restore",
        }
    }

    fn parse(word: &str) -> Result<Self, DbError> {
        match word {
            "create" => Ok(EventKind::Create),
            "update" => Ok(EventKind::Update),
            "delete" => Ok(EventKind::Delete),
            "announce" => Ok(EventKind::Announce),
            "remove" => Ok(EventKind::Remove),
            "restore" => Ok(EventKind::Restore),
            other => Err(DbError::Corrupt(format!("federation event kind `{other}`"))),
        }
    }
}

/// What kind of object changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ObjectType {
    Review,
    Incident,
    Corroboration,
    Comment,
    /// One version of a fact about a requester.
    Fact,
    /// A campaign opened here (its counts and outcome change with it).
    Campaign,
    /// A local worker's signature of another instance's campaign, sent to its home.
    Signature,
    /// A local account (by username): suspensions.
    Account,
    /// A report of another instance's content, sent there as a `Flag`.
    Report,
}

impl ObjectType {
    pub fn as_str(self) -> &'static str {
        match self {
            ObjectType::Review => "review",
            ObjectType::Incident => "incident",
            ObjectType::Corroboration => "corroboration",
            ObjectType::Comment => "comment",
            ObjectType::Fact => "fact",
            ObjectType::Campaign => "campaign",
            ObjectType::Signature => "signature",
            ObjectType::Account => "account",
            ObjectType::Report => "report",
        }
    }

    fn parse(word: &str) -> Result<Self, DbError> {
        match word {
            "review" => Ok(ObjectType::Review),
            "incident" => Ok(ObjectType::Incident),
            "corroboration" => Ok(ObjectType::Corroboration),
            "comment" => Ok(ObjectType::Comment),
            "fact" => Ok(ObjectType::Fact),
            "campaign" => Ok(ObjectType::Campaign),
            "signature" => Ok(ObjectType::Signature),
            "account" => Ok(ObjectType::Account),
            "report" => Ok(ObjectType::Report),
            other => Err(DbError::Corrupt(format!(
                "federation object type `{other}`"
            ))),
        }
    }
}

/// One pending event: `kind` happened to the `object_type` with public id `object_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub id: i64,
    pub kind: EventKind,
    pub object_type: ObjectType,
    pub object_id: String,
}

/// Records that an object changed in a way other instances must hear about.
pub fn record(
    conn: &mut DbConn,
    object_type: ObjectType,
    kind: EventKind,
    public_id: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::insert_into(federation_events::table)
        .values((
            federation_events::kind.eq(kind.as_str()),
            federation_events::object_type.eq(object_type.as_str()),
            federation_events::object_id.eq(public_id),
            federation_events::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The oldest pending events that are due, in the order they happened.
pub fn pending(conn: &mut DbConn, now: NaiveDateTime, limit: i64) -> Result<Vec<Event>, DbError> {
    let rows: Vec<(i64, String, String, String)> = federation_events::table
        .filter(
            federation_events::next_attempt_at
                .is_null()
                .or(federation_events::next_attempt_at.le(now)),
        )
        .order(federation_events::id)
        .select((
            federation_events::id,
            federation_events::kind,
            federation_events::object_type,
            federation_events::object_id,
        ))
        .limit(limit)
        .load(conn)?;
    rows.into_iter()
        .map(|(id, kind, object_type, object_id)| {
            Ok(Event {
                id,
                kind: EventKind::parse(&kind)?,
                object_type: ObjectType::parse(&object_type)?,
                object_id,
            })
        })
        .collect()
}

/// Takes an event for handling in the caller's transaction: `false` when another worker took it
/// first (the delete waits for that worker's transaction), so each event is sent once.
pub fn take(conn: &mut DbConn, id: i64) -> Result<bool, DbError> {
    Ok(diesel::delete(federation_events::table.find(id)).execute(conn)? == 1)
}

/// An event that could not be turned into activities yet (its recipient cannot be looked up,
/// say) waits: a minute after the first failure, doubling up to an hour, and is never dropped.
pub fn postpone(conn: &mut DbConn, id: i64, at: NaiveDateTime) -> Result<(), DbError> {
    let attempts: i32 = federation_events::table
        .find(id)
        .select(federation_events::attempts)
        .first(conn)?;
    let wait = (60_i64 << attempts.clamp(0, 6)).min(3600);
    diesel::update(federation_events::table.find(id))
        .set((
            federation_events::attempts.eq(attempts + 1),
            federation_events::next_attempt_at.eq(at + chrono::Duration::seconds(wait)),
        ))
        .execute(conn)?;
    Ok(())
}
