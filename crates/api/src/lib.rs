//! Picket's HTTP edge: routes, thin handlers that call the domain and the database, and the JSON error format.

mod error;
mod extract;
mod logging;
mod routes;
mod state;

pub use error::{ApiError, ApiResult};
pub use extract::{AppJson, CurrentUser};
pub use state::{AppState, Settings};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};

/// Largest JSON body the API accepts; larger ones get 413 before any parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every route of the instance, ready to serve.
pub fn router(state: AppState) -> Router {
    let api = Router::new()
        .route("/accounts", post(routes::accounts::register))
        .route(
            "/account",
            get(routes::accounts::me).delete(routes::accounts::delete),
        )
        .route("/account/password", post(routes::accounts::change_password))
        .route("/auth/login", post(routes::sessions::login))
        .route("/auth/logout", post(routes::sessions::logout))
        .route("/auth/tokens", post(routes::sessions::create_token))
        .route("/invites", post(routes::invites::create));
    Router::new()
        .route("/healthz", get(routes::health::healthz))
        .nest("/api/v1", api)
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::from_fn(logging::log_request))
        .with_state(state)
}
