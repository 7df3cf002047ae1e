//! A platform's page: its waves of lock-outs, suspensions and withheld earnings, and the incidents that name no requester, so workers hit by the same platform see each other.

use axum::extract::{Path, Query, State};
use maud::html;
use picket_api::routes::platforms as api;
use picket_api::views::PageQuery;
use picket_api::{AppQuery, AppState, MaybeUser};
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
    let page = api::show(
        State(state.clone()),
        MaybeUser(ctx.user.clone()),
        Path(platform.clone()),
    )
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
    let campaigns = super::campaigns::about(&ctx, page.id, None).await?;
    let title = format!("{}: platform-wide incidents", page.name);
    let body = html! {
        h1 { (page.name) ": lock-outs, suspensions and withheld pay" }
        p { "Incidents that hit workers on " (page.name) " whatever requester they worked for. When several workers report the same kind at once, it shows here as a wave." }
        @for wave in &page.waves {
            p.wave {
                (describe_platform(wave, parsed))
                (super::campaigns::of_wave(&campaigns, wave))
                @if ctx.user.is_some() { (super::campaigns::open_link(page.id, None, wave)) }
            }
        }
        @if !campaigns.is_empty() {
            section aria-labelledby="campaigns" {
                h2 #campaigns { "Campaigns" }
                (super::campaigns::items(&campaigns))
            }
        }
        p { a.button href={ "/incidents/new?platform=" (page.id) } { "Report a platform incident" } }
        div.panel {
            @match page.following {
                Some(true) => {
                    p { "You follow " (page.name) ": new platform incidents and waves appear in your notifications." }
                    (super::action_button(&ctx, &format!("/platforms/{}/unfollow", page.id), "Unfollow", "secondary"))
                },
                Some(false) => (super::action_button(&ctx, &format!("/platforms/{}/follow", page.id), &format!("Follow {}", page.name), "")),
                None => p { a href="/login" { "Log in" } " to follow " (page.name) "." },
            }
            p { "From Mastodon or Lemmy, follow " span.handle { "@platform." (page.id) "@" (ctx.state.local_instance()) } }
        }
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

/// Follows the platform, and back to its page.
pub async fn follow(
    ctx: Ctx,
    Path(platform): Path<String>,
    crate::form::PageForm(_): crate::form::PageForm<super::auth::Empty>,
) -> PageResult {
    let user = ctx.require_user()?;
    let parsed = api::parse_platform(&platform)?;
    api::follow(State(ctx.state.clone()), user, Path(platform)).await?;
    Ok(crate::render::see_other(&format!(
        "/platforms/{}",
        parsed.as_str()
    )))
}

pub async fn unfollow(
    ctx: Ctx,
    Path(platform): Path<String>,
    crate::form::PageForm(_): crate::form::PageForm<super::auth::Empty>,
) -> PageResult {
    let user = ctx.require_user()?;
    let parsed = api::parse_platform(&platform)?;
    api::unfollow(State(ctx.state.clone()), user, Path(platform)).await?;
    Ok(crate::render::see_other(&format!(
        "/platforms/{}",
        parsed.as_str()
    )))
}
