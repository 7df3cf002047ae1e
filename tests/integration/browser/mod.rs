//! Worker, moderator and admin journeys in a real headless Chromium, on both databases: every page they pass through is checked for accessibility, valid markup and a phone-sized screen.

mod harness;

use harness::Browser;
use picket_test_support::TestBackend;

use crate::support::TestServer;

const RID: &str = "A1B2C3D4E5";
const PASSWORD: &str = "correct horse battery";

/// Runs `$name(backend)` as a journey on each database.
macro_rules! journeys {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(#[test]
            fn $name() {
                super::harness::journey(concat!("sqlite-", stringify!($name)), |b| super::$name(b, picket_test_support::TestBackend::Sqlite));
            })*
        }
        mod postgres {
            $(#[test]
            fn $name() {
                super::harness::journey(concat!("postgres-", stringify!($name)), |b| super::$name(b, picket_test_support::TestBackend::Postgres));
            })*
        }
    };
}

journeys!(a_worker_reviews_edits_and_deletes);

async fn register(browser: &mut Browser, name: &str) {
    browser.open("/register", "register").await;
    browser.fill("f-username", name).await;
    browser.fill("f-password", PASSWORD).await;
    browser.press("Register", "registered").await;
    assert!(browser.text().await.contains("is ready"), "{}", browser.text().await);
}

async fn log_in(browser: &mut Browser, name: &str) {
    browser.open("/login", "login").await;
    browser.fill("f-username", name).await;
    browser.fill("f-password", PASSWORD).await;
    browser.press("Log in", "account").await;
    assert_eq!(browser.path().await, "/account");
}

async fn a_worker_reviews_edits_and_deletes(mut browser: Browser, backend: TestBackend) -> Browser {
    let server = TestServer::start(backend, |_| {}).await;
    browser.at(&server.base).await;
    browser.open("/", "home").await;
    register(&mut browser, "alice").await;
    log_in(&mut browser, "alice").await;

    browser
        .open(&format!("/reviews/new?platform=mturk&requester_id={RID}"), "review-form")
        .await;
    browser.fill("f-requester_name", "Acme Research").await;
    browser.fill("f-reward", "1.50").await;
    browser.fill("f-minutes", "10").await;
    browser.fill("f-seconds", "0").await;
    browser.click("#f-completion-completed").await;
    browser.choose("f-approval", "approved").await;
    browser.choose("f-score_pay", "4").await;
    browser.click("#f-recommend-yes").await;
    browser.fill("f-body", "Paid on time.").await;
    browser.press("Preview hourly rate", "review-preview").await;
    assert!(browser.text().await.contains("$9.00 per hour"), "{}", browser.text().await);
    browser.press("Publish review", "review").await;
    assert!(browser.path().await.starts_with("/reviews/"), "{}", browser.path().await);
    assert!(browser.text().await.contains("Paid on time."));

    let review = browser.path().await;

    browser.follow("Edit", "review-edit").await;
    browser.fill("f-body", "Paid on time, approved in two days.").await;
    browser.press("Save changes", "review-edited").await;
    assert_eq!(browser.path().await, review);
    let text = browser.text().await;
    assert!(text.contains("Paid on time, approved in two days."), "{text}");
    assert!(text.contains("Edit history"), "{text}");
    assert!(text.contains("Paid on time."), "the earlier text in the history: {text}");

    browser.open(&format!("/r/mturk/{RID}"), "requester").await;
    assert!(browser.text().await.contains("approved in two days"));

    browser.open(&review, "review-again").await;
    browser.follow("Delete", "review-delete").await;
    browser.press("Delete the review", "review-deleted").await;
    browser.open(&review, "review-gone").await;
    assert!(browser.text().await.contains("deleted"), "{}", browser.text().await);
    server.stop().await;
    browser
}
