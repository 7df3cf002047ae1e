//! What workers' tools and browsers ask a busy instance: Turkopticon lookups (TO2 and TO1, 50
//! random ids), requester search and requester pages, on a seeded database served by a real
//! `picket serve`, each beside a bare axum server sending a static body of the same size, and
//! the server's memory idle and under that load.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_db::models::now;
use picket_test_support::{TestBackend, TestDb, seed};

use crate::report::{Goal, Report, Row};
use crate::wrk;

/// A `picket serve` process; killed when dropped.
pub struct Serve {
    pub child: Child,
    pub base: String,
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

impl Serve {
    /// Starts `picket serve` on `db` with the default configuration but for `env`.
    pub fn start(db: &TestDb, env: &[(&str, &str)]) -> Serve {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_picket"));
        command
            .current_dir(db.dir())
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", db.url())
            .args(["--data-dir"])
            .arg(db.dir())
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null());
        for (key, value) in env {
            command.env(key, value);
        }
        let child = command.spawn().expect("start picket serve");
        let serve = Serve {
            child,
            base: format!("http://127.0.0.1:{port}"),
        };
        let started = Instant::now();
        loop {
            let healthy = std::net::TcpStream::connect(("127.0.0.1", port)).is_ok_and(|mut s| {
                use std::io::{Read, Write};
                let _ = s.write_all(b"GET /healthz HTTP/1.0\r\nHost: x\r\n\r\n");
                let mut answer = [0u8; 12];
                s.read_exact(&mut answer).is_ok() && answer.ends_with(b"200")
            });
            if healthy {
                return serve;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "picket serve never answered"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Resident memory now and at its highest so far, in MiB.
    pub fn memory(&self) -> (f64, f64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))
            .unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
                .map_or(0.0, |kib| kib / 1024.0)
        };
        (field("VmRSS:"), field("VmHWM:"))
    }
}

/// A bare axum server answering every GET with `body`: what serving a static file costs here.
pub fn static_server(
    runtime: &tokio::runtime::Runtime,
    body: bytes::Bytes,
    content_type: &'static str,
) -> (String, tokio::task::JoinHandle<()>) {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("bind");
    let port = listener.local_addr().expect("address").port();
    let app = axum::Router::new().fallback(move || {
        let body = body.clone();
        async move { ([(axum::http::header::CONTENT_TYPE, content_type)], body) }
    });
    let task = runtime.spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    (format!("http://127.0.0.1:{port}"), task)
}

/// Seeds `requesters` and `reviews` deterministically and stores every requester's aggregates;
/// with the rows per second the bulk seed wrote.
pub fn seeded(backend: TestBackend, requesters: usize, reviews: usize) -> (TestDb, f64) {
    let db = TestDb::new(backend);
    let handle = db.open();
    let started = Instant::now();
    let pks = handle
        .with_conn(|conn| seed::seed(conn, requesters, reviews, 42))
        .expect("seed");
    let seeded = started.elapsed();
    let started = Instant::now();
    for chunk in pks.chunks(2_000) {
        handle
            .with_conn(|conn| picket_db::stats::refresh_many(conn, chunk, now()).map(drop))
            .expect("aggregates");
    }
    if backend == TestBackend::Postgres {
        handle
            .with_conn(|conn| {
                use diesel::RunQueryDsl;
                diesel::sql_query("ANALYZE").execute(conn)?;
                Ok(())
            })
            .expect("analyze");
    }
    eprintln!(
        "  seeded {requesters} requesters and {reviews} reviews in {:.1} s, aggregates in {:.1} s",
        seeded.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    (db, (requesters + reviews) as f64 / seeded.as_secs_f64())
}

/// Load phases: warm-up (fills caches, not counted) and the measured run.
pub struct Phases {
    pub warm: Duration,
    pub measure: Duration,
}

pub fn run(
    runtime: &tokio::runtime::Runtime,
    backend: TestBackend,
    requesters: usize,
    reviews: usize,
    phases: &Phases,
    report: &mut Report,
) -> f64 {
    let name = match backend {
        TestBackend::Sqlite => "SQLite",
        TestBackend::Postgres => "PostgreSQL",
    };
    eprintln!("{name}: serving, {requesters} requesters and {reviews} reviews");
    let (db, seed_rate) = seeded(backend, requesters, reviews);
    let scratch = tempfile::tempdir().expect("tempdir");
    let serve = Serve::start(&db, crate::import::WRITABLE);
    std::thread::sleep(Duration::from_secs(2));
    let (idle, _) = serve.memory();
    report.add(Row {
        measure: format!("{name}: memory, idle after start"),
        figure: idle,
        unit: "MiB",
        baseline: None,
        goal: Goal::AtMost(30.0),
    });

    let rid = wrk::random_rid(requesters);
    let fifty = |path: &str| {
        format!(
            "{rid}\nrequest = function()\n  local ids = {{}}\n  for i = 1, 50 do ids[i] = rid() end\n  \
             return wrk.format(\"GET\", \"{path}\" .. table.concat(ids, \",\"))\nend\n"
        )
    };
    // The baseline sends what a real 50-id answer weighs.
    let sample_ids: Vec<String> = (0..50)
        .map(|n| seed::requester_id(n * 997 % requesters))
        .collect();
    let sample = runtime.block_on(async {
        reqwest::get(format!(
            "{}/requesters?rids={}",
            serve.base,
            sample_ids.join(",")
        ))
        .await
        .expect("a sample lookup")
        .bytes()
        .await
        .expect("body")
    });
    let (static_base, static_task) = static_server(runtime, sample.clone(), "application/json");
    let load = |base: &str, script: &str, connections: u32, warm: bool| {
        if warm {
            wrk::run(base, script, connections, phases.warm, scratch.path());
        }
        wrk::run(base, script, connections, phases.measure, scratch.path())
    };
    let baseline = load(&static_base, &fifty("/requesters?rids="), 32, true);
    eprintln!(
        "  static body of {} bytes: {:.0}/s, p99 {:.2} ms",
        sample.len(),
        baseline.per_second,
        baseline.p99_ms
    );
    for (label, path) in [
        ("TO2 /requesters?rids=", "/requesters?rids="),
        ("TO1 multi-attrs.php", "/api/multi-attrs.php?ids="),
    ] {
        let measured = load(&serve.base, &fifty(path), 32, true);
        assert_eq!(measured.errors, 0, "{label}: errors under load");
        crate::profile::during(&serve, label, || {
            wrk::run(
                &serve.base,
                &fifty(path),
                32,
                phases.measure,
                scratch.path(),
            );
        });
        report.add(Row {
            measure: format!("{name}: {label}, 50 random ids, 32 connections"),
            figure: measured.per_second,
            unit: "req/s",
            baseline: Some(("static body, same size".into(), baseline.per_second)),
            goal: Goal::RatioAtLeast(0.5),
        });
        report.add(Row {
            measure: format!("{name}: {label}, p99"),
            figure: measured.p99_ms,
            unit: "ms",
            baseline: Some(("static body p99".into(), baseline.p99_ms)),
            goal: Goal::AtMost(10.0),
        });
    }
    let (_, peak) = serve.memory();
    report.add(Row {
        measure: format!("{name}: memory, peak under lookup load"),
        figure: peak,
        unit: "MiB",
        baseline: None,
        goal: Goal::AtMost(150.0),
    });

    // Search: names by substring, name prefixes, and the tail of an ID (the seeded IDs all start
    // ASEED00000, which no real ID shares; a pasted tail is what a worker would look for).
    let search = format!(
        "{rid}\nlocal n = 0\nrequest = function()\n  n = n + 1\n  local q\n  \
         if n % 3 == 0 then q = \"quester%20\" .. math.random(1000, 9999)\n  \
         elseif n % 3 == 1 then q = \"seeded%20requester%20\" .. math.random(100, 999)\n  \
         else q = string.sub(rid(), -7) end\n  \
         return wrk.format(\"GET\", \"/api/v1/requesters?q=\" .. q)\nend\n"
    );
    let healthz = load(
        &serve.base,
        "request = function() return wrk.format(\"GET\", \"/healthz\") end\n",
        8,
        false,
    );
    let measured = load(&serve.base, &search, 8, true);
    assert_eq!(measured.errors, 0, "search: errors under load");
    report.add(Row {
        measure: format!("{name}: search by substring, 8 connections, p99"),
        figure: measured.p99_ms,
        unit: "ms",
        baseline: Some(("/healthz p99".into(), healthz.p99_ms)),
        goal: Goal::AtMost(10.0),
    });
    for (label, path, accept) in [
        (
            "requester JSON",
            "/api/v1/requesters/mturk/",
            "application/json",
        ),
        ("requester page", "/r/mturk/", "text/html"),
    ] {
        let script = format!(
            "{rid}\nrequest = function()\n  return wrk.format(\"GET\", \"{path}\" .. rid(), {{[\"Accept\"] = \"{accept}\"}})\nend\n"
        );
        let measured = load(&serve.base, &script, 32, true);
        assert_eq!(measured.errors, 0, "{label}: errors under load");
        report.add(Row {
            measure: format!("{name}: {label}, 32 connections, p99"),
            figure: measured.p99_ms,
            unit: "ms",
            baseline: Some(("static body p99".into(), baseline.p99_ms)),
            goal: Goal::AtMost(10.0),
        });
    }
    static_task.abort();
    // The same at this size as the scale curve's smaller points.
    runtime.block_on(async {
        let cookie = crate::import::admin_cookie(&db, &serve).await;
        let write = crate::import::write_cost(&serve, &cookie, requesters, 50).await;
        report.add(Row {
            measure: format!(
                "{name}: scale, {reviews} reviews: one review written (aggregates included)"
            ),
            figure: write,
            unit: "ms",
            baseline: None,
            goal: Goal::None,
        });
        let rows = 20_000;
        let took = crate::import::import(&serve, &cookie, rows, requesters).await;
        report.add(Row {
            measure: format!("{name}: scale, {reviews} reviews: import of {rows} more rows"),
            figure: rows as f64 / took.as_secs_f64(),
            unit: "rows/s",
            baseline: None,
            goal: Goal::None,
        });
    });
    drop(serve);
    seed_rate
}
