//! What every handler shares: the database, the instance's settings and its rate limiters. One per instance, never global.

use std::num::NonZeroU32;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use picket_core::accounts::RegistrationMode;
use picket_db::Db;

use crate::error::ApiError;

/// The account-related settings the HTTP edge needs, taken from the instance's configuration.
#[derive(Debug, Clone)]
pub struct Settings {
    pub registration: RegistrationMode,
    /// True when the public URL is https: cookies then get `Secure` and the `__Host-` prefix.
    pub secure_cookies: bool,
    pub session_ttl: Duration,
    pub invite_ttl: Duration,
    /// Login attempts (right or wrong) allowed per account per minute before 429.
    pub login_attempts_per_minute: u32,
    /// The instance's public URL, for links in feeds and exports.
    pub public_url: url::Url,
    /// Incidents of one kind against one requester this many days apart still belong to one wave.
    pub wave_window_days: i64,
    /// Reviews, incidents, corroborations and reports one account may post per minute.
    pub writes_per_minute: u32,
    /// Whether the public moderation log names moderators (otherwise only their role).
    pub show_moderator_names: bool,
}

impl Settings {
    pub fn cookie_name(&self) -> &'static str {
        if self.secure_cookies {
            "__Host-picket_session"
        } else {
            "picket_session"
        }
    }
}

/// Cloned into every request; cheap, since everything inside is shared.
#[derive(Clone)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    login_limiter: Arc<DefaultKeyedRateLimiter<String>>,
    write_limiter: Arc<DefaultKeyedRateLimiter<i64>>,
    /// A hash to verify against when the username does not exist, so a login's timing does not reveal which names are taken.
    decoy_hash: Arc<OnceLock<String>>,
    local_instance: Arc<str>,
    /// Follows on other servers; `None` where federation is not plugged in.
    remote: Option<Arc<dyn crate::Remote>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("db", &self.db)
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl AppState {
    pub fn new(db: Db, settings: Settings) -> AppState {
        let per_minute =
            NonZeroU32::new(settings.login_attempts_per_minute).unwrap_or(NonZeroU32::MIN);
        AppState {
            db,
            local_instance: picket_core::wave::instance_name(
                settings.public_url.host_str().unwrap_or("localhost"),
                settings.public_url.port(),
            )
            .into(),
            remote: None,
            login_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            write_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(settings.writes_per_minute).unwrap_or(NonZeroU32::MIN),
            ))),
            settings: Arc::new(settings),
            decoy_hash: Arc::new(OnceLock::new()),
        }
    }

    /// The same state, making follows on other servers through `remote`.
    pub fn with_remote(mut self, remote: Arc<dyn crate::Remote>) -> AppState {
        self.remote = Some(remote);
        self
    }

    pub(crate) fn remote(&self) -> Result<&dyn crate::Remote, ApiError> {
        self.remote.as_deref().ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "this instance does not federate",
            )
        })
    }

    /// Counts one login attempt against `username`; refuses with 429 once the quota is spent.
    pub(crate) fn check_login_quota(&self, username: &str) -> Result<(), ApiError> {
        self.login_limiter
            .check_key(&username.to_owned())
            .map_err(|not_until| {
                ApiError::too_many_requests(not_until.wait_time_from(DefaultClock::default().now()))
            })
    }

    /// Counts one write (a review, incident, corroboration or report) by account `user`;
    /// refuses with 429 and `Retry-After` once its quota is spent.
    pub(crate) fn check_write_quota(&self, user: i64) -> Result<(), ApiError> {
        self.write_limiter.check_key(&user).map_err(|not_until| {
            ApiError::too_many_requests(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    /// This instance as waves count instances: the name other instances give it too.
    pub(crate) fn local_instance(&self) -> &str {
        &self.local_instance
    }

    pub(crate) fn decoy_hash(&self) -> Result<String, ApiError> {
        if let Some(hash) = self.decoy_hash.get() {
            return Ok(hash.clone());
        }
        let hash = picket_core::secrets::hash_password("picket decoy password")?;
        Ok(self.decoy_hash.get_or_init(|| hash).clone())
    }
}
