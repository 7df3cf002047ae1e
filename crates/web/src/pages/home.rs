//! The home page (search, waves, recently reviewed requesters, the instance's rules), search results and /about.

use axum::extract::{Query, State};
use axum::response::Response;
use maud::{Markup, html};
use picket_api::AppState;
use picket_api::routes::admin::{InstanceView, instance_view};
use picket_api::views::RequesterSummary;
use picket_core::platform::Platform;
use picket_core::wave::{describe, waves};
use picket_db::models::now;
use picket_db::{incidents, reviews};
use serde::Deserialize;

use super::{platform_name, requester_url};
use crate::context::Ctx;
use crate::error::PageResult;
use crate::render::{Head, paragraphs};

/// How far back the home page looks for waves.
const WAVE_DAYS: i64 = 30;

#[derive(Debug, Deserialize)]
pub struct SearchForm {
    #[serde(default)]
    q: String,
    #[serde(default)]
    platform: String,
}

fn search_form(q: &str, platform: &str) -> Markup {
    html! {
        form.search method="get" action="/search" role="search" {
            div.field {
                label for="f-q" { "Requester name, earlier name or ID" }
                input #f-q type="search" name="q" value=(q) maxlength="200";
            }
            div.field {
                label for="f-platform" { "Platform" }
                select #f-platform name="platform" {
                    option value="" selected[platform.is_empty()] { "All platforms" }
                    @for p in Platform::ALL {
                        option value=(p.as_str()) selected[p.as_str() == platform] { (p.display_name()) }
                    }
                }
            }
            button type="submit" { "Search" }
        }
    }
}

/// A wave sentence with a link to its requester.
struct WaveLine {
    url: String,
    sentence: String,
}

pub async fn home(State(state): State<AppState>, ctx: Ctx) -> PageResult {
    let instance = instance_view(&state).await?;
    let local = state.local_instance().to_owned();
    let window = state.settings.wave_window_days;
    let (recent, wave_lines) = state
        .db
        .run(move |conn| {
            let recent = reviews::recently_reviewed(conn, 10)?;
            let since = (now() - chrono::Duration::days(WAVE_DAYS)).date();
            let mut lines = Vec::new();
            for requester in incidents::recently_reported(conn, since, 10)? {
                let facts = incidents::wave_facts(conn, requester.id, &local)?;
                let Ok(platform) = requester.platform.parse::<Platform>() else {
                    continue;
                };
                for wave in waves(&facts, window).iter().filter(|w| w.until >= since) {
                    lines.push(WaveLine {
                        url: requester_url(&requester.platform, &requester.requester_id),
                        sentence: describe(wave, &requester.name, platform),
                    });
                }
            }
            // Platform waves (lock-outs, suspensions) first: they hit workers whoever they work for.
            let mut platform_lines = Vec::new();
            let from = since - chrono::Duration::days(window);
            for platform in Platform::ALL {
                let facts = incidents::platform_wave_facts(conn, platform.as_str(), from, &local)?;
                for wave in waves(&facts, window).iter().filter(|w| w.until >= since) {
                    platform_lines.push(WaveLine {
                        url: format!("/platforms/{}", platform.as_str()),
                        sentence: picket_core::wave::describe_platform(wave, *platform),
                    });
                }
            }
            platform_lines.extend(lines);
            Ok((recent, platform_lines))
        })
        .await?;
    let body = html! {
        h1 { (instance.name) }
        @if !instance.description.is_empty() { div.lead { (paragraphs(&instance.description)) } }
        p { "Workers here review requesters and report mass rejections, suspensions and unpaid work, so everyone can avoid them. Reviews and reports travel to every instance in the federation." }
        (search_form("", ""))
        section aria-labelledby="waves" {
            h2 #waves { "Waves in the last " (WAVE_DAYS) " days" }
            @if wave_lines.is_empty() {
                p.muted { "No waves: no requester has several incident reports at once." }
            } @else {
                ul.items {
                    @for line in &wave_lines {
                        li { a href=(line.url) { (line.sentence) } }
                    }
                }
            }
        }
        p {
            "Lock-outs, suspensions and withheld pay on a whole platform: "
            @for (i, p) in Platform::ALL.iter().enumerate() {
                @if i > 0 { " · " }
                a href={ "/platforms/" (p.as_str()) } { (p.display_name()) }
            }
        }
        section aria-labelledby="recent" {
            h2 #recent { "Recently reviewed requesters" }
            @if recent.is_empty() {
                p.muted { "No reviews yet. " a href="/reviews/new" { "Write the first one" } "." }
            } @else {
                ul.items {
                    @for r in &recent {
                        li {
                            a href=(requester_url(&r.platform, &r.requester_id)) { (r.name) }
                            " " span.meta { (platform_name(&r.platform)) " · " (r.requester_id) }
                        }
                    }
                }
            }
        }
        (rules_section(&instance))
        @if ctx.user.is_none() {
            p.panel {
                a href="/login" { "Log in" } " or " a href="/register" { "register" }
                " to write reviews, report incidents and follow requesters."
            }
        }
    };
    Ok(ctx.page_with(
        axum::http::StatusCode::OK,
        "Home",
        &Head {
            description: Some(format!("{}: worker reviews of requesters", instance.name)),
            ..Head::default()
        },
        body,
    ))
}

fn rules_section(instance: &InstanceView) -> Markup {
    html! {
        section aria-labelledby="rules" {
            h2 #rules { "Rules of this instance" }
            @if instance.rules.is_empty() {
                p.muted { "The admins have not written rules yet." }
            } @else {
                (paragraphs(&instance.rules))
            }
        }
    }
}

pub async fn search(
    State(state): State<AppState>,
    ctx: Ctx,
    Query(form): Query<SearchForm>,
) -> PageResult {
    let q = form.q.trim().to_owned();
    let platform = form.platform.trim().to_owned();
    let results: Vec<RequesterSummary> = if q.is_empty() {
        Vec::new()
    } else {
        let query = picket_api::routes::requesters::SearchQuery {
            q: Some(q.clone()),
            platform: (!platform.is_empty()).then(|| platform.clone()),
            limit: Some(50),
        };
        picket_api::routes::requesters::search(State(state), picket_api::AppQuery(query))
            .await?
            .0
    };
    // Typing a requester's exact ID finds its page even before anyone reviewed it.
    let exact: Vec<(Platform, String)> = Platform::ALL
        .iter()
        .filter(|p| platform.is_empty() || p.as_str() == platform)
        .filter(|p| **p != Platform::Other)
        .filter_map(|p| p.normalize_requester_id(&q).ok().map(|id| (*p, id)))
        .filter(|(p, id)| {
            !results
                .iter()
                .any(|r| r.platform == p.as_str() && &r.requester_id == id)
        })
        .collect();
    let body = html! {
        h1 { "Search requesters" }
        (search_form(&q, &platform))
        @if !q.is_empty() {
            h2 { (results.len()) " " (if results.len() == 1 { "requester" } else { "requesters" }) " found" }
            @if !results.is_empty() {
                ul.items {
                    @for r in &results {
                        li {
                            a href=(requester_url(&r.platform, &r.requester_id)) { (r.name) }
                            " " span.meta { (platform_name(&r.platform)) " · " (r.requester_id) }
                            @if !r.aliases.is_empty() {
                                br; span.meta { "Earlier names: " (r.aliases.join(", ")) }
                            }
                        }
                    }
                }
            }
            @for (p, id) in &exact {
                p { "Nobody has reviewed " (p.display_name()) " requester " (id) " here yet: "
                    a href=(requester_url(p.as_str(), id)) { "open its page" } " to follow it or review it." }
            }
        }
    };
    Ok(ctx.page_with(
        axum::http::StatusCode::OK,
        "Search",
        &Head {
            noindex: true,
            ..Head::default()
        },
        body,
    ))
}

pub async fn about(State(state): State<AppState>, ctx: Ctx) -> PageResult<Response> {
    let instance = instance_view(&state).await?;
    let registration = match instance.registration {
        picket_core::accounts::RegistrationMode::Open => "Anyone may register.",
        picket_core::accounts::RegistrationMode::Approval => {
            "Anyone may register; a moderator approves each new account."
        }
        picket_core::accounts::RegistrationMode::Invite => {
            "Registration needs an invite code from a member."
        }
    };
    let body = html! {
        h1 { "About " (instance.name) }
        @if instance.description.is_empty() {
            p.muted { "The admins have not described this instance yet." }
        } @else {
            (paragraphs(&instance.description))
        }
        h2 { "Joining" }
        p { (registration) }
        (rules_section(&instance))
        h2 { "Privacy" }
        p { "Accounts are pseudonymous. This instance never stores or logs IP addresses, never asks for your platform worker ID, and deleting your account erases your reviews here and on every instance they reached." }
        h2 { "Moderation" }
        p { "Every moderation action is listed, with its reason, in the " a href="/modlog" { "public moderation log" } "." }
    };
    Ok(ctx.page("About", body))
}
