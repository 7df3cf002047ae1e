//! Account flows over real HTTP on both backends: registration in each mode, sessions, tokens, password change, deletion.

use picket_core::accounts::{RegistrationMode, Role};
use picket_test_support::{TestBackend, both_backends};
use reqwest::StatusCode;
use serde_json::json;

use crate::support::{Client, TestServer, assert_error};

const PASSWORD: &str = "correct horse battery";

async fn open_registration_sessions_and_tokens(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let anonymous = Client::new(&server);

    let (status, body) = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "Alice", "password": PASSWORD, "email": "a@example.org"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body["username"], "alice");
    assert_eq!(body["role"], "worker");
    assert_eq!(body["status"], "active");
    assert!(body.get("password_hash").is_none(), "{body}");

    let taken = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "ALICE", "password": PASSWORD}),
        )
        .await;
    assert_error(&taken, StatusCode::CONFLICT, "username_taken");

    let invalid = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "a!", "password": "short", "email": "nope"}),
        )
        .await;
    assert_error(
        &invalid,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    for field in ["username", "password", "email"] {
        assert!(
            invalid.1["fields"][field].is_string(),
            "{field} explained: {}",
            invalid.1
        );
    }

    assert_error(
        &anonymous.get("/api/v1/account").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let wrong = anonymous
        .post(
            "/api/v1/auth/login",
            json!({"username": "alice", "password": "not the password"}),
        )
        .await;
    assert_error(&wrong, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let nobody = anonymous
        .post(
            "/api/v1/auth/login",
            json!({"username": "nobody", "password": PASSWORD}),
        )
        .await;
    assert_error(&nobody, StatusCode::UNAUTHORIZED, "invalid_credentials");

    let alice = anonymous.login("alice", PASSWORD).await;
    let (status, me) = alice.get("/api/v1/account").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["email"], "a@example.org");

    let (status, token) = alice
        .post("/api/v1/auth/tokens", json!({"label": "hit scraper"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{token}");
    let bearer = anonymous.with_token(token["token"].as_str().expect("token"));
    assert_eq!(bearer.get("/api/v1/account").await.1["username"], "alice");
    assert_error(
        &alice
            .post("/api/v1/auth/tokens", json!({"label": ""}))
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_error(
        &anonymous.with_token("forged").get("/api/v1/account").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );

    // Logging out revokes exactly the session that asked.
    let second = anonymous.login("alice", PASSWORD).await;
    let (status, _) = second.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(
        &second.get("/api/v1/account").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_eq!(alice.get("/api/v1/account").await.0, StatusCode::OK);
    assert_eq!(bearer.get("/api/v1/account").await.0, StatusCode::OK);
    server.stop().await;
}

async fn password_change_revokes_other_sessions(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let other = Client::new(&server).login("alice", PASSWORD).await;
    let (_, token) = alice
        .post("/api/v1/auth/tokens", json!({"label": "script"}))
        .await;
    let bearer = Client::new(&server).with_token(token["token"].as_str().expect("token"));

    let wrong = alice
        .post(
            "/api/v1/account/password",
            json!({"current_password": "not it at all", "new_password": "a brand new secret"}),
        )
        .await;
    assert_error(&wrong, StatusCode::FORBIDDEN, "wrong_password");
    let weak = alice
        .post(
            "/api/v1/account/password",
            json!({"current_password": PASSWORD, "new_password": "short"}),
        )
        .await;
    assert_error(&weak, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");

    let (status, _) = alice
        .post(
            "/api/v1/account/password",
            json!({"current_password": PASSWORD, "new_password": "a brand new secret"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        alice.get("/api/v1/account").await.0,
        StatusCode::OK,
        "the asking session stays"
    );
    assert_error(
        &other.get("/api/v1/account").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_error(
        &bearer.get("/api/v1/account").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let old = Client::new(&server)
        .post(
            "/api/v1/auth/login",
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_error(&old, StatusCode::UNAUTHORIZED, "invalid_credentials");
    Client::new(&server)
        .login("alice", "a brand new secret")
        .await;
    server.stop().await;
}

async fn account_deletion_keeps_the_name_reserved(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let wrong = alice
        .delete("/api/v1/account", json!({"password": "not the password"}))
        .await;
    assert_error(&wrong, StatusCode::FORBIDDEN, "wrong_password");
    let (status, _) = alice
        .delete("/api/v1/account", json!({"password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(
        &alice.get("/api/v1/account").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let anonymous = Client::new(&server);
    let login = anonymous
        .post(
            "/api/v1/auth/login",
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_error(&login, StatusCode::UNAUTHORIZED, "invalid_credentials");
    let again = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "alice", "password": PASSWORD}),
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "username_taken");
    server.stop().await;
}

async fn invite_mode_requires_a_single_use_code(backend: TestBackend) {
    let server = TestServer::start(backend, |c| {
        c.accounts.registration = RegistrationMode::Invite
    })
    .await;
    let anonymous = Client::new(&server);
    let without = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "bob", "password": PASSWORD}),
        )
        .await;
    assert_error(
        &without,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert!(without.1["fields"]["invite"].is_string(), "{}", without.1);
    let bogus = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "bob", "password": PASSWORD, "invite": "made-up"}),
        )
        .await;
    assert_error(
        &bogus,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );

    server.create_user("mod", Role::Moderator, PASSWORD).await;
    server.create_user("worker", Role::Worker, PASSWORD).await;
    let moderator = anonymous.login("mod", PASSWORD).await;
    let worker = anonymous.login("worker", PASSWORD).await;
    assert_error(
        &worker.post("/api/v1/invites", json!({})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, invite) = moderator.post("/api/v1/invites", json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{invite}");
    let code = invite["code"].as_str().expect("code");

    let (status, body) = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "bob", "password": PASSWORD, "invite": code}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let reused = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "carol", "password": PASSWORD, "invite": code}),
        )
        .await;
    assert_error(
        &reused,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    // The failed registration rolled back: the name is still free for a valid invite.
    let (_, second) = moderator.post("/api/v1/invites", json!({})).await;
    let (status, _) = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "carol", "password": PASSWORD, "invite": second["code"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    server.stop().await;
}

async fn approval_mode_holds_accounts_until_approved(backend: TestBackend) {
    let server = TestServer::start(backend, |c| {
        c.accounts.registration = RegistrationMode::Approval
    })
    .await;
    let anonymous = Client::new(&server);
    let (status, body) = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "dana", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["status"], "pending");
    let login = anonymous
        .post(
            "/api/v1/auth/login",
            json!({"username": "dana", "password": PASSWORD}),
        )
        .await;
    assert_error(&login, StatusCode::FORBIDDEN, "account_pending");
    server.stop().await;
}

async fn repeated_failed_logins_are_rate_limited(backend: TestBackend) {
    let server = TestServer::start(backend, |c| c.accounts.login_attempts_per_minute = 3).await;
    server.create_user("erin", Role::Worker, PASSWORD).await;
    let anonymous = Client::new(&server);
    let attempt = || {
        anonymous
            .request(reqwest::Method::POST, "/api/v1/auth/login")
            .json(&json!({"username": "erin", "password": "guess guess guess"}))
    };
    for _ in 0..3 {
        assert_error(
            &anonymous.send(attempt()).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        );
    }
    let response = attempt().send().await.expect("request");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(
        response
            .headers()
            .contains_key(reqwest::header::RETRY_AFTER)
    );
    let body: serde_json::Value = response.json().await.expect("json");
    assert_eq!(body["error"], "rate_limited");
    // The right password gets the same 429: a guesser learns nothing once the quota is spent.
    assert_error(
        &anonymous
            .post(
                "/api/v1/auth/login",
                json!({"username": "erin", "password": PASSWORD}),
            )
            .await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    server.stop().await;
}

/// Each invite's creator and user, and each report's reporter, as stored.
type Links = (Vec<(Option<i64>, Option<i64>)>, Vec<Option<i64>>);

/// Who made and used each invite, and who reported each report, as stored.
fn invite_and_report_links(server: &TestServer) -> Links {
    use diesel::prelude::*;
    use picket_db::schema::{invites, reports};
    let db = server.db.open();
    db.with_conn(|conn| {
        let invites = invites::table
            .select((invites::created_by, invites::used_by))
            .order(invites::id)
            .load(conn)?;
        let reports = reports::table
            .select(reports::reporter_id)
            .order(reports::id)
            .load(conn)?;
        Ok((invites, reports))
    })
    .expect("read invites and reports")
}

fn user_id(server: &TestServer, name: &str) -> i64 {
    let name = name.to_owned();
    server
        .db
        .open()
        .with_conn(move |conn| picket_db::users::by_username(conn, &name))
        .expect("the account exists")
        .id
}

async fn deleted_accounts_leave_no_invite_links_or_reporter(backend: TestBackend) {
    let server = TestServer::start(backend, |c| {
        c.accounts.registration = RegistrationMode::Invite
    })
    .await;
    server.create_user("mod", Role::Moderator, PASSWORD).await;
    server.create_user("worker", Role::Worker, PASSWORD).await;
    let anonymous = Client::new(&server);
    let moderator = anonymous.login("mod", PASSWORD).await;
    let (_, used) = moderator.post("/api/v1/invites", json!({})).await;
    let (_, unused) = moderator.post("/api/v1/invites", json!({})).await;
    let (status, _) = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "bob", "password": PASSWORD, "invite": used["code"]}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let bob = anonymous.login("bob", PASSWORD).await;
    let (status, report) = bob
        .post(
            "/api/v1/reports",
            json!({"target_type": "account", "target": "worker", "reason": "insults"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let (moderator_id, bob_id) = (user_id(&server, "mod"), user_id(&server, "bob"));
    assert_eq!(
        invite_and_report_links(&server),
        (
            vec![
                (Some(moderator_id), Some(bob_id)),
                (Some(moderator_id), None)
            ],
            vec![Some(bob_id)]
        ),
        "before: the links exist"
    );

    let (status, _) = bob
        .delete("/api/v1/account", json!({"password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        invite_and_report_links(&server),
        (
            vec![(Some(moderator_id), None), (Some(moderator_id), None)],
            vec![None]
        ),
        "the invitee and the open report's reporter are forgotten"
    );
    // The report stays in the queue for moderators.
    let (status, queue) = moderator.get("/api/v1/moderation/reports").await;
    assert_eq!(status, StatusCode::OK);
    assert!(queue.to_string().contains("worker"), "{queue}");

    let (status, _) = moderator
        .delete("/api/v1/account", json!({"password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        invite_and_report_links(&server),
        (vec![(None, None)], vec![None]),
        "the inviter is forgotten, and its unused invite is gone"
    );
    let (status, body) = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "carol", "password": PASSWORD, "invite": unused["code"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    // The used invite stays used, though it no longer names who used it.
    let (status, _) = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "carol", "password": PASSWORD, "invite": used["code"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    server.stop().await;
}

both_backends!(
    deleted_accounts_leave_no_invite_links_or_reporter,
    open_registration_sessions_and_tokens,
    password_change_revokes_other_sessions,
    account_deletion_keeps_the_name_reserved,
    invite_mode_requires_a_single_use_code,
    approval_mode_holds_accounts_until_approved,
    repeated_failed_logins_are_rate_limited,
);

async fn https_public_url_makes_cookies_secure(backend: TestBackend) {
    let server = TestServer::start(backend, |c| {
        c.server.public_url = Some("https://picket.example.org".parse().expect("url"));
    })
    .await;
    server.create_user("frank", Role::Worker, PASSWORD).await;
    let response = Client::new(&server)
        .request(reqwest::Method::POST, "/api/v1/auth/login")
        .json(&json!({"username": "frank", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(response.status(), StatusCode::OK);
    let cookie = response.headers()[reqwest::header::SET_COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    assert!(cookie.starts_with("__Host-picket_session="), "{cookie}");
    for attribute in ["Secure", "HttpOnly", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(attribute), "{attribute} in {cookie}");
    }
    let pair = cookie.split(';').next().expect("pair").to_owned();
    let (status, me) = Client::new(&server)
        .send(
            Client::new(&server)
                .request(reqwest::Method::GET, "/api/v1/account")
                .header(reqwest::header::COOKIE, pair),
        )
        .await;
    assert_eq!(
        (status, me["username"].as_str()),
        (StatusCode::OK, Some("frank"))
    );
    server.stop().await;
}

both_backends!(https_public_url_makes_cookies_secure);
