//! Picket's federation edge: actors served as ActivityStreams JSON, WebFinger and NodeInfo discovery, built on LemmyNet's `activitypub_federation`.

mod activities;
mod actors;
mod error;
pub mod lists;
mod objects;
mod outbox;
#[cfg(test)]
mod protocol_tests;
mod publish;
mod receive;
mod routes;
pub mod worker;

pub use activities::{InboxActivity, follow, unfollow};
pub use actors::{ActorJson, ActorKind, ApubActor, INSTANCE_NAME, LocalActor};
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
    /// Activities accepted per remote instance per minute, beyond which the inbox answers 429.
    pub inbox_limiter: std::sync::Arc<InboxLimiter>,
}

/// Counts inbox posts per remote instance.
pub type InboxLimiter = governor::DefaultKeyedRateLimiter<String>;

/// An inbox limiter allowing `per_minute` activities per remote instance.
pub fn inbox_limiter(per_minute: u32) -> std::sync::Arc<InboxLimiter> {
    let quota = governor::Quota::per_minute(
        std::num::NonZeroU32::new(per_minute).unwrap_or(std::num::NonZeroU32::MIN),
    );
    std::sync::Arc::new(governor::RateLimiter::keyed(quota))
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
}

impl Default for DeliveryPolicy {
    fn default() -> Self {
        DeliveryPolicy {
            first_retry: std::time::Duration::from_secs(60),
            max_retry: std::time::Duration::from_secs(6 * 3600),
            unreachable_after: 10,
            probe_interval: std::time::Duration::from_secs(3600),
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

    /// Counts an inbox post from `url`'s instance; refuses (429) beyond its quota.
    pub(crate) fn check_inbox_quota(&self, url: &Url) -> Result<(), ApubError> {
        use governor::clock::Clock;
        self.inbox_limiter
            .check_key(&domain(url))
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
    FederationConfig::builder()
        .domain(domain(&data.public_url))
        .app_data(data)
        .signed_fetch_actor(&instance)
        // Peers with authorized fetch (Mastodon's secure mode, GoToSocial) need `host` and
        // `date` signed, which the library signs only in this mode.
        .http_signature_compat(true)
        .debug(settings.allow_loopback)
        .allow_http_urls(settings.allow_loopback)
        .build()
        .await
        .map_err(|e| ApubError::BadRequest(format!("federation configuration: {e}")))
}
