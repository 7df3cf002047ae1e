//! Refuses cross-site request forgery: a state-changing request riding on the session cookie must show it was not sent by another site's form.

use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;

use crate::error::ApiError;
use crate::state::AppState;

/// Lets a request through unless it is a write (not GET, HEAD or OPTIONS) that carries the
/// session cookie and nothing that a cross-site form could not send. A form can post only
/// `application/x-www-form-urlencoded`, `multipart/form-data` or `text/plain`, without an
/// `Authorization` header, and the browser then labels it with its `Origin` and
/// `Sec-Fetch-Site`. So a write passes with a bearer token (browsers never add one), with a
/// JSON body (or CSV for the import), with our own `Origin`, or with `Sec-Fetch-Site`
/// `same-origin` or `none` (typed by the user). Requests without the cookie carry no ambient
/// authority and are left to the handlers (which answer 401 where an account is needed).
pub(crate) async fn guard(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if allowed(
        &state,
        request.method(),
        request.uri().path(),
        request.headers(),
    ) {
        next.run(request).await
    } else {
        ApiError::forbidden(
            "cross_site_request",
            "this request could have come from another site's form, so it is refused: send it \
             with Content-Type: application/json (text/csv for the import), from this \
             instance's own pages, or with an API token",
        )
        .into_response()
    }
}

fn allowed(state: &AppState, method: &Method, path: &str, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return true;
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer "));
    let cookie = CookieJar::from_headers(headers)
        .get(state.settings.cookie_name())
        .is_some();
    if bearer || !cookie {
        return true;
    }
    let essence = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|v| v.trim().to_ascii_lowercase());
    let content_ok = match essence.as_deref() {
        Some("application/json") => true,
        // The import is the one route that takes another body; forms cannot send it either.
        Some("text/csv") => path.ends_with("/admin/import"),
        _ => false,
    };
    content_ok || same_origin(state, headers)
}

/// Whether a browser labelled the request as coming from this instance's own pages: our
/// `Origin`, or `Sec-Fetch-Site` `same-origin` or `none` (typed by the user). The pages' forms
/// need this as well as their token.
pub fn same_origin(state: &AppState, headers: &HeaderMap) -> bool {
    let own_origin = state.settings.public_url.origin().ascii_serialization();
    let origin_ok = headers
        .get(header::ORIGIN)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|origin| origin.trim_end_matches('/') == own_origin);
    let fetch_site_ok = headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|site| matches!(site, "same-origin" | "none"));
    origin_ok || fetch_site_ok
}
