//! The HTTP edge's error contract: every user-caused failure is JSON with the right status, and health reflects the database.

use picket_test_support::{TestBackend, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::support::{Client, TestServer, assert_error};

async fn bad_requests_get_json_errors(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let client = Client::new(&server);
    let send = |builder| client.send(builder);

    let malformed = send(
        client
            .request(Method::POST, "/api/v1/accounts")
            .header("content-type", "application/json")
            .body("{\"username\": "),
    )
    .await;
    assert_error(&malformed, StatusCode::BAD_REQUEST, "malformed_json");

    let missing_field = client
        .post("/api/v1/accounts", json!({"username": "x"}))
        .await;
    assert_error(
        &missing_field,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_fields",
    );

    let not_json = send(
        client
            .request(Method::POST, "/api/v1/accounts")
            .body("username=x"),
    )
    .await;
    assert_error(
        &not_json,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );

    let huge = send(
        client
            .request(Method::POST, "/api/v1/accounts")
            .header("content-type", "application/json")
            .body(format!("{{\"username\": \"{}\"}}", "a".repeat(100 * 1024))),
    )
    .await;
    assert_error(&huge, StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large");

    assert_error(
        &client.get("/no/such/page").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &send(client.request(Method::PUT, "/healthz")).await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    let (status, health) = client.get("/healthz").await;
    assert_eq!(
        (status, health["status"].as_str()),
        (StatusCode::OK, Some("ok"))
    );
    server.stop().await;
}

both_backends!(bad_requests_get_json_errors);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn healthz_reports_a_lost_postgres_database_as_503() {
    let server = TestServer::start(TestBackend::Postgres, |_| {}).await;
    let client = Client::new(&server);
    assert_eq!(client.get("/healthz").await.0, StatusCode::OK);
    server.db.drop_now();
    let response = client
        .request(reqwest::Method::GET, "/healthz")
        .send()
        .await
        .expect("healthz");
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        response.headers().contains_key("retry-after"),
        "every 503 says when to come back"
    );
    let (status, body) = client.get("/healthz").await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["status"], "unavailable");
    let (status, _) = client
        .post(
            "/api/v1/auth/login",
            json!({"username": "alice", "password": "whatever it is"}),
        )
        .await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
}
