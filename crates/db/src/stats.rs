//! The per-requester aggregates cache: recomputed inside every transaction that changes a requester's published reviews, so reads never scan reviews; reviews ageing out of the 30- and 90-day windows are caught up by background work (`refresh_expired`), and reads never write.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;
use picket_core::aggregate::{Aggregates, aggregate};

use crate::schema::{requester_stats, requesters};
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
    refresh_many(conn, &[requester_pk], now)?
        .remove(&requester_pk)
        .ok_or(DbError::NotFound)
}

/// Rows written per multi-row INSERT: far below SQLite's bound-parameter limit.
const INSERT_CHUNK: usize = 500;

/// Recomputes several requesters' aggregates with one read of their reviews and stores them
/// with multi-row inserts (a bulk import, the background catch-up).
///
/// The first statement writes the requesters' rows, which takes PostgreSQL's row locks and
/// SQLite's write lock: concurrent refreshes of one requester queue up, and the last one reads
/// every review committed before it, so the cache never keeps an older result than the data.
pub fn refresh_many(
    conn: &mut DbConn,
    requester_pks: &[i64],
    now: NaiveDateTime,
) -> Result<HashMap<i64, Aggregates>, DbError> {
    conn.transaction(|conn| {
        diesel::update(requesters::table.filter(requesters::id.eq_any(requester_pks)))
            .set(requesters::updated_at.eq(requesters::updated_at))
            .execute(conn)?;
        let mut facts: HashMap<i64, Vec<picket_core::aggregate::ReviewFacts>> =
            requester_pks.iter().map(|pk| (*pk, Vec::new())).collect();
        for (pk, fact) in reviews::published_facts_of(conn, requester_pks)? {
            facts.entry(pk).or_default().push(fact);
        }
        let computed: HashMap<i64, Aggregates> = facts
            .into_iter()
            .map(|(pk, facts)| (pk, aggregate(&facts, now)))
            .collect();
        diesel::delete(
            requester_stats::table.filter(requester_stats::requester_pk.eq_any(requester_pks)),
        )
        .execute(conn)?;
        let rows = computed
            .iter()
            .map(|(pk, aggregates)| {
                let data = serde_json::to_string(aggregates)
                    .map_err(|e| DbError::Corrupt(e.to_string()))?;
                Ok((
                    requester_stats::requester_pk.eq(*pk),
                    requester_stats::data.eq(data),
                    requester_stats::computed_at.eq(now),
                    requester_stats::valid_until.eq(aggregates.valid_until),
                ))
            })
            .collect::<Result<Vec<_>, DbError>>()?;
        for chunk in rows.chunks(INSERT_CHUNK) {
            // One statement for both engines; multi-row inserts only compile against each
            // engine's own connection type.
            let insert = diesel::insert_into(requester_stats::table).values(chunk);
            match conn {
                DbConn::Sqlite(c) => insert.execute(c)?,
                DbConn::Pg(c) => insert.execute(c)?,
            };
        }
        crate::changes::touched_many(requester_pks);
        Ok(computed)
    })
}

/// Aggregates computed from the published reviews as they are now, without storing them.
fn compute(
    conn: &mut DbConn,
    requester_pk: i64,
    now: NaiveDateTime,
) -> Result<Aggregates, DbError> {
    Ok(aggregate(
        &reviews::published_facts(conn, requester_pk)?,
        now,
    ))
}

/// Aggregates of several requesters: one indexed read of the cache. Reads never write: an entry
/// whose 30- or 90-day window has moved past a review since it was computed (until background
/// work, `refresh_expired`, catches up), or that was never computed, is computed here from the
/// reviews and not stored, so the answer is always exact and never waits for the write lock.
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
            found.insert(*pk, compute(conn, *pk, now)?);
        }
    }
    Ok(found)
}

/// Recomputes and stores, in one transaction, up to `limit` cached aggregates whose window
/// has moved (`valid_until` passed): the background work that keeps lookups from computing
/// them. Returns how many it refreshed.
pub fn refresh_expired(
    db_conn: &mut DbConn,
    now: NaiveDateTime,
    limit: i64,
) -> Result<usize, DbError> {
    let due: Vec<i64> = requester_stats::table
        .filter(requester_stats::valid_until.le(now))
        .order(requester_stats::valid_until)
        .select(requester_stats::requester_pk)
        .limit(limit)
        .load(db_conn)?;
    refresh_many(db_conn, &due, now)?;
    Ok(due.len())
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
