//! Comments on reviews and incidents, local and copies of other servers': every write here leaves its federation event (for local comments) in the same transaction, so the JSON API, the pages and the federation receive path share one implementation of each.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::error::conflict_as;
use crate::events::{self, EventKind, ObjectType};
use crate::reviews::{RemoteOrigin, RemoteOutcome};
use crate::schema::{comments, users};
use crate::{DbConn, DbError};

pub const PUBLISHED: &str = "published";
pub const REMOVED: &str = "removed";
pub const DELETED: &str = "deleted";

#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = comments)]
pub struct CommentRow {
    pub id: i64,
    pub public_id: String,
    pub review_pk: Option<i64>,
    pub incident_pk: Option<i64>,
    /// The comment this one answers (always a top-level one: threads are one level deep).
    pub reply_to_pk: Option<i64>,
    pub author_id: Option<i64>,
    pub body: String,
    /// Written by an account an admin marked as speaking for the requester.
    pub as_requester: bool,
    /// `published`, `removed` (by moderators, with `removed_reason`) or `deleted` (a tombstone
    /// without words or author).
    pub state: String,
    pub removed_reason: Option<String>,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// For another server's comment: its ActivityPub id, home instance and author's actor.
    pub ap_id: Option<String>,
    pub origin: Option<String>,
    pub remote_author: Option<String>,
}

/// What a comment is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parent {
    Review(i64),
    Incident(i64),
}

impl CommentRow {
    pub fn parent(&self) -> Result<Parent, DbError> {
        match (self.review_pk, self.incident_pk) {
            (Some(pk), None) => Ok(Parent::Review(pk)),
            (None, Some(pk)) => Ok(Parent::Incident(pk)),
            _ => Err(DbError::Corrupt(format!(
                "comment {} is about neither a review nor an incident",
                self.public_id
            ))),
        }
    }

    pub fn is_published(&self) -> bool {
        self.state == PUBLISHED
    }

    /// Written here by a local account (or by one since deleted), not a copy.
    pub fn is_local(&self) -> bool {
        self.ap_id.is_none()
    }
}

/// A new comment's content, local or received.
#[derive(Debug, Clone, Copy)]
pub struct NewComment<'a> {
    pub public_id: &'a str,
    pub parent: Parent,
    /// The comment answered; its own parent must be `parent`.
    pub reply_to: Option<&'a CommentRow>,
    pub body: &'a str,
    pub as_requester: bool,
}

impl NewComment<'_> {
    /// Threads are one level deep: an answer to an answer goes under the comment that started it.
    fn thread_root(&self) -> Result<Option<i64>, DbError> {
        match self.reply_to {
            None => Ok(None),
            Some(answered) if answered.parent()? == self.parent => {
                Ok(Some(answered.reply_to_pk.unwrap_or(answered.id)))
            }
            Some(_) => Err(DbError::WrongState(
                "a reply must be about the same review or incident as the comment it answers",
            )),
        }
    }
}

fn parent_columns(parent: Parent) -> (Option<i64>, Option<i64>) {
    match parent {
        Parent::Review(pk) => (Some(pk), None),
        Parent::Incident(pk) => (None, Some(pk)),
    }
}

/// A local worker's comment; it federates.
pub fn create(
    conn: &mut DbConn,
    new: NewComment<'_>,
    author_id: i64,
    at: NaiveDateTime,
) -> Result<CommentRow, DbError> {
    let (review_pk, incident_pk) = parent_columns(new.parent);
    let row: CommentRow = diesel::insert_into(comments::table)
        .values((
            comments::public_id.eq(new.public_id),
            comments::review_pk.eq(review_pk),
            comments::incident_pk.eq(incident_pk),
            comments::reply_to_pk.eq(new.thread_root()?),
            comments::author_id.eq(author_id),
            comments::body.eq(new.body),
            comments::as_requester.eq(new.as_requester),
            comments::state.eq(PUBLISHED),
            comments::created_at.eq(at),
            comments::updated_at.eq(at),
        ))
        .returning(comments::all_columns)
        .get_result(conn)
        .map_err(conflict_as("comment"))?;
    events::record(
        conn,
        ObjectType::Comment,
        EventKind::Create,
        &row.public_id,
        at,
    )?;
    Ok(row)
}

/// Stores another server's comment on content held here, or replaces the copy held (only by
/// its author, only with a newer version).
pub fn upsert_remote(
    conn: &mut DbConn,
    remote: RemoteOrigin<'_>,
    new: NewComment<'_>,
    published_at: NaiveDateTime,
    at: NaiveDateTime,
) -> Result<(CommentRow, RemoteOutcome), DbError> {
    crate::policy::note_origin(conn, remote.origin)?;
    if let Some(existing) = by_ap_id(conn, remote.ap_id)? {
        if existing.state == DELETED {
            return Ok((existing, RemoteOutcome::Tombstoned));
        }
        if !crate::reviews::take_version(conn, existing.remote_author.as_deref(), &remote)? {
            return Ok((existing, RemoteOutcome::Outdated));
        }
        let row = diesel::update(comments::table.find(existing.id))
            .set((comments::body.eq(new.body), comments::updated_at.eq(at)))
            .returning(comments::all_columns)
            .get_result(conn)?;
        return Ok((row, RemoteOutcome::Updated));
    }
    let (review_pk, incident_pk) = parent_columns(new.parent);
    let root = new.thread_root()?;
    let inserted = crate::savepoint(conn, |conn| {
        diesel::insert_into(comments::table)
            .values((
                comments::public_id.eq(new.public_id),
                comments::review_pk.eq(review_pk),
                comments::incident_pk.eq(incident_pk),
                comments::reply_to_pk.eq(root),
                comments::body.eq(new.body),
                comments::as_requester.eq(new.as_requester),
                comments::state.eq(PUBLISHED),
                comments::created_at.eq(published_at),
                comments::updated_at.eq(at),
                comments::ap_id.eq(remote.ap_id),
                comments::origin.eq(remote.origin),
                comments::remote_author.eq(remote.author),
            ))
            .returning(comments::all_columns)
            .get_result(conn)
            .map_err(conflict_as("comment"))
    });
    match inserted {
        Ok(row) => {
            crate::reviews::record_version(conn, &remote)?;
            Ok((row, RemoteOutcome::Created))
        }
        // A concurrent delivery of the same comment stored it first.
        Err(DbError::Conflict(_)) => {
            let row = by_ap_id(conn, remote.ap_id)?.ok_or(DbError::Conflict("comment"))?;
            Ok((row, RemoteOutcome::Updated))
        }
        Err(other) => Err(other),
    }
}

pub fn by_public_id(conn: &mut DbConn, public_id: &str) -> Result<CommentRow, DbError> {
    Ok(comments::table
        .filter(comments::public_id.eq(public_id))
        .select(CommentRow::as_select())
        .first(conn)?)
}

pub fn by_pk(conn: &mut DbConn, pk: i64) -> Result<CommentRow, DbError> {
    Ok(comments::table
        .find(pk)
        .select(CommentRow::as_select())
        .first(conn)?)
}

pub fn by_ap_id(conn: &mut DbConn, ap_id: &str) -> Result<Option<CommentRow>, DbError> {
    Ok(comments::table
        .filter(comments::ap_id.eq(ap_id))
        .select(CommentRow::as_select())
        .first(conn)
        .optional()?)
}

/// A comment with its local author's username.
pub type CommentWithAuthor = (CommentRow, Option<String>);

/// Every comment about `parent` whose origin is not hidden, oldest first; tombstones and
/// removed comments too, so that answers keep their place under them.
pub fn thread(conn: &mut DbConn, parent: Parent) -> Result<Vec<CommentWithAuthor>, DbError> {
    let query = comments::table
        .left_join(users::table)
        .filter(visible!(comments::origin))
        .order(comments::id)
        .select((CommentRow::as_select(), users::username.nullable()))
        .into_boxed();
    let query = match parent {
        Parent::Review(pk) => query.filter(comments::review_pk.eq(pk)),
        Parent::Incident(pk) => query.filter(comments::incident_pk.eq(pk)),
    };
    Ok(query.load(conn)?)
}

/// How many published comments each of `reviews` has (only those with any are in the map).
pub fn counts_for_reviews(
    conn: &mut DbConn,
    reviews: &[i64],
) -> Result<HashMap<i64, i64>, DbError> {
    let rows: Vec<(Option<i64>, i64)> = comments::table
        .filter(comments::review_pk.eq_any(reviews))
        .filter(comments::state.eq(PUBLISHED))
        .filter(visible!(comments::origin))
        .group_by(comments::review_pk)
        .select((comments::review_pk, diesel::dsl::count_star()))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .filter_map(|(pk, n)| pk.map(|pk| (pk, n)))
        .collect())
}

/// How many published comments `parent` has.
pub fn count(conn: &mut DbConn, parent: Parent) -> Result<i64, DbError> {
    let query = comments::table
        .filter(comments::state.eq(PUBLISHED))
        .filter(visible!(comments::origin))
        .into_boxed();
    let query = match parent {
        Parent::Review(pk) => query.filter(comments::review_pk.eq(pk)),
        Parent::Incident(pk) => query.filter(comments::incident_pk.eq(pk)),
    };
    Ok(query.count().get_result(conn)?)
}

/// Leaves a comment as a tombstone without words or author: what deletion means.
fn erase(conn: &mut DbConn, row: &CommentRow, at: NaiveDateTime) -> Result<(), DbError> {
    diesel::update(comments::table.find(row.id))
        .set((
            comments::state.eq(DELETED),
            comments::body.eq(""),
            comments::removed_reason.eq(None::<String>),
            // The tombstone keeps its place in the thread, not who wrote it.
            comments::author_id.eq(None::<i64>),
            comments::remote_author.eq(None::<String>),
            comments::updated_at.eq(at),
        ))
        .execute(conn)?;
    crate::delivery::scrub_object(conn, &format!("/comments/{}", row.public_id))?;
    Ok(())
}

/// A local author deletes their comment (or their account goes): a tombstone, and the deletion
/// federates.
pub fn delete(conn: &mut DbConn, row: &CommentRow, at: NaiveDateTime) -> Result<(), DbError> {
    if row.state == DELETED {
        return Ok(());
    }
    erase(conn, row, at)?;
    if row.is_local() {
        events::record(
            conn,
            ObjectType::Comment,
            EventKind::Delete,
            &row.public_id,
            at,
        )?;
    }
    Ok(())
}

/// The copy of another server's comment is deleted there; the row it was, when one was held.
pub fn delete_remote(
    conn: &mut DbConn,
    ap_id: &str,
    at: NaiveDateTime,
) -> Result<Option<CommentRow>, DbError> {
    match by_ap_id(conn, ap_id)? {
        Some(existing) if existing.state != DELETED => {
            erase(conn, &existing, at)?;
            crate::reviews::forget_version(conn, ap_id)?;
            Ok(Some(existing))
        }
        _ => Ok(None),
    }
}

/// `set_removed` without federating it: for what a suspension hides here (other instances
/// learn of the suspension itself) and for removals other instances sent.
pub fn mark_removed(
    conn: &mut DbConn,
    row: &CommentRow,
    reason: Option<&str>,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let state = if reason.is_some() { REMOVED } else { PUBLISHED };
    diesel::update(comments::table.find(row.id))
        .set((
            comments::state.eq(state),
            comments::removed_reason.eq(reason),
            comments::updated_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// Another server's comments by one actor: what goes when that account is deleted or suspended.
pub fn remote_by_author(conn: &mut DbConn, author: &str) -> Result<Vec<CommentRow>, DbError> {
    Ok(comments::table
        .filter(comments::remote_author.eq(author))
        .order(comments::id)
        .select(CommentRow::as_select())
        .load(conn)?)
}

/// A local account's comments, tombstones left out.
pub fn by_author(conn: &mut DbConn, author_id: i64) -> Result<Vec<CommentRow>, DbError> {
    Ok(comments::table
        .filter(comments::author_id.eq(author_id))
        .filter(comments::state.ne(DELETED))
        .order(comments::id)
        .select(CommentRow::as_select())
        .load(conn)?)
}

/// Published comments written here by local accounts, newest first, with their authors: what
/// the instance's outbox pages through.
pub fn local_page(
    conn: &mut DbConn,
    author: Option<&str>,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<(CommentRow, String)>, DbError> {
    let mut query = comments::table
        .inner_join(users::table)
        .filter(comments::state.eq(PUBLISHED))
        .filter(comments::ap_id.is_null())
        .select((CommentRow::as_select(), users::username))
        .order(comments::id.desc())
        .limit(limit)
        .into_boxed();
    if let Some(author) = author {
        query = query.filter(users::username.eq(author.to_owned()));
    }
    if let Some(before) = before_id {
        query = query.filter(comments::id.lt(before));
    }
    Ok(query.load(conn)?)
}
