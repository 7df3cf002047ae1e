//! The server as a library: start an instance from a `Config` and stop it again, so the binary and the tests start instances the same way.

pub mod admin;
pub mod backup;
pub mod caches;
pub mod config;
pub mod doctor;
pub mod http;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use picket_api::{AppState, Followed, FollowedRequester, Remote, RemoteError, Settings};
use picket_apub::{ApubData, DeliveryPolicy, FederationSettings, LocalActor};
use picket_core::accounts::RegistrationMode;
use picket_db::{Backend, Db};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinHandle;

pub use config::Config;

/// A running instance. Dropping it without `shutdown` leaves the server running until the runtime ends.
#[derive(Debug)]
pub struct Running {
    addr: SocketAddr,
    stop: oneshot::Sender<()>,
    task: JoinHandle<std::io::Result<()>>,
    stop_delivery: watch::Sender<bool>,
    delivery: JoinHandle<()>,
    lists: JoinHandle<()>,
    keepers: caches::Keepers,
    db: Db,
    metrics: Option<(
        SocketAddr,
        oneshot::Sender<()>,
        JoinHandle<std::io::Result<()>>,
    )>,
}

impl Running {
    /// The address actually bound (useful with port 0).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The metrics listener's address, when `metrics.listen` is set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(|(addr, ..)| *addr)
    }

    /// Stops accepting connections, lets in-flight requests finish (for at most
    /// `server.shutdown_timeout_seconds`), and waits for the server to end.
    /// Deliveries in flight finish or are left to their lease: nothing queued is lost.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.context("server task failed")??;
        if let Some((_, stop, task)) = self.metrics {
            let _ = stop.send(());
            task.await.context("metrics listener failed")??;
        }
        let _ = self.stop_delivery.send(true);
        self.delivery.await.context("delivery worker failed")?;
        self.lists.await.context("domain list refresher failed")?;
        self.keepers.stop().await;
        let db = self.db;
        tokio::task::spawn_blocking(move || db.quiesce())
            .await
            .context("database shutdown failed")?;
        Ok(())
    }
}

/// A database URL safe to print: the password, if any, is replaced.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

/// Creates the data directory when SQLite is used, then opens (and migrates) the database.
pub fn open_database(config: &Config) -> anyhow::Result<Db> {
    let url = config.database_url();
    if Backend::of_url(&url) == Backend::Sqlite {
        let dir = &config.server.data_dir;
        create_private_dir(dir)
            .with_context(|| format!("cannot create data directory {}", dir.display()))?;
        let file = Path::new(picket_db::sqlite_path(&url));
        make_private_database(file)
            .with_context(|| format!("cannot create database file {}", file.display()))?;
    }
    Db::open(&url, config.database.pool_size)
        .with_context(|| format!("cannot open database {}", redact_url(&url)))
}

/// The instance's public URL. One given (flag, environment or config file) is kept in the
/// database the first time and must match the kept one after: other instances know this one by
/// its URLs, so a start under another refuses instead of quietly becoming a stranger to them
/// (`picket admin move-domain` changes it on purpose). Given none, the kept one is used, else
/// `http://localhost:<port>` (a trial on one machine, not kept).
pub async fn instance_url(config: &Config, db: &Db, port: u16) -> anyhow::Result<url::Url> {
    let kept = db
        .run(picket_db::settings::public_url)
        .await
        .context("cannot read the public URL kept in the database")?;
    let Some(given) = config.server.public_url.clone() else {
        return match kept {
            Some(kept) => url::Url::parse(&kept).with_context(|| {
                format!("the public URL kept in the database, `{kept}`, is no URL")
            }),
            None => Ok(config.public_url_at(port)),
        };
    };
    match kept {
        Some(kept) if kept != given.as_str() => anyhow::bail!(
            "this instance's database was first served as {kept}, and other instances know it \
             by that URL; the public URL given now is {given}. Give --public-url {kept} (or \
             none), or if the instance really moved run `picket admin move-domain {given}`"
        ),
        Some(_) => {}
        None => {
            let keep = given.to_string();
            db.run(move |conn| {
                picket_db::settings::set(
                    conn,
                    picket_db::settings::PUBLIC_URL,
                    Some(&keep),
                    picket_db::models::now(),
                )
            })
            .await
            .context("cannot keep the public URL in the database")?;
        }
    }
    Ok(given)
}

/// Creates `dir` (and missing parents) with the data directory itself readable by the service
/// user only: it holds every account's data, whatever the umask of whoever started the server.
pub(crate) fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    if dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        other => other,
    }
}

/// Creates the SQLite file 0600 before SQLite does (it would use the umask, typically leaving it
/// world-readable), and takes group and other access off an existing one and its `-wal` and
/// `-shm` files. SQLite gives new `-wal` and `-shm` files the database file's mode, so they
/// follow. A database kept elsewhere by the operator (`:memory:`, another directory) is only
/// tightened, never moved.
fn make_private_database(file: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    if file.as_os_str() == ":memory:" {
        return Ok(());
    }
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(_) => {}
        Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(error) => return Err(error),
    }
    for suffix in ["", "-wal", "-shm"] {
        let mut path = file.as_os_str().to_owned();
        path.push(suffix);
        let path = Path::new(&path);
        match std::fs::metadata(path) {
            Ok(meta) if meta.permissions().mode() & 0o077 != 0 => {
                let mode = meta.permissions().mode() & 0o700;
                std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
            }
            Ok(_) => {}
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {}
            Err(error) => return Err(error),
        }
    }
    Ok(())
}

/// The federation set-up for an instance at `public_url`: what `serve` and the admin commands share.
pub async fn federation(
    config: &Config,
    db: Db,
    public_url: url::Url,
) -> anyhow::Result<activitypub_federation::config::FederationConfig<ApubData>> {
    picket_apub::configure(
        ApubData {
            db,
            public_url,
            open_registrations: config.accounts.registration == RegistrationMode::Open,
            wave_window_days: i64::from(config.incidents.wave_window_days),
            delivery: DeliveryPolicy {
                first_retry: Duration::from_secs(config.federation.retry_first_seconds.into()),
                max_retry: Duration::from_secs(config.federation.retry_max_seconds.into()),
                unreachable_after: config.federation.unreachable_after_failures,
                probe_interval: Duration::from_secs(
                    config.federation.probe_interval_seconds.into(),
                ),
                keep_received: Duration::from_secs(
                    u64::from(config.federation.received_activity_days) * 86_400,
                ),
                drop_unreachable_after: Duration::from_secs(
                    u64::from(config.federation.drop_unreachable_after_days) * 86_400,
                ),
                inbox_deadline: Duration::from_secs(
                    config.federation.inbox_deadline_seconds.max(1).into(),
                ),
            },
            mode: config.federation.mode,
            limits: picket_apub::FederationLimits::new(config.limits.inbox_per_minute),
            http: picket_apub::http::Outgoing::new(config.federation.allow_loopback)
                .context("cannot build the outgoing HTTP client")?,
            metrics: picket_metrics::Metrics::new(),
        },
        FederationSettings {
            allow_loopback: config.federation.allow_loopback,
        },
    )
    .await
    .context("cannot set up federation")
}

/// Workers' follows on other servers, made through the federation crate for the API.
struct FederatedFollows(activitypub_federation::config::FederationConfig<ApubData>);

type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The federation error in words a worker may see: never another server's answer.
fn remote_error(error: picket_apub::ApubError) -> RemoteError {
    if error.is_not_found() {
        RemoteError::NotFound(error.public_message())
    } else {
        RemoteError::Refused(error.public_message())
    }
}

impl Remote for FederatedFollows {
    fn follow<'a>(
        &'a self,
        username: &'a str,
        target: &'a str,
    ) -> Boxed<'a, Result<Followed, RemoteError>> {
        Box::pin(async move {
            let data = self.0.to_request_data();
            let actor = picket_apub::follow(&data, LocalActor::Person(username.to_owned()), target)
                .await
                .map_err(remote_error)?;
            let requester = actor
                .requester_key()
                .map(|(platform, id)| FollowedRequester {
                    platform: platform.as_str().to_owned(),
                    name: actor.name.clone().unwrap_or_else(|| id.clone()),
                    requester_id: id,
                });
            Ok(Followed {
                actor: actor.id.to_string(),
                requester,
            })
        })
    }

    fn unfollow<'a>(
        &'a self,
        username: &'a str,
        target: &'a str,
    ) -> Boxed<'a, Result<(), RemoteError>> {
        Box::pin(async move {
            let data = self.0.to_request_data();
            picket_apub::unfollow(&data, LocalActor::Person(username.to_owned()), target)
                .await
                .map_err(remote_error)
        })
    }
}

/// Opens the database, binds the listener and starts serving in the background.
pub async fn start(config: &Config) -> anyhow::Result<Running> {
    let db = {
        let config = config.clone();
        tokio::task::spawn_blocking(move || open_database(&config))
            .await
            .context("database start-up task failed")??
    };
    let listener = tokio::net::TcpListener::bind(config.server.listen)
        .await
        .with_context(|| format!("cannot listen on {}", config.server.listen))?;
    let addr = listener
        .local_addr()
        .context("cannot read the bound address")?;
    let public_url = instance_url(config, &db, addr.port()).await?;
    let days = |n: u32| Duration::from_secs(u64::from(n) * 86_400);
    let settings = Settings {
        registration: config.accounts.registration,
        secure_cookies: public_url.scheme() == "https",
        session_ttl: days(config.accounts.session_days),
        invite_ttl: days(config.accounts.invite_days),
        login_attempts_per_minute: config.accounts.login_attempts_per_minute,
        public_url: public_url.clone(),
        wave_window_days: i64::from(config.incidents.wave_window_days),
        writes_per_minute: config.limits.writes_per_minute,
        show_moderator_names: config.moderation.show_moderator_names,
        registrations_per_minute: config.limits.registrations_per_minute,
        password_hash_concurrency: config.limits.password_hash_concurrency(),
    };
    let quiesce_on_stop = db.clone();
    let federation = federation(config, db.clone(), public_url.clone()).await?;
    let (stop_delivery, delivery_stopped) = watch::channel(false);
    let lists = picket_apub::lists::spawn(
        db.clone(),
        federation.http.clone(),
        Duration::from_secs(config.federation.list_refresh_seconds.into()),
        delivery_stopped.clone(),
    );
    let metrics = federation.metrics.clone();
    // Bound before anything runs, so a taken port fails the start rather than a scrape.
    let metrics_listener = match config.metrics.listen {
        Some(listen) => Some(
            tokio::net::TcpListener::bind(listen)
                .await
                .with_context(|| format!("cannot listen for metrics on {listen}"))?,
        ),
        None => None,
    };
    let keepers = caches::spawn(
        db.clone(),
        &config.database_url(),
        metrics.clone(),
        delivery_stopped.clone(),
    );
    let delivery = picket_apub::worker::spawn(federation.clone(), delivery_stopped);
    let state = AppState::new(db.clone(), settings)
        .with_remote(std::sync::Arc::new(FederatedFollows(federation.clone())))
        .with_metrics(metrics.clone());
    let limits = config.serve_limits();
    let app = http::bounded(
        picket_api::router(
            state.clone(),
            picket_apub::router(federation),
            picket_web::attach(state),
        ),
        limits,
    );
    let metrics = match metrics_listener {
        Some(listener) => {
            let addr = listener
                .local_addr()
                .context("cannot read the metrics listener's address")?;
            let (stop, stopped) = oneshot::channel::<()>();
            let task = tokio::spawn(http::serve(
                listener,
                http::metrics_app(db, metrics),
                limits,
                async {
                    let _ = stopped.await;
                },
            ));
            tracing::info!(%addr, "metrics at /metrics");
            Some((addr, stop, task))
        }
        None => None,
    };
    let (stop, stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(http::serve(listener, app, limits, async {
        let _ = stopped.await;
    }));
    tracing::info!(%addr, %public_url, "picket is listening");
    Ok(Running {
        addr,
        stop,
        task,
        stop_delivery,
        delivery,
        lists,
        keepers,
        db: quiesce_on_stop,
        metrics,
    })
}
