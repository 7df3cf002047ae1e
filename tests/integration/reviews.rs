//! Requesters, reviews, aggregates and follows over the JSON API on both backends.

use picket_core::accounts::Role;
use picket_test_support::{TestBackend, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::support::{Client, TestServer, assert_error};

const PASSWORD: &str = "correct horse battery";
pub const RID: &str = "A1B2C3D4E5F6G7";

/// A review's own fields, as an edit sends them (the requester cannot change).
pub(crate) fn edit_of(mut review: Value) -> Value {
    for key in ["platform", "requester_id", "requester_name"] {
        review.as_object_mut().map(|o| o.remove(key));
    }
    review
}

pub fn review(reward: i64, seconds: i64) -> Value {
    json!({
        "platform": "mturk",
        "requester_id": RID,
        "requester_name": "Acme Research",
        "reward_minor": reward,
        "bonus_minor": 0,
        "time_spent_seconds": seconds,
        "completion": "completed",
        "approval": "approved",
        "time_to_decision_seconds": 86400,
        "scores": {"pay": 4, "fairness": 5, "promptness": 3, "communication": 4},
        "recommend": "yes",
        "body": "Clear instructions, paid on time."
    })
}

async fn review_lifecycle_and_aggregates(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let bob = server.signed_in("bob", PASSWORD).await;
    let anonymous = Client::new(&server);

    assert_error(
        &anonymous.post("/api/v1/reviews", review(100, 60)).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let (status, first) = alice.post("/api/v1/reviews", review(150, 90)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["requester"]["requester_id"], RID);
    assert_eq!(first["author"], "alice");
    assert_eq!(first["hourly_minor"], 6000);
    let id = first["id"].as_str().expect("id").to_owned();

    let (status, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["aggregates"]["all"]["n"], 1);
    assert_eq!(page["aggregates"]["all"]["hourly"][0]["median_minor"], 6000);

    // Nobody edits another's review.
    let mut edited = edit_of(review(300, 90));
    edited["body"] = json!("Edited: bonus arrived later.");
    let (status, body) = bob
        .send(
            bob.request(reqwest::Method::PUT, &format!("/api/v1/reviews/{id}"))
                .json(&edited),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = alice
        .send(
            alice
                .request(reqwest::Method::PUT, &format!("/api/v1/reviews/{id}"))
                .json(&edited),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["hourly_minor"], 12000);
    let (_, history) = anonymous
        .get(&format!("/api/v1/reviews/{id}/history"))
        .await;
    assert_eq!(history.as_array().map(Vec::len), Some(1), "{history}");
    assert_eq!(history[0]["reward_minor"], 150);
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(
        page["aggregates"]["all"]["hourly"][0]["median_minor"], 12000,
        "edit reaches the aggregates"
    );

    // Drafts are private and do not count.
    let mut draft = review(10, 3600);
    draft["draft"] = json!(true);
    let (status, draft) = bob.post("/api/v1/reviews", draft).await;
    assert_eq!(status, StatusCode::CREATED, "{draft}");
    assert_eq!(draft["state"], "draft");
    let draft_id = draft["id"].as_str().expect("id").to_owned();
    assert_eq!(
        anonymous
            .get(&format!("/api/v1/reviews/{draft_id}"))
            .await
            .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        bob.get(&format!("/api/v1/reviews/{draft_id}")).await.0,
        StatusCode::OK
    );
    let (_, drafts) = bob.get("/api/v1/account/reviews?drafts=true").await;
    assert_eq!(drafts["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(drafts["items"][0]["id"], draft_id.as_str());
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["aggregates"]["all"]["n"], 1, "drafts do not count");
    let mut publish = edit_of(review(10, 3600));
    publish["publish"] = json!(true);
    let (status, published) = bob
        .send(
            bob.request(reqwest::Method::PUT, &format!("/api/v1/reviews/{draft_id}"))
                .json(&publish),
        )
        .await;
    assert_eq!(
        (status, published["state"].as_str()),
        (StatusCode::OK, Some("published")),
        "{published}"
    );
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["aggregates"]["all"]["n"], 2);

    // Removal hides the content from the public and the aggregates, at once.
    server.create_user("mod", Role::Moderator, PASSWORD).await;
    let moderator = anonymous.login("mod", PASSWORD).await;
    assert_error(
        &bob.post(
            &format!("/api/v1/reviews/{id}/removal"),
            json!({"reason": "x"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &moderator
            .post(
                &format!("/api/v1/reviews/{id}/removal"),
                json!({"reason": " "}),
            )
            .await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_error(
        &moderator
            .delete(&format!("/api/v1/reviews/{id}/removal"), json!({}))
            .await,
        StatusCode::CONFLICT,
        "wrong_state",
    );
    let (status, removed) = moderator
        .post(
            &format!("/api/v1/reviews/{id}/removal"),
            json!({"reason": "discloses a completion code"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{removed}");
    assert_error(
        &alice
            .send(
                alice
                    .request(reqwest::Method::PUT, &format!("/api/v1/reviews/{id}"))
                    .json(&edit_of(review(999, 60))),
            )
            .await,
        StatusCode::CONFLICT,
        "removed",
    );
    let (_, public) = anonymous.get(&format!("/api/v1/reviews/{id}")).await;
    assert_eq!(public["state"], "removed");
    assert_eq!(public["removed_reason"], "discloses a completion code");
    assert!(public.get("body").is_none(), "content hidden: {public}");
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["aggregates"]["all"]["n"], 1);
    let (status, _) = moderator
        .delete(&format!("/api/v1/reviews/{id}/removal"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["aggregates"]["all"]["n"], 2);

    // Deletion leaves a tombstone and the aggregates.
    assert_error(
        &bob.delete(&format!("/api/v1/reviews/{id}"), json!({}))
            .await,
        StatusCode::FORBIDDEN,
        "not_author",
    );
    let (status, _) = alice
        .delete(&format!("/api/v1/reviews/{id}"), json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(
        &anonymous.get(&format!("/api/v1/reviews/{id}")).await,
        StatusCode::GONE,
        "deleted",
    );
    assert_error(
        &alice
            .send(
                alice
                    .request(reqwest::Method::PUT, &format!("/api/v1/reviews/{id}"))
                    .json(&edit_of(review(999, 60))),
            )
            .await,
        StatusCode::GONE,
        "deleted",
    );
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["aggregates"]["all"]["n"], 1);
    let (_, list) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    assert_eq!(list["items"].as_array().map(Vec::len), Some(1));

    // Paging: a page of one, then the cursor to the next.
    assert_eq!(
        alice.post("/api/v1/reviews", review(120, 60)).await.0,
        StatusCode::CREATED
    );
    let reviews_path = format!("/api/v1/requesters/mturk/{RID}/reviews");
    let (_, first) = anonymous.get(&format!("{reviews_path}?limit=1")).await;
    assert_eq!(first["items"].as_array().map(Vec::len), Some(1));
    let next = first["next"].as_i64().expect("a next cursor");
    let (_, second) = anonymous
        .get(&format!("{reviews_path}?limit=1&before={next}"))
        .await;
    assert_eq!(second["items"].as_array().map(Vec::len), Some(1));
    assert_ne!(second["items"][0]["id"], first["items"][0]["id"]);
    let (_, last) = anonymous
        .get(&format!("{reviews_path}?limit=5&before={next}"))
        .await;
    assert!(
        last["next"].is_null(),
        "the last page has no cursor: {last}"
    );
    server.stop().await;
}

async fn review_validation_and_worker_id_guard(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let mut bad = review(-1, 0);
    bad["requester_id"] = json!("nope");
    bad["scores"]["pay"] = json!(9);
    bad["tos_violation"] = json!(true);
    let result = alice.post("/api/v1/reviews", bad).await;
    assert_error(
        &result,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    // A value of the wrong type is a 422 that quotes it (a flattened body loses the field's path).
    let mut mistyped = review(100, 60);
    mistyped["scores"]["pay"] = json!("five");
    let typed = alice.post("/api/v1/reviews", mistyped).await;
    assert_error(&typed, StatusCode::UNPROCESSABLE_ENTITY, "invalid_fields");
    let message = typed.1["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("\"five\""),
        "the message says what is wrong: {message}"
    );
    assert!(
        result.1["fields"]["requester_id"].is_string(),
        "{}",
        result.1
    );

    let mut bad = review(-1, 0);
    bad["scores"]["pay"] = json!(9);
    bad["tos_violation"] = json!(true);
    let result = alice.post("/api/v1/reviews", bad).await;
    for field in [
        "reward_minor",
        "time_spent_seconds",
        "scores.pay",
        "tos_explanation",
    ] {
        assert!(
            result.1["fields"][field].is_string(),
            "{field}: {}",
            result.1
        );
    }

    let mut leaky = review(100, 60);
    leaky["body"] = json!("My ID is A3KQ9ZP1X0WBTR, they rejected me.");
    let result = alice.post("/api/v1/reviews", leaky.clone()).await;
    assert_error(
        &result,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert!(
        result.1["fields"]["body"]
            .as_str()
            .is_some_and(|m| m.contains("worker ID")),
        "{}",
        result.1
    );
    leaky["confirm_no_worker_ids"] = json!(true);
    assert_eq!(
        alice.post("/api/v1/reviews", leaky).await.0,
        StatusCode::CREATED
    );

    let mut unknown = review(100, 60);
    unknown["surprise"] = json!(1);
    assert_eq!(
        alice.post("/api/v1/reviews", unknown).await.0,
        StatusCode::UNPROCESSABLE_ENTITY
    );
    assert_error(
        &Client::new(&server)
            .get("/api/v1/reviews/nothing-here")
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &Client::new(&server)
            .get("/api/v1/requesters/mturk/A9Z9Z9Z9Z9Z9")
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &Client::new(&server).get("/api/v1/requesters/ebay/x").await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    server.stop().await;
}

async fn search_aliases_follows_and_notifications(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let bob = server.signed_in("bob", PASSWORD).await;
    let anonymous = Client::new(&server);
    assert_eq!(
        alice.post("/api/v1/reviews", review(100, 60)).await.0,
        StatusCode::CREATED
    );
    let mut renamed = review(100, 60);
    renamed["requester_name"] = json!("Acme Labs");
    assert_eq!(
        alice.post("/api/v1/reviews", renamed).await.0,
        StatusCode::CREATED
    );
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["name"], "Acme Labs");
    assert_eq!(page["aliases"], json!(["Acme Research"]));

    for q in ["acme", "labs", "research", "a1b2", RID] {
        let (status, hits) = anonymous.get(&format!("/api/v1/requesters?q={q}")).await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(hits.as_array().map(Vec::len), Some(1), "search {q}: {hits}");
    }
    let (_, none) = anonymous.get("/api/v1/requesters?q=zebra").await;
    assert_eq!(none, json!([]));
    // IDs by substring, and a platform that writes IDs in lower case found whatever the case typed.
    let prolific_id = "5f0c1a2b3c4d5e6f7a8b9c0d";
    let mut prolific = review(100, 60);
    prolific["platform"] = json!("prolific");
    prolific["currency"] = json!("GBP");
    prolific["requester_id"] = json!(prolific_id);
    prolific["requester_name"] = json!("Oxford Study");
    let (status, created) = alice.post("/api/v1/reviews", prolific).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    for q in ["B2C3D4", "5F0C1A2B", "5f0c1a2b", "7A8B9C"] {
        let (_, hits) = anonymous.get(&format!("/api/v1/requesters?q={q}")).await;
        assert_eq!(hits.as_array().map(Vec::len), Some(1), "search {q}: {hits}");
    }
    assert_error(
        &anonymous.get("/api/v1/requesters?limit=many").await,
        StatusCode::BAD_REQUEST,
        "bad_query",
    );
    assert_error(
        &anonymous.get("/api/v1/requesters?platform=ebay").await,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );

    let follow = format!("/api/v1/requesters/mturk/{RID}/follow");
    let (status, _) = bob.send(bob.request(reqwest::Method::PUT, &follow)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, followed) = bob.get("/api/v1/account/follows").await;
    assert_eq!(followed[0]["requester_id"], RID);
    // Alice names the requester as she did last: her one voice keeps its current name.
    let mut again = review(200, 60);
    again["requester_name"] = json!("Acme Labs");
    assert_eq!(
        alice.post("/api/v1/reviews", again).await.0,
        StatusCode::CREATED
    );
    let (_, notes) = bob.get("/api/v1/notifications?unread=true").await;
    assert_eq!(notes["items"].as_array().map(Vec::len), Some(1), "{notes}");
    assert_eq!(notes["items"][0]["kind"], "review");
    let (_, own) = alice.get("/api/v1/notifications").await;
    assert_eq!(
        own["items"],
        json!([]),
        "authors are not notified of their own reviews"
    );

    let (status, feed) = bob.post("/api/v1/account/feed-token", json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    let url = feed["url"].as_str().expect("url");
    let path = &url[url.find("/feeds/").expect("feed path")..];
    let atom = crate::support::http_get(format!("{}{path}", server.base))
        .await
        .expect("feed");
    assert_eq!(atom.status(), StatusCode::OK);
    let text = atom.text().await.expect("text");
    assert!(
        text.contains("<feed") && text.contains("New review of Acme Labs"),
        "{text}"
    );
    let public = crate::support::http_get(format!("{}/feeds/requesters/mturk/{RID}", server.base))
        .await
        .expect("feed");
    assert_eq!(
        public.headers()[reqwest::header::CONTENT_TYPE],
        "application/atom+xml; charset=utf-8"
    );
    let public = public.text().await.expect("text");
    assert!(public.contains("Review of Acme Labs on MTurk"), "{public}");
    // Entries link to the review's page (its object URL), not to the JSON API.
    let page_link = format!("href=\"{}/reviews/", server.base);
    assert!(public.contains(&page_link), "{public}");
    assert!(text.contains(&page_link), "the worker's feed too: {text}");
    assert_eq!(
        crate::support::http_get(format!("{}/feeds/workers/not-a-token", server.base))
            .await
            .expect("feed")
            .status(),
        StatusCode::NOT_FOUND
    );

    // A new feed URL revokes the old one.
    let (_, rotated) = bob.post("/api/v1/account/feed-token", json!({})).await;
    assert_ne!(rotated["url"], feed["url"]);
    assert_eq!(
        crate::support::http_get(format!("{}{path}", server.base))
            .await
            .expect("old feed")
            .status(),
        StatusCode::NOT_FOUND
    );

    let (_, marked) = bob
        .post("/api/v1/notifications/read", json!({"ids": [-1]}))
        .await;
    assert_eq!(marked["marked"], 0, "only the given ids");
    let note_id = notes["items"][0]["id"].as_i64().expect("notification id");
    let (_, marked) = bob
        .post("/api/v1/notifications/read", json!({"ids": [note_id]}))
        .await;
    assert_eq!(marked["marked"], 1);
    let (_, unread) = bob.get("/api/v1/notifications?unread=true").await;
    assert_eq!(unread["items"], json!([]));
    let (status, _) = bob
        .send(bob.request(reqwest::Method::DELETE, &follow))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(
        &bob.send(bob.request(reqwest::Method::DELETE, &follow))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    server.stop().await;
}

/// An edit or removal computed from a copy read before a deletion must not bring the review back.
async fn writes_from_a_stale_copy_are_refused(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let (_, created) = alice.post("/api/v1/reviews", review(100, 60)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let db = server.db.open();
    let stale = {
        let id = id.clone();
        db.run(move |conn| picket_db::reviews::by_public_id(conn, &id))
            .await
            .expect("row")
    };
    let (status, _) = alice
        .send(alice.request(reqwest::Method::DELETE, &format!("/api/v1/reviews/{id}")))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let at = picket_db::models::now();
    for attempt in ["edit", "remove", "delete"] {
        let stale = stale.clone();
        let result = db
            .tx(move |conn| {
                let content = stale.content()?;
                match attempt {
                    "edit" => picket_db::reviews::update(conn, &stale, &content, false, at),
                    "remove" => picket_db::content::set_removed(conn, &stale, Some("spam"), at)
                        .map(|()| stale.clone()),
                    _ => picket_db::reviews::delete(conn, &stale, at).map(|()| stale.clone()),
                }
            })
            .await;
        assert!(
            matches!(result, Err(picket_db::DbError::Stale("review"))),
            "{attempt}: {result:?}"
        );
    }
    let current = db
        .run(move |conn| picket_db::reviews::by_public_id(conn, &id))
        .await
        .expect("row");
    assert_eq!(current.state, "deleted");
    assert_eq!(current.body, "");
    server.stop().await;
}

both_backends!(
    writes_from_a_stale_copy_are_refused,
    review_lifecycle_and_aggregates,
    review_validation_and_worker_id_guard,
    search_aliases_follows_and_notifications,
);
