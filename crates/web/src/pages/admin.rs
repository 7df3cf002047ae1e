//! The admin page: the instance's name, description, rules and registration mode; domain blocks and allows; list subscriptions; federation peers.

use axum::extract::State;
use axum::http::StatusCode;
use maud::html;
use picket_api::routes::admin::{
    self as api, DomainRuleBody, ListKind, SettingsBody, SubscriptionBody, instance_view,
};
use picket_api::{AppJson, CurrentUser};
use picket_core::accounts::{RegistrationMode, Role};
use serde::Deserialize;

use crate::context::Ctx;
use crate::error::PageResult;
use crate::form::PageForm;
use crate::layout::{Errors, FieldExtra, error_summary, select_field, text_field, when};
use crate::render::{Head, see_other};

#[derive(Debug, Default, Deserialize)]
pub struct SettingsForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    rules: String,
    #[serde(default)]
    registration: String,
}

fn admin_only(ctx: &Ctx) -> PageResult<CurrentUser> {
    let user = ctx.require_user()?;
    user.require(Role::Admin)?;
    Ok(user)
}

async fn page(
    ctx: &Ctx,
    user: CurrentUser,
    form: Option<&SettingsForm>,
    errors: &Errors,
    message: Option<&str>,
    status: StatusCode,
) -> PageResult {
    let instance = instance_view(&ctx.state).await?;
    let federation = api::federation(State(ctx.state.clone()), user).await?.0;
    let current = SettingsForm {
        name: instance.name.clone(),
        description: instance.description.clone(),
        rules: instance.rules.clone(),
        registration: instance.registration.as_str().to_owned(),
    };
    let form = form.unwrap_or(&current);
    let none = Errors::new();
    let body = html! {
        h1 { "Admin" }
        section aria-labelledby="instance" {
            h2 #instance { "This instance" }
            (error_summary(errors, message))
            form method="post" action="/admin" {
                (ctx.csrf_field())
                (text_field(errors, "name", "Name", &form.name, "text", None, FieldExtra { maxlength: Some(80), ..FieldExtra::required() }))
                (text_field(errors, "description", "Description (on the home and about pages)", &form.description, "textarea", None, FieldExtra::default()))
                (text_field(errors, "rules", "Rules", &form.rules, "textarea", None, FieldExtra::default()))
                (select_field(errors, "registration", "Who may register", &[
                    ("invite", "Members with an invite code"),
                    ("approval", "Anyone, approved by a moderator"),
                    ("open", "Anyone"),
                ], &form.registration))
                button type="submit" { "Save" }
            }
        }
        section aria-labelledby="domains" {
            h2 #domains { "Domain blocks and allows" }
            @if federation.rules.is_empty() { p.muted { "No rules." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Table of domain rules" {
                table {
                    thead { tr { th scope="col" { "Domain" } th scope="col" { "Rule" } th scope="col" { "Reason" } th scope="col" { "From" } th scope="col" { "Action" } } }
                    tbody {
                        @for rule in &federation.rules {
                            tr {
                                td { (rule.domain) } td { (rule.kind) } td { (rule.reason) }
                                td { @if rule.source.is_empty() { "this instance" } @else { (rule.source) } }
                                td {
                                    @if rule.source.is_empty() {
                                        form.inline method="post" action="/admin/domains/remove" {
                                            (ctx.csrf_field())
                                            input type="hidden" name="kind" value=(rule.kind);
                                            input type="hidden" name="domain" value=(rule.domain);
                                            input type="hidden" name="reason" value="lifted by an admin";
                                            button.secondary type="submit" aria-label={ "Lift the " (rule.kind) " of " (rule.domain) } { "Lift" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            }
            form method="post" action="/admin/domains" {
                (ctx.csrf_field())
                div.row {
                    (text_field(&none, "domain", "Domain", "", "text", None, FieldExtra::required()))
                    (select_field(&none, "kind", "Rule", &[("block", "Block"), ("allow", "Allow")], "block"))
                }
                (text_field(&none, "reason", "Reason (shown in the public log)", "", "text", None, FieldExtra { maxlength: Some(500), ..FieldExtra::required() }))
                button type="submit" { "Add the rule" }
            }
        }
        section aria-labelledby="lists" {
            h2 #lists { "Subscribed domain lists" }
            ul.items {
                @for s in &federation.subscriptions {
                    li {
                        span.handle { (s.url) } " (" (s.kind) ")"
                        @match s.last_fetched_at { Some(at) => { " · fetched " (when(at)) }, None => { " · not fetched yet" } }
                        @if let Some(e) = &s.last_error { " · " strong { "last fetch failed: " } (e) }
                        form.inline method="post" action="/admin/subscriptions/remove" {
                            (ctx.csrf_field())
                            input type="hidden" name="url" value=(s.url);
                            input type="hidden" name="kind" value=(s.kind);
                            " " button.secondary type="submit" aria-label={ "Unsubscribe from " (s.url) } { "Unsubscribe" }
                        }
                    }
                }
            }
            @if federation.subscriptions.is_empty() { p.muted { "None." } }
            form method="post" action="/admin/subscriptions" {
                (ctx.csrf_field())
                div.row {
                    (text_field(&none, "url", "List URL (Mastodon CSV)", "", "url", None, FieldExtra::required()))
                    (select_field(&none, "list_kind", "Its rules", &[("block", "Block"), ("allow", "Allow")], "block"))
                }
                button type="submit" { "Subscribe" }
            }
        }
        section aria-labelledby="following" {
            h2 #following { "Instances this one follows" }
            @if federation.following.is_empty() { p.muted { "None yet: " code { "picket admin follow instance@other.host" } " starts one." } } @else {
            ul {
                @for f in &federation.following {
                    li {
                        (f.actor) ": "
                        @match f.state.as_str() {
                            "accepted" => "accepted",
                            "refused" => strong { "refused" },
                            _ => "waiting for an answer",
                        }
                        @if let Some(answer) = &f.refusal { " (they answered: " (answer) ")" }
                    }
                }
            }
            }
            p { (federation.followers.len()) " instances follow this one. "
                @if federation.queued == 0 { "Nothing is waiting to be delivered." } @else {
                    (federation.queued) " deliveries are waiting"
                    @if let Some(at) = federation.oldest_queued_at { ", the oldest since " (when(at)) }
                    "."
                }
            }
        }
        section aria-labelledby="peers" {
            h2 #peers { "Federation peers" }
            @if federation.peers.is_empty() { p.muted { "No deliveries yet." } } @else {
            div.table-wrap tabindex="0" role="region" aria-label="Table of peers" {
                table {
                    thead { tr { th scope="col" { "Instance" } th scope="col" { "Reachable" } th scope="col" { "Last success" } th scope="col" { "Failures in a row" } } }
                    tbody {
                        @for p in &federation.peers {
                            tr {
                                td { (p.host) }
                                td { @if p.reachable { "yes" } @else { strong { "no" } @if let Some(at) = p.next_probe_at { ", next try " (when(at)) } } }
                                td { @match p.last_success_at { Some(at) => (when(at)), None => "never" } }
                                td { (p.failures) }
                            }
                        }
                    }
                }
            }
            }
        }
    };
    Ok(ctx.page_with(
        status,
        "Admin",
        &Head {
            noindex: true,
            ..Head::default()
        },
        body,
    ))
}

pub async fn settings_page(ctx: Ctx) -> PageResult {
    let user = admin_only(&ctx)?;
    page(&ctx, user, None, &Errors::new(), None, StatusCode::OK).await
}

pub async fn save_settings(ctx: Ctx, PageForm(form): PageForm<SettingsForm>) -> PageResult {
    let user = admin_only(&ctx)?;
    let registration = form
        .registration
        .parse::<RegistrationMode>()
        .unwrap_or_default();
    let body = SettingsBody {
        name: form.name.clone(),
        description: form.description.clone(),
        rules: form.rules.clone(),
        registration,
    };
    match api::save_settings(State(ctx.state.clone()), user.clone(), AppJson(body)).await {
        Ok(_) => Ok(see_other("/admin")),
        Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = error.fields.clone().unwrap_or_default();
            page(
                &ctx,
                user,
                Some(&form),
                &errors,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

#[derive(Debug, Deserialize)]
pub struct DomainForm {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    domain: String,
    #[serde(default)]
    reason: String,
}

fn list_kind(raw: &str) -> ListKind {
    if raw == "allow" {
        ListKind::Allow
    } else {
        ListKind::Block
    }
}

pub async fn add_domain_rule(ctx: Ctx, PageForm(form): PageForm<DomainForm>) -> PageResult {
    domain_rule(ctx, form, true).await
}

pub async fn remove_domain_rule(ctx: Ctx, PageForm(form): PageForm<DomainForm>) -> PageResult {
    domain_rule(ctx, form, false).await
}

async fn domain_rule(ctx: Ctx, form: DomainForm, add: bool) -> PageResult {
    let user = admin_only(&ctx)?;
    let body = DomainRuleBody {
        kind: list_kind(&form.kind),
        domain: form.domain,
        reason: form.reason,
    };
    let state = State(ctx.state.clone());
    let result = if add {
        api::add_domain(state, user.clone(), AppJson(body)).await
    } else {
        api::remove_domain(state, user.clone(), AppJson(body)).await
    };
    after_change(
        &ctx,
        user,
        result,
        "/admin#domains",
        "The domain rule was not saved.",
    )
    .await
}

#[derive(Debug, Deserialize)]
pub struct ListForm {
    #[serde(default)]
    url: String,
    #[serde(default, alias = "list_kind")]
    kind: String,
}

pub async fn subscribe(ctx: Ctx, PageForm(form): PageForm<ListForm>) -> PageResult {
    subscription(ctx, form, true).await
}

pub async fn unsubscribe(ctx: Ctx, PageForm(form): PageForm<ListForm>) -> PageResult {
    subscription(ctx, form, false).await
}

async fn subscription(ctx: Ctx, form: ListForm, add: bool) -> PageResult {
    let user = admin_only(&ctx)?;
    let body = SubscriptionBody {
        url: form.url,
        kind: list_kind(&form.kind),
    };
    let state = State(ctx.state.clone());
    let result = if add {
        api::subscribe(state, user.clone(), AppJson(body)).await
    } else {
        api::unsubscribe(state, user.clone(), AppJson(body)).await
    };
    after_change(
        &ctx,
        user,
        result,
        "/admin#lists",
        "The subscription was not saved.",
    )
    .await
}

/// Back to the admin page after a rule or subscription change; a refused change shows the page
/// again with the field errors.
async fn after_change(
    ctx: &Ctx,
    user: CurrentUser,
    result: Result<StatusCode, picket_api::ApiError>,
    done: &str,
    refused: &str,
) -> PageResult {
    match result {
        Ok(_) => Ok(see_other(done)),
        Err(error) if error.status == StatusCode::UNPROCESSABLE_ENTITY => {
            let errors = error.fields.clone().unwrap_or_default();
            page(
                ctx,
                user,
                None,
                &errors,
                Some(refused),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}
