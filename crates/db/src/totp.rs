//! Queries on the TOTP second factor: one secret per account (pending until confirmed) and its one-time recovery codes, stored as digests.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::schema::{totp_recovery_codes, totp_secrets};
use crate::{DbConn, DbError};

/// An account's TOTP secret; `confirmed_at` is set once a first code proved the app has it.
#[derive(Debug, Clone, PartialEq, Queryable, Selectable)]
#[diesel(table_name = totp_secrets)]
pub struct TotpRow {
    pub user_id: i64,
    pub secret: String,
    pub created_at: NaiveDateTime,
    pub confirmed_at: Option<NaiveDateTime>,
    pub last_step: Option<i64>,
}

impl TotpRow {
    /// Whether login asks for a code.
    pub fn enabled(&self) -> bool {
        self.confirmed_at.is_some()
    }
}

/// The account's secret, pending or confirmed.
pub fn get(conn: &mut DbConn, user_id: i64) -> Result<Option<TotpRow>, DbError> {
    Ok(totp_secrets::table
        .find(user_id)
        .select(TotpRow::as_select())
        .first(conn)
        .optional()?)
}

/// Starts an enrolment: `secret` and the recovery codes' digests replace a pending enrolment's.
/// `Conflict("second factor")` when one is already confirmed (it must be disabled first).
pub fn enrol(
    conn: &mut DbConn,
    user_id: i64,
    secret: &str,
    recovery_digests: &[String],
    at: NaiveDateTime,
) -> Result<(), DbError> {
    if get(conn, user_id)?.is_some_and(|row| row.enabled()) {
        return Err(DbError::Conflict("second factor"));
    }
    remove(conn, user_id)?;
    diesel::insert_into(totp_secrets::table)
        .values((
            totp_secrets::user_id.eq(user_id),
            totp_secrets::secret.eq(secret),
            totp_secrets::created_at.eq(at),
        ))
        .execute(conn)?;
    for digest in recovery_digests {
        diesel::insert_into(totp_recovery_codes::table)
            .values((
                totp_recovery_codes::user_id.eq(user_id),
                totp_recovery_codes::code_digest.eq(digest),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Confirms a pending enrolment with the step of its first valid code (which is then used up).
pub fn confirm(
    conn: &mut DbConn,
    user_id: i64,
    step: i64,
    at: NaiveDateTime,
) -> Result<(), DbError> {
    let updated = diesel::update(
        totp_secrets::table
            .find(user_id)
            .filter(totp_secrets::confirmed_at.is_null()),
    )
    .set((
        totp_secrets::confirmed_at.eq(at),
        totp_secrets::last_step.eq(step),
    ))
    .execute(conn)?;
    if updated == 1 {
        Ok(())
    } else {
        Err(DbError::WrongState("no second factor awaits confirmation"))
    }
}

/// Records that a code of `step` was used; false when that step or a later one was used
/// already, so a code seen over someone's shoulder, or sent twice at once, works only once.
pub fn use_step(conn: &mut DbConn, user_id: i64, step: i64) -> Result<bool, DbError> {
    let updated = diesel::update(
        totp_secrets::table.find(user_id).filter(
            totp_secrets::last_step
                .is_null()
                .or(totp_secrets::last_step.lt(step)),
        ),
    )
    .set(totp_secrets::last_step.eq(step))
    .execute(conn)?;
    Ok(updated == 1)
}

/// Uses up the account's unused recovery code with `digest`; false when there is none.
pub fn use_recovery_code(
    conn: &mut DbConn,
    user_id: i64,
    digest: &str,
    at: NaiveDateTime,
) -> Result<bool, DbError> {
    let updated = diesel::update(
        totp_recovery_codes::table
            .filter(totp_recovery_codes::user_id.eq(user_id))
            .filter(totp_recovery_codes::code_digest.eq(digest))
            .filter(totp_recovery_codes::used_at.is_null()),
    )
    .set(totp_recovery_codes::used_at.eq(at))
    .execute(conn)?;
    Ok(updated > 0)
}

/// Removes the account's second factor and recovery codes (disabling it, or deleting the account).
pub fn remove(conn: &mut DbConn, user_id: i64) -> Result<(), DbError> {
    diesel::delete(totp_recovery_codes::table.filter(totp_recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    diesel::delete(totp_secrets::table.find(user_id)).execute(conn)?;
    Ok(())
}
