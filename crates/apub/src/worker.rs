//! The delivery worker: sends queued activities to remote inboxes, signed by their actor, retrying with capped exponential backoff and jitter; its progress lives in the database, so a restart (even `kill -9`) resumes where it stopped.

use std::time::Duration;

use activitypub_federation::activity_sending::SendActivityTask;
use activitypub_federation::config::{Data, FederationConfig};
use activitypub_federation::traits::Activity;
use picket_db::Backend;
use picket_db::delivery::{self, Claimed, PeerState};
use picket_db::models::now;
use picket_metrics::DeliveryOutcome;
use serde::Serialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use url::Url;

use crate::actors::{ApubActor, LocalActor};
use crate::http::{Refusal, capture_refusal};
use crate::{ApubData, ApubError, DeliveryPolicy};

/// How often an idle worker looks for due deliveries.
const POLL: Duration = Duration::from_millis(200);
/// How long a claimed delivery is this worker's: longer than one send can take (the client's
/// timeout is 10 s), short enough that a killed worker's deliveries are soon taken up again.
const LEASE_SECONDS: i64 = 15;
/// How often received activity ids older than the policy's `keep_received` are forgotten.
const PURGE_EVERY: Duration = Duration::from_secs(600);
/// Deliveries in flight at once from one worker: sends wait on the network, not on the CPU, so
/// a slow instance (or one that never answers, holding a send for the whole timeout) does not
/// hold up the rest.
const IN_FLIGHT: usize = 128;
/// Deliveries in flight at once to one instance: enough to keep up with a slow one (32 sends
/// every 150 ms is 200 a second), few enough to be a polite peer.
const PER_HOST: usize = 32;
/// How long in-flight sends may finish when the worker stops; the rest keep their lease.
const STOP_GRACE: Duration = Duration::from_secs(10);
/// About three days of attempts with the default policy (9 doublings from a minute to the
/// six-hour cap, then every 6 hours) before giving up on a reachable instance.
pub const MAX_ATTEMPTS: i32 = 20;

/// A queued activity as stored: sent as it is, byte for byte, under its own id and actor.
#[derive(Debug, Serialize)]
struct StoredActivity {
    #[serde(skip)]
    id: Url,
    #[serde(skip)]
    actor: Url,
    #[serde(flatten)]
    json: serde_json::Map<String, serde_json::Value>,
}

#[async_trait::async_trait]
impl Activity for StoredActivity {
    type DataType = ApubData;
    type Error = ApubError;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    // Only ever sent, never received: the inbox parses `InboxActivity` instead.
    async fn verify(&self, _data: &Data<ApubData>) -> Result<(), ApubError> {
        Ok(())
    }

    async fn receive(self, _data: &Data<ApubData>) -> Result<(), ApubError> {
        Ok(())
    }
}

/// When to try again after `attempts` failures, or `None` to give up. Jitter (up to a quarter
/// either way) keeps a recovered peer from being hit by every queued delivery at once.
fn retry_delay(policy: &DeliveryPolicy, attempts: i32) -> Option<chrono::Duration> {
    if attempts + 1 >= MAX_ATTEMPTS {
        return None;
    }
    let first = i64::try_from(policy.first_retry.as_secs()).unwrap_or(i64::MAX);
    let max = i64::try_from(policy.max_retry.as_secs()).unwrap_or(i64::MAX);
    let base = first
        .saturating_mul(1_i64 << attempts.clamp(0, 20))
        .min(max);
    let jitter = (rand::random::<f64>() - 0.5) * 0.5;
    Some(chrono::Duration::seconds(
        base + (base as f64 * jitter) as i64,
    ))
}

/// Sends one claimed delivery and records the outcome.
async fn deliver(data: &Data<ApubData>, claimed: Claimed) -> Result<(), ApubError> {
    let id = claimed.delivery_id;
    // Nothing goes to an instance the domain rules refuse; the delivery ends there.
    if let Ok(inbox) = Url::parse(&claimed.inbox)
        && let Err(ApubError::Forbidden(message)) = data.check_peer(&inbox).await
    {
        data.db
            .run(move |conn| delivery::mark_failed_attempt(conn, id, &message, None, true))
            .await?;
        data.metrics.delivery(DeliveryOutcome::Dropped);
        return Ok(());
    }
    let outcome = send(data, &claimed).await;
    let host = delivery::host_of(&claimed.inbox).to_owned();
    match outcome {
        Ok(Some(refusal)) => {
            // Refused for good: the peer answered, so it is reachable, but retrying will not
            // change its mind. A refused Follow shows as refused, with the answer.
            data.metrics.delivery(DeliveryOutcome::Refused);
            tracing::info!(
                host = delivery::host_of(&claimed.inbox),
                status = refusal.status,
                "delivery refused by the receiving instance"
            );
            let follow = is_follow(&claimed.body).then(|| claimed.activity_id.clone());
            let answer = format!("refused: {}", delivery::refusal_text(&refusal.answer));
            data.db
                .tx(move |conn| {
                    delivery::mark_failed_attempt(conn, id, &answer, None, true)?;
                    delivery::peer_answered(conn, &host, now())?;
                    if let Some(follow) = &follow {
                        delivery::refuse_outbound(conn, follow, None, &refusal.answer)?;
                    }
                    Ok(())
                })
                .await?;
        }
        Ok(None) => {
            data.metrics.delivery(DeliveryOutcome::Delivered);
            let revived = data
                .db
                .tx(move |conn| {
                    delivery::mark_delivered(conn, id)?;
                    delivery::peer_answered(conn, &host, now())
                })
                .await?;
            if revived {
                tracing::info!(
                    host = delivery::host_of(&claimed.inbox),
                    "instance reachable again"
                );
            }
        }
        Err(error) => {
            tracing::debug!(%error, activity = %claimed.activity_id, "delivery failed");
            let policy = data.delivery;
            let probe = chrono::Duration::from_std(policy.probe_interval)
                .unwrap_or(chrono::Duration::hours(1));
            let message = error.to_string();
            let attempts = claimed.attempts;
            let peer = data
                .db
                .tx(move |conn| {
                    let at = now();
                    let after = i32::try_from(policy.unreachable_after).unwrap_or(i32::MAX);
                    let peer = delivery::peer_failed(conn, &host, at, after, probe)?;
                    // An unreachable instance's deliveries wait for its next probe, uncounted.
                    let (retry_at, counted) = match peer {
                        PeerState::Reachable => {
                            (retry_delay(&policy, attempts).map(|delay| at + delay), true)
                        }
                        _ => (Some(at + probe), false),
                    };
                    delivery::mark_failed_attempt(conn, id, &message, retry_at, counted)?;
                    Ok((peer, retry_at.is_some()))
                })
                .await?;
            let (peer, retrying) = peer;
            data.metrics.delivery(if retrying {
                DeliveryOutcome::Failed
            } else {
                DeliveryOutcome::Dropped
            });
            if peer == PeerState::BecameUnreachable {
                tracing::warn!(
                    host = delivery::host_of(&claimed.inbox),
                    "instance unreachable; its deliveries wait and it is probed"
                );
            }
        }
    }
    Ok(())
}

/// Whether a stored activity is a `Follow`, whose refusal marks the follow refused.
fn is_follow(body: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Kind<'a> {
        #[serde(rename = "type", borrow)]
        kind: std::borrow::Cow<'a, str>,
    }
    serde_json::from_str::<Kind<'_>>(body).is_ok_and(|k| k.kind == "Follow")
}

/// Signs and posts one delivery. `Ok(Some(refusal))` when the peer refused it for good (a 4xx
/// other than 408 and 429); `Err` when it is worth trying again.
async fn send(data: &Data<ApubData>, claimed: &Claimed) -> Result<Option<Refusal>, ApubError> {
    let actor = LocalActor::from_path(&claimed.actor)
        .ok_or_else(|| ApubError::Invalid(format!("unknown local actor {}", claimed.actor)))?;
    let actor = ApubActor::local(data, actor).await?;
    let json =
        serde_json::from_str(&claimed.body).map_err(|e| ApubError::Invalid(e.to_string()))?;
    let activity = StoredActivity {
        id: Url::parse(&claimed.activity_id).map_err(|e| ApubError::Invalid(e.to_string()))?,
        actor: actor.id.clone(),
        json,
    };
    let inbox = Url::parse(&claimed.inbox).map_err(|e| ApubError::Invalid(e.to_string()))?;
    // The library answers Ok both for 2xx and for a final 4xx (any but 408 and 429); the
    // outgoing client keeps the latter's answer for us. Err is a 408, 429, 5xx or network
    // failure: worth retrying.
    let mut refused = None;
    for task in SendActivityTask::prepare(&activity, &actor, vec![inbox], data).await? {
        let (sent, refusal) = capture_refusal(task.sign_and_send(data)).await;
        sent?;
        refused = refused.or(refusal);
    }
    Ok(refused)
}

/// Works off due deliveries until `stop` changes. Several workers (in one process or several
/// processes on one PostgreSQL) share the queue without sending a delivery twice.
pub fn spawn(
    config: FederationConfig<ApubData>,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let data = config.to_request_data();
        if data.db.backend() == Backend::Sqlite {
            match data.db.run(delivery::release_leases).await {
                Ok(0) => {}
                Ok(released) => {
                    tracing::info!(released, "resuming deliveries a stopped process held")
                }
                Err(error) => tracing::warn!(%error, "cannot release delivery leases"),
            }
        }
        let mut last_purge: Option<std::time::Instant> = None;
        let mut in_flight: tokio::task::JoinSet<String> = tokio::task::JoinSet::new();
        let mut per_host: std::collections::HashMap<String, usize> =
            std::collections::HashMap::new();
        loop {
            if *stop.borrow() {
                break;
            }
            // Received activity ids are kept only as long as the policy says.
            if last_purge.is_none_or(|at| at.elapsed() >= PURGE_EVERY) {
                last_purge = Some(std::time::Instant::now());
                let keep = chrono::Duration::from_std(data.delivery.keep_received)
                    .unwrap_or(chrono::Duration::days(30));
                match data
                    .db
                    .run(move |conn| delivery::purge_received(conn, now() - keep))
                    .await
                {
                    Ok(0) => {}
                    Ok(purged) => tracing::info!(purged, "forgot old received activity ids"),
                    Err(error) => tracing::warn!(%error, "cannot purge received activity ids"),
                }
                let gone = chrono::Duration::from_std(data.delivery.drop_unreachable_after)
                    .unwrap_or(chrono::Duration::days(30));
                match data
                    .db
                    .run(move |conn| delivery::drop_dead_peers(conn, now() - gone))
                    .await
                {
                    Ok(dropped) => {
                        for (host, count) in dropped {
                            tracing::warn!(
                                host,
                                deliveries = count,
                                days = gone.num_days(),
                                "dropped deliveries to an instance unreachable too long"
                            );
                            data.metrics.deliveries(
                                DeliveryOutcome::Dropped,
                                u64::try_from(count).unwrap_or(u64::MAX),
                            );
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot drop deliveries to dead peers"),
                }
            }
            // Local changes become queued activities first, then the queue is worked off.
            let converted = match crate::publish::process_events(&data).await {
                Ok(count) => count > 0,
                Err(error) => {
                    tracing::warn!(%error, "turning federation events into activities failed");
                    false
                }
            };
            while let Some(done) = in_flight.try_join_next() {
                finished(&mut per_host, done);
            }
            let room = IN_FLIGHT.saturating_sub(in_flight.len());
            let mut claimed = false;
            if room > 0 {
                let busy: Vec<String> = per_host
                    .iter()
                    .filter(|(_, n)| **n >= PER_HOST)
                    .map(|(host, _)| host.clone())
                    .collect();
                let due = data
                    .db
                    .run(move |conn| {
                        delivery::claim_due(
                            conn,
                            now(),
                            chrono::Duration::seconds(LEASE_SECONDS),
                            i64::try_from(room).unwrap_or(i64::MAX),
                            &busy,
                        )
                    })
                    .await;
                match due {
                    Ok(due) => {
                        claimed = !due.is_empty();
                        for claimed in due {
                            let host = delivery::host_of(&claimed.inbox).to_owned();
                            *per_host.entry(host.clone()).or_default() += 1;
                            let data = data.reset_request_count();
                            in_flight.spawn(async move {
                                if let Err(error) = deliver(&data, claimed).await {
                                    tracing::warn!(%error, "recording a delivery failed");
                                }
                                host
                            });
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot read the delivery queue"),
                }
            }
            // Claim more at once while there is room and work; otherwise wait for a send to
            // finish (room, and maybe a delivery it held back), for new work, or to stop.
            if !(converted || claimed && in_flight.len() < IN_FLIGHT) {
                tokio::select! {
                    () = tokio::time::sleep(POLL) => {}
                    Some(done) = in_flight.join_next(), if !in_flight.is_empty() => {
                        finished(&mut per_host, done);
                    }
                    _ = stop.changed() => {}
                }
            }
        }
        // Stopping: in-flight sends may finish for a while; the rest keep their lease and are
        // sent again by whoever takes them up.
        let _ = tokio::time::timeout(STOP_GRACE, async {
            while in_flight.join_next().await.is_some() {}
        })
        .await;
        in_flight.shutdown().await;
    })
}

/// Counts a finished send off its instance's in-flight sends.
fn finished(
    per_host: &mut std::collections::HashMap<String, usize>,
    done: Result<String, tokio::task::JoinError>,
) {
    if let Ok(host) = done
        && let Some(count) = per_host.get_mut(&host)
    {
        *count = count.saturating_sub(1);
        if *count == 0 {
            per_host.remove(&host);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_a_cap_and_gives_up() {
        let policy = DeliveryPolicy::default();
        let cap = 6 * 3600;
        for attempts in 0..MAX_ATTEMPTS - 1 {
            let delay = retry_delay(&policy, attempts)
                .expect("retried")
                .num_seconds();
            let base = (60_i64 << attempts.min(20)).min(cap);
            assert!(
                (base * 3 / 4..=base * 5 / 4).contains(&delay),
                "attempt {attempts}: {delay} s for base {base} s"
            );
        }
        assert_eq!(retry_delay(&policy, MAX_ATTEMPTS - 1), None);
        let total: i64 = (0..MAX_ATTEMPTS - 1).map(|a| (60_i64 << a).min(cap)).sum();
        assert!(
            (2 * 86_400..5 * 86_400).contains(&total),
            "retries span days: {total} s"
        );
    }
}
