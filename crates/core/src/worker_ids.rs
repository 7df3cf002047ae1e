//! Finds text shaped like an MTurk worker ID: such IDs lead to a worker's Amazon profile, so publishing one can expose a worker to retaliation.

/// URL parameters MTurk fills with a worker's own identifiers when it opens a task: a pasted task
/// link carries them, and the assignment ID leads back to the worker as surely as the worker ID.
const IDENTIFYING_PARAMS: &[&str] = &["workerId", "assignmentId"];

/// What MTurk puts in `assignmentId` on a preview, before anyone accepted the task: names nobody.
const PREVIEW_ASSIGNMENT: &str = "ASSIGNMENT_ID_NOT_AVAILABLE";

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

/// The identifying URL parameters (`workerId=…`, `assignmentId=…`) that `text` carries with a
/// value, whatever the value's shape and the parameter's case; in the order of `IDENTIFYING_PARAMS`.
pub fn find_worker_id_params(text: &str) -> Vec<&'static str> {
    let lower = text.to_ascii_lowercase();
    IDENTIFYING_PARAMS
        .iter()
        .copied()
        .filter(|param| {
            let needle = format!("{}=", param.to_ascii_lowercase());
            lower.match_indices(&needle).any(|(at, _)| {
                // A parameter stands alone: `xworkerId=` is some other parameter.
                let starts_token = lower[..at]
                    .chars()
                    .next_back()
                    .is_none_or(|c| !c.is_ascii_alphanumeric());
                let value: String = text[at + needle.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                starts_token && !value.is_empty() && value != PREVIEW_ASSIGNMENT
            })
        })
        .collect()
}

/// What is wrong with `text`, if it seems to carry a worker's identifier: the message for the
/// first worker-ID-shaped token or identifying URL parameter. `can_confirm` says whether the
/// field's input has the `confirm_no_worker_ids` override, so the message points to it or not.
pub fn worker_id_problem(
    text: &str,
    exclude_requester_id: &str,
    can_confirm: bool,
) -> Option<String> {
    if let Some(id) = find_worker_ids(text, exclude_requester_id)
        .into_iter()
        .next()
    {
        return Some(id_message(&id, can_confirm));
    }
    find_worker_id_params(text).first().map(|param| {
        format!(
            "contains an MTurk `{param}=` URL parameter; it identifies the worker who opened the task. \
             Remove the parameter (or the whole link)"
        )
    })
}

/// The message shown when a field seems to contain a worker ID; only a prefix of the ID is echoed.
pub fn worker_id_message(id: &str) -> String {
    id_message(id, true)
}

fn id_message(id: &str, can_confirm: bool) -> String {
    let prefix: String = id.chars().take(4).collect();
    let what = format!(
        "contains something that looks like an MTurk worker ID ({prefix}…); worker IDs identify workers' Amazon profiles."
    );
    if can_confirm {
        format!("{what} Remove it, or confirm it is not one (confirm_no_worker_ids)")
    } else {
        format!("{what} Remove it")
    }
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

    #[test]
    fn finds_identifying_url_parameters() {
        let link =
            "https://worker.mturk.com/projects/X/tasks?assignment_id=1&workerId=abc123&hitId=H";
        assert_eq!(find_worker_id_params(link), ["workerId"]);
        assert_eq!(
            find_worker_id_params("see ?AssignmentID=3XYZ&WORKERID=q"),
            ["workerId", "assignmentId"]
        );
        assert!(
            find_worker_id_params("workerId= nothing").is_empty(),
            "no value"
        );
        assert!(
            find_worker_id_params("?assignmentId=ASSIGNMENT_ID_NOT_AVAILABLE").is_empty(),
            "a preview names nobody"
        );
        assert!(
            find_worker_id_params("myworkerId=1").is_empty(),
            "another parameter"
        );
        assert!(find_worker_id_params("the workerId was shown").is_empty());
    }

    #[test]
    fn problems_point_to_the_override_only_where_there_is_one() {
        let with = worker_id_problem("A1B2C3D4E5F6G7", "AREQ", true).expect("found");
        assert!(with.contains("confirm_no_worker_ids"));
        let without = worker_id_problem("A1B2C3D4E5F6G7", "AREQ", false).expect("found");
        assert!(!without.contains("confirm_no_worker_ids"), "{without}");
        assert!(without.contains("A1B2…"));
        let param = worker_id_problem("?workerId=xyz", "AREQ", true).expect("found");
        assert!(param.contains("workerId="), "{param}");
        assert_eq!(worker_id_problem("fine text", "AREQ", false), None);
    }
}
