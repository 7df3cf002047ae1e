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
fn parse_ids(raw: &str) -> Result<Vec<String>, String> {
    let mut ids: Vec<String> = Vec::new();
    for id in raw.split(',').map(str::trim).filter(|s| !s.is_empty()) {
        if !ids.iter().any(|known| known == id) {
            ids.push(id.to_owned());
        }
    }
    if ids.is_empty() {
        return Err("give one or more requester ids, separated by commas".into());
    }
    if ids.len() > MAX_IDS {
        return Err(format!("at most {MAX_IDS} ids per request"));
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
    let answers = state.lookups.answers(&keys).await?;
    let mut body = String::with_capacity(
        2 + answers
            .iter()
            .map(|a| a.as_ref().map_or(4, |a| a.to1.len() + 20))
            .sum::<usize>(),
    );
    body.push('{');
    for (i, (id, answer)) in ids.iter().zip(&answers).enumerate() {
        if i > 0 {
            body.push(',');
        }
        // The id as asked for, which a browser may render: escaped like the values.
        body.push_str(&escape_html_in_json(&Value::String(id.clone()).to_string()));
        body.push(':');
        match answer {
            Some(answer) => body.push_str(&answer.to1),
            None => body.push_str("\"\""),
        }
    }
    body.push('}');
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

/// TO2's entries for `ids`, in order, unknown ids left out: from the cache with every field,
/// from the database for a choice of fields (rare, and never cached).
async fn to2_entries(
    state: &AppState,
    ids: Vec<String>,
    fields: Option<&str>,
) -> Result<Vec<String>, DbError> {
    match wanted(fields) {
        None => Ok(state
            .lookups
            .answers(&ids)
            .await?
            .into_iter()
            .flatten()
            .map(|answer| answer.to2.to_string())
            .collect()),
        Some(fields) => {
            let fields: Vec<String> = fields.into_iter().map(str::to_owned).collect();
            state
                .db
                .run(move |conn| {
                    let rows = requesters::by_keys(conn, Platform::Mturk.as_str(), &ids)?;
                    let found = lookups::read(conn, rows, now())?;
                    let fields: Vec<&str> = fields.iter().map(String::as_str).collect();
                    Ok(ids
                        .iter()
                        .filter_map(|id| found.get(id))
                        .map(|f| lookups::to2(f, &fields).to_string())
                        .collect())
                })
                .await
        }
    }
}

async fn to2(state: AppState, rids: &str, fields: Option<&str>) -> Response {
    let ids = match parse_ids(rids) {
        Ok(ids) => ids,
        Err(detail) => return to2_error(StatusCode::BAD_REQUEST, detail),
    };
    let entries = match to2_entries(&state, ids, fields).await {
        Ok(entries) => entries,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let mut body = String::with_capacity(32 + entries.iter().map(|e| e.len() + 1).sum::<usize>());
    body.push_str("{\"data\":[");
    for (i, entry) in entries.iter().enumerate() {
        if i > 0 {
            body.push(',');
        }
        body.push_str(entry);
    }
    body.push_str("],\"status\":200}");
    ([(header::CONTENT_TYPE, "application/json")], body).into_response()
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
    let rid = rid.trim().to_owned();
    if rid.is_empty() || rid.contains(',') {
        return to2_error(
            StatusCode::BAD_REQUEST,
            "give one requester id; for several use /requesters?rids=A1,A2".into(),
        );
    }
    match to2_entries(&state, vec![rid], query.fields.as_deref()).await {
        Ok(entries) => match entries.into_iter().next() {
            Some(entry) => (
                [(header::CONTENT_TYPE, "application/json")],
                format!("{{\"data\":{entry},\"status\":200}}"),
            )
                .into_response(),
            None => to2_error(
                StatusCode::NOT_FOUND,
                "no reviews of this requester here".into(),
            ),
        },
        Err(error) => ApiError::from(error).into_response(),
    }
}
