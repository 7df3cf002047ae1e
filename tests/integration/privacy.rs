//! The promise workers rely on most: no client IP address reaches the logs or the database, on either backend.

use std::net::{IpAddr, Ipv4Addr};

use picket_test_support::{TestBackend, TestDb};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ServeProcess, free_port, picket};

/// A loopback source address nothing else uses, so finding it anywhere means we recorded the client.
const CLIENT: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 23);

/// Registers, signs in, fails a login, reads the account, logs out and hits error paths, all from `CLIENT`.
async fn exercise(base: &str) {
    let http = reqwest::Client::builder()
        .local_address(IpAddr::V4(CLIENT))
        .build()
        .expect("client bound to the test address");
    let post =
        |path: &str, body: serde_json::Value| http.post(format!("{base}{path}")).json(&body).send();
    let password = "a long enough password";
    let register = post(
        "/api/v1/accounts",
        json!({"username": "watcher", "password": password}),
    )
    .await
    .expect("register");
    assert_eq!(register.status(), StatusCode::CREATED);
    let bad = post(
        "/api/v1/auth/login",
        json!({"username": "watcher", "password": "wrong password!"}),
    )
    .await
    .expect("bad login");
    assert_eq!(bad.status(), StatusCode::UNAUTHORIZED);
    let login = post(
        "/api/v1/auth/login",
        json!({"username": "watcher", "password": password}),
    )
    .await
    .expect("login");
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = login.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .expect("cookie")
        .split(';')
        .next()
        .expect("pair")
        .to_owned();
    let me = http
        .get(format!("{base}/api/v1/account"))
        .header("cookie", &cookie)
        .send()
        .await
        .expect("me");
    assert_eq!(me.status(), StatusCode::OK);
    let token = http
        .post(format!("{base}/api/v1/auth/tokens"))
        .header("cookie", &cookie)
        .header("x-forwarded-for", CLIENT.to_string())
        .json(&json!({"label": "tool"}))
        .send()
        .await
        .expect("token");
    assert_eq!(token.status(), StatusCode::CREATED);
    let missing = http
        .get(format!("{base}/nowhere?from={CLIENT}"))
        .send()
        .await
        .expect("404");
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    let logout = http
        .post(format!("{base}/api/v1/auth/logout"))
        .header("cookie", &cookie)
        // As a browser labels a write from the instance's own page (the forgery guard checks).
        .header("sec-fetch-site", "same-origin")
        .send()
        .await
        .expect("logout");
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
}

fn serve_verbosely(db: &TestDb) -> ServeProcess {
    let mut command = picket(db.dir());
    command
        .env("PICKET_ACCOUNTS_REGISTRATION", "open")
        .env("PICKET_LOG_FILTER", "trace");
    command.env("DATABASE_URL", db.url());
    ServeProcess::spawn(&mut command, free_port())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_address_in_sqlite_files_or_logs() {
    let db = TestDb::new(TestBackend::Sqlite);
    let mut server = serve_verbosely(&db);
    server.wait_healthy().await;
    exercise(&server.base()).await;
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(
        log.contains("route=\"/api/v1/auth/login\""),
        "the log really recorded requests:\n{log}"
    );
    assert!(
        !log.contains(&CLIENT.to_string()),
        "client address in the log:\n{log}"
    );
    let mut files = 0;
    for entry in std::fs::read_dir(db.dir()).expect("database directory") {
        let path = entry.expect("entry").path();
        if !path.is_file() {
            continue;
        }
        let bytes = std::fs::read(&path).expect("read database file");
        let needle = CLIENT.to_string().into_bytes();
        assert!(
            !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
            "client address in {}",
            path.display()
        );
        files += 1;
    }
    assert!(files >= 1, "the database files were searched");
    let dump = db.dump_rows();
    assert!(
        dump.contains("watcher"),
        "the dump really holds the rows:\n{dump}"
    );
    assert!(
        !dump.contains(&CLIENT.to_string()),
        "client address stored:\n{dump}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_client_address_in_postgres_rows_or_logs() {
    let db = TestDb::new(TestBackend::Postgres);
    let mut server = serve_verbosely(&db);
    server.wait_healthy().await;
    exercise(&server.base()).await;
    let (status, log) = server.terminate();
    assert!(status.success(), "{log}");
    assert!(
        !log.contains(&CLIENT.to_string()),
        "client address in the log:\n{log}"
    );
    let dump = db.dump_rows();
    assert!(
        dump.contains("watcher"),
        "the dump really holds the rows:\n{dump}"
    );
    assert!(
        !dump.contains(&CLIENT.to_string()),
        "client address stored:\n{dump}"
    );
}
