//! Turkopticon-compatible lookups, so MTurk Suite, HIT Scraper and the Turkopticon userscripts work by changing only the host. Shapes follow what those clients parse, byte for byte.

use std::collections::HashMap;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use picket_core::aggregate::{Aggregates, ScoreMean, WindowStats};
use picket_core::platform::Platform;
use picket_db::models::now;
use picket_db::requesters::{self, AliasRow, RequesterRow};
use picket_db::{DbError, stats};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::ApiError;
use crate::extract::AppQuery;
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

/// What both lookups need about each known requester.
struct Found {
    row: RequesterRow,
    aliases: Vec<String>,
    aggregates: Aggregates,
}

/// Looks the ids up as MTurk requesters with at least one published review: one query for the
/// rows, one for cached aggregates, one for aliases.
async fn lookup(state: &AppState, ids: Vec<String>) -> Result<HashMap<String, Found>, DbError> {
    state
        .db
        .run(move |conn| {
            let rows = requesters::by_keys(conn, Platform::Mturk.as_str(), &ids)?;
            let pks: Vec<i64> = rows.iter().map(|r| r.id).collect();
            let mut aggregates = stats::get_many(conn, &pks, now())?;
            let aliases: Vec<AliasRow> = requesters::aliases(conn, &pks)?;
            Ok(rows
                .into_iter()
                .filter_map(|row| {
                    let aggregates = aggregates.remove(&row.id)?;
                    // A requester known only from a draft, an incident or an import without
                    // reviews has nothing to rate: the clients must see it as unknown, not as 0.00.
                    if aggregates.all.n == 0 {
                        return None;
                    }
                    let aliases = aliases
                        .iter()
                        .filter(|a| a.requester_pk == row.id)
                        .map(|a| a.name.clone())
                        .collect();
                    Some((
                        row.requester_id.clone(),
                        Found {
                            row,
                            aliases,
                            aggregates,
                        },
                    ))
                })
                .collect())
        })
        .await
}

/// TO1 prints scores as strings with exactly two decimals.
fn score(mean: &ScoreMean) -> String {
    format!("{:.2}", mean.mean.unwrap_or(0.0))
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
    let found = lookup(&state, keys.clone()).await?;
    let mut body = String::from("{");
    for (i, (id, key)) in ids.iter().zip(&keys).enumerate() {
        if i > 0 {
            body.push(',');
        }
        let value = match found.get(key) {
            Some(f) => {
                let all = &f.aggregates.all;
                json!({
                    "name": f.row.name,
                    "attrs": {
                        "comm": score(&all.communication),
                        "pay": score(&all.pay),
                        "fair": score(&all.fairness),
                        "fast": score(&all.promptness),
                    },
                    "reviews": all.n,
                    "tos_flags": all.tos,
                })
            }
            None => Value::String(String::new()),
        };
        body.push_str(&Value::String(id.clone()).to_string());
        body.push(':');
        body.push_str(&value.to_string());
    }
    body.push('}');
    Ok((
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            // Served as HTML for the old userscripts, so a browser opening it must run nothing.
            (header::CONTENT_SECURITY_POLICY, HTML_CSP),
        ],
        escape_html_in_json(&body),
    )
        .into_response())
}

/// What `multi-attrs.php` allows a browser to do with it: nothing (no scripts, no framing).
pub const HTML_CSP: &str = "default-src 'none'; sandbox; frame-ancestors 'none'";

/// Writes `<`, `>` and `&` as JSON's `\u003c`, `\u003e` and `\u0026`. In JSON these characters
/// only ever occur inside strings, where the escapes mean the same characters, so every JSON
/// parser reads the same values while an HTML parser never sees a tag or an entity.
fn escape_html_in_json(json: &str) -> String {
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            other => out.push(other),
        }
    }
    out
}

/// One TO2 window: exactly the seven keys clients read (a missing or extra key breaks them).
fn to2_window(stats: &WindowStats) -> Value {
    let pay = stats
        .hourly
        .iter()
        .find(|h| h.currency == "USD")
        .or_else(|| stats.hourly.first());
    // TO2's sum is of rewards without bonuses; clients divide it by the time themselves.
    let (sum_reward, sum_time, n) = pay.map_or((0.0, 0, 0), |h| {
        (
            picket_core::money::to_major(h.sum_reward_minor, &h.currency),
            h.sum_time_seconds,
            h.n,
        )
    });
    json!({
        "reward": [sum_reward, sum_time, n],
        "pending": stats.decision_mean_seconds,
        "comm": [stats.communication_good, stats.communication.n, stats.n],
        "recommend": [stats.recommend_yes, stats.recommend_answered, stats.n],
        "rejected": [stats.rejected, stats.rejected_answered, stats.n],
        "tos": [stats.tos, stats.n],
        "broken": [stats.broken, stats.n],
    })
}

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

const TO2_FIELDS: &[&str] = &["rid", "name", "aliases", "aggregates"];

async fn to2(state: AppState, rids: &str, fields: Option<&str>) -> Response {
    let ids = match parse_ids(rids) {
        Ok(ids) => ids,
        Err(detail) => return to2_error(StatusCode::BAD_REQUEST, detail),
    };
    let wanted: Vec<&str> = match fields {
        Some(list) => list
            .split(',')
            .map(str::trim)
            .filter(|f| TO2_FIELDS.contains(f))
            .collect(),
        None => TO2_FIELDS.to_vec(),
    };
    let found = match lookup(&state, ids.clone()).await {
        Ok(found) => found,
        Err(error) => return ApiError::from(error).into_response(),
    };
    let data: Vec<Value> = ids
        .iter()
        .filter_map(|id| found.get(id))
        .map(|f| {
            let mut attributes = serde_json::Map::new();
            for field in &wanted {
                let value = match *field {
                    "rid" => json!(f.row.requester_id),
                    "name" => json!(f.row.name),
                    "aliases" => json!(f.aliases),
                    _ => json!({"all": to2_window(&f.aggregates.all), "recent": to2_window(&f.aggregates.days90)}),
                };
                attributes.insert((*field).to_owned(), value);
            }
            json!({"type": "requesters", "id": f.row.requester_id, "attributes": attributes})
        })
        .collect();
    axum::Json(json!({"data": data, "status": 200})).into_response()
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

/// `GET /requesters/{rid}` (Turkopticon 2), the same shape for one id.
pub async fn requester(
    State(state): State<AppState>,
    Path(rid): Path<String>,
    query: Result<Query<To2Query>, QueryRejection>,
) -> Response {
    let query = match query {
        Ok(Query(query)) => query,
        Err(rejection) => return to2_error(StatusCode::BAD_REQUEST, rejection.body_text()),
    };
    to2(state, &rid, query.fields.as_deref()).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_characters_are_escaped_and_json_reads_the_same() {
        let json = json!({"name": "<script>alert('x')</script> & co", "n": 1}).to_string();
        let escaped = escape_html_in_json(&json);
        assert!(!escaped.contains(['<', '>', '&']), "{escaped}");
        assert_eq!(
            serde_json::from_str::<Value>(&escaped).expect("still JSON"),
            serde_json::from_str::<Value>(&json).expect("JSON")
        );
    }
}
