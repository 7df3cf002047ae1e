//! The per-requester aggregates cache: recomputed inside every transaction that changes a requester's published reviews, so reads never scan reviews; a time bound covers reviews ageing out of the 30- and 90-day windows.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use picket_core::aggregate::{Aggregates, aggregate};

use crate::error::conflict_as;
use crate::schema::requester_stats;
use crate::{DbConn, DbError, reviews};

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = requester_stats)]
struct StatsRow {
    requester_pk: i64,
    data: String,
    valid_until: Option<NaiveDateTime>,
}

/// Recomputes a requester's aggregates from its published reviews and stores them.
pub fn refresh(
    conn: &mut DbConn,
    requester_pk: i64,
    now: NaiveDateTime,
) -> Result<Aggregates, DbError> {
    let facts = reviews::published_facts(conn, requester_pk)?;
    let aggregates = aggregate(&facts, now);
    let data = serde_json::to_string(&aggregates).map_err(|e| DbError::Corrupt(e.to_string()))?;
    // A savepoint: two readers refreshing the same expired entry at once must not fail the caller.
    let stored = conn.transaction(|conn| {
        diesel::delete(requester_stats::table.find(requester_pk)).execute(conn)?;
        diesel::insert_into(requester_stats::table)
            .values((
                requester_stats::requester_pk.eq(requester_pk),
                requester_stats::data.eq(&data),
                requester_stats::computed_at.eq(now),
                requester_stats::valid_until.eq(aggregates.valid_until),
            ))
            .execute(conn)
            .map_err(conflict_as("aggregates"))
    });
    match stored {
        Ok(_) | Err(DbError::Conflict(_)) => Ok(aggregates),
        Err(other) => Err(other),
    }
}

/// Aggregates of several requesters: one indexed read of the cache, recomputing only entries
/// whose window has moved on (or that were never computed).
pub fn get_many(
    conn: &mut DbConn,
    requester_pks: &[i64],
    now: NaiveDateTime,
) -> Result<HashMap<i64, Aggregates>, DbError> {
    let rows: Vec<StatsRow> = requester_stats::table
        .filter(requester_stats::requester_pk.eq_any(requester_pks))
        .select(StatsRow::as_select())
        .load(conn)?;
    let mut found = HashMap::with_capacity(requester_pks.len());
    for row in rows {
        if row.valid_until.is_none_or(|until| until > now) {
            let aggregates: Aggregates =
                serde_json::from_str(&row.data).map_err(|e| DbError::Corrupt(e.to_string()))?;
            found.insert(row.requester_pk, aggregates);
        }
    }
    for pk in requester_pks {
        if !found.contains_key(pk) {
            found.insert(*pk, refresh(conn, *pk, now)?);
        }
    }
    Ok(found)
}

pub fn get(
    conn: &mut DbConn,
    requester_pk: i64,
    now: NaiveDateTime,
) -> Result<Aggregates, DbError> {
    get_many(conn, &[requester_pk], now)?
        .remove(&requester_pk)
        .ok_or(DbError::NotFound)
}
