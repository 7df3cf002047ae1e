//! Deterministic bulk data for benchmarks: many requesters and reviews written with multi-row inserts, far faster than the API path.

use diesel::prelude::*;
use picket_db::schema::{requesters, reviews};
use picket_db::{DbConn, DbError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// Rows per multi-row INSERT: below SQLite's 32766 bound-parameter limit for the widest table.
const CHUNK: usize = 1_000;

/// The MTurk-shaped id of the `n`th seeded requester.
pub fn requester_id(n: usize) -> String {
    format!("ASEED{n:010}")
}

/// Runs the same diesel statement on whichever backend `conn` is: multi-row inserts do not
/// compile against the two-backend connection type, but do against each backend's own.
macro_rules! on_backend {
    ($conn:expr, |$c:ident| $body:expr) => {
        match $conn {
            DbConn::Sqlite($c) => $body,
            DbConn::Pg($c) => $body,
        }
    };
}

/// Inserts `count` requesters (`ASEED0000000000`…) and `reviews` reviews spread over them at random,
/// the same every run for a given `seed`. Returns the requesters' primary keys in order.
pub fn seed(
    conn: &mut DbConn,
    count: usize,
    review_count: usize,
    seed: u64,
) -> Result<Vec<i64>, DbError> {
    let mut rng = StdRng::seed_from_u64(seed);
    let pks = seed_requesters(conn, count)?;
    seed_reviews(conn, &mut rng, review_count, "seed", "", |rng| {
        pks[rng.random_range(0..pks.len())]
    })?;
    Ok(pks)
}

/// Inserts `count` requesters (`ASEED0000000000`…); returns their primary keys in order.
fn seed_requesters(conn: &mut DbConn, count: usize) -> Result<Vec<i64>, DbError> {
    let at = picket_db::models::now();
    for start in (0..count).step_by(CHUNK) {
        let rows: Vec<_> = (start..(start + CHUNK).min(count))
            .map(|n| {
                let name = format!("Seeded Requester {n}");
                (
                    requesters::platform.eq("mturk"),
                    requesters::requester_id.eq(requester_id(n)),
                    requesters::name_lower.eq(name.to_lowercase()),
                    requesters::name.eq(name),
                    requesters::created_at.eq(at),
                    requesters::updated_at.eq(at),
                )
            })
            .collect();
        on_backend!(conn, |c| diesel::insert_into(requesters::table)
            .values(&rows)
            .execute(c))?;
    }
    let pks: Vec<i64> = requesters::table
        .filter(requesters::requester_id.like("ASEED%"))
        .order(requesters::requester_id)
        .select(requesters::id)
        .load(conn)?;
    Ok(pks)
}

/// Inserts `review_count` published reviews with `body`, each of the requester `pick` chooses,
/// with ids `{prefix}-{n}` and figures drawn from `rng`.
pub fn seed_reviews(
    conn: &mut DbConn,
    rng: &mut StdRng,
    review_count: usize,
    prefix: &str,
    body: &str,
    mut pick: impl FnMut(&mut StdRng) -> i64,
) -> Result<(), DbError> {
    let at = picket_db::models::now();
    let approvals = [
        "approved",
        "approved",
        "approved",
        "rejected",
        "partially_rejected",
        "pending",
    ];
    let recommends = ["yes", "yes", "no", "unsure"];
    for start in (0..review_count).step_by(CHUNK) {
        let rows: Vec<_> = (start..(start + CHUNK).min(review_count))
            .map(|n| {
                let requester = pick(rng);
                let published = at - chrono::Duration::minutes(rng.random_range(0..60 * 24 * 400));
                let approval = approvals[rng.random_range(0..approvals.len())];
                (
                    (
                        reviews::public_id.eq(format!("{prefix}-{n}")),
                        reviews::requester_pk.eq(requester),
                        reviews::state.eq("published"),
                        reviews::reward_minor.eq(rng.random_range(1..500i64)),
                        reviews::bonus_minor.eq(Some(rng.random_range(0..50i64))),
                        reviews::currency.eq("USD"),
                        reviews::time_spent_seconds.eq(rng.random_range(30..3600i64)),
                        reviews::completion.eq("completed"),
                        reviews::approval.eq(approval),
                        reviews::time_to_decision_seconds
                            .eq((approval != "pending").then(|| rng.random_range(60..864_000i64))),
                    ),
                    (
                        reviews::score_pay.eq(Some(rng.random_range(1..=5i16))),
                        reviews::score_fairness.eq(Some(rng.random_range(1..=5i16))),
                        reviews::score_promptness.eq(Some(rng.random_range(1..=5i16))),
                        reviews::score_communication.eq(Some(rng.random_range(1..=5i16))),
                        reviews::recommend
                            .eq(Some(recommends[rng.random_range(0..recommends.len())])),
                        reviews::tos_violation.eq(rng.random_range(0..50) == 0),
                        reviews::broken.eq(rng.random_range(0..30) == 0),
                        reviews::unpaid_screener.eq(false),
                        reviews::body.eq(body),
                        reviews::created_at.eq(published),
                        reviews::updated_at.eq(published),
                        reviews::published_at.eq(Some(published)),
                    ),
                )
            })
            .collect();
        on_backend!(conn, |c| diesel::insert_into(reviews::table)
            .values(&rows)
            .execute(c))?;
    }
    Ok(())
}
