//! A campaign as federated content: a `Page` with its letter, terms, counts by instance and
//! outcome (`picket:campaign`), attributed to its home's instance actor; how another
//! instance's copy is checked and kept; and the `Join` by which an instance signs for a worker.

use activitypub_federation::config::Data;
use activitypub_federation::kinds::object::PageType;
use picket_core::campaign::InstanceCount;
use picket_core::platform::Platform;
use picket_core::secrets::new_public_id;
use picket_db::campaigns::{self, CampaignRow};
use picket_db::models::now;
use picket_db::requesters::{self, RequesterRow};
use picket_db::{DbConn, DbError};
use url::Url;

use super::{
    Content, ContentKind, corrupt, feed_of, missing_as_none, object_id, requester_of, texts,
};
use crate::activities::JoinCampaign;
use crate::activities::once;
use crate::actors::LocalActor;
use crate::objects::{CampaignFields, ContentPage, PageBody, PicketObject, origin, public};
use crate::receive::{Remote, Sender, apply_content};
use crate::{ApubData, ApubError};

/// A campaign with its requester (none for a letter to the platform) and its counts.
#[derive(Debug)]
pub(crate) struct ApubCampaign {
    id: Url,
    row: CampaignRow,
    requester: Option<RequesterRow>,
    counts: Vec<InstanceCount>,
}

impl ApubCampaign {
    fn with_context(conn: &mut DbConn, data: &ApubData, row: CampaignRow) -> Result<Self, DbError> {
        Ok(ApubCampaign {
            id: object_id(data, row.ap_id.as_deref(), "campaigns", &row.public_id)?,
            requester: requester_of(conn, row.requester_pk)?,
            counts: campaigns::counts(conn, &row)?,
            row,
        })
    }

    /// Its letter as content, its terms, counts and outcome under `picket:campaign`, about the
    /// requester's feed or the platform's.
    fn to_json(&self, data: &ApubData) -> Result<ContentPage, ApubError> {
        let (row, requester) = (&self.row, self.requester.as_ref());
        let kind = row.kind()?;
        let platform: Platform = row.platform.parse().map_err(corrupt)?;
        let about = requester.map_or(platform.display_name(), |r| r.name.as_str());
        let (summary, html) = texts(&row.letter);
        Ok(ContentPage {
            kind: PageType::Page,
            attributed_to: data.local_url(&self.signer().path()),
            to: vec![public()],
            cc: vec![data.local_url(&feed_of(requester, &row.platform)?.path())],
            name: format!("Campaign to {about} about {}", kind.plural()),
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
            body: PageBody::Campaign {
                campaign: CampaignFields {
                    kind,
                    since: row.since,
                    terms: row.terms()?,
                    counts: self.counts.clone(),
                    outcome: row.outcome()?,
                    outcome_on: row.outcome_on,
                },
            },
        })
    }
}

impl Content for ApubCampaign {
    fn url(&self) -> &Url {
        &self.id
    }

    fn is_local(&self) -> bool {
        self.row.is_local()
    }

    /// A campaign is the signers' as much as its author's: it outlives the account.
    fn is_gone(&self) -> bool {
        false
    }

    /// A campaign is its signers', and who opened it is a signer: the instance speaks for it,
    /// so nothing names the worker and it outlives the account.
    fn signer(&self) -> LocalActor {
        LocalActor::Instance
    }

    fn feed(&self) -> Result<Option<LocalActor>, ApubError> {
        feed_of(self.requester.as_ref(), &self.row.platform).map(Some)
    }

    fn wire(&self, data: &ApubData) -> Result<PicketObject, ApubError> {
        Ok(PicketObject::Page(Box::new(self.to_json(data)?)))
    }

    fn moderation(&self) -> (&str, Option<String>) {
        ("published", None)
    }
}

#[async_trait::async_trait]
impl ContentKind for ApubCampaign {
    const COLLECTION: &'static str = "campaigns";

    fn load(conn: &mut DbConn, data: &ApubData, public_id: &str) -> Result<Self, DbError> {
        let row = campaigns::by_public_id(conn, public_id)?;
        ApubCampaign::with_context(conn, data, row)
    }

    fn by_ap_id(conn: &mut DbConn, data: &ApubData, ap_id: &str) -> Result<Option<Self>, DbError> {
        campaigns::by_ap_id(conn, ap_id)?
            .map(|row| ApubCampaign::with_context(conn, data, row))
            .transpose()
    }

    /// Another instance's campaign, checked like a local one, kept with its counts and outcome.
    async fn store(
        data: &Data<ApubData>,
        activity_id: Option<&Url>,
        page: ContentPage,
    ) -> Result<(), ApubError> {
        let PageBody::Campaign { campaign } = page.body else {
            return Err(ApubError::Invalid(
                "a campaign page without picket:campaign".into(),
            ));
        };
        let remote = Remote::new(
            &page.id,
            &page.attributed_to,
            page.updated.unwrap_or(page.published),
        );
        let published = page.published.naive_utc();
        let platform: Platform = page
            .platform
            .parse()
            .map_err(|e: String| ApubError::Invalid(e))?;
        let requester = match page.requester_id.as_deref() {
            Some(id) => {
                let id = platform
                    .normalize_requester_id(id)
                    .map_err(ApubError::Invalid)?;
                let name = match page.requester_name.as_deref() {
                    Some(name) => picket_core::platform::validate_requester_name(name)
                        .map_err(|e| ApubError::Invalid(format!("picket:requesterName: {e}")))?,
                    None => id.clone(),
                };
                Some((id, name))
            }
            None => None,
        };
        let terms = picket_core::campaign::validate_terms(
            &campaign.terms,
            requester.as_ref().map_or("", |(id, _)| id.as_str()),
            true,
        )
        .map_err(|e| ApubError::Invalid(e.to_string()))?;
        // Counts are the home's to give, but they must be counts: a few hundred instances at
        // most, each named like a host, each count a believable number of workers.
        if campaign.counts.len() > 500
            || campaign.counts.iter().any(|c| {
                !(0..=1_000_000).contains(&c.signatures)
                    || c.instance.is_empty()
                    || c.instance.len() > 255
                    || c.instance
                        .chars()
                        .any(|ch| ch.is_whitespace() || ch.is_control())
            })
        {
            return Err(ApubError::Invalid(
                "picket:campaign counts are no counts".into(),
            ));
        }
        let counts = campaign.counts;
        let ap_id = remote.ap_id.clone();
        apply_content(data, activity_id, ap_id, move |conn| {
            let at = now();
            let requester_pk = match &requester {
                Some((id, name)) => {
                    Some(requesters::mention(conn, platform.as_str(), id, name, None, at)?.id)
                }
                None => None,
            };
            campaigns::upsert_remote(
                conn,
                &new_public_id(),
                remote.as_origin(),
                campaigns::RemoteCampaign {
                    platform: platform.as_str(),
                    requester_pk,
                    kind: campaign.kind,
                    since: campaign.since,
                    terms: &terms,
                    counts: &counts,
                    outcome: campaign.outcome.zip(campaign.outcome_on),
                    published_at: published,
                },
                at,
            )?;
            Ok(())
        })
        .await
    }
}

super::federated_object!(ApubCampaign, ContentPage);

/// A worker on another instance signs one of this instance's campaigns: counted once per token
/// from that instance. Anything else (a campaign not ours) is acknowledged and dropped.
pub(crate) async fn joined(data: &Data<ApubData>, join: JoinCampaign) -> Result<(), ApubError> {
    let Some(public_id) = data
        .local_path(&join.object)
        .and_then(|path| path.strip_prefix("campaigns/").map(str::to_owned))
    else {
        tracing::debug!(id = %join.id, "a join of nothing of ours");
        return Ok(());
    };
    // Only an instance signs for its workers (a person's account could mint tokens at will),
    // and only an instance whose content counts here adds to the count.
    let sender = Sender::of(data, &join.actor).await?;
    if !sender.is_instance() {
        tracing::debug!(id = %join.id, "a join from an actor that is no instance");
        return Ok(());
    }
    let origin = origin(join.actor.inner());
    let signer = join.signer.clone();
    once(data, &join.id, move |conn| {
        let Some(row) = missing_as_none(campaigns::by_public_id(conn, &public_id))? else {
            return Ok(());
        };
        if row.is_local() && row.outcome.is_none() && picket_db::policy::is_counted(conn, &origin)?
        {
            campaigns::record_remote_signature(conn, &row, &signer, &origin, now())?;
        }
        Ok(())
    })
    .await
}
