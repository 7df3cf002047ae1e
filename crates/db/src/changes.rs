//! Which requesters' published figures changed, told to whoever caches what is read from them
//! (the Turkopticon lookups): at once to the process that wrote, after its transaction, and to
//! other processes on the same PostgreSQL through `NOTIFY` right after it, so a cache is not
//! behind a commit it could have seen.
//!
//! A write reports its requesters with [`touched`] (and a new requester with [`created`]) from
//! inside the db function that changes them; `Db` hands what the closure reported to its
//! [`Changes`] when the closure returns, whether it committed or not (saying too much only
//! costs a cache refill), and notifies other processes then. The report is collected per
//! thread because each closure runs whole on one blocking thread; nothing is shared between
//! instances.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use diesel::RunQueryDsl;
use diesel::sql_types::Text;

use crate::{DbConn, DbError};

/// The PostgreSQL channel the notifications travel on.
pub const CHANNEL: &str = "picket_requesters";
/// The payload for "a requester was created" (others are a requester's primary key).
const CREATED: &str = "new";

/// What changed, as a cache needs to know it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// These requesters' names, aliases or aggregates changed.
    Requesters(Vec<i64>),
    /// A requester that did not exist before was created: an id looked up as unknown may now
    /// be known.
    Created,
    /// Anything may have changed (notifications from other processes may have been missed).
    Everything,
}

type Listener = Box<dyn Fn(&Change, u64) + Send + Sync>;

/// One instance's change feed: an epoch that grows with every change heard, and the caches
/// listening. Cheap to share; `Db` holds one.
#[derive(Default)]
pub struct Changes {
    epoch: AtomicU64,
    listeners: Mutex<Vec<Listener>>,
}

impl std::fmt::Debug for Changes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Changes")
            .field("epoch", &self.epoch.load(Ordering::Relaxed))
            .finish()
    }
}

impl Changes {
    /// The number of changes heard so far. A cache reads it before reading the database, and
    /// keeps what it read only if nothing it read changed after that (see `listen`).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// Calls `listener` with each change and the epoch it was given, in the thread that heard it.
    pub fn listen(&self, listener: impl Fn(&Change, u64) + Send + Sync + 'static) {
        self.listeners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(Box::new(listener));
    }

    /// Tells every listener of `change`, under a new epoch.
    pub fn publish(&self, change: &Change) {
        let listeners = self
            .listeners
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let epoch = self.epoch.fetch_add(1, Ordering::AcqRel) + 1;
        for listener in listeners.iter() {
            listener(change, epoch);
        }
    }

    /// A change another process announced on [`CHANNEL`]: `new`, or primary keys separated
    /// by commas. Anything else (a newer version's payload, say) drops everything.
    pub fn publish_payload(&self, payload: &str) {
        if payload == CREATED {
            self.publish(&Change::Created);
            return;
        }
        let pks: Result<Vec<i64>, _> = payload.split(',').map(str::parse).collect();
        match pks {
            Ok(pks) => self.publish(&Change::Requesters(pks)),
            Err(_) => self.publish(&Change::Everything),
        }
    }
}

/// What the closure running on this thread reported.
#[derive(Debug, Default)]
struct Reported {
    requesters: Vec<i64>,
    created: bool,
}

thread_local! {
    static REPORTED: RefCell<Reported> = RefCell::new(Reported::default());
}

/// Starts collecting for a closure about to run on this thread.
pub(crate) fn begin() {
    REPORTED.with(|r| *r.borrow_mut() = Reported::default());
}

/// Hands what the closure reported to `changes` and, on PostgreSQL, to other processes, once
/// the closure (and its transaction) ended; `true` when it reported anything.
///
/// The notifications go after the commit, on their own. Sent inside the transaction they would
/// be exact even if this process died right after committing, but PostgreSQL serialises the
/// commits of transactions that notify (a lock held through the commit's flush to disk), which
/// cut a busy inbox to a third. The rare process killed between its commit and this leaves
/// other processes' caches stale until the listener's periodic reset (`RESET_EVERY`).
pub(crate) fn finish(changes: &Arc<Changes>, conn: &mut DbConn) -> Result<bool, DbError> {
    let reported = REPORTED.with(|r| std::mem::take(&mut *r.borrow_mut()));
    let any = reported.created || !reported.requesters.is_empty();
    if reported.created {
        changes.publish(&Change::Created);
        notify(conn, CREATED)?;
    }
    if !reported.requesters.is_empty() {
        let mut pks = reported.requesters;
        pks.sort_unstable();
        pks.dedup();
        for chunk in pks.chunks(KEYS_PER_NOTIFICATION) {
            let payload: Vec<String> = chunk.iter().map(i64::to_string).collect();
            notify(conn, &payload.join(","))?;
        }
        changes.publish(&Change::Requesters(pks));
    }
    Ok(any)
}

fn notify(conn: &mut DbConn, payload: &str) -> Result<(), DbError> {
    if matches!(conn, DbConn::Pg(_)) {
        diesel::sql_query("SELECT pg_notify($1, $2)")
            .bind::<Text, _>(CHANNEL)
            .bind::<Text, _>(payload)
            .execute(conn)?;
    }
    Ok(())
}

/// Reports that what is published about requester `pk` (name, earlier names, aggregates) changed.
pub(crate) fn touched(pk: i64) {
    touched_many(&[pk]);
}

/// Keys per notification: PostgreSQL's payloads hold at most 8000 bytes.
const KEYS_PER_NOTIFICATION: usize = 400;

/// `touched` for several requesters.
pub(crate) fn touched_many(pks: &[i64]) {
    REPORTED.with(|r| r.borrow_mut().requesters.extend_from_slice(pks));
}

/// Reports that a requester was created.
pub(crate) fn created() {
    REPORTED.with(|r| r.borrow_mut().created = true);
}

/// How often a listener tells its caches to drop everything anyway: the bound on how stale they
/// can be after another process died between a commit and its notification.
pub const RESET_EVERY: std::time::Duration = std::time::Duration::from_secs(600);

/// How often the listening connection is asked for what arrived.
const POLL: std::time::Duration = std::time::Duration::from_millis(50);
/// How often it is checked to be alive when nothing arrives: a connection lost silently would
/// otherwise miss notifications for ever.
const PING_EVERY: std::time::Duration = std::time::Duration::from_secs(5);

/// Hears other processes' changes on a PostgreSQL database (`url`) until `stop` is set, with a
/// connection of its own, and tells `changes`. Blocks: run it on a thread of its own. When the
/// connection breaks, whatever was sent meanwhile is lost, so listeners hear `Everything` and
/// it connects again.
pub fn listen_postgres(url: &str, changes: &Changes, stop: &std::sync::atomic::AtomicBool) {
    use diesel::pg::PgConnection;
    let mut connected: Option<PgConnection> = None;
    let mut last_ping = std::time::Instant::now();
    let mut last_reset = std::time::Instant::now();
    while !stop.load(Ordering::Relaxed) {
        if last_reset.elapsed() >= RESET_EVERY {
            last_reset = std::time::Instant::now();
            changes.publish(&Change::Everything);
        }
        let Some(conn) = connected.as_mut() else {
            match crate::Db::connect_direct(url) {
                Ok(crate::DbConn::Pg(mut conn)) => {
                    match diesel::sql_query(format!("LISTEN {CHANNEL}")).execute(&mut conn) {
                        Ok(_) => {
                            // What changed while nobody listened is unknown.
                            changes.publish(&Change::Everything);
                            connected = Some(conn);
                            last_ping = std::time::Instant::now();
                        }
                        Err(error) => tracing::warn!(%error, "cannot listen for changes"),
                    }
                }
                Ok(crate::DbConn::Sqlite(_)) => return,
                Err(error) => tracing::warn!(%error, "cannot connect to listen for changes"),
            }
            if connected.is_none() {
                std::thread::sleep(std::time::Duration::from_secs(1));
            }
            continue;
        };
        let mut broken = false;
        for notification in conn.notifications_iter() {
            match notification {
                Ok(notification) => changes.publish_payload(&notification.payload),
                Err(error) => {
                    tracing::warn!(%error, "lost the connection listening for changes");
                    broken = true;
                    break;
                }
            }
        }
        if !broken && last_ping.elapsed() >= PING_EVERY {
            last_ping = std::time::Instant::now();
            broken = diesel::sql_query("SELECT 1").execute(conn).is_err();
        }
        if broken {
            connected = None;
            continue;
        }
        std::thread::sleep(POLL);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listeners_hear_each_change_under_a_growing_epoch() {
        let changes = Arc::new(Changes::default());
        let heard = Arc::new(Mutex::new(Vec::new()));
        let log = heard.clone();
        changes.listen(move |change, epoch| log.lock().unwrap().push((change.clone(), epoch)));
        begin();
        touched_many(&[3, 1, 3]);
        created();
        let mut conn = crate::Db::connect_direct(":memory:").expect("sqlite");
        assert!(finish(&changes, &mut conn).expect("finish"));
        changes.publish_payload("7");
        changes.publish_payload("new");
        changes.publish_payload("garbage");
        changes.publish_payload("8,9");
        assert_eq!(
            *heard.lock().unwrap(),
            vec![
                (Change::Created, 1),
                (Change::Requesters(vec![1, 3]), 2),
                (Change::Requesters(vec![7]), 3),
                (Change::Created, 4),
                (Change::Everything, 5),
                (Change::Requesters(vec![8, 9]), 6),
            ]
        );
        begin();
        assert!(
            !finish(&changes, &mut conn).expect("finish"),
            "nothing reported, nothing published"
        );
        assert_eq!(changes.epoch(), 6);
    }
}
