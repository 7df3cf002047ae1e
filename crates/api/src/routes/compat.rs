//! Turkopticon-compatible lookups, so MTurk Suite, HIT Scraper and the Turkopticon userscripts work by changing only the host. Shapes follow what those clients parse, byte for byte.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use picket_core::platform::Platform;
use picket_db::DbError;
use picket_db::models::now;
use picket_db::requesters;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::extract::AppQuery;
use crate::lookups::{self, TO2_FIELDS, escape_html_in_json};
use crate::state::AppState;

/// Most ids one call may ask for, as the original services allowed.
pub const MAX_IDS: usize = 100;

/// The requested MTurk ids, in order, without duplicates; `None` when the list is empty or too long.
fn parse_ids(raw: &str) -> Result<Vec<&str>, String> {
    let mut ids: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::with_capacity(MAX_IDS);
    for id in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if seen.insert(id) {
            if ids.len() == MAX_IDS {
                return Err(format!("at most {MAX_IDS} ids per request"));
            }
            ids.push(id);
        }
    }
    if ids.is_empty() {
        return Err("give one or more requester ids, separated by commas".into());
    }
    Ok(ids)
}

#[derive(Debug, Deserialize)]
pub struct To1Query {
    pub ids: Option<String>,
}

/// `GET /api/multi-attrs.php?ids=A1,A2` (Turkopticon 1). Served as HTML like the original PHP
/// endpoint, because a widely used userscript parses the text itself; keys keep the asked order.
pub async fn multi_attrs(
    State(state): State<AppState>,
    AppQuery(query): AppQuery<To1Query>,
) -> Result<Response, ApiError> {
    let ids = parse_ids(query.ids.as_deref().unwrap_or_default())
        .map_err(|e| ApiError::bad_request("bad_ids", e))?;
    // Only MTurk requester IDs: the ids come back in the body, which a browser may render.
    let mut keys = Vec::with_capacity(ids.len());
    for (position, id) in ids.iter().enumerate() {
        let key = Platform::Mturk.normalize_requester_id(id).map_err(|why| {
            ApiError::bad_request(
                "bad_ids",
                format!(
                    "id number {} is not an MTurk requester ID: {why}",
                    position + 1
                ),
            )
        })?;
        keys.push(key);
    }
    let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
    let body = state
        .lookups
        .with_answers(&keys, |answers| {
            let mut body = String::with_capacity(
                2 + answers
                    .iter()
                    .map(|a| a.map_or(4, |a| a.to1().len()) + 24)
                    .sum::<usize>(),
            );
            body.push('{');
            for (i, (id, answer)) in ids.iter().zip(answers).enumerate() {
                if i > 0 {
                    body.push(',');
                }
                // The id as asked for, which a browser may render: escaped like the values
                // (an MTurk id, letters and digits, needs nothing).
                if id.bytes().all(|b| b.is_ascii_alphanumeric()) {
                    body.push('"');
                    body.push_str(id);
                    body.push('"');
                } else {
                    body.push_str(&escape_html_in_json(
                        &Value::String((*id).to_owned()).to_string(),
                    ));
                }
                body.push(':');
                match answer {
                    Some(answer) => body.push_str(answer.to1()),
                    None => body.push_str("\"\""),
                }
            }
            body.push('}');
            body
        })
        .await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Served as HTML for the old userscripts, so a browser opening it must run nothing.
            (header::CONTENT_SECURITY_POLICY, HTML_CSP),
        ],
        body,
    )
        .into_response())
}

/// What `multi-attrs.php` allows a browser to do with it: nothing (no scripts, no framing).
pub const HTML_CSP: &str = "default-src 'none'; sandbox; frame-ancestors 'none'";

fn to2_error(status: StatusCode, detail: String) -> Response {
    let title = status.canonical_reason().unwrap_or("Error");
    let body = json!({
        "errors": [{"status": status.as_u16().to_string(), "title": title, "detail": detail}],
        "status": status.as_u16(),
    });
    (status, axum::Json(body)).into_response()
}

#[derive(Debug, Deserialize)]
pub struct To2Query {
    pub rids: Option<String>,
    #[serde(rename = "fields[requesters]")]
    pub fields: Option<String>,
}

/// The fields asked for (`fields[requesters]=rid,name`), or `None` for all of them.
fn wanted(fields: Option<&str>) -> Option<Vec<&str>> {
    let list = fields?;
    let wanted: Vec<&str> = list
        .split(',')
        .map(str::trim)
        .filter(|f| TO2_FIELDS.contains(f))
        .collect();
    (wanted != TO2_FIELDS).then_some(wanted)
}

/// The TO2 body for `ids`: `head`, their entries in order joined by commas (unknown ids left
/// out), then `tail`, and how many entries it holds. From the cache with every field, from the
/// database for a choice of fields (rare, and never cached).
async fn to2_body(
    state: &AppState,
    ids: &[&str],
    fields: Option<&str>,
    (head, tail): (&str, &str),
) -> Result<(String, usize), DbError> {
    let join = |entries: &mut dyn Iterator<Item = &str>, size: usize| {
        let mut body = String::with_capacity(head.len() + size + tail.len());
        body.push_str(head);
        let mut count = 0;
        for entry in entries {
            if count > 0 {
                body.push(',');
            }
            body.push_str(entry);
            count += 1;
        }
        body.push_str(tail);
        (body, count)
    };
    match wanted(fields) {
        None => {
            state
                .lookups
                .with_answers(ids, |answers| {
                    let size = answers.iter().flatten().map(|a| a.to2().len() + 1).sum();
                    join(&mut answers.iter().flatten().map(|a| a.to2()), size)
                })
                .await
        }
        Some(fields) => {
            let fields: Vec<String> = fields.into_iter().map(str::to_owned).collect();
            let owned: Vec<String> = ids.iter().map(|id| (*id).to_owned()).collect();
            let entries: Vec<String> = state
                .db
                .run(move |conn| {
                    let rows = requesters::by_keys(conn, Platform::Mturk.as_str(), &owned)?;
                    let found = lookups::read(conn, rows, now())?;
                    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
                    Ok(owned
                        .iter()
                        .filter_map(|id| found.get(id))
                        .map(|f| lookups::to2(f, &fields).to_string())
                        .collect())
                })
                .await?;
            let size = entries.iter().map(|e| e.len() + 1).sum();
            Ok(join(&mut entries.iter().map(String::as_str), size))
        }
    }
}

async fn to2(state: AppState, rids: &str, fields: Option<&str>) -> Response {
    let ids = match parse_ids(rids) {
        Ok(ids) => ids,
        Err(detail) => return to2_error(StatusCode::BAD_REQUEST, detail),
    };
    match to2_body(&state, &ids, fields, ("{\"data\":[", "],\"status\":200}")).await {
        Ok((body, _)) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(error) => ApiError::from(error).into_response(),
    }
}

/// `GET /requesters?rids=A1,A2` (Turkopticon 2): unknown ids are left out.
pub async fn requesters(
    State(state): State<AppState>,
    query: Result<Query<To2Query>, QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return to2_error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    to2(
        state,
        query.rids.as_deref().unwrap_or_default(),
        query.fields.as_deref(),
    )
    .await
}

/// `GET /requesters/{rid}` (Turkopticon 2): one `data` object, or 404 for a requester this
/// instance has no published review of, as Turkopticon 2 answered.
pub async fn requester(
    State(state): State<AppState>,
    Path(rid): Path<String>,
    query: Result<Query<To2Query>, QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return to2_error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    let rid = rid.trim();
    if rid.is_empty() || rid.contains(',') {
        return to2_error(
            StatusCode::BAD_REQUEST,
            "give one requester id; for several use /requesters?rids=A1,A2".into(),
        );
    }
    let one = ("{\"data\":", ",\"status\":200}");
    match to2_body(&state, &[rid], query.fields.as_deref(), one).await {
        Ok((body, 1)) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Ok(_) => to2_error(
            StatusCode::NOT_FOUND,
            "no reviews of this requester here".into(),
        ),
        Err(error) => ApiError::from(error).into_response(),
    }
}
