//! Moderation over the API: workers' reports, the moderators' queue and its resolutions, removing incidents, suspending and approving accounts, the public moderation log (JSON and Atom), and the domain lists this instance publishes for others to subscribe to.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::NaiveDateTime;
use picket_core::accounts::Role;
use picket_core::moderation::{
    ReportReason, Resolution, TargetType, validate_reason, validate_report_text,
};
use picket_core::secrets::new_public_id;
use picket_db::events::{self, EventKind, ObjectType};
use picket_db::models::now;
use picket_db::moderation::{self, Acting, ModlogRow, NewReport, ReportRow};
use picket_db::policy::{self, RuleKind};
use picket_db::{DbConn, DbError, users};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, CurrentUser};
use crate::state::AppState;
use crate::views::{Page, PageQuery};

/// The role a moderator acts in, and their name where the instance shows names in the log:
/// owned, so a transaction's closure can carry it.
#[derive(Debug)]
pub struct ActingAs {
    pub role: String,
    pub name: Option<String>,
}

impl ActingAs {
    pub fn get(&self) -> Acting<'_> {
        Acting {
            role: &self.role,
            name: self.name.as_deref(),
        }
    }
}

pub fn acting(state: &AppState, current: &CurrentUser) -> ActingAs {
    ActingAs {
        role: current.role().as_str().to_owned(),
        name: state
            .settings
            .show_moderator_names
            .then(|| current.user.username.clone()),
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    pub target_type: TargetType,
    /// The review's, incident's or corroboration's id here, the account's username, or another
    /// instance's account by its actor URL.
    pub target: String,
    pub reason: ReportReason,
    /// Required for `other`; at most 1000 characters.
    #[serde(default)]
    pub text: String,
    /// For another instance's content or account: also tell its moderators (default false:
    /// the reporter chooses to). The report goes from this instance, never naming the reporter.
    #[serde(default)]
    pub forward: bool,
}

/// A report as moderators see it: what and why, never who reported it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ReportView {
    pub id: String,
    pub target_type: String,
    /// The id here (or username), or for another instance's content its URL.
    pub target: String,
    pub reason: String,
    /// The rule in words.
    pub reason_label: String,
    pub text: String,
    /// The instance that forwarded it; absent for reports made here.
    pub origin: Option<String>,
    /// `open` or `resolved`.
    pub state: String,
    pub action: Option<String>,
    pub resolution: Option<String>,
    pub created_at: NaiveDateTime,
    pub resolved_at: Option<NaiveDateTime>,
}

impl ReportView {
    fn new(row: ReportRow) -> Self {
        let label = row
            .reason
            .parse::<ReportReason>()
            .map_or_else(|_| row.reason.clone(), |r| r.label().to_owned());
        ReportView {
            id: row.public_id,
            target_type: row.target_type,
            target: row.target,
            reason: row.reason,
            reason_label: label,
            text: row.text,
            origin: row.origin,
            state: row.state,
            action: row.action,
            resolution: row.resolution,
            created_at: row.created_at,
            resolved_at: row.resolved_at,
        }
    }
}

/// What a report names, as stored: the local id, or for a copy of another instance's content
/// its ActivityPub id (the report then also goes there).
fn report_target(
    conn: &mut DbConn,
    target_type: TargetType,
    target: &str,
) -> Result<(String, bool), DbError> {
    match target_type {
        TargetType::Account if target.contains("://") => {
            // Another instance's account, known here by its actor URL.
            let actor = picket_db::actors::remote(conn, target)?.ok_or(DbError::NotFound)?;
            Ok((actor.url, true))
        }
        TargetType::Account => {
            let user = users::by_username(conn, &target.to_ascii_lowercase())?;
            Ok((user.username, false))
        }
        _ => {
            let held = moderation::held(conn, target_type, target)?;
            if !held.published {
                return Err(DbError::NotFound);
            }
            Ok(match held.ap_id {
                Some(ap_id) => (ap_id, true),
                None => (held.public_id, false),
            })
        }
    }
}

/// Report a review, incident, corroboration or account. Moderators see the report without the
/// reporter; a report of another instance's content also goes to its moderators, from this
/// instance, naming nobody.
#[utoipa::path(post, path = "/api/v1/reports", tag = "moderation", request_body = ReportBody,
    responses((status = 201, body = ReportView), (status = 401), (status = 404, description = "no such content or account"),
        (status = 409, description = "already reported"), (status = 422), (status = 429)))]
pub async fn report(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<ReportBody>,
) -> ApiResult<(StatusCode, Json<ReportView>)> {
    current.require_worker_voice()?;
    state.check_write_quota(current.user.id)?;
    let text = validate_report_text(body.reason, &body.text)?;
    let reporter = current.user.id;
    let row = state
        .db
        .tx(move |conn| {
            let (target, remote) = report_target(conn, body.target_type, body.target.trim())?;
            let at = now();
            let row = moderation::create_report(
                conn,
                NewReport {
                    public_id: &new_public_id(),
                    target_type: body.target_type,
                    target: &target,
                    reason: body.reason,
                    text: &text,
                    reporter_id: Some(reporter),
                    origin: None,
                },
                at,
            )?;
            if remote && body.forward {
                events::record(
                    conn,
                    ObjectType::Report,
                    EventKind::Create,
                    &row.public_id,
                    at,
                )?;
            }
            Ok(row)
        })
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => {
                ApiError::conflict("already_reported", "you already reported this; it is open")
            }
            DbError::NotFound => ApiError::not_found("no such content or account"),
            other => other.into(),
        })?;
    Ok((StatusCode::CREATED, Json(ReportView::new(row))))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct QueueQuery {
    /// `open` (default) or `resolved`.
    pub state: Option<String>,
    pub limit: Option<i64>,
    pub before: Option<i64>,
}

/// The moderation queue (moderators).
#[utoipa::path(get, path = "/api/v1/moderation/reports", tag = "moderation", params(QueueQuery),
    responses((status = 200, body = Page<ReportView>), (status = 401), (status = 403)))]
pub async fn queue(
    State(state): State<AppState>,
    current: CurrentUser,
    Query(query): Query<QueueQuery>,
) -> ApiResult<Json<Page<ReportView>>> {
    current.require(Role::Moderator)?;
    let open = match query.state.as_deref() {
        None | Some("open") => true,
        Some("resolved") => false,
        Some(_) => {
            return Err(picket_core::FieldErrors::single("state", "`open` or `resolved`").into());
        }
    };
    let paging = PageQuery {
        limit: query.limit,
        before: query.before,
    };
    let limit = paging.limit();
    let page = state
        .db
        .run(move |conn| {
            let rows = moderation::reports_page(conn, open, paging.before, limit + 1)?;
            Page::of(rows, limit, |r| r.id, |r| Ok(ReportView::new(r)))
        })
        .await?;
    Ok(Json(page))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// `dismiss`, `remove` (the content) or `suspend` (its local author, or the account).
    pub action: Resolution,
    /// Required: the public log shows it.
    pub reason: String,
}

/// The local public id of a report's content target, and its local author's username.
fn content_here(
    conn: &mut DbConn,
    report: &ReportRow,
    target_type: TargetType,
) -> Result<(String, Option<String>), DbError> {
    let (public_id, author_id) = match target_type {
        // Another instance's account has no author here to suspend.
        TargetType::Account if report.target.contains("://") => {
            return Ok((report.target.clone(), None));
        }
        TargetType::Account => return Ok((report.target.clone(), Some(report.target.clone()))),
        _ => {
            let held = moderation::held(conn, target_type, &report.target)?;
            (held.public_id, held.author_id)
        }
    };
    let author = author_id
        .map(|id| users::by_id(conn, id).map(|u| u.username))
        .transpose()?;
    Ok((public_id, author))
}

/// Resolve a report (moderators): dismiss it, remove the content, or suspend the account.
#[utoipa::path(post, path = "/api/v1/moderation/reports/{id}/resolution", tag = "moderation", params(("id" = String, Path)),
    request_body = ResolveBody,
    responses((status = 200, body = ReportView), (status = 401), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn resolve(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<ResolveBody>,
) -> ApiResult<Json<ReportView>> {
    current.require(Role::Moderator)?;
    let reason = validate_reason(&body.reason)?;
    if body.action == Resolution::Suspend {
        // Moderators suspend workers; only admins suspend moderators and admins.
        let report_id = id.clone();
        let author = state
            .db
            .run(move |conn| {
                let report = moderation::report_by_public_id(conn, &report_id)?;
                let target_type: TargetType =
                    report.target_type.parse().map_err(DbError::Corrupt)?;
                content_here(conn, &report, target_type).map(|(_, author)| author)
            })
            .await
            .map_err(super::not_found_as(
                "no such report, or its content is gone",
            ))?;
        if let Some(author) = author {
            require_power_over(&state, &current, &author).await?;
        }
    }
    let acting_as = acting(&state, &current);
    let row = state
        .db
        .tx(move |conn| {
            let acting = acting_as.get();
            let at = now();
            let report = moderation::report_by_public_id(conn, &id)?;
            if !report.is_open() {
                return Err(DbError::WrongState("this report is already resolved"));
            }
            let target_type: TargetType = report.target_type.parse().map_err(DbError::Corrupt)?;
            match body.action {
                Resolution::Dismiss => moderation::log_action(
                    conn,
                    acting,
                    picket_core::moderation::ModAction::DismissReport,
                    ("report", &report.public_id),
                    &reason,
                    at,
                )?,
                Resolution::Remove => {
                    if target_type == TargetType::Account {
                        return Err(DbError::WrongState(
                            "an account is suspended, not removed",
                        ));
                    }
                    let (public_id, _) = content_here(conn, &report, target_type)?;
                    moderation::set_content_removed(
                        conn,
                        acting,
                        target_type,
                        &public_id,
                        Some(&reason),
                        at,
                    )?;
                }
                Resolution::Suspend => {
                    let (_, author) = content_here(conn, &report, target_type)?;
                    let author = author.ok_or(DbError::WrongState(
                        "the author is not an account here: block their instance, or leave it to their moderators",
                    ))?;
                    moderation::set_suspended(conn, acting, &author, true, &reason, at)?;
                }
            }
            moderation::resolve_report(conn, &report, body.action, &reason, at)
        })
        .await
        .map_err(super::not_found_as("no such report, or its content is gone"))?;
    Ok(Json(ReportView::new(row)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    /// Required: the public log shows it.
    pub reason: String,
}

/// Remove an incident report from public view and from waves (moderators). It can be restored.
#[utoipa::path(post, path = "/api/v1/incidents/{id}/removal", tag = "moderation", params(("id" = String, Path)), request_body = ReasonBody,
    responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn remove_incident(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<ReasonBody>,
) -> ApiResult<StatusCode> {
    current.require(Role::Moderator)?;
    let reason = validate_reason(&body.reason)?;
    set_incident_removal(state, current, id, Some(reason)).await
}

/// Restore a removed incident report (moderators).
#[utoipa::path(delete, path = "/api/v1/incidents/{id}/removal", tag = "moderation", params(("id" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn restore_incident(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<StatusCode> {
    current.require(Role::Moderator)?;
    set_incident_removal(state, current, id, None).await
}

async fn set_incident_removal(
    state: AppState,
    current: CurrentUser,
    id: String,
    reason: Option<String>,
) -> ApiResult<StatusCode> {
    let acting_as = acting(&state, &current);
    state
        .db
        .tx(move |conn| {
            let acting = acting_as.get();
            moderation::set_content_removed(
                conn,
                acting,
                TargetType::Incident,
                &id,
                reason.as_deref(),
                now(),
            )
        })
        .await
        .map_err(super::not_found_as("no such incident"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// Moderators may act on workers; only admins on moderators and admins.
async fn require_power_over(
    state: &AppState,
    current: &CurrentUser,
    username: &str,
) -> Result<(), ApiError> {
    current.require(Role::Moderator)?;
    let name = username.to_owned();
    let target = state
        .db
        .run(move |conn| users::by_username(conn, &name))
        .await
        .map_err(super::not_found_as("no such account"))?;
    if target.role() >= Role::Moderator {
        current.require(Role::Admin)?;
    }
    Ok(())
}

/// Suspend a local account (moderators): its sessions and tokens end at once, it cannot sign
/// in, and other instances hide what they hold of it.
#[utoipa::path(post, path = "/api/v1/moderation/accounts/{username}/suspension", tag = "moderation", params(("username" = String, Path)),
    request_body = ReasonBody, responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn suspend(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
    AppJson(body): AppJson<ReasonBody>,
) -> ApiResult<StatusCode> {
    set_suspension(state, current, username, true, body).await
}

/// Lift a suspension (moderators).
#[utoipa::path(delete, path = "/api/v1/moderation/accounts/{username}/suspension", tag = "moderation", params(("username" = String, Path)),
    request_body = ReasonBody, responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn unsuspend(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
    AppJson(body): AppJson<ReasonBody>,
) -> ApiResult<StatusCode> {
    set_suspension(state, current, username, false, body).await
}

async fn set_suspension(
    state: AppState,
    current: CurrentUser,
    username: String,
    suspend: bool,
    body: ReasonBody,
) -> ApiResult<StatusCode> {
    let username = username.to_ascii_lowercase();
    require_power_over(&state, &current, &username).await?;
    let reason = validate_reason(&body.reason)?;
    let acting_as = acting(&state, &current);
    state
        .db
        .tx(move |conn| {
            let acting = acting_as.get();
            moderation::set_suspended(conn, acting, &username, suspend, &reason, now())
        })
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PendingAccount {
    pub username: String,
    pub created_at: NaiveDateTime,
}

/// Registrations waiting for approval in `approval` mode (moderators).
#[utoipa::path(get, path = "/api/v1/moderation/accounts/pending", tag = "moderation",
    responses((status = 200, body = Vec<PendingAccount>), (status = 403)))]
pub async fn pending(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<Json<Vec<PendingAccount>>> {
    current.require(Role::Moderator)?;
    let rows = state.db.run(moderation::pending_accounts).await?;
    Ok(Json(
        rows.into_iter()
            .map(|u| PendingAccount {
                username: u.username,
                created_at: u.created_at,
            })
            .collect(),
    ))
}

/// Approve a waiting registration (moderators).
#[utoipa::path(post, path = "/api/v1/moderation/accounts/{username}/approval", tag = "moderation", params(("username" = String, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn approve(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    current.require(Role::Moderator)?;
    let username = username.to_ascii_lowercase();
    let acting_as = acting(&state, &current);
    state
        .db
        .tx(move |conn| {
            let acting = acting_as.get();
            moderation::approve(conn, acting, &username, now())
        })
        .await
        .map_err(super::not_found_as("no such account"))?;
    Ok(StatusCode::NO_CONTENT)
}

/// One entry of the public moderation log.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct ModlogEntry {
    pub id: i64,
    pub at: NaiveDateTime,
    pub action: String,
    pub target_type: String,
    pub target: String,
    pub reason: String,
    /// `moderator`, `admin`, or `remote` for a removal by the content's home instance.
    pub role: String,
    /// Only where the instance shows moderators' names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moderator: Option<String>,
    /// For a removal received from another instance: that instance.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl From<ModlogRow> for ModlogEntry {
    fn from(row: ModlogRow) -> Self {
        ModlogEntry {
            id: row.id,
            at: row.at,
            action: row.action,
            target_type: row.target_type,
            target: row.target,
            reason: row.reason,
            role: row.role,
            moderator: row.moderator,
            origin: row.origin,
        }
    }
}

/// The public moderation log, newest first: every action of this instance's moderators and
/// admins, and every removal received from another instance.
#[utoipa::path(get, path = "/api/v1/modlog", tag = "moderation", params(PageQuery),
    responses((status = 200, body = Page<ModlogEntry>)))]
pub async fn modlog(
    State(state): State<AppState>,
    Query(paging): Query<PageQuery>,
) -> ApiResult<Json<Page<ModlogEntry>>> {
    let limit = paging.limit();
    let page = state
        .db
        .run(move |conn| {
            let rows = moderation::modlog_page(conn, paging.before, limit + 1)?;
            Page::of(rows, limit, |r| r.id, |r| Ok(ModlogEntry::from(r)))
        })
        .await?;
    Ok(Json(page))
}

/// The instance's own domain list of `kind`, in Mastodon's CSV format: what other collectives
/// subscribe to.
async fn published_list(state: AppState, kind: RuleKind) -> ApiResult<impl IntoResponse> {
    let list = state
        .db
        .run(move |conn| policy::local_list(conn, kind))
        .await?;
    Ok(([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], list))
}

/// The domains this instance blocks, as Mastodon's CSV.
#[utoipa::path(get, path = "/api/v1/federation/blocks.csv", tag = "moderation",
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn blocks_csv(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    published_list(state, RuleKind::Block).await
}

/// The domains this instance allows, as Mastodon's CSV.
#[utoipa::path(get, path = "/api/v1/federation/allows.csv", tag = "moderation",
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn allows_csv(State(state): State<AppState>) -> ApiResult<impl IntoResponse> {
    published_list(state, RuleKind::Allow).await
}
