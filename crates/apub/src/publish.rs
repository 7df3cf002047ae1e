//! Local content going out: what a local object's id answers, and the federation events that send content of every kind (built by its kind, in `kinds`) to every follower, each in one transaction with taking its event.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::traits::Actor;
use picket_db::campaigns;
use picket_db::events::{self, Event, EventKind, ObjectType};
use picket_db::models::now;
use picket_db::{DbError, delivery, moderation};
use serde_json::Value;
use url::Url;

use crate::activities::{
    Announce, CreateOrUpdate, CreateOrUpdateType, DeleteObject, Flag, IdOrObject, JoinCampaign,
    UndoDelete,
};
use crate::activities::{activity_context, new_activity_id};
use crate::actors::{ApubActor, LocalActor};
use crate::kinds::{self, Content, ContentKind};
use crate::objects::{PicketObject, wire};
use crate::{ApubData, ApubError};

fn corrupt(error: impl ToString) -> ApubError {
    ApubError::Db(DbError::Corrupt(error.to_string()))
}

/// What a local object's id answers.
pub(crate) enum Served {
    Object(PicketObject),
    /// Deleted or removed: a `Tombstone` with 410.
    Gone(Url),
}

/// A local object of kind `K` by its public id; `None` when there is no such object of ours
/// (copies of other instances' content, imported history and drafts are not ours to serve).
pub(crate) async fn served<K: ContentKind>(
    data: &Data<ApubData>,
    public_id: &str,
) -> Result<Option<Served>, ApubError> {
    let id = data.local_url(&format!("{}/{public_id}", K::COLLECTION));
    let Some(found) = K::read_from_id(id, data).await? else {
        return Ok(None);
    };
    Ok(Some(if found.is_deleted() {
        Served::Gone(found.url().clone())
    } else {
        Served::Object(found.wire(data)?)
    }))
}

/// Turns pending federation events into queued activities, each in one transaction with taking
/// its event. Returns how many events were handled; one that fails stays for the next round
/// without holding up the others.
pub(crate) async fn process_events(data: &Data<ApubData>) -> Result<usize, ApubError> {
    let pending = data.db.run(|conn| events::pending(conn, now(), 32)).await?;
    let mut handled = 0;
    for event in pending {
        let id = event.id;
        match process(data, event).await {
            Ok(()) => handled += 1,
            // The object is gone altogether: nothing is left to announce.
            Err(ApubError::Db(DbError::NotFound)) => {
                data.db
                    .run(move |conn| events::take(conn, id).map(drop))
                    .await?;
                handled += 1;
            }
            Err(error) => {
                tracing::warn!(event = id, %error, "cannot federate a change yet");
                data.db
                    .run(move |conn| events::postpone(conn, id, now()))
                    .await?;
            }
        }
    }
    Ok(handled)
}

/// One activity to queue and who gets it.
struct Outgoing {
    signer: LocalActor,
    activity: Value,
    /// Local actors whose followers get the activity as it is.
    audiences: Vec<String>,
    /// The requester feed whose followers get it: Picket instances as it is, others as the
    /// feed's `Announce` (FEP-1b12) of `announced` when there is one, as it is otherwise.
    feed: Option<LocalActor>,
    /// The `Create` or `Update` that the feed announces to the fediverse.
    announced: Option<CreateOrUpdate>,
    object_id: Url,
    /// Further inboxes: the home instance of the incident a corroboration replies to.
    extra_inboxes: Vec<String>,
    /// Never sent back to the instance the object came from.
    except_origin: Option<String>,
}

impl Outgoing {
    /// An activity of the instance actor's about `object_id`, to nobody yet: callers name the
    /// audience.
    fn from_instance(activity: Value, object_id: Url) -> Outgoing {
        Outgoing {
            signer: LocalActor::Instance,
            activity,
            audiences: Vec::new(),
            feed: None,
            announced: None,
            object_id,
            extra_inboxes: Vec::new(),
            except_origin: None,
        }
    }
}

async fn process(data: &Data<ApubData>, event: Event) -> Result<(), ApubError> {
    match event.object_type {
        ObjectType::Account => return account_event(data, event).await,
        ObjectType::Report => return flag(data, event).await,
        ObjectType::Signature => return sign_on(data, event).await,
        _ => {}
    }
    let (object_type, public_id) = (event.object_type, event.object_id.clone());
    let shared = data.app_data().clone();
    let loaded = data
        .db
        .run(move |conn| kinds::load(conn, &shared, object_type, &public_id))
        .await?;
    let object_id = loaded.url().clone();
    let outgoing = if matches!(event.kind, EventKind::Remove | EventKind::Restore) {
        // A moderator's removal: from the instance (moderators stay unnamed), with the reason.
        let (state, reason) = loaded.moderation();
        // Only what still holds is sent: a removal since undone (or a restoration since
        // removed again) would otherwise arrive after its reversal and stick.
        let holds = match event.kind {
            EventKind::Remove => state == "removed",
            _ => state == "published",
        };
        if !holds {
            return take(data, event.id).await;
        }
        Outgoing {
            audiences: vec![LocalActor::Instance.path(), loaded.signer().path()],
            feed: loaded.feed()?,
            ..Outgoing::from_instance(
                moderation_activity(data, event.kind, &object_id, reason).await?,
                object_id,
            )
        }
    } else if event.kind == EventKind::Announce {
        // Another instance's reply to a local incident, passed on to this instance's
        // followers, who fetch it from its origin.
        let instance = ApubActor::local(data, LocalActor::Instance).await?;
        let announce = wire(&Announce::new(
            new_activity_id(data),
            instance.id,
            object_id.clone(),
        ))?;
        Outgoing {
            audiences: vec![LocalActor::Instance.path()],
            except_origin: Some(crate::objects::origin(&object_id)),
            ..Outgoing::from_instance(announce, object_id)
        }
    } else {
        let author = loaded.signer();
        // The key is made (if need be) before the transaction, never inside it.
        let (signer, actor) = match ApubActor::local(data, author.clone()).await {
            Ok(actor) => (author.clone(), actor),
            // The author's account is gone: its instance signs the deletions, as peers accept
            // for content of that instance's.
            Err(error) if error.is_not_found() && event.kind == EventKind::Delete => (
                LocalActor::Instance,
                ApubActor::local(data, LocalActor::Instance).await?,
            ),
            Err(error) => return Err(error),
        };
        let object = match (event.kind, kinds::served(loaded.as_ref(), data)?) {
            (EventKind::Delete, _) => None,
            (_, Some(object)) => Some(object),
            // Gone since the event was written: its own delete event follows.
            (_, None) => return take(data, event.id).await,
        };
        let announced = object.map(|object| {
            let kind = if event.kind == EventKind::Create {
                CreateOrUpdateType::Create
            } else {
                CreateOrUpdateType::Update
            };
            CreateOrUpdate::new(kind, new_activity_id(data), actor.id.clone(), object)
        });
        let activity = match &announced {
            None => wire(&DeleteObject::new(
                new_activity_id(data),
                actor.id.clone(),
                IdOrObject::tombstone(object_id.clone()),
                None,
            ))?,
            Some(create) => wire(create)?,
        };
        Outgoing {
            audiences: vec![LocalActor::Instance.path(), author.path()],
            feed: loaded.feed()?,
            announced,
            extra_inboxes: reply_home(data, loaded.as_ref()).await?,
            signer,
            activity,
            object_id,
            except_origin: None,
        }
    };
    queue(data, event.id, outgoing).await
}

/// A moderator's removal (`Delete` with the reason as `summary`, which Lemmy records as a
/// removal) or its reversal (`Undo` of that), from the instance actor.
async fn moderation_activity(
    data: &ApubData,
    kind: EventKind,
    object_id: &Url,
    reason: Option<String>,
) -> Result<Value, ApubError> {
    let instance = ApubActor::local(data, LocalActor::Instance).await?;
    let removal = DeleteObject::new(
        new_activity_id(data),
        instance.id.clone(),
        IdOrObject::Id(object_id.clone()),
        Some(reason.unwrap_or_else(|| "Removed by this instance's moderators".to_owned())),
    );
    if kind == EventKind::Remove {
        wire(&removal)
    } else {
        wire(&UndoDelete::new(
            new_activity_id(data),
            instance.id,
            removal,
        ))
    }
}

/// A local account suspended (`Remove`) or unsuspended (`Restore`): followers of the instance
/// and of the worker hide (or show again) what they hold of the worker's.
async fn account_event(data: &Data<ApubData>, event: Event) -> Result<(), ApubError> {
    let person = LocalActor::Person(event.object_id.clone());
    let id = data.local_url(&person.path());
    let activity = if event.kind == EventKind::Delete {
        // A deleted account: its actor no longer answers, so the instance says it is gone.
        let instance = ApubActor::local(data, LocalActor::Instance).await?;
        wire(&DeleteObject::new(
            new_activity_id(data),
            instance.id,
            IdOrObject::Id(id.clone()),
            None,
        ))?
    } else {
        moderation_activity(
            data,
            event.kind,
            &id,
            Some(picket_db::moderation::SUSPENDED_REASON.to_owned()),
        )
        .await?
    };
    queue(
        data,
        event.id,
        Outgoing {
            audiences: vec![LocalActor::Instance.path(), person.path()],
            ..Outgoing::from_instance(activity, id)
        },
    )
    .await
}

/// A report of another instance's content or account, sent to that instance's moderators as a
/// `Flag` from the instance actor, so the reporter stays unknown there. The reason goes in both
/// `content` (Mastodon, GoToSocial) and `summary` (Lemmy).
async fn flag(data: &Data<ApubData>, event: Event) -> Result<(), ApubError> {
    let public_id = event.object_id.clone();
    let (report, author) = data
        .db
        .run(move |conn| {
            let report = moderation::report_by_public_id(conn, &public_id)?;
            let target_type: picket_core::moderation::TargetType =
                report.target_type.parse().map_err(DbError::Corrupt)?;
            let author = match target_type {
                picket_core::moderation::TargetType::Account => Some(report.target.clone()),
                _ => moderation::held(conn, target_type, &report.target)?.remote_author,
            };
            Ok((report, author.ok_or(DbError::NotFound)?))
        })
        .await?;
    let author_url = Url::parse(&author).map_err(corrupt)?;
    let author: ObjectId<ApubActor> = author_url.clone().into();
    let inbox = author.dereference(data).await?.shared_inbox_or_inbox();
    let reason: picket_core::moderation::ReportReason = report.reason.parse().map_err(corrupt)?;
    let words = if report.text.is_empty() {
        reason.label().to_owned()
    } else {
        format!("{}: {}", reason.label(), report.text)
    };
    let mut objects = vec![author_url.clone()];
    if report.target != author_url.as_str() {
        objects.push(Url::parse(&report.target).map_err(corrupt)?);
    }
    let instance = ApubActor::local(data, LocalActor::Instance).await?;
    let activity = wire(&Flag::new(
        new_activity_id(data),
        instance.id,
        author_url.clone(),
        objects,
        words,
    ))?;
    queue(
        data,
        event.id,
        Outgoing {
            extra_inboxes: vec![inbox.to_string()],
            ..Outgoing::from_instance(activity, author_url)
        },
    )
    .await
}

/// A local worker's signature of another instance's campaign, sent home as a `Join` from this
/// instance's actor, naming the worker only by the signature's token.
async fn sign_on(data: &Data<ApubData>, event: Event) -> Result<(), ApubError> {
    let token = event.object_id.clone();
    let (signer, campaign) = data
        .db
        .run(move |conn| campaigns::signature_by_token(conn, &token))
        .await?;
    let (Some(campaign_id), Some(author)) = (&campaign.ap_id, &campaign.remote_author) else {
        return take(data, event.id).await;
    };
    let author: ObjectId<ApubActor> = Url::parse(author).map_err(corrupt)?.into();
    let inbox = author.dereference(data).await?.shared_inbox_or_inbox();
    let instance = ApubActor::local(data, LocalActor::Instance).await?;
    let campaign_url = Url::parse(campaign_id).map_err(corrupt)?;
    let join = wire(&JoinCampaign::new(
        new_activity_id(data),
        instance.id,
        campaign_url.clone(),
        signer,
    ))?;
    queue(
        data,
        event.id,
        Outgoing {
            extra_inboxes: vec![inbox.to_string()],
            ..Outgoing::from_instance(join, campaign_url)
        },
    )
    .await
}

/// A corroboration of another instance's incident also goes to that instance, whose followers
/// then hear of it from there; so does a comment on another instance's review or incident, and
/// to the author of the comment it answers (a Mastodon user hears of the answer).
async fn reply_home(data: &Data<ApubData>, loaded: &dyn Content) -> Result<Vec<String>, ApubError> {
    let authors = loaded.reply_authors();
    let mut inboxes = Vec::new();
    for author in authors {
        // Known since the content arrived, unless it came by an announce: then fetched now.
        let author: ObjectId<ApubActor> = Url::parse(author).map_err(corrupt)?.into();
        let inbox = author
            .dereference(data)
            .await?
            .shared_inbox_or_inbox()
            .to_string();
        if !inboxes.contains(&inbox) {
            inboxes.push(inbox);
        }
    }
    Ok(inboxes)
}

async fn take(data: &ApubData, event_id: i64) -> Result<(), ApubError> {
    data.db
        .run(move |conn| events::take(conn, event_id).map(drop))
        .await?;
    Ok(())
}

/// Servers that read a group's `Announce{Create{Page}}` as a post in a community.
const LEMMY_FAMILY: &[&str] = &["lemmy", "mbin", "kbin", "piefed"];

/// The activity as stored for sending: with its `@context`, and its id.
fn envelope(data: &ApubData, mut body: Value) -> (String, String) {
    body["@context"] = activity_context(data);
    (
        body["id"].as_str().unwrap_or_default().to_owned(),
        body.to_string(),
    )
}

/// Takes the event and queues the activity for every inbox it goes to, in one transaction.
async fn queue(data: &ApubData, event_id: i64, outgoing: Outgoing) -> Result<(), ApubError> {
    let feed_path = outgoing.feed.as_ref().map(LocalActor::path);
    // Lemmy reads a community's post from the whole `Create` it announces; Mastodon and the
    // rest fetch the object an announce names.
    let announces = match (&outgoing.feed, &outgoing.announced) {
        (Some(feed), Some(create)) => {
            let feed_id = data.local_url(&feed.path());
            let whole = Announce::new(new_activity_id(data), feed_id.clone(), create);
            let by_id = Announce::new(new_activity_id(data), feed_id, &outgoing.object_id);
            Some((envelope(data, wire(&whole)?), envelope(data, wire(&by_id)?)))
        }
        _ => None,
    };
    let (activity_id, body) = envelope(data, outgoing.activity);
    let signer = outgoing.signer.path();
    // Activities about one object reach each inbox in the order they were queued.
    let object_key = outgoing.object_id.to_string();
    let Outgoing {
        audiences,
        extra_inboxes,
        except_origin,
        ..
    } = outgoing;
    data.db
        .tx(move |conn| {
            if !events::take(conn, event_id)? {
                return Ok(());
            }
            let mut direct: Vec<String> = extra_inboxes.clone();
            let (mut lemmy, mut other) = (Vec::new(), Vec::new());
            for audience in &audiences {
                direct.extend(
                    delivery::follower_inboxes(conn, audience)?
                        .into_iter()
                        .map(|(inbox, _)| inbox),
                );
            }
            if let Some(feed_path) = &feed_path {
                for (inbox, software) in delivery::follower_inboxes(conn, feed_path)? {
                    match (software.as_deref(), &announces) {
                        (Some("picket"), _) | (_, None) => direct.push(inbox),
                        (Some(name), Some(_)) if LEMMY_FAMILY.contains(&name) => lemmy.push(inbox),
                        _ => other.push(inbox),
                    }
                }
            }
            let keep = |inbox: &String| {
                except_origin.as_deref().is_none_or(|origin| {
                    Url::parse(inbox).is_ok_and(|url| crate::objects::origin(&url) != origin)
                })
            };
            direct.retain(keep);
            // Whoever gets the activity itself needs no announce of it.
            lemmy.retain(|inbox| keep(inbox) && !direct.contains(inbox));
            other.retain(|inbox| keep(inbox) && !direct.contains(inbox));
            if !direct.is_empty() {
                let activity = delivery::Outgoing {
                    activity_id: &activity_id,
                    actor: &signer,
                    body: &body,
                    object: Some(&object_key),
                };
                delivery::enqueue(conn, activity, &direct, now())?;
            }
            if let Some(((lemmy_id, lemmy_body), (other_id, other_body))) = &announces {
                let feed = feed_path.as_deref().unwrap_or_default();
                for (id, body, inboxes) in [
                    (lemmy_id, lemmy_body, &lemmy),
                    (other_id, other_body, &other),
                ] {
                    if !inboxes.is_empty() {
                        let activity = delivery::Outgoing {
                            activity_id: id,
                            actor: feed,
                            body,
                            object: Some(&object_key),
                        };
                        delivery::enqueue(conn, activity, inboxes, now())?;
                    }
                }
            }
            Ok(())
        })
        .await?;
    Ok(())
}
