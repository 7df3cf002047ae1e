//! Federation under load: an inbox applying signed `Create(Review)`s beside a route that only
//! verifies the same signatures; delivery to a slow instance beside sending one at a time;
//! fan-out to 1,000 and 10,000 inboxes beside as many RSA signatures; and how soon a review
//! written on one instance counts on another.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use activitypub_federation::config::Data;
use picket_apub::{ApubActor, ApubData, FederationSettings};
use picket_test_support::{TestBackend, TestDb, percentile};
use serde_json::json;

use crate::report::{Goal, Report, Row};
use crate::serving::Serve;

fn name(backend: TestBackend) -> &'static str {
    match backend {
        TestBackend::Sqlite => "SQLite",
        TestBackend::Postgres => "PostgreSQL",
    }
}

/// RSA-2048 signatures (PKCS#1 v1.5, SHA-256), what every delivery pays, one after another.
pub fn signatures(count: usize) -> Duration {
    use rsa::pkcs8::DecodePrivateKey;
    use rsa::signature::{SignatureEncoding, Signer};
    let pem = activitypub_federation::http_signatures::generate_actor_keypair()
        .expect("key")
        .private_key;
    let signer = rsa::pkcs1v15::SigningKey::<sha2::Sha256>::new(
        rsa::RsaPrivateKey::from_pkcs8_pem(&pem).expect("pem"),
    );
    let message = [7u8; 300];
    let started = Instant::now();
    for _ in 0..count {
        assert_eq!(signer.sign(&message).to_vec().len(), 256);
    }
    started.elapsed()
}

/// An instance inside this process that signs as its actor (which it serves, so receivers can
/// fetch its key), for posting pre-signed activities.
struct Sender {
    _db: TestDb,
    running: picket_server::Running,
    data: Data<ApubData>,
    base: String,
}

impl Sender {
    async fn start() -> Sender {
        let db = TestDb::new(TestBackend::Sqlite);
        let mut config = picket_server::Config::default();
        config.server.listen = ([127, 0, 0, 1], 0).into();
        config.server.data_dir = db.dir().to_owned();
        config.database.url = Some(db.url().to_owned());
        config.federation.allow_loopback = true;
        config.log.filter = "error".into();
        let running = picket_server::start(&config)
            .await
            .expect("start the sender");
        let base = format!("http://localhost:{}", running.addr().port());
        let data = picket_apub::configure(
            ApubData {
                db: db.open(),
                public_url: format!("{base}/").parse().expect("url"),
                open_registrations: true,
                wave_window_days: 14,
                delivery: picket_apub::DeliveryPolicy::default(),
                mode: picket_core::moderation::FederationMode::default(),
                limits: picket_apub::FederationLimits::new(1_000_000_000),
                http: picket_apub::http::Outgoing::new(true).expect("client"),
                metrics: picket_metrics::Metrics::new(),
            },
            FederationSettings {
                allow_loopback: true,
            },
        )
        .await
        .expect("configure the sender")
        .to_request_data();
        Sender {
            _db: db,
            running,
            data,
            base,
        }
    }

    /// `count` `Create(Review)` activities of this sender's, signed for the inbox at `inbox`.
    async fn signed(&self, inbox: &str, count: usize, tag: &str) -> Vec<reqwest::Request> {
        let http = reqwest::Client::new();
        let host = inbox
            .trim_start_matches("http://")
            .split('/')
            .next()
            .expect("host")
            .to_owned();
        let base = &self.base;
        let mut requests = Vec::with_capacity(count);
        for n in 0..count {
            let body = json!({
                "@context": "https://www.w3.org/ns/activitystreams",
                "type": "Create",
                "id": format!("{base}/activities/{tag}-{n}"),
                "actor": format!("{base}/actor"),
                "object": {
                    "type": "Page",
                    "id": format!("{base}/reviews/{tag}-{n}"),
                    "attributedTo": format!("{base}/actor"),
                    "to": ["https://www.w3.org/ns/activitystreams#Public"],
                    "name": "Review",
                    "published": "2026-11-01T00:00:00Z",
                    "picket:kind": "review",
                    "picket:platform": "mturk",
                    "picket:requesterId": format!("ABENCH{:08}", n % 1000),
                    "picket:requesterName": format!("Bench Lab {}", n % 1000),
                    "picket:review": {
                        "reward_minor": 100 + (n % 400) as i64, "time_spent_seconds": 600,
                        "completion": "completed", "approval": "approved",
                        "scores": {"pay": 4}, "recommend": "yes", "body": "Fine."
                    }
                }
            })
            .to_string();
            let builder = reqwest_middleware::ClientWithMiddleware::from(http.clone())
                .post(inbox)
                .header("content-type", "application/activity+json")
                .header("host", &host)
                .header(
                    "date",
                    chrono::Utc::now()
                        .format("%a, %d %b %Y %H:%M:%S GMT")
                        .to_string(),
                );
            requests.push(
                self.data
                    .sign_request(builder, bytes::Bytes::from(body))
                    .await
                    .expect("sign"),
            );
        }
        requests
    }
}

/// Posts `requests` with `senders` at once; returns how many were accepted per second.
async fn post_all(requests: Vec<reqwest::Request>, senders: usize) -> f64 {
    let http = reqwest::Client::new();
    let count = requests.len();
    let queue = Arc::new(Mutex::new(requests));
    let started = Instant::now();
    let workers: Vec<_> = (0..senders)
        .map(|_| {
            let (queue, http) = (queue.clone(), http.clone());
            tokio::spawn(async move {
                loop {
                    let next = queue.lock().expect("queue").pop();
                    let Some(request) = next else { return };
                    let status = http.execute(request).await.expect("post").status();
                    assert!(status.is_success(), "{status}");
                }
            })
        })
        .collect();
    for worker in workers {
        worker.await.expect("sender");
    }
    count as f64 / started.elapsed().as_secs_f64()
}

/// An activity the verify-only route accepts without looking at it.
#[derive(Debug, serde::Deserialize, serde::Serialize)]
struct Anything {
    id: url::Url,
    actor: activitypub_federation::fetch::object_id::ObjectId<ApubActor>,
}

#[async_trait::async_trait]
impl activitypub_federation::traits::Activity for Anything {
    type DataType = ApubData;
    type Error = picket_apub::ApubError;

    fn id(&self) -> &url::Url {
        &self.id
    }

    fn actor(&self) -> &url::Url {
        self.actor.inner()
    }

    async fn verify(&self, _: &Data<ApubData>) -> Result<(), picket_apub::ApubError> {
        Ok(())
    }

    async fn receive(self, _: &Data<ApubData>) -> Result<(), picket_apub::ApubError> {
        Ok(())
    }
}

/// A server whose only route verifies a post's digest and signature against its actor's key
/// (fetched once and kept, as an inbox does) and answers 202, applying nothing.
async fn verify_only(db: &TestDb) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let config = picket_apub::configure(
        ApubData {
            db: db.open(),
            public_url: format!("http://localhost:{port}/").parse().expect("url"),
            open_registrations: true,
            wave_window_days: 14,
            delivery: picket_apub::DeliveryPolicy::default(),
            mode: picket_core::moderation::FederationMode::default(),
            limits: picket_apub::FederationLimits::new(1_000_000_000),
            http: picket_apub::http::Outgoing::new(true).expect("client"),
            metrics: picket_metrics::Metrics::new(),
        },
        FederationSettings {
            allow_loopback: true,
        },
    )
    .await
    .expect("configure");
    let app = axum::Router::new()
        .route(
            "/inbox",
            axum::routing::post(
                |data: Data<ApubData>,
                 activity: activitypub_federation::axum::inbox::ActivityData| async move {
                    activitypub_federation::axum::inbox::receive_activity::<
                        Anything,
                        ApubActor,
                        ApubData,
                    >(activity, &data)
                    .await
                    .map(|()| axum::http::StatusCode::ACCEPTED)
                    .map_err(|_| axum::http::StatusCode::UNAUTHORIZED)
                },
            ),
        )
        .layer(activitypub_federation::config::FederationMiddleware::new(
            config,
        ));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://localhost:{port}/inbox")
}

/// Signed activities applied by a real `picket serve` inbox, beside the verify-only route.
pub fn inbox(
    runtime: &tokio::runtime::Runtime,
    backend: TestBackend,
    count: usize,
    report: &mut Report,
) {
    let name = name(backend);
    eprintln!("{name}: inbox, {count} signed Create(Review)s");
    runtime.block_on(async {
        let sender = Sender::start().await;
        let receiver_db = TestDb::new(backend);
        let receiver = Serve::start(
            &receiver_db,
            &[
                ("PICKET_FEDERATION_ALLOW_LOOPBACK", "true"),
                ("PICKET_LIMITS_INBOX_PER_MINUTE", "1000000000"),
                ("PICKET_LOG_FILTER", "error"),
            ],
        );
        let inbox = format!("{}/inbox", receiver.base.replace("127.0.0.1", "localhost"));
        let baseline_db = TestDb::new(TestBackend::Sqlite);
        let verifying = verify_only(&baseline_db).await;
        let mut applied = sender.signed(&inbox, count + 1, "bench").await;
        let mut verified = sender.signed(&verifying, count + 1, "verify").await;
        // The first post of each makes the receiver fetch and keep the sender's actor.
        post_all(vec![applied.pop().expect("one")], 1).await;
        post_all(vec![verified.pop().expect("one")], 1).await;
        let baseline = post_all(verified, 8).await;
        let profile = crate::profile::start(&receiver, &format!("{name} inbox"));
        let rate = post_all(applied, 8).await;
        if let Some(profile) = profile {
            profile.finish();
        }
        let kept = receiver_db
            .open()
            .with_conn(|conn| {
                use diesel::prelude::*;
                Ok(picket_db::schema::reviews::table
                    .filter(picket_db::schema::reviews::ap_id.is_not_null())
                    .count()
                    .get_result::<i64>(conn)?)
            })
            .expect("count");
        assert_eq!(kept, count as i64 + 1, "every activity applied");
        let floor = if backend == TestBackend::Sqlite {
            1000.0
        } else {
            800.0
        };
        report.add(Row {
            measure: format!("{name}: inbox, signed Create(Review) applied, 8 senders"),
            figure: rate,
            unit: "/s",
            baseline: Some(("route that only verifies them".into(), baseline)),
            goal: Goal::RatioAtLeast(0.8),
        });
        report.add(Row {
            measure: format!("{name}: inbox, the same, absolute"),
            figure: rate,
            unit: "/s",
            baseline: None,
            goal: Goal::AtLeast(floor),
        });
        report.add(Row {
            measure: format!("{name}: memory, peak during the inbox run"),
            figure: receiver.memory().1,
            unit: "MiB",
            baseline: None,
            goal: Goal::AtMost(150.0),
        });
        drop(receiver);
        sender.running.shutdown().await.expect("stop the sender");
    });
}

/// What a sink received: each activity's type and object, in arrival order.
type Received = Arc<Mutex<Vec<(String, String)>>>;

/// A sink of inboxes (`/inbox/{n}`) answering each post after `delay`.
async fn sink(delay: Duration) -> (u16, Received) {
    let received: Received = Arc::default();
    let log = received.clone();
    let app = axum::Router::new().route(
        "/inbox/{n}",
        axum::routing::post(move |body: bytes::Bytes| {
            let log = log.clone();
            async move {
                tokio::time::sleep(delay).await;
                let value: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
                log.lock().expect("log").push((
                    value["type"].as_str().unwrap_or_default().to_owned(),
                    value["object"]["id"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                ));
                axum::http::StatusCode::ACCEPTED
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (port, received)
}

/// Queues `activities` on `db` (a served instance's) for `inboxes`; returns when they were queued.
fn queue(db: &picket_db::Db, activities: &[(String, String, Option<String>)], inboxes: &[String]) {
    db.with_conn(|conn| {
        for (id, body, object) in activities {
            picket_db::delivery::enqueue(
                conn,
                picket_db::delivery::Outgoing {
                    activity_id: id,
                    actor: "actor",
                    body,
                    object: object.as_deref(),
                },
                inboxes,
                picket_db::models::now(),
            )?;
        }
        Ok(())
    })
    .expect("queue");
}

/// Waits until every delivery of `db` is delivered; the time it took since `since`.
async fn delivered(db: &picket_db::Db, since: Instant, expected: i64) -> Duration {
    loop {
        let counts = db.with_conn(picket_db::delivery::counts).expect("counts");
        if counts == [("delivered".to_owned(), expected)] {
            return since.elapsed();
        }
        assert!(
            since.elapsed() < Duration::from_secs(900),
            "stuck: {counts:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// One sender, one instance answering after 150 ms: activities per second, and whether each
/// object's `Update` came after its `Create`.
pub fn slow_peer(runtime: &tokio::runtime::Runtime, objects: usize, report: &mut Report) {
    eprintln!(
        "delivery to an instance answering after 150 ms, {} activities",
        objects * 2
    );
    runtime.block_on(async {
        let (port, received) = sink(Duration::from_millis(150)).await;
        let db = TestDb::new(TestBackend::Sqlite);
        let sender = Serve::start(
            &db,
            &[("PICKET_FEDERATION_ALLOW_LOOPBACK", "true"), ("PICKET_LOG_FILTER", "error")],
        );
        // The baseline: one at a time, as a sequential per-instance queue sends.
        let http = reqwest::Client::new();
        let started = Instant::now();
        for n in 0..10 {
            let body = json!({"type": "Create", "object": {"id": format!("o{n}")}}).to_string();
            http.post(format!("http://127.0.0.1:{port}/inbox/0"))
                .body(body)
                .send()
                .await
                .expect("post");
        }
        let sequential = 10.0 / started.elapsed().as_secs_f64();
        received.lock().expect("log").clear();
        let inbox = vec![format!("http://localhost:{port}/inbox/0")];
        let handle = db.open();
        let mut activities = Vec::new();
        for n in 0..objects {
            let object = format!("{}/reviews/slow-{n}", serve_base(&sender));
            for kind in ["Create", "Update"] {
                let id = format!("{}/activities/{kind}-{n}", serve_base(&sender));
                let body = json!({"type": kind, "id": id, "actor": format!("{}/actor", serve_base(&sender)),
                    "object": {"type": "Page", "id": object}})
                .to_string();
                activities.push((id, body, Some(object.clone())));
            }
        }
        let started = Instant::now();
        queue(&handle, &activities, &inbox);
        let took = delivered(&handle, started, activities.len() as i64).await;
        let rate = activities.len() as f64 / took.as_secs_f64();
        let log = received.lock().expect("log").clone();
        let mut created = std::collections::HashSet::new();
        let mut out_of_order = 0;
        for (kind, object) in &log {
            match kind.as_str() {
                "Create" => {
                    created.insert(object.clone());
                }
                _ if !created.contains(object) => out_of_order += 1,
                _ => {}
            }
        }
        assert_eq!(log.len(), activities.len(), "every activity arrived once");
        assert_eq!(out_of_order, 0, "an Update arrived before its Create");
        report.add(Row {
            measure: "delivery to an instance answering after 150 ms, one sender (each Update after its Create: checked)".into(),
            figure: rate,
            unit: "/s",
            baseline: Some(("one at a time".into(), sequential)),
            goal: Goal::AtLeast(100.0),
        });
        drop(sender);
    });
}

fn serve_base(serve: &Serve) -> String {
    serve.base.replace("127.0.0.1", "localhost")
}

/// One activity to `inboxes` inboxes of a fast sink, beside as many RSA signatures.
pub fn fan_out(runtime: &tokio::runtime::Runtime, inboxes: usize, report: &mut Report) {
    eprintln!("fan-out of one activity to {inboxes} inboxes");
    let signing = signatures(inboxes);
    runtime.block_on(async {
        let (port, received) = sink(Duration::ZERO).await;
        let db = TestDb::new(TestBackend::Sqlite);
        let sender = Serve::start(
            &db,
            &[
                ("PICKET_FEDERATION_ALLOW_LOOPBACK", "true"),
                ("PICKET_LOG_FILTER", "error"),
            ],
        );
        let targets: Vec<String> = (0..inboxes)
            .map(|n| format!("http://localhost:{port}/inbox/{n}"))
            .collect();
        let base = serve_base(&sender);
        let id = format!("{base}/activities/fan-out");
        let body = json!({"type": "Create", "id": id, "actor": format!("{base}/actor"),
            "object": {"type": "Note", "id": format!("{base}/notes/1"), "content": "hello"}})
        .to_string();
        let handle = db.open();
        let started = Instant::now();
        queue(&handle, &[(id, body, None)], &targets);
        let took = delivered(&handle, started, inboxes as i64).await;
        assert_eq!(received.lock().expect("log").len(), inboxes);
        report.add(Row {
            measure: format!("fan-out: one activity to {inboxes} inboxes"),
            figure: took.as_secs_f64(),
            unit: "s",
            baseline: Some((
                format!("{inboxes} RSA-2048 signatures"),
                signing.as_secs_f64(),
            )),
            goal: Goal::RatioAtMost(1.5),
        });
        drop(sender);
    });
}

/// Reviews written on A, each timed until B (following A) counts it in its lookups.
pub fn freshness(runtime: &tokio::runtime::Runtime, reviews: usize, report: &mut Report) {
    eprintln!("freshness: {reviews} reviews from A counted on B");
    runtime.block_on(async {
        let (a_db, b_db) = (
            TestDb::new(TestBackend::Sqlite),
            TestDb::new(TestBackend::Sqlite),
        );
        let env = [
            ("PICKET_FEDERATION_ALLOW_LOOPBACK", "true"),
            ("PICKET_ACCOUNTS_REGISTRATION", "open"),
            ("PICKET_LIMITS_WRITES_PER_MINUTE", "1000000"),
            ("PICKET_LOG_FILTER", "error"),
        ];
        let a = Serve::start(&a_db, &env);
        let b = Serve::start(&b_db, &env);
        let a_host = serve_base(&a).trim_start_matches("http://").to_owned();
        let follow = std::process::Command::new(env!("CARGO_BIN_EXE_picket"))
            .env("DATABASE_URL", b_db.url())
            .env("PICKET_FEDERATION_ALLOW_LOOPBACK", "true")
            .env("PICKET_LOG_FILTER", "error")
            .args(["--public-url", &format!("{}/", serve_base(&b))])
            .args(["admin", "follow", &format!("instance@{a_host}")])
            .output()
            .expect("picket admin follow");
        assert!(
            follow.status.success(),
            "{}",
            String::from_utf8_lossy(&follow.stderr)
        );
        let b_view = b_db.open();
        let started = Instant::now();
        while !b_view
            .with_conn(|conn| {
                picket_db::delivery::follows(conn, picket_db::delivery::Direction::Outbound)
            })
            .expect("follows")
            .first()
            .is_some_and(picket_db::delivery::FollowRow::is_accepted)
        {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "A never accepted B"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let http = reqwest::Client::new();
        let a_base = serve_base(&a);
        let registered = http
            .post(format!("{a_base}/api/v1/accounts"))
            .json(&json!({"username": "bench", "password": "a long enough password"}))
            .send()
            .await
            .expect("register");
        assert!(registered.status().is_success());
        let login = http
            .post(format!("{a_base}/api/v1/auth/login"))
            .json(&json!({"username": "bench", "password": "a long enough password"}))
            .send()
            .await
            .expect("login");
        let cookie = login
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .expect("session")
            .to_owned();
        let b_base = serve_base(&b);
        let mut waits = Vec::new();
        for n in 0..reviews {
            let rid = format!("AFRESH{n:08}");
            let (http, cookie, a_base, b_base) =
                (http.clone(), cookie.clone(), a_base.clone(), b_base.clone());
            waits.push(tokio::spawn(async move {
                let response = http
                    .post(format!("{a_base}/api/v1/reviews"))
                    .header("cookie", &cookie)
                    .header("origin", &a_base)
                    .json(&json!({
                        "platform": "mturk", "requester_id": rid, "requester_name": "Fresh Lab",
                        "reward_minor": 100, "bonus_minor": 0, "time_spent_seconds": 600,
                        "completion": "completed", "approval": "approved",
                        "time_to_decision_seconds": 86400,
                        "scores": {"pay": 4, "fairness": 4, "promptness": 4, "communication": 4},
                        "recommend": "yes", "body": "Fine."
                    }))
                    .send()
                    .await
                    .expect("post a review");
                assert!(response.status().is_success(), "{}", response.status());
                let written = Instant::now();
                loop {
                    let answer = http
                        .get(format!("{b_base}/requesters/{rid}"))
                        .send()
                        .await
                        .expect("lookup on B");
                    if answer.status().is_success() {
                        return written.elapsed();
                    }
                    assert!(written.elapsed() < Duration::from_secs(60), "never arrived");
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }));
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        let mut samples = Vec::new();
        for wait in waits {
            samples.push(wait.await.expect("wait"));
        }
        samples.sort();
        report.add(Row {
            measure: format!("freshness: a review on A counted in B's lookups, p99 of {reviews}"),
            figure: percentile(&samples, 0.99).as_secs_f64() * 1e3,
            unit: "ms",
            baseline: Some(("p50".into(), percentile(&samples, 0.5).as_secs_f64() * 1e3)),
            goal: Goal::AtMost(1000.0),
        });
    });
}
