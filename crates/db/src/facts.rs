//! Facts about who is behind a requester, kept as versions: each edit is a new version with its author (a local account or another instance's actor), so the history stays readable; the newest published version of each field is the fact. Local versions leave their federation event in the same transaction.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use picket_core::fact::ValidFact;

use crate::error::conflict_as;
use crate::events::{self, EventKind, ObjectType};
use crate::reviews::{RemoteOrigin, RemoteOutcome};
use crate::schema::{requester_facts, users};
use crate::{DbConn, DbError};

pub const PUBLISHED: &str = "published";
pub const REMOVED: &str = "removed";
pub const DELETED: &str = "deleted";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = requester_facts)]
pub struct FactRow {
    pub id: i64,
    pub public_id: String,
    pub requester_pk: i64,
    pub field: String,
    pub value: String,
    /// A JSON array of URLs.
    pub sources: String,
    pub author_id: Option<i64>,
    /// `published`, `removed` (by moderators) or `deleted` (a tombstone without words).
    pub state: String,
    pub removed_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub ap_id: Option<String>,
    pub origin: Option<String>,
    pub remote_author: Option<String>,
}

impl FactRow {
    pub fn sources(&self) -> Vec<String> {
        serde_json::from_str(&self.sources).unwrap_or_default()
    }

    pub fn is_published(&self) -> bool {
        self.state == PUBLISHED
    }

    pub fn is_local(&self) -> bool {
        self.ap_id.is_none()
    }
}

fn sources_json(fact: &ValidFact) -> String {
    serde_json::to_string(&fact.sources).unwrap_or_else(|_| "[]".into())
}

/// A local worker's new version of a fact; it federates.
pub fn create(
    conn: &mut DbConn,
    public_id: &str,
    requester_pk: i64,
    fact: &ValidFact,
    author_id: i64,
    at: NaiveDateTime,
) -> Result<FactRow, DbError> {
    let row: FactRow = diesel::insert_into(requester_facts::table)
        .values((
            requester_facts::public_id.eq(public_id),
            requester_facts::requester_pk.eq(requester_pk),
            requester_facts::field.eq(fact.field.as_str()),
            requester_facts::value.eq(&fact.value),
            requester_facts::sources.eq(sources_json(fact)),
            requester_facts::author_id.eq(author_id),
            requester_facts::state.eq(PUBLISHED),
            requester_facts::created_at.eq(at),
        ))
        .returning(requester_facts::all_columns)
        .get_result(conn)
        .map_err(conflict_as("fact"))?;
    events::record(
        conn,
        ObjectType::Fact,
        EventKind::Create,
        &row.public_id,
        at,
    )?;
    Ok(row)
}

/// Stores another instance's version of a fact. Versions do not change once written: a second
/// delivery of one is acknowledged as it is.
pub fn upsert_remote(
    conn: &mut DbConn,
    public_id: &str,
    remote: RemoteOrigin<'_>,
    requester_pk: i64,
    fact: &ValidFact,
    published_at: NaiveDateTime,
) -> Result<(FactRow, RemoteOutcome), DbError> {
    crate::policy::note_origin(conn, remote.origin)?;
    if let Some(existing) = by_ap_id(conn, remote.ap_id)? {
        let outcome = if existing.state == DELETED {
            RemoteOutcome::Tombstoned
        } else {
            RemoteOutcome::Outdated
        };
        return Ok((existing, outcome));
    }
    let inserted = crate::savepoint(conn, |conn| {
        diesel::insert_into(requester_facts::table)
            .values((
                requester_facts::public_id.eq(public_id),
                requester_facts::requester_pk.eq(requester_pk),
                requester_facts::field.eq(fact.field.as_str()),
                requester_facts::value.eq(&fact.value),
                requester_facts::sources.eq(sources_json(fact)),
                requester_facts::state.eq(PUBLISHED),
                requester_facts::created_at.eq(published_at),
                requester_facts::ap_id.eq(remote.ap_id),
                requester_facts::origin.eq(remote.origin),
                requester_facts::remote_author.eq(remote.author),
            ))
            .returning(requester_facts::all_columns)
            .get_result(conn)
            .map_err(conflict_as("fact"))
    });
    match inserted {
        Ok(row) => Ok((row, RemoteOutcome::Created)),
        Err(DbError::Conflict(_)) => {
            let row = by_ap_id(conn, remote.ap_id)?.ok_or(DbError::Conflict("fact"))?;
            Ok((row, RemoteOutcome::Outdated))
        }
        Err(other) => Err(other),
    }
}

pub fn by_public_id(conn: &mut DbConn, public_id: &str) -> Result<FactRow, DbError> {
    Ok(requester_facts::table
        .filter(requester_facts::public_id.eq(public_id))
        .select(FactRow::as_select())
        .first(conn)?)
}

pub fn by_ap_id(conn: &mut DbConn, ap_id: &str) -> Result<Option<FactRow>, DbError> {
    Ok(requester_facts::table
        .filter(requester_facts::ap_id.eq(ap_id))
        .select(FactRow::as_select())
        .first(conn)
        .optional()?)
}

/// A version with its local author's username.
pub type FactWithAuthor = (FactRow, Option<String>);

/// Every version of every fact about a requester whose origin is not hidden, newest first,
/// tombstones left out: the history, whose first published version of each field is the fact.
pub fn history(conn: &mut DbConn, requester_pk: i64) -> Result<Vec<FactWithAuthor>, DbError> {
    Ok(requester_facts::table
        .left_join(users::table)
        .filter(requester_facts::requester_pk.eq(requester_pk))
        .filter(requester_facts::state.ne(DELETED))
        .filter(visible!(requester_facts::origin))
        .order((
            requester_facts::created_at.desc(),
            requester_facts::id.desc(),
        ))
        .select((FactRow::as_select(), users::username.nullable()))
        .load(conn)?)
}

/// Leaves a version as a tombstone without words or author.
fn erase(conn: &mut DbConn, row: &FactRow) -> Result<(), DbError> {
    diesel::update(requester_facts::table.find(row.id))
        .set((
            requester_facts::state.eq(DELETED),
            requester_facts::value.eq(""),
            requester_facts::sources.eq("[]"),
            requester_facts::removed_reason.eq(None::<String>),
            requester_facts::author_id.eq(None::<i64>),
            requester_facts::remote_author.eq(None::<String>),
        ))
        .execute(conn)?;
    crate::delivery::scrub_object(conn, &format!("/facts/{}", row.public_id))?;
    Ok(())
}

/// A local author's versions go with their account; the deletions federate.
pub fn delete(conn: &mut DbConn, row: &FactRow, at: NaiveDateTime) -> Result<(), DbError> {
    if row.state == DELETED {
        return Ok(());
    }
    erase(conn, row)?;
    if row.is_local() {
        events::record(
            conn,
            ObjectType::Fact,
            EventKind::Delete,
            &row.public_id,
            at,
        )?;
    }
    Ok(())
}

/// The copy of another instance's version is deleted there; the row it was, when one was held.
pub fn delete_remote(conn: &mut DbConn, ap_id: &str) -> Result<Option<FactRow>, DbError> {
    match by_ap_id(conn, ap_id)? {
        Some(existing) if existing.state != DELETED => {
            erase(conn, &existing)?;
            Ok(Some(existing))
        }
        _ => Ok(None),
    }
}

/// `set_removed` without federating it: for a suspension's hiding and for removals that other
/// instances sent.
pub fn mark_removed(conn: &mut DbConn, row: &FactRow, reason: Option<&str>) -> Result<(), DbError> {
    let state = if reason.is_some() { REMOVED } else { PUBLISHED };
    diesel::update(requester_facts::table.find(row.id))
        .set((
            requester_facts::state.eq(state),
            requester_facts::removed_reason.eq(reason),
        ))
        .execute(conn)?;
    Ok(())
}

/// Another instance's versions by one actor.
pub fn remote_by_author(conn: &mut DbConn, author: &str) -> Result<Vec<FactRow>, DbError> {
    Ok(requester_facts::table
        .filter(requester_facts::remote_author.eq(author))
        .order(requester_facts::id)
        .select(FactRow::as_select())
        .load(conn)?)
}

/// A local account's versions, tombstones left out.
pub fn by_author(conn: &mut DbConn, author_id: i64) -> Result<Vec<FactRow>, DbError> {
    Ok(requester_facts::table
        .filter(requester_facts::author_id.eq(author_id))
        .filter(requester_facts::state.ne(DELETED))
        .order(requester_facts::id)
        .select(FactRow::as_select())
        .load(conn)?)
}

/// Published versions written here by local accounts, newest first, with their authors: what
/// the instance's outbox pages through.
pub fn local_page(
    conn: &mut DbConn,
    author: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<(FactRow, String)>, DbError> {
    let mut query = requester_facts::table
        .inner_join(users::table)
        .filter(requester_facts::state.eq(PUBLISHED))
        .filter(requester_facts::ap_id.is_null())
        .select((FactRow::as_select(), users::username))
        .order(requester_facts::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(author) = author {
        query = query.filter(users::username.eq(author.to_owned()));
    }
    if let Some(before) = before_id {
        query = query.filter(requester_facts::id.lt(before));
    }
    Ok(query.load(conn)?)
}
