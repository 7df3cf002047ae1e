//! The files in `deploy/` checked by the tools that read them: the systemd unit by
//! `systemd-analyze verify`, the compose example by `docker-compose config`, and the nginx and
//! Caddy examples run for real in front of an instance (TLS, HSTS, compression of the lookups
//! and never of pages). Missing tools are installed from Debian's packages; a test skips, saying
//! why, only when that cannot be done.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use picket_test_support::TestBackend;
use reqwest::StatusCode;

use crate::support::{TestServer, free_port};

fn deploy_file(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../deploy")
        .join(name)
}

fn read_deploy(name: &str) -> String {
    std::fs::read_to_string(deploy_file(name)).unwrap_or_else(|e| panic!("deploy/{name}: {e}"))
}

/// One package installation at a time: dpkg takes a lock.
static APT: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// `command`, installing Debian's `package` when it is missing. `Err` says why it cannot be had.
fn tool(command: &str, package: &str) -> Result<(), String> {
    let found = |c: &str| {
        Command::new("sh")
            .args(["-c", &format!("command -v {c}")])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if found(command) {
        return Ok(());
    }
    let _one = APT
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if found(command) {
        return Ok(());
    }
    if !found("apt-get") {
        return Err(format!(
            "{command} is missing and there is no apt-get to install {package}"
        ));
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if !root {
        return Err(format!(
            "{command} is missing; install it with `sudo apt-get install {package}`"
        ));
    }
    let _ = Command::new("apt-get")
        .args(["update", "-qq"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let installed = Command::new("apt-get")
        .args(["install", "-y", "-qq", package])
        .env("DEBIAN_FRONTEND", "noninteractive")
        .stdout(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run apt-get: {e}"))?;
    if !installed.status.success() || !found(command) {
        return Err(format!(
            "apt-get install {package} failed: {}",
            String::from_utf8_lossy(&installed.stderr).trim()
        ));
    }
    Ok(())
}

/// Gets `command` or ends the test early, saying why on its output.
macro_rules! require {
    ($command:expr, $package:expr) => {
        if let Err(why) = tool($command, $package) {
            eprintln!("SKIPPED: {why}");
            return;
        }
    };
}

fn run(command: &mut Command) -> (bool, String) {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {command:?}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

#[test]
fn the_systemd_unit_passes_systemd_analyze_verify() {
    require!("systemd-analyze", "systemd");
    let dir = tempfile::tempdir().expect("tempdir");
    let unit = read_deploy("picket.service");
    assert!(unit.contains("Type=notify"), "readiness through sd-notify");
    // verify checks that ExecStart's program exists: point it at the one just built.
    let checked = dir.path().join("picket.service");
    std::fs::write(
        &checked,
        unit.replace("/usr/local/bin/picket", env!("CARGO_BIN_EXE_picket")),
    )
    .expect("write the unit");
    let (ok, said) = run(Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&checked));
    assert!(ok, "{said}");
    // Unknown settings are only warned about; a warning about the unit is a failure here.
    assert!(!said.contains("picket.service"), "{said}");

    let broken = dir.path().join("broken.service");
    std::fs::write(
        &broken,
        unit.replace("/usr/local/bin/picket", "/nonexistent/picket"),
    )
    .expect("write");
    let (ok, _) = run(Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&broken));
    assert!(!ok, "the check catches a broken unit");
}

#[test]
fn the_compose_example_is_valid_and_needs_its_secrets() {
    require!("docker-compose", "docker-compose");
    let file = deploy_file("compose.yaml");
    let (ok, said) = run(Command::new("docker-compose")
        .arg("-f")
        .arg(&file)
        .args(["config"])
        .env("POSTGRES_PASSWORD", "a long secret")
        .env("PICKET_PUBLIC_URL", "https://picket.example.org/"));
    assert!(ok, "{said}");
    assert!(
        said.contains("DATABASE_URL: postgres://picket:a long secret@postgres/picket")
            && said.contains("PICKET_SERVER_PUBLIC_URL: https://picket.example.org/")
            && said.contains("127.0.0.1:8080:8080"),
        "{said}"
    );
    let (ok, said) = run(Command::new("docker-compose")
        .arg("-f")
        .arg(&file)
        .arg("config")
        .env_remove("POSTGRES_PASSWORD")
        .env_remove("PICKET_PUBLIC_URL"));
    assert!(!ok && said.contains("set POSTGRES_PASSWORD"), "{said}");
}

/// A self-signed certificate for picket.example.org, in `dir`.
fn certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let (ok, said) = run(Command::new("openssl")
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
        ])
        .args(["-subj", "/CN=picket.example.org"])
        .args(["-addext", "subjectAltName=DNS:picket.example.org"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert));
    assert!(ok, "{said}");
    (cert, key)
}

/// A proxy process, stopped when dropped: with SIGTERM, so nginx's master takes its workers
/// along (SIGKILL would leave them running, holding the test's output open).
struct Proxy(std::process::Child);

impl Drop for Proxy {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// What the proxy on `port` answers for `path`, asked as picket.example.org over TLS.
async fn through_proxy(port: u16, path: &str) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .danger_accept_invalid_certs(true)
        .resolve(
            "picket.example.org",
            std::net::SocketAddr::from(([127, 0, 0, 1], port)),
        )
        .build()
        .expect("client");
    let url = format!("https://picket.example.org:{port}{path}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        match client
            .get(&url)
            .header("accept-encoding", "gzip")
            .header("accept", "text/html")
            .send()
            .await
        {
            Ok(response) => return response,
            Err(error) => {
                assert!(
                    std::time::Instant::now() < deadline,
                    "the proxy never answered {path}: {error}"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Through a proxy on `port` to `server`: HSTS everywhere; the Turkopticon lookups, the JSON API
/// and the stylesheet compressed; pages not.
async fn proxy_behaves(port: u16) {
    for (path, compressed) in [
        ("/api/v1/openapi.json", true),
        ("/static/picket.css", true),
        ("/requesters?rids=A1B2C3D4E5F6G7", false),
        ("/", false),
        ("/about", false),
    ] {
        let response = through_proxy(port, path).await;
        assert_eq!(response.status(), StatusCode::OK, "{path}");
        assert_eq!(
            response.headers()["strict-transport-security"],
            "max-age=31536000",
            "{path}"
        );
        let encoding = response.headers().get("content-encoding").cloned();
        if compressed {
            assert!(
                encoding.is_some_and(|e| e == "gzip" || e == "zstd"),
                "{path} is compressed"
            );
        } else {
            // The one-requester lookup is below the size worth compressing; pages never are.
            assert!(encoding.is_none(), "{path} is not compressed: {encoding:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_nginx_example_passes_nginx_t_and_serves_picket() {
    require!("nginx", "nginx-light");
    require!("openssl", "openssl");
    let server = TestServer::start(TestBackend::Sqlite, |_| {}).await;
    let upstream = server.base.rsplit(':').next().expect("port").to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let (cert, key) = certificate(dir.path());
    let (https, http) = (free_port(), free_port());
    let site = read_deploy("nginx.conf")
        .replace(
            "/etc/letsencrypt/live/picket.example.org/fullchain.pem",
            &cert.to_string_lossy(),
        )
        .replace(
            "/etc/letsencrypt/live/picket.example.org/privkey.pem",
            &key.to_string_lossy(),
        )
        .replace(
            "/var/log/nginx/picket-error.log",
            &dir.path().join("error.log").to_string_lossy(),
        )
        .replace("listen [::]:443 ssl;", "")
        .replace("listen [::]:80;", "")
        .replace("listen 443 ssl;", &format!("listen 127.0.0.1:{https} ssl;"))
        .replace("listen 80;", &format!("listen 127.0.0.1:{http};"))
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{upstream}"));
    std::fs::write(dir.path().join("picket.conf"), site).expect("write the site");
    let d = dir.path().display();
    std::fs::write(
        dir.path().join("nginx.conf"),
        format!(
            "pid {d}/nginx.pid;\nerror_log {d}/main-error.log;\nevents {{}}\nhttp {{\n  \
             client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n  \
             access_log off;\n  include {d}/picket.conf;\n}}\n"
        ),
    )
    .expect("write nginx.conf");
    let config = dir.path().join("nginx.conf");
    let (ok, said) = run(Command::new("nginx")
        .arg("-t")
        .arg("-c")
        .arg(&config)
        .arg("-p")
        .arg(dir.path()));
    assert!(ok && said.contains("test is successful"), "{said}");

    let nginx = Proxy(
        Command::new("nginx")
            .arg("-c")
            .arg(&config)
            .arg("-p")
            .arg(dir.path())
            .args(["-g", "daemon off;"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start nginx"),
    );
    proxy_behaves(https).await;
    drop(nginx);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_caddy_example_validates_and_serves_picket() {
    require!("caddy", "caddy");
    let server = TestServer::start(TestBackend::Sqlite, |_| {}).await;
    let upstream = server.base.rsplit(':').next().expect("port").to_owned();
    let dir = tempfile::tempdir().expect("tempdir");
    let caddy = |args: &[&str]| {
        let mut command = Command::new("caddy");
        command
            .args(args)
            .current_dir(dir.path())
            .env("HOME", dir.path())
            .env("XDG_DATA_HOME", dir.path().join("data"))
            .env("XDG_CONFIG_HOME", dir.path().join("config"));
        command
    };
    std::fs::write(dir.path().join("Caddyfile"), read_deploy("Caddyfile")).expect("write");
    let (ok, said) = run(&mut caddy(&[
        "validate",
        "--config",
        "Caddyfile",
        "--adapter",
        "caddyfile",
    ]));
    assert!(ok && said.contains("Valid configuration"), "{said}");
    assert!(
        !said.contains("not formatted"),
        "run `caddy fmt --overwrite deploy/Caddyfile`: {said}"
    );

    // The same file on this machine's ports, with Caddy's own local certificate authority.
    let https = free_port();
    let local = read_deploy("Caddyfile")
        .replacen(
            "{\n",
            &format!(
                "{{\n\tadmin off\n\tlocal_certs\n\tskip_install_trust\n\thttp_port {}\n\thttps_port {https}\n",
                free_port()
            ),
            1,
        )
        .replace("127.0.0.1:8080", &format!("127.0.0.1:{upstream}"));
    std::fs::write(dir.path().join("Caddyfile.local"), local).expect("write");
    let running = Proxy(
        caddy(&[
            "run",
            "--config",
            "Caddyfile.local",
            "--adapter",
            "caddyfile",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start caddy"),
    );
    proxy_behaves(https).await;
    drop(running);
    server.stop().await;
}
