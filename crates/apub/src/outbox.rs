//! History for those who start following: the instance actor's outbox of every local review, incident and corroboration, a requester feed's outbox of its latest announces (what Lemmy reads when it first resolves a feed), and backfill, which pages another instance's outbox and stores what it finds.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::fetch_object_http;
use activitypub_federation::protocol::verification::verify_domains_match;
use picket_db::{incidents, requesters, reviews};
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::activities::activity_context;
use crate::activities::{CreateOrUpdate, CreateOrUpdateType};
use crate::actors::LocalActor;
use crate::kinds::{ApubCorroboration, ApubIncident, ApubReview, Content};
use crate::objects::PicketObject;
use crate::{ApubData, ApubError};

/// How many items one page holds, and how many pages a backfill reads at most.
const OUTBOX_PAGE: i64 = 50;
const BACKFILL_PAGES: usize = 600;
/// How many of its latest items a requester feed's outbox shows.
const FEED_ITEMS: i64 = 20;

/// What an outbox page lists: reviews first, then incidents, then the corroborations and
/// comments that reply to them (so a backfill meets what is answered before its replies).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Section {
    #[default]
    Review,
    Incident,
    Corroboration,
    Comment,
    Fact,
}

impl Section {
    fn as_str(self) -> &'static str {
        match self {
            Section::Review => "review",
            Section::Incident => "incident",
            Section::Corroboration => "corroboration",
            Section::Comment => "comment",
            Section::Fact => "fact",
        }
    }

    fn next(self) -> Option<Section> {
        match self {
            Section::Review => Some(Section::Incident),
            Section::Incident => Some(Section::Corroboration),
            Section::Corroboration => Some(Section::Comment),
            Section::Comment => Some(Section::Fact),
            Section::Fact => None,
        }
    }
}

/// A `Create` of a local object as the outbox lists it; its id answers at `{object}/create`.
pub(crate) fn create_of(object: &PicketObject) -> Result<Value, ApubError> {
    let id = Url::parse(&format!("{}/create", object.id()))
        .map_err(|e| ApubError::Invalid(e.to_string()))?;
    crate::objects::wire(&CreateOrUpdate::new(
        CreateOrUpdateType::Create,
        id,
        object.attributed_to().clone(),
        object.clone(),
    ))
}

/// One section's items, newest first, before the cursor, with the cursor for the next page.
async fn items(
    data: &ApubData,
    section: Section,
    requester_pk: Option<i64>,
    author: Option<String>,
    before: Option<i64>,
    limit: i64,
) -> Result<Vec<(i64, PicketObject)>, ApubError> {
    let shared = data.clone();
    data.db
        .run(move |conn| {
            let data = &shared;
            let object = |result: Result<PicketObject, ApubError>| {
                result.map_err(|e| picket_db::DbError::Corrupt(e.to_string()))
            };
            Ok(match section {
                Section::Review => reviews::local_published_page(
                    conn,
                    requester_pk,
                    author.as_deref(),
                    before,
                    limit,
                )?
                .into_iter()
                .map(|(row, requester, author)| {
                    let id = row.id;
                    let review = ApubReview::new(data, row, requester, Some(author))?;
                    Ok((id, object(review.wire(data))?))
                })
                .collect::<Result<Vec<_>, picket_db::DbError>>()?,
                Section::Incident => incidents::local_published_page(
                    conn,
                    requester_pk,
                    author.as_deref(),
                    before,
                    limit,
                )?
                .into_iter()
                .map(|(row, author)| {
                    let id = row.id;
                    let requester = row
                        .requester_pk
                        .map(|pk| requesters::by_pk(conn, pk))
                        .transpose()?;
                    let incident = ApubIncident::new(data, row, requester, Some(author))?;
                    Ok((id, object(incident.wire(data))?))
                })
                .collect::<Result<Vec<_>, picket_db::DbError>>()?,
                Section::Corroboration => {
                    incidents::local_corroborations_page(conn, author.as_deref(), before, limit)?
                        .into_iter()
                        .map(|(row, incident, author)| {
                            let id = row.id;
                            let note =
                                ApubCorroboration::new(conn, data, row, incident, Some(author))?;
                            Ok((id, object(note.wire(data))?))
                        })
                        .collect::<Result<Vec<_>, picket_db::DbError>>()?
                }
                // Oldest answers come after what they answer: pages go newest first, and a
                // comment's thread start was published before it.
                Section::Comment => {
                    let ids =
                        picket_db::comments::local_page(conn, author.as_deref(), before, limit)?
                            .into_iter()
                            .map(|(row, _)| (row.id, row.public_id))
                            .collect();
                    as_served(conn, data, picket_db::events::ObjectType::Comment, ids)?
                }
                Section::Fact => {
                    let ids = picket_db::facts::local_page(conn, author.as_deref(), before, limit)?
                        .into_iter()
                        .map(|(row, _)| (row.id, row.public_id))
                        .collect();
                    as_served(conn, data, picket_db::events::ObjectType::Fact, ids)?
                }
            })
        })
        .await
        .map_err(Into::into)
}

/// Local objects of `object_type` by (row id, public id), as their ids serve them; those whose
/// object is gone (what a comment answers was deleted) are left out.
fn as_served(
    conn: &mut picket_db::DbConn,
    data: &ApubData,
    object_type: picket_db::events::ObjectType,
    ids: Vec<(i64, String)>,
) -> Result<Vec<(i64, PicketObject)>, picket_db::DbError> {
    let mut found = Vec::new();
    for (id, public_id) in ids {
        let loaded = crate::kinds::load(conn, data, object_type, &public_id)?;
        if let Some(object) = crate::kinds::served(loaded.as_ref(), data)
            .map_err(|e| picket_db::DbError::Corrupt(e.to_string()))?
        {
            found.push((id, object));
        }
    }
    Ok(found)
}

/// The instance actor's outbox: the collection (`paged` false) or one page of `Create`s of one
/// section, newest first, `before` a cursor from the previous page's `next`.
pub(crate) async fn instance_outbox(
    data: &ApubData,
    paged: bool,
    section: Section,
    before: Option<i64>,
) -> Result<Value, ApubError> {
    paged_outbox(data, LocalActor::Instance, paged, section, before).await
}

/// The outbox of the instance (everything published here) or of one worker (what they
/// published), paged by section.
pub(crate) async fn paged_outbox(
    data: &ApubData,
    actor: LocalActor,
    paged: bool,
    section: Section,
    before: Option<i64>,
) -> Result<Value, ApubError> {
    let collection = data.local_url(&format!("{}/outbox", actor.path()));
    let author = match &actor {
        LocalActor::Person(name) => Some(name.clone()),
        _ => None,
    };
    let link = |section: Section, before: Option<i64>| {
        let mut url = format!("{collection}?page=true&section={}", section.as_str());
        if let Some(before) = before {
            url.push_str(&format!("&before={before}"));
        }
        url
    };
    if !paged {
        return Ok(json!({
            "@context": activity_context(data),
            "type": "OrderedCollection",
            "id": collection,
            "first": link(Section::Review, None),
        }));
    }
    let rows = items(data, section, None, author, before, OUTBOX_PAGE).await?;
    let next = match rows.last() {
        Some((last, _)) if rows.len() as i64 == OUTBOX_PAGE => Some(link(section, Some(*last))),
        _ => section.next().map(|next| link(next, None)),
    };
    let mut body = json!({
        "@context": activity_context(data),
        "type": "OrderedCollectionPage",
        "id": link(section, before),
        "partOf": collection,
        "orderedItems": rows.iter().map(|(_, object)| create_of(object)).collect::<Result<Vec<_>, _>>()?,
    });
    if let Some(next) = next {
        body["next"] = json!(next);
    }
    Ok(body)
}

/// A requester feed's outbox: its latest local reviews and incidents, newest first, each as the
/// feed's `Announce{Create{Page}}`, all on the collection itself; a platform feed's: its latest local incidents that name no requester.
pub(crate) async fn feed_outbox(data: &ApubData, feed: LocalActor) -> Result<Value, ApubError> {
    let mut latest = Vec::new();
    match &feed {
        LocalActor::Feed(platform, requester_id) => {
            let (platform_name, id) = (platform.as_str(), requester_id.clone());
            let requester = data
                .db
                .run(move |conn| requesters::by_key(conn, platform_name, &id))
                .await?
                .ok_or(ApubError::NotFound("no such requester"))?;
            for section in [Section::Review, Section::Incident] {
                latest.extend(
                    items(data, section, Some(requester.id), None, None, FEED_ITEMS)
                        .await?
                        .into_iter()
                        .map(|(_, object)| object),
                );
            }
        }
        LocalActor::Platform(platform) => {
            // Among the latest local incidents, those about the platform as a whole.
            latest.extend(
                items(data, Section::Incident, None, None, None, FEED_ITEMS * 5)
                    .await?
                    .into_iter()
                    .map(|(_, object)| object)
                    .filter(|object| match object {
                        PicketObject::Page(page) => {
                            page.requester_id.is_none() && page.platform == platform.as_str()
                        }
                        _ => false,
                    }),
            );
        }
        _ => return Err(ApubError::NotFound("no such feed")),
    }
    let feed_id = data.local_url(&feed.path());
    let published = |object: &PicketObject| match object {
        PicketObject::Page(page) => page.published,
        PicketObject::Note(note) => note.published,
        PicketObject::Fact(note) => note.published,
        PicketObject::Comment(note) => note.published,
    };
    latest.sort_by_key(|object| std::cmp::Reverse(published(object)));
    latest.truncate(FEED_ITEMS as usize);
    let announces: Vec<Value> = latest
        .iter()
        .map(|object| {
            Ok(json!({
                "type": "Announce",
                "id": format!("{}/announce", object.id()),
                "actor": feed_id,
                "to": [crate::objects::PUBLIC],
                "cc": [],
                "object": create_of(object)?,
            }))
        })
        .collect::<Result<_, ApubError>>()?;
    Ok(json!({
        "@context": activity_context(data),
        "type": "OrderedCollection",
        "id": data.local_url(&format!("{}/outbox", feed.path())),
        "totalItems": announces.len(),
        "orderedItems": announces,
    }))
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

/// Imports another instance's history by paging its outbox: every object in it is checked and
/// stored as if it had been delivered (and one that was is not stored twice). Items that are not
/// Picket content, or not from the outbox's own instance, are skipped.
pub(crate) async fn backfill(data: Data<ApubData>, outbox: Url) -> Result<usize, ApubError> {
    data.check_peer(&outbox).await?;
    let collection: Collection = fetch_object_http(&outbox, &data).await?.object;
    let mut next = Some(collection.first);
    let mut imported = 0;
    for _ in 0..BACKFILL_PAGES {
        let Some(url) = next.take() else { break };
        // Each page is its own fetch budget: the library caps fetches per request at 20.
        let data = data.reset_request_count();
        let page: CollectionPage = fetch_object_http(&url, &data).await?.object;
        for item in page.ordered_items {
            let Ok(create) = serde_json::from_value::<CreateOrUpdate>(item) else {
                continue;
            };
            if verify_domains_match(create.object.id(), &outbox).is_err()
                || create.verify().is_err()
            {
                continue;
            }
            match crate::receive::store(&data, Some(&create.id), create.object).await {
                Ok(()) => imported += 1,
                // One bad item does not stop the history behind it.
                Err(ApubError::Invalid(reason)) => {
                    tracing::debug!(id = %create.id, %reason, "backfill skipped an item");
                }
                Err(other) => return Err(other),
            }
        }
        next = page.next;
    }
    Ok(imported)
}
