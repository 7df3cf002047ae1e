//! Atom feeds: one public feed per requester (new reviews and incidents) and per platform (incidents naming no requester), and one secret-URL feed per worker (their notifications), for any feed reader.

use atom_syndication::{Content, Entry, Feed, FixedDateTime, Link, Text};
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{NaiveDateTime, TimeZone, Utc};
use picket_core::platform::Platform;
use picket_core::secrets::secret_digest;
use picket_db::incidents::ListScope;
use picket_db::models::now;
use picket_db::{DbError, follows, incidents, reviews};

use super::requesters::{find, parse_key};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;

/// Entries per feed: feed readers poll, so the newest few are enough.
const ENTRIES: i64 = 50;

fn time(at: NaiveDateTime) -> FixedDateTime {
    Utc.from_utc_datetime(&at).fixed_offset()
}

fn entry(id: String, title: String, summary: String, link: String, at: NaiveDateTime) -> Entry {
    Entry {
        id,
        title: Text::plain(title),
        updated: time(at),
        summary: Some(Text::plain(summary)),
        links: vec![Link {
            href: link,
            rel: "alternate".into(),
            ..Link::default()
        }],
        ..Entry::default()
    }
}

/// A public feed at `self_url`: its id and self link, updated with its newest entry (else `empty_at`).
fn public_feed(
    self_url: String,
    title: String,
    entries: Vec<Entry>,
    empty_at: NaiveDateTime,
) -> Feed {
    Feed {
        id: self_url.clone(),
        title: Text::plain(title),
        updated: entries
            .first()
            .map_or_else(|| time(empty_at), |e| e.updated),
        links: vec![Link {
            href: self_url,
            rel: "self".into(),
            ..Link::default()
        }],
        entries,
        ..Feed::default()
    }
}

fn atom(feed: Feed) -> Response {
    (
        [(header::CONTENT_TYPE, "application/atom+xml; charset=utf-8")],
        feed.to_string(),
    )
        .into_response()
}

fn short(text: &str) -> String {
    let mut out: String = text.chars().take(280).collect();
    if out.len() < text.len() {
        out.push('…');
    }
    out
}

/// Public Atom feed of a requester's newest reviews and incident reports.
#[utoipa::path(get, path = "/feeds/requesters/{platform}/{requester_id}", tag = "follows",
    params(("platform" = String, Path), ("requester_id" = String, Path)),
    responses((status = 200, content_type = "application/atom+xml"), (status = 404)))]
pub async fn requester_feed(
    State(state): State<AppState>,
    Path((platform, id)): Path<(String, String)>,
) -> ApiResult<Response> {
    let (platform, id) = parse_key(&platform, &id)?;
    let base = state.settings.public_url.clone();
    let feed = state
        .db
        .run(move |conn| {
            let requester = find(conn, platform, &id)?;
            let platform_name = platform.display_name();
            let api = |path: String| base.join(&path).map(|u| u.to_string()).unwrap_or(path);
            let mut entries = Vec::new();
            for (row, _) in reviews::list_for_requester(conn, requester.id, None, ENTRIES)? {
                let content = row.content()?;
                let summary = if content.body.is_empty() {
                    "(no text)".to_owned()
                } else {
                    short(&content.body)
                };
                // The id stays as first published (readers key on it); the link is the page.
                entries.push(entry(
                    api(format!("api/v1/reviews/{}", row.public_id)),
                    format!("Review of {} on {platform_name}", requester.name),
                    summary,
                    api(format!("reviews/{}", row.public_id)),
                    row.published_at.unwrap_or(row.created_at),
                ));
            }
            for (row, _) in
                incidents::list(conn, ListScope::Requester(requester.id), None, ENTRIES)?
            {
                let kind = row
                    .kind
                    .parse::<picket_core::incident::IncidentKind>()
                    .map_err(DbError::Corrupt)?;
                entries.push(entry(
                    api(format!("api/v1/incidents/{}", row.public_id)),
                    format!(
                        "{} reported against {} on {platform_name}",
                        kind.label(),
                        requester.name
                    ),
                    short(&row.description),
                    api(format!("incidents/{}", row.public_id)),
                    row.created_at,
                ));
            }
            entries.sort_by_key(|e| std::cmp::Reverse(e.updated));
            entries.truncate(ENTRIES as usize);
            let self_url = api(format!(
                "feeds/requesters/{}/{}",
                platform.as_str(),
                requester.requester_id
            ));
            Ok(public_feed(
                self_url,
                format!("{} on {platform_name} — Picket", requester.name),
                entries,
                requester.updated_at,
            ))
        })
        .await
        .map_err(|e| match e {
            DbError::NotFound => {
                ApiError::not_found("nobody has reviewed or reported this requester here yet")
            }
            other => other.into(),
        })?;
    Ok(atom(feed))
}

/// Public Atom feed of a platform's incidents that name no requester (lock-outs, suspensions,
/// withheld earnings), newest first.
#[utoipa::path(get, path = "/feeds/platforms/{platform}", tag = "incidents",
    params(("platform" = String, Path)),
    responses((status = 200, content_type = "application/atom+xml"), (status = 404)))]
pub async fn platform_feed(
    State(state): State<AppState>,
    Path(platform): Path<String>,
) -> ApiResult<Response> {
    let platform = super::platforms::parse_platform(&platform)?;
    let base = state.settings.public_url.clone();
    let feed = state
        .db
        .run(move |conn| {
            let name = platform.display_name();
            let url = |path: String| base.join(&path).map(|u| u.to_string()).unwrap_or(path);
            let mut entries = Vec::new();
            for (row, _) in
                incidents::list(conn, ListScope::Platform(platform.as_str()), None, ENTRIES)?
            {
                let kind = row
                    .kind
                    .parse::<picket_core::incident::IncidentKind>()
                    .map_err(DbError::Corrupt)?;
                let link = url(format!("incidents/{}", row.public_id));
                entries.push(entry(
                    link.clone(),
                    format!("{} on {name}", kind.label()),
                    short(&row.description),
                    link,
                    row.created_at,
                ));
            }
            let self_url = url(format!("feeds/platforms/{}", platform.as_str()));
            Ok(public_feed(
                self_url,
                format!("{name}: lock-outs, suspensions and withheld pay — Picket"),
                entries,
                now(),
            ))
        })
        .await?;
    Ok(atom(feed))
}

/// A worker's notifications as Atom, at a secret URL (see `POST /api/v1/account/feed-token`).
#[utoipa::path(get, path = "/feeds/workers/{token}", tag = "follows", params(("token" = String, Path)),
    responses((status = 200, content_type = "application/atom+xml"), (status = 404)))]
pub async fn worker_feed(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> ApiResult<Response> {
    let digest = secret_digest(&token);
    let base = state.settings.public_url.clone();
    let feed = state
        .db
        .run(move |conn| {
            let user = follows::user_by_feed_token(conn, &digest)?.ok_or(DbError::NotFound)?;
            let rows = follows::notifications(conn, user.id, false, None, ENTRIES)?;
            let api = |path: String| base.join(&path).map(|u| u.to_string()).unwrap_or(path);
            let entries: Vec<Entry> = rows
                .into_iter()
                .map(|(n, requester)| {
                    let platform_word = requester
                        .as_ref()
                        .map(|r| r.platform.clone())
                        .or_else(|| n.platform.clone())
                        .unwrap_or_default();
                    let platform = platform_word
                        .parse::<Platform>()
                        .map_or("", Platform::display_name);
                    // The pages people read, at the objects' own addresses.
                    let link = match (n.kind.as_str(), &requester) {
                        ("review", _) => api(format!("reviews/{}", n.subject)),
                        ("incident", _) => api(format!("incidents/{}", n.subject)),
                        (_, Some(r)) => api(format!("r/{}/{}", r.platform, r.requester_id)),
                        (_, None) => api(format!("platforms/{platform_word}")),
                    };
                    let about = match &requester {
                        Some(r) => format!("{} on {platform}", r.name),
                        None => platform.to_owned(),
                    };
                    let mut e = entry(
                        format!("{}#notification-{}", base, n.id),
                        n.message.clone(),
                        about,
                        link,
                        n.created_at,
                    );
                    e.content = Some(Content {
                        value: Some(n.message),
                        content_type: Some("text".into()),
                        ..Content::default()
                    });
                    e
                })
                .collect();
            Ok(Feed {
                id: format!("{base}#worker-feed"),
                title: Text::plain("Your Picket notifications"),
                updated: entries.first().map_or_else(|| time(now()), |e| e.updated),
                entries,
                ..Feed::default()
            })
        })
        .await
        .map_err(|e| match e {
            DbError::NotFound => {
                ApiError::not_found("no such feed (the URL may have been replaced)")
            }
            other => other.into(),
        })?;
    Ok(atom(feed))
}

/// The public moderation log as Atom: its newest entries.
#[utoipa::path(get, path = "/feeds/modlog", tag = "moderation",
    responses((status = 200, content_type = "application/atom+xml")))]
pub async fn modlog_feed(State(state): State<AppState>) -> ApiResult<Response> {
    let base = state.settings.public_url.clone();
    let rows = state
        .db
        .run(|conn| picket_db::moderation::modlog_page(conn, None, ENTRIES))
        .await?;
    let api = |path: String| base.join(&path).map(|u| u.to_string()).unwrap_or(path);
    let entries: Vec<Entry> = rows
        .into_iter()
        .map(|row| {
            let mut summary = format!("{} ({})", row.reason, row.role);
            if let Some(origin) = &row.origin {
                summary.push_str(&format!(", from {origin}"));
            }
            entry(
                api(format!("api/v1/modlog#{}", row.id)),
                format!("{}: {} {}", row.action, row.target_type, row.target),
                summary,
                api("api/v1/modlog".to_owned()),
                row.at,
            )
        })
        .collect();
    let self_url = api("feeds/modlog".to_owned());
    Ok(atom(Feed {
        id: self_url.clone(),
        title: Text::plain("Moderation log — Picket"),
        updated: entries
            .first()
            .map_or_else(|| time(picket_db::models::now()), |e| e.updated),
        links: vec![Link {
            href: self_url,
            rel: "self".into(),
            ..Link::default()
        }],
        entries,
        ..Feed::default()
    }))
}
