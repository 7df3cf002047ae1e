//! Subscribed domain lists: another collective's published block or allow list (Mastodon's CSV) fetched by URL and refreshed periodically, so a network of collectives can share one list. A failed fetch keeps the rules the list gave last.

use std::time::Duration;

use picket_core::domain_list;
use picket_db::Db;
use picket_db::models::now;
use picket_db::policy::{self, DomainEntry};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Largest list read: generous for tens of thousands of domains.
const MAX_LIST_BYTES: usize = 4 * 1024 * 1024;

/// Fetches and parses one list.
async fn fetch(client: &reqwest::Client, url: &str) -> Result<Vec<DomainEntry>, String> {
    let mut response = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("cannot fetch the list: {e}"))?;
    if !response.status().is_success() {
        return Err(format!("the list's server answered {}", response.status()));
    }
    let too_large = || format!("the list is larger than {MAX_LIST_BYTES} bytes");
    if response
        .content_length()
        .is_some_and(|n| n > MAX_LIST_BYTES as u64)
    {
        return Err(too_large());
    }
    // Read piece by piece, so a server that sends without end is cut off at the cap.
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|e| format!("cannot read the list: {e}"))?
    {
        if body.len() + chunk.len() > MAX_LIST_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    let text = String::from_utf8_lossy(&body);
    let entries = domain_list::parse(&text).map_err(|e| format!("not a domain list: {e}"))?;
    Ok(policy::rules_of(entries))
}

/// Fetches every subscription not fetched within `interval`; returns how many were fetched.
pub async fn refresh_due(
    db: &Db,
    client: &reqwest::Client,
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
pub fn spawn(db: Db, interval: Duration, mut stop: watch::Receiver<bool>) -> JoinHandle<()> {
    tokio::spawn(async move {
        crate::install_tls();
        let client = match reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(client) => client,
            Err(error) => {
                tracing::error!(%error, "cannot build the client for domain lists");
                return;
            }
        };
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
