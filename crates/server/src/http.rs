//! Serving HTTP with bounds: header-read and request timeouts, a cap on requests in flight, and a graceful shutdown that ends after a set time, so slow or stalled clients cannot hold the server.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::IntoResponse;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use picket_api::ApiError;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

/// How long clients may take and how many may be served at once (from `[server]` in the config).
#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    /// From accepting a connection (or the end of the previous request on it) to the end of the
    /// request's headers. A client that stalls within its headers is disconnected.
    pub header_read_timeout: Duration,
    /// From the end of the headers to the response's headers, including reading the body.
    pub request_timeout: Duration,
    /// Requests handled at once; more are refused with 503 rather than queued without bound.
    pub max_concurrent_requests: usize,
    /// How long in-flight requests may go on after a shutdown begins before they are cut off.
    pub shutdown_timeout: Duration,
}

/// Wraps `app` in the request timeout and the concurrency cap. The cap is outermost, so a refused
/// request costs nothing more than the refusal. A permit is held until the response's headers
/// are ready; a streamed body (an export) then finishes without holding one.
pub fn bounded(app: Router, limits: ServeLimits) -> Router {
    let permits = Arc::new(Semaphore::new(limits.max_concurrent_requests));
    let timeout = limits.request_timeout;
    app.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| {
            let permits = Arc::clone(&permits);
            async move {
                let Ok(_permit) = permits.try_acquire_owned() else {
                    return overloaded().into_response();
                };
                // What the timeout guards against is a body sent too slowly. A request without
                // one (the lookups, every page view) skips the timer, which every request would
                // otherwise register and remove in the runtime's shared timer wheel.
                if !may_have_body(&request) {
                    return next.run(request).await;
                }
                match tokio::time::timeout(timeout, next.run(request)).await {
                    Ok(response) => response,
                    Err(_) => timed_out(timeout).into_response(),
                }
            }
        },
    ))
}

/// Whether a request can carry a body: a method that takes one, or a length or chunked encoding.
fn may_have_body(request: &Request) -> bool {
    use axum::http::{Method, header};
    !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) || request.headers().contains_key(header::TRANSFER_ENCODING)
        || request
            .headers()
            .get(header::CONTENT_LENGTH)
            .is_some_and(|length| length.as_bytes() != b"0")
}

fn overloaded() -> ApiError {
    ApiError {
        retry_after: Some(Duration::from_secs(1)),
        ..ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "overloaded",
            "the server is handling too many requests; try again in a moment",
        )
    }
}

fn timed_out(timeout: Duration) -> ApiError {
    ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!(
            "the request was not completed within {} seconds (a body sent too slowly, or the server too busy)",
            timeout.as_secs_f64()
        ),
    )
}

/// Serves `app` on `listener` until `stop` resolves, then stops accepting, lets in-flight
/// requests finish for at most `limits.shutdown_timeout`, and cuts off whatever is left.
/// (`axum::serve` can neither set hyper's header-read timeout nor bound its graceful shutdown.)
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ServeLimits,
    stop: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    let graceful = GracefulShutdown::new();
    // Connection tasks are kept in a set so that those still running after the bound can be
    // aborted: in a test process, several instances share one runtime and must not leak tasks.
    let mut connections = JoinSet::new();
    tokio::pin!(stop);
    loop {
        while connections.try_join_next().is_some() {}
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // Running out of file descriptors and the like: the next accept may succeed,
                    // so wait a moment instead of spinning or ending the server.
                    tracing::warn!(%error, "cannot accept a connection");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut stop => break,
        };
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(app.clone()));
        let connection = graceful.watch(connection);
        connections.spawn(async move {
            if let Err(error) = connection.await {
                // Clients that go away or time out are routine; nothing to act on.
                tracing::debug!(%error, "connection ended with an error");
            }
        });
    }
    drop(listener);
    if tokio::time::timeout(limits.shutdown_timeout, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!(
            seconds = limits.shutdown_timeout.as_secs_f64(),
            connections = connections.len(),
            "requests still in flight after the shutdown timeout are cut off"
        );
    }
    connections.shutdown().await;
    Ok(())
}

/// The metrics listener's one route: `/metrics` in Prometheus' text format, with the delivery
/// backlog and the pool's figures read at scrape time.
pub fn metrics_app(db: picket_db::Db, metrics: picket_metrics::Metrics) -> Router {
    Router::new().route(
        "/metrics",
        axum::routing::get(move || {
            let (db, metrics) = (db.clone(), metrics.clone());
            async move {
                let backlog = db.run(picket_db::delivery::backlog).await;
                let pool = db.pool_stats();
                let (queue_depth, oldest) = match backlog {
                    Ok(backlog) => backlog,
                    Err(error) => {
                        tracing::warn!(%error, "metrics: cannot read the delivery backlog");
                        return StatusCode::SERVICE_UNAVAILABLE.into_response();
                    }
                };
                let oldest_pending_seconds = oldest.map_or(0.0, |at| {
                    #[allow(clippy::cast_precision_loss)]
                    let ms = (picket_db::models::now() - at).num_milliseconds().max(0) as f64;
                    ms / 1000.0
                });
                let text = metrics.render(&picket_metrics::Snapshot {
                    queue_depth: u64::try_from(queue_depth).unwrap_or(0),
                    oldest_pending_seconds,
                    pool_size: pool.connections.into(),
                    pool_in_use: pool.in_use.into(),
                    pool_waits: pool.waits,
                    pool_wait_seconds: pool.wait_seconds,
                });
                (
                    [(
                        axum::http::header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    text,
                )
                    .into_response()
            }
        }),
    )
}
