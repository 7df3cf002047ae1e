//! Filing an incident, its page (wave, reversal deadline, status history, corroborations), corroborating, withdrawing and changing status.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use picket_api::routes::incidents::{self as api, CorroborateBody, IncidentBody, StatusChange};
use picket_api::routes::requesters as requester_api;
use picket_api::views::{CorroborationView, IncidentView};
use picket_api::{AppJson, AppState, MaybeUser, Unknown};
use picket_core::incident::{CorroborationInput, IncidentInput, IncidentKind, IncidentStatus};
use picket_core::money::parse_money;
use picket_core::platform::Platform;
use picket_core::wave::{Wave, describe};
use serde::Deserialize;

use super::auth::{Empty, shown_again};
use super::{byline, platform_name, platform_options, requester_link};
use crate::context::Ctx;
use crate::error::PageResult;
use crate::form::{PageForm, text, ticked};
use crate::layout::{
    Errors, FieldExtra, checkbox, day, error_summary, money, select_field, text_field, when,
};
use crate::render::{Head, paragraphs, see_other};

fn kind_options() -> Vec<(&'static str, &'static str)> {
    IncidentKind::ALL
        .iter()
        .map(|k| (k.as_str(), k.label()))
        .collect()
}

fn status_words(status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Open => "open",
        IncidentStatus::Resolved => "resolved",
        IncidentStatus::Reversed => "reversed by the requester",
    }
}

/// An incident in a list.
pub fn incident_item(incident: &IncidentView) -> Markup {
    html! {
        article {
            h3 {
                a href={ "/incidents/" (incident.id) } { (incident.kind.label()) }
                " " span.meta { "(" (status_words(incident.status)) ")" }
            }
            p.meta {
                @match &incident.requester {
                    Some(r) => { (requester_link(r)) " · " },
                    None => { a href={ "/platforms/" (incident.platform) } { (platform_name(&incident.platform)) } " · " },
                }
                "since " (day(incident.happened_from))
                " · " (incident.corroborations) " " (if incident.corroborations == 1 { "corroboration" } else { "corroborations" })
                @if incident.comments > 0 {
                    " · " a href={ "/incidents/" (incident.id) "#comments" } { (incident.comments) " " (if incident.comments == 1 { "comment" } else { "comments" }) }
                }
                " · " (byline(incident.author.as_deref(), incident.origin.as_deref(), incident.remote_author.as_deref(), incident.original_url.as_deref()))
            }
        }
    }
}

/// An incident form as typed.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct IncidentForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    platform: String,
    #[serde(default)]
    requester_id: String,
    #[serde(default)]
    requester_name: String,
    #[serde(default)]
    batch_id: String,
    #[serde(default)]
    happened_from: String,
    #[serde(default)]
    happened_to: String,
    #[serde(default)]
    tasks_affected: String,
    #[serde(default)]
    amount_lost: String,
    #[serde(default)]
    currency: String,
    #[serde(default)]
    message_received: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    confirm_no_worker_ids: Option<String>,
}

fn count(errors: &mut Errors, field: &str, raw: &str) -> Option<i64> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    raw.parse::<i64>().ok().or_else(|| {
        errors.insert(field.into(), "write a whole number, such as 20".into());
        None
    })
}

fn date(errors: &mut Errors, field: &str, raw: &str, required: bool) -> Option<chrono::NaiveDate> {
    let raw = raw.trim();
    if raw.is_empty() {
        if required {
            errors.insert(field.into(), "give the date it happened".into());
        }
        return None;
    }
    raw.parse().ok().or_else(|| {
        errors.insert(field.into(), "write a date as YYYY-MM-DD".into());
        None
    })
}

impl IncidentForm {
    fn input(&self) -> Result<IncidentInput, Errors> {
        let mut errors = Errors::new();
        let kind = self.kind.parse::<IncidentKind>().unwrap_or_else(|_| {
            errors.insert("kind".into(), "choose what happened".into());
            IncidentKind::Other
        });
        let platform = self.platform.parse::<Platform>().unwrap_or_else(|_| {
            errors.insert("platform".into(), "choose a platform".into());
            Platform::Mturk
        });
        let currency = if self.currency.trim().is_empty() {
            platform.default_currency().to_owned()
        } else {
            self.currency.trim().to_ascii_uppercase()
        };
        let amount = if self.amount_lost.trim().is_empty() {
            None
        } else {
            parse_money(&self.amount_lost, &currency)
                .map_err(|m| errors.insert("amount_lost".into(), m))
                .ok()
        };
        let from = date(&mut errors, "happened_from", &self.happened_from, true);
        let to = date(&mut errors, "happened_to", &self.happened_to, false);
        let tasks = count(&mut errors, "tasks_affected", &self.tasks_affected);
        match (from, errors.is_empty()) {
            (Some(from), true) => Ok(IncidentInput {
                kind,
                platform,
                requester_id: text(&Some(self.requester_id.clone())),
                requester_name: text(&Some(self.requester_name.clone())),
                batch_id: text(&Some(self.batch_id.clone())),
                happened_from: from,
                happened_to: to,
                tasks_affected: tasks,
                amount_lost_minor: amount,
                currency: Some(currency),
                message_received: text(&Some(self.message_received.clone())),
                description: self.description.clone(),
                evidence_digests: Vec::new(),
                earnings_locked: None,
                earnings_locked_minor: None,
                reinstated_on: None,
                platform_answer: None,
            }),
            _ => Err(errors),
        }
    }
}

/// The API's field names for money in minor units, as the forms name their fields.
fn renamed(errors: &Errors) -> Errors {
    errors
        .iter()
        .map(|(k, v)| {
            let field = match k.as_str() {
                "amount_lost_minor" => "amount_lost",
                "earnings_locked_minor" => "earnings_locked_amount",
                other => other,
            };
            (field.to_owned(), v.clone())
        })
        .collect()
}

fn incident_form(ctx: &Ctx, form: &IncidentForm, errors: &Errors, message: Option<&str>) -> Markup {
    let worker_id_warning = errors.values().any(|m| m.contains("confirm_no_worker_ids"))
        || ticked(&form.confirm_no_worker_ids);
    html! {
        (error_summary(errors, message))
        form method="post" action="/incidents/new" novalidate {
            (ctx.csrf_field())
            (select_field(errors, "kind", "What happened?", &kind_options(), &form.kind))
            (select_field(errors, "platform", "Platform", &platform_options(), &form.platform))
            (text_field(errors, "requester_id", "Requester ID (optional for a platform suspension)", &form.requester_id, "text", None, FieldExtra { maxlength: Some(64), ..FieldExtra::default() }))
            (text_field(errors, "requester_name", "Requester name", &form.requester_name, "text", None, FieldExtra { maxlength: Some(200), ..FieldExtra::default() }))
            (text_field(errors, "batch_id", "Batch or group ID (optional)", &form.batch_id, "text", None, FieldExtra { maxlength: Some(100), ..FieldExtra::default() }))
            div.row {
                (text_field(errors, "happened_from", "When it happened", &form.happened_from, "date", None, FieldExtra::required()))
                (text_field(errors, "happened_to", "Until (optional)", &form.happened_to, "date", None, FieldExtra::default()))
            }
            div.row {
                (text_field(errors, "tasks_affected", "Tasks affected (optional)", &form.tasks_affected, "text", None, FieldExtra { inputmode: Some("numeric"), ..FieldExtra::default() }))
                (text_field(errors, "amount_lost", "Money lost (optional)", &form.amount_lost, "text", Some("As you would write it, e.g. 12.40"), FieldExtra { inputmode: Some("decimal"), ..FieldExtra::default() }))
                (text_field(errors, "currency", "Currency", &form.currency, "text", None, FieldExtra { maxlength: Some(3), ..FieldExtra::default() }))
            }
            (text_field(errors, "message_received", "What were you told? (optional)", &form.message_received, "textarea", Some("For example the rejection reason, word for word."), FieldExtra::default()))
            (text_field(errors, "description", "What happened", &form.description, "textarea", Some("Never include your or anyone's worker ID."), FieldExtra::required()))
            @if worker_id_warning {
                div.notice {
                    p { strong { "This looks like it contains an MTurk worker ID." } " Remove it, or confirm it is not one." }
                    (checkbox(errors, "confirm_no_worker_ids", "I checked: this is not a worker ID", ticked(&form.confirm_no_worker_ids)))
                }
            }
            button type="submit" { "File the report" }
        }
    }
}

fn form_page(ctx: &Ctx, status: StatusCode, content: Markup) -> Response {
    ctx.page_with(
        status,
        "Report an incident",
        &Head {
            noindex: true,
            ..Head::default()
        },
        html! { h1 { "Report an incident" } (content) },
    )
}

pub async fn new_page(ctx: Ctx, Query(query): Query<super::Prefill>) -> PageResult {
    ctx.require_user()?;
    let form = IncidentForm {
        kind: "mass_rejection".into(),
        platform: if query.platform.is_empty() {
            "mturk".into()
        } else {
            query.platform
        },
        requester_id: query.requester_id,
        requester_name: query.requester_name,
        ..IncidentForm::default()
    };
    Ok(form_page(
        &ctx,
        StatusCode::OK,
        incident_form(&ctx, &form, &Errors::new(), None),
    ))
}

pub async fn create(ctx: Ctx, PageForm(form): PageForm<IncidentForm>) -> PageResult {
    let user = ctx.require_user()?;
    let input = match form.input() {
        Ok(input) => input,
        Err(errors) => {
            return Ok(form_page(
                &ctx,
                StatusCode::UNPROCESSABLE_ENTITY,
                incident_form(&ctx, &form, &errors, None),
            ));
        }
    };
    let body = IncidentBody {
        confirm_no_worker_ids: ticked(&form.confirm_no_worker_ids),
        incident: input,
        unknown: Unknown::default(),
    };
    match api::create(State(ctx.state.clone()), user, AppJson(body)).await {
        Ok((_, view)) => Ok(see_other(&format!("/incidents/{}", view.0.id))),
        Err(mut error) => {
            error.fields = error.fields.as_ref().map(renamed);
            shown_again(&ctx, error, |errors, message| {
                html! { h1 { "Report an incident" } (incident_form(&ctx, &form, errors, Some(message))) }
            })
        }
    }
}

async fn load(ctx: &Ctx, id: &str) -> PageResult<IncidentView> {
    Ok(api::show(
        State(ctx.state.clone()),
        MaybeUser(ctx.user.clone()),
        Path(id.to_owned()),
    )
    .await?
    .0)
}

/// The waves of the incident's requester that this incident belongs to.
async fn waves_of(state: &AppState, incident: &IncidentView) -> PageResult<Vec<(Wave, String)>> {
    let part_of = |w: &picket_core::wave::Wave| {
        w.kind == incident.kind
            && w.since <= incident.happened_from
            && incident.happened_from <= w.until
    };
    let Some(r) = &incident.requester else {
        let platform: Platform = incident.platform.parse().unwrap_or(Platform::Other);
        let page = picket_api::routes::platforms::show(
            State(state.clone()),
            MaybeUser(None),
            Path(incident.platform.clone()),
        )
        .await?
        .0;
        return Ok(page
            .waves
            .into_iter()
            .filter(part_of)
            .map(|w| {
                let sentence = picket_core::wave::describe_platform(&w, platform);
                (w, sentence)
            })
            .collect());
    };
    let view = requester_api::show(
        State(state.clone()),
        Path((r.platform.clone(), r.requester_id.clone())),
    )
    .await?
    .0;
    let platform: Platform = r.platform.parse().unwrap_or(Platform::Other);
    Ok(view
        .waves
        .into_iter()
        .filter(part_of)
        .map(|w| {
            let sentence = describe(&w, &view.name, platform);
            (w, sentence)
        })
        .collect())
}

#[derive(Debug, Default, Deserialize)]
pub struct CorroborationForm {
    #[serde(default)]
    tasks_affected: String,
    #[serde(default)]
    amount_lost: String,
    #[serde(default)]
    note: String,
    #[serde(default)]
    confirm_no_worker_ids: Option<String>,
}

fn corroborate_form(
    ctx: &Ctx,
    incident: &IncidentView,
    form: &CorroborationForm,
    errors: &Errors,
    message: Option<&str>,
) -> Markup {
    html! {
        section aria-labelledby="corroborate" {
            h2 #corroborate { "Did this happen to you too?" }
            (error_summary(errors, message))
            form method="post" action={ "/incidents/" (incident.id) "/corroborate" } novalidate {
                (ctx.csrf_field())
                div.row {
                    (text_field(errors, "tasks_affected", "Your tasks affected (optional)", &form.tasks_affected, "text", None, FieldExtra { inputmode: Some("numeric"), ..FieldExtra::default() }))
                    (text_field(errors, "amount_lost", "Money you lost (optional)", &form.amount_lost, "text", None, FieldExtra { inputmode: Some("decimal"), ..FieldExtra::default() }))
                }
                (text_field(errors, "note", "A note (optional)", &form.note, "textarea", None, FieldExtra { maxlength: Some(2000), ..FieldExtra::default() }))
                @if errors.values().any(|m| m.contains("confirm_no_worker_ids")) || ticked(&form.confirm_no_worker_ids) {
                    (checkbox(errors, "confirm_no_worker_ids", "I checked: this is not a worker ID", ticked(&form.confirm_no_worker_ids)))
                }
                button type="submit" { "This happened to me too" }
            }
        }
    }
}

/// An incident's page with a comment sent back with what was wrong with it.
pub async fn page_with_comment(
    ctx: &Ctx,
    id: &str,
    comment: super::comments::Draft<'_>,
    status: StatusCode,
) -> PageResult {
    incident_page(ctx, id, None, Some(comment), status).await
}

async fn incident_page(
    ctx: &Ctx,
    id: &str,
    corroboration: Option<(&CorroborationForm, &Errors, Option<&str>)>,
    comment: Option<super::comments::Draft<'_>>,
    status: StatusCode,
) -> PageResult {
    let incident = load(ctx, id).await?;
    let comments = match incident.state.as_str() {
        "published" => {
            Some(super::comments::section(ctx, super::comments::On::Incident, id, comment).await?)
        }
        _ => None,
    };
    let corroborations: Vec<CorroborationView> =
        api::list_corroborations(State(ctx.state.clone()), Path(id.to_owned()))
            .await?
            .0;
    let waves = waves_of(&ctx.state, &incident).await?;
    let campaigns = match waves.is_empty() {
        true => Vec::new(),
        false => {
            let requester_id = incident.requester.as_ref().map(|r| r.requester_id.as_str());
            super::campaigns::about(ctx, &incident.platform, requester_id).await?
        }
    };
    let me = ctx.username();
    let is_author = me.is_some() && me == incident.author.as_deref();
    let mine = me.is_some_and(|me| {
        corroborations
            .iter()
            .any(|c| c.author.as_deref() == Some(me))
    });
    let empty = CorroborationForm::default();
    let no_errors = Errors::new();
    let (form, errors, message) = corroboration.unwrap_or((&empty, &no_errors, None));
    let title = format!(
        "{}: {}",
        incident.kind.label(),
        incident
            .requester
            .as_ref()
            .map_or(platform_name(&incident.platform), |r| r.name.as_str())
    );
    let body = html! {
        h1 {
            (incident.kind.label()) " · "
            @match &incident.requester {
                Some(r) => (requester_link(r)),
                None => a href={ "/platforms/" (incident.platform) } { (platform_name(&incident.platform)) },
            }
        }
        p.meta {
            (byline(incident.author.as_deref(), incident.origin.as_deref(), incident.remote_author.as_deref(), incident.original_url.as_deref()))
            " · filed " (when(incident.created_at))
        }
        @for (wave, sentence) in &waves {
            p.wave { "Part of a wave: " (sentence) (super::campaigns::of_wave(&campaigns, wave)) }
        }
        @if incident.state == "removed" {
            p.removed { "Removed by the moderators: " (incident.removed_reason.as_deref().unwrap_or("")) }
        }
        dl.facts {
            dt { "Status" } dd { (status_words(incident.status)) }
            dt { "Platform" } dd { (platform_name(&incident.platform)) }
            dt { "Happened" } dd { (day(incident.happened_from)) @if let Some(to) = incident.happened_to { " to " (day(to)) } }
            @if let Some(deadline) = incident.reversal_deadline {
                dt { "Reversal deadline" } dd { "The requester can reverse these rejections until " strong { (day(deadline)) } "." }
            }
            @if let Some(b) = &incident.batch_id { dt { "Batch" } dd { (b) } }
            @if let Some(t) = incident.tasks_affected { dt { "Tasks affected" } dd { (t) } }
            @if let Some(a) = incident.amount_lost_minor { dt { "Money lost" } dd { (money(a, &incident.currency)) } }
            @match (incident.earnings_locked, incident.earnings_locked_minor) {
                (Some(true), Some(m)) => { dt { "Earnings locked" } dd { (money(m, &incident.currency)) } },
                (Some(true), None) => { dt { "Earnings locked" } dd { "yes, amount not given" } },
                (Some(false), _) => { dt { "Earnings locked" } dd { "no" } },
                _ => {},
            }
            @if let Some(on) = incident.reinstated_on { dt { "Reinstated" } dd { (day(on)) } }
            dt { "Corroborations" } dd { (incident.corroborations) }
        }
        @if let Some(answer) = &incident.platform_answer {
            h2 { "What the platform answered" }
            blockquote { (paragraphs(answer)) }
        }
        @if let Some(m) = &incident.message_received {
            h2 { "What the worker was told" }
            blockquote { (paragraphs(m)) }
        }
        h2 { "What happened" }
        (paragraphs(&incident.description))
        @if incident.status_history.len() > 1 {
            h2 { "Status history" }
            ol {
                @for change in &incident.status_history {
                    li { (when(change.changed_at)) ": " (change.status) @if let Some(note) = &change.note { " – " (note) } }
                }
            }
        }
        @if (is_author || ctx.is_moderator()) && incident.state == "published" {
            section aria-labelledby="status" {
                h2 #status { "Change the status" }
                form method="post" action={ "/incidents/" (incident.id) "/status" } {
                    (ctx.csrf_field())
                    (select_field(&no_errors, "status", "New status", &[("open", "Open"), ("resolved", "Resolved"), ("reversed", "Reversed by the requester")], incident.status.as_str()))
                    (text_field(&no_errors, "note", "What changed (optional)", "", "text", None, FieldExtra { maxlength: Some(500), ..FieldExtra::default() }))
                    button type="submit" { "Change status" }
                }
            }
        }
        @if is_author && incident.state == "published" {
            (aftermath_form(ctx, &incident, &AftermathForm::of(&incident), &no_errors, None))
        }
        section aria-labelledby="corroborations" {
            h2 #corroborations { "Corroborations (" (corroborations.len()) ")" }
            @if corroborations.is_empty() { p.muted { "Nobody has corroborated this yet." } }
            ul.items {
                @for c in &corroborations {
                    li id={ "c-" (c.id) } {
                        p.meta { (byline(c.author.as_deref(), c.origin.as_deref(), c.remote_author.as_deref(), c.original_url.as_deref())) " · " (when(c.created_at)) }
                        @if let Some(t) = c.tasks_affected { p { (t) " tasks affected" } }
                        @if let Some(a) = c.amount_lost_minor { p { (money(a, &incident.currency)) " lost" } }
                        (paragraphs(&c.note))
                        (super::moderation::report_link("corroboration", &c.id))
                    }
                }
            }
        }
        @if ctx.user.is_some() && incident.state == "published" {
            @if mine {
                (super::action_button(ctx, &format!("/incidents/{}/withdraw", incident.id), "Withdraw my corroboration", "secondary"))
            } @else if !is_author {
                (corroborate_form(ctx, &incident, form, errors, message))
            }
        } @else if ctx.user.is_none() {
            p { a href="/login" { "Log in" } " to corroborate this report." }
        }
        (super::moderation::report_link("incident", &incident.id))
        @if let Some(comments) = comments { (comments) }
    };
    Ok(ctx.page_with(status, &title, &Head::default(), body))
}

pub async fn show(ctx: Ctx, Path(id): Path<String>) -> PageResult {
    incident_page(&ctx, &id, None, None, StatusCode::OK).await
}

pub async fn corroborate(
    ctx: Ctx,
    Path(id): Path<String>,
    PageForm(form): PageForm<CorroborationForm>,
) -> PageResult {
    let user = ctx.require_user()?;
    let incident = load(&ctx, &id).await?;
    let mut errors = Errors::new();
    let tasks = count(&mut errors, "tasks_affected", &form.tasks_affected);
    let amount = if form.amount_lost.trim().is_empty() {
        None
    } else {
        parse_money(&form.amount_lost, &incident.currency)
            .map_err(|m| errors.insert("amount_lost".into(), m))
            .ok()
    };
    if !errors.is_empty() {
        return incident_page(
            &ctx,
            &id,
            Some((&form, &errors, None)),
            None,
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await;
    }
    let body = CorroborateBody {
        confirm_no_worker_ids: ticked(&form.confirm_no_worker_ids),
        corroboration: CorroborationInput {
            tasks_affected: tasks,
            amount_lost_minor: amount,
            note: form.note.clone(),
        },
        unknown: Unknown::default(),
    };
    match api::corroborate(
        State(ctx.state.clone()),
        user,
        Path(id.clone()),
        AppJson(body),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/incidents/{id}#corroborations"))),
        Err(error)
            if error.status == StatusCode::UNPROCESSABLE_ENTITY
                || error.status == StatusCode::CONFLICT =>
        {
            let errors = renamed(&error.fields.clone().unwrap_or_default());
            let message = error.message.clone();
            incident_page(
                &ctx,
                &id,
                Some((&form, &errors, Some(&message))),
                None,
                error.status,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn withdraw(
    ctx: Ctx,
    Path(id): Path<String>,
    PageForm(_): PageForm<Empty>,
) -> PageResult {
    let user = ctx.require_user()?;
    api::withdraw(State(ctx.state.clone()), user, Path(id.clone())).await?;
    Ok(see_other(&format!("/incidents/{id}#corroborations")))
}

#[derive(Debug, Deserialize)]
pub struct StatusForm {
    status: String,
    #[serde(default)]
    note: String,
}

pub async fn change_status(
    ctx: Ctx,
    Path(id): Path<String>,
    PageForm(form): PageForm<StatusForm>,
) -> PageResult {
    let user = ctx.require_user()?;
    let status = form.status.parse::<IncidentStatus>().map_err(|_| {
        picket_api::ApiError::validation(picket_core::FieldErrors::single(
            "status",
            "choose open, resolved or reversed",
        ))
    })?;
    let body = StatusChange {
        status,
        note: text(&Some(form.note)),
    };
    let _changed = api::change_status(
        State(ctx.state.clone()),
        user,
        Path(id.clone()),
        AppJson(body),
    )
    .await?;
    Ok(see_other(&format!("/incidents/{id}")))
}

/// What happened after an incident, as its author types it.
#[derive(Debug, Default, Clone, Deserialize)]
pub struct AftermathForm {
    /// `yes`, `no` or empty (not known).
    #[serde(default)]
    earnings_locked: String,
    #[serde(default)]
    earnings_locked_amount: String,
    #[serde(default)]
    reinstated_on: String,
    #[serde(default)]
    platform_answer: String,
    #[serde(default)]
    confirm_no_worker_ids: Option<String>,
}

impl AftermathForm {
    fn of(incident: &IncidentView) -> Self {
        AftermathForm {
            earnings_locked: match incident.earnings_locked {
                Some(true) => "yes".into(),
                Some(false) => "no".into(),
                None => String::new(),
            },
            earnings_locked_amount: incident
                .earnings_locked_minor
                .map(|m| picket_core::money::write_money(m, &incident.currency))
                .unwrap_or_default(),
            reinstated_on: incident
                .reinstated_on
                .map(|d| d.to_string())
                .unwrap_or_default(),
            platform_answer: incident.platform_answer.clone().unwrap_or_default(),
            confirm_no_worker_ids: None,
        }
    }
}

fn aftermath_form(
    ctx: &Ctx,
    incident: &IncidentView,
    form: &AftermathForm,
    errors: &Errors,
    message: Option<&str>,
) -> Markup {
    html! {
        section aria-labelledby="aftermath" {
            h2 #aftermath { "What happened afterwards" }
            (error_summary(errors, message))
            p.hint { "Fill this in as you learn more: it helps the next worker this happens to." }
            form method="post" action={ "/incidents/" (incident.id) "/aftermath" } {
                (ctx.csrf_field())
                (select_field(errors, "earnings_locked", "Were earnings locked in the account?", &[("", "Not known"), ("yes", "Yes"), ("no", "No")], &form.earnings_locked))
                (text_field(errors, "earnings_locked_amount", "How much was locked (optional)", &form.earnings_locked_amount, "text", Some("As you would write it, e.g. 412.50"), FieldExtra { inputmode: Some("decimal"), ..FieldExtra::default() }))
                (text_field(errors, "reinstated_on", "Reinstated on (optional)", &form.reinstated_on, "date", None, FieldExtra::default()))
                (text_field(errors, "platform_answer", "What the platform answered (optional)", &form.platform_answer, "textarea", None, FieldExtra { maxlength: Some(2000), ..FieldExtra::default() }))
                @if errors.contains_key("platform_answer") {
                    (checkbox(errors, "confirm_no_worker_ids", "I checked: this is not a worker ID", ticked(&form.confirm_no_worker_ids)))
                }
                button type="submit" { "Save what happened" }
            }
        }
    }
}

/// Saves the aftermath through the same edit as the JSON API's `PUT /api/v1/incidents/{id}`,
/// keeping everything else the report says.
pub async fn aftermath(
    ctx: Ctx,
    Path(id): Path<String>,
    PageForm(form): PageForm<AftermathForm>,
) -> PageResult {
    let user = ctx.require_user()?;
    let incident = load(&ctx, &id).await?;
    let mut errors = Errors::new();
    let earnings_locked = match form.earnings_locked.as_str() {
        "yes" => Some(true),
        "no" => Some(false),
        _ => None,
    };
    let amount = if form.earnings_locked_amount.trim().is_empty() {
        None
    } else {
        parse_money(&form.earnings_locked_amount, &incident.currency)
            .map_err(|m| errors.insert("earnings_locked_amount".into(), m))
            .ok()
    };
    let reinstated_on = date(&mut errors, "reinstated_on", &form.reinstated_on, false);
    let show = |errors: &Errors, message: &str| {
        ctx.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            "What happened afterwards",
            &crate::render::Head::default(),
            aftermath_form(&ctx, &incident, &form, errors, Some(message)),
        )
    };
    if !errors.is_empty() {
        return Ok(show(&errors, "Some answers need another look."));
    }
    let input = IncidentInput {
        kind: incident.kind,
        platform: incident.platform.parse().unwrap_or(Platform::Other),
        requester_id: incident.requester.as_ref().map(|r| r.requester_id.clone()),
        requester_name: incident.requester.as_ref().map(|r| r.name.clone()),
        batch_id: incident.batch_id.clone(),
        happened_from: incident.happened_from,
        happened_to: incident.happened_to,
        tasks_affected: incident.tasks_affected,
        amount_lost_minor: incident.amount_lost_minor,
        currency: Some(incident.currency.clone()),
        message_received: incident.message_received.clone(),
        description: incident.description.clone(),
        evidence_digests: incident.evidence_digests.clone(),
        earnings_locked,
        earnings_locked_minor: amount,
        reinstated_on,
        platform_answer: text(&Some(form.platform_answer.clone())),
    };
    let body = IncidentBody {
        confirm_no_worker_ids: ticked(&form.confirm_no_worker_ids),
        incident: input,
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
        Ok(_) => Ok(see_other(&format!("/incidents/{id}#aftermath"))),
        Err(mut error) => {
            error.fields = error.fields.as_ref().map(renamed);
            super::auth::shown_again(&ctx, error, |errors, message| {
                aftermath_form(&ctx, &incident, &form, errors, Some(message))
            })
        }
    }
}

/// A corroboration's URL in a browser: the incident it belongs to, at the corroboration.
pub async fn corroboration(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    let lookup = id.clone();
    let found = state
        .db
        .run(move |conn| {
            let row = picket_db::incidents::corroboration_by_public_id(conn, &lookup)?;
            let incident = picket_db::incidents::by_pk(conn, row.incident_pk)?;
            Ok((row.state, incident.public_id))
        })
        .await
        .map_err(picket_api::routes::not_found_as("no such corroboration"))?;
    match found {
        (state, incident) if state == "published" => {
            Ok(see_other(&format!("/incidents/{incident}#c-{id}")))
        }
        _ => Err(picket_api::ApiError::new(
            StatusCode::GONE,
            "deleted",
            "this corroboration was withdrawn",
        )
        .into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incident_form_reads_people_s_writing() {
        let form = IncidentForm {
            kind: "mass_rejection".into(),
            platform: "mturk".into(),
            happened_from: "2026-11-03".into(),
            amount_lost: "12.40".into(),
            tasks_affected: "20".into(),
            description: "All rejected".into(),
            ..IncidentForm::default()
        };
        let input = form.input().expect("valid");
        assert_eq!(input.amount_lost_minor, Some(1240));
        assert_eq!(input.tasks_affected, Some(20));
        let bad = IncidentForm {
            happened_from: "3 Nov".into(),
            tasks_affected: "many".into(),
            ..form
        };
        let errors = bad.input().expect_err("invalid");
        assert!(errors.contains_key("happened_from"));
        assert!(errors.contains_key("tasks_affected"));
    }
}
