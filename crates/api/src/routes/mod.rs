//! Route handlers, one module per resource; each handler validates, calls the domain and the database, and shapes the answer.

pub(crate) mod accounts;
pub(crate) mod compat;
pub(crate) mod export;
pub(crate) mod feeds;
pub(crate) mod health;
pub(crate) mod import;
pub(crate) mod incidents;
pub(crate) mod invites;
pub(crate) mod notifications;
pub(crate) mod requesters;
pub(crate) mod reviews;
pub(crate) mod sessions;

use crate::error::ApiError;
use axum::http::StatusCode;

/// Runs CPU-heavy work (password hashing) on the blocking pool so it never stalls other requests.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(ApiError::internal)?
}

pub(crate) async fn not_found() -> ApiError {
    ApiError::not_found("no such endpoint")
}

pub(crate) async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not accept that method",
    )
}
