//! Campaigns in the browser: opening one from a wave, its page (the letter as it goes out, signatures counted by instance, never by whom), signing on, and the outcome its home's admins record; each action through the JSON API's handler for it.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use picket_api::routes::campaigns::{
    self as api, CampaignQuery, CampaignView, NewCampaignBody, OutcomeBody,
};
use picket_api::{AppJson, AppQuery, AppState, MaybeUser};
use picket_core::campaign::{Demand, Outcome};
use picket_core::incident::IncidentKind;
use picket_core::wave::Wave;
use serde::Deserialize;

use super::auth::Empty;
use super::{platform_name, requester_link};
use crate::context::Ctx;
use crate::error::PageResult;
use crate::form::{PageForm, ticked};
use crate::layout::{Errors, FieldExtra, checkbox, day, error_summary, select_field, text_field};
use crate::render::{Head, paragraphs, see_other};

fn demand_options() -> Vec<(&'static str, &'static str)> {
    vec![
        (Demand::ReverseRejections.as_str(), "Reverse the rejections"),
        (Demand::Pay.as_str(), "Pay what is owed"),
        (
            Demand::Reinstate.as_str(),
            "Reinstate the accounts and release the earnings",
        ),
        (Demand::Explain.as_str(), "Explain what happened and why"),
    ]
}

fn outcome_options() -> Vec<(&'static str, &'static str)> {
    vec![
        (Outcome::Reversed.as_str(), "The rejections were reversed"),
        (Outcome::Paid.as_str(), "The workers were paid"),
        (Outcome::Reinstated.as_str(), "The accounts were reinstated"),
        (Outcome::NoAnswer.as_str(), "No answer came"),
        (Outcome::Refused.as_str(), "The demand was refused"),
    ]
}

/// The link under a wave that opens a campaign about it.
pub fn open_link(platform: &str, requester_id: Option<&str>, wave: &Wave) -> Markup {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("platform", platform)
        .append_pair("kind", wave.kind.as_str())
        .append_pair("since", &wave.since.to_string());
    if let Some(id) = requester_id {
        query.append_pair("requester_id", id);
    }
    html! { " " a href={ "/campaigns/new?" (query.finish()) } { "Open a campaign about it" } }
}

fn status_words(c: &CampaignView) -> String {
    match (c.outcome, c.outcome_on) {
        (Some(outcome), Some(on)) => {
            format!("Outcome on {}: {}", on.format("%-d %b %Y"), outcome.words())
        }
        _ if c.ready => format!(
            "Ready to send: {} of {} signatures",
            c.signatures, c.threshold
        ),
        _ => format!("{} of {} signatures", c.signatures, c.threshold),
    }
}

/// The campaign opened from `wave`, with where it stands, for the wave's sentence.
pub fn of_wave(campaigns: &[CampaignView], wave: &Wave) -> Markup {
    html! {
        @for c in campaigns.iter().filter(|c| c.kind == wave.kind && c.since == wave.since) {
            " " a href={ "/campaigns/" (c.id) } { "Campaign" } ": " (status_words(c)) "."
        }
    }
}

/// Campaigns as a list, for the requester's, the platform's and the campaigns page.
pub fn items(campaigns: &[CampaignView]) -> Markup {
    html! {
        ul.items {
            @for c in campaigns {
                li {
                    a href={ "/campaigns/" (c.id) } { (c.kind.plural()) " since " (day(c.since)) ": " (c.demand.words()) }
                    p.meta { (status_words(c)) @if let Some(origin) = &c.origin { " · from " strong { (origin) } } }
                }
            }
        }
    }
}

/// The campaigns about a requester or a platform's letters, read through the API.
pub async fn about(
    ctx: &Ctx,
    platform: &str,
    requester_id: Option<&str>,
) -> Result<Vec<CampaignView>, crate::PageError> {
    Ok(api::list(
        State(ctx.state.clone()),
        MaybeUser(ctx.user.clone()),
        AppQuery(CampaignQuery {
            platform: Some(platform.to_owned()),
            requester_id: requester_id.map(str::to_owned),
        }),
    )
    .await?
    .0)
}

pub async fn list_page(ctx: Ctx) -> PageResult {
    let all = api::list(
        State(ctx.state.clone()),
        MaybeUser(ctx.user.clone()),
        AppQuery(CampaignQuery {
            platform: None,
            requester_id: None,
        }),
    )
    .await?
    .0;
    let body = html! {
        h1 { "Campaigns" }
        p { "When many workers are hit at once, they can write together: a campaign is a letter to a requester or a platform, sent once enough workers sign it. Signers are never named, only counted by instance. Open one from a wave on a requester's or a platform's page." }
        @if all.is_empty() { p.muted { "No campaigns yet." } }
        (items(&all))
    };
    Ok(ctx.page("Campaigns", body))
}

/// What the new-campaign form carries.
#[derive(Debug, Default, Deserialize)]
pub struct CampaignForm {
    #[serde(default)]
    platform: String,
    #[serde(default)]
    requester_id: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    demand: String,
    #[serde(default)]
    letter: String,
    #[serde(default)]
    threshold: String,
    #[serde(default)]
    confirm_no_worker_ids: Option<String>,
}

fn campaign_form(ctx: &Ctx, form: &CampaignForm, errors: &Errors, message: Option<&str>) -> Markup {
    let kind = form
        .kind
        .parse::<IncidentKind>()
        .map_or("incidents", IncidentKind::plural);
    html! {
        h1 { "Open a campaign" }
        p {
            "About the wave of " (kind) " since " (form.since) " "
            @if form.requester_id.is_empty() { "on " (platform_name(&form.platform)) } @else { "by requester " (form.requester_id) " on " (platform_name(&form.platform)) }
            ". You sign it first; the letter goes when enough workers have signed. Picket adds the wave's figures and the signature counts, never names."
        }
        (error_summary(errors, message))
        form method="post" action="/campaigns" novalidate {
            (ctx.csrf_field())
            input type="hidden" name="platform" value=(form.platform);
            input type="hidden" name="requester_id" value=(form.requester_id);
            input type="hidden" name="kind" value=(form.kind);
            input type="hidden" name="since" value=(form.since);
            (select_field(errors, "demand", "What you ask for", &demand_options(), &form.demand))
            (text_field(errors, "letter", "The letter", &form.letter, "textarea", Some("What happened and why it is wrong, in your words. Never a worker ID or a name."), FieldExtra { required: true, maxlength: Some(picket_core::campaign::LETTER_MAX_CHARS), ..FieldExtra::default() }))
            (text_field(errors, "threshold", "Signatures needed before it is sent", &form.threshold, "text", Some("Distinct workers, on any instance: at least 2."), FieldExtra { required: true, inputmode: Some("numeric"), ..FieldExtra::default() }))
            @if errors.values().any(|m| m.contains("confirm_no_worker_ids")) || ticked(&form.confirm_no_worker_ids) {
                (checkbox(errors, "confirm_no_worker_ids", "I checked: this is not a worker ID", ticked(&form.confirm_no_worker_ids)))
            }
            button type="submit" { "Open the campaign" }
        }
    }
}

pub async fn new_page(ctx: Ctx, Query(form): Query<CampaignForm>) -> PageResult {
    ctx.require_user()?;
    let form = CampaignForm {
        demand: Demand::ReverseRejections.as_str().into(),
        threshold: "10".into(),
        ..form
    };
    Ok(ctx.page(
        "Open a campaign",
        campaign_form(&ctx, &form, &Errors::new(), None),
    ))
}

pub async fn create(ctx: Ctx, PageForm(form): PageForm<CampaignForm>) -> PageResult {
    let user = ctx.require_user()?;
    let mut errors = Errors::new();
    let threshold = form.threshold.trim().parse::<i64>().unwrap_or_else(|_| {
        errors.insert(
            "threshold".into(),
            "write a whole number, such as 10".into(),
        );
        0
    });
    let demand = form.demand.parse::<Demand>().unwrap_or_else(|e| {
        errors.insert("demand".into(), e);
        Demand::Explain
    });
    let (kind, since) = (form.kind.parse::<IncidentKind>(), form.since.parse());
    let (Ok(kind), Ok(since)) = (kind, since) else {
        let message = "open a campaign from a wave on a requester's or a platform's page";
        return Ok(ctx.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Open a campaign",
            &Head::default(),
            campaign_form(&ctx, &form, &errors, Some(message)),
        ));
    };
    if !errors.is_empty() {
        return Ok(ctx.page_with(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Open a campaign",
            &Head::default(),
            campaign_form(&ctx, &form, &errors, None),
        ));
    }
    let body = NewCampaignBody {
        platform: form.platform.clone(),
        requester_id: (!form.requester_id.is_empty()).then(|| form.requester_id.clone()),
        kind,
        since,
        demand,
        letter: form.letter.clone(),
        threshold,
        confirm_no_worker_ids: ticked(&form.confirm_no_worker_ids),
    };
    match api::create(State(ctx.state.clone()), user, AppJson(body)).await {
        Ok((_, view)) => Ok(see_other(&format!("/campaigns/{}", view.0.id))),
        Err(error)
            if error.status == StatusCode::UNPROCESSABLE_ENTITY
                || error.status == StatusCode::FORBIDDEN =>
        {
            let errors: Errors = error
                .fields
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect();
            let message =
                (errors.is_empty() || errors.contains_key("since")).then(|| error.message.clone());
            Ok(ctx.page_with(
                error.status,
                "Open a campaign",
                &Head::default(),
                campaign_form(&ctx, &form, &errors, message.as_deref()),
            ))
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn show(State(state): State<AppState>, ctx: Ctx, Path(id): Path<String>) -> PageResult {
    let c = api::show(State(state), MaybeUser(ctx.user.clone()), Path(id.clone()))
        .await?
        .0;
    let to = match &c.requester {
        Some(r) => html! { (requester_link(r)) },
        None => html! { a href={ "/platforms/" (c.platform) } { (platform_name(&c.platform)) } },
    };
    let home = c.origin.is_none();
    let title = format!(
        "Campaign: {} since {}",
        c.kind.plural(),
        c.since.format("%-d %b %Y")
    );
    let body = html! {
        h1 { "Campaign about " (c.kind.plural()) }
        p.meta { "To " (to) " · wave since " (day(c.since)) @if let Some(origin) = &c.origin { " · opened on " strong { (origin) } ", where signatures are counted" } }
        p.wave { (status_words(&c)) }
        @if c.ready && c.outcome.is_none() {
            p.notice { "The threshold is reached: " @if home { "this instance's admins can send the letter below and record the answer." } @else { "its home instance's admins can send the letter." } }
        }
        h2 { "Signatures by instance" }
        table {
            thead { tr { th scope="col" { "Instance" } th scope="col" { "Signatures" } } }
            tbody { @for count in &c.counts { tr { td { (count.instance) } td { (count.signatures) } } } }
        }
        p.muted { "Who signed is never shown, here or anywhere." }
        @match (&ctx.user, c.signed, c.outcome) {
            (Some(_), Some(true), _) => p { strong { "You signed this campaign." } },
            (Some(_), _, None) => (super::action_button(&ctx, &format!("/campaigns/{}/sign", c.id), "Sign this campaign", "")),
            (None, _, None) => p { a href="/login" { "Log in" } " to sign." },
            _ => {},
        }
        h2 { "The letter as it goes out" }
        div.letter { (paragraphs(&c.letter_text)) }
        @if home && ctx.is_admin() && c.outcome.is_none() {
            section aria-labelledby="outcome" {
                h2 #outcome { "Record the outcome" }
                form method="post" action={ "/campaigns/" (c.id) "/outcome" } {
                    (ctx.csrf_field())
                    (select_field(&Errors::new(), "outcome", "What came of it", &outcome_options(), Outcome::NoAnswer.as_str()))
                    (text_field(&Errors::new(), "on", "On", "", "date", None, FieldExtra::required()))
                    button type="submit" { "Record the outcome" }
                }
            }
        }
    };
    Ok(ctx.page(&title, body))
}

pub async fn sign(ctx: Ctx, Path(id): Path<String>, PageForm(_): PageForm<Empty>) -> PageResult {
    let user = ctx.require_user()?;
    match api::sign(State(ctx.state.clone()), user, Path(id.clone())).await {
        // Signed before (in another tab, say): the page says so.
        Ok(_) => {}
        Err(error) if error.status == StatusCode::CONFLICT => {}
        Err(error) => return Err(error.into()),
    }
    Ok(see_other(&format!("/campaigns/{id}")))
}

#[derive(Debug, Deserialize)]
pub struct OutcomeForm {
    outcome: String,
    on: String,
}

pub async fn record_outcome(
    ctx: Ctx,
    Path(id): Path<String>,
    PageForm(form): PageForm<OutcomeForm>,
) -> PageResult {
    let user = ctx.require_user()?;
    let outcome = form
        .outcome
        .parse::<Outcome>()
        .map_err(|e| picket_api::ApiError::from(picket_core::FieldErrors::single("outcome", e)))?;
    let on = form.on.parse().map_err(|_| {
        picket_api::ApiError::from(picket_core::FieldErrors::single(
            "on",
            "give the day, as 2026-12-01",
        ))
    })?;
    api::outcome(
        State(ctx.state.clone()),
        user,
        Path(id.clone()),
        AppJson(OutcomeBody { outcome, on }),
    )
    .await
    .map(drop)?;
    Ok(see_other(&format!("/campaigns/{id}")))
}
