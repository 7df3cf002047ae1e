//! The HTML pages over plain HTTP, as a browser without JavaScript uses them: forms with their token, redirects, pages at object URLs, and forged forms refused.

use picket_test_support::{TestBackend, both_backends};
use reqwest::StatusCode;
use reqwest::header::{ACCEPT, CONTENT_TYPE, COOKIE, LOCATION, ORIGIN, SET_COOKIE};

use crate::support::TestServer;

const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

/// A browser without JavaScript: keeps cookies, follows no redirect by itself, sends its Origin.
struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: Vec<(String, String)>,
}

impl Browser {
    fn new(server: &TestServer) -> Browser {
        picket_apub::install_tls();
        Browser {
            base: server.base.clone(),
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
            cookies: Vec::new(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep_cookies(&mut self, response: &reqwest::Response) {
        for value in response.headers().get_all(SET_COOKIE) {
            let text = value.to_str().expect("ascii cookie");
            let pair = text.split(';').next().expect("pair");
            let (name, value) = pair.split_once('=').expect("name=value");
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() && !text.contains("Max-Age=0") {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
    }

    async fn get(&mut self, path: &str) -> (StatusCode, String) {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .header(ACCEPT, HTML)
            .header(COOKIE, self.cookie_header())
            .send()
            .await
            .expect("page");
        self.keep_cookies(&response);
        let status = response.status();
        (status, response.text().await.expect("body"))
    }

    /// Posts a form as the browser would from `page` (taking the token from it); returns the
    /// status and the redirect target or the page.
    async fn submit(
        &mut self,
        page: &str,
        action: &str,
        fields: &[(&str, &str)],
    ) -> (StatusCode, String) {
        let token = token_in(page);
        let mut form: Vec<(&str, &str)> = vec![("csrf", token.as_str())];
        form.extend_from_slice(fields);
        self.post_raw(action, &form, true).await
    }

    async fn post_raw(
        &mut self,
        action: &str,
        form: &[(&str, &str)],
        same_origin: bool,
    ) -> (StatusCode, String) {
        let mut request = self
            .http
            .post(format!("{}{action}", self.base))
            .header(ACCEPT, HTML)
            .header(COOKIE, self.cookie_header())
            .header(CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(serde_urlencoded_pairs(form));
        request = request.header(
            ORIGIN,
            if same_origin {
                self.base.clone()
            } else {
                "https://evil.example".to_owned()
            },
        );
        let response = request.send().await.expect("post");
        self.keep_cookies(&response);
        let status = response.status();
        if status == StatusCode::SEE_OTHER {
            let location = response.headers()[LOCATION]
                .to_str()
                .expect("location")
                .to_owned();
            return (status, location);
        }
        (status, response.text().await.expect("body"))
    }
}

fn serde_urlencoded_pairs(form: &[(&str, &str)]) -> String {
    form.iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b' ' => "+".to_owned(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// The form token a page carries.
fn token_in(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("the page has a form token") + marker.len();
    let end = page[start..].find('"').expect("token ends") + start;
    page[start..end].to_owned()
}

const RID: &str = "A9Z8Y7X6W5";

async fn register_and_login(browser: &mut Browser, name: &str) {
    let (status, page) = browser.get("/register").await;
    assert_eq!(status, StatusCode::OK);
    let (status, page) = browser
        .submit(
            &page,
            "/register",
            &[("username", name), ("password", "correct horse battery")],
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(page.contains("is ready"), "{page}");
    let (_, page) = browser.get("/login").await;
    let (status, location) = browser
        .submit(
            &page,
            "/login",
            &[("username", name), ("password", "correct horse battery")],
        )
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert_eq!(location, "/account");
}

both_backends!(a_review_written_in_a_form_shows_on_the_requester_page);
async fn a_review_written_in_a_form_shows_on_the_requester_page(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let mut alice = Browser::new(&server);
    register_and_login(&mut alice, "alice").await;

    let (status, form) = alice
        .get(&format!("/reviews/new?platform=mturk&requester_id={RID}"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let fields = [
        ("platform", "mturk"),
        ("requester_id", RID),
        ("requester_name", "Acme <Research>"),
        ("reward", "1.50"),
        ("bonus", "0.50"),
        ("minutes", "10"),
        ("seconds", "0"),
        ("completion", "completed"),
        ("approval", "approved"),
        ("decision_value", "2"),
        ("decision_unit", "days"),
        ("score_pay", "4"),
        ("recommend", "yes"),
        ("body", "Paid on time."),
    ];
    // A preview computes the hourly rate and saves nothing.
    let mut preview = fields.to_vec();
    preview.push(("action", "preview"));
    let (status, page) = alice.submit(&form, "/reviews/new", &preview).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("$12.00 per hour"), "{page}");
    let (_, requester) = alice.get(&format!("/r/mturk/{RID}")).await;
    assert!(requester.contains("Nobody has reviewed"), "{requester}");

    // A mistake comes back next to its field, with what was typed kept.
    let mut wrong = fields.to_vec();
    wrong.retain(|(k, _)| *k != "reward");
    wrong.push(("reward", "one fifty"));
    wrong.push(("action", "publish"));
    let (status, page) = alice.submit(&form, "/reviews/new", &wrong).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(page.contains("id=\"err-reward\""), "{page}");
    assert!(page.contains("value=\"one fifty\""), "{page}");

    let mut publish = fields.to_vec();
    publish.push(("action", "publish"));
    let (status, location) = alice.submit(&form, "/reviews/new", &publish).await;
    assert_eq!(status, StatusCode::SEE_OTHER, "{location}");
    assert!(location.starts_with("/reviews/"), "{location}");

    // The review's page is at its object URL; ActivityPub clients still get the object there.
    let (status, page) = alice.get(&location).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Paid on time."), "{page}");
    assert!(page.contains("Acme &lt;Research&gt;"), "escaped: {page}");
    let object = crate::support::http()
        .get(format!("{}{location}", server.base))
        .header(ACCEPT, "application/activity+json")
        .send()
        .await
        .expect("object");
    assert!(
        object.headers()[CONTENT_TYPE]
            .to_str()
            .expect("type")
            .contains("activity+json")
    );

    // The requester page shows it and counts it.
    let (status, page) = alice.get(&format!("/r/mturk/{RID}")).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page.contains("Paid on time."), "{page}");
    assert!(
        page.contains("$12.00/h</strong>"),
        "median hourly pay: {page}"
    );
    assert!(page.contains("4.0 of 5, good"), "scores in words: {page}");

    // Every page carries the strict policy.
    let response = crate::support::http()
        .get(format!("{}/r/mturk/{RID}", server.base))
        .header(ACCEPT, HTML)
        .send()
        .await
        .expect("page");
    let csp = response.headers()["content-security-policy"]
        .to_str()
        .expect("csp")
        .to_owned();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("frame-ancestors 'none'"), "{csp}");
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    server.stop().await;
}

both_backends!(forged_forms_are_refused);
async fn forged_forms_are_refused(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let mut alice = Browser::new(&server);
    register_and_login(&mut alice, "alice").await;
    let (_, page) = alice.get("/account/settings").await;
    let token = token_in(&page);
    let follow = format!("/r/mturk/{RID}/follow");
    // From another site, even with the right token.
    let (status, _) = alice
        .post_raw(&follow, &[("csrf", token.as_str())], false)
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // From our pages, without the token or with another one.
    let (status, _) = alice.post_raw(&follow, &[], true).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = alice
        .post_raw(
            &follow,
            &[("csrf", "0123456789abcdef0123456789abcdef")],
            true,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (_, page) = alice.get(&format!("/r/mturk/{RID}")).await;
    assert!(
        page.contains("Follow this requester"),
        "not followed: {page}"
    );
    // With both, it works (and creates the requester nobody reviewed yet).
    let (status, location) = alice
        .post_raw(&follow, &[("csrf", token.as_str())], true)
        .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let (_, page) = alice.get(&location).await;
    assert!(page.contains("You follow this requester"), "{page}");
    // Browsers asking for a page that does not exist get a page, not JSON.
    let (status, page) = alice.get("/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    server.stop().await;
}

both_backends!(a_burst_of_reviews_does_not_hide_other_requesters);
/// A hundred reviews of one requester (a mass rejection) after one of another: the home page lists
/// both, newest first.
async fn a_burst_of_reviews_does_not_hide_other_requesters(backend: TestBackend) {
    let server = TestServer::start(backend, |_| {}).await;
    let alice = server.signed_in("alice", "correct horse battery").await;
    let mut first = crate::reviews::review(100, 600);
    first["requester_id"] = "A0QUIETONE1".into();
    first["requester_name"] = "Quiet Labs".into();
    assert_eq!(
        alice.post("/api/v1/reviews", first).await.0,
        StatusCode::CREATED
    );
    for _ in 0..100 {
        let (status, body) = alice
            .post("/api/v1/reviews", crate::reviews::review(100, 600))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let mut browser = Browser::new(&server);
    let (status, page) = browser.get("/").await;
    assert_eq!(status, StatusCode::OK);
    let acme = page.find("Acme Research").expect("the burst's requester");
    let quiet = page
        .find("Quiet Labs")
        .expect("the other requester is still listed");
    assert!(acme < quiet, "newest first: {page}");
    server.stop().await;
}
