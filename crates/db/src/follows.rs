//! Queries on follows (a worker watching a requester or a platform) and the notifications they produce.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::error::conflict_as;
use crate::requesters::RequesterRow;
use crate::schema::{feed_tokens, follows, notifications, platform_follows, requesters, users};
use crate::{DbConn, DbError};

/// Follows a requester; following twice is not an error.
pub fn follow(
    conn: &mut DbConn,
    user_id: i64,
    requester_pk: i64,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(follows::table)
            .values((
                follows::user_id.eq(user_id),
                follows::requester_pk.eq(requester_pk),
                follows::created_at.eq(at),
            ))
            .execute(conn)
            .map_err(conflict_as("follow"))
    });
    match inserted {
        Ok(_) | Err(DbError::Conflict(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

pub fn unfollow(conn: &mut DbConn, user_id: i64, requester_pk: i64) -> Result<(), DbError> {
    let deleted = diesel::delete(follows::table.find((user_id, requester_pk))).execute(conn)?;
    crate::users::found(deleted)
}

/// The requesters a worker follows, by name.
pub fn followed(conn: &mut DbConn, user_id: i64) -> Result<Vec<RequesterRow>, DbError> {
    Ok(follows::table
        .inner_join(requesters::table)
        .filter(follows::user_id.eq(user_id))
        .order(requesters::name_lower)
        .select(RequesterRow::as_select())
        .load(conn)?)
}

/// Follows a platform (its incidents that name no requester, and their waves); following twice
/// is not an error.
pub fn follow_platform(
    conn: &mut DbConn,
    user_id: i64,
    platform: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(platform_follows::table)
            .values((
                platform_follows::user_id.eq(user_id),
                platform_follows::platform.eq(platform),
                platform_follows::created_at.eq(at),
            ))
            .execute(conn)
            .map_err(conflict_as("follow"))
    });
    match inserted {
        Ok(_) | Err(DbError::Conflict(_)) => Ok(()),
        Err(other) => Err(other),
    }
}

pub fn unfollow_platform(conn: &mut DbConn, user_id: i64, platform: &str) -> Result<(), DbError> {
    let deleted =
        diesel::delete(platform_follows::table.find((user_id, platform))).execute(conn)?;
    crate::users::found(deleted)
}

/// The platforms a worker follows, by their word.
pub fn followed_platforms(conn: &mut DbConn, user_id: i64) -> Result<Vec<String>, DbError> {
    Ok(platform_follows::table
        .filter(platform_follows::user_id.eq(user_id))
        .order(platform_follows::platform)
        .select(platform_follows::platform)
        .load(conn)?)
}

/// One notification for every follower of `platform` except `except_user` (the author), in
/// one statement, as for a requester's followers.
pub(crate) fn notify_platform_followers(
    conn: &mut DbConn,
    platform: &str,
    kind: NotificationKind,
    subject: &str,
    message: &str,
    except_user: Option<i64>,
    at: NaiveDateTime,
) -> Result<usize, DbError> {
    use diesel::sql_types::{Text, Timestamp};
    let followers = platform_follows::table
        .filter(platform_follows::platform.eq(platform))
        .filter(platform_follows::user_id.ne(except_user.unwrap_or(-1)))
        .select((
            platform_follows::user_id,
            kind.as_str().into_sql::<Text>(),
            platform_follows::platform.nullable(),
            subject.into_sql::<Text>(),
            message.into_sql::<Text>(),
            at.into_sql::<Timestamp>(),
        ));
    Ok(diesel::insert_into(notifications::table)
        .values(followers)
        .into_columns((
            notifications::user_id,
            notifications::kind,
            notifications::platform,
            notifications::subject,
            notifications::message,
            notifications::created_at,
        ))
        .execute(conn)?)
}

/// What a notification is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationKind {
    Review,
    Incident,
    Wave,
}

impl NotificationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NotificationKind::Review => "review",
            NotificationKind::Incident => "incident",
            NotificationKind::Wave => "wave",
        }
    }
}

/// Tells the requester's followers (but the author, when local) about a newly published review.
pub(crate) fn notify_new_review(
    conn: &mut DbConn,
    review_public_id: &str,
    requester: &RequesterRow,
    except_user: Option<i64>,
    at: NaiveDateTime,
) -> Result<usize, DbError> {
    let platform = requester
        .platform
        .parse::<picket_core::platform::Platform>()
        .map_or("", picket_core::platform::Platform::display_name);
    let message = format!("New review of {} on {platform}", requester.name);
    notify_followers(
        conn,
        requester.id,
        NotificationKind::Review,
        review_public_id,
        &message,
        except_user,
        at,
    )
}

/// One notification for every follower of the requester except `except_user` (the author),
/// written in the caller's transaction with one statement.
pub fn notify_followers(
    conn: &mut DbConn,
    requester_pk: i64,
    kind: NotificationKind,
    subject: &str,
    message: &str,
    except_user: Option<i64>,
    at: NaiveDateTime,
) -> Result<usize, DbError> {
    use diesel::sql_types::{Text, Timestamp};
    let followers = follows::table
        .filter(follows::requester_pk.eq(requester_pk))
        .filter(follows::user_id.ne(except_user.unwrap_or(-1)))
        .select((
            follows::user_id,
            kind.as_str().into_sql::<Text>(),
            follows::requester_pk.nullable(),
            subject.into_sql::<Text>(),
            message.into_sql::<Text>(),
            at.into_sql::<Timestamp>(),
        ));
    Ok(diesel::insert_into(notifications::table)
        .values(followers)
        .into_columns((
            notifications::user_id,
            notifications::kind,
            notifications::requester_pk,
            notifications::subject,
            notifications::message,
            notifications::created_at,
        ))
        .execute(conn)?)
}

#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = notifications)]
pub struct NotificationRow {
    pub id: i64,
    pub user_id: i64,
    pub kind: String,
    /// The requester it is about; absent for a platform's incidents and waves.
    pub requester_pk: Option<i64>,
    pub subject: String,
    pub message: String,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
    /// The platform, for notifications about incidents that name no requester.
    pub platform: Option<String>,
}

/// A notification with the requester it concerns, if any.
pub type NotificationWithRequester = (NotificationRow, Option<RequesterRow>);

/// A worker's notifications, newest first, after the cursor `before_id`.
pub fn notifications(
    conn: &mut DbConn,
    user_id: i64,
    unread_only: bool,
    before_id: Option<i64>,
    limit: i64,
) -> Result<Vec<NotificationWithRequester>, DbError> {
    let mut query = notifications::table
        .left_join(requesters::table)
        .filter(notifications::user_id.eq(user_id))
        .select((
            NotificationRow::as_select(),
            requesters::all_columns.nullable(),
        ))
        .order(notifications::id.desc())
        .limit(limit)
        .into_boxed();
    if unread_only {
        query = query.filter(notifications::read_at.is_null());
    }
    if let Some(before) = before_id {
        query = query.filter(notifications::id.lt(before));
    }
    Ok(query.load(conn)?)
}

/// Marks the given notifications (or all, when `ids` is None) of a worker as read; returns how many changed.
pub fn mark_read(
    conn: &mut DbConn,
    user_id: i64,
    ids: Option<&[i64]>,
    at: NaiveDateTime,
) -> Result<usize, DbError> {
    let mine = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null());
    Ok(match ids {
        Some(ids) => diesel::update(mine.filter(notifications::id.eq_any(ids)))
            .set(notifications::read_at.eq(at))
            .execute(conn)?,
        None => diesel::update(mine)
            .set(notifications::read_at.eq(at))
            .execute(conn)?,
    })
}

/// Replaces a worker's secret feed token (only its digest is stored).
pub fn set_feed_token(
    conn: &mut DbConn,
    user_id: i64,
    digest: &str,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    diesel::delete(feed_tokens::table.find(user_id)).execute(conn)?;
    diesel::insert_into(feed_tokens::table)
        .values((
            feed_tokens::user_id.eq(user_id),
            feed_tokens::token_digest.eq(digest),
            feed_tokens::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The active account a feed token belongs to.
pub fn user_by_feed_token(
    conn: &mut DbConn,
    digest: &str,
) -> Result<Option<crate::models::UserRow>, DbError> {
    Ok(feed_tokens::table
        .inner_join(users::table)
        .filter(feed_tokens::token_digest.eq(digest))
        .filter(users::status.eq("active"))
        .select(crate::models::UserRow::as_select())
        .first(conn)
        .optional()?)
}
