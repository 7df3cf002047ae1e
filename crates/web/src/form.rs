//! Reading a submitted form: only from this instance's own pages, only with this browser's token.

use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Request};
use picket_api::{ApiError, AppState, CurrentUser};
use serde::de::DeserializeOwned;

use crate::PageError;

/// A form body of type `T`, accepted only when the browser says it came from our own pages
/// (`Origin` or `Sec-Fetch-Site`) and it carries the token of this browser's session (or, when
/// signed out, of its form cookie) as `csrf`.
#[derive(Debug)]
pub struct PageForm<T>(pub T);

fn forged() -> PageError {
    PageError::Api(ApiError::forbidden(
        "cross_site_request",
        "This form has expired or was sent from another site. Go back, reload the page and send it again.",
    ))
}

impl<T: DeserializeOwned> FromRequest<AppState> for PageForm<T> {
    type Rejection = PageError;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, PageError> {
        let (mut parts, body) = request.into_parts();
        if !picket_api::same_origin(state, &parts.headers) {
            return Err(forged());
        }
        let signed_in = CurrentUser::from_request_parts(&mut parts, state)
            .await
            .is_ok();
        let (expected, _) = crate::context::expected_token(&parts, state, signed_in);
        let bytes = Bytes::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|_| {
                PageError::Api(ApiError::bad_request(
                    "bad_form",
                    "The form could not be read (it may be too large).",
                ))
            })?;
        let pairs: Vec<(String, String)> = serde_urlencoded::from_bytes(&bytes).map_err(|_| {
            PageError::Api(ApiError::bad_request(
                "bad_form",
                "The form could not be read.",
            ))
        })?;
        let sent = pairs
            .iter()
            .find(|(name, _)| name == "csrf")
            .map(|(_, value)| value.as_str());
        match (expected.as_deref(), sent) {
            (Some(expected), Some(sent)) if constant_eq(expected, sent) => {}
            _ => return Err(forged()),
        }
        let value = serde_urlencoded::from_bytes(&bytes).map_err(|e| {
            PageError::Api(ApiError::bad_request(
                "bad_form",
                format!("The form could not be read: {e}."),
            ))
        })?;
        Ok(PageForm(value))
    }
}

/// Compares tokens without an early exit, so timing tells nothing about how much matched.
fn constant_eq(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// A checkbox: present when ticked.
pub fn ticked(value: &Option<String>) -> bool {
    value.is_some()
}

/// Optional text from a form: empty means absent.
pub fn text(value: &Option<String>) -> Option<String> {
    value
        .as_deref()
        .map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_compare_whole() {
        assert!(constant_eq("abc", "abc"));
        assert!(!constant_eq("abc", "abd"));
        assert!(!constant_eq("abc", "ab"));
        assert!(!constant_eq("", "a"));
    }
}
