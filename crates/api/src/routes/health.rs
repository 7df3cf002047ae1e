//! `GET /healthz`: what load balancers and service managers poll.

use axum::Json;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::state::AppState;

/// 200 when the database answers, 503 otherwise.
pub async fn healthz(
    axum::extract::State(state): axum::extract::State<AppState>,
) -> (StatusCode, Json<Value>) {
    if state.db.ping().await {
        (StatusCode::OK, Json(json!({"status": "ok"})))
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(
                json!({"status": "unavailable", "error": "unavailable", "message": "the database does not answer"}),
            ),
        )
    }
}
