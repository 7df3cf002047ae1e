//! Incidents and corroborations across instances: an incident on A reaches its followers, a worker on B corroborates it, A counts it and passes it on, and every instance's waves count workers on several instances; withdrawal, status changes and deletion follow.

use picket_db::delivery::Direction;
use picket_test_support::{TestBackend, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::federation::{
    PASSWORD, activity_json, delivery_counts, domain, eventually, federating, follows,
};
use crate::reviews::RID;
use crate::support::{Client, TestServer};

/// `follower`'s instance follows `target`'s, and `target` accepts.
pub(crate) async fn follow_instance(follower: &TestServer, target: &TestServer) {
    picket_server::admin::follow(&follower.config, &format!("instance@{}", domain(target)))
        .await
        .expect("follow");
    let actor = format!("{}/actor", target.base);
    eventually("the follow is accepted", || async {
        follows(follower, Direction::Outbound)
            .iter()
            .any(|f| f.remote_actor == actor && f.is_accepted())
    })
    .await;
}

/// `method` (PUT or DELETE) on `path` as `client`: following and unfollowing.
async fn follow(client: &Client, method: Method, path: &str) -> (StatusCode, Value) {
    client.send(client.request(method, path)).await
}

/// The instance's incidents about the test requester.
async fn incidents_of(server: &TestServer) -> Vec<Value> {
    let (status, list) = Client::new(server)
        .get(&format!("/api/v1/requesters/mturk/{RID}/incidents"))
        .await;
    if status == StatusCode::NOT_FOUND {
        return Vec::new();
    }
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().cloned().expect("items")
}

/// Corroborations counted on the instance's first incident about the test requester.
async fn corroborations_on(server: &TestServer) -> Option<i64> {
    incidents_of(server)
        .await
        .first()
        .and_then(|i| i["corroborations"].as_i64())
}

async fn waves_of(server: &TestServer) -> Value {
    let (_, page) = Client::new(server)
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    page["waves"].clone()
}

async fn incidents_and_corroborations_federate(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let c = federating(backend).await;
    follow_instance(&b, &a).await;
    follow_instance(&c, &a).await;
    // Only followed instances count: A and C also follow B, whose worker corroborates.
    follow_instance(&a, &b).await;
    follow_instance(&c, &b).await;

    let alice = a.signed_in("alice", PASSWORD).await;
    let (status, created) = alice
        .post(
            "/api/v1/incidents",
            json!({
                "kind": "mass_rejection",
                "platform": "mturk",
                "requester_id": RID,
                "requester_name": "Acme Research",
                "happened_from": "2026-11-20",
                "tasks_affected": 120,
                "amount_lost_minor": 3600,
                "message_received": "Did not follow instructions",
                "description": "Every submission in the batch was rejected within an hour."
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();

    // Served at its id as a Page that Lemmy and Mastodon read and Picket understands.
    let page = activity_json(&a, &format!("/incidents/{id}")).await;
    assert_eq!(page["type"], "Page");
    assert_eq!(page["picket:kind"], "incident");
    assert_eq!(page["picket:status"], "open");
    assert_eq!(page["picket:incident"]["tasks_affected"], 120);
    assert_eq!(
        page["name"],
        "Mass rejection reported against Acme Research on MTurk: 120 tasks, $36.00 withheld"
    );
    assert_eq!(page["cc"], json!([format!("{}/r/mturk/{RID}", a.base)]));
    // The `picket:` prefix is defined by our own context, served at /ns.
    let ns = format!("{}/ns", a.base);
    assert_eq!(page["@context"][1], ns);
    let context: Value = crate::support::http_get(&ns)
        .await
        .expect("ns")
        .json()
        .await
        .expect("json");
    assert_eq!(context["@context"]["picket"], format!("{ns}#"));

    for follower in [&b, &c] {
        eventually("the incident reaches the followers", || async {
            incidents_of(follower).await.len() == 1
        })
        .await;
    }
    let copy = incidents_of(&b).await.remove(0);
    assert_eq!(copy["origin"], domain(&a));
    assert_eq!(copy["tasks_affected"], 120);
    assert_eq!(copy["message_received"], "Did not follow instructions");
    assert!(copy["author"].is_null(), "no local account wrote it");
    let on_b = copy["id"].as_str().expect("id").to_owned();
    let on_c = incidents_of(&c).await[0]["id"]
        .as_str()
        .expect("id")
        .to_owned();

    // Carol on C follows the requester; Bob on B corroborates A's incident.
    let carol = c.signed_in("carol", PASSWORD).await;
    let (status, _) = carol
        .send(carol.request(
            Method::PUT,
            &format!("/api/v1/requesters/mturk/{RID}/follow"),
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let bob = b.signed_in("bob", PASSWORD).await;
    let (status, corroboration) = bob
        .post(
            &format!("/api/v1/incidents/{on_b}/corroborations"),
            json!({"tasks_affected": 40, "note": "Same batch, same message."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{corroboration}");
    let note_id = corroboration["id"].as_str().expect("id").to_owned();
    let note = activity_json(&b, &format!("/corroborations/{note_id}")).await;
    assert_eq!(note["type"], "Note");
    assert_eq!(note["inReplyTo"], format!("{}/incidents/{id}", a.base));
    assert_eq!(note["attributedTo"], format!("{}/u/bob", b.base));
    assert_eq!(note["picket:corroboration"]["tasks_affected"], 40);

    // A, the incident's home, receives it; C, which follows only A, hears of it from A.
    for server in [&a, &c] {
        eventually("the corroboration is counted", || async {
            corroborations_on(server).await == Some(1)
        })
        .await;
        let waves = waves_of(server).await;
        assert_eq!(waves[0]["workers"], 2, "{waves}");
        assert_eq!(waves[0]["instances"], 2, "{waves}");
    }
    let (_, listed) = Client::new(&a)
        .get(&format!("/api/v1/incidents/{id}/corroborations"))
        .await;
    assert_eq!(listed[0]["origin"], domain(&b));
    assert_eq!(listed[0]["note"], "Same batch, same message.");
    assert!(listed[0]["author"].is_null());
    let (_, notes) = carol.get("/api/v1/notifications").await;
    let wave = notes["items"]
        .as_array()
        .and_then(|items| items.iter().find(|n| n["kind"] == "wave"))
        .unwrap_or_else(|| panic!("carol is told of the wave: {notes}"));
    assert!(
        wave["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("2 workers on 2 instances report mass rejections")),
        "{wave}"
    );

    // A withdrawal leaves every count: A's from B directly, C's through A.
    let (status, _) = bob
        .delete(
            &format!("/api/v1/incidents/{on_b}/corroborations/mine"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = crate::support::http()
        .get(format!("{}/corroborations/{note_id}", b.base))
        .header("accept", "application/activity+json")
        .send()
        .await
        .expect("fetch");
    assert_eq!(gone.status(), StatusCode::GONE);
    for server in [&a, &c] {
        eventually("the withdrawal is counted", || async {
            corroborations_on(server).await == Some(0)
        })
        .await;
    }

    // The author's status change and deletion reach both copies.
    let (status, _) = alice
        .post(
            &format!("/api/v1/incidents/{id}/status"),
            json!({"status": "reversed", "note": "The requester reversed them."}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for follower in [&b, &c] {
        eventually("the status change reaches the followers", || async {
            incidents_of(follower)
                .await
                .first()
                .is_some_and(|i| i["status"] == "reversed")
        })
        .await;
    }
    let (status, _) = alice
        .delete(&format!("/api/v1/incidents/{id}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for follower in [&b, &c] {
        eventually("the deletion reaches the followers", || async {
            incidents_of(follower).await.is_empty()
        })
        .await;
    }
    let (status, _) = Client::new(&c)
        .get(&format!("/api/v1/incidents/{on_c}"))
        .await;
    assert_eq!(status, StatusCode::GONE);
    for server in [&a, &b] {
        eventually("the queues drain", || async {
            delivery_counts(server)
                .iter()
                .all(|(state, _)| state == "delivered")
                && server
                    .db
                    .open()
                    .with_conn(|conn| {
                        picket_db::events::pending(conn, chrono::NaiveDateTime::MAX, 1)
                    })
                    .expect("events")
                    .is_empty()
        })
        .await;
    }
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

both_backends!(incidents_and_corroborations_federate);

/// The platform's incidents on `server`, newest first.
async fn platform_incidents(server: &TestServer) -> Vec<Value> {
    let (status, list) = Client::new(server)
        .get("/api/v1/platforms/mturk/incidents")
        .await;
    assert_eq!(status, StatusCode::OK, "{list}");
    list["items"].as_array().cloned().expect("items")
}

async fn platform_waves(server: &TestServer) -> Value {
    let (status, page) = Client::new(server).get("/api/v1/platforms/mturk").await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["waves"].clone()
}

/// A lock-out naming no requester, reported on A and corroborated on B and C, is one platform
/// wave of 3 workers on 3 instances on every instance, listed on the platform's page.
async fn a_platform_lock_out_makes_a_platform_wave_everywhere(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let c = federating(backend).await;
    for (follower, target) in [(&a, &b), (&a, &c), (&b, &a), (&b, &c), (&c, &a), (&c, &b)] {
        follow_instance(follower, target).await;
    }
    // Dana on C follows MTurk as a whole before anything happens.
    let dana = c.signed_in("dana", PASSWORD).await;
    let (status, body) = follow(&dana, Method::PUT, "/api/v1/platforms/mturk/follow").await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let (status, _) = follow(&dana, Method::PUT, "/api/v1/platforms/nowhere/follow").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, _) = follow(
        &Client::new(&c),
        Method::PUT,
        "/api/v1/platforms/mturk/follow",
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (_, page) = dana.get("/api/v1/platforms/mturk").await;
    assert_eq!(page["following"], true, "{page}");
    let alice = a.signed_in("alice", PASSWORD).await;
    let (status, created) = alice
        .post(
            "/api/v1/incidents",
            json!({
                "kind": "account_suspension",
                "platform": "mturk",
                "happened_from": chrono::Utc::now().date_naive().to_string(),
                "amount_lost_minor": 41_250,
                "message_received": "Your account has been suspended.",
                "description": "Locked out with my earnings in the account, no reason given."
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["requester"].is_null(), "{created}");
    assert_eq!(platform_incidents(&a).await.len(), 1);
    assert_eq!(platform_waves(&a).await, json!([]), "one worker is no wave");

    let mut workers = Vec::new();
    for (server, name) in [(&b, "bob"), (&c, "carol")] {
        eventually("the lock-out reaches the instance", || async {
            platform_incidents(server).await.len() == 1
        })
        .await;
        let copy = platform_incidents(server).await.remove(0);
        assert_eq!(copy["origin"], domain(&a));
        let id = copy["id"].as_str().expect("id").to_owned();
        let worker = server.signed_in(name, PASSWORD).await;
        let (status, body) = worker
            .post(
                &format!("/api/v1/incidents/{id}/corroborations"),
                json!({"note": "Locked out the same morning."}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        workers.push(worker);
    }
    for server in [&a, &b, &c] {
        eventually("every instance counts 3 workers on 3 instances", || async {
            let waves = platform_waves(server).await;
            waves[0]["workers"] == 3 && waves[0]["instances"] == 3
        })
        .await;
        let waves = platform_waves(server).await;
        assert_eq!(waves[0]["kind"], "account_suspension", "{waves}");
        assert_eq!(waves.as_array().map(Vec::len), Some(1), "{waves}");
    }
    // Dana heard of the report and of the wave it became, about MTurk, not a requester.
    eventually("C's follower of MTurk is told of the wave", || async {
        let (_, list) = dana.get("/api/v1/notifications").await;
        list["items"]
            .as_array()
            .is_some_and(|items| items.iter().any(|n| n["kind"] == "wave"))
    })
    .await;
    let (_, list) = dana.get("/api/v1/notifications").await;
    let items = list["items"].as_array().expect("items");
    let wave = items.iter().find(|n| n["kind"] == "wave").expect("a wave");
    assert_eq!(wave["platform"], "mturk", "{wave}");
    assert!(wave["requester"].is_null(), "{wave}");
    assert!(
        wave["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("MTurk account suspensions: ")),
        "{wave}"
    );
    assert!(
        items
            .iter()
            .any(|n| n["kind"] == "incident"
                && n["message"] == "Account suspension reported on MTurk"),
        "{list}"
    );
    let (status, _) = follow(&dana, Method::DELETE, "/api/v1/platforms/mturk/follow").await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = follow(&dana, Method::DELETE, "/api/v1/platforms/mturk/follow").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    // Requester pages and lists do not mix platform incidents in.
    let (status, _) = Client::new(&a)
        .get(&format!("/api/v1/requesters/mturk/{RID}/incidents"))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = Client::new(&a).get("/api/v1/platforms/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    assert_eq!(body["message"], "no such platform", "{body}");
    // Afterwards: the account came back, the money did not; every copy learns it.
    let id = created["id"].as_str().expect("id");
    let mut edit = created.clone();
    let update = json!({
        "kind": "account_suspension",
        "platform": "mturk",
        "happened_from": created["happened_from"],
        "amount_lost_minor": 41_250,
        "message_received": "Your account has been suspended.",
        "description": created["description"],
        "earnings_locked_minor": 41_250,
        "reinstated_on": chrono::Utc::now().date_naive().to_string(),
        "platform_answer": "After review we have restored your account."
    });
    let (status, edited) = alice
        .send(
            alice
                .request(Method::PUT, &format!("/api/v1/incidents/{id}"))
                .json(&update),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        edited["earnings_locked"], true,
        "an amount means locked: {edited}"
    );
    edit["reinstated_on"] = update["reinstated_on"].clone();
    for server in [&b, &c] {
        eventually("the aftermath reaches the copies", || async {
            platform_incidents(server).await[0]["reinstated_on"] == edit["reinstated_on"]
        })
        .await;
        let copy = platform_incidents(server).await.remove(0);
        assert_eq!(copy["earnings_locked_minor"], 41_250, "{copy}");
        assert_eq!(
            copy["platform_answer"],
            "After review we have restored your account."
        );
    }
    let (status, refused) = alice
        .send(
            alice
                .request(Method::PUT, &format!("/api/v1/incidents/{id}"))
                .json(&json!({
                    "kind": "account_suspension",
                    "platform": "mturk",
                    "happened_from": created["happened_from"],
                    "description": "x",
                    "reinstated_on": "2020-01-01"
                })),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    assert!(refused["fields"]["reinstated_on"].is_string(), "{refused}");
    let feed = crate::support::http_get(format!("{}/feeds/platforms/mturk", b.base))
        .await
        .expect("feed")
        .text()
        .await
        .expect("body");
    assert!(feed.contains("Account suspension on MTurk"), "{feed}");
    assert!(
        feed.contains(&format!("href=\"{}/incidents/", b.base)),
        "{feed}"
    );
    // The platform's page says it in words, on every instance.
    for server in [&a, &b, &c] {
        let page = crate::support::http()
            .get(format!("{}/platforms/mturk", server.base))
            .header("accept", "text/html")
            .send()
            .await
            .expect("page")
            .text()
            .await
            .expect("body");
        assert!(
            page.contains("MTurk account suspensions: 3 workers on 3 instances since"),
            "{page}"
        );
    }
    for s in [a, b, c] {
        s.stop().await;
    }
}

both_backends!(a_platform_lock_out_makes_a_platform_wave_everywhere);

/// A platform's feed is a fediverse `Group` (`platform.mturk@host`) that Mastodon and Lemmy
/// users follow: a lock-out reported here reaches its Lemmy follower as the group's announce,
/// and its outbox lists it.
async fn a_platform_feed_is_a_group_the_fediverse_follows(backend: TestBackend) {
    let a = federating(backend).await;
    let host = domain(&a);
    let (status, finger) = Client::new(&a)
        .get(&format!(
            "/.well-known/webfinger?resource=acct:platform.mturk@{host}"
        ))
        .await;
    assert_eq!(status, StatusCode::OK, "{finger}");
    assert!(
        finger["links"]
            .as_array()
            .expect("links")
            .iter()
            .any(|l| l["href"] == format!("{}/p/mturk", a.base)
                && l["type"] == "application/activity+json"),
        "{finger}"
    );
    let group = activity_json(&a, "/p/mturk").await;
    assert_eq!(group["type"], "Group", "{group}");
    assert_eq!(group["preferredUsername"], "platform.mturk");
    let (status, _) = Client::new(&a).get("/p/nowhere").await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let (sink_base, received) = crate::federation::sink().await;
    crate::federation::add_follower(
        &a,
        &format!("{sink_base}/lemmy"),
        "Person",
        "p/mturk",
        "lemmy",
    );
    let alice = a.signed_in("alice", PASSWORD).await;
    let (status, created) = alice
        .post(
            "/api/v1/incidents",
            json!({
                "kind": "account_suspension",
                "platform": "mturk",
                "happened_from": chrono::Utc::now().date_naive().to_string(),
                "description": "Locked out with my earnings in the account."
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    eventually("the group's follower gets the lock-out", || async {
        !received.lock().expect("sink").is_empty()
    })
    .await;
    let (_, announce) = received.lock().expect("sink")[0].clone();
    assert_eq!(announce["type"], "Announce", "{announce}");
    assert_eq!(announce["actor"], format!("{}/p/mturk", a.base));
    assert_eq!(announce["object"]["type"], "Create");
    assert_eq!(
        announce["object"]["object"]["id"],
        format!(
            "{}/incidents/{}",
            a.base,
            created["id"].as_str().expect("id")
        )
    );
    let outbox = activity_json(&a, "/p/mturk/outbox").await;
    assert_eq!(
        outbox["orderedItems"].as_array().map(Vec::len),
        Some(1),
        "{outbox}"
    );
    a.stop().await;
}

both_backends!(a_platform_feed_is_a_group_the_fediverse_follows);
