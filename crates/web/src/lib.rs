//! Picket's pages: server-rendered HTML for every worker, moderator and admin journey, usable without JavaScript.
//!
//! Pages never write to the database themselves: every action calls the JSON API's handler for
//! it (`picket_api::routes`), so a review written through a form and one sent to
//! `POST /api/v1/reviews` run the same validation, transaction and side effects.

mod context;
mod error;
mod form;
mod layout;
mod pages;
mod render;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use picket_api::AppState;
use tower::ServiceExt;

pub use error::PageError;

/// Attaches the pages to the instance's router: the plain pages are merged, and the URLs that
/// name things (requester feeds, workers, reviews, incidents, corroborations) answer browsers
/// with a page and everyone else with ActivityPub, as before. Applied by `picket_api::router`
/// inside its logging and security-header layers.
pub fn attach(state: AppState) -> impl FnOnce(Router) -> Router {
    move |app| {
        let negotiated = negotiated_pages(state.clone());
        app.merge(plain_pages(state))
            .layer(axum::middleware::from_fn_with_state(negotiated, negotiate))
    }
}

/// Pages at URLs of their own.
fn plain_pages(state: AppState) -> Router {
    use pages::{
        account, admin, auth, campaigns, comments, facts, home, incidents, moderation, platforms,
        requesters, reviews,
    };
    Router::new()
        .route("/", get(home::home))
        .route("/search", get(home::search))
        .route("/about", get(home::about))
        .route("/modlog", get(moderation::modlog))
        .route("/platforms/{platform}", get(platforms::show))
        .route("/platforms/{platform}/follow", post(platforms::follow))
        .route("/platforms/{platform}/unfollow", post(platforms::unfollow))
        .route("/static/picket.css", get(layout::stylesheet))
        .route("/static/picket.js", get(layout::script))
        .route("/login", get(auth::login_page).post(auth::login))
        .route("/logout", post(auth::logout))
        .route("/register", get(auth::register_page).post(auth::register))
        .route(
            "/reset-password/{token}",
            get(auth::reset_page).post(auth::reset),
        )
        .route(
            "/r/{platform}/{requester_id}/facts",
            get(facts::show).post(facts::save),
        )
        .route(
            "/r/{platform}/{requester_id}/follow",
            post(requesters::follow),
        )
        .route(
            "/r/{platform}/{requester_id}/unfollow",
            post(requesters::unfollow),
        )
        .route("/reviews/new", get(reviews::new_page).post(reviews::create))
        .route(
            "/reviews/{id}/edit",
            get(reviews::edit_page).post(reviews::edit),
        )
        .route(
            "/reviews/{id}/delete",
            get(reviews::delete_page).post(reviews::delete),
        )
        .route(
            "/incidents/new",
            get(incidents::new_page).post(incidents::create),
        )
        .route("/incidents/{id}/corroborate", post(incidents::corroborate))
        .route("/incidents/{id}/comments", post(comments::on_incident))
        .route("/reviews/{id}/comments", post(comments::on_review))
        .route("/comments/{id}/delete", post(comments::delete))
        .route(
            "/campaigns",
            get(campaigns::list_page).post(campaigns::create),
        )
        .route("/campaigns/new", get(campaigns::new_page))
        .route("/campaigns/{id}/sign", post(campaigns::sign))
        .route("/campaigns/{id}/outcome", post(campaigns::record_outcome))
        .route("/incidents/{id}/withdraw", post(incidents::withdraw))
        .route("/incidents/{id}/status", post(incidents::change_status))
        .route("/incidents/{id}/aftermath", post(incidents::aftermath))
        .route(
            "/report",
            get(moderation::report_page).post(moderation::report),
        )
        .route("/account", get(account::overview))
        .route("/account/notifications/read", post(account::mark_read))
        .route("/account/settings", get(account::settings))
        .route("/account/password", post(account::change_password))
        .route("/account/sessions/{id}/revoke", post(account::revoke))
        .route("/account/tokens", post(account::create_token))
        .route("/account/feed", post(account::rotate_feed))
        .route(
            "/account/delete",
            get(account::delete_page).post(account::delete),
        )
        .route("/moderation", get(moderation::queue))
        .route(
            "/moderation/reports/{id}/resolve",
            post(moderation::resolve),
        )
        .route("/moderation/pending", get(moderation::pending))
        .route(
            "/moderation/accounts/{username}/approve",
            post(moderation::approve),
        )
        .route(
            "/moderation/invites",
            get(moderation::invites_page).post(moderation::create_invite),
        )
        .route(
            "/admin",
            get(admin::settings_page).post(admin::save_settings),
        )
        .route("/admin/domains", post(admin::add_domain_rule))
        .route("/admin/domains/remove", post(admin::remove_domain_rule))
        .route("/admin/subscriptions", post(admin::subscribe))
        .route("/admin/subscriptions/remove", post(admin::unsubscribe))
        .with_state(state)
}

/// Pages at the URLs of ActivityPub objects and actors; reached only through `negotiate`.
fn negotiated_pages(state: AppState) -> Router {
    use pages::{campaigns, comments, facts, incidents, requesters, reviews, workers};
    Router::new()
        .route("/r/{platform}/{requester_id}", get(requesters::show))
        .route("/u/{name}", get(workers::profile))
        .route("/reviews/{id}", get(reviews::show))
        .route("/incidents/{id}", get(incidents::show))
        .route("/corroborations/{id}", get(incidents::corroboration))
        .route("/comments/{id}", get(comments::show))
        .route("/facts/{id}", get(facts::version))
        .route("/campaigns/{id}", get(campaigns::show))
        .with_state(state)
}

/// A browser asking for a page: it accepts HTML and asks for no ActivityPub or JSON-LD.
/// Anything else (ActivityPub servers, `curl`, scripts) gets what it got before pages existed.
pub fn wants_html(headers: &HeaderMap) -> bool {
    let accept = headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accept.contains("text/html")
        && !accept.contains("application/activity+json")
        && !accept.contains("application/ld+json")
}

/// Whether `path` is one of the URLs that are both a page and an ActivityPub object.
fn is_negotiated(path: &str) -> bool {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["r", platform, id] => !platform.is_empty() && !id.is_empty(),
        ["u", name]
        | ["reviews", name]
        | ["incidents", name]
        | ["corroborations", name]
        | ["comments", name]
        | ["facts", name]
        | ["campaigns", name] => !name.is_empty() && *name != "new",
        _ => false,
    }
}

/// Sends browsers to the page of an object URL, and turns the JSON "no such endpoint" (or
/// "method not allowed") into an HTML page for browsers that ask for a page that does not exist.
async fn negotiate(State(pages): State<Router>, request: Request, next: Next) -> Response {
    let get = matches!(*request.method(), Method::GET | Method::HEAD);
    let html = wants_html(request.headers());
    if get && html && is_negotiated(request.uri().path()) {
        // A fresh request: the outer router's path parameters (kept in the extensions) would
        // otherwise be read again beside the pages router's own.
        let (parts, body) = request.into_parts();
        let mut fresh = Request::new(body);
        *fresh.method_mut() = parts.method;
        *fresh.uri_mut() = parts.uri;
        *fresh.headers_mut() = parts.headers;
        return match pages.oneshot(fresh).await {
            Ok(response) => response,
            Err(never) => match never {},
        };
    }
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    let machine_path = ["/api/", "/feeds/", "/.well-known/", "/nodeinfo"]
        .iter()
        .any(|prefix| path.starts_with(prefix));
    match response.status() {
        StatusCode::NOT_FOUND | StatusCode::METHOD_NOT_ALLOWED if html && json && !machine_path => {
            PageError::from(picket_api::ApiError::new(
                response.status(),
                "not_found",
                if response.status() == StatusCode::NOT_FOUND {
                    "There is no page at this address."
                } else {
                    "This page cannot be used that way."
                },
            ))
            .into_response()
        }
        _ => response,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn which_requests_get_pages() {
        let mut headers = HeaderMap::new();
        assert!(!wants_html(&headers), "no Accept: the machine answer");
        headers.insert(
            header::ACCEPT,
            "text/html,application/xhtml+xml,*/*;q=0.8"
                .parse()
                .expect("header"),
        );
        assert!(wants_html(&headers));
        headers.insert(
            header::ACCEPT,
            "application/activity+json, text/html;q=0.1"
                .parse()
                .expect("header"),
        );
        assert!(!wants_html(&headers), "ActivityPub wins when asked for");
        assert!(is_negotiated("/r/mturk/A1B2C3"));
        assert!(is_negotiated("/u/alice"));
        assert!(is_negotiated("/reviews/abc"));
        assert!(!is_negotiated("/reviews/new"));
        assert!(is_negotiated("/comments/abc") && is_negotiated("/facts/abc"));
        assert!(is_negotiated("/campaigns/abc") && !is_negotiated("/campaigns/new"));
        assert!(!is_negotiated("/r/mturk/A1/outbox"));
        assert!(!is_negotiated("/u/alice/inbox"));
        assert!(!is_negotiated("/actor"));
    }
}
