//! Benchmark suite (not a test): every speed and memory target of docs/PERFORMANCE.md, each
//! measured beside its baseline in the same run on this machine, printed as one table. Run:
//! `cargo bench -p picket --bench suite` (PostgreSQL as for the tests; `PICKET_BENCH_SCALE=0.1`
//! for a quick run; `PICKET_BENCH_ONLY=serving,federation,import,scale` and
//! `PICKET_BENCH_BACKEND=sqlite|postgres` to run a part).

#![allow(clippy::print_stdout, clippy::unwrap_used, clippy::expect_used)]

mod federation;
mod import;
mod profile;
mod report;
mod serving;
mod wrk;

use std::time::Duration;

use picket_test_support::TestBackend;

fn main() {
    picket_apub::install_tls();
    wrk::ensure();
    let scale: f64 = std::env::var("PICKET_BENCH_SCALE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(1.0);
    let only = std::env::var("PICKET_BENCH_ONLY").unwrap_or_default();
    let wanted = |part: &str| only.is_empty() || only.split(',').any(|p| p.trim() == part);
    let backends: Vec<TestBackend> = match std::env::var("PICKET_BENCH_BACKEND").as_deref() {
        Ok("sqlite") => vec![TestBackend::Sqlite],
        Ok("postgres") => vec![TestBackend::Postgres],
        _ => vec![TestBackend::Sqlite, TestBackend::Postgres],
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let requesters = ((100_000.0 * scale) as usize).max(100);
    let reviews = ((1_000_000.0 * scale) as usize).max(1_000);
    let phases = if scale >= 1.0 {
        serving::Phases {
            warm: Duration::from_secs(3),
            measure: Duration::from_secs(6),
        }
    } else {
        serving::Phases {
            warm: Duration::from_secs(2),
            measure: Duration::from_secs(4),
        }
    };
    let started = std::time::Instant::now();
    let mut report = report::Report::default();
    let mut seed_rate = None;
    if wanted("serving") {
        for backend in &backends {
            let rate = serving::run(
                &runtime,
                *backend,
                requesters,
                reviews,
                &phases,
                &mut report,
            );
            if *backend == TestBackend::Sqlite {
                seed_rate = Some(rate);
            }
        }
    }
    if wanted("federation") {
        let activities = ((2_000.0 * scale) as usize).clamp(200, 2_000);
        for backend in &backends {
            federation::inbox(&runtime, *backend, activities, &mut report);
        }
        federation::slow_peer(
            &runtime,
            ((500.0 * scale) as usize).clamp(50, 500),
            &mut report,
        );
        federation::fan_out(&runtime, 1_000, &mut report);
        federation::fan_out(
            &runtime,
            if scale >= 1.0 { 10_000 } else { 2_000 },
            &mut report,
        );
        federation::freshness(&runtime, 200, &mut report);
    }
    if wanted("import") {
        import::million(&runtime, reviews, seed_rate, &mut report);
    }
    if wanted("scale") {
        for point in [10_000, 100_000] {
            if point < reviews {
                import::scale_point(&runtime, point, &mut report);
            }
        }
    }
    println!(
        "\nPicket benchmark suite, {requesters} requesters and {reviews} reviews, {} cores, in {:.0} s:\n",
        std::thread::available_parallelism().map_or(0, std::num::NonZero::get),
        started.elapsed().as_secs_f64()
    );
    println!("{}", report.table());
}
