//! Queries on login sessions and API tokens. Only digests of the secrets are stored.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::{NewSession, SessionKind, SessionRow, UserRow};
use crate::schema::{sessions, users};
use crate::{DbConn, DbError};

pub fn create(conn: &mut DbConn, new: &NewSession<'_>) -> Result<SessionRow, DbError> {
    Ok(diesel::insert_into(sessions::table)
        .values(new)
        .returning(sessions::all_columns)
        .get_result(conn)?)
}

/// The session and its account for a presented secret's digest, if it exists and has not expired.
pub fn lookup(
    conn: &mut DbConn,
    token_digest: &str,
    at: NaiveDateTime,
) -> Result<Option<(SessionRow, UserRow)>, DbError> {
    Ok(sessions::table
        .inner_join(users::table)
        .filter(sessions::token_digest.eq(token_digest))
        .filter(
            sessions::expires_at
                .is_null()
                .or(sessions::expires_at.gt(at)),
        )
        .select((SessionRow::as_select(), UserRow::as_select()))
        .first(conn)
        .optional()?)
}

/// Revokes one session or token.
pub fn revoke(conn: &mut DbConn, id: i64) -> Result<(), DbError> {
    let deleted = diesel::delete(sessions::table.find(id)).execute(conn)?;
    crate::users::found(deleted)
}

/// Revokes every session and token of an account, except `keep` when given.
pub fn revoke_all(conn: &mut DbConn, user_id: i64, keep: Option<i64>) -> Result<usize, DbError> {
    let mine = sessions::table.filter(sessions::user_id.eq(user_id));
    Ok(match keep {
        Some(keep) => diesel::delete(mine.filter(sessions::id.ne(keep))).execute(conn)?,
        None => diesel::delete(mine).execute(conn)?,
    })
}

/// Drops expired sessions, so stale credentials do not accumulate.
pub fn purge_expired(conn: &mut DbConn, at: NaiveDateTime) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(at))).execute(conn)?)
}

/// Revokes every session and API token of every account (after a suspected leak); returns how many.
pub fn revoke_everyone(conn: &mut DbConn) -> Result<usize, DbError> {
    Ok(diesel::delete(sessions::table).execute(conn)?)
}

/// An API token as its owner may see it again: the label and dates, never the digest.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct TokenLabel {
    pub label: Option<String>,
    pub created_at: NaiveDateTime,
}

/// The account's API tokens, oldest first, for its own-data export. Only the label and creation
/// time are selected: the digest never leaves the database.
pub fn token_labels(conn: &mut DbConn, user_id: i64) -> Result<Vec<TokenLabel>, DbError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(sessions::kind.eq(SessionKind::Api.as_str()))
        .order(sessions::id)
        .select((sessions::label, sessions::created_at))
        .load(conn)?)
}

/// A session or token as its owner sees it in a list: never the digest.
#[derive(Debug, Clone, PartialEq, Queryable)]
pub struct SessionListing {
    pub id: i64,
    pub kind: String,
    pub label: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

/// The account's live sessions and API tokens, newest first.
pub fn list_for_user(
    conn: &mut DbConn,
    user_id: i64,
    at: NaiveDateTime,
) -> Result<Vec<SessionListing>, DbError> {
    Ok(sessions::table
        .filter(sessions::user_id.eq(user_id))
        .filter(
            sessions::expires_at
                .is_null()
                .or(sessions::expires_at.gt(at)),
        )
        .order(sessions::id.desc())
        .select((
            sessions::id,
            sessions::kind,
            sessions::label,
            sessions::created_at,
            sessions::expires_at,
        ))
        .load(conn)?)
}

/// Revokes one of the account's own sessions or tokens; `NotFound` when it is not theirs.
pub fn revoke_own(conn: &mut DbConn, user_id: i64, id: i64) -> Result<(), DbError> {
    let deleted = diesel::delete(
        sessions::table
            .filter(sessions::id.eq(id))
            .filter(sessions::user_id.eq(user_id)),
    )
    .execute(conn)?;
    crate::users::found(deleted)
}

/// Keeps the digest of a one-time password reset secret for `user_id`, valid until
/// `expires_at`; earlier unused resets of the account stop working.
pub fn create_reset(
    conn: &mut DbConn,
    user_id: i64,
    digest: &str,
    expires_at: NaiveDateTime,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    use crate::schema::password_resets;
    diesel::delete(password_resets::table.filter(password_resets::user_id.eq(user_id)))
        .execute(conn)?;
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::digest.eq(digest),
            password_resets::user_id.eq(user_id),
            password_resets::expires_at.eq(expires_at),
            password_resets::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The account a reset secret's digest was made for, if it is unexpired and its account can
/// still sign in; the reset is used up only by [`take_reset`].
pub fn reset_account(
    conn: &mut DbConn,
    digest: &str,
    at: NaiveDateTime,
) -> Result<Option<UserRow>, DbError> {
    use crate::schema::password_resets;
    Ok(password_resets::table
        .inner_join(users::table)
        .filter(password_resets::digest.eq(digest))
        .filter(password_resets::expires_at.gt(at))
        .filter(users::status.ne(picket_core::accounts::AccountStatus::Deleted.as_str()))
        .select(UserRow::as_select())
        .first(conn)
        .optional()?)
}

/// Uses up a reset: sets the new password hash and ends every session and token of the
/// account, so whoever held the old password is signed out. `NotFound` when the secret is
/// unknown, expired or already used.
pub fn take_reset(
    conn: &mut DbConn,
    digest: &str,
    password_hash: &str,
    at: NaiveDateTime,
) -> Result<UserRow, DbError> {
    use crate::schema::password_resets;
    let user = reset_account(conn, digest, at)?.ok_or(DbError::NotFound)?;
    diesel::delete(password_resets::table.filter(password_resets::user_id.eq(user.id)))
        .execute(conn)?;
    crate::users::set_password_hash(conn, user.id, password_hash)?;
    revoke_all(conn, user.id, None)?;
    Ok(user)
}
