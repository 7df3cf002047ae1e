//! Regression tests for the security review's findings on the federation edge: nothing fetched for weak or missing signatures, no fetched text in errors, no history from an unsolicited Accept, no overwrite of another author's copy, no renames by one worker, and the one outgoing client's address checks in the production configuration.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use activitypub_federation::traits::Actor;
use base64::Engine;
use picket_apub::LocalActor;
use picket_test_support::TestBackend;
use reqwest::StatusCode;
use rsa::pkcs8::DecodePrivateKey;
use serde_json::{Value, json};
use sha2::Digest;

use crate::federated_incidents::follow_instance;
use crate::federation::{PASSWORD, activity_json, domain, eventually, federating, signing_as};
use crate::reviews::{RID, review};
use crate::support::{Client, TestServer};
use picket_test_support::both_backends;

/// What a hostile server answers where an actor should be: a marker that must never be
/// repeated to the caller.
const MARKER: &str = "INTERNAL-SECRET-7f3a";

/// A server on this machine that counts the requests it gets and answers every one with a
/// document that is no actor.
struct Trap {
    base: String,
    hits: Arc<AtomicUsize>,
}

impl Trap {
    async fn start() -> Trap {
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        let app = axum::Router::new().fallback(move || {
            let counted = counted.clone();
            async move {
                counted.fetch_add(1, Ordering::SeqCst);
                (
                    [("content-type", "application/activity+json")],
                    json!({"id": "elsewhere", "secret": MARKER}).to_string(),
                )
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Trap {
            base: format!("http://localhost:{port}"),
            hits,
        }
    }

    fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}

fn digest_of(body: &str) -> String {
    format!(
        "SHA-256={}",
        base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(body.as_bytes()))
    )
}

fn http_date(at: chrono::DateTime<chrono::Utc>) -> String {
    at.format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

/// The parts of a hand-made signed inbox post.
pub(crate) struct Post<'a> {
    pub(crate) body: &'a str,
    pub(crate) host: String,
    pub(crate) date: chrono::DateTime<chrono::Utc>,
    pub(crate) key_id: String,
    /// The headers the signature covers, in order.
    pub(crate) signed: &'a [&'a str],
}

/// Signs `post` with `key` (or sends a junk signature without one) and posts it to `to`'s inbox.
pub(crate) async fn post_signed(
    to: &TestServer,
    post: &Post<'_>,
    key: Option<&rsa::RsaPrivateKey>,
) -> reqwest::Response {
    let digest = digest_of(post.body);
    let date = http_date(post.date);
    let line = |name: &str| match name {
        "(request-target)" => "(request-target): post /inbox".to_owned(),
        "host" => format!("host: {}", post.host),
        "date" => format!("date: {date}"),
        "digest" => format!("digest: {digest}"),
        other => panic!("no such header in these tests: {other}"),
    };
    let signing_string = post
        .signed
        .iter()
        .map(|h| line(h))
        .collect::<Vec<_>>()
        .join("\n");
    let signature = match key {
        Some(key) => {
            let signed = key
                .sign(
                    rsa::Pkcs1v15Sign::new::<sha2::Sha256>(),
                    &sha2::Sha256::digest(signing_string.as_bytes()),
                )
                .expect("sign");
            base64::engine::general_purpose::STANDARD.encode(signed)
        }
        None => "bm90IGEgc2lnbmF0dXJl".to_owned(),
    };
    crate::support::http()
        .post(format!("{}/inbox", to.base))
        .header("content-type", "application/activity+json")
        .header("host", &post.host)
        .header("date", date)
        .header("digest", digest)
        .header(
            "signature",
            format!(
                "keyId=\"{}\",algorithm=\"rsa-sha256\",headers=\"{}\",signature=\"{signature}\"",
                post.key_id,
                post.signed.join(" ")
            ),
        )
        .body(post.body.to_owned())
        .send()
        .await
        .expect("post")
}

pub(crate) const FULL: &[&str] = &["(request-target)", "host", "date", "digest"];

/// Sends `to` a `Create` of `object` as worker `name` of `from`, under the activity id
/// `{from}/activities/{tag}`, whatever `to` answers: tests then check what it did.
async fn push_create(from: &TestServer, name: &str, to: &TestServer, tag: &str, object: Value) {
    let create = json!({
        "@context": ["https://www.w3.org/ns/activitystreams", format!("{}/ns", from.base)],
        "type": "Create",
        "id": format!("{}/activities/{tag}", from.base),
        "actor": format!("{}/u/{name}", from.base),
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": object,
    });
    crate::moderation::try_send_as(from, name, to, create).await;
}

/// The private key `actor` of `server` signs with, for hand-made signatures.
pub(crate) async fn signing_key(server: &TestServer, actor: LocalActor) -> rsa::RsaPrivateKey {
    let data = signing_as(server).await;
    let actor = picket_apub::ApubActor::local(&data, actor)
        .await
        .expect("the actor");
    rsa::RsaPrivateKey::from_pkcs8_pem(&actor.private_key_pem().expect("a key")).expect("key")
}

/// Finding 1: a post with no signature, or one that could not be the claimed actor's, makes
/// the instance fetch nothing; when it does fetch and gets no actor, the caller is not shown
/// what came back, and the host is not asked again at once.
async fn nothing_is_fetched_for_an_unsigned_or_foreign_signature(backend: TestBackend) {
    let b = federating(backend).await;
    let trap = Trap::start().await;
    let activity = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Follow",
        "id": format!("{}/activities/1", trap.base),
        "actor": format!("{}/actor", trap.base),
        "object": format!("{}/actor", b.base),
    })
    .to_string();
    let unsigned = crate::support::http()
        .post(format!("{}/inbox", b.base))
        .header("content-type", "application/activity+json")
        .header("digest", digest_of(&activity))
        .body(activity.clone())
        .send()
        .await
        .expect("post");
    assert_eq!(unsigned.status(), StatusCode::UNAUTHORIZED);
    let on_trap_host = format!("{}/actor#main-key", trap.base);
    let refused = [
        // A key on another host than the actor's.
        Post {
            body: &activity,
            host: domain(&b),
            date: chrono::Utc::now(),
            key_id: format!("{}/actor#main-key", b.base),
            signed: FULL,
        },
        // Too little signed.
        Post {
            body: &activity,
            host: domain(&b),
            date: chrono::Utc::now(),
            key_id: on_trap_host.clone(),
            signed: &["digest"],
        },
    ];
    for post in &refused {
        let response = post_signed(&b, post, None).await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        let body: Value = response.json().await.expect("json");
        assert_eq!(body["error"], "signature_invalid", "{body}");
    }
    assert_eq!(trap.hits(), 0, "nothing may be fetched for these posts");

    // A well-formed signature naming a key on the actor's host: the actor is fetched once, it
    // is no actor, and what it said stays out of the answer.
    let plausible = Post {
        body: &activity,
        host: domain(&b),
        date: chrono::Utc::now(),
        key_id: on_trap_host,
        signed: FULL,
    };
    let response = post_signed(&b, &plausible, None).await;
    assert!(response.status().is_client_error(), "{}", response.status());
    let text = response.text().await.expect("text");
    assert!(!text.contains(MARKER), "the fetched body leaked: {text}");
    assert_eq!(trap.hits(), 1);
    // The host just failed: it is not asked again at once.
    let again = post_signed(&b, &plausible, None).await;
    assert_eq!(again.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(again.headers().contains_key("retry-after"));
    assert_eq!(trap.hits(), 1);

    // The same through a worker's remote follow: no fetched text in the API's answer either.
    let alice = b.signed_in("alice", PASSWORD).await;
    let (_, answer) = alice
        .post(
            "/api/v1/account/remote-follows",
            json!({"target": format!("{}/other-actor", trap.base.replace("localhost", "127.0.0.1"))}),
        )
        .await;
    assert!(!answer.to_string().contains(MARKER), "{answer}");
    b.stop().await;
}

both_backends!(nothing_is_fetched_for_an_unsigned_or_foreign_signature);

/// Finding 4: a real signature by a known actor is refused when it covers too little, names
/// another Host, or is dated far from now; the same post signed properly is accepted.
async fn weak_signatures_are_refused(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let key = signing_key(&a, LocalActor::Instance).await;
    let like = |n: u32| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Like",
            "id": format!("{}/activities/like-{n}", a.base),
            "actor": format!("{}/actor", a.base),
            "object": format!("{}/actor", b.base),
        })
        .to_string()
    };
    let key_id = format!("{}/actor#main-key", a.base);
    let bodies: Vec<String> = (0..5).map(like).collect();
    let weak = [
        (&["digest"][..], domain(&b), chrono::Utc::now()),
        (
            &["(request-target)", "host", "digest"][..],
            domain(&b),
            chrono::Utc::now(),
        ),
        (FULL, "elsewhere.example".to_owned(), chrono::Utc::now()),
        (
            FULL,
            domain(&b),
            chrono::Utc::now() + chrono::Duration::days(30),
        ),
    ];
    for (i, (signed, host, date)) in weak.iter().enumerate() {
        let post = Post {
            body: &bodies[i],
            host: host.clone(),
            date: *date,
            key_id: key_id.clone(),
            signed,
        };
        let response = post_signed(&b, &post, Some(&key)).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "case {i}: {signed:?} {host}"
        );
    }
    let proper = Post {
        body: &bodies[4],
        host: domain(&b),
        date: chrono::Utc::now(),
        key_id,
        signed: FULL,
    };
    assert_eq!(
        post_signed(&b, &proper, Some(&key)).await.status(),
        StatusCode::ACCEPTED
    );
    a.stop().await;
    b.stop().await;
}

both_backends!(weak_signatures_are_refused);

/// Finding 8: an `Accept` of a follow B never sent imports nothing of A's history.
async fn an_unsolicited_accept_imports_nothing(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    assert_eq!(
        alice.post("/api/v1/reviews", review(100, 60)).await.0,
        StatusCode::CREATED
    );
    let a_data = signing_as(&a).await;
    let accept = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Accept",
        "id": format!("{}/activities/accept-unasked", a.base),
        "actor": format!("{}/actor", a.base),
        "object": {
            "type": "Follow",
            "id": format!("{}/activities/never-sent", b.base),
            "actor": format!("{}/actor", b.base),
            "object": format!("{}/actor", a.base),
        },
    })
    .to_string();
    assert_eq!(
        crate::federation::signed_post(&a_data, &b, &accept, &accept).await,
        StatusCode::ACCEPTED
    );
    // A backfill would run in the background: give it the time one takes here.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let (status, reviews) = Client::new(&b)
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    assert!(
        status == StatusCode::NOT_FOUND || reviews["items"] == json!([]),
        "nothing of A's may arrive: {reviews}"
    );
    a.stop().await;
    b.stop().await;
}

both_backends!(an_unsolicited_accept_imports_nothing);

/// Finding 9: another worker of the author's instance cannot overwrite the copy B holds, and an
/// older version sent again under a new id changes nothing.
async fn copies_change_only_by_their_author_and_only_forward(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    follow_instance(&b, &a).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    a.signed_in("mallory", PASSWORD).await;
    let (_, created) = alice.post("/api/v1/reviews", review(100, 60)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let mut edited = review(250, 60);
    for key in ["platform", "requester_id", "requester_name"] {
        edited.as_object_mut().map(|o| o.remove(key));
    }
    let (status, _) = alice
        .send(
            alice
                .request(reqwest::Method::PUT, &format!("/api/v1/reviews/{id}"))
                .json(&edited),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let reward_on_b = || async {
        let (_, list) = Client::new(&b)
            .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
            .await;
        list["items"][0]["reward_minor"].clone()
    };
    eventually("the edit reaches B", || async {
        reward_on_b().await == json!(250)
    })
    .await;

    let page = activity_json(&a, &format!("/reviews/{id}")).await;
    // Mallory claims alice's review as hers and rewrites it.
    let mut forged = page.clone();
    forged["attributedTo"] = json!(format!("{}/u/mallory", a.base));
    forged["picket:review"]["reward_minor"] = json!(1);
    forged["updated"] = json!(chrono::Utc::now().to_rfc3339());
    let update = |actor: &str, object: &Value, n: u32| {
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", format!("{}/ns", a.base)],
            "type": "Update",
            "id": format!("{}/activities/update-{n}", a.base),
            "actor": actor,
            "to": ["https://www.w3.org/ns/activitystreams#Public"],
            "object": object,
        })
    };
    crate::moderation::try_send_as(
        &a,
        "mallory",
        &b,
        update(&format!("{}/u/mallory", a.base), &forged, 1),
    )
    .await;
    // Alice's first version, replayed under a new id: older than the one held.
    let mut stale = page.clone();
    stale["picket:review"]["reward_minor"] = json!(100);
    stale["updated"] = json!((chrono::Utc::now() - chrono::Duration::days(1)).to_rfc3339());
    crate::moderation::try_send_as(
        &a,
        "alice",
        &b,
        update(&format!("{}/u/alice", a.base), &stale, 2),
    )
    .await;
    assert_eq!(
        reward_on_b().await,
        json!(250),
        "the copy must be unchanged"
    );
    a.stop().await;
    b.stop().await;
}

both_backends!(copies_change_only_by_their_author_and_only_forward);

/// Finding 5: a draft, an incident or one worker's reviews do not rename a requester that
/// others name otherwise; the name most reviewers use wins.
async fn one_worker_cannot_rename_a_requester(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    for name in ["alice", "bob"] {
        let worker = server.signed_in(name, PASSWORD).await;
        assert_eq!(
            worker.post("/api/v1/reviews", review(100, 60)).await.0,
            StatusCode::CREATED
        );
    }
    let mallory = server.signed_in("mallory", PASSWORD).await;
    let mut draft = review(100, 60);
    draft["requester_name"] = json!("EVIL DRAFT");
    draft["draft"] = json!(true);
    assert_eq!(
        mallory.post("/api/v1/reviews", draft).await.0,
        StatusCode::CREATED
    );
    let (status, incident) = mallory
        .post(
            "/api/v1/incidents",
            json!({
                "platform": "mturk",
                "requester_id": RID,
                "requester_name": "EVIL INCIDENT",
                "kind": "mass_rejection",
                "happened_from": chrono::Utc::now().date_naive().to_string(),
                "description": "Rejected everything.",
            }),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{incident}");
    let mut published = review(100, 60);
    published["requester_name"] = json!("EVIL PUBLISHED");
    assert_eq!(
        mallory.post("/api/v1/reviews", published).await.0,
        StatusCode::CREATED
    );
    let (_, page) = Client::new(&server)
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["name"], "Acme Research", "{page}");
    assert_eq!(
        page["aliases"],
        json!([]),
        "no earlier names from drafts or one worker: {page}"
    );
    // Two more reviewers calling it by a new name outvote the old one.
    for name in ["carol", "dave", "erin"] {
        let worker = server.signed_in(name, PASSWORD).await;
        let mut renamed = review(100, 60);
        renamed["requester_name"] = json!("Acme Labs");
        assert_eq!(
            worker.post("/api/v1/reviews", renamed).await.0,
            StatusCode::CREATED
        );
    }
    let (_, page) = Client::new(&server)
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["name"], "Acme Labs", "{page}");
    assert_eq!(page["aliases"], json!(["Acme Research"]));
    server.stop().await;
}

both_backends!(one_worker_cannot_rename_a_requester);

/// Production path (findings 12 and 1): the one outgoing client, configured as in production,
/// never connects to this machine: not by literal address, not by a name that resolves here,
/// not through a redirect; and the subscribed-list fetcher goes through it.
async fn the_outgoing_client_refuses_local_addresses_in_production(backend: TestBackend) {
    use picket_apub::http::{FetchError, Outgoing, PublicResolver};
    let trap = Trap::start().await;
    let port = trap.base.rsplit(':').next().expect("port").to_owned();
    let loopback: Vec<std::net::IpAddr> = vec!["127.0.0.1".parse().expect("ip")];
    let names = std::collections::HashMap::from([
        ("public-looking.example".to_owned(), loopback.clone()),
        ("first-hop.example".to_owned(), loopback.clone()),
    ]);
    let production = Outgoing::with_resolver(
        PublicResolver::with_fixed(false, names).exempting("first-hop.example"),
    )
    .expect("client");
    for url in [
        format!("http://127.0.0.1:{port}/"),
        format!("http://[::1]:{port}/"),
        format!("http://[::ffff:127.0.0.1]:{port}/"),
        format!("http://0.0.0.0:{port}/"),
        format!("http://public-looking.example:{port}/"),
    ] {
        let result = production
            .get(&url.parse().expect("url"), "*/*", 1024)
            .await;
        assert!(
            matches!(result, Err(FetchError::Refused(_))),
            "{url}: {result:?}"
        );
    }
    assert_eq!(trap.hits(), 0);

    // A first hop that may connect, redirecting to this machine: the redirect is refused.
    let redirector = axum::Router::new()
        .route(
            "/literal",
            axum::routing::get(move || async move {
                axum::response::Redirect::temporary("http://127.0.0.1:1/")
            }),
        )
        .route(
            "/named",
            axum::routing::get({
                let port = port.clone();
                move || async move {
                    axum::response::Redirect::temporary(&format!(
                        "http://public-looking.example:{port}/"
                    ))
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let hop = listener.local_addr().expect("addr").port();
    tokio::spawn(async move { axum::serve(listener, redirector).await });
    for path in ["literal", "named"] {
        let url = format!("http://first-hop.example:{hop}/{path}");
        let result = production
            .get(&url.parse().expect("url"), "*/*", 1024)
            .await;
        assert!(result.is_err(), "{url} must not be followed: {result:?}");
    }
    assert_eq!(trap.hits(), 0);

    // Subscribed lists are fetched through the same client.
    let db = picket_test_support::TestDb::new(backend);
    let db = db.open();
    let list_url = format!("http://127.0.0.1:{port}/blocks.csv");
    {
        let list_url = list_url.clone();
        db.tx(move |conn| {
            picket_db::policy::subscribe(
                conn,
                &list_url,
                picket_db::policy::RuleKind::Block,
                picket_db::models::now(),
            )
            .map(drop)
        })
        .await
        .expect("subscribe");
    }
    let fetched =
        picket_apub::lists::refresh_due(&db, &production, std::time::Duration::from_secs(1))
            .await
            .expect("refresh");
    assert_eq!(fetched, 1);
    assert_eq!(trap.hits(), 0, "the list fetch must have been refused");
    let subscriptions = db
        .run(picket_db::policy::subscriptions)
        .await
        .expect("list");
    assert!(
        subscriptions[0]
            .last_error
            .as_deref()
            .is_some_and(|e| e.contains("not a public address")),
        "{:?}",
        subscriptions[0].last_error
    );
}

both_backends!(the_outgoing_client_refuses_local_addresses_in_production);

/// Counts what `sql` (a `SELECT COUNT(*) AS n …`) finds in `server`'s database.
fn count(server: &TestServer, sql: &str) -> i64 {
    use diesel::RunQueryDsl;
    #[derive(diesel::QueryableByName)]
    struct Count {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    let sql = sql.to_owned();
    server
        .db
        .open()
        .with_conn(move |conn| {
            Ok(diesel::sql_query(&sql)
                .get_result::<Count>(conn)
                .map_err(picket_db::DbError::from)?
                .n)
        })
        .expect("count")
}

/// What the test requester's page says on `server`: the number of reviews counted, of
/// incidents listed, and of corroborations on them.
async fn counted(server: &TestServer) -> (i64, usize, i64) {
    let anonymous = Client::new(server);
    let (status, page) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    let reviews = if status == StatusCode::OK {
        page["aggregates"]["all"]["n"].as_i64().unwrap_or(0)
    } else {
        0
    };
    let (status, list) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}/incidents"))
        .await;
    let incidents = if status == StatusCode::OK {
        list["items"].as_array().cloned().unwrap_or_default()
    } else {
        Vec::new()
    };
    let corroborations = incidents
        .iter()
        .filter_map(|i| i["corroborations"].as_i64())
        .sum();
    (reviews, incidents.len(), corroborations)
}

fn incident_body(description: &str) -> Value {
    json!({
        "kind": "mass_rejection",
        "platform": "mturk",
        "requester_id": RID,
        "requester_name": "Acme Research",
        "happened_from": "2026-11-20",
        "tasks_affected": 12,
        "description": description,
    })
}

/// Findings 7 and 6: alice's account deleted on A leaves nothing of hers counted or stored on
/// B and C (her review, her incident, her corroboration of dave's incident, her actor), A's
/// deletions are signed by A's instance and all go out, and A's outbox keeps none of her words.
async fn a_deleted_account_leaves_nothing_on_any_instance(backend: TestBackend) {
    const WORDS: &str = "lives at 42 Elm Street";
    // A delivery that lost a race on a receiver is retried in a second, not a minute.
    let a = TestServer::start(backend, |c| {
        c.federation.allow_loopback = true;
        c.federation.retry_first_seconds = 1;
    })
    .await;
    let b = federating(backend).await;
    let c = federating(backend).await;
    follow_instance(&b, &a).await;
    follow_instance(&c, &a).await;
    let dave = a.signed_in("dave", PASSWORD).await;
    let (status, daves) = dave
        .post(
            "/api/v1/incidents",
            incident_body("Dave's batch was rejected."),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{daves}");
    let alice = a.signed_in("alice", PASSWORD).await;
    let mut words = review(100, 60);
    words["body"] = json!(format!("The requester {WORDS}."));
    assert_eq!(
        alice.post("/api/v1/reviews", words).await.0,
        StatusCode::CREATED
    );
    let (status, _) = alice
        .post(
            &format!(
                "/api/v1/incidents/{}/corroborations",
                daves["id"].as_str().expect("id")
            ),
            json!({"tasks_affected": 3, "note": format!("Me too; he {WORDS}.")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = alice
        .post("/api/v1/incidents", incident_body(&format!("She {WORDS}.")))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    for server in [&a, &b, &c] {
        eventually("alice's content everywhere", || async {
            counted(server).await == (1, 2, 1)
        })
        .await;
    }
    let alice_actor = format!("{}/u/alice", a.base);

    let (status, _) = alice
        .delete("/api/v1/account", json!({"password": PASSWORD}))
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for server in [&a, &b, &c] {
        eventually("alice's content gone", || async {
            // Dave's incident stays, without her corroboration.
            counted(server).await == (0, 1, 0)
        })
        .await;
    }
    eventually("A's queue drains", || async {
        count(&a, "SELECT COUNT(*) AS n FROM federation_events") == 0
            && count(
                &a,
                "SELECT COUNT(*) AS n FROM deliveries WHERE state = 'pending'",
            ) == 0
    })
    .await;
    for server in [&b, &c] {
        eventually("B and C forget alice's actor", || async {
            count(
                server,
                &format!("SELECT COUNT(*) AS n FROM remote_actors WHERE url = '{alice_actor}'"),
            ) == 0
        })
        .await;
    }
    for server in [&a, &b, &c] {
        for table in ["reviews", "incidents", "corroborations"] {
            let column = match table {
                "reviews" => "body",
                "incidents" => "description",
                _ => "note",
            };
            assert_eq!(
                count(
                    server,
                    &format!(
                        "SELECT COUNT(*) AS n FROM {table} WHERE {column} LIKE '%Elm Street%'"
                    )
                ),
                0,
                "{table} on {}",
                server.base
            );
            assert_eq!(
                count(
                    server,
                    &format!(
                        "SELECT COUNT(*) AS n FROM {table} WHERE remote_author = '{alice_actor}'"
                    )
                ),
                0
            );
        }
        assert_eq!(
            count(
                server,
                "SELECT COUNT(*) AS n FROM outbox WHERE body LIKE '%Elm Street%'"
            ),
            0
        );
    }
    // Nor in the files: on SQLite the erasures checkpointed the write-ahead log and
    // `secure_delete` zeroed the freed pages.
    for server in [&a, &b, &c] {
        for entry in std::fs::read_dir(server.db.dir()).expect("data dir") {
            let path = entry.expect("entry").path();
            if path.is_file() {
                let bytes = std::fs::read(&path).expect("read");
                assert!(
                    !bytes
                        .windows(b"Elm Street".len())
                        .any(|w| w == b"Elm Street"),
                    "the erased words are still in {}",
                    path.display()
                );
            }
        }
    }
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

both_backends!(a_deleted_account_leaves_nothing_on_any_instance);

/// Finding 7, last part: a suspension hides the account's content on its own instance too, and
/// lifting it brings back what the suspension hid.
async fn a_suspension_hides_content_at_home(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    server
        .create_user("mod", picket_core::accounts::Role::Moderator, PASSWORD)
        .await;
    let moderator = Client::new(&server).login("mod", PASSWORD).await;
    let mallory = server.signed_in("mallory", PASSWORD).await;
    assert_eq!(
        mallory.post("/api/v1/reviews", review(100, 60)).await.0,
        StatusCode::CREATED
    );
    let (status, _) = mallory
        .post("/api/v1/incidents", incident_body("A made-up story."))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(counted(&server).await, (1, 1, 0));
    let suspension = "/api/v1/moderation/accounts/mallory/suspension";
    let (status, body) = moderator.post(suspension, json!({"reason": "Spam"})).await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(counted(&server).await, (0, 0, 0));
    let (status, body) = moderator
        .delete(suspension, json!({"reason": "Appeal upheld"}))
        .await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(counted(&server).await, (1, 1, 0));
    server.stop().await;
}

both_backends!(a_suspension_hides_content_at_home);

/// Finding 15: content from an instance nobody here follows is kept and shown but not counted
/// (a swarm of throwaway instances cannot move the figures); once followed, it counts.
async fn only_followed_instances_count(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    let (status, created) = alice.post("/api/v1/reviews", review(100, 60)).await;
    assert_eq!(status, StatusCode::CREATED);
    let id = created["id"].as_str().expect("id");
    // A pushes alice's review to B, which follows nobody.
    let page = activity_json(&a, &format!("/reviews/{id}")).await;
    push_create(&a, "alice", &b, "unasked-create", page).await;
    let anonymous = Client::new(&b);
    let (_, listed) = anonymous
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(1),
        "stored and shown: {listed}"
    );
    assert_eq!(
        counted(&b).await.0,
        0,
        "not counted while B follows no one on A"
    );
    follow_instance(&b, &a).await;
    eventually("counted once B follows A", || async {
        counted(&b).await.0 == 1
    })
    .await;
    a.stop().await;
    b.stop().await;
}

both_backends!(only_followed_instances_count);

/// Key rotation: when a known actor's signature fails with the key held, the actor is fetched
/// again once and the post verified with its new key.
async fn a_rotated_key_is_refetched_once(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let like = |n: u32| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Like",
            "id": format!("{}/activities/rotation-like-{n}", a.base),
            "actor": format!("{}/actor", a.base),
            "object": format!("{}/actor", b.base),
        })
        .to_string()
    };
    let before = signing_as(&a).await;
    assert_eq!(
        crate::federation::signed_post(&before, &b, &like(0), &like(0)).await,
        StatusCode::ACCEPTED,
        "B learns A's key"
    );
    // A rotates its instance key.
    let fresh = activitypub_federation::http_signatures::generate_actor_keypair().expect("keys");
    a.db.open()
        .with_conn(move |conn| {
            use diesel::prelude::*;
            diesel::update(picket_db::schema::actor_keys::table.find("actor"))
                .set((
                    picket_db::schema::actor_keys::public_key_pem.eq(&fresh.public_key),
                    picket_db::schema::actor_keys::private_key_pem.eq(&fresh.private_key),
                ))
                .execute(conn)?;
            Ok(())
        })
        .expect("rotate");
    let after = signing_as(&a).await;
    assert_eq!(
        crate::federation::signed_post(&after, &b, &like(1), &like(1)).await,
        StatusCode::ACCEPTED,
        "B fetched the new key and verified with it"
    );
    a.stop().await;
    b.stop().await;
}

both_backends!(a_rotated_key_is_refetched_once);

/// Finding 15, floods: one `Flag` files at most five reports, and one instance at most thirty
/// an hour; deeply nested JSON is refused before anything else.
async fn flag_floods_are_capped(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    b.create_user("mod", picket_core::accounts::Role::Moderator, PASSWORD)
        .await;
    let moderator = Client::new(&b).login("mod", PASSWORD).await;
    let bob = b.signed_in("bob", PASSWORD).await;
    let mut ids = Vec::new();
    for reward in 0..6 {
        let (_, created) = bob.post("/api/v1/reviews", review(100 + reward, 60)).await;
        ids.push(format!(
            "{}/reviews/{}",
            b.base,
            created["id"].as_str().expect("id")
        ));
    }
    let a_data = signing_as(&a).await;
    let flag = |n: u32, targets: &[String]| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Flag",
            "id": format!("{}/activities/flag-{n}", a.base),
            "actor": format!("{}/actor", a.base),
            "object": targets,
            "content": format!("Spam, take {n}"),
        })
        .to_string()
    };
    let mut many = ids.clone();
    many.extend((0..14).map(|i| format!("{}/reviews/nothing-{i}", b.base)));
    let first = flag(0, &many);
    assert_eq!(
        crate::federation::signed_post(&a_data, &b, &first, &first).await,
        StatusCode::ACCEPTED
    );
    let queue = moderator.get("/api/v1/moderation/reports").await.1;
    assert_eq!(queue["items"].as_array().map(Vec::len), Some(5), "{queue}");
    // Five more of five targets each spend the hour's thirty; the next is refused.
    for n in 1..=5 {
        let next = flag(n, &ids[..5]);
        assert_eq!(
            crate::federation::signed_post(&a_data, &b, &next, &next).await,
            StatusCode::ACCEPTED,
            "flag {n}"
        );
    }
    let over = flag(6, &ids[..1]);
    let refused = crate::federation::signed_post_response(&a_data, &b, &over, &over).await;
    assert_eq!(refused.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(refused.headers().contains_key("retry-after"));

    let nested = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
    let response = crate::support::http()
        .post(format!("{}/inbox", b.base))
        .header("content-type", "application/activity+json")
        .body(nested)
        .send()
        .await
        .expect("post");
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    a.stop().await;
    b.stop().await;
}

both_backends!(flag_floods_are_capped);

/// A server on this machine that answers WebFinger and actor documents that do not hold
/// together: a WebFinger answer about another account, one pointing at another host, an actor
/// whose key belongs to someone else, and one served under another id.
async fn liar() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let base = format!("http://localhost:{port}");
    let host = format!("localhost:{port}");
    let key = "-----BEGIN PUBLIC KEY-----\nMFwwDQYJKoZIhvcNAQEBBQADSwAwSAJBAKj34GkxFhD90vcNLYLInFEX6Ppy1tPf\n9Cnzj4p4WGeKLs1Pt8QuKUpRKfFLfRYC9AIKjbJTWit+CqvjWYzvQwECAwEAAQ==\n-----END PUBLIC KEY-----\n";
    let actor = move |id: &str, owner: &str| {
        json!({
            "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/v1"],
            "type": "Person",
            "id": id,
            "preferredUsername": "liar",
            "inbox": format!("{id}/inbox"),
            "publicKey": {"id": format!("{owner}#main-key"), "owner": owner, "publicKeyPem": key},
        })
        .to_string()
    };
    let webfinger = {
        let (base, host) = (base.clone(), host.clone());
        move |axum::extract::Query(q): axum::extract::Query<
            std::collections::HashMap<String, String>,
        >| {
            let (base, host) = (base.clone(), host.clone());
            async move {
                let resource = q.get("resource").cloned().unwrap_or_default();
                // Each link leads to a good actor (`/u/good`, which answers for whatever host it
                // is asked under): only the WebFinger checks can refuse these.
                let (subject, href) = if resource.starts_with("acct:other-subject@") {
                    (format!("acct:somebody@{host}"), format!("{base}/u/good"))
                } else if resource.starts_with("acct:other-host@") {
                    // Right subject, but the actor is named under another host.
                    (
                        resource.clone(),
                        format!("{}/u/good", base.replace("localhost", "127.0.0.1")),
                    )
                } else {
                    (resource.clone(), format!("{base}/u/good"))
                };
                (
                    [("content-type", "application/jrd+json")],
                    json!({"subject": subject, "links": [{"rel": "self", "type": "application/activity+json", "href": href}]}).to_string(),
                )
            }
        }
    };
    let app = axum::Router::new()
        .route("/.well-known/webfinger", axum::routing::get(webfinger))
        .route(
            "/u/{name}",
            axum::routing::get({
                let base = base.clone();
                move |axum::extract::Path(name): axum::extract::Path<String>,
                      headers: axum::http::HeaderMap| {
                    let base = base.clone();
                    async move {
                        let me = format!("{base}/u/{name}");
                        let asked = headers
                            .get("host")
                            .and_then(|h| h.to_str().ok())
                            .map(|h| format!("http://{h}/u/{name}"))
                            .unwrap_or_else(|| me.clone());
                        let (kind, body) = match name.as_str() {
                            "someone-elses-key" => (
                                "application/activity+json",
                                actor(&me, &format!("{base}/u/victim")),
                            ),
                            // A good actor, served as a web page.
                            "as-html" => ("text/html", actor(&me, &me)),
                            "good" => ("application/activity+json", actor(&asked, &asked)),
                            // A good actor whose shared inbox is another server's.
                            "foreign-inbox" => {
                                let mut json: Value =
                                    serde_json::from_str(&actor(&me, &me)).unwrap_or_default();
                                json["endpoints"] =
                                    json!({"sharedInbox": "http://127.0.0.1:9/inbox"});
                                ("application/activity+json", json.to_string())
                            }
                            _ => (
                                "application/activity+json",
                                actor(
                                    &format!("{base}/u/not-{name}"),
                                    &format!("{base}/u/not-{name}"),
                                ),
                            ),
                        };
                        ([("content-type", kind)], body)
                    }
                }
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

/// WebFinger answers must be about the handle asked and point at its own host; an actor's key
/// must be its own, its id the URL it was fetched from, and its media type ActivityStreams.
/// None of these is followed or stored.
async fn lying_webfinger_and_actors_are_refused(backend: TestBackend) {
    let b = federating(backend).await;
    let alice = b.signed_in("alice", PASSWORD).await;
    // One liar per case: a host whose answer was refused is left alone for a while, and each
    // case must be refused by its own check.
    let handle = |name: &str, liar: &str| format!("{name}@{}", liar.trim_start_matches("http://"));
    let mut cases = Vec::new();
    for case in [
        "other-subject",
        "other-host",
        "someone-elses-key",
        "wrong-id",
        "as-html",
        "foreign-inbox",
    ] {
        let liar = liar().await;
        cases.push(match case {
            "other-subject" | "other-host" => handle(case, &liar),
            _ => format!("{liar}/u/{case}"),
        });
    }
    for target in &cases {
        let (status, body) = alice
            .post("/api/v1/account/remote-follows", json!({"target": target}))
            .await;
        assert!(
            !status.is_success(),
            "{target} was followed: {status} {body}"
        );
        assert!(
            !body.to_string().contains("try again"),
            "{target}: refused by a limit, not a check: {body}"
        );
    }
    assert_eq!(count(&b, "SELECT COUNT(*) AS n FROM remote_actors"), 0);
    assert_eq!(count(&b, "SELECT COUNT(*) AS n FROM federation_follows"), 0);
    // A liar's honest answer is followed: the refusals above are the checks'.
    let honest = liar().await;
    let (status, body) = alice
        .post(
            "/api/v1/account/remote-follows",
            json!({"target": handle("good", &honest)}),
        )
        .await;
    assert!(status.is_success(), "{status} {body}");
    assert_eq!(count(&b, "SELECT COUNT(*) AS n FROM remote_actors"), 1);
    b.stop().await;
}

both_backends!(lying_webfinger_and_actors_are_refused);

/// Checklist 1.1: an activity cannot carry another server's object: a `Create` from A whose
/// page claims an id on another host is refused and stores nothing.
async fn an_object_of_another_host_is_not_taken_from_a_sender(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    follow_instance(&b, &a).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    let (_, created) = alice.post("/api/v1/reviews", review(100, 60)).await;
    let id = created["id"].as_str().expect("id");
    eventually("B has alice's review", || async {
        counted(&b).await.0 == 1
    })
    .await;
    let mut page = activity_json(&a, &format!("/reviews/{id}")).await;
    page["id"] = json!(format!(
        "{}/reviews/planted",
        b.base.replace("localhost", "127.0.0.1")
    ));
    page["picket:review"]["reward_minor"] = json!(1);
    push_create(&a, "alice", &b, "planted-create", page).await;
    assert_eq!(
        count(
            &b,
            "SELECT COUNT(*) AS n FROM reviews WHERE ap_id LIKE '%planted%'"
        ),
        0
    );
    assert_eq!(counted(&b).await.0, 1);
    a.stop().await;
    b.stop().await;
}

both_backends!(an_object_of_another_host_is_not_taken_from_a_sender);

/// Checklist 4.12: received activity ids older than the retention are forgotten, newer ones kept.
async fn old_received_activity_ids_are_purged(backend: TestBackend) {
    let db = picket_test_support::TestDb::new(backend);
    let db = db.open();
    let now = picket_db::models::now();
    db.tx(move |conn| {
        picket_db::delivery::record_received(
            conn,
            "https://a.example/old",
            now - chrono::Duration::days(40),
        )?;
        picket_db::delivery::record_received(conn, "https://a.example/new", now)?;
        Ok(())
    })
    .await
    .expect("record");
    let purged = db
        .tx(move |conn| picket_db::delivery::purge_received(conn, now - chrono::Duration::days(30)))
        .await
        .expect("purge");
    assert_eq!(purged, 1);
    let fresh = db
        .tx(move |conn| picket_db::delivery::record_received(conn, "https://a.example/new", now))
        .await
        .expect("again");
    assert!(!fresh, "the recent id is still known");
}

both_backends!(old_received_activity_ids_are_purged);

/// Checklist 6.2: JSON nested far deeper than anything real, in a signed-in API body, is
/// refused with a clear 4xx, not a crash or a hang.
async fn deeply_nested_api_bodies_are_refused(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", PASSWORD).await;
    let mut body = review(100, 60).to_string();
    body.pop();
    body.push_str(&format!(
        ",\"extra\":{}{}}}",
        "[".repeat(50_000),
        "]".repeat(50_000)
    ));
    let (status, answer) = alice
        .send(
            alice
                .request(reqwest::Method::POST, "/api/v1/reviews")
                .header("content-type", "application/json")
                .body(body),
        )
        .await;
    assert!(status.is_client_error(), "{status} {answer}");
    assert_eq!(counted(&server).await.0, 0);
    server.stop().await;
}

both_backends!(deeply_nested_api_bodies_are_refused);

/// Finding 5 across instances: reviewers on an instance nobody here follows cannot rename a
/// requester however many they are, and a federated name that is no name is refused.
async fn uncounted_instances_cannot_rename_a_requester(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let bob = b.signed_in("bob", PASSWORD).await;
    assert_eq!(
        bob.post("/api/v1/reviews", review(100, 60)).await.0,
        StatusCode::CREATED
    );
    let push = |name: &'static str, requester_name: String| {
        let (a, b) = (&a, &b);
        async move {
            let worker = a.signed_in(name, PASSWORD).await;
            let mut body = review(100, 60);
            body["requester_name"] = json!("Acme Research");
            let (_, created) = worker.post("/api/v1/reviews", body).await;
            let id = created["id"].as_str().expect("id").to_owned();
            let mut page = activity_json(a, &format!("/reviews/{id}")).await;
            page["picket:requesterName"] = json!(requester_name);
            push_create(a, name, b, &format!("rename-{name}"), page).await;
            id
        }
    };
    for name in ["mallory", "trudy"] {
        push(name, "EVIL CORP".to_owned()).await;
    }
    let (_, listed) = Client::new(&b)
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(3),
        "stored: {listed}"
    );
    let (_, page) = Client::new(&b)
        .get(&format!("/api/v1/requesters/mturk/{RID}"))
        .await;
    assert_eq!(page["name"], "Acme Research", "{page}");
    // A name that is no name: the review is refused, not stored.
    push("oscar", "x".repeat(300)).await;
    let (_, listed) = Client::new(&b)
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(3),
        "{listed}"
    );
    a.stop().await;
    b.stop().await;
}

both_backends!(uncounted_instances_cannot_rename_a_requester);

/// Checklist 1.9: nobody but the followed actor rejects a follow, and a `Reject` of a follow
/// never sent changes nothing; nobody but the follower undoes one.
async fn forged_rejects_and_undos_change_nothing(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    let c = federating(backend).await;
    follow_instance(&b, &a).await;
    let follow = crate::federation::follows(&b, picket_db::delivery::Direction::Outbound)
        .remove(0)
        .follow_activity_id;
    let accepted = || {
        crate::federation::follows(&b, picket_db::delivery::Direction::Outbound)
            .iter()
            .any(|f| f.is_accepted())
    };
    let reject = |from: &TestServer, n: u32, follow_id: &str| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "type": "Reject",
            "id": format!("{}/activities/reject-{n}", from.base),
            "actor": format!("{}/actor", from.base),
            "object": {
                "type": "Follow",
                "id": follow_id,
                "actor": format!("{}/actor", b.base),
                "object": format!("{}/actor", a.base),
            },
        })
        .to_string()
    };
    // C, which B never followed, rejects B's follow of A.
    let c_data = signing_as(&c).await;
    let forged = reject(&c, 1, &follow);
    let status = crate::federation::signed_post(&c_data, &b, &forged, &forged).await;
    assert!(status.is_client_error(), "{status}");
    // A rejects a follow B never sent.
    let a_data = signing_as(&a).await;
    let unknown = reject(&a, 2, &format!("{}/activities/never", b.base));
    crate::federation::signed_post(&a_data, &b, &unknown, &unknown).await;
    assert!(accepted(), "B still follows A");
    // C undoes a follow of A's (that A has of nobody here) as if it were the follower.
    let undo = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Undo",
        "id": format!("{}/activities/undo-forged", c.base),
        "actor": format!("{}/actor", c.base),
        "object": {
            "type": "Follow",
            "id": follow,
            "actor": format!("{}/actor", b.base),
            "object": format!("{}/actor", a.base),
        },
    })
    .to_string();
    let status = crate::federation::signed_post(&c_data, &a, &undo, &undo).await;
    assert!(status.is_client_error(), "{status}");
    assert_eq!(
        crate::federation::follows(&a, picket_db::delivery::Direction::Inbound).len(),
        1,
        "A still has B as a follower"
    );
    a.stop().await;
    b.stop().await;
    c.stop().await;
}

both_backends!(forged_rejects_and_undos_change_nothing);

/// Checklist 1.16: a `Create` replayed (under a new id) after the copy was deleted does not
/// bring the review back.
async fn a_replayed_create_after_deletion_stays_deleted(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    follow_instance(&b, &a).await;
    let alice = a.signed_in("alice", PASSWORD).await;
    let (_, created) = alice.post("/api/v1/reviews", review(100, 60)).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let mut create = activity_json(&a, &format!("/reviews/{id}/create")).await;
    eventually("B holds the review", || async { counted(&b).await.0 == 1 }).await;
    let (status, _) = alice
        .delete(&format!("/api/v1/reviews/{id}"), json!({}))
        .await;
    assert!(status.is_success(), "{status}");
    eventually("B deletes its copy", || async { counted(&b).await.0 == 0 }).await;
    create["id"] = json!(format!("{}/activities/replayed-create", a.base));
    create.as_object_mut().expect("object").remove("@context");
    crate::moderation::try_send_as(&a, "alice", &b, create).await;
    assert_eq!(counted(&b).await.0, 0);
    let (_, listed) = Client::new(&b)
        .get(&format!("/api/v1/requesters/mturk/{RID}/reviews"))
        .await;
    assert_eq!(listed["items"], json!([]), "{listed}");
    a.stop().await;
    b.stop().await;
}

both_backends!(a_replayed_create_after_deletion_stays_deleted);

/// Checklist 3.1: a password stored with weaker Argon2 settings is rehashed with the current
/// ones at the next successful login.
async fn a_weaker_password_hash_is_upgraded_at_login(backend: TestBackend) {
    use argon2::password_hash::{PasswordHasher, SaltString};
    let server = TestServer::start(backend, |_| {}).await;
    server.signed_in("alice", PASSWORD).await;
    let weak = argon2::Argon2::new(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        argon2::Params::new(8, 1, 1, None).expect("params"),
    )
    .hash_password(
        PASSWORD.as_bytes(),
        &SaltString::encode_b64(b"0123456789abcdef").expect("salt"),
    )
    .expect("hash")
    .to_string();
    let stored = {
        let weak = weak.clone();
        let db = server.db.open();
        move |set: bool| {
            let weak = weak.clone();
            db.with_conn(move |conn| {
                use diesel::prelude::*;
                use picket_db::schema::users;
                if set {
                    diesel::update(users::table.filter(users::username.eq("alice")))
                        .set(users::password_hash.eq(Some(&weak)))
                        .execute(conn)?;
                }
                Ok(users::table
                    .filter(users::username.eq("alice"))
                    .select(users::password_hash)
                    .first::<Option<String>>(conn)?)
            })
            .expect("hash")
            .expect("a hash")
        }
    };
    assert_eq!(stored(true), weak);
    Client::new(&server).login("alice", PASSWORD).await;
    let now = stored(false);
    assert_ne!(now, weak);
    assert!(!picket_core::secrets::needs_rehash(&now), "{now}");
    server.stop().await;
}

both_backends!(a_weaker_password_hash_is_upgraded_at_login);

/// Checklist 1.5: one worker of an instance cannot sign for another: a post claiming alice as
/// its actor but signed with bob's key (same host) is refused.
async fn a_colleagues_key_does_not_sign_for_another(backend: TestBackend) {
    let a = federating(backend).await;
    let b = federating(backend).await;
    a.signed_in("alice", PASSWORD).await;
    a.signed_in("bob", PASSWORD).await;
    let key = signing_key(&a, LocalActor::Person("bob".into())).await;
    let like = json!({
        "@context": "https://www.w3.org/ns/activitystreams",
        "type": "Like",
        "id": format!("{}/activities/like-as-alice", a.base),
        "actor": format!("{}/u/alice", a.base),
        "object": format!("{}/actor", b.base),
    })
    .to_string();
    let post = Post {
        body: &like,
        host: domain(&b),
        date: chrono::Utc::now(),
        key_id: format!("{}/u/bob#main-key", a.base),
        signed: FULL,
    };
    assert_eq!(
        post_signed(&b, &post, Some(&key)).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // Bob signing as bob is fine: the refusal is about whose key it is.
    let own = like
        .replace("/u/alice", "/u/bob")
        .replace("like-as-alice", "like-as-bob");
    let post = Post { body: &own, ..post };
    assert_eq!(
        post_signed(&b, &post, Some(&key)).await.status(),
        StatusCode::ACCEPTED
    );
    a.stop().await;
    b.stop().await;
}

both_backends!(a_colleagues_key_does_not_sign_for_another);
