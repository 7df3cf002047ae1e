//! Why this exists: the API's request bodies (and the `picket:review`/`picket:incident` fields other servers send) are untrusted JSON checked by picket-core (crates/core/src/review.rs, incident.rs), and imported domain lists, requester names and free text go through its parsers and worker-ID guard (domain_list.rs, platform.rs, worker_ids.rs); this checks that none of them panics, and that a domain list we write reads back as what we read.
#![no_main]

use std::collections::BTreeMap;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use picket_core::incident::{
    CorroborationInput, IncidentInput, reversal_deadline, validate_corroboration,
    validate_incident, validate_status_note,
};
use picket_core::platform::{Platform, validate_requester_name};
use picket_core::review::{ReviewInput, check_requester_name, validate_review};
use picket_core::{FieldErrors, domain_list, moderation, money, worker_ids};
use serde::Deserialize;
use serde_json::Value;

// The API's bodies are crate-private in picket-api (crates/api/src/routes/*.rs); these mirror
// their shapes around the public picket-core inputs they flatten.

/// `POST /api/v1/reviews` (reviews.rs, `CreateReview`).
#[derive(Deserialize)]
#[allow(dead_code)]
struct CreateReview {
    platform: String,
    requester_id: String,
    requester_name: String,
    #[serde(default)]
    draft: bool,
    #[serde(default)]
    confirm_no_worker_ids: bool,
    #[serde(flatten)]
    review: ReviewInput,
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

/// `POST /api/v1/incidents` and edits (incidents.rs, `IncidentBody`).
#[derive(Deserialize)]
#[allow(dead_code)]
struct IncidentBody {
    #[serde(default)]
    confirm_no_worker_ids: bool,
    #[serde(flatten)]
    incident: IncidentInput,
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

/// `POST /api/v1/incidents/{id}/corroborations` (incidents.rs, `CorroborateBody`).
#[derive(Deserialize)]
#[allow(dead_code)]
struct CorroborateBody {
    #[serde(default)]
    confirm_no_worker_ids: bool,
    #[serde(flatten)]
    corroboration: CorroborationInput,
    #[serde(flatten)]
    unknown: BTreeMap<String, Value>,
}

/// A fixed "today", so a crash reproduces whenever it is run.
fn today() -> NaiveDate {
    NaiveDate::from_ymd_opt(2027, 1, 1).expect("a date")
}

fn review(input: &ReviewInput, requester_id: &str, allow: bool) {
    for &platform in Platform::ALL {
        let _ = validate_review(input, platform, requester_id, allow);
    }
}

fn incident(input: &IncidentInput, allow: bool) {
    if let Ok(valid) = validate_incident(input, today(), allow) {
        // Only stored (so validated) incidents get a deadline (crates/api/src/views.rs).
        let _ = reversal_deadline(valid.kind, valid.platform, valid.happened_from);
    }
}

fn json(data: &[u8]) {
    if let Ok(body) = serde_json::from_slice::<CreateReview>(data) {
        // As reviews.rs `check_requester`, then `validate_review`.
        let mut errors = FieldErrors::new();
        let platform = errors.check("platform", body.platform.parse::<Platform>());
        let id = platform.and_then(|p| {
            errors.check("requester_id", p.normalize_requester_id(&body.requester_id))
        });
        let _ = check_requester_name(
            &mut errors,
            "requester_name",
            &body.requester_name,
            id.as_deref().unwrap_or_default(),
            body.confirm_no_worker_ids,
        );
        if let (Some(platform), Some(id)) = (platform, id) {
            let _ = validate_review(&body.review, platform, &id, body.confirm_no_worker_ids);
        }
    }
    // Bare, as a review's `picket:review` from another server (crates/apub/src/receive.rs).
    if let Ok(input) = serde_json::from_slice::<ReviewInput>(data) {
        review(&input, "", true);
        review(&input, "A1B2C3D4E5F6G7", false);
    }
    if let Ok(body) = serde_json::from_slice::<IncidentBody>(data) {
        incident(&body.incident, body.confirm_no_worker_ids);
    }
    if let Ok(input) = serde_json::from_slice::<IncidentInput>(data) {
        incident(&input, true);
        incident(&input, false);
    }
    if let Ok(body) = serde_json::from_slice::<CorroborateBody>(data) {
        let _ = validate_corroboration(&body.corroboration, "", body.confirm_no_worker_ids);
        let _ = validate_corroboration(&body.corroboration, "A1B2C3D4E5F6G7", false);
    }
}

fn domains(text: &str) {
    let Ok(entries) = domain_list::parse(text) else {
        return;
    };
    for entry in &entries {
        let _ = entry.enforced();
    }
    // What we export (and publish to subscribers) must import as the same list.
    let written = domain_list::write(&entries);
    let again = domain_list::parse(&written)
        .unwrap_or_else(|e| panic!("a written domain list does not parse ({e}):\n{written}"));
    assert_eq!(
        entries, again,
        "a written domain list reads back differently:\n{written}"
    );
}

fn text(text: &str) {
    domains(text);
    // The first line as the reviewed requester's own ID (which the guard lets through), the
    // rest as the text; and the whole text with no requester.
    let (requester, rest) = text.split_once('\n').unwrap_or(("", text));
    for (body, exclude) in [(text, ""), (rest, requester)] {
        let _ = worker_ids::find_worker_ids(body, exclude);
        let _ = worker_ids::find_worker_id_params(body);
        let _ = worker_ids::worker_id_problem(body, exclude, true);
        let _ = worker_ids::worker_id_problem(body, exclude, false);
        let _ = validate_status_note(Some(body), exclude);
    }
    let _ = worker_ids::worker_id_message(text);
    let _ = validate_requester_name(text);
    for &platform in Platform::ALL {
        if let Ok(id) = platform.normalize_requester_id(text) {
            let _ = platform.requester_url(&id);
        }
    }
    let mut errors = FieldErrors::new();
    let _ = check_requester_name(&mut errors, "requester_name", rest, requester, false);
    let _ = money::check_currency(text);
    let _ = moderation::normalize_domain(text);
    let _ = moderation::validate_reason(text);
    let _ = moderation::covers(requester, rest);
}

fuzz_target!(|data: &[u8]| {
    json(data);
    if let Ok(s) = std::str::from_utf8(data) {
        text(s);
    }
});
