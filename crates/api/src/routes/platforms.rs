//! A platform as a whole: the incidents that name no requester (lock-outs, suspensions, withheld earnings, payment problems) and the platform waves they form.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use picket_core::platform::Platform;
use picket_core::wave::{Wave, waves};
use picket_db::follows;
use picket_db::incidents::{self, ListScope, PLATFORM_WAVE_DAYS};
use picket_db::models::now;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AppQuery, CurrentUser, MaybeUser};
use crate::state::AppState;
use crate::views::{IncidentView, Page, PageQuery};

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlatformPage {
    pub id: &'static str,
    pub name: &'static str,
    /// Waves of incidents naming no requester in the last year, newest first.
    pub waves: Vec<Wave>,
    /// Whether the signed-in worker follows the platform; absent when signed out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub following: Option<bool>,
}

pub fn parse_platform(platform: &str) -> Result<Platform, ApiError> {
    platform
        .parse()
        .map_err(|_: String| ApiError::not_found("no such platform"))
}

/// A platform's waves of lock-outs, suspensions and other incidents that name no requester.
#[utoipa::path(get, path = "/api/v1/platforms/{platform}", operation_id = "show_platform", tag = "incidents",
    params(("platform" = String, Path)),
    responses((status = 200, body = PlatformPage), (status = 404, description = "unknown platform")))]
pub async fn show(
    State(state): State<AppState>,
    viewer: MaybeUser,
    Path(platform): Path<String>,
) -> ApiResult<Json<PlatformPage>> {
    let platform = parse_platform(&platform)?;
    let local = state.local_instance().to_owned();
    let window = state.settings.wave_window_days;
    let viewer = viewer.id();
    let (found, following) = state
        .db
        .run(move |conn| {
            let since = (now() - chrono::Duration::days(PLATFORM_WAVE_DAYS)).date();
            let facts = incidents::platform_wave_facts(conn, platform.as_str(), since, &local)?;
            let following = viewer
                .map(|user| {
                    follows::followed_platforms(conn, user)
                        .map(|all| all.iter().any(|p| p == platform.as_str()))
                })
                .transpose()?;
            Ok((waves(&facts, window), following))
        })
        .await?;
    Ok(Json(PlatformPage {
        id: platform.as_str(),
        name: platform.display_name(),
        waves: found,
        following,
    }))
}

/// Follow a platform: its new incidents that name no requester (lock-outs, suspensions,
/// withheld earnings) and the waves they form become notifications.
#[utoipa::path(put, path = "/api/v1/platforms/{platform}/follow", operation_id = "follow_platform", tag = "follows",
    params(("platform" = String, Path)),
    responses((status = 204), (status = 401), (status = 404, description = "unknown platform")))]
pub async fn follow(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(platform): Path<String>,
) -> ApiResult<StatusCode> {
    let platform = parse_platform(&platform)?;
    let user = current.user.id;
    state
        .db
        .run(move |conn| follows::follow_platform(conn, user, platform.as_str(), now()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop following a platform.
#[utoipa::path(delete, path = "/api/v1/platforms/{platform}/follow", operation_id = "unfollow_platform", tag = "follows",
    params(("platform" = String, Path)),
    responses((status = 204), (status = 401), (status = 404, description = "unknown platform, or not following")))]
pub async fn unfollow(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(platform): Path<String>,
) -> ApiResult<StatusCode> {
    let platform = parse_platform(&platform)?;
    let user = current.user.id;
    state
        .db
        .run(move |conn| follows::unfollow_platform(conn, user, platform.as_str()))
        .await
        .map_err(super::not_found_as("you do not follow this platform"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Published incidents about a platform as a whole (no requester named), newest first.
#[utoipa::path(get, path = "/api/v1/platforms/{platform}/incidents", operation_id = "list_platform_incidents", tag = "incidents",
    params(("platform" = String, Path), PageQuery),
    responses((status = 200, body = Page<IncidentView>), (status = 404, description = "unknown platform")))]
pub async fn list_incidents(
    State(state): State<AppState>,
    Path(platform): Path<String>,
    AppQuery(page): AppQuery<PageQuery>,
) -> ApiResult<Json<Page<IncidentView>>> {
    let platform = parse_platform(&platform)?;
    let limit = page.limit();
    let view = state
        .db
        .run(move |conn| {
            let rows = incidents::list(
                conn,
                ListScope::Platform(platform.as_str()),
                page.before,
                limit + 1,
            )?;
            Page::of(
                rows,
                limit,
                |(row, _)| row.id,
                |(row, author)| super::incidents::view(conn, row, None, author),
            )
        })
        .await?;
    Ok(Json(view))
}
