//! Prometheus metrics: sessions, bytes relayed, exec setup latency, errors. Served at
//! `/metrics` behind the login, and optionally without one on a separate address
//! (`--metrics-listen`) for a scraper inside the cluster.

use std::sync::Arc;
use std::sync::atomic::AtomicU64;

use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use crate::server::relay::registry::Sessions;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Outcome {
    /// exited, failed, abandoned, closed, ended
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Direction {
    /// to_pod or to_browser
    pub direction: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Limit {
    /// total or address
    pub limit: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct Kind {
    /// An error reason of the wire protocol (forbidden, not_found, unreachable...).
    pub kind: String,
}

pub struct Metrics {
    registry: Registry,
    pub started: Counter,
    pub ended: Family<Outcome, Counter>,
    pub resumed: Counter,
    /// The two directions' counters of `podterm_bytes_relayed_total`, made once: a lookup
    /// by label on every relayed message was an allocation and a hash per keystroke.
    to_pod: Counter<u64, AtomicU64>,
    to_browser: Counter<u64, AtomicU64>,
    pub setup_seconds: Histogram,
    pub errors: Family<Kind, Counter>,
    active: Gauge,
    buffered: Gauge,
    pub connections_open: Gauge,
    pub connections_refused: Family<Limit, Counter>,
    pub header_read_timeouts: Counter,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("podterm");
        let started = Counter::default();
        let ended = Family::<Outcome, Counter>::default();
        let resumed = Counter::default();
        let bytes = Family::<Direction, Counter<u64, AtomicU64>>::default();
        let direction = |name: &str| {
            bytes
                .get_or_create(&Direction {
                    direction: name.into(),
                })
                .clone()
        };
        let (to_pod, to_browser) = (direction("to_pod"), direction("to_browser"));
        // 5 ms to ~20 s: exec setup is an access review, a pod read and an upgrade.
        let setup_seconds = Histogram::new([
            0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 20.0,
        ]);
        let errors = Family::<Kind, Counter>::default();
        let active = Gauge::default();
        let buffered = Gauge::default();
        let connections_open = Gauge::default();
        let connections_refused = Family::<Limit, Counter>::default();
        let header_read_timeouts = Counter::default();
        registry.register(
            "sessions_started",
            "Terminal sessions started",
            started.clone(),
        );
        registry.register(
            "sessions_ended",
            "Terminal sessions ended, by outcome",
            ended.clone(),
        );
        registry.register(
            "sessions_resumed",
            "Connections that re-attached to a session after a drop",
            resumed.clone(),
        );
        registry.register(
            "sessions_active",
            "Sessions running or waiting for their page",
            active.clone(),
        );
        registry.register(
            "bytes_relayed",
            "Terminal bytes relayed, by direction",
            bytes.clone(),
        );
        registry.register(
            "exec_setup_seconds",
            "Time from a terminal request to a running exec",
            setup_seconds.clone(),
        );
        registry.register(
            "errors",
            "Terminal requests that failed, by kind",
            errors.clone(),
        );
        registry.register(
            "output_buffered_bytes",
            "Output held for pages that have not acknowledged it",
            buffered.clone(),
        );
        registry.register(
            "connections_open",
            "Client connections open, terminals included",
            connections_open.clone(),
        );
        registry.register(
            "connections_refused",
            "Connections closed at once because a limit was reached, by limit",
            connections_refused.clone(),
        );
        registry.register(
            "header_read_timeouts",
            "Connections closed because their request headers did not arrive in time",
            header_read_timeouts.clone(),
        );
        Self {
            registry,
            started,
            ended,
            resumed,
            to_pod,
            to_browser,
            setup_seconds,
            errors,
            active,
            buffered,
            connections_open,
            connections_refused,
            header_read_timeouts,
        }
    }

    pub fn connection_refused(&self, limit: &str) {
        self.connections_refused
            .get_or_create(&Limit {
                limit: limit.into(),
            })
            .inc();
    }

    pub fn ended(&self, outcome: &str) {
        self.ended
            .get_or_create(&Outcome {
                outcome: outcome.into(),
            })
            .inc();
    }

    pub fn error(&self, kind: crate::protocol::ErrorReason) {
        let kind = serde_json::to_value(kind)
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default();
        self.errors.get_or_create(&Kind { kind }).inc();
    }

    /// Keystrokes and pastes on their way to a pod.
    pub fn relayed_to_pod(&self, bytes: u64) {
        self.to_pod.inc_by(bytes);
    }

    /// Output on its way to the pages.
    pub fn relayed_to_browser(&self, bytes: u64) {
        self.to_browser.inc_by(bytes);
    }

    /// The text exposition, with the gauges read now.
    pub fn render(&self, sessions: &Sessions) -> String {
        self.active.set(sessions.count() as i64);
        self.buffered
            .set(i64::try_from(sessions.buffered_bytes()).unwrap_or(i64::MAX));
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

/// What `/metrics` needs.
#[derive(Clone)]
pub struct Exposition {
    pub metrics: Arc<Metrics>,
    pub sessions: Arc<Sessions>,
}

pub async fn handler(State(exposition): State<Exposition>) -> Response {
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        exposition.metrics.render(&exposition.sessions),
    )
        .into_response()
}

/// A router with only `/metrics`, for `--metrics-listen`.
pub fn router(exposition: Exposition) -> axum::Router {
    axum::Router::new()
        .route("/metrics", axum::routing::get(handler))
        .with_state(exposition)
}
