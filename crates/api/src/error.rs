//! The one error type at the HTTP edge: every failure becomes `{"error": code, "message": …}` with the right status.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use picket_core::{CoreError, FieldErrors};
use picket_db::DbError;
use serde::Serialize;

/// An error answer. `code` is a stable snake_case word clients can match on; `message` is for people.
#[derive(Debug, thiserror::Error)]
#[error("{status} {code}: {message}")]
pub struct ApiError {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    /// Per-field messages, present on validation failures (422).
    pub fields: Option<BTreeMap<String, String>>,
    /// Sent as `Retry-After` on 429 and 503.
    pub retry_after: Option<Duration>,
}

#[derive(Serialize)]
struct Body<'a> {
    error: &'a str,
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<&'a BTreeMap<String, String>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            fields: None,
            retry_after: None,
        }
    }

    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, code, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthenticated", message)
    }

    pub fn forbidden(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, code, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, code, message)
    }

    pub fn too_many_requests(retry_after: Duration) -> Self {
        ApiError {
            retry_after: Some(retry_after),
            ..Self::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!(
                    "too many attempts; try again in {} seconds",
                    retry_after.as_secs().max(1)
                ),
            )
        }
    }

    pub fn validation(errors: FieldErrors) -> Self {
        ApiError {
            fields: Some(errors.fields().clone()),
            ..Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_failed",
                errors.to_string(),
            )
        }
    }

    /// A server-side failure: the cause is logged here and the client gets a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(%cause, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "something went wrong on the server; the error has been logged",
        )
    }

    /// Every password-hashing turn is taken (many logins or registrations at once).
    pub fn busy() -> Self {
        ApiError {
            retry_after: Some(Duration::from_secs(2)),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "busy",
                "the server is checking too many passwords at once; try again in a few seconds",
            )
        }
    }

    pub fn unavailable(cause: impl std::fmt::Display) -> Self {
        tracing::warn!(%cause, "database unavailable");
        ApiError {
            retry_after: Some(Duration::from_secs(30)),
            ..Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "the database is unavailable; try again shortly",
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Body {
            error: self.code,
            message: &self.message,
            fields: self.fields.as_ref(),
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        // Every 429 and 503 says when to come back, even where the cause gave no time.
        let retry_after = self.retry_after.or_else(|| {
            matches!(
                self.status,
                StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
            )
            .then_some(Duration::from_secs(
                crate::headers::DEFAULT_RETRY_AFTER_SECS,
            ))
        });
        if let Some(after) = retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(after.as_secs().max(1)),
            );
        }
        response
    }
}

impl From<DbError> for ApiError {
    fn from(error: DbError) -> Self {
        match error {
            DbError::NotFound => ApiError::not_found("no such resource"),
            DbError::Conflict(what) => {
                ApiError::conflict("conflict", format!("{what} already exists"))
            }
            DbError::Unusable(what) => ApiError::conflict(
                "unusable",
                format!("{what} is unknown, expired or already used"),
            ),
            DbError::Stale(_) => ApiError::conflict("changed", error.to_string()),
            DbError::WrongState(why) => ApiError::conflict("wrong_state", why),
            DbError::Unavailable(cause) => ApiError::unavailable(cause),
            other => ApiError::internal(other),
        }
    }
}

impl From<CoreError> for ApiError {
    fn from(error: CoreError) -> Self {
        match error {
            CoreError::Validation(errors) => ApiError::validation(errors),
            other => ApiError::internal(other),
        }
    }
}

impl From<FieldErrors> for ApiError {
    fn from(errors: FieldErrors) -> Self {
        ApiError::validation(errors)
    }
}

impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as R;
        if let R::JsonDataError(_) = &rejection {
            // axum words it "Failed to deserialize …: <path>: <problem>"; the path names the field.
            let text = rejection.body_text();
            let detail = text.split_once(": ").map_or(text.as_str(), |(_, d)| d);
            let fields = detail
                .split_once(": ")
                .filter(|(path, _)| !path.contains(' '))
                .map(|(path, problem)| BTreeMap::from([(path.to_owned(), problem.to_owned())]));
            return ApiError {
                fields,
                ..ApiError::new(rejection.status(), "invalid_fields", text)
            };
        }
        let code = match &rejection {
            R::JsonSyntaxError(_) => "malformed_json",
            R::MissingJsonContentType(_) => "unsupported_media_type",
            _ if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => "payload_too_large",
            _ => "bad_body",
        };
        ApiError::new(rejection.status(), code, rejection.body_text())
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn db_errors_map_to_statuses() {
        assert_eq!(
            ApiError::from(DbError::NotFound).status,
            StatusCode::NOT_FOUND
        );
        assert_eq!(
            ApiError::from(DbError::Conflict("x")).status,
            StatusCode::CONFLICT
        );
        assert_eq!(
            ApiError::from(DbError::Unavailable("down".into())).status,
            StatusCode::SERVICE_UNAVAILABLE
        );
        let response = ApiError::too_many_requests(Duration::from_secs(7)).into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "7");
        let response =
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "no").into_response();
        assert_eq!(response.headers()[header::RETRY_AFTER], "30");
    }
}
