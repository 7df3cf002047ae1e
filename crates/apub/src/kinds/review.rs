//! A requester review as federated content: the `Page` it is on the wire (`picket:review`), how
//! a local one is served and sent, and how another instance's is checked, stored and deleted.

use activitypub_federation::config::Data;
use activitypub_federation::kinds::object::PageType;
use chrono::NaiveDateTime;
use picket_core::platform::Platform;
use picket_core::review::{ReviewInput, ValidReview, validate_review};
use picket_core::secrets::new_public_id;
use picket_db::models::now;
use picket_db::requesters::{self, RequesterRow};
use picket_db::reviews::{self, ReviewRow};
use picket_db::{DbConn, DbError};
use url::Url;

use super::{
    Content, ContentKind, HeldCopy, boxed_copy, corrupt, object_id, platform_of, signer_of, texts,
    username,
};
use crate::actors::LocalActor;
use crate::objects::{ContentPage, PageBody, PicketObject, public};
use crate::receive::{Remote, apply_content};
use crate::{ApubData, ApubError};

/// A review with its requester and its local author's name (none for a deleted account).
#[derive(Debug)]
pub(crate) struct ApubReview {
    id: Url,
    row: ReviewRow,
    requester: RequesterRow,
    author: Option<String>,
}

impl ApubReview {
    pub(crate) fn new(
        data: &ApubData,
        row: ReviewRow,
        requester: RequesterRow,
        author: Option<String>,
    ) -> Result<ApubReview, DbError> {
        Ok(ApubReview {
            id: object_id(data, row.ap_id.as_deref(), "reviews", &row.public_id)?,
            row,
            requester,
            author,
        })
    }

    fn with_context(conn: &mut DbConn, data: &ApubData, row: ReviewRow) -> Result<Self, DbError> {
        let requester = requesters::by_pk(conn, row.requester_pk)?;
        let author = username(conn, row.author_id)?;
        ApubReview::new(data, row, requester, author)
    }

    /// The `Page`: a line for timelines, the text, and the review itself under `picket:review`.
    fn to_json(&self, data: &ApubData) -> Result<ContentPage, ApubError> {
        let (row, requester) = (&self.row, &self.requester);
        let platform = platform_of(requester)?;
        let content = row.content()?;
        let feed = LocalActor::Feed(platform, requester.requester_id.clone());
        let (summary, html) = texts(&content.body);
        Ok(ContentPage {
            kind: PageType::Page,
            attributed_to: data.local_url(&self.signer().path()),
            to: vec![public()],
            cc: vec![data.local_url(&feed.path())],
            name: title(&content, &requester.name, platform),
            summary,
            content: html,
            media_type: Some("text/html".to_owned()),
            url: Some(self.id.clone()),
            id: self.id.clone(),
            published: row.published_at.unwrap_or(row.created_at).and_utc(),
            updated: (row.updated_at != row.created_at).then(|| row.updated_at.and_utc()),
            platform: platform.as_str().to_owned(),
            requester_id: Some(requester.requester_id.clone()),
            requester_name: Some(requester.name.clone()),
            body: PageBody::Review {
                review: serde_json::to_value(&content).map_err(corrupt)?,
            },
        })
    }
}

/// The line a person reads in a timeline.
fn title(review: &ValidReview, requester: &str, platform: Platform) -> String {
    let pay = i128::from(review.reward_minor) + i128::from(review.bonus_minor.unwrap_or(0));
    let hourly = i64::try_from(pay * 3600 / i128::from(review.time_spent_seconds.max(1)))
        .unwrap_or(i64::MAX);
    let recommend = match review.recommend.map(|r| r.as_str()) {
        Some("yes") => ", recommends",
        Some("no") => ", does not recommend",
        _ => "",
    };
    format!(
        "Review of {requester} on {}: {}/h, {}{recommend}",
        platform.display_name(),
        picket_core::money::format_money(hourly, &review.currency),
        review.approval.as_str().replace('_', " ")
    )
}

impl Content for ApubReview {
    fn url(&self) -> &Url {
        &self.id
    }

    fn is_local(&self) -> bool {
        self.row.ap_id.is_none() && self.row.state != "draft"
    }

    fn is_gone(&self) -> bool {
        self.row.state != "published" || self.author.is_none()
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
        Ok(PicketObject::Page(Box::new(self.to_json(data)?)))
    }

    fn moderation(&self) -> (&str, Option<String>) {
        (&self.row.state, self.row.removed_reason.clone())
    }
}

#[async_trait::async_trait]
impl ContentKind for ApubReview {
    const COLLECTION: &'static str = "reviews";

    fn load(conn: &mut DbConn, data: &ApubData, public_id: &str) -> Result<Self, DbError> {
        let row = reviews::by_public_id(conn, public_id)?;
        ApubReview::with_context(conn, data, row)
    }

    fn by_ap_id(conn: &mut DbConn, data: &ApubData, ap_id: &str) -> Result<Option<Self>, DbError> {
        reviews::by_ap_id(conn, ap_id)?
            .map(|row| ApubReview::with_context(conn, data, row))
            .transpose()
    }

    async fn store(
        data: &Data<ApubData>,
        activity_id: Option<&Url>,
        page: ContentPage,
    ) -> Result<(), ApubError> {
        let PageBody::Review { review } = &page.body else {
            return Err(ApubError::Invalid(
                "a review page without picket:review".into(),
            ));
        };
        let platform: Platform = page
            .platform
            .parse()
            .map_err(|e: String| ApubError::Invalid(e))?;
        let requester_id = platform
            .normalize_requester_id(page.requester_id.as_deref().unwrap_or_default())
            .map_err(ApubError::Invalid)?;
        let input: ReviewInput = serde_json::from_value(review.clone())
            .map_err(|e| ApubError::Invalid(format!("picket:review: {e}")))?;
        // The author's own instance already asked about worker IDs; its answer stands.
        let review = validate_review(&input, platform, &requester_id, true)
            .map_err(|e| ApubError::Invalid(e.to_string()))?;
        // The same rule as for local reviews: printable, at most 200 characters.
        let name = match page.requester_name.as_deref() {
            Some(name) => picket_core::platform::validate_requester_name(name)
                .map_err(|e| ApubError::Invalid(format!("picket:requesterName: {e}")))?,
            None => requester_id.clone(),
        };
        let remote = Remote::new(
            &page.id,
            &page.attributed_to,
            page.updated.unwrap_or(page.published),
        );
        let published = page.published.naive_utc();
        let ap_id = remote.ap_id.clone();
        apply_content(data, activity_id, ap_id, move |conn| {
            let at = now();
            // The remote author's review is that author's vote for the requester's name, if its
            // instance counts here: throwaway instances cannot outvote real reviewers.
            let voter =
                picket_db::policy::is_counted(conn, &remote.origin)?.then_some(&remote.author);
            let requester = requesters::mention(
                conn,
                platform.as_str(),
                &requester_id,
                &name,
                voter.map(String::as_str),
                at,
            )?;
            reviews::upsert_remote(
                conn,
                &new_public_id(),
                remote.as_origin(),
                requester.id,
                &review,
                published,
                at,
            )?;
            Ok(())
        })
        .await
    }
}

super::federated_object!(ApubReview, ContentPage);

impl HeldCopy for ReviewRow {
    fn delete_copy(&self, conn: &mut DbConn, at: NaiveDateTime) -> Result<(), DbError> {
        reviews::delete_remote(conn, self.ap_id.as_deref().unwrap_or_default(), at).map(drop)
    }
}

pub(super) fn copy(conn: &mut DbConn, ap_id: &str) -> Result<Option<Box<dyn HeldCopy>>, DbError> {
    Ok(reviews::by_ap_id(conn, ap_id)?.map(boxed_copy))
}

pub(super) fn copies_by(
    conn: &mut DbConn,
    author: &str,
) -> Result<Vec<Box<dyn HeldCopy>>, DbError> {
    Ok(reviews::remote_by_author(conn, author)?
        .into_iter()
        .map(boxed_copy)
        .collect())
}
