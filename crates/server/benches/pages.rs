//! Benchmark (not a test): server time and weight of the HTML pages workers open most, the requester page and the home page, at 1M reviews on each backend, next to the JSON API for the same requester and a trivial endpoint measured in the same run. Run: `cargo bench -p picket --bench pages` (PostgreSQL as for the tests; `PICKET_BENCH_SCALE=0.1` for a quick run, `PICKET_BENCH_BACKEND=sqlite` or `postgres` for one backend).

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
/// The most reviewed requester's share: one big requester, as on MTurk, whose page is the
/// slowest to draw (its reviews carry text; the seeded rest carry none).
const HOT_REVIEWS: usize = 10_000;
const REQUESTS: usize = 500;
const WARM_UP: usize = 20;
const BODY: &str = "Clear instructions and a fair time estimate. Approved within two days, \
    no rejections in my batch of forty. The qualification test was paid. Would work for them \
    again; watch for the occasional broken image in the later tasks, which they fixed within \
    the hour when I wrote to them.";

fn report(label: &str, mut samples: Vec<Duration>, bytes: usize) {
    samples.sort();
    println!(
        "  {label:<42} p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>6.2} ms  {:>7} bytes",
        percentile(&samples, 0.5).as_secs_f64() * 1e3,
        percentile(&samples, 0.99).as_secs_f64() * 1e3,
        samples.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        bytes
    );
}

/// Times `REQUESTS` GETs of the paths `path` gives, whole body read, after a warm-up; returns
/// the samples and the size of the last body.
async fn time(
    http: &reqwest::Client,
    base: &str,
    accept: &str,
    mut path: impl FnMut(usize) -> String,
) -> (Vec<Duration>, usize) {
    let mut samples = Vec::with_capacity(REQUESTS);
    let mut bytes = 0;
    for i in 0..REQUESTS + WARM_UP {
        let url = format!("{base}{}", path(i));
        let started = Instant::now();
        let response = http
            .get(&url)
            .header("accept", accept)
            .send()
            .await
            .expect("request");
        assert!(
            response.status().is_success(),
            "{url}: {}",
            response.status()
        );
        let body = response.bytes().await.expect("body");
        let took = started.elapsed();
        bytes = body.len();
        if i >= WARM_UP {
            samples.push(took);
        }
    }
    (samples, bytes)
}

const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

async fn bench(backend: TestBackend, scale: f64) {
    let requesters = ((REQUESTERS as f64) * scale) as usize;
    let hot = ((HOT_REVIEWS as f64) * scale) as usize;
    let reviews = ((REVIEWS as f64) * scale) as usize - hot;
    println!(
        "{backend:?}: {requesters} requesters, {} reviews ({hot} of one requester)",
        reviews + hot
    );
    let test_db = TestDb::new(backend);
    let db: Db = test_db.open();
    let started = Instant::now();
    let pks = db
        .with_conn(|conn| {
            let pks = seed::seed(conn, requesters, reviews, 42)?;
            let mut rng = StdRng::seed_from_u64(43);
            seed::seed_reviews(conn, &mut rng, hot, "hot", BODY, |_| pks[0])?;
            Ok(pks)
        })
        .expect("seed");
    println!("  seeded in {:.1} s", started.elapsed().as_secs_f64());
    // The pages read cached aggregates; compute those of the requesters the run opens.
    let mut rng = StdRng::seed_from_u64(7);
    let sampled: Vec<usize> = (0..REQUESTS + WARM_UP)
        .map(|_| rng.random_range(1..requesters))
        .collect();
    let mut to_refresh: Vec<i64> = sampled.iter().map(|n| pks[*n]).collect();
    to_refresh.push(pks[0]);
    db.tx(move |conn| {
        for pk in &to_refresh {
            stats::refresh(conn, *pk, now())?;
        }
        Ok(())
    })
    .await
    .expect("aggregates");

    let mut config = Config::default();
    config.server.listen = ([127, 0, 0, 1], 0).into();
    config.server.data_dir = test_db.dir().to_owned();
    config.database.url = Some(test_db.url().to_owned());
    let server = picket_server::start(&config).await.expect("start");
    let base = format!("http://localhost:{}", server.addr().port());
    let http = reqwest::Client::new();

    let hot_id = seed::requester_id(0);
    let (samples, bytes) = time(&http, &base, "application/json", |_| "/healthz".into()).await;
    report("baseline: GET /healthz", samples, bytes);
    let (samples, bytes) = time(&http, &base, "application/json", |_| {
        format!("/api/v1/requesters/mturk/{hot_id}")
    })
    .await;
    report("baseline: JSON API, big requester", samples, bytes);
    let (samples, bytes) = time(&http, &base, "application/json", |_| {
        format!("/api/v1/requesters/mturk/{hot_id}/reviews?limit=20")
    })
    .await;
    report(
        "JSON API, big requester's 20 newest reviews",
        samples,
        bytes,
    );
    let (samples, bytes) = time(&http, &base, HTML, |_| format!("/r/mturk/{hot_id}")).await;
    let page_bytes = bytes;
    report("requester page, big requester", samples, bytes);
    let (samples, bytes) = time(&http, &base, HTML, |i| {
        format!("/r/mturk/{}", seed::requester_id(sampled[i]))
    })
    .await;
    report("requester page, random requester", samples, bytes);
    let (samples, bytes) = time(&http, &base, HTML, |_| "/".into()).await;
    report("home page", samples, bytes);
    let css = http
        .get(format!("{base}/static/picket.css"))
        .send()
        .await
        .expect("stylesheet")
        .bytes()
        .await
        .expect("body")
        .len();
    println!(
        "  requester page weight: {page_bytes} bytes HTML + {css} bytes CSS = {:.1} KB (target < 60 KB)",
        (page_bytes + css) as f64 / 1024.0
    );
    server.shutdown().await.expect("shutdown");
}

#[tokio::main]
async fn main() {
    let scale = std::env::var("PICKET_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let only = std::env::var("PICKET_BENCH_BACKEND").unwrap_or_default();
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        if only.is_empty() || format!("{backend:?}").eq_ignore_ascii_case(&only) {
            bench(backend, scale).await;
        }
    }
}
