//! Picket's metrics: each instance owns one Prometheus recorder (never the process-wide one, so
//! several instances can run in one process), and every name and label it records is defined
//! here, so none can carry a client address, a username or a person's URL.

use std::sync::Arc;
use std::time::Duration;

use metrics::{Key, Label, Level, Metadata, Recorder};
use metrics_exporter_prometheus::{
    Matcher, PrometheusBuilder, PrometheusHandle, PrometheusRecorder,
};

/// Seconds: from a quick lookup (1 ms) to a slow page or inbox post (10 s).
const LATENCY_BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The activity types the inbox knows; anything else is counted as `other`, so a sender
/// cannot make up label values.
const ACTIVITY_KINDS: &[&str] = &[
    "Create", "Update", "Delete", "Follow", "Accept", "Reject", "Undo", "Announce", "Flag", "Add",
    "Remove", "Block",
];

const METADATA: Metadata<'static> = Metadata::new(module_path!(), Level::INFO, None);

/// One instance's metrics; clones share them.
#[derive(Clone)]
pub struct Metrics {
    recorder: Arc<PrometheusRecorder>,
    handle: PrometheusHandle,
    /// Each route's request handles, registered once: the lookups are counted many times a
    /// second, and registering labels anew each time would allocate and hash on every request.
    routes: Arc<std::sync::RwLock<std::collections::HashMap<Box<str>, RouteHandles>>>,
}

/// Methods a request is counted under, `other` last.
const METHODS: [&str; 8] = [
    "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other",
];
/// Status classes, by hundreds from 1xx.
const STATUSES: [&str; 5] = ["1xx", "2xx", "3xx", "4xx", "5xx"];

/// One route's duration histogram and its counters by method and status class.
struct RouteHandles {
    duration: metrics::Histogram,
    requests: [[std::sync::OnceLock<metrics::Counter>; 5]; 8],
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

/// What became of an activity posted to the inbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InboxOutcome {
    Accepted,
    /// Refused by the domain rules, or not allowed for its sender.
    Refused,
    /// Unreadable, unsigned or badly signed, or not a valid activity.
    Invalid,
    RateLimited,
    /// Could not be applied now (a deadline, an unreachable actor); the sender will retry.
    Deferred,
    Error,
}

impl InboxOutcome {
    fn label(self) -> &'static str {
        match self {
            InboxOutcome::Accepted => "accepted",
            InboxOutcome::Refused => "refused",
            InboxOutcome::Invalid => "invalid",
            InboxOutcome::RateLimited => "rate_limited",
            InboxOutcome::Deferred => "deferred",
            InboxOutcome::Error => "error",
        }
    }
}

/// What became of one attempt to deliver an activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryOutcome {
    Delivered,
    /// The attempt failed and the delivery will be tried again.
    Failed,
    /// Ended for good: refused by the domain rules, or given up.
    Dropped,
    /// The receiving instance answered with a final refusal (a 4xx other than 408 and 429).
    Refused,
}

impl DeliveryOutcome {
    fn label(self) -> &'static str {
        match self {
            DeliveryOutcome::Delivered => "delivered",
            DeliveryOutcome::Failed => "failed",
            DeliveryOutcome::Dropped => "dropped",
            DeliveryOutcome::Refused => "refused",
        }
    }
}

/// Which quota refused a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Login,
    Write,
    Registration,
    Inbox,
}

impl Limit {
    fn label(self) -> &'static str {
        match self {
            Limit::Login => "login",
            Limit::Write => "write",
            Limit::Registration => "registration",
            Limit::Inbox => "inbox",
        }
    }
}

/// Figures read when the metrics are scraped rather than counted as they happen.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Snapshot {
    /// Deliveries waiting to be sent.
    pub queue_depth: u64,
    /// Age of the oldest of them, in seconds (0 when none waits).
    pub oldest_pending_seconds: f64,
    /// Database connections open, and how many of them are busy.
    pub pool_size: u64,
    pub pool_in_use: u64,
    /// Times a request had to wait for a free connection, and for how long in all.
    pub pool_waits: u64,
    pub pool_wait_seconds: f64,
}

impl Metrics {
    pub fn new() -> Metrics {
        let recorder = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
            .map_or_else(
                |_| PrometheusBuilder::new().build_recorder(),
                |b| b.build_recorder(),
            );
        let metrics = Metrics {
            handle: recorder.handle(),
            recorder: Arc::new(recorder),
            routes: Arc::default(),
        };
        metrics.describe();
        metrics
    }

    fn describe(&self) {
        use metrics::Unit;
        let describe = |name: &'static str, unit: Option<Unit>, help: &'static str| {
            self.recorder
                .describe_counter(name.into(), unit, help.into());
        };
        describe(
            "picket_http_requests_total",
            None,
            "HTTP requests answered, by route template, method and status class",
        );
        self.recorder.describe_histogram(
            "picket_http_request_duration_seconds".into(),
            Some(Unit::Seconds),
            "Time to answer an HTTP request, by route template".into(),
        );
        describe(
            "picket_inbox_activities_total",
            None,
            "Activities posted to the inbox, by type and outcome",
        );
        describe(
            "picket_deliveries_total",
            None,
            "Delivery attempts to other instances, by outcome",
        );
        describe(
            "picket_limit_hits_total",
            None,
            "Requests refused by a rate limit, by limit",
        );
        describe(
            "picket_db_pool_waits_total",
            None,
            "Times a request waited for a free database connection",
        );
        describe(
            "picket_db_pool_wait_seconds_total",
            Some(Unit::Seconds),
            "Time spent waiting for a free database connection",
        );
        let gauge = |name: &'static str, unit: Option<Unit>, help: &'static str| {
            self.recorder.describe_gauge(name.into(), unit, help.into());
        };
        gauge(
            "picket_delivery_queue_depth",
            None,
            "Deliveries waiting to be sent",
        );
        gauge(
            "picket_delivery_oldest_pending_seconds",
            Some(Unit::Seconds),
            "Age of the oldest delivery waiting to be sent",
        );
        gauge(
            "picket_db_pool_connections",
            None,
            "Database connections open",
        );
        gauge("picket_db_pool_in_use", None, "Database connections busy");
    }

    fn counter(&self, name: &'static str, labels: Vec<Label>) -> metrics::Counter {
        self.recorder
            .register_counter(&Key::from_parts(name, labels), &METADATA)
    }

    fn gauge(&self, name: &'static str, value: f64) {
        self.recorder
            .register_gauge(&Key::from_static_name(name), &METADATA)
            .set(value);
    }

    /// One answered request. `route` must be a route template (`/requesters/{id}`), never the
    /// path itself; requests that matched no route are counted under `unmatched`.
    pub fn http_request(&self, route: Option<&str>, method: &str, status: u16, took: Duration) {
        let route = route.unwrap_or("unmatched");
        let method = METHODS
            .iter()
            .position(|m| *m == method)
            .unwrap_or(METHODS.len() - 1);
        let class = usize::from(status / 100).clamp(1, 5) - 1;
        let record = |handles: &RouteHandles| {
            handles.requests[method][class]
                .get_or_init(|| {
                    self.counter(
                        "picket_http_requests_total",
                        vec![
                            Label::new("route", route.to_owned()),
                            Label::new("method", METHODS[method]),
                            Label::new("status", STATUSES[class]),
                        ],
                    )
                })
                .increment(1);
            handles.duration.record(took.as_secs_f64());
        };
        if let Some(handles) = self
            .routes
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(route)
        {
            return record(handles);
        }
        let mut routes = self
            .routes
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let handles = routes.entry(route.into()).or_insert_with(|| RouteHandles {
            duration: self.recorder.register_histogram(
                &Key::from_parts(
                    "picket_http_request_duration_seconds",
                    vec![Label::new("route", route.to_owned())],
                ),
                &METADATA,
            ),
            requests: Default::default(),
        });
        record(handles);
    }

    /// Folds recorded durations into their histograms' buckets. Run it every few seconds: the
    /// exporter otherwise keeps every sample until the next scrape, and without a scraper for
    /// ever.
    pub fn upkeep(&self) {
        self.handle.run_upkeep();
    }

    /// One activity posted to the inbox; `kind` is its `type` as sent, if any.
    pub fn inbox_activity(&self, kind: Option<&str>, outcome: InboxOutcome) {
        let kind = kind
            .and_then(|kind| ACTIVITY_KINDS.iter().find(|known| **known == kind))
            .copied()
            .unwrap_or("other");
        self.counter(
            "picket_inbox_activities_total",
            vec![
                Label::new("type", kind),
                Label::new("outcome", outcome.label()),
            ],
        )
        .increment(1);
    }

    pub fn delivery(&self, outcome: DeliveryOutcome) {
        self.deliveries(outcome, 1);
    }

    /// `count` deliveries that ended the same way at once (dropped for a dead peer, say).
    pub fn deliveries(&self, outcome: DeliveryOutcome, count: u64) {
        self.counter(
            "picket_deliveries_total",
            vec![Label::new("outcome", outcome.label())],
        )
        .increment(count);
    }

    pub fn limit_hit(&self, limit: Limit) {
        self.counter(
            "picket_limit_hits_total",
            vec![Label::new("limit", limit.label())],
        )
        .increment(1);
    }

    /// The metrics in Prometheus' text format, with the scrape-time figures in `snapshot`.
    pub fn render(&self, snapshot: &Snapshot) -> String {
        #[allow(clippy::cast_precision_loss)]
        let as_f64 = |n: u64| n as f64;
        self.gauge("picket_delivery_queue_depth", as_f64(snapshot.queue_depth));
        self.gauge(
            "picket_delivery_oldest_pending_seconds",
            snapshot.oldest_pending_seconds,
        );
        self.gauge("picket_db_pool_connections", as_f64(snapshot.pool_size));
        self.gauge("picket_db_pool_in_use", as_f64(snapshot.pool_in_use));
        // Counted by the pool itself; set absolutely, so a scrape never double-counts.
        self.counter("picket_db_pool_waits_total", Vec::new())
            .absolute(snapshot.pool_waits);
        self.handle.run_upkeep();
        let mut text = self.handle.render();
        // The wait time is a float: the exporter's counters are integers, so it is written here.
        text.push_str(&format!(
            "# HELP picket_db_pool_wait_seconds_total Time spent waiting for a free database connection\n\
             # TYPE picket_db_pool_wait_seconds_total counter\n\
             picket_db_pool_wait_seconds_total {}\n",
            snapshot.pool_wait_seconds
        ));
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instances_keep_their_own_figures() {
        let (one, two) = (Metrics::new(), Metrics::new());
        one.limit_hit(Limit::Login);
        one.limit_hit(Limit::Login);
        let text = one.render(&Snapshot::default());
        assert!(
            text.contains("picket_limit_hits_total{limit=\"login\"} 2"),
            "{text}"
        );
        assert!(!two.render(&Snapshot::default()).contains("limit=\"login\""));
    }

    #[test]
    fn made_up_activity_types_are_other() {
        let metrics = Metrics::new();
        metrics.inbox_activity(Some("Create"), InboxOutcome::Accepted);
        metrics.inbox_activity(Some("https://evil.example/x"), InboxOutcome::Invalid);
        metrics.inbox_activity(None, InboxOutcome::Invalid);
        let text = metrics.render(&Snapshot::default());
        assert!(
            text.contains("picket_inbox_activities_total{type=\"Create\",outcome=\"accepted\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("picket_inbox_activities_total{type=\"other\",outcome=\"invalid\"} 2"),
            "{text}"
        );
        assert!(!text.contains("evil"), "{text}");
    }

    #[test]
    fn requests_are_counted_by_template_and_timed() {
        let metrics = Metrics::new();
        metrics.http_request(
            Some("/requesters/{id}"),
            "GET",
            200,
            Duration::from_millis(3),
        );
        metrics.http_request(None, "BREW", 404, Duration::from_millis(1));
        let text = metrics.render(&Snapshot {
            queue_depth: 4,
            oldest_pending_seconds: 12.5,
            ..Snapshot::default()
        });
        assert!(
            text.contains(
                "picket_http_requests_total{route=\"/requesters/{id}\",method=\"GET\",status=\"2xx\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "picket_http_requests_total{route=\"unmatched\",method=\"other\",status=\"4xx\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("picket_http_request_duration_seconds_bucket{route=\"/requesters/{id}\",le=\"0.005\"} 1"),
            "{text}"
        );
        assert!(text.contains("picket_delivery_queue_depth 4"), "{text}");
        assert!(
            text.contains("picket_delivery_oldest_pending_seconds 12.5"),
            "{text}"
        );
        for line in text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
        {
            assert!(line.starts_with("picket_"), "{line}");
        }
    }
}
