//! The Turkopticon-style CSV import through the admin API, and how the cost of a lookup, a
//! written review and imported rows changes with the amount of data.

use std::time::{Duration, Instant};

use picket_test_support::{TestBackend, TestDb};
use serde_json::json;

use crate::report::{Goal, Report, Row};
use crate::serving::Serve;
use crate::wrk;

/// Rows per import request: each stays below the 16 MiB the import accepts.
const ROWS_PER_REQUEST: usize = 100_000;

/// `rows` CSV lines (after the header) of reviews of `requesters` requesters, the same every run.
fn csv(first: usize, rows: usize, requesters: usize) -> String {
    let mut text = String::with_capacity(rows * 90 + 100);
    text.push_str("requester_id,requester_name,pay,fair,fast,comm,reward,time_seconds,date\n");
    for n in first..first + rows {
        let requester = n * 7919 % requesters;
        let score = |k: usize| 1 + (n / k) % 5;
        text.push_str(&format!(
            "AIMPORT{requester:08},Imported Lab {requester},{},{},{},{},{}.{:02},{},2026-{:02}-{:02}\n",
            score(1),
            score(3),
            score(7),
            score(11),
            n % 5,
            n % 100,
            60 + n % 3000,
            1 + n % 11,
            1 + n % 28,
        ));
    }
    text
}

/// What a served instance is started with for writing benchmarks.
pub const WRITABLE: &[(&str, &str)] = &[
    ("PICKET_ACCOUNTS_REGISTRATION", "open"),
    ("PICKET_LIMITS_WRITES_PER_MINUTE", "1000000"),
    ("PICKET_LOG_FILTER", "error"),
];

/// A served SQLite instance with an admin signed in: its base URL and session cookie.
pub async fn admin_session(db: &TestDb) -> (Serve, String) {
    let serve = Serve::start(db, WRITABLE);
    let cookie = admin_cookie(db, &serve).await;
    (serve, cookie)
}

/// Makes an admin account on `db` (beside its running server) and signs it in.
pub async fn admin_cookie(db: &TestDb, serve: &Serve) -> String {
    let mut create = std::process::Command::new(env!("CARGO_BIN_EXE_picket"))
        .env("DATABASE_URL", db.url())
        .env("PICKET_LOG_FILTER", "error")
        .args(["admin", "create-user", "bench_admin", "--role", "admin"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("create-user");
    {
        use std::io::Write;
        create
            .stdin
            .take()
            .expect("stdin")
            .write_all(b"a long enough password\n")
            .expect("password");
    }
    assert!(create.wait().expect("create-user").success());
    let login = reqwest::Client::new()
        .post(format!("{}/api/v1/auth/login", serve.base))
        .json(&json!({"username": "bench_admin", "password": "a long enough password"}))
        .send()
        .await
        .expect("login");
    login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("session")
        .to_owned()
}

/// Imports `rows` rows over `requesters` requesters; returns the time it took.
pub async fn import(serve: &Serve, cookie: &str, rows: usize, requesters: usize) -> Duration {
    let http = reqwest::Client::new();
    let started = Instant::now();
    let mut first = 0;
    while first < rows {
        let chunk = ROWS_PER_REQUEST.min(rows - first);
        let body = csv(first, chunk, requesters);
        let response = http
            .post(format!("{}/api/v1/admin/import", serve.base))
            .header("cookie", cookie)
            .header("content-type", "text/csv")
            .timeout(Duration::from_secs(600))
            .body(body)
            .send()
            .await
            .expect("import");
        assert!(response.status().is_success(), "{}", response.status());
        let report: serde_json::Value = response.json().await.expect("report");
        assert_eq!(report["reviews"], chunk, "{report}");
        first += chunk;
    }
    started.elapsed()
}

/// The mean time of `count` reviews written one after another (aggregates refreshed each time).
pub async fn write_cost(serve: &Serve, cookie: &str, requesters: usize, count: usize) -> f64 {
    let http = reqwest::Client::new();
    let started = Instant::now();
    for n in 0..count {
        let response = http
            .post(format!("{}/api/v1/reviews", serve.base))
            .header("cookie", cookie)
            .header("origin", &serve.base)
            .json(&json!({
                "platform": "mturk",
                "requester_id": picket_test_support::seed::requester_id(n * 31 % requesters),
                "requester_name": "Written Lab", "reward_minor": 120, "bonus_minor": 0,
                "time_spent_seconds": 600, "completion": "completed", "approval": "approved",
                "time_to_decision_seconds": 86400,
                "scores": {"pay": 4, "fairness": 4, "promptness": 4, "communication": 4},
                "recommend": "yes", "body": "Fine."
            }))
            .send()
            .await
            .expect("write");
        assert!(response.status().is_success(), "{}", response.status());
    }
    started.elapsed().as_secs_f64() * 1e3 / count as f64
}

/// The 1M-row import, beside the bulk seed of as many rows (plain multi-row inserts, nothing
/// checked) measured in the same run.
pub fn million(
    runtime: &tokio::runtime::Runtime,
    rows: usize,
    seed_rate: Option<f64>,
    report: &mut Report,
) {
    eprintln!("SQLite: import of {rows} CSV rows");
    runtime.block_on(async {
        let db = TestDb::new(TestBackend::Sqlite);
        let (serve, cookie) = admin_session(&db).await;
        let took = import(&serve, &cookie, rows, (rows / 10).max(10)).await;
        report.add(Row {
            measure: format!("SQLite: CSV import of {rows} rows"),
            figure: took.as_secs_f64(),
            unit: "s",
            baseline: seed_rate
                .map(|rate| ("bulk seed of as many rows".into(), rows as f64 / rate)),
            goal: Goal::AtMost(60.0 * rows as f64 / 1_000_000.0),
        });
        report.add(Row {
            measure: "SQLite: memory, peak during the import".to_owned(),
            figure: serve.memory().1,
            unit: "MiB",
            baseline: None,
            goal: Goal::None,
        });
    });
}

/// Lookup p99, the cost of one written review and import rows/s at `reviews` reviews.
pub fn scale_point(runtime: &tokio::runtime::Runtime, reviews: usize, report: &mut Report) {
    let requesters = (reviews / 10).max(100);
    eprintln!("SQLite: scale point, {reviews} reviews");
    let (db, _) = crate::serving::seeded(TestBackend::Sqlite, requesters, reviews);
    runtime.block_on(async {
        let (serve, cookie) = admin_session(&db).await;
        let scratch = tempfile::tempdir().expect("tempdir");
        let rid = wrk::random_rid(requesters);
        let script = format!(
            "{rid}\nrequest = function()\n  local ids = {{}}\n  for i = 1, 50 do ids[i] = rid() end\n  \
             return wrk.format(\"GET\", \"/requesters?rids=\" .. table.concat(ids, \",\"))\nend\n"
        );
        wrk::run(&serve.base, &script, 32, Duration::from_secs(2), scratch.path());
        let load = wrk::run(&serve.base, &script, 32, Duration::from_secs(4), scratch.path());
        report.add(Row {
            measure: format!("scale, {reviews} reviews: TO2 lookup p99"),
            figure: load.p99_ms,
            unit: "ms",
            baseline: None,
            goal: Goal::None,
        });
        let write = write_cost(&serve, &cookie, requesters, 50).await;
        report.add(Row {
            measure: format!("scale, {reviews} reviews: one review written (aggregates included)"),
            figure: write,
            unit: "ms",
            baseline: None,
            goal: Goal::None,
        });
        let rows = 20_000;
        let took = import(&serve, &cookie, rows, requesters).await;
        report.add(Row {
            measure: format!("scale, {reviews} reviews: import of {rows} more rows"),
            figure: rows as f64 / took.as_secs_f64(),
            unit: "rows/s",
            baseline: None,
            goal: Goal::None,
        });
    });
}
