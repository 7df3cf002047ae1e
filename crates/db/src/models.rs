//! Row types as stored, plus the conversions to domain words that the rest of Picket uses.

use chrono::NaiveDateTime;
use diesel::prelude::*;
use picket_core::accounts::{AccountStatus, Role};

use crate::schema::{invites, sessions, users};

/// Current time as stored: UTC without an offset, the one timestamp type both backends share,
/// cut to microseconds (PostgreSQL's precision) so a value reads back exactly as it was written.
pub fn now() -> NaiveDateTime {
    use chrono::SubsecRound;
    chrono::Utc::now().naive_utc().trunc_subsecs(6)
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = users)]
pub struct UserRow {
    pub id: i64,
    pub username: String,
    pub password_hash: Option<String>,
    pub email: Option<String>,
    pub role: String,
    pub status: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The requester an admin has found this account speaks for: it may only comment, and its
    /// comments are shown as the requester's.
    pub speaks_for: Option<i64>,
}

impl UserRow {
    /// A CHECK constraint keeps the column valid; should it ever not be, fall back to the least privilege.
    pub fn role(&self) -> Role {
        self.role.parse().unwrap_or(Role::Worker)
    }

    /// As with `role`, an unreadable status denies access rather than granting it.
    pub fn status(&self) -> AccountStatus {
        self.status.parse().unwrap_or(AccountStatus::Suspended)
    }
}

#[derive(Debug, Insertable)]
#[diesel(table_name = users)]
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password_hash: Option<&'a str>,
    pub email: Option<&'a str>,
    pub role: &'a str,
    pub status: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What kind of credential a session row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionKind {
    /// A browser login, carried in a cookie.
    Cookie,
    /// A named API token for scripts and tools, sent as `Authorization: Bearer`.
    Api,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SessionKind::Cookie => "cookie",
            SessionKind::Api => "api",
        }
    }
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = sessions)]
pub struct SessionRow {
    pub id: i64,
    pub user_id: i64,
    pub token_digest: String,
    pub kind: String,
    pub label: Option<String>,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Insertable)]
#[diesel(table_name = sessions)]
pub struct NewSession<'a> {
    pub user_id: i64,
    pub token_digest: &'a str,
    pub kind: &'a str,
    pub label: Option<&'a str>,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = invites)]
pub struct InviteRow {
    pub id: i64,
    pub code_digest: String,
    pub created_by: Option<i64>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used_by: Option<i64>,
    pub used_at: Option<NaiveDateTime>,
}
