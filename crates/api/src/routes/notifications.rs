//! Follows and notifications of the signed-in worker, and the secret URL of their personal Atom feed.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use picket_core::secrets::{new_secret, secret_digest};
use picket_db::follows::{self, NotificationWithRequester};
use picket_db::models::now;
use serde::{Deserialize, Serialize};

use crate::error::ApiResult;
use crate::extract::{AppJson, AppQuery, CurrentUser};
use crate::state::AppState;
use crate::views::{Page, PageQuery, RequesterRef, RequesterSummary};

/// Requesters the signed-in worker follows.
#[utoipa::path(get, path = "/api/v1/account/follows", tag = "follows", responses((status = 200, body = Vec<RequesterSummary>), (status = 401)))]
pub async fn followed(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<Json<Vec<RequesterSummary>>> {
    let user = current.user.id;
    let rows = state
        .db
        .run(move |conn| follows::followed(conn, user))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| RequesterSummary::new(row, &[]))
            .collect(),
    ))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct NotificationView {
    pub id: i64,
    /// `review`, `incident` or `wave`.
    pub kind: String,
    /// The requester it is about; absent for a platform's incidents and waves.
    pub requester: Option<RequesterRef>,
    /// The platform, for notifications about incidents that name no requester.
    pub platform: Option<String>,
    /// The review or incident id, or for waves `kind:since`.
    pub subject: String,
    pub message: String,
    pub created_at: NaiveDateTime,
    pub read: bool,
}

impl From<NotificationWithRequester> for NotificationView {
    fn from((row, requester): NotificationWithRequester) -> Self {
        NotificationView {
            id: row.id,
            kind: row.kind,
            requester: requester.as_ref().map(Into::into),
            platform: row.platform,
            subject: row.subject,
            message: row.message,
            created_at: row.created_at,
            read: row.read_at.is_some(),
        }
    }
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Only unread notifications.
    #[serde(default)]
    pub unread: bool,
    pub limit: Option<i64>,
    pub before: Option<i64>,
}

/// The signed-in worker's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "follows", params(NotificationQuery),
    responses((status = 200, body = Page<NotificationView>), (status = 401)))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery<NotificationQuery>,
) -> ApiResult<Json<Page<NotificationView>>> {
    let user = current.user.id;
    let page = PageQuery {
        limit: query.limit,
        before: query.before,
    };
    let limit = page.limit();
    let found = state
        .db
        .run(move |conn| {
            let rows = follows::notifications(conn, user, query.unread, page.before, limit + 1)?;
            Page::of(
                rows,
                limit,
                |(n, _)| n.id,
                |row| Ok(NotificationView::from(row)),
            )
        })
        .await?;
    Ok(Json(found))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MarkRead {
    /// Notifications to mark read; absent means all.
    #[serde(default)]
    pub ids: Option<Vec<i64>>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct MarkedRead {
    pub marked: usize,
}

/// Mark notifications read.
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "follows", request_body = MarkRead,
    responses((status = 200, body = MarkedRead), (status = 401)))]
pub async fn mark_read(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<MarkRead>,
) -> ApiResult<Json<MarkedRead>> {
    let user = current.user.id;
    let marked = state
        .db
        .run(move |conn| follows::mark_read(conn, user, body.ids.as_deref(), now()))
        .await?;
    Ok(Json(MarkedRead { marked }))
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FeedUrl {
    /// Secret Atom feed of the worker's notifications; anyone with the URL can read it.
    pub url: String,
}

/// Create (or replace, revoking the old URL) the secret URL of the worker's Atom feed.
#[utoipa::path(post, path = "/api/v1/account/feed-token", tag = "follows", responses((status = 201, body = FeedUrl), (status = 401)))]
pub async fn rotate_feed_token(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<(StatusCode, Json<FeedUrl>)> {
    let token = new_secret();
    let digest = secret_digest(&token);
    let user = current.user.id;
    state
        .db
        .run(move |conn| follows::set_feed_token(conn, user, &digest, now()))
        .await?;
    let url = state
        .settings
        .public_url
        .join(&format!("feeds/workers/{token}"))
        .map_err(crate::ApiError::internal)?;
    Ok((
        StatusCode::CREATED,
        Json(FeedUrl {
            url: url.to_string(),
        }),
    ))
}
