//! Writing, previewing, editing and deleting a review, and its page with its history.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use picket_api::routes::reviews::{self as api, CreateReview, EditReview, check_requester};
use picket_api::views::{ReviewVersion, ReviewView};
use picket_api::{AppJson, MaybeUser, Unknown};
use picket_core::aggregate::hourly_minor;
use picket_core::money::{parse_money, write_money};
use picket_core::platform::Platform;
use picket_core::review::{
    Approval, Completion, Recommend, ReviewInput, Scores, ValidReview, validate_review,
};
use serde::Deserialize;

use super::auth::{Empty, shown_again};
use super::{byline, platform_name, platform_options, requester_link, requester_url};
use crate::context::Ctx;
use crate::error::PageResult;
use crate::form::{PageForm, text, ticked};
use crate::layout::{
    Errors, FieldExtra, checkbox, duration, error_summary, money, radio_field, select_field,
    text_field, when,
};
use crate::render::{Head, paragraphs, see_other};

/// A review form as typed: every field kept as text, so a form shown again keeps what was written.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct ReviewForm {
    #[serde(default)]
    platform: String,
    #[serde(default)]
    requester_id: String,
    #[serde(default)]
    requester_name: String,
    #[serde(default)]
    task_title: String,
    #[serde(default)]
    batch_id: String,
    #[serde(default)]
    reward: String,
    #[serde(default)]
    bonus: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    minutes: String,
    #[serde(default)]
    seconds: String,
    #[serde(default)]
    completion: String,
    #[serde(default)]
    approval: String,
    #[serde(default)]
    decision_value: String,
    #[serde(default)]
    decision_unit: String,
    #[serde(default)]
    score_pay: String,
    #[serde(default)]
    score_fairness: String,
    #[serde(default)]
    score_promptness: String,
    #[serde(default)]
    score_communication: String,
    #[serde(default)]
    recommend: String,
    #[serde(default)]
    tos_violation: Option<String>,
    #[serde(default)]
    tos_explanation: String,
    #[serde(default)]
    broken: Option<String>,
    #[serde(default)]
    broken_explanation: String,
    #[serde(default)]
    unpaid_screener: Option<String>,
    #[serde(default)]
    body: String,
    #[serde(default)]
    confirm_no_worker_ids: Option<String>,
    /// `preview`, `draft` or `publish` (the button pressed).
    #[serde(default)]
    action: String,
}

/// The API's field names, as the form names them.
fn form_field(api_field: &str) -> &str {
    match api_field {
        "reward_minor" => "reward",
        "bonus_minor" => "bonus",
        "time_spent_seconds" => "minutes",
        "time_to_decision_seconds" => "decision_value",
        "scores.pay" => "score_pay",
        "scores.fairness" => "score_fairness",
        "scores.promptness" => "score_promptness",
        "scores.communication" => "score_communication",
        other => other,
    }
}

fn renamed(errors: &Errors) -> Errors {
    errors
        .iter()
        .map(|(k, v)| (form_field(k).to_owned(), v.clone()))
        .collect()
}

fn number(errors: &mut Errors, field: &str, raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    match raw.parse::<i64>() {
        Ok(n) if n >= 0 => Some(n),
        _ => {
            errors.insert(field.into(), "write a whole number, such as 5".into());
            None
        }
    }
}

fn score(errors: &mut Errors, field: &str, raw: &str) -> Option<i16> {
    number(errors, field, raw).and_then(|n| i16::try_from(n).ok())
}

impl ReviewForm {
    fn platform(&self) -> Platform {
        self.platform.parse().unwrap_or(Platform::Mturk)
    }

    fn currency(&self) -> String {
        let typed = self.currency.trim().to_ascii_uppercase();
        if typed.is_empty() {
            self.platform().default_currency().to_owned()
        } else {
            typed
        }
    }

    /// The review as the API takes it, or the errors of fields the form itself reads
    /// (amounts, minutes, choices); everything else is checked by `core` through the API.
    fn input(&self) -> Result<ReviewInput, Errors> {
        let mut errors = Errors::new();
        let currency = self.currency();
        let reward = match parse_money(&self.reward, &currency) {
            Ok(minor) => minor,
            Err(message) => {
                errors.insert("reward".into(), message);
                0
            }
        };
        let bonus = if self.bonus.trim().is_empty() {
            None
        } else {
            match parse_money(&self.bonus, &currency) {
                Ok(minor) => Some(minor),
                Err(message) => {
                    errors.insert("bonus".into(), message);
                    None
                }
            }
        };
        let minutes = number(&mut errors, "minutes", &self.minutes).unwrap_or(0);
        let seconds = number(&mut errors, "seconds", &self.seconds).unwrap_or(0);
        if self.minutes.trim().is_empty() && self.seconds.trim().is_empty() {
            errors.insert(
                "minutes".into(),
                "how long did the task take? Write minutes and seconds".into(),
            );
        }
        let completion = match self.completion.parse::<Completion>() {
            Ok(c) => c,
            Err(_) => {
                errors.insert("completion".into(), "choose how the task ended".into());
                Completion::Completed
            }
        };
        let approval = match self.approval.parse::<Approval>() {
            Ok(a) => a,
            Err(_) => {
                errors.insert(
                    "approval".into(),
                    "choose what the requester decided".into(),
                );
                Approval::Pending
            }
        };
        let unit = match self.decision_unit.as_str() {
            "minutes" => 60,
            "hours" => 3600,
            _ => 86_400,
        };
        let decision = number(&mut errors, "decision_value", &self.decision_value)
            .map(|n| n.saturating_mul(unit));
        let scores = Scores {
            pay: score(&mut errors, "score_pay", &self.score_pay),
            fairness: score(&mut errors, "score_fairness", &self.score_fairness),
            promptness: score(&mut errors, "score_promptness", &self.score_promptness),
            communication: score(
                &mut errors,
                "score_communication",
                &self.score_communication,
            ),
        };
        let recommend = self.recommend.parse::<Recommend>().ok();
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(ReviewInput {
            task_title: Some(self.task_title.clone()),
            batch_id: Some(self.batch_id.clone()),
            reward_minor: reward,
            bonus_minor: bonus,
            currency: Some(currency),
            time_spent_seconds: minutes.saturating_mul(60).saturating_add(seconds),
            completion,
            approval,
            time_to_decision_seconds: decision,
            scores,
            recommend,
            tos_violation: ticked(&self.tos_violation),
            tos_explanation: text(&Some(self.tos_explanation.clone())),
            broken: ticked(&self.broken),
            broken_explanation: text(&Some(self.broken_explanation.clone())),
            unpaid_screener: ticked(&self.unpaid_screener),
            body: self.body.clone(),
        })
    }

    /// The form filled in from a stored review, for editing.
    fn of(platform: &str, review: &ReviewView) -> ReviewForm {
        let mut form = ReviewForm {
            platform: platform.to_owned(),
            requester_id: review.requester.requester_id.clone(),
            requester_name: review.requester.name.clone(),
            ..ReviewForm::default()
        };
        if let Some(c) = &review.content {
            form.task_title = c.task_title.clone().unwrap_or_default();
            form.batch_id = c.batch_id.clone().unwrap_or_default();
            form.reward = write_money(c.reward_minor, &c.currency);
            form.bonus = c
                .bonus_minor
                .map(|b| write_money(b, &c.currency))
                .unwrap_or_default();
            form.currency = c.currency.clone();
            form.minutes = (c.time_spent_seconds / 60).to_string();
            form.seconds = (c.time_spent_seconds % 60).to_string();
            form.completion = c.completion.as_str().to_owned();
            form.approval = c.approval.as_str().to_owned();
            if let Some(s) = c.time_to_decision_seconds {
                let (value, unit) = if s % 86_400 == 0 {
                    (s / 86_400, "days")
                } else if s % 3600 == 0 {
                    (s / 3600, "hours")
                } else {
                    (s / 60, "minutes")
                };
                form.decision_value = value.to_string();
                form.decision_unit = unit.to_owned();
            }
            let s = |v: Option<i16>| v.map(|v| v.to_string()).unwrap_or_default();
            form.score_pay = s(c.scores.pay);
            form.score_fairness = s(c.scores.fairness);
            form.score_promptness = s(c.scores.promptness);
            form.score_communication = s(c.scores.communication);
            form.recommend = c
                .recommend
                .map(|r| r.as_str().to_owned())
                .unwrap_or_default();
            form.tos_violation = c.tos_violation.then(|| "on".into());
            form.tos_explanation = c.tos_explanation.clone().unwrap_or_default();
            form.broken = c.broken.then(|| "on".into());
            form.broken_explanation = c.broken_explanation.clone().unwrap_or_default();
            form.unpaid_screener = c.unpaid_screener.then(|| "on".into());
            form.body = c.body.clone();
        }
        form
    }
}

const SCORE_OPTIONS: &[(&str, &str)] = &[
    ("", "No answer"),
    ("5", "5 – excellent"),
    ("4", "4 – good"),
    ("3", "3 – fair"),
    ("2", "2 – poor"),
    ("1", "1 – very poor"),
];

/// Where a form posts and what it may do.
enum Mode<'a> {
    New,
    Edit { id: &'a str, draft: bool },
}

/// What a preview computed.
struct Preview {
    hourly: String,
}

fn review_form(
    ctx: &Ctx,
    mode: &Mode<'_>,
    form: &ReviewForm,
    errors: &Errors,
    message: Option<&str>,
    preview: Option<&Preview>,
) -> Markup {
    let action = match mode {
        Mode::New => "/reviews/new".to_owned(),
        Mode::Edit { id, .. } => format!("/reviews/{id}/edit"),
    };
    let worker_id_warning = errors.values().any(|m| m.contains("confirm_no_worker_ids"))
        || ticked(&form.confirm_no_worker_ids);
    let currency = form.currency();
    html! {
        (error_summary(errors, message))
        @if let Some(preview) = preview {
            div.notice role="status" {
                h2 { "Preview" }
                p { "Hourly rate: " strong { (preview.hourly) } ". Nothing is saved yet: publish or save a draft below." }
            }
        }
        form method="post" action=(action) novalidate {
            (ctx.csrf_field())
            @match mode {
                Mode::New => {
                    fieldset.field {
                        legend { "Requester" }
                        (select_field(errors, "platform", "Platform", &platform_options(), &form.platform))
                        (text_field(errors, "requester_id", "Requester ID", &form.requester_id, "text",
                            Some("On MTurk, the ID starting with A in the requester's link."), FieldExtra { maxlength: Some(64), ..FieldExtra::required() }))
                        (text_field(errors, "requester_name", "Requester name", &form.requester_name, "text", None,
                            FieldExtra { maxlength: Some(200), ..FieldExtra::required() }))
                    }
                }
                Mode::Edit { .. } => {
                    input type="hidden" name="platform" value=(form.platform);
                    p { "Requester: " strong { (form.requester_name) } " (" (platform_name(&form.platform)) " " (form.requester_id) ")" }
                }
            }
            fieldset.field {
                legend { "The task" }
                (text_field(errors, "task_title", "Task title (optional)", &form.task_title, "text", None, FieldExtra { maxlength: Some(200), ..FieldExtra::default() }))
                (text_field(errors, "batch_id", "Batch or group ID (optional)", &form.batch_id, "text", None, FieldExtra { maxlength: Some(100), ..FieldExtra::default() }))
            }
            fieldset.field {
                legend { "Pay and time" }
                div.row {
                    (text_field(errors, "reward", "Reward", &form.reward, "text", Some("As you would write it, e.g. 1.50"),
                        FieldExtra { inputmode: Some("decimal"), ..FieldExtra::required() }))
                    (text_field(errors, "bonus", "Bonus (optional)", &form.bonus, "text", None,
                        FieldExtra { inputmode: Some("decimal"), ..FieldExtra::default() }))
                    (text_field(errors, "currency", "Currency", &currency, "text", None,
                        FieldExtra { maxlength: Some(3), ..FieldExtra::default() }))
                }
                div.row {
                    (text_field(errors, "minutes", "Time spent: minutes", &form.minutes, "text", None,
                        FieldExtra { inputmode: Some("numeric"), ..FieldExtra::required() }))
                    (text_field(errors, "seconds", "and seconds", &form.seconds, "text", None,
                        FieldExtra { inputmode: Some("numeric"), ..FieldExtra::default() }))
                }
                p { "Hourly rate as you type: " output #hourly-live for="f-reward f-bonus f-minutes f-seconds" { } }
            }
            (radio_field(errors, "completion", "How did your attempt end?", &[
                ("completed", "I completed it"),
                ("returned", "I returned it"),
                ("screened_out", "I was screened out"),
            ], &form.completion))
            (select_field(errors, "approval", "What did the requester decide?", &[
                ("", "Choose…"),
                ("approved", "Approved"),
                ("approved_time_unknown", "Approved, time unknown"),
                ("pending", "Still pending"),
                ("rejected", "Rejected"),
                ("partially_rejected", "Partly rejected"),
                ("rejection_overturned", "Rejected, then overturned"),
            ], &form.approval))
            div.row {
                (text_field(errors, "decision_value", "Time to decision (optional)", &form.decision_value, "text", None,
                    FieldExtra { inputmode: Some("numeric"), ..FieldExtra::default() }))
                (select_field(errors, "decision_unit", "Unit", &[("days", "days"), ("hours", "hours"), ("minutes", "minutes")],
                    if form.decision_unit.is_empty() { "days" } else { &form.decision_unit }))
            }
            fieldset.field {
                legend { "Scores (optional)" }
                div.row {
                    (select_field(errors, "score_pay", "Pay", SCORE_OPTIONS, &form.score_pay))
                    (select_field(errors, "score_fairness", "Fairness", SCORE_OPTIONS, &form.score_fairness))
                    (select_field(errors, "score_promptness", "Promptness", SCORE_OPTIONS, &form.score_promptness))
                    (select_field(errors, "score_communication", "Communication", SCORE_OPTIONS, &form.score_communication))
                }
            }
            (radio_field(errors, "recommend", "Would you recommend this requester?", &[
                ("yes", "Yes"), ("no", "No"), ("unsure", "Unsure"), ("", "No answer"),
            ], &form.recommend))
            fieldset.field {
                legend { "Problems" }
                (checkbox(errors, "tos_violation", "The task broke the platform's terms of service", ticked(&form.tos_violation)))
                (text_field(errors, "tos_explanation", "How it broke them", &form.tos_explanation, "text", None, FieldExtra { maxlength: Some(500), ..FieldExtra::default() }))
                (checkbox(errors, "broken", "The task was broken", ticked(&form.broken)))
                (text_field(errors, "broken_explanation", "What was broken", &form.broken_explanation, "text", None, FieldExtra { maxlength: Some(500), ..FieldExtra::default() }))
                (checkbox(errors, "unpaid_screener", "It had an unpaid screener", ticked(&form.unpaid_screener)))
            }
            (text_field(errors, "body", "Your review", &form.body, "textarea",
                Some("What should other workers know? Never include your or anyone's worker ID."), FieldExtra { maxlength: Some(5000), ..FieldExtra::default() }))
            @if worker_id_warning {
                div.notice {
                    p { strong { "This looks like it contains an MTurk worker ID." } " A worker ID identifies a worker to the requester. Remove it, or confirm it is not one." }
                    (checkbox(errors, "confirm_no_worker_ids", "I checked: this is not a worker ID", ticked(&form.confirm_no_worker_ids)))
                }
            }
            button.secondary type="submit" name="action" value="preview" { "Preview hourly rate" }
            @match mode {
                Mode::New => {
                    button.secondary type="submit" name="action" value="draft" { "Save as draft" }
                    button type="submit" name="action" value="publish" { "Publish review" }
                }
                Mode::Edit { draft: true, .. } => {
                    button.secondary type="submit" name="action" value="draft" { "Save draft" }
                    button type="submit" name="action" value="publish" { "Publish review" }
                }
                Mode::Edit { draft: false, .. } => {
                    button type="submit" name="action" value="publish" { "Save changes" }
                }
            }
        }
    }
}

fn form_page(ctx: &Ctx, title: &str, status: StatusCode, content: Markup) -> Response {
    ctx.page_with(
        status,
        title,
        &Head {
            noindex: true,
            ..Head::default()
        },
        html! { h1 { (title) } (content) },
    )
}

pub async fn new_page(ctx: Ctx, Query(query): Query<super::Prefill>) -> PageResult {
    ctx.require_user()?;
    let form = ReviewForm {
        platform: if query.platform.is_empty() {
            "mturk".into()
        } else {
            query.platform
        },
        requester_id: query.requester_id,
        requester_name: query.requester_name,
        ..ReviewForm::default()
    };
    Ok(form_page(
        &ctx,
        "Write a review",
        StatusCode::OK,
        review_form(&ctx, &Mode::New, &form, &Errors::new(), None, None),
    ))
}

/// The hourly rate a preview shows, after the same checks publishing makes.
fn preview(form: &ReviewForm, input: &ReviewInput, requester_id: &str) -> Result<Preview, Errors> {
    let valid: ValidReview = validate_review(
        input,
        form.platform(),
        requester_id,
        ticked(&form.confirm_no_worker_ids),
    )
    .map_err(|e| renamed(e.fields()))?;
    let minor = hourly_minor(
        valid.reward_minor,
        valid.bonus_minor.unwrap_or(0),
        valid.time_spent_seconds,
    );
    Ok(Preview {
        hourly: format!("{} per hour", money(minor, &valid.currency)),
    })
}

pub async fn create(ctx: Ctx, PageForm(form): PageForm<ReviewForm>) -> PageResult {
    let user = ctx.require_user()?;
    let again = |errors: &Errors, message: Option<&str>, preview: Option<&Preview>, status| {
        form_page(
            &ctx,
            "Write a review",
            status,
            review_form(&ctx, &Mode::New, &form, errors, message, preview),
        )
    };
    let input = match form.input() {
        Ok(input) => input,
        Err(errors) => return Ok(again(&errors, None, None, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    if form.action == "preview" {
        let confirm = ticked(&form.confirm_no_worker_ids);
        let checked = check_requester(
            &form.platform,
            &form.requester_id,
            &form.requester_name,
            confirm,
        )
        .map_err(|e| renamed(&e.fields.unwrap_or_default()))
        .and_then(|(_, id, _)| preview(&form, &input, &id));
        return Ok(match checked {
            Ok(p) => again(&Errors::new(), None, Some(&p), StatusCode::OK),
            Err(errors) => again(&errors, None, None, StatusCode::UNPROCESSABLE_ENTITY),
        });
    }
    let body = CreateReview {
        platform: form.platform.clone(),
        requester_id: form.requester_id.clone(),
        requester_name: form.requester_name.clone(),
        draft: form.action == "draft",
        confirm_no_worker_ids: ticked(&form.confirm_no_worker_ids),
        review: input,
        unknown: Unknown::default(),
    };
    match api::create(State(ctx.state.clone()), user, AppJson(body)).await {
        Ok((_, view)) => Ok(see_other(&format!("/reviews/{}", view.0.id))),
        Err(mut error) => {
            error.fields = error.fields.as_ref().map(renamed);
            shown_again(&ctx, error, |errors, message| {
                review_form(&ctx, &Mode::New, &form, errors, Some(message), None)
            })
        }
    }
}

async fn load(ctx: &Ctx, id: &str) -> PageResult<ReviewView> {
    Ok(api::show(
        State(ctx.state.clone()),
        MaybeUser(ctx.user.clone()),
        Path(id.to_owned()),
    )
    .await?
    .0)
}

pub async fn edit_page(ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let user = ctx.require_user()?;
    let review = load(&ctx, &id).await?;
    if review.author.as_deref() != Some(user.user.username.as_str()) {
        return Err(picket_api::ApiError::forbidden(
            "not_author",
            "only the author can change this review",
        )
        .into());
    }
    let form = ReviewForm::of(&review.requester.platform, &review);
    let mode = Mode::Edit {
        id: &id,
        draft: review.state == "draft",
    };
    Ok(form_page(
        &ctx,
        "Edit your review",
        StatusCode::OK,
        review_form(&ctx, &mode, &form, &Errors::new(), None, None),
    ))
}

pub async fn edit(
    ctx: Ctx,
    Path(id): Path<String>,
    PageForm(form): PageForm<ReviewForm>,
) -> PageResult {
    let user = ctx.require_user()?;
    let review = load(&ctx, &id).await?;
    let mut form = form;
    form.platform = review.requester.platform.clone();
    form.requester_id = review.requester.requester_id.clone();
    form.requester_name = review.requester.name.clone();
    let mode = Mode::Edit {
        id: &id,
        draft: review.state == "draft",
    };
    let again = |errors: &Errors, message: Option<&str>, preview: Option<&Preview>, status| {
        form_page(
            &ctx,
            "Edit your review",
            status,
            review_form(&ctx, &mode, &form, errors, message, preview),
        )
    };
    let input = match form.input() {
        Ok(input) => input,
        Err(errors) => return Ok(again(&errors, None, None, StatusCode::UNPROCESSABLE_ENTITY)),
    };
    if form.action == "preview" {
        return Ok(match preview(&form, &input, &form.requester_id) {
            Ok(p) => again(&Errors::new(), None, Some(&p), StatusCode::OK),
            Err(errors) => again(&errors, None, None, StatusCode::UNPROCESSABLE_ENTITY),
        });
    }
    let body = EditReview {
        publish: form.action == "publish",
        confirm_no_worker_ids: ticked(&form.confirm_no_worker_ids),
        review: input,
        unknown: Unknown::default(),
    };
    match api::edit(
        State(ctx.state.clone()),
        user,
        Path(id.clone()),
        AppJson(body),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/reviews/{id}"))),
        Err(mut error) => {
            error.fields = error.fields.as_ref().map(renamed);
            shown_again(&ctx, error, |errors, message| {
                review_form(&ctx, &mode, &form, errors, Some(message), None)
            })
        }
    }
}

pub async fn delete_page(ctx: Ctx, Path(id): Path<String>) -> PageResult {
    ctx.require_user()?;
    let review = load(&ctx, &id).await?;
    let body = html! {
        h1 { "Delete your review?" }
        p { "Your review of " (requester_link(&review.requester)) " will be erased here and on every instance it reached. This cannot be undone." }
        form method="post" action={ "/reviews/" (id) "/delete" } {
            (ctx.csrf_field())
            button.danger type="submit" { "Delete the review" }
            a href={ "/reviews/" (id) } { "Keep it" }
        }
    };
    Ok(ctx.page("Delete your review?", body))
}

pub async fn delete(ctx: Ctx, Path(id): Path<String>, PageForm(_): PageForm<Empty>) -> PageResult {
    let user = ctx.require_user()?;
    let review = load(&ctx, &id).await?;
    api::delete(State(ctx.state.clone()), user, Path(id)).await?;
    Ok(see_other(&format!(
        "{}?deleted=review",
        requester_url(&review.requester.platform, &review.requester.requester_id)
    )))
}

fn approval_words(approval: Approval) -> &'static str {
    match approval {
        Approval::Approved => "approved",
        Approval::ApprovedTimeUnknown => "approved, time unknown",
        Approval::Pending => "still pending",
        Approval::Rejected => "rejected",
        Approval::PartiallyRejected => "partly rejected",
        Approval::RejectionOverturned => "rejected, then overturned",
    }
}

fn content_facts(c: &ValidReview, hourly: Option<i64>) -> Markup {
    let scores = [
        ("Pay", c.scores.pay),
        ("Fairness", c.scores.fairness),
        ("Promptness", c.scores.promptness),
        ("Communication", c.scores.communication),
    ];
    html! {
        dl.facts {
            @if let Some(title) = &c.task_title { dt { "Task" } dd { (title) } }
            dt { "Pay" } dd {
                (money(c.reward_minor, &c.currency))
                @if let Some(b) = c.bonus_minor { " + " (money(b, &c.currency)) " bonus" }
                " for " (duration(c.time_spent_seconds))
                @if let Some(h) = hourly { ": " strong { (money(h, &c.currency)) "/h" } }
            }
            dt { "Outcome" } dd {
                (match c.completion { Completion::Completed => "completed", Completion::Returned => "returned", Completion::ScreenedOut => "screened out" })
                ", " (approval_words(c.approval))
                @if let Some(s) = c.time_to_decision_seconds { " after " (duration(s)) }
            }
            @for (label, value) in scores {
                @if let Some(v) = value {
                    dt { (label) } dd { (v) " of 5, " (crate::layout::score_word(f64::from(v))) }
                }
            }
            @if let Some(r) = c.recommend {
                dt { "Recommends" } dd { (match r { Recommend::Yes => "yes", Recommend::No => "no", Recommend::Unsure => "unsure" }) }
            }
            @if c.tos_violation { dt { "Terms of service" } dd { "violated: " (c.tos_explanation.as_deref().unwrap_or("")) } }
            @if c.broken { dt { "Broken" } dd { (c.broken_explanation.as_deref().unwrap_or("yes")) } }
            @if c.unpaid_screener { dt { "Screener" } dd { "unpaid" } }
        }
        (paragraphs(&c.body))
    }
}

/// A review in a list (requester page, account page).
pub fn review_item(review: &ReviewView, show_requester: bool) -> Markup {
    html! {
        article {
            h3 {
                @if show_requester { (requester_link(&review.requester)) " · " }
                a href={ "/reviews/" (review.id) } {
                    @match &review.content {
                        Some(c) => { (approval_words(c.approval)) ", " (review.hourly_minor.map(|h| format!("{}/h", money(h, &c.currency))).unwrap_or_default()) },
                        None => "review",
                    }
                }
                @if review.state == "draft" { " " span.meta { "(draft)" } }
            }
            p.meta {
                (byline(review.author.as_deref(), review.origin.as_deref(), review.remote_author.as_deref(), review.original_url.as_deref()))
                @if let Some(at) = review.published_at { " · " (when(at)) }
                @if let Some(n) = review.comments.filter(|n| *n > 0) {
                    " · " a href={ "/reviews/" (review.id) "#comments" } { (n) " " (if n == 1 { "comment" } else { "comments" }) }
                }
            }
            @match &review.content {
                Some(c) => (content_facts(c, review.hourly_minor)),
                None => {
                    @if let Some(reason) = &review.removed_reason {
                        p.removed { "Removed by the moderators: " (reason) }
                    }
                }
            }
        }
    }
}

pub async fn show(ctx: Ctx, Path(id): Path<String>) -> PageResult {
    page(&ctx, &id, None, StatusCode::OK).await
}

/// A review's page; `comment` is a comment sent back with what was wrong with it.
pub async fn page(
    ctx: &Ctx,
    id: &str,
    comment: Option<super::comments::Draft<'_>>,
    status: StatusCode,
) -> PageResult {
    let id = id.to_owned();
    let review = load(ctx, &id).await?;
    let history: Vec<ReviewVersion> = match api::history(
        State(ctx.state.clone()),
        MaybeUser(ctx.user.clone()),
        Path(id.clone()),
    )
    .await
    {
        Ok(versions) => versions.0,
        Err(_) => Vec::new(),
    };
    let is_author = ctx.username().is_some() && ctx.username() == review.author.as_deref();
    let comments = match review.state.as_str() {
        "published" => {
            Some(super::comments::section(ctx, super::comments::On::Review, &id, comment).await?)
        }
        _ => None,
    };
    let title = format!("Review of {}", review.requester.name);
    let body = html! {
        h1 { "Review of " (requester_link(&review.requester)) }
        p.meta {
            (byline(review.author.as_deref(), review.origin.as_deref(), review.remote_author.as_deref(), review.original_url.as_deref()))
            @if let Some(at) = review.published_at { " · published " (when(at)) }
            // The last edit, not `updated_at`: a removal by the moderators is not an edit.
            @if let Some(last) = history.iter().map(|v| v.replaced_at).max() { " · edited " (when(last)) }
        }
        @if review.state == "draft" { p.notice { "This is your draft: nobody else sees it until you publish it." } }
        @if review.state == "removed" {
            p.removed { "Removed by the moderators: " (review.removed_reason.as_deref().unwrap_or("")) }
        }
        @match &review.content {
            Some(c) => (content_facts(c, review.hourly_minor)),
            None => p.muted { "The content of this review is not shown." },
        }
        @if is_author && review.state != "removed" {
            p {
                a.button href={ "/reviews/" (id) "/edit" } { "Edit" }
                a.button href={ "/reviews/" (id) "/delete" } { "Delete" }
            }
        }
        @if !history.is_empty() {
            section aria-labelledby="history" {
                h2 #history { "Edit history" }
                ol.items {
                    @for version in history.iter().rev() {
                        li {
                            p.meta { "Version replaced " (when(version.replaced_at)) }
                            (content_facts(&version.content, None))
                        }
                    }
                }
            }
        }
        (super::moderation::report_link("review", &id))
        @if let Some(comments) = comments { (comments) }
    };
    Ok(ctx.page_with(status, &title, &Head::default(), body))
}
