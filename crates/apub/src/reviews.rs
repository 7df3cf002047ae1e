//! Reviews across instances: a local review as a `Page` whose Picket fields sit in our own namespace, the events that send it out as `Create`, `Update` or `Delete`, and the inbox side that stores other instances' reviews so they count in aggregates here.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::fetch_object_http;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::kinds::activity::DeleteType;
use activitypub_federation::kinds::object::PageType;
use activitypub_federation::protocol::verification::verify_domains_match;
use chrono::{DateTime, Utc};
use picket_core::platform::Platform;
use picket_core::review::{ReviewInput, ValidReview, validate_review};
use picket_core::secrets::new_public_id;
use picket_db::events::{self, Event, EventKind};
use picket_db::models::now;
use picket_db::reviews::{self, RemoteOrigin, RemoteOutcome};
use picket_db::{DbError, delivery, follows, requesters, users};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use url::Url;

use crate::activities::{activity_context, new_activity_id, once};
use crate::actors::{ApubActor, LocalActor};
use crate::{ApubData, ApubError};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";

/// A review on the wire. Lemmy and Mastodon read `name`, `summary`, `content` and `url`; Picket
/// instances read the `picket:` fields, which carry every field of the review.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReviewPage {
    #[serde(rename = "type")]
    kind: PageType,
    pub id: Url,
    pub attributed_to: Url,
    #[serde(default)]
    pub to: Vec<Url>,
    #[serde(default)]
    pub cc: Vec<Url>,
    pub name: String,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub content: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub media_type: Option<String>,
    /// Where people read it: the same URL, which answers HTML to browsers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<Url>,
    pub published: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<DateTime<Utc>>,
    #[serde(rename = "picket:platform")]
    pub platform: String,
    #[serde(rename = "picket:requesterId")]
    pub requester_id: String,
    #[serde(rename = "picket:requesterName")]
    pub requester_name: String,
    #[serde(rename = "picket:review")]
    pub review: Value,
}

/// `Create` and `Update` carry the whole review; receiving either stores it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CreateOrUpdateType {
    Create,
    Update,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreateOrUpdateReview {
    #[serde(rename = "type")]
    pub kind: CreateOrUpdateType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: ReviewPage,
}

/// The object of a `Delete`: a bare id or an object (a `Tombstone`) with one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum IdOrObject {
    Id(Url),
    Object { id: Url },
}

impl IdOrObject {
    pub fn id(&self) -> &Url {
        match self {
            IdOrObject::Id(id) | IdOrObject::Object { id } => id,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeleteObject {
    #[serde(rename = "type")]
    kind: DeleteType,
    pub id: Url,
    pub actor: ObjectId<ApubActor>,
    pub object: IdOrObject,
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

/// The `Page` for a local review by `author`.
fn page(
    data: &ApubData,
    row: &reviews::ReviewRow,
    requester: &requesters::RequesterRow,
    author: &LocalActor,
) -> Result<ReviewPage, ApubError> {
    let platform: Platform = requester
        .platform
        .parse()
        .map_err(|e: String| DbError::Corrupt(e))?;
    let content = row.content()?;
    let feed = LocalActor::Feed(platform, requester.requester_id.clone());
    let excerpt: String = content.body.chars().take(280).collect();
    Ok(ReviewPage {
        kind: PageType::Page,
        id: data.local_url(&format!("reviews/{}", row.public_id)),
        attributed_to: data.local_url(&author.path()),
        to: vec![Url::parse(PUBLIC).map_err(|e| ApubError::Invalid(e.to_string()))?],
        cc: vec![data.local_url(&feed.path())],
        name: title(&content, &requester.name, platform),
        summary: excerpt,
        content: format!("<p>{}</p>", html_escape::encode_text(&content.body)),
        media_type: Some("text/html".to_owned()),
        url: Some(data.local_url(&format!("reviews/{}", row.public_id))),
        published: row.published_at.unwrap_or(row.created_at).and_utc(),
        updated: (row.updated_at != row.created_at).then(|| row.updated_at.and_utc()),
        platform: platform.as_str().to_owned(),
        requester_id: requester.requester_id.clone(),
        requester_name: requester.name.clone(),
        review: serde_json::to_value(&content).map_err(|e| ApubError::Invalid(e.to_string()))?,
    })
}

/// A local review as served at its id: the `Page` while published, `Gone` once deleted or
/// removed, `None` when there is no such local review.
pub(crate) enum Served {
    Page(Box<ReviewPage>),
    Gone(Url),
}

pub(crate) async fn served(
    data: &ApubData,
    public_id: String,
) -> Result<Option<Served>, ApubError> {
    let found =
        data.db
            .run(move |conn| {
                let Some(row) = reviews::by_public_id(conn, &public_id)
                    .map(Some)
                    .or_else(|e| match e {
                        DbError::NotFound => Ok(None),
                        other => Err(other),
                    })?
                else {
                    return Ok(None);
                };
                let requester = requesters::by_pk(conn, row.requester_pk)?;
                let author = row
                    .author_id
                    .map(|id| users::by_id(conn, id).map(|u| u.username))
                    .transpose()?;
                Ok(Some((row, requester, author)))
            })
            .await?;
    let Some((row, requester, author)) = found else {
        return Ok(None);
    };
    // Copies of other instances' reviews, imported history and drafts are not ours to serve.
    let (Some(author), None) = (author, &row.ap_id) else {
        return Ok(None);
    };
    let id = data.local_url(&format!("reviews/{}", row.public_id));
    Ok(Some(match row.state.as_str() {
        "published" => Served::Page(Box::new(page(
            data,
            &row,
            &requester,
            &LocalActor::Person(author),
        )?)),
        "deleted" | "removed" => Served::Gone(id),
        _ => return Ok(None),
    }))
}

/// Turns pending federation events into queued activities, each in one transaction with taking
/// its event. Returns how many events were handled; one that fails stays for the next round
/// without holding up the others.
pub(crate) async fn process_events(data: &ApubData) -> Result<usize, ApubError> {
    let pending = data.db.run(|conn| events::pending(conn, 32)).await?;
    let mut handled = 0;
    for event in pending {
        let id = event.id;
        match process(data, event).await {
            Ok(()) => handled += 1,
            // The review is gone altogether: nothing is left to announce.
            Err(ApubError::Db(DbError::NotFound)) => {
                data.db
                    .run(move |conn| events::take(conn, id).map(drop))
                    .await?;
                handled += 1;
            }
            Err(error) => tracing::warn!(event = id, %error, "cannot federate a change yet"),
        }
    }
    Ok(handled)
}

async fn process(data: &ApubData, event: Event) -> Result<(), ApubError> {
    let public_id = event.object_id.clone();
    let (row, requester, author) = data
        .db
        .run(move |conn| {
            let row = reviews::by_public_id(conn, &public_id)?;
            let requester = requesters::by_pk(conn, row.requester_pk)?;
            let author = row
                .author_id
                .map(|id| users::by_id(conn, id).map(|u| u.username))
                .transpose()?;
            Ok((row, requester, author))
        })
        .await?;
    // A deleted account's reviews are tombstones without an author: the instance signs for them.
    let signer = author.map_or(LocalActor::Instance, LocalActor::Person);
    // The key is made (if need be) before the transaction, never inside it.
    let actor = ApubActor::local(data, signer.clone()).await?;
    let object_id = data.local_url(&format!("reviews/{}", row.public_id));
    let activity = match event.kind {
        EventKind::Delete => json!({
            "type": "Delete",
            "id": new_activity_id(data),
            "actor": actor.id,
            "to": [PUBLIC],
            "object": {"type": "Tombstone", "id": object_id},
        }),
        kind => {
            let page = page(data, &row, &requester, &signer)?;
            json!({
                "type": if kind == EventKind::Create { "Create" } else { "Update" },
                "id": new_activity_id(data),
                "actor": actor.id,
                "to": page.to,
                "cc": page.cc,
                "object": page,
            })
        }
    };
    let platform: Platform = requester
        .platform
        .parse()
        .map_err(|e: String| DbError::Corrupt(e))?;
    let feed = LocalActor::Feed(platform, requester.requester_id.clone());
    // A requester feed passes reviews on (FEP-1b12): Lemmy-family followers get the Create
    // wrapped in an Announce, others (Mastodon…) an Announce of the review itself. Picket
    // instances get the author's activity as it is. A deletion comes from its author to all.
    let announces = if event.kind == EventKind::Delete {
        None
    } else {
        let feed_id = data.local_url(&feed.path());
        Some((
            announce(new_activity_id(data), &feed_id, activity.clone()),
            announce(new_activity_id(data), &feed_id, json!(object_id)),
        ))
    };
    let envelope = |mut body: Value| {
        body["@context"] = activity_context();
        (
            body["id"].as_str().unwrap_or_default().to_owned(),
            body.to_string(),
        )
    };
    let (activity_id, body) = envelope(activity);
    let announces = announces.map(|(lemmy, other)| (envelope(lemmy), envelope(other)));
    let (instance, author_path, feed_path) =
        (LocalActor::Instance.path(), signer.path(), feed.path());
    let event_id = event.id;
    data.db
        .tx(move |conn| {
            if !events::take(conn, event_id)? {
                return Ok(());
            }
            let mut direct: Vec<String> = Vec::new();
            let (mut lemmy, mut other) = (Vec::new(), Vec::new());
            for audience in [&instance, &author_path] {
                direct.extend(
                    delivery::follower_inboxes(conn, audience)?
                        .into_iter()
                        .map(|(inbox, _)| inbox),
                );
            }
            for (inbox, software) in delivery::follower_inboxes(conn, &feed_path)? {
                match (software.as_deref(), &announces) {
                    (Some("picket"), _) | (_, None) => direct.push(inbox),
                    (Some(name), Some(_)) if LEMMY_FAMILY.contains(&name) => lemmy.push(inbox),
                    _ => other.push(inbox),
                }
            }
            if !direct.is_empty() {
                delivery::enqueue(conn, &activity_id, &author_path, &body, &direct, now())?;
            }
            if let Some(((lemmy_id, lemmy_body), (other_id, other_body))) = &announces {
                if !lemmy.is_empty() {
                    delivery::enqueue(conn, lemmy_id, &feed_path, lemmy_body, &lemmy, now())?;
                }
                if !other.is_empty() {
                    delivery::enqueue(conn, other_id, &feed_path, other_body, &other, now())?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(())
}

/// Servers that read a group's `Announce{Create{Page}}` as a post in a community.
const LEMMY_FAMILY: &[&str] = &["lemmy", "mbin", "kbin", "piefed"];

/// An `Announce` by a requester feed of `object` (an activity, or an object's id), public, with
/// both `to` and `cc` present as Lemmy requires.
fn announce(id: Url, feed: &Url, object: Value) -> Value {
    json!({
        "type": "Announce",
        "id": id,
        "actor": feed,
        "to": [PUBLIC],
        "cc": [],
        "object": object,
    })
}

/// How many outbox items one page holds, and how many pages a backfill reads at most.
const OUTBOX_PAGE: i64 = 50;
const BACKFILL_PAGES: usize = 200;

/// The instance actor's outbox: the collection (`page` absent) or one page of `Create{Page}` for
/// local reviews, newest first, `before` a cursor from the previous page's `next`.
pub(crate) async fn outbox(
    data: &ApubData,
    paged: bool,
    before: Option<i64>,
) -> Result<Value, ApubError> {
    let collection = data.local_url("actor/outbox");
    if !paged {
        return Ok(json!({
            "@context": activity_context(),
            "type": "OrderedCollection",
            "id": collection,
            "first": format!("{collection}?page=true"),
        }));
    }
    let rows = data
        .db
        .run(move |conn| reviews::local_published_page(conn, before, OUTBOX_PAGE))
        .await?;
    let next = (rows.len() as i64 == OUTBOX_PAGE)
        .then(|| {
            rows.last()
                .map(|(row, _, _)| format!("{collection}?page=true&before={}", row.id))
        })
        .flatten();
    let mut items = Vec::with_capacity(rows.len());
    for (row, requester, author) in rows {
        let author = LocalActor::Person(author);
        let page = self::page(data, &row, &requester, &author)?;
        items.push(json!({
            "type": "Create",
            "id": format!("{}/create", page.id),
            "actor": data.local_url(&author.path()),
            "to": page.to,
            "cc": page.cc,
            "object": page,
        }));
    }
    let id = match before {
        Some(before) => format!("{collection}?page=true&before={before}"),
        None => format!("{collection}?page=true"),
    };
    let mut body = json!({
        "@context": activity_context(),
        "type": "OrderedCollectionPage",
        "id": id,
        "partOf": collection,
        "orderedItems": items,
    });
    if let Some(next) = next {
        body["next"] = json!(next);
    }
    Ok(body)
}

#[derive(Debug, Deserialize)]
struct Collection {
    first: Url,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CollectionPage {
    #[serde(default)]
    ordered_items: Vec<Value>,
    next: Option<Url>,
}

/// Imports another instance's history by paging its outbox: every review in it is checked and
/// stored as if it had been delivered (and one that was is not stored twice). Items that are not
/// reviews, or not the outbox owner's own, are skipped.
pub(crate) async fn backfill(data: Data<ApubData>, outbox: Url) -> Result<usize, ApubError> {
    let collection: Collection = fetch_object_http(&outbox, &data).await?.object;
    let mut next = Some(collection.first);
    let mut imported = 0;
    for _ in 0..BACKFILL_PAGES {
        let Some(url) = next.take() else { break };
        // Each page is its own fetch budget: the library caps fetches per request at 20.
        let data = data.reset_request_count();
        let page: CollectionPage = fetch_object_http(&url, &data).await?.object;
        for item in page.ordered_items {
            let Ok(create) = serde_json::from_value::<CreateOrUpdateReview>(item) else {
                continue;
            };
            if verify_domains_match(&create.object.id, &outbox).is_err() || create.verify().is_err()
            {
                continue;
            }
            Box::new(create).receive(&data).await?;
            imported += 1;
        }
        next = page.next;
    }
    Ok(imported)
}

/// The host a remote object comes from: what it is shown with and counted under.
fn origin(url: &Url) -> String {
    match url.port() {
        Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_owned(),
    }
}

impl CreateOrUpdateReview {
    /// The review must come from its author, on its author's instance.
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        verify_domains_match(&self.object.id, self.actor.inner())?;
        if &self.object.attributed_to != self.actor.inner() {
            return Err(ApubError::Invalid(
                "a review can only be sent by its author".into(),
            ));
        }
        Ok(())
    }

    /// Checks the review by the same rules as a local one and stores it, once.
    pub(crate) async fn receive(self: Box<Self>, data: &Data<ApubData>) -> Result<(), ApubError> {
        let page = self.object;
        let platform: Platform = page
            .platform
            .parse()
            .map_err(|e: String| ApubError::Invalid(e))?;
        let requester_id = platform
            .normalize_requester_id(&page.requester_id)
            .map_err(ApubError::Invalid)?;
        let input: ReviewInput = serde_json::from_value(page.review)
            .map_err(|e| ApubError::Invalid(format!("picket:review: {e}")))?;
        // The author's own instance already asked about worker IDs; its answer stands.
        let review = validate_review(&input, platform, &requester_id, true)
            .map_err(|e| ApubError::Invalid(e.to_string()))?;
        let (ap_id, home, author) = (
            page.id.to_string(),
            origin(&page.id),
            page.attributed_to.to_string(),
        );
        let (name, published) = (page.requester_name, page.published.naive_utc());
        once(data, &self.id, move |conn| {
            let at = now();
            let requester = requesters::mention(conn, platform.as_str(), &requester_id, &name, at)?;
            let public_id = new_public_id();
            let outcome = reviews::upsert_remote(
                conn,
                &public_id,
                RemoteOrigin {
                    ap_id: &ap_id,
                    origin: &home,
                    author: &author,
                },
                requester.id,
                &review,
                published,
                at,
            )?;
            // Followers here hear of reviews written anywhere.
            if outcome == RemoteOutcome::Created {
                follows::notify_new_review(conn, &public_id, &requester, None, at)?;
            }
            Ok(())
        })
        .await
    }
}

impl DeleteObject {
    /// Only the object's own instance may delete it.
    pub(crate) fn verify(&self) -> Result<(), ApubError> {
        verify_domains_match(self.object.id(), self.actor.inner())?;
        Ok(())
    }

    pub(crate) async fn receive(self, data: &Data<ApubData>) -> Result<(), ApubError> {
        let ap_id = self.object.id().to_string();
        once(data, &self.id, move |conn| {
            reviews::delete_remote(conn, &ap_id, now()).map(drop)
        })
        .await
    }
}
