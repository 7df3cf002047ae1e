//! Turkopticon compatibility: the exact bytes TO1 and TO2 clients parse, CORS for extensions, and the error shape.

use picket_core::accounts::Role;
use picket_test_support::{TestBackend, both_backends};
use reqwest::StatusCode;
use serde_json::json;

use crate::reviews::{RID, review};
use crate::support::{Client, TestServer};

const PASSWORD: &str = "correct horse battery";

async fn turkopticon_shapes(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let bob = server.signed_in("bob", PASSWORD).await;
    // Two reviews: $1.50 in 90 s and $3.00 + $0.60 bonus in 360 s; scores differ so means are not trivial.
    assert_eq!(
        alice.post("/api/v1/reviews", review(150, 90)).await.0,
        StatusCode::CREATED
    );
    let mut second = review(300, 360);
    second["bonus_minor"] = json!(60);
    second["scores"] = json!({"pay": 3, "fairness": 2, "promptness": 4, "communication": 5});
    second["recommend"] = json!("no");
    second["approval"] = json!("rejected");
    second["time_to_decision_seconds"] = json!(172800);
    second["tos_violation"] = json!(true);
    second["tos_explanation"] = json!("asked for personal email");
    assert_eq!(
        bob.post("/api/v1/reviews", second).await.0,
        StatusCode::CREATED
    );

    let http = crate::support::http();
    let to1 = http
        .get(format!(
            "{}/api/multi-attrs.php?ids={RID},AUNKNOWN12345",
            server.base
        ))
        .header("origin", "chrome-extension://abcdefghijklmnop")
        .send()
        .await
        .expect("TO1");
    assert_eq!(to1.status(), StatusCode::OK);
    assert_eq!(to1.headers()["content-type"], "text/html; charset=utf-8");
    assert_eq!(to1.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        to1.text().await.expect("body"),
        format!(
            "{{\"{RID}\":{{\"name\":\"Acme Research\",\"attrs\":{{\"comm\":\"4.50\",\"pay\":\"3.50\",\"fair\":\"3.50\",\"fast\":\"3.50\"}},\"reviews\":2,\"tos_flags\":1}},\"AUNKNOWN12345\":\"\"}}"
        )
    );

    let to2 = http
        .get(format!(
            "{}/requesters?rids=AUNKNOWN12345,{RID}",
            server.base
        ))
        .header("accept", "application/vnd.turkopticon.v2+json")
        .header("origin", "https://worker.mturk.com")
        .send()
        .await
        .expect("TO2");
    assert_eq!(to2.status(), StatusCode::OK);
    assert_eq!(to2.headers()["access-control-allow-origin"], "*");
    let window = "{\"reward\":[4.5,450,2],\"pending\":129600,\"comm\":[2,2,2],\"recommend\":[1,2,2],\"rejected\":[1,2,2],\"tos\":[1,2],\"broken\":[0,2]}";
    assert_eq!(
        to2.text().await.expect("body"),
        format!(
            "{{\"data\":[{{\"type\":\"requesters\",\"id\":\"{RID}\",\"attributes\":{{\"rid\":\"{RID}\",\"name\":\"Acme Research\",\"aliases\":[],\"aggregates\":{{\"all\":{window},\"recent\":{window}}}}}}}],\"status\":200}}"
        )
    );

    let sparse = http
        .get(format!(
            "{}/requesters/{RID}?fields[requesters]=rid,aggregates",
            server.base
        ))
        .send()
        .await
        .expect("TO2 one");
    let sparse: serde_json::Value = sparse.json().await.expect("json");
    let attributes = sparse["data"]["attributes"]
        .as_object()
        .expect("attributes");
    assert_eq!(attributes.keys().collect::<Vec<_>>(), ["rid", "aggregates"]);
    let aggregates = attributes["aggregates"]["recent"]
        .as_object()
        .expect("recent");
    assert_eq!(
        aggregates.keys().collect::<Vec<_>>(),
        [
            "reward",
            "pending",
            "comm",
            "recommend",
            "rejected",
            "tos",
            "broken"
        ]
    );
    // One requester is one `data` object; one this instance knows nothing of is a 404, as
    // Turkopticon 2 answered.
    let one: serde_json::Value = http
        .get(format!("{}/requesters/{RID}", server.base))
        .send()
        .await
        .expect("TO2 one")
        .json()
        .await
        .expect("json");
    assert_eq!(one["data"]["id"], RID, "{one}");
    assert_eq!(one["status"], 200, "{one}");
    let unknown = http
        .get(format!("{}/requesters/AUNKNOWN12345", server.base))
        .send()
        .await
        .expect("TO2 unknown");
    assert_eq!(unknown.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        unknown.text().await.expect("body"),
        "{\"errors\":[{\"status\":\"404\",\"title\":\"Not Found\",\"detail\":\"no reviews of this requester here\"}],\"status\":404}"
    );

    let too_many: Vec<String> = (0..101).map(|i| format!("A{i:012}")).collect();
    let error = http
        .get(format!(
            "{}/requesters?rids={}",
            server.base,
            too_many.join(",")
        ))
        .send()
        .await
        .expect("TO2 error");
    assert_eq!(error.status(), StatusCode::BAD_REQUEST);
    assert_eq!(
        error.text().await.expect("body"),
        "{\"errors\":[{\"status\":\"400\",\"title\":\"Bad Request\",\"detail\":\"at most 100 ids per request\"}],\"status\":400}"
    );
    assert_eq!(
        http.get(format!("{}/requesters?rids={RID}&rids={RID}", server.base))
            .send()
            .await
            .expect("TO2 repeated key")
            .json::<serde_json::Value>()
            .await
            .expect("json")["errors"][0]["status"],
        "400",
        "a malformed query gets the JSON:API error shape"
    );
    for query in ["", "?ids=", &format!("?ids={}", too_many.join(","))] {
        let error = http
            .get(format!("{}/api/multi-attrs.php{query}", server.base))
            .send()
            .await
            .expect("TO1 error");
        assert_eq!(error.status(), StatusCode::BAD_REQUEST, "{query}");
        let body: serde_json::Value = error.json().await.expect("json error");
        assert_eq!(body["error"], "bad_ids");
    }

    // A requester known only from a draft has nothing to rate: unknown to both clients.
    let mut draft = review(100, 60);
    draft["requester_id"] = json!("ADRAFTONLY0001");
    draft["draft"] = json!(true);
    assert_eq!(
        alice.post("/api/v1/reviews", draft).await.0,
        StatusCode::CREATED
    );
    let to1 = http
        .get(format!(
            "{}/api/multi-attrs.php?ids=ADRAFTONLY0001",
            server.base
        ))
        .send()
        .await
        .expect("TO1 draft");
    assert_eq!(to1.text().await.expect("body"), "{\"ADRAFTONLY0001\":\"\"}");
    let to2 = http
        .get(format!("{}/requesters/ADRAFTONLY0001", server.base))
        .send()
        .await
        .expect("TO2 draft");
    assert_eq!(to2.status(), StatusCode::NOT_FOUND);

    // `recent` is the last 90 days, `all` everything: an imported 2015 review is only in `all`.
    server.create_user("root", Role::Admin, PASSWORD).await;
    let admin = Client::new(&server).login("root", PASSWORD).await;
    let (status, report) = admin
        .send(
            admin
                .request(reqwest::Method::POST, "/api/v1/admin/import")
                .header("content-type", "text/csv")
                .body(format!(
                    "requester_id,requester_name,pay,fair,fast,comm,reward,time_seconds,date\n\
                     {RID},Acme Research,1,1,1,1,1.00,60,2015-03-01\n"
                )),
        )
        .await;
    assert_eq!(
        (status, &report["reviews"]),
        (StatusCode::OK, &json!(1)),
        "{report}"
    );
    let windows: serde_json::Value = http
        .get(format!("{}/requesters/{RID}", server.base))
        .send()
        .await
        .expect("TO2 windows")
        .json()
        .await
        .expect("json");
    let aggregates = &windows["data"]["attributes"]["aggregates"];
    assert_eq!(aggregates["recent"]["reward"], json!([4.5, 450, 2]));
    assert_eq!(aggregates["all"]["reward"], json!([5.5, 510, 3]));

    let preflight = http
        .request(
            reqwest::Method::OPTIONS,
            format!("{}/api/multi-attrs.php?ids={RID}", server.base),
        )
        .header("origin", "moz-extension://1234")
        .header("access-control-request-method", "GET")
        .send()
        .await
        .expect("preflight");
    assert!(preflight.status().is_success());
    assert_eq!(preflight.headers()["access-control-allow-origin"], "*");
    server.stop().await;
}

both_backends!(turkopticon_shapes);

/// The lookups answer from a cache, and the cache is never behind a write the same process
/// made: every change the userscripts would see (a new review, an edit, a deletion, a
/// moderator's removal, a first review of a requester looked up as unknown, a rename by the
/// reviewers' majority) shows in the very next TO1 and TO2 answer.
async fn lookups_follow_every_change_at_once(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let bob = server.signed_in("bob", PASSWORD).await;
    let carol = server.signed_in("carol", PASSWORD).await;
    server.create_user("mod", Role::Moderator, PASSWORD).await;
    let moderator = Client::new(&server).login("mod", PASSWORD).await;
    let http = crate::support::http();
    let counted = || {
        let (http, base) = (http.clone(), server.base.clone());
        async move {
            let to2: serde_json::Value = http
                .get(format!("{base}/requesters?rids={RID},ANEWCOMER0001"))
                .send()
                .await
                .expect("TO2")
                .json()
                .await
                .expect("json");
            let to1: serde_json::Value = http
                .get(format!(
                    "{base}/api/multi-attrs.php?ids={RID},ANEWCOMER0001"
                ))
                .send()
                .await
                .expect("TO1")
                .json()
                .await
                .expect("json");
            let data = to2["data"].as_array().expect("data").clone();
            let n = |id: &str| {
                data.iter().find(|d| d["id"] == id).map_or(0, |d| {
                    d["attributes"]["aggregates"]["all"]["reward"][2]
                        .as_i64()
                        .unwrap_or(-1)
                })
            };
            let name = data.iter().find(|d| d["id"] == RID).map(|d| {
                d["attributes"]["name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned()
            });
            assert_eq!(
                to1[RID]["reviews"].as_i64().unwrap_or(0),
                n(RID),
                "TO1 agrees: {to1}"
            );
            (n(RID), n("ANEWCOMER0001"), name)
        }
    };
    assert_eq!(
        counted().await,
        (0, 0, None),
        "nothing yet, and that is cached too"
    );

    let (status, first) = alice.post("/api/v1/reviews", review(100, 60)).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        counted().await.0,
        1,
        "a first review of an id looked up as unknown"
    );
    let (status, second) = bob.post("/api/v1/reviews", review(200, 60)).await;
    assert_eq!(status, StatusCode::CREATED, "{second}");
    assert_eq!(counted().await.0, 2);

    let edited = crate::reviews::edit_of(review(100, 120));
    let (status, body) = alice
        .send(
            alice
                .request(
                    reqwest::Method::PUT,
                    &format!("/api/v1/reviews/{}", first["id"].as_str().expect("id")),
                )
                .json(&edited),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let to2: serde_json::Value = http
        .get(format!("{}/requesters/{RID}", server.base))
        .send()
        .await
        .expect("TO2")
        .json()
        .await
        .expect("json");
    assert_eq!(
        to2["data"]["attributes"]["aggregates"]["all"]["reward"],
        json!([3.0, 180, 2]),
        "an edit shows at once"
    );

    let (status, _) = moderator
        .post(
            &format!(
                "/api/v1/reviews/{}/removal",
                second["id"].as_str().expect("id")
            ),
            json!({"reason": "Spam"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(counted().await.0, 1, "a removal shows at once");

    // Two reviewers of three call it something else: the name changes everywhere at once.
    for (client, body) in [(&bob, review(300, 60)), (&carol, review(300, 60))] {
        let mut renamed = body;
        renamed["requester_name"] = json!("Acme Research Lab");
        let (status, body) = client.post("/api/v1/reviews", renamed).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (n, _, name) = counted().await;
    assert_eq!((n, name.as_deref()), (3, Some("Acme Research Lab")));

    let (status, _) = alice
        .delete(
            &format!("/api/v1/reviews/{}", first["id"].as_str().expect("id")),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(counted().await.0, 2, "a deletion shows at once");

    let mut newcomer = review(500, 60);
    newcomer["requester_id"] = json!("ANEWCOMER0001");
    let (status, _) = carol.post("/api/v1/reviews", newcomer).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        counted().await.1,
        1,
        "a requester that did not exist before"
    );
    server.stop().await;
}

both_backends!(lookups_follow_every_change_at_once);
