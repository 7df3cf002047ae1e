//! A worker's own pages: notifications, followed requesters, own reviews and drafts, and settings (password, sessions and tokens, feed, export, deletion).

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use maud::{Markup, html};
use picket_api::routes::accounts::{
    self as accounts_api, ChangePasswordRequest, DeleteAccountRequest,
};
use picket_api::routes::notifications::{self as notifications_api, MarkRead, NotificationQuery};
use picket_api::routes::reviews::{MineQuery, mine};
use picket_api::routes::sessions::{self as sessions_api, CreateTokenRequest};
use picket_api::{AppJson, AppQuery, CurrentUser};
use serde::Deserialize;

use super::auth::{Empty, shown_again};
use super::requester_url;
use crate::context::Ctx;
use crate::error::PageResult;
use crate::form::PageForm;
use crate::layout::{Errors, FieldExtra, error_summary, text_field, when};
use crate::render::{Head, see_other};

fn private_head() -> Head {
    Head {
        noindex: true,
        ..Head::default()
    }
}

pub async fn overview(ctx: Ctx) -> PageResult {
    let user = ctx.require_user()?;
    let state = || State(ctx.state.clone());
    let notifications = notifications_api::list(
        state(),
        user.clone(),
        AppQuery(NotificationQuery {
            unread: false,
            limit: Some(30),
            before: None,
        }),
    )
    .await?
    .0;
    let followed = notifications_api::followed(state(), user.clone()).await?.0;
    let reviews = mine(
        state(),
        user.clone(),
        AppQuery(MineQuery {
            drafts: false,
            limit: Some(50),
            before: None,
        }),
    )
    .await?
    .0;
    let unread = notifications.items.iter().filter(|n| !n.read).count();
    let body = html! {
        h1 { "Your account" }
        p { "Signed in as " strong { (user.user.username) } ". " a href="/account/settings" { "Settings, sessions, export and deletion" } "." }
        section aria-labelledby="notifications" {
            h2 #notifications { "Notifications" @if unread > 0 { " (" (unread) " unread)" } }
            @if notifications.items.is_empty() { p.muted { "None yet. Follow requesters to hear of new reviews, incidents and waves." } }
            @if unread > 0 {
                form method="post" action="/account/notifications/read" {
                    (ctx.csrf_field())
                    button.secondary type="submit" { "Mark all as read" }
                }
            }
            ul.items {
                @for n in &notifications.items {
                    li {
                        @if !n.read { strong { "New: " } }
                        @let link = match (n.kind.as_str(), &n.requester) {
                            ("review", _) => format!("/reviews/{}", n.subject),
                            ("incident", _) => format!("/incidents/{}", n.subject),
                            (_, Some(r)) => requester_url(&r.platform, &r.requester_id),
                            (_, None) => format!("/platforms/{}", n.platform.as_deref().unwrap_or_default()),
                        };
                        a href=(link) { (n.message) }
                        " " span.meta { (when(n.created_at)) }
                    }
                }
            }
        }
        section aria-labelledby="followed" {
            h2 #followed { "Requesters you follow" }
            @if followed.is_empty() { p.muted { "None." } }
            ul.items {
                @for r in &followed {
                    li { a href=(requester_url(&r.platform, &r.requester_id)) { (r.name) } " " span.meta { (super::platform_name(&r.platform)) } }
                }
            }
        }
        section aria-labelledby="mine" {
            h2 #mine { "Your reviews and drafts" }
            @if reviews.items.is_empty() { p.muted { "None yet. " a href="/reviews/new" { "Write a review" } "." } }
            ol.items {
                @for review in &reviews.items { li { (super::reviews::review_item(review, true)) } }
            }
        }
    };
    Ok(ctx.page_with(StatusCode::OK, "Your account", &private_head(), body))
}

pub async fn mark_read(ctx: Ctx, PageForm(_): PageForm<Empty>) -> PageResult {
    let user = ctx.require_user()?;
    let _marked = notifications_api::mark_read(
        State(ctx.state.clone()),
        user,
        AppJson(MarkRead { ids: None }),
    )
    .await?;
    Ok(see_other("/account#notifications"))
}

/// Something shown once on the settings page: a new token or feed URL.
enum Shown {
    Nothing,
    Secret { what: &'static str, value: String },
    Saved(&'static str),
}

#[derive(Debug, Default, Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    current_password: String,
    #[serde(default)]
    new_password: String,
}

async fn settings_page(
    ctx: &Ctx,
    user: CurrentUser,
    shown: Shown,
    password_errors: (&Errors, Option<&str>),
    status: StatusCode,
) -> PageResult {
    let sessions = sessions_api::list(State(ctx.state.clone()), user.clone())
        .await?
        .0;
    let body = html! {
        h1 { "Settings" }
        @match &shown {
            Shown::Secret { what, value } => div.notice role="status" {
                p { "Your new " (what) ", shown only this once:" }
                p.secret { (value) }
            },
            Shown::Saved(message) => p.notice role="status" { (message) },
            Shown::Nothing => {},
        }
        section aria-labelledby="password" {
            h2 #password { "Change your password" }
            (error_summary(password_errors.0, password_errors.1))
            form method="post" action="/account/password" {
                (ctx.csrf_field())
                (text_field(password_errors.0, "current_password", "Current password", "", "password", None,
                    FieldExtra { autocomplete: Some("current-password"), ..FieldExtra::required() }))
                (text_field(password_errors.0, "new_password", "New password", "", "password", Some("At least 10 characters."),
                    FieldExtra { autocomplete: Some("new-password"), ..FieldExtra::required() }))
                button type="submit" { "Change password" }
            }
        }
        section aria-labelledby="sessions" {
            h2 #sessions { "Sessions and API tokens" }
            div.table-wrap tabindex="0" role="region" aria-label="Table of sessions and tokens" {
                table {
                    thead { tr { th scope="col" { "What" } th scope="col" { "Since" } th scope="col" { "Action" } } }
                    tbody {
                        @for s in &sessions {
                            tr {
                                td {
                                    @if s.kind == "api" { "API token “" (s.label.as_deref().unwrap_or("")) "”" } @else { "Browser session" }
                                    @if s.current { " " strong { "(this one)" } }
                                }
                                td { (when(s.created_at)) }
                                td {
                                    form.inline method="post" action={ "/account/sessions/" (s.id) "/revoke" } {
                                        (ctx.csrf_field())
                                        button.secondary type="submit" aria-label={ "Revoke " (if s.kind == "api" { "token" } else { "session" }) " from " (s.created_at.format("%Y-%m-%d %H:%M")) } { "Revoke" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            form method="post" action="/account/tokens" {
                (ctx.csrf_field())
                (text_field(&Errors::new(), "label", "New API token for a script or userscript: its name", "", "text", None,
                    FieldExtra { maxlength: Some(64), ..FieldExtra::required() }))
                button type="submit" { "Create token" }
            }
        }
        section aria-labelledby="feed" {
            h2 #feed { "Your notification feed" }
            p { "A secret Atom feed of your notifications, for a feed reader. Making a new one stops the old one." }
            form method="post" action="/account/feed" {
                (ctx.csrf_field())
                button.secondary type="submit" { "Make a new feed address" }
            }
        }
        section aria-labelledby="export" {
            h2 #export { "Your data" }
            p { a href="/api/v1/account/export" download="picket-export.json" { "Download everything this instance holds about you" } " (JSON)." }
        }
        section aria-labelledby="delete" {
            h2 #delete { "Delete your account" }
            p { "Erases your account, reviews, incidents and corroborations here and on every instance they reached. " a href="/account/delete" { "Delete my account" } }
        }
    };
    Ok(ctx.page_with(status, "Settings", &private_head(), body))
}

pub async fn settings(ctx: Ctx) -> PageResult {
    let user = ctx.require_user()?;
    settings_page(
        &ctx,
        user,
        Shown::Nothing,
        (&Errors::new(), None),
        StatusCode::OK,
    )
    .await
}

pub async fn change_password(ctx: Ctx, PageForm(form): PageForm<PasswordForm>) -> PageResult {
    let user = ctx.require_user()?;
    let request = ChangePasswordRequest {
        current_password: form.current_password,
        new_password: form.new_password,
    };
    match accounts_api::change_password(State(ctx.state.clone()), user.clone(), AppJson(request))
        .await
    {
        Ok(_) => {
            settings_page(
                &ctx,
                user,
                Shown::Saved("Your password is changed; your other sessions were signed out."),
                (&Errors::new(), None),
                StatusCode::OK,
            )
            .await
        }
        Err(error)
            if error.status.is_client_error() && error.status != StatusCode::TOO_MANY_REQUESTS =>
        {
            let mut errors = error.fields.clone().unwrap_or_default();
            if error.code == "wrong_password" {
                errors.insert("current_password".into(), error.message.clone());
            }
            settings_page(
                &ctx,
                user,
                Shown::Nothing,
                (&errors, None),
                StatusCode::UNPROCESSABLE_ENTITY,
            )
            .await
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn revoke(ctx: Ctx, Path(id): Path<i64>, PageForm(_): PageForm<Empty>) -> PageResult {
    let user = ctx.require_user()?;
    let current = user.session.id == id;
    sessions_api::revoke(State(ctx.state.clone()), user, Path(id)).await?;
    Ok(see_other(if current {
        "/"
    } else {
        "/account/settings#sessions"
    }))
}

#[derive(Debug, Deserialize)]
pub struct TokenForm {
    #[serde(default)]
    label: String,
}

pub async fn create_token(ctx: Ctx, PageForm(form): PageForm<TokenForm>) -> PageResult {
    let user = ctx.require_user()?;
    let request = CreateTokenRequest { label: form.label };
    let (_, token) =
        sessions_api::create_token(State(ctx.state.clone()), user.clone(), AppJson(request))
            .await?;
    settings_page(
        &ctx,
        user,
        Shown::Secret {
            what: "API token",
            value: token.0.token,
        },
        (&Errors::new(), None),
        StatusCode::CREATED,
    )
    .await
}

pub async fn rotate_feed(ctx: Ctx, PageForm(_): PageForm<Empty>) -> PageResult {
    let user = ctx.require_user()?;
    let (_, feed) =
        notifications_api::rotate_feed_token(State(ctx.state.clone()), user.clone()).await?;
    settings_page(
        &ctx,
        user,
        Shown::Secret {
            what: "feed address",
            value: feed.0.url,
        },
        (&Errors::new(), None),
        StatusCode::CREATED,
    )
    .await
}

fn delete_form(ctx: &Ctx, errors: &Errors, message: Option<&str>) -> Markup {
    html! {
        h1 { "Delete your account?" }
        p { "This erases your account and everything you wrote, here and on every instance it reached. It cannot be undone." }
        (error_summary(errors, message))
        form method="post" action="/account/delete" {
            (ctx.csrf_field())
            (text_field(errors, "password", "Your password, to confirm", "", "password", None,
                FieldExtra { autocomplete: Some("current-password"), ..FieldExtra::required() }))
            button.danger type="submit" { "Delete my account for good" }
            a href="/account/settings" { "Keep my account" }
        }
    }
}

pub async fn delete_page(ctx: Ctx) -> PageResult {
    ctx.require_user()?;
    Ok(ctx.page_with(
        StatusCode::OK,
        "Delete your account?",
        &private_head(),
        delete_form(&ctx, &Errors::new(), None),
    ))
}

#[derive(Debug, Deserialize)]
pub struct DeleteForm {
    #[serde(default)]
    password: String,
}

pub async fn delete(
    ctx: Ctx,
    jar: CookieJar,
    PageForm(form): PageForm<DeleteForm>,
) -> PageResult<Response> {
    let user = ctx.require_user()?;
    let request = DeleteAccountRequest {
        password: form.password,
    };
    match accounts_api::delete(State(ctx.state.clone()), jar, user, AppJson(request)).await {
        Ok((jar, _)) => Ok((
            jar,
            Ctx {
                user: None,
                ..ctx.clone()
            }
            .page(
                "Account deleted",
                html! {
                    h1 { "Your account is deleted" }
                    p { "Your account and everything you wrote are erased here; the other instances are being told to erase their copies." }
                    p { a href="/" { "Home" } }
                },
            ),
        )
            .into_response()),
        Err(mut error) => {
            if error.code == "wrong_password" {
                let mut fields = Errors::new();
                fields.insert("password".into(), error.message.clone());
                error.fields = Some(fields);
                error.status = StatusCode::UNPROCESSABLE_ENTITY;
            }
            shown_again(&ctx, error, |errors, message| delete_form(&ctx, errors, Some(message)))
        }
    }
}
