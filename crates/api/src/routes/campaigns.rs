//! Campaigns from a wave: opening one (a letter, a demand, a threshold), signing on from any instance, the letter as sent, and the outcome its home's admins record. The pages call the same handlers.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDate;
use picket_core::FieldErrors;
use picket_core::accounts::Role;
use picket_core::campaign::{
    CampaignTerms, Demand, InstanceCount, LetterFacts, Outcome, letter_text, validate_terms,
};
use picket_core::incident::IncidentKind;
use picket_core::platform::Platform;
use picket_core::secrets::new_public_id;
use picket_core::wave::{Wave, waves};
use picket_db::campaigns::{self, CampaignRow, CampaignScope, NewCampaign};
use picket_db::incidents::{self, ListScope, PLATFORM_WAVE_DAYS};
use picket_db::models::now;
use picket_db::requesters::{self, RequesterRow};
use picket_db::{DbConn, DbError};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, AppQuery, CurrentUser, MaybeUser};
use crate::state::AppState;
use crate::views::RequesterRef;

const NO_CAMPAIGN: &str = "no such campaign";

/// A campaign as the API shows it: never who signed, only how many on which instance.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CampaignView {
    pub id: String,
    pub platform: String,
    /// The requester written to; absent for a letter to the platform.
    pub requester: Option<RequesterRef>,
    /// The wave it comes from: the incidents' kind and the wave's first day.
    pub kind: IncidentKind,
    pub since: NaiveDate,
    pub demand: Demand,
    pub letter: String,
    pub threshold: i64,
    pub signatures: i64,
    pub counts: Vec<InstanceCount>,
    /// The threshold is reached: the home instance's admins can send the letter.
    pub ready: bool,
    pub outcome: Option<Outcome>,
    pub outcome_on: Option<NaiveDate>,
    /// The home instance of another instance's campaign (signatures are counted there).
    pub origin: Option<String>,
    pub original_url: Option<String>,
    /// Whether the signed-in worker signed; absent when signed out.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signed: Option<bool>,
    /// The letter as it goes out: the workers' words, the demand, the wave's figures and the
    /// counts, no names.
    pub letter_text: String,
    pub created_at: chrono::NaiveDateTime,
}

fn requester_of(conn: &mut DbConn, row: &CampaignRow) -> Result<Option<RequesterRow>, DbError> {
    row.requester_pk
        .map(|pk| requesters::by_pk(conn, pk))
        .transpose()
}

/// The waves of `kind` this instance counts for the requester, or for the platform as a whole.
fn waves_of(
    conn: &mut DbConn,
    requester: Option<&RequesterRow>,
    platform: Platform,
    state: &AppState,
) -> Result<Vec<Wave>, DbError> {
    let local = state.local_instance();
    let facts = match requester {
        Some(r) => incidents::wave_facts(conn, r.id, local)?,
        None => {
            let since = (now() - chrono::Duration::days(PLATFORM_WAVE_DAYS)).date();
            incidents::platform_wave_facts(conn, platform.as_str(), since, local)?
        }
    };
    Ok(waves(&facts, state.settings.wave_window_days))
}

/// The whole view of a campaign, letter included.
pub fn view(
    conn: &mut DbConn,
    row: CampaignRow,
    viewer: Option<i64>,
    state: &AppState,
) -> Result<CampaignView, DbError> {
    let requester = requester_of(conn, &row)?;
    let platform: Platform = row.platform.parse().map_err(DbError::Corrupt)?;
    let kind = row.kind()?;
    let counts = campaigns::counts(conn, &row)?;
    let signatures = counts
        .iter()
        .fold(0_i64, |sum, c| sum.saturating_add(c.signatures));
    let wave = waves_of(conn, requester.as_ref(), platform, state)?
        .into_iter()
        .find(|w| w.kind == kind && w.since == row.since);
    // The wave's figures: what its incidents reported.
    let scope = match &requester {
        Some(r) => ListScope::Requester(r.id),
        None => ListScope::Platform(platform.as_str()),
    };
    let until = wave.as_ref().map_or(row.since, |w| w.until);
    let in_wave: Vec<_> = incidents::list(conn, scope, None, 500)?
        .into_iter()
        .map(|(incident, _)| incident)
        .filter(|i| {
            i.kind == kind.as_str() && i.happened_from >= row.since && i.happened_from <= until
        })
        .collect();
    let tasks: i64 = in_wave.iter().filter_map(|i| i.tasks_affected).sum();
    let lost: i64 = in_wave.iter().filter_map(|i| i.amount_lost_minor).sum();
    let currency = in_wave
        .first()
        .map(|i| i.currency.clone())
        .unwrap_or_default();
    let money = (lost > 0).then(|| picket_core::money::format_money(lost, &currency));
    let terms: CampaignTerms = row.terms()?;
    let text = letter_text(
        &terms,
        &LetterFacts {
            requester: requester
                .as_ref()
                .map(|r| (r.name.as_str(), r.requester_id.as_str())),
            platform: platform.display_name(),
            kind,
            since: row.since,
            wave: wave.as_ref(),
            tasks_affected: (tasks > 0).then_some(tasks),
            money_lost: money.as_deref(),
        },
        &counts,
    );
    let signed = viewer
        .map(|user| campaigns::signed_by(conn, row.id, user))
        .transpose()?;
    Ok(CampaignView {
        id: row.public_id.clone(),
        platform: row.platform.clone(),
        requester: requester.as_ref().map(RequesterRef::from),
        kind,
        since: row.since,
        demand: terms.demand,
        letter: terms.letter,
        threshold: terms.threshold,
        ready: signatures >= terms.threshold,
        signatures,
        counts,
        outcome: row.outcome()?,
        outcome_on: row.outcome_on,
        origin: row.origin.clone(),
        original_url: row.ap_id.clone(),
        signed,
        letter_text: text,
        created_at: row.created_at,
    })
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CampaignQuery {
    /// Only campaigns about this platform (with `requester_id`: that requester; without: letters to the platform).
    pub platform: Option<String>,
    pub requester_id: Option<String>,
}

/// Campaigns, newest first: all, a requester's, or a platform's letters.
#[utoipa::path(get, path = "/api/v1/campaigns", operation_id = "list_campaigns", tag = "campaigns", params(CampaignQuery),
    responses((status = 200, body = Vec<CampaignView>), (status = 404, description = "unknown platform or requester")))]
pub async fn list(
    State(state): State<AppState>,
    viewer: MaybeUser,
    AppQuery(query): AppQuery<CampaignQuery>,
) -> ApiResult<Json<Vec<CampaignView>>> {
    let viewer = viewer.id();
    let key = match (&query.platform, &query.requester_id) {
        (Some(platform), Some(id)) => Some((super::requesters::parse_key(platform, id)?, true)),
        (Some(platform), None) => Some((
            (super::platforms::parse_platform(platform)?, String::new()),
            false,
        )),
        (None, Some(_)) => {
            return Err(FieldErrors::single("platform", "name the requester's platform").into());
        }
        (None, None) => None,
    };
    let shared = state.clone();
    let found = state
        .db
        .run(move |conn| {
            let rows = match &key {
                None => campaigns::list(conn, CampaignScope::All, 100)?,
                Some(((platform, id), true)) => {
                    let requester = super::requesters::find(conn, *platform, id)?;
                    campaigns::list(conn, CampaignScope::Requester(requester.id), 100)?
                }
                Some(((platform, _), false)) => {
                    campaigns::list(conn, CampaignScope::Platform(platform.as_str()), 100)?
                }
            };
            rows.into_iter()
                .map(|row| view(conn, row, viewer, &shared))
                .collect::<Result<Vec<_>, _>>()
        })
        .await
        .map_err(super::not_found_as(super::requesters::NO_REQUESTER))?;
    Ok(Json(found))
}

/// A new campaign, from one of the waves shown on a requester's or a platform's page.
#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCampaignBody {
    pub platform: String,
    /// The requester the wave is about; absent for a platform wave.
    #[serde(default)]
    pub requester_id: Option<String>,
    /// The wave: its incidents' kind and its first day.
    pub kind: IncidentKind,
    pub since: NaiveDate,
    pub demand: Demand,
    pub letter: String,
    /// Distinct workers who must sign before the letter goes.
    pub threshold: i64,
    #[serde(default)]
    pub confirm_no_worker_ids: bool,
}

/// Open a campaign from a wave; you are its first signature.
#[utoipa::path(post, path = "/api/v1/campaigns", operation_id = "create_campaign", tag = "campaigns", request_body = NewCampaignBody,
    responses((status = 201, body = CampaignView), (status = 401), (status = 403), (status = 404), (status = 422)))]
pub async fn create(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<NewCampaignBody>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    current.require_worker_voice()?;
    state.check_write_quota(current.user.id)?;
    let platform = super::platforms::parse_platform(&body.platform)?;
    let requester_id = body
        .requester_id
        .as_deref()
        .map(|id| platform.normalize_requester_id(id))
        .transpose()
        .map_err(|e| FieldErrors::single("requester_id", e))?;
    let terms = validate_terms(
        &CampaignTerms {
            demand: body.demand,
            letter: body.letter.clone(),
            threshold: body.threshold,
        },
        requester_id.as_deref().unwrap_or_default(),
        body.confirm_no_worker_ids,
    )?;
    let (author, shared) = (current.user.id, state.clone());
    let (kind, since) = (body.kind, body.since);
    let created = state
        .db
        .tx(move |conn| {
            let requester = match &requester_id {
                Some(id) => Some(super::requesters::find(conn, platform, id)?),
                None => None,
            };
            let wave_here = waves_of(conn, requester.as_ref(), platform, &shared)?
                .iter()
                .any(|w| w.kind == kind && w.since == since);
            if !wave_here {
                return Ok(None);
            }
            let row = campaigns::create(
                conn,
                NewCampaign {
                    public_id: &new_public_id(),
                    platform: platform.as_str(),
                    requester_pk: requester.as_ref().map(|r| r.id),
                    kind,
                    since,
                    terms: &terms,
                },
                author,
                shared.local_instance(),
                now(),
            )?;
            view(conn, row, Some(author), &shared).map(Some)
        })
        .await
        .map_err(super::not_found_as(super::requesters::NO_REQUESTER))?;
    let view = created.ok_or_else(|| {
        ApiError::from(FieldErrors::single(
            "since",
            "no wave of these incidents starts on that day here: open a campaign from a wave on the requester's or the platform's page",
        ))
    })?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// A campaign, with its letter as it goes out.
#[utoipa::path(get, path = "/api/v1/campaigns/{id}", operation_id = "show_campaign", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 200, body = CampaignView), (status = 404)))]
pub async fn show(
    State(state): State<AppState>,
    viewer: MaybeUser,
    Path(id): Path<String>,
) -> ApiResult<Json<CampaignView>> {
    let viewer = viewer.id();
    let shared = state.clone();
    let found = state
        .db
        .run(move |conn| {
            let row = campaigns::by_public_id(conn, &id)?;
            if picket_db::policy::is_hidden(conn, row.origin.as_deref())? {
                return Err(DbError::NotFound);
            }
            view(conn, row, viewer, &shared)
        })
        .await
        .map_err(super::not_found_as(NO_CAMPAIGN))?;
    Ok(Json(found))
}

/// Sign a campaign, once. On another instance's campaign the signature is counted there, as
/// one more from this instance; nobody learns who signed.
#[utoipa::path(post, path = "/api/v1/campaigns/{id}/signatures", operation_id = "sign_campaign", tag = "campaigns", params(("id" = String, Path)),
    responses((status = 201, body = CampaignView), (status = 401), (status = 403), (status = 404), (status = 409, description = "already signed, or closed")))]
pub async fn sign(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
) -> ApiResult<(StatusCode, Json<CampaignView>)> {
    current.require_worker_voice()?;
    state.check_write_quota(current.user.id)?;
    let (user, shared) = (current.user.id, state.clone());
    let signed = state
        .db
        .tx(move |conn| {
            let row = campaigns::by_public_id(conn, &id)?;
            if row.outcome.is_some() {
                return Err(DbError::WrongState(
                    "this campaign is over: its outcome is recorded",
                ));
            }
            let token = new_public_id();
            if !campaigns::sign(conn, &row, user, &token, shared.local_instance(), now())? {
                return Err(DbError::Conflict("signature"));
            }
            let row = campaigns::by_pk(conn, row.id)?;
            view(conn, row, Some(user), &shared)
        })
        .await
        .map_err(|e| match e {
            DbError::Conflict(_) => {
                ApiError::conflict("already_signed", "you already signed this campaign")
            }
            other => super::not_found_as(NO_CAMPAIGN)(other),
        })?;
    Ok((StatusCode::CREATED, Json(signed)))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OutcomeBody {
    pub outcome: Outcome,
    /// The day the answer came (or, for `no_answer`, the day the campaign gave up waiting).
    pub on: NaiveDate,
}

/// Record what came of a campaign of this instance's (admins, after sending the letter).
#[utoipa::path(put, path = "/api/v1/campaigns/{id}/outcome", operation_id = "campaign_outcome", tag = "campaigns", params(("id" = String, Path)), request_body = OutcomeBody,
    responses((status = 200, body = CampaignView), (status = 403), (status = 404), (status = 409, description = "another instance's campaign"), (status = 422)))]
pub async fn outcome(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(id): Path<String>,
    AppJson(body): AppJson<OutcomeBody>,
) -> ApiResult<Json<CampaignView>> {
    current.require(Role::Admin)?;
    let (user, shared) = (current.user.id, state.clone());
    let recorded = state
        .db
        .tx(move |conn| {
            let row = campaigns::by_public_id(conn, &id)?;
            if !row.is_local() {
                return Err(DbError::WrongState(
                    "this campaign's home instance records its outcome",
                ));
            }
            if body.on < row.since || body.on > now().date() {
                return Ok(None);
            }
            let row = campaigns::set_outcome(conn, &row, body.outcome, body.on, now())?;
            view(conn, row, Some(user), &shared).map(Some)
        })
        .await
        .map_err(super::not_found_as(NO_CAMPAIGN))?
        .ok_or_else(|| {
            ApiError::from(FieldErrors::single(
                "on",
                "must be between the wave's first day and today",
            ))
        })?;
    Ok(Json(recorded))
}
