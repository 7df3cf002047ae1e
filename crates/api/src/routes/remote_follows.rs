//! A worker's follows of actors on other servers: a requester feed on another instance (whose reviews and incidents then reach this one and notify the worker) or another worker.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use picket_db::delivery;
use picket_db::follows;
use picket_db::models::now;
use picket_db::requesters;
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, CurrentUser};
use crate::remote::RemoteError;
use crate::state::AppState;
use crate::views::RequesterRef;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RemoteTarget {
    /// A fediverse handle (`mturk.a1b2c3d4e5@picket.example`, `alice@picket.example`) or an actor URL.
    pub target: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct RemoteFollowView {
    /// The followed actor's URL.
    pub actor: String,
    /// `pending` until the other server accepts, then `accepted`; `refused` when it turned the
    /// follow down.
    pub state: String,
    /// For a requester feed: the requester, now also followed here.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requester: Option<RequesterRef>,
}

fn refused(error: RemoteError) -> ApiError {
    match error {
        RemoteError::NotFound(message) => {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", message)
        }
        RemoteError::Refused(message) => {
            ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "remote_refused", message)
        }
    }
}

fn checked(target: &str) -> Result<&str, ApiError> {
    let target = target.trim();
    if target.is_empty() || target.len() > 500 {
        return Err(picket_core::FieldErrors::single(
            "target",
            "give a handle such as mturk.a1b2c3d4e5@picket.example, or an actor URL",
        )
        .into());
    }
    Ok(target)
}

/// What the signed-in worker follows on other servers.
#[utoipa::path(get, path = "/api/v1/account/remote-follows", operation_id = "list_remote_follows", tag = "follows",
    responses((status = 200, body = Vec<RemoteFollowView>), (status = 401)))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<Json<Vec<RemoteFollowView>>> {
    let actor = format!("u/{}", current.user.username);
    let rows = state
        .db
        .run(move |conn| delivery::follows_of(conn, &actor))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| RemoteFollowView {
                state: row.state,
                actor: row.remote_actor,
                requester: None,
            })
            .collect(),
    ))
}

/// Follow a requester feed on another instance, or a worker elsewhere. A followed feed's
/// requester is also followed here, so what arrives from it notifies the worker.
#[utoipa::path(post, path = "/api/v1/account/remote-follows", operation_id = "follow_remote", tag = "follows", request_body = RemoteTarget,
    responses((status = 201, body = RemoteFollowView), (status = 401), (status = 404, description = "no such actor"),
        (status = 422, description = "not a handle or actor URL, or its server refused"), (status = 429, description = "too many writes"), (status = 503, description = "this instance does not federate")))]
pub async fn follow(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<RemoteTarget>,
) -> ApiResult<(StatusCode, Json<RemoteFollowView>)> {
    // Each follow makes this instance fetch and post to another server: counted like any write,
    // first, so a refused target costs quota too and cannot be used to probe without limit.
    state.check_write_quota(current.user.id)?;
    let target = checked(&body.target)?;
    let followed = state
        .remote()?
        .follow(&current.user.username, target)
        .await
        .map_err(refused)?;
    let requester = match followed.requester {
        Some(requester) => {
            let user = current.user.id;
            let row = state
                .db
                .tx(move |conn| {
                    let at = now();
                    let row = requesters::mention(
                        conn,
                        &requester.platform,
                        &requester.requester_id,
                        &requester.name,
                        None,
                        at,
                    )?;
                    follows::follow(conn, user, row.id, at)?;
                    Ok(row)
                })
                .await?;
            Some(RequesterRef::from(&row))
        }
        None => None,
    };
    Ok((
        StatusCode::CREATED,
        Json(RemoteFollowView {
            actor: followed.actor,
            state: "pending".to_owned(),
            requester,
        }),
    ))
}

/// Stop following an actor on another server.
#[utoipa::path(delete, path = "/api/v1/account/remote-follows", operation_id = "unfollow_remote", tag = "follows", request_body = RemoteTarget,
    responses((status = 204), (status = 401), (status = 404, description = "not following it"), (status = 429, description = "too many writes"), (status = 503)))]
pub async fn unfollow(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<RemoteTarget>,
) -> ApiResult<StatusCode> {
    // An unfollow posts to another server too.
    state.check_write_quota(current.user.id)?;
    let target = checked(&body.target)?;
    state
        .remote()?
        .unfollow(&current.user.username, target)
        .await
        .map_err(refused)?;
    Ok(StatusCode::NO_CONTENT)
}
