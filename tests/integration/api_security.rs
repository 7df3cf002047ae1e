//! Regressions of the security review: each test pins one fix (escaping, limits, visibility, headers, forgery, export) on real servers.

use picket_core::accounts::Role;
use picket_test_support::{TestBackend, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::reviews::{RID, review};
use crate::support::{Client, TestServer, assert_error};

const PASSWORD: &str = "correct horse battery";

/// A signed-in account of `role`, made directly as `picket admin create-user` does.
async fn with_role(server: &TestServer, name: &str, role: Role) -> Client {
    server.create_user(name, role, PASSWORD).await;
    Client::new(server).login(name, PASSWORD).await
}

fn incident() -> Value {
    json!({
        "kind": "mass_rejection",
        "platform": "mturk",
        "requester_id": RID,
        "requester_name": "Acme Research",
        "happened_from": "2024-01-02",
        "description": "Every submission in the batch was rejected."
    })
}

/// The field a 422 names, with its message.
fn field_error(result: &(StatusCode, Value), field: &str) -> String {
    assert_error(
        result,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    result.1["fields"][field]
        .as_str()
        .unwrap_or_else(|| panic!("a message for {field}: {}", result.1))
        .to_owned()
}

/// Requester names are printable and bounded, and no free text a worker or moderator writes
/// (requester names, status notes, reports, removal reasons) carries a worker ID or a
/// `workerId=` / `assignmentId=` URL parameter; the confirmation waives it only where it exists.
async fn worker_ids_and_bad_names_are_refused_everywhere(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let moderator = with_role(&server, "mod", Role::Moderator).await;
    let admin = with_role(&server, "boss", Role::Admin).await;

    // Requester names: the worker-ID guard, with its override, and the printable-text rule.
    let mut named = review(100, 60);
    named["requester_name"] = json!("Lab of A3KQ9ZP1X0WBTR");
    let message = field_error(
        &alice.post("/api/v1/reviews", named.clone()).await,
        "requester_name",
    );
    assert!(message.contains("confirm_no_worker_ids"), "{message}");
    named["confirm_no_worker_ids"] = json!(true);
    assert_eq!(
        alice.post("/api/v1/reviews", named).await.0,
        StatusCode::CREATED
    );
    for bad in ["Acme\u{1b}[2J", "Acme\nResearch", &"x".repeat(201)] {
        let mut named = review(100, 60);
        named["requester_name"] = json!(bad);
        field_error(
            &alice.post("/api/v1/reviews", named).await,
            "requester_name",
        );
        let mut reported = incident();
        reported["requester_name"] = json!(bad);
        field_error(
            &alice.post("/api/v1/incidents", reported).await,
            "requester_name",
        );
    }
    let csv = "requester_id,requester_name\nA2IMPORTED0001,Fine Lab\nA2IMPORTED0002,\"Bad\u{7}Lab\"\nA2IMPORTED0003,Lab A3KQ9ZP1X0WBTR\n";
    let (status, report) = admin
        .send(
            admin
                .request(reqwest::Method::POST, "/api/v1/admin/import")
                .header("content-type", "text/csv")
                .body(csv),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let lines: Vec<&Value> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| &e["line"])
        .collect();
    assert_eq!(lines, [&json!(3), &json!(4)], "{report}");

    // A task link with the worker's own identifiers, in a review's body.
    let mut linked = review(100, 60);
    linked["body"] =
        json!("https://worker.mturk.com/projects/X/tasks/Y?assignment_id=3Z&workerId=abc");
    let message = field_error(&alice.post("/api/v1/reviews", linked).await, "body");
    assert!(message.contains("workerId="), "{message}");

    // Inputs without an override refuse outright, and say nothing about one.
    let (status, created) = alice.post("/api/v1/incidents", incident()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id");
    let message = field_error(
        &alice
            .post(
                &format!("/api/v1/incidents/{id}/status"),
                json!({"status": "resolved", "note": "A3KQ9ZP1X0WBTR got paid"}),
            )
            .await,
        "note",
    );
    assert!(!message.contains("confirm_no_worker_ids"), "{message}");
    assert_eq!(
        alice
            .post(
                &format!("/api/v1/incidents/{id}/status"),
                json!({"status": "resolved", "note": format!("{RID} paid everyone")}),
            )
            .await
            .0,
        StatusCode::OK,
        "the incident's own requester may be named"
    );
    field_error(
        &alice
            .post(
                "/api/v1/reports",
                json!({"target_type": "incident", "target": id, "reason": "other",
                       "text": "it links ?assignmentId=3ABC&workerId=A3KQ9ZP1X0WBTR"}),
            )
            .await,
        "text",
    );
    field_error(
        &moderator
            .post(
                &format!("/api/v1/incidents/{id}/removal"),
                json!({"reason": "names A3KQ9ZP1X0WBTR"}),
            )
            .await,
        "reason",
    );
    server.stop().await;
}
both_backends!(worker_ids_and_bad_names_are_refused_everywhere);

/// `multi-attrs.php` stays `text/html` for the old userscripts, but nothing in it can become
/// markup: names are escaped (JSON still reads them), ids must be MTurk requester IDs, and the
/// CSP forbids scripts and framing.
async fn turkopticon_html_lookup_cannot_carry_markup(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let name = "<img src=x onerror=alert(1)> & Co";
    let mut named = review(100, 60);
    named["requester_name"] = json!(name);
    assert_eq!(
        alice.post("/api/v1/reviews", named).await.0,
        StatusCode::CREATED
    );
    let http = crate::support::http();
    let response = http
        .get(format!(
            "{}/api/multi-attrs.php?ids={},AUNKNOWN12345",
            server.base,
            RID.to_ascii_lowercase()
        ))
        .send()
        .await
        .expect("TO1");
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        response.headers()["content-type"],
        "text/html; charset=utf-8"
    );
    assert_eq!(
        response.headers()["content-security-policy"],
        "default-src 'none'; sandbox; frame-ancestors 'none'"
    );
    let body = response.text().await.expect("body");
    assert!(!body.contains(['<', '>', '&']), "{body}");
    assert!(body.contains("\\u003cimg"), "{body}");
    let parsed: Value = serde_json::from_str(&body).expect("still JSON");
    assert_eq!(parsed[RID.to_ascii_lowercase()]["name"], name, "{body}");
    assert_eq!(parsed["AUNKNOWN12345"], "");

    for bad in [
        "<script>alert(1)</script>",
        "A1B2C3D4E5,B123",
        "A1B2%3Cb%3E3C4D5",
    ] {
        let (status, error) = Client::new(&server)
            .get(&format!("/api/multi-attrs.php?ids={bad}"))
            .await;
        assert_error(&(status, error.clone()), StatusCode::BAD_REQUEST, "bad_ids");
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|m| m.contains("MTurk requester ID")),
            "{error}"
        );
    }
    server.stop().await;
}
both_backends!(turkopticon_html_lookup_cannot_carry_markup);

/// A review's history shows no more than its page: a removed copy of another instance's review
/// (which has no local author) only to moderators, and nothing from a blocked origin to the public.
async fn history_of_removed_and_hidden_copies_stays_private(backend: TestBackend) {
    use crate::federation::{domain, eventually, federating, reviews_counted};
    let a = federating(backend).await;
    let b = federating(backend).await;
    crate::federated_incidents::follow_instance(&a, &b).await;
    let bob = b.signed_in("bob", PASSWORD).await;
    for reward in [100, 200] {
        assert_eq!(
            bob.post("/api/v1/reviews", review(reward, 600)).await.0,
            StatusCode::CREATED
        );
    }
    eventually("A has both copies", || async {
        reviews_counted(&a).await == 2
    })
    .await;
    let anonymous = Client::new(&a);
    let (_, listed) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    let copies: Vec<String> = listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|r| r["id"].as_str().expect("id").to_owned())
        .collect();
    assert_eq!(copies.len(), 2, "{listed}");
    let history = |id: &str| format!("/api/v1/reviews/{id}/history");
    let moderator = with_role(&a, "mod", Role::Moderator).await;
    let alice = a.signed_in("alice", PASSWORD).await;

    assert_eq!(
        moderator
            .post(
                &format!("/api/v1/reviews/{}/removal", copies[0]),
                json!({"reason": "Insults"})
            )
            .await
            .0,
        StatusCode::OK
    );
    assert_error(
        &anonymous.get(&history(&copies[0])).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &alice.get(&history(&copies[0])).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(moderator.get(&history(&copies[0])).await.0, StatusCode::OK);
    assert_eq!(anonymous.get(&history(&copies[1])).await.0, StatusCode::OK);

    picket_server::admin::set_domain(
        &a.config,
        picket_server::admin::ListKind::Block,
        true,
        &domain(&b),
        "Spam",
    )
    .expect("block");
    assert_error(
        &anonymous.get(&history(&copies[1])).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(moderator.get(&history(&copies[1])).await.0, StatusCode::OK);
    a.stop().await;
    b.stop().await;
}
both_backends!(history_of_removed_and_hidden_copies_stays_private);

/// Following someone on another server is a write: it counts against the account's quota.
async fn remote_follows_are_under_the_write_quota(backend: TestBackend) {
    let server = TestServer::start(backend, |c| c.limits.writes_per_minute = 2).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    for _ in 0..2 {
        assert_error(
            &alice
                .post("/api/v1/account/remote-follows", json!({"target": " "}))
                .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
    }
    let response = alice
        .request(reqwest::Method::POST, "/api/v1/account/remote-follows")
        .json(&json!({"target": "someone@elsewhere.example"}))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));
    server.stop().await;
}
both_backends!(remote_follows_are_under_the_write_quota);

/// A worker's own-data export holds everything kept about them: notifications, follows on other
/// servers, API token labels and open reports, and never a token's secret or digest.
async fn own_data_export_is_complete_and_holds_no_secret(backend: TestBackend) {
    use crate::federation::{domain, federating};
    let a = federating(backend).await;
    let b = federating(backend).await;
    b.signed_in("carol", PASSWORD).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    let bob = a.signed_in("bob", PASSWORD).await;
    assert_eq!(
        bob.post("/api/v1/reviews", review(100, 60)).await.0,
        StatusCode::CREATED
    );
    let (status, _) = alice
        .send(alice.request(
            reqwest::Method::PUT,
            &format!("/api/v1/requesters/mturk/{RID}/follow"),
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, posted) = bob.post("/api/v1/reviews", review(200, 60)).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, token) = alice
        .post("/api/v1/auth/tokens", json!({"label": "my laptop"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let secret = token["token"].as_str().expect("secret").to_owned();
    let (status, _) = alice
        .post(
            "/api/v1/account/remote-follows",
            json!({"target": format!("carol@{}", domain(&b))}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = alice
        .post(
            "/api/v1/reports",
            json!({"target_type": "review", "target": posted["id"], "reason": "insults"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let response = alice
        .request(reqwest::Method::GET, "/api/v1/account/export")
        .send()
        .await
        .expect("export");
    assert_eq!(response.status(), StatusCode::OK);
    let text = response.text().await.expect("body");
    assert!(!text.contains(&secret), "the token's secret: {text}");
    assert!(
        !text.contains(&picket_core::secrets::secret_digest(&secret)),
        "the token's digest: {text}"
    );
    let data: Value = serde_json::from_str(&text).expect("JSON");
    assert_eq!(data["api_tokens"][0]["label"], "my laptop", "{data}");
    assert_eq!(data["api_tokens"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["notifications"][0]["requester"]["requester_id"], RID);
    assert_eq!(
        data["remote_follows"][0]["actor"],
        format!("{}/u/carol", b.base),
        "{data}"
    );
    assert_eq!(data["reports"][0]["target"], posted["id"], "{data}");
    assert_eq!(data["reports"][0]["reason"], "insults");
    a.stop().await;
    b.stop().await;
}
both_backends!(own_data_export_is_complete_and_holds_no_secret);

/// Every kind of answer carries the security headers: JSON, a feed, an error, a federation
/// route; a handler's own CSP (the HTML lookup) is kept.
async fn every_response_carries_security_headers(backend: TestBackend) {
    let server = crate::federation::federating(backend).await;
    let http = crate::support::http();
    for (path, accept) in [
        ("/api/v1/platforms", "application/json"),
        ("/feeds/modlog", "application/atom+xml"),
        ("/api/v1/no-such-thing", "application/json"),
        ("/actor", "application/activity+json"),
        ("/.well-known/nodeinfo", "application/json"),
        ("/api/multi-attrs.php?ids=A1B2C3D4E5", "text/html"),
    ] {
        let response = http
            .get(format!("{}{path}", server.base))
            .header("accept", accept)
            .send()
            .await
            .expect("request");
        let headers = response.headers();
        assert_eq!(headers["x-content-type-options"], "nosniff", "{path}");
        assert_eq!(headers["referrer-policy"], "same-origin", "{path}");
        let csp = headers["content-security-policy"].to_str().expect("ascii");
        if path.starts_with("/api/multi-attrs.php") {
            assert_eq!(csp, "default-src 'none'; sandbox; frame-ancestors 'none'");
        } else {
            assert_eq!(
                csp,
                "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
                "{path}"
            );
        }
        if path == "/api/v1/no-such-thing" {
            assert_eq!(response.status(), StatusCode::NOT_FOUND);
        } else {
            assert_eq!(response.status(), StatusCode::OK, "{path}");
        }
    }
    server.stop().await;
}
both_backends!(every_response_carries_security_headers);

/// Anonymous requests that cannot succeed cost no password hash: a login with an impossible
/// name and a registration with a bogus invite are refused at once, with a clear field error.
async fn impossible_logins_and_bogus_invites_are_refused_before_hashing(backend: TestBackend) {
    let server = TestServer::start(backend, |c| {
        c.accounts.registration = picket_core::accounts::RegistrationMode::Invite;
        c.limits.password_hashes = 1;
    })
    .await;
    let anonymous = Client::new(&server);
    let started = std::time::Instant::now();
    let long = anonymous
        .post(
            "/api/v1/auth/login",
            json!({"username": "a".repeat(10_000), "password": PASSWORD}),
        )
        .await;
    field_error(&long, "username");
    let bogus = anonymous
        .post(
            "/api/v1/accounts",
            json!({"username": "mallory", "password": PASSWORD, "invite": "not-a-real-code"}),
        )
        .await;
    assert!(field_error(&bogus, "invite").contains("unknown"));
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "no hash was computed"
    );
    server.stop().await;
}
both_backends!(impossible_logins_and_bogus_invites_are_refused_before_hashing);

/// A cross-site form cannot act with a signed-in worker's cookie: a form-like write is refused
/// with 403; the same write passes with JSON, with this instance's `Origin`, or with a token.
async fn cross_site_form_posts_are_refused(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    assert_eq!(
        alice.post("/api/v1/reviews", review(100, 60)).await.0,
        StatusCode::CREATED
    );
    let cookie = alice
        .request(reqwest::Method::GET, "/")
        .build()
        .expect("request")
        .headers()[reqwest::header::COOKIE]
        .to_str()
        .expect("ascii")
        .to_owned();
    let http = crate::support::http();
    let follow = format!("{}/api/v1/requesters/mturk/{RID}/follow", server.base);
    let rotate = format!("{}/api/v1/account/feed-token", server.base);
    // What a form on another site makes the browser send.
    let forged = |url: &str| {
        http.post(url)
            .header("cookie", &cookie)
            .header("origin", "https://evil.example")
            .header("sec-fetch-site", "cross-site")
            .header("content-type", "application/x-www-form-urlencoded")
            .body("a=1")
    };
    let refused = alice.send(forged(&rotate)).await;
    assert_error(&refused, StatusCode::FORBIDDEN, "cross_site_request");
    assert!(
        refused.1["message"]
            .as_str()
            .is_some_and(|m| m.contains("another site")),
        "{}",
        refused.1
    );
    assert_error(
        &alice
            .send(
                http.put(&follow)
                    .header("cookie", &cookie)
                    .header("content-type", "text/plain"),
            )
            .await,
        StatusCode::FORBIDDEN,
        "cross_site_request",
    );
    assert_error(
        &alice
            .send(
                http.post(format!("{}/api/v1/admin/import", server.base))
                    .header("cookie", &cookie)
                    .header("content-type", "text/plain")
                    .body("requester_id\nA1B2C3D4E5\n"),
            )
            .await,
        StatusCode::FORBIDDEN,
        "cross_site_request",
    );
    // The same requests as the instance's own pages or a script send them.
    let (status, _) = alice
        .send(
            http.put(&follow)
                .header("cookie", &cookie)
                .header("origin", &server.base),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = alice
        .send(
            http.post(&rotate)
                .header("cookie", &cookie)
                .header("content-type", "application/json"),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let (status, body) = alice
        .send(
            http.post(&rotate)
                .header("cookie", &cookie)
                .header("sec-fetch-site", "same-origin"),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    let (_, token) = alice
        .post("/api/v1/auth/tokens", json!({"label": "script"}))
        .await;
    let token = token["token"].as_str().expect("token");
    let (status, body) = alice
        .send(
            http.post(&rotate)
                .header("authorization", format!("Bearer {token}"))
                .header("origin", "https://evil.example"),
        )
        .await;
    assert!(
        status.is_success(),
        "a token is no ambient credential: {status} {body}"
    );
    server.stop().await;
}
both_backends!(cross_site_form_posts_are_refused);
