//! One module per area of the site; each page handler reads through the API's handlers and renders with maud.

pub mod account;
pub mod admin;
pub mod auth;
pub mod campaigns;
pub mod comments;
pub mod facts;
pub mod home;
pub mod incidents;
pub mod moderation;
pub mod platforms;
pub mod requesters;
pub mod reviews;
pub mod workers;

use maud::{Markup, html};
use picket_api::views::RequesterRef;
use picket_core::platform::Platform;
use serde::Deserialize;

use crate::layout;

/// The requester a new review or incident form starts with (links from the requester page).
#[derive(Debug, Deserialize)]
pub struct Prefill {
    #[serde(default)]
    pub platform: String,
    #[serde(default)]
    pub requester_id: String,
    #[serde(default)]
    pub requester_name: String,
}

/// The requester's page URL.
pub fn requester_url(platform: &str, requester_id: &str) -> String {
    format!("/r/{platform}/{requester_id}")
}

pub fn platform_name(platform: &str) -> &'static str {
    platform
        .parse::<Platform>()
        .map_or("unknown platform", Platform::display_name)
}

pub fn requester_link(r: &RequesterRef) -> Markup {
    html! {
        a href=(requester_url(&r.platform, &r.requester_id)) { (r.name) }
        " " span.meta { "(" (platform_name(&r.platform)) ")" }
    }
}

/// Who wrote something and where: a local author's profile, or another instance's author by
/// handle with a link to the original.
pub fn byline(
    author: Option<&str>,
    origin: Option<&str>,
    remote_author: Option<&str>,
    original_url: Option<&str>,
) -> Markup {
    html! {
        @match (author, origin) {
            (Some(name), _) => { "by " a href={ "/u/" (name) } { (name) } }
            (None, Some(origin)) => {
                "by "
                @match remote_author {
                    Some(actor) => a href=(actor) { (layout::handle_of(actor)) },
                    None => span { "a worker" },
                }
                " on " strong { (origin) }
                @if let Some(url) = original_url { " · " a href=(url) { "original" } }
            }
            (None, None) => { "by a former member" }
        }
    }
}

/// A link-styled form button that posts one action (no side effect is ever a GET).
pub fn action_button(ctx: &crate::context::Ctx, action: &str, label: &str, class: &str) -> Markup {
    html! {
        form.inline method="post" action=(action) {
            (ctx.csrf_field())
            button class=(class) type="submit" { (label) }
        }
    }
}

/// Platforms as `<select>` options.
pub fn platform_options() -> Vec<(&'static str, &'static str)> {
    Platform::ALL
        .iter()
        .map(|p| (p.as_str(), p.display_name()))
        .collect()
}
