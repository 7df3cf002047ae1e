//! Benchmark (not a test): seeds 100k requesters and 1M reviews deterministically on each backend, then prints TO2 lookup latency for 50 ids (p50/p99) and search latency. Run: `cargo bench -p picket --bench lookup` (PostgreSQL as for the tests; `PICKET_BENCH_SCALE=0.1` for a quick run).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use picket_db::models::now;
use picket_db::{Db, stats};
use picket_server::Config;
use picket_test_support::{TestBackend, TestDb, percentile, seed};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

const REQUESTERS: usize = 100_000;
const REVIEWS: usize = 1_000_000;
const LOOKUPS: usize = 500;
const IDS_PER_LOOKUP: usize = 50;

fn report(label: &str, mut samples: Vec<Duration>) {
    samples.sort();
    println!(
        "  {label}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms over {} requests",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        samples.len()
    );
}

/// Times one search request per query, the whole answer read.
async fn searches(http: &reqwest::Client, base: &str, queries: &[String]) -> Vec<Duration> {
    let mut samples = Vec::with_capacity(queries.len());
    for q in queries {
        let started = Instant::now();
        let url = reqwest::Url::parse_with_params(&format!("{base}/api/v1/requesters"), [("q", q)])
            .expect("search URL");
        let response = http.get(url).send().await.expect("search");
        response.bytes().await.expect("body");
        samples.push(started.elapsed());
    }
    samples
}

async fn bench(backend: TestBackend, scale: f64) {
    let requesters = ((REQUESTERS as f64) * scale) as usize;
    let reviews = ((REVIEWS as f64) * scale) as usize;
    println!("{backend:?}: {requesters} requesters, {reviews} reviews");
    let test_db = TestDb::new(backend);
    let db: Db = test_db.open();
    let started = Instant::now();
    let pks = db
        .with_conn(|conn| seed::seed(conn, requesters, reviews, 42))
        .expect("seed");
    println!("  seeded in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    for chunk in pks.chunks(1_000) {
        let chunk = chunk.to_vec();
        db.tx(move |conn| {
            for pk in &chunk {
                stats::refresh(conn, *pk, now())?;
            }
            Ok(())
        })
        .await
        .expect("aggregates");
    }
    println!(
        "  aggregates computed in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let mut config = Config::default();
    config.server.listen = ([127, 0, 0, 1], 0).into();
    config.server.data_dir = test_db.dir().to_owned();
    config.database.url = Some(test_db.url().to_owned());
    let server = picket_server::start(&config).await.expect("start");
    let base = format!("http://localhost:{}", server.addr().port());
    let http = reqwest::Client::new();
    let mut rng = StdRng::seed_from_u64(7);
    let mut samples = Vec::with_capacity(LOOKUPS);
    for i in 0..LOOKUPS + 20 {
        let ids: Vec<String> = (0..IDS_PER_LOOKUP)
            .map(|_| seed::requester_id(rng.random_range(0..requesters)))
            .collect();
        let started = Instant::now();
        let response = http
            .get(format!("{base}/requesters?rids={}", ids.join(",")))
            .send()
            .await
            .expect("lookup");
        let body = response.bytes().await.expect("body");
        let took = started.elapsed();
        assert!(body.len() > 1_000, "the lookup found the requesters");
        if i >= 20 {
            samples.push(took);
        }
    }
    report("TO2 lookup of 50 ids", samples);
    let prefixes: Vec<String> = (0..200)
        .map(|_| format!("seeded requester {}", rng.random_range(0..requesters / 10)))
        .collect();
    report(
        "search by name prefix",
        searches(&http, &base, &prefixes).await,
    );
    let substrings: Vec<String> = (0..50)
        .map(|_| format!("quester {}", rng.random_range(0..requesters)))
        .collect();
    report(
        "search by substring",
        searches(&http, &base, &substrings).await,
    );
    let id_parts: Vec<String> = (0..50)
        .map(|_| seed::requester_id(rng.random_range(0..requesters))[4..12].to_owned())
        .collect();
    report(
        "search by ID substring",
        searches(&http, &base, &id_parts).await,
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::main]
async fn main() {
    let scale = std::env::var("PICKET_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        bench(backend, scale).await;
    }
}
