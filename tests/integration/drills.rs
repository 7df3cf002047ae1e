//! Fault drills (issue 10): what an instance does when the things around it fail: its database stops and comes back, a peer fails then recovers, a peer drip-feeds a body, activities arrive out of order, a peer's clock is off.

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use picket_apub::LocalActor;
use picket_test_support::{TestBackend, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::federation::{
    PASSWORD, activity_json, add_follower, delivery_counts, domain, eventually, federating,
    reviews_counted,
};
use crate::moderation::{send_as, try_send_as};
use crate::reviews::{RID, review};
use crate::security::{FULL, Post, post_signed};
use crate::support::{Client, ServeProcess, TestServer, free_port, picket};

// ---------------------------------------------------------------------------------------------
// Drill 1: PostgreSQL stopped and restarted under load.

/// A PostgreSQL cluster of this test's own, in a temporary directory on a free port: the drill
/// stops it, which must never happen to the shared server the other tests use.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    /// initdb refuses to run as root; then every tool runs as `postgres`, as tests/run.sh does.
    as_postgres: bool,
}

impl Cluster {
    fn create() -> Cluster {
        let listed = Command::new("sh")
            .args(["-c", "ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1"])
            .output()
            .expect("run sh");
        let bin = PathBuf::from(String::from_utf8_lossy(&listed.stdout).trim());
        // Loudly, never a skip: this drill exists to run.
        assert!(
            bin.join("pg_ctl").exists(),
            "the PostgreSQL drill needs initdb and pg_ctl under /usr/lib/postgresql/*/bin \
             (Debian: apt-get install postgresql)"
        );
        let uid = Command::new("id").arg("-u").output().expect("run id");
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let dir = tempfile::tempdir().expect("a directory for the cluster");
        if as_postgres {
            run(Command::new("chown").arg("postgres").arg(dir.path()));
        }
        let cluster = Cluster {
            bin,
            dir,
            port: free_port(),
            as_postgres,
        };
        run(cluster.tool("initdb").arg("-D").arg(cluster.data()).args([
            "-U",
            "postgres",
            "--auth=trust",
        ]));
        cluster.start();
        cluster
    }

    fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn tool(&self, name: &str) -> Command {
        let path = self.bin.join(name);
        if self.as_postgres {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    fn start(&self) {
        run(self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.dir.path().join("log"))
            .args(["-w", "-t", "60", "-o"])
            .arg(format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1",
                self.port,
                self.dir.path().display()
            ))
            .arg("start"));
    }

    /// A fast shutdown: sessions are terminated and in-flight transactions roll back.
    fn stop(&self) {
        run(self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "fast", "-w", "-t", "60", "stop"]));
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // Whatever the test did, the cluster does not outlive it.
        let _ = self
            .tool("pg_ctl")
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

fn run(command: &mut Command) {
    let output = command.output().expect("run a PostgreSQL tool");
    assert!(
        output.status.success(),
        "{command:?} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// What one write during the drill got back.
#[derive(Debug)]
struct Outcome {
    status: StatusCode,
    retry_after: bool,
    took: Duration,
    at: Instant,
    /// The review's id, when it was created.
    id: Option<String>,
}

/// The server's request timeout in the drill: an answer slower than this is a hang.
const REQUEST_TIMEOUT_SECONDS: u64 = 10;

/// Posts reviews one after another until `stop` (or a bound on count and time), recording
/// every answer in `log`.
async fn write_reviews(worker: Client, stop: Arc<AtomicBool>, log: Arc<Mutex<Vec<Outcome>>>) {
    let deadline = Instant::now() + Duration::from_secs(120);
    for n in 0..3_000i64 {
        if stop.load(Ordering::SeqCst) || Instant::now() > deadline {
            return;
        }
        let started = Instant::now();
        let response = worker
            .request(reqwest::Method::POST, "/api/v1/reviews")
            .json(&review(100 + n, 600))
            // Past the server's own timeout: a request it never answers shows here as a failure.
            .timeout(Duration::from_secs(REQUEST_TIMEOUT_SECONDS + 10))
            .send()
            .await
            .unwrap_or_else(|error| panic!("a write got no answer: {error}"));
        let status = response.status();
        let retry_after = response
            .headers()
            .contains_key(reqwest::header::RETRY_AFTER);
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let id = (status == StatusCode::CREATED).then(|| {
            body["id"]
                .as_str()
                .expect("a created review's id")
                .to_owned()
        });
        log.lock().expect("log").push(Outcome {
            status,
            retry_after,
            took: started.elapsed(),
            at: Instant::now(),
            id,
        });
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Every review id the instance lists for the test requester, paging through the whole list.
async fn listed_review_ids(client: &Client) -> Vec<String> {
    let mut ids = Vec::new();
    let mut before: Option<i64> = None;
    for _ in 0..1_000 {
        let path = match before {
            Some(cursor) => {
                format!("/api/v1/requesters/mturk/{RID}/reviews?limit=100&before={cursor}")
            }
            None => format!("/api/v1/requesters/mturk/{RID}/reviews?limit=100"),
        };
        let (status, page) = client.get(&path).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for item in page["items"].as_array().expect("items") {
            ids.push(item["id"].as_str().expect("id").to_owned());
        }
        match page["next"].as_i64() {
            Some(next) => before = Some(next),
            None => return ids,
        }
    }
    panic!("the review list never ended");
}

async fn healthz(base: &str) -> (StatusCode, Duration) {
    let started = Instant::now();
    let response = crate::support::http()
        .get(format!("{base}/healthz"))
        .timeout(Duration::from_secs(REQUEST_TIMEOUT_SECONDS + 10))
        .send()
        .await
        .expect("/healthz answers");
    (response.status(), started.elapsed())
}

/// A worker writes reviews while the database is stopped and started again. During the outage
/// each write is refused quickly with 503 and `Retry-After`, and `/healthz` says 503; once the
/// database is back the server recovers by itself, and every review acknowledged with 201 is
/// there.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn drill_postgres_stopped_and_restarted_under_load() {
    let cluster = tokio::task::spawn_blocking(Cluster::create)
        .await
        .expect("join");
    let data = tempfile::tempdir().expect("a data directory");
    let port = free_port();
    let mut command = picket(data.path());
    command
        .env("DATABASE_URL", cluster.url())
        .env("PICKET_ACCOUNTS_REGISTRATION", "open")
        .env("PICKET_LIMITS_WRITES_PER_MINUTE", "100000")
        .env(
            "PICKET_SERVER_REQUEST_TIMEOUT_SECONDS",
            REQUEST_TIMEOUT_SECONDS.to_string(),
        )
        .env("PICKET_LOG_FILTER", "warn");
    let mut server = ServeProcess::spawn(&mut command, port);
    server.wait_healthy().await;
    let base = server.base();
    let anonymous = Client::new_at(&base);
    let (status, body) = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let alice = anonymous.login("alice", PASSWORD).await;

    let stop = Arc::new(AtomicBool::new(false));
    let log: Arc<Mutex<Vec<Outcome>>> = Arc::default();
    let writers: Vec<_> = (0..2)
        .map(|_| tokio::spawn(write_reviews(alice.clone(), stop.clone(), log.clone())))
        .collect();
    let count = |log: &Mutex<Vec<Outcome>>, status: StatusCode, since: Instant| {
        log.lock()
            .expect("log")
            .iter()
            .filter(|o| o.status == status && o.at > since)
            .count()
    };
    let began = Instant::now();
    eventually("writes succeed before the outage", || async {
        count(&log, StatusCode::CREATED, began) >= 10
    })
    .await;

    let stopping = Instant::now();
    let stopper = tokio::task::spawn_blocking(move || {
        cluster.stop();
        cluster
    });
    let cluster = stopper.await.expect("join");
    let stopped = Instant::now();
    eventually("writes are refused during the outage", || async {
        count(&log, StatusCode::SERVICE_UNAVAILABLE, stopped) >= 3
    })
    .await;
    let (status, took) = healthz(&base).await;
    assert_eq!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "/healthz in the outage"
    );
    assert!(
        took < Duration::from_secs(REQUEST_TIMEOUT_SECONDS),
        "/healthz took {took:?} in the outage"
    );

    let cluster = tokio::task::spawn_blocking(move || {
        cluster.start();
        cluster
    })
    .await
    .expect("join");
    let restarted = Instant::now();
    eventually("writes succeed again without an operator", || async {
        count(&log, StatusCode::CREATED, restarted) >= 10
    })
    .await;
    stop.store(true, Ordering::SeqCst);
    for writer in writers {
        writer.await.expect("a writer panicked");
    }
    let (status, _) = healthz(&base).await;
    assert_eq!(status, StatusCode::OK, "/healthz after the restart");

    let outcomes = std::mem::take(&mut *log.lock().expect("log"));
    for outcome in &outcomes {
        assert!(
            outcome.status == StatusCode::CREATED
                || outcome.status == StatusCode::SERVICE_UNAVAILABLE,
            "a write during the drill got {outcome:?}\n{}",
            server.output()
        );
        if outcome.status == StatusCode::SERVICE_UNAVAILABLE {
            assert!(
                outcome.retry_after,
                "a 503 without Retry-After: {outcome:?}"
            );
        }
        assert!(
            outcome.took < Duration::from_secs(REQUEST_TIMEOUT_SECONDS),
            "a write hung for {:?}: {outcome:?}",
            outcome.took
        );
    }
    assert!(
        outcomes
            .iter()
            .any(|o| o.status == StatusCode::SERVICE_UNAVAILABLE
                && o.at > stopping
                && o.at < restarted),
        "the outage was seen"
    );

    // Nothing acknowledged is lost, and nothing refused was kept.
    let mut created: Vec<String> = outcomes.iter().filter_map(|o| o.id.clone()).collect();
    created.sort();
    let mut listed = listed_review_ids(&anonymous).await;
    listed.sort();
    assert_eq!(listed, created, "the reviews listed are those acknowledged");
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(
        page["aggregates"]["all"]["n"].as_u64(),
        Some(created.len() as u64),
        "{page}"
    );
    let (status, output) = server.terminate();
    assert!(status.success(), "{output}");
    drop(cluster);
}

// ---------------------------------------------------------------------------------------------
// Drill 2: a peer that answers 500, then 200.

/// What the flaky inbox accepted.
type Accepted = Arc<Mutex<Vec<Value>>>;

/// A stand-in inbox that answers 500 to its first `failures` posts and 202 after, keeping
/// what it accepted; also counts every post.
async fn flaky_sink(failures: usize) -> (String, Arc<AtomicUsize>, Accepted) {
    let posts = Arc::new(AtomicUsize::new(0));
    let accepted = Accepted::default();
    let (counted, keep) = (posts.clone(), accepted.clone());
    let app = axum::Router::new().route(
        "/{who}/inbox",
        axum::routing::post(move |body: String| {
            let (counted, keep) = (counted.clone(), keep.clone());
            async move {
                if counted.fetch_add(1, Ordering::SeqCst) < failures {
                    return StatusCode::INTERNAL_SERVER_ERROR;
                }
                keep.lock()
                    .expect("sink")
                    .push(serde_json::from_str(&body).expect("a JSON body"));
                StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!(
        "http://localhost:{}",
        listener.local_addr().expect("addr").port()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, posts, accepted)
}

/// A follower's inbox fails twice with 500, then accepts: the review is retried and arrives
/// exactly once, and the delivery ends delivered.
async fn drill_a_peer_answers_500_then_202(backend: TestBackend) {
    const FAILURES: usize = 2;
    let a = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.federation.retry_first_seconds = 1;
        c.federation.retry_max_seconds = 2;
    })
    .await;
    let (sink, posts, accepted) = flaky_sink(FAILURES).await;
    add_follower(
        &a,
        &format!("{sink}/follower"),
        "Application",
        "actor",
        "picket",
    );
    let alice = a.signed_in("alice", PASSWORD).await;
    let (status, created) = alice.post("/api/v1/reviews", review(840, 3600)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    eventually("the review is delivered after the failures", || async {
        delivery_counts(&a) == [("delivered".to_owned(), 1)]
    })
    .await;
    // Time for a doubled send to arrive before counting.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        posts.load(Ordering::SeqCst),
        FAILURES + 1,
        "two failures, one success"
    );
    let accepted = accepted.lock().expect("sink").clone();
    assert_eq!(accepted.len(), 1, "exactly once: {accepted:?}");
    assert_eq!(accepted[0]["type"], "Create", "{}", accepted[0]);
    assert_eq!(
        accepted[0]["object"]["id"],
        format!("{}/reviews/{id}", a.base),
        "{}",
        accepted[0]
    );
    assert_eq!(delivery_counts(&a), [("delivered".to_owned(), 1)]);
    a.stop().await;
}

both_backends!(drill_a_peer_answers_500_then_202);

// ---------------------------------------------------------------------------------------------
// Drill 3: a peer that drip-feeds its body.

/// A server that answers every request with headers promising a large body, then sends it one
/// byte every 500 ms (for at most two minutes, so the drill is bounded).
struct Drip {
    base: String,
    hits: Arc<AtomicUsize>,
}

impl Drip {
    async fn start() -> Drip {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        tokio::spawn(async move {
            for _ in 0..100 {
                let Ok((mut stream, _)) = listener.accept().await else {
                    return;
                };
                let counted = counted.clone();
                tokio::spawn(async move {
                    // The request's head, up to its blank line (bounded in size and time).
                    let mut head = Vec::new();
                    let mut buffer = [0u8; 1024];
                    while !head.windows(4).any(|w| w == b"\r\n\r\n") && head.len() < 65_536 {
                        match tokio::time::timeout(
                            Duration::from_secs(10),
                            stream.read(&mut buffer),
                        )
                        .await
                        {
                            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&buffer[..n]),
                            _ => return,
                        }
                    }
                    counted.fetch_add(1, Ordering::SeqCst);
                    let headers = "HTTP/1.1 200 OK\r\ncontent-type: application/activity+json\r\n\
                                   content-length: 100000\r\n\r\n";
                    if stream.write_all(headers.as_bytes()).await.is_err() {
                        return;
                    }
                    for _ in 0..240 {
                        if stream.write_all(b" ").await.is_err() || stream.flush().await.is_err() {
                            return;
                        }
                        tokio::time::sleep(Duration::from_millis(500)).await;
                    }
                });
            }
        });
        Drip {
            base: format!("http://localhost:{port}"),
            hits,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

/// An inbox post claims an actor on the drip server: fetching the actor is cut off by the
/// outgoing client's 10 s timeout, the post is refused, and the server answers others meanwhile.
async fn drill_a_peer_drip_feeds_its_body(backend: TestBackend) {
    // The inbox's own deadline is set past the client's timeout here, so it is the client's
    // timeout that ends the fetch (the deadline has its own drill below).
    let b = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.federation.inbox_deadline_seconds = 30;
    })
    .await;
    let drip = Drip::start().await;
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Follow",
        "id": format!("{}/activities/1", drip.base),
        "actor": format!("{}/actor", drip.base),
        "object": format!("{}/actor", b.base),
    })
    .to_string();
    // A well-formed signature naming a key on the actor's host: the instance fetches the actor
    // before it can check the signature.
    let post = Post {
        body: &activity,
        host: domain(&b),
        date: chrono::Utc::now(),
        key_id: format!("{}/actor#main-key", drip.base),
        signed: FULL,
    };
    let started = Instant::now();
    let inbox = async {
        let response = tokio::time::timeout(Duration::from_secs(30), post_signed(&b, &post, None))
            .await
            .expect("the inbox answers within 30 s");
        (response.status(), started.elapsed())
    };
    let meanwhile = async {
        eventually("the instance fetches from the drip server", || async {
            drip.hits() >= 1
        })
        .await;
        // Well into the drip, other requests are served at once.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let (status, took) = healthz(&b.base).await;
        (status, took, started.elapsed())
    };
    let ((status, took), (health, health_took, health_at)) = tokio::join!(inbox, meanwhile);
    assert_eq!(health, StatusCode::OK);
    assert!(
        health_took < Duration::from_secs(2),
        "/healthz took {health_took:?} mid-drip"
    );
    assert!(
        health_at < took,
        "/healthz was asked while the fetch was still drip-fed ({health_at:?}, {took:?})"
    );
    assert!(
        status.is_client_error() || status.is_server_error(),
        "the post is refused: {status}"
    );
    assert_ne!(
        status,
        StatusCode::REQUEST_TIMEOUT,
        "cut off by the fetch, not by the request timeout"
    );
    assert!(
        took < picket_apub::http::REQUEST_TIMEOUT + Duration::from_secs(5),
        "the inbox answered after {took:?}"
    );
    assert!(
        took >= picket_apub::http::REQUEST_TIMEOUT - Duration::from_secs(1),
        "ended by the client's timeout, not sooner: {took:?}"
    );
    assert_ne!(
        status,
        StatusCode::SERVICE_UNAVAILABLE,
        "not the inbox deadline"
    );
    assert_eq!(drip.hits(), 1, "asked once");
    b.stop().await;
}

both_backends!(drill_a_peer_drip_feeds_its_body);

/// The inbox deadline: the work one post causes (here, a drip-fed actor fetch) ends at
/// `federation.inbox_deadline_seconds` with 503 and `Retry-After`, so the sender retries later
/// and no worker is held.
async fn drill_the_inbox_deadline_ends_slow_work(backend: TestBackend) {
    let b = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.federation.inbox_deadline_seconds = 2;
    })
    .await;
    let drip = Drip::start().await;
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Follow",
        "id": format!("{}/activities/deadline", drip.base),
        "actor": format!("{}/actor", drip.base),
        "object": format!("{}/actor", b.base),
    })
    .to_string();
    let post = Post {
        body: &activity,
        host: domain(&b),
        date: chrono::Utc::now(),
        key_id: format!("{}/actor#main-key", drip.base),
        signed: FULL,
    };
    let started = Instant::now();
    let response = post_signed(&b, &post, None).await;
    let took = started.elapsed();
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(response.headers().contains_key("retry-after"));
    assert!(
        took >= Duration::from_secs(2) && took < Duration::from_secs(6),
        "ended by the 2 s deadline: {took:?}"
    );
    b.stop().await;
}

both_backends!(drill_the_inbox_deadline_ends_slow_work);

// ---------------------------------------------------------------------------------------------
// Drill 4: `Delete` before `Create`.

/// Ids of the activities an instance has taken in.
fn received(server: &TestServer) -> Vec<String> {
    server
        .db
        .open()
        .with_conn(|conn| {
            use diesel::prelude::*;
            Ok(picket_db::schema::received_activities::table
                .select(picket_db::schema::received_activities::activity_id)
                .load::<String>(conn)?)
        })
        .expect("received activities")
}

/// A real `Create` of a new review on A, as A serves it, without its context (`send_as` adds it).
async fn real_create(a: &TestServer, alice: &Client, reward: i64) -> (String, Value) {
    let (status, created) = alice.post("/api/v1/reviews", review(reward, 3600)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id");
    let mut create = activity_json(a, &format!("/reviews/{id}/create")).await;
    assert_eq!(create["type"], "Create", "{create}");
    create.as_object_mut().expect("object").remove("@context");
    (format!("{}/reviews/{id}", a.base), create)
}

fn delete_of(a: &TestServer, n: u32, object: &str) -> Value {
    json!({
        "type": "Delete",
        "id": format!("{}/activities/drill-delete-{n}", a.base),
        "actor": format!("{}/u/alice", a.base),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": object,
    })
}

/// B does not follow A (it allows it); A's worker sends B activities by hand. In the normal order a Create
/// shows the review and a Delete takes it away; a Delete that arrives before its Create leaves a
/// tombstone that the Create cannot bring back.
async fn drill_delete_before_create(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    // B counts only instances it follows or allows: it allows A, without following it (a
    // follow would deliver A's activities in A's own order).
    picket_server::admin::set_domain(
        &b.config,
        picket_server::admin::ListKind::Allow,
        true,
        &crate::federation::domain(&a),
        "Drill",
    )
    .expect("allow A");
    let alice = a.signed_in("alice", PASSWORD).await;

    // The normal order, first: proves the hand-sent activities are good enough to apply.
    let (first, create) = real_create(&a, &alice, 300).await;
    send_as(&a, "alice", &b, create).await;
    eventually("B shows the review created", || async {
        reviews_counted(&b).await == 1
    })
    .await;

    // The reverse order, for a second review.
    let (second, create) = real_create(&a, &alice, 500).await;
    let create_id = create["id"].as_str().expect("id").to_owned();
    send_as(&a, "alice", &b, delete_of(&a, 1, &second)).await;
    try_send_as(&a, "alice", &b, create).await;
    let taken = received(&b);
    assert!(
        taken.iter().any(|id| id.ends_with("drill-delete-1")),
        "B took in the Delete: {taken:?}"
    );
    // Refused outright or acknowledged without effect: either way B shows only the first.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        reviews_counted(&b).await,
        1,
        "the tombstone wins over the late Create"
    );
    let (_, listed) = Client::new(&b)
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    let items = listed["items"].as_array().expect("items");
    assert_eq!(items.len(), 1, "{listed}");
    assert!(
        !listed.to_string().contains(&second),
        "the second review is not shown: {listed} (Create {create_id})"
    );

    // And the normal order's Delete still works.
    send_as(&a, "alice", &b, delete_of(&a, 2, &first)).await;
    eventually("B takes the deleted review away", || async {
        reviews_counted(&b).await == 0
    })
    .await;
    a.stop().await;
    b.stop().await;
}

both_backends!(drill_delete_before_create);

// ---------------------------------------------------------------------------------------------
// Drill 5: a clock two hours off.

/// A correctly signed post dated two hours off, either way, is refused; 59 minutes off is
/// within the allowed skew and accepted.
async fn drill_a_clock_two_hours_off(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let key = crate::security::signing_key(&a, LocalActor::Instance).await;
    let minutes = chrono::Duration::minutes;
    for (n, offset, expected) in [
        (1, minutes(-120), StatusCode::UNAUTHORIZED),
        (2, minutes(120), StatusCode::UNAUTHORIZED),
        (3, minutes(-59), StatusCode::ACCEPTED),
        (4, minutes(59), StatusCode::ACCEPTED),
    ] {
        let like = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Like",
            "id": format!("{}/activities/drill-like-{n}", a.base),
            "actor": format!("{}/actor", a.base),
            "object": format!("{}/actor", b.base),
        })
        .to_string();
        let post = Post {
            body: &like,
            host: domain(&b),
            date: chrono::Utc::now() + offset,
            key_id: format!("{}/actor#main-key", a.base),
            signed: FULL,
        };
        let response = post_signed(&b, &post, Some(&key)).await;
        assert_eq!(response.status(), expected, "dated {offset} from now");
    }
    a.stop().await;
    b.stop().await;
}

both_backends!(drill_a_clock_two_hours_off);
