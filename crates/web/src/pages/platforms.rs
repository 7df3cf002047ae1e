//! A platform's page: its waves of lock-outs, suspensions and withheld earnings, and the incidents that name no requester, so workers hit by the same platform see each other.

use axum::extract::{Path, Query, State};
use maud::html;
use picket_api::routes::platforms as api;
use picket_api::views::PageQuery;
use picket_api::{AppQuery, AppState};
use picket_core::wave::describe_platform;
use serde::Deserialize;

use crate::context::Ctx;
use crate::error::PageResult;

#[derive(Debug, Deserialize)]
pub struct ListQuery {
    before: Option<i64>,
}

pub async fn show(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(platform): Path<String>,
    Query(query): Query<ListQuery>,
) -> PageResult {
    let parsed = api::parse_platform(&platform)?;
    let page = api::show(State(state.clone()), Path(platform.clone()))
        .await?
        .0;
    let incidents = api::list_incidents(
        State(state),
        Path(platform),
        AppQuery(PageQuery {
            limit: Some(20),
            before: query.before,
        }),
    )
    .await?
    .0;
    let title = format!("{}: platform-wide incidents", page.name);
    let body = html! {
        h1 { (page.name) ": lock-outs, suspensions and withheld pay" }
        p { "Incidents that hit workers on " (page.name) " whatever requester they worked for. When several workers report the same kind at once, it shows here as a wave." }
        @for wave in &page.waves {
            p.wave { (describe_platform(wave, parsed)) }
        }
        p { a.button href={ "/incidents/new?platform=" (page.id) } { "Report a platform incident" } }
        p { a href={ "/feeds/platforms/" (page.id) } { "Atom feed of these reports" } }
        section aria-labelledby="platform-incidents" {
            h2 #platform-incidents { "Reports" }
            @if incidents.items.is_empty() { p.muted { "No reports yet." } }
            ul.items {
                @for incident in &incidents.items { li { (super::incidents::incident_item(incident)) } }
            }
            @if let Some(next) = incidents.next {
                p.pager { a href={ "/platforms/" (page.id) "?before=" (next) } rel="next" { "Older reports" } }
            }
        }
    };
    Ok(ctx.page(&title, body))
}
