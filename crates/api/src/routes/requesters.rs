//! Requester endpoints: search, the requester page, its reviews and incidents, following.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use picket_core::platform::Platform;
use picket_core::wave::waves;
use picket_db::incidents::ListScope;
use picket_db::models::now;
use picket_db::requesters::{self, RequesterRow};
use picket_db::{DbConn, DbError, follows, incidents, reviews, stats};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AppQuery, CurrentUser};
use crate::state::AppState;
use crate::views::{IncidentView, Page, PageQuery, RequesterSummary, RequesterView, ReviewView};

/// What a 404 says when the id names nothing.
pub const NO_REQUESTER: &str = "nobody has reviewed or reported this requester here yet";

/// Reads `{platform}/{requester_id}` from a path, normalising the ID as the platform writes it.
pub fn parse_key(platform: &str, requester_id: &str) -> Result<(Platform, String), ApiError> {
    let platform: Platform = platform
        .parse()
        .map_err(|e: String| ApiError::not_found(format!("no such platform: {e}")))?;
    let id = platform
        .normalize_requester_id(requester_id)
        .map_err(|e| ApiError::not_found(format!("no such requester: {e}")))?;
    Ok((platform, id))
}

pub fn find(conn: &mut DbConn, platform: Platform, id: &str) -> Result<RequesterRow, DbError> {
    requesters::by_key(conn, platform.as_str(), id)?.ok_or(DbError::NotFound)
}

/// Builds the full requester page from its row.
pub fn page_of(
    conn: &mut DbConn,
    row: RequesterRow,
    state: &AppState,
) -> Result<RequesterView, DbError> {
    let at = now();
    let aggregates = stats::get(conn, row.id, at)?;
    let aliases = requesters::aliases(conn, &[row.id])?;
    let open = incidents::open_count(conn, row.id)?;
    let facts = incidents::wave_facts(conn, row.id, state.local_instance())?;
    let found = waves(&facts, state.settings.wave_window_days);
    Ok(RequesterView::new(row, &aliases, aggregates, open, found))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// Name, earlier name or platform ID; prefix and substring matches.
    pub q: Option<String>,
    /// Restrict to one platform.
    pub platform: Option<String>,
    /// At most this many results, 1 to 100 (default 20).
    pub limit: Option<i64>,
}

/// Search requesters by name, earlier name or platform ID.
#[utoipa::path(get, path = "/api/v1/requesters", params(SearchQuery), tag = "requesters",
    responses((status = 200, body = Vec<RequesterSummary>), (status = 422, description = "unknown platform")))]
pub async fn search(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<SearchQuery>,
) -> ApiResult<Json<Vec<RequesterSummary>>> {
    let platform =
        match query.platform.as_deref() {
            Some(p) => Some(p.parse::<Platform>().map_err(|e| {
                ApiError::validation(picket_core::FieldErrors::single("platform", e))
            })?),
            None => None,
        };
    let limit = query.limit.unwrap_or(20).clamp(1, 100);
    let q = query.q.unwrap_or_default();
    if q.chars().count() > requesters::NAME_MAX_CHARS {
        return Err(picket_core::FieldErrors::single("q", "is too long").into());
    }
    let found = state
        .db
        .run(move |conn| {
            let rows = requesters::search(conn, &q, platform.map(Platform::as_str), limit)?;
            let pks: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let aliases = requesters::aliases(conn, &pks)?;
            Ok(rows
                .into_iter()
                .map(|row| RequesterSummary::new(row, &aliases))
                .collect())
        })
        .await?;
    Ok(Json(found))
}

/// A requester's page: aggregates for all time, 90 and 30 days, earlier names, open incidents and waves.
#[utoipa::path(get, path = "/api/v1/requesters/{platform}/{requester_id}", operation_id = "show_requester", tag = "requesters",
    params(("platform" = String, Path), ("requester_id" = String, Path)),
    responses((status = 200, body = RequesterView), (status = 404, description = "unknown requester")))]
pub async fn show(
    State(state): State<AppState>,
    Path((platform, id)): Path<(String, String)>,
) -> ApiResult<Json<RequesterView>> {
    let (platform, id) = parse_key(&platform, &id)?;
    let shared = state.clone();
    let view = state
        .db
        .run(move |conn| {
            let row = find(conn, platform, &id)?;
            page_of(conn, row, &shared)
        })
        .await
        .map_err(super::not_found_as(NO_REQUESTER))?;
    Ok(Json(view))
}

/// Published reviews of a requester, newest first.
#[utoipa::path(get, path = "/api/v1/requesters/{platform}/{requester_id}/reviews", tag = "requesters",
    params(("platform" = String, Path), ("requester_id" = String, Path), PageQuery),
    responses((status = 200, body = Page<ReviewView>), (status = 404, description = "unknown requester")))]
pub async fn list_reviews(
    State(state): State<AppState>,
    Path((platform, id)): Path<(String, String)>,
    AppQuery(page): AppQuery<PageQuery>,
) -> ApiResult<Json<Page<ReviewView>>> {
    let (platform, id) = parse_key(&platform, &id)?;
    let limit = page.limit();
    let view = state
        .db
        .run(move |conn| {
            let requester = find(conn, platform, &id)?;
            let rows = reviews::list_for_requester(conn, requester.id, page.before, limit + 1)?;
            let pks: Vec<i64> = rows.iter().map(|(row, _)| row.id).collect();
            let comments = picket_db::comments::counts_for_reviews(conn, &pks)?;
            Page::of(
                rows,
                limit,
                |(r, _)| r.id,
                |(row, author)| {
                    let count = comments.get(&row.id).copied().unwrap_or(0);
                    Ok(ReviewView::new(row, &requester, author, true)?.with_comments(count))
                },
            )
        })
        .await
        .map_err(super::not_found_as(NO_REQUESTER))?;
    Ok(Json(view))
}

/// Published incident reports about a requester, newest first.
#[utoipa::path(get, path = "/api/v1/requesters/{platform}/{requester_id}/incidents", tag = "requesters",
    params(("platform" = String, Path), ("requester_id" = String, Path), PageQuery),
    responses((status = 200, body = Page<IncidentView>), (status = 404, description = "unknown requester")))]
pub async fn list_incidents(
    State(state): State<AppState>,
    Path((platform, id)): Path<(String, String)>,
    AppQuery(page): AppQuery<PageQuery>,
) -> ApiResult<Json<Page<IncidentView>>> {
    let (platform, id) = parse_key(&platform, &id)?;
    let limit = page.limit();
    let view = state
        .db
        .run(move |conn| {
            let requester = find(conn, platform, &id)?;
            let rows = incidents::list(
                conn,
                ListScope::Requester(requester.id),
                page.before,
                limit + 1,
            )?;
            Page::of(
                rows,
                limit,
                |(row, _)| row.id,
                |(row, author)| super::incidents::view(conn, row, Some(&requester), author),
            )
        })
        .await
        .map_err(super::not_found_as(NO_REQUESTER))?;
    Ok(Json(view))
}

/// Follow a requester: new reviews, incidents and waves about it become notifications.
#[utoipa::path(put, path = "/api/v1/requesters/{platform}/{requester_id}/follow", tag = "follows",
    params(("platform" = String, Path), ("requester_id" = String, Path)),
    responses((status = 204), (status = 401), (status = 404, description = "unknown platform or malformed ID")))]
pub async fn follow(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((platform, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (platform, id) = parse_key(&platform, &id)?;
    let user = current.user.id;
    state
        .db
        .run(move |conn| {
            // Following a requester nobody has reviewed yet creates it (named by its ID until a
            // review names it), so workers can watch a new requester before anyone works for it.
            let requester = requesters::mention(conn, platform.as_str(), &id, &id, None, now())?;
            follows::follow(conn, user, requester.id, now())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Stop following a requester.
#[utoipa::path(delete, path = "/api/v1/requesters/{platform}/{requester_id}/follow", tag = "follows",
    params(("platform" = String, Path), ("requester_id" = String, Path)),
    responses((status = 204), (status = 401), (status = 404, description = "not following")))]
pub async fn unfollow(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((platform, id)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let (platform, id) = parse_key(&platform, &id)?;
    let user = current.user.id;
    state
        .db
        .run(move |conn| {
            let requester = find(conn, platform, &id)?;
            follows::unfollow(conn, user, requester.id)
        })
        .await
        .map_err(|e| match e {
            DbError::NotFound => ApiError::not_found("you do not follow this requester"),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

/// Platforms this instance knows, with the format of their requester IDs.
#[utoipa::path(get, path = "/api/v1/platforms", tag = "requesters", responses((status = 200, body = Vec<PlatformView>)))]
pub async fn platforms() -> Json<Vec<PlatformView>> {
    Json(
        Platform::ALL
            .iter()
            .map(|p| PlatformView {
                id: p.as_str(),
                name: p.display_name(),
                default_currency: p.default_currency(),
            })
            .collect(),
    )
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct PlatformView {
    pub id: &'static str,
    pub name: &'static str,
    pub default_currency: &'static str,
}
