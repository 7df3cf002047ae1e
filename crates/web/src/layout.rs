//! The pieces every page shares: the stylesheet and script, form fields that show their error next to them, and numbers in words.

use std::collections::BTreeMap;

use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use chrono::NaiveDateTime;
use maud::{Markup, html};
use picket_core::aggregate::ScoreMean;
use picket_core::money::format_money;

pub const STYLESHEET: &str = include_str!("../assets/picket.css");
pub const SCRIPT: &str = include_str!("../assets/picket.js");

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    // Versioned by `render::ASSET_VERSION` in the URL, so it may be kept for long.
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=604800"),
    );
    response
}

pub async fn stylesheet() -> Response {
    asset(STYLESHEET, "text/css; charset=utf-8")
}

pub async fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

/// Field errors of a form shown again, by field name.
pub type Errors = BTreeMap<String, String>;

/// The message for `name`, as an element the field points to with `aria-describedby`.
fn error_of(errors: &Errors, name: &str) -> Option<Markup> {
    errors.get(name).map(|message| {
        html! { p.field-error id={ "err-" (name) } { (crate::error::sentence(message)) } }
    })
}

/// A labelled text input that shows its error and keeps what was typed.
pub fn text_field(
    errors: &Errors,
    name: &str,
    label: &str,
    value: &str,
    kind: &str,
    hint: Option<&str>,
    extra: FieldExtra,
) -> Markup {
    let error = error_of(errors, name);
    let described = match (error.is_some(), hint.is_some()) {
        (true, true) => Some(format!("err-{name} hint-{name}")),
        (true, false) => Some(format!("err-{name}")),
        (false, true) => Some(format!("hint-{name}")),
        (false, false) => None,
    };
    html! {
        div.field.has-error[error.is_some()] {
            label for={ "f-" (name) } { (label) @if extra.required { " " span.req { "(required)" } } }
            @if let Some(hint) = hint { p.hint id={ "hint-" (name) } { (hint) } }
            @if let Some(error) = error { (error) }
            @if kind == "textarea" {
                textarea id={ "f-" (name) } name=(name) rows="5"
                    aria-describedby=[described.as_deref()]
                    aria-invalid=[errors.contains_key(name).then_some("true")]
                    required[extra.required] maxlength=[extra.maxlength] { (value) }
            } @else {
                input id={ "f-" (name) } type=(kind) name=(name) value=(value)
                    aria-describedby=[described.as_deref()]
                    aria-invalid=[errors.contains_key(name).then_some("true")]
                    required[extra.required] maxlength=[extra.maxlength]
                    autocomplete=[extra.autocomplete] inputmode=[extra.inputmode]
                    min=[extra.min] step=[extra.step];
            }
        }
    }
}

/// Optional attributes of a field.
#[derive(Debug, Default, Clone, Copy)]
pub struct FieldExtra {
    pub required: bool,
    pub maxlength: Option<usize>,
    pub autocomplete: Option<&'static str>,
    pub inputmode: Option<&'static str>,
    pub min: Option<&'static str>,
    pub step: Option<&'static str>,
}

impl FieldExtra {
    pub fn required() -> Self {
        FieldExtra {
            required: true,
            ..Self::default()
        }
    }
}

/// A labelled `<select>` with the current choice selected.
pub fn select_field(
    errors: &Errors,
    name: &str,
    label: &str,
    options: &[(&str, &str)],
    selected: &str,
) -> Markup {
    let error = error_of(errors, name);
    html! {
        div.field.has-error[error.is_some()] {
            label for={ "f-" (name) } { (label) }
            @let described = error.is_some().then(|| format!("err-{name}"));
            @if let Some(error) = error { (error) }
            select id={ "f-" (name) } name=(name)
                aria-describedby=[described] {
                @for (value, text) in options {
                    option value=(value) selected[*value == selected] { (text) }
                }
            }
        }
    }
}

/// A group of radio buttons in a fieldset with a legend.
pub fn radio_field(
    errors: &Errors,
    name: &str,
    legend: &str,
    options: &[(&str, &str)],
    selected: &str,
) -> Markup {
    let error = error_of(errors, name);
    html! {
        fieldset.field.has-error[error.is_some()] {
            legend { (legend) }
            @if let Some(error) = error { (error) }
            @for (value, text) in options {
                div.choice {
                    input type="radio" id={ "f-" (name) "-" (value) } name=(name) value=(value) checked[*value == selected];
                    label for={ "f-" (name) "-" (value) } { (text) }
                }
            }
        }
    }
}

/// A labelled checkbox.
pub fn checkbox(errors: &Errors, name: &str, label: &str, checked: bool) -> Markup {
    let error = error_of(errors, name);
    html! {
        div.field.choice.has-error[error.is_some()] {
            @if let Some(error) = error { (error) }
            input type="checkbox" id={ "f-" (name) } name=(name) value="on" checked[checked];
            label for={ "f-" (name) } { (label) }
        }
    }
}

/// A summary at the top of a form shown again, so a screen reader hears that it failed.
pub fn error_summary(errors: &Errors, message: Option<&str>) -> Markup {
    html! {
        @if !errors.is_empty() || message.is_some() {
            div.error-summary role="alert" {
                h2 { "Please correct this" }
                @if let Some(message) = message { p { (crate::error::sentence(message)) } }
                @if !errors.is_empty() {
                    ul {
                        @for (field, message) in errors {
                            li { a href={ "#f-" (field) } { (crate::error::sentence(message)) } }
                        }
                    }
                }
            }
        }
    }
}

/// A date and time as people read it, in UTC (pages know no time zone).
pub fn when(at: NaiveDateTime) -> Markup {
    html! { time datetime={ (at.format("%Y-%m-%dT%H:%M:%SZ")) } { (at.format("%-d %b %Y, %H:%M UTC")) } }
}

pub fn day(at: chrono::NaiveDate) -> Markup {
    html! { time datetime={ (at.format("%Y-%m-%d")) } { (at.format("%-d %b %Y")) } }
}

pub fn money(minor: i64, currency: &str) -> String {
    format_money(minor, currency)
}

/// A duration in the largest units that keep it readable ("3 min 20 s", "2 days 4 h").
pub fn duration(seconds: i64) -> String {
    let (d, h, m, s) = (
        seconds / 86_400,
        seconds % 86_400 / 3600,
        seconds % 3600 / 60,
        seconds % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s} s"),
        (0, 0, _) if s == 0 => format!("{m} min"),
        (0, 0, _) => format!("{m} min {s} s"),
        (0, _, _) => format!("{h} h {m} min"),
        (1, _, _) => format!("1 day {h} h"),
        _ => format!("{d} days {h} h"),
    }
}

/// A 1-5 score in words, so no rating is told by colour alone.
pub fn score_word(score: f64) -> &'static str {
    match score {
        s if s < 1.5 => "very poor",
        s if s < 2.5 => "poor",
        s if s < 3.5 => "fair",
        s if s < 4.5 => "good",
        _ => "excellent",
    }
}

/// The CSS class that colours a score (always beside its words).
pub fn score_class(score: f64) -> &'static str {
    match score {
        s if s < 2.5 => "bad",
        s if s < 3.5 => "mid",
        _ => "good",
    }
}

pub fn score_mean(mean: &ScoreMean) -> Markup {
    html! {
        @match mean.mean {
            Some(m) => span class={ "score " (score_class(m)) } { (format!("{m:.1}")) " of 5, " (score_word(m)) " " span.n { "(n=" (mean.n) ")" } },
            None => span.none { "no ratings" },
        }
    }
}

/// "3 of 10 (30%)", or "none known" when nothing was answered.
pub fn share(part: i64, whole: i64) -> String {
    if whole == 0 {
        return "none known".into();
    }
    let percent = (part as f64 * 100.0 / whole as f64).round();
    format!("{part} of {whole} ({percent}%)")
}

/// A handle such as `alice@other.example` for a remote author's actor URL.
pub fn handle_of(actor_url: &str) -> String {
    match url::Url::parse(actor_url) {
        Ok(url) => {
            let name = url
                .path_segments()
                .and_then(|mut s| s.next_back().map(str::to_owned))
                .unwrap_or_default();
            let host = match url.port() {
                Some(port) => format!("{}:{port}", url.host_str().unwrap_or("")),
                None => url.host_str().unwrap_or("").to_owned(),
            };
            format!("{name}@{host}")
        }
        Err(_) => actor_url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_in_words() {
        assert_eq!(duration(45), "45 s");
        assert_eq!(duration(200), "3 min 20 s");
        assert_eq!(duration(180), "3 min");
        assert_eq!(duration(7260), "2 h 1 min");
        assert_eq!(duration(86_400 + 3600 * 4), "1 day 4 h");
        assert_eq!(duration(3 * 86_400), "3 days 0 h");
        assert_eq!(score_word(4.6), "excellent");
        assert_eq!(score_word(1.0), "very poor");
        assert_eq!(share(3, 10), "3 of 10 (30%)");
        assert_eq!(share(0, 0), "none known");
        assert_eq!(
            handle_of("https://b.example:8080/u/alice"),
            "alice@b.example:8080"
        );
    }
}
