//! Queries on accounts.

use diesel::prelude::*;
use picket_core::accounts::AccountStatus;

use crate::error::conflict_as;
use crate::models::{NewUser, UserRow, now};
use crate::schema::users;
use crate::{DbConn, DbError};

/// Inserts an account; a taken username (deleted accounts included) is `Conflict("username")`.
pub fn create(conn: &mut DbConn, new: &NewUser<'_>) -> Result<UserRow, DbError> {
    diesel::insert_into(users::table)
        .values(new)
        .returning(users::all_columns)
        .get_result(conn)
        .map_err(conflict_as("username"))
}

pub fn by_id(conn: &mut DbConn, id: i64) -> Result<UserRow, DbError> {
    Ok(users::table
        .find(id)
        .select(UserRow::as_select())
        .first(conn)?)
}

pub fn by_username(conn: &mut DbConn, username: &str) -> Result<UserRow, DbError> {
    Ok(users::table
        .filter(users::username.eq(username))
        .select(UserRow::as_select())
        .first(conn)?)
}

pub fn set_status(conn: &mut DbConn, id: i64, status: AccountStatus) -> Result<(), DbError> {
    let updated = diesel::update(users::table.find(id))
        .set((
            users::status.eq(status.as_str()),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    found(updated)
}

pub fn set_password_hash(conn: &mut DbConn, id: i64, hash: &str) -> Result<(), DbError> {
    let updated = diesel::update(users::table.find(id))
        .set((users::password_hash.eq(hash), users::updated_at.eq(now())))
        .execute(conn)?;
    found(updated)
}

/// Marks an account as speaking for a requester (`Some`), or as a worker's again (`None`).
pub fn set_speaks_for(
    conn: &mut DbConn,
    id: i64,
    requester_pk: Option<i64>,
) -> Result<(), DbError> {
    let updated = diesel::update(users::table.find(id))
        .set((
            users::speaks_for.eq(requester_pk),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    found(updated)
}

/// Deletes an account: its reviews, incidents and comments become tombstones, its corroborations, follows,
/// notifications, feed token and sessions go, the invites and open reports it made or used no
/// longer name it, and its personal data is erased. The name stays as a stub, so nobody can
/// re-register it and pass as the former owner.
pub fn erase(conn: &mut DbConn, id: i64) -> Result<(), DbError> {
    use crate::schema::{corroborations, feed_tokens, follows, notifications};
    let at = now();
    let username = users::table
        .find(id)
        .select(users::username)
        .first::<String>(conn)?;
    crate::reviews::delete_all_by_author(conn, id, at)?;
    for incident in crate::incidents::list_by_author(conn, id)? {
        crate::incidents::delete(conn, &incident, at)?;
    }
    // Withdrawn, so the withdrawal federates; the tombstones keep no link to the account.
    for row in crate::incidents::corroborations_by_author(conn, id)? {
        crate::incidents::withdraw_corroboration(conn, row.incident_pk, id, at)?;
    }
    diesel::update(corroborations::table.filter(corroborations::author_id.eq(id)))
        .set(corroborations::author_id.eq(None::<i64>))
        .execute(conn)?;
    for row in crate::comments::by_author(conn, id)? {
        crate::comments::delete(conn, &row, at)?;
    }
    for row in crate::facts::by_author(conn, id)? {
        crate::facts::delete(conn, &row, at)?;
    }
    crate::campaigns::forget_signer(conn, id)?;
    diesel::delete(follows::table.filter(follows::user_id.eq(id))).execute(conn)?;
    diesel::delete(
        crate::schema::platform_follows::table
            .filter(crate::schema::platform_follows::user_id.eq(id)),
    )
    .execute(conn)?;
    // The campaigns it opened stay (they are their signers'), no longer naming it.
    diesel::update(
        crate::schema::campaigns::table.filter(crate::schema::campaigns::author_id.eq(id)),
    )
    .set(crate::schema::campaigns::author_id.eq(None::<i64>))
    .execute(conn)?;
    diesel::delete(notifications::table.filter(notifications::user_id.eq(id))).execute(conn)?;
    diesel::delete(feed_tokens::table.filter(feed_tokens::user_id.eq(id))).execute(conn)?;
    crate::invites::forget_account(conn, id)?;
    crate::moderation::forget_reporter(conn, id)?;
    crate::totp::remove(conn, id)?;
    diesel::delete(
        crate::schema::password_resets::table
            .filter(crate::schema::password_resets::user_id.eq(id)),
    )
    .execute(conn)?;
    let updated = diesel::update(users::table.find(id))
        .set((
            users::password_hash.eq(None::<String>),
            users::email.eq(None::<String>),
            users::status.eq(AccountStatus::Deleted.as_str()),
            users::updated_at.eq(now()),
        ))
        .execute(conn)?;
    found(updated)?;
    crate::sessions::revoke_all(conn, id, None)?;
    crate::requesters::forget_voter(conn, &format!("local:{id}"))?;
    // Other instances hear that the account is gone (`Delete` of its actor, from the
    // instance), and erase what they hold of it.
    crate::events::record(
        conn,
        crate::events::ObjectType::Account,
        crate::events::EventKind::Delete,
        &username,
        at,
    )?;
    Ok(())
}

pub(crate) fn found(rows: usize) -> Result<(), DbError> {
    if rows == 0 {
        Err(DbError::NotFound)
    } else {
        Ok(())
    }
}

/// How many accounts can sign in: what NodeInfo reports as the instance's users.
pub fn count_active(conn: &mut DbConn) -> Result<i64, DbError> {
    Ok(users::table
        .filter(users::status.eq(AccountStatus::Active.as_str()))
        .count()
        .get_result(conn)?)
}

/// Every account that has not been deleted, oldest first, optionally only those with `role`:
/// what `picket admin users list` prints.
pub fn list(conn: &mut DbConn, role: Option<&str>) -> Result<Vec<UserRow>, DbError> {
    let mut query = users::table
        .filter(users::status.ne(AccountStatus::Deleted.as_str()))
        .order(users::id)
        .select(UserRow::as_select())
        .into_boxed();
    if let Some(role) = role {
        query = query.filter(users::role.eq(role.to_owned()));
    }
    Ok(query.load(conn)?)
}

/// Gives an account another role. A deleted account keeps none: `WrongState`.
pub fn set_role(
    conn: &mut DbConn,
    id: i64,
    role: picket_core::accounts::Role,
) -> Result<(), DbError> {
    let updated = diesel::update(
        users::table
            .find(id)
            .filter(users::status.ne(AccountStatus::Deleted.as_str())),
    )
    .set((users::role.eq(role.as_str()), users::updated_at.eq(now())))
    .execute(conn)?;
    if updated == 0 {
        return Err(DbError::WrongState("the account was deleted"));
    }
    Ok(())
}
