//! Requester transparency: facts about who is behind a requester, each version kept with its author and sources, personal details refused, reported and removed like all content; and a fact edited on one instance shown, with its history, on another.

use picket_core::accounts::Role;
use picket_test_support::{TestBackend, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::federated_incidents::follow_instance;
use crate::federation::{PASSWORD, domain, eventually, federating};
use crate::reviews::{RID, review};
use crate::support::{Client, TestServer, assert_error};

fn facts_path() -> String {
    format!("/api/v1/requesters/mturk/{RID}/facts")
}

async fn put_facts(client: &Client, body: Value) -> (StatusCode, Value) {
    client
        .send(client.request(Method::PUT, &facts_path()).json(&body))
        .await
}

async fn facts(server: &TestServer) -> Value {
    let (status, body) = Client::new(server).get(&facts_path()).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The current value of `field`, if any.
fn current(facts: &Value, field: &str) -> Option<String> {
    facts["facts"]
        .as_array()?
        .iter()
        .find(|f| f["field"] == field)
        .and_then(|f| f["value"].as_str().map(str::to_owned))
}

/// Facts on one instance: versions with authors and sources, the newest shown, nothing new for
/// the same words, every refusal a worker can meet, and a moderator's removal bringing the
/// version before back.
async fn facts_have_a_history_and_keep_to_business_details(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let bob = server.signed_in("bob", PASSWORD).await;
    let anonymous = Client::new(&server);
    assert_error(
        &anonymous.get(&facts_path()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (status, _) = alice.post("/api/v1/reviews", review(300, 3600)).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(facts(&server).await, json!({"facts": [], "history": []}));

    let (status, first) = put_facts(
        &alice,
        json!({
            "organisation": {"value": "Acme Vision Lab", "sources": ["https://acme.example/about"]},
            "kind": {"value": "university_lab"},
            "purpose": {"value": "Training an image classifier for retail shelves."}
        }),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{first}");
    assert_eq!(first["facts"].as_array().map(Vec::len), Some(3), "{first}");
    assert_eq!(first["history"].as_array().map(Vec::len), Some(3));
    let (status, second) = put_facts(
        &bob,
        json!({"organisation": {"value": "Acme Retail Analytics Ltd", "sources": ["https://register.example/123"]}}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_eq!(
        current(&second, "organisation").as_deref(),
        Some("Acme Retail Analytics Ltd")
    );
    let history = second["history"].as_array().expect("history");
    assert_eq!(history.len(), 4);
    assert_eq!(history[0]["author"], "bob", "newest first: {second}");
    assert_eq!(
        history[0]["sources"],
        json!(["https://register.example/123"])
    );
    // The same words and sources again are no new version.
    let (_, again) = put_facts(
        &bob,
        json!({"organisation": {"value": " Acme Retail Analytics Ltd ", "sources": ["https://register.example/123"]}}),
    )
    .await;
    assert_eq!(again["history"].as_array().map(Vec::len), Some(4));
    let shown = facts(&server).await;
    let ids: Vec<String> = shown["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|v| v["id"].as_str().expect("id").to_owned())
        .collect();
    let replace: Vec<(&str, &str)> = ids
        .iter()
        .zip(["[v4]", "[v3]", "[v2]", "[v1]"])
        .map(|(id, name)| (id.as_str(), name))
        .collect();
    insta::assert_json_snapshot!(
        "requester_facts",
        crate::comments::normalised(shown, &replace)
    );

    // What a worker can get wrong, each with its own answer.
    for (body, field) in [
        (
            json!({"contact": {"value": "jane.doe@gmail.com"}}),
            "contact",
        ),
        (
            json!({"contact": {"value": "+1 (555) 010-7788"}}),
            "contact",
        ),
        (json!({"kind": {"value": "charity"}}), "kind"),
        (json!({"purpose": {"value": "  "}}), "purpose"),
        (
            json!({"purpose": {"value": "x", "sources": ["word of mouth"]}}),
            "purpose.sources",
        ),
        (json!({}), "facts"),
    ] {
        let refused = put_facts(&alice, body.clone()).await;
        assert_error(
            &refused,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert!(
            refused.1["fields"][field].is_string(),
            "{body}: {}",
            refused.1
        );
    }
    let personal = put_facts(&alice, json!({"contact": {"value": "jane.doe@gmail.com"}})).await;
    assert!(
        personal.1["fields"]["contact"]
            .as_str()
            .is_some_and(|m| m.contains("business details only")),
        "{}",
        personal.1
    );
    let stray = put_facts(&alice, json!({"colour": {"value": "red"}})).await;
    assert_eq!(stray.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", stray.1);
    assert_error(
        &put_facts(&anonymous, json!({"kind": {"value": "company"}})).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let (status, _) = alice
        .send(
            alice
                .request(Method::PUT, "/api/v1/requesters/mturk/A0000000000009/facts")
                .json(&json!({"kind": {"value": "company"}})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    // Reported and removed: the version before is the fact again; the history says why.
    let bobs = ids[0].clone();
    let (status, report) = alice
        .post(
            "/api/v1/reports",
            json!({"target_type": "fact", "target": bobs, "reason": "falsified"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    server.create_user("mona", Role::Moderator, PASSWORD).await;
    let moderator = Client::new(&server).login("mona", PASSWORD).await;
    let (status, queue) = moderator.get("/api/v1/moderation/reports").await;
    assert_eq!(status, StatusCode::OK);
    let report_id = queue["items"][0]["id"].as_str().expect("report").to_owned();
    let (status, resolved) = moderator
        .post(
            &format!("/api/v1/moderation/reports/{report_id}/resolution"),
            json!({"action": "remove", "reason": "The register lists another company"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    let shown = facts(&server).await;
    assert_eq!(
        current(&shown, "organisation").as_deref(),
        Some("Acme Vision Lab")
    );
    let removed = &shown["history"][0];
    assert_eq!(removed["state"], "removed", "{shown}");
    assert!(removed["value"].is_null(), "{removed}");
    assert_eq!(
        removed["removed_reason"],
        "The register lists another company"
    );
    server.stop().await;
}

both_backends!(facts_have_a_history_and_keep_to_business_details);

/// A fact edited on A shows on B, marked with A, with its history; A's removal reaches B's copy.
async fn a_fact_edit_on_one_instance_shows_on_another(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    follow_instance(&b, &a).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    let (status, _) = alice.post("/api/v1/reviews", review(300, 3600)).await;
    assert_eq!(status, StatusCode::CREATED);
    for value in ["Acme Vision Lab", "Acme Retail Analytics Ltd"] {
        let (status, body) = put_facts(
            &alice,
            json!({
                "organisation": {"value": value, "sources": ["https://register.example/123"]},
                "data_uses": {"value": "Sold as a labelled data set."}
            }),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    eventually("the facts reach B", || async {
        let (status, body) = Client::new(&b).get(&facts_path()).await;
        status == StatusCode::OK && body["history"].as_array().map(Vec::len) == Some(3)
    })
    .await;
    let on_b = facts(&b).await;
    assert_eq!(
        current(&on_b, "organisation").as_deref(),
        Some("Acme Retail Analytics Ltd"),
        "{on_b}"
    );
    assert_eq!(
        current(&on_b, "data_uses").as_deref(),
        Some("Sold as a labelled data set.")
    );
    for version in on_b["history"].as_array().expect("history") {
        assert_eq!(version["origin"], domain(&a), "{version}");
        assert!(version["author"].is_null(), "{version}");
        assert_eq!(version["remote_author"], format!("{}/u/alice", a.base));
    }
    assert!(
        on_b["history"]
            .as_array()
            .expect("history")
            .iter()
            .any(|v| v["value"] == "Acme Vision Lab"),
        "the first version is in the history: {on_b}"
    );
    // A new follower's backfill pages through them too.
    let page = crate::federation::activity_json(&a, "/actor/outbox?page=true&section=fact").await;
    assert_eq!(
        page["orderedItems"].as_array().map(Vec::len),
        Some(3),
        "{page}"
    );
    assert_eq!(
        page["orderedItems"][0]["object"]["picket:fact"]["field"],
        "organisation"
    );
    // What A serves and sends for a version: a Note about the requester feed.
    let on_a = facts(&a).await;
    let first = on_a["history"][0]["id"].as_str().expect("id").to_owned();
    let served = crate::federation::activity_json(&a, &format!("/facts/{first}")).await;
    insta::assert_json_snapshot!(
        "fact_note",
        crate::comments::normalised(
            served,
            &[
                (a.base.as_str(), "https://picket.example"),
                (first.as_str(), "[fact]")
            ]
        )
    );

    // A's moderator removes the newest organisation: B's copy follows.
    a.create_user("mona", Role::Moderator, PASSWORD).await;
    let moderator = Client::new(&a).login("mona", PASSWORD).await;
    let on_a = facts(&a).await;
    let newest = on_a["history"]
        .as_array()
        .expect("history")
        .iter()
        .find(|v| v["value"] == "Acme Retail Analytics Ltd")
        .expect("the newest organisation");
    let (status, report) = alice
        .post(
            "/api/v1/reports",
            json!({"target_type": "fact", "target": newest["id"], "reason": "falsified"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let (_, queue) = moderator.get("/api/v1/moderation/reports").await;
    let report_id = queue["items"][0]["id"].as_str().expect("report").to_owned();
    let (status, _) = moderator
        .post(
            &format!("/api/v1/moderation/reports/{report_id}/resolution"),
            json!({"action": "remove", "reason": "Not the same company"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    eventually("the removal reaches B", || async {
        current(&facts(&b).await, "organisation").as_deref() == Some("Acme Vision Lab")
    })
    .await;
    a.stop().await;
    b.stop().await;
}

both_backends!(a_fact_edit_on_one_instance_shows_on_another);
