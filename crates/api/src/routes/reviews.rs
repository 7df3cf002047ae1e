//! Review endpoints: write (or draft), read, edit with history, delete, and moderator removal.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use picket_core::FieldErrors;
use picket_core::accounts::Role;
use picket_core::moderation::{TargetType, validate_reason};
use picket_core::platform::Platform;
use picket_core::review::{ReviewInput, check_requester_name, validate_review};
use picket_core::secrets::new_public_id;
use picket_db::models::now;
use picket_db::moderation;
use picket_db::requesters::{self, RequesterRow};
use picket_db::reviews::{self, NewReviewMeta, ReviewRow, ReviewState};
use picket_db::{DbConn, DbError};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppQuery, CurrentUser, MaybeUser, Unknown};
use crate::state::AppState;
use crate::views::{Page, PageQuery, ReviewVersion, ReviewView};

/// What a 404 says when the id names nothing.
const NO_REVIEW: &str = "no such review";

/// A new review: which requester (created on first mention), the review itself, and whether it is a draft.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CreateReview {
    pub platform: String,
    pub requester_id: String,
    /// The requester's name as the worker saw it; a new name makes the old one an alias.
    pub requester_name: String,
    /// Keep as a private draft instead of publishing.
    #[serde(default)]
    pub draft: bool,
    /// The author confirms that text flagged as looking like an MTurk worker ID is not one.
    #[serde(default)]
    pub confirm_no_worker_ids: bool,
    #[serde(flatten)]
    pub review: ReviewInput,
    /// Whatever no field above took: refused, so a misspelt field is not silently dropped.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: Unknown,
}

/// A replacement of a review's content; `publish` turns a draft into a published review.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct EditReview {
    #[serde(default)]
    pub publish: bool,
    #[serde(default)]
    pub confirm_no_worker_ids: bool,
    #[serde(flatten)]
    pub review: ReviewInput,
    /// Whatever no field above took: refused, so a misspelt field is not silently dropped.
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: Unknown,
}

/// The requester a new review names: its platform, its normalised ID and its name, each checked
/// in `core` (the name also by the worker-ID guard, which `allow_worker_ids` waives).
pub fn check_requester(
    platform: &str,
    id: &str,
    name: &str,
    allow_worker_ids: bool,
) -> Result<(Platform, String, String), ApiError> {
    let mut errors = FieldErrors::new();
    let platform = errors.check("platform", platform.parse::<Platform>());
    let id = platform.and_then(|p| errors.check("requester_id", p.normalize_requester_id(id)));
    let name = check_requester_name(
        &mut errors,
        "requester_name",
        name,
        id.as_deref().unwrap_or_default(),
        allow_worker_ids,
    );
    errors.into_result()?;
    match (platform, id, name) {
        (Some(platform), Some(id), Some(name)) => Ok((platform, id, name)),
        _ => Err(FieldErrors::single("platform", "invalid").into()),
    }
}

/// Loads a review with its requester.
fn load(conn: &mut DbConn, id: &str) -> Result<(ReviewRow, RequesterRow, Option<String>), DbError> {
    let row = reviews::by_public_id(conn, id)?;
    let requester = requesters::by_pk(conn, row.requester_pk)?;
    let author = super::author_name(conn, row.author_id)?;
    Ok((row, requester, author))
}

/// Write a review (published at once, or kept as a draft).
#[utoipa::path(post, path = "/api/v1/reviews", operation_id = "create_review", tag = "reviews", request_body = CreateReview,
    responses((status = 201, body = ReviewView), (status = 401), (status = 422, description = "invalid fields, per field")))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<CreateReview>,
) -> ApiResult<(StatusCode, Json<ReviewView>)> {
    current.require_worker_voice()?;
    state.check_write_quota(current.user.id)?;
    body.unknown.reject()?;
    let (platform, requester_id, name) = check_requester(
        &body.platform,
        &body.requester_id,
        &body.requester_name,
        body.confirm_no_worker_ids,
    )?;
    let review = validate_review(
        &body.review,
        platform,
        &requester_id,
        body.confirm_no_worker_ids,
    )?;
    let author = current.user.id;
    let username = current.user.username.clone();
    let draft = body.draft;
    let view = state
        .db
        .tx(move |conn| {
            let at = now();
            // A published review's name is its author's vote; a draft names nothing.
            let voter = (!draft).then(|| format!("local:{author}"));
            let requester = requesters::mention(
                conn,
                platform.as_str(),
                &requester_id,
                &name,
                voter.as_deref(),
                at,
            )?;
            let public_id = new_public_id();
            let meta = NewReviewMeta {
                public_id: &public_id,
                author_id: Some(author),
                requester_pk: requester.id,
                draft,
                published_at: None,
            };
            let row = reviews::create(conn, meta, &review, at)?;
            ReviewView::new(row, &requester, Some(username.clone()), true)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Read a review. Drafts are visible to their author only; removed reviews show their content to moderators only.
#[utoipa::path(get, path = "/api/v1/reviews/{id}", operation_id = "show_review", tag = "reviews", params(("id" = String, Path)),
    responses((status = 200, body = ReviewView), (status = 404), (status = 410, description = "deleted by its author")))]
pub async fn show(
    State(state): State<AppState>,
    viewer: MaybeUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ReviewView>> {
    let (row, requester, author, hidden) = state
        .db
        .run(move |conn| {
            let (row, requester, author) = load(conn, &id)?;
            let hidden = picket_db::policy::is_hidden(conn, row.origin.as_deref())?;
            let comments =
                picket_db::comments::count(conn, picket_db::comments::Parent::Review(row.id))?;
            Ok((row, requester, author, (hidden, comments)))
        })
        .await
        .map_err(super::not_found_as(NO_REVIEW))?;
    let (hidden, comments) = hidden;
    // From a blocked domain: gone from public view, as from every list.
    if hidden && !viewer.can_moderate() {
        return Err(ApiError::not_found(NO_REVIEW));
    }
    let review_state = row.state()?;
    let is_author = viewer.id().is_some() && viewer.id() == row.author_id;
    match review_state {
        ReviewState::Draft if !is_author => return Err(ApiError::not_found("no such review")),
        ReviewState::Deleted => {
            return Err(ApiError::new(
                StatusCode::GONE,
                "deleted",
                "the author deleted this review",
            ));
        }
        _ => {}
    }
    let show_content = review_state != ReviewState::Removed || viewer.can_moderate() || is_author;
    Ok(Json(
        ReviewView::new(row, &requester, author, show_content)?.with_comments(comments),
    ))
}

/// Replace a review's content (the author only); the previous version stays readable in its history.
#[utoipa::path(put, path = "/api/v1/reviews/{id}", operation_id = "edit_review", tag = "reviews", params(("id" = String, Path)), request_body = EditReview,
    responses((status = 200, body = ReviewView), (status = 403, description = "not the author"), (status = 404), (status = 422)))]
pub async fn edit(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<EditReview>,
) -> ApiResult<Json<ReviewView>> {
    body.unknown.reject()?;
    let (row, requester, author) = state
        .db
        .run(move |conn| load(conn, &id))
        .await
        .map_err(super::not_found_as(NO_REVIEW))?;
    super::require_author(row.author_id, &current, "review")?;
    match row.state()? {
        ReviewState::Deleted => {
            return Err(ApiError::new(
                StatusCode::GONE,
                "deleted",
                "this review was deleted",
            ));
        }
        ReviewState::Removed => {
            return Err(ApiError::conflict(
                "removed",
                "a moderator removed this review; it cannot be edited",
            ));
        }
        _ => {}
    }
    let platform: Platform = requester.platform.parse().map_err(ApiError::internal)?;
    let review = validate_review(
        &body.review,
        platform,
        &requester.requester_id,
        body.confirm_no_worker_ids,
    )?;
    let view = state
        .db
        .tx(move |conn| {
            let updated = reviews::update(conn, &row, &review, body.publish, now())?;
            ReviewView::new(updated, &requester, author.clone(), true)
        })
        .await?;
    Ok(Json(view))
}

/// Delete a review (the author only). It leaves a tombstone and the aggregates at once.
#[utoipa::path(delete, path = "/api/v1/reviews/{id}", operation_id = "delete_review", tag = "reviews", params(("id" = String, Path)),
    responses((status = 204), (status = 403, description = "not the author"), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let (row, _, _) = state
        .db
        .run(move |conn| load(conn, &id))
        .await
        .map_err(super::not_found_as(NO_REVIEW))?;
    super::require_author(row.author_id, &current, "review")?;
    if row.state()? == ReviewState::Deleted {
        return Err(ApiError::new(
            StatusCode::GONE,
            "deleted",
            "this review was already deleted",
        ));
    }
    state
        .db
        .erase(move |conn| reviews::delete(conn, &row, now()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Earlier versions of a published review, oldest first.
#[utoipa::path(get, path = "/api/v1/reviews/{id}/history", tag = "reviews", params(("id" = String, Path)),
    responses((status = 200, body = Vec<ReviewVersion>), (status = 404)))]
pub async fn history(
    State(state): State<AppState>,
    viewer: MaybeUser,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<ReviewVersion>>> {
    let can_moderate = viewer.can_moderate();
    let versions = state
        .db
        .run(move |conn| {
            let row = reviews::by_public_id(conn, &id)?;
            // What `show` would show with content, and no more. A remote copy has no local
            // author, so "the viewer is the author" needs a signed-in viewer, or every
            // anonymous reader (no id) would count as the author of every remote copy.
            let is_author = viewer.id().is_some() && viewer.id() == row.author_id;
            let hidden = picket_db::policy::is_hidden(conn, row.origin.as_deref())?;
            let visible = match row.state()? {
                _ if hidden && !can_moderate => false,
                ReviewState::Published => true,
                ReviewState::Removed => can_moderate || is_author,
                ReviewState::Draft | ReviewState::Deleted => false,
            };
            if !visible {
                return Err(DbError::NotFound);
            }
            reviews::history(conn, row.id)?
                .into_iter()
                .map(|edit| {
                    Ok(ReviewVersion {
                        replaced_at: edit.edited_at,
                        content: serde_json::from_str(&edit.previous)
                            .map_err(|e| DbError::Corrupt(e.to_string()))?,
                    })
                })
                .collect()
        })
        .await
        .map_err(super::not_found_as(NO_REVIEW))?;
    Ok(Json(versions))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemovalRequest {
    /// Why, shown to the public in place of the review.
    pub reason: String,
}

/// Remove a review from public view and from the aggregates (moderators). Not deletion: it can be restored.
#[utoipa::path(post, path = "/api/v1/reviews/{id}/removal", tag = "moderation", params(("id" = String, Path)), request_body = RemovalRequest,
    responses((status = 200, body = ReviewView), (status = 403), (status = 404), (status = 422)))]
pub async fn remove(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<RemovalRequest>,
) -> ApiResult<Json<ReviewView>> {
    current.require(Role::Moderator)?;
    let reason = validate_reason(&body.reason)?;
    set_removal(state, current, id, Some(reason)).await
}

/// Restore a removed review (moderators).
#[utoipa::path(delete, path = "/api/v1/reviews/{id}/removal", tag = "moderation", params(("id" = String, Path)),
    responses((status = 200, body = ReviewView), (status = 403), (status = 404)))]
pub async fn restore(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<Json<ReviewView>> {
    current.require(Role::Moderator)?;
    set_removal(state, current, id, None).await
}

async fn set_removal(
    state: AppState,
    current: CurrentUser,
    id: String,
    reason: Option<String>,
) -> ApiResult<Json<ReviewView>> {
    let acting_as = super::moderation::acting(&state, &current);
    let view = state
        .db
        .tx(move |conn| {
            let acting = acting_as.get();
            moderation::set_content_removed(
                conn,
                acting,
                TargetType::Review,
                &id,
                reason.as_deref(),
                now(),
            )?;
            let (row, requester, author) = load(conn, &id)?;
            ReviewView::new(row, &requester, author, true)
        })
        .await
        .map_err(super::not_found_as(NO_REVIEW))?;
    Ok(Json(view))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MineQuery {
    /// Only drafts.
    #[serde(default)]
    pub drafts: bool,
    /// Items per page, 1 to 100 (default 20).
    pub limit: Option<i64>,
    /// Cursor from the previous page's `next`.
    pub before: Option<i64>,
}

/// The signed-in worker's own reviews (drafts included), newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/account/reviews", tag = "reviews", params(MineQuery),
    responses((status = 200, body = Page<ReviewView>), (status = 401)))]
pub async fn mine(
    State(state): State<AppState>,
    current: CurrentUser,
    AppQuery(query): AppQuery<MineQuery>,
) -> ApiResult<Json<Page<ReviewView>>> {
    let (author, username) = (current.user.id, current.user.username.clone());
    let limit = PageQuery {
        limit: query.limit,
        before: query.before,
    }
    .limit();
    let page = state
        .db
        .run(move |conn| {
            let rows =
                reviews::list_by_author(conn, author, query.drafts, query.before, Some(limit + 1))?;
            Page::of(
                rows,
                limit,
                |(row, _)| row.id,
                |(row, requester)| ReviewView::new(row, &requester, Some(username.clone()), true),
            )
        })
        .await?;
    Ok(Json(page))
}
