//! Connections and the pool: one connection type over SQLite or PostgreSQL, chosen by URL, and the only place that runs blocking database work off the async executor.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use scheduled_thread_pool::ScheduledThreadPool;

use diesel::connection::SimpleConnection;
use diesel::pg::PgConnection;
use diesel::r2d2::{self, ManageConnection};
use diesel::sqlite::SqliteConnection;
use diesel::{Connection, RunQueryDsl};

use crate::DbError;

/// One connection to either backend; every query in this crate is written once against it.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Pg(PgConnection),
    Sqlite(SqliteConnection),
}

impl std::fmt::Debug for DbConn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DbConn::Pg(_) => "DbConn::Pg",
            DbConn::Sqlite(_) => "DbConn::Sqlite",
        })
    }
}

/// Which database engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    /// `postgres://` and `postgresql://` mean PostgreSQL; anything else is an SQLite path (optionally `sqlite://`).
    pub fn of_url(url: &str) -> Backend {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            Backend::Sqlite
        }
    }
}

/// Order matters: `busy_timeout` first, or switching to WAL can itself fail with "database is locked".
/// `secure_delete` overwrites deleted content, so a deleted review does not linger in free pages.
const SQLITE_PRAGMAS: &str = "PRAGMA busy_timeout = 5000;
PRAGMA journal_mode = WAL;
PRAGMA synchronous = NORMAL;
PRAGMA foreign_keys = ON;
PRAGMA secure_delete = ON;";

/// Opens connections for the pool. Written by hand rather than derived so an unreachable
/// PostgreSQL is reported at once, with the server's own message.
#[derive(Debug, Clone)]
struct Manager {
    url: String,
    backend: Backend,
}

/// The file an SQLite database URL names (`sqlite://path`, `sqlite:path` or a bare path).
pub fn sqlite_path(url: &str) -> &str {
    url.strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url)
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = diesel::ConnectionError;

    fn connect(&self) -> Result<DbConn, diesel::ConnectionError> {
        match self.backend {
            Backend::Postgres => PgConnection::establish(&self.url).map(DbConn::Pg),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(sqlite_path(&self.url))?;
                conn.batch_execute(SQLITE_PRAGMAS)
                    .map_err(diesel::ConnectionError::CouldntSetupConfiguration)?;
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), diesel::ConnectionError> {
        diesel::sql_query("SELECT 1")
            .execute(conn)
            .map(|_| ())
            .map_err(diesel::ConnectionError::CouldntSetupConfiguration)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

/// Connection errors from libpq span several lines; the operator gets them as one.
fn unavailable(error: diesel::ConnectionError) -> DbError {
    DbError::Unavailable(
        error
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    )
}

/// The database handle the rest of Picket holds: cheap to clone, one per instance (never global).
#[derive(Clone)]
pub struct Db {
    pool: r2d2::Pool<Manager>,
    backend: Backend,
    /// The pool's one helper thread, which opens connections in the background; ours, so that
    /// `quiesce` can wait for it.
    helper: Arc<ScheduledThreadPool>,
    waits: Arc<PoolWaits>,
    /// Which requesters the closures run here changed: what lookup caches listen to.
    changes: Arc<crate::changes::Changes>,
    /// SQLite has one writer at a time: this process's write transactions take turns here, so a
    /// waiting one is woken the moment the lock is free instead of polling SQLite's busy
    /// handler (which sleeps milliseconds at a time) or losing an upgrade race and retrying.
    writes: Arc<std::sync::Mutex<()>>,
}

/// Checkouts that found every connection busy, and the time they waited: what says the pool
/// is too small.
#[derive(Debug, Default)]
struct PoolWaits {
    count: AtomicU64,
    micros: AtomicU64,
}

/// The pool's figures for the metrics.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoolStats {
    pub connections: u32,
    pub in_use: u32,
    pub waits: u64,
    pub wait_seconds: f64,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("backend", &self.backend)
            .finish()
    }
}

/// Reports the pool's background connection failures through `tracing`, where the rest of
/// Picket's log goes (r2d2's own handler writes to the `log` crate, which nothing here collects).
#[derive(Debug, Clone, Copy)]
struct TracingErrorHandler;

impl<E: std::fmt::Display> r2d2::HandleError<E> for TracingErrorHandler {
    fn handle_error(&self, error: E) {
        tracing::warn!(%error, "database connection failed");
    }
}

/// How many times a transaction that lost an SQLite write race is retried before giving up:
/// with many writers at once (a busy inbox) one can lose several races in a row.
const BUSY_RETRIES: usize = 20;

impl Db {
    /// Connects, applies pending migrations and builds the pool. Fails at once, with the
    /// database's own message, when the first connection cannot be made.
    pub fn open(url: &str, pool_size: u32) -> Result<Db, DbError> {
        Db::open_with(url, pool_size, true)
    }

    /// `open` without applying migrations: for checks that must change nothing (`picket doctor`).
    pub fn open_unmigrated(url: &str, pool_size: u32) -> Result<Db, DbError> {
        Db::open_with(url, pool_size, false)
    }

    fn open_with(url: &str, pool_size: u32, migrate: bool) -> Result<Db, DbError> {
        let backend = Backend::of_url(url);
        if backend == Backend::Sqlite && sqlite_path(url).is_empty() {
            return Err(DbError::BadUrl("empty SQLite path".into()));
        }
        let manager = Manager {
            url: url.to_owned(),
            backend,
        };
        let mut first = manager.connect().map_err(unavailable)?;
        if migrate {
            crate::migrations::run_pending(&mut first)?;
        }
        let helper = Arc::new(
            ScheduledThreadPool::builder()
                .num_threads(1)
                .thread_name_pattern("picket-db-{}")
                .build(),
        );
        let pool = r2d2::Pool::builder()
            .thread_pool(helper.clone())
            .max_size(pool_size.max(1))
            .min_idle(Some(0))
            .connection_timeout(Duration::from_secs(5))
            .error_handler(Box::new(TracingErrorHandler))
            .build_unchecked(manager);
        Ok(Db {
            pool,
            backend,
            helper,
            waits: Arc::default(),
            changes: Arc::default(),
            writes: Arc::default(),
        })
    }

    /// Waits (up to 10 s) until the pool has finished opening the connections it started in the
    /// background. Call it before the process exits: a connection still being opened when
    /// `exit` runs the C libraries' clean-up (OpenSSL's, under libpq) can crash the process.
    pub fn quiesce(&self) {
        let (done, finished) = std::sync::mpsc::channel();
        // One helper thread runs jobs in order: this one runs after every connection job before it.
        self.helper.execute(move || {
            let _ = done.send(());
        });
        let _ = finished.recv_timeout(Duration::from_secs(10));
    }

    /// Connections open and busy, and the waits for one so far.
    pub fn pool_stats(&self) -> PoolStats {
        let state = self.pool.state();
        #[allow(clippy::cast_precision_loss)]
        let wait_seconds = self.waits.micros.load(Ordering::Relaxed) as f64 / 1e6;
        PoolStats {
            connections: state.connections,
            in_use: state.connections.saturating_sub(state.idle_connections),
            waits: self.waits.count.load(Ordering::Relaxed),
            wait_seconds,
        }
    }

    /// A connection from the pool, counting the checkout as a wait when every one was busy.
    fn checkout(
        pool: &r2d2::Pool<Manager>,
        waits: &PoolWaits,
    ) -> Result<r2d2::PooledConnection<Manager>, DbError> {
        let state = pool.state();
        if state.connections.saturating_sub(state.idle_connections) < pool.max_size() {
            return Ok(pool.get()?);
        }
        let started = std::time::Instant::now();
        let conn = pool.get();
        waits.count.fetch_add(1, Ordering::Relaxed);
        waits.micros.fetch_add(
            u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        Ok(conn?)
    }

    /// Which engine this database runs on.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The change feed of what the closures run on this handle (and its clones) wrote.
    pub fn changes(&self) -> &Arc<crate::changes::Changes> {
        &self.changes
    }

    /// Runs `f` collecting the requesters it reports changed, and hands them to the feed when
    /// it returns. Another process on SQLite (an admin command beside the server) cannot be
    /// notified directly: it leaves a mark the server looks for (`settings::bump_requester_epoch`).
    fn reporting<T>(
        &self,
        conn: &mut DbConn,
        other_processes: bool,
        f: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        crate::changes::begin();
        let result = f(conn);
        let any = crate::changes::finish(&self.changes, conn);
        if matches!(any, Ok(true)) && other_processes && self.backend == Backend::Sqlite {
            crate::settings::bump_requester_epoch(conn)?;
        }
        let result = result?;
        any?;
        Ok(result)
    }

    /// Runs `f` on a pooled connection on a blocking thread, so queries never stall the async executor.
    pub async fn run<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnOnce(&mut DbConn) -> Result<T, DbError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = Db::checkout(&db.pool, &db.waits)?;
            db.reporting(&mut conn, false, f)
        })
        .await
        .map_err(|e| DbError::Task(e.to_string()))?
    }

    /// Runs `f` on a pooled connection on the calling thread: for command-line tools that have no async runtime.
    pub fn with_conn<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut conn = Db::checkout(&self.pool, &self.waits)?;
        self.reporting(&mut conn, true, f)
    }

    /// `with_conn` inside one transaction, for synchronous callers (the admin commands).
    pub fn with_tx<T>(
        &self,
        f: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
    ) -> Result<T, DbError> {
        let mut conn = Db::checkout(&self.pool, &self.waits)?;
        let _turn = self.write_turn();
        self.reporting(&mut conn, true, |conn| write_transaction(conn, f))
    }

    /// This process's turn at writing, on SQLite; nothing to wait for on PostgreSQL.
    fn write_turn(&self) -> Option<std::sync::MutexGuard<'_, ()>> {
        (self.backend == Backend::Sqlite).then(|| {
            self.writes
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        })
    }

    /// Runs `f` inside one transaction; everything it writes commits together or not at all.
    /// On SQLite a transaction that lost a write race is retried, so `f` may run more than once.
    pub async fn tx<T, F>(&self, mut f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConn) -> Result<T, DbError> + Send + 'static,
    {
        let db = self.clone();
        self.run(move |conn| {
            let _turn = db.write_turn();
            let mut attempt = 0;
            loop {
                match write_transaction(conn, &mut f) {
                    Err(error) if error.is_busy() && attempt < BUSY_RETRIES => {
                        attempt += 1;
                        std::thread::sleep(Duration::from_millis((10 * attempt as u64).min(100)));
                    }
                    result => return result,
                }
            }
        })
        .await
    }

    /// `tx` for a change that erases people's words (a deletion): on SQLite the write-ahead
    /// log, which still holds the pages as they were, is then folded into the database and
    /// truncated, so the erased text is gone from the files too (`secure_delete` zeroes it in
    /// the database itself). A busy log is left for SQLite's next automatic checkpoint.
    pub async fn erase<T, F>(&self, f: F) -> Result<T, DbError>
    where
        T: Send + 'static,
        F: FnMut(&mut DbConn) -> Result<T, DbError> + Send + 'static,
    {
        let result = self.tx(f).await?;
        if self.backend == Backend::Sqlite {
            self.run(|conn| {
                diesel::sql_query("PRAGMA wal_checkpoint(TRUNCATE)").execute(conn)?;
                Ok(())
            })
            .await?;
        }
        Ok(result)
    }

    /// True when the database answers a trivial query: what `/healthz` reports.
    pub async fn ping(&self) -> bool {
        self.run(|conn| {
            diesel::sql_query("SELECT 1").execute(conn)?;
            Ok(())
        })
        .await
        .is_ok()
    }

    /// A direct connection outside the pool, for maintenance that must hold one connection (migrations, tests).
    pub fn connect_direct(url: &str) -> Result<DbConn, DbError> {
        Manager {
            url: url.to_owned(),
            backend: Backend::of_url(url),
        }
        .connect()
        .map_err(unavailable)
    }
}

/// Runs `f` in one transaction. On SQLite it is a write transaction from its start (`BEGIN
/// IMMEDIATE`): another process's writer is waited for at the start through the busy timeout,
/// rather than a read that later needs to write failing at once with "database is locked".
fn write_transaction<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
) -> Result<T, DbError> {
    use diesel::connection::{AnsiTransactionManager, TransactionManager};
    match conn {
        DbConn::Sqlite(sqlite) => {
            AnsiTransactionManager::begin_transaction_sql(&mut *sqlite, "BEGIN IMMEDIATE")?;
        }
        DbConn::Pg(_) => return conn.transaction(f),
    }
    let result = f(&mut *conn);
    let DbConn::Sqlite(sqlite) = conn else {
        return result;
    };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(&mut *sqlite)?;
            Ok(value)
        }
        Err(error) => {
            // The transaction ends either way; the closure's error is the one to report.
            let _ = AnsiTransactionManager::rollback_transaction(&mut *sqlite);
            Err(error)
        }
    }
}

/// Runs `f` in a savepoint of the caller's transaction: if it fails, only its own writes roll back.
pub fn savepoint<T>(
    conn: &mut DbConn,
    f: impl FnOnce(&mut DbConn) -> Result<T, DbError>,
) -> Result<T, DbError> {
    conn.transaction(f)
}
