//! A corroboration as federated content: a `Note` replying to an incident ("this happened to
//! me too", `picket:corroboration`), sent to the incident's home too, and how another
//! instance's is checked, counted in the incident's wave and passed on by the incident's home.

use activitypub_federation::config::Data;
use activitypub_federation::kinds::object::NoteType;
use chrono::NaiveDateTime;
use picket_core::incident::validate_corroboration;
use picket_core::secrets::new_public_id;
use picket_db::events::ObjectType;
use picket_db::incidents::{self, CorroborationRow, IncidentRow, Waves};
use picket_db::models::now;
use picket_db::requesters::{self, RequesterRow};
use picket_db::reviews::RemoteOutcome;
use picket_db::{DbConn, DbError};
use url::Url;

use super::incident::incident_id;
use super::{
    Content, ContentKind, HeldCopy, boxed_copy, feed_of, object_id, requester_of, signer_of, texts,
    username,
};
use crate::actors::LocalActor;
use crate::objects::{CorroborationNote, PicketObject, public};
use crate::receive::{Remote, apply_content, fetch, pass_on};
use crate::{ApubData, ApubError};

/// A corroboration with the incident it corroborates, that incident's requester, and its
/// local author's name.
#[derive(Debug)]
pub(crate) struct ApubCorroboration {
    id: Url,
    row: CorroborationRow,
    incident: IncidentRow,
    requester: Option<RequesterRow>,
    author: Option<String>,
}

impl ApubCorroboration {
    pub(crate) fn new(
        conn: &mut DbConn,
        data: &ApubData,
        row: CorroborationRow,
        incident: IncidentRow,
        author: Option<String>,
    ) -> Result<ApubCorroboration, DbError> {
        Ok(ApubCorroboration {
            id: object_id(data, row.ap_id.as_deref(), "corroborations", &row.public_id)?,
            requester: requester_of(conn, incident.requester_pk)?,
            row,
            incident,
            author,
        })
    }

    fn with_context(
        conn: &mut DbConn,
        data: &ApubData,
        row: CorroborationRow,
    ) -> Result<Self, DbError> {
        let incident = incidents::by_pk(conn, row.incident_pk)?;
        let author = username(conn, row.author_id)?;
        ApubCorroboration::new(conn, data, row, incident, author)
    }

    fn to_json(&self, data: &ApubData) -> Result<CorroborationNote, ApubError> {
        let row = &self.row;
        let mut text = "This happened to me too.".to_owned();
        if !row.note.is_empty() {
            text.push(' ');
            text.push_str(&row.note);
        }
        Ok(CorroborationNote {
            kind: NoteType::Note,
            id: self.id.clone(),
            attributed_to: data.local_url(&self.signer().path()),
            in_reply_to: incident_id(data, &self.incident)?,
            to: vec![public()],
            cc: Vec::new(),
            content: texts(&text).1,
            media_type: Some("text/html".to_owned()),
            published: row.created_at.and_utc(),
            corroboration: picket_core::incident::CorroborationInput {
                tasks_affected: row.tasks_affected,
                amount_lost_minor: row.amount_lost_minor,
                note: row.note.clone(),
            },
        })
    }
}

impl Content for ApubCorroboration {
    fn url(&self) -> &Url {
        &self.id
    }

    fn is_local(&self) -> bool {
        self.row.ap_id.is_none()
    }

    fn is_gone(&self) -> bool {
        self.row.state != "published" || !self.incident.is_published() || self.author.is_none()
    }

    fn signer(&self) -> LocalActor {
        signer_of(self.author.as_ref())
    }

    fn feed(&self) -> Result<Option<LocalActor>, ApubError> {
        feed_of(self.requester.as_ref(), &self.incident.platform).map(Some)
    }

    fn wire(&self, data: &ApubData) -> Result<PicketObject, ApubError> {
        Ok(PicketObject::Note(Box::new(self.to_json(data)?)))
    }

    /// A removed corroboration is erased, so its removal goes out as its deletion.
    fn moderation(&self) -> (&str, Option<String>) {
        (&self.row.state, None)
    }

    fn reply_authors(&self) -> Vec<&str> {
        self.incident
            .remote_author
            .iter()
            .map(String::as_str)
            .collect()
    }
}

/// The incident a reply is about, if it is held here: one of ours, or a copy of another's.
fn replied_to(
    data: &ApubData,
    conn: &mut DbConn,
    in_reply_to: &Url,
) -> Result<Option<IncidentRow>, DbError> {
    match data
        .local_path(in_reply_to)
        .as_deref()
        .and_then(|path| path.strip_prefix("incidents/"))
    {
        Some(public_id) => match incidents::by_public_id(conn, public_id) {
            Ok(row) if row.ap_id.is_none() => Ok(Some(row)),
            Ok(_) | Err(DbError::NotFound) => Ok(None),
            Err(other) => Err(other),
        },
        None => incidents::by_ap_id(conn, in_reply_to.as_str()),
    }
}

#[async_trait::async_trait]
impl ContentKind for ApubCorroboration {
    const COLLECTION: &'static str = "corroborations";

    fn load(conn: &mut DbConn, data: &ApubData, public_id: &str) -> Result<Self, DbError> {
        let row = incidents::corroboration_by_public_id(conn, public_id)?;
        ApubCorroboration::with_context(conn, data, row)
    }

    fn by_ap_id(conn: &mut DbConn, data: &ApubData, ap_id: &str) -> Result<Option<Self>, DbError> {
        incidents::corroboration_by_ap_id(conn, ap_id)?
            .map(|row| ApubCorroboration::with_context(conn, data, row))
            .transpose()
    }

    async fn store(
        data: &Data<ApubData>,
        activity_id: Option<&Url>,
        note: CorroborationNote,
    ) -> Result<(), ApubError> {
        let remote = Remote::new(&note.id, &note.attributed_to, note.published);
        let target = note.in_reply_to.clone();
        let lookup = || {
            let (shared, target) = (data.app_data().clone(), target.clone());
            data.db.run(move |conn| {
                let Some(incident) = replied_to(&shared, conn, &target)? else {
                    return Ok(None);
                };
                let requester_id = incident
                    .requester_pk
                    .map(|pk| requesters::by_pk(conn, pk).map(|r| r.requester_id))
                    .transpose()?;
                Ok(Some(requester_id))
            })
        };
        let requester_id = match lookup().await? {
            Some(requester_id) => requester_id,
            None => {
                // A reply to an incident not seen here yet: fetch that from its own origin first.
                if data.local_path(&target).is_some() {
                    return Err(ApubError::Invalid(format!(
                        "{target} is no incident of this instance"
                    )));
                }
                let incident = fetch(data, &target).await?;
                // Boxed: storing a reply may store the incident it replies to first.
                Box::pin(super::store(data, None, incident)).await?;
                lookup()
                    .await?
                    .ok_or_else(|| ApubError::Invalid(format!("{target} is no incident")))?
            }
        };
        let input = validate_corroboration(
            &note.corroboration,
            requester_id.as_deref().unwrap_or_default(),
            true,
        )
        .map_err(|e| ApubError::Invalid(e.to_string()))?;
        let (local_instance, window) = (data.local_instance(), data.wave_window_days);
        let shared = data.app_data().clone();
        let published = note.published.naive_utc();
        let ap_id = remote.ap_id.clone();
        apply_content(data, activity_id, ap_id, move |conn| {
            let incident = replied_to(&shared, conn, &target)?.ok_or(DbError::NotFound)?;
            if !incident.is_published() {
                return Ok(());
            }
            let requester = requester_of(conn, incident.requester_pk)?;
            let at = now();
            let (row, outcome) = incidents::upsert_remote_corroboration(
                conn,
                &new_public_id(),
                remote.as_origin(),
                incident.id,
                &input,
                published,
                Waves {
                    requester: requester.as_ref(),
                    platform: &incident.platform,
                    window_days: window,
                    local_instance: &local_instance,
                    at,
                },
            )?;
            // A reply to one of our incidents: this instance's followers hear of it from us.
            if incident.ap_id.is_none() && outcome != RemoteOutcome::Tombstoned {
                pass_on(conn, ObjectType::Corroboration, &row.public_id, at)?;
            }
            Ok(())
        })
        .await
    }
}

super::federated_object!(ApubCorroboration, CorroborationNote);

impl HeldCopy for CorroborationRow {
    fn delete_copy(&self, conn: &mut DbConn, at: NaiveDateTime) -> Result<(), DbError> {
        let ap_id = self.ap_id.as_deref().unwrap_or_default();
        if let Some(row) = incidents::delete_remote_corroboration(conn, ap_id)?
            && incidents::by_pk(conn, row.incident_pk)?.ap_id.is_none()
        {
            // Withdrawn from one of our incidents: our followers refetch it and find it gone.
            pass_on(conn, ObjectType::Corroboration, &row.public_id, at)?;
        }
        Ok(())
    }

    /// Left as it is: its home sends a corroboration's removal as its deletion, and an erased
    /// corroboration could not come back when a suspension is lifted.
    fn apply_removal(
        &self,
        _conn: &mut DbConn,
        _reason: Option<&str>,
        _at: NaiveDateTime,
    ) -> Result<(), DbError> {
        Ok(())
    }
}

pub(super) fn copy(conn: &mut DbConn, ap_id: &str) -> Result<Option<Box<dyn HeldCopy>>, DbError> {
    Ok(incidents::corroboration_by_ap_id(conn, ap_id)?.map(boxed_copy))
}

pub(super) fn copies_by(
    conn: &mut DbConn,
    author: &str,
) -> Result<Vec<Box<dyn HeldCopy>>, DbError> {
    Ok(incidents::remote_corroborations_by_author(conn, author)?
        .into_iter()
        .map(boxed_copy)
        .collect())
}
