//! Benchmark (not a test): signed `Create(Review)` activities applied per second by one inbox, the time to deliver one activity to 1,000 inboxes (a local sink), and the raw cost of 1,000 RSA-2048 signatures in the same run. Run: `cargo bench -p picket --bench federation` (`PICKET_BENCH_BACKEND=postgres` with `PICKET_TEST_DATABASE_URL` for PostgreSQL).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use activitypub_federation::http_signatures::generate_actor_keypair;
use picket_apub::{ApubData, FederationSettings};
use picket_db::models::now;
use picket_server::Config;
use picket_test_support::{TestBackend, TestDb};
use rsa::RsaPrivateKey;
use rsa::pkcs1v15::SigningKey;
use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer};
use serde_json::json;
use sha2::Sha256;

const ACTIVITIES: usize = 2_000;
const CONCURRENCY: usize = 8;
const INBOXES: usize = 1_000;

async fn instance(backend: TestBackend) -> (TestDb, picket_server::Running, String) {
    let db = TestDb::new(backend);
    let mut config = Config::default();
    config.server.listen = ([127, 0, 0, 1], 0).into();
    config.server.data_dir = db.dir().to_owned();
    config.database.url = Some(db.url().to_owned());
    config.federation.allow_loopback = true;
    // The benchmark is one sender at full speed: no per-instance or per-account limit applies.
    config.limits.inbox_per_minute = u32::MAX;
    config.limits.writes_per_minute = u32::MAX;
    config.log.filter = "error".into();
    let running = picket_server::start(&config).await.expect("start");
    let base = format!("http://localhost:{}", running.addr().port());
    (db, running, base)
}

fn raw_rsa() -> Duration {
    let pem = generate_actor_keypair().expect("key").private_key;
    let signer = SigningKey::<Sha256>::new(RsaPrivateKey::from_pkcs8_pem(&pem).expect("pem"));
    let message = [7u8; 300];
    let started = Instant::now();
    for _ in 0..1_000 {
        let signature = signer.sign(&message);
        assert_eq!(signature.to_vec().len(), 256);
    }
    started.elapsed()
}

async fn inbox_throughput(backend: TestBackend) {
    let (a_db, a, a_base) = instance(backend).await;
    let (b_db, b, b_base) = instance(backend).await;
    let a_data = picket_apub::configure(
        ApubData {
            db: a_db.open(),
            public_url: format!("{a_base}/").parse().expect("url"),
            open_registrations: true,
            wave_window_days: 14,
            delivery: Default::default(),
            mode: Default::default(),
            limits: picket_apub::FederationLimits::new(1_000_000),
            http: picket_apub::http::Outgoing::new(true).expect("client"),
            metrics: Default::default(),
        },
        FederationSettings {
            allow_loopback: true,
        },
    )
    .await
    .expect("config")
    .to_request_data();
    let http = reqwest::Client::new();
    let host = b_base.trim_start_matches("http://").to_owned();
    // Sign everything first: the figure is the receiver's, not the sender's.
    let mut requests = Vec::with_capacity(ACTIVITIES);
    for n in 0..ACTIVITIES {
        let body = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Create",
            "id": format!("{a_base}/activities/bench-{n}"),
            "actor": format!("{a_base}/actor"),
            "object": {
                "type": "Page",
                "id": format!("{a_base}/reviews/bench-{n}"),
                "attributedTo": format!("{a_base}/actor"),
                "to": ["https://www.w3.org/ns/activitystreams#Public"],
                "name": "Review",
                "published": "2026-11-01T00:00:00Z",
                "picket:kind": "review",
                "picket:platform": "mturk",
                "picket:requesterId": format!("ABENCH{:08}", n % 100),
                "picket:requesterName": format!("Bench Lab {}", n % 100),
                "picket:review": {
                    "reward_minor": 100 + (n % 400) as i64, "time_spent_seconds": 600,
                    "completion": "completed", "approval": "approved",
                    "scores": {"pay": 4}, "recommend": "yes", "body": "Fine."
                }
            }
        })
        .to_string();
        let builder = reqwest_middleware::ClientWithMiddleware::from(http.clone())
            .post(format!("{b_base}/inbox"))
            .header("content-type", "application/activity+json")
            .header("host", &host)
            .header(
                "date",
                chrono::Utc::now()
                    .format("%a, %d %b %Y %H:%M:%S GMT")
                    .to_string(),
            );
        requests.push(
            a_data
                .sign_request(builder, bytes::Bytes::from(body))
                .await
                .expect("sign"),
        );
    }
    // B fetches A's actor once; do it before timing.
    let first = requests.remove(0);
    assert!(
        http.execute(first)
            .await
            .expect("post")
            .status()
            .is_success()
    );
    let started = Instant::now();
    let queue = Arc::new(std::sync::Mutex::new(requests));
    let workers = (0..CONCURRENCY).map(|_| {
        let (queue, http) = (queue.clone(), http.clone());
        tokio::spawn(async move {
            loop {
                let next = queue.lock().expect("queue").pop();
                let Some(request) = next else { return };
                let status = http.execute(request).await.expect("post").status();
                assert!(status.is_success(), "{status}");
            }
        })
    });
    for worker in workers.collect::<Vec<_>>() {
        worker.await.expect("worker");
    }
    let took = started.elapsed();
    let applied = b_db
        .open()
        .with_conn(|conn| {
            use diesel::prelude::*;
            Ok(picket_db::schema::reviews::table
                .filter(picket_db::schema::reviews::ap_id.is_not_null())
                .count()
                .get_result::<i64>(conn)?)
        })
        .expect("count");
    assert_eq!(applied, ACTIVITIES as i64);
    println!(
        "  inbox: {} signed Create(Review) applied in {:.2} s = {:.0}/s ({CONCURRENCY} concurrent senders)",
        ACTIVITIES - 1,
        took.as_secs_f64(),
        (ACTIVITIES - 1) as f64 / took.as_secs_f64()
    );
    a.shutdown().await.expect("stop");
    b.shutdown().await.expect("stop");
}

async fn fan_out(backend: TestBackend) {
    let hits = Arc::new(AtomicUsize::new(0));
    let sink = {
        let hits = hits.clone();
        axum::Router::new().route(
            "/inbox/{n}",
            axum::routing::post(move || {
                let hits = hits.clone();
                async move {
                    hits.fetch_add(1, Ordering::Relaxed);
                    axum::http::StatusCode::ACCEPTED
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let sink_port = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, sink).await });
    let (a_db, a, a_base) = instance(backend).await;
    let inboxes: Vec<String> = (0..INBOXES)
        .map(|n| format!("http://localhost:{sink_port}/inbox/{n}"))
        .collect();
    let body = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Create",
        "id": format!("{a_base}/activities/fan-out"),
        "actor": format!("{a_base}/actor"),
        "object": {"type": "Note", "id": format!("{a_base}/notes/1"), "content": "hello"},
    })
    .to_string();
    let db = a_db.open();
    let started = Instant::now();
    db.with_conn(|conn| {
        picket_db::delivery::enqueue(
            conn,
            picket_db::delivery::Outgoing {
                activity_id: &format!("{a_base}/activities/fan-out"),
                actor: "actor",
                body: &body,
                object: None,
            },
            &inboxes,
            now(),
        )
    })
    .expect("enqueue");
    loop {
        let counts = db.with_conn(picket_db::delivery::counts).expect("counts");
        if counts == [("delivered".to_owned(), INBOXES as i64)] {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(600), "{counts:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let took = started.elapsed();
    assert_eq!(hits.load(Ordering::Relaxed), INBOXES);
    println!(
        "  delivery: one activity to {INBOXES} inboxes in {:.2} s ({:.1} ms per inbox)",
        took.as_secs_f64(),
        took.as_secs_f64() * 1e3 / INBOXES as f64
    );
    a.shutdown().await.expect("stop");
}

#[tokio::main]
async fn main() {
    picket_apub::install_tls();
    let backend = match std::env::var("PICKET_BENCH_BACKEND").as_deref() {
        Ok("postgres") => TestBackend::Postgres,
        _ => TestBackend::Sqlite,
    };
    println!("{backend:?}:");
    let rsa = raw_rsa();
    println!(
        "  raw RSA-2048: 1000 signatures in {:.2} s ({:.2} ms each)",
        rsa.as_secs_f64(),
        rsa.as_secs_f64()
    );
    inbox_throughput(backend).await;
    fan_out(backend).await;
}
