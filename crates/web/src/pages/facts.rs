//! Who is behind a requester: the facts workers know (organisation, kind, business contact, what the work builds, what the data is used for), their sources and their history, and the form to add or correct them, through the JSON API's handlers.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use picket_api::routes::facts::{self as api, FactView, FactsBody, FactsView};
use picket_api::routes::requesters::parse_key;
use picket_api::{AppJson, MaybeUser};
use picket_core::fact::{FactField, FactInput, OrganisationKind};
use serde::Deserialize;

use super::{byline, requester_url};
use crate::context::Ctx;
use crate::error::PageResult;
use crate::form::{PageForm, ticked};
use crate::layout::{Errors, FieldExtra, checkbox, error_summary, select_field, text_field, when};
use crate::render::{Head, see_other};

fn source_links(fact: &FactView) -> Markup {
    html! {
        @if !fact.sources.is_empty() {
            " " span.meta {
                "(sources: "
                @for (i, source) in fact.sources.iter().enumerate() {
                    @if i > 0 { ", " }
                    a href=(source) rel="nofollow noopener" { (i + 1) }
                }
                ")"
            }
        }
    }
}

fn value_words(fact: &FactView) -> String {
    let value = fact.value.clone().unwrap_or_default();
    match fact.field {
        FactField::Kind => value
            .parse::<OrganisationKind>()
            .map_or(value, |k| k.label().to_owned()),
        _ => value,
    }
}

/// The facts as the requester page shows them, with a link to their page.
pub fn summary(facts: &FactsView, url: &str) -> Markup {
    html! {
        section aria-labelledby="who" {
            h2 #who { "Who is behind it" }
            (summary_list(facts))
            p { a href={ (url) "/facts" } { "Add or correct what is known, and see the history" } }
        }
    }
}

/// What the facts form posts: a value and sources (links separated by spaces) per field.
#[derive(Debug, Default, Deserialize)]
pub struct FactsForm {
    #[serde(default)]
    organisation: String,
    #[serde(default)]
    organisation_sources: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    kind_sources: String,
    #[serde(default)]
    contact: String,
    #[serde(default)]
    contact_sources: String,
    #[serde(default)]
    purpose: String,
    #[serde(default)]
    purpose_sources: String,
    #[serde(default)]
    data_uses: String,
    #[serde(default)]
    data_uses_sources: String,
    #[serde(default)]
    confirm_no_worker_ids: Option<String>,
}

impl FactsForm {
    fn of(facts: &FactsView) -> FactsForm {
        let mut form = FactsForm::default();
        for fact in &facts.facts {
            let (value, sources) = form.slots(fact.field);
            *value = fact.value.clone().unwrap_or_default();
            *sources = fact.sources.join(" ");
        }
        form
    }

    fn slots(&mut self, field: FactField) -> (&mut String, &mut String) {
        match field {
            FactField::Organisation => (&mut self.organisation, &mut self.organisation_sources),
            FactField::Kind => (&mut self.kind, &mut self.kind_sources),
            FactField::Contact => (&mut self.contact, &mut self.contact_sources),
            FactField::Purpose => (&mut self.purpose, &mut self.purpose_sources),
            FactField::DataUses => (&mut self.data_uses, &mut self.data_uses_sources),
        }
    }

    /// The API body: every field given a value (an empty one is left as it is).
    fn body(&self) -> FactsBody {
        let input = |value: &str, sources: &str| {
            (!value.trim().is_empty()).then(|| FactInput {
                value: value.to_owned(),
                sources: sources.split_whitespace().map(str::to_owned).collect(),
            })
        };
        FactsBody {
            organisation: input(&self.organisation, &self.organisation_sources),
            kind: input(&self.kind, &self.kind_sources),
            contact: input(&self.contact, &self.contact_sources),
            purpose: input(&self.purpose, &self.purpose_sources),
            data_uses: input(&self.data_uses, &self.data_uses_sources),
            confirm_no_worker_ids: ticked(&self.confirm_no_worker_ids),
        }
    }
}

/// A field's error under the form's own names (`kind.sources` is the `kind_sources` box).
fn renamed(errors: &Errors) -> Errors {
    errors
        .iter()
        .map(|(k, v)| (k.replace(".sources", "_sources"), v.clone()))
        .collect()
}

async fn page(
    ctx: &Ctx,
    platform: String,
    id: String,
    form: Option<(&FactsForm, &Errors, Option<&str>)>,
    status: StatusCode,
) -> PageResult {
    let (parsed, normalized) = parse_key(&platform, &id)?;
    let facts = api::show(
        State(ctx.state.clone()),
        MaybeUser(ctx.user.clone()),
        Path((platform, id)),
    )
    .await?
    .0;
    let url = requester_url(parsed.as_str(), &normalized);
    let current = FactsForm::of(&facts);
    let no_errors = Errors::new();
    let (form, errors, message) = form.unwrap_or((&current, &no_errors, None));
    let mut kinds: Vec<(&str, &str)> = vec![("", "Not known")];
    kinds.extend(
        OrganisationKind::ALL
            .iter()
            .map(|k| (k.as_str(), k.label())),
    );
    let sources_hint = Some("One link per line: a company register, a consent form, a paper.");
    let sources = |name: &str, value: &str| {
        text_field(
            errors,
            name,
            "Sources (optional)",
            value,
            "textarea",
            sources_hint,
            FieldExtra::default(),
        )
    };
    let name = picket_api::routes::requesters::show(
        State(ctx.state.clone()),
        Path((parsed.as_str().to_owned(), normalized.clone())),
    )
    .await?
    .0
    .name;
    let title = format!("Who is behind {name}");
    let body = html! {
        h1 { "Who is behind " a href=(url) { (name) } }
        p { "What workers know about the organisation behind this requester and what the work is for. Business details only: never a person's private address, telephone number or anything else about them." }
        (summary_list(&facts))
        @if ctx.user.is_some() {
            section aria-labelledby="edit-facts" {
                h2 #edit-facts { "Add or correct" }
                (error_summary(errors, message))
                form method="post" action={ (url) "/facts" } novalidate {
                    (ctx.csrf_field())
                    (text_field(errors, "organisation", FactField::Organisation.label(), &form.organisation, "text", None, FieldExtra { maxlength: Some(300), ..FieldExtra::default() }))
                    (sources("organisation_sources", &form.organisation_sources))
                    (select_field(errors, "kind", FactField::Kind.label(), &kinds, &form.kind))
                    (sources("kind_sources", &form.kind_sources))
                    (text_field(errors, "contact", FactField::Contact.label(), &form.contact, "text", Some("The organisation's address, contact form or page."), FieldExtra { maxlength: Some(300), ..FieldExtra::default() }))
                    (sources("contact_sources", &form.contact_sources))
                    (text_field(errors, "purpose", FactField::Purpose.label(), &form.purpose, "textarea", None, FieldExtra { maxlength: Some(2000), ..FieldExtra::default() }))
                    (sources("purpose_sources", &form.purpose_sources))
                    (text_field(errors, "data_uses", FactField::DataUses.label(), &form.data_uses, "textarea", None, FieldExtra { maxlength: Some(2000), ..FieldExtra::default() }))
                    (sources("data_uses_sources", &form.data_uses_sources))
                    @if errors.values().any(|m| m.contains("confirm_no_worker_ids")) || ticked(&form.confirm_no_worker_ids) {
                        (checkbox(errors, "confirm_no_worker_ids", "I checked: this is not a worker ID", ticked(&form.confirm_no_worker_ids)))
                    }
                    button type="submit" { "Save the facts" }
                }
            }
        } @else {
            p { a href="/login" { "Log in" } " to add what you know." }
        }
        section aria-labelledby="fact-history" {
            h2 #fact-history { "History" }
            @if facts.history.is_empty() { p.muted { "No edits yet." } }
            ol.items {
                @for version in &facts.history {
                    li id={ "fact-" (version.id) } {
                        p.meta {
                            (version.label) " · "
                            (byline(version.author.as_deref(), version.origin.as_deref(), version.remote_author.as_deref(), version.original_url.as_deref()))
                            " · " (when(version.created_at))
                        }
                        @match &version.value {
                            Some(_) => p { (value_words(version)) (source_links(version)) },
                            None => p.removed { "Removed by the moderators: " (version.removed_reason.as_deref().unwrap_or("")) },
                        }
                        @if version.state == "published" { (super::moderation::report_link("fact", &version.id)) }
                    }
                }
            }
        }
    };
    Ok(ctx.page_with(status, &title, &Head::default(), body))
}

fn summary_list(facts: &FactsView) -> Markup {
    html! {
        @if facts.facts.is_empty() {
            p.muted { "Nothing known yet." }
        } @else {
            dl.facts {
                @for fact in &facts.facts {
                    dt { (fact.label) }
                    dd { (value_words(fact)) (source_links(fact)) }
                }
            }
        }
    }
}

pub async fn show(ctx: Ctx, Path((platform, id)): Path<(String, String)>) -> PageResult {
    page(&ctx, platform, id, None, StatusCode::OK).await
}

pub async fn save(
    ctx: Ctx,
    Path((platform, id)): Path<(String, String)>,
    PageForm(form): PageForm<FactsForm>,
) -> PageResult {
    let user = ctx.require_user()?;
    let (parsed, normalized) = parse_key(&platform, &id)?;
    match api::edit(
        State(ctx.state.clone()),
        user,
        Path((platform.clone(), id.clone())),
        AppJson(form.body()),
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!(
            "{}/facts#fact-history",
            requester_url(parsed.as_str(), &normalized)
        ))),
        Err(error)
            if error.status == StatusCode::UNPROCESSABLE_ENTITY
                || error.status == StatusCode::FORBIDDEN =>
        {
            let errors = renamed(
                &error
                    .fields
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            );
            let message = error.fields.is_none().then(|| error.message.clone());
            page(
                &ctx,
                platform,
                id,
                Some((&form, &errors, message.as_deref())),
                error.status,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

/// A version's URL in a browser: the facts page, at the version.
pub async fn version(
    State(state): State<picket_api::AppState>,
    Path(id): Path<String>,
) -> PageResult {
    let lookup = id.clone();
    let (row_state, page) = state
        .db
        .run(move |conn| {
            let row = picket_db::facts::by_public_id(conn, &lookup)?;
            let requester = picket_db::requesters::by_pk(conn, row.requester_pk)?;
            Ok((
                row.state,
                requester_url(&requester.platform, &requester.requester_id),
            ))
        })
        .await
        .map_err(picket_api::routes::not_found_as("no such fact"))?;
    if row_state == "deleted" {
        return Err(picket_api::ApiError::new(
            StatusCode::GONE,
            "deleted",
            "this version of the fact was deleted",
        )
        .into());
    }
    Ok(see_other(&format!("{page}/facts#fact-{id}")))
}
