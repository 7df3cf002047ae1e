//! Bulk import of requesters and reviews (the admin's Turkopticon-style CSV): one batch of rows
//! in a handful of statements (requesters looked up and created together, the import's name
//! votes written together, reviews with multi-row inserts, aggregates refreshed together),
//! with the same outcome as writing the rows one by one.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDateTime;
use diesel::prelude::*;
use picket_core::review::ValidReview;

use crate::reviews::{ContentColumns, ReviewState};
use crate::schema::{requester_name_votes, requesters, reviews};
use crate::{DbConn, DbError};

/// Who an import votes as, for requester names: one voice, however many rows it has.
pub const VOTER: &str = "import";

/// Rows per multi-row INSERT of narrow rows (requesters, votes).
const CHUNK: usize = 500;
/// Reviews per multi-row INSERT: 28 columns each, below SQLite's 32,766 bound parameters.
const REVIEW_CHUNK: usize = 400;

/// One imported line: a requester (mentioned by name) and maybe one of its reviews.
#[derive(Debug, Clone)]
pub struct Line<'a> {
    pub platform: &'a str,
    pub requester_id: &'a str,
    pub name: &'a str,
    /// The review, its new public id and when it was published.
    pub review: Option<(&'a ValidReview, &'a str, NaiveDateTime)>,
}

/// Runs the same diesel statement on whichever engine `conn` is: multi-row inserts compile only
/// against each engine's own connection type.
macro_rules! on_engine {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            DbConn::Sqlite($c) => $body,
            DbConn::Pg($c) => $body,
        }
    };
}

/// Applies `lines` in the caller's transaction: every requester exists afterwards, every review
/// is stored, the import's name vote counts once per requester (the last name it gave), and the
/// aggregates of every requester that got reviews are refreshed before it commits.
pub fn apply(conn: &mut DbConn, lines: &[Line<'_>], at: NaiveDateTime) -> Result<(), DbError> {
    // The last name given for each requester, and whether a review came with it.
    let mut named: BTreeMap<(&str, &str), (&str, bool)> = BTreeMap::new();
    for line in lines {
        let entry = named
            .entry((line.platform, line.requester_id))
            .or_insert((line.name, false));
        if line.review.is_some() {
            *entry = (line.name, true);
        }
    }
    let mut known: HashMap<(String, String), crate::requesters::RequesterRow> = HashMap::new();
    let mut by_platform: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (platform, id) in named.keys() {
        by_platform
            .entry(platform)
            .or_default()
            .push((*id).to_owned());
    }
    let load = |conn: &mut DbConn,
                known: &mut HashMap<(String, String), crate::requesters::RequesterRow>,
                by_platform: &BTreeMap<&str, Vec<String>>|
     -> Result<(), DbError> {
        for (platform, ids) in by_platform {
            for chunk in ids.chunks(CHUNK) {
                for row in crate::requesters::by_keys(conn, platform, chunk)? {
                    known.insert((row.platform.clone(), row.requester_id.clone()), row);
                }
            }
        }
        Ok(())
    };
    load(conn, &mut known, &by_platform)?;
    // Requesters seen for the first time: created together, with the name given.
    let new: Vec<_> = named
        .iter()
        .filter(|((platform, id), _)| {
            !known.contains_key(&((*platform).to_owned(), (*id).to_owned()))
        })
        .map(|((platform, id), (name, _))| {
            (
                requesters::platform.eq(*platform),
                requesters::requester_id.eq(*id),
                requesters::name.eq(*name),
                requesters::name_lower.eq(name.to_lowercase()),
                requesters::created_at.eq(at),
                requesters::updated_at.eq(at),
            )
        })
        .collect();
    let created: std::collections::HashSet<(&str, &str)> = named
        .keys()
        .filter(|(platform, id)| !known.contains_key(&((*platform).to_owned(), (*id).to_owned())))
        .copied()
        .collect();
    if !new.is_empty() {
        for chunk in new.chunks(CHUNK) {
            on_engine!(conn, |c| diesel::insert_into(requesters::table)
                .values(chunk)
                .execute(c))?;
        }
        crate::changes::created();
        load(conn, &mut known, &by_platform)?;
    }
    // Name votes. A requester just created, or whose name already is the one given, cannot
    // change name by this vote: the vote is written in bulk. Any other goes through the
    // majority rule, one by one.
    let mut fresh_votes = Vec::new();
    let mut renewed: Vec<i64> = Vec::new();
    for ((platform, id), (name, with_review)) in &named {
        if !with_review {
            continue;
        }
        let row = known
            .get(&((*platform).to_owned(), (*id).to_owned()))
            .ok_or(DbError::NotFound)?;
        if created.contains(&(*platform, *id)) {
            fresh_votes.push((row.id, *name));
        } else if row.name == *name {
            renewed.push(row.id);
            fresh_votes.push((row.id, *name));
        } else {
            crate::requesters::mention(conn, platform, id, name, Some(VOTER), at)?;
        }
    }
    for chunk in renewed.chunks(CHUNK) {
        diesel::delete(
            requester_name_votes::table
                .filter(requester_name_votes::voter.eq(VOTER))
                .filter(requester_name_votes::requester_pk.eq_any(chunk)),
        )
        .execute(conn)?;
    }
    let votes: Vec<_> = fresh_votes
        .iter()
        .map(|(pk, name)| {
            (
                requester_name_votes::requester_pk.eq(*pk),
                requester_name_votes::voter.eq(VOTER),
                requester_name_votes::name.eq(*name),
                requester_name_votes::seen_at.eq(at),
            )
        })
        .collect();
    for chunk in votes.chunks(CHUNK) {
        on_engine!(conn, |c| diesel::insert_into(requester_name_votes::table)
            .values(chunk)
            .execute(c))?;
    }
    // The reviews, and then their requesters' aggregates.
    let mut touched: Vec<i64> = Vec::new();
    let rows = lines
        .iter()
        .filter_map(|line| {
            let (review, public_id, published_at) = line.review?;
            let requester = known.get(&(line.platform.to_owned(), line.requester_id.to_owned()))?;
            touched.push(requester.id);
            Some((
                reviews::public_id.eq(public_id),
                reviews::author_id.eq(None::<i64>),
                reviews::requester_pk.eq(requester.id),
                reviews::state.eq(ReviewState::Published.as_str()),
                ContentColumns::of(review),
                reviews::created_at.eq(at),
                reviews::updated_at.eq(at),
                reviews::published_at.eq(Some(published_at)),
            ))
        })
        .collect::<Vec<_>>();
    for chunk in rows.chunks(REVIEW_CHUNK) {
        on_engine!(conn, |c| diesel::insert_into(reviews::table)
            .values(chunk)
            .execute(c))?;
    }
    touched.sort_unstable();
    touched.dedup();
    for chunk in touched.chunks(CHUNK * 4) {
        crate::stats::refresh_many(conn, chunk, at)?;
    }
    Ok(())
}
