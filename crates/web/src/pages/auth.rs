//! Logging in and out and registering, through the API's own login and registration.

use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use maud::{Markup, html};
use picket_api::routes::accounts::{
    self as accounts_api, RegisterRequest, register as api_register,
};
use picket_api::routes::admin::instance_view;
use picket_api::routes::sessions::{LoginRequest, login as api_login, logout as api_logout};
use picket_api::{ApiError, AppJson};
use picket_core::accounts::RegistrationMode;
use serde::Deserialize;

use crate::context::Ctx;
use crate::error::PageResult;
use crate::form::{PageForm, text};
use crate::layout::{Errors, FieldExtra, error_summary, text_field};
use crate::render::{Head, see_other};

#[derive(Debug, Default, Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    totp: Option<String>,
}

fn login_form(
    ctx: &Ctx,
    form: &LoginForm,
    errors: &Errors,
    message: Option<&str>,
    totp: bool,
) -> Markup {
    html! {
        h1 { "Log in" }
        (error_summary(errors, message))
        form method="post" action="/login" {
            (ctx.csrf_field())
            (text_field(errors, "username", "Username", &form.username, "text", None,
                FieldExtra { autocomplete: Some("username"), ..FieldExtra::required() }))
            (text_field(errors, "password", "Password", "", "password", None,
                FieldExtra { autocomplete: Some("current-password"), ..FieldExtra::required() }))
            @if totp {
                (text_field(errors, "totp", "Authenticator code or recovery code", "", "text",
                    Some("Moderators and admins with a second factor enter the app's current code."),
                    FieldExtra { autocomplete: Some("one-time-code"), inputmode: Some("numeric"), ..FieldExtra::default() }))
            } @else {
                details {
                    summary { "I use an authenticator app" }
                    (text_field(errors, "totp", "Authenticator code or recovery code", "", "text", None,
                        FieldExtra { autocomplete: Some("one-time-code"), inputmode: Some("numeric"), ..FieldExtra::default() }))
                }
            }
            button type="submit" { "Log in" }
        }
        p { "No account yet? " a href="/register" { "Register" } "." }
    }
}

fn form_head() -> Head {
    Head {
        noindex: true,
        ..Head::default()
    }
}

pub async fn login_page(ctx: Ctx) -> Response {
    if ctx.user.is_some() {
        return see_other("/account");
    }
    ctx.page_with(
        StatusCode::OK,
        "Log in",
        &form_head(),
        login_form(&ctx, &LoginForm::default(), &Errors::new(), None, false),
    )
}

pub async fn login(ctx: Ctx, jar: CookieJar, PageForm(form): PageForm<LoginForm>) -> PageResult {
    let request = LoginRequest {
        username: form.username.trim().to_owned(),
        password: form.password.clone(),
        totp: text(&form.totp),
    };
    match api_login(
        axum::extract::State(ctx.state.clone()),
        jar,
        AppJson(request),
    )
    .await
    {
        Ok((jar, _)) => Ok((jar, see_other("/account")).into_response()),
        Err(error) => {
            let totp = error.code.starts_with("totp");
            shown_again(&ctx, error, |errors, message| {
                login_form(&ctx, &form, errors, Some(message), totp)
            })
        }
    }
}

/// A form's errors shown on the form itself (422 with the fields), or, for errors that are not
/// about the form (rate limits, a busy server), the error page.
pub fn shown_again(
    ctx: &Ctx,
    error: ApiError,
    render: impl FnOnce(&Errors, &str) -> Markup,
) -> PageResult {
    let form_error = matches!(
        error.status,
        StatusCode::UNPROCESSABLE_ENTITY
            | StatusCode::UNAUTHORIZED
            | StatusCode::CONFLICT
            | StatusCode::FORBIDDEN
            | StatusCode::BAD_REQUEST
    );
    if !form_error {
        return Err(error.into());
    }
    let errors = error.fields.clone().unwrap_or_default();
    let message = if errors.is_empty() {
        error.message.clone()
    } else {
        "Some fields need attention.".to_owned()
    };
    let status = if error.status == StatusCode::UNAUTHORIZED {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        error.status
    };
    Ok(ctx.page_with(
        status,
        "Please correct the form",
        &form_head(),
        render(&errors, &message),
    ))
}

pub async fn logout(ctx: Ctx, jar: CookieJar, PageForm(_): PageForm<Empty>) -> PageResult {
    let Some(user) = ctx.user.clone() else {
        return Ok(see_other("/"));
    };
    let (jar, _) = api_logout(axum::extract::State(ctx.state.clone()), jar, user).await?;
    Ok((jar, see_other("/")).into_response())
}

/// A form with nothing but its token.
#[derive(Debug, Deserialize)]
pub struct Empty {}

#[derive(Debug, Default, Deserialize)]
pub struct RegisterForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    email: Option<String>,
    #[serde(default)]
    invite: Option<String>,
}

fn register_form(
    ctx: &Ctx,
    mode: RegistrationMode,
    form: &RegisterForm,
    errors: &Errors,
    message: Option<&str>,
) -> Markup {
    html! {
        h1 { "Register" }
        @match mode {
            RegistrationMode::Invite => p { "Registration on this instance needs an invite code from a member." },
            RegistrationMode::Approval => p { "A moderator approves each new account before it can log in." },
            RegistrationMode::Open => p { "Anyone may register." },
        }
        p.hint { "Choose a pseudonym: never your name, e-mail or platform worker ID." }
        (error_summary(errors, message))
        form method="post" action="/register" {
            (ctx.csrf_field())
            (text_field(errors, "username", "Username", &form.username, "text",
                Some("3 to 30 letters, digits, _ or -."),
                FieldExtra { autocomplete: Some("username"), maxlength: Some(30), ..FieldExtra::required() }))
            (text_field(errors, "password", "Password", "", "password",
                Some("At least 10 characters."),
                FieldExtra { autocomplete: Some("new-password"), ..FieldExtra::required() }))
            (text_field(errors, "email", "E-mail (optional, for password resets)", form.email.as_deref().unwrap_or(""), "email", None,
                FieldExtra { autocomplete: Some("email"), ..FieldExtra::default() }))
            @if mode == RegistrationMode::Invite {
                (text_field(errors, "invite", "Invite code", form.invite.as_deref().unwrap_or(""), "text", None,
                    FieldExtra { autocomplete: Some("off"), ..FieldExtra::required() }))
            }
            button type="submit" { "Register" }
        }
        p { "Already registered? " a href="/login" { "Log in" } "." }
    }
}

pub async fn register_page(ctx: Ctx) -> PageResult {
    let mode = instance_view(&ctx.state).await?.registration;
    Ok(ctx.page_with(
        StatusCode::OK,
        "Register",
        &form_head(),
        register_form(&ctx, mode, &RegisterForm::default(), &Errors::new(), None),
    ))
}

pub async fn register(ctx: Ctx, PageForm(form): PageForm<RegisterForm>) -> PageResult {
    let mode = instance_view(&ctx.state).await?.registration;
    let request = RegisterRequest {
        username: form.username.trim().to_owned(),
        password: form.password.clone(),
        email: text(&form.email),
        invite: text(&form.invite),
    };
    match api_register(axum::extract::State(ctx.state.clone()), AppJson(request)).await {
        Ok(response) if response.status() == StatusCode::ACCEPTED => Ok(ctx.page(
            "Registration received",
            html! {
                h1 { "Registration received" }
                p { "Thank you. A moderator will review your account; you can log in once it is approved." }
            },
        )),
        Ok(_) => Ok(ctx.page(
            "Welcome",
            html! {
                h1 { "Welcome to Picket" }
                p { "Your account " strong { (form.username.trim().to_lowercase()) } " is ready." }
                p { a.button href="/login" { "Log in" } }
            },
        )),
        Err(error) => shown_again(&ctx, error, |errors, message| {
            register_form(&ctx, mode, &form, errors, Some(message))
        }),
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct ResetForm {
    #[serde(default)]
    new_password: String,
}

fn reset_form(
    ctx: &Ctx,
    token: &str,
    username: &str,
    errors: &Errors,
    message: Option<&str>,
) -> Markup {
    html! {
        h1 { "Set a new password" }
        p { "For the account " strong { (username) } ". Every session and API token of the account ends, on every device." }
        (error_summary(errors, message))
        form method="post" action={ "/reset-password/" (token) } {
            (ctx.csrf_field())
            (text_field(errors, "new_password", "New password", "", "password",
                Some("At least 10 characters."),
                FieldExtra { autocomplete: Some("new-password"), ..FieldExtra::required() }))
            button type="submit" { "Set the password" }
        }
    }
}

/// The page a reset link an admin made opens: the form, or why the link no longer works.
pub async fn reset_page(ctx: Ctx, Path(token): Path<String>) -> PageResult {
    let username = accounts_api::reset_username(&ctx.state, &token).await?;
    Ok(ctx.page_with(
        StatusCode::OK,
        "Set a new password",
        &form_head(),
        reset_form(&ctx, &token, &username, &Errors::new(), None),
    ))
}

pub async fn reset(
    ctx: Ctx,
    Path(token): Path<String>,
    PageForm(form): PageForm<ResetForm>,
) -> PageResult {
    let username = accounts_api::reset_username(&ctx.state, &token).await?;
    let request = accounts_api::ResetPasswordRequest {
        token: token.clone(),
        new_password: form.new_password,
    };
    match accounts_api::reset_password(axum::extract::State(ctx.state.clone()), AppJson(request))
        .await
    {
        Ok(_) => Ok(ctx.page_with(
            StatusCode::OK,
            "Password set",
            &form_head(),
            html! {
                h1 { "Password set" }
                p { "The password of " strong { (username) } " is changed, and the account was signed out everywhere." }
                p { a.button href="/login" { "Log in" } }
            },
        )),
        Err(error) => shown_again(&ctx, error, |errors, message| {
            reset_form(&ctx, &token, &username, errors, Some(message))
        }),
    }
}
