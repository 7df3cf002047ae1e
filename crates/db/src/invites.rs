//! Queries on invite codes, which let a collective grow by word of mouth in `invite` registration mode.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::models::{InviteRow, now};
use crate::schema::invites;
use crate::{DbConn, DbError};

/// Stores an invite by the digest of its code; the code itself is shown once to its creator.
pub fn create(
    conn: &mut DbConn,
    code_digest: &str,
    created_by: Option<i64>,
    expires_at: NaiveDateTime,
) -> Result<InviteRow, DbError> {
    Ok(diesel::insert_into(invites::table)
        .values((
            invites::code_digest.eq(code_digest),
            invites::created_by.eq(created_by),
            invites::created_at.eq(now()),
            invites::expires_at.eq(expires_at),
        ))
        .returning(invites::all_columns)
        .get_result(conn)?)
}

/// Whether an invite with this digest exists, is unused and has not expired at `at`: checked
/// before a registration spends a password hash on it (`redeem` still decides, atomically).
pub fn is_usable(conn: &mut DbConn, code_digest: &str, at: NaiveDateTime) -> Result<bool, DbError> {
    Ok(diesel::select(diesel::dsl::exists(
        invites::table
            .filter(invites::code_digest.eq(code_digest))
            .filter(invites::used_by.is_null())
            .filter(invites::used_at.is_null())
            .filter(invites::expires_at.gt(at)),
    ))
    .get_result(conn)?)
}

/// Marks an unused, unexpired invite as used by `user_id`; `Unusable("invite")` when there is no such
/// invite, which rolls back the caller's transaction, so two registrations racing for one code cannot both succeed.
pub fn redeem(
    conn: &mut DbConn,
    code_digest: &str,
    user_id: i64,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let updated = diesel::update(
        invites::table
            .filter(invites::code_digest.eq(code_digest))
            .filter(invites::used_by.is_null())
            .filter(invites::used_at.is_null())
            .filter(invites::expires_at.gt(at)),
    )
    .set((invites::used_by.eq(user_id), invites::used_at.eq(at)))
    .execute(conn)?;
    if updated == 1 {
        Ok(())
    } else {
        Err(DbError::Unusable("invite"))
    }
}

/// Unlinks a deleted account from the invite graph: the invites it used and the used ones it
/// made keep no trace of it (who brought whom in would tie pseudonyms together), and the unused
/// ones it made stop working, as its other credentials do. A used invite stays used: `used_at`
/// remains, and `redeem` refuses any invite with it set.
pub(crate) fn forget_account(conn: &mut DbConn, user_id: i64) -> Result<(), DbError> {
    diesel::delete(
        invites::table
            .filter(invites::created_by.eq(user_id))
            .filter(invites::used_at.is_null()),
    )
    .execute(conn)?;
    diesel::update(invites::table.filter(invites::created_by.eq(user_id)))
        .set(invites::created_by.eq(None::<i64>))
        .execute(conn)?;
    diesel::update(invites::table.filter(invites::used_by.eq(user_id)))
        .set(invites::used_by.eq(None::<i64>))
        .execute(conn)?;
    Ok(())
}
