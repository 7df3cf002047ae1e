//! Queries on requesters and their earlier names: created on first mention, found by name, alias or platform ID.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::error::conflict_as;
use crate::schema::{requester_aliases, requester_name_votes, requesters};
use crate::{DbConn, DbError};

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = requesters)]
pub struct RequesterRow {
    pub id: i64,
    pub platform: String,
    pub requester_id: String,
    pub name: String,
    pub name_lower: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = requester_aliases)]
pub struct AliasRow {
    pub id: i64,
    pub requester_pk: i64,
    pub name: String,
    pub name_lower: String,
    pub first_seen: NaiveDateTime,
    pub last_seen: NaiveDateTime,
}

/// Longest requester name we keep; platform names are short, anything longer is noise.
pub const NAME_MAX_CHARS: usize = 200;

fn lower(name: &str) -> String {
    name.to_lowercase()
}

pub fn by_key(
    conn: &mut DbConn,
    platform: &str,
    requester_id: &str,
) -> Result<Option<RequesterRow>, DbError> {
    Ok(requesters::table
        .filter(requesters::platform.eq(platform))
        .filter(requesters::requester_id.eq(requester_id))
        .select(RequesterRow::as_select())
        .first(conn)
        .optional()?)
}

pub fn by_pk(conn: &mut DbConn, pk: i64) -> Result<RequesterRow, DbError> {
    Ok(requesters::table
        .find(pk)
        .select(RequesterRow::as_select())
        .first(conn)?)
}

/// Every requester among `ids` on `platform`, in no particular order; unknown ids are simply absent.
pub fn by_keys(
    conn: &mut DbConn,
    platform: &str,
    ids: &[String],
) -> Result<Vec<RequesterRow>, DbError> {
    Ok(requesters::table
        .filter(requesters::platform.eq(platform))
        .filter(requesters::requester_id.eq_any(ids))
        .select(RequesterRow::as_select())
        .load(conn)?)
}

/// How long a reviewer's name for a requester counts toward its current name.
pub const NAME_VOTE_DAYS: i64 = 365;

/// The requester with this key, created (under `seen_name`) if this is its first mention.
///
/// Only published reviews name a requester for everyone: with `voter` (the review's author, a
/// local account or a remote actor), `seen_name` is that reviewer's vote, and the current name
/// becomes the one most reviewers gave within `NAME_VOTE_DAYS` (ties keep the current name), the
/// old one kept as an alias. Without a voter (drafts, incidents, follows, lookups), an existing
/// requester is left as it is, so no draft or single worker renames it network-wide.
pub fn mention(
    conn: &mut DbConn,
    platform: &str,
    requester_id: &str,
    seen_name: &str,
    voter: Option<&str>,
    at: NaiveDateTime,
) -> Result<RequesterRow, DbError> {
    let seen_name = clean_name(seen_name);
    let row = match by_key(conn, platform, requester_id)? {
        Some(existing) => existing,
        None => create(
            conn,
            platform,
            requester_id,
            seen_name.unwrap_or(requester_id),
            at,
        )?,
    };
    match (voter, seen_name) {
        (Some(voter), Some(name)) => vote(conn, row, voter, name, at),
        _ => Ok(row),
    }
}

/// Forgets every name a voter gave (an account deleted, here or on its instance).
pub fn forget_voter(conn: &mut DbConn, voter: &str) -> Result<(), DbError> {
    diesel::delete(requester_name_votes::table.filter(requester_name_votes::voter.eq(voter)))
        .execute(conn)?;
    Ok(())
}

/// A name worth keeping: trimmed, non-empty, printable, at most `NAME_MAX_CHARS` characters.
/// Anything else is not a name (the entry points refuse it with a message; this is the last
/// guard, which simply ignores it).
fn clean_name(name: &str) -> Option<&str> {
    let name = name.trim();
    let printable = !name.chars().any(char::is_control);
    (!name.is_empty() && printable && name.chars().count() <= NAME_MAX_CHARS).then_some(name)
}

fn create(
    conn: &mut DbConn,
    platform: &str,
    requester_id: &str,
    name: &str,
    at: NaiveDateTime,
) -> Result<RequesterRow, DbError> {
    // A savepoint, so a racing insert of the same requester does not abort the caller's transaction.
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(requesters::table)
            .values((
                requesters::platform.eq(platform),
                requesters::requester_id.eq(requester_id),
                requesters::name.eq(name),
                requesters::name_lower.eq(lower(name)),
                requesters::created_at.eq(at),
                requesters::updated_at.eq(at),
            ))
            .returning(requesters::all_columns)
            .get_result::<RequesterRow>(conn)
            .map_err(conflict_as("requester"))
    });
    match inserted {
        Ok(row) => {
            crate::changes::created();
            Ok(row)
        }
        Err(DbError::Conflict(_)) => by_key(conn, platform, requester_id)?.ok_or(DbError::NotFound),
        Err(other) => Err(other),
    }
}

/// Records `voter`'s name for the requester and applies the majority rule.
fn vote(
    conn: &mut DbConn,
    current: RequesterRow,
    voter: &str,
    name: &str,
    at: NaiveDateTime,
) -> Result<RequesterRow, DbError> {
    let changed = diesel::update(
        requester_name_votes::table
            .filter(requester_name_votes::requester_pk.eq(current.id))
            .filter(requester_name_votes::voter.eq(voter)),
    )
    .set((
        requester_name_votes::name.eq(name),
        requester_name_votes::seen_at.eq(at),
    ))
    .execute(conn)?;
    if changed == 0 {
        diesel::insert_into(requester_name_votes::table)
            .values((
                requester_name_votes::requester_pk.eq(current.id),
                requester_name_votes::voter.eq(voter),
                requester_name_votes::name.eq(name),
                requester_name_votes::seen_at.eq(at),
            ))
            .execute(conn)
            .map_err(conflict_as("name vote"))?;
    }
    let since = at - chrono::Duration::days(NAME_VOTE_DAYS);
    let votes: Vec<(String, NaiveDateTime)> = requester_name_votes::table
        .filter(requester_name_votes::requester_pk.eq(current.id))
        .filter(requester_name_votes::seen_at.ge(since))
        .select((requester_name_votes::name, requester_name_votes::seen_at))
        .load(conn)?;
    match majority(&votes, &current.name) {
        Some(winner) if winner != current.name => rename(conn, current, &winner, at),
        _ => Ok(current),
    }
}

/// The name most voters gave; on a tie the current name stays, else the most recently given.
fn majority(votes: &[(String, NaiveDateTime)], current: &str) -> Option<String> {
    let mut tally: std::collections::HashMap<&str, (usize, NaiveDateTime)> =
        std::collections::HashMap::new();
    for (name, seen) in votes {
        let entry = tally.entry(name.as_str()).or_insert((0, *seen));
        entry.0 += 1;
        entry.1 = entry.1.max(*seen);
    }
    let best = tally.values().map(|(n, _)| *n).max()?;
    if tally.get(current).is_some_and(|(n, _)| *n == best) {
        return Some(current.to_owned());
    }
    tally
        .into_iter()
        .filter(|(_, (n, _))| *n == best)
        .max_by_key(|(_, (_, seen))| *seen)
        .map(|(name, _)| name.to_owned())
}

/// Makes `new_name` the current name, keeping the old one as an earlier name.
fn rename(
    conn: &mut DbConn,
    current: RequesterRow,
    new_name: &str,
    at: NaiveDateTime,
) -> Result<RequesterRow, DbError> {
    let kept = diesel::update(
        requester_aliases::table
            .filter(requester_aliases::requester_pk.eq(current.id))
            .filter(requester_aliases::name.eq(&current.name)),
    )
    .set(requester_aliases::last_seen.eq(at))
    .execute(conn)?;
    if kept == 0 {
        diesel::insert_into(requester_aliases::table)
            .values((
                requester_aliases::requester_pk.eq(current.id),
                requester_aliases::name.eq(&current.name),
                requester_aliases::name_lower.eq(&current.name_lower),
                requester_aliases::first_seen.eq(current.created_at),
                requester_aliases::last_seen.eq(at),
            ))
            .execute(conn)?;
    }
    // The new name is current now, not an earlier one.
    diesel::delete(
        requester_aliases::table
            .filter(requester_aliases::requester_pk.eq(current.id))
            .filter(requester_aliases::name.eq(new_name)),
    )
    .execute(conn)?;
    crate::changes::touched(current.id);
    Ok(diesel::update(requesters::table.find(current.id))
        .set((
            requesters::name.eq(new_name),
            requesters::name_lower.eq(lower(new_name)),
            requesters::updated_at.eq(at),
        ))
        .returning(requesters::all_columns)
        .get_result(conn)?)
}

/// Earlier names of the given requesters, oldest first.
pub fn aliases(conn: &mut DbConn, pks: &[i64]) -> Result<Vec<AliasRow>, DbError> {
    Ok(requester_aliases::table
        .filter(requester_aliases::requester_pk.eq_any(pks))
        .order((
            requester_aliases::requester_pk,
            requester_aliases::first_seen,
            requester_aliases::id,
        ))
        .select(AliasRow::as_select())
        .load(conn)?)
}

/// Escapes LIKE wildcards so a search for `50%` means the characters, not a pattern.
pub(crate) fn like_escape(text: &str) -> String {
    text.replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_")
}

diesel::define_sql_function! {
    /// SQL's `lower()`, the same on both backends.
    #[sql_name = "lower"]
    fn sql_lower(text: diesel::sql_types::Text) -> diesel::sql_types::Text;
}

/// Upper bound for a prefix range scan: every string starting with `prefix` sorts below it.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}\u{10FFFF}")
}

/// Searches by platform ID, name or earlier name: exact and prefix matches first (index range
/// scans on both backends), then substring matches of names, earlier names and IDs of three
/// characters or more (trigram indexes: pg_trgm on PostgreSQL, FTS5 on SQLite; the one place
/// where the backends' queries differ), de-duplicated, at most `limit`.
pub fn search(
    conn: &mut DbConn,
    query: &str,
    platform: Option<&str>,
    limit: i64,
) -> Result<Vec<RequesterRow>, DbError> {
    let q = lower(query.trim());
    // Platforms write IDs in different cases (MTurk upper, Prolific lower hex): try each spelling.
    let mut id_spellings = vec![
        query.trim().to_owned(),
        query.trim().to_uppercase(),
        q.clone(),
    ];
    id_spellings.sort();
    id_spellings.dedup();
    let mut found: Vec<RequesterRow> = Vec::new();
    let push = |rows: Vec<RequesterRow>, found: &mut Vec<RequesterRow>| {
        for row in rows {
            if (found.len() as i64) < limit && !found.iter().any(|f| f.id == row.id) {
                found.push(row);
            }
        }
    };
    let base = || {
        let mut query = requesters::table
            .select(RequesterRow::as_select())
            .into_boxed();
        if let Some(platform) = platform {
            query = query.filter(requesters::platform.eq(platform.to_owned()));
        }
        query
    };
    if q.is_empty() {
        return Ok(base()
            .order(requesters::name_lower)
            .limit(limit)
            .load(conn)?);
    }
    for id in &id_spellings {
        let by_id = base()
            .filter(requesters::requester_id.ge(id.clone()))
            .filter(requesters::requester_id.lt(prefix_end(id)))
            .order(requesters::requester_id)
            .limit(limit)
            .load(conn)?;
        push(by_id, &mut found);
    }
    let by_name = base()
        .filter(requesters::name_lower.ge(q.clone()))
        .filter(requesters::name_lower.lt(prefix_end(&q)))
        .order(requesters::name_lower)
        .limit(limit)
        .load(conn)?;
    push(by_name, &mut found);
    // Two indexed steps rather than `IN (subquery)`, which PostgreSQL may plan as a scan.
    let alias_pks: Vec<i64> = requester_aliases::table
        .filter(requester_aliases::name_lower.ge(q.clone()))
        .filter(requester_aliases::name_lower.lt(prefix_end(&q)))
        .select(requester_aliases::requester_pk)
        .limit(limit)
        .load(conn)?;
    let by_alias = base()
        .filter(requesters::id.eq_any(alias_pks))
        .limit(limit)
        .load(conn)?;
    push(by_alias, &mut found);
    // Substrings through each engine's trigram index, which needs three characters to look up.
    if (found.len() as i64) < limit && q.chars().count() >= 3 {
        let pks = match conn {
            DbConn::Sqlite(_) => substrings_sqlite(conn, &q, limit)?,
            DbConn::Pg(_) => substrings_pg(conn, &q, limit)?,
        };
        let mut rows: Vec<RequesterRow> = base().filter(requesters::id.eq_any(&pks)).load(conn)?;
        // In the order the matches were found: names, then earlier names, then IDs.
        rows.sort_by_key(|row| pks.iter().position(|pk| *pk == row.id));
        push(rows, &mut found);
    }
    Ok(found)
}

/// Requesters whose name, earlier name or ID holds `q` (lower-cased, three characters or more):
/// names sorted, then earlier names, then IDs, through PostgreSQL's pg_trgm indexes on the
/// columns themselves. No ORDER BY in SQL: the index gives the matches, sorting them is cheap.
fn substrings_pg(conn: &mut DbConn, q: &str, limit: i64) -> Result<Vec<i64>, DbError> {
    let pattern = format!("%{}%", like_escape(q));
    let mut by_name: Vec<(String, i64)> = requesters::table
        .filter(requesters::name_lower.like(pattern.clone()).escape('\\'))
        .select((requesters::name_lower, requesters::id))
        .limit(limit)
        .load(conn)?;
    by_name.sort();
    let by_alias: Vec<i64> = requester_aliases::table
        .filter(
            requester_aliases::name_lower
                .like(pattern.clone())
                .escape('\\'),
        )
        .select(requester_aliases::requester_pk)
        .limit(limit)
        .load(conn)?;
    // No platform's IDs hold spaces: a query with one is a name.
    let mut by_id: Vec<(String, i64)> = if q.contains(char::is_whitespace) {
        Vec::new()
    } else {
        requesters::table
            .filter(
                sql_lower(requesters::requester_id)
                    .like(pattern)
                    .escape('\\'),
            )
            .select((requesters::requester_id, requesters::id))
            .limit(limit)
            .load(conn)?
    };
    by_id.sort();
    Ok(by_name
        .into_iter()
        .map(|(_, pk)| pk)
        .chain(by_alias)
        .chain(by_id.into_iter().map(|(_, pk)| pk))
        .collect())
}

#[derive(QueryableByName)]
struct SearchHit {
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    kind: i64,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    requester_pk: i64,
    #[diesel(sql_type = diesel::sql_types::Text)]
    term: String,
}

/// The same on SQLite, through the FTS5 trigram table `requester_search` the triggers keep: a
/// quoted phrase matches exactly the terms that hold it.
fn substrings_sqlite(conn: &mut DbConn, q: &str, limit: i64) -> Result<Vec<i64>, DbError> {
    let phrase = format!("\"{}\"", q.replace('"', "\"\""));
    let mut hits: Vec<SearchHit> = diesel::sql_query(
        "SELECT rowid % 4 AS kind, requester_pk, term FROM requester_search \
         WHERE requester_search MATCH ? LIMIT ?",
    )
    .bind::<diesel::sql_types::Text, _>(phrase)
    .bind::<diesel::sql_types::BigInt, _>(limit.saturating_mul(3))
    .load(conn)?;
    // Names (0), then earlier names (2), then IDs (1).
    hits.sort_by(|a, b| {
        let rank = |kind: i64| if kind == 1 { 3 } else { kind };
        (rank(a.kind), &a.term).cmp(&(rank(b.kind), &b.term))
    });
    Ok(hits.into_iter().map(|hit| hit.requester_pk).collect())
}

/// Requesters in key order after `after_pk`, for streaming exports page by page.
pub fn page(conn: &mut DbConn, after_pk: i64, limit: i64) -> Result<Vec<RequesterRow>, DbError> {
    Ok(requesters::table
        .filter(requesters::id.gt(after_pk))
        .order(requesters::id)
        .limit(limit)
        .select(RequesterRow::as_select())
        .load(conn)?)
}

#[cfg(test)]
mod tests {
    use super::majority;

    #[test]
    fn the_name_most_reviewers_use_wins_and_ties_keep_the_current_one() {
        let t = |d: u32| {
            chrono::NaiveDate::from_ymd_opt(2026, 1, d)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .unwrap_or_default()
        };
        let votes = |list: &[(&str, u32)]| {
            list.iter()
                .map(|(n, d)| ((*n).to_owned(), t(*d)))
                .collect::<Vec<_>>()
        };
        let one_liar = votes(&[("Acme", 1), ("Acme", 2), ("EVIL", 9)]);
        assert_eq!(majority(&one_liar, "Acme").as_deref(), Some("Acme"));
        let tie = votes(&[("Acme", 1), ("EVIL", 9)]);
        assert_eq!(majority(&tie, "Acme").as_deref(), Some("Acme"));
        let renamed = votes(&[("Acme", 1), ("Acme Labs", 5), ("Acme Labs", 6)]);
        assert_eq!(majority(&renamed, "Acme").as_deref(), Some("Acme Labs"));
        // The current name has no votes (it came from an incident): the first review names it.
        assert_eq!(
            majority(&votes(&[("Real", 3)]), "bogus").as_deref(),
            Some("Real")
        );
    }
}
