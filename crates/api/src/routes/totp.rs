//! The optional second factor of moderators and admins: enrolling an authenticator app, confirming it, disabling it, and checking a code at login.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use picket_core::totp;
use picket_db::DbError;
use picket_db::models::now;
use serde::{Deserialize, Serialize};

use super::sessions::require_password;
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, CurrentUser};
use crate::state::AppState;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrolRequest {
    /// The account's password: a stolen session alone must not tie the account to someone else's app.
    pub password: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct EnrolResponse {
    /// For the authenticator app to scan (as a QR code) or open.
    pub otpauth_uri: String,
    /// The same secret in base32, to type in by hand.
    pub secret: String,
    /// One-time codes for when the app is lost, each usable once instead of a code. Shown only now.
    pub recovery_codes: Vec<String>,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConfirmRequest {
    /// A current six-digit code from the app.
    pub code: String,
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisableRequest {
    pub password: String,
    /// A current code from the app, or an unused recovery code.
    pub code: String,
}

fn invalid_code() -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "totp_invalid",
        "the code is wrong or was already used; use the current code from the authenticator app",
    )
}

fn unix_now() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or(0)
}

/// Start enrolling an authenticator app (moderators and admins only). Login asks for codes only
/// once a first code confirms the enrolment; enrolling again before that starts afresh.
#[utoipa::path(post, path = "/api/v1/account/totp", operation_id = "enrol_totp", tag = "accounts", request_body = EnrolRequest,
    responses((status = 201, body = EnrolResponse), (status = 401), (status = 403, description = "not a moderator or admin, or wrong password"), (status = 409, description = "a second factor is already enabled")))]
pub async fn enrol(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<EnrolRequest>,
) -> ApiResult<(StatusCode, Json<EnrolResponse>)> {
    if !totp::may_enrol(current.role()) {
        return Err(ApiError::forbidden(
            "forbidden",
            "only moderators and admins can enable a second factor",
        ));
    }
    require_password(&state, &current.user, body.password).await?;
    let secret = totp::new_secret();
    let recovery_codes = totp::new_recovery_codes();
    let digests: Vec<String> = recovery_codes
        .iter()
        .map(|code| totp::recovery_digest(code))
        .collect();
    let user_id = current.user.id;
    let stored = secret.clone();
    state
        .db
        .tx(move |conn| picket_db::totp::enrol(conn, user_id, &stored, &digests, now()))
        .await
        .map_err(|error| match error {
            DbError::Conflict(_) => ApiError::conflict(
                "totp_enabled",
                "a second factor is already enabled; disable it first to enrol another app",
            ),
            other => other.into(),
        })?;
    let host = state.settings.public_url.host_str().unwrap_or("picket");
    let issuer = format!("Picket {host}");
    Ok((
        StatusCode::CREATED,
        Json(EnrolResponse {
            otpauth_uri: totp::otpauth_uri(&issuer, &current.user.username, &secret),
            secret,
            recovery_codes,
        }),
    ))
}

/// Confirm an enrolment with a first code from the app; from then on login needs a code.
#[utoipa::path(post, path = "/api/v1/account/totp/confirm", operation_id = "confirm_totp", tag = "accounts", request_body = ConfirmRequest,
    responses((status = 204), (status = 401), (status = 409, description = "nothing awaits confirmation"), (status = 422, description = "wrong code")))]
pub async fn confirm(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<ConfirmRequest>,
) -> ApiResult<StatusCode> {
    let user_id = current.user.id;
    let pending = state
        .db
        .run(move |conn| picket_db::totp::get(conn, user_id))
        .await?
        .filter(|row| !row.enabled())
        .ok_or_else(|| {
            ApiError::conflict(
                "totp_not_enrolled",
                "no second factor awaits confirmation; enrol first",
            )
        })?;
    let step = totp::matching_step(&pending.secret, &body.code, unix_now())?
        .and_then(|step| i64::try_from(step).ok())
        .ok_or_else(invalid_code)?;
    state
        .db
        .tx(move |conn| picket_db::totp::confirm(conn, user_id, step, now()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Disable the second factor, with the password and a code (or a recovery code).
#[utoipa::path(delete, path = "/api/v1/account/totp", operation_id = "disable_totp", tag = "accounts", request_body = DisableRequest,
    responses((status = 204), (status = 401), (status = 403, description = "wrong password"), (status = 409, description = "no second factor is enabled"), (status = 422, description = "wrong code")))]
pub async fn disable(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<DisableRequest>,
) -> ApiResult<StatusCode> {
    require_password(&state, &current.user, body.password).await?;
    let user_id = current.user.id;
    match second_factor(&state, user_id, &body.code).await? {
        SecondFactor::NotEnabled => Err(ApiError::conflict(
            "totp_not_enabled",
            "no second factor is enabled",
        )),
        SecondFactor::Invalid => Err(invalid_code()),
        SecondFactor::Accepted => {
            state
                .db
                .tx(move |conn| picket_db::totp::remove(conn, user_id))
                .await?;
            Ok(StatusCode::NO_CONTENT)
        }
    }
}

/// What checking a presented code found.
#[derive(Debug)]
pub enum SecondFactor {
    /// The account has no confirmed second factor: nothing to check.
    NotEnabled,
    /// The code matched (and is now used up).
    Accepted,
    Invalid,
}

/// Whether the account needs a second factor at all (for login, before looking at the body).
pub async fn enabled(state: &AppState, user_id: i64) -> ApiResult<bool> {
    Ok(state
        .db
        .run(move |conn| picket_db::totp::get(conn, user_id))
        .await?
        .is_some_and(|row| row.enabled()))
}

/// Checks `code` as a current TOTP code (each time step usable once) or an unused recovery code
/// (used up), in one transaction, so two logins racing with one code cannot both pass.
pub async fn second_factor(state: &AppState, user_id: i64, code: &str) -> ApiResult<SecondFactor> {
    let code = code.to_owned();
    let time = unix_now();
    let digest = totp::recovery_digest(&code);
    let found = state
        .db
        .tx(move |conn| {
            let Some(row) = picket_db::totp::get(conn, user_id)?.filter(|row| row.enabled()) else {
                return Ok(SecondFactor::NotEnabled);
            };
            let step = totp::matching_step(&row.secret, &code, time)
                .map_err(|e| DbError::Corrupt(e.to_string()))?
                .and_then(|step| i64::try_from(step).ok());
            let accepted = match step {
                Some(step) => picket_db::totp::use_step(conn, user_id, step)?,
                None => picket_db::totp::use_recovery_code(conn, user_id, &digest, now())?,
            };
            Ok(if accepted {
                SecondFactor::Accepted
            } else {
                SecondFactor::Invalid
            })
        })
        .await?;
    Ok(found)
}
