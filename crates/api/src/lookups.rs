//! The Turkopticon lookups' cache: each MTurk requester's answer, ready to send as the
//! userscripts expect it (TO1's `multi-attrs.php` value and TO2's `data` entry), built once and
//! kept until the requester changes, so the hottest path of the instance is hash lookups and
//! copies. Exact: the database's change feed (`picket_db::changes`) drops an entry as soon as
//! the process that changed it committed (or, for another process on PostgreSQL, as soon as its
//! `NOTIFY` arrives), and an entry whose 30- or 90-day window has moved is not served.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::NaiveDateTime;
use picket_core::aggregate::{Aggregates, ScoreMean, WindowStats};
use picket_core::platform::Platform;
use picket_db::changes::Change;
use picket_db::requesters::{self, AliasRow, RequesterRow};
use picket_db::{Db, DbError, stats};
use serde_json::{Value, json};

/// Entries kept at most; past it the cache starts again empty (ids nobody has reviewed, asked
/// for by anyone, must not grow it without bound).
const MAX_ENTRIES: usize = 400_000;

/// A hasher seeded per process (no crafted ids can collide on purpose) and fast on small keys.
type Hasher = foldhash::fast::RandomState;

/// What the database says of one MTurk requester with published reviews.
#[derive(Debug, Clone)]
pub struct Found {
    pub row: RequesterRow,
    pub aliases: Vec<String>,
    pub aggregates: Aggregates,
}

/// One requester's answers as sent: TO1's value (HTML characters escaped, since
/// `multi-attrs.php` is served as HTML) followed by TO2's entry with every field, in one
/// allocation, so copying them into a response touches as little memory as possible.
#[derive(Debug, Clone)]
pub struct Answer {
    text: Box<str>,
    split: usize,
}

impl Answer {
    pub fn to1(&self) -> &str {
        &self.text[..self.split]
    }

    pub fn to2(&self) -> &str {
        &self.text[self.split..]
    }
}

/// An id as a hash-map key: MTurk ids (capital letters and digits, at most 21) packed into one
/// number, so a lookup compares numbers, not strings in other cache lines; anything else as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Packed(u128),
    Text(Box<str>),
}

impl Key {
    fn of(id: &str) -> Key {
        if id.len() <= 21 {
            let mut packed: u128 = 0;
            let mut fits = true;
            for byte in id.bytes() {
                let code = match byte {
                    b'A'..=b'Z' => byte - b'A' + 1,
                    b'0'..=b'9' => byte - b'0' + 27,
                    _ => {
                        fits = false;
                        break;
                    }
                };
                packed = (packed << 6) | u128::from(code);
            }
            if fits {
                return Key::Packed(packed);
            }
        }
        Key::Text(id.into())
    }
}

enum Slot {
    Rated {
        answer: Answer,
        pk: i64,
        /// When a review leaves its 30- or 90-day window: the answer is stale from then on.
        valid_until: Option<NaiveDateTime>,
    },
    /// Known to have no published review (`pk`), or not known at all (`None`), as of `epoch`.
    Unrated { pk: Option<i64>, epoch: u64 },
}

#[derive(Default)]
struct Inner {
    by_key: HashMap<Key, Slot, Hasher>,
    /// The key of each cached requester, so a change by primary key finds its entry.
    by_pk: HashMap<i64, Key, Hasher>,
    /// The epoch of each requester's latest change: a fill that began before it is not kept.
    changed: HashMap<i64, u64, Hasher>,
    /// The epoch of the latest new requester, and of the latest "anything may have changed".
    created: u64,
    reset: u64,
}

impl Inner {
    fn heard(&mut self, change: &Change, epoch: u64) {
        match change {
            Change::Requesters(pks) => {
                for pk in pks {
                    self.changed.insert(*pk, epoch);
                    if let Some(key) = self.by_pk.remove(pk) {
                        self.by_key.remove(&key);
                    }
                }
            }
            Change::Created => self.created = epoch,
            Change::Everything => {
                self.by_key.clear();
                self.by_pk.clear();
                self.reset = epoch;
            }
        }
    }

    /// Whether what was read after `epoch` about `pk` may be kept.
    fn current(&self, pk: Option<i64>, epoch: u64) -> bool {
        self.reset <= epoch
            && match pk {
                Some(pk) => self.changed.get(&pk).is_none_or(|at| *at <= epoch),
                None => self.created <= epoch,
            }
    }

    fn keep(&mut self, key: Key, slot: Slot) {
        if self.by_key.len() >= MAX_ENTRIES {
            self.by_key.clear();
            self.by_pk.clear();
        }
        let pk = match &slot {
            Slot::Rated { pk, .. } => Some(*pk),
            Slot::Unrated { pk, .. } => *pk,
        };
        if let Some(pk) = pk {
            self.by_pk.insert(pk, key.clone());
        }
        self.by_key.insert(key, slot);
    }
}

/// The cache, one per instance (held by `AppState`).
pub struct Lookups {
    db: Db,
    inner: Arc<RwLock<Inner>>,
}

impl std::fmt::Debug for Lookups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Lookups").finish_non_exhaustive()
    }
}

impl Lookups {
    /// An empty cache listening to `db`'s change feed.
    pub fn new(db: Db) -> Lookups {
        let inner = Arc::new(RwLock::new(Inner::default()));
        let listening = Arc::clone(&inner);
        db.changes().listen(move |change, epoch| {
            listening
                .write()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .heard(change, epoch);
        });
        Lookups { db, inner }
    }

    /// Calls `use_answers` with the answers for `ids` (MTurk requester IDs as stored), in
    /// order: `None` for an id with no published review. Only the ids not cached, or whose
    /// window moved, are read from the database. The answers are lent, not shared: a response
    /// copies them while the cache is read, so the hot path writes no shared memory (no
    /// reference counts bouncing between cores).
    pub async fn with_answers<R>(
        &self,
        ids: &[&str],
        use_answers: impl FnOnce(&[Option<&Answer>]) -> R,
    ) -> Result<R, DbError> {
        let now = picket_db::models::now();
        let keys: Vec<Key> = ids.iter().map(|id| Key::of(id)).collect();
        let mut missing: Vec<usize> = {
            let inner = self
                .inner
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut answers: Vec<Option<&Answer>> = Vec::with_capacity(ids.len());
            let mut missing = Vec::new();
            for (at, key) in keys.iter().enumerate() {
                match inner.cached(key, now) {
                    Some(answer) => answers.push(answer),
                    None => {
                        answers.push(None);
                        missing.push(at);
                    }
                }
            }
            if missing.is_empty() {
                return Ok(use_answers(&answers));
            }
            missing
        };
        loop {
            let found = self.fill(ids, &keys, &missing, now).await?;
            let inner = self
                .inner
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            // What was read now, and the rest as cached. One of the rest that a change dropped
            // meanwhile is read too, in one more round.
            let mut dropped = Vec::new();
            let answers: Vec<Option<&Answer>> = keys
                .iter()
                .zip(ids)
                .enumerate()
                .map(|(at, (key, id))| {
                    if missing.contains(&at) {
                        return found.get(*id);
                    }
                    inner.cached(key, now).unwrap_or_else(|| {
                        dropped.push(at);
                        None
                    })
                })
                .collect();
            if dropped.is_empty() {
                return Ok(use_answers(&answers));
            }
            drop(answers);
            drop(inner);
            missing = (0..ids.len()).collect();
        }
    }

    /// Reads the answers of `ids` at `missing` from the database and keeps those nothing
    /// changed since the read began.
    async fn fill(
        &self,
        ids: &[&str],
        keys: &[Key],
        missing: &[usize],
        now: NaiveDateTime,
    ) -> Result<HashMap<String, Answer>, DbError> {
        let epoch = self.db.changes().epoch();
        let wanted: Vec<String> = missing.iter().map(|at| ids[*at].to_owned()).collect();
        let (read, known) = self
            .db
            .run(move |conn| {
                let rows = requesters::by_keys(conn, Platform::Mturk.as_str(), &wanted)?;
                let known: HashMap<String, i64> = rows
                    .iter()
                    .map(|r| (r.requester_id.clone(), r.id))
                    .collect();
                Ok((read(conn, rows, now)?, known))
            })
            .await?;
        // Built here, not on the database's blocking threads: what stays in the cache is then
        // allocated by the few runtime threads, not spread over many threads' allocator arenas.
        let found: HashMap<String, (i64, Option<NaiveDateTime>, Answer)> = read
            .into_iter()
            .map(|(key, f)| {
                let answer = answer(&f);
                (key, (f.row.id, f.aggregates.valid_until, answer))
            })
            .collect();
        let mut inner = self
            .inner
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for at in missing {
            let id = ids[*at];
            let pk = known.get(id).copied();
            if !inner.current(pk, epoch) {
                continue;
            }
            let slot = match found.get(id) {
                Some((pk, valid_until, answer)) => Slot::Rated {
                    answer: answer.clone(),
                    pk: *pk,
                    valid_until: *valid_until,
                },
                None => Slot::Unrated { pk, epoch },
            };
            inner.keep(keys[*at].clone(), slot);
        }
        Ok(found
            .into_iter()
            .map(|(id, (_, _, answer))| (id, answer))
            .collect())
    }
}

impl Inner {
    /// The cached answer for `key` if it is current: `Some(None)` for an id known to have no
    /// published review, `None` when it must be read.
    fn cached(&self, key: &Key, now: NaiveDateTime) -> Option<Option<&Answer>> {
        match self.by_key.get(key)? {
            Slot::Rated {
                answer,
                valid_until,
                ..
            } if valid_until.is_none_or(|u| u > now) => Some(Some(answer)),
            Slot::Unrated { pk, epoch } if self.current(*pk, *epoch) => Some(None),
            _ => None,
        }
    }
}

/// The requesters of `rows` with published reviews, by key, with their earlier names and
/// aggregates: two indexed queries (a requester whose window moved is computed, not stored).
pub fn read(
    conn: &mut picket_db::DbConn,
    rows: Vec<RequesterRow>,
    now: NaiveDateTime,
) -> Result<HashMap<String, Found>, DbError> {
    let pks: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let mut aggregates = stats::get_many(conn, &pks, now)?;
    let aliases: Vec<AliasRow> = requesters::aliases(conn, &pks)?;
    Ok(rows
        .into_iter()
        .filter_map(|row| {
            let aggregates = aggregates.remove(&row.id)?;
            // A requester known only from a draft, an incident or an import without reviews
            // has nothing to rate: the clients must see it as unknown, not as 0.00.
            if aggregates.all.n == 0 {
                return None;
            }
            let aliases = aliases
                .iter()
                .filter(|a| a.requester_pk == row.id)
                .map(|a| a.name.clone())
                .collect();
            Some((
                row.requester_id.clone(),
                Found {
                    row,
                    aliases,
                    aggregates,
                },
            ))
        })
        .collect())
}

fn answer(found: &Found) -> Answer {
    let (first, second) = (
        escape_html_in_json(&to1(found).to_string()),
        to2(found, TO2_FIELDS).to_string(),
    );
    // Allocated once at its final size: what stays in the cache for long should not be the
    // leftover of a string that grew.
    let mut text = String::with_capacity(first.len() + second.len());
    text.push_str(&first);
    text.push_str(&second);
    Answer {
        text: text.into_boxed_str(),
        split: first.len(),
    }
}

/// TO1 prints scores as strings with exactly two decimals.
fn score(mean: &ScoreMean) -> String {
    format!("{:.2}", mean.mean.unwrap_or(0.0))
}

/// TO1's value for one requester.
pub fn to1(found: &Found) -> Value {
    let all = &found.aggregates.all;
    json!({
        "name": found.row.name,
        "attrs": {
            "comm": score(&all.communication),
            "pay": score(&all.pay),
            "fair": score(&all.fairness),
            "fast": score(&all.promptness),
        },
        "reviews": all.n,
        "tos_flags": all.tos,
    })
}

/// The fields TO2 clients may ask for, all of them by default.
pub const TO2_FIELDS: &[&str] = &["rid", "name", "aliases", "aggregates"];

/// TO2's entry for one requester with the `fields` asked for.
pub fn to2(found: &Found, fields: &[&str]) -> Value {
    let mut attributes = serde_json::Map::new();
    for field in fields {
        let value = match *field {
            "rid" => json!(found.row.requester_id),
            "name" => json!(found.row.name),
            "aliases" => json!(found.aliases),
            _ => json!({
                "all": to2_window(&found.aggregates.all),
                "recent": to2_window(&found.aggregates.days90),
            }),
        };
        attributes.insert((*field).to_owned(), value);
    }
    json!({"type": "requesters", "id": found.row.requester_id, "attributes": attributes})
}

/// One TO2 window: exactly the seven keys clients read (a missing or extra key breaks them).
fn to2_window(stats: &WindowStats) -> Value {
    let pay = stats
        .hourly
        .iter()
        .find(|h| h.currency == "USD")
        .or_else(|| stats.hourly.first());
    // TO2's sum is of rewards without bonuses; clients divide it by the time themselves.
    let (sum_reward, sum_time, n) = pay.map_or((0.0, 0, 0), |h| {
        (
            picket_core::money::to_major(h.sum_reward_minor, &h.currency),
            h.sum_time_seconds,
            h.n,
        )
    });
    json!({
        "reward": [sum_reward, sum_time, n],
        "pending": stats.decision_mean_seconds,
        "comm": [stats.communication_good, stats.communication.n, stats.n],
        "recommend": [stats.recommend_yes, stats.recommend_answered, stats.n],
        "rejected": [stats.rejected, stats.rejected_answered, stats.n],
        "tos": [stats.tos, stats.n],
        "broken": [stats.broken, stats.n],
    })
}

/// Writes `<`, `>` and `&` as JSON's `\u003c`, `\u003e` and `\u0026`. In JSON these characters
/// only ever occur inside strings, where the escapes mean the same characters, so every JSON
/// parser reads the same values while an HTML parser never sees a tag or an entity.
pub fn escape_html_in_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_characters_are_escaped_and_json_reads_the_same() {
        let json = json!({"name": "<script>alert('x')</script> & co", "n": 1}).to_string();
        let escaped = escape_html_in_json(&json);
        assert!(!escaped.contains(['<', '>', '&']), "{escaped}");
        assert_eq!(
            serde_json::from_str::<Value>(&escaped).expect("still JSON"),
            serde_json::from_str::<Value>(&json).expect("JSON")
        );
    }

    #[test]
    fn a_fill_that_began_before_a_change_is_not_kept() {
        let mut inner = Inner::default();
        inner.heard(&Change::Requesters(vec![7]), 5);
        assert!(!inner.current(Some(7), 4), "read before the change");
        assert!(inner.current(Some(7), 5), "read after it");
        assert!(inner.current(Some(8), 1), "another requester");
        inner.heard(&Change::Created, 9);
        assert!(
            !inner.current(None, 8),
            "an unknown id read before a creation"
        );
        assert!(
            inner.current(Some(8), 8),
            "creations do not touch known requesters"
        );
        inner.heard(&Change::Everything, 12);
        assert!(!inner.current(Some(8), 11));
        assert!(inner.current(None, 12));
    }

    #[test]
    fn mturk_ids_pack_into_distinct_numbers_and_others_stay_text() {
        assert_eq!(Key::of("A1"), Key::of("A1"));
        assert_ne!(Key::of("A1"), Key::of("A10"));
        assert_ne!(Key::of("AB"), Key::of("B"));
        assert!(matches!(Key::of("A1B2C3D4E5F6G7"), Key::Packed(_)));
        assert!(matches!(Key::of("ABCDEFGHIJKLMNOPQRSTU"), Key::Packed(_)));
        assert!(matches!(Key::of("ABCDEFGHIJKLMNOPQRSTUV"), Key::Text(_)));
        assert!(matches!(Key::of("a1b2"), Key::Text(_)));
        assert_ne!(Key::of("A1B2"), Key::of("a1b2"));
    }

    #[test]
    fn a_change_drops_the_entry() {
        let mut inner = Inner::default();
        inner.keep(
            Key::of("A1"),
            Slot::Unrated {
                pk: Some(3),
                epoch: 0,
            },
        );
        inner.keep(Key::of("A2"), Slot::Unrated { pk: None, epoch: 0 });
        inner.heard(&Change::Requesters(vec![3]), 1);
        assert!(!inner.by_key.contains_key(&Key::of("A1")));
        assert!(inner.by_key.contains_key(&Key::of("A2")));
        inner.heard(&Change::Everything, 2);
        assert!(inner.by_key.is_empty() && inner.by_pk.is_empty());
    }
}
