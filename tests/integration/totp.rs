//! The second factor of moderators and admins: enrolment shown once, confirmation by a first code, login refused without a code, codes and recovery codes each usable once, workers refused, on both backends.

use std::time::{SystemTime, UNIX_EPOCH};

use picket_core::accounts::Role;
use picket_core::totp::code_at;
use picket_test_support::{TestBackend, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, TestServer, assert_error};

const PASSWORD: &str = "correct horse battery";

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
}

/// A six-digit code valid at none of the steps around `time`.
fn wrong_code(secret: &str, time: u64) -> String {
    let valid: Vec<String> = [time - 30, time, time + 30]
        .iter()
        .map(|t| code_at(secret, *t).expect("code"))
        .collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !valid.contains(c))
        .expect("a wrong code")
}

async fn login(anonymous: &Client, name: &str, totp: Option<&str>) -> (StatusCode, Value) {
    let mut body = json!({"username": name, "password": PASSWORD});
    if let Some(code) = totp {
        body["totp"] = json!(code);
    }
    anonymous.post("/api/v1/auth/login", body).await
}

async fn moderators_enrol_confirm_and_then_need_a_code(backend: TestBackend) {
    // This test signs in more often than the limiter allows a person; the next test checks it.
    let server = TestServer::start(backend, |c| c.accounts.login_attempts_per_minute = 100).await;
    server.create_user("mod", Role::Moderator, PASSWORD).await;
    server.create_user("worker", Role::Worker, PASSWORD).await;
    let anonymous = Client::new(&server);
    let worker = anonymous.login("worker", PASSWORD).await;
    assert_error(
        &worker
            .post("/api/v1/account/totp", json!({"password": PASSWORD}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let moderator = anonymous.login("mod", PASSWORD).await;
    assert_error(
        &moderator
            .post("/api/v1/account/totp", json!({"password": "not it"}))
            .await,
        StatusCode::FORBIDDEN,
        "wrong_password",
    );
    assert_error(
        &moderator
            .post("/api/v1/account/totp/confirm", json!({"code": "123456"}))
            .await,
        StatusCode::CONFLICT,
        "totp_not_enrolled",
    );
    let (status, enrolment) = moderator
        .post("/api/v1/account/totp", json!({"password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{enrolment}");
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    let uri = enrolment["otpauth_uri"].as_str().expect("uri");
    assert!(uri.starts_with("otpauth://totp/"), "{uri}");
    assert!(uri.contains(&format!("secret={secret}")), "{uri}");
    let recovery: Vec<String> = enrolment["recovery_codes"]
        .as_array()
        .expect("recovery codes")
        .iter()
        .map(|c| c.as_str().expect("code").to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    // Only digests are stored: neither the codes nor (beyond its own column) anything else leaks.
    let dump = server.db.dump_rows();
    for code in &recovery {
        assert!(
            !dump.contains(code.as_str()),
            "recovery code {code} stored in clear"
        );
    }

    // Until confirmed, login does not ask for a code.
    assert_eq!(login(&anonymous, "mod", None).await.0, StatusCode::OK);
    let time = unix_now();
    assert_error(
        &moderator
            .post(
                "/api/v1/account/totp/confirm",
                json!({"code": wrong_code(&secret, time)}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "totp_invalid",
    );
    let (status, body) = moderator
        .post(
            "/api/v1/account/totp/confirm",
            json!({"code": code_at(&secret, time).expect("code")}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_error(
        &moderator
            .post("/api/v1/account/totp", json!({"password": PASSWORD}))
            .await,
        StatusCode::CONFLICT,
        "totp_enabled",
    );

    assert_error(
        &login(&anonymous, "mod", None).await,
        StatusCode::UNAUTHORIZED,
        "totp_required",
    );
    assert_error(
        &login(&anonymous, "mod", Some(&wrong_code(&secret, time))).await,
        StatusCode::UNAUTHORIZED,
        "totp_invalid",
    );
    // The confirming code's step is used up; the next step's code works, once.
    let confirmed = code_at(&secret, time).expect("code");
    assert_error(
        &login(&anonymous, "mod", Some(&confirmed)).await,
        StatusCode::UNAUTHORIZED,
        "totp_invalid",
    );
    let next = code_at(&secret, time + 30).expect("code");
    let (status, body) = login(&anonymous, "mod", Some(&next)).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_error(
        &login(&anonymous, "mod", Some(&next)).await,
        StatusCode::UNAUTHORIZED,
        "totp_invalid",
    );

    // A recovery code works once; case and dashes do not matter.
    let (status, body) = login(&anonymous, "mod", Some(&recovery[0])).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_error(
        &login(&anonymous, "mod", Some(&recovery[0])).await,
        StatusCode::UNAUTHORIZED,
        "totp_invalid",
    );
    let typed = recovery[1].to_ascii_uppercase().replace('-', " ");
    assert_eq!(
        login(&anonymous, "mod", Some(&typed)).await.0,
        StatusCode::OK
    );

    // Disabling needs the password and a code.
    assert_error(
        &moderator
            .delete(
                "/api/v1/account/totp",
                json!({"password": PASSWORD, "code": recovery[0]}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "totp_invalid",
    );
    assert_error(
        &moderator
            .delete(
                "/api/v1/account/totp",
                json!({"password": "not it", "code": recovery[2]}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "wrong_password",
    );
    let (status, body) = moderator
        .delete(
            "/api/v1/account/totp",
            json!({"password": PASSWORD, "code": recovery[2]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    assert_eq!(login(&anonymous, "mod", None).await.0, StatusCode::OK);
    server.stop().await;
}

async fn wrong_codes_count_against_the_login_limiter(backend: TestBackend) {
    let server = TestServer::start(backend, |c| c.accounts.login_attempts_per_minute = 4).await;
    server.create_user("admin", Role::Admin, PASSWORD).await;
    let anonymous = Client::new(&server);
    let admin = anonymous.login("admin", PASSWORD).await;
    let (_, enrolment) = admin
        .post("/api/v1/account/totp", json!({"password": PASSWORD}))
        .await;
    let secret = enrolment["secret"].as_str().expect("secret").to_owned();
    let time = unix_now();
    let (status, _) = admin
        .post(
            "/api/v1/account/totp/confirm",
            json!({"code": code_at(&secret, time).expect("code")}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let wrong = wrong_code(&secret, time);
    for _ in 0..3 {
        assert_error(
            &login(&anonymous, "admin", Some(&wrong)).await,
            StatusCode::UNAUTHORIZED,
            "totp_invalid",
        );
    }
    assert_eq!(
        login(&anonymous, "admin", Some(&wrong)).await.0,
        StatusCode::TOO_MANY_REQUESTS,
        "the first login and three wrong codes use up the four attempts"
    );
    server.stop().await;
}

both_backends!(
    moderators_enrol_confirm_and_then_need_a_code,
    wrong_codes_count_against_the_login_limiter,
);
