//! Picket's HTTP edge: routes, thin handlers that call the domain and the database, and the JSON error format.

mod csrf;
mod error;
mod extract;
#[cfg(test)]
mod hashing_tests;
mod headers;
mod logging;
pub mod lookups;
pub mod openapi;
mod remote;
pub mod routes;
mod state;
pub mod views;

pub use csrf::same_origin;
pub use error::{ApiError, ApiResult};
pub use extract::{AppJson, AppQuery, CurrentUser, MaybeUser, Unknown, presented_cookie};
pub use remote::{Followed, FollowedRequester, Remote, RemoteError};
pub use state::{AppState, Settings};

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::Method;
use axum::routing::{delete, get, post, put};
use tower_http::cors::CorsLayer;

/// Largest JSON body the API accepts; larger ones get 413 before any parsing.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Every route of the instance, ready to serve. `federation` holds routes served beside the API
/// (ActivityPub actors, WebFinger, NodeInfo) that share its logging, body limit and CORS.
///
/// `pages` attaches the HTML pages (`picket-web`) inside the logging and security-header layers;
/// pass `std::convert::identity` for an API-only router.
pub fn router(state: AppState, federation: Router, pages: impl FnOnce(Router) -> Router) -> Router {
    use routes::{
        accounts, admin, campaigns, comments, compat, export, facts, feeds, import, incidents,
        invites, moderation, notifications, platforms, remote_follows, requesters, reviews,
        sessions, totp,
    };
    let metrics = state.metrics.clone();
    let api = Router::new()
        .route("/accounts", post(accounts::register))
        .route("/account", get(accounts::me).delete(accounts::delete))
        .route("/account/password", post(accounts::change_password))
        .route("/account/totp", post(totp::enrol).delete(totp::disable))
        .route("/account/totp/confirm", post(totp::confirm))
        .route("/account/reviews", get(reviews::mine))
        .route("/account/follows", get(notifications::followed))
        .route(
            "/account/remote-follows",
            get(remote_follows::list)
                .post(remote_follows::follow)
                .delete(remote_follows::unfollow),
        )
        .route(
            "/account/feed-token",
            post(notifications::rotate_feed_token),
        )
        .route("/account/export", get(export::own_data))
        .route("/auth/login", post(sessions::login))
        .route("/auth/logout", post(sessions::logout))
        .route("/auth/password-reset", post(accounts::reset_password))
        .route("/auth/tokens", post(sessions::create_token))
        .route("/auth/sessions", get(sessions::list))
        .route("/auth/sessions/{id}", delete(sessions::revoke))
        .route("/invites", post(invites::create))
        .route("/platforms", get(requesters::platforms))
        .route("/platforms/{platform}", get(platforms::show))
        .route(
            "/platforms/{platform}/incidents",
            get(platforms::list_incidents),
        )
        .route(
            "/platforms/{platform}/follow",
            put(platforms::follow).delete(platforms::unfollow),
        )
        .route("/requesters", get(requesters::search))
        .route(
            "/requesters/{platform}/{requester_id}",
            get(requesters::show),
        )
        .route(
            "/requesters/{platform}/{requester_id}/reviews",
            get(requesters::list_reviews),
        )
        .route(
            "/requesters/{platform}/{requester_id}/incidents",
            get(requesters::list_incidents),
        )
        .route(
            "/requesters/{platform}/{requester_id}/facts",
            get(facts::show).put(facts::edit),
        )
        .route(
            "/requesters/{platform}/{requester_id}/follow",
            put(requesters::follow).delete(requesters::unfollow),
        )
        .route("/reviews", post(reviews::create))
        .route(
            "/reviews/{id}",
            get(reviews::show)
                .put(reviews::edit)
                .delete(reviews::delete),
        )
        .route("/reviews/{id}/history", get(reviews::history))
        .route(
            "/reviews/{id}/comments",
            get(comments::list_on_review).post(comments::create_on_review),
        )
        .route(
            "/incidents/{id}/comments",
            get(comments::list_on_incident).post(comments::create_on_incident),
        )
        .route("/comments/{id}", delete(comments::delete))
        .route("/campaigns", get(campaigns::list).post(campaigns::create))
        .route("/campaigns/{id}", get(campaigns::show))
        .route("/campaigns/{id}/signatures", post(campaigns::sign))
        .route("/campaigns/{id}/outcome", put(campaigns::outcome))
        .route(
            "/comments/{id}/removal",
            post(comments::remove).delete(comments::restore),
        )
        .route(
            "/reviews/{id}/removal",
            post(reviews::remove).delete(reviews::restore),
        )
        .route("/incidents", post(incidents::create))
        .route(
            "/incidents/{id}",
            get(incidents::show)
                .put(incidents::edit)
                .delete(incidents::delete),
        )
        .route("/incidents/{id}/status", post(incidents::change_status))
        .route(
            "/incidents/{id}/corroborations",
            get(incidents::list_corroborations).post(incidents::corroborate),
        )
        .route(
            "/incidents/{id}/corroborations/mine",
            delete(incidents::withdraw),
        )
        .route("/reports", post(moderation::report))
        .route("/moderation/reports", get(moderation::queue))
        .route(
            "/moderation/reports/{id}/resolution",
            post(moderation::resolve),
        )
        .route("/moderation/accounts/pending", get(moderation::pending))
        .route(
            "/moderation/accounts/{username}/suspension",
            post(moderation::suspend).delete(moderation::unsuspend),
        )
        .route(
            "/moderation/accounts/{username}/approval",
            post(moderation::approve),
        )
        .route(
            "/incidents/{id}/removal",
            post(moderation::remove_incident).delete(moderation::restore_incident),
        )
        .route("/modlog", get(moderation::modlog))
        .route("/federation/blocks.csv", get(moderation::blocks_csv))
        .route("/federation/allows.csv", get(moderation::allows_csv))
        .route("/notifications", get(notifications::list))
        .route("/notifications/read", post(notifications::mark_read))
        .route("/export/requesters.csv", get(export::requesters_csv))
        .route("/export/requesters.json", get(export::requesters_json))
        .route(
            "/admin/import",
            post(import::import).layer(DefaultBodyLimit::max(import::MAX_IMPORT_BYTES)),
        )
        .route("/instance", get(admin::instance))
        .route("/admin/settings", put(admin::save_settings))
        .route("/admin/federation", get(admin::federation))
        .route(
            "/admin/users/{username}/speaks-for",
            put(admin::set_speaks_for).delete(admin::clear_speaks_for),
        )
        .route(
            "/admin/domains",
            post(admin::add_domain).delete(admin::remove_domain),
        )
        .route(
            "/admin/subscriptions",
            post(admin::subscribe).delete(admin::unsubscribe),
        )
        .route("/openapi.json", get(openapi::serve))
        // Only the API takes the session cookie; the federation routes never read it.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            csrf::guard,
        ));
    let app = Router::new()
        .route("/healthz", get(routes::health::healthz))
        .route(
            "/feeds/requesters/{platform}/{requester_id}",
            get(feeds::requester_feed),
        )
        .route("/feeds/workers/{token}", get(feeds::worker_feed))
        .route("/feeds/modlog", get(feeds::modlog_feed))
        .route("/feeds/platforms/{platform}", get(feeds::platform_feed))
        .route("/api/multi-attrs.php", get(compat::multi_attrs))
        .route("/requesters", get(compat::requesters))
        .route("/requesters/{rid}", get(compat::requester))
        .nest("/api/v1", api)
        .with_state(state)
        .merge(federation)
        .fallback(routes::not_found)
        .method_not_allowed_fallback(routes::method_not_allowed);
    pages(app)
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        // Reads are public and looked up from other origins (browser extensions, userscripts on
        // worker.mturk.com). A wildcard origin never carries credentials, so cookies stay same-site.
        .layer(
            CorsLayer::new()
                .allow_origin(tower_http::cors::Any)
                .allow_methods([Method::GET, Method::HEAD, Method::OPTIONS])
                .allow_headers(tower_http::cors::Any),
        )
        // Outermost, so every answer is logged and gets the security headers: federation
        // routes, fallbacks, CORS preflights.
        .layer(axum::middleware::from_fn_with_state(metrics, logging::edge))
}
