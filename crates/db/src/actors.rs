//! Federation actors as stored: this instance's signing keys, made once per actor and kept, and other servers' actors as last fetched.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::error::conflict_as;
use crate::schema::{actor_keys, remote_actors};
use crate::{DbConn, DbError};

/// A local actor's RSA key pair, PEM-encoded.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = actor_keys)]
pub struct KeyPair {
    pub public_key_pem: String,
    pub private_key_pem: String,
}

/// The key pair of local actor `actor` (`instance`, `u/alice`, `r/mturk/A1…`), if made already.
pub fn key(conn: &mut DbConn, actor: &str) -> Result<Option<KeyPair>, DbError> {
    Ok(actor_keys::table
        .find(actor)
        .select(KeyPair::as_select())
        .first(conn)
        .optional()?)
}

/// Stores a freshly made key pair for `actor`, unless another request stored one first: the
/// key that is kept is returned, so an actor never signs with two keys.
pub fn keep_key(
    conn: &mut DbConn,
    actor: &str,
    made: &KeyPair,
    at: NaiveDateTime,
) -> Result<KeyPair, DbError> {
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(actor_keys::table)
            .values((
                actor_keys::actor.eq(actor),
                actor_keys::public_key_pem.eq(&made.public_key_pem),
                actor_keys::private_key_pem.eq(&made.private_key_pem),
                actor_keys::created_at.eq(at),
            ))
            .execute(conn)
            .map_err(conflict_as("actor key"))
    });
    match inserted {
        Ok(_) => Ok(made.clone()),
        Err(DbError::Conflict(_)) => key(conn, actor)?.ok_or(DbError::NotFound),
        Err(other) => Err(other),
    }
}

/// Another server's actor, as its origin last served it.
#[derive(Debug, Clone, PartialEq, Eq, Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = remote_actors)]
pub struct RemoteActorRow {
    pub url: String,
    /// `Application`, `Person`, `Group` or `Service`.
    pub kind: String,
    pub username: String,
    pub name: Option<String>,
    pub inbox: String,
    pub shared_inbox: Option<String>,
    /// Where its history can be paged, for backfill.
    pub outbox: Option<String>,
    pub public_key_pem: String,
    pub fetched_at: NaiveDateTime,
}

pub fn remote(conn: &mut DbConn, url: &str) -> Result<Option<RemoteActorRow>, DbError> {
    Ok(remote_actors::table
        .find(url)
        .select(RemoteActorRow::as_select())
        .first(conn)
        .optional()?)
}

/// Records a remote actor as just fetched, replacing what was known of it. Two requests that
/// fetched the same new actor at once both end here: the second insert finds the first's row
/// and updates it instead.
pub fn store_remote(conn: &mut DbConn, row: &RemoteActorRow) -> Result<(), DbError> {
    let update = |conn: &mut DbConn| -> Result<usize, DbError> {
        Ok(diesel::update(remote_actors::table.find(&row.url))
            .set(row)
            .execute(conn)?)
    };
    if update(conn)? > 0 {
        return Ok(());
    }
    let inserted = conn.transaction(|conn| {
        diesel::insert_into(remote_actors::table)
            .values(row)
            .execute(conn)
            .map_err(conflict_as("remote actor"))
    });
    match inserted {
        Ok(_) => Ok(()),
        Err(DbError::Conflict(_)) => update(conn).map(drop),
        Err(other) => Err(other),
    }
}

/// Forgets a remote actor (an account deleted on its instance): its name and key are not kept.
pub fn forget_remote(conn: &mut DbConn, url: &str) -> Result<(), DbError> {
    use crate::schema::remote_actors;
    diesel::delete(remote_actors::table.filter(remote_actors::url.eq(url))).execute(conn)?;
    Ok(())
}
