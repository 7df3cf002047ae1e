//! Who is looking at a page, and the anti-forgery token its forms carry.

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::{Cookie, SameSite};
use picket_api::{AppState, CurrentUser};
use picket_core::accounts::Role;
use sha2::{Digest, Sha256};

/// The form token cookie of visitors who are not signed in (login and registration forms).
fn form_cookie_name(state: &AppState) -> &'static str {
    if state.settings.secure_cookies {
        "__Host-picket_form"
    } else {
        "picket_form"
    }
}

/// A page request's context: the instance, the signed-in account (if any) and the form token.
#[derive(Debug, Clone)]
pub struct Ctx {
    pub state: AppState,
    pub user: Option<CurrentUser>,
    /// Put in every form as `csrf`; checked by `form::PageForm`.
    pub csrf: String,
    /// A new form cookie to set with the response (first visit of a visitor not signed in).
    pub(crate) new_form_cookie: Option<Cookie<'static>>,
}

impl Ctx {
    pub fn is_moderator(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role().can_moderate())
    }

    pub fn is_admin(&self) -> bool {
        self.user.as_ref().is_some_and(|u| u.role() >= Role::Admin)
    }

    pub fn username(&self) -> Option<&str> {
        self.user.as_ref().map(|u| u.user.username.as_str())
    }

    /// The signed-in account, or the error that sends a visitor to the login page.
    pub fn require_user(&self) -> Result<CurrentUser, crate::PageError> {
        self.user.clone().ok_or(crate::PageError::SignIn)
    }
}

/// The token of a signed-in session: derived from the session secret, which only that browser
/// holds (in an HttpOnly cookie), so another site can neither read nor compute it.
fn session_token(secret: &str) -> String {
    let digest = Sha256::digest(format!("picket-form-token\0{secret}").as_bytes());
    digest[..16].iter().map(|b| format!("{b:02x}")).collect()
}

/// The token a form from this browser must carry, and a cookie to set when it has none yet.
pub(crate) fn expected_token(
    parts: &Parts,
    state: &AppState,
    signed_in: bool,
) -> (Option<String>, Option<Cookie<'static>>) {
    if signed_in && let Some(secret) = picket_api::presented_cookie(parts, state) {
        return (Some(session_token(&secret)), None);
    }
    let jar = CookieJar::from_headers(&parts.headers);
    match jar.get(form_cookie_name(state)) {
        Some(cookie) if cookie.value().len() >= 32 => (Some(cookie.value().to_owned()), None),
        _ => {
            let value = picket_core::secrets::new_secret();
            let cookie = Cookie::build((form_cookie_name(state), value.clone()))
                .http_only(true)
                .same_site(SameSite::Strict)
                .secure(state.settings.secure_cookies)
                .path("/")
                .build();
            (Some(value), Some(cookie))
        }
    }
}

impl FromRequestParts<AppState> for Ctx {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, std::convert::Infallible> {
        // A stale or revoked cookie is no reason to refuse a page: the visitor reads it signed out.
        let user = CurrentUser::from_request_parts(parts, state).await.ok();
        let (token, new_form_cookie) = expected_token(parts, state, user.is_some());
        Ok(Ctx {
            state: state.clone(),
            user,
            csrf: token.unwrap_or_default(),
            new_form_cookie,
        })
    }
}
