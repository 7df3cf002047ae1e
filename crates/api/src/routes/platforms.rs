//! A platform as a whole: the incidents that name no requester (lock-outs, suspensions, withheld earnings, payment problems) and the platform waves they form.

use axum::Json;
use axum::extract::{Path, State};
use picket_core::platform::Platform;
use picket_core::wave::{Wave, waves};
use picket_db::incidents::{self, ListScope};
use picket_db::models::now;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::AppQuery;
use crate::state::AppState;
use crate::views::{IncidentView, Page, PageQuery};

/// How far back platform waves are looked for: a platform-wide lock-out is news for months,
/// and older incidents stay listed.
pub const PLATFORM_WAVE_DAYS: i64 = 365;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PlatformPage {
    pub id: &'static str,
    pub name: &'static str,
    /// Waves of incidents naming no requester in the last year, newest first.
    pub waves: Vec<Wave>,
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
    Path(platform): Path<String>,
) -> ApiResult<Json<PlatformPage>> {
    let platform = parse_platform(&platform)?;
    let local = state.local_instance().to_owned();
    let window = state.settings.wave_window_days;
    let found = state
        .db
        .run(move |conn| {
            let since = (now() - chrono::Duration::days(PLATFORM_WAVE_DAYS)).date();
            let facts = incidents::platform_wave_facts(conn, platform.as_str(), since, &local)?;
            Ok(waves(&facts, window))
        })
        .await?;
    Ok(Json(PlatformPage {
        id: platform.as_str(),
        name: platform.display_name(),
        waves: found,
    }))
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
