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

/// `axum::extract::Query`, but a malformed query string (a number that is not one, a repeated
/// key) comes back as our JSON error with status 400, not as plain text.
#[derive(Debug, Clone, Copy, Default)]
pub struct AppQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for AppQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        axum::extract::Query::<T>::try_from_uri(&parts.uri)
            .map(|query| AppQuery(query.0))
            .map_err(|rejection| ApiError::bad_request("bad_query", rejection.body_text()))
    }
}

/// Fields of a flattened JSON body that no known field took. Serde cannot deny unknown fields
/// through `flatten`, so request bodies collect the leftovers here and refuse them explicitly.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(transparent)]
pub struct Unknown(std::collections::BTreeMap<String, serde_json::Value>);

impl Unknown {
    /// 422 naming every unknown field, so a misspelt field is noticed rather than silently dropped.
    pub fn reject(&self) -> Result<(), ApiError> {
        if self.0.is_empty() {
            return Ok(());
        }
        let mut errors = picket_core::FieldErrors::new();
        for field in self.0.keys() {
            errors.add(field, "unknown field");
        }
        Err(ApiError::validation(errors))
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

    /// Refuses with 403 an account an admin marked as speaking for a requester: it has a
    /// right of reply in comments, and no say in the figures (reviews, incidents,
    /// corroborations, reports).
    pub fn require_worker_voice(&self) -> Result<(), ApiError> {
        match self.user.speaks_for {
            None => Ok(()),
            Some(_) => Err(ApiError::forbidden(
                "requester_voice",
                "this account speaks for a requester: it can comment, but not review, report, corroborate or import",
            )),
        }
    }
}

/// The raw secret a request presents, if any. A bearer token wins over the cookie.
pub fn presented_secret(parts: &Parts, cookie_name: &str) -> Option<String> {
    if let Some(value) = parts.headers.get(header::AUTHORIZATION) {
        let value = value.to_str().ok()?;
        return value.strip_prefix("Bearer ").map(|t| t.trim().to_owned());
    }
    CookieJar::from_headers(&parts.headers)
        .get(cookie_name)
        .map(|c| c.value().to_owned())
}

/// The signed-in account if the request carries a credential, `None` for anonymous readers.
/// A credential that is present but invalid is still refused, so a stale token is noticed.
#[derive(Debug, Clone)]
pub struct MaybeUser(pub Option<CurrentUser>);

impl MaybeUser {
    pub fn id(&self) -> Option<i64> {
        self.0.as_ref().map(|c| c.user.id)
    }

    pub fn can_moderate(&self) -> bool {
        self.0.as_ref().is_some_and(|c| c.role().can_moderate())
    }
}

impl FromRequestParts<AppState> for MaybeUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if presented_secret(parts, state.settings.cookie_name()).is_none() {
            return Ok(MaybeUser(None));
        }
        CurrentUser::from_request_parts(parts, state)
            .await
            .map(|c| MaybeUser(Some(c)))
    }
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

/// The session cookie's secret, if the request carries one (pages derive their form token from it).
pub fn presented_cookie(parts: &Parts, state: &AppState) -> Option<String> {
    CookieJar::from_headers(&parts.headers)
        .get(state.settings.cookie_name())
        .map(|c| c.value().to_owned())
}
