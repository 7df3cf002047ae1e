//! Signing in and out: cookie sessions for browsers, bearer tokens for tools. Secrets are shown once and stored only as digests.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use picket_core::FieldErrors;
use picket_core::accounts::{AccountStatus, Username};
use picket_core::secrets::{hash_password, needs_rehash, new_secret, secret_digest};
use picket_db::models::{NewSession, SessionKind, UserRow, now};
use picket_db::{DbError, sessions, users};
use serde::{Deserialize, Serialize};

use super::accounts::{AccountView, password_matches};
use super::totp::{self, SecondFactor};
use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, CurrentUser};
use crate::state::AppState;

/// Longest label for an API token, so a token list stays readable.
const TOKEN_LABEL_MAX_CHARS: usize = 64;

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub username: String,
    pub password: String,
    /// For accounts with a second factor: the app's current code, or an unused recovery code.
    #[serde(default)]
    pub totp: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct LoginResponse {
    pub account: AccountView,
}

fn session_cookie(state: &AppState, secret: String) -> Cookie<'static> {
    let settings = &state.settings;
    let max_age = i64::try_from(settings.session_ttl.as_secs()).unwrap_or(i64::MAX);
    Cookie::build((settings.cookie_name(), secret))
        .http_only(true)
        .same_site(SameSite::Lax)
        .secure(settings.secure_cookies)
        .path("/")
        .max_age(cookie::time::Duration::seconds(max_age))
        .build()
}

/// Removes the session cookie from the browser.
pub fn clear_cookie(jar: CookieJar, state: &AppState) -> CookieJar {
    jar.remove(
        Cookie::build(state.settings.cookie_name())
            .path("/")
            .secure(state.settings.secure_cookies)
            .build(),
    )
}

/// Refuses with 403 unless `password` is the account's current password: re-checked before destructive actions.
pub async fn require_password(state: &AppState, user: &UserRow, password: String) -> ApiResult<()> {
    if password_matches(state, user, password).await? {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "wrong_password",
            "the password is not correct",
        ))
    }
}

/// Stores a new session or token for `user_id` and returns its secret, which exists nowhere else.
async fn issue(
    state: &AppState,
    user_id: i64,
    kind: SessionKind,
    label: Option<String>,
) -> ApiResult<String> {
    let secret = new_secret();
    let digest = secret_digest(&secret);
    let expires_at = match kind {
        SessionKind::Cookie => Some(
            now()
                + chrono::Duration::from_std(state.settings.session_ttl)
                    .map_err(ApiError::internal)?,
        ),
        SessionKind::Api => None,
    };
    state
        .db
        .run(move |conn| {
            // Expired sessions are useless; dropping them here keeps the table from growing without a scheduler.
            sessions::purge_expired(conn, now())?;
            sessions::create(
                conn,
                &NewSession {
                    user_id,
                    token_digest: &digest,
                    kind: kind.as_str(),
                    label: label.as_deref(),
                    created_at: now(),
                    expires_at,
                },
            )
        })
        .await?;
    Ok(secret)
}

/// Sign in: sets the HttpOnly session cookie.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts", request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, description = "wrong username or password, or a second-factor code missing (`totp_required`) or wrong (`totp_invalid`)"), (status = 403, description = "pending or suspended"), (status = 422, description = "not a possible username"), (status = 429), (status = 503, description = "too many passwords being checked; see Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    jar: CookieJar,
    AppJson(body): AppJson<LoginRequest>,
) -> ApiResult<(CookieJar, Json<LoginResponse>)> {
    // A name no account can have is refused before it costs a hash or a limiter entry: an
    // attacker could otherwise send endless new (and endlessly long) names.
    let username = Username::parse(&body.username)
        .map_err(|why| FieldErrors::single("username", why))?
        .into_string();
    let wrong = || {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
            "wrong username or password",
        )
    };
    // Every attempt counts, and before the password is checked: were only failures counted, a
    // guesser would still learn the right password from the one answer that is not 429.
    state.check_login_quota(&username)?;
    let lookup_name = username.clone();
    let user = match state
        .db
        .run(move |conn| users::by_username(conn, &lookup_name))
        .await
    {
        Ok(user) if user.status() != AccountStatus::Deleted => Some(user),
        Ok(_) | Err(DbError::NotFound) => None,
        Err(other) => return Err(other.into()),
    };
    let Some(user) = user else {
        // Spend the same time as a real check, so timing does not tell which usernames exist.
        let decoy = state.decoy_hash().await?;
        let password = body.password;
        state
            .hashing(move || Ok(picket_core::secrets::verify_password(&password, &decoy)?))
            .await?;
        return Err(wrong());
    };
    if !password_matches(&state, &user, body.password.clone()).await? {
        return Err(wrong());
    }
    match user.status() {
        AccountStatus::Active => {}
        AccountStatus::Pending => {
            return Err(ApiError::forbidden(
                "account_pending",
                "this account awaits a moderator's approval",
            ));
        }
        AccountStatus::Suspended | AccountStatus::Deleted => {
            return Err(ApiError::forbidden(
                "account_suspended",
                "this account is suspended",
            ));
        }
    }
    // The second factor comes after the password, so its errors say nothing to a guesser who
    // lacks the password; each attempt already counted against the login limiter above.
    if totp::enabled(&state, user.id).await? {
        let Some(code) = body.totp.as_deref().filter(|c| !c.trim().is_empty()) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "totp_required",
                "this account has a second factor: send the authenticator app's current code (or a recovery code) as `totp`",
            ));
        };
        match totp::second_factor(&state, user.id, code).await? {
            SecondFactor::Accepted | SecondFactor::NotEnabled => {}
            SecondFactor::Invalid => {
                return Err(ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "totp_invalid",
                    "the second-factor code is wrong or was already used",
                ));
            }
        }
    }
    if user.password_hash.as_deref().is_some_and(needs_rehash) {
        let password = body.password;
        let hash = state.hashing(move || Ok(hash_password(&password)?)).await?;
        let id = user.id;
        state
            .db
            .run(move |conn| users::set_password_hash(conn, id, &hash))
            .await?;
    }
    let secret = issue(&state, user.id, SessionKind::Cookie, None).await?;
    Ok((
        jar.add(session_cookie(&state, secret)),
        Json(LoginResponse {
            account: user.into(),
        }),
    ))
}

/// Sign out: revokes the session or token that made the request.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts", responses((status = 204), (status = 401)))]
pub async fn logout(
    State(state): State<AppState>,
    jar: CookieJar,
    current: CurrentUser,
) -> ApiResult<(CookieJar, StatusCode)> {
    let id = current.session.id;
    state.db.run(move |conn| sessions::revoke(conn, id)).await?;
    Ok((clear_cookie(jar, &state), StatusCode::NO_CONTENT))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenRequest {
    pub label: String,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct TokenResponse {
    pub token: String,
    pub label: String,
}

/// Create a long-lived bearer token for scripts (shown once; send as `Authorization: Bearer`).
#[utoipa::path(post, path = "/api/v1/auth/tokens", tag = "accounts", request_body = CreateTokenRequest,
    responses((status = 201, body = TokenResponse), (status = 401), (status = 422)))]
pub async fn create_token(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<CreateTokenRequest>,
) -> ApiResult<(StatusCode, Json<TokenResponse>)> {
    let label = body.label.trim().to_owned();
    let len = label.chars().count();
    if len == 0 || len > TOKEN_LABEL_MAX_CHARS {
        return Err(FieldErrors::single(
            "label",
            format!("must be 1 to {TOKEN_LABEL_MAX_CHARS} characters long"),
        )
        .into());
    }
    let token = issue(
        &state,
        current.user.id,
        SessionKind::Api,
        Some(label.clone()),
    )
    .await?;
    Ok((StatusCode::CREATED, Json(TokenResponse { token, label })))
}

/// A session or API token in the account's own list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SessionView {
    pub id: i64,
    /// `cookie` (a browser session) or `api` (a token).
    pub kind: String,
    pub label: Option<String>,
    pub created_at: chrono::NaiveDateTime,
    pub expires_at: Option<chrono::NaiveDateTime>,
    /// The session that made this request.
    pub current: bool,
}

/// The signed-in account's browser sessions and API tokens (never their secrets).
#[utoipa::path(get, path = "/api/v1/auth/sessions", operation_id = "list_sessions", tag = "accounts",
    responses((status = 200, body = Vec<SessionView>), (status = 401)))]
pub async fn list(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<Json<Vec<SessionView>>> {
    let (user, this) = (current.user.id, current.session.id);
    let rows = state
        .db
        .run(move |conn| sessions::list_for_user(conn, user, now()))
        .await?;
    Ok(Json(
        rows.into_iter()
            .map(|row| SessionView {
                current: row.id == this,
                id: row.id,
                kind: row.kind,
                label: row.label,
                created_at: row.created_at,
                expires_at: row.expires_at,
            })
            .collect(),
    ))
}

/// Revoke one of the account's sessions or tokens (signing that browser or script out).
#[utoipa::path(delete, path = "/api/v1/auth/sessions/{id}", operation_id = "revoke_session", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 204), (status = 401), (status = 404, description = "no such session of this account")))]
pub async fn revoke(
    State(state): State<AppState>,
    current: CurrentUser,
    axum::extract::Path(id): axum::extract::Path<i64>,
) -> ApiResult<StatusCode> {
    let user = current.user.id;
    state
        .db
        .run(move |conn| sessions::revoke_own(conn, user, id))
        .await
        .map_err(super::not_found_as(
            "no such session or token of this account",
        ))?;
    Ok(StatusCode::NO_CONTENT)
}
