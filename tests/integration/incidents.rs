//! Incident reports, corroborations, waves and their notifications over the JSON API on both backends.

use picket_core::accounts::Role;
use picket_test_support::{TestBackend, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::reviews::RID;
use crate::support::{Client, TestServer, assert_error};

const PASSWORD: &str = "correct horse battery";

fn incident(day: &str) -> Value {
    json!({
        "kind": "mass_rejection",
        "platform": "mturk",
        "requester_id": RID,
        "requester_name": "Acme Research",
        "happened_from": day,
        "tasks_affected": 120,
        "amount_lost_minor": 3600,
        "message_received": "Did not follow instructions",
        "description": "Every submission in the batch was rejected within an hour."
    })
}

async fn incidents_corroborations_and_waves(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let bob = server.signed_in("bob", PASSWORD).await;
    let carol = server.signed_in("carol", PASSWORD).await;
    let anonymous = Client::new(&server);

    let (status, _) = carol
        .send(carol.request(
            Method::PUT,
            &format!("/api/v1/requesters/mturk/{RID}/follow"),
        ))
        .await;
    assert_eq!(
        status,
        StatusCode::NO_CONTENT,
        "following a requester nobody mentioned yet creates it"
    );

    let (status, first) = alice
        .post("/api/v1/incidents", incident("2026-11-02"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["status"], "open");
    assert_eq!(first["reversal_deadline"], "2026-12-02");
    assert_eq!(first["status_history"].as_array().map(Vec::len), Some(1));
    let id = first["id"].as_str().expect("id").to_owned();
    let (status, _) = carol
        .send(carol.request(
            Method::PUT,
            &format!("/api/v1/requesters/mturk/{RID}/follow"),
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // A second worker's report within the window forms a wave and notifies followers.
    let (status, _) = bob.post("/api/v1/incidents", incident("2026-11-10")).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["open_incidents"], 2);
    assert_eq!(page["waves"][0]["workers"], 2, "{page}");
    assert_eq!(page["waves"][0]["incidents"], 2);
    let (_, notes) = carol.get("/api/v1/notifications").await;
    let kinds: Vec<&str> = notes["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|n| n["kind"].as_str())
        .collect();
    // Carol followed before the first report too, so she heard of both reports and the wave.
    assert_eq!(kinds, ["wave", "incident", "incident"], "{notes}");

    // Corroboration: once per worker, never one's own.
    let corroborations = format!("/api/v1/incidents/{id}/corroborations");
    let (status, _) = carol
        .post(
            &corroborations,
            // Naming the incident's own requester by ID is not a worker ID.
            json!({"tasks_affected": 30, "amount_lost_minor": 900, "note": format!("Same here with {RID}")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_error(
        &carol.post(&corroborations, json!({})).await,
        StatusCode::CONFLICT,
        "already_corroborated",
    );
    assert_error(
        &alice.post(&corroborations, json!({})).await,
        StatusCode::CONFLICT,
        "wrong_state",
    );
    let (_, list) = anonymous.get(&corroborations).await;
    assert_eq!(list.as_array().map(Vec::len), Some(1));
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["waves"][0]["workers"], 3);
    // Withdrawing takes the worker out of the wave; a second withdrawal finds nothing.
    let mine = format!("{corroborations}/mine");
    assert_eq!(
        carol.delete(&mine, json!({})).await.0,
        StatusCode::NO_CONTENT
    );
    let (_, list) = anonymous.get(&corroborations).await;
    assert_eq!(list, json!([]));
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["waves"][0]["workers"], 2);
    assert_error(
        &carol.delete(&mine, json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_eq!(
        carol
            .post(&corroborations, json!({"note": "Same here"}))
            .await
            .0,
        StatusCode::CREATED
    );

    // Status changes: author or moderator, with history.
    let status_path = format!("/api/v1/incidents/{id}/status");
    assert_error(
        &bob.post(&status_path, json!({"status": "reversed"})).await,
        StatusCode::FORBIDDEN,
        "not_author",
    );
    let (status, changed) = alice
        .post(
            &status_path,
            json!({"status": "reversed", "note": "80 of 120 reversed"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["status"], "reversed");
    assert_eq!(changed["status_history"][1]["note"], "80 of 120 reversed");
    let unknown_word = alice.post(&status_path, json!({"status": "gone"})).await;
    assert_error(
        &unknown_word,
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_fields",
    );
    assert!(
        unknown_word.1["fields"]["status"].is_string(),
        "the field is named: {}",
        unknown_word.1
    );
    server.create_user("mod", Role::Moderator, PASSWORD).await;
    let moderator = anonymous.login("mod", PASSWORD).await;
    assert_eq!(
        moderator
            .post(&status_path, json!({"status": "open"}))
            .await
            .0,
        StatusCode::OK
    );

    // Validation: future dates, ranges, worker IDs in the message, evidence as digests only.
    let mut bad = incident("2099-01-01");
    bad["tasks_affected"] = json!(0);
    bad["evidence_digests"] = json!(["screenshot.png"]);
    bad["message_received"] = json!("Rejected worker A3KQ9ZP1X0WBTR");
    let result = alice.post("/api/v1/incidents", bad).await;
    assert_error(
        &result,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    for field in [
        "happened_from",
        "tasks_affected",
        "evidence_digests",
        "message_received",
    ] {
        assert!(
            result.1["fields"][field].is_string(),
            "{field}: {}",
            result.1
        );
    }
    let mut suspension = json!({"kind": "account_suspension", "platform": "mturk", "happened_from": "2026-11-01", "description": "Suspended with no reason"});
    let (status, body) = alice.post("/api/v1/incidents", suspension.clone()).await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "an incident without a requester: {body}"
    );
    assert_eq!(body["requester"], Value::Null);
    suspension["description"] = json!("edited");
    let path = format!("/api/v1/incidents/{}", body["id"].as_str().expect("id"));
    assert_eq!(
        bob.send(bob.request(Method::PUT, &path).json(&suspension))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let (status, edited) = alice
        .send(alice.request(Method::PUT, &path).json(&suspension))
        .await;
    assert_eq!(
        (status, edited["description"].as_str()),
        (StatusCode::OK, Some("edited"))
    );

    // Deletion by the author removes it from the requester page.
    assert_eq!(
        bob.delete(&format!("/api/v1/incidents/{id}"), json!({}))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        alice
            .delete(&format!("/api/v1/incidents/{id}"), json!({}))
            .await
            .0,
        StatusCode::NO_CONTENT
    );
    assert_error(
        &anonymous.get(&format!("/api/v1/incidents/{id}")).await,
        StatusCode::GONE,
        "deleted",
    );
    let (_, list) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}/incidents"))
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));
    server.stop().await;
}

both_backends!(incidents_corroborations_and_waves);
