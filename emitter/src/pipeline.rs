//! The leader's pipeline: one source per scope (all namespaces, or each configured namespace)
//! → normalise → filter → the stdout sink.
//!
//! A source keeps its *position*: the resourceVersion through which it has handed everything to
//! the sink. It watches from there; when the watch ends it watches again from there; on `410
//! Gone` it lists everything and emits only what is newer than its position (a list is a
//! snapshot in no particular order, so the position moves to the list's resourceVersion only
//! once the whole list is handed over). Nothing is stored per event.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use eventkeeper_core::api_event::ApiEvent;
use eventkeeper_core::backoff::RetryPolicy;
use eventkeeper_core::normalise::{normalise_event, parse_time};
use eventkeeper_core::resource_version::{ResourceVersion, is_newer};
use eventkeeper_core::source::{
    self, DEFAULT_PAGE_SIZE, ListError, Pager, Scope, SourceError, WatchItem, WatchOptions,
};
use eventkeeper_core::{Context, Origin};
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

use crate::health::Health;
use crate::metrics::Metrics;
use crate::stdout_sink::{self, Message, SinkError};
use eventkeeper_core::filter::Filter;

/// Lines waiting for the sink, per pipeline (backpressure on the watch beyond that).
const CHANNEL_CAPACITY: usize = 256;

/// Everything a source needs, shared by all of them.
pub struct Shared {
    /// The API client.
    pub client: kube::Client,
    /// normalise context for watch lines (cluster name, line budget).
    pub watch_ctx: Context,
    /// normalise context for relist lines.
    pub relist_ctx: Context,
    /// Include/exclude rules.
    pub filter: Filter,
    /// Metrics.
    pub metrics: Arc<Metrics>,
    /// Readiness.
    pub health: Arc<Health>,
    /// Watch timeouts.
    pub watch: WatchOptions,
}

/// A running pipeline.
pub struct Running {
    stop: watch::Sender<bool>,
    sources: Vec<JoinHandle<()>>,
    sink: JoinHandle<Result<(), SinkError>>,
    emitting: Arc<AtomicBool>,
    /// The checkpoint: every line up to it is flushed to stdout.
    pub flushed: watch::Receiver<Option<ResourceVersion>>,
    /// Per scope: when its watch last delivered an item or its list ended (its position moved).
    delivered: Vec<watch::Receiver<tokio::time::Instant>>,
}

/// Starts the sources and the sink, resuming after `checkpoint` (or listing everything).
pub fn start(
    shared: Arc<Shared>,
    scopes: Vec<Scope>,
    checkpoint: Option<ResourceVersion>,
    flush_interval: Duration,
) -> Running {
    let (tx, rx) = mpsc::channel(CHANNEL_CAPACITY);
    let (flushed_tx, flushed) = watch::channel(checkpoint);
    let (stop, stop_rx) = watch::channel(false);
    let emitting = Arc::new(AtomicBool::new(true));
    shared
        .health
        .track_watches(scopes.iter().map(|s| s.label().to_owned()));
    let sink = tokio::spawn(stdout_sink::run(
        tokio::io::stdout(),
        rx,
        scopes.len(),
        checkpoint,
        flush_interval,
        flushed_tx,
        emitting.clone(),
    ));
    let mut delivered = Vec::with_capacity(scopes.len());
    let sources = scopes
        .into_iter()
        .enumerate()
        .map(|(index, scope)| {
            let (delivered_tx, delivered_rx) = watch::channel(tokio::time::Instant::now());
            delivered.push(delivered_rx);
            let source = Source {
                delivered: delivered_tx,
                index,
                scope,
                shared: shared.clone(),
                tx: tx.clone(),
                position: checkpoint,
                resume: checkpoint.map(|c| c.to_string()),
            };
            tokio::spawn(source.run(stop_rx.clone()))
        })
        .collect();
    Running {
        stop,
        sources,
        sink,
        emitting,
        flushed,
        delivered,
    }
}

impl Running {
    /// When scope `index`'s position last moved (`None`: no such scope).
    pub fn delivered(&self, index: usize) -> Option<watch::Receiver<tokio::time::Instant>> {
        self.delivered.get(index).cloned()
    }

    /// Stops reading, writes and flushes everything already read, and returns the checkpoint.
    pub async fn finish(self) -> Result<Option<ResourceVersion>, SinkError> {
        let _ = self.stop.send(true);
        for source in self.sources {
            let _ = source.await;
        }
        match self.sink.await {
            Ok(result) => result?,
            Err(join) => tracing::error!(error = %join, "Stdout sink task failed"),
        }
        Ok(*self.flushed.borrow())
    }

    /// Stops at once without writing anything more (the Lease is lost).
    pub fn abort(self) {
        self.emitting.store(false, Ordering::Release);
        for source in &self.sources {
            source.abort();
        }
        self.sink.abort();
    }

    /// Resolves when the sink ends on its own, which only happens when stdout fails.
    pub async fn sink_failed(&mut self) -> SinkError {
        match (&mut self.sink).await {
            Ok(Err(error)) => error,
            Ok(Ok(())) => SinkError::WriteFailed(std::io::Error::other("stdout sink ended")),
            Err(join) => SinkError::WriteFailed(std::io::Error::other(join.to_string())),
        }
    }
}

struct Source {
    index: usize,
    scope: Scope,
    shared: Arc<Shared>,
    tx: mpsc::Sender<Message>,
    /// Everything up to here was handed to the sink.
    position: Option<ResourceVersion>,
    /// The resourceVersion to watch from; `None`: list first.
    resume: Option<String>,
    /// Told whenever the watch delivers an item or a list ends (the watch heartbeat's clock).
    delivered: watch::Sender<tokio::time::Instant>,
}

/// Why a source stopped reading for now.
enum Stop {
    /// The pipeline is stopping.
    Stopped,
    /// List again (410).
    Relist,
    /// Wait, then watch again.
    Backoff,
    /// Watch again at once (the stream ended normally).
    Rewatch,
}

impl Source {
    async fn run(mut self, mut stop: watch::Receiver<bool>) {
        let mut backoff = RetryPolicy::RECONNECT.backoff();
        loop {
            if *stop.borrow() {
                return;
            }
            let outcome = tokio::select! {
                outcome = self.step() => outcome,
                _ = stop.changed() => Stop::Stopped,
            };
            self.shared.health.watch_closed(self.index);
            match outcome {
                Stop::Stopped => return,
                Stop::Relist => {
                    self.resume = None;
                    backoff.reset();
                }
                Stop::Rewatch => {
                    self.shared.metrics.watch_restart();
                    backoff.reset();
                }
                Stop::Backoff => {
                    self.shared.metrics.watch_restart();
                    let wait = backoff
                        .next_delay()
                        .expect("a reconnect backoff never gives up");
                    tokio::select! {
                        () = tokio::time::sleep(wait) => {}
                        _ = stop.changed() => return,
                    }
                }
            }
        }
    }

    fn failed(&self, error: &SourceError, phase: &'static str) -> Stop {
        self.shared.metrics.api_error(error.metric_label());
        if error.is_gone() {
            self.shared.metrics.gone();
            tracing::info!(
                scope = self.scope.label(),
                phase,
                "Resource version expired, listing again"
            );
            return Stop::Relist;
        }
        tracing::warn!(scope = self.scope.label(), phase, error = %error, cause = ?std::error::Error::source(error), "Reading events failed, retrying");
        Stop::Backoff
    }

    /// The list failed after its own retries (or kept restarting): wait, then list again.
    fn list_failed(&self, error: &ListError) -> Stop {
        self.shared.metrics.api_error(error.metric_label());
        tracing::warn!(scope = self.scope.label(), phase = "list", error = %error, cause = ?std::error::Error::source(error), "Reading events failed, retrying");
        Stop::Backoff
    }

    /// Lists if needed, then watches until the stream ends.
    async fn step(&mut self) -> Stop {
        let from = match &self.resume {
            Some(from) => from.clone(),
            None => match self.relist().await {
                Ok(Some(from)) => {
                    // Until an item arrives, the next watch also starts from the list: a quiet
                    // cluster must not list again each time a watch times out.
                    if !from.is_empty() {
                        self.resume = Some(from.clone());
                    }
                    from
                }
                Ok(None) => return Stop::Stopped,
                Err(error) => return self.list_failed(&error),
            },
        };
        let shared = self.shared.clone();
        let mut stream =
            match source::watch(&shared.client, &self.scope, &from, &shared.watch).await {
                Ok(stream) => stream,
                Err(error) => return self.failed(&error, "watch"),
            };
        // The API answered the watch request: established, whether or not anything comes.
        shared.health.watch_opened(self.index);
        loop {
            let item = match stream.next().await {
                None => return Stop::Rewatch,
                Some(Err(error)) => return self.failed(&error, "watch"),
                Some(Ok(item)) => item,
            };
            shared.health.api_answered();
            self.delivered.send_replace(tokio::time::Instant::now());
            let (object, rv_text) = match item {
                WatchItem::Added(object) | WatchItem::Modified(object) => {
                    let rv = object.resource_version().to_owned();
                    (Some(object), rv)
                }
                WatchItem::Deleted(object) => (None, object.resource_version().to_owned()),
                WatchItem::Bookmark(rv) => (None, rv),
            };
            let rv = ResourceVersion::parse(&rv_text);
            let line = match object {
                Some(object) if is_newer(&rv_text, self.position) => {
                    self.line(object, Origin::Watch)
                }
                _ => None,
            };
            // A watch delivers in resourceVersion order: everything up to this one is handed over.
            if let Some(rv) = rv {
                self.position = Some(self.position.map_or(rv, |p| p.max(rv)));
                self.resume = Some(rv_text);
            }
            if line.is_some() || rv.is_some() {
                let message = Message {
                    stream: self.index,
                    line,
                    progress: rv,
                };
                if self.tx.send(message).await.is_err() {
                    return Stop::Stopped;
                }
            }
        }
    }

    /// Lists every Event, hands over those newer than the position, and returns the list's
    /// resourceVersion to watch from (`None` when the sink is gone).
    async fn relist(&mut self) -> Result<Option<String>, ListError> {
        let shared = self.shared.clone();
        shared.metrics.relist();
        tracing::info!(scope = self.scope.label(), after = ?self.position, "Listing events");
        let mut pager = Pager::new(shared.client.clone(), self.scope.clone(), DEFAULT_PAGE_SIZE);
        let mut emitted = 0u64;
        while let Some(page) = pager.next_page().await? {
            shared.health.watch_progress(self.index);
            if page.restarted {
                shared.metrics.gone();
            }
            for object in page.items {
                if !is_newer(object.resource_version(), self.position) {
                    continue;
                }
                if let Some(line) = self.line(object, Origin::Relist) {
                    emitted += 1;
                    let message = Message {
                        stream: self.index,
                        line: Some(line),
                        progress: None,
                    };
                    if self.tx.send(message).await.is_err() {
                        return Ok(None);
                    }
                }
            }
            if page.last {
                let list_rv = ResourceVersion::parse(&page.resource_version);
                if list_rv.is_none() {
                    tracing::error!(
                        resource_version = page.resource_version,
                        "List resourceVersion is not an integer; the checkpoint cannot move"
                    );
                }
                if let Some(rv) = list_rv {
                    self.position = Some(self.position.map_or(rv, |p| p.max(rv)));
                }
                self.delivered.send_replace(tokio::time::Instant::now());
                let message = Message {
                    stream: self.index,
                    line: None,
                    progress: list_rv,
                };
                if self.tx.send(message).await.is_err() {
                    return Ok(None);
                }
                tracing::info!(
                    scope = self.scope.label(),
                    emitted,
                    resource_version = page.resource_version,
                    "Listed events"
                );
                return Ok(Some(page.resource_version));
            }
        }
        // A pager always ends with a last page; an empty answer means an empty list.
        Ok(Some(String::new()))
    }

    /// normalise → filter → line, counting what happened.
    fn line(&self, object: ApiEvent, origin: Origin) -> Option<String> {
        let shared = &self.shared;
        let ctx = match origin {
            Origin::Watch => &shared.watch_ctx,
            _ => &shared.relist_ctx,
        };
        let record = match normalise_event(object, ctx) {
            Ok(record) => record,
            Err(error) => {
                shared.metrics.unreadable();
                tracing::warn!(%error, "Skipping an item that is not an Event");
                return None;
            }
        };
        if !shared.filter.admits(&record) {
            shared.metrics.filtered();
            return None;
        }
        shared
            .metrics
            .line_emitted(record.event_type(), origin, record.is_truncated());
        if let Some(at) = record.effective_time.as_deref().and_then(parse_time) {
            let lag = jiff::Timestamp::now().duration_since(at);
            shared
                .metrics
                .observe_lag(Duration::try_from(lag).unwrap_or_default());
        }
        Some(record.to_line())
    }
}
