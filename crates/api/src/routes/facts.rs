//! Requester transparency: the facts workers know about who is behind a requester, each with its sources and its edit history. The requester page's form calls the same handlers.

use axum::Json;
use axum::extract::{Path, State};
use picket_core::FieldErrors;
use picket_core::fact::{FactField, FactInput, ValidFact, validate_fact};
use picket_core::secrets::new_public_id;
use picket_db::facts::{self, FactWithAuthor};
use picket_db::models::now;
use picket_db::{DbConn, DbError};
use serde::{Deserialize, Serialize};

use super::requesters::{NO_REQUESTER, find, parse_key};
use crate::error::ApiResult;
use crate::extract::{AppJson, CurrentUser, MaybeUser};
use crate::state::AppState;

/// One version of one fact.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FactView {
    pub id: String,
    pub field: FactField,
    /// The field in words.
    pub label: &'static str,
    /// Absent when removed, for all but moderators.
    pub value: Option<String>,
    pub sources: Vec<String>,
    /// The local author's username; absent for other instances' versions.
    pub author: Option<String>,
    /// The instance the version was written on, for other instances' versions.
    pub origin: Option<String>,
    pub original_url: Option<String>,
    pub remote_author: Option<String>,
    /// `published` or `removed`.
    pub state: String,
    pub removed_reason: Option<String>,
    pub created_at: chrono::NaiveDateTime,
}

impl FactView {
    fn new((row, author): FactWithAuthor, show_removed: bool) -> Result<Self, DbError> {
        let field: FactField = row.field.parse().map_err(DbError::Corrupt)?;
        let shown = row.is_published() || show_removed;
        Ok(FactView {
            id: row.public_id.clone(),
            field,
            label: field.label(),
            sources: if shown { row.sources() } else { Vec::new() },
            value: shown.then(|| row.value.clone()),
            author,
            origin: row.origin,
            original_url: row.ap_id,
            remote_author: row.remote_author,
            state: row.state,
            removed_reason: row.removed_reason,
            created_at: row.created_at,
        })
    }
}

/// What is known about who is behind a requester.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FactsView {
    /// The newest published version of each field, in the order of the fields.
    pub facts: Vec<FactView>,
    /// Every version, newest first (removed ones show only their reason, except to moderators).
    pub history: Vec<FactView>,
}

/// The facts about `requester_pk`, as `show_removed` (moderators) or anyone reads them.
pub fn facts_of(
    conn: &mut DbConn,
    requester_pk: i64,
    show_removed: bool,
) -> Result<FactsView, DbError> {
    let versions = facts::history(conn, requester_pk)?;
    let mut current: Vec<FactView> = Vec::new();
    for field in FactField::ALL {
        if let Some(newest) = versions
            .iter()
            .find(|(row, _)| row.is_published() && row.field == field.as_str())
        {
            current.push(FactView::new(newest.clone(), false)?);
        }
    }
    let history: Vec<FactView> = versions
        .into_iter()
        .map(|entry| FactView::new(entry, show_removed))
        .collect::<Result<_, _>>()?;
    Ok(FactsView {
        facts: current,
        history,
    })
}

/// The facts about a requester, with their history.
#[utoipa::path(get, path = "/api/v1/requesters/{platform}/{requester_id}/facts", operation_id = "requester_facts", tag = "requesters",
    params(("platform" = String, Path), ("requester_id" = String, Path)),
    responses((status = 200, body = FactsView), (status = 404, description = "unknown requester")))]
pub async fn show(
    State(state): State<AppState>,
    viewer: MaybeUser,
    Path((platform, id)): Path<(String, String)>,
) -> ApiResult<Json<FactsView>> {
    let (platform, id) = parse_key(&platform, &id)?;
    let show_removed = viewer.can_moderate();
    let view = state
        .db
        .run(move |conn| {
            let requester = find(conn, platform, &id)?;
            facts_of(conn, requester.id, show_removed)
        })
        .await
        .map_err(super::not_found_as(NO_REQUESTER))?;
    Ok(Json(view))
}

/// New versions of some facts; a field left out keeps its fact.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FactsBody {
    pub organisation: Option<FactInput>,
    /// One of `company`, `university_lab`, `platform`, `data_broker`, `unknown`.
    pub kind: Option<FactInput>,
    pub contact: Option<FactInput>,
    pub purpose: Option<FactInput>,
    pub data_uses: Option<FactInput>,
    /// The author confirms that text flagged as looking like an MTurk worker ID is not one.
    #[serde(default)]
    pub confirm_no_worker_ids: bool,
}

impl FactsBody {
    fn fields(&self) -> [(FactField, Option<&FactInput>); 5] {
        [
            (FactField::Organisation, self.organisation.as_ref()),
            (FactField::Kind, self.kind.as_ref()),
            (FactField::Contact, self.contact.as_ref()),
            (FactField::Purpose, self.purpose.as_ref()),
            (FactField::DataUses, self.data_uses.as_ref()),
        ]
    }
}

/// Edit facts about a requester: each changed field becomes a new version under your name,
/// kept in the history. Personal information beyond business details is refused.
#[utoipa::path(put, path = "/api/v1/requesters/{platform}/{requester_id}/facts", operation_id = "edit_requester_facts", tag = "requesters",
    params(("platform" = String, Path), ("requester_id" = String, Path)), request_body = FactsBody,
    responses((status = 200, body = FactsView), (status = 401), (status = 403), (status = 404, description = "unknown requester"), (status = 422)))]
pub async fn edit(
    State(state): State<AppState>,
    current: CurrentUser,
    Path((platform, id)): Path<(String, String)>,
    AppJson(body): AppJson<FactsBody>,
) -> ApiResult<Json<FactsView>> {
    current.require_worker_voice()?;
    state.check_write_quota(current.user.id)?;
    let (platform, id) = parse_key(&platform, &id)?;
    let mut errors = FieldErrors::new();
    let mut valid: Vec<ValidFact> = Vec::new();
    for (field, input) in body.fields() {
        let Some(input) = input else { continue };
        match validate_fact(field, input, &id, body.confirm_no_worker_ids) {
            Ok(fact) => valid.push(fact),
            Err(found) => {
                for (name, message) in found.fields() {
                    errors.add(name, message.clone());
                }
            }
        }
    }
    if valid.is_empty() && errors.is_empty() {
        errors.add("facts", "give at least one fact");
    }
    errors.into_result()?;
    let author = current.user.id;
    let show_removed = current.role().can_moderate();
    let view = state
        .db
        .tx(move |conn| {
            let requester = find(conn, platform, &id)?;
            let before = facts_of(conn, requester.id, false)?;
            let at = now();
            for fact in &valid {
                // The same words and sources again are no new version.
                let unchanged = before.facts.iter().any(|f| {
                    f.field == fact.field
                        && f.value.as_deref() == Some(fact.value.as_str())
                        && f.sources == fact.sources
                });
                if !unchanged {
                    facts::create(conn, &new_public_id(), requester.id, fact, author, at)?;
                }
            }
            facts_of(conn, requester.id, show_removed)
        })
        .await
        .map_err(super::not_found_as(NO_REQUESTER))?;
    Ok(Json(view))
}
