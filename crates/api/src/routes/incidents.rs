//! Incident endpoints: report, read, edit, delete, status changes, and corroborations ("this happened to me too").

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use picket_core::incident::{
    CorroborationInput, IncidentInput, IncidentStatus, validate_corroboration, validate_incident,
    validate_status_note,
};
use picket_core::secrets::new_public_id;
use picket_db::incidents::{self, IncidentRow, Waves};
use picket_db::models::now;
use picket_db::requesters::{self, RequesterRow};
use picket_db::{DbConn, DbError};
use serde::Deserialize;

use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, CurrentUser, MaybeUser, Unknown};
use crate::state::AppState;
use crate::views::{CorroborationView, IncidentView};

/// What a 404 says when the id names nothing.
const NO_INCIDENT: &str = "no such incident";

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct IncidentBody {
    /// The author confirms that text flagged as looking like an MTurk worker ID is not one.
    #[serde(default)]
    pub confirm_no_worker_ids: bool,
    #[serde(flatten)]
    pub incident: IncidentInput,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: Unknown,
}

/// An incident as the API shows it, with its status history and its counts of corroborations and comments.
pub fn view(
    conn: &mut DbConn,
    row: IncidentRow,
    requester: Option<&RequesterRow>,
    author: Option<String>,
) -> Result<IncidentView, DbError> {
    let history = incidents::status_history(conn, row.id)?;
    let count = incidents::corroborations_of(conn, row.id)?.len() as i64;
    let comments = picket_db::comments::count(conn, picket_db::comments::Parent::Incident(row.id))?;
    IncidentView::new(row, requester, author, history, (count, comments))
}

fn load(
    conn: &mut DbConn,
    id: &str,
) -> Result<(IncidentRow, Option<RequesterRow>, Option<String>), DbError> {
    let row = incidents::by_public_id(conn, id)?;
    let requester = row
        .requester_pk
        .map(|pk| requesters::by_pk(conn, pk))
        .transpose()?;
    let author = super::author_name(conn, row.author_id)?;
    Ok((row, requester, author))
}

fn require_published(row: &IncidentRow) -> Result<(), ApiError> {
    if row.is_published() {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::GONE,
            "deleted",
            "this incident report was deleted or removed",
        ))
    }
}

/// The waves a local write about `requester` (or, naming none, about `platform`) may start.
fn waves<'a>(
    state: &'a AppState,
    requester: Option<&'a RequesterRow>,
    platform: &'a str,
    at: NaiveDateTime,
) -> Waves<'a> {
    Waves {
        requester,
        platform,
        window_days: state.settings.wave_window_days,
        local_instance: state.local_instance(),
        at,
    }
}

/// Report an incident. A requester named here is created on first mention.
#[utoipa::path(post, path = "/api/v1/incidents", operation_id = "create_incident", tag = "incidents", request_body = IncidentBody,
    responses((status = 201, body = IncidentView), (status = 401), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<IncidentBody>,
) -> ApiResult<(StatusCode, Json<IncidentView>)> {
    current.require_worker_voice()?;
    state.check_write_quota(current.user.id)?;
    body.unknown.reject()?;
    let incident = validate_incident(&body.incident, now().date(), body.confirm_no_worker_ids)?;
    let (author, username) = (current.user.id, current.user.username.clone());
    let shared = state.clone();
    let view = state
        .db
        .tx(move |conn| {
            let at = now();
            let requester = match (&incident.requester_id, &incident.requester_name) {
                (Some(id), name) => Some(requesters::mention(
                    conn,
                    incident.platform.as_str(),
                    id,
                    name.as_deref().unwrap_or(id),
                    None,
                    at,
                )?),
                (None, _) => None,
            };
            let row = incidents::create(
                conn,
                &new_public_id(),
                author,
                &incident,
                waves(&shared, requester.as_ref(), incident.platform.as_str(), at),
            )?;
            view(conn, row, requester.as_ref(), Some(username.clone()))
        })
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// Read an incident report with its status history.
#[utoipa::path(get, path = "/api/v1/incidents/{id}", operation_id = "show_incident", tag = "incidents", params(("id" = String, Path)),
    responses((status = 200, body = IncidentView), (status = 404), (status = 410)))]
pub async fn show(
    State(state): State<AppState>,
    viewer: MaybeUser,
    Path(id): Path<String>,
) -> ApiResult<Json<IncidentView>> {
    let can_moderate = viewer.can_moderate();
    let view = state
        .db
        .run(move |conn| {
            let (row, requester, author) = load(conn, &id)?;
            if !can_moderate && picket_db::policy::is_hidden(conn, row.origin.as_deref())? {
                return Ok(Err(ApiError::not_found(NO_INCIDENT)));
            }
            if !row.is_published() && !can_moderate {
                let (code, message) = match &row.removed_reason {
                    Some(reason) if row.state == "removed" => (
                        "removed",
                        format!("moderators removed this incident report: {reason}"),
                    ),
                    _ => (
                        "deleted",
                        "its author deleted this incident report".to_owned(),
                    ),
                };
                return Ok(Err(ApiError::new(StatusCode::GONE, code, message)));
            }
            Ok(Ok(view(conn, row, requester.as_ref(), author)?))
        })
        .await
        .map_err(super::not_found_as(NO_INCIDENT))??;
    Ok(Json(view))
}

/// Replace an incident report's content (the author only).
#[utoipa::path(put, path = "/api/v1/incidents/{id}", operation_id = "edit_incident", tag = "incidents", params(("id" = String, Path)), request_body = IncidentBody,
    responses((status = 200, body = IncidentView), (status = 403), (status = 404), (status = 422)))]
pub async fn edit(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<IncidentBody>,
) -> ApiResult<Json<IncidentView>> {
    body.unknown.reject()?;
    let incident = validate_incident(&body.incident, now().date(), body.confirm_no_worker_ids)?;
    let (row, _, author) = {
        let id = id.clone();
        state
            .db
            .run(move |conn| load(conn, &id))
            .await
            .map_err(super::not_found_as(NO_INCIDENT))?
    };
    super::require_author(row.author_id, &current, "incident report")?;
    require_published(&row)?;
    let view = state
        .db
        .tx(move |conn| {
            let at = now();
            let requester = match &incident.requester_id {
                Some(rid) => Some(requesters::mention(
                    conn,
                    incident.platform.as_str(),
                    rid,
                    incident.requester_name.as_deref().unwrap_or(rid),
                    None,
                    at,
                )?),
                None => None,
            };
            let updated =
                incidents::update(conn, &row, &incident, requester.as_ref().map(|r| r.id), at)?;
            view(conn, updated, requester.as_ref(), author.clone())
        })
        .await?;
    Ok(Json(view))
}

/// Delete an incident report (the author only); its corroborations go with it.
#[utoipa::path(delete, path = "/api/v1/incidents/{id}", operation_id = "delete_incident", tag = "incidents", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn delete(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let (row, _, _) = state
        .db
        .run(move |conn| load(conn, &id))
        .await
        .map_err(super::not_found_as(NO_INCIDENT))?;
    super::require_author(row.author_id, &current, "incident report")?;
    require_published(&row)?;
    state
        .db
        .erase(move |conn| incidents::delete(conn, &row, now()))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    /// `open`, `resolved` or `reversed`.
    pub status: IncidentStatus,
    /// What happened, e.g. "requester reversed 80 of 120 rejections".
    #[serde(default)]
    pub note: Option<String>,
}

/// Change an incident's status (its author or a moderator); every change is kept in its history.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/status", tag = "incidents", params(("id" = String, Path)), request_body = StatusChange,
    responses((status = 200, body = IncidentView), (status = 403), (status = 404), (status = 422)))]
pub async fn change_status(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<StatusChange>,
) -> ApiResult<Json<IncidentView>> {
    let (row, requester, author) = state
        .db
        .run(move |conn| load(conn, &id))
        .await
        .map_err(super::not_found_as(NO_INCIDENT))?;
    // After the load: the note may name the incident's own requester, not anything else ID-shaped.
    let note = validate_status_note(
        body.note.as_deref(),
        requester.as_ref().map_or("", |r| r.requester_id.as_str()),
    )?;
    if row.author_id != Some(current.user.id) && !current.role().can_moderate() {
        return Err(ApiError::forbidden(
            "not_author",
            "only the author or a moderator can change the status",
        ));
    }
    require_published(&row)?;
    let view = state
        .db
        .tx(move |conn| {
            let updated = incidents::set_status(conn, &row, body.status, note.as_deref(), now())?;
            view(conn, updated, requester.as_ref(), author.clone())
        })
        .await?;
    Ok(Json(view))
}

/// Corroborations of an incident, oldest first.
#[utoipa::path(get, path = "/api/v1/incidents/{id}/corroborations", tag = "incidents", params(("id" = String, Path)),
    responses((status = 200, body = Vec<CorroborationView>), (status = 404)))]
pub async fn list_corroborations(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> ApiResult<Json<Vec<CorroborationView>>> {
    let views = state
        .db
        .run(move |conn| {
            let row = incidents::by_public_id(conn, &id)?;
            if !row.is_published() {
                return Err(DbError::NotFound);
            }
            Ok(incidents::corroborations_of(conn, row.id)?
                .into_iter()
                .map(|(c, author)| CorroborationView::new(c, author))
                .collect())
        })
        .await
        .map_err(super::not_found_as(NO_INCIDENT))?;
    Ok(Json(views))
}

/// "This happened to me too": one per worker and incident.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/corroborations", tag = "incidents", params(("id" = String, Path)),
    request_body = CorroborateBody,
    responses((status = 201, body = CorroborationView), (status = 401), (status = 404), (status = 409, description = "already corroborated"), (status = 422)))]
pub async fn corroborate(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<CorroborateBody>,
) -> ApiResult<(StatusCode, Json<CorroborationView>)> {
    current.require_worker_voice()?;
    state.check_write_quota(current.user.id)?;
    body.unknown.reject()?;
    let requester_id = {
        let id = id.clone();
        state
            .db
            .run(move |conn| Ok(load(conn, &id)?.1.map(|r| r.requester_id)))
            .await
            .map_err(super::not_found_as(NO_INCIDENT))?
    };
    let input = validate_corroboration(
        &body.corroboration,
        requester_id.as_deref().unwrap_or_default(),
        body.confirm_no_worker_ids,
    )?;
    let (author, username) = (current.user.id, current.user.username.clone());
    let shared = state.clone();
    let view = state
        .db
        .tx(move |conn| {
            let (row, requester, _) = load(conn, &id)?;
            if !row.is_published() {
                return Err(DbError::NotFound);
            }
            if row.author_id == Some(author) {
                return Err(DbError::WrongState(
                    "this is your own report: you cannot corroborate it",
                ));
            }
            let created = incidents::corroborate(
                conn,
                &new_public_id(),
                row.id,
                author,
                &input,
                waves(&shared, requester.as_ref(), &row.platform, now()),
            )?;
            Ok(CorroborationView::new(created, Some(username.clone())))
        })
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => ApiError::conflict(
                "already_corroborated",
                "you already corroborated this incident",
            ),
            other => super::not_found_as(NO_INCIDENT)(other),
        })?;
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
pub struct CorroborateBody {
    #[serde(default)]
    pub confirm_no_worker_ids: bool,
    #[serde(flatten)]
    pub corroboration: CorroborationInput,
    #[serde(flatten)]
    #[schema(ignore)]
    pub unknown: Unknown,
}

/// Withdraw one's own corroboration.
#[utoipa::path(delete, path = "/api/v1/incidents/{id}/corroborations/mine", tag = "incidents", params(("id" = String, Path)),
    responses((status = 204), (status = 401), (status = 404)))]
pub async fn withdraw(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    let author = current.user.id;
    // A withdrawal erases the note's words: `erase` folds them out of SQLite's WAL too.
    state
        .db
        .erase(move |conn| {
            let row = incidents::by_public_id(conn, &id)?;
            incidents::withdraw_corroboration(conn, row.id, author, now())
        })
        .await
        .map_err(super::not_found_as(NO_INCIDENT))?;
    Ok(StatusCode::NO_CONTENT)
}
