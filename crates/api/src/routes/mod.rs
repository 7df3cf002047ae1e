//! Route handlers, one module per resource; each handler validates, calls the domain and the database, and shapes the answer.

pub mod accounts;
pub mod admin;
pub mod campaigns;
pub mod comments;
pub mod compat;
pub mod export;
pub mod facts;
pub mod feeds;
pub mod health;
pub mod import;
pub mod incidents;
pub mod invites;
pub mod moderation;
pub mod notifications;
pub mod platforms;
pub mod remote_follows;
pub mod requesters;
pub mod reviews;
pub mod sessions;
pub mod totp;

use crate::error::ApiError;
use crate::extract::CurrentUser;
use axum::http::StatusCode;
use picket_db::{DbConn, DbError};

/// Maps "no such row" to a 404 that says what was looked for; other errors keep their mapping.
pub fn not_found_as(message: &'static str) -> impl Fn(DbError) -> ApiError {
    move |error| match error {
        DbError::NotFound => ApiError::not_found(message),
        other => other.into(),
    }
}

/// Refuses with 403 unless `user` wrote the row: nobody edits or deletes another's content.
pub fn require_author(
    author_id: Option<i64>,
    user: &CurrentUser,
    what: &str,
) -> Result<(), ApiError> {
    if author_id == Some(user.user.id) {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "not_author",
            format!("only the author can change this {what}"),
        ))
    }
}

/// The username of a row's author, if it has one (imported history has none).
pub fn author_name(conn: &mut DbConn, author_id: Option<i64>) -> Result<Option<String>, DbError> {
    author_id
        .map(|id| picket_db::users::by_id(conn, id).map(|user| user.username))
        .transpose()
}

pub async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

pub async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method",
    )
}
