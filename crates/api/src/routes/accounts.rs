//! Account endpoints: register, read one's own account, change password, delete the account.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use chrono::NaiveDateTime;
use picket_core::FieldErrors;
use picket_core::accounts::{self, AccountStatus, RegistrationMode, Role};
use picket_core::secrets::{hash_password, secret_digest, verify_password};
use picket_db::models::{NewUser, UserRow, now};
use picket_db::{DbError, sessions, users};
use serde::{Deserialize, Serialize};

use super::sessions::{clear_cookie, require_password};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, CurrentUser};
use crate::state::AppState;

/// An account as its owner sees it. Never federated: the e-mail address stays on this instance.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct AccountView {
    pub id: i64,
    pub username: String,
    pub role: Role,
    pub status: AccountStatus,
    pub email: Option<String>,
    pub created_at: NaiveDateTime,
}

impl From<UserRow> for AccountView {
    fn from(user: UserRow) -> Self {
        AccountView {
            id: user.id,
            role: user.role(),
            status: user.status(),
            username: user.username,
            email: user.email,
            created_at: user.created_at,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    pub username: String,
    pub password: String,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub invite: Option<String>,
}

/// Register: 201 with an active account, or 202 when it awaits a moderator's approval.
#[utoipa::path(post, path = "/api/v1/accounts", tag = "accounts", request_body = RegisterRequest,
    responses((status = 201, body = AccountView), (status = 202, body = AccountView), (status = 409, description = "username taken"), (status = 422),
        (status = 429, description = "too many registrations on this instance; see Retry-After"), (status = 503, description = "too many passwords being checked; see Retry-After")))]
pub async fn register(
    State(state): State<AppState>,
    AppJson(body): AppJson<RegisterRequest>,
) -> ApiResult<Response> {
    // What an admin chose in the browser, else the config file.
    let mode = super::admin::instance_view(&state).await?.registration;
    let registration = match accounts::validate_registration(
        &body.username,
        &body.password,
        body.email.as_deref(),
    ) {
        Ok(registration) => registration,
        Err(mut errors) => {
            if mode == RegistrationMode::Invite && body.invite.is_none() {
                errors.add(
                    "invite",
                    "an invite code is required to register on this instance",
                );
            }
            return Err(errors.into());
        }
    };
    let invite_digest = match (mode, body.invite.as_deref().map(str::trim)) {
        (RegistrationMode::Invite, Some(code)) if !code.is_empty() => Some(secret_digest(code)),
        (RegistrationMode::Invite, _) => {
            return Err(FieldErrors::single(
                "invite",
                "an invite code is required to register on this instance",
            )
            .into());
        }
        _ => None,
    };
    // Counted for the whole instance, before anything costly: each registration is a hash and,
    // in open mode, an account.
    state.check_registration_quota()?;
    // An invite is looked up before the hash is spent on it; `redeem` below still decides.
    if let Some(digest) = invite_digest.clone() {
        let usable = state
            .db
            .run(move |conn| picket_db::invites::is_usable(conn, &digest, now()))
            .await?;
        if !usable {
            return Err(unusable_invite());
        }
    }
    let password = body.password;
    let hash = state.hashing(move || Ok(hash_password(&password)?)).await?;
    let status = mode.initial_status();
    let result = state
        .db
        .tx(move |conn| {
            let at = now();
            let user = users::create(
                conn,
                &NewUser {
                    username: registration.username.as_str(),
                    password_hash: Some(&hash),
                    email: registration.email.as_deref(),
                    role: Role::Worker.as_str(),
                    status: status.as_str(),
                    created_at: at,
                    updated_at: at,
                },
            )?;
            if let Some(digest) = &invite_digest {
                picket_db::invites::redeem(conn, digest, user.id, at)?;
            }
            Ok(user)
        })
        .await;
    let user = match result {
        Ok(user) => user,
        Err(DbError::Unusable(_)) => return Err(unusable_invite()),
        Err(DbError::Conflict(_)) => {
            return Err(ApiError::conflict(
                "username_taken",
                "this username is taken; choose another",
            ));
        }
        Err(other) => return Err(other.into()),
    };
    let code = if user.status() == AccountStatus::Pending {
        StatusCode::ACCEPTED
    } else {
        StatusCode::CREATED
    };
    Ok((code, Json(AccountView::from(user))).into_response())
}

fn unusable_invite() -> ApiError {
    FieldErrors::single(
        "invite",
        "this invite code is unknown, expired or already used",
    )
    .into()
}

/// The signed-in account.
#[utoipa::path(get, path = "/api/v1/account", tag = "accounts", responses((status = 200, body = AccountView), (status = 401)))]
pub async fn me(current: CurrentUser) -> Json<AccountView> {
    Json(current.user.into())
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    pub current_password: String,
    pub new_password: String,
}

/// Change password: keeps the session that asked, revokes every other session and token.
#[utoipa::path(post, path = "/api/v1/account/password", tag = "accounts", request_body = ChangePasswordRequest,
    responses((status = 204), (status = 401), (status = 403, description = "wrong current password"), (status = 422)))]
pub async fn change_password(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<ChangePasswordRequest>,
) -> ApiResult<StatusCode> {
    let mut errors = FieldErrors::new();
    errors.check("new_password", accounts::check_password(&body.new_password));
    errors.into_result()?;
    require_password(&state, &current.user, body.current_password).await?;
    let new_password = body.new_password;
    let hash = state
        .hashing(move || Ok(hash_password(&new_password)?))
        .await?;
    let (user_id, keep) = (current.user.id, current.session.id);
    state
        .db
        .tx(move |conn| {
            users::set_password_hash(conn, user_id, &hash)?;
            sessions::revoke_all(conn, user_id, Some(keep))
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResetPasswordRequest {
    /// The secret at the end of the reset link an admin made (`picket admin users reset-password`).
    pub token: String,
    pub new_password: String,
}

/// What an unknown, used or expired reset link gets: one answer for all three, so nobody can
/// probe which links once existed.
fn reset_gone() -> ApiError {
    ApiError::not_found(
        "this password reset link is unknown, already used or expired: ask an admin for a new one",
    )
}

/// Whether `token` is a reset link that still works: the account's name, for the form.
pub async fn reset_username(state: &AppState, token: &str) -> ApiResult<String> {
    let digest = secret_digest(token);
    state
        .db
        .run(move |conn| sessions::reset_account(conn, &digest, now()))
        .await?
        .map(|user| user.username)
        .ok_or_else(reset_gone)
}

/// Set a new password with a one-time reset link; every session and token of the account ends.
#[utoipa::path(post, path = "/api/v1/auth/password-reset", tag = "accounts", request_body = ResetPasswordRequest,
    responses((status = 204), (status = 404, description = "unknown, used or expired link"), (status = 422),
        (status = 503, description = "too many passwords being checked; see Retry-After")))]
pub async fn reset_password(
    State(state): State<AppState>,
    AppJson(body): AppJson<ResetPasswordRequest>,
) -> ApiResult<StatusCode> {
    reset_username(&state, &body.token).await?;
    let mut errors = FieldErrors::new();
    errors.check("new_password", accounts::check_password(&body.new_password));
    errors.into_result()?;
    let new_password = body.new_password;
    let hash = state
        .hashing(move || Ok(hash_password(&new_password)?))
        .await?;
    let digest = secret_digest(&body.token);
    state
        .db
        .tx(move |conn| sessions::take_reset(conn, &digest, &hash, now()))
        .await
        .map_err(|e| match e {
            DbError::NotFound => reset_gone(),
            other => other.into(),
        })?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    pub password: String,
}

/// Delete the account (needs the password again; cannot be undone). Reviews and incidents become
/// tombstones and leave the aggregates; the username stays reserved.
#[utoipa::path(delete, path = "/api/v1/account", tag = "accounts", operation_id = "delete_account", request_body = DeleteAccountRequest,
    responses((status = 204), (status = 401), (status = 403, description = "wrong password")))]
pub async fn delete(
    State(state): State<AppState>,
    jar: CookieJar,
    current: CurrentUser,
    AppJson(body): AppJson<DeleteAccountRequest>,
) -> ApiResult<(CookieJar, StatusCode)> {
    require_password(&state, &current.user, body.password).await?;
    let user_id = current.user.id;
    state
        .db
        .erase(move |conn| users::erase(conn, user_id))
        .await?;
    Ok((clear_cookie(jar, &state), StatusCode::NO_CONTENT))
}

/// Checks a password against an account's stored hash, off the async executor.
pub async fn password_matches(
    state: &AppState,
    user: &UserRow,
    password: String,
) -> ApiResult<bool> {
    let Some(hash) = user.password_hash.clone() else {
        return Ok(false);
    };
    state
        .hashing(move || Ok(verify_password(&password, &hash)?))
        .await
}
