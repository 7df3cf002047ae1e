//! Shared test plumbing: an in-process instance on a fresh database, a small JSON client, and helpers to run the `picket` executable.

use std::net::{SocketAddr, TcpListener};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use picket_core::accounts::{RegistrationMode, Role};
use picket_server::{Config, Running};
use picket_test_support::{TestBackend, TestDb};
use reqwest::StatusCode;
use serde_json::{Value, json};

/// An instance running inside the test process on its own fresh database.
pub struct TestServer {
    pub base: String,
    pub config: Config,
    pub db: TestDb,
    running: Option<Running>,
}

impl TestServer {
    pub async fn start(backend: TestBackend, tweak: impl FnOnce(&mut Config)) -> TestServer {
        let db = TestDb::new(backend);
        let mut config = Config::default();
        config.server.listen = SocketAddr::from(([127, 0, 0, 1], 0));
        config.server.data_dir = db.dir().to_owned();
        config.database.url = Some(db.url().to_owned());
        config.database.pool_size = 4;
        config.accounts.registration = RegistrationMode::Open;
        // Tests write much faster than people; the limits test sets its own.
        config.limits.writes_per_minute = 100_000;
        config.limits.registrations_per_minute = 100_000;
        tweak(&mut config);
        let running = picket_server::start(&config)
            .await
            .expect("start a test instance");
        let base = format!("http://localhost:{}", running.addr().port());
        // What the instance derived from the bound port, so admin helpers address it the same way.
        if config.server.public_url.is_none() {
            config.server.public_url = Some(format!("{base}/").parse().expect("public URL"));
        }
        TestServer {
            base,
            config,
            db,
            running: Some(running),
        }
    }

    /// Creates an active account directly, as `picket admin create-user` does.
    pub async fn create_user(&self, name: &str, role: Role, password: &str) {
        let (config, name, password) = (self.config.clone(), name.to_owned(), password.to_owned());
        tokio::task::spawn_blocking(move || {
            picket_server::admin::create_user(&config, &name, role, None, &password)
        })
        .await
        .expect("join")
        .expect("create a user");
    }

    /// Registers and signs in an account, returning a client that carries its session cookie.
    pub async fn signed_in(&self, name: &str, password: &str) -> Client {
        let anonymous = Client::new(self);
        let (status, _) = anonymous
            .post(
                "/api/v1/accounts",
                json!({"username": name, "password": password}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "register {name}");
        anonymous.login(name, password).await
    }

    /// Where the instance serves its metrics, when `metrics.listen` was set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.running.as_ref().and_then(Running::metrics_addr)
    }

    pub async fn stop(mut self) {
        if let Some(running) = self.running.take() {
            running.shutdown().await.expect("clean shutdown");
        }
    }
}

/// A JSON client for one instance, optionally carrying a credential (cookie or bearer token).
#[derive(Clone)]
pub struct Client {
    base: String,
    http: reqwest::Client,
    credential: Option<(reqwest::header::HeaderName, String)>,
}

impl Client {
    pub fn new(server: &TestServer) -> Client {
        Client {
            base: server.base.clone(),
            http: http(),
            credential: None,
        }
    }

    /// A client for a server known only by its base URL (a child process).
    pub fn new_at(base: &str) -> Client {
        Client {
            base: base.to_owned(),
            http: http(),
            credential: None,
        }
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client {
            credential: Some((reqwest::header::AUTHORIZATION, format!("Bearer {token}"))),
            ..self.clone()
        }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let builder = self.http.request(method, format!("{}{path}", self.base));
        match &self.credential {
            // A session cookie is what a browser on the instance's own pages holds, and such a
            // browser labels its writes with the page's origin, which the forgery guard checks.
            Some((name, value)) if name == reqwest::header::COOKIE => builder
                .header(name, value)
                .header(reqwest::header::ORIGIN, &self.base),
            Some((name, value)) => builder.header(name, value),
            None => builder,
        }
    }

    pub async fn send(&self, builder: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let response = builder.send().await.expect("request reaches the server");
        let status = response.status();
        let text = response.text().await.expect("read body");
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("body is JSON: {text}"))
        };
        (status, value)
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(reqwest::Method::POST, path).json(&body))
            .await
    }

    pub async fn delete(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.send(self.request(reqwest::Method::DELETE, path).json(&body))
            .await
    }

    /// Signs in and returns a client carrying the session cookie; asserts the cookie's attributes.
    pub async fn login(&self, name: &str, password: &str) -> Client {
        let response = self
            .request(reqwest::Method::POST, "/api/v1/auth/login")
            .json(&json!({"username": name, "password": password}))
            .send()
            .await
            .expect("login request");
        assert_eq!(response.status(), StatusCode::OK, "login as {name}");
        let set_cookie = response
            .headers()
            .get(reqwest::header::SET_COOKIE)
            .expect("login sets a cookie")
            .to_str()
            .expect("ascii cookie")
            .to_owned();
        assert!(set_cookie.contains("HttpOnly"), "{set_cookie}");
        assert!(set_cookie.contains("SameSite=Lax"), "{set_cookie}");
        let pair = set_cookie.split(';').next().expect("name=value").to_owned();
        Client {
            http: self.http.clone(),
            base: self.base.clone(),
            credential: Some((reqwest::header::COOKIE, pair)),
        }
    }
}

/// An HTTP client for tests; TLS needs a process-wide provider before any client is built.
pub fn http() -> reqwest::Client {
    picket_apub::install_tls();
    reqwest::Client::new()
}

/// `reqwest::get` through `http()`.
pub async fn http_get(url: impl reqwest::IntoUrl) -> reqwest::Result<reqwest::Response> {
    http().get(url).send().await
}

/// Asserts an error answer: status, our JSON shape, and the code.
pub fn assert_error(result: &(StatusCode, Value), status: StatusCode, code: &str) {
    assert_eq!(result.0, status, "body: {}", result.1);
    assert_eq!(result.1["error"], code, "body: {}", result.1);
    assert!(
        result.1["message"].as_str().is_some_and(|m| !m.is_empty()),
        "error has a message: {}",
        result.1
    );
}

/// A port that was free a moment ago, for child processes that must be told their port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind an ephemeral port")
        .port()
}

/// `picket` with the environment cleared of anything that would configure it, run in `dir`.
pub fn picket(dir: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_picket"));
    command.current_dir(dir);
    for (key, _) in std::env::vars() {
        if key.starts_with("PICKET_")
            || key == "DATABASE_URL"
            || key == "RUST_LOG"
            || key == "DANGER_FEDERATION_ALLOW_LOCAL_IP"
        {
            command.env_remove(key);
        }
    }
    command
}

/// Runs `picket` to completion with standard input closed.
pub fn picket_output(command: &mut Command) -> std::process::Output {
    command.stdin(Stdio::null()).output().expect("run picket")
}

/// A `picket serve` child process; killed if the test ends without stopping it. What it prints
/// goes to a log file beside its data, which a failing test can show (and a pipe nobody reads
/// can never fill up and stall it).
pub struct ServeProcess {
    child: Option<Child>,
    pub port: u16,
    log: std::path::PathBuf,
}

impl ServeProcess {
    pub fn spawn(command: &mut Command, port: u16) -> ServeProcess {
        let log = command
            .get_current_dir()
            .unwrap_or_else(|| Path::new("."))
            .join(format!("serve-{port}.log"));
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .expect("open the serve log");
        let child = command
            .arg("serve")
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(file.try_clone().expect("log file"))
            .stderr(file)
            .spawn()
            .expect("spawn picket serve");
        ServeProcess {
            child: Some(child),
            port,
            log,
        }
    }

    /// Everything the process (and earlier ones on the same port and directory) printed.
    pub fn output(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn base(&self) -> String {
        format!("http://localhost:{}", self.port)
    }

    /// Polls `/healthz` until it answers 200; returns how long that took.
    pub async fn wait_healthy(&mut self) -> Duration {
        let started = Instant::now();
        let client = http();
        loop {
            if let Ok(response) = client.get(format!("{}/healthz", self.base())).send().await
                && response.status() == StatusCode::OK
            {
                return started.elapsed();
            }
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!(
                    "picket serve exited early with {status}:\n{}",
                    self.output()
                );
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "picket serve never became healthy"
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Kills the process with SIGKILL, as a crash or an out-of-memory kill would: no shutdown runs.
    pub fn kill_9(mut self) {
        let mut child = self.child.take().expect("still running");
        child.kill().expect("kill -9");
        child.wait().expect("reap picket");
    }

    /// Sends SIGTERM and returns the exit status and everything the process printed.
    pub fn terminate(mut self) -> (std::process::ExitStatus, String) {
        let child = self.child.take().expect("still running");
        let pid = child.id().to_string();
        let killed = Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .expect("run kill");
        assert!(killed.success(), "kill -TERM {pid}");
        let output = child.wait_with_output().expect("wait for picket");
        (output.status, self.output())
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A TCP front on 127.0.0.1: each connection goes to the next of its upstream ports in turn,
/// skipping one that refuses (a load balancer over several `picket serve` processes), and with
/// `delay` each chunk a client sends waits that long first (a slow network to a peer).
pub struct TcpFront {
    pub port: u16,
    upstreams: std::sync::Arc<std::sync::Mutex<Vec<u16>>>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpFront {
    pub async fn start(delay: Duration) -> TcpFront {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the front");
        let port = listener.local_addr().expect("address").port();
        let upstreams = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u16>::new()));
        let shared = upstreams.clone();
        let task = tokio::spawn(async move {
            let mut turn = 0usize;
            while let Ok((client, _)) = listener.accept().await {
                let ports = shared.lock().expect("upstreams").clone();
                turn = turn.wrapping_add(1);
                tokio::spawn(async move {
                    for i in 0..ports.len() {
                        let port = ports[(turn + i) % ports.len()];
                        if let Ok(upstream) =
                            tokio::net::TcpStream::connect(("127.0.0.1", port)).await
                        {
                            pass(client, upstream, delay).await;
                            return;
                        }
                    }
                });
            }
        });
        TcpFront {
            port,
            upstreams,
            task,
        }
    }

    /// Where connections go from now on.
    pub fn route_to(&self, ports: &[u16]) {
        *self.upstreams.lock().expect("upstreams") = ports.to_vec();
    }

    pub fn url(&self) -> String {
        format!("http://localhost:{}/", self.port)
    }
}

impl Drop for TcpFront {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn pass(client: tokio::net::TcpStream, upstream: tokio::net::TcpStream, delay: Duration) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (mut client_read, mut client_write) = client.into_split();
    let (mut upstream_read, mut upstream_write) = upstream.into_split();
    let inbound = async move {
        let mut buffer = vec![0u8; 64 * 1024];
        loop {
            let n = match client_read.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            if upstream_write.write_all(&buffer[..n]).await.is_err() {
                break;
            }
        }
        let _ = upstream_write.shutdown().await;
    };
    let outbound = async move {
        let _ = tokio::io::copy(&mut upstream_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(inbound, outbound);
}
