//! Reporting content and accounts, the moderators' queue, pending registrations and invites, and the public moderation log.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use maud::{Markup, html};
use picket_api::routes::moderation::{self as api, QueueQuery, ReportBody, ResolveBody};
use picket_api::views::PageQuery;
use picket_api::{AppJson, AppState};
use picket_core::moderation::{ReportReason, Resolution, TargetType};
use serde::Deserialize;

use super::auth::{Empty, shown_again};
use crate::context::Ctx;
use crate::error::PageResult;
use crate::form::{PageForm, ticked};
use crate::layout::{Errors, FieldExtra, checkbox, error_summary, select_field, text_field, when};
use crate::render::{Head, see_other};

/// The "report" link under a piece of content.
pub fn report_link(target_type: &str, target: &str) -> Markup {
    html! {
        p.meta { a href={ "/report?type=" (target_type) "&target=" (target) } { "Report this " (target_type) } }
    }
}

/// Where a reported thing is read.
fn target_url(target_type: &str, target: &str) -> String {
    match target_type {
        "review" => format!("/reviews/{target}"),
        "incident" => format!("/incidents/{target}"),
        "corroboration" => format!("/corroborations/{target}"),
        "comment" => format!("/comments/{target}"),
        "fact" => format!("/facts/{target}"),
        _ if target.starts_with("http") => target.to_owned(),
        _ => format!("/u/{target}"),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ReportForm {
    #[serde(default, rename = "type")]
    target_type: String,
    #[serde(default)]
    target: String,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    text: String,
    #[serde(default)]
    forward: Option<String>,
}

fn report_form(ctx: &Ctx, form: &ReportForm, errors: &Errors, message: Option<&str>) -> Markup {
    let reasons: Vec<(&str, &str)> = ReportReason::ALL
        .iter()
        .map(|r| (r.as_str(), r.label()))
        .collect();
    html! {
        h1 { "Report a " (form.target_type) }
        p { "Reported: " a href=(target_url(&form.target_type, &form.target)) { "this " (form.target_type) } ". Moderators see what you report and why, never who reported it." }
        (error_summary(errors, message))
        form method="post" action="/report" {
            (ctx.csrf_field())
            input type="hidden" name="type" value=(form.target_type);
            input type="hidden" name="target" value=(form.target);
            (select_field(errors, "reason", "Why?", &reasons, &form.reason))
            (text_field(errors, "text", "Details (required for “Other”)", &form.text, "textarea", None, FieldExtra { maxlength: Some(1000), ..FieldExtra::default() }))
            (checkbox(errors, "forward", "If it comes from another instance, also tell its moderators (without your name)", ticked(&form.forward)))
            button type="submit" { "Send the report" }
        }
    }
}

pub async fn report_page(ctx: Ctx, Query(form): Query<ReportForm>) -> PageResult {
    ctx.require_user()?;
    if form.target_type.parse::<TargetType>().is_err() || form.target.is_empty() {
        return Err(picket_api::ApiError::not_found("nothing to report here").into());
    }
    Ok(ctx.page_with(
        StatusCode::OK,
        "Report",
        &Head {
            noindex: true,
            ..Head::default()
        },
        report_form(&ctx, &form, &Errors::new(), None),
    ))
}

pub async fn report(ctx: Ctx, PageForm(form): PageForm<ReportForm>) -> PageResult {
    let user = ctx.require_user()?;
    let target_type = form
        .target_type
        .parse::<TargetType>()
        .map_err(|_| picket_api::ApiError::not_found("nothing to report here"))?;
    let reason = match form.reason.parse::<ReportReason>() {
        Ok(reason) => reason,
        Err(_) => {
            let mut errors = Errors::new();
            errors.insert("reason".into(), "choose a reason".into());
            return Ok(ctx.page_with(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Report",
                &Head::default(),
                report_form(&ctx, &form, &errors, None),
            ));
        }
    };
    let body = ReportBody {
        target_type,
        target: form.target.clone(),
        reason,
        text: form.text.clone(),
        forward: ticked(&form.forward),
    };
    match api::report(State(ctx.state.clone()), user, AppJson(body)).await {
        Ok(_) => Ok(ctx.page(
            "Report sent",
            html! {
                h1 { "Thank you" }
                p { "Your report is with the moderators." }
                p { a href=(target_url(&form.target_type, &form.target)) { "Back" } }
            },
        )),
        Err(error) => shown_again(&ctx, error, |errors, message| {
            report_form(&ctx, &form, errors, Some(message))
        }),
    }
}

#[derive(Debug, Deserialize)]
pub struct QueuePage {
    state: Option<String>,
    before: Option<i64>,
}

pub async fn queue(ctx: Ctx, Query(query): Query<QueuePage>) -> PageResult {
    let user = ctx.require_user()?;
    let open = query.state.as_deref() != Some("resolved");
    let page = api::queue(
        State(ctx.state.clone()),
        user,
        Query(QueueQuery {
            state: Some(if open { "open" } else { "resolved" }.to_owned()),
            limit: Some(30),
            before: query.before,
        }),
    )
    .await?
    .0;
    let no_errors = Errors::new();
    let body = html! {
        h1 { "Moderation" }
        nav aria-label="Moderation" {
            ul {
                li { a href="/moderation" aria-current=[open.then_some("page")] { "Open reports" } }
                li { a href="/moderation?state=resolved" aria-current=[(!open).then_some("page")] { "Resolved reports" } }
                li { a href="/moderation/pending" { "Pending registrations" } }
                li { a href="/moderation/invites" { "Invites" } }
                li { a href="/modlog" { "Public log" } }
            }
        }
        @if page.items.is_empty() { p.muted { "No " (if open { "open" } else { "resolved" }) " reports." } }
        ol.items {
            @for report in &page.items {
                li {
                    article {
                        h2 { (report.reason_label) ": " a href=(target_url(&report.target_type, &report.target)) { (report.target_type) " " (report.target) } }
                        p.meta {
                            "Reported " (when(report.created_at))
                            @if let Some(origin) = &report.origin { " from " strong { (origin) } }
                        }
                        @if !report.text.is_empty() { blockquote { (report.text) } }
                        @if open {
                            form method="post" action={ "/moderation/reports/" (report.id) "/resolve" } {
                                (ctx.csrf_field())
                                (select_field(&no_errors, &format!("action-{}", report.id), "Decision", &[
                                    ("dismiss", "Dismiss the report"),
                                    ("remove", "Remove the content"),
                                    ("suspend", "Suspend the account"),
                                ], "dismiss"))
                                (text_field(&no_errors, &format!("reason-{}", report.id), "Reason (shown in the public log)", "", "text", None, FieldExtra { maxlength: Some(500), ..FieldExtra::required() }))
                                button type="submit" { "Resolve" }
                            }
                        } @else {
                            p { "Resolved: " (report.action.as_deref().unwrap_or("")) " – " (report.resolution.as_deref().unwrap_or("")) }
                        }
                    }
                }
            }
        }
        @if let Some(next) = page.next {
            p.pager { a href={ "/moderation?state=" (if open { "open" } else { "resolved" }) "&before=" (next) } { "More" } }
        }
    };
    Ok(ctx.page_with(
        StatusCode::OK,
        "Moderation",
        &Head {
            noindex: true,
            ..Head::default()
        },
        body,
    ))
}

pub async fn resolve(
    ctx: Ctx,
    Path(id): Path<String>,
    PageForm(form): PageForm<std::collections::HashMap<String, String>>,
) -> PageResult {
    let user = ctx.require_user()?;
    let action = form
        .get(&format!("action-{id}"))
        .and_then(|a| a.parse::<Resolution>().ok())
        .ok_or_else(|| {
            picket_api::ApiError::validation(picket_core::FieldErrors::single(
                "action",
                "choose dismiss, remove or suspend",
            ))
        })?;
    let reason = form
        .get(&format!("reason-{id}"))
        .cloned()
        .unwrap_or_default();
    let _resolved = api::resolve(
        State(ctx.state.clone()),
        user,
        Path(id),
        AppJson(ResolveBody { action, reason }),
    )
    .await?;
    Ok(see_other("/moderation"))
}

pub async fn pending(ctx: Ctx) -> PageResult {
    let user = ctx.require_user()?;
    let accounts = api::pending(State(ctx.state.clone()), user).await?.0;
    let body = html! {
        h1 { "Pending registrations" }
        @if accounts.is_empty() { p.muted { "Nobody is waiting." } }
        ul.items {
            @for account in &accounts {
                li {
                    strong { (account.username) } " " span.meta { "registered " (when(account.created_at)) } " "
                    form.inline method="post" action={ "/moderation/accounts/" (account.username) "/approve" } {
                        (ctx.csrf_field())
                        button type="submit" aria-label={ "Approve " (account.username) } { "Approve" }
                    }
                }
            }
        }
    };
    Ok(ctx.page_with(
        StatusCode::OK,
        "Pending registrations",
        &Head {
            noindex: true,
            ..Head::default()
        },
        body,
    ))
}

pub async fn approve(
    ctx: Ctx,
    Path(username): Path<String>,
    PageForm(_): PageForm<Empty>,
) -> PageResult {
    let user = ctx.require_user()?;
    api::approve(State(ctx.state.clone()), user, Path(username)).await?;
    Ok(see_other("/moderation/pending"))
}

fn invites_body(ctx: &Ctx, code: Option<(&str, chrono::NaiveDateTime)>) -> Markup {
    html! {
        h1 { "Invites" }
        @if let Some((code, expires)) = code {
            div.notice role="status" {
                p { "A new single-use invite code, shown only this once (valid until " (when(expires)) "):" }
                p.secret { (code) }
                p { "Give it to the new member with the registration address: " span.handle { (ctx.state.settings.public_url.join("register").map(|u| u.to_string()).unwrap_or_default()) } }
            }
        }
        form method="post" action="/moderation/invites" {
            (ctx.csrf_field())
            button type="submit" { "Create an invite code" }
        }
    }
}

pub async fn invites_page(ctx: Ctx) -> PageResult {
    let user = ctx.require_user()?;
    user.require(picket_core::accounts::Role::Moderator)?;
    Ok(ctx.page_with(
        StatusCode::OK,
        "Invites",
        &Head {
            noindex: true,
            ..Head::default()
        },
        invites_body(&ctx, None),
    ))
}

pub async fn create_invite(ctx: Ctx, PageForm(_): PageForm<Empty>) -> PageResult {
    let user = ctx.require_user()?;
    let (_, invite) = picket_api::routes::invites::create(State(ctx.state.clone()), user).await?;
    Ok(ctx.page_with(
        StatusCode::CREATED,
        "Invites",
        &Head {
            noindex: true,
            ..Head::default()
        },
        invites_body(&ctx, Some((&invite.0.code, invite.0.expires_at))),
    ))
}

#[derive(Debug, Deserialize)]
pub struct LogPage {
    before: Option<i64>,
}

pub async fn modlog(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(query): Query<LogPage>,
) -> PageResult {
    let page = api::modlog(
        State(state),
        Query(PageQuery {
            limit: Some(50),
            before: query.before,
        }),
    )
    .await?
    .0;
    let body = html! {
        h1 { "Moderation log" }
        p { "Every moderation action on this instance, with its reason. " a href="/feeds/modlog" { "Atom feed" } }
        @if page.items.is_empty() { p.muted { "Nothing yet." } }
        div.table-wrap tabindex="0" role="region" aria-label="Table of moderation actions" {
            table {
                thead { tr { th scope="col" { "When" } th scope="col" { "Action" } th scope="col" { "Target" } th scope="col" { "Reason" } th scope="col" { "By" } } }
                tbody {
                    @for entry in &page.items {
                        tr {
                            td { (when(entry.at)) }
                            td { (entry.action.replace('_', " ")) }
                            td { (entry.target_type) " " (entry.target) }
                            td { (entry.reason) }
                            td {
                                (entry.moderator.as_deref().unwrap_or(&entry.role))
                                @if let Some(origin) = &entry.origin { " on " (origin) }
                            }
                        }
                    }
                }
            }
        }
        @if let Some(next) = page.next { p.pager { a href={ "/modlog?before=" (next) } rel="next" { "Older entries" } } }
    };
    Ok(ctx.page("Moderation log", body))
}
