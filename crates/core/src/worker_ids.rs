//! Finds text shaped like an MTurk worker ID: such IDs lead to a worker's Amazon profile, so publishing one can expose a worker to retaliation.

/// Tokens that are exactly `A` plus 11 to 14 capital letters or digits, standing alone (not part of
/// a longer run of letters and digits), other than the reviewed requester's own ID; in order, once each.
pub fn find_worker_ids(text: &str, exclude_requester_id: &str) -> Vec<String> {
    let mut found: Vec<String> = Vec::new();
    for token in text.split(|c: char| !c.is_ascii_alphanumeric()) {
        let shaped = token.starts_with('A')
            && (12..=15).contains(&token.len())
            && token
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit());
        if shaped
            && !token.eq_ignore_ascii_case(exclude_requester_id)
            && !found.iter().any(|f| f == token)
        {
            found.push(token.to_owned());
        }
    }
    found
}

/// The message shown when a field seems to contain a worker ID; only a prefix of the ID is echoed.
pub fn worker_id_message(id: &str) -> String {
    let prefix: String = id.chars().take(4).collect();
    format!(
        "contains something that looks like an MTurk worker ID ({prefix}…); worker IDs identify workers' Amazon profiles. \
         Remove it, or confirm it is not one (confirm_no_worker_ids)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_standalone_worker_ids_only() {
        assert_eq!(
            find_worker_ids("id A1B2C3D4E5F6G7.", "AREQ"),
            ["A1B2C3D4E5F6G7"]
        );
        assert!(find_worker_ids("xA1B2C3D4E5F6G7", "AREQ").is_empty());
        assert!(
            find_worker_ids("A1B2C3D4E5F6G7X9Z", "AREQ").is_empty(),
            "too long"
        );
        assert!(find_worker_ids("A12345", "AREQ").is_empty(), "too short");
        assert!(
            find_worker_ids("a1b2c3d4e5f6g7", "AREQ").is_empty(),
            "lowercase"
        );
        assert!(
            find_worker_ids("by A1B2C3D4E5F6G7", "a1b2c3d4e5f6g7").is_empty(),
            "the requester itself"
        );
        assert_eq!(
            find_worker_ids("A1B2C3D4E5F6G7 and A1B2C3D4E5F6G7, AZZZZZZZZZZZ", "AREQ"),
            ["A1B2C3D4E5F6G7", "AZZZZZZZZZZZ"]
        );
        assert!(worker_id_message("A1B2C3D4E5F6G7").contains("A1B2…"));
        assert!(!worker_id_message("A1B2C3D4E5F6G7").contains("A1B2C3"));
    }
}
