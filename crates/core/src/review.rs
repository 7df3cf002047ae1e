//! A review: one worker's experience with one requester, with the facts workers trust (pay, time, approval) and TO1's four scores.

use serde::{Deserialize, Serialize};

use crate::money::{MAX_MINOR, check_currency};
use crate::platform::Platform;
use crate::validation::FieldErrors;
use crate::worker_ids::worker_id_problem;

pub const REVIEW_BODY_MAX_CHARS: usize = 5_000;
pub const TASK_TITLE_MAX_CHARS: usize = 200;
pub const BATCH_ID_MAX_CHARS: usize = 100;
pub const EXPLANATION_MAX_CHARS: usize = 500;
/// Longest plausible time on one task; anything longer is a typo.
pub const MAX_TIME_SECONDS: i64 = 30 * 86_400;
pub const MAX_DECISION_SECONDS: i64 = 365 * 86_400;

/// How the worker's attempt ended. Time counts whatever the ending (TO2 issue #40).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Completion {
    Completed,
    Returned,
    ScreenedOut,
}
word_enum!(Completion { Completed => "completed", Returned => "returned", ScreenedOut => "screened_out" });

/// What the requester decided about the work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Approval {
    Approved,
    Rejected,
    PartiallyRejected,
    Pending,
    RejectionOverturned,
    ApprovedTimeUnknown,
}
word_enum!(Approval {
    Approved => "approved",
    Rejected => "rejected",
    PartiallyRejected => "partially_rejected",
    Pending => "pending",
    RejectionOverturned => "rejection_overturned",
    ApprovedTimeUnknown => "approved_time_unknown",
});

impl Approval {
    pub fn is_rejection(self) -> bool {
        matches!(self, Approval::Rejected | Approval::PartiallyRejected)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Recommend {
    Yes,
    No,
    Unsure,
}
word_enum!(Recommend { Yes => "yes", No => "no", Unsure => "unsure" });

/// TO1's four 1-5 scores, each optional.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Scores {
    #[serde(default)]
    pub pay: Option<i16>,
    #[serde(default)]
    pub fairness: Option<i16>,
    #[serde(default)]
    pub promptness: Option<i16>,
    #[serde(default)]
    pub communication: Option<i16>,
}

/// A review as a client sends it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewInput {
    #[serde(default)]
    pub task_title: Option<String>,
    #[serde(default)]
    pub batch_id: Option<String>,
    /// Reward per task in minor units (cents).
    pub reward_minor: i64,
    #[serde(default)]
    pub bonus_minor: Option<i64>,
    /// ISO 4217; the platform's currency when absent.
    #[serde(default)]
    pub currency: Option<String>,
    pub time_spent_seconds: i64,
    pub completion: Completion,
    pub approval: Approval,
    #[serde(default)]
    pub time_to_decision_seconds: Option<i64>,
    #[serde(default)]
    pub scores: Scores,
    #[serde(default)]
    pub recommend: Option<Recommend>,
    #[serde(default)]
    pub tos_violation: bool,
    #[serde(default)]
    pub tos_explanation: Option<String>,
    #[serde(default)]
    pub broken: bool,
    #[serde(default)]
    pub broken_explanation: Option<String>,
    #[serde(default)]
    pub unpaid_screener: bool,
    #[serde(default)]
    pub body: String,
}

/// A review that passed every rule, normalised (trimmed text, resolved currency).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ValidReview {
    pub task_title: Option<String>,
    pub batch_id: Option<String>,
    pub reward_minor: i64,
    pub bonus_minor: Option<i64>,
    pub currency: String,
    pub time_spent_seconds: i64,
    pub completion: Completion,
    pub approval: Approval,
    pub time_to_decision_seconds: Option<i64>,
    pub scores: Scores,
    pub recommend: Option<Recommend>,
    pub tos_violation: bool,
    pub tos_explanation: Option<String>,
    pub broken: bool,
    pub broken_explanation: Option<String>,
    pub unpaid_screener: bool,
    pub body: String,
}

/// Trims optional text; empty means absent.
pub(crate) fn clean(text: Option<&str>) -> Option<String> {
    text.map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Records an error when `text` is longer than `max` characters.
pub(crate) fn check_length(errors: &mut FieldErrors, field: &str, text: Option<&str>, max: usize) {
    if text.is_some_and(|t| t.chars().count() > max) {
        errors.add(field, format!("must be at most {max} characters"));
    }
}

pub(crate) fn check_range(
    errors: &mut FieldErrors,
    field: &str,
    value: Option<i64>,
    min: i64,
    max: i64,
) {
    if value.is_some_and(|v| !(min..=max).contains(&v)) {
        errors.add(field, format!("must be between {min} and {max}"));
    }
}

/// Refuses text that seems to carry a worker ID, unless the author confirmed it is none.
pub(crate) fn guard_worker_ids(
    errors: &mut FieldErrors,
    field: &str,
    text: Option<&str>,
    requester_id: &str,
    allow: bool,
) {
    if allow {
        return;
    }
    if let Some(problem) = text.and_then(|t| worker_id_problem(t, requester_id, true)) {
        errors.add(field, problem);
    }
}

/// Refuses text that seems to carry a worker ID or an identifying URL parameter, for inputs that
/// have no `confirm_no_worker_ids` override (moderators' reasons, reports, status notes).
pub(crate) fn refuse_worker_ids(
    errors: &mut FieldErrors,
    field: &str,
    text: Option<&str>,
    requester_id: &str,
) {
    if let Some(problem) = text.and_then(|t| worker_id_problem(t, requester_id, false)) {
        errors.add(field, problem);
    }
}

/// Checks a requester's name as a worker typed it (the shape rule of
/// `platform::validate_requester_name`, then the worker-ID guard, which `allow` waives) and
/// records problems under `field`; the trimmed name when it passed.
pub fn check_requester_name(
    errors: &mut FieldErrors,
    field: &str,
    raw: &str,
    requester_id: &str,
    allow: bool,
) -> Option<String> {
    let name = errors.check(field, crate::platform::validate_requester_name(raw))?;
    let before = errors.fields().len();
    guard_worker_ids(errors, field, Some(&name), requester_id, allow);
    (errors.fields().len() == before).then_some(name)
}

/// An explanation required by a flag: present (and short) when the flag is set, dropped when not.
fn explanation(
    errors: &mut FieldErrors,
    field: &str,
    flag: bool,
    text: Option<&str>,
    what: &str,
) -> Option<String> {
    if !flag {
        return None;
    }
    let text = clean(text);
    match &text {
        None => errors.add(field, format!("explain the {what} in a few words")),
        Some(t) => check_length(errors, field, Some(t), EXPLANATION_MAX_CHARS),
    }
    text
}

/// Checks every field of a review at once; `allow_worker_ids` is the author's confirmation that
/// text flagged as an MTurk worker ID is not one.
pub fn validate_review(
    input: &ReviewInput,
    platform: Platform,
    requester_id: &str,
    allow_worker_ids: bool,
) -> Result<ValidReview, FieldErrors> {
    let mut errors = FieldErrors::new();
    check_range(
        &mut errors,
        "reward_minor",
        Some(input.reward_minor),
        0,
        MAX_MINOR,
    );
    check_range(&mut errors, "bonus_minor", input.bonus_minor, 0, MAX_MINOR);
    check_range(
        &mut errors,
        "time_spent_seconds",
        Some(input.time_spent_seconds),
        1,
        MAX_TIME_SECONDS,
    );
    check_range(
        &mut errors,
        "time_to_decision_seconds",
        input.time_to_decision_seconds,
        0,
        MAX_DECISION_SECONDS,
    );
    if input.time_to_decision_seconds.is_some()
        && matches!(
            input.approval,
            Approval::Pending | Approval::ApprovedTimeUnknown
        )
    {
        errors.add(
            "time_to_decision_seconds",
            "not known while the decision is pending or its time unknown",
        );
    }
    let currency = match input.currency.as_deref() {
        Some(raw) => errors.check("currency", check_currency(raw)),
        None => Some(platform.default_currency().to_owned()),
    };
    for (field, score) in [
        ("scores.pay", input.scores.pay),
        ("scores.fairness", input.scores.fairness),
        ("scores.promptness", input.scores.promptness),
        ("scores.communication", input.scores.communication),
    ] {
        check_range(&mut errors, field, score.map(i64::from), 1, 5);
    }
    let task_title = clean(input.task_title.as_deref());
    let batch_id = clean(input.batch_id.as_deref());
    check_length(
        &mut errors,
        "task_title",
        task_title.as_deref(),
        TASK_TITLE_MAX_CHARS,
    );
    check_length(
        &mut errors,
        "batch_id",
        batch_id.as_deref(),
        BATCH_ID_MAX_CHARS,
    );
    let body = input.body.trim().to_owned();
    check_length(&mut errors, "body", Some(&body), REVIEW_BODY_MAX_CHARS);
    let tos_explanation = explanation(
        &mut errors,
        "tos_explanation",
        input.tos_violation,
        input.tos_explanation.as_deref(),
        "ToS violation",
    );
    let broken_explanation = explanation(
        &mut errors,
        "broken_explanation",
        input.broken,
        input.broken_explanation.as_deref(),
        "broken task",
    );
    for (field, text) in [
        ("body", Some(body.as_str())),
        ("task_title", task_title.as_deref()),
        ("batch_id", batch_id.as_deref()),
        ("tos_explanation", tos_explanation.as_deref()),
        ("broken_explanation", broken_explanation.as_deref()),
    ] {
        guard_worker_ids(&mut errors, field, text, requester_id, allow_worker_ids);
    }
    errors.into_result()?;
    Ok(ValidReview {
        task_title,
        batch_id,
        reward_minor: input.reward_minor,
        bonus_minor: input.bonus_minor,
        currency: currency.unwrap_or_else(|| platform.default_currency().to_owned()),
        time_spent_seconds: input.time_spent_seconds,
        completion: input.completion,
        approval: input.approval,
        time_to_decision_seconds: input.time_to_decision_seconds,
        scores: input.scores.clone(),
        recommend: input.recommend,
        tos_violation: input.tos_violation,
        tos_explanation,
        broken: input.broken,
        broken_explanation,
        unpaid_screener: input.unpaid_screener,
        body,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ReviewInput {
        ReviewInput {
            task_title: Some("  Survey  ".into()),
            batch_id: Some(String::new()),
            reward_minor: 150,
            bonus_minor: None,
            currency: None,
            time_spent_seconds: 90,
            completion: Completion::Completed,
            approval: Approval::Approved,
            time_to_decision_seconds: Some(3600),
            scores: Scores {
                pay: Some(4),
                ..Scores::default()
            },
            recommend: Some(Recommend::Yes),
            tos_violation: false,
            tos_explanation: Some("ignored".into()),
            broken: false,
            broken_explanation: None,
            unpaid_screener: false,
            body: " fine ".into(),
        }
    }

    #[test]
    fn valid_review_is_normalised() {
        let valid = validate_review(&input(), Platform::Prolific, "x", false).unwrap();
        assert_eq!(valid.task_title.as_deref(), Some("Survey"));
        assert_eq!(valid.batch_id, None);
        assert_eq!(valid.currency, "GBP");
        assert_eq!(
            valid.tos_explanation, None,
            "dropped when the flag is not set"
        );
        assert_eq!(valid.body, "fine");
    }

    #[test]
    fn every_bad_field_is_reported() {
        let mut bad = input();
        bad.reward_minor = -1;
        bad.time_spent_seconds = 0;
        bad.scores.pay = Some(6);
        bad.tos_violation = true;
        bad.tos_explanation = None;
        bad.broken = true;
        bad.broken_explanation = Some("x".repeat(501));
        bad.currency = Some("dollars".into());
        bad.approval = Approval::Pending;
        bad.body = "y".repeat(5001);
        let errors = validate_review(&bad, Platform::Mturk, "A1", false).unwrap_err();
        let fields: Vec<&String> = errors.fields().keys().collect();
        assert_eq!(
            fields,
            [
                "body",
                "broken_explanation",
                "currency",
                "reward_minor",
                "scores.pay",
                "time_spent_seconds",
                "time_to_decision_seconds",
                "tos_explanation"
            ]
        );
    }

    #[test]
    fn worker_ids_need_confirmation() {
        let mut leaky = input();
        leaky.body = "I am A3KQ9ZP1X0WBTR".into();
        let errors = validate_review(&leaky, Platform::Mturk, "AREQUESTER1", false).unwrap_err();
        assert!(errors.fields()["body"].contains("A3KQ…"));
        assert!(validate_review(&leaky, Platform::Mturk, "AREQUESTER1", true).is_ok());
        assert!(
            validate_review(&leaky, Platform::Mturk, "A3KQ9ZP1X0WBTR", false).is_ok(),
            "the requester's own ID"
        );
    }

    #[test]
    fn json_shape() {
        let parsed: ReviewInput = serde_json::from_str(
            r#"{"reward_minor":1,"time_spent_seconds":2,"completion":"screened_out","approval":"approved_time_unknown"}"#,
        )
        .unwrap();
        assert_eq!(parsed.completion, Completion::ScreenedOut);
        assert!(serde_json::from_str::<ReviewInput>(r#"{"reward_minor":1,"x":1}"#).is_err());
        assert!(
            Approval::PartiallyRejected.is_rejection()
                && !Approval::RejectionOverturned.is_rejection()
        );
    }
}
