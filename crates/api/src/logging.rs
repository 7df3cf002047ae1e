//! Request logging that records what happened but never who asked: no addresses, no query strings, no bodies (see docs/LOGGING.md).

use std::time::Instant;

use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::Response;

/// Logs method, route template (not the raw path, which may carry ids or tokens), status and
/// duration: at `info` for writes and errors, at `debug` for routine reads (a GET or HEAD
/// answered 2xx, 3xx or 404), which the Turkopticon lookups make many times a second and
/// which would otherwise be most of the log and a real share of the server's work.
///
/// The same layer adds the security headers (`headers::secure`) to every answer: one layer
/// around every request rather than two, since each costs the hottest requests a little.
/// It also counts and times the request in the metrics, under its route template.
pub(crate) async fn edge(
    axum::extract::State(metrics): axum::extract::State<picket_metrics::Metrics>,
    request: Request,
    next: Next,
) -> Response {
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().cloned();
    let started = Instant::now();
    let mut response = next.run(request).await;
    crate::headers::secure(&mut response);
    let status = response.status();
    metrics.http_request(
        route.as_ref().map(MatchedPath::as_str),
        method.as_str(),
        status.as_u16(),
        started.elapsed(),
    );
    let routine = matches!(
        method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    ) && (status.is_success()
        || status.is_redirection()
        || status == axum::http::StatusCode::NOT_FOUND);
    let ms = started.elapsed().as_millis() as u64;
    let route = route.as_ref().map_or("(unmatched)", MatchedPath::as_str);
    if routine {
        tracing::debug!(%method, route, status = status.as_u16(), ms, "request");
    } else {
        tracing::info!(%method, route, status = status.as_u16(), ms, "request");
    }
    response
}
