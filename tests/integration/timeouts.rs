//! Slow and stalled clients cannot hold the server: header-read and request timeouts, the cap on requests in flight, and the bound on graceful shutdown.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use picket_test_support::TestBackend;
use reqwest::StatusCode;

use crate::support::{Client, ServeProcess, TestServer, free_port, picket};

/// Opens a raw connection and sends `bytes`, leaving the rest of the request unsent.
fn stalled_request(port: u16, bytes: &[u8]) -> TcpStream {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    stream.write_all(bytes).expect("send the first part");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("read timeout");
    stream
}

/// Reads until the server closes the connection; returns what it sent and when it closed.
fn read_until_closed(mut stream: TcpStream) -> (String, Instant) {
    let mut answer = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        match stream.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => answer.extend_from_slice(&buffer[..n]),
            Err(error) if error.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(error) => panic!("the server never closed the connection: {error}"),
        }
    }
    (
        String::from_utf8_lossy(&answer).into_owned(),
        Instant::now(),
    )
}

/// A half-sent login: headers complete, body promised but only begun.
const HALF_BODY: &[u8] = b"POST /api/v1/auth/login HTTP/1.1\r\nHost: localhost\r\n\
Content-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"username\":";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stalled_headers_are_disconnected_after_the_header_timeout() {
    let server = TestServer::start(TestBackend::Sqlite, |config| {
        config.server.header_read_timeout_seconds = 1;
    })
    .await;
    let port: u16 = server
        .base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let (status, _) = Client::new(&server).get("/healthz").await;
    assert_eq!(status, StatusCode::OK, "a normal request still works");

    let started = Instant::now();
    let partial = tokio::task::spawn_blocking(move || {
        let stream = stalled_request(port, b"GET /healthz HTTP/1.1\r\nHost: loc");
        read_until_closed(stream)
    });
    let (answer, closed) = partial.await.expect("join");
    let took = closed - started;
    assert!(
        took < Duration::from_secs(5),
        "disconnected after {took:?}, configured 1 s"
    );
    assert!(
        !answer.contains("200 OK"),
        "a partial request is not served: {answer}"
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_body_times_out_with_json() {
    let server = TestServer::start(TestBackend::Sqlite, |config| {
        config.server.request_timeout_seconds = 1;
    })
    .await;
    let port: u16 = server
        .base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    let started = Instant::now();
    let (answer, _) = tokio::task::spawn_blocking(move || {
        let mut stream = stalled_request(port, HALF_BODY);
        let mut buffer = [0u8; 4096];
        let n = stream
            .read(&mut buffer)
            .expect("an answer before the body ends");
        (String::from_utf8_lossy(&buffer[..n]).into_owned(), ())
    })
    .await
    .expect("join");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"error\":\"request_timeout\""), "{answer}");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_over_the_concurrency_cap_get_503_with_retry_after() {
    let server = TestServer::start(TestBackend::Sqlite, |config| {
        config.server.max_concurrent_requests = 1;
    })
    .await;
    let port: u16 = server
        .base
        .rsplit(':')
        .next()
        .and_then(|p| p.parse().ok())
        .expect("port");
    // One request holds the only permit while its body trickles in.
    let holder = tokio::task::spawn_blocking(move || stalled_request(port, HALF_BODY));
    let holder = holder.await.expect("join");
    let client = Client::new(&server);
    let mut refused = None;
    for _ in 0..50 {
        let response = client
            .request(reqwest::Method::GET, "/healthz")
            .send()
            .await
            .expect("request");
        if response.status() == StatusCode::SERVICE_UNAVAILABLE {
            refused = Some(response);
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let refused = refused.expect("a second request is refused while the first holds the permit");
    assert!(refused.headers().contains_key(reqwest::header::RETRY_AFTER));
    let body: serde_json::Value = refused.json().await.expect("JSON body");
    assert_eq!(body["error"], "overloaded", "{body}");
    drop(holder);
    // With the holder gone, requests are served again.
    let mut served = false;
    for _ in 0..50 {
        if client.get("/healthz").await.0 == StatusCode::OK {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(served, "served again once the permit is free");
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_sent_body_does_not_delay_shutdown_past_the_bound() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut command = picket(dir.path());
    command
        .env("PICKET_SERVER_SHUTDOWN_TIMEOUT_SECONDS", "1")
        // The request timeout must not be what ends the request.
        .env("PICKET_SERVER_REQUEST_TIMEOUT_SECONDS", "120");
    let port = free_port();
    let mut server = ServeProcess::spawn(&mut command, port);
    server.wait_healthy().await;
    let stream = stalled_request(port, HALF_BODY);
    // Let the server start reading the body, so the request is in flight.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let started = Instant::now();
    let (status, output) = tokio::task::spawn_blocking(move || server.terminate())
        .await
        .expect("join");
    let took = started.elapsed();
    drop(stream);
    assert!(status.success(), "{status}: {output}");
    assert!(
        took < Duration::from_secs(8),
        "exited {took:?} after SIGTERM with a 1 s bound\n{output}"
    );
    assert!(output.contains("cut off"), "{output}");
}
