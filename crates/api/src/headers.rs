//! Security headers on every response the instance sends (API, feeds, Turkopticon lookups, federation, errors), set in one layer so no route can forget them.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;

/// For responses whose handler chose no policy (JSON, Atom, ActivityPub): nothing in them may
/// load or run anything, and no page may frame them.
const DEFAULT_CSP: &str =
    "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// Seconds a client should wait after a 429 or 503 that did not say how long.
pub(crate) const DEFAULT_RETRY_AFTER_SECS: u64 = 30;

/// Adds `X-Content-Type-Options: nosniff` (a browser never reads JSON or CSV as HTML or script),
/// `Referrer-Policy: same-origin` (links in feeds do not leak our URLs, which may carry feed
/// tokens), a default CSP where the handler set none, and `Retry-After` on every 429 and 503
/// that lacks one, whichever layer produced it.
pub(crate) fn secure(response: &mut Response) {
    let status = response.status();
    let headers = response.headers_mut();
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    if !headers.contains_key(header::CONTENT_SECURITY_POLICY) {
        headers.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(DEFAULT_CSP),
        );
    }
    if matches!(
        status,
        StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
    ) && !headers.contains_key(header::RETRY_AFTER)
    {
        headers.insert(
            header::RETRY_AFTER,
            HeaderValue::from(DEFAULT_RETRY_AFTER_SECS),
        );
    }
}
