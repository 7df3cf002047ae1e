//! What an operator watches: the Prometheus metrics on their own listener, and logs a shipper can parse.

use picket_core::accounts::Role;
use picket_db::delivery::{self, Direction};
use picket_test_support::{TestBackend, TestDb, both_backends};
use reqwest::StatusCode;
use serde_json::json;

use crate::federation::{delivery_counts, domain, eventually, follows};
use crate::support::{Client, ServeProcess, TestServer, free_port, http, picket, picket_output};

/// The value of the sample `name{labels}` in a Prometheus text page, if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

async fn scrape(server: &TestServer) -> String {
    let addr = server.metrics_addr().expect("a metrics listener");
    let response = http()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("scrape");
    assert_eq!(response.status(), StatusCode::OK);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .expect("type")
            .starts_with("text/plain; version=0.0.4"),
    );
    response.text().await.expect("text")
}

/// A follows B and B accepts; a worker trips the login limit; then A's metrics tell all of it,
/// under route templates and fixed labels only, and only on the metrics listener.
async fn metrics_count_requests_federation_and_limits(backend: TestBackend) {
    let a = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.federation.retry_first_seconds = 1;
        c.accounts.login_attempts_per_minute = 1;
        c.metrics.listen = Some(([127, 0, 0, 1], 0).into());
    })
    .await;
    let b = crate::federation::federating(backend).await;
    picket_server::admin::follow(&a.config, &format!("instance@{}", domain(&b)))
        .await
        .expect("follow B");
    eventually("B accepts A", || async {
        follows(&a, Direction::Outbound)
            .first()
            .is_some_and(|f| f.is_accepted())
    })
    .await;
    eventually("A's Follow is delivered", || async {
        delivery_counts(&a) == [("delivered".to_owned(), 1)]
    })
    .await;

    a.create_user("rosa_p", Role::Worker, "a long enough password")
        .await;
    let client = Client::new(&a);
    for _ in 0..2 {
        client
            .post(
                "/api/v1/auth/login",
                json!({"username": "rosa_p", "password": "not the password"}),
            )
            .await;
    }
    client.get("/requesters/A1B2C3D4E5F6G7").await;

    let text = scrape(&a).await;
    let expect = |series: &str, at_least: f64| {
        let value = sample(&text, series).unwrap_or_else(|| panic!("no {series} in:\n{text}"));
        assert!(
            value >= at_least,
            "{series} = {value}, expected ≥ {at_least}"
        );
    };
    expect(r#"picket_deliveries_total{outcome="delivered"}"#, 1.0);
    expect(
        r#"picket_inbox_activities_total{type="Accept",outcome="accepted"}"#,
        1.0,
    );
    expect(r#"picket_limit_hits_total{limit="login"}"#, 1.0);
    expect(
        r#"picket_http_requests_total{route="/api/v1/auth/login",method="POST",status="4xx"}"#,
        2.0,
    );
    expect(
        r#"picket_http_request_duration_seconds_count{route="/requesters/{rid}"}"#,
        1.0,
    );
    expect("picket_delivery_queue_depth", 0.0);
    expect("picket_delivery_oldest_pending_seconds", 0.0);
    expect("picket_db_pool_connections", 1.0);
    expect("picket_db_pool_in_use", 0.0);
    expect("picket_db_pool_waits_total", 0.0);
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        assert!(
            line.starts_with("picket_"),
            "a metric not named picket_*: {line}"
        );
    }
    for private in ["rosa_p", "127.0.0.1", "localhost", "A1B2C3D4E5F6G7"] {
        assert!(!text.contains(private), "{private} in the metrics:\n{text}");
    }

    // Never on the public listener.
    let (status, _) = client.get("/metrics").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    a.stop().await;
    b.stop().await;
}

/// A queued delivery to an instance that does not answer shows as backlog, with its age.
async fn metrics_show_the_delivery_backlog(backend: TestBackend) {
    let a = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.metrics.listen = Some(([127, 0, 0, 1], 0).into());
    })
    .await;
    let dead = format!("http://localhost:{}", free_port());
    crate::federation::add_follower(
        &a,
        &format!("{dead}/actor"),
        "Application",
        "actor",
        "picket",
    );
    let worker = a.signed_in("ida_b", "a long enough password").await;
    let (status, body) = worker
        .post("/api/v1/reviews", crate::reviews::review(100, 60))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    eventually(
        "the review's delivery is queued and has failed once",
        || async {
            let text = scrape(&a).await;
            sample(&text, "picket_delivery_queue_depth") == Some(1.0)
                && sample(&text, r#"picket_deliveries_total{outcome="failed"}"#) >= Some(1.0)
        },
    )
    .await;
    let text = scrape(&a).await;
    assert!(
        sample(&text, "picket_delivery_oldest_pending_seconds").is_some_and(|age| age > 0.0),
        "{text}"
    );
    a.stop().await;
}

/// A serves under a public URL where nothing answers (the mistake the issue describes), so B
/// cannot fetch the key A's `Follow` is signed with and refuses it: A shows the follow as
/// refused, with B's answer, in `picket admin federation`, the admin JSON and the admin page,
/// and counts the delivery as refused, never as delivered.
async fn a_refused_follow_shows_as_refused_with_the_answer(backend: TestBackend) {
    let wrong = format!("http://localhost:{}/", free_port());
    let a = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.federation.retry_first_seconds = 1;
        c.metrics.listen = Some(([127, 0, 0, 1], 0).into());
        c.server.public_url = Some(wrong.parse().expect("url"));
    })
    .await;
    let b = crate::federation::federating(backend).await;
    let b_actor = picket_server::admin::follow(&a.config, &format!("instance@{}", domain(&b)))
        .await
        .expect("the follow is queued");
    eventually("B's refusal reaches A's follow", || async {
        follows(&a, Direction::Outbound)
            .first()
            .is_some_and(|f| f.is_refused())
    })
    .await;
    let follow = follows(&a, Direction::Outbound).remove(0);
    let answer = follow.refusal.expect("the answer is kept");
    // B could not fetch the key: its own words, kept to show the admin.
    assert!(
        answer.starts_with("400 Bad Request") && answer.contains("federation_refused"),
        "{answer}"
    );
    assert_eq!(delivery_counts(&a), [("failed".to_owned(), 1)]);

    let listed = picket_server::admin::instances(&a.config).expect("federation status");
    assert!(
        listed
            .iter()
            .any(|l| l == &format!("following\t{b_actor}\tREFUSED: {answer}")),
        "{listed:?}"
    );
    assert!(
        listed.iter().any(|l| l == "queue\tnothing waiting"),
        "{listed:?}"
    );

    a.create_user("root", Role::Admin, "a long enough password")
        .await;
    let admin = Client::new(&a)
        .login("root", "a long enough password")
        .await;
    let (status, view) = admin.get("/api/v1/admin/federation").await;
    assert_eq!(status, StatusCode::OK, "{view}");
    assert_eq!(view["following"][0]["state"], "refused", "{view}");
    assert_eq!(view["following"][0]["refusal"], answer.as_str(), "{view}");
    assert_eq!(view["queued"], 0, "{view}");
    let page = admin
        .request(reqwest::Method::GET, "/admin")
        .header("accept", "text/html")
        .send()
        .await
        .expect("admin page")
        .text()
        .await
        .expect("html");
    assert!(
        page.contains("<strong>refused</strong>")
            && page.contains("they answered: 400 Bad Request"),
        "{page}"
    );
    let text = scrape(&a).await;
    assert_eq!(
        sample(&text, r#"picket_deliveries_total{outcome="refused"}"#),
        Some(1.0),
        "{text}"
    );
    assert_eq!(
        sample(&text, r#"picket_deliveries_total{outcome="delivered"}"#),
        None,
        "{text}"
    );
    a.stop().await;
    b.stop().await;
}

both_backends!(
    metrics_count_requests_federation_and_limits,
    metrics_show_the_delivery_backlog,
    a_refused_follow_shows_as_refused_with_the_answer
);

/// `log.format = "json"`: every line `serve` writes is one JSON object with a level and a message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn json_logs_are_one_object_per_line() {
    let db = TestDb::new(TestBackend::Sqlite);
    let port = free_port();
    let mut command = picket(db.dir());
    command
        .env("PICKET_LOG_FORMAT", "json")
        .env("NO_COLOR", "1")
        .arg("--data-dir")
        .arg(db.dir());
    let mut serving = ServeProcess::spawn(&mut command, port);
    serving.wait_healthy().await;
    let (status, output) = serving.terminate();
    assert!(status.success(), "{output}");
    let lines: Vec<&str> = output.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 2, "{output}");
    for line in lines {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|_| panic!("not JSON: {line}"));
        assert!(event["level"].is_string(), "{line}");
        assert!(event["fields"]["message"].is_string(), "{line}");
        assert!(!line.contains('\u{1b}'), "colour codes in {line}");
    }
}

fn doctor(command: &mut std::process::Command) -> (bool, String, String) {
    let output = picket_output(command.arg("doctor"));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn set_mode(path: &std::path::Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// `picket doctor` beside a serving SQLite instance: all well (a localhost URL is only a
/// warning), then a data directory others may read, then a stopped server, each a failure
/// that says what to do, with a non-zero exit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_passes_a_served_instance_and_names_each_fix() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut serve = picket(dir.path());
    serve.args(["--public-url", &format!("http://localhost:{port}/")]);
    let mut server = ServeProcess::spawn(&mut serve, port);
    server.wait_healthy().await;

    let (ok, out, err) = doctor(&mut picket(dir.path()));
    assert!(ok, "{out}{err}");
    for line in [
        "ok    database",
        "ok    migrations",
        "ok    data directory",
        "warn  public URL",
        "ok    reachable",
        "ok    keys",
        "ok    clock",
        "ok    delivery",
    ] {
        assert!(out.contains(line), "no `{line}` in:\n{out}");
    }
    assert!(!out.contains("FAIL"), "{out}");

    let data = dir.path().join("data");
    set_mode(&data, 0o755);
    let (ok, out, err) = doctor(&mut picket(dir.path()));
    set_mode(&data, 0o700);
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL  data directory"), "{out}");
    assert!(out.contains("→ chmod 700 data"), "{out}");
    assert!(err.contains("1 problem(s) found"), "{err}");

    let (status, output) = server.terminate();
    assert!(status.success(), "{output}");
    let (ok, out, _) = doctor(&mut picket(dir.path()));
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL  reachable"), "{out}");
    assert!(out.contains("is `picket serve` running"), "{out}");

    let (ok, out, _) = doctor(picket(dir.path()).args(["--public-url", "https://picket.example/"]));
    assert!(!ok, "{out}");
    assert!(out.contains("first served as"), "{out}");
    assert!(out.contains("move-domain"), "{out}");
}

/// On PostgreSQL: an unmigrated database says to migrate; a migrated one that was never
/// served says to start it (no key yet); an unreachable server says what to check.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn doctor_on_postgres_says_what_is_missing() {
    let db = TestDb::new(TestBackend::Postgres);
    let dir = tempfile::tempdir().expect("tempdir");
    let with_db = || {
        let mut command = picket(dir.path());
        command.env("DATABASE_URL", db.url());
        command
    };
    let (ok, out, _) = doctor(&mut with_db());
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL  migrations"), "{out}");
    assert!(out.contains("picket migrate"), "{out}");

    let migrated = picket_output(with_db().arg("migrate"));
    assert!(migrated.status.success(), "{migrated:?}");
    let (ok, out, _) = doctor(&mut with_db());
    assert!(!ok, "{out}");
    assert!(out.contains("ok    migrations"), "{out}");
    assert!(out.contains("FAIL  keys"), "{out}");
    assert!(out.contains("ok    clock"), "{out}");

    let (ok, out, _) =
        doctor(picket(dir.path()).env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nowhere"));
    assert!(!ok, "{out}");
    assert!(out.contains("FAIL  database"), "{out}");
    assert!(out.contains("DATABASE_URL"), "{out}");
}

/// Deliveries waiting for an instance unreachable for longer than
/// `federation.drop_unreachable_after_days` (30) are dropped when the worker next looks, and
/// logged; those for an instance down for two days still wait.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_to_a_long_dead_peer_are_dropped_and_logged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut server = ServeProcess::spawn(&mut picket(dir.path()), port);
    server.wait_healthy().await;
    let (status, output) = server.terminate();
    assert!(status.success(), "{output}");

    let db = picket_db::Db::open(&dir.path().join("data/picket.db").to_string_lossy(), 1)
        .expect("open the database");
    let now = picket_db::models::now();
    let (long_ago, lately) = (
        now - chrono::Duration::days(31),
        now - chrono::Duration::days(2),
    );
    // Probes far off, so nothing is tried while the test looks.
    let probe = chrono::Duration::days(365);
    db.with_tx(|conn| {
        delivery::enqueue(
            conn,
            delivery::Outgoing {
                activity_id: "http://localhost/activities/old",
                actor: "actor",
                body: "{}",
                object: None,
            },
            &[
                "https://gone.invalid/inbox".to_owned(),
                "https://resting.invalid/inbox".to_owned(),
            ],
            long_ago,
        )?;
        delivery::peer_failed(conn, "gone.invalid", long_ago, 1, probe)?;
        delivery::peer_failed(conn, "resting.invalid", lately, 1, probe)?;
        Ok(())
    })
    .expect("queue deliveries to two unreachable peers");

    let mut server = ServeProcess::spawn(&mut picket(dir.path()), port);
    server.wait_healthy().await;
    crate::federation::eventually("the dead peer's delivery is dropped", || async {
        db.with_conn(delivery::counts).expect("counts")
            == [("failed".to_owned(), 1), ("pending".to_owned(), 1)]
    })
    .await;
    let (status, output) = server.terminate();
    assert!(status.success(), "{output}");
    let line = output
        .lines()
        .find(|line| line.contains("dropped deliveries to an instance unreachable too long"))
        .unwrap_or_else(|| panic!("no drop logged:\n{output}"));
    assert!(
        line.contains("gone.invalid") && line.contains("days=30"),
        "{line}"
    );
    assert!(!output.contains("resting.invalid"), "{output}");
}

/// What a Prometheus page at `addr` says of `series`, 0 when absent.
async fn scraped(addr: &str, series: &str) -> f64 {
    let text = http()
        .get(format!("http://{addr}/metrics"))
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    sample(&text, series).unwrap_or(0.0)
}

/// A client that opens a new connection for every request, so a front passes each request to
/// the next process.
fn unpooled() -> reqwest::Client {
    reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .expect("client")
}

/// Two `picket serve` processes on one PostgreSQL database behind one address: a write on
/// either is read at once on both (Turkopticon lookups included), both work off the delivery
/// queue with no activity sent twice, and one killed with SIGKILL mid-delivery loses nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_processes_share_one_postgres_behind_one_address() {
    use crate::reviews::{RID, review};
    let db = TestDb::new(TestBackend::Postgres);
    let front = crate::support::TcpFront::start(std::time::Duration::ZERO).await;
    let process = |port: u16, metrics: u16| {
        let mut command = picket(db.dir());
        command
            .env("DATABASE_URL", db.url())
            .env("PICKET_FEDERATION_ALLOW_LOOPBACK", "true")
            .env("PICKET_FEDERATION_RETRY_FIRST_SECONDS", "1")
            .env("PICKET_ACCOUNTS_REGISTRATION", "open")
            .env("PICKET_LIMITS_WRITES_PER_MINUTE", "100000")
            .env("PICKET_METRICS_LISTEN", format!("127.0.0.1:{metrics}"))
            .env("PICKET_LOG_FILTER", "error")
            .args(["--public-url", &front.url()]);
        ServeProcess::spawn(&mut command, port)
    };
    let (m1, m2) = (free_port(), free_port());
    let mut one = process(free_port(), m1);
    one.wait_healthy().await;
    let mut two = process(free_port(), m2);
    two.wait_healthy().await;
    front.route_to(&[one.port, two.port]);

    // C follows the instance through its one address; deliveries to C are slow (a second a
    // request), so a kill finds some of them in flight.
    let c_front = crate::support::TcpFront::start(std::time::Duration::from_millis(1000)).await;
    let c = TestServer::start(TestBackend::Postgres, |c| {
        c.federation.allow_loopback = true;
        c.federation.retry_first_seconds = 1;
        c.server.public_url = Some(c_front.url().parse().expect("url"));
        c.metrics.listen = Some(([127, 0, 0, 1], 0).into());
    })
    .await;
    c_front.route_to(&[c
        .base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port")]);
    picket_server::admin::follow(&c.config, &format!("instance@localhost:{}", front.port))
        .await
        .expect("C follows the instance");
    eventually("the instance accepts C", || async {
        follows(&c, Direction::Outbound)
            .first()
            .is_some_and(|f| f.is_accepted())
    })
    .await;

    let http = unpooled();
    let registered = http
        .post(format!("{}/api/v1/accounts", one.base()))
        .json(&json!({"username": "alice", "password": "a long enough password"}))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let token = Client::new_at(&two.base())
        .login("alice", "a long enough password")
        .await
        .post("/api/v1/auth/tokens", json!({"label": "test"}))
        .await
        .1["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let lookup = |base: String| {
        let http = http.clone();
        async move {
            let body: serde_json::Value = http
                .get(format!("{base}/requesters?rids={RID}"))
                .send()
                .await
                .expect("lookup")
                .json()
                .await
                .expect("json");
            body["data"][0]["attributes"]["aggregates"]["all"]["reward"][2]
                .as_i64()
                .unwrap_or(0)
        }
    };
    let post = |base: String, i: i64| {
        let (http, token) = (http.clone(), token.clone());
        async move {
            let mut body = review(100 + i, 600);
            body["task_title"] = json!(format!("batch {i}"));
            let response = http
                .post(format!("{base}/api/v1/reviews"))
                .bearer_auth(token)
                .json(&body)
                .send()
                .await
                .expect("post");
            assert_eq!(response.status(), StatusCode::CREATED);
        }
    };
    // A write on either process is read on the other within a second, lookups included, even
    // when the other has the answer cached (its cache hears of the change through NOTIFY).
    let within_a_second = |base: String, expected: i64, what: &'static str| async move {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(1);
        loop {
            let seen = lookup(base.clone()).await;
            if seen == expected {
                return;
            }
            assert!(std::time::Instant::now() < deadline, "{what}: still {seen}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    };
    assert_eq!(lookup(one.base()).await, 0);
    assert_eq!(
        lookup(two.base()).await,
        0,
        "both have cached that nobody reviewed it"
    );
    post(one.base(), 0).await;
    assert_eq!(
        lookup(one.base()).await,
        1,
        "the writer reads its write at once"
    );
    within_a_second(two.base(), 1, "written on one, read on two").await;
    post(two.base(), 1).await;
    assert_eq!(lookup(two.base()).await, 2);
    within_a_second(one.base(), 2, "written on two, read on one").await;
    let (_, page) = Client::new_at(&one.base())
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["aggregates"]["all"]["n"], 2, "{page}");

    // Writes spread over time through the one address: both processes send, nothing twice.
    const SPREAD: i64 = 16;
    for i in 2..2 + SPREAD {
        post(format!("http://localhost:{}", front.port), i).await;
        tokio::time::sleep(std::time::Duration::from_millis(150)).await;
    }
    let total = 2 + SPREAD;
    eventually("C has every review", || async {
        crate::federation::reviews_counted(&c).await == total
    })
    .await;
    let c_metrics = c.metrics_addr().expect("C's metrics").to_string();
    let creates = r#"picket_inbox_activities_total{type="Create",outcome="accepted"}"#;
    assert_eq!(
        scraped(&c_metrics, creates).await,
        total as f64,
        "every Create reached C exactly once"
    );
    let delivered = r#"picket_deliveries_total{outcome="delivered"}"#;
    let sent_one = scraped(&format!("127.0.0.1:{m1}"), delivered).await;
    let sent_two = scraped(&format!("127.0.0.1:{m2}"), delivered).await;
    eprintln!("deliveries sent: process one {sent_one}, process two {sent_two}");
    assert!(
        sent_one > 0.0 && sent_two > 0.0,
        "both processes deliver: {sent_one} and {sent_two}"
    );

    // A burst, then process one is killed while deliveries are in flight: two sends the rest.
    const BURST: i64 = 12;
    for i in total..total + BURST {
        post(format!("http://localhost:{}", front.port), i).await;
    }
    let view = db.open();
    let in_flight = || {
        view.with_conn(picket_db::delivery::counts)
            .expect("counts")
            .iter()
            .any(|(state, n)| state == "pending" && *n > 0)
    };
    eventually("deliveries of the burst are under way", || async {
        in_flight()
    })
    .await;
    one.kill_9();
    front.route_to(&[two.port]);
    eventually("C has every review of the burst too", || async {
        crate::federation::reviews_counted(&c).await == total + BURST
    })
    .await;
    assert_eq!(
        lookup(format!("http://localhost:{}", front.port)).await,
        total + BURST
    );
    eventually("the queue drains", || async {
        view.with_conn(picket_db::delivery::counts)
            .expect("counts")
            .iter()
            .all(|(state, _)| state == "delivered")
    })
    .await;
    let (status, output) = two.terminate();
    assert!(status.success(), "{output}");
    c.stop().await;
}

/// Deliveries about one object reach each inbox in the order they were queued, while others
/// go at once: an `Update` waits for its `Create` (in flight, or waiting to be retried), a
/// delivery of another object or to another inbox does not, and instances the caller has
/// enough in flight to are left alone.
async fn deliveries_of_one_object_keep_their_order(backend: TestBackend) {
    let test_db = TestDb::new(backend);
    let db = test_db.open();
    let now = picket_db::models::now();
    let lease = chrono::Duration::seconds(15);
    let queue = |id: &str, object: &str, inboxes: &[&str]| {
        let inboxes: Vec<String> = inboxes.iter().map(|i| (*i).to_owned()).collect();
        db.with_tx(|conn| {
            delivery::enqueue(
                conn,
                delivery::Outgoing {
                    activity_id: id,
                    actor: "actor",
                    body: "{}",
                    object: Some(object),
                },
                &inboxes,
                now,
            )
        })
        .expect("queue");
    };
    let (one, two) = ("https://one.example/inbox", "https://two.example/inbox");
    queue("https://here/create-x", "https://here/x", &[one, two]);
    queue("https://here/update-x", "https://here/x", &[one, two]);
    queue("https://here/create-y", "https://here/y", &[one]);
    let claim = |busy: &[String]| {
        let mut claimed: Vec<(String, String)> = db
            .with_conn(|conn| delivery::claim_due(conn, now, lease, 10, busy))
            .expect("claim")
            .into_iter()
            .map(|c| (c.activity_id, c.inbox))
            .collect();
        claimed.sort();
        claimed
    };
    let first = claim(&[]);
    assert_eq!(
        first,
        [
            ("https://here/create-x".to_owned(), one.to_owned()),
            ("https://here/create-x".to_owned(), two.to_owned()),
            ("https://here/create-y".to_owned(), one.to_owned()),
        ],
        "each Update waits for its Create"
    );
    assert!(claim(&[]).is_empty(), "held, and still pending");
    let id_of = |activity: &str, inbox: &str| {
        db.with_conn(|conn| {
            use diesel::prelude::*;
            use picket_db::schema::{deliveries, outbox};
            Ok(deliveries::table
                .inner_join(outbox::table)
                .filter(outbox::activity_id.eq(activity))
                .filter(deliveries::inbox.eq(inbox))
                .select(deliveries::id)
                .first::<i64>(conn)?)
        })
        .expect("delivery id")
    };
    // To one: delivered, so its Update may go. To two: failed, retried later: its Update waits.
    let delivered = id_of("https://here/create-x", one);
    db.with_conn(|conn| delivery::mark_delivered(conn, delivered))
        .expect("delivered");
    let failed = id_of("https://here/create-x", two);
    db.with_conn(|conn| {
        delivery::mark_failed_attempt(
            conn,
            failed,
            "503",
            Some(now - chrono::Duration::seconds(1)),
            true,
        )
    })
    .expect("failed");
    // Within the first leases: create-y is still held.
    let later = now + chrono::Duration::seconds(5);
    let claimed: Vec<(String, String)> = db
        .with_conn(|conn| delivery::claim_due(conn, later, lease, 10, &["two.example".to_owned()]))
        .expect("claim")
        .into_iter()
        .map(|c| (c.activity_id, c.inbox))
        .collect();
    assert_eq!(
        claimed,
        [("https://here/update-x".to_owned(), one.to_owned())],
        "the Update to one goes; nothing to two, which is busy"
    );
    let claimed: Vec<String> = db
        .with_conn(|conn| delivery::claim_due(conn, later, lease, 10, &[]))
        .expect("claim")
        .into_iter()
        .map(|c| c.activity_id)
        .collect();
    assert_eq!(
        claimed,
        ["https://here/create-x"],
        "to two the Create is retried first, its Update still waits"
    );
}

both_backends!(deliveries_of_one_object_keep_their_order);
