//! Federation's HTTP routes: WebFinger, NodeInfo, and actor URLs that answer ActivityStreams JSON to servers and a short HTML page to browsers.

use activitypub_federation::axum::inbox::{ActivityData, receive_activity};
use activitypub_federation::axum::json::FederationJson;
use activitypub_federation::config::{Data, FederationConfig, FederationMiddleware};
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::fetch::webfinger::{
    build_webfinger_response_with_type, extract_webfinger_name,
};
use activitypub_federation::protocol::context::WithContext;
use activitypub_federation::traits::Object;
use axum::Router;
use axum::body::Body;
use axum::extract::{FromRequest, Path, Query, Request};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::{get, post};
use picket_db::users;
use serde::Deserialize;
use serde_json::{Value, json};
use url::Url;

use crate::activities::InboxActivity;
use crate::actors::{ApubActor, LocalActor};
use crate::kinds::{
    ApubCampaign, ApubComment, ApubCorroboration, ApubFact, ApubIncident, ApubReview, ContentKind,
};
use crate::objects::PicketObject;
use crate::outbox::Section;
use crate::publish::Served;
use crate::{ApubData, ApubError};

/// The routes, with the federation library's request data attached.
pub fn router(config: FederationConfig<ApubData>) -> Router {
    Router::new()
        .route("/.well-known/webfinger", get(webfinger))
        .route("/.well-known/nodeinfo", get(nodeinfo_links))
        .route("/nodeinfo/2.1", get(nodeinfo))
        .route("/actor", get(instance_actor))
        .route("/u/{name}", get(person))
        .route("/r/{platform}/{requester_id}", get(requester_feed))
        .route("/p/{platform}", get(platform_feed))
        .route("/p/{platform}/outbox", get(platform_outbox))
        .route("/p/{platform}/{collection}", get(platform_collection))
        .route("/p/{platform}/inbox", post(inbox))
        .route("/reviews/{id}", get(object::<ApubReview>))
        .route("/reviews/{id}/create", get(object_create::<ApubReview>))
        .route("/incidents/{id}", get(object::<ApubIncident>))
        .route("/incidents/{id}/create", get(object_create::<ApubIncident>))
        .route("/corroborations/{id}", get(object::<ApubCorroboration>))
        .route(
            "/corroborations/{id}/create",
            get(object_create::<ApubCorroboration>),
        )
        .route("/comments/{id}", get(object::<ApubComment>))
        .route("/comments/{id}/create", get(object_create::<ApubComment>))
        .route("/facts/{id}", get(object::<ApubFact>))
        .route("/facts/{id}/create", get(object_create::<ApubFact>))
        .route("/campaigns/{id}", get(object::<ApubCampaign>))
        .route("/campaigns/{id}/create", get(object_create::<ApubCampaign>))
        .route("/ns", get(namespace))
        .route("/actor/outbox", get(outbox))
        .route("/r/{platform}/{requester_id}/outbox", get(feed_outbox))
        .route("/u/{name}/outbox", get(person_outbox))
        .route("/actor/{collection}", get(instance_collection))
        .route("/u/{name}/{collection}", get(person_collection))
        .route(
            "/r/{platform}/{requester_id}/{collection}",
            get(feed_collection),
        )
        // One inbox handler serves them all: the activity itself says whom it is for.
        .route("/inbox", post(inbox))
        .route("/actor/inbox", post(inbox))
        .route("/u/{name}/inbox", post(inbox))
        .route("/r/{platform}/{requester_id}/inbox", post(inbox))
        .layer(axum::middleware::from_fn(refuse_refused_fetchers))
        .layer(FederationMiddleware::new(config))
}

/// Signed fetches from instances the domain rules refuse get 403: a blocked instance cannot
/// read through its own signature what it is blocked from.
async fn refuse_refused_fetchers(
    data: Data<ApubData>,
    request: Request,
    next: axum::middleware::Next,
) -> Result<Response, ApubError> {
    let key_id = request
        .headers()
        .get("signature")
        .and_then(|v| v.to_str().ok())
        .and_then(|signature| {
            signature.split(',').find_map(|part| {
                part.trim()
                    .strip_prefix("keyId=")
                    .map(|v| v.trim_matches('"').to_owned())
            })
        })
        .and_then(|key_id| Url::parse(&key_id).ok());
    // Inbox posts are checked by the inbox itself, before their signatures.
    if let Some(key_id) = key_id
        && request.method() == axum::http::Method::GET
    {
        data.check_peer(&key_id).await?;
    }
    Ok(next.run(request).await)
}

/// Actor JSON must name the security vocabulary too: JSON-LD peers drop `publicKey` without it.
fn actor_context() -> Value {
    json!([
        "https://www.w3.org/ns/activitystreams",
        "https://w3id.org/security/v1"
    ])
}

/// True when the client asks for ActivityStreams (`application/activity+json`, or JSON-LD with
/// the ActivityStreams profile) rather than a page.
fn wants_activity_json(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|accept| {
            accept.contains("application/activity+json") || accept.contains("application/ld+json")
        })
}

/// One local actor, as JSON for servers or as a page for people.
async fn serve_actor(
    data: Data<ApubData>,
    headers: HeaderMap,
    actor: LocalActor,
) -> Result<Response, ApubError> {
    let actor = ApubActor::local(&data, actor).await?;
    if !wants_activity_json(&headers) {
        return Ok(actor_page(&actor).into_response());
    }
    let json = actor.into_json(&data).await?;
    Ok(FederationJson(WithContext::new(json, actor_context())).into_response())
}

fn actor_page(actor: &ApubActor) -> Html<String> {
    let handle = html_escape::encode_text(&actor.username);
    let title = html_escape::encode_text(actor.name.as_deref().unwrap_or(&actor.username));
    let what = match actor.kind {
        crate::ActorKind::Group if actor.username.starts_with("platform.") => {
            "Lock-outs, suspensions and other incidents on this platform that name no requester, followable from the fediverse."
        }
        crate::ActorKind::Group => {
            "Reviews and incident reports about this requester, followable from the fediverse."
        }
        crate::ActorKind::Person => "A worker on this Picket instance.",
        _ => "This Picket instance.",
    };
    Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\n<body><main><h1>{title}</h1><p>{what}</p>\
         <p>Fediverse handle: <code>@{handle}@{host}</code></p></main></body></html>\n",
        host = html_escape::encode_text(actor.id.host_str().unwrap_or_default()),
    ))
}

async fn instance_actor(data: Data<ApubData>, headers: HeaderMap) -> Result<Response, ApubError> {
    serve_actor(data, headers, LocalActor::Instance).await
}

async fn person(
    data: Data<ApubData>,
    headers: HeaderMap,
    Path(name): Path<String>,
) -> Result<Response, ApubError> {
    serve_actor(data, headers, LocalActor::Person(name.to_ascii_lowercase())).await
}

async fn requester_feed(
    data: Data<ApubData>,
    headers: HeaderMap,
    Path((platform, id)): Path<(String, String)>,
) -> Result<Response, ApubError> {
    let actor = LocalActor::from_webfinger_name(&format!("{platform}.{id}"))?;
    serve_actor(data, headers, actor).await
}

async fn platform_feed(
    data: Data<ApubData>,
    headers: HeaderMap,
    Path(platform): Path<String>,
) -> Result<Response, ApubError> {
    let actor = crate::actors::platform_feed(&platform)?;
    serve_actor(data, headers, actor).await
}

/// Largest activity the inbox reads: activities are small, and reading is cut off here, before
/// any parsing or signature work.
pub const MAX_INBOX_BYTES: usize = 256 * 1024;

/// Caps the body (413), checks the claimed actor's domain and what the signature covers before
/// anything is fetched, verifies the signature and digest (the library), then applies the
/// activity once. A signature that fails with a stored key refetches the key once (rate
/// limited), for actors that rotated theirs.
async fn inbox(data: Data<ApubData>, request: Request) -> Result<StatusCode, ApubError> {
    let mut kind = None;
    let result = apply_posted(&data, request, &mut kind).await;
    let outcome = match &result {
        Ok(_) => picket_metrics::InboxOutcome::Accepted,
        Err(error) => {
            if matches!(error, ApubError::TooMany(_)) {
                data.metrics.limit_hit(picket_metrics::Limit::Inbox);
            }
            error.inbox_outcome()
        }
    };
    data.metrics.inbox_activity(kind.as_deref(), outcome);
    result
}

/// The inbox's work; `kind` is set to the activity's `type` as soon as it is read.
async fn apply_posted(
    data: &Data<ApubData>,
    request: Request,
    kind: &mut Option<String>,
) -> Result<StatusCode, ApubError> {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_INBOX_BYTES)
        .await
        .map_err(|_| ApubError::TooLarge(MAX_INBOX_BYTES))?;
    // Policy comes first, before any parsing or signature work: the claimed actor's instance is
    // all it needs (a forged claim only refuses the forger). The per-instance quota counts only
    // verified posts, so nobody can spend another instance's share.
    #[derive(Deserialize)]
    struct Claimed {
        actor: Url,
        #[serde(rename = "type")]
        kind: Option<String>,
    }
    let Claimed { actor, kind: sent } = serde_json::from_slice::<Claimed>(&bytes)
        .map_err(|_| ApubError::BadRequest("the body is not an activity with an actor".into()))?;
    *kind = sent;
    data.check_peer(&actor).await?;
    // Nothing is fetched for a post whose signature could not be the actor's: no signature, a
    // key on another host, too little signed, another instance's Host, or a stale date.
    crate::signature::precheck(
        &parts.headers,
        &actor,
        &data.local_instance(),
        chrono::Utc::now(),
    )?;
    let known = {
        let key = actor.to_string();
        data.db
            .run(move |conn| picket_db::actors::remote(conn, &key))
            .await?
            .is_some()
    };
    let (headers, method, uri) = (
        parts.headers.clone(),
        parts.method.clone(),
        parts.uri.clone(),
    );
    let received = tokio::time::timeout(data.delivery.inbox_deadline, async {
        match receive(data, Request::from_parts(parts, Body::from(bytes.clone()))).await {
            Err(ApubError::Federation(
                activitypub_federation::error::Error::ActivitySignatureInvalid,
            )) if known && data.may_refetch_key(&actor) => {
                // Perhaps the actor rotated its key: fetch it afresh once, then verify again.
                ObjectId::<ApubActor>::from(actor.clone())
                    .dereference_forced(data)
                    .await?;
                // A key that changes is worth a line: rotations are rare, takeovers rarer.
                tracing::info!(%actor, "refetched an actor after its signature failed");
                let mut again = Request::new(Body::from(bytes));
                *again.headers_mut() = headers;
                *again.method_mut() = method;
                *again.uri_mut() = uri;
                receive(data, again).await
            }
            other => other,
        }
    })
    .await
    .map_err(|_| ApubError::Deadline)?;
    if let Err(error) = &received
        && !known
        && fetch_failed(error)
    {
        data.actor_fetch_failed(&actor);
    }
    received?;
    Ok(StatusCode::ACCEPTED)
}

/// Whether an inbox failure came from fetching the sender's actor (not from the activity).
fn fetch_failed(error: &ApubError) -> bool {
    use activitypub_federation::error::Error;
    matches!(
        error,
        ApubError::Unreachable(_)
            | ApubError::Federation(
                Error::Reqwest(_)
                    | Error::ReqwestMiddleware(_)
                    | Error::ParseFetchedObject(..)
                    | Error::FetchInvalidContentType(_)
                    | Error::FetchWrongId(_)
                    | Error::ResponseBodyLimit
                    | Error::DomainResolveError(_)
                    | Error::ResolveInternalIpError(..)
                    | Error::ObjectDeleted(_)
                    | Error::NotFound
            )
    )
}

/// The library's part: digest, actor, signature, then our `verify` and `receive`.
async fn receive(data: &Data<ApubData>, request: Request) -> Result<(), ApubError> {
    let activity = ActivityData::from_request(request, &())
        .await
        .map_err(|_| ApubError::BadRequest("unreadable activity".into()))?;
    receive_activity::<WithContext<InboxActivity>, ApubActor, ApubData>(activity, data).await
}

/// A local object at its ActivityPub id: the object for servers, a page for people, a
/// `Tombstone` with 410 once it is deleted or removed. With `create`, the `Create` that the
/// outbox lists for it.
async fn serve_object<K: ContentKind>(
    data: &Data<ApubData>,
    headers: &HeaderMap,
    id: String,
    create: bool,
) -> Result<Response, ApubError> {
    let object = match crate::publish::served::<K>(data, &id).await? {
        None => return Err(ApubError::NotFound("no such object on this instance")),
        Some(Served::Gone(id)) => {
            return Ok((
                StatusCode::GONE,
                FederationJson(json!({
                    "@context": crate::activities::activity_context(data),
                    "type": "Tombstone",
                    "id": id,
                })),
            )
                .into_response());
        }
        Some(Served::Object(object)) => object,
    };
    if create {
        let mut body = crate::outbox::create_of(&object)?;
        body["@context"] = crate::activities::activity_context(data);
        return Ok(FederationJson(body).into_response());
    }
    if wants_activity_json(headers) {
        return Ok(FederationJson(WithContext::new(
            object,
            crate::activities::activity_context(data),
        ))
        .into_response());
    }
    let (title, content) = match &object {
        PicketObject::Page(page) => (page.name.clone(), page.content.clone()),
        PicketObject::Note(note) => ("A corroboration".to_owned(), note.content.clone()),
        PicketObject::Comment(note) => ("A comment".to_owned(), note.content.clone()),
        PicketObject::Fact(note) => ("A fact about a requester".to_owned(), note.content.clone()),
    };
    Ok(Html(format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head>\n<body><main><h1>{title}</h1>{content}</main></body></html>\n",
        title = html_escape::encode_text(&title),
    ))
    .into_response())
}

/// A local object at its id.
async fn object<K: ContentKind>(
    data: Data<ApubData>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApubError> {
    serve_object::<K>(&data, &headers, id, false).await
}

/// The `Create` the outbox lists for a local object.
async fn object_create<K: ContentKind>(
    data: Data<ApubData>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApubError> {
    serve_object::<K>(&data, &headers, id, true).await
}

/// The JSON-LD context every activity and object names beside ActivityStreams: it defines the
/// `picket:` prefix of the fields that carry a review's, incident's or corroboration's data.
async fn namespace(data: Data<ApubData>) -> Response {
    (
        [(header::CONTENT_TYPE, "application/ld+json")],
        axum::Json(json!({
            "@context": {
                "picket": format!("{}#", data.local_url("ns")),
            }
        })),
    )
        .into_response()
}

#[derive(Debug, Deserialize)]
struct OutboxQuery {
    #[serde(default)]
    page: bool,
    #[serde(default)]
    section: Section,
    before: Option<i64>,
}

/// The instance's history, for instances that start following it.
async fn outbox(
    data: Data<ApubData>,
    Query(query): Query<OutboxQuery>,
) -> Result<FederationJson<Value>, ApubError> {
    Ok(FederationJson(
        crate::outbox::instance_outbox(&data, query.page, query.section, query.before).await?,
    ))
}

/// A requester feed's latest announces.
async fn feed_outbox(
    data: Data<ApubData>,
    Path((platform, id)): Path<(String, String)>,
) -> Result<FederationJson<Value>, ApubError> {
    let feed = LocalActor::from_webfinger_name(&format!("{platform}.{id}"))?;
    Ok(FederationJson(
        crate::outbox::feed_outbox(&data, feed).await?,
    ))
}

/// What a worker published here, paged like the instance's outbox.
async fn person_outbox(
    data: Data<ApubData>,
    Path(name): Path<String>,
    Query(query): Query<OutboxQuery>,
) -> Result<FederationJson<Value>, ApubError> {
    let actor = ApubActor::local(&data, LocalActor::Person(name.to_ascii_lowercase())).await?;
    let person = LocalActor::Person(actor.username);
    Ok(FederationJson(
        crate::outbox::paged_outbox(&data, person, query.page, query.section, query.before).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct CollectionQuery {
    #[serde(default)]
    page: bool,
}

/// An actor's `followers` or `following`: how many, and a page that does not list them. Who
/// follows a worker (or whom a worker follows) is not published: the count is enough for
/// other servers, and the names would tell an employer who is watching it.
async fn collection(
    data: &ApubData,
    actor: LocalActor,
    name: &str,
    query: CollectionQuery,
) -> Result<FederationJson<Value>, ApubError> {
    let direction = match name {
        "followers" => picket_db::delivery::Direction::Inbound,
        "following" => picket_db::delivery::Direction::Outbound,
        _ => return Err(ApubError::NotFound("no such collection")),
    };
    let actor = ApubActor::local(data, actor).await?;
    let local = data
        .local_path(&actor.id)
        .ok_or(ApubError::NotFound("no such actor"))?;
    let total = data
        .db
        .run(move |conn| picket_db::delivery::follow_count(conn, &local, direction))
        .await?;
    let id = format!("{}/{name}", actor.id);
    let body = if query.page {
        json!({
            "@context": crate::activities::activity_context(data),
            "type": "OrderedCollectionPage",
            "id": format!("{id}?page=true"),
            "partOf": id,
            "totalItems": total,
            "orderedItems": [],
        })
    } else {
        json!({
            "@context": crate::activities::activity_context(data),
            "type": "OrderedCollection",
            "id": id,
            "totalItems": total,
            "first": format!("{id}?page=true"),
        })
    };
    Ok(FederationJson(body))
}

async fn instance_collection(
    data: Data<ApubData>,
    Path(name): Path<String>,
    Query(query): Query<CollectionQuery>,
) -> Result<FederationJson<Value>, ApubError> {
    collection(&data, LocalActor::Instance, &name, query).await
}

async fn person_collection(
    data: Data<ApubData>,
    Path((person, name)): Path<(String, String)>,
    Query(query): Query<CollectionQuery>,
) -> Result<FederationJson<Value>, ApubError> {
    collection(
        &data,
        LocalActor::Person(person.to_ascii_lowercase()),
        &name,
        query,
    )
    .await
}

async fn feed_collection(
    data: Data<ApubData>,
    Path((platform, id, name)): Path<(String, String, String)>,
    Query(query): Query<CollectionQuery>,
) -> Result<FederationJson<Value>, ApubError> {
    let feed = LocalActor::from_webfinger_name(&format!("{platform}.{id}"))?;
    collection(&data, feed, &name, query).await
}

async fn platform_collection(
    data: Data<ApubData>,
    Path((platform, name)): Path<(String, String)>,
    Query(query): Query<CollectionQuery>,
) -> Result<FederationJson<Value>, ApubError> {
    let feed = crate::actors::platform_feed(&platform)?;
    collection(&data, feed, &name, query).await
}

/// A platform feed's latest announces of incidents naming no requester.
async fn platform_outbox(
    data: Data<ApubData>,
    Path(platform): Path<String>,
) -> Result<FederationJson<Value>, ApubError> {
    let feed = crate::actors::platform_feed(&platform)?;
    Ok(FederationJson(
        crate::outbox::feed_outbox(&data, feed).await?,
    ))
}

#[derive(Debug, Deserialize)]
struct WebfingerQuery {
    resource: Option<String>,
}

/// `acct:instance@host`, `acct:<worker>@host` or `acct:<platform>.<requesterid>@host`.
async fn webfinger(
    data: Data<ApubData>,
    Query(query): Query<WebfingerQuery>,
) -> Result<Response, ApubError> {
    let resource = query
        .resource
        .ok_or_else(|| ApubError::BadRequest("give `resource=acct:name@host`".into()))?;
    let name = extract_webfinger_name(&resource, &data)
        .map_err(|_| ApubError::NotFound("no such account on this instance"))?;
    let actor = ApubActor::local(&data, LocalActor::from_webfinger_name(name)?).await?;
    let mut body = build_webfinger_response_with_type(
        resource.clone(),
        vec![(actor.id.clone(), Some(actor.kind.as_str()))],
    );
    // The same URL is the actor's page for browsers (content negotiation in picket-web).
    body.links
        .push(activitypub_federation::fetch::webfinger::WebfingerLink {
            rel: Some("http://webfinger.net/rel/profile-page".into()),
            kind: Some("text/html".into()),
            href: Some(actor.id.clone()),
            template: None,
            properties: Default::default(),
        });
    Ok((
        [(header::CONTENT_TYPE, "application/jrd+json")],
        axum::Json(body),
    )
        .into_response())
}

async fn nodeinfo_links(data: Data<ApubData>) -> axum::Json<Value> {
    axum::Json(json!({
        "links": [{
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.1",
            "href": data.local_url("nodeinfo/2.1"),
        }]
    }))
}

/// A user count as NodeInfo publishes it: rounded up to a multiple of ten.
fn rounded_users(users: i64) -> i64 {
    (users.max(0) + 9) / 10 * 10
}

async fn nodeinfo(data: Data<ApubData>) -> Result<Response, ApubError> {
    let (users, instance) = data
        .db
        .run(|conn| Ok((users::count_active(conn)?, picket_db::settings::get(conn)?)))
        .await?;
    let open = match instance.registration.as_deref() {
        Some(mode) => mode == "open",
        None => data.open_registrations,
    };
    let body = json!({
        "version": "2.1",
        "software": {
            "name": "picket",
            "version": env!("CARGO_PKG_VERSION"),
        },
        "protocols": ["activitypub"],
        "services": {"inbound": [], "outbound": []},
        "openRegistrations": open,
        // Rounded up to tens: an exact count tells who joined when.
        "usage": {"users": {"total": rounded_users(users)}},
        "metadata": {
            "instanceActor": data.local_url("actor"),
            "nodeName": instance.name,
            "nodeDescription": instance.description,
            "rules": instance.rules,
        },
    });
    Ok((
        [(
            header::CONTENT_TYPE,
            "application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.1#\"",
        )],
        axum::Json(body),
    )
        .into_response())
}
