//! Bulk export (CSV and JSON), a worker's own-data export, the admin CSV import with per-row errors, and the OpenAPI document.

use picket_core::accounts::Role;
use picket_test_support::{TestBackend, both_backends};
use reqwest::StatusCode;
use serde_json::Value;

use crate::reviews::{RID, review};
use crate::support::{Client, TestServer, assert_error};

const PASSWORD: &str = "correct horse battery";

async fn exports_and_import(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    server.create_user("root", Role::Admin, PASSWORD).await;
    let admin = Client::new(&server).login("root", PASSWORD).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    assert_eq!(
        alice.post("/api/v1/reviews", review(150, 90)).await.0,
        StatusCode::CREATED
    );

    let csv = "requester_id,requester_name,pay,fair,fast,comm,reward,time_seconds,description,date,tos_flag\n\
               A2IMPORTED0001,Imported Lab,4,4,5,3,0.50,60,Good pay,2015-03-01,\n\
               A2IMPORTED0002,Names Only Inc,,,,,,,,,\n\
               NOT-AN-ID,Broken,4,4,4,4,0.50,60,,,\n\
               A2IMPORTED0003,Half Review,5,,,,,,,,\n\
               A2IMPORTED0001,Imported Lab,9,4,5,3,0.50,60,,,\n\
               A2IMPORTED0002,Names Only Inc,1,1,1,1,0.10,600,Asked for my email,2014-06-01,1\n";
    let import = |client: &Client| {
        client
            .request(reqwest::Method::POST, "/api/v1/admin/import")
            .header("content-type", "text/csv")
            .body(csv)
    };
    assert_error(
        &alice.send(import(&alice)).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, report) = admin.send(import(&admin)).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(report["rows"], 6);
    assert_eq!(report["requesters"], 2, "distinct requesters, not lines");
    assert_eq!(report["reviews"], 2);
    let lines: Vec<i64> = report["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .filter_map(|e| e["line"].as_i64())
        .collect();
    assert_eq!(lines, [4, 5, 6], "{report}");
    let (_, imported) = Client::new(&server)
        .get("/api/v1/requesters/mturk/A2IMPORTED0001")
        .await;
    assert_eq!(imported["aggregates"]["all"]["n"], 1);
    assert_eq!(
        imported["aggregates"]["days90"]["n"], 0,
        "imported reviews keep their date"
    );
    let (_, flagged) = Client::new(&server)
        .get("/api/v1/requesters/mturk/A2IMPORTED0002")
        .await;
    assert_eq!(
        flagged["aggregates"]["all"]["tos"], 1,
        "a Turkopticon ToS flag imports without an explanation column"
    );

    let response =
        crate::support::http_get(format!("{}/api/v1/export/requesters.csv", server.base))
            .await
            .expect("csv");
    assert_eq!(
        response.headers()["content-type"],
        "text/csv; charset=utf-8"
    );
    let text = response.text().await.expect("text");
    let rows: Vec<&str> = text.lines().collect();
    assert!(
        rows[0].starts_with("platform,requester_id,name,all_reviews,"),
        "{}",
        rows[0]
    );
    assert_eq!(rows.len(), 4, "header + 3 requesters:\n{text}");
    assert!(
        rows.iter()
            .any(|r| r.starts_with(&format!("mturk,{RID},Acme Research,1,USD,60.00,"))),
        "{text}"
    );

    let json: Value =
        crate::support::http_get(format!("{}/api/v1/export/requesters.json", server.base))
            .await
            .expect("json")
            .json()
            .await
            .expect("parse");
    assert_eq!(json.as_array().map(Vec::len), Some(3));
    assert_eq!(json[0]["aggregates"]["all"]["n"], 1);

    // What the worker wrote and followed beyond reviews is in the export too.
    let review_id = {
        let (_, mine) = alice.get("/api/v1/account/reviews").await;
        mine["items"][0]["id"].as_str().expect("id").to_owned()
    };
    let (status, _) = alice
        .post(
            &format!("/api/v1/reviews/{review_id}/comments"),
            serde_json::json!({"body": "Paid the next day."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = alice
        .send(alice.request(reqwest::Method::PUT, "/api/v1/platforms/mturk/follow"))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, own) = alice.get("/api/v1/account/export").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(own["comments"][0]["body"], "Paid the next day.", "{own}");
    assert_eq!(own["followed_platforms"], serde_json::json!(["mturk"]));
    assert_eq!(own["account"]["username"], "alice");
    assert_eq!(own["reviews"].as_array().map(Vec::len), Some(1));
    assert_eq!(own["reviews"][0]["content"]["reward_minor"], 150);
    assert_error(
        &Client::new(&server).get("/api/v1/account/export").await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    server.stop().await;
}

async fn account_deletion_removes_contributions(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let (_, created) = alice.post("/api/v1/reviews", review(150, 90)).await;
    let (status, _) = alice
        .delete("/api/v1/account", serde_json::json!({"password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let anonymous = Client::new(&server);
    assert_error(
        &anonymous
            .get(&format!(
                "/api/v1/reviews/{}",
                created["id"].as_str().expect("id")
            ))
            .await,
        StatusCode::GONE,
        "deleted",
    );
    let (_, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["aggregates"]["all"]["n"], 0);
    server.stop().await;
}

both_backends!(exports_and_import, account_deletion_removes_contributions);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openapi_document_matches_snapshot() {
    let server = TestServer::start(TestBackend::Sqlite, |_| {}).await;
    let (status, document) = Client::new(&server).get("/api/v1/openapi.json").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(document["openapi"], "3.1.0");
    assert!(document["paths"]["/api/v1/reviews"]["post"].is_object());
    let mut operations: Vec<&str> = document["paths"]
        .as_object()
        .expect("paths")
        .values()
        .flat_map(|methods| methods.as_object().expect("methods").values())
        .filter_map(|operation| operation["operationId"].as_str())
        .collect();
    let count = operations.len();
    operations.sort_unstable();
    operations.dedup();
    assert_eq!(operations.len(), count, "operation ids are unique");
    insta::assert_json_snapshot!("openapi", document);
    server.stop().await;
}
