//! Moderation and federation policy across real instances: a report travels home as a `Flag` without its reporter, the home moderator's removal reaches every copy and every modlog, blocks cut both directions and unblocks restore, allowlist mode, subscribed lists, foreign `Flag` shapes, suspensions, approvals and rate limits.

use picket_core::accounts::Role;
use picket_db::delivery::Direction;
use picket_server::admin::ListKind;
use picket_test_support::{TestBackend, both_backends};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::federated_incidents::follow_instance;
use crate::federation::{
    PASSWORD, delivery_counts, domain, eventually, federating, follows, reviews_counted,
    signed_post, signed_post_response, signing_as,
};
use crate::reviews::{RID, review};
use crate::support::{Client, TestServer, assert_error};

/// A signed-in moderator of `server`.
async fn moderator(server: &TestServer, name: &str) -> Client {
    server.create_user(name, Role::Moderator, PASSWORD).await;
    Client::new(server).login(name, PASSWORD).await
}

/// A small activity of `kind` from `from`'s instance actor about `to`'s, with an id of its own
/// (`n`), as JSON text to sign and post.
fn between(kind: &str, from: &TestServer, to: &TestServer, n: u32) -> String {
    json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": kind,
        "id": format!("{}/activities/{}-{n}", from.base, kind.to_lowercase()),
        "actor": format!("{}/actor", from.base),
        "object": format!("{}/actor", to.base),
    })
    .to_string()
}

async fn modlog(server: &TestServer) -> Vec<Value> {
    let (status, page) = Client::new(server).get("/api/v1/modlog").await;
    assert_eq!(status, StatusCode::OK);
    page["items"].as_array().cloned().unwrap_or_default()
}

/// The id of the instance's only review of the test requester.
async fn only_review(server: &TestServer) -> String {
    let (_, list) = Client::new(server)
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    list["items"][0]["id"]
        .as_str()
        .expect("a review")
        .to_owned()
}

/// Bob on B reports his copy of Alice's review from A. A's moderator sees the report, from B
/// and not from Bob, and removes the review; the removal reaches B and C and their aggregates,
/// and all three modlogs show it. A restoration comes back the same way.
async fn a_report_goes_home_and_the_removal_comes_back(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let c = federating(backend).await;
    follow_instance(&b, &a).await;
    follow_instance(&c, &a).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    let (status, created) = alice.post("/api/v1/reviews", review(300, 3600)).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().expect("id").to_owned();
    for follower in [&b, &c] {
        eventually("the review reaches the followers", || async {
            reviews_counted(follower).await == 1
        })
        .await;
    }

    let bob = b.signed_in("bob", PASSWORD).await;
    let copy = only_review(&b).await;
    let (status, report) = bob
        .post(
            "/api/v1/reports",
            json!({"target_type": "review", "target": copy, "reason": "discloses_codes",
                   "text": "It gives the completion code", "forward": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let again = bob
        .post(
            "/api/v1/reports",
            json!({"target_type": "review", "target": copy, "reason": "threats"}),
        )
        .await;
    assert_error(&again, StatusCode::CONFLICT, "already_reported");
    let vague = bob
        .post(
            "/api/v1/reports",
            json!({"target_type": "review", "target": copy, "reason": "other"}),
        )
        .await;
    assert_error(
        &vague,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let forbidden = bob.get("/api/v1/moderation/reports").await;
    assert_error(&forbidden, StatusCode::FORBIDDEN, "forbidden");

    // Forwarding is the reporter's choice: Carol's report on C, without it, stays on C.
    let outbox_rows = |server: &TestServer| {
        server
            .db
            .open()
            .with_conn(|conn| {
                use diesel::prelude::*;
                Ok(picket_db::schema::outbox::table
                    .count()
                    .get_result::<i64>(conn)?)
            })
            .expect("outbox")
    };
    let before = outbox_rows(&c);
    let carol = c.signed_in("carol", PASSWORD).await;
    let (status, kept) = carol
        .post(
            "/api/v1/reports",
            json!({"target_type": "review", "target": only_review(&c).await, "reason": "threats"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{kept}");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    assert_eq!(outbox_rows(&c), before, "no Flag left C");

    let mod_a = moderator(&a, "mona").await;
    eventually("the Flag reaches A's queue", || async {
        mod_a.get("/api/v1/moderation/reports").await.1["items"]
            .as_array()
            .is_some_and(|items| !items.is_empty())
    })
    .await;
    let queue = mod_a.get("/api/v1/moderation/reports").await.1;
    let flagged = &queue["items"][0];
    assert_eq!(flagged["target_type"], "review");
    assert_eq!(flagged["target"], id);
    assert_eq!(flagged["origin"], domain(&b));
    assert_eq!(flagged["reason"], "discloses_codes");
    assert!(
        flagged["text"]
            .as_str()
            .is_some_and(|t| t.contains("It gives the completion code")),
        "{flagged}"
    );
    assert!(
        !queue.to_string().contains("bob"),
        "nothing names the reporter: {queue}"
    );
    // What B sent is not kept once delivered: the outbox holds the record, not the words.
    let sent = || {
        b.db.open()
            .with_conn(|conn| {
                use diesel::prelude::*;
                Ok(picket_db::schema::outbox::table
                    .select(picket_db::schema::outbox::body)
                    .load::<String>(conn)?)
            })
            .expect("B's outbox")
    };
    eventually("B forgets the delivered Flag's words", || async {
        sent().iter().all(|body| !body.contains("completion code"))
    })
    .await;

    let report_id = flagged["id"].as_str().expect("id").to_owned();
    let unexplained = mod_a
        .post(
            &format!("/api/v1/moderation/reports/{report_id}/resolution"),
            json!({"action": "remove", "reason": " "}),
        )
        .await;
    assert_error(
        &unexplained,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let (status, resolved) = mod_a
        .post(
            &format!("/api/v1/moderation/reports/{report_id}/resolution"),
            json!({"action": "remove", "reason": "Contains a completion code"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{resolved}");
    assert_eq!(resolved["state"], "resolved");

    // Removed, not deleted: out of aggregates at once, its page says why.
    assert_eq!(reviews_counted(&a).await, 0);
    let (status, shown) = Client::new(&a).get(&format!("/api/v1/reviews/{id}")).await;
    assert_eq!(status, StatusCode::OK, "{shown}");
    assert_eq!(shown["state"], "removed");
    assert_eq!(shown["removed_reason"], "Contains a completion code");
    assert!(shown.get("body").is_none(), "the public no longer reads it");
    let (_, for_moderators) = mod_a.get(&format!("/api/v1/reviews/{id}")).await;
    assert_eq!(for_moderators["body"], "Clear instructions, paid on time.");
    for follower in [&b, &c] {
        eventually("the removal reaches the followers", || async {
            reviews_counted(follower).await == 0
        })
        .await;
    }

    let home = modlog(&a).await;
    assert_eq!(home[0]["action"], "remove", "{home:?}");
    assert_eq!(home[0]["reason"], "Contains a completion code");
    assert_eq!(home[0]["role"], "moderator");
    assert!(home[0].get("moderator").is_none(), "no names by default");
    for follower in [&b, &c] {
        let log = modlog(follower).await;
        let entry = log
            .iter()
            .find(|e| e["action"] == "remote_removal")
            .unwrap_or_else(|| panic!("a remote removal in the log: {log:?}"));
        assert_eq!(entry["reason"], "Contains a completion code");
        assert_eq!(entry["origin"], domain(&a));
        assert_eq!(entry["role"], "remote");
    }
    let atom = crate::support::http()
        .get(format!("{}/feeds/modlog", a.base))
        .send()
        .await
        .expect("atom");
    assert_eq!(atom.status(), StatusCode::OK);
    assert!(
        atom.text()
            .await
            .expect("text")
            .contains("Contains a completion code")
    );

    // Restored on A: back everywhere.
    let (status, _) = mod_a
        .delete(&format!("/api/v1/reviews/{id}/removal"), json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    for server in [&a, &b, &c] {
        eventually("the restoration reaches every instance", || async {
            reviews_counted(server).await == 1
        })
        .await;
    }
    assert_eq!(modlog(&a).await[0]["action"], "restore");
    eventually("B logs the restoration", || async {
        modlog(&b).await[0]["action"] == "remote_restore"
    })
    .await;
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

both_backends!(a_report_goes_home_and_the_removal_comes_back);

/// A and B follow each other. A block on A stops delivery both ways, refuses B's fetches and
/// hides what B sent; an unblock shows it again and lets new activity through.
async fn a_block_stops_both_directions_and_an_unblock_restores(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    follow_instance(&b, &a).await;
    follow_instance(&a, &b).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    let bob = b.signed_in("bob", PASSWORD).await;
    assert_eq!(
        alice.post("/api/v1/reviews", review(100, 600)).await.0,
        StatusCode::CREATED
    );
    assert_eq!(
        bob.post("/api/v1/reviews", review(200, 600)).await.0,
        StatusCode::CREATED
    );
    for server in [&a, &b] {
        eventually("each has both reviews", || async {
            reviews_counted(server).await == 2
        })
        .await;
    }

    picket_server::admin::set_domain(&a.config, ListKind::Block, true, &domain(&b), "Spam")
        .expect("block");
    assert_eq!(reviews_counted(&a).await, 1, "B's review is hidden on A");
    let (_, listed) = Client::new(&a)
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    assert_eq!(listed["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(modlog(&a).await[0]["action"], "block_domain");

    assert_eq!(
        alice.post("/api/v1/reviews", review(110, 600)).await.0,
        StatusCode::CREATED
    );
    eventually("A gives up its delivery to B", || async {
        delivery_counts(&a)
            .iter()
            .any(|(state, _)| state == "failed")
    })
    .await;
    assert_eq!(reviews_counted(&b).await, 2, "nothing new reached B");
    // B's posts and fetches are refused.
    let b_data = signing_as(&b).await;
    let follow = between("Follow", &b, &a, 1);
    assert_eq!(
        signed_post(&b_data, &a, &follow, &follow).await,
        StatusCode::FORBIDDEN
    );
    let fetched = activitypub_federation::fetch::fetch_object_http::<_, Value>(
        &format!("{}/actor", a.base).parse().expect("url"),
        &b_data,
    )
    .await;
    assert!(
        fetched.is_err(),
        "a blocked instance cannot fetch A's actor"
    );

    picket_server::admin::set_domain(&a.config, ListKind::Block, false, &domain(&b), "Sorted out")
        .expect("unblock");
    assert_eq!(
        reviews_counted(&a).await,
        3,
        "B's review is back on A, beside A's two"
    );
    assert_eq!(modlog(&a).await[0]["action"], "unblock_domain");
    assert_eq!(
        bob.post("/api/v1/reviews", review(220, 600)).await.0,
        StatusCode::CREATED
    );
    eventually("new reviews from B reach A again", || async {
        reviews_counted(&a).await == 4
    })
    .await;
    let unknown =
        picket_server::admin::set_domain(&a.config, ListKind::Block, false, &domain(&b), "again");
    assert!(unknown.is_err(), "unblocking what is not blocked says so");
    a.stop().await;
    b.stop().await;
}

both_backends!(a_block_stops_both_directions_and_an_unblock_restores);

/// In allowlist mode only allowed instances may follow (or post anything): C is allowed, B is not.
async fn allowlist_mode_refuses_an_unlisted_peer(backend: TestBackend) {
    let a = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.federation.mode = picket_core::moderation::FederationMode::Allowlist;
    })
    .await;
    let b = federating(backend).await;
    let c = federating(backend).await;
    picket_server::admin::set_domain(&a.config, ListKind::Allow, true, &domain(&c), "Partner")
        .expect("allow C");
    follow_instance(&c, &a).await;
    let refused =
        picket_server::admin::follow(&b.config, &format!("instance@{}", domain(&a))).await;
    assert!(refused.is_err(), "A refuses to be looked up by B");
    let b_data = signing_as(&b).await;
    let follow = between("Follow", &b, &a, 1);
    assert_eq!(
        signed_post(&b_data, &a, &follow, &follow).await,
        StatusCode::FORBIDDEN
    );
    let inbound = follows(&a, Direction::Inbound);
    assert_eq!(inbound.len(), 1, "{inbound:?}");
    assert_eq!(inbound[0].remote_actor, format!("{}/actor", c.base));
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

both_backends!(allowlist_mode_refuses_an_unlisted_peer);

/// A subscribes to C's published blocklist. When C blocks B, A soon refuses B too; when C lifts
/// the block, so does A. Lists round-trip through Mastodon's CSV format.
async fn a_subscribed_list_change_takes_effect(backend: TestBackend) {
    let a = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.federation.list_refresh_seconds = 1;
    })
    .await;
    let b = federating(backend).await;
    let c = federating(backend).await;
    let list = format!("{}/api/v1/federation/blocks.csv", c.base);
    picket_server::admin::subscription(&a.config, &list, ListKind::Block, true).expect("subscribe");
    let b_data = signing_as(&b).await;
    let probe = |n: u32| between("Like", &b, &a, n);
    assert_eq!(
        signed_post(&b_data, &a, &probe(0), &probe(0)).await,
        StatusCode::ACCEPTED
    );

    picket_server::admin::set_domain(&c.config, ListKind::Block, true, &domain(&b), "Harassment")
        .expect("C blocks B");
    let published = crate::support::http_get(&list)
        .await
        .expect("list")
        .text()
        .await
        .expect("text");
    assert!(
        published.starts_with(
            "#domain,#severity,#reject_media,#reject_reports,#public_comment,#obfuscate"
        ),
        "{published}"
    );
    assert!(published.contains(&format!("{},suspend", domain(&b))));
    let mut n = 0;
    eventually("A takes up C's block", || {
        n += 1;
        let attempt = probe(n);
        let b_data = &b_data;
        let a = &a;
        async move { signed_post(b_data, a, &attempt, &attempt).await == StatusCode::FORBIDDEN }
    })
    .await;

    picket_server::admin::set_domain(&c.config, ListKind::Block, false, &domain(&b), "Resolved")
        .expect("C unblocks B");
    eventually("A drops the block with C", || {
        n += 1;
        let attempt = probe(n);
        let b_data = &b_data;
        let a = &a;
        async move { signed_post(b_data, a, &attempt, &attempt).await == StatusCode::ACCEPTED }
    })
    .await;

    // Export and import in Mastodon's format.
    picket_server::admin::set_domain(&c.config, ListKind::Block, true, "spam.example", "Spam")
        .expect("block");
    let exported =
        picket_server::admin::export_domains(&c.config, ListKind::Block).expect("export");
    let added = picket_server::admin::import_domains(&b.config, ListKind::Block, &exported)
        .expect("import");
    assert_eq!(added, 1);
    let again = picket_server::admin::export_domains(&b.config, ListKind::Block).expect("export");
    assert_eq!(again, exported);
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

both_backends!(a_subscribed_list_change_takes_effect);

/// Reports in Lemmy's shape (one object, reason in `summary`) and Mastodon's (an array with
/// the account, reason in `content`) land in the queue, from their instance.
async fn lemmy_and_mastodon_flags_reach_the_queue(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    let (_, created) = alice.post("/api/v1/reviews", review(300, 3600)).await;
    let review_url = format!("{}/reviews/{}", a.base, created["id"].as_str().expect("id"));
    let b_data = signing_as(&b).await;
    let actor = format!("{}/actor", b.base);
    let lemmy = json!({
        "@context": "https://join-lemmy.org/context.json",
        "actor": actor,
        "to": [format!("{}/r/mturk/{RID}", a.base)],
        "object": review_url,
        "summary": "Threats against the requester",
        "type": "Flag",
        "id": format!("{}/activities/flag/1", b.base),
    })
    .to_string();
    let mastodon = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "id": format!("{}/flags/2", b.base),
        "type": "Flag",
        "actor": actor,
        "content": "Names a worker by their ID",
        "object": [format!("{}/u/alice", a.base), review_url],
    })
    .to_string();
    for flag in [&lemmy, &mastodon] {
        assert_eq!(
            signed_post(&b_data, &a, flag, flag).await,
            StatusCode::ACCEPTED
        );
    }
    let mod_a = moderator(&a, "mona").await;
    let (_, queue) = mod_a.get("/api/v1/moderation/reports").await;
    let items = queue["items"].as_array().expect("items");
    assert_eq!(items.len(), 2, "{queue}");
    for item in items {
        assert_eq!(item["origin"], domain(&b));
        assert_eq!(item["target_type"], "review");
    }
    let texts: Vec<&str> = items.iter().filter_map(|i| i["text"].as_str()).collect();
    assert!(
        texts.contains(&"Threats against the requester"),
        "{texts:?}"
    );
    assert!(texts.contains(&"Names a worker by their ID"), "{texts:?}");
    assert!(items.iter().any(|i| i["reason"] == "threats"));
    let (_, dismissed) = mod_a
        .post(
            &format!(
                "/api/v1/moderation/reports/{}/resolution",
                items[0]["id"].as_str().expect("id")
            ),
            json!({"action": "dismiss", "reason": "Not a threat"}),
        )
        .await;
    assert_eq!(dismissed["action"], "dismiss");
    assert_eq!(modlog(&a).await[0]["action"], "dismiss_report");
    a.stop().await;
    b.stop().await;
}

both_backends!(lemmy_and_mastodon_flags_reach_the_queue);

/// A suspension ends the account's sessions and federates: followers hide its reviews until it
/// is lifted. Approval mode holds new accounts until a moderator approves them.
async fn suspensions_federate_and_approvals_admit(backend: TestBackend) {
    let a = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.accounts.registration = picket_core::accounts::RegistrationMode::Approval;
    })
    .await;
    let b = federating(backend).await;
    follow_instance(&b, &a).await;
    a.create_user("alice", Role::Worker, PASSWORD).await;
    let alice = Client::new(&a).login("alice", PASSWORD).await;
    assert_eq!(
        alice.post("/api/v1/reviews", review(300, 3600)).await.0,
        StatusCode::CREATED
    );
    eventually("B has the review", || async {
        reviews_counted(&b).await == 1
    })
    .await;

    let mod_a = moderator(&a, "mona").await;
    let (status, _) = mod_a
        .post(
            "/api/v1/moderation/accounts/alice/suspension",
            json!({"reason": "Posting completion codes"}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        alice.get("/api/v1/account").await.0,
        StatusCode::UNAUTHORIZED,
        "her session ended"
    );
    eventually("B hides the suspended account's review", || async {
        reviews_counted(&b).await == 0
    })
    .await;
    let not_mine = mod_a
        .post(
            "/api/v1/moderation/accounts/mona/suspension",
            json!({"reason": "self"}),
        )
        .await;
    assert_error(&not_mine, StatusCode::FORBIDDEN, "forbidden");
    // Nor through a report: a moderator does not suspend an admin.
    a.create_user("root", Role::Admin, PASSWORD).await;
    a.create_user("carol", Role::Worker, PASSWORD).await;
    let (status, report) = Client::new(&a)
        .login("carol", PASSWORD)
        .await
        .post(
            "/api/v1/reports",
            json!({"target_type": "account", "target": "root", "reason": "insults"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{report}");
    let over_an_admin = mod_a
        .post(
            &format!(
                "/api/v1/moderation/reports/{}/resolution",
                report["id"].as_str().expect("id")
            ),
            json!({"action": "suspend", "reason": "Insults"}),
        )
        .await;
    assert_error(&over_an_admin, StatusCode::FORBIDDEN, "forbidden");
    picket_server::admin::set_suspended(&a.config, "alice", false, "Appeal upheld")
        .expect("unsuspend");
    eventually("B shows it again", || async {
        reviews_counted(&b).await == 1
    })
    .await;
    let actions: Vec<Value> = modlog(&a)
        .await
        .iter()
        .map(|e| e["action"].clone())
        .collect();
    assert_eq!(actions[..2], [json!("unsuspend"), json!("suspend")]);

    let (status, _) = Client::new(&a)
        .post(
            "/api/v1/accounts",
            json!({"username": "newcomer", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "waiting for approval");
    let (_, pending) = mod_a.get("/api/v1/moderation/accounts/pending").await;
    assert_eq!(pending[0]["username"], "newcomer");
    let (status, _) = mod_a
        .post("/api/v1/moderation/accounts/newcomer/approval", json!({}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    Client::new(&a).login("newcomer", PASSWORD).await;
    assert_eq!(modlog(&a).await[0]["action"], "approve_account");
    a.stop().await;
    b.stop().await;
}

both_backends!(suspensions_federate_and_approvals_admit);

/// Writes per account and inbox posts per instance are limited: 429 with `Retry-After`.
async fn writes_and_inbox_posts_are_rate_limited(backend: TestBackend) {
    let a = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.limits.writes_per_minute = 2;
        c.limits.inbox_per_minute = 2;
    })
    .await;
    let b = federating(backend).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    for reward in [100, 200] {
        assert_eq!(
            alice.post("/api/v1/reviews", review(reward, 600)).await.0,
            StatusCode::CREATED
        );
    }
    let response = alice
        .request(reqwest::Method::POST, "/api/v1/reviews")
        .json(&review(300, 600))
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.headers().contains_key("retry-after"));

    let b_data = signing_as(&b).await;
    let like = |n: u32| between("Like", &b, &a, n);
    for n in 0..2 {
        assert_eq!(
            signed_post(&b_data, &a, &like(n), &like(n)).await,
            StatusCode::ACCEPTED
        );
    }
    let limited = signed_post_response(&b_data, &a, &like(2), &like(2)).await;
    assert_eq!(limited.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(limited.headers().contains_key("retry-after"));
    a.stop().await;
    b.stop().await;
}

both_backends!(writes_and_inbox_posts_are_rate_limited);

/// Signs `activity` as `signer` (an actor of `from`'s) and posts it to `to`'s shared inbox, as
/// another worker of that instance could; whether the receiver took it.
async fn post_as(from: &TestServer, signer: &str, to: &TestServer, activity: Value) -> bool {
    use activitypub_federation::activity_sending::SendActivityTask;
    let data = signing_as(from).await;
    let actor =
        picket_apub::ApubActor::local(&data, picket_apub::LocalActor::Person(signer.to_owned()))
            .await
            .expect("the signer's actor");
    let activity: picket_apub::InboxActivity =
        serde_json::from_value(activity).expect("an activity");
    let activity = activitypub_federation::protocol::context::WithContext::new(
        activity,
        json!("https://www.w3.org/ns/activitystreams"),
    );
    let inbox = format!("{}/inbox", to.base).parse().expect("inbox");
    let mut taken = true;
    for task in SendActivityTask::prepare(&activity, &actor, vec![inbox], &data)
        .await
        .expect("prepare")
    {
        taken &= task.sign_and_send(&data).await.is_ok();
    }
    taken
}

/// `post_as`, for activities the receiver must take.
pub(crate) async fn send_as(from: &TestServer, signer: &str, to: &TestServer, activity: Value) {
    assert!(post_as(from, signer, to, activity).await, "sent");
}

/// `post_as`, for activities the receiver may refuse: whatever it answers is ignored, and the
/// test checks the effect instead.
pub(crate) async fn try_send_as(from: &TestServer, signer: &str, to: &TestServer, activity: Value) {
    post_as(from, signer, to, activity).await;
}

/// A worker may delete what they wrote, and nothing else: another worker of the same instance
/// can neither delete a colleague's review, nor everything the colleague wrote, nor "remove" it.
async fn only_authors_and_their_instance_delete(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    follow_instance(&b, &a).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    a.signed_in("mallory", PASSWORD).await;
    let (_, created) = alice.post("/api/v1/reviews", review(300, 3600)).await;
    let review_url = format!("{}/reviews/{}", a.base, created["id"].as_str().expect("id"));
    eventually("B has the review", || async {
        reviews_counted(&b).await == 1
    })
    .await;
    let mallory = format!("{}/u/mallory", a.base);
    for (n, object, summary) in [
        (1, review_url.clone(), None),
        (2, format!("{}/u/alice", a.base), None),
        (3, review_url.clone(), Some("Removed")),
    ] {
        let mut delete = json!({
            "type": "Delete",
            "id": format!("{}/activities/forged-{n}", a.base),
            "actor": mallory,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": object,
        });
        if let Some(summary) = summary {
            delete["summary"] = json!(summary);
        }
        send_as(&a, "mallory", &b, delete).await;
    }
    // B took each in (a bad signature would have been refused before) and did nothing.
    let received: Vec<String> =
        b.db.open()
            .with_conn(|conn| {
                use diesel::prelude::*;
                Ok(picket_db::schema::received_activities::table
                    .select(picket_db::schema::received_activities::activity_id)
                    .load::<String>(conn)?)
            })
            .expect("received");
    for n in 1..=3 {
        let id = format!("{}/activities/forged-{n}", a.base);
        assert!(received.contains(&id), "B processed {id}: {received:?}");
    }
    assert_eq!(reviews_counted(&b).await, 1, "the review survives");
    assert!(modlog(&b).await.is_empty(), "no removal was logged on B");
    a.stop().await;
    b.stop().await;
}

both_backends!(only_authors_and_their_instance_delete);
