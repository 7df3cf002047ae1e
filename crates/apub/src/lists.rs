//! Subscribed domain lists: another collective's published block or allow list (Mastodon's CSV) fetched by URL and refreshed periodically, so a network of collectives can share one list. A failed fetch keeps the rules the list gave last.

use std::time::Duration;

use picket_core::domain_list;
use picket_db::Db;
use picket_db::models::now;
use picket_db::policy::{self, DomainEntry};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::http::Outgoing;

/// Largest list read: generous for tens of thousands of domains.
const MAX_LIST_BYTES: usize = 4 * 1024 * 1024;

/// Fetches and parses one list, through the instance's one outgoing client (public addresses
/// only, body capped).
async fn fetch(client: &Outgoing, url: &str) -> Result<Vec<DomainEntry>, String> {
    let url = url::Url::parse(url).map_err(|_| "the list's URL is not a URL".to_owned())?;
    let body = client
        .get(&url, "text/csv, text/plain", MAX_LIST_BYTES)
        .await
        .map_err(|e| format!("cannot fetch the list: {e}"))?;
    let text = String::from_utf8_lossy(&body);
    let entries = domain_list::parse(&text).map_err(|e| format!("not a domain list: {e}"))?;
    Ok(policy::rules_of(entries))
}

/// Fetches every subscription not fetched within `interval`; returns how many were fetched.
pub async fn refresh_due(
    db: &Db,
    client: &Outgoing,
    interval: Duration,
) -> Result<usize, picket_db::DbError> {
    let subscriptions = db.run(policy::subscriptions).await?;
    let stale_before = now() - chrono::Duration::from_std(interval).unwrap_or_default();
    let mut fetched = 0;
    for subscription in subscriptions {
        if subscription
            .last_fetched_at
            .is_some_and(|at| at > stale_before)
        {
            continue;
        }
        let result = fetch(client, &subscription.url).await;
        if let Err(error) = &result {
            tracing::warn!(url = %subscription.url, %error, "a subscribed domain list failed");
        }
        let url = subscription.url.clone();
        db.tx(move |conn| {
            policy::record_fetch(conn, &url, result.as_deref().map_err(String::as_str), now())
        })
        .await?;
        fetched += 1;
    }
    Ok(fetched)
}

/// Keeps subscribed lists fresh until `stop` changes.
pub fn spawn(
    db: Db,
    client: Outgoing,
    interval: Duration,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        // Look often enough that a new subscription is fetched soon after it is made.
        let poll = interval.min(Duration::from_secs(60));
        loop {
            if *stop.borrow() {
                return;
            }
            if let Err(error) = refresh_due(&db, &client, interval).await {
                tracing::warn!(%error, "cannot refresh subscribed domain lists");
            }
            tokio::select! {
                () = tokio::time::sleep(poll) => {}
                _ = stop.changed() => {}
            }
        }
    })
}
