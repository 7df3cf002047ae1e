//! An incident report as federated content: the `Page` it is on the wire (`picket:incident`),
//! about a requester or (naming none) a platform, and how another instance's is checked, stored
//! where it counts in waves and tells followers, and deleted or removed by its home.

use activitypub_federation::config::Data;
use activitypub_federation::kinds::object::PageType;
use chrono::NaiveDateTime;
use picket_core::incident::{IncidentInput, IncidentStatus, validate_incident};
use picket_core::platform::Platform;
use picket_core::secrets::new_public_id;
use picket_db::incidents::{self, IncidentRow, RemoteIncident, Waves};
use picket_db::models::now;
use picket_db::requesters::{self, RequesterRow};
use picket_db::{DbConn, DbError};
use url::Url;

use super::{
    Content, ContentKind, HeldCopy, boxed_copy, corrupt, feed_of, object_id, requester_of,
    signer_of, texts, username,
};
use crate::actors::LocalActor;
use crate::objects::{ContentPage, PageBody, PicketObject, public};
use crate::receive::{Remote, apply_content};
use crate::{ApubData, ApubError};

/// An incident with its requester (none for a platform-wide one) and its local author's name.
#[derive(Debug)]
pub(crate) struct ApubIncident {
    id: Url,
    row: IncidentRow,
    requester: Option<RequesterRow>,
    author: Option<String>,
}

/// An incident's ActivityPub id: its own for a copy of another instance's, ours otherwise.
pub(crate) fn incident_id(data: &ApubData, row: &IncidentRow) -> Result<Url, DbError> {
    object_id(data, row.ap_id.as_deref(), "incidents", &row.public_id)
}

impl ApubIncident {
    pub(crate) fn new(
        data: &ApubData,
        row: IncidentRow,
        requester: Option<RequesterRow>,
        author: Option<String>,
    ) -> Result<ApubIncident, DbError> {
        Ok(ApubIncident {
            id: incident_id(data, &row)?,
            row,
            requester,
            author,
        })
    }

    fn with_context(conn: &mut DbConn, data: &ApubData, row: IncidentRow) -> Result<Self, DbError> {
        let requester = requester_of(conn, row.requester_pk)?;
        let author = username(conn, row.author_id)?;
        ApubIncident::new(data, row, requester, author)
    }

    fn to_json(&self, data: &ApubData) -> Result<ContentPage, ApubError> {
        let (row, requester) = (&self.row, self.requester.as_ref());
        let content = row.content(requester)?;
        let mut text = content.description.clone();
        if let Some(message) = &content.message_received {
            text.push_str(&format!("\n\nMessage received: {message}"));
        }
        let (summary, html) = texts(&text);
        Ok(ContentPage {
            kind: PageType::Page,
            attributed_to: data.local_url(&self.signer().path()),
            to: vec![public()],
            cc: vec![data.local_url(&feed_of(requester, &row.platform)?.path())],
            name: title(row, requester)?,
            summary,
            content: html,
            media_type: Some("text/html".to_owned()),
            url: Some(self.id.clone()),
            id: self.id.clone(),
            published: row.created_at.and_utc(),
            updated: (row.updated_at != row.created_at).then(|| row.updated_at.and_utc()),
            platform: row.platform.clone(),
            requester_id: requester.map(|r| r.requester_id.clone()),
            requester_name: requester.map(|r| r.name.clone()),
            body: PageBody::Incident {
                incident: serde_json::to_value(&content).map_err(corrupt)?,
                status: row.status.parse::<IncidentStatus>().map_err(corrupt)?,
            },
        })
    }
}

/// "Mass rejection reported against Acme on MTurk: 120 tasks, $36.00 withheld".
fn title(row: &IncidentRow, requester: Option<&RequesterRow>) -> Result<String, ApubError> {
    let kind: picket_core::incident::IncidentKind = row.kind.parse().map_err(corrupt)?;
    let platform: Platform = row.platform.parse().map_err(corrupt)?;
    let mut title = match requester {
        Some(requester) => format!(
            "{} reported against {} on {}",
            kind.label(),
            requester.name,
            platform.display_name()
        ),
        None => format!("{} reported on {}", kind.label(), platform.display_name()),
    };
    let figures: Vec<String> = [
        row.tasks_affected.map(|n| format!("{n} tasks")),
        row.amount_lost_minor.map(|minor| {
            format!(
                "{} withheld",
                picket_core::money::format_money(minor, &row.currency)
            )
        }),
    ]
    .into_iter()
    .flatten()
    .collect();
    if !figures.is_empty() {
        title.push_str(": ");
        title.push_str(&figures.join(", "));
    }
    Ok(title)
}

impl Content for ApubIncident {
    fn url(&self) -> &Url {
        &self.id
    }

    fn is_local(&self) -> bool {
        self.row.ap_id.is_none()
    }

    fn is_gone(&self) -> bool {
        !self.row.is_published() || self.author.is_none()
    }

    fn signer(&self) -> LocalActor {
        signer_of(self.author.as_ref())
    }

    fn feed(&self) -> Result<Option<LocalActor>, ApubError> {
        feed_of(self.requester.as_ref(), &self.row.platform).map(Some)
    }

    fn wire(&self, data: &ApubData) -> Result<PicketObject, ApubError> {
        Ok(PicketObject::Page(Box::new(self.to_json(data)?)))
    }

    fn moderation(&self) -> (&str, Option<String>) {
        (&self.row.state, self.row.removed_reason.clone())
    }
}

#[async_trait::async_trait]
impl ContentKind for ApubIncident {
    const COLLECTION: &'static str = "incidents";

    fn load(conn: &mut DbConn, data: &ApubData, public_id: &str) -> Result<Self, DbError> {
        let row = incidents::by_public_id(conn, public_id)?;
        ApubIncident::with_context(conn, data, row)
    }

    fn by_ap_id(conn: &mut DbConn, data: &ApubData, ap_id: &str) -> Result<Option<Self>, DbError> {
        incidents::by_ap_id(conn, ap_id)?
            .map(|row| ApubIncident::with_context(conn, data, row))
            .transpose()
    }

    async fn store(
        data: &Data<ApubData>,
        activity_id: Option<&Url>,
        page: ContentPage,
    ) -> Result<(), ApubError> {
        let PageBody::Incident { incident, status } = &page.body else {
            return Err(ApubError::Invalid(
                "an incident page without picket:incident".into(),
            ));
        };
        let status = *status;
        let input: IncidentInput = serde_json::from_value(incident.clone())
            .map_err(|e| ApubError::Invalid(format!("picket:incident: {e}")))?;
        // A day's grace: the author's clock may be a time zone ahead of ours.
        let today = now().date() + chrono::Duration::days(1);
        let incident = validate_incident(&input, today, true)
            .map_err(|e| ApubError::Invalid(e.to_string()))?;
        if let Some(name) = incident.requester_name.as_deref() {
            picket_core::platform::validate_requester_name(name)
                .map_err(|e| ApubError::Invalid(format!("picket:incident requester_name: {e}")))?;
        }
        let remote = Remote::new(
            &page.id,
            &page.attributed_to,
            page.updated.unwrap_or(page.published),
        );
        let published = page.published.naive_utc();
        let local_instance = data.local_instance();
        let window = data.wave_window_days;
        let ap_id = remote.ap_id.clone();
        apply_content(data, activity_id, ap_id, move |conn| {
            let at = now();
            let requester = match &incident.requester_id {
                Some(id) => Some(requesters::mention(
                    conn,
                    incident.platform.as_str(),
                    id,
                    incident.requester_name.as_deref().unwrap_or(id),
                    None,
                    at,
                )?),
                None => None,
            };
            incidents::upsert_remote(
                conn,
                &new_public_id(),
                remote.as_origin(),
                RemoteIncident {
                    incident: &incident,
                    status,
                    published_at: published,
                },
                Waves {
                    requester: requester.as_ref(),
                    platform: incident.platform.as_str(),
                    window_days: window,
                    local_instance: &local_instance,
                    at,
                },
            )?;
            Ok(())
        })
        .await
    }
}

super::federated_object!(ApubIncident, ContentPage);

impl HeldCopy for IncidentRow {
    fn delete_copy(&self, conn: &mut DbConn, at: NaiveDateTime) -> Result<(), DbError> {
        incidents::delete_remote(conn, self.ap_id.as_deref().unwrap_or_default(), at).map(drop)
    }
}

pub(super) fn copy(conn: &mut DbConn, ap_id: &str) -> Result<Option<Box<dyn HeldCopy>>, DbError> {
    Ok(incidents::by_ap_id(conn, ap_id)?.map(boxed_copy))
}

pub(super) fn copies_by(
    conn: &mut DbConn,
    author: &str,
) -> Result<Vec<Box<dyn HeldCopy>>, DbError> {
    Ok(incidents::remote_by_author(conn, author)?
        .into_iter()
        .map(boxed_copy)
        .collect())
}
