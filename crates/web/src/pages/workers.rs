//! A worker's public profile at their actor URL: the pseudonym and their published reviews, nothing else.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use maud::html;
use picket_api::AppState;
use picket_api::views::ReviewView;
use picket_core::accounts::AccountStatus;
use picket_db::reviews::{self, ReviewState};
use picket_db::{DbError, users};

use crate::context::Ctx;
use crate::error::PageResult;

/// Reviews shown on a profile.
const SHOWN: i64 = 50;

pub async fn profile(
    State(state): State<AppState>,
    ctx: Ctx,
    Path(name): Path<String>,
) -> PageResult {
    let lookup = name.to_ascii_lowercase();
    let found = state
        .db
        .run(move |conn| {
            let user = users::by_username(conn, &lookup)?;
            if user.status() != AccountStatus::Active {
                return Err(DbError::NotFound);
            }
            let rows = reviews::list_by_author(conn, user.id, false, None, Some(SHOWN))?;
            let views = rows
                .into_iter()
                .filter(|(row, _)| row.state().ok() == Some(ReviewState::Published))
                .map(|(row, requester)| {
                    ReviewView::new(row, &requester, Some(user.username.clone()), true)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((user.username, user.created_at, views))
        })
        .await
        .map_err(picket_api::routes::not_found_as(
            "no such worker on this instance",
        ))?;
    let (username, since, reviews) = found;
    let handle = format!("@{username}@{}", state.local_instance());
    let body = html! {
        h1 { (username) }
        p.meta { "Member since " (crate::layout::day(since.date())) " · on the fediverse: " span.handle { (handle) } }
        h2 { "Published reviews" }
        @if reviews.is_empty() { p.muted { "None yet." } }
        ol.items {
            @for review in &reviews { li { (super::reviews::review_item(review, true)) } }
        }
        @if ctx.user.is_some() && ctx.username() != Some(username.as_str()) {
            (super::moderation::report_link("account", &username))
        }
    };
    Ok(ctx.page_with(
        StatusCode::OK,
        &username,
        &crate::render::Head::default(),
        body,
    ))
}
