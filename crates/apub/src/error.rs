//! Federation errors, and how each answers over HTTP in the same `{"error", "message"}` shape as the rest of the instance.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use picket_db::DbError;

/// Why a federation request or fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum ApubError {
    /// The actor or object asked for is not on this instance.
    #[error("{0}")]
    NotFound(&'static str),
    /// The request itself is malformed (a WebFinger resource that is no `acct:` URI, say).
    #[error("{0}")]
    BadRequest(String),
    /// A request body over the limit (in bytes).
    #[error("the body is larger than {0} bytes")]
    TooLarge(usize),
    /// What another server sent or served does not hold together (an actor whose key belongs to someone else).
    #[error("invalid remote data: {0}")]
    Invalid(String),
    /// The database failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The federation library refused or failed (fetch, signature, URL checks).
    #[error("federation: {0}")]
    Federation(#[from] activitypub_federation::error::Error),
    /// Federation policy refuses the other instance (a blocked domain, or one not allowed).
    #[error("{0}")]
    Forbidden(String),
    /// The other instance sent more than its share; try again after the duration.
    #[error("too many activities from this instance; try again in {} s", .0.as_secs().max(1))]
    TooMany(std::time::Duration),
    /// A server was asked too often, or failed lately, and is left alone for the duration.
    #[error("that server failed or was asked too often lately; try again in {} s", .0.as_secs().max(1))]
    Backoff(std::time::Duration),
    /// Making a key pair failed, or its blocking task died.
    #[error("key generation failed: {0}")]
    Keys(String),
    /// An inbox post whose HTTP signature is missing or too weak, refused before any fetch.
    #[error("{0}")]
    Signature(#[from] crate::signature::SignatureError),
    /// Another server could not be reached or did not answer usably (in our words).
    #[error("that server could not be reached: {0}")]
    Unreachable(String),
    /// Work on one incoming request ran past its budget.
    #[error("the work this request caused took too long; try again later")]
    Deadline,
}

/// Longest detail of a library error written to the log: a fetched body can be huge.
const MAX_LOGGED_DETAIL: usize = 300;

/// `text` cut to `MAX_LOGGED_DETAIL` characters, for the log.
pub(crate) fn truncated(text: &str) -> String {
    match text.char_indices().nth(MAX_LOGGED_DETAIL) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

impl ApubError {
    /// What a caller is told: fixed words for what the federation library reports, whose
    /// messages can carry another server's whole answer; the details go to the log, cut short.
    pub fn public_message(&self) -> String {
        use activitypub_federation::error::Error;
        match self {
            ApubError::Federation(error) => {
                tracing::info!(error = %truncated(&error.to_string()), "federation refused");
                match error {
                    Error::NotFound => "no such object".into(),
                    Error::ActivityBodyDigestInvalid => {
                        "the Digest header does not match the body".into()
                    }
                    Error::ActivitySignatureInvalid => "the HTTP signature does not verify".into(),
                    Error::ParseReceivedActivity { .. } => {
                        "the activity is not one this instance can read".into()
                    }
                    Error::UrlVerificationError(reason) => {
                        format!("a URL was refused: {reason}")
                    }
                    Error::RequestLimit => "the activity needs too many fetches".into(),
                    Error::ObjectDeleted(_) => "the object was deleted".into(),
                    Error::WebfingerResolveFailed(_) => "no such account on that server".into(),
                    _ => "the other server's answer could not be used".into(),
                }
            }
            ApubError::Db(DbError::Unavailable(_) | DbError::Stale(_)) => {
                "the database is busy or unavailable; try again shortly".into()
            }
            other => truncated(&other.to_string()),
        }
    }

    /// Whether the actor or object asked for does not exist (here or on its server), as
    /// opposed to a request that was refused or failed.
    pub fn is_not_found(&self) -> bool {
        use activitypub_federation::error::Error;
        matches!(
            self,
            ApubError::NotFound(_)
                | ApubError::Db(DbError::NotFound)
                | ApubError::Federation(Error::NotFound | Error::WebfingerResolveFailed(_))
        )
    }
}

impl ApubError {
    /// How the metrics count an inbox post that failed with this error.
    pub fn inbox_outcome(&self) -> picket_metrics::InboxOutcome {
        use picket_metrics::InboxOutcome;
        match self {
            ApubError::Forbidden(_) => InboxOutcome::Refused,
            ApubError::TooMany(_) | ApubError::Backoff(_) => InboxOutcome::RateLimited,
            ApubError::BadRequest(_)
            | ApubError::Invalid(_)
            | ApubError::TooLarge(_)
            | ApubError::Signature(_)
            | ApubError::NotFound(_)
            | ApubError::Federation(_)
            | ApubError::Db(DbError::WrongState(_) | DbError::NotFound) => InboxOutcome::Invalid,
            ApubError::Unreachable(_)
            | ApubError::Deadline
            | ApubError::Db(DbError::Unavailable(_) | DbError::Stale(_)) => InboxOutcome::Deferred,
            _ => InboxOutcome::Error,
        }
    }
}

impl IntoResponse for ApubError {
    fn into_response(self) -> Response {
        let (status, code) = match &self {
            ApubError::NotFound(_) | ApubError::Db(DbError::NotFound) => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            ApubError::BadRequest(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            ApubError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
            ApubError::TooMany(wait) | ApubError::Backoff(wait) => {
                let body =
                    serde_json::json!({"error": "rate_limited", "message": self.to_string()});
                return (
                    StatusCode::TOO_MANY_REQUESTS,
                    [(
                        axum::http::header::RETRY_AFTER,
                        wait.as_secs().max(1).to_string(),
                    )],
                    axum::Json(body),
                )
                    .into_response();
            }
            ApubError::TooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            ApubError::Federation(
                activitypub_federation::error::Error::ActivitySignatureInvalid,
            )
            | ApubError::Signature(_) => (StatusCode::UNAUTHORIZED, "signature_invalid"),
            ApubError::Invalid(_)
            | ApubError::Federation(_)
            | ApubError::Db(DbError::WrongState(_)) => {
                (StatusCode::BAD_REQUEST, "federation_refused")
            }
            ApubError::Unreachable(_) => (StatusCode::BAD_GATEWAY, "unreachable"),
            // Stale: lost a race with another activity about the same rows; worth a retry.
            ApubError::Db(DbError::Unavailable(_) | DbError::Stale(_)) | ApubError::Deadline => {
                let body =
                    serde_json::json!({"error": "unavailable", "message": self.public_message()});
                return (
                    StatusCode::SERVICE_UNAVAILABLE,
                    [(axum::http::header::RETRY_AFTER, "30".to_owned())],
                    axum::Json(body),
                )
                    .into_response();
            }
            ApubError::Db(_) | ApubError::Keys(_) => {
                tracing::error!(error = %self, "federation request failed");
                return (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    axum::Json(serde_json::json!({
                        "error": "internal",
                        "message": "something went wrong on the server; the error has been logged",
                    })),
                )
                    .into_response();
            }
        };
        let body = serde_json::json!({"error": code, "message": self.public_message()});
        (status, axum::Json(body)).into_response()
    }
}
