//! What a page shows when something fails: the API's error, in words, on an HTML page with the same status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use picket_api::ApiError;

/// A failed page request. Every error the JSON API can give becomes a page saying the same
/// thing; a page that needs an account sends a signed-out visitor to the login form.
#[derive(Debug, thiserror::Error)]
pub enum PageError {
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("sign in first")]
    SignIn,
}

impl From<picket_db::DbError> for PageError {
    fn from(error: picket_db::DbError) -> Self {
        PageError::Api(error.into())
    }
}

pub type PageResult<T = Response> = Result<T, PageError>;

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let error = match self {
            PageError::SignIn => return Redirect::to("/login").into_response(),
            PageError::Api(error) => error,
        };
        let status = error.status;
        let title = match status {
            StatusCode::NOT_FOUND => "Not found",
            StatusCode::GONE => "Deleted",
            StatusCode::FORBIDDEN => "Not allowed",
            StatusCode::UNAUTHORIZED => "Sign in first",
            StatusCode::TOO_MANY_REQUESTS => "Slow down",
            StatusCode::SERVICE_UNAVAILABLE => "Busy",
            s if s.is_server_error() => "Something went wrong",
            _ => "That did not work",
        };
        let body = html! {
            h1 { (title) }
            p.error-message { (sentence(&error.message)) }
            @if let Some(fields) = &error.fields {
                ul { @for (field, message) in fields { li { (field) ": " (message) } } }
            }
            p { a href="/" { "Go to the home page" } }
        };
        let mut response = crate::render::bare_page(title, body).into_response();
        *response.status_mut() = status;
        if let Some(retry) = error.retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(retry.as_secs().max(1)),
            );
        }
        response
    }
}

/// The API's messages are lower-case clauses; a page shows them as sentences.
pub fn sentence(message: &str) -> String {
    let mut chars = message.chars();
    let mut out: String = match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => return String::new(),
    };
    if !out.ends_with(['.', '!', '?']) {
        out.push('.');
    }
    out
}
