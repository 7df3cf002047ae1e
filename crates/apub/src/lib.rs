//! Picket's federation edge: actors served as ActivityStreams JSON, WebFinger and NodeInfo discovery, built on LemmyNet's `activitypub_federation`.

mod activities;
mod actors;
mod error;
pub mod http;
mod kinds;
pub mod lists;
mod objects;
mod outbox;
#[cfg(test)]
mod protocol_tests;
mod publish;
mod receive;
mod routes;
pub mod signature;
pub mod worker;

pub use activities::{InboxActivity, follow, unfollow};
pub use actors::{ActorJson, ActorKind, ApubActor, INSTANCE_NAME, LocalActor, key_pair_usable};
pub use error::ApubError;
pub use objects::{ContentPage, CorroborationNote, PicketObject};
pub use routes::{MAX_INBOX_BYTES, router};

use activitypub_federation::config::FederationConfig;
use activitypub_federation::protocol::context::WithContext;
use picket_core::moderation::FederationMode;
use picket_db::Db;
use url::Url;

/// What federation handlers and fetches share; one per instance, never global.
#[derive(Debug, Clone)]
pub struct ApubData {
    pub db: Db,
    /// The instance's public URL, ending in `/`: every local actor's id is below it.
    pub public_url: Url,
    /// Whether anyone may register (NodeInfo's `openRegistrations`).
    pub open_registrations: bool,
    /// Incidents this many days apart still belong to one wave (as for local reports).
    pub wave_window_days: i64,
    pub delivery: DeliveryPolicy,
    /// Blocklist (default) or allowlist federation; the domain rules themselves are stored.
    pub mode: FederationMode,
    /// The inbox's per-instance quota and the guards on fetches that strangers can trigger.
    pub limits: std::sync::Arc<FederationLimits>,
    /// The one client every outgoing request goes through.
    pub http: http::Outgoing,
    /// The instance's metrics: inbox activities and deliveries are counted here.
    pub metrics: picket_metrics::Metrics,
}

/// Counts inbox posts per remote instance.
pub type InboxLimiter = governor::DefaultKeyedRateLimiter<String>;

/// Rate limits of federation, one set per instance: what a stranger's request may make this
/// instance do (accept activities, fetch actors, refetch keys) is bounded per remote host.
#[derive(Debug)]
pub struct FederationLimits {
    /// Activities accepted per remote instance per minute, beyond which the inbox answers 429.
    inbox: InboxLimiter,
    /// Actor fetches per remote host per minute, whoever triggers them.
    fetches: governor::DefaultKeyedRateLimiter<String>,
    /// Key refetches after a failed signature, per actor: one per ten minutes.
    rekeys: governor::DefaultKeyedRateLimiter<String>,
    /// Reports (`Flag` targets) filed per remote host per hour.
    flags: governor::DefaultKeyedRateLimiter<String>,
    /// Hosts whose last actor fetch failed, and when: not asked again for a while.
    failed_fetches: std::sync::Mutex<std::collections::HashMap<String, std::time::Instant>>,
    /// Checks since idle keys were last evicted.
    checks: std::sync::atomic::AtomicU32,
}

/// Idle limiter keys are evicted every this many checks.
const EVICT_EVERY: u32 = 4096;

/// How long a host whose actor could not be fetched is left alone.
pub const FAILED_FETCH_BACKOFF: std::time::Duration = std::time::Duration::from_secs(300);
/// Reports one remote instance may file here per hour (each target of a `Flag` is one).
pub const FLAG_TARGETS_PER_HOUR: u32 = 30;
/// Targets read from one `Flag`; any beyond are ignored.
pub const MAX_FLAG_TARGETS: usize = 5;
/// Actor fetches per remote host per minute.
pub const ACTOR_FETCHES_PER_MINUTE: u32 = 30;

impl FederationLimits {
    /// Limits allowing `inbox_per_minute` activities per remote instance.
    pub fn new(inbox_per_minute: u32) -> std::sync::Arc<FederationLimits> {
        let per_minute = |n: u32| {
            governor::Quota::per_minute(
                std::num::NonZeroU32::new(n).unwrap_or(std::num::NonZeroU32::MIN),
            )
        };
        let ten_minutes = governor::Quota::with_period(std::time::Duration::from_secs(600))
            .unwrap_or_else(|| per_minute(1));
        std::sync::Arc::new(FederationLimits {
            inbox: governor::RateLimiter::keyed(per_minute(inbox_per_minute)),
            fetches: governor::RateLimiter::keyed(per_minute(ACTOR_FETCHES_PER_MINUTE)),
            rekeys: governor::RateLimiter::keyed(ten_minutes),
            flags: governor::RateLimiter::keyed(governor::Quota::per_hour(
                std::num::NonZeroU32::new(FLAG_TARGETS_PER_HOUR)
                    .unwrap_or(std::num::NonZeroU32::MIN),
            )),
            failed_fetches: Default::default(),
            checks: Default::default(),
        })
    }

    /// Refuses (429) a fetch from `host` while its last one failed recently or its quota is spent.
    fn check_fetch(&self, host: &str) -> Result<(), ApubError> {
        use governor::clock::Clock;
        self.tick();
        if let Ok(failed) = self.failed_fetches.lock()
            && let Some(at) = failed.get(host)
        {
            let since = at.elapsed();
            if since < FAILED_FETCH_BACKOFF {
                return Err(ApubError::Backoff(FAILED_FETCH_BACKOFF - since));
            }
        }
        self.fetches
            .check_key(&host.to_owned())
            .map_err(|not_until| {
                ApubError::Backoff(
                    not_until.wait_time_from(governor::clock::DefaultClock::default().now()),
                )
            })
    }

    /// Remembers that fetching from `host` failed; forgets old failures so the map stays small.
    fn fetch_failed(&self, host: &str) {
        if let Ok(mut failed) = self.failed_fetches.lock() {
            if failed.len() >= 1024 {
                failed.retain(|_, at| at.elapsed() < FAILED_FETCH_BACKOFF);
            }
            failed.insert(host.to_owned(), std::time::Instant::now());
        }
    }

    /// Counts a check, and now and then forgets idle keys: strangers' hosts cannot grow the
    /// limiters for ever.
    fn tick(&self) {
        use std::sync::atomic::Ordering;
        if self.checks.fetch_add(1, Ordering::Relaxed) % EVICT_EVERY == EVICT_EVERY - 1 {
            self.evict_idle();
        }
    }

    /// Forgets limiter keys that have not been used for a while.
    pub fn evict_idle(&self) {
        self.inbox.retain_recent();
        self.fetches.retain_recent();
        self.rekeys.retain_recent();
        self.flags.retain_recent();
        if let Ok(mut failed) = self.failed_fetches.lock() {
            failed.retain(|_, at| at.elapsed() < FAILED_FETCH_BACKOFF);
        }
    }
}

/// How the delivery worker retries, and when it gives an instance up as unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DeliveryPolicy {
    /// First retry after this long, doubling up to `max_retry`.
    pub first_retry: std::time::Duration,
    pub max_retry: std::time::Duration,
    /// Failed attempts in a row after which an instance counts as unreachable.
    pub unreachable_after: u32,
    /// How often an unreachable instance is probed.
    pub probe_interval: std::time::Duration,
    /// How long received activity ids are kept (to apply each once); a replay older than the
    /// signature window is refused by its date anyway.
    pub keep_received: std::time::Duration,
    /// How long the work one incoming activity causes (its fetches included) may take before
    /// the sender is told to try again later (503): a chain of slow peers cannot pin a worker.
    /// Below the ~10 s senders wait, so the work ends before they give up.
    pub inbox_deadline: std::time::Duration,
    /// Deliveries to an instance unreachable for longer than this are dropped.
    pub drop_unreachable_after: std::time::Duration,
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            first_retry: std::time::Duration::from_secs(60),
            drop_unreachable_after: std::time::Duration::from_secs(30 * 86_400),
            max_retry: std::time::Duration::from_secs(6 * 3600),
            unreachable_after: 10,
            probe_interval: std::time::Duration::from_secs(3600),
            keep_received: std::time::Duration::from_secs(30 * 86_400),
            inbox_deadline: std::time::Duration::from_secs(9),
        }
    }
}

impl ApubData {
    /// The absolute URL of a path below the public URL.
    pub fn local_url(&self, path: &str) -> Url {
        let mut url = self.public_url.clone();
        url.set_path(&format!("{}{path}", self.public_url.path()));
        url
    }

    /// This instance as waves count instances: the name other instances give it too.
    pub fn local_instance(&self) -> String {
        domain(&self.public_url)
    }

    /// Refuses (403) an instance the domain rules keep this one from talking to: in blocklist
    /// mode a blocked domain, in allowlist mode any domain not allowed.
    pub async fn check_peer(&self, url: &Url) -> Result<(), ApubError> {
        if self.local_path(url).is_some() {
            return Ok(());
        }
        let host = domain(url);
        let mode = self.mode;
        let checked = host.clone();
        let permitted = self
            .db
            .run(move |conn| picket_db::policy::permits_host(conn, mode, &checked))
            .await?;
        if permitted {
            Ok(())
        } else {
            Err(ApubError::Forbidden(format!(
                "this instance does not federate with {host}"
            )))
        }
    }

    /// What a remote server is counted as by the limits: its host, so `host:port` variants of
    /// one server share one quota; in development, where every instance is `localhost`, the
    /// port too.
    fn limit_key(&self, url: &Url) -> String {
        if self.http.allows_loopback() {
            domain(url)
        } else {
            host_key(url)
        }
    }

    /// Refuses (429) fetching an actor from `url`'s host when that host failed recently or has
    /// been asked too often: nobody can make this instance hammer a server, or itself.
    pub(crate) fn check_actor_fetch(&self, url: &Url) -> Result<(), ApubError> {
        self.limits.check_fetch(&self.limit_key(url))
    }

    /// Remembers that an actor fetch from `url`'s host failed.
    pub(crate) fn actor_fetch_failed(&self, url: &Url) {
        self.limits.fetch_failed(&self.limit_key(url));
    }

    /// Counts `n` reports from `url`'s instance; refuses (429) beyond its hourly share, so no
    /// instance can flood the moderation queue.
    pub(crate) fn check_flag_quota(&self, url: &Url, n: usize) -> Result<(), ApubError> {
        use governor::clock::Clock;
        let key = self.limit_key(url);
        for _ in 0..n {
            self.limits.flags.check_key(&key).map_err(|not_until| {
                ApubError::TooMany(
                    not_until.wait_time_from(governor::clock::DefaultClock::default().now()),
                )
            })?;
        }
        Ok(())
    }

    /// Whether a failed signature from `actor` may refetch its key now (once per ten minutes).
    pub(crate) fn may_refetch_key(&self, actor: &Url) -> bool {
        self.limits.rekeys.check_key(&actor.to_string()).is_ok()
    }

    /// Counts an inbox post from `url`'s instance; refuses (429) beyond its quota.
    pub(crate) fn check_inbox_quota(&self, url: &Url) -> Result<(), ApubError> {
        use governor::clock::Clock;
        self.limits.tick();
        self.limits
            .inbox
            .check_key(&self.limit_key(url))
            .map_err(|not_until| {
                ApubError::TooMany(
                    not_until.wait_time_from(governor::clock::DefaultClock::default().now()),
                )
            })
    }

    /// The local actor `url` names, if it names one of ours.
    fn local_actor(&self, url: &Url) -> Option<LocalActor> {
        self.local_path(url)
            .and_then(|path| LocalActor::from_path(&path))
    }

    /// The path below the public URL, if `url` is one of this instance's.
    fn local_path(&self, url: &Url) -> Option<String> {
        if url.origin() != self.public_url.origin() {
            return None;
        }
        url.path()
            .strip_prefix(self.public_url.path())
            .map(str::to_owned)
    }
}

/// How the instance federates, from its configuration.
#[derive(Debug, Clone, Copy, Default)]
pub struct FederationSettings {
    /// Allow plain HTTP and loopback peers: for development and tests only, since it lets
    /// anyone point the instance at internal services.
    pub allow_loopback: bool,
}

/// The domain the federation library compares ids against: host, and port when there is one.
fn domain(url: &Url) -> String {
    picket_core::wave::instance_name(url.host_str().unwrap_or("localhost"), url.port())
}

/// The key a remote server is counted under by the rate limits: its host alone, lower-cased,
/// so `host:port` variants of one server share one quota.
fn host_key(url: &Url) -> String {
    url.host_str()
        .unwrap_or_default()
        .trim_end_matches('.')
        .to_ascii_lowercase()
}

/// Installs rustls' ring provider for the process. Every HTTP client (the federation library's
/// included) needs one, and reqwest panics when building a client without it. Installing again
/// (a second instance in one process) is refused harmlessly.
pub fn install_tls() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// Builds the federation configuration; the instance actor's key is made here on first start,
/// because every signed fetch needs it.
pub async fn configure(
    data: ApubData,
    settings: FederationSettings,
) -> Result<FederationConfig<ApubData>, ApubError> {
    install_tls();
    let instance = ApubActor::local(&data, LocalActor::Instance).await?;
    let client = data.http.client();
    FederationConfig::builder()
        .domain(domain(&data.public_url))
        .app_data(data)
        .signed_fetch_actor(&instance)
        .client(client)
        // Peers with authorized fetch (Mastodon's secure mode, GoToSocial) need `host` and
        // `date` signed, which the library signs only in this mode.
        .http_signature_compat(true)
        .debug(settings.allow_loopback)
        .allow_http_urls(settings.allow_loopback)
        .build()
        .await
        .map_err(|e| ApubError::BadRequest(format!("federation configuration: {e}")))
}
