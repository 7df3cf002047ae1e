//! What every handler shares: the database, the instance's settings and its rate limiters. One per instance, never global.

use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use picket_core::accounts::RegistrationMode;
use picket_db::Db;
use picket_metrics::Limit;
use tokio::sync::Semaphore;

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
    /// Registrations the instance accepts per minute, from everyone together, before 429.
    pub registrations_per_minute: u32,
    /// Password hashes computed at once (each takes 19 MiB and a core for a moment); a request
    /// that cannot get a turn quickly gets 503 with `Retry-After`. At least 1.
    pub password_hash_concurrency: usize,
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

/// Quota checks between two sweeps of the keyed limiters.
const EVICT_EVERY: u64 = 1024;

/// How long a request waits for a hashing turn before it is told to come back.
const HASH_WAIT: Duration = Duration::from_millis(250);

/// Cloned into every request: one reference count, so the hottest requests do not make the
/// cores fight over a dozen shared counters.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}

/// Everything an instance's handlers share.
#[derive(Clone)]
pub struct Shared {
    pub db: Db,
    pub settings: Arc<Settings>,
    login_limiter: Arc<DefaultKeyedRateLimiter<String>>,
    write_limiter: Arc<DefaultKeyedRateLimiter<i64>>,
    registration_limiter: Arc<DefaultDirectRateLimiter>,
    /// Quota checks so far; every `EVICT_EVERY`th sweeps keys whose quota is whole again.
    limiter_checks: Arc<AtomicU64>,
    /// Turns at hashing passwords: bounds the memory and threads unauthenticated requests can take.
    hash_permits: Arc<Semaphore>,
    /// A hash to verify against when the username does not exist, so a login's timing does not reveal which names are taken.
    decoy_hash: Arc<OnceLock<String>>,
    local_instance: Arc<str>,
    /// Follows on other servers; `None` where federation is not plugged in.
    remote: Option<Arc<dyn crate::Remote>>,
    /// The instance's metrics (limit hits are counted here).
    pub metrics: picket_metrics::Metrics,
    /// The Turkopticon lookups' answers, kept until their requester changes.
    pub lookups: Arc<crate::lookups::Lookups>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::fmt::Debug for Shared {
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
        AppState(Arc::new(Shared {
            lookups: Arc::new(crate::lookups::Lookups::new(db.clone())),
            db,
            local_instance: picket_core::wave::instance_name(
                settings.public_url.host_str().unwrap_or("localhost"),
                settings.public_url.port(),
            )
            .into(),
            remote: None,
            metrics: picket_metrics::Metrics::new(),
            login_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(per_minute))),
            write_limiter: Arc::new(RateLimiter::keyed(Quota::per_minute(
                NonZeroU32::new(settings.writes_per_minute).unwrap_or(NonZeroU32::MIN),
            ))),
            registration_limiter: Arc::new(RateLimiter::direct(Quota::per_minute(
                NonZeroU32::new(settings.registrations_per_minute).unwrap_or(NonZeroU32::MIN),
            ))),
            limiter_checks: Arc::new(AtomicU64::new(0)),
            hash_permits: Arc::new(Semaphore::new(settings.password_hash_concurrency.max(1))),
            settings: Arc::new(settings),
            decoy_hash: Arc::new(OnceLock::new()),
        }))
    }

    /// The same state, making follows on other servers through `remote`.
    pub fn with_remote(mut self, remote: Arc<dyn crate::Remote>) -> AppState {
        Arc::make_mut(&mut self.0).remote = Some(remote);
        self
    }

    /// The same state, counting into the instance's `metrics`.
    pub fn with_metrics(mut self, metrics: picket_metrics::Metrics) -> AppState {
        Arc::make_mut(&mut self.0).metrics = metrics;
        self
    }
}

impl Shared {
    pub fn remote(&self) -> Result<&dyn crate::Remote, ApiError> {
        self.remote.as_deref().ok_or_else(|| {
            ApiError::new(
                axum::http::StatusCode::SERVICE_UNAVAILABLE,
                "unavailable",
                "this instance does not federate",
            )
        })
    }

    /// Counts one login attempt against `username` (already checked to be a possible username,
    /// so keys stay short); refuses with 429 once the quota is spent.
    pub fn check_login_quota(&self, username: &str) -> Result<(), ApiError> {
        self.evict_now_and_then();
        self.login_limiter
            .check_key(&username.to_owned())
            .map_err(|not_until| self.refused(Limit::Login, &not_until))
    }

    /// Counts one write (a review, incident, corroboration or report) by account `user`;
    /// refuses with 429 and `Retry-After` once its quota is spent.
    pub fn check_write_quota(&self, user: i64) -> Result<(), ApiError> {
        self.evict_now_and_then();
        self.write_limiter
            .check_key(&user)
            .map_err(|not_until| self.refused(Limit::Write, &not_until))
    }

    /// Counts one registration against the instance's quota; 429 with `Retry-After` once spent.
    pub fn check_registration_quota(&self) -> Result<(), ApiError> {
        self.registration_limiter
            .check()
            .map_err(|not_until| self.refused(Limit::Registration, &not_until))
    }

    /// The 429 for a spent quota, counted in the metrics.
    fn refused(
        &self,
        limit: Limit,
        not_until: &governor::NotUntil<<DefaultClock as Clock>::Instant>,
    ) -> ApiError {
        self.metrics.limit_hit(limit);
        ApiError::too_many_requests(not_until.wait_time_from(DefaultClock::default().now()))
    }

    /// The keyed limiters keep one entry per key ever seen; every `EVICT_EVERY` checks, entries
    /// whose quota is whole again (indistinguishable from a fresh key) are dropped, so a stream
    /// of new usernames or accounts cannot grow them without bound. No task to own or stop.
    fn evict_now_and_then(&self) {
        if self.limiter_checks.fetch_add(1, Ordering::Relaxed) % EVICT_EVERY == EVICT_EVERY - 1 {
            self.login_limiter.retain_recent();
            self.login_limiter.shrink_to_fit();
            self.write_limiter.retain_recent();
            self.write_limiter.shrink_to_fit();
        }
    }

    /// Runs password hashing or verification `f` on the blocking pool once a hashing turn is
    /// free. The turn is held until `f` ends, even if the client goes away meanwhile. When no
    /// turn frees up within `HASH_WAIT`, answers 503 with `Retry-After` instead of queueing.
    pub async fn hashing<T, F>(&self, f: F) -> Result<T, ApiError>
    where
        T: Send + 'static,
        F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    {
        let permit = match tokio::time::timeout(
            HASH_WAIT,
            self.hash_permits.clone().acquire_owned(),
        )
        .await
        {
            Ok(Ok(permit)) => permit,
            // Timed out, or the semaphore was closed (it never is): busy either way.
            _ => return Err(ApiError::busy()),
        };
        tokio::task::spawn_blocking(move || {
            let _turn = permit;
            f()
        })
        .await
        .map_err(ApiError::internal)?
    }

    /// Takes every hashing turn until the returned permit drops: for tests of the busy answer.
    #[cfg(test)]
    pub fn hold_hashing(&self) -> tokio::sync::OwnedSemaphorePermit {
        let all = u32::try_from(self.settings.password_hash_concurrency.max(1)).unwrap_or(1);
        match self.hash_permits.clone().try_acquire_many_owned(all) {
            Ok(permit) => permit,
            Err(error) => panic!("hashing turns are free in a fresh state: {error}"),
        }
    }

    /// This instance as waves count instances: the name other instances give it too.
    pub fn local_instance(&self) -> &str {
        &self.local_instance
    }

    /// The hash a login for an unknown username verifies against, made once (through the
    /// hashing turns, like every hash).
    pub async fn decoy_hash(&self) -> Result<String, ApiError> {
        if let Some(hash) = self.decoy_hash.get() {
            return Ok(hash.clone());
        }
        let hash = self
            .hashing(|| {
                Ok(picket_core::secrets::hash_password(
                    "picket decoy password",
                )?)
            })
            .await?;
        Ok(self.decoy_hash.get_or_init(|| hash).clone())
    }
}
