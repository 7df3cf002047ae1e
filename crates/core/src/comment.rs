//! Comments on reviews and incidents: what a worker (or a requester's own voice) may write, checked by the same worker-ID guard as every other text.

use serde::{Deserialize, Serialize};

use crate::review::{check_length, guard_worker_ids};
use crate::validation::FieldErrors;

/// Longest comment, in characters: a few paragraphs, like a reply on a forum.
pub const COMMENT_BODY_MAX_CHARS: usize = 5000;

/// A new comment as the API accepts it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CommentInput {
    pub body: String,
    /// The public id of the comment this answers. Threads are one level deep: an answer to an
    /// answer is shown under the comment that started it.
    #[serde(default)]
    pub reply_to: Option<String>,
    /// Set when text flagged as an MTurk worker ID is not one.
    #[serde(default)]
    pub confirm_no_worker_ids: bool,
}

/// The comment's text as it will be stored: trimmed, not empty, not too long, and free of
/// anything that looks like a worker ID unless the author said otherwise. `requester_id` is the
/// requester the commented content is about (its own ID is no worker's).
pub fn validate_comment(
    body: &str,
    requester_id: &str,
    allow_worker_ids: bool,
) -> Result<String, FieldErrors> {
    let mut errors = FieldErrors::new();
    let body = body.trim().to_owned();
    if body.is_empty() {
        errors.add("body", "write something");
    }
    check_length(&mut errors, "body", Some(&body), COMMENT_BODY_MAX_CHARS);
    guard_worker_ids(
        &mut errors,
        "body",
        Some(&body),
        requester_id,
        allow_worker_ids,
    );
    errors.into_result()?;
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_comment_is_trimmed_and_must_say_something() {
        assert_eq!(
            validate_comment("  same here \n", "", false).unwrap(),
            "same here"
        );
        let errors = validate_comment(" \n ", "", false).unwrap_err();
        assert_eq!(errors.fields()["body"], "write something");
    }

    #[test]
    fn a_long_comment_is_refused_with_the_limit() {
        let errors = validate_comment(&"x".repeat(5001), "", false).unwrap_err();
        assert!(errors.fields()["body"].contains("5000"), "{errors:?}");
        assert!(validate_comment(&"x".repeat(5000), "", false).is_ok());
    }

    #[test]
    fn worker_ids_need_the_authors_word() {
        let errors = validate_comment("mine is A3KQ9ZP1X0WBTR", "", false).unwrap_err();
        assert!(errors.fields()["body"].contains("A3KQ…"), "{errors:?}");
        assert!(validate_comment("mine is A3KQ9ZP1X0WBTR", "", true).is_ok());
        // The requester's own ID is no worker's.
        assert!(validate_comment("A3KQ9ZP1X0WBTR pays late", "A3KQ9ZP1X0WBTR", false).is_ok());
    }
}
