//! Incident reports (something that happened to workers, structured so many reports cluster) and corroborations of them.

use chrono::{Duration, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::money::{MAX_MINOR, check_currency};
use crate::platform::Platform;
use crate::review::{
    check_length, check_range, check_requester_name, clean, guard_worker_ids, refuse_worker_ids,
};
use crate::validation::FieldErrors;

pub const DESCRIPTION_MAX_CHARS: usize = 5_000;
pub const MESSAGE_MAX_CHARS: usize = 2_000;
pub const NOTE_MAX_CHARS: usize = 1_000;
pub const MAX_TASKS: i64 = 1_000_000;
pub const MAX_EVIDENCE: usize = 10;
/// MTurk lets a requester reverse a rejection for 30 days.
pub const MTURK_REVERSAL_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentKind {
    MassRejection,
    AccountSuspension,
    WithheldEarnings,
    UnpaidScreener,
    Underpayment,
    TosViolation,
    Other,
}
word_enum!(IncidentKind {
    MassRejection => "mass_rejection",
    AccountSuspension => "account_suspension",
    WithheldEarnings => "withheld_earnings",
    UnpaidScreener => "unpaid_screener",
    Underpayment => "underpayment",
    TosViolation => "tos_violation",
    Other => "other",
});

impl IncidentKind {
    pub fn label(self) -> &'static str {
        match self {
            IncidentKind::MassRejection => "Mass rejection",
            IncidentKind::AccountSuspension => "Account suspension",
            IncidentKind::WithheldEarnings => "Withheld earnings",
            IncidentKind::UnpaidScreener => "Unpaid screener",
            IncidentKind::Underpayment => "Underpayment",
            IncidentKind::TosViolation => "Terms of service violation",
            IncidentKind::Other => "Incident",
        }
    }

    /// The plural used in wave sentences ("report mass rejections").
    pub fn plural(self) -> &'static str {
        match self {
            IncidentKind::MassRejection => "mass rejections",
            IncidentKind::AccountSuspension => "account suspensions",
            IncidentKind::WithheldEarnings => "withheld earnings",
            IncidentKind::UnpaidScreener => "unpaid screeners",
            IncidentKind::Underpayment => "underpayment",
            IncidentKind::TosViolation => "terms of service violations",
            IncidentKind::Other => "incidents",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum IncidentStatus {
    Open,
    Resolved,
    /// The requester reversed it.
    Reversed,
}
word_enum!(IncidentStatus { Open => "open", Resolved => "resolved", Reversed => "reversed" });

/// An incident report as a client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct IncidentInput {
    pub kind: IncidentKind,
    pub platform: Platform,
    /// Optional: a platform suspension may have no requester.
    #[serde(default)]
    pub requester_id: Option<String>,
    #[serde(default)]
    pub requester_name: Option<String>,
    #[serde(default)]
    pub batch_id: Option<String>,
    pub happened_from: NaiveDate,
    #[serde(default)]
    pub happened_to: Option<NaiveDate>,
    #[serde(default)]
    pub tasks_affected: Option<i64>,
    #[serde(default)]
    pub amount_lost_minor: Option<i64>,
    #[serde(default)]
    pub currency: Option<String>,
    /// What the worker was told, e.g. the rejection reason.
    #[serde(default)]
    pub message_received: Option<String>,
    #[serde(default)]
    pub description: String,
    /// SHA-256 digests of evidence files, never the files.
    #[serde(default)]
    pub evidence_digests: Vec<String>,
    // What workers need afterwards, filled in (with `PUT`) as it becomes known.
    /// Whether earnings were locked in the account; an amount implies `true`.
    #[serde(default)]
    pub earnings_locked: Option<bool>,
    /// How much was locked, in minor units of `currency`.
    #[serde(default)]
    pub earnings_locked_minor: Option<i64>,
    /// The day the account was reinstated, if it was.
    #[serde(default)]
    pub reinstated_on: Option<NaiveDate>,
    /// What the platform (or the requester) answered, word for word.
    #[serde(default)]
    pub platform_answer: Option<String>,
}

/// An incident report that passed every rule, normalised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidIncident {
    pub kind: IncidentKind,
    pub platform: Platform,
    pub requester_id: Option<String>,
    pub requester_name: Option<String>,
    pub batch_id: Option<String>,
    pub happened_from: NaiveDate,
    pub happened_to: Option<NaiveDate>,
    pub tasks_affected: Option<i64>,
    pub amount_lost_minor: Option<i64>,
    pub currency: String,
    pub message_received: Option<String>,
    pub description: String,
    pub evidence_digests: Vec<String>,
    #[serde(default)]
    pub earnings_locked: Option<bool>,
    #[serde(default)]
    pub earnings_locked_minor: Option<i64>,
    #[serde(default)]
    pub reinstated_on: Option<NaiveDate>,
    #[serde(default)]
    pub platform_answer: Option<String>,
}

fn is_digest(text: &str) -> bool {
    text.strip_prefix("sha256:").is_some_and(|hex| {
        hex.len() == 64
            && hex
                .chars()
                .all(|c| c.is_ascii_digit() || ('a'..='f').contains(&c))
    })
}

/// Checks every field of an incident report at once. `today` bounds the dates (nothing in the future).
pub fn validate_incident(
    input: &IncidentInput,
    today: NaiveDate,
    allow_worker_ids: bool,
) -> Result<ValidIncident, FieldErrors> {
    let mut errors = FieldErrors::new();
    let requester_id = clean(input.requester_id.as_deref())
        .and_then(|raw| errors.check("requester_id", input.platform.normalize_requester_id(&raw)));
    // A name is kept only beside a requester ID, so it is checked (and required) only then.
    let names_requester = input
        .requester_id
        .as_deref()
        .is_some_and(|r| !r.trim().is_empty());
    let requester_name = if names_requester {
        check_requester_name(
            &mut errors,
            "requester_name",
            input.requester_name.as_deref().unwrap_or_default(),
            requester_id.as_deref().unwrap_or_default(),
            allow_worker_ids,
        )
    } else {
        None
    };
    if input.happened_from > today {
        errors.add("happened_from", "cannot be in the future");
    }
    if let Some(to) = input.happened_to {
        if to < input.happened_from {
            errors.add("happened_to", "cannot be before happened_from");
        } else if to > today {
            errors.add("happened_to", "cannot be in the future");
        }
    }
    check_losses(&mut errors, input.tasks_affected, input.amount_lost_minor);
    let currency = match input.currency.as_deref() {
        Some(raw) => errors.check("currency", check_currency(raw)),
        None => Some(input.platform.default_currency().to_owned()),
    };
    let batch_id = clean(input.batch_id.as_deref());
    check_length(
        &mut errors,
        "batch_id",
        batch_id.as_deref(),
        crate::review::BATCH_ID_MAX_CHARS,
    );
    let message_received = clean(input.message_received.as_deref());
    check_length(
        &mut errors,
        "message_received",
        message_received.as_deref(),
        MESSAGE_MAX_CHARS,
    );
    let description = input.description.trim().to_owned();
    check_length(
        &mut errors,
        "description",
        Some(&description),
        DESCRIPTION_MAX_CHARS,
    );
    if input.evidence_digests.len() > MAX_EVIDENCE {
        errors.add(
            "evidence_digests",
            format!("at most {MAX_EVIDENCE} digests"),
        );
    } else if !input.evidence_digests.iter().all(|d| is_digest(d)) {
        errors.add(
            "evidence_digests",
            "only SHA-256 digests of evidence files (sha256:<64 hex digits>), never the files: they may contain worker IDs",
        );
    }
    let exclude = requester_id.as_deref().unwrap_or_default();
    guard_worker_ids(
        &mut errors,
        "description",
        Some(&description),
        exclude,
        allow_worker_ids,
    );
    guard_worker_ids(
        &mut errors,
        "message_received",
        message_received.as_deref(),
        exclude,
        allow_worker_ids,
    );
    if input.earnings_locked_minor.is_some_and(|m| m < 0) {
        errors.add("earnings_locked_minor", "cannot be negative");
    }
    if input.earnings_locked == Some(false) && input.earnings_locked_minor.is_some_and(|m| m > 0) {
        errors.add(
            "earnings_locked_minor",
            "an amount locked needs earnings_locked to be true",
        );
    }
    if let Some(on) = input.reinstated_on {
        if on < input.happened_from {
            errors.add("reinstated_on", "cannot be before happened_from");
        } else if on > today {
            errors.add("reinstated_on", "cannot be in the future");
        }
    }
    let platform_answer = clean(input.platform_answer.as_deref());
    check_length(
        &mut errors,
        "platform_answer",
        platform_answer.as_deref(),
        MESSAGE_MAX_CHARS,
    );
    guard_worker_ids(
        &mut errors,
        "platform_answer",
        platform_answer.as_deref(),
        exclude,
        allow_worker_ids,
    );
    errors.into_result()?;
    Ok(ValidIncident {
        // An amount says the earnings were locked.
        earnings_locked: input
            .earnings_locked
            .or(input.earnings_locked_minor.map(|_| true)),
        earnings_locked_minor: input.earnings_locked_minor,
        reinstated_on: input.reinstated_on,
        platform_answer,
        kind: input.kind,
        platform: input.platform,
        requester_name: requester_id.as_ref().and(requester_name),
        requester_id,
        batch_id,
        happened_from: input.happened_from,
        happened_to: input.happened_to,
        tasks_affected: input.tasks_affected,
        amount_lost_minor: input.amount_lost_minor,
        currency: currency.unwrap_or_else(|| input.platform.default_currency().to_owned()),
        message_received,
        description,
        evidence_digests: input.evidence_digests.clone(),
    })
}

/// Checks the note of a status change ("requester reversed 80 of 120 rejections"): optional, at
/// most `NOTE_MAX_CHARS`, and never carrying a worker ID (a status change has no override).
/// `requester_id` is the incident's requester (empty when none), which the note may name.
pub fn validate_status_note(
    note: Option<&str>,
    requester_id: &str,
) -> Result<Option<String>, FieldErrors> {
    let note = clean(note);
    let mut errors = FieldErrors::new();
    check_length(&mut errors, "note", note.as_deref(), NOTE_MAX_CHARS);
    refuse_worker_ids(&mut errors, "note", note.as_deref(), requester_id);
    errors.into_result()?;
    Ok(note)
}

/// For MTurk rejections: the last day the requester can still reverse them.
pub fn reversal_deadline(
    kind: IncidentKind,
    platform: Platform,
    happened_from: NaiveDate,
) -> Option<NaiveDate> {
    (platform == Platform::Mturk && kind == IncidentKind::MassRejection)
        .then(|| happened_from + Duration::days(MTURK_REVERSAL_DAYS))
}

/// "This happened to me too", with optional counts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorroborationInput {
    #[serde(default)]
    pub tasks_affected: Option<i64>,
    #[serde(default)]
    pub amount_lost_minor: Option<i64>,
    #[serde(default)]
    pub note: String,
}

/// How many tasks and how much money an incident or a corroboration says were lost.
fn check_losses(
    errors: &mut FieldErrors,
    tasks_affected: Option<i64>,
    amount_lost_minor: Option<i64>,
) {
    check_range(errors, "tasks_affected", tasks_affected, 1, MAX_TASKS);
    check_range(errors, "amount_lost_minor", amount_lost_minor, 0, MAX_MINOR);
}

/// Checks a corroboration of an incident about `requester_id` (empty when it names no requester):
/// the requester's own ID may appear in the note, anything else shaped like a worker ID may not.
pub fn validate_corroboration(
    input: &CorroborationInput,
    requester_id: &str,
    allow_worker_ids: bool,
) -> Result<CorroborationInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    check_losses(&mut errors, input.tasks_affected, input.amount_lost_minor);
    let note = input.note.trim().to_owned();
    check_length(&mut errors, "note", Some(&note), NOTE_MAX_CHARS);
    guard_worker_ids(
        &mut errors,
        "note",
        Some(&note),
        requester_id,
        allow_worker_ids,
    );
    errors.into_result()?;
    Ok(CorroborationInput {
        note,
        ..input.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn input() -> IncidentInput {
        IncidentInput {
            kind: IncidentKind::MassRejection,
            platform: Platform::Mturk,
            requester_id: Some("a1b2c3d4e5".into()),
            requester_name: Some(" Acme ".into()),
            batch_id: None,
            happened_from: day("2026-11-01"),
            happened_to: Some(day("2026-11-02")),
            tasks_affected: Some(120),
            amount_lost_minor: Some(3600),
            currency: None,
            message_received: Some("Did not follow instructions".into()),
            description: "All rejected".into(),
            evidence_digests: vec![format!("sha256:{}", "a".repeat(64))],
            earnings_locked: None,
            earnings_locked_minor: None,
            reinstated_on: None,
            platform_answer: None,
        }
    }

    #[test]
    fn the_aftermath_is_checked() {
        let mut lock_out = input();
        lock_out.kind = IncidentKind::AccountSuspension;
        lock_out.requester_id = None;
        lock_out.earnings_locked_minor = Some(41_250);
        lock_out.reinstated_on = Some(day("2026-11-20"));
        lock_out.platform_answer = Some("  We have reviewed your account.  ".into());
        let valid = validate_incident(&lock_out, day("2026-11-24"), false).unwrap();
        assert_eq!(valid.earnings_locked, Some(true), "an amount means locked");
        assert_eq!(
            valid.platform_answer.as_deref(),
            Some("We have reviewed your account.")
        );

        let mut wrong = lock_out.clone();
        wrong.reinstated_on = Some(day("2026-10-01"));
        wrong.earnings_locked = Some(false);
        wrong.platform_answer = Some("Contact A1B2C3D4E5F6G7 for help".into());
        let errors = validate_incident(&wrong, day("2026-11-24"), false).unwrap_err();
        for field in ["reinstated_on", "earnings_locked_minor"] {
            assert!(errors.fields().contains_key(field), "{field}: {errors:?}");
        }
        let mut future = lock_out;
        future.reinstated_on = Some(day("2026-12-01"));
        assert!(validate_incident(&future, day("2026-11-24"), false).is_err());
    }

    #[test]
    fn valid_incident_is_normalised() {
        let valid = validate_incident(&input(), day("2026-11-24"), false).unwrap();
        assert_eq!(valid.requester_id.as_deref(), Some("A1B2C3D4E5"));
        assert_eq!(valid.requester_name.as_deref(), Some("Acme"));
        assert_eq!(valid.currency, "USD");
    }

    #[test]
    fn bad_incident_reports_every_field() {
        let mut bad = input();
        bad.requester_name = None;
        bad.happened_from = day("2026-12-01");
        bad.happened_to = Some(day("2026-11-01"));
        bad.tasks_affected = Some(0);
        bad.evidence_digests = vec!["photo.png".into()];
        bad.description = "Worker A3KQ9ZP1X0WBTR was rejected".into();
        let errors = validate_incident(&bad, day("2026-11-24"), false).unwrap_err();
        let fields: Vec<&String> = errors.fields().keys().collect();
        assert_eq!(
            fields,
            [
                "description",
                "evidence_digests",
                "happened_from",
                "happened_to",
                "requester_name",
                "tasks_affected"
            ]
        );
    }

    #[test]
    fn requester_names_and_status_notes_are_guarded() {
        let mut named = input();
        named.requester_name = Some("Lab of A1B2C3D4E5F6G7".into());
        let errors = validate_incident(&named, day("2026-11-24"), false).expect_err("worker ID");
        assert!(errors.fields()["requester_name"].contains("worker ID"));
        assert!(
            validate_incident(&named, day("2026-11-24"), true).is_ok(),
            "confirmed"
        );
        named.requester_name = Some("Bad\nName".into());
        let errors = validate_incident(&named, day("2026-11-24"), true).expect_err("control");
        assert!(errors.fields().contains_key("requester_name"));

        assert_eq!(validate_status_note(Some("  "), "AREQ"), Ok(None));
        assert_eq!(
            validate_status_note(Some(" reversed 80 "), "AREQ"),
            Ok(Some("reversed 80".to_owned()))
        );
        let errors = validate_status_note(Some("ask A1B2C3D4E5F6G7"), "AREQ").expect_err("id");
        assert!(!errors.fields()["note"].contains("confirm_no_worker_ids"));
        assert!(validate_status_note(Some("see ?workerId=x1"), "AREQ").is_err());
        assert!(validate_status_note(Some(&"x".repeat(NOTE_MAX_CHARS + 1)), "").is_err());
    }

    #[test]
    fn deadline_and_corroboration() {
        assert_eq!(
            reversal_deadline(
                IncidentKind::MassRejection,
                Platform::Mturk,
                day("2026-11-01")
            ),
            Some(day("2026-12-01"))
        );
        assert_eq!(
            reversal_deadline(
                IncidentKind::MassRejection,
                Platform::Prolific,
                day("2026-11-01")
            ),
            None
        );
        assert_eq!(
            reversal_deadline(
                IncidentKind::Underpayment,
                Platform::Mturk,
                day("2026-11-01")
            ),
            None
        );
        let ok = CorroborationInput {
            tasks_affected: Some(3),
            amount_lost_minor: None,
            note: " me too ".into(),
        };
        assert_eq!(
            validate_corroboration(&ok, "", false).unwrap().note,
            "me too"
        );
        // The incident's own requester may be named by ID; another worker-shaped ID may not.
        let naming = |note: &str| CorroborationInput {
            note: note.into(),
            ..ok.clone()
        };
        assert!(
            validate_corroboration(&naming("AREQUESTER12345 again"), "AREQUESTER12345", false)
                .is_ok()
        );
        assert!(
            validate_corroboration(&naming("AWORKERID12345 too"), "AREQUESTER12345", false)
                .is_err()
        );
        let bad = CorroborationInput {
            tasks_affected: Some(0),
            amount_lost_minor: Some(-1),
            note: String::new(),
        };
        assert_eq!(
            validate_corroboration(&bad, "", false)
                .unwrap_err()
                .fields()
                .len(),
            2
        );
    }
}
