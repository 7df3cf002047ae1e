//! Background work that keeps what lookups read both fast and exact: aggregates whose 30- or
//! 90-day window moved are recomputed here rather than by the request that notices, and other
//! processes' changes reach this process's lookup cache (PostgreSQL `LISTEN`; on SQLite, the
//! mark an admin command leaves). Also the metrics' upkeep, which bounds their memory.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use picket_db::changes::Change;
use picket_db::{Backend, Db};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often moved windows are looked for. A lookup in between computes the few it meets.
const REFRESH_EVERY: Duration = Duration::from_secs(30);
/// Aggregates recomputed per transaction batch, so writers are never kept waiting long.
const REFRESH_BATCH: i64 = 200;
/// How often an SQLite server looks for the mark of an admin command's change.
const SQLITE_MARK_EVERY: Duration = Duration::from_secs(1);

/// The running background work; `stop` ends it.
#[derive(Debug)]
pub struct Keepers {
    tasks: Vec<JoinHandle<()>>,
    listener: Option<(Arc<AtomicBool>, std::thread::JoinHandle<()>)>,
}

impl Keepers {
    pub async fn stop(self) {
        if let Some((stop, thread)) = self.listener {
            stop.store(true, Ordering::Relaxed);
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// How often recorded request durations are folded into their histograms.
const METRICS_UPKEEP_EVERY: Duration = Duration::from_secs(5);

/// Starts the work for `db` (at `url`) and `metrics` until `stop` changes.
pub fn spawn(
    db: Db,
    url: &str,
    metrics: picket_metrics::Metrics,
    stop: watch::Receiver<bool>,
) -> Keepers {
    let mut tasks = vec![
        tokio::spawn(refresh_windows(db.clone(), stop.clone())),
        tokio::spawn(metrics_upkeep(metrics, stop.clone())),
    ];
    let listener = match db.backend() {
        Backend::Postgres => {
            let flag = Arc::new(AtomicBool::new(false));
            let (thread_flag, changes, url) = (flag.clone(), db.changes().clone(), url.to_owned());
            let thread = std::thread::Builder::new()
                .name("picket-changes".into())
                .spawn(move || picket_db::changes::listen_postgres(&url, &changes, &thread_flag));
            match thread {
                Ok(thread) => Some((flag, thread)),
                Err(error) => {
                    tracing::warn!(%error, "cannot start listening for other processes' changes");
                    None
                }
            }
        }
        Backend::Sqlite => {
            tasks.push(tokio::spawn(watch_sqlite_mark(db, stop)));
            None
        }
    };
    Keepers { tasks, listener }
}

async fn refresh_windows(db: Db, mut stop: watch::Receiver<bool>) {
    loop {
        loop {
            let done = db
                .run(|conn| {
                    picket_db::stats::refresh_expired(conn, picket_db::models::now(), REFRESH_BATCH)
                })
                .await;
            match done {
                Ok(n) if n == usize::try_from(REFRESH_BATCH).unwrap_or(usize::MAX) => {}
                Ok(_) => break,
                Err(error) => {
                    tracing::warn!(%error, "cannot refresh aggregates whose window moved");
                    break;
                }
            }
            if *stop.borrow() {
                return;
            }
        }
        tokio::select! {
            () = tokio::time::sleep(REFRESH_EVERY) => {}
            _ = stop.changed() => return,
        }
    }
}

async fn metrics_upkeep(metrics: picket_metrics::Metrics, mut stop: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(METRICS_UPKEEP_EVERY) => metrics.upkeep(),
            _ = stop.changed() => return,
        }
    }
}

async fn watch_sqlite_mark(db: Db, mut stop: watch::Receiver<bool>) {
    let mut seen = db
        .run(picket_db::settings::requester_epoch)
        .await
        .ok()
        .flatten();
    loop {
        tokio::select! {
            () = tokio::time::sleep(SQLITE_MARK_EVERY) => {}
            _ = stop.changed() => return,
        }
        match db.run(picket_db::settings::requester_epoch).await {
            Ok(mark) if mark != seen => {
                seen = mark;
                db.changes().publish(&Change::Everything);
            }
            Ok(_) => {}
            Err(error) => tracing::debug!(%error, "cannot read the change mark"),
        }
    }
}
