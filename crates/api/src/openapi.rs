//! The OpenAPI document of the JSON API, generated from the handlers' annotations so it cannot drift from the code.

use utoipa::OpenApi;

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "Picket API", description = "Requester reviews, incident reports and aggregates for crowdworkers. Money is in integer minor units (cents) with an ISO 4217 currency; hourly pay is (reward + bonus) per hour of time spent, including unfinished work.", license(name = "AGPL-3.0-or-later")),
    paths(
        routes::accounts::register,
        routes::accounts::me,
        routes::accounts::change_password,
        routes::accounts::delete,
        routes::totp::enrol,
        routes::totp::confirm,
        routes::totp::disable,
        routes::sessions::login,
        routes::sessions::logout,
        routes::sessions::create_token,
        routes::sessions::list,
        routes::admin::instance,
        routes::admin::save_settings,
        routes::admin::federation,
        routes::admin::set_speaks_for,
        routes::admin::clear_speaks_for,
        routes::admin::add_domain,
        routes::admin::remove_domain,
        routes::admin::subscribe,
        routes::admin::unsubscribe,
        routes::sessions::revoke,
        routes::invites::create,
        routes::requesters::platforms,
        routes::platforms::show,
        routes::platforms::list_incidents,
        routes::requesters::search,
        routes::requesters::show,
        routes::requesters::list_reviews,
        routes::requesters::list_incidents,
        routes::requesters::follow,
        routes::requesters::unfollow,
        routes::reviews::create,
        routes::reviews::show,
        routes::reviews::edit,
        routes::reviews::delete,
        routes::reviews::history,
        routes::reviews::remove,
        routes::reviews::restore,
        routes::reviews::mine,
        routes::incidents::create,
        routes::incidents::show,
        routes::incidents::edit,
        routes::incidents::delete,
        routes::incidents::change_status,
        routes::incidents::list_corroborations,
        routes::incidents::corroborate,
        routes::incidents::withdraw,
        routes::comments::list_on_review,
        routes::comments::create_on_review,
        routes::comments::list_on_incident,
        routes::comments::create_on_incident,
        routes::comments::delete,
        routes::comments::remove,
        routes::comments::restore,
        routes::moderation::report,
        routes::moderation::queue,
        routes::moderation::resolve,
        routes::moderation::remove_incident,
        routes::moderation::restore_incident,
        routes::moderation::suspend,
        routes::moderation::unsuspend,
        routes::moderation::pending,
        routes::moderation::approve,
        routes::moderation::modlog,
        routes::moderation::blocks_csv,
        routes::moderation::allows_csv,
        routes::feeds::modlog_feed,
        routes::feeds::platform_feed,
        routes::notifications::followed,
        routes::remote_follows::list,
        routes::remote_follows::follow,
        routes::remote_follows::unfollow,
        routes::notifications::list,
        routes::notifications::mark_read,
        routes::notifications::rotate_feed_token,
        routes::feeds::requester_feed,
        routes::feeds::worker_feed,
        routes::export::requesters_csv,
        routes::export::requesters_json,
        routes::export::own_data,
        routes::import::import,
    ),
    tags(
        (name = "accounts", description = "Registration, sessions, tokens and invites"),
        (name = "requesters", description = "Search and requester pages"),
        (name = "reviews", description = "Reviews of requesters"),
        (name = "incidents", description = "Incident reports, corroborations and waves"),
        (name = "comments", description = "Comments on reviews and incidents, threaded one level"),
        (name = "follows", description = "Following requesters, notifications and feeds"),
        (name = "moderation", description = "Removal and restoration"),
        (name = "export", description = "Bulk export and import"),
    )
)]
struct ApiDoc;

/// The document served at `/api/v1/openapi.json`.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

pub(crate) async fn serve() -> axum::Json<utoipa::openapi::OpenApi> {
    axum::Json(document())
}
