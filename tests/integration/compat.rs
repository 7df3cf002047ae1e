//! Turkopticon compatibility: the exact bytes TO1 and TO2 clients parse, CORS for extensions, and the error shape.

use picket_test_support::{TestBackend, both_backends};
use reqwest::StatusCode;
use serde_json::json;

use crate::reviews::{RID, review};
use crate::support::TestServer;

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

    let http = reqwest::Client::new();
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
    let window = "{\"reward\":[5.1,450,2],\"pending\":129600,\"comm\":[2,2,2],\"recommend\":[1,2,2],\"rejected\":[1,2,2],\"tos\":[1,2],\"broken\":[0,2]}";
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
    let attributes = sparse["data"][0]["attributes"]
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
    let unknown: serde_json::Value = http
        .get(format!("{}/requesters/AUNKNOWN12345", server.base))
        .send()
        .await
        .expect("TO2 unknown")
        .json()
        .await
        .expect("json");
    assert_eq!(unknown, json!({"data": [], "status": 200}));

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
