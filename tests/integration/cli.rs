//! The `picket` executable as an operator meets it: zero-configuration start, clear one-line failures, graceful stop, admin commands.

use std::io::Write;
use std::process::Stdio;

use picket_test_support::{TestBackend, TestDb};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{ServeProcess, free_port, picket, picket_output};

/// Asserts a failed start: non-zero exit and exactly one line on stderr, containing each of `needles`.
fn assert_one_line_failure(output: &std::process::Output, needles: &[&str]) {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "should fail: {stderr}");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one line: {stderr}");
    for needle in needles {
        assert!(lines[0].contains(needle), "`{needle}` in: {stderr}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_without_configuration_creates_sqlite_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = ServeProcess::spawn(&mut picket(dir.path()), free_port());
    let took = server.wait_healthy().await;
    eprintln!("picket serve answered /healthz after {took:?} (SQLite, fresh data directory)");
    assert!(
        dir.path().join("data/picket.db").exists(),
        "database file created"
    );
    let (status, output) = server.terminate();
    assert!(
        status.success(),
        "clean exit on SIGTERM: {status}\n{output}"
    );
    assert!(
        output.contains("shutting down") && output.contains("stopped"),
        "{output}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn data_directory_and_database_files_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let mut server = ServeProcess::spawn(&mut picket(dir.path()), free_port());
    server.wait_healthy().await;
    // The migrations wrote through the pool's open connections, so the WAL and shared-memory
    // files exist while it serves.
    let mode = |name: &str| {
        std::fs::metadata(dir.path().join(name))
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    };
    assert_eq!(mode("data"), 0o700, "data directory");
    assert_eq!(mode("data/picket.db"), 0o600, "database file");
    for name in ["data/picket.db-wal", "data/picket.db-shm"] {
        assert!(
            dir.path().join(name).exists(),
            "{name} exists while serving"
        );
        assert_eq!(mode(name), 0o600, "{name}");
    }
    let (status, output) = server.terminate();
    assert!(status.success(), "{status}: {output}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_on_postgres_by_database_url() {
    let db = TestDb::new(TestBackend::Postgres);
    let mut command = picket(db.dir());
    command.env("DATABASE_URL", db.url());
    let mut server = ServeProcess::spawn(&mut command, free_port());
    let took = server.wait_healthy().await;
    eprintln!("picket serve answered /healthz after {took:?} (PostgreSQL, fresh database)");
    assert!(
        !db.dir().join("data").exists(),
        "no SQLite data directory on PostgreSQL"
    );
    let (status, output) = server.terminate();
    assert!(status.success(), "{status}: {output}");
}

#[test]
fn unknown_config_key_stops_start_up_naming_key_and_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bad.toml");
    std::fs::write(&path, "[server]\nlisten = \"127.0.0.1:0\"\nlistne = 1\n")
        .expect("write config");
    let output = picket_output(picket(dir.path()).arg("--config").arg(&path).arg("serve"));
    assert_one_line_failure(&output, &["bad.toml", "server.listne"]);
}

#[test]
fn bad_environment_value_names_the_variable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = picket_output(
        picket(dir.path())
            .env("PICKET_ACCOUNTS_REGISTRATION", "everyone")
            .arg("serve"),
    );
    assert_one_line_failure(&output, &["PICKET_ACCOUNTS_REGISTRATION", "everyone"]);
}

#[test]
fn danger_local_ip_variable_without_allow_loopback_stops_start_up() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = picket_output(
        picket(dir.path())
            .env("DANGER_FEDERATION_ALLOW_LOCAL_IP", "1")
            .arg("serve"),
    );
    assert_one_line_failure(
        &output,
        &[
            "DANGER_FEDERATION_ALLOW_LOCAL_IP",
            "federation.allow_loopback",
        ],
    );
    assert!(
        !dir.path().join("data").exists(),
        "refused before any state"
    );
}

#[test]
fn unreachable_postgres_is_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let output = picket_output(
        picket(dir.path())
            .env(
                "DATABASE_URL",
                "postgres://postgres:secret@127.0.0.1:1/picket",
            )
            .arg("serve"),
    );
    assert_one_line_failure(&output, &["cannot open database", "Connection refused"]);
    assert!(
        !String::from_utf8_lossy(&output.stderr).contains("secret"),
        "password redacted"
    );
}

#[test]
fn unwritable_data_directory_is_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blocker = dir.path().join("a-file");
    std::fs::write(&blocker, "not a directory").expect("write file");
    let output = picket_output(
        picket(dir.path())
            .arg("serve")
            .arg("--data-dir")
            .arg(blocker.join("data")),
    );
    assert_one_line_failure(&output, &["cannot create data directory", "a-file"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_creates_users_from_stdin_and_invites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut create = picket(dir.path())
        .args(["admin", "create-user", "Root_Admin", "--role", "admin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn create-user");
    create
        .stdin
        .take()
        .expect("stdin")
        .write_all(b"a long admin password\n")
        .expect("write password");
    let output = create.wait_with_output().expect("wait");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let duplicate = picket(dir.path())
        .args(["admin", "create-user", "root_admin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"another long password\n")?;
            child.wait_with_output()
        })
        .expect("run create-user again");
    assert_one_line_failure(&duplicate, &["root_admin", "taken"]);
    let bad_role =
        picket_output(picket(dir.path()).args(["admin", "create-user", "x_y_z", "--role", "boss"]));
    assert!(!bad_role.status.success());
    assert!(String::from_utf8_lossy(&bad_role.stderr).contains("worker, moderator, admin"));

    let invite = picket_output(picket(dir.path()).args(["admin", "invite", "--days", "2"]));
    assert!(
        invite.status.success(),
        "{}",
        String::from_utf8_lossy(&invite.stderr)
    );
    let code = String::from_utf8(invite.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    assert_eq!(code.len(), 43, "one code on stdout: {code}");

    let mut server = ServeProcess::spawn(&mut picket(dir.path()), free_port());
    server.wait_healthy().await;
    let http = crate::support::http();
    let login = http
        .post(format!("{}/api/v1/auth/login", server.base()))
        .json(&json!({"username": "root_admin", "password": "a long admin password"}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::OK);
    let register = http
        .post(format!("{}/api/v1/accounts", server.base()))
        .json(
            &json!({"username": "newcomer", "password": "a long worker password", "invite": code}),
        )
        .send()
        .await
        .expect("register");
    assert_eq!(
        register.status(),
        StatusCode::CREATED,
        "the CLI's invite code works (invite mode is the default)"
    );
    server.terminate();
}

/// Runs `picket admin create-user NAME` with the password on standard input.
fn create_user(dir: &std::path::Path, name: &str, password: &str) {
    create_user_with(&mut picket(dir), name, password);
}

/// `create_user` through a prepared command (another database, other options).
fn create_user_with(command: &mut std::process::Command, name: &str, password: &str) {
    let mut create = command
        .args(["admin", "create-user", name])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn create-user");
    create
        .stdin
        .take()
        .expect("stdin")
        .write_all(format!("{password}\n").as_bytes())
        .expect("write password");
    let output = create.wait_with_output().expect("wait");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_revoke_sessions_ends_sessions_and_tokens() {
    let dir = tempfile::tempdir().expect("tempdir");
    let password = "a long enough password";
    for name in ["alice", "bob", "carol"] {
        create_user(dir.path(), name, password);
    }
    let mut server = ServeProcess::spawn(&mut picket(dir.path()), free_port());
    server.wait_healthy().await;
    let http = crate::support::http();
    let base = server.base();
    // Two sessions and one API token for alice, one session each for bob and carol.
    let login = |name: &'static str| {
        let http = http.clone();
        let base = base.clone();
        async move {
            let response = http
                .post(format!("{base}/api/v1/auth/login"))
                .json(&json!({"username": name, "password": password}))
                .send()
                .await
                .expect("login");
            assert_eq!(response.status(), StatusCode::OK, "login {name}");
            response
                .headers()
                .get(reqwest::header::SET_COOKIE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .expect("session cookie")
                .to_owned()
        }
    };
    let alice = [login("alice").await, login("alice").await];
    let token = http
        .post(format!("{base}/api/v1/auth/tokens"))
        .header(reqwest::header::COOKIE, &alice[0])
        .json(&json!({"label": "extension"}))
        .send()
        .await
        .expect("create a token");
    assert_eq!(token.status(), StatusCode::CREATED);
    let token: serde_json::Value = token.json().await.expect("token JSON");
    let token = format!("Bearer {}", token["token"].as_str().expect("token"));
    let bob = login("bob").await;
    let carol = login("carol").await;
    let status_with = |header: reqwest::header::HeaderName, value: String| {
        let request = http
            .get(format!("{base}/api/v1/account"))
            .header(header, value);
        async move { request.send().await.expect("request").status() }
    };

    let revoke = picket_output(picket(dir.path()).args(["admin", "revoke-sessions", "Alice"]));
    let stderr = String::from_utf8_lossy(&revoke.stderr);
    assert!(revoke.status.success(), "{stderr}");
    assert!(
        stderr.contains("revoked 3 "),
        "two sessions and a token: {stderr}"
    );
    for credential in [&alice[0], &alice[1]] {
        assert_eq!(
            status_with(reqwest::header::COOKIE, credential.clone()).await,
            StatusCode::UNAUTHORIZED
        );
    }
    assert_eq!(
        status_with(reqwest::header::AUTHORIZATION, token).await,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        status_with(reqwest::header::COOKIE, bob.clone()).await,
        StatusCode::OK,
        "other accounts keep their sessions"
    );

    let unknown = picket_output(picket(dir.path()).args(["admin", "revoke-sessions", "nobody"]));
    assert_one_line_failure(&unknown, &["no account named nobody"]);

    let everyone = picket_output(picket(dir.path()).args(["admin", "revoke-sessions"]));
    let stderr = String::from_utf8_lossy(&everyone.stderr);
    assert!(everyone.status.success(), "{stderr}");
    assert!(
        stderr.contains("revoked 2 ") && stderr.contains("all accounts"),
        "{stderr}"
    );
    for credential in [bob, carol] {
        assert_eq!(
            status_with(reqwest::header::COOKIE, credential).await,
            StatusCode::UNAUTHORIZED
        );
    }
    let (status, output) = server.terminate();
    assert!(status.success(), "{status}: {output}");
}

#[test]
fn every_subcommand_has_help() {
    let dir = tempfile::tempdir().expect("tempdir");
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["admin", "--help"],
        vec!["admin", "create-user", "--help"],
        vec!["admin", "invite", "--help"],
        vec!["admin", "follow", "--help"],
        vec!["admin", "unfollow", "--help"],
        vec!["admin", "revoke-sessions", "--help"],
        vec!["admin", "move-domain", "--help"],
        vec!["admin", "federation", "--help"],
        vec!["admin", "users", "--help"],
        vec!["admin", "users", "list", "--help"],
        vec!["admin", "users", "set-role", "--help"],
        vec!["admin", "users", "reset-password", "--help"],
        vec!["doctor", "--help"],
        vec!["migrate-db", "--help"],
        vec!["backup", "--help"],
        vec!["restore", "--help"],
    ] {
        let output = picket_output(picket(dir.path()).args(&args));
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(output.status.success(), "{args:?}");
        assert!(stdout.contains("Usage: picket"), "{args:?}: {stdout}");
    }
    let migrate = picket_output(picket(dir.path()).arg("migrate"));
    assert!(
        migrate.status.success(),
        "{}",
        String::from_utf8_lossy(&migrate.stderr)
    );
    assert!(dir.path().join("data/picket.db").exists());
}

/// `--data-dir` and `--public-url` mean the same for every command, and the public URL an
/// instance was first served under is kept: a command given none uses it (a follow from the
/// command line is signed as the instance its peers know), and a start under another URL is
/// refused with both named, until the instance is moved on purpose.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instance_options_are_the_same_for_every_command() {
    use crate::federation::{domain, eventually, federating, follows};
    use picket_db::delivery::Direction;
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("collective");
    let port = free_port();
    let url = format!("http://localhost:{port}/");
    let federating_env = |command: &mut std::process::Command| {
        command
            .env("PICKET_FEDERATION_ALLOW_LOOPBACK", "true")
            .env("PICKET_LOG_FILTER", "error");
    };
    let mut first = picket(dir.path());
    first
        .arg("--data-dir")
        .arg(&data)
        .arg("--public-url")
        .arg(&url);
    federating_env(&mut first);
    let mut a = ServeProcess::spawn(&mut first, port);
    a.wait_healthy().await;

    // Options after the subcommand, beside the running server.
    let mut create = picket(dir.path());
    create
        .args(["admin", "create-user", "bob", "--data-dir"])
        .arg(&data);
    let output = create
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(b"a long worker password\n")?;
            child.wait_with_output()
        })
        .expect("run create-user");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let peer = federating(TestBackend::Sqlite).await;
    let mut follow = picket(dir.path());
    follow
        .args(["admin", "follow", &format!("instance@{}", domain(&peer))])
        .arg("--data-dir")
        .arg(&data);
    federating_env(&mut follow);
    let output = picket_output(&mut follow);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let actor = format!("{url}actor");
    eventually(
        "the peer accepts the follow, from the URL the instance was served under",
        || {
            let found = follows(&peer, Direction::Inbound)
                .iter()
                .any(|f| f.remote_actor == actor && f.is_accepted());
            async move { found }
        },
    )
    .await;
    assert!(
        !dir.path().join("data").exists(),
        "nothing went to the default ./data"
    );
    let (status, output) = a.terminate();
    assert!(status.success(), "{status}: {output}");

    let refused = picket_output(
        picket(dir.path())
            .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(&data)
            .args(["--public-url", "https://elsewhere.example/"]),
    );
    assert_one_line_failure(
        &refused,
        &[&url, "https://elsewhere.example/", "move-domain"],
    );
    let moved = picket_output(
        picket(dir.path())
            .args([
                "admin",
                "move-domain",
                "https://elsewhere.example/",
                "--data-dir",
            ])
            .arg(&data),
    );
    let said = String::from_utf8_lossy(&moved.stderr);
    assert!(moved.status.success(), "{said}");
    assert!(said.contains(&url), "names the old URL: {said}");
    let kept = picket_db::Db::open(&data.join("picket.db").to_string_lossy(), 1)
        .expect("open")
        .with_conn(picket_db::settings::public_url)
        .expect("read");
    assert_eq!(kept.as_deref(), Some("https://elsewhere.example/"));
    peer.stop().await;
}

/// The instance actor as peers see it: its id and public key.
async fn instance_actor(base: &str) -> (String, String) {
    let actor: serde_json::Value = crate::support::http()
        .get(format!("{base}/actor"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .expect("fetch the actor")
        .json()
        .await
        .expect("actor json");
    let id = actor["id"].as_str().expect("id").to_owned();
    let key = actor["publicKey"]["publicKeyPem"]
        .as_str()
        .expect("key")
        .to_owned();
    (id, key)
}

async fn logs_in(base: &str, username: &str, password: &str) -> StatusCode {
    crate::support::http()
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login")
        .status()
}

fn mode(path: &std::path::Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.permissions().mode() & 0o777)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// A backup taken while the server writes is private and complete: restored into an empty data
/// directory, the instance comes back under its URL with its keys and accounts. A backup never
/// overwrites a file and a restore never goes over a data directory in use.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_backup_taken_while_serving_restores_the_same_instance() {
    let old = tempfile::tempdir().expect("tempdir");
    let new = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut first = picket(old.path());
    first.args(["--public-url", &format!("http://localhost:{port}/")]);
    let mut server = ServeProcess::spawn(&mut first, port);
    server.wait_healthy().await;
    create_user(old.path(), "alice", "a long worker password");
    assert_eq!(
        logs_in(&server.base(), "alice", "a long worker password").await,
        StatusCode::OK
    );
    let before = instance_actor(&server.base()).await;

    let file = new.path().join("picket-backup.db");
    let backup = picket_output(picket(old.path()).arg("backup").arg(&file));
    let said = String::from_utf8_lossy(&backup.stderr);
    assert!(backup.status.success(), "{said}");
    assert!(said.contains("keep it private"), "{said}");
    assert_eq!(mode(&file), 0o600, "the backup holds keys: owner only");
    let again = picket_output(picket(old.path()).arg("backup").arg(&file));
    assert_one_line_failure(&again, &["exists", "never overwrites"]);
    let (status, output) = server.terminate();
    assert!(status.success(), "{status}: {output}");

    let over = picket_output(picket(old.path()).arg("restore").arg(&file));
    assert_one_line_failure(&over, &["not empty"]);
    let not_a_backup = new.path().join("notes.txt");
    std::fs::write(&not_a_backup, "these are not the rows you want\n").expect("write");
    let wrong = picket_output(
        picket(new.path())
            .args(["restore", "--data-dir", "elsewhere"])
            .arg(&not_a_backup),
    );
    assert_one_line_failure(&wrong, &["not a SQLite backup"]);

    let restore = picket_output(picket(new.path()).arg("restore").arg(&file));
    let said = String::from_utf8_lossy(&restore.stderr);
    assert!(restore.status.success(), "{said}");
    assert!(said.contains("restored 1 accounts"), "{said}");
    assert_eq!(mode(&new.path().join("data/picket.db")), 0o600);
    // Another port, no --public-url: the URL it was served under came back with it.
    let mut restored = ServeProcess::spawn(&mut picket(new.path()), free_port());
    restored.wait_healthy().await;
    assert_eq!(instance_actor(&restored.base()).await, before);
    assert_eq!(
        logs_in(&restored.base(), "alice", "a long worker password").await,
        StatusCode::OK
    );
    let (status, output) = restored.terminate();
    assert!(status.success(), "{status}: {output}");
}

/// The same drill on PostgreSQL, through `pg_dump` and `pg_restore`, into an empty database only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_backup_restores_into_an_empty_database_only() {
    let old = TestDb::new(TestBackend::Postgres);
    let new = TestDb::new(TestBackend::Postgres);
    let with_db = |db: &TestDb| {
        let mut command = picket(db.dir());
        command.env("DATABASE_URL", db.url());
        command
    };
    let port = free_port();
    let mut first = with_db(&old);
    first.args(["--public-url", &format!("http://localhost:{port}/")]);
    let mut server = ServeProcess::spawn(&mut first, port);
    server.wait_healthy().await;
    create_user_with(&mut with_db(&old), "alice", "a long worker password");
    let before = instance_actor(&server.base()).await;
    let file = new.dir().join("picket.dump");
    let backup = picket_output(with_db(&old).arg("backup").arg(&file));
    assert!(
        backup.status.success(),
        "{}",
        String::from_utf8_lossy(&backup.stderr)
    );
    assert_eq!(mode(&file), 0o600);
    let (status, output) = server.terminate();
    assert!(status.success(), "{status}: {output}");

    let over = picket_output(with_db(&old).arg("restore").arg(&file));
    assert_one_line_failure(&over, &["already has tables"]);
    let restore = picket_output(with_db(&new).arg("restore").arg(&file));
    let said = String::from_utf8_lossy(&restore.stderr);
    assert!(restore.status.success(), "{said}");
    assert!(said.contains("restored 1 accounts"), "{said}");
    let mut restored = ServeProcess::spawn(&mut with_db(&new), free_port());
    restored.wait_healthy().await;
    assert_eq!(instance_actor(&restored.base()).await, before);
    assert_eq!(
        logs_in(&restored.base(), "alice", "a long worker password").await,
        StatusCode::OK
    );
    let (status, output) = restored.terminate();
    assert!(status.success(), "{status}: {output}");
}

/// `picket migrate-db`: a served SQLite instance with accounts, a review, an incident and its
/// corroboration, and 2,000 seeded reviews moves to an empty PostgreSQL database. Served from
/// there it answers the same lookups, signs with the same key, lets the same people in, and
/// gives new rows fresh ids; a second move into the now full database is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn migrate_db_moves_a_sqlite_instance_to_postgres_whole() {
    use crate::reviews::{RID, review};
    use crate::support::Client;
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let mut first = picket(dir.path());
    first.args(["--public-url", &format!("http://localhost:{port}/")]);
    let mut server = ServeProcess::spawn(&mut first, port);
    server.wait_healthy().await;
    let password = "a long worker password";
    create_user(dir.path(), "alice", password);
    create_user(dir.path(), "bob", password);
    let alice = Client::new_at(&server.base())
        .login("alice", password)
        .await;
    let bob = Client::new_at(&server.base()).login("bob", password).await;
    assert_eq!(
        alice.post("/api/v1/reviews", review(100, 60)).await.0,
        StatusCode::CREATED
    );
    let (status, incident) = alice
        .post(
            "/api/v1/incidents",
            json!({"kind": "mass_rejection", "platform": "mturk", "requester_id": RID,
                   "requester_name": "Acme Research", "happened_from": "2026-11-02",
                   "description": "Every submission in the batch was rejected."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{incident}");
    let incident = incident["id"].as_str().expect("incident id").to_owned();
    let corroborations = format!("/api/v1/incidents/{incident}/corroborations");
    assert_eq!(
        bob.post(&corroborations, json!({})).await.0,
        StatusCode::CREATED
    );
    let sqlite = picket_db::Db::open(&dir.path().join("data/picket.db").to_string_lossy(), 1)
        .expect("open the served database");
    sqlite
        .with_conn(|conn| picket_test_support::seed::seed(conn, 200, 2_000, 7))
        .expect("seed");
    drop(sqlite);
    let lookup = format!("/requesters?rids={RID},ASEED0000000001,ASEED0000000199");
    let answers = |base: String| {
        let (lookup, incident) = (lookup.clone(), format!("/api/v1/incidents/{incident}"));
        async move {
            let client = Client::new_at(&base);
            let (s1, requesters) = client.get(&lookup).await;
            let (s2, incident) = client.get(&incident).await;
            assert_eq!((s1, s2), (StatusCode::OK, StatusCode::OK));
            (requesters, incident)
        }
    };
    let before = answers(server.base()).await;
    let actor = instance_actor(&server.base()).await;
    let (status, output) = server.terminate();
    assert!(status.success(), "{status}: {output}");

    let pg = TestDb::new(TestBackend::Postgres);
    let moved = picket_output(picket(dir.path()).args(["migrate-db", "--to", pg.url()]));
    let said = String::from_utf8_lossy(&moved.stderr);
    assert!(moved.status.success(), "{said}");
    assert!(said.contains("copied reviews: 2001 rows"), "{said}");
    assert!(said.contains("copied users: 2 rows"), "{said}");
    assert!(said.contains("row counts match"), "{said}");
    let again = picket_output(picket(dir.path()).args(["migrate-db", "--to", pg.url()]));
    assert_one_line_failure(&again, &["already holds rows", "nothing was kept"]);

    let mut on_pg = picket(dir.path());
    on_pg.env("DATABASE_URL", pg.url());
    let mut server = ServeProcess::spawn(&mut on_pg, port);
    server.wait_healthy().await;
    assert_eq!(answers(server.base()).await, before);
    assert_eq!(instance_actor(&server.base()).await, actor);
    let alice = Client::new_at(&server.base())
        .login("alice", password)
        .await;
    let (status, body) = alice
        .post(
            "/api/v1/incidents",
            json!({"kind": "withheld_earnings", "platform": "mturk", "requester_id": RID,
                   "requester_name": "Acme Research", "happened_from": "2026-11-20",
                   "description": "Approved, never paid."}),
        )
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "new ids follow the copied ones: {body}"
    );
    let bob = Client::new_at(&server.base()).login("bob", password).await;
    let (status, body) = bob.post("/api/v1/reviews", review(90, 60)).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "after 2,001 copied reviews: {body}"
    );
    let (status, output) = server.terminate();
    assert!(status.success(), "{status}: {output}");
}

/// Under systemd's `Type=notify`, `serve` says READY=1 once it answers, and STOPPING=1 on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_tells_systemd_when_it_is_ready_and_stopping() {
    let dir = tempfile::tempdir().expect("tempdir");
    let socket_path = dir.path().join("notify.sock");
    let socket = std::os::unix::net::UnixDatagram::bind(&socket_path).expect("bind notify socket");
    socket
        .set_read_timeout(Some(std::time::Duration::from_secs(30)))
        .expect("timeout");
    let port = free_port();
    let mut command = picket(dir.path());
    command.env("NOTIFY_SOCKET", &socket_path);
    let mut server = ServeProcess::spawn(&mut command, port);
    let mut message = [0u8; 256];
    let n = socket
        .recv(&mut message)
        .expect("a notification before 30 s");
    assert_eq!(&message[..n], b"READY=1\n", "{}", server.output());
    server.wait_healthy().await;
    let (status, output) = server.terminate();
    assert!(status.success(), "{output}");
    let n = socket.recv(&mut message).expect("a stopping notification");
    assert_eq!(&message[..n], b"STOPPING=1\n");
}

/// Accounts at the terminal: list them (by role), change a role, suspend, and hand an owner a
/// one-time reset link that sets a new password and ends every session.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_manages_users_and_resets_a_password_with_a_one_time_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let port = free_port();
    let url = format!("http://localhost:{port}/");
    let old = "the old long password";
    create_user(dir.path(), "alice", old);
    create_user(dir.path(), "root", "a long admin password");
    let list = |extra: &[&str]| {
        let output = picket_output(
            picket(dir.path())
                .args(["admin", "users", "list"])
                .args(extra),
        );
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8(output.stdout).expect("utf-8")
    };
    let all = list(&[]);
    assert!(
        all.lines()
            .any(|l| l.starts_with("alice\tworker\tactive\tsince ")),
        "{all}"
    );
    assert!(
        all.lines().any(|l| l.starts_with("root\tworker\tactive")),
        "{all}"
    );
    let set =
        picket_output(picket(dir.path()).args(["admin", "users", "set-role", "root", "admin"]));
    assert!(
        set.status.success(),
        "{}",
        String::from_utf8_lossy(&set.stderr)
    );
    assert_eq!(list(&["--role", "admin"]).lines().count(), 1);
    assert!(list(&["--role", "admin"]).starts_with("root\tadmin\t"));
    let unknown =
        picket_output(picket(dir.path()).args(["admin", "users", "set-role", "nobody", "admin"]));
    assert_one_line_failure(&unknown, &["no account named nobody"]);

    let mut server = ServeProcess::spawn(picket(dir.path()).args(["--public-url", &url]), port);
    server.wait_healthy().await;
    let base = server.base();
    assert_eq!(logs_in(&base, "alice", old).await, StatusCode::OK);
    let reset =
        picket_output(picket(dir.path()).args(["admin", "users", "reset-password", "alice"]));
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let link = String::from_utf8(reset.stdout)
        .expect("utf-8")
        .trim()
        .to_owned();
    let token = link
        .strip_prefix(&format!("{url}reset-password/"))
        .unwrap_or_else(|| panic!("a link under the kept public URL: {link}"))
        .to_owned();
    let http = crate::support::http();
    let page = http
        .get(format!("{base}/reset-password/{token}"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("open the link");
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.expect("html");
    assert!(
        html.contains("alice") && html.contains("new_password"),
        "{html}"
    );

    let post = |password: &'static str| {
        let (http, base, token) = (http.clone(), base.clone(), token.clone());
        async move {
            http.post(format!("{base}/api/v1/auth/password-reset"))
                .json(&json!({"token": token, "new_password": password}))
                .send()
                .await
                .expect("reset")
        }
    };
    let short = post("short").await;
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        post("a brand new password").await.status(),
        StatusCode::NO_CONTENT
    );
    assert_eq!(logs_in(&base, "alice", old).await, StatusCode::UNAUTHORIZED);
    assert_eq!(
        logs_in(&base, "alice", "a brand new password").await,
        StatusCode::OK
    );
    let again = post("yet another password").await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND, "the link works once");
    let gone = http
        .get(format!("{base}/reset-password/{token}"))
        .header("accept", "text/html")
        .send()
        .await
        .expect("open the used link");
    assert_eq!(gone.status(), StatusCode::NOT_FOUND);

    let suspend = picket_output(picket(dir.path()).args([
        "admin",
        "users",
        "suspend",
        "alice",
        "--reason",
        "Posted worker IDs",
    ]));
    assert!(
        suspend.status.success(),
        "{}",
        String::from_utf8_lossy(&suspend.stderr)
    );
    assert_ne!(
        logs_in(&base, "alice", "a brand new password").await,
        StatusCode::OK
    );
    assert!(
        list(&[])
            .lines()
            .any(|l| l.starts_with("alice\tworker\tsuspended"))
    );
    server.terminate();
}
