//! The instance as admins run it: its name, description, rules and registration mode, domain rules, list subscriptions and federation peers.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::NaiveDateTime;
use picket_core::FieldErrors;
use picket_core::accounts::{RegistrationMode, Role};
use picket_core::moderation::{normalize_domain, validate_reason};
use picket_db::models::now;
use picket_db::policy::{self, RuleKind};
use picket_db::{delivery, settings};
use serde::{Deserialize, Serialize};

use crate::error::{ApiError, ApiResult};
use crate::extract::{AppJson, CurrentUser};
use crate::state::AppState;

/// Longest instance name.
const NAME_MAX_CHARS: usize = 80;
/// Longest description or rules text.
const TEXT_MAX_CHARS: usize = 10_000;

/// What the instance says about itself (every page's header, `/about`, NodeInfo).
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstanceView {
    pub name: String,
    pub description: String,
    pub rules: String,
    /// `open`, `approval` or `invite`.
    pub registration: RegistrationMode,
}

/// The instance's settings as they apply now: what admins set, else the config file's values.
pub async fn instance_view(state: &AppState) -> ApiResult<InstanceView> {
    let stored = state.db.run(settings::get).await?;
    Ok(InstanceView {
        name: stored.name.unwrap_or_else(|| {
            state
                .settings
                .public_url
                .host_str()
                .unwrap_or("Picket")
                .to_owned()
        }),
        description: stored.description.unwrap_or_default(),
        rules: stored.rules.unwrap_or_default(),
        registration: stored
            .registration
            .and_then(|mode| mode.parse().ok())
            .unwrap_or(state.settings.registration),
    })
}

/// The instance's name, description, rules and registration mode.
#[utoipa::path(get, path = "/api/v1/instance", tag = "admin", responses((status = 200, body = InstanceView)))]
pub async fn instance(State(state): State<AppState>) -> ApiResult<Json<InstanceView>> {
    Ok(Json(instance_view(&state).await?))
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    pub rules: String,
    pub registration: RegistrationMode,
}

fn checked_text(errors: &mut FieldErrors, field: &str, text: &str, max: usize) -> Option<String> {
    let text = text.trim();
    if text.chars().count() > max {
        errors.add(field, format!("must be at most {max} characters"));
        return None;
    }
    if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\r' && c != '\t')
    {
        errors.add(field, "must not contain control characters");
        return None;
    }
    (!text.is_empty()).then(|| text.replace("\r\n", "\n"))
}

/// Change the instance's name, description, rules and registration mode (admins).
#[utoipa::path(put, path = "/api/v1/admin/settings", tag = "admin", request_body = SettingsBody,
    responses((status = 200, body = InstanceView), (status = 403), (status = 422)))]
pub async fn save_settings(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<SettingsBody>,
) -> ApiResult<Json<InstanceView>> {
    current.require(Role::Admin)?;
    let mut errors = FieldErrors::new();
    let name = checked_text(&mut errors, "name", &body.name, NAME_MAX_CHARS);
    if name.is_none() && !errors.fields().contains_key("name") {
        errors.add("name", "must not be empty");
    }
    let description = checked_text(
        &mut errors,
        "description",
        &body.description,
        TEXT_MAX_CHARS,
    );
    let rules = checked_text(&mut errors, "rules", &body.rules, TEXT_MAX_CHARS);
    errors.into_result()?;
    let registration = body.registration;
    state
        .db
        .tx(move |conn| {
            let at = now();
            settings::set(conn, settings::NAME, name.as_deref(), at)?;
            settings::set(conn, settings::DESCRIPTION, description.as_deref(), at)?;
            settings::set(conn, settings::RULES, rules.as_deref(), at)?;
            settings::set(
                conn,
                settings::REGISTRATION,
                Some(registration.as_str()),
                at,
            )
        })
        .await?;
    Ok(Json(instance_view(&state).await?))
}

/// One domain rule.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct DomainRuleView {
    pub domain: String,
    /// `block` or `allow`.
    pub kind: String,
    pub reason: String,
    /// Empty for the instance's own rules; else the URL of the subscribed list that gave it.
    pub source: String,
    pub created_at: NaiveDateTime,
}

/// A subscribed domain list.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SubscriptionView {
    pub url: String,
    pub kind: String,
    pub last_fetched_at: Option<NaiveDateTime>,
    pub last_error: Option<String>,
}

/// An instance deliveries went to, and whether it answers.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct PeerView {
    pub host: String,
    pub reachable: bool,
    pub failures: i32,
    pub last_success_at: Option<NaiveDateTime>,
    pub last_failure_at: Option<NaiveDateTime>,
    pub next_probe_at: Option<NaiveDateTime>,
}

/// A follow between the instance and another instance's actor.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct InstanceFollowView {
    /// The other actor's URL.
    pub actor: String,
    /// `pending`, `accepted` or `refused`.
    pub state: String,
    /// What the other side answered when it refused (its status and message, cut short).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<String>,
}

impl From<delivery::FollowRow> for InstanceFollowView {
    fn from(row: delivery::FollowRow) -> Self {
        InstanceFollowView {
            actor: row.remote_actor,
            state: row.state,
            refusal: row.refusal,
        }
    }
}

/// Federation policy and peers as admins see it.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct FederationView {
    pub rules: Vec<DomainRuleView>,
    pub subscriptions: Vec<SubscriptionView>,
    pub peers: Vec<PeerView>,
    /// Instances this one follows, with each follow's state.
    pub following: Vec<InstanceFollowView>,
    /// Instances following this one.
    pub followers: Vec<InstanceFollowView>,
    /// Deliveries waiting to be sent.
    pub queued: i64,
    /// When the activity of the oldest waiting delivery was written.
    pub oldest_queued_at: Option<NaiveDateTime>,
}

/// Domain rules, list subscriptions and federation peers with their reachability (admins).
#[utoipa::path(get, path = "/api/v1/admin/federation", tag = "admin",
    responses((status = 200, body = FederationView), (status = 403)))]
pub async fn federation(
    State(state): State<AppState>,
    current: CurrentUser,
) -> ApiResult<Json<FederationView>> {
    current.require(Role::Admin)?;
    let view = state
        .db
        .run(|conn| {
            let mut rules = policy::rules(conn, RuleKind::Block)?;
            rules.extend(policy::rules(conn, RuleKind::Allow)?);
            let status = delivery::status(conn, delivery::INSTANCE_ACTOR)?;
            Ok(FederationView {
                following: status.following.into_iter().map(Into::into).collect(),
                followers: status.followers.into_iter().map(Into::into).collect(),
                queued: status.queued,
                oldest_queued_at: status.oldest_queued_at,
                rules: rules
                    .into_iter()
                    .map(|r| DomainRuleView {
                        domain: r.domain,
                        kind: r.kind,
                        reason: r.public_comment,
                        source: r.source,
                        created_at: r.created_at,
                    })
                    .collect(),
                subscriptions: policy::subscriptions(conn)?
                    .into_iter()
                    .map(|s| SubscriptionView {
                        url: s.url,
                        kind: s.kind,
                        last_fetched_at: s.last_fetched_at,
                        last_error: s.last_error,
                    })
                    .collect(),
                peers: status
                    .peers
                    .into_iter()
                    .map(|p| PeerView {
                        reachable: p.unreachable_since.is_none(),
                        host: p.host,
                        failures: p.failures,
                        last_success_at: p.last_success_at,
                        last_failure_at: p.last_failure_at,
                        next_probe_at: p.next_probe_at,
                    })
                    .collect(),
            })
        })
        .await?;
    Ok(Json(view))
}

/// Which list a rule is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ListKind {
    Block,
    Allow,
}

impl From<ListKind> for RuleKind {
    fn from(kind: ListKind) -> RuleKind {
        match kind {
            ListKind::Block => RuleKind::Block,
            ListKind::Allow => RuleKind::Allow,
        }
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DomainRuleBody {
    pub kind: ListKind,
    pub domain: String,
    /// Shown in the public moderation log.
    pub reason: String,
}

/// Block or allow a domain (admins); logged publicly with the reason.
#[utoipa::path(post, path = "/api/v1/admin/domains", tag = "admin", request_body = DomainRuleBody,
    responses((status = 204), (status = 403), (status = 422)))]
pub async fn add_domain(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<DomainRuleBody>,
) -> ApiResult<StatusCode> {
    change_domain(state, current, body, true).await
}

/// Lift a block or an allow (admins); logged publicly with the reason.
#[utoipa::path(delete, path = "/api/v1/admin/domains", tag = "admin", request_body = DomainRuleBody,
    responses((status = 204), (status = 403), (status = 404, description = "no such rule"), (status = 422)))]
pub async fn remove_domain(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<DomainRuleBody>,
) -> ApiResult<StatusCode> {
    change_domain(state, current, body, false).await
}

async fn change_domain(
    state: AppState,
    current: CurrentUser,
    body: DomainRuleBody,
    add: bool,
) -> ApiResult<StatusCode> {
    current.require(Role::Admin)?;
    let mut errors = FieldErrors::new();
    let domain = normalize_domain(&body.domain);
    if domain.is_none() {
        errors.add("domain", "is not a domain name such as example.org");
    }
    let reason = match validate_reason(&body.reason) {
        Ok(reason) => Some(reason),
        Err(e) => {
            for (field, message) in e.fields() {
                errors.add(
                    if field == "reason" { "reason" } else { field },
                    message.clone(),
                );
            }
            None
        }
    };
    errors.into_result()?;
    let (Some(domain), Some(reason)) = (domain, reason) else {
        return Err(FieldErrors::single("domain", "invalid").into());
    };
    let acting = super::moderation::acting(&state, &current);
    let kind = body.kind.into();
    let found = state
        .db
        .tx(move |conn| policy::change_rule(conn, acting.get(), kind, add, &domain, &reason, now()))
        .await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("that domain is not on that list"))
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubscriptionBody {
    /// An http(s) URL of a Mastodon-format CSV domain list.
    pub url: String,
    pub kind: ListKind,
}

/// Subscribe to another collective's published domain list (admins); fetched and kept fresh.
#[utoipa::path(post, path = "/api/v1/admin/subscriptions", tag = "admin", request_body = SubscriptionBody,
    responses((status = 204), (status = 403), (status = 422)))]
pub async fn subscribe(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<SubscriptionBody>,
) -> ApiResult<StatusCode> {
    change_subscription(state, current, body, true).await
}

/// End a list subscription and drop the rules it gave (admins).
#[utoipa::path(delete, path = "/api/v1/admin/subscriptions", tag = "admin", request_body = SubscriptionBody,
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    current: CurrentUser,
    AppJson(body): AppJson<SubscriptionBody>,
) -> ApiResult<StatusCode> {
    change_subscription(state, current, body, false).await
}

async fn change_subscription(
    state: AppState,
    current: CurrentUser,
    body: SubscriptionBody,
    add: bool,
) -> ApiResult<StatusCode> {
    current.require(Role::Admin)?;
    let url = url::Url::parse(body.url.trim())
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .ok_or_else(|| FieldErrors::single("url", "must be an http or https URL"))?
        .to_string();
    let acting = super::moderation::acting(&state, &current);
    let kind: RuleKind = body.kind.into();
    let found = state
        .db
        .tx(move |conn| policy::change_subscription(conn, acting.get(), &url, kind, add, now()))
        .await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::not_found("no such subscription"))
    }
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SpeaksForBody {
    pub platform: String,
    pub requester_id: String,
}

/// Whom a local account speaks for.
#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct SpeaksForView {
    pub username: String,
    pub platform: String,
    pub requester_id: String,
    pub requester_name: String,
}

/// Mark a local account as speaking for a requester (admins, after checking it outside
/// Picket): from then on it can only comment, on that requester's reviews and incidents, and its
/// comments show as the requester's.
#[utoipa::path(put, path = "/api/v1/admin/users/{username}/speaks-for", tag = "admin", params(("username" = String, Path)), request_body = SpeaksForBody,
    responses((status = 200, body = SpeaksForView), (status = 403), (status = 404, description = "no such account or requester"), (status = 422)))]
pub async fn set_speaks_for(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
    AppJson(body): AppJson<SpeaksForBody>,
) -> ApiResult<Json<SpeaksForView>> {
    current.require(Role::Admin)?;
    let platform: picket_core::platform::Platform = body
        .platform
        .parse()
        .map_err(|e: String| FieldErrors::single("platform", e))?;
    let requester_id = platform
        .normalize_requester_id(&body.requester_id)
        .map_err(|e| FieldErrors::single("requester_id", e))?;
    let found = state
        .db
        .tx(move |conn| {
            let user = picket_db::users::by_username(conn, &username.to_ascii_lowercase())?;
            let Some(requester) =
                picket_db::requesters::by_key(conn, platform.as_str(), &requester_id)?
            else {
                return Ok(None);
            };
            picket_db::users::set_speaks_for(conn, user.id, Some(requester.id))?;
            Ok(Some(SpeaksForView {
                username: user.username,
                platform: requester.platform,
                requester_id: requester.requester_id,
                requester_name: requester.name,
            }))
        })
        .await
        .map_err(crate::routes::not_found_as("no such account"))?;
    found.map(Json).ok_or_else(|| {
        ApiError::not_found("no such requester here: it needs a review or an incident first")
    })
}

/// Make an account a worker's again (admins).
#[utoipa::path(delete, path = "/api/v1/admin/users/{username}/speaks-for", tag = "admin", params(("username" = String, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn clear_speaks_for(
    State(state): State<AppState>,
    current: CurrentUser,
    Path(username): Path<String>,
) -> ApiResult<StatusCode> {
    current.require(Role::Admin)?;
    state
        .db
        .tx(move |conn| {
            let user = picket_db::users::by_username(conn, &username.to_ascii_lowercase())?;
            picket_db::users::set_speaks_for(conn, user.id, None)
        })
        .await
        .map_err(crate::routes::not_found_as("no such account"))?;
    Ok(StatusCode::NO_CONTENT)
}
