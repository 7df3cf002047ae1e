//! Extractors that turn a request into checked inputs: JSON bodies in our error format, and the authenticated account.

use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use picket_core::accounts::{AccountStatus, Role};
use picket_core::secrets::secret_digest;
use picket_db::models::{SessionRow, UserRow, now};

use crate::error::ApiError;
use crate::state::AppState;

/// `axum::Json`, but malformed or oversized bodies come back as our JSON error, not plain text.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppJson<T>(pub T);

impl<S, T> FromRequest<S> for AppJson<T>
where
    axum::Json<T>: FromRequest<S, Rejection = axum::extract::rejection::JsonRejection>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, ApiError> {
        let axum::Json(value) = axum::Json::<T>::from_request(req, state).await?;
        Ok(AppJson(value))
    }
}

/// The signed-in account behind a request, from `Authorization: Bearer` or the session cookie.
#[derive(Debug, Clone)]
pub struct CurrentUser {
    pub user: UserRow,
    pub session: SessionRow,
}

impl CurrentUser {
    pub fn role(&self) -> Role {
        self.user.role()
    }

    /// Refuses with 403 unless the account holds at least `role`.
    pub fn require(&self, role: Role) -> Result<(), ApiError> {
        if self.role() >= role {
            Ok(())
        } else {
            Err(ApiError::forbidden(
                "forbidden",
                format!("this action needs the {role} role"),
            ))
        }
    }
}

/// The raw secret a request presents, if any. A bearer token wins over the cookie.
pub(crate) fn presented_secret(parts: &Parts, cookie_name: &str) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    CookieJar::from_headers(&parts.headers)
        .get(cookie_name)
        .map(|c| c.value().to_owned())
}

impl FromRequestParts<AppState> for CurrentUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let secret = presented_secret(parts, state.settings.cookie_name()).ok_or_else(|| {
            ApiError::unauthorized("sign in first: no session cookie or bearer token")
        })?;
        let digest = secret_digest(&secret);
        let found = state
            .db
            .run(move |conn| picket_db::sessions::lookup(conn, &digest, now()))
            .await?;
        let (session, user) = found.ok_or_else(|| {
            ApiError::unauthorized("the session or token is invalid, expired or revoked")
        })?;
        match user.status() {
            AccountStatus::Active => Ok(CurrentUser { user, session }),
            AccountStatus::Suspended => Err(ApiError::forbidden(
                "account_suspended",
                "this account is suspended",
            )),
            AccountStatus::Pending => Err(ApiError::forbidden(
                "account_pending",
                "this account awaits a moderator's approval",
            )),
            AccountStatus::Deleted => Err(ApiError::unauthorized("this account was deleted")),
        }
    }
}
