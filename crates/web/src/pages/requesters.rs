//! The requester page: identity, aggregates at a glance, a pay chart, waves, incidents, reviews and following.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use maud::{Markup, html};
use picket_api::routes::{notifications, requesters as api};
use picket_api::views::{IncidentView, PageQuery, RequesterView};
use picket_api::{AppQuery, AppState, MaybeUser};
use picket_core::aggregate::WindowStats;
use picket_core::wave::describe;
use serde::Deserialize;

use super::{action_button, platform_name, requester_url};
use crate::context::Ctx;
use crate::error::PageResult;
use crate::layout::{duration, money, score_mean, share};
use crate::render::{Head, see_other};

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    before: Option<i64>,
}

/// Reviews shown per page of a requester.
const REVIEWS_PER_PAGE: i64 = 20;

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path((platform, id)): Path<(String, String)>,
    Query(query): Query<ListQuery>,
) -> PageResult<Response> {
    let (platform, id) = api::parse_key(&platform, &id)?;
    let key = || Path((platform.as_str().to_owned(), id.clone()));
    let view = match api::show(State(state.clone()), key()).await {
        Ok(view) => Some(view.0),
        Err(error) if error.status == StatusCode::NOT_FOUND => None,
        Err(error) => return Err(error.into()),
    };
    let following = match ctx.user.clone() {
        Some(user) => notifications::followed(State(state.clone()), user)
            .await?
            .0
            .iter()
            .any(|r| r.platform == platform.as_str() && r.requester_id == id),
        None => false,
    };
    let url = requester_url(platform.as_str(), &id);
    let handle = format!(
        "@{}.{}@{}",
        platform.as_str(),
        id.to_lowercase(),
        state.local_instance()
    );
    let feed = format!("/feeds/requesters/{}/{id}", platform.as_str());
    let Some(view) = view else {
        let body = html! {
            h1 { (platform.display_name()) " requester " (id) }
            p { "Nobody has reviewed or reported this requester here yet." }
            (follow_box(&ctx, &url, following, &handle))
            p {
                a.button href={ "/reviews/new?platform=" (platform.as_str()) "&requester_id=" (id) } { "Write the first review" }
                a.button href={ "/incidents/new?platform=" (platform.as_str()) "&requester_id=" (id) } { "Report an incident" }
            }
        };
        return Ok(ctx.page_with(
            StatusCode::OK,
            &id,
            &Head {
                noindex: true,
                ..Head::default()
            },
            body,
        ));
    };
    let page = PageQuery {
        limit: Some(REVIEWS_PER_PAGE),
        before: query.before,
    };
    let reviews = api::list_reviews(State(state.clone()), key(), AppQuery(page))
        .await?
        .0;
    let incidents = api::list_incidents(
        State(state.clone()),
        key(),
        AppQuery(PageQuery {
            limit: Some(20),
            before: None,
        }),
    )
    .await?
    .0;
    let open: Vec<&IncidentView> = incidents
        .items
        .iter()
        .filter(|i| i.status == picket_core::incident::IncidentStatus::Open)
        .collect();
    let facts =
        picket_api::routes::facts::show(State(state.clone()), MaybeUser(ctx.user.clone()), key())
            .await?
            .0;
    let campaigns = super::campaigns::about(&ctx, platform.as_str(), Some(&id)).await?;
    let prefill = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("platform", platform.as_str())
        .append_pair("requester_id", &id)
        .append_pair("requester_name", &view.name)
        .finish();
    let body = html! {
        h1 { (view.name) }
        dl.facts {
            dt { "Platform" } dd { (platform.display_name()) }
            dt { "Requester ID" } dd { (view.requester_id) }
            @if !view.aliases.is_empty() { dt { "Earlier names" } dd { (view.aliases.join(", ")) } }
            @if let Some(link) = &view.platform_url { dt { "On the platform" } dd { a href=(link) rel="nofollow noopener" { "Requester page on " (platform.display_name()) } } }
        }
        @for wave in &view.waves {
            p.wave {
                (describe(wave, &view.name, platform))
                (super::campaigns::of_wave(&campaigns, wave))
                @if ctx.user.is_some() { (super::campaigns::open_link(platform.as_str(), Some(&id), wave)) }
            }
        }
        @if !campaigns.is_empty() {
            section aria-labelledby="campaigns" {
                h2 #campaigns { "Campaigns" }
                (super::campaigns::items(&campaigns))
            }
        }
        p {
            a.button href={ "/reviews/new?" (prefill) } { "Review this requester" }
            a.button href={ "/incidents/new?" (prefill) } { "Report an incident" }
        }
        (follow_box(&ctx, &url, following, &handle))
        p { a href=(feed) { "Atom feed of this requester" } }
        (super::facts::summary(&facts, &url))
        section aria-labelledby="figures" {
            h2 #figures { "Figures" }
            (aggregates_table(&view))
            (pay_chart(&view))
        }
        section aria-labelledby="open-incidents" {
            h2 #open-incidents { "Open incidents (" (open.len()) ")" }
            @if open.is_empty() { p.muted { "None open." } }
            ul.items {
                @for incident in &open { li { (super::incidents::incident_item(incident)) } }
            }
        }
        section aria-labelledby="reviews" {
            h2 #reviews { "Reviews" }
            @if reviews.items.is_empty() { p.muted { "No published reviews yet." } }
            ol.items {
                @for review in &reviews.items { li { (super::reviews::review_item(review, false)) } }
            }
            @if let Some(next) = reviews.next {
                p.pager { a href={ (url) "?before=" (next) "#reviews" } rel="next" { "Older reviews" } }
            }
            @if query.before.is_some() { p.pager { a href=(url) { "Newest reviews" } } }
        }
    };
    Ok(ctx.page_with(
        StatusCode::OK,
        &view.name,
        &Head {
            feed: Some(feed),
            description: Some(format!(
                "Worker reviews of {} on {}",
                view.name,
                platform_name(platform.as_str())
            )),
            noindex: false,
        },
        body,
    ))
}

fn follow_box(ctx: &Ctx, url: &str, following: bool, handle: &str) -> Markup {
    html! {
        div.panel {
            @if ctx.user.is_some() {
                @if following {
                    p { "You follow this requester: new reviews, incidents and waves appear in your notifications." }
                    (action_button(ctx, &format!("{url}/unfollow"), "Unfollow", "secondary"))
                } @else {
                    (action_button(ctx, &format!("{url}/follow"), "Follow this requester", ""))
                }
            } @else {
                p { a href="/login" { "Log in" } " to follow this requester." }
            }
            p { "From Mastodon or Lemmy, follow " span.handle { (handle) } }
        }
    }
}

/// A row of the figures table: a label and one cell per window (30 days, 90 days, all time).
fn row(label: &str, cell: impl Fn(&WindowStats) -> Markup, view: &RequesterView) -> Markup {
    let a = &view.aggregates;
    html! {
        tr {
            th scope="row" { (label) }
            td { (cell(&a.days30)) }
            td { (cell(&a.days90)) }
            td { (cell(&a.all)) }
        }
    }
}

fn hourly_cell(w: &WindowStats) -> Markup {
    html! {
        @if w.hourly.is_empty() { span.none { "no data" } }
        @for pay in &w.hourly {
            div {
                strong { (money(pay.median_minor, &pay.currency)) "/h" }
                " " span.n { "(IQR " (money(pay.q1_minor, &pay.currency)) "–" (money(pay.q3_minor, &pay.currency)) ", n=" (pay.n) ")" }
            }
        }
    }
}

fn aggregates_table(view: &RequesterView) -> Markup {
    html! {
        div.table-wrap #figures-table tabindex="0" role="region" aria-label="Table of figures" {
            table {
                caption.muted { "Published reviews counted here; the last 30 and 90 days, and all time." }
                thead { tr { th scope="col" { "Figure" } th scope="col" { "30 days" } th scope="col" { "90 days" } th scope="col" { "All time" } } }
                tbody {
                    (row("Reviews", |w| html! { (w.n) }, view))
                    (row("Median hourly pay", hourly_cell, view))
                    (row("Pay over time (ratio of sums)", |w| html! {
                        @if w.hourly.is_empty() { span.none { "no data" } }
                        @for pay in &w.hourly { div { (money(pay.ratio_of_sums_minor, &pay.currency)) "/h" } }
                    }, view))
                    (row("Rejected", |w| html! { (share(w.rejected, w.rejected_answered)) }, view))
                    (row("Time to decision (median)", |w| html! {
                        @match w.decision_median_seconds {
                            Some(s) => { (duration(s)) " " span.n { "(n=" (w.decision_n) ")" } },
                            None => span.none { "not known" },
                        }
                    }, view))
                    (row("Would recommend", |w| html! { (share(w.recommend_yes, w.recommend_answered)) }, view))
                    (row("Terms of service violations", |w| html! { (w.tos) }, view))
                    (row("Broken tasks", |w| html! { (w.broken) }, view))
                    (row("Unpaid screeners", |w| html! { (w.unpaid_screener) }, view))
                    (row("Pay score", |w| score_mean(&w.pay), view))
                    (row("Fairness", |w| score_mean(&w.fairness), view))
                    (row("Promptness", |w| score_mean(&w.promptness), view))
                    (row("Communication", |w| score_mean(&w.communication), view))
                }
            }
        }
    }
}

/// Hourly pay as a box for each window (quartiles, median marked), drawn from the aggregates:
/// no script, no extra query, and the same numbers as the table, which says them in words.
fn pay_chart(view: &RequesterView) -> Markup {
    let a = &view.aggregates;
    let windows = [
        ("30 days", &a.days30),
        ("90 days", &a.days90),
        ("All time", &a.all),
    ];
    let currency = a.all.hourly.first().map(|p| p.currency.clone());
    let Some(currency) = currency else {
        return html! {};
    };
    let pays: Vec<(&str, Option<&picket_core::aggregate::HourlyPay>)> = windows
        .iter()
        .map(|(label, w)| (*label, w.hourly.iter().find(|p| p.currency == currency)))
        .collect();
    let max = pays
        .iter()
        .filter_map(|(_, p)| p.map(|p| p.q3_minor.max(p.median_minor)))
        .max()
        .unwrap_or(1)
        .max(1) as f64
        * 1.1;
    let (left, width) = (80.0, 230.0);
    let x = |minor: i64| left + width * (minor as f64 / max);
    let summary = pays
        .iter()
        .filter_map(|(label, p)| {
            p.map(|p| {
                format!(
                    "{label}: median {}, quartiles {} to {}",
                    money(p.median_minor, &currency),
                    money(p.q1_minor, &currency),
                    money(p.q3_minor, &currency)
                )
            })
        })
        .collect::<Vec<_>>()
        .join("; ");
    html! {
        figure {
            svg.chart viewBox="0 0 320 120" role="img" aria-labelledby="chart-title chart-desc" xmlns="http://www.w3.org/2000/svg" {
                title #chart-title { "Hourly pay in " (currency) }
                desc #chart-desc { (summary) }
                @for (i, (label, pay)) in pays.iter().enumerate() {
                    @let y = 12.0 + i as f64 * 32.0;
                    text x="0" y=(y + 14.0) font-size="12" fill="#1a1a1a" { (label) }
                    @if let Some(p) = pay {
                        line x1=(x(p.q1_minor)) x2=(x(p.q3_minor)) y1=(y + 10.0) y2=(y + 10.0) stroke="#4a4a4a" stroke-width="1" {}
                        rect x=(x(p.q1_minor)) y=(y) width=((x(p.q3_minor) - x(p.q1_minor)).max(2.0)) height="20" fill="#cfe0f3" stroke="#0b5394" {}
                        line x1=(x(p.median_minor)) x2=(x(p.median_minor)) y1=(y) y2=(y + 20.0) stroke="#0b5394" stroke-width="3" {}
                    } @else {
                        text x=(left) y=(y + 14.0) font-size="12" fill="#4a4a4a" { "no reviews" }
                    }
                }
                line x1=(left) x2=(left + width) y1="110" y2="110" stroke="#4a4a4a" {}
                text x=(left) y="120" font-size="10" fill="#1a1a1a" { (money(0, &currency)) }
                text x=(left + width) y="120" font-size="10" text-anchor="end" fill="#1a1a1a" { (money(max as i64, &currency)) "/h" }
            }
            figcaption.muted { "Boxes span the middle half of reviews' hourly pay; the thick line is the median." }
        }
    }
}

/// Following a requester (creating it when nobody reviewed it yet), then back to its page.
pub async fn follow(
    ctx: Ctx,
    Path((platform, id)): Path<(String, String)>,
    crate::form::PageForm(_): crate::form::PageForm<super::auth::Empty>,
) -> PageResult {
    let user = ctx.require_user()?;
    let (p, normalized) = api::parse_key(&platform, &id)?;
    api::follow(State(ctx.state.clone()), user, Path((platform, id))).await?;
    Ok(see_other(&requester_url(p.as_str(), &normalized)))
}

pub async fn unfollow(
    ctx: Ctx,
    Path((platform, id)): Path<(String, String)>,
    crate::form::PageForm(_): crate::form::PageForm<super::auth::Empty>,
) -> PageResult {
    let user = ctx.require_user()?;
    let (p, normalized) = api::parse_key(&platform, &id)?;
    api::unfollow(State(ctx.state.clone()), user, Path((platform, id))).await?;
    Ok(see_other(&requester_url(p.as_str(), &normalized)))
}
