//! `Join` of a campaign: how an instance signs another instance's campaign for one of its workers, sent and received as this one type.

use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::protocol::verification::verify_domains_match;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::ApubError;
use crate::actors::ApubActor;
use crate::objects::addresses;

/// A worker on another instance signs a campaign: `Join` from that instance's actor, naming the
/// worker only by a token its instance made for this signature.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JoinCampaign {
    #[serde(rename = "type")]
    pub(crate) kind: activitypub_federation::kinds::activity::JoinType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    #[serde(default, deserialize_with = "addresses")]
    pub to: Vec<Url>,
    pub object: Url,
    #[serde(rename = "picket:signer")]
    pub signer: String,
}

impl JoinCampaign {
    /// This instance's `actor` signs `campaign` for one of its workers, known by `signer`.
    pub(crate) fn new(id: Url, actor: Url, campaign: Url, signer: String) -> Self {
        JoinCampaign {
            kind: activitypub_federation::kinds::activity::JoinType::Join,
            id,
            actor: actor.into(),
            to: vec![campaign.clone()],
            object: campaign,
            signer,
        }
    }

    /// From the instance it names, with a token that is a token (no text smuggled in).
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        verify_domains_match(&self.id, self.actor.inner())?;
        let token = (8..=64).contains(&self.signer.len())
            && self
                .signer
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !token {
            return Err(ApubError::Invalid("picket:signer is no token".into()));
        }
        Ok(())
    }
}
