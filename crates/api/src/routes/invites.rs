//! Invite codes: how a collective in `invite` mode admits new workers it trusts.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use picket_core::accounts::Role;
use picket_core::secrets::{new_secret, secret_digest};
use picket_db::models::now;
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::CurrentUser;
use crate::state::AppState;

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InviteResponse {
    pub code: String,
    pub expires_at: NaiveDateTime,
}

/// Create a single-use invite code (moderators and admins).
#[utoipa::path(post, path = "/api/v1/invites", tag = "accounts", operation_id = "create_invite",
    responses((status = 201, body = InviteResponse), (status = 401), (status = 403)))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<(StatusCode, Json<InviteResponse>)> {
    current.require(Role::Moderator)?;
    let code = new_secret();
    let digest = secret_digest(&code);
    let expires_at = now()
        + chrono::Duration::from_std(state.settings.invite_ttl).map_err(ApiError::internal)?;
    let creator = current.user.id;
    let acting_as = super::moderation::acting(&state, &current);
    state
        .db
        .tx(move |conn| {
            picket_db::invites::create(conn, &digest, Some(creator), expires_at)?;
            let acting = acting_as.get();
            picket_db::moderation::log_action(
                conn,
                acting,
                picket_core::moderation::ModAction::CreateInvite,
                ("invite", &expires_at.to_string()),
                "invite created",
                now(),
            )
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(InviteResponse { code, expires_at }),
    ))
}
