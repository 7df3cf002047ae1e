//! The comments under a review or an incident: the threads, the form to comment and to answer, an author's deletion; each action through the JSON API's handler for it.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use maud::{Markup, html};
pub use picket_api::routes::comments::On;
use picket_api::routes::comments::{self as api};
use picket_api::views::{CommentThreads, CommentView};
use picket_api::{AppState, MaybeUser};
use picket_core::comment::{COMMENT_BODY_MAX_CHARS, CommentInput};
use serde::Deserialize;

use super::auth::Empty;
use super::byline;
use crate::context::Ctx;
use crate::error::PageResult;
use crate::form::{PageForm, ticked};
use crate::layout::{Errors, FieldExtra, checkbox, error_summary, text_field, when};
use crate::render::{paragraphs, see_other};

/// What a comment form posts.
#[derive(Debug, Default, Deserialize)]
pub struct CommentForm {
    #[serde(default)]
    pub body: String,
    /// The comment answered, for a reply.
    #[serde(default)]
    pub reply_to: String,
    #[serde(default)]
    pub confirm_no_worker_ids: Option<String>,
}

/// A comment sent back with what was wrong with it.
#[derive(Debug, Clone, Copy)]
pub struct Draft<'a> {
    pub form: &'a CommentForm,
    pub errors: &'a Errors,
    pub message: Option<&'a str>,
}

fn base(on: On) -> &'static str {
    match on {
        On::Review => "reviews",
        On::Incident => "incidents",
    }
}

/// The threads under a review or incident, read through the API's handler.
pub async fn threads(ctx: &Ctx, on: On, id: &str) -> Result<CommentThreads, crate::PageError> {
    let (state, viewer, id) = (
        State(ctx.state.clone()),
        MaybeUser(ctx.user.clone()),
        Path(id.to_owned()),
    );
    let found = match on {
        On::Review => api::list_on_review(state, viewer, id).await?,
        On::Incident => api::list_on_incident(state, viewer, id).await?,
    };
    Ok(found.0)
}

fn comment(ctx: &Ctx, comment: &CommentView, reply_form: Option<Markup>) -> Markup {
    let mine = ctx.username().is_some() && ctx.username() == comment.author.as_deref();
    html! {
        li.comment id={ "comment-" (comment.id) } {
            // A tombstone names nobody, not even "a former member".
            @if comment.state != "deleted" {
                p.meta {
                    (byline(comment.author.as_deref(), comment.origin.as_deref(), comment.remote_author.as_deref(), comment.original_url.as_deref()))
                    @if comment.as_requester { " " strong.badge { "speaking for the requester" } }
                    " · " (when(comment.created_at))
                }
            }
            @match (&comment.body, comment.state.as_str()) {
                (Some(body), "removed") => {
                    p.removed { "Removed by the moderators: " (comment.removed_reason.as_deref().unwrap_or("")) }
                    (paragraphs(body))
                },
                (Some(body), _) => (paragraphs(body)),
                (None, "removed") => p.removed { "Removed by the moderators: " (comment.removed_reason.as_deref().unwrap_or("")) },
                (None, _) => p.muted { "Deleted by its author." },
            }
            @if comment.state == "published" {
                div.actions {
                    @if mine {
                        (super::action_button(ctx, &format!("/comments/{}/delete", comment.id), "Delete my comment", "secondary"))
                    } @else {
                        (super::moderation::report_link("comment", &comment.id))
                    }
                }
            }
            @if let Some(form) = reply_form { (form) }
            @if !comment.replies.is_empty() {
                ul.replies aria-label="Answers" {
                    @for reply in &comment.replies { (self::comment(ctx, reply, None)) }
                }
            }
        }
    }
}

/// An answer form under a thread, folded away until asked for.
fn reply_form(ctx: &Ctx, on: On, id: &str, to: &CommentView, draft: Option<Draft<'_>>) -> Markup {
    let field = format!("f-reply-{}", to.id);
    let (value, open, error) = match draft {
        Some(d) if d.form.reply_to == to.id => (d.form.body.as_str(), true, d.errors.get("body")),
        _ => ("", false, None),
    };
    html! {
        details.reply open[open] {
            summary { "Answer" }
            form method="post" action={ "/" (base(on)) "/" (id) "/comments" } novalidate {
                (ctx.csrf_field())
                input type="hidden" name="reply_to" value=(to.id);
                div.field.has-error[error.is_some()] {
                    label for=(field) { "Your answer" }
                    @if let Some(message) = error { p.field-error id={ "err-" (field) } { (crate::error::sentence(message)) } }
                    textarea id=(field) name="body" rows="3" maxlength=(COMMENT_BODY_MAX_CHARS)
                        aria-describedby=[error.map(|_| format!("err-{field}"))]
                        aria-invalid=[error.map(|_| "true")] { (value) }
                }
                button type="submit" { "Send answer" }
            }
        }
    }
}

/// The comments section of a review's or incident's page.
pub async fn section(
    ctx: &Ctx,
    on: On,
    id: &str,
    draft: Option<Draft<'_>>,
) -> Result<Markup, crate::PageError> {
    let found = threads(ctx, on, id).await?;
    let can_write = ctx.user.is_some();
    let no_errors = Errors::new();
    let new_comment = draft.filter(|d| d.form.reply_to.is_empty());
    let (value, errors, message, confirm) = match new_comment {
        Some(d) => (
            d.form.body.as_str(),
            d.errors,
            d.message,
            ticked(&d.form.confirm_no_worker_ids),
        ),
        None => ("", &no_errors, None, false),
    };
    let answer_message = draft.filter(|d| !d.form.reply_to.is_empty()).and_then(|d| {
        d.message
            .or_else(|| d.errors.get("reply_to").map(String::as_str))
    });
    Ok(html! {
        section aria-labelledby="comments" {
            h2 #comments { "Comments (" (found.count) ")" }
            @if let Some(message) = answer_message { div.error-summary role="alert" { p { (crate::error::sentence(message)) } } }
            @if found.threads.is_empty() { p.muted { "No comments yet." } }
            ol.items.comments {
                @for thread in &found.threads {
                    @let answer = (can_write && thread.state == "published").then(|| reply_form(ctx, on, id, thread, draft));
                    (comment(ctx, thread, answer))
                }
            }
            @if can_write {
                h3 #write-comment { "Add a comment" }
                (error_summary(errors, message))
                form method="post" action={ "/" (base(on)) "/" (id) "/comments" } novalidate {
                    (ctx.csrf_field())
                    (text_field(errors, "body", "Your comment", value, "textarea", Some("Shown with your pseudonym. Never write a worker ID."), FieldExtra { maxlength: Some(COMMENT_BODY_MAX_CHARS), required: true, ..FieldExtra::default() }))
                    @if errors.values().any(|m| m.contains("confirm_no_worker_ids")) || confirm {
                        (checkbox(errors, "confirm_no_worker_ids", "I checked: this is not a worker ID", confirm))
                    }
                    button type="submit" { "Post comment" }
                }
            } @else {
                p { a href="/login" { "Log in" } " to comment." }
            }
        }
    })
}

/// Posts a comment or an answer; the page comes back with the errors when it was refused.
async fn post(ctx: Ctx, on: On, id: String, form: CommentForm) -> PageResult {
    let user = ctx.require_user()?;
    let input = CommentInput {
        body: form.body.clone(),
        reply_to: (!form.reply_to.trim().is_empty()).then(|| form.reply_to.trim().to_owned()),
        confirm_no_worker_ids: ticked(&form.confirm_no_worker_ids),
    };
    match api::write(&ctx.state, &user, on, id.clone(), input).await {
        Ok(view) => Ok(see_other(&format!(
            "/{}/{id}#comment-{}",
            base(on),
            view.id
        ))),
        Err(error)
            if error.status == StatusCode::UNPROCESSABLE_ENTITY
                || error.status == StatusCode::FORBIDDEN =>
        {
            let errors: Errors = error
                .fields
                .clone()
                .unwrap_or_default()
                .into_iter()
                .collect();
            let message = error.fields.is_none().then(|| error.message.clone());
            let draft = Draft {
                form: &form,
                errors: &errors,
                message: message.as_deref(),
            };
            match on {
                On::Review => super::reviews::page(&ctx, &id, Some(draft), error.status).await,
                On::Incident => {
                    super::incidents::page_with_comment(&ctx, &id, draft, error.status).await
                }
            }
        }
        Err(error) => Err(error.into()),
    }
}

pub async fn on_review(
    ctx: Ctx,
    Path(id): Path<String>,
    PageForm(form): PageForm<CommentForm>,
) -> PageResult {
    post(ctx, On::Review, id, form).await
}

pub async fn on_incident(
    ctx: Ctx,
    Path(id): Path<String>,
    PageForm(form): PageForm<CommentForm>,
) -> PageResult {
    post(ctx, On::Incident, id, form).await
}

/// Where a comment is read: its review's or incident's page, at the comment.
async fn place(state: &AppState, id: &str) -> Result<(String, String), crate::PageError> {
    let lookup = id.to_owned();
    let found = state
        .db
        .run(move |conn| {
            let row = picket_db::comments::by_public_id(conn, &lookup)?;
            let page = match row.parent()? {
                picket_db::comments::Parent::Review(pk) => format!(
                    "/reviews/{}",
                    picket_db::reviews::by_pk(conn, pk)?.public_id
                ),
                picket_db::comments::Parent::Incident(pk) => format!(
                    "/incidents/{}",
                    picket_db::incidents::by_pk(conn, pk)?.public_id
                ),
            };
            Ok((row.state, page))
        })
        .await
        .map_err(picket_api::routes::not_found_as("no such comment"))?;
    Ok(found)
}

/// A comment's URL in a browser.
pub async fn show(State(state): State<AppState>, Path(id): Path<String>) -> PageResult {
    match place(&state, &id).await? {
        (row_state, page) if row_state != "deleted" => {
            Ok(see_other(&format!("{page}#comment-{id}")))
        }
        _ => Err(picket_api::ApiError::new(
            StatusCode::GONE,
            "deleted",
            "its author deleted this comment",
        )
        .into()),
    }
}

/// The author deletes a comment, and is back on the page it was on.
pub async fn delete(ctx: Ctx, Path(id): Path<String>, PageForm(_): PageForm<Empty>) -> PageResult {
    let user = ctx.require_user()?;
    let (_, page) = place(&ctx.state, &id).await?;
    api::delete(State(ctx.state.clone()), user, Path(id)).await?;
    Ok(see_other(&format!("{page}#comments")))
}
