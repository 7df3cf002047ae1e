//! Tests that logins and registrations spend no password hash on input that cannot succeed, and answer 503 when every hashing turn is taken: they hold the turns directly, which only a unit test can.

use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use axum::response::Response;
use picket_core::accounts::RegistrationMode;
use picket_db::Db;
use serde_json::{Value, json};
use tower::ServiceExt;

use crate::{AppState, Settings};

fn settings() -> Settings {
    Settings {
        registration: RegistrationMode::Invite,
        secure_cookies: false,
        session_ttl: Duration::from_secs(3600),
        invite_ttl: Duration::from_secs(3600),
        login_attempts_per_minute: 100,
        public_url: "http://localhost:8080/".parse().expect("url"),
        wave_window_days: 7,
        writes_per_minute: 100,
        show_moderator_names: false,
        registrations_per_minute: 2,
        password_hash_concurrency: 1,
    }
}

async fn post(state: &AppState, path: &str, body: Value) -> (Response, Value) {
    let request = Request::post(path)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .expect("request");
    let response = crate::router(state.clone(), axum::Router::new(), std::convert::identity)
        .oneshot(request)
        .await
        .expect("infallible");
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 1 << 20).await.expect("body");
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (Response::from_parts(parts, Body::empty()), value)
}

#[tokio::test]
async fn hopeless_logins_and_registrations_never_wait_for_a_hash() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("picket.sqlite").display().to_string();
    let db = Db::open(&url, 2).expect("open SQLite");
    let state = AppState::new(db, settings());
    let held = state.hold_hashing();

    // A name no account can have: refused at once, although no hashing turn is free.
    let started = Instant::now();
    let (response, body) = post(
        &state,
        "/api/v1/auth/login",
        json!({"username": "a".repeat(10_000), "password": "whatever it is"}),
    )
    .await;
    assert_eq!(
        response.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "{body}"
    );
    assert!(body["fields"]["username"].is_string(), "{body}");
    assert!(
        started.elapsed() < Duration::from_millis(200),
        "no wait for a turn"
    );

    // A bogus invite: looked up and refused before any hash.
    let register =
        json!({"username": "mallory", "password": "correct horse battery", "invite": "bogus"});
    for _ in 0..2 {
        let (response, body) = post(&state, "/api/v1/accounts", register.clone()).await;
        assert_eq!(
            response.status(),
            StatusCode::UNPROCESSABLE_ENTITY,
            "{body}"
        );
        assert!(body["fields"]["invite"].is_string(), "{body}");
    }
    // The instance's registration quota (2 a minute here) is spent.
    let (response, body) = post(&state, "/api/v1/accounts", register).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS, "{body}");
    assert!(response.headers().contains_key(header::RETRY_AFTER));

    // A possible login must hash (the decoy, for an unknown name): no turn, so 503 to retry.
    let login = json!({"username": "nobody", "password": "whatever it is"});
    let (response, body) = post(&state, "/api/v1/auth/login", login.clone()).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["error"], "busy");
    assert!(response.headers().contains_key(header::RETRY_AFTER));

    drop(held);
    let (response, body) = post(&state, "/api/v1/auth/login", login).await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "{body}");
}
