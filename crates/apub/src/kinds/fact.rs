//! A version of a fact about who is behind a requester as federated content: a `Note` reading
//! as a sentence (`picket:fact`), and how another instance's is checked by the same rules as a
//! local one (business details only) and kept with its origin.

use activitypub_federation::config::Data;
use activitypub_federation::kinds::object::NoteType;
use chrono::NaiveDateTime;
use picket_core::platform::Platform;
use picket_core::secrets::new_public_id;
use picket_db::facts::{self, FactRow};
use picket_db::models::now;
use picket_db::requesters::{self, RequesterRow};
use picket_db::{DbConn, DbError};
use url::Url;

use super::{
    Content, ContentKind, HeldCopy, boxed_copy, corrupt, object_id, platform_of, signer_of, texts,
    username,
};
use crate::actors::LocalActor;
use crate::objects::{FactNote, PicketObject, public};
use crate::receive::{Remote, apply_content};
use crate::{ApubData, ApubError};

/// A version of a fact with its requester and its local author's name.
#[derive(Debug)]
pub(crate) struct ApubFact {
    id: Url,
    row: FactRow,
    requester: RequesterRow,
    author: Option<String>,
}

impl ApubFact {
    fn with_context(conn: &mut DbConn, data: &ApubData, row: FactRow) -> Result<Self, DbError> {
        Ok(ApubFact {
            id: object_id(data, row.ap_id.as_deref(), "facts", &row.public_id)?,
            requester: requesters::by_pk(conn, row.requester_pk)?,
            author: username(conn, row.author_id)?,
            row,
        })
    }

    /// Addressed to the requester feed's followers, so it reads in their timelines as a
    /// sentence.
    fn to_json(&self, data: &ApubData) -> Result<FactNote, ApubError> {
        let (row, requester) = (&self.row, &self.requester);
        let field: picket_core::fact::FactField = row.field.parse().map_err(corrupt)?;
        let platform = platform_of(requester)?;
        let feed = LocalActor::Feed(platform, requester.requester_id.clone());
        let value = match field {
            picket_core::fact::FactField::Kind => row
                .value
                .parse::<picket_core::fact::OrganisationKind>()
                .map_or(row.value.as_str(), |kind| kind.label()),
            _ => row.value.as_str(),
        };
        let sentence = format!(
            "{} ({}). {}: {value}",
            requester.name,
            platform.display_name(),
            field.label()
        );
        Ok(FactNote {
            kind: NoteType::Note,
            id: self.id.clone(),
            attributed_to: data.local_url(&self.signer().path()),
            to: vec![public()],
            cc: vec![data.local_url(&feed.path())],
            content: texts(&sentence).1,
            media_type: Some("text/html".to_owned()),
            published: row.created_at.and_utc(),
            platform: platform.as_str().to_owned(),
            requester_id: requester.requester_id.clone(),
            requester_name: Some(requester.name.clone()),
            fact: picket_core::fact::ValidFact {
                field,
                value: row.value.clone(),
                sources: row.sources(),
            },
        })
    }
}

impl Content for ApubFact {
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
        Ok(Some(LocalActor::Feed(
            platform_of(&self.requester)?,
            self.requester.requester_id.clone(),
        )))
    }

    fn wire(&self, data: &ApubData) -> Result<PicketObject, ApubError> {
        Ok(PicketObject::Fact(Box::new(self.to_json(data)?)))
    }

    fn moderation(&self) -> (&str, Option<String>) {
        (&self.row.state, self.row.removed_reason.clone())
    }
}

#[async_trait::async_trait]
impl ContentKind for ApubFact {
    const COLLECTION: &'static str = "facts";

    fn load(conn: &mut DbConn, data: &ApubData, public_id: &str) -> Result<Self, DbError> {
        let row = facts::by_public_id(conn, public_id)?;
        ApubFact::with_context(conn, data, row)
    }

    fn by_ap_id(conn: &mut DbConn, data: &ApubData, ap_id: &str) -> Result<Option<Self>, DbError> {
        facts::by_ap_id(conn, ap_id)?
            .map(|row| ApubFact::with_context(conn, data, row))
            .transpose()
    }

    /// Checked by the same rules as a local version (business details only; its home asked
    /// about worker IDs), and kept with its origin.
    async fn store(
        data: &Data<ApubData>,
        activity_id: Option<&Url>,
        note: FactNote,
    ) -> Result<(), ApubError> {
        let remote = Remote::new(&note.id, &note.attributed_to, note.published);
        let platform: Platform = note
            .platform
            .parse()
            .map_err(|e: String| ApubError::Invalid(e))?;
        let requester_id = platform
            .normalize_requester_id(&note.requester_id)
            .map_err(ApubError::Invalid)?;
        let fact = picket_core::fact::validate_fact(
            note.fact.field,
            &picket_core::fact::FactInput {
                value: note.fact.value.clone(),
                sources: note.fact.sources.clone(),
            },
            &requester_id,
            true,
        )
        .map_err(|e| ApubError::Invalid(e.to_string()))?;
        let name = match note.requester_name.as_deref() {
            Some(name) => picket_core::platform::validate_requester_name(name)
                .map_err(|e| ApubError::Invalid(format!("picket:requesterName: {e}")))?,
            None => requester_id.clone(),
        };
        // The newest version is the fact: a version dated in the future must not outrank every
        // later correction, so it is taken as written now at the latest.
        let published = note.published.naive_utc().min(now());
        let ap_id = remote.ap_id.clone();
        apply_content(data, activity_id, ap_id, move |conn| {
            let at = now();
            // Facts never rename a requester: only reviews vote for its name.
            let requester =
                requesters::mention(conn, platform.as_str(), &requester_id, &name, None, at)?;
            facts::upsert_remote(
                conn,
                &new_public_id(),
                remote.as_origin(),
                requester.id,
                &fact,
                published,
            )?;
            Ok(())
        })
        .await
    }
}

super::federated_object!(ApubFact, FactNote);

impl HeldCopy for FactRow {
    fn delete_copy(&self, conn: &mut DbConn, _at: NaiveDateTime) -> Result<(), DbError> {
        facts::delete_remote(conn, self.ap_id.as_deref().unwrap_or_default()).map(drop)
    }
}

pub(super) fn copy(conn: &mut DbConn, ap_id: &str) -> Result<Option<Box<dyn HeldCopy>>, DbError> {
    Ok(facts::by_ap_id(conn, ap_id)?.map(boxed_copy))
}

pub(super) fn copies_by(
    conn: &mut DbConn,
    author: &str,
) -> Result<Vec<Box<dyn HeldCopy>>, DbError> {
    Ok(facts::remote_by_author(conn, author)?
        .into_iter()
        .map(boxed_copy)
        .collect())
}
