//! Campaigns from a wave across three instances: opened on A from a requester wave, signed on B and C (counted on A once per worker, by instance, never by name), ready at its threshold everywhere, and its outcome, recorded by A's admins, shown on all three.

use picket_core::accounts::Role;
use picket_test_support::{TestBackend, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::federated_incidents::follow_instance;
use crate::federation::{PASSWORD, domain, eventually, federating};
use crate::reviews::RID;
use crate::support::{Client, TestServer, assert_error};

async fn campaigns_on(server: &TestServer) -> Vec<Value> {
    let (status, list) = Client::new(server)
        .get(&format!(
            "/api/v1/campaigns?platform=mturk&requester_id={RID}"
        ))
        .await;
    if status == StatusCode::NOT_FOUND {
        return Vec::new();
    }
    assert_eq!(status, StatusCode::OK, "{list}");
    list.as_array().cloned().expect("a list")
}

async fn a_campaign_reaches_its_threshold_across_instances(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let c = federating(backend).await;
    for (follower, target) in [(&a, &b), (&a, &c), (&b, &a), (&b, &c), (&c, &a), (&c, &b)] {
        follow_instance(follower, target).await;
    }
    // A wave on A: Alice's mass rejection, corroborated by Bob on B.
    let alice = a.signed_in("alice", PASSWORD).await;
    let (status, incident) = alice
        .post(
            "/api/v1/incidents",
            json!({
                "kind": "mass_rejection",
                "platform": "mturk",
                "requester_id": RID,
                "requester_name": "Acme Research",
                "happened_from": chrono::Utc::now().date_naive().to_string(),
                "tasks_affected": 120,
                "amount_lost_minor": 3600,
                "description": "Every submission in the batch was rejected within an hour."
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{incident}");
    let bob = b.signed_in("bob", PASSWORD).await;
    eventually("the incident reaches B", || async {
        let (_, list) = Client::new(&b)
            .get(&format!("/api/v1/requesters/mturk/{RID}/incidents"))
            .await;
        list["items"][0]["id"].is_string()
    })
    .await;
    let (_, list) = Client::new(&b)
        .get(&format!("/api/v1/requesters/mturk/{RID}/incidents"))
        .await;
    let copy = list["items"][0]["id"].as_str().expect("id").to_owned();
    let (status, body) = bob
        .post(
            &format!("/api/v1/incidents/{copy}/corroborations"),
            json!({"note": "All of mine too."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    eventually("A counts a wave", || async {
        let (_, page) = Client::new(&a)
            .get(&format!("/api/v1/requesters/mturk/{RID}"))
            .await;
        page["waves"].as_array().is_some_and(|w| w.len() == 1)
    })
    .await;
    let (_, page) = Client::new(&a)
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    let since = page["waves"][0]["since"]
        .as_str()
        .expect("since")
        .to_owned();

    let open = |since: &str, threshold: i64| {
        json!({
            "platform": "mturk",
            "requester_id": RID,
            "kind": "mass_rejection",
            "since": since,
            "demand": "reverse_rejections",
            "letter": "Batch 77 was rejected in full within an hour, with no reason given.",
            "threshold": threshold
        })
    };
    let no_wave = alice.post("/api/v1/campaigns", open("2020-01-01", 3)).await;
    assert_error(
        &no_wave,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert!(no_wave.1["fields"]["since"].is_string(), "{}", no_wave.1);
    let low = alice.post("/api/v1/campaigns", open(&since, 1)).await;
    assert_error(&low, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    assert!(low.1["fields"]["threshold"].is_string(), "{}", low.1);
    let (status, campaign) = alice.post("/api/v1/campaigns", open(&since, 3)).await;
    assert_eq!(status, StatusCode::CREATED, "{campaign}");
    assert_eq!(
        campaign["signatures"], 1,
        "its author signs first: {campaign}"
    );
    assert_eq!(campaign["ready"], false);
    assert_eq!(campaign["signed"], true);
    let id = campaign["id"].as_str().expect("id").to_owned();
    // The instance speaks for a campaign: nothing on the wire names who opened it.
    let page = crate::federation::activity_json(&a, &format!("/campaigns/{id}")).await;
    assert_eq!(page["attributedTo"], format!("{}/actor", a.base), "{page}");
    assert!(!page.to_string().contains("alice"), "{page}");

    // Bob on B and Carol on C sign their copies; each counts once, on A.
    let carol = c.signed_in("carol", PASSWORD).await;
    for (server, worker) in [(&b, &bob), (&c, &carol)] {
        eventually("the campaign reaches the instance", || async {
            campaigns_on(server).await.len() == 1
        })
        .await;
        let copy = campaigns_on(server).await.remove(0);
        assert_eq!(copy["origin"], domain(&a), "{copy}");
        let path = format!(
            "/api/v1/campaigns/{}/signatures",
            copy["id"].as_str().expect("id")
        );
        let (status, signed) = worker.post(&path, json!({})).await;
        assert_eq!(status, StatusCode::CREATED, "{signed}");
        assert_eq!(signed["signed"], true);
        assert_error(
            &worker.post(&path, json!({})).await,
            StatusCode::CONFLICT,
            "already_signed",
        );
    }
    let mut expected_counts: Vec<Value> = [&a, &b, &c]
        .iter()
        .map(|s| json!({"instance": domain(s), "signatures": 1}))
        .collect();
    expected_counts.sort_by_key(|v| v["instance"].as_str().map(str::to_owned));
    for server in [&a, &b, &c] {
        eventually("every instance shows the campaign ready", || async {
            campaigns_on(server)
                .await
                .first()
                .is_some_and(|c| c["ready"] == true && c["signatures"] == 3)
        })
        .await;
        let shown = campaigns_on(server).await.remove(0);
        assert_eq!(shown["counts"], json!(expected_counts), "{shown}");
    }
    // The letter gives the wave's figures and the counts, and names nobody.
    let (_, on_a) = Client::new(&a)
        .get(&format!("/api/v1/campaigns/{id}"))
        .await;
    let letter = on_a["letter_text"].as_str().expect("letter");
    assert!(
        letter.starts_with("To Acme Research (requester"),
        "{letter}"
    );
    assert!(
        letter.contains("We ask you to reverse the rejections."),
        "{letter}"
    );
    assert!(
        letter.contains("120 tasks affected, $36.00 lost"),
        "{letter}"
    );
    assert!(letter.contains("3 workers signed this letter"), "{letter}");
    for name in ["alice", "bob", "carol"] {
        assert!(!letter.contains(name), "{name} in {letter}");
    }

    // A's admin records the outcome; every instance shows it. Nobody else can.
    let outcome = json!({"outcome": "reversed", "on": chrono::Utc::now().date_naive().to_string()});
    let (status, _) = alice
        .send(
            alice
                .request(Method::PUT, &format!("/api/v1/campaigns/{id}/outcome"))
                .json(&outcome),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    b.create_user("root_b", Role::Admin, PASSWORD).await;
    let admin_b = Client::new(&b).login("root_b", PASSWORD).await;
    let copy_on_b = campaigns_on(&b).await.remove(0);
    let refused = admin_b
        .send(
            admin_b
                .request(
                    Method::PUT,
                    &format!(
                        "/api/v1/campaigns/{}/outcome",
                        copy_on_b["id"].as_str().expect("id")
                    ),
                )
                .json(&outcome),
        )
        .await;
    assert_error(&refused, StatusCode::CONFLICT, "wrong_state");
    a.create_user("root", Role::Admin, PASSWORD).await;
    let admin = Client::new(&a).login("root", PASSWORD).await;
    let (status, recorded) = admin
        .send(
            admin
                .request(Method::PUT, &format!("/api/v1/campaigns/{id}/outcome"))
                .json(&outcome),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{recorded}");
    assert_eq!(recorded["outcome"], "reversed");
    for server in [&a, &b, &c] {
        eventually("the outcome reaches every instance", || async {
            campaigns_on(server)
                .await
                .first()
                .is_some_and(|c| c["outcome"] == "reversed")
        })
        .await;
    }
    // The outcome shows with the wave: on the requester's page and on the incident's copy.
    let page_of = |server: &TestServer, path: String| {
        let url = format!("{}{path}", server.base);
        async move {
            crate::support::http()
                .get(url)
                .header("accept", "text/html")
                .send()
                .await
                .expect("page")
                .text()
                .await
                .expect("body")
        }
    };
    let requester_page = page_of(&c, format!("/r/mturk/{RID}")).await;
    assert!(
        requester_page.contains("the rejections were reversed"),
        "{requester_page}"
    );
    let incident_page = page_of(&b, format!("/incidents/{copy}")).await;
    assert!(
        incident_page.contains("the rejections were reversed"),
        "{incident_page}"
    );
    let dana = a.signed_in("dana", PASSWORD).await;
    assert_error(
        &dana
            .post(&format!("/api/v1/campaigns/{id}/signatures"), json!({}))
            .await,
        StatusCode::CONFLICT,
        "wrong_state",
    );
    for s in [a, b, c] {
        s.stop().await;
    }
}

both_backends!(a_campaign_reaches_its_threshold_across_instances);
