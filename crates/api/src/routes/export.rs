//! Bulk exports for advocacy (every requester with its aggregates, streamed page by page, never built in memory) and a worker's export of their own data.

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};
use picket_core::aggregate::{Aggregates, WindowStats};
use picket_db::models::now;
use picket_db::requesters::{self, RequesterRow};
use picket_db::{Db, DbError, delivery, follows, incidents, moderation, reviews, sessions, stats};
use serde_json::{Value, json};

use crate::error::ApiResult;
use crate::extract::CurrentUser;
use crate::state::AppState;

/// Requesters per database round trip while streaming an export.
const PAGE: i64 = 500;

/// The two export formats: each knows its framing and how to write one requester.
#[derive(Debug, Clone, Copy)]
enum Format {
    Csv,
    Json,
}

const WINDOWS: [&str; 3] = ["all", "days90", "days30"];
const WINDOW_COLUMNS: [&str; 13] = [
    "reviews",
    "currency",
    "hourly_median",
    "hourly_q1",
    "hourly_q3",
    "hourly_n",
    "hourly_ratio_of_sums",
    "decision_median_seconds",
    "rejected_share",
    "recommend_share",
    "tos",
    "broken",
    "unpaid_screener",
];

fn csv_header() -> String {
    let mut columns = vec![
        "platform".to_owned(),
        "requester_id".to_owned(),
        "name".to_owned(),
    ];
    for window in WINDOWS {
        columns.extend(WINDOW_COLUMNS.iter().map(|c| format!("{window}_{c}")));
    }
    columns.extend(
        [
            "pay_mean",
            "fairness_mean",
            "promptness_mean",
            "communication_mean",
        ]
        .map(String::from),
    );
    columns.join(",") + "\n"
}

/// A text cell as a spreadsheet should read it: one starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return would be taken for a formula (CSV injection), so it gets a leading `'`, which
/// spreadsheets show as text. Only free text goes through here (platform, requester ID, name,
/// currency): numeric cells are written by us and a negative number must stay a number.
fn text_cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

fn share(count: i64, of: i64) -> String {
    if of == 0 {
        String::new()
    } else {
        format!("{:.4}", count as f64 / of as f64)
    }
}

fn window_cells(stats: &WindowStats) -> Vec<String> {
    let major = |minor: i64, currency: &str| {
        format!("{:.2}", picket_core::money::to_major(minor, currency))
    };
    let pay = stats.hourly.first();
    vec![
        stats.n.to_string(),
        pay.map(|h| text_cell(&h.currency)).unwrap_or_default(),
        pay.map(|h| major(h.median_minor, &h.currency))
            .unwrap_or_default(),
        pay.map(|h| major(h.q1_minor, &h.currency))
            .unwrap_or_default(),
        pay.map(|h| major(h.q3_minor, &h.currency))
            .unwrap_or_default(),
        pay.map(|h| h.n.to_string()).unwrap_or_default(),
        pay.map(|h| major(h.ratio_of_sums_minor, &h.currency))
            .unwrap_or_default(),
        stats
            .decision_median_seconds
            .map(|s| s.to_string())
            .unwrap_or_default(),
        share(stats.rejected, stats.rejected_answered),
        share(stats.recommend_yes, stats.recommend_answered),
        stats.tos.to_string(),
        stats.broken.to_string(),
        stats.unpaid_screener.to_string(),
    ]
}

fn csv_record(row: &RequesterRow, aggregates: &Aggregates) -> Result<Vec<u8>, csv::Error> {
    let mut cells = vec![
        text_cell(&row.platform),
        text_cell(&row.requester_id),
        text_cell(&row.name),
    ];
    for stats in [&aggregates.all, &aggregates.days90, &aggregates.days30] {
        cells.extend(window_cells(stats));
    }
    let all = &aggregates.all;
    for mean in [&all.pay, &all.fairness, &all.promptness, &all.communication] {
        cells.push(mean.mean.map(|m| format!("{m:.2}")).unwrap_or_default());
    }
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&cells)?;
    writer
        .into_inner()
        .map_err(|e| csv::Error::from(e.into_error()))
}

fn json_record(row: &RequesterRow, aggregates: &Aggregates) -> Value {
    json!({
        "platform": row.platform,
        "requester_id": row.requester_id,
        "name": row.name,
        "aggregates": {"all": aggregates.all, "days90": aggregates.days90, "days30": aggregates.days30},
    })
}

/// Streams every requester in key order through a small channel, so memory stays flat however many there are.
fn stream(db: Db, format: Format) -> Body {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        let opening = match format {
            Format::Csv => csv_header(),
            Format::Json => "[".to_owned(),
        };
        if tx.send(Ok(Bytes::from(opening))).await.is_err() {
            return;
        }
        let mut after = 0;
        let mut first = true;
        loop {
            let page = db
                .run(move |conn| {
                    let rows = requesters::page(conn, after, PAGE)?;
                    let pks: Vec<i64> = rows.iter().map(|r| r.id).collect();
                    let aggregates = stats::get_many(conn, &pks, now())?;
                    Ok((rows, aggregates))
                })
                .await;
            let (rows, aggregates) = match page {
                Ok(page) => page,
                Err(error) => {
                    tracing::error!(%error, "export failed part-way");
                    let _ = tx.send(Err(std::io::Error::other(error.to_string()))).await;
                    return;
                }
            };
            let Some(last) = rows.last() else { break };
            after = last.id;
            let mut chunk = Vec::new();
            for row in &rows {
                let Some(agg) = aggregates.get(&row.id) else {
                    continue;
                };
                match format {
                    Format::Csv => match csv_record(row, agg) {
                        Ok(bytes) => chunk.extend(bytes),
                        Err(error) => tracing::error!(%error, "cannot write a CSV record"),
                    },
                    Format::Json => {
                        if !first {
                            chunk.push(b',');
                        }
                        first = false;
                        chunk.extend(json_record(row, agg).to_string().into_bytes());
                    }
                }
            }
            if tx.send(Ok(Bytes::from(chunk))).await.is_err() {
                return;
            }
        }
        if let Format::Json = format {
            let _ = tx.send(Ok(Bytes::from_static(b"]"))).await;
        }
    });
    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|item| (item, rx))
    });
    Body::from_stream(stream)
}

/// All requesters with their aggregates as CSV (one row each, windows side by side).
#[utoipa::path(get, path = "/api/v1/export/requesters.csv", tag = "export", responses((status = 200, content_type = "text/csv")))]
pub async fn requesters_csv(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"picket-requesters.csv\"",
            ),
        ],
        stream(state.db.clone(), Format::Csv),
    )
        .into_response()
}

/// All requesters with their aggregates as a JSON array.
#[utoipa::path(get, path = "/api/v1/export/requesters.json", tag = "export", responses((status = 200, content_type = "application/json")))]
pub async fn requesters_json(State(state): State<AppState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, "application/json"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"picket-requesters.json\"",
            ),
        ],
        stream(state.db.clone(), Format::Json),
    )
        .into_response()
}

/// Everything this instance holds about the signed-in worker, machine-readable.
#[utoipa::path(get, path = "/api/v1/account/export", tag = "export", responses((status = 200, body = Object), (status = 401)))]
pub async fn own_data(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<Json<Value>> {
    let user = current.user.clone();
    let data = state
        .db
        .run(move |conn| {
            let own_reviews = reviews::list_by_author(conn, user.id, false, None, None)?
                .into_iter()
                .map(|(row, requester)| {
                    let history = reviews::history(conn, row.id)?;
                    Ok(json!({
                        "id": row.public_id,
                        "state": row.state,
                        "requester": {"platform": requester.platform, "requester_id": requester.requester_id, "name": requester.name},
                        "content": row.content()?,
                        "created_at": row.created_at,
                        "updated_at": row.updated_at,
                        "published_at": row.published_at,
                        "removed_reason": row.removed_reason,
                        "earlier_versions": history.iter().map(|e| json!({"replaced_at": e.edited_at, "content": serde_json::from_str::<Value>(&e.previous).unwrap_or(Value::Null)})).collect::<Vec<_>>(),
                    }))
                })
                .collect::<Result<Vec<_>, DbError>>()?;
            let own_incidents = incidents::list_by_author(conn, user.id)?
                .into_iter()
                .map(|row| {
                    let requester = row.requester_pk.map(|pk| requesters::by_pk(conn, pk)).transpose()?;
                    super::incidents::view(conn, row, requester.as_ref(), Some(user.username.clone()))
                })
                .collect::<Result<Vec<_>, DbError>>()?;
            let corroborations = incidents::corroborations_by_author(conn, user.id)?;
            let followed = follows::followed(conn, user.id)?;
            let followed_platforms = follows::followed_platforms(conn, user.id)?;
            let comments = picket_db::comments::by_author(conn, user.id)?;
            let facts = picket_db::facts::by_author(conn, user.id)?;
            let signed = picket_db::campaigns::signed_campaigns(conn, user.id)?;
            let notifications = follows::notifications(conn, user.id, false, None, i64::MAX)?;
            let remote_follows = delivery::follows_of(conn, &format!("u/{}", user.username))?;
            // Labels and dates only: a token's secret exists nowhere, and its digest stays put.
            let tokens = sessions::token_labels(conn, user.id)?;
            let reports = moderation::reports_by(conn, user.id)?;
            Ok(json!({
                "account": {"username": user.username, "email": user.email, "role": user.role, "created_at": user.created_at},
                "reviews": own_reviews,
                "incidents": own_incidents,
                "corroborations": corroborations.iter().map(|c| json!({
                    "id": c.public_id, "tasks_affected": c.tasks_affected, "amount_lost_minor": c.amount_lost_minor,
                    "note": c.note, "created_at": c.created_at,
                })).collect::<Vec<_>>(),
                "follows": followed.iter().map(|r| json!({"platform": r.platform, "requester_id": r.requester_id, "name": r.name})).collect::<Vec<_>>(),
                "followed_platforms": followed_platforms,
                "comments": comments.iter().map(|c| json!({
                    "id": c.public_id, "body": c.body, "state": c.state, "created_at": c.created_at,
                })).collect::<Vec<_>>(),
                "facts": facts.iter().map(|f| json!({
                    "id": f.public_id, "field": f.field, "value": f.value, "sources": f.sources(), "created_at": f.created_at,
                })).collect::<Vec<_>>(),
                "campaigns_signed": signed,
                "notifications": notifications.iter().map(|(n, r)| json!({
                    "kind": n.kind, "subject": n.subject, "message": n.message,
                    "requester": r.as_ref().map(|r| json!({"platform": r.platform, "requester_id": r.requester_id, "name": r.name})),
                    "platform": n.platform,
                    "created_at": n.created_at, "read_at": n.read_at,
                })).collect::<Vec<_>>(),
                "remote_follows": remote_follows.iter().map(|f| json!({
                    "actor": f.remote_actor, "state": f.state,
                })).collect::<Vec<_>>(),
                "api_tokens": tokens.iter().map(|t| json!({"label": t.label, "created_at": t.created_at})).collect::<Vec<_>>(),
                "reports": reports.iter().map(|r| json!({
                    "id": r.public_id, "target_type": r.target_type, "target": r.target,
                    "reason": r.reason, "text": r.text, "state": r.state, "created_at": r.created_at,
                })).collect::<Vec<_>>(),
            }))
        })
        .await?;
    Ok(Json(data))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_cells_that_look_like_formulas_are_defused() {
        for formula in [
            "=HYPERLINK(\"http://x\")",
            "+1",
            "-2+3",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(text_cell(formula), format!("'{formula}"));
        }
        assert_eq!(text_cell("Acme = good"), "Acme = good");
        assert_eq!(text_cell(""), "");
    }

    #[test]
    fn a_record_defuses_its_name_and_keeps_its_numbers() {
        let at = now();
        let row = RequesterRow {
            id: 1,
            platform: "other".into(),
            requester_id: "-lab".into(),
            name: "=cmd|' /C calc'!A0".into(),
            name_lower: String::new(),
            created_at: at,
            updated_at: at,
        };
        let aggregates = picket_core::aggregate::aggregate(&[], at);
        let bytes = csv_record(&row, &aggregates).expect("record");
        let text = String::from_utf8(bytes).expect("utf-8");
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(text.as_bytes());
        let record = reader.records().next().expect("a record").expect("CSV");
        assert_eq!(&record[0], "other");
        assert_eq!(&record[1], "'-lab");
        assert_eq!(&record[2], "'=cmd|' /C calc'!A0");
        // Numeric cells are ours and never prefixed.
        assert_eq!(&record[3], "0");
        assert!(
            record.iter().skip(3).all(|cell| !cell.starts_with('\'')),
            "{text}"
        );
    }
}
