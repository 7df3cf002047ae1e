//! Comments: threads one level deep under reviews and incidents, their errors, an author's deletion, moderators' removal, a requester's right of reply; a thread across three instances with a removal that reaches every copy; and Mastodon- and Lemmy-shaped replies arriving as comments.

use picket_core::accounts::Role;
use picket_test_support::{TestBackend, both_backends};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::federated_incidents::follow_instance;
use crate::federation::{PASSWORD, add_follower, eventually, federating, signed_post, signing_as};
use crate::reviews::{RID, review};
use crate::support::{Client, TestServer, assert_error};

async fn signed_in_as(server: &TestServer, name: &str, role: Role) -> Client {
    server.create_user(name, role, PASSWORD).await;
    Client::new(server).login(name, PASSWORD).await
}

/// The threads under a review (`reviews`) or incident (`incidents`), as `client` reads them.
async fn threads(client: &Client, on: &str, id: &str) -> Value {
    let (status, body) = client.get(&format!("/api/v1/{on}/{id}/comments")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body
}

/// The id of the instance's only review of the test requester, once it has one.
async fn the_review(server: &TestServer) -> String {
    eventually("the review is here", || async {
        let (_, list) = Client::new(server)
            .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
            .await;
        list["items"][0]["id"].is_string()
    })
    .await;
    let (_, list) = Client::new(server)
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    list["items"][0]["id"].as_str().expect("id").to_owned()
}

fn comment(body: &str) -> Value {
    json!({ "body": body })
}

fn answer(body: &str, to: &Value) -> Value {
    json!({ "body": body, "reply_to": to["id"] })
}

/// Replaces what differs between runs (ids, times, ports) for snapshots.
pub(crate) fn normalised(mut value: Value, replace: &[(&str, &str)]) -> Value {
    fn walk(value: &mut Value, replace: &[(&str, &str)]) {
        match value {
            Value::String(s) => {
                for (from, to) in replace {
                    *s = s.replace(from, to);
                }
                if chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
                    || chrono::DateTime::parse_from_rfc3339(s).is_ok()
                {
                    *s = "[time]".into();
                }
                if let Some(at) = s.find("/activities/") {
                    s.replace_range(at + "/activities/".len().., "[id]");
                }
            }
            Value::Array(items) => items.iter_mut().for_each(|v| walk(v, replace)),
            Value::Object(map) => map.values_mut().for_each(|v| walk(v, replace)),
            _ => {}
        }
    }
    walk(&mut value, replace);
    value
}

/// One instance: a thread with answers (an answer to an answer goes under the thread's start),
/// counts on the review and the incident, every refusal a worker can meet, deletion by the
/// author, and a moderator's removal and restoration, logged publicly.
async fn comment_threads_on_one_instance(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let bob = server.signed_in("bob", PASSWORD).await;
    let carol = server.signed_in("carol", PASSWORD).await;
    let (status, created) = alice.post("/api/v1/reviews", review(300, 3600)).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().expect("id").to_owned();
    let path = format!("/api/v1/reviews/{id}/comments");

    let (status, first) = bob
        .post(&path, comment("  Same for me: paid within a day. "))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["body"], "Same for me: paid within a day.");
    assert_eq!(first["author"], "bob");
    let (status, reply) = carol
        .post(&path, answer("Not my experience.", &first))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["reply_to"], first["id"]);
    let (status, deeper) = alice
        .post(&path, answer("It changed in November.", &reply))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{deeper}");
    assert_eq!(
        deeper["reply_to"], first["id"],
        "an answer to an answer is filed under the thread's start"
    );
    let (status, second) = carol.post(&path, comment("Approval took a week.")).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");

    let shown = threads(&Client::new(&server), "reviews", &id).await;
    assert_eq!(shown["count"], 4, "{shown}");
    let bodies: Vec<(&str, Vec<&str>)> = shown["threads"]
        .as_array()
        .expect("threads")
        .iter()
        .map(|t| {
            (
                t["body"].as_str().expect("body"),
                t["replies"]
                    .as_array()
                    .map(|r| r.iter().filter_map(|c| c["body"].as_str()).collect())
                    .unwrap_or_default(),
            )
        })
        .collect();
    assert_eq!(
        bodies,
        [
            (
                "Same for me: paid within a day.",
                vec!["Not my experience.", "It changed in November."]
            ),
            ("Approval took a week.", vec![])
        ]
    );
    let replace = [
        (first["id"].as_str().expect("id"), "[first]"),
        (reply["id"].as_str().expect("id"), "[reply]"),
        (deeper["id"].as_str().expect("id"), "[deeper]"),
        (second["id"].as_str().expect("id"), "[second]"),
    ];
    insta::assert_json_snapshot!("comment_threads", normalised(shown, &replace));
    let (_, read) = Client::new(&server)
        .get(&format!("/api/v1/reviews/{id}"))
        .await;
    assert_eq!(read["comments"], 4, "{read}");
    let (_, listed) = Client::new(&server)
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    assert_eq!(listed["items"][0]["comments"], 4, "{listed}");

    // What a worker can get wrong, each with its own answer.
    let anonymous = Client::new(&server);
    assert_error(
        &anonymous.post(&path, comment("hi")).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    let empty = bob.post(&path, comment(" \n ")).await;
    assert_error(
        &empty,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(empty.1["fields"]["body"], "write something", "{}", empty.1);
    let long = bob.post(&path, comment(&"x".repeat(5001))).await;
    assert_error(&long, StatusCode::UNPROCESSABLE_ENTITY, "validation_failed");
    let leaky = bob.post(&path, comment("my ID is A3KQ9ZP1X0WBTR")).await;
    assert_error(
        &leaky,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert!(
        leaky.1["fields"]["body"]
            .as_str()
            .is_some_and(|m| m.contains("A3KQ…")),
        "{}",
        leaky.1
    );
    let (status, _) = bob
        .post(
            &path,
            json!({"body": "my ID is A3KQ9ZP1X0WBTR", "confirm_no_worker_ids": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "the author's word waives it");
    let unknown = bob
        .post(&path, json!({"body": "hi", "reply_to": "nope"}))
        .await;
    assert_error(
        &unknown,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert!(unknown.1["fields"]["reply_to"].is_string(), "{}", unknown.1);
    let stray = bob
        .post(&path, json!({"body": "hi", "colour": "red"}))
        .await;
    assert_eq!(stray.0, StatusCode::UNPROCESSABLE_ENTITY, "{}", stray.1);
    assert_error(
        &bob.post("/api/v1/reviews/nope/comments", comment("hi"))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let missing = anonymous.get("/api/v1/incidents/nope/comments").await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(missing.1["message"], "no such incident");

    // An incident's comments, counted on it.
    let (status, incident) = alice
        .post(
            "/api/v1/incidents",
            json!({
                "kind": "mass_rejection",
                "platform": "mturk",
                "requester_id": RID,
                "requester_name": "Acme Research",
                "happened_from": "2026-11-20",
                "description": "Every submission rejected."
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{incident}");
    let incident_id = incident["id"].as_str().expect("id");
    assert_eq!(incident["comments"], 0);
    let (status, _) = bob
        .post(
            &format!("/api/v1/incidents/{incident_id}/comments"),
            comment("Did they answer your message?"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, incident) = anonymous
        .get(&format!("/api/v1/incidents/{incident_id}"))
        .await;
    assert_eq!(incident["comments"], 1, "{incident}");

    // Deletion: only by the author; the thread keeps its answers under a tombstone.
    let first_path = format!("/api/v1/comments/{}", first["id"].as_str().expect("id"));
    let (status, body) = carol.send(carol.request(Method::DELETE, &first_path)).await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    assert_eq!(body["error"], "not_author");
    let (status, _) = bob.send(bob.request(Method::DELETE, &first_path)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = bob.send(bob.request(Method::DELETE, &first_path)).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "deleted once");
    let shown = threads(&anonymous, "reviews", &id).await;
    assert_eq!(shown["count"], 4, "{shown}");
    let start = &shown["threads"][0];
    assert_eq!(start["state"], "deleted");
    assert!(
        start["body"].is_null() && start["author"].is_null(),
        "{start}"
    );
    assert_eq!(start["replies"].as_array().map(Vec::len), Some(2));
    let answer_to_deleted = carol.post(&path, answer("still here?", &first)).await;
    assert_error(
        &answer_to_deleted,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );

    // Moderation: report, remove with a reason, logged; restore.
    let second_id = second["id"].as_str().expect("id");
    let (status, report) = bob
        .post(
            "/api/v1/reports",
            json!({"target_type": "comment", "target": second_id, "reason": "insults"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let moderator = signed_in_as(&server, "mona", Role::Moderator).await;
    let (status, queue) = moderator.get("/api/v1/moderation/reports").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(queue["items"][0]["target_type"], "comment", "{queue}");
    let removal = format!("/api/v1/comments/{second_id}/removal");
    assert_error(
        &carol.post(&removal, json!({"reason": "x"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, body) = moderator
        .post(&removal, json!({"reason": "Names a person"}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    let shown = threads(&anonymous, "reviews", &id).await;
    let removed = &shown["threads"][1];
    assert_eq!(removed["state"], "removed", "{shown}");
    assert_eq!(removed["removed_reason"], "Names a person");
    assert!(removed["body"].is_null(), "the public no longer reads it");
    assert_eq!(shown["count"], 3);
    let for_moderators = threads(&moderator, "reviews", &id).await;
    assert_eq!(
        for_moderators["threads"][1]["body"],
        "Approval took a week."
    );
    let (_, log) = anonymous.get("/api/v1/modlog").await;
    assert!(
        log["items"]
            .as_array()
            .expect("log")
            .iter()
            .any(|e| e["target_type"] == "comment" && e["reason"] == "Names a person"),
        "{log}"
    );
    let (status, _) = moderator
        .send(moderator.request(Method::DELETE, &removal))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(threads(&anonymous, "reviews", &id).await["count"], 4);

    // Deleting an account leaves its comments as tombstones.
    let (status, _) = carol
        .send(
            carol
                .request(Method::DELETE, "/api/v1/account")
                .json(&json!({"password": PASSWORD})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let shown = threads(&anonymous, "reviews", &id).await;
    assert!(
        !shown.to_string().contains("Not my experience"),
        "the deleted account's words are gone: {shown}"
    );
    server.stop().await;
}

both_backends!(comment_threads_on_one_instance);

/// A requester's right of reply: an admin marks an account as speaking for a requester; it can
/// comment on that requester's reviews and incidents, marked as the requester's, and nothing else.
async fn a_requester_answers_in_comments_and_nothing_more(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let (_, created) = alice.post("/api/v1/reviews", review(300, 3600)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let mut other = review(300, 3600);
    other["requester_id"] = json!("A9Z8Y7X6W5V4U3");
    other["requester_name"] = json!("Other Lab");
    let (status, unrelated) = alice.post("/api/v1/reviews", other).await;
    assert_eq!(status, StatusCode::CREATED, "{unrelated}");
    let acme = server.signed_in("acme", PASSWORD).await;
    let admin = signed_in_as(&server, "root", Role::Admin).await;
    let speaks_for = "/api/v1/admin/users/acme/speaks-for";
    let mark = json!({"platform": "mturk", "requester_id": RID});
    let (status, body) = alice
        .send(alice.request(Method::PUT, speaks_for).json(&mark))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "{body}");
    let (status, body) = admin
        .send(
            admin
                .request(Method::PUT, "/api/v1/admin/users/acme/speaks-for")
                .json(&json!({"platform": "mturk", "requester_id": "A0000000000000"})),
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{body}");
    let (status, body) = admin
        .send(admin.request(Method::PUT, speaks_for).json(&mark))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["requester_name"], "Acme Research");

    let (status, reply) = acme
        .post(
            &format!("/api/v1/reviews/{id}/comments"),
            comment("We pay within 24 hours; write to us if you were not paid."),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["as_requester"], true);
    let elsewhere = acme
        .post(
            &format!(
                "/api/v1/reviews/{}/comments",
                unrelated["id"].as_str().expect("id")
            ),
            comment("Not ours."),
        )
        .await;
    assert_error(&elsewhere, StatusCode::FORBIDDEN, "requester_voice");
    assert_error(
        &acme.post("/api/v1/reviews", review(5000, 60)).await,
        StatusCode::FORBIDDEN,
        "requester_voice",
    );
    let (status, incident) = alice
        .post(
            "/api/v1/incidents",
            json!({
                "kind": "mass_rejection", "platform": "mturk", "requester_id": RID,
                "requester_name": "Acme Research",
                "happened_from": "2026-11-20", "description": "Every submission rejected."
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{incident}");
    let incident_id = incident["id"].as_str().expect("id");
    assert_error(
        &acme
            .post(
                &format!("/api/v1/incidents/{incident_id}/corroborations"),
                json!({}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "requester_voice",
    );
    assert_error(
        &acme
            .post(
                "/api/v1/reports",
                json!({"target_type": "review", "target": id, "reason": "insults"}),
            )
            .await,
        StatusCode::FORBIDDEN,
        "requester_voice",
    );
    let (status, _) = acme
        .post(
            &format!("/api/v1/incidents/{incident_id}/comments"),
            comment("We are looking into this batch."),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    // Lifted: a worker's account again.
    let (status, _) = admin.send(admin.request(Method::DELETE, speaks_for)).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = acme.post("/api/v1/reviews", review(5000, 60)).await;
    assert_eq!(status, StatusCode::CREATED);
    server.stop().await;
}

both_backends!(a_requester_answers_in_comments_and_nothing_more);

/// Three instances that follow each other: Bob on B comments on his copy of Alice's review from
/// A, Carol on C answers him on hers; every instance shows the same thread. B's moderator removes
/// Bob's comment, and every copy shows it removed; Carol deletes her answer, and it is gone
/// everywhere.
async fn a_comment_thread_across_instances(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let c = federating(backend).await;
    for (follower, target) in [(&a, &b), (&a, &c), (&b, &a), (&b, &c), (&c, &a), (&c, &b)] {
        follow_instance(follower, target).await;
    }
    let alice = a.signed_in("alice", PASSWORD).await;
    let (status, _) = alice.post("/api/v1/reviews", review(300, 3600)).await;
    assert_eq!(status, StatusCode::CREATED);
    let on_a = the_review(&a).await;
    let on_b = the_review(&b).await;
    let on_c = the_review(&c).await;
    let bob = b.signed_in("bob", PASSWORD).await;
    let (status, bobs) = bob
        .post(
            &format!("/api/v1/reviews/{on_b}/comments"),
            comment("Paid me within a day too."),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{bobs}");
    // A hears of it from B; C hears of it from B and from A's announce, and keeps one copy.
    let shown_on = |server: &TestServer, id: String| {
        let client = Client::new(server);
        async move { threads(&client, "reviews", &id).await }
    };
    for (server, id) in [(&a, &on_a), (&c, &on_c)] {
        eventually("Bob's comment reaches the instance", || async {
            shown_on(server, id.clone()).await["count"] == 1
        })
        .await;
    }
    let on_c_thread = shown_on(&c, on_c.clone()).await;
    let bobs_on_c = on_c_thread["threads"][0].clone();
    assert_eq!(bobs_on_c["body"], "Paid me within a day too.");
    assert_eq!(bobs_on_c["origin"], crate::federation::domain(&b));
    let carol = c.signed_in("carol", PASSWORD).await;
    let (status, carols) = carol
        .post(
            &format!("/api/v1/reviews/{on_c}/comments"),
            answer("Took a week for me.", &bobs_on_c),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{carols}");
    for (server, id) in [(&a, &on_a), (&b, &on_b), (&c, &on_c)] {
        eventually("the same thread on every instance", || async {
            let shown = shown_on(server, id.clone()).await;
            shown["count"] == 2
                && shown["threads"][0]["replies"][0]["body"] == "Took a week for me."
        })
        .await;
    }

    // A new follower's backfill of B pages through Bob's comment, replying to A's review.
    let page =
        crate::federation::activity_json(&b, "/actor/outbox?page=true&section=comment").await;
    assert_eq!(
        page["orderedItems"].as_array().map(Vec::len),
        Some(1),
        "{page}"
    );
    assert_eq!(
        page["orderedItems"][0]["object"]["inReplyTo"],
        format!("{}/reviews/{on_a}", a.base)
    );
    // B's moderator removes Bob's comment: the removal reaches every copy.
    let moderator = signed_in_as(&b, "mod_b", Role::Moderator).await;
    let (status, body) = moderator
        .post(
            &format!(
                "/api/v1/comments/{}/removal",
                bobs["id"].as_str().expect("id")
            ),
            json!({"reason": "Off topic"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT, "{body}");
    for (server, id) in [(&a, &on_a), (&b, &on_b), (&c, &on_c)] {
        eventually("every copy is removed", || async {
            let shown = shown_on(server, id.clone()).await;
            shown["threads"][0]["state"] == "removed" && shown["count"] == 1
        })
        .await;
        let shown = shown_on(server, id.clone()).await;
        assert!(shown["threads"][0]["body"].is_null(), "{shown}");
    }
    // Carol deletes her answer: gone everywhere, words and all.
    let (status, _) = carol
        .send(carol.request(
            Method::DELETE,
            &format!("/api/v1/comments/{}", carols["id"].as_str().expect("id")),
        ))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for (server, id) in [(&a, &on_a), (&b, &on_b)] {
        eventually("the deletion reaches the copy", || async {
            !shown_on(server, id.clone())
                .await
                .to_string()
                .contains("Took a week")
        })
        .await;
    }
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

both_backends!(a_comment_thread_across_instances);

/// Replies from the fediverse: a Mastodon-shaped reply to A's review and a Lemmy-shaped
/// comment on it, delivered signed to A's inboxes, become comments there (Mastodon's leading
/// mention dropped, Lemmy's Markdown kept); their deletion takes them away. A local comment
/// goes to the requester feed's Lemmy and Mastodon followers in the shape each reads.
async fn fediverse_replies_become_comments(backend: TestBackend) {
    let a = federating(backend).await;
    // B stands in for the other server: its instance key signs, its actor is the author.
    let b = federating(backend).await;
    let b_data = signing_as(&b).await;
    let (sink_base, received) = crate::federation::sink().await;
    let feed = format!("r/mturk/{RID}");
    for (who, software) in [("lemmy", "lemmy"), ("mastodon", "mastodon")] {
        add_follower(&a, &format!("{sink_base}/{who}"), "Person", &feed, software);
    }
    let alice = a.signed_in("alice", PASSWORD).await;
    let (status, created) = alice.post("/api/v1/reviews", review(300, 3600)).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().expect("id").to_owned();
    let review_url = format!("{}/reviews/{id}", a.base);
    let author = format!("{}/actor", b.base);
    let mastodon = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", {"sensitive": "as:sensitive"}],
        "id": format!("{}/users/rosa/statuses/1/activity", b.base),
        "type": "Create",
        "actor": author,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [format!("{}/u/alice", a.base)],
        "object": {
            "id": format!("{}/users/rosa/statuses/1", b.base),
            "type": "Note",
            "summary": null,
            "inReplyTo": review_url,
            "published": "2026-11-30T11:00:00Z",
            "url": format!("{}/@rosa/1", b.base),
            "attributedTo": author,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [format!("{}/u/alice", a.base)],
            "sensitive": false,
            "content": format!("<p><span class=\"h-card\"><a href=\"{}/u/alice\" class=\"u-url mention\">@<span>alice</span></a></span> Same here &amp; thanks.</p>", a.base),
            "tag": [{"type": "Mention", "href": format!("{}/u/alice", a.base), "name": "@alice"}]
        }
    })
    .to_string();
    let lemmy = json!({
        "@context": "https://join-lemmy.org/context.json",
        "id": format!("{}/activities/create/2", b.base),
        "type": "Create",
        "actor": author,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "cc": [format!("{}/r/mturk/{RID}", a.base)],
        "audience": format!("{}/r/mturk/{RID}", a.base),
        "object": {
            "type": "Note",
            "id": format!("{}/comment/2", b.base),
            "attributedTo": author,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "cc": [format!("{}/r/mturk/{RID}", a.base)],
            "content": "<p><strong>Same</strong> batch rejected for me.</p>",
            "mediaType": "text/html",
            "source": {"content": "**Same** batch rejected for me.", "mediaType": "text/markdown"},
            "inReplyTo": review_url,
            "published": "2026-11-30T12:00:00.000000Z",
            "distinguished": false
        }
    })
    .to_string();
    for activity in [&mastodon, &lemmy] {
        assert_eq!(
            signed_post(&b_data, &a, activity, activity).await,
            StatusCode::ACCEPTED
        );
    }
    let shown = threads(&Client::new(&a), "reviews", &id).await;
    let bodies: Vec<&str> = shown["threads"]
        .as_array()
        .expect("threads")
        .iter()
        .filter_map(|t| t["body"].as_str())
        .collect();
    assert_eq!(
        bodies,
        ["Same here & thanks.", "**Same** batch rejected for me."],
        "{shown}"
    );
    assert_eq!(shown["threads"][0]["remote_author"], author.as_str());
    // The Mastodon user deletes the reply.
    let delete = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/users/rosa/statuses/1#delete", b.base),
        "type": "Delete",
        "actor": author,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": {"id": format!("{}/users/rosa/statuses/1", b.base), "type": "Tombstone"}
    })
    .to_string();
    assert_eq!(
        signed_post(&b_data, &a, &delete, &delete).await,
        StatusCode::ACCEPTED
    );
    let shown = threads(&Client::new(&a), "reviews", &id).await;
    assert_eq!(shown["count"], 1, "{shown}");
    assert!(!shown.to_string().contains("thanks"), "{shown}");

    // Alice's own comment goes to the feed's Lemmy and Mastodon followers (who got the
    // review before it).
    let (status, mine) = alice
        .post(
            &format!("/api/v1/reviews/{id}/comments"),
            comment("Thanks, both of you."),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let about_comment = || {
        received
            .lock()
            .expect("sink")
            .iter()
            .filter(|(_, body)| body.to_string().contains("/comments/"))
            .cloned()
            .collect::<Vec<(String, Value)>>()
    };
    eventually("both feed followers get the comment", || async {
        about_comment().len() == 2
    })
    .await;
    let mut got = about_comment();
    got.sort_by(|x, y| x.0.cmp(&y.0));
    let replace = [
        (a.base.as_str(), "https://picket.example"),
        (id.as_str(), "[review]"),
        (mine["id"].as_str().expect("id"), "[comment]"),
    ];
    for (who, body) in got {
        insta::assert_json_snapshot!(format!("comment_to_{who}"), normalised(body, &replace));
    }
    a.stop().await;
    b.stop().await;
}

both_backends!(fediverse_replies_become_comments);
