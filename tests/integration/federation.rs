//! Federation discovery between real instances on loopback: WebFinger, NodeInfo, actors served as ActivityStreams JSON or HTML, and one instance fetching and storing another's actor.

use activitypub_federation::fetch::webfinger::webfinger_resolve_actor;
use picket_apub::{ApubActor, ApubData, FederationSettings};
use picket_db::delivery::Direction;
use picket_test_support::{TestBackend, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::reviews::{RID, review};
use crate::support::{Client, ServeProcess, TestServer, assert_error, free_port, picket};

pub(crate) const PASSWORD: &str = "correct horse battery";

pub(crate) async fn federating(backend: TestBackend) -> TestServer {
    // A delivery that fails once (a loaded runner, a busy SQLite) is retried within seconds,
    // not after the production minute that would outlast every `eventually`.
    TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.federation.retry_first_seconds = 1;
    })
    .await
}

pub(crate) fn domain(server: &TestServer) -> String {
    server.base.trim_start_matches("http://").to_owned()
}

pub(crate) async fn activity_json(server: &TestServer, path: &str) -> Value {
    let response = crate::support::http()
        .get(format!("{}{path}", server.base))
        .header("accept", "application/activity+json")
        .send()
        .await
        .expect("fetch");
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    assert_eq!(
        response.headers()["content-type"],
        "application/activity+json",
        "{path}"
    );
    response.json().await.expect("json")
}

async fn discovery_and_actors(backend: TestBackend) {
    let server = federating(backend).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    assert_eq!(
        alice.post("/api/v1/reviews", review(100, 60)).await.0,
        StatusCode::CREATED
    );
    let anonymous = Client::new(&server);
    let host = domain(&server);

    // WebFinger: the instance, a worker and a requester feed, each to its actor URL.
    let feed_handle = format!("mturk.{}", RID.to_lowercase());
    for (name, path, kind) in [
        ("instance", "/actor".to_owned(), "Application"),
        ("alice", "/u/alice".to_owned(), "Person"),
        (feed_handle.as_str(), format!("/r/mturk/{RID}"), "Group"),
    ] {
        let (status, finger) = anonymous
            .get(&format!(
                "/.well-known/webfinger?resource=acct:{name}@{host}"
            ))
            .await;
        assert_eq!(status, StatusCode::OK, "{name}: {finger}");
        assert_eq!(finger["subject"], format!("acct:{name}@{host}"));
        let this = finger["links"]
            .as_array()
            .expect("links")
            .iter()
            .find(|l| l["rel"] == "self")
            .expect("a self link");
        assert_eq!(this["type"], "application/activity+json");
        assert_eq!(this["href"], format!("{}{path}", server.base));
        assert_eq!(
            this["properties"]["https://www.w3.org/ns/activitystreams#type"],
            kind
        );
    }
    for resource in [
        format!("acct:nobody@{host}"),
        format!("acct:mturk.anotreviewed1@{host}"),
        "acct:alice@elsewhere.example".to_owned(),
    ] {
        assert_error(
            &anonymous
                .get(&format!("/.well-known/webfinger?resource={resource}"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
    assert_error(
        &anonymous.get("/.well-known/webfinger").await,
        StatusCode::BAD_REQUEST,
        "bad_request",
    );

    // The requester feed as ActivityStreams: a Group that accepts followers, with its own key.
    let feed = activity_json(&server, &format!("/r/mturk/{RID}")).await;
    let id = format!("{}/r/mturk/{RID}", server.base);
    assert_eq!(feed["type"], "Group");
    assert_eq!(feed["id"], id);
    assert_eq!(feed["preferredUsername"], feed_handle);
    assert_eq!(feed["name"], "Acme Research");
    assert_eq!(feed["manuallyApprovesFollowers"], false);
    assert_eq!(
        feed["@context"],
        json!([
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1"
        ])
    );
    assert_eq!(feed["publicKey"]["owner"], id);
    assert_eq!(feed["publicKey"]["id"], format!("{id}#main-key"));
    assert!(
        feed["publicKey"]["publicKeyPem"]
            .as_str()
            .is_some_and(|pem| pem.starts_with("-----BEGIN PUBLIC KEY-----"))
    );
    assert_eq!(
        feed["endpoints"]["sharedInbox"],
        format!("{}/inbox", server.base)
    );
    // The key is made once and kept.
    let again = activity_json(&server, &format!("/r/mturk/{RID}")).await;
    assert_eq!(again["publicKey"], feed["publicKey"]);

    // A worker's actor says nothing but the pseudonym.
    let person = activity_json(&server, "/u/alice").await;
    assert_eq!(person["type"], "Person");
    assert_eq!(person["preferredUsername"], "alice");
    let keys: Vec<&str> = person
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "@context",
            "type",
            "id",
            "preferredUsername",
            "inbox",
            "outbox",
            "followers",
            "following",
            "endpoints",
            "publicKey",
            "manuallyApprovesFollowers"
        ]
    );
    // Every collection an actor names answers, paged.
    for collection in ["outbox", "followers", "following"] {
        let whole = activity_json(&server, &format!("/u/alice/{collection}")).await;
        assert_eq!(whole["type"], "OrderedCollection", "{collection}: {whole}");
        let first = whole["first"].as_str().expect("first page");
        let path = &first[server.base.len()..];
        let page = activity_json(&server, path).await;
        assert_eq!(
            page["type"], "OrderedCollectionPage",
            "{collection}: {page}"
        );
    }
    for actor in ["/actor", &format!("/r/mturk/{RID}")] {
        for collection in ["followers", "following"] {
            let whole = activity_json(&server, &format!("{actor}/{collection}")).await;
            assert_eq!(whole["type"], "OrderedCollection");
        }
    }
    // A worker's outbox lists what they published.
    let outbox = activity_json(&server, "/u/alice/outbox?page=true&section=review").await;
    assert_eq!(
        outbox["orderedItems"].as_array().map(Vec::len),
        Some(1),
        "{outbox}"
    );
    let instance = activity_json(&server, "/actor").await;
    assert_eq!(instance["type"], "Application");
    assert_ne!(instance["publicKey"], feed["publicKey"]);

    // Browsers get a page at the same URL, with the name escaped.
    let page = crate::support::http()
        .get(format!("{}/r/mturk/{RID}", server.base))
        .header("accept", "text/html")
        .send()
        .await
        .expect("page");
    assert_eq!(page.status(), StatusCode::OK);
    assert_eq!(page.headers()["content-type"], "text/html; charset=utf-8");
    let html = page.text().await.expect("html");
    assert!(html.contains("<h1>Acme Research</h1>"), "{html}");
    assert!(
        html.contains(&format!("@{feed_handle}@localhost")),
        "{html}"
    );
    assert_error(
        &anonymous.get("/u/nobody").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // NodeInfo names the software and counts accounts.
    let (_, links) = anonymous.get("/.well-known/nodeinfo").await;
    assert_eq!(
        links["links"][0]["href"],
        format!("{}/nodeinfo/2.1", server.base)
    );
    let (_, info) = anonymous.get("/nodeinfo/2.1").await;
    assert_eq!(info["version"], "2.1");
    assert_eq!(info["software"]["name"], "picket");
    assert_eq!(info["protocols"], json!(["activitypub"]));
    assert_eq!(info["openRegistrations"], true);
    // One account, published rounded up to tens: an exact count tells who joined when.
    assert_eq!(info["usage"]["users"]["total"], 10);
    server.stop().await;
}

/// B resolves `mturk.<rid>@A` over real HTTP: WebFinger, then a signed fetch of the actor,
/// which B verifies and stores with A's key. Without `allow_loopback`, the same lookup is refused.
async fn an_instance_fetches_and_stores_another_instances_actor(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    assert_eq!(
        alice.post("/api/v1/reviews", review(100, 60)).await.0,
        StatusCode::CREATED
    );
    let served = activity_json(&a, &format!("/r/mturk/{RID}")).await;
    let handle = format!("mturk.{}@{}", RID.to_lowercase(), domain(&a));

    let b_data = |allow_loopback| {
        let db = b.db.open();
        let public_url = format!("{}/", b.base).parse().expect("url");
        async move {
            picket_apub::configure(
                ApubData {
                    db,
                    public_url,
                    open_registrations: true,
                    wave_window_days: 14,
                    delivery: Default::default(),
                    mode: Default::default(),
                    limits: picket_apub::FederationLimits::new(1_000_000),
                    http: picket_apub::http::Outgoing::new(allow_loopback).expect("client"),
                    metrics: Default::default(),
                },
                FederationSettings { allow_loopback },
            )
            .await
            .expect("federation config")
            .to_request_data()
        }
    };
    let data = b_data(true).await;
    let actor: ApubActor = webfinger_resolve_actor(&handle, &data)
        .await
        .expect("resolve A's requester feed");
    assert_eq!(actor.id.as_str(), served["id"]);
    assert_eq!(actor.name.as_deref(), Some("Acme Research"));
    assert_eq!(actor.public_key_pem, served["publicKey"]["publicKeyPem"]);
    assert_eq!(
        actor.shared_inbox.map(String::from),
        Some(format!("{}/inbox", a.base))
    );
    assert!(
        actor.private_key_pem.is_none(),
        "a remote actor carries no private key"
    );
    let url = actor.id.to_string();
    let stored = data
        .db
        .run(move |conn| picket_db::actors::remote(conn, &url))
        .await
        .expect("read")
        .expect("B stored A's actor");
    assert_eq!(stored.kind, "Group");
    assert_eq!(stored.inbox, format!("{}/r/mturk/{RID}/inbox", a.base));

    // https works: a fetch from a closed port fails to connect, not for want of TLS.
    let tls = activitypub_federation::fetch::object_id::ObjectId::<ApubActor>::parse(
        "https://localhost:9/actor",
    )
    .expect("url")
    .dereference(&data)
    .await
    .expect_err("nothing listens on port 9");
    assert!(format!("{tls:?}").contains("ConnectionRefused"), "{tls:?}");
    let strict = b_data(false).await;
    let refused = webfinger_resolve_actor::<ApubData, ApubActor>(
        &format!("instance@{}", domain(&a)),
        &strict,
    )
    .await;
    let error = refused.expect_err("a handle with a port needs allow_loopback");
    assert!(error.to_string().contains("domain"), "{error}");
    let fetched = activitypub_federation::fetch::object_id::ObjectId::<ApubActor>::parse(&format!(
        "{}/actor",
        a.base
    ))
    .expect("url")
    .dereference(&strict)
    .await;
    let error = fetched.expect_err("a plain-HTTP loopback actor needs allow_loopback");
    assert!(error.to_string().contains("Http urls"), "{error}");
    a.stop().await;
    b.stop().await;
}

both_backends!(
    discovery_and_actors,
    an_instance_fetches_and_stores_another_instances_actor
);

/// Polls `check` until it holds, failing after 60 s (a killed sender's leased deliveries wait
/// out their 15 s lease): federation is asynchronous by design.
pub(crate) async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Waits until `server` has turned every federation event into deliveries.
pub(crate) async fn events_handled(server: &TestServer, what: &str) {
    let db = server.db.open();
    eventually(what, || async {
        db.with_conn(|conn| picket_db::events::pending(conn, chrono::NaiveDateTime::MAX, 1))
            .expect("events")
            .is_empty()
    })
    .await;
}

pub(crate) fn follows(
    server: &TestServer,
    direction: Direction,
) -> Vec<picket_db::delivery::FollowRow> {
    server
        .db
        .open()
        .with_conn(|conn| picket_db::delivery::follows(conn, direction))
        .expect("follows")
}

pub(crate) fn delivery_counts(server: &TestServer) -> Vec<(String, i64)> {
    server
        .db
        .open()
        .with_conn(picket_db::delivery::counts)
        .expect("counts")
}

/// A follows B's instance actor: A queues a signed `Follow`, B records A and queues an `Accept`,
/// A marks its follow accepted. A redelivered `Follow` changes nothing on B, and an unfollow
/// reaches B too.
async fn instances_follow_accept_and_unfollow(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let b_instance = format!("{}/actor", b.base);
    let followed = picket_server::admin::follow(&a.config, &format!("instance@{}", domain(&b)))
        .await
        .expect("follow B");
    assert_eq!(followed.as_str(), b_instance);
    eventually("B accepts A", || async {
        follows(&a, Direction::Outbound)
            .first()
            .is_some_and(|f| f.is_accepted())
    })
    .await;
    let inbound = follows(&b, Direction::Inbound);
    assert_eq!(inbound.len(), 1);
    assert_eq!(inbound[0].local_actor, "actor");
    assert_eq!(inbound[0].remote_actor, format!("{}/actor", a.base));
    eventually("both queues drain", || async {
        delivery_counts(&a) == [("delivered".to_owned(), 1)]
            && delivery_counts(&b) == [("delivered".to_owned(), 1)]
    })
    .await;

    // A crash after sending but before recording it: the Follow goes out again. B acknowledges
    // it and applies nothing: still one follower, and no second Accept. (A delivered body is
    // blanked, so the crash is replayed with the body it still had then.)
    let follow_id = follows(&a, Direction::Outbound)[0]
        .follow_activity_id
        .clone();
    let follow_body = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Follow",
        "id": follow_id,
        "actor": format!("{}/actor", a.base),
        "object": b_instance,
    })
    .to_string();
    a.db.open()
        .with_conn(move |conn| {
            use diesel::prelude::*;
            diesel::update(picket_db::schema::outbox::table)
                .set(picket_db::schema::outbox::body.eq(&follow_body))
                .execute(conn)?;
            diesel::update(picket_db::schema::deliveries::table)
                .set(picket_db::schema::deliveries::state.eq("pending"))
                .execute(conn)?;
            Ok(())
        })
        .expect("reset the delivery");
    eventually("the Follow is sent again", || async {
        delivery_counts(&a) == [("delivered".to_owned(), 1)]
    })
    .await;
    assert_eq!(follows(&b, Direction::Inbound).len(), 1);
    assert_eq!(delivery_counts(&b), [("delivered".to_owned(), 1)]);

    picket_server::admin::unfollow(&a.config, &b_instance)
        .await
        .expect("unfollow B");
    assert!(follows(&a, Direction::Outbound).is_empty());
    eventually("B forgets A", || async {
        follows(&b, Direction::Inbound).is_empty()
    })
    .await;
    assert!(
        picket_server::admin::unfollow(&a.config, &b_instance)
            .await
            .is_err(),
        "unfollowing twice says there is nothing to undo"
    );
    // After the unfollow, B's new reviews no longer go to A.
    let bea = b.signed_in("bea", PASSWORD).await;
    assert_eq!(
        bea.post("/api/v1/reviews", review(100, 60)).await.0,
        StatusCode::CREATED
    );
    events_handled(&b, "B has handled the review's event").await;
    assert_eq!(
        delivery_counts(&b),
        [("delivered".to_owned(), 1)],
        "nothing but the old Accept was queued"
    );
    assert_eq!(reviews_counted(&a).await, 0);
    a.stop().await;
    b.stop().await;
}

both_backends!(instances_follow_accept_and_unfollow);

/// Number of published reviews an instance counts for the test requester.
pub(crate) async fn reviews_counted(server: &TestServer) -> i64 {
    let (status, page) = Client::new(server)
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    if status == StatusCode::NOT_FOUND {
        return 0;
    }
    page["aggregates"]["all"]["n"].as_i64().expect("n")
}

/// B and C follow A. A review written on A reaches both, is counted in their aggregates and
/// shown with its home instance; an edit on A changes their copies; a deletion on A removes
/// them from every aggregate.
async fn reviews_federate_to_following_instances(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let c = federating(backend).await;
    for follower in [&b, &c] {
        picket_server::admin::follow(&follower.config, &format!("instance@{}", domain(&a)))
            .await
            .expect("follow A");
    }
    eventually("A accepts B and C", || async {
        follows(&a, Direction::Inbound).len() == 2
            && [&b, &c].iter().all(|s| {
                follows(s, Direction::Outbound)
                    .first()
                    .is_some_and(|f| f.is_accepted())
            })
    })
    .await;

    // Bob on B follows the requester (B knows it from his draft) before anyone reviews it on A.
    let bob = b.signed_in("bob", PASSWORD).await;
    let mut draft = review(100, 60);
    draft["draft"] = json!(true);
    assert_eq!(
        bob.post("/api/v1/reviews", draft).await.0,
        StatusCode::CREATED
    );
    let (status, _) = bob
        .send(bob.request(
            reqwest::Method::PUT,
            &format!("/api/v1/requesters/mturk/{RID}/follow"),
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    let alice = a.signed_in("alice", PASSWORD).await;
    let (status, created) = alice.post("/api/v1/reviews", review(300, 3600)).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("id").to_owned();
    for follower in [&b, &c] {
        eventually("the review reaches the followers", || async {
            reviews_counted(follower).await == 1
        })
        .await;
    }
    let (_, list) = Client::new(&b)
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    let copy = &list["items"][0];
    assert_eq!(copy["origin"], domain(&a));
    assert_eq!(copy["reward_minor"], 300);
    assert_eq!(copy["body"], "Clear instructions, paid on time.");
    assert!(copy["author"].is_null(), "no local account wrote it");
    // The review is served at its id, as the Page every follower got.
    let page = activity_json(&a, &format!("/reviews/{id}")).await;
    assert_eq!(page["type"], "Page");
    assert_eq!(page["id"], format!("{}/reviews/{id}", a.base));
    assert_eq!(page["attributedTo"], format!("{}/u/alice", a.base));
    assert_eq!(
        page["to"],
        json!(["https://www.w3.org/ns/activitystreams#Public"])
    );
    assert_eq!(page["cc"], json!([format!("{}/r/mturk/{RID}", a.base)]));
    assert_eq!(
        page["name"],
        "Review of Acme Research on MTurk: $3.00/h, approved, recommends"
    );
    assert_eq!(page["content"], "<p>Clear instructions, paid on time.</p>");
    assert_eq!(page["picket:requesterId"], RID);
    assert_eq!(page["picket:review"]["reward_minor"], 300);
    let (_, notes) = bob.get("/api/v1/notifications").await;
    assert_eq!(notes["items"].as_array().map(Vec::len), Some(1), "{notes}");
    assert_eq!(notes["items"][0]["kind"], "review");

    // An edit on A replaces the copies.
    let mut edit = review(600, 3600);
    for key in ["platform", "requester_id", "requester_name"] {
        edit.as_object_mut().map(|o| o.remove(key));
    }
    let (status, _) = alice
        .send(
            alice
                .request(reqwest::Method::PUT, &format!("/api/v1/reviews/{id}"))
                .json(&edit),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for follower in [&b, &c] {
        eventually("the edit reaches the followers", || async {
            let (_, page) = Client::new(follower)
                .get(&format!("/api/v1/requesters/mturk/{RID}"))
                .await;
            page["aggregates"]["all"]["hourly"][0]["median_minor"] == 600
        })
        .await;
    }

    // A deletion on A leaves every aggregate.
    let (status, _) = alice
        .delete(&format!("/api/v1/reviews/{id}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let gone = crate::support::http()
        .get(format!("{}/reviews/{id}", a.base))
        .header("accept", "application/activity+json")
        .send()
        .await
        .expect("fetch");
    assert_eq!(gone.status(), StatusCode::GONE);
    let tombstone: Value = gone.json().await.expect("json");
    assert_eq!(tombstone["type"], "Tombstone");
    for follower in [&b, &c] {
        eventually("the deletion reaches the followers", || async {
            reviews_counted(follower).await == 0
        })
        .await;
    }
    eventually("A's queue drains", || async {
        delivery_counts(&a)
            .iter()
            .all(|(state, _)| state == "delivered")
    })
    .await;
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

both_backends!(reviews_federate_to_following_instances);

/// Workers follow across instances whose instances do not follow each other: Bob on B follows
/// the requester's feed on A, Dave on C follows Alice on A. Alice's next review reaches both
/// instances, and Bob, who now follows the requester on B too, is notified.
async fn workers_follow_feeds_and_workers_on_other_instances(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let c = federating(backend).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    // A knows the requester (and so serves its feed) once somebody reviews it there.
    assert_eq!(
        alice.post("/api/v1/reviews", review(100, 600)).await.0,
        StatusCode::CREATED
    );
    // Handled before anyone follows, so only the next review goes to the followers.
    events_handled(&a, "A has handled the first review's event").await;

    let bob = b.signed_in("bob", PASSWORD).await;
    let feed = format!("mturk.{}@{}", RID.to_lowercase(), domain(&a));
    let (status, followed) = bob
        .post("/api/v1/account/remote-follows", json!({"target": feed}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{followed}");
    assert_eq!(followed["actor"], format!("{}/r/mturk/{RID}", a.base));
    assert_eq!(followed["state"], "pending");
    assert_eq!(followed["requester"]["requester_id"], RID);
    assert_eq!(followed["requester"]["name"], "Acme Research");
    let dave = c.signed_in("dave", PASSWORD).await;
    let (status, followed) = dave
        .post(
            "/api/v1/account/remote-follows",
            json!({"target": format!("alice@{}", domain(&a))}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{followed}");
    assert!(
        followed.get("requester").is_none(),
        "a worker is no requester"
    );
    for worker in [&bob, &dave] {
        eventually("A accepts the follow", || async {
            worker.get("/api/v1/account/remote-follows").await.1[0]["state"] == "accepted"
        })
        .await;
    }

    assert_eq!(
        alice.post("/api/v1/reviews", review(200, 600)).await.0,
        StatusCode::CREATED
    );
    for follower in [&b, &c] {
        eventually("the new review reaches the follower's instance", || async {
            reviews_counted(follower).await == 1
        })
        .await;
    }
    let (_, notes) = bob.get("/api/v1/notifications").await;
    assert_eq!(notes["items"][0]["kind"], "review", "{notes}");

    // Mistakes get clear answers; unfollowing ends it.
    let (status, body) = bob
        .post(
            "/api/v1/account/remote-follows",
            json!({"target": format!("nobody@{}", domain(&a))}),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let blank = bob
        .post("/api/v1/account/remote-follows", json!({"target": " "}))
        .await;
    assert_error(
        &blank,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let (status, _) = bob
        .delete("/api/v1/account/remote-follows", json!({"target": feed}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(bob.get("/api/v1/account/remote-follows").await.1, json!([]));
    let again = bob
        .delete("/api/v1/account/remote-follows", json!({"target": feed}))
        .await;
    assert_error(&again, StatusCode::NOT_FOUND, "not_found");
    eventually("A forgets Bob's follow", || async {
        follows(&a, Direction::Inbound).len() == 1
    })
    .await;
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

both_backends!(workers_follow_feeds_and_workers_on_other_instances);

/// Builds A's federation data, to sign requests with A's instance key the way A would.
pub(crate) async fn signing_as(
    server: &TestServer,
) -> activitypub_federation::config::Data<ApubData> {
    picket_apub::configure(
        ApubData {
            db: server.db.open(),
            public_url: format!("{}/", server.base).parse().expect("url"),
            open_registrations: true,
            wave_window_days: 14,
            delivery: Default::default(),
            mode: Default::default(),
            limits: picket_apub::FederationLimits::new(1_000_000),
            http: picket_apub::http::Outgoing::new(true).expect("client"),
            metrics: Default::default(),
        },
        FederationSettings {
            allow_loopback: true,
        },
    )
    .await
    .expect("federation config")
    .to_request_data()
}

/// A request to `to`'s shared inbox signed by `from`'s instance actor over `signed`, carrying
/// `sent` as its body (the same bytes, or tampered ones).
pub(crate) async fn signed_post(
    from: &activitypub_federation::config::Data<ApubData>,
    to: &TestServer,
    signed: &str,
    sent: &str,
) -> StatusCode {
    signed_post_response(from, to, signed, sent).await.status()
}

/// `signed_post`, answering the whole response.
pub(crate) async fn signed_post_response(
    from: &activitypub_federation::config::Data<ApubData>,
    to: &TestServer,
    signed: &str,
    sent: &str,
) -> reqwest::Response {
    let http = crate::support::http();
    let builder = reqwest_middleware::ClientWithMiddleware::from(http.clone())
        .post(format!("{}/inbox", to.base))
        .header("content-type", "application/activity+json")
        .header("host", domain(to))
        .header(
            "date",
            chrono::Utc::now()
                .format("%a, %d %b %Y %H:%M:%S GMT")
                .to_string(),
        );
    let mut request = from
        .sign_request(builder, bytes::Bytes::from(signed.to_owned()))
        .await
        .expect("sign");
    *request.body_mut() = Some(sent.to_owned().into());
    http.execute(request).await.expect("post")
}

/// The inbox checks what it is sent: a valid signature over a tampered body is refused, an
/// unsigned or oversized post too; a correctly signed one is applied once, however often it
/// arrives.
async fn the_inbox_verifies_and_applies_once(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let a_data = signing_as(&a).await;
    let follow = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Follow",
        "id": format!("{}/activities/signed-follow", a.base),
        "actor": format!("{}/actor", a.base),
        "object": format!("{}/actor", b.base),
    })
    .to_string();
    let tampered = follow.replace("signed-follow", "other-follow");
    assert_eq!(
        signed_post(&a_data, &b, &follow, &tampered).await,
        StatusCode::BAD_REQUEST,
        "a signature over other bytes"
    );
    let unsigned = crate::support::http()
        .post(format!("{}/inbox", b.base))
        .header("content-type", "application/activity+json")
        .body(follow.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED, "no signature");
    let huge = crate::support::http()
        .post(format!("{}/inbox", b.base))
        .body(vec![b' '; picket_apub::MAX_INBOX_BYTES + 1])
        .send()
        .await
        .expect("post");
    assert_eq!(huge.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body: Value = huge.json().await.expect("a JSON error");
    assert_eq!(body["error"], "payload_too_large");
    assert!(follows(&b, Direction::Inbound).is_empty());

    for _ in 0..2 {
        assert_eq!(
            signed_post(&a_data, &b, &follow, &follow).await,
            StatusCode::ACCEPTED
        );
    }
    assert_eq!(follows(&b, Direction::Inbound).len(), 1);
    eventually("B sends one Accept", || async {
        delivery_counts(&b) == [("delivered".to_owned(), 1)]
    })
    .await;

    // What is not handled yet (a Lemmy vote) is acknowledged, so the sender does not retry it.
    let like = json!({
        "@context": "https://join-lemmy.org/context.json",
        "type": "Like",
        "id": format!("{}/activities/like-1", a.base),
        "actor": format!("{}/actor", a.base),
        "object": format!("{}/actor", b.base),
    })
    .to_string();
    assert_eq!(
        signed_post(&a_data, &b, &like, &like).await,
        StatusCode::ACCEPTED
    );

    // An activity whose id is on another host than its actor is refused.
    let forged = follow.replace(
        &format!("{}/activities/signed-follow", a.base),
        &format!("{}/activities/forged", b.base),
    );
    assert_eq!(
        signed_post(&a_data, &b, &forged, &forged).await,
        StatusCode::BAD_REQUEST
    );
    a.stop().await;
    b.stop().await;
}

both_backends!(the_inbox_verifies_and_applies_once);

/// `picket serve` as a child process on `db`, federating over loopback, quiet enough that its
/// unread output pipe never fills.
fn federating_process(db: &picket_test_support::TestDb, port: u16) -> ServeProcess {
    let mut command = picket(db.dir());
    command
        .env("DATABASE_URL", db.url())
        .env("PICKET_FEDERATION_ALLOW_LOOPBACK", "true")
        .env("PICKET_ACCOUNTS_REGISTRATION", "open")
        .env("PICKET_LIMITS_WRITES_PER_MINUTE", "100000")
        .env("PICKET_LOG_FILTER", "error");
    ServeProcess::spawn(&mut command, port)
}

/// A fans out reviews to three followers and is killed with SIGKILL mid-way. After a restart on
/// the same database every follower has every review exactly once.
async fn a_killed_sender_resumes_and_nothing_is_lost_or_doubled(backend: TestBackend) {
    const REVIEWS: usize = 40;
    let a_db = picket_test_support::TestDb::new(backend);
    let port = free_port();
    let mut a = federating_process(&a_db, port);
    a.wait_healthy().await;
    let a_host = format!("localhost:{port}");
    let peers = [
        federating(backend).await,
        federating(backend).await,
        federating(backend).await,
    ];
    for peer in &peers {
        picket_server::admin::follow(&peer.config, &format!("instance@{a_host}"))
            .await
            .expect("follow A");
    }
    let a_view = a_db.open();
    let followers = || {
        a_view
            .with_conn(|conn| picket_db::delivery::follows(conn, Direction::Inbound))
            .expect("follows")
            .len()
    };
    eventually("A accepts its three followers", || async {
        followers() == 3
    })
    .await;
    eventually("the followers see the Accepts", || async {
        peers.iter().all(|p| {
            follows(p, Direction::Outbound)
                .first()
                .is_some_and(|f| f.is_accepted())
        })
    })
    .await;

    let (http, base) = (crate::support::http(), a.base());
    let registered = http
        .post(format!("{base}/api/v1/accounts"))
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .expect("register");
    assert_eq!(registered.status(), StatusCode::CREATED);
    let login = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"username": "alice", "password": PASSWORD}))
        .send()
        .await
        .expect("login");
    assert_eq!(login.status(), StatusCode::OK);
    let cookie = login
        .headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .expect("session cookie")
        .to_owned();
    let posts = (0..REVIEWS).map(|i| {
        let mut body = review(100 + i64::try_from(i).expect("small"), 600);
        body["task_title"] = json!(format!("batch {i}"));
        http.post(format!("{base}/api/v1/reviews"))
            .header("cookie", &cookie)
            .json(&body)
            .send()
    });
    for response in futures::future::join_all(posts).await {
        let response = response.expect("post");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, StatusCode::CREATED, "{body}\n{}", a.output());
    }
    a.kill_9();

    let unfinished = a_view
        .with_conn(|conn| {
            let events = picket_db::events::pending(conn, chrono::NaiveDateTime::MAX, 1_000)?.len();
            let pending: i64 = picket_db::delivery::counts(conn)?
                .into_iter()
                .filter(|(state, _)| state == "pending")
                .map(|(_, n)| n)
                .sum();
            Ok(events + usize::try_from(pending).unwrap_or(0))
        })
        .expect("read A's queue");
    assert!(unfinished > 0, "A was killed with work still queued");

    let mut a = federating_process(&a_db, port);
    a.wait_healthy().await;
    for peer in &peers {
        eventually("every review reaches every follower", || async {
            reviews_counted(peer).await == i64::try_from(REVIEWS).expect("small")
        })
        .await;
    }
    eventually("A's queue drains", || async {
        a_view
            .with_conn(picket_db::delivery::counts)
            .expect("counts")
            .iter()
            .all(|(state, _)| state == "delivered")
    })
    .await;
    for peer in &peers {
        let (_, list) = Client::new(peer)
            .get(&format!("/api/v1/requesters/mturk/{RID}/reviews?limit=100"))
            .await;
        let mut titles: Vec<String> = list["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|r| r["task_title"].as_str().expect("title").to_owned())
            .collect();
        titles.sort();
        titles.dedup();
        assert_eq!(titles.len(), REVIEWS, "each review once");
    }
    a.kill_9();
    for peer in peers {
        peer.stop().await;
    }
}

both_backends!(a_killed_sender_resumes_and_nothing_is_lost_or_doubled);

/// C follows A, then goes down. A's deliveries to C fail until A marks C unreachable: they wait
/// there, without expiring. When C is back on its address, A's next probe gets through, C is
/// revived, and every review reaches it.
async fn an_unreachable_instance_is_marked_and_revived(backend: TestBackend) {
    let a = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.federation.retry_first_seconds = 1;
        c.federation.retry_max_seconds = 1;
        c.federation.unreachable_after_failures = 3;
        c.federation.probe_interval_seconds = 1;
    })
    .await;
    let c_db = picket_test_support::TestDb::new(backend);
    let port = free_port();
    let mut c = federating_process(&c_db, port);
    c.wait_healthy().await;
    let c_host = format!("localhost:{port}");
    let followed = crate::support::picket_output(
        picket(c_db.dir())
            .env("DATABASE_URL", c_db.url())
            .env("PICKET_FEDERATION_ALLOW_LOOPBACK", "true")
            .env("PICKET_SERVER_PUBLIC_URL", format!("http://{c_host}/"))
            .args(["admin", "follow", &format!("instance@{}", domain(&a))]),
    );
    assert!(followed.status.success(), "{followed:?}");
    eventually("A accepts C", || async {
        follows(&a, Direction::Inbound).len() == 1
    })
    .await;
    let (status, output) = c.terminate();
    assert!(status.success(), "{output}");

    let alice = a.signed_in("alice", PASSWORD).await;
    for reward in [100, 200, 300] {
        let (status, _) = alice.post("/api/v1/reviews", review(reward, 600)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let peer = || {
        a.db.open()
            .with_conn(picket_db::delivery::peers)
            .expect("peers")
            .into_iter()
            .find(|p| p.host == c_host)
    };
    eventually("A marks C unreachable", || async {
        peer().is_some_and(|p| p.unreachable_since.is_some())
    })
    .await;
    let listed = picket_server::admin::instances(&a.config).expect("list instances");
    assert!(
        listed
            .iter()
            .any(|line| line.starts_with(&format!("peer\t{c_host}"))
                && line.contains("unreachable since")),
        "{listed:?}"
    );
    let counts = delivery_counts(&a);
    assert!(
        counts.iter().all(|(state, _)| state != "failed"),
        "nothing is given up while C is unreachable: {counts:?}"
    );

    let mut c = federating_process(&c_db, port);
    c.wait_healthy().await;
    let c_reviews = || async {
        let (status, body) = Client::new_at(&c.base())
            .get(&format!("/api/v1/requesters/mturk/{RID}"))
            .await;
        if status == StatusCode::NOT_FOUND {
            0
        } else {
            body["aggregates"]["all"]["n"].as_i64().expect("n")
        }
    };
    eventually("every review reaches C once it is back", || async {
        c_reviews().await == 3
    })
    .await;
    eventually("A revives C and drains its queue", || async {
        peer().is_some_and(|p| p.unreachable_since.is_none() && p.failures == 0)
            && delivery_counts(&a)
                .iter()
                .all(|(state, _)| state == "delivered")
    })
    .await;
    c.kill_9();
    a.stop().await;
}

both_backends!(an_unreachable_instance_is_marked_and_revived);

/// Many inbox requests from a new peer arrive at once, each fetching and storing its actor:
/// every store succeeds, and one row remains.
async fn concurrent_first_stores_of_one_actor_all_succeed(backend: TestBackend) {
    let test_db = picket_test_support::TestDb::new(backend);
    let db = test_db.open();
    let row = picket_db::actors::RemoteActorRow {
        url: "https://peer.example/actor".into(),
        kind: "Application".into(),
        username: "instance".into(),
        name: None,
        inbox: "https://peer.example/actor/inbox".into(),
        shared_inbox: Some("https://peer.example/inbox".into()),
        outbox: None,
        public_key_pem: "-----BEGIN PUBLIC KEY-----".into(),
        fetched_at: picket_db::models::now(),
    };
    let stores = (0..16).map(|_| {
        let (db, row) = (db.clone(), row.clone());
        tokio::spawn(async move {
            db.run(move |conn| picket_db::actors::store_remote(conn, &row))
                .await
        })
    });
    for store in futures::future::join_all(stores).await {
        store.expect("join").expect("store the actor");
    }
    let stored = db
        .run(|conn| picket_db::actors::remote(conn, "https://peer.example/actor"))
        .await
        .expect("read");
    assert_eq!(stored, Some(row));
}

both_backends!(concurrent_first_stores_of_one_actor_all_succeed);

/// B starts following A after A's workers wrote 55 reviews: B pages A's outbox (two pages)
/// and holds all of them, counted in its aggregates, without any being delivered to it.
async fn a_new_follower_backfills_the_history(backend: TestBackend) {
    const REVIEWS: i64 = 55;
    let a = federating(backend).await;
    let b = federating(backend).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    for n in 0..REVIEWS {
        let (status, _) = alice.post("/api/v1/reviews", review(100 + n, 600)).await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let (status, incident) = alice
        .post(
            "/api/v1/incidents",
            json!({
                "kind": "mass_rejection",
                "platform": "mturk",
                "requester_id": RID,
                "requester_name": "Acme Research",
                "happened_from": "2026-11-20",
                "description": "All rejected."
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{incident}");
    let erin = a.signed_in("erin", PASSWORD).await;
    let (status, _) = erin
        .post(
            &format!(
                "/api/v1/incidents/{}/corroborations",
                incident["id"].as_str().expect("id")
            ),
            json!({"note": "Me too."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let outbox = activity_json(&a, "/actor").await["outbox"].clone();
    assert_eq!(outbox, format!("{}/actor/outbox", a.base));
    let first = activity_json(&a, "/actor/outbox?page=true").await;
    assert_eq!(first["type"], "OrderedCollectionPage");
    assert_eq!(first["orderedItems"].as_array().map(Vec::len), Some(50));
    assert_eq!(first["orderedItems"][0]["type"], "Create");
    assert_eq!(first["orderedItems"][0]["object"]["type"], "Page");

    // Nobody followed A while they were written: once A has handled their events, only a
    // backfill can bring them to B.
    let a_db = a.db.open();
    eventually("A has handled every review's event", || async {
        a_db.with_conn(|conn| picket_db::events::pending(conn, chrono::NaiveDateTime::MAX, 1))
            .expect("events")
            .is_empty()
    })
    .await;
    picket_server::admin::follow(&b.config, &format!("instance@{}", domain(&a)))
        .await
        .expect("follow A");
    eventually(
        "B backfills A's reviews, incidents and corroborations",
        || async {
            let (_, incidents) = Client::new(&b)
                .get(&format!("/api/v1/requesters/mturk/{RID}/incidents"))
                .await;
            reviews_counted(&b).await == REVIEWS && incidents["items"][0]["corroborations"] == 1
        },
    )
    .await;
    // Every listed Create stays dereferenceable at its id.
    let create_id = first["orderedItems"][0]["id"]
        .as_str()
        .expect("id")
        .to_owned();
    let create = activity_json(&a, create_id.trim_start_matches(a.base.as_str())).await;
    assert_eq!(create["type"], "Create");
    assert_eq!(
        create["object"]["id"],
        first["orderedItems"][0]["object"]["id"]
    );
    // The requester feed's outbox: its latest items as the feed's announces, newest first.
    let feed = activity_json(&a, &format!("/r/mturk/{RID}")).await;
    assert_eq!(feed["outbox"], format!("{}/r/mturk/{RID}/outbox", a.base));
    let feed_outbox = activity_json(&a, &format!("/r/mturk/{RID}/outbox")).await;
    let items = feed_outbox["orderedItems"].as_array().expect("items");
    assert_eq!(items.len(), 20);
    assert_eq!(items[0]["type"], "Announce");
    assert_eq!(items[0]["actor"], format!("{}/r/mturk/{RID}", a.base));
    assert_eq!(items[0]["object"]["type"], "Create");
    assert_eq!(items[0]["object"]["object"]["picket:kind"], "incident");
    assert_eq!(items[1]["object"]["object"]["picket:kind"], "review");
    assert_eq!(
        delivery_counts(&a),
        [("delivered".to_owned(), 1)],
        "only the Accept was sent"
    );
    a.stop().await;
    b.stop().await;
}

both_backends!(a_new_follower_backfills_the_history);

/// Bodies a stand-in server received, by inbox path.
pub(crate) type Received = std::sync::Arc<std::sync::Mutex<Vec<(String, Value)>>>;

/// A stand-in for other servers' inboxes on loopback: answers 202 and keeps what it was sent.
pub(crate) async fn sink() -> (String, Received) {
    let received: Received = Received::default();
    let keep = received.clone();
    let app = axum::Router::new().route(
        "/{who}/inbox",
        axum::routing::post(
            move |axum::extract::Path(who): axum::extract::Path<String>, body: String| {
                let keep = keep.clone();
                async move {
                    let json = serde_json::from_str(&body).expect("JSON body");
                    keep.lock().expect("sink").push((who, json));
                    StatusCode::ACCEPTED
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!(
        "http://localhost:{}",
        listener.local_addr().expect("addr").port()
    );
    tokio::spawn(async move { axum::serve(listener, app).await });
    (base, received)
}

/// Records `url` (a stand-in server's actor) as an accepted follower of local actor `local`,
/// running `software`, as a real follow would have.
pub(crate) fn add_follower(
    server: &TestServer,
    url: &str,
    kind: &str,
    local: &str,
    software: &str,
) {
    server
        .db
        .open()
        .with_conn(|conn| {
            picket_db::actors::store_remote(
                conn,
                &picket_db::actors::RemoteActorRow {
                    url: url.to_owned(),
                    kind: kind.to_owned(),
                    username: "follower".into(),
                    name: None,
                    inbox: format!("{url}/inbox"),
                    shared_inbox: None,
                    outbox: None,
                    public_key_pem: "unused".into(),
                    fetched_at: picket_db::models::now(),
                },
            )?;
            picket_db::delivery::set_follow(
                conn,
                picket_db::delivery::NewFollow {
                    local_actor: local,
                    remote_actor: url,
                    direction: Direction::Inbound,
                    accepted: true,
                    follow_activity_id: &format!("{url}/follow"),
                    software: Some(software),
                },
                picket_db::models::now(),
            )
        })
        .expect("a follower");
}

/// Replaces what differs from run to run (ports, random ids, times) with fixed words.
fn normalise(value: &mut Value, replace: &[(&str, &str)]) {
    match value {
        Value::String(s) => {
            for (from, to) in replace {
                *s = s.replace(from, to);
            }
            if let Some(at) = s.find("/activities/") {
                s.replace_range(at + "/activities/".len().., "[id]");
            }
            if chrono::DateTime::parse_from_rfc3339(s).is_ok() {
                *s = "[time]".into();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(|v| normalise(v, replace)),
        Value::Object(map) => map.values_mut().for_each(|v| normalise(v, replace)),
        _ => {}
    }
}

/// A Lemmy user and a Mastodon user follow A's requester feed: each gets the review in the
/// shape its software reads (snapshots of exactly what was sent).
async fn a_requester_feed_announces_to_lemmy_and_mastodon(backend: TestBackend) {
    let a = federating(backend).await;
    let (sink_base, received) = sink().await;
    let alice = a.signed_in("alice", PASSWORD).await;
    let mut draft = review(100, 60);
    draft["draft"] = json!(true);
    assert_eq!(
        alice.post("/api/v1/reviews", draft).await.0,
        StatusCode::CREATED
    );
    let feed = format!("r/mturk/{RID}");
    for (who, software) in [("lemmy", "lemmy"), ("mastodon", "mastodon")] {
        add_follower(&a, &format!("{sink_base}/{who}"), "Person", &feed, software);
    }
    let (status, created) = alice.post("/api/v1/reviews", review(840, 3600)).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().expect("id").to_owned();
    eventually("both followers got the review", || async {
        received.lock().expect("sink").len() == 2
    })
    .await;
    let mut got: Vec<(String, Value)> = received.lock().expect("sink").clone();
    got.sort_by(|x, y| x.0.cmp(&y.0));
    let replace = [
        (a.base.as_str(), "https://picket.example"),
        (id.as_str(), "[review]"),
    ];
    for (who, body) in &mut got {
        normalise(body, &replace);
        insta::assert_json_snapshot!(format!("feed_announce_to_{who}"), body);
    }
    a.stop().await;
}

both_backends!(a_requester_feed_announces_to_lemmy_and_mastodon);

/// Following a requester feed records the follower's software, read from its NodeInfo: what
/// decides the shape of what the feed sends it.
async fn a_feed_follow_records_the_followers_software(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    assert_eq!(
        alice.post("/api/v1/reviews", review(100, 60)).await.0,
        StatusCode::CREATED
    );
    let b_data = signing_as(&b).await;
    picket_apub::follow(
        &b_data,
        picket_apub::LocalActor::Instance,
        &format!("mturk.{}@{}", RID.to_lowercase(), domain(&a)),
    )
    .await
    .expect("follow the feed");
    eventually("A records the follower", || async {
        !follows(&a, Direction::Inbound).is_empty()
    })
    .await;
    let inbound = follows(&a, Direction::Inbound);
    assert_eq!(inbound[0].local_actor, format!("r/mturk/{RID}"));
    assert_eq!(inbound[0].software.as_deref(), Some("picket"));
    a.stop().await;
    b.stop().await;
}

both_backends!(a_feed_follow_records_the_followers_software);

/// Two `picket serve` processes' worth of delivery workers on one PostgreSQL database share the
/// queue: a follower gets every activity exactly once, however the work was split.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_workers_on_one_postgres_send_nothing_twice() {
    const REVIEWS: usize = 30;
    let a = federating(TestBackend::Postgres).await;
    // A second server on the same database and public URL: the same instance, scaled out.
    let mut twin_config = a.config.clone();
    twin_config.server.listen = ([127, 0, 0, 1], 0).into();
    let twin = picket_server::start(&twin_config)
        .await
        .expect("start the twin");
    let (sink_base, received) = sink().await;
    add_follower(
        &a,
        &format!("{sink_base}/follower"),
        "Application",
        "actor",
        "picket",
    );
    let alice = a.signed_in("alice", PASSWORD).await;
    for n in 0..REVIEWS {
        let (status, _) = alice
            .post("/api/v1/reviews", review(100 + n as i64, 600))
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    eventually("every review is delivered", || async {
        delivery_counts(&a) == [("delivered".to_owned(), REVIEWS as i64)]
    })
    .await;
    // Give a doubled send time to arrive before counting.
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let ids: Vec<String> = received
        .lock()
        .expect("sink")
        .iter()
        .map(|(_, body)| body["id"].as_str().expect("id").to_owned())
        .collect();
    let mut distinct = ids.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(ids.len(), REVIEWS, "one POST per activity");
    assert_eq!(distinct.len(), REVIEWS);
    twin.shutdown().await.expect("stop the twin");
    a.stop().await;
}
