//! Worker, moderator and admin journeys in a real headless Chromium, on both databases: every page they pass through is checked for accessibility, valid markup and a phone-sized screen.

mod harness;

use std::future::Future;
use std::pin::Pin;

use harness::Browser;
use picket_test_support::TestBackend;

use picket_core::accounts::Role;

use crate::support::TestServer;

const RID: &str = "A1B2C3D4E5";
const PASSWORD: &str = "correct horse battery";

type Journey = fn(Browser, TestBackend) -> Pin<Box<dyn Future<Output = Browser> + Send>>;

/// Every journey, by name.
macro_rules! journeys {
    ($($name:ident),* $(,)?) => {
        const JOURNEYS: &[(&str, Journey)] = &[$((stringify!($name), |b, backend| Box::pin($name(b, backend)))),*];
    };
}

journeys!(
    a_worker_reviews_edits_and_deletes,
    invited_workers_report_corroborate_and_follow,
    a_moderator_removes_reported_content,
    a_worker_manages_and_deletes_the_account,
    an_admin_runs_the_instance,
    reviews_from_another_instance_show_their_home,
);

/// One test for all journeys on both databases, so that the one browser is never waited for by
/// a test thread the other tests could use. `PICKET_JOURNEYS=part` runs the journeys whose name
/// contains it; a failing journey does not stop the others, and all failures are listed.
#[test]
fn journeys_in_chromium() {
    let only = std::env::var("PICKET_JOURNEYS").unwrap_or_default();
    let mut failed = Vec::new();
    let mut ran = 0;
    for backend in [TestBackend::Sqlite, TestBackend::Postgres] {
        for (name, journey) in JOURNEYS {
            let label = format!("{}-{name}", format!("{backend:?}").to_lowercase());
            if !label.contains(&only) {
                continue;
            }
            ran += 1;
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                harness::journey(&label, |b| journey(b, backend));
            }));
            if outcome.is_err() {
                failed.push(label);
            }
        }
    }
    assert!(ran > 0, "no journey's name contains {only:?}");
    assert!(
        failed.is_empty(),
        "journeys that failed (their panics are above): {failed:?}"
    );
}

async fn register(browser: &mut Browser, name: &str) {
    browser.open("/register", "register").await;
    browser.fill("#f-username", name).await;
    browser.fill("#f-password", PASSWORD).await;
    browser.press("Register", "registered").await;
    assert!(
        browser.text().await.contains("is ready"),
        "{}",
        browser.text().await
    );
}

async fn log_out(browser: &mut Browser) {
    browser.press("Log out", "logged-out").await;
}

/// Writes and publishes a review of `RID` from the form.
async fn write_review(browser: &mut Browser, body: &str, shot: &str) {
    browser
        .open(
            &format!("/reviews/new?platform=mturk&requester_id={RID}"),
            shot,
        )
        .await;
    browser.fill("#f-requester_name", "Acme Research").await;
    browser.fill("#f-reward", "2.00").await;
    browser.fill("#f-minutes", "12").await;
    browser.click("#f-completion-completed").await;
    browser.choose("#f-approval", "pending").await;
    browser.fill("#f-body", body).await;
    browser
        .press("Publish review", &format!("{shot}-published"))
        .await;
    assert!(
        browser.path().await.starts_with("/reviews/"),
        "{}",
        browser.text().await
    );
}

async fn log_in(browser: &mut Browser, name: &str) {
    browser.open("/login", "login").await;
    browser.fill("#f-username", name).await;
    browser.fill("#f-password", PASSWORD).await;
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
        .open(
            &format!("/reviews/new?platform=mturk&requester_id={RID}"),
            "review-form",
        )
        .await;
    browser.fill("#f-requester_name", "Acme Research").await;
    browser.fill("#f-reward", "1.50").await;
    browser.fill("#f-minutes", "10").await;
    browser.fill("#f-seconds", "0").await;
    browser.click("#f-completion-completed").await;
    browser.choose("#f-approval", "approved").await;
    browser.choose("#f-score_pay", "4").await;
    browser.click("#f-recommend-yes").await;
    browser.fill("#f-body", "Paid on time.").await;
    browser.press("Preview hourly rate", "review-preview").await;
    assert!(
        browser.text().await.contains("$9.00 per hour"),
        "{}",
        browser.text().await
    );
    browser.press("Publish review", "review").await;
    assert!(
        browser.path().await.starts_with("/reviews/"),
        "{}",
        browser.path().await
    );
    assert!(browser.text().await.contains("Paid on time."));

    let review = browser.path().await;

    browser.follow("Edit", "review-edit").await;
    browser
        .fill("#f-body", "Paid on time, approved in two days.")
        .await;
    browser.press("Save changes", "review-edited").await;
    assert_eq!(browser.path().await, review);
    let text = browser.text().await;
    assert!(
        text.contains("Paid on time, approved in two days."),
        "{text}"
    );
    assert!(text.contains("Edit history"), "{text}");
    assert!(
        text.contains("Paid on time."),
        "the earlier text in the history: {text}"
    );

    // Comments under the review: an empty one is refused with the reason; a comment, an answer
    // to it, and the comment deleted while its answer stays.
    browser.press("Post comment", "comment-empty").await;
    let text = browser.text().await;
    assert!(text.contains("Write something."), "{text}");
    browser
        .fill("#f-body", "The payment arrived the next morning.")
        .await;
    browser.press("Post comment", "comment").await;
    let text = browser.text().await;
    assert!(text.contains("Comments (1)"), "{text}");
    assert!(
        text.contains("The payment arrived the next morning."),
        "{text}"
    );
    browser.click("details.reply summary").await;
    browser
        .fill("details.reply textarea", "And the bonus a day later.")
        .await;
    browser.press("Send answer", "comment-answered").await;
    assert!(browser.text().await.contains("Comments (2)"));
    browser.press("Delete my comment", "comment-deleted").await;
    let text = browser.text().await;
    assert!(text.contains("Deleted by its author."), "{text}");
    assert!(text.contains("And the bonus a day later."), "{text}");
    assert!(!text.contains("arrived the next morning"), "{text}");

    // What is known about who is behind the requester: a private address is refused, the
    // organisation and its kind are saved and shown in the history.
    browser
        .open(&format!("/r/mturk/{RID}/facts"), "facts")
        .await;
    browser.fill("#f-contact", "someone@gmail.com").await;
    browser.press("Save the facts", "facts-refused").await;
    let text = browser.text().await;
    assert!(text.contains("business details only"), "{text}");
    browser.fill("#f-contact", "").await;
    browser.fill("#f-organisation", "Acme Vision Lab").await;
    browser
        .fill("#f-organisation_sources", "https://acme.example/about")
        .await;
    browser.choose("#f-kind", "university_lab").await;
    browser.press("Save the facts", "facts-saved").await;
    let text = browser.text().await;
    assert!(text.contains("University lab"), "{text}");
    assert!(text.contains("Organisation behind it · by alice"), "{text}");
    browser
        .open(&format!("/r/mturk/{RID}"), "requester-with-facts")
        .await;
    assert!(browser.text_of("#who").await.contains("Who is behind it"));

    browser.open(&format!("/r/mturk/{RID}"), "requester").await;
    let text = browser.text().await;
    assert!(text.contains("approved in two days"), "{text}");
    // Counted in the figures: $1.50 for 10 minutes.
    let figures = browser.text_of("#figures-table").await;
    assert!(figures.contains("$9.00/h"), "{figures}");
    assert!(figures.contains("1 of 1 (100%)"), "recommended: {figures}");

    browser.open(&review, "review-again").await;
    browser.follow("Delete", "review-delete").await;
    browser.press("Delete the review", "review-deleted").await;
    browser.open(&review, "review-gone").await;
    assert!(
        browser.text().await.contains("deleted"),
        "{}",
        browser.text().await
    );
    server.stop().await;
    browser
}

/// Invite-only registration, an incident filed and corroborated by a second worker, and a
/// follower told of a new review.
async fn invited_workers_report_corroborate_and_follow(
    mut browser: Browser,
    backend: TestBackend,
) -> Browser {
    let server = TestServer::start(backend, |c| {
        c.accounts.registration = picket_core::accounts::RegistrationMode::Invite;
    })
    .await;
    server.create_user("mod", Role::Moderator, PASSWORD).await;
    server.create_user("bob", Role::Worker, PASSWORD).await;
    browser.at(&server.base).await;

    log_in(&mut browser, "mod").await;
    browser.open("/moderation/invites", "invites").await;
    browser
        .press("Create an invite code", "invite-created")
        .await;
    let code = browser.text_of(".notice .secret").await;
    log_out(&mut browser).await;

    browser.open("/register", "register-invite").await;
    browser.fill("#f-username", "alice").await;
    browser.fill("#f-password", PASSWORD).await;
    browser.press("Register", "register-no-invite").await;
    assert!(
        browser.text().await.contains("invite"),
        "an invite is asked for: {}",
        browser.text().await
    );
    browser.fill("#f-username", "alice").await;
    browser.fill("#f-password", PASSWORD).await;
    browser.fill("#f-invite", &code).await;
    browser.press("Register", "registered").await;
    assert!(
        browser.text().await.contains("is ready"),
        "{}",
        browser.text().await
    );
    log_in(&mut browser, "alice").await;

    browser
        .open(
            &format!("/incidents/new?platform=mturk&requester_id={RID}"),
            "incident-form",
        )
        .await;
    browser.choose("#f-kind", "mass_rejection").await;
    browser.fill("#f-requester_name", "Acme Research").await;
    let today = chrono::Utc::now().date_naive();
    browser
        .set("#f-happened_from", &today.format("%Y-%m-%d").to_string())
        .await;
    browser.fill("#f-tasks_affected", "40").await;
    browser.fill("#f-amount_lost", "12.40").await;
    browser
        .fill(
            "#f-description",
            "Every task of the batch rejected within an hour, no reason given.",
        )
        .await;
    browser.press("File the report", "incident").await;
    let incident = browser.path().await;
    assert!(
        incident.starts_with("/incidents/"),
        "{}",
        browser.text().await
    );
    let text = browser.text().await;
    assert!(
        text.contains("Reversal deadline"),
        "MTurk rejections can be reversed: {text}"
    );

    // A lock-out names no requester: it goes on the platform's page.
    browser
        .open("/incidents/new?platform=mturk", "platform-incident-form")
        .await;
    browser.choose("#f-kind", "account_suspension").await;
    browser
        .set("#f-happened_from", &today.format("%Y-%m-%d").to_string())
        .await;
    browser.fill("#f-amount_lost", "412.50").await;
    browser
        .fill(
            "#f-description",
            "Locked out this morning with my earnings in the account.",
        )
        .await;
    browser.press("File the report", "platform-incident").await;
    let text = browser.text().await;
    assert!(text.contains("Account suspension · MTurk"), "{text}");
    // Later: the account is back, the money is not.
    browser.choose("#f-earnings_locked", "yes").await;
    browser.fill("#f-earnings_locked_amount", "412.50").await;
    browser
        .set("#f-reinstated_on", &today.format("%Y-%m-%d").to_string())
        .await;
    browser
        .fill(
            "#f-platform_answer",
            "After review we have restored your account.",
        )
        .await;
    browser.press("Save what happened", "aftermath").await;
    let text = browser.text().await;
    assert!(
        text.contains("Earnings locked") && text.contains("$412.50"),
        "{text}"
    );
    assert!(
        text.contains("After review we have restored your account."),
        "{text}"
    );
    browser.follow("MTurk", "platform").await;
    assert_eq!(browser.path().await, "/platforms/mturk");
    let text = browser.text().await;
    assert!(
        text.contains("Account suspension") && text.contains("Report a platform incident"),
        "{text}"
    );
    browser.press("Follow MTurk", "platform-followed").await;
    assert!(browser.text().await.contains("You follow MTurk"));
    log_out(&mut browser).await;

    // Bob follows the requester, then corroborates.
    log_in(&mut browser, "bob").await;
    browser.open(&format!("/r/mturk/{RID}"), "requester").await;
    browser.press("Follow this requester", "followed").await;
    assert!(browser.text().await.contains("You follow this requester"));
    browser.open(&incident, "incident-bob").await;
    browser.fill("#f-tasks_affected", "12").await;
    browser.fill("#f-note", "Same batch, same hour.").await;
    browser
        .press("This happened to me too", "corroborated")
        .await;
    let text = browser.text().await;
    assert!(text.contains("Corroborations (1)"), "{text}");
    assert!(
        text.contains("Part of a wave"),
        "two workers make a wave: {text}"
    );
    browser
        .press("Withdraw my corroboration", "withdrawn")
        .await;
    assert!(browser.text().await.contains("Corroborations (0)"));
    browser.fill("#f-note", "Same batch, same hour.").await;
    browser
        .press("This happened to me too", "corroborated-again")
        .await;
    log_out(&mut browser).await;

    // Alice's new review reaches Bob as a notification; the author changes the status.
    log_in(&mut browser, "alice").await;
    write_review(&mut browser, "Still pending after a week.", "review").await;
    browser.open(&incident, "incident-alice").await;
    browser.choose("#f-status", "reversed").await;
    browser
        .fill("#f-note", "Reversed after we wrote together.")
        .await;
    browser.press("Change status", "status-changed").await;
    assert!(browser.text().await.contains("reversed by the requester"));
    log_out(&mut browser).await;

    log_in(&mut browser, "bob").await;
    let text = browser.text().await;
    assert!(text.contains("Acme Research"), "Bob is told: {text}");
    browser.press("Mark all as read", "read").await;

    // Bob opens a campaign from the wave; Alice signs it, and it is ready to send.
    browser
        .open(&format!("/r/mturk/{RID}"), "requester-wave")
        .await;
    browser
        .follow("Open a campaign about it", "campaign-form")
        .await;
    browser
        .fill(
            "#f-letter",
            "The whole batch was rejected within an hour, with no reason.",
        )
        .await;
    browser.fill("#f-threshold", "2").await;
    browser.press("Open the campaign", "campaign").await;
    let campaign = browser.path().await;
    assert!(campaign.starts_with("/campaigns/"), "{campaign}");
    let text = browser.text().await;
    assert!(text.contains("1 of 2 signatures"), "{text}");
    assert!(text.contains("You signed this campaign."), "{text}");
    log_out(&mut browser).await;
    log_in(&mut browser, "alice").await;
    browser.open(&campaign, "campaign-alice").await;
    browser.press("Sign this campaign", "campaign-signed").await;
    let text = browser.text().await;
    assert!(text.contains("Ready to send: 2 of 2 signatures"), "{text}");
    assert!(text.contains("2 workers signed this letter"), "{text}");
    server.stop().await;
    browser
}

/// A report on a review, resolved by a moderator with a reason that the author and the public
/// log show.
async fn a_moderator_removes_reported_content(
    mut browser: Browser,
    backend: TestBackend,
) -> Browser {
    let server = TestServer::start(backend, |_| {}).await;
    server.create_user("mod", Role::Moderator, PASSWORD).await;
    server.create_user("alice", Role::Worker, PASSWORD).await;
    server.create_user("carol", Role::Worker, PASSWORD).await;
    browser.at(&server.base).await;

    log_in(&mut browser, "alice").await;
    write_review(
        &mut browser,
        "The requester is Jane Doe of 12 High Street.",
        "review",
    )
    .await;
    let review = browser.path().await;
    log_out(&mut browser).await;

    log_in(&mut browser, "carol").await;
    browser.open(&review, "review-carol").await;
    browser.follow("Report this review", "report-form").await;
    browser.choose("#f-reason", "personal_information").await;
    browser
        .fill("#f-text", "Names a person and her address.")
        .await;
    browser.press("Send the report", "reported").await;
    log_out(&mut browser).await;

    log_in(&mut browser, "mod").await;
    browser.open("/moderation", "queue").await;
    assert!(
        browser.text().await.contains("Names a person"),
        "{}",
        browser.text().await
    );
    browser.choose("select[id^='f-action-']", "remove").await;
    browser
        .fill(
            "input[id^='f-reason-']",
            "Personal information about a person.",
        )
        .await;
    browser.press("Resolve", "resolved").await;
    browser
        .open("/moderation?state=resolved", "queue-resolved")
        .await;
    browser.open(&review, "review-removed").await;
    let text = browser.text().await;
    assert!(
        text.contains("Personal information about a person."),
        "the reason shows: {text}"
    );
    log_out(&mut browser).await;

    browser.open("/modlog", "modlog").await;
    let text = browser.text().await;
    assert!(
        text.contains("Personal information about a person."),
        "{text}"
    );
    assert!(!text.contains("carol"), "reporters stay anonymous: {text}");
    browser.open(&review, "review-removed-public").await;
    let text = browser.text().await;
    assert!(
        !text.contains("Jane Doe"),
        "removed words are not shown: {text}"
    );
    assert!(!text.contains("edited"), "a removal is not an edit: {text}");
    server.stop().await;
    browser
}

/// Password, sessions, tokens, the feed address, the export and deletion, from the settings page.
async fn a_worker_manages_and_deletes_the_account(
    mut browser: Browser,
    backend: TestBackend,
) -> Browser {
    let server = TestServer::start(backend, |_| {}).await;
    browser.at(&server.base).await;
    register(&mut browser, "alice").await;
    log_in(&mut browser, "alice").await;
    write_review(&mut browser, "Fair pay.", "review").await;

    browser.open("/account/settings", "settings").await;
    browser.fill("#f-current_password", "not my password").await;
    browser
        .fill("#f-new_password", "a much longer passphrase")
        .await;
    browser.press("Change password", "password-wrong").await;
    assert!(
        browser.text().await.contains("password"),
        "{}",
        browser.text().await
    );
    browser.fill("#f-current_password", PASSWORD).await;
    browser
        .fill("#f-new_password", "a much longer passphrase")
        .await;
    browser.press("Change password", "password-changed").await;

    browser.open("/account/settings", "settings-2").await;
    browser.fill("#f-label", "my userscript").await;
    browser.press("Create token", "token-created").await;
    let text = browser.text().await;
    assert!(text.contains("my userscript"), "{text}");
    browser
        .press("Make a new feed address", "feed-rotated")
        .await;

    browser.open("/account/settings", "settings-3").await;
    let export = browser.href_of("a[download]").await;
    let (status, body) = browser.fetch(&export).await;
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("Fair pay."),
        "the export holds the review: {body}"
    );

    browser.follow("Delete my account", "delete").await;
    browser.fill("#f-password", PASSWORD).await;
    browser
        .press("Delete my account for good", "delete-wrong")
        .await;
    assert!(browser.path().await.starts_with("/account/delete"));
    browser
        .fill("#f-password", "a much longer passphrase")
        .await;
    browser.press("Delete my account for good", "deleted").await;
    browser.open("/u/alice", "profile-gone").await;
    browser
        .open(&format!("/r/mturk/{RID}"), "requester-after")
        .await;
    assert!(!browser.text().await.contains("Fair pay."));
    server.stop().await;
    browser
}

/// An admin names the instance, writes its rules, blocks a domain and sees the peers.
async fn an_admin_runs_the_instance(mut browser: Browser, backend: TestBackend) -> Browser {
    let server = TestServer::start(backend, |_| {}).await;
    server.create_user("root", Role::Admin, PASSWORD).await;
    browser.at(&server.base).await;
    log_in(&mut browser, "root").await;
    browser.open("/admin", "admin").await;
    browser.fill("#f-name", "Turkers United").await;
    browser.fill("#f-rules", "No worker IDs.\n\nBe kind.").await;
    browser.choose("#f-registration", "approval").await;
    browser.press("Save", "admin-saved").await;
    browser.fill("#f-domain", "spam.example").await;
    browser.choose("#f-kind", "block").await;
    browser.fill("#f-reason", "Spam.").await;
    browser.press("Add the rule", "domain-blocked").await;
    assert!(browser.text().await.contains("spam.example"));
    browser.open("/modlog", "modlog").await;
    log_out(&mut browser).await;

    browser.open("/about", "about").await;
    let text = browser.text().await;
    assert!(
        text.contains("Turkers United") && text.contains("Be kind."),
        "{text}"
    );
    browser.open("/register", "register-approval").await;
    browser.fill("#f-username", "dora").await;
    browser.fill("#f-password", PASSWORD).await;
    browser.press("Register", "registered-pending").await;
    assert!(
        browser.text().await.contains("approv"),
        "{}",
        browser.text().await
    );
    log_in(&mut browser, "root").await;
    browser.open("/moderation/pending", "pending").await;
    browser.press("Approve", "approved").await;
    assert!(
        !browser.text().await.contains("dora"),
        "{}",
        browser.text().await
    );
    server.stop().await;
    browser
}

/// A review written on A, read on B: shown with its home instance and its author's handle,
/// linking to the original.
async fn reviews_from_another_instance_show_their_home(
    mut browser: Browser,
    backend: TestBackend,
) -> Browser {
    let a = crate::federation::federating(backend).await;
    let b = crate::federation::federating(backend).await;
    a.create_user("alice", Role::Worker, PASSWORD).await;
    let a_domain = crate::federation::domain(&a);
    picket_server::admin::follow(&b.config, &format!("instance@{a_domain}"))
        .await
        .expect("B follows A");
    browser.at(&a.base).await;
    log_in(&mut browser, "alice").await;
    // Until A has accepted B's follow, a review would not reach B.
    crate::federation::eventually("A accepts B", || async {
        crate::federation::follows(&b, picket_db::delivery::Direction::Outbound)
            .first()
            .is_some_and(|f| f.is_accepted())
    })
    .await;
    write_review(
        &mut browser,
        "Answered my message within the hour.",
        "review-on-a",
    )
    .await;
    let original = format!("{}{}", a.base, browser.path().await);

    browser.at(&b.base).await;
    let mut arrived = false;
    for _ in 0..100 {
        browser
            .open(&format!("/r/mturk/{RID}"), "requester-on-b")
            .await;
        if browser.text().await.contains("Answered my message") {
            arrived = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(arrived, "the review reaches B");
    let text = browser.text().await;
    assert!(
        text.contains(&format!("alice@{a_domain}")),
        "the author's handle: {text}"
    );
    browser
        .follow("still pending, $10.00/h", "review-on-b")
        .await;
    let text = browser.text().await;
    assert!(text.contains(&a_domain), "its home instance: {text}");
    browser.href_of(&format!("a[href='{original}']")).await;
    a.stop().await;
    b.stop().await;
    browser
}
