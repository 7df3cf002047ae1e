//! Turning a page's markup into a response: the shared shell, the page CSP and no caching of per-account pages.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use maud::{DOCTYPE, Markup, html};

use crate::context::Ctx;

/// Pages load only our own stylesheet and script; nothing inline, no other origin, no framing.
pub const PAGE_CSP: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
                            base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A digest of the stylesheet and script (FNV-1a), computed at compile time: any change to
/// either gives new URLs, so browsers that keep them for a week still fetch the new ones.
pub const ASSET_VERSION: u64 = {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    let parts = [
        crate::layout::STYLESHEET.as_bytes(),
        crate::layout::SCRIPT.as_bytes(),
    ];
    let mut p = 0;
    while p < parts.len() {
        let bytes = parts[p];
        let mut i = 0;
        while i < bytes.len() {
            hash ^= bytes[i] as u64;
            hash = hash.wrapping_mul(0x0100_0000_01b3);
            i += 1;
        }
        p += 1;
    }
    hash
};

/// Extra things a page can put in its `<head>`.
#[derive(Debug, Default)]
pub struct Head {
    /// An Atom feed of this page (`<link rel="alternate">`).
    pub feed: Option<String>,
    /// The page's description for link previews.
    pub description: Option<String>,
    /// Pages that must not be indexed (account pages, forms).
    pub noindex: bool,
}

fn shell(title: &str, head: &Head, nav: Markup, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Picket" }
                link rel="stylesheet" href={ "/static/picket.css?v=" (format!("{ASSET_VERSION:x}")) };
                @if let Some(feed) = &head.feed {
                    link rel="alternate" type="application/atom+xml" title="Atom feed" href=(feed);
                }
                @if let Some(description) = &head.description {
                    meta name="description" content=(description);
                }
                @if head.noindex { meta name="robots" content="noindex"; }
                script src={ "/static/picket.js?v=" (format!("{ASSET_VERSION:x}")) } defer {}
            }
            body {
                a.skip href="#main" { "Skip to content" }
                header.site {
                    (nav)
                }
                main #main tabindex="-1" {
                    (body)
                }
                footer.site {
                    p {
                        "Picket is worker-run and federated. "
                        a href="/about" { "About this instance" } " · "
                        a href="/modlog" { "Moderation log" } " · "
                        a href="/api/v1/openapi.json" { "API" }
                    }
                }
            }
        }
    }
}

fn nav(ctx: Option<&Ctx>) -> Markup {
    let name = ctx
        .map(|c| {
            c.state
                .settings
                .public_url
                .host_str()
                .unwrap_or("Picket")
                .to_owned()
        })
        .unwrap_or_else(|| "Picket".into());
    html! {
        nav aria-label="Main" {
            a.brand href="/" { "Picket" span.instance { (name) } }
            ul {
                li { a href="/reviews/new" { "Write a review" } }
                li { a href="/incidents/new" { "Report an incident" } }
                li { a href="/campaigns" { "Campaigns" } }
                @if let Some(ctx) = ctx {
                    @if let Some(user) = ctx.username() {
                        li { a href="/account" { "Account (" (user) ")" } }
                        @if ctx.is_moderator() { li { a href="/moderation" { "Moderation" } } }
                        @if ctx.is_admin() { li { a href="/admin" { "Admin" } } }
                        li {
                            form.inline method="post" action="/logout" {
                                input type="hidden" name="csrf" value=(ctx.csrf);
                                button.link type="submit" { "Log out" }
                            }
                        }
                    } @else {
                        li { a href="/login" { "Log in" } }
                        li { a href="/register" { "Register" } }
                    }
                }
            }
        }
    }
}

/// A finished HTML response: the page headers on top of the instance-wide ones.
fn respond(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    // Pages show what the signed-in account may see; no shared cache may keep them.
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::VARY, HeaderValue::from_static("Accept, Cookie"));
    response
}

/// An error page, which may not know who is looking.
pub fn bare_page(title: &str, body: Markup) -> Response {
    respond(
        StatusCode::OK,
        shell(title, &Head::default(), nav(None), body),
    )
}

impl Ctx {
    /// The page with status 200.
    pub fn page(&self, title: &str, body: Markup) -> Response {
        self.page_with(StatusCode::OK, title, &Head::default(), body)
    }

    /// The page with a status (422 for a form shown again with its errors) and head extras.
    pub fn page_with(
        &self,
        status: StatusCode,
        title: &str,
        head: &Head,
        body: Markup,
    ) -> Response {
        let response = respond(status, shell(title, head, nav(Some(self)), body));
        match &self.new_form_cookie {
            Some(cookie) => (CookieJar::new().add(cookie.clone()), response).into_response(),
            None => response,
        }
    }

    /// The hidden field every form carries.
    pub fn csrf_field(&self) -> Markup {
        html! { input type="hidden" name="csrf" value=(self.csrf); }
    }
}

/// After a successful form: "see other", so a reload does not send the form again.
pub fn see_other(location: &str) -> Response {
    Redirect::to(location).into_response()
}

/// Text kept exactly as written, line breaks included (escaped like everything else).
pub fn paragraphs(text: &str) -> Markup {
    html! {
        @for paragraph in text.split("\n\n").filter(|p| !p.trim().is_empty()) {
            p {
                @for (i, line) in paragraph.lines().enumerate() {
                    @if i > 0 { br; }
                    (line)
                }
            }
        }
    }
}
