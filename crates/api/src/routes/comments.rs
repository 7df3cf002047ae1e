//! Comment endpoints: the threads under a review or an incident, writing and answering, an author's deletion, and moderators' removal. The pages call the same handlers.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use picket_core::FieldErrors;
use picket_core::accounts::Role;
use picket_core::comment::{CommentInput, validate_comment};
use picket_core::moderation::{TargetType, validate_reason};
use picket_core::secrets::new_public_id;
use picket_db::comments::{self, NewComment, Parent};
use picket_db::models::now;
use picket_db::requesters::{self, RequesterRow};
use picket_db::{DbConn, DbError, incidents, moderation, policy, reviews};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, CurrentUser, MaybeUser};
use crate::routes::reviews::RemovalRequest;
use crate::state::AppState;
use crate::views::{CommentThreads, CommentView};

const NO_COMMENT: &str = "no such comment";

/// What a comment can be about, as the URL names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum On {
    Review,
    Incident,
}

impl On {
    fn missing(self) -> &'static str {
        match self {
            On::Review => "no such review",
            On::Incident => "no such incident",
        }
    }
}

/// The published, visible review or incident `id` names, and the requester it is about.
pub fn parent(
    conn: &mut DbConn,
    on: On,
    id: &str,
) -> Result<(Parent, Option<RequesterRow>), DbError> {
    let (parent, published, origin, requester_pk) = match on {
        On::Review => {
            let row = reviews::by_public_id(conn, id)?;
            (
                Parent::Review(row.id),
                row.state == "published",
                row.origin,
                Some(row.requester_pk),
            )
        }
        On::Incident => {
            let row = incidents::by_public_id(conn, id)?;
            (
                Parent::Incident(row.id),
                row.is_published(),
                row.origin,
                row.requester_pk,
            )
        }
    };
    if !published || policy::is_hidden(conn, origin.as_deref())? {
        return Err(DbError::NotFound);
    }
    let requester = requester_pk
        .map(|pk| requesters::by_pk(conn, pk))
        .transpose()?;
    Ok((parent, requester))
}

/// The threads under `parent`, as `viewer` may read them.
pub fn threads(
    conn: &mut DbConn,
    parent: Parent,
    show_removed: bool,
) -> Result<CommentThreads, DbError> {
    Ok(CommentThreads {
        count: comments::count(conn, parent)?,
        threads: CommentView::threads(comments::thread(conn, parent)?, show_removed),
    })
}

async fn list(
    state: AppState,
    viewer: MaybeUser,
    on: On,
    id: String,
) -> ApiResult<Json<CommentThreads>> {
    let show_removed = viewer.can_moderate();
    let found = state
        .db
        .run(move |conn| {
            let (parent, _) = parent(conn, on, &id)?;
            threads(conn, parent, show_removed)
        })
        .await
        .map_err(super::not_found_as(on.missing()))?;
    Ok(Json(found))
}

/// Writes `input` about `id` as the signed-in account; the one implementation behind the JSON
/// API and the pages.
pub async fn write(
    state: &AppState,
    current: &CurrentUser,
    on: On,
    id: String,
    input: CommentInput,
) -> ApiResult<CommentView> {
    state.check_write_quota(current.user.id)?;
    let lookup = id.clone();
    let (_, requester) = state
        .db
        .run(move |conn| parent(conn, on, &lookup))
        .await
        .map_err(super::not_found_as(on.missing()))?;
    // A requester's voice answers about its own requester, and only there.
    let as_requester = match current.user.speaks_for {
        None => false,
        Some(pk) if requester.as_ref().map(|r| r.id) == Some(pk) => true,
        Some(_) => {
            return Err(ApiError::forbidden(
                "requester_voice",
                "this account speaks for a requester: it can comment only on reviews and incidents about that requester",
            ));
        }
    };
    let body = validate_comment(
        &input.body,
        requester.as_ref().map_or("", |r| r.requester_id.as_str()),
        input.confirm_no_worker_ids,
    )?;
    let (author, username) = (current.user.id, current.user.username.clone());
    let reply_to = input.reply_to.clone();
    state
        .db
        .tx(move |conn| {
            let (parent, _) = parent(conn, on, &id)?;
            let answered = match &reply_to {
                None => None,
                Some(reply_to) => match comments::by_public_id(conn, reply_to) {
                    Ok(row) if row.is_published() && row.parent()? == parent => Some(row),
                    Ok(_) | Err(DbError::NotFound) => return Ok(Err(())),
                    Err(other) => return Err(other),
                },
            };
            let row = comments::create(
                conn,
                NewComment {
                    public_id: &new_public_id(),
                    parent,
                    reply_to: answered.as_ref(),
                    body: &body,
                    as_requester,
                },
                author,
                now(),
            )?;
            let answered = answered.map(|a| {
                // The thread's start, which is what a reply to a reply answers.
                match a.reply_to_pk {
                    Some(root) => comments::by_pk(conn, root).map(|r| r.public_id),
                    None => Ok(a.public_id),
                }
            });
            let answered = answered.transpose()?;
            Ok(Ok(CommentView::new(
                (row, Some(username.clone())),
                answered,
                false,
            )))
        })
        .await
        .map_err(super::not_found_as(on.missing()))?
        .map_err(|()| {
            ApiError::from(FieldErrors::single(
                "reply_to",
                "there is no such comment under this review or incident to answer",
            ))
        })
}

/// The comments on a review, as threads one level deep.
#[utoipa::path(get, path = "/api/v1/reviews/{id}/comments", tag = "comments", params(("id" = String, Path)),
    responses((status = 200, body = CommentThreads), (status = 404)))]
pub async fn list_on_review(
    State(state): State<AppState>,
    viewer: MaybeUser,
    Path(id): Path<String>,
) -> ApiResult<Json<CommentThreads>> {
    list(state, viewer, On::Review, id).await
}

/// Comment on a review, or answer a comment on it (`reply_to`).
#[utoipa::path(post, path = "/api/v1/reviews/{id}/comments", tag = "comments", params(("id" = String, Path)), request_body = CommentInput,
    responses((status = 201, body = CommentView), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn create_on_review(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(input): AppJson<CommentInput>,
) -> ApiResult<(StatusCode, Json<CommentView>)> {
    let view = write(&state, &current, On::Review, id, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The comments on an incident report, as threads one level deep.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/comments", tag = "comments", params(("id" = String, Path)),
    responses((status = 200, body = CommentThreads), (status = 404)))]
pub async fn list_on_incident(
    State(state): State<AppState>,
    viewer: MaybeUser,
    Path(id): Path<String>,
) -> ApiResult<Json<CommentThreads>> {
    list(state, viewer, On::Incident, id).await
}

/// Comment on an incident report, or answer a comment on it (`reply_to`).
#[utoipa::path(post, path = "/api/v1/incidents/{id}/comments", tag = "comments", params(("id" = String, Path)), request_body = CommentInput,
    responses((status = 201, body = CommentView), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn create_on_incident(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(input): AppJson<CommentInput>,
) -> ApiResult<(StatusCode, Json<CommentView>)> {
    let view = write(&state, &current, On::Incident, id, input).await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Delete your own comment: it leaves a tombstone without words, here and on every instance.
#[utoipa::path(delete, path = "/api/v1/comments/{id}", operation_id = "delete_comment", tag = "comments", params(("id" = String, Path)),
    responses((status = 204), (status = 401), (status = 403, description = "not the author"), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let author = current.user.id;
    // Erased, so its words leave SQLite's write-ahead log too.
    state
        .db
        .erase(move |conn| {
            let row = comments::by_public_id(conn, &id)?;
            if row.state == comments::DELETED {
                return Err(DbError::NotFound);
            }
            if row.author_id != Some(author) {
                return Ok(Err(()));
            }
            comments::delete(conn, &row, now())?;
            Ok(Ok(()))
        })
        .await
        .map_err(super::not_found_as(NO_COMMENT))?
        .map_err(|()| {
            ApiError::forbidden("not_author", "only the author can delete this comment")
        })?;
    Ok(StatusCode::NO_CONTENT)
}

async fn set_removal(
    state: AppState,
    current: CurrentUser,
    id: String,
    reason: Option<String>,
) -> ApiResult<StatusCode> {
    let acting_as = super::moderation::acting(&state, &current);
    state
        .db
        .tx(move |conn| {
            moderation::set_content_removed(
                conn,
                acting_as.get(),
                TargetType::Comment,
                &id,
                reason.as_deref(),
                now(),
            )
        })
        .await
        .map_err(super::not_found_as(NO_COMMENT))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove a comment from public view, with the reason shown in its place (moderators).
#[utoipa::path(post, path = "/api/v1/comments/{id}/removal", operation_id = "remove_comment", tag = "moderation", params(("id" = String, Path)), request_body = RemovalRequest,
    responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn remove(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<RemovalRequest>,
) -> ApiResult<StatusCode> {
    current.require(Role::Moderator)?;
    let reason = validate_reason(&body.reason)?;
    set_removal(state, current, id, Some(reason)).await
}

/// Restore a removed comment (moderators).
#[utoipa::path(delete, path = "/api/v1/comments/{id}/removal", operation_id = "restore_comment", tag = "moderation", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn restore(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    current.require(Role::Moderator)?;
    set_removal(state, current, id, None).await
}
