//! `/livez`, `/readyz` and `/metrics` on one port.
//!
//! Readiness means "the API can be read and the watch is established", not "an Event arrived":
//! a quiet cluster served without a watch cache sends no Event and no bookmark for hours. A
//! standby is ready (it only waits). A leader is ready while the API answered it (a Lease
//! renewal, a list page, a watch opened, a watch item) within the stall timeout and every one of
//! its watches is open, or was last open or making progress (a list page) within the stall
//! timeout. It turns unready when the API stops answering, or a watch cannot be re-established,
//! for the stall timeout.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Response, StatusCode};
use http_body_util::Full;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::TcpListener;

use crate::metrics::{self, Metrics};

/// Why the HTTP server could not start.
#[derive(Debug, thiserror::Error)]
pub enum HealthError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}")]
    BindFailed {
        /// The address.
        addr: SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// The replica's role, as readiness sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// Not yet talked to the Lease.
    Starting,
    /// Waiting for the Lease.
    Standby,
    /// Emitting.
    Leader,
}

/// One watch of the leader's pipeline (one per scope).
#[derive(Debug)]
struct WatchState {
    /// The scope's label, for the readiness body.
    label: String,
    /// The stream is open (the API answered the watch request).
    open: bool,
    /// When it opened, closed, or last made progress while closed (a list page).
    since: Instant,
}

/// Shared health state.
#[derive(Debug)]
pub struct Health {
    started: Instant,
    role: Mutex<Role>,
    /// Milliseconds after `started` of the API's last answer.
    last_answer_ms: AtomicU64,
    watches: Mutex<Vec<WatchState>>,
    stall_timeout: Duration,
}

impl Health {
    /// Health with the given stall timeout.
    pub fn new(stall_timeout: Duration) -> Self {
        Self {
            started: Instant::now(),
            role: Mutex::new(Role::Starting),
            last_answer_ms: AtomicU64::new(0),
            watches: Mutex::new(Vec::new()),
            stall_timeout,
        }
    }

    /// Sets the role; becoming leader counts as an answer (the stall clock starts then). The
    /// watches of an earlier term are forgotten: the new term's pipeline tracks its own.
    pub fn set_role(&self, role: Role) {
        if role == Role::Leader {
            self.api_answered();
        }
        self.watches().clear();
        *self.role.lock().unwrap_or_else(|e| e.into_inner()) = role;
    }

    fn role(&self) -> Role {
        *self.role.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The API answered a request of ours.
    pub fn api_answered(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_answer_ms.store(ms, Ordering::Relaxed);
    }

    /// A new term's pipeline watches these scopes (none is open yet).
    pub fn track_watches(&self, labels: impl IntoIterator<Item = String>) {
        let now = Instant::now();
        *self.watches() = labels
            .into_iter()
            .map(|label| WatchState {
                label,
                open: false,
                since: now,
            })
            .collect();
    }

    /// Watch `index` is open: the API answered the watch request.
    pub fn watch_opened(&self, index: usize) {
        self.api_answered();
        self.set_watch(index, Some(true));
    }

    /// Watch `index` ended (it is watched again, after a backoff or a list).
    pub fn watch_closed(&self, index: usize) {
        self.set_watch(index, Some(false));
    }

    /// Watch `index` is not open but its source makes progress (a list page arrived).
    pub fn watch_progress(&self, index: usize) {
        self.api_answered();
        self.set_watch(index, None);
    }

    /// `Some(open)`: the stream opened or closed; `None`: progress while closed. A failed attempt
    /// to open a closed watch changes nothing: the clock runs from when it was last open.
    fn set_watch(&self, index: usize, open: Option<bool>) {
        if let Some(watch) = self.watches().get_mut(index) {
            let changed = open.is_none_or(|open| open || watch.open);
            if let Some(open) = open {
                watch.open = open;
            }
            if changed {
                watch.since = Instant::now();
            }
        }
    }

    fn watches(&self) -> std::sync::MutexGuard<'_, Vec<WatchState>> {
        self.watches.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// (ready, body).
    pub fn readiness(&self) -> (bool, String) {
        match self.role() {
            Role::Standby => (true, "standby".to_owned()),
            Role::Leader => self.leader_readiness(),
            Role::Starting => (false, "starting".to_owned()),
        }
    }

    fn leader_readiness(&self) -> (bool, String) {
        let last = Duration::from_millis(self.last_answer_ms.load(Ordering::Relaxed));
        let silent = self.started.elapsed().saturating_sub(last);
        if silent > self.stall_timeout {
            return (
                false,
                format!("stalled: no answer from the API for {}s", silent.as_secs()),
            );
        }
        let watches = self.watches();
        let down = watches
            .iter()
            .filter(|w| !w.open)
            .map(|w| (w, w.since.elapsed()))
            .find(|(_, down)| *down > self.stall_timeout);
        match down {
            Some((watch, down)) => (
                false,
                format!(
                    "stalled: the watch of {} not established for {}s",
                    watch.label,
                    down.as_secs()
                ),
            ),
            None => (true, "leader".to_owned()),
        }
    }
}

/// Binds the listen address (so a bad one fails at start) and serves until the process ends.
pub async fn serve(
    addr: SocketAddr,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
) -> Result<tokio::task::JoinHandle<()>, HealthError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| HealthError::BindFailed { addr, source })?;
    let local = listener.local_addr().unwrap_or(addr);
    tracing::info!(addr = %local, "Serving /livez, /readyz and /metrics");
    Ok(tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let (health, metrics) = (health.clone(), metrics.clone());
            tokio::spawn(async move {
                let service = service_fn(move |request: http::Request<hyper::body::Incoming>| {
                    let response = answer(request.uri().path(), &health, &metrics);
                    async move { Ok::<_, std::convert::Infallible>(response) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    }))
}

fn answer(path: &str, health: &Health, metrics: &Metrics) -> Response<Full<Bytes>> {
    let (status, content_type, body) = match path {
        "/livez" => (StatusCode::OK, "text/plain", "ok".to_owned()),
        "/readyz" => {
            let (ready, body) = health.readiness();
            let status = if ready {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            (status, "text/plain", body)
        }
        "/metrics" => (StatusCode::OK, metrics::CONTENT_TYPE, metrics.render()),
        _ => (StatusCode::NOT_FOUND, "text/plain", "not found".to_owned()),
    };
    Response::builder()
        .status(status)
        .header(http::header::CONTENT_TYPE, content_type)
        .body(Full::new(Bytes::from(body)))
        .expect("static response parts are valid")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_follows_role_and_api_answers() {
        let health = Health::new(Duration::from_millis(50));
        assert!(!health.readiness().0);
        health.set_role(Role::Standby);
        assert_eq!(health.readiness(), (true, "standby".to_owned()));
        health.set_role(Role::Leader);
        assert!(health.readiness().0);
        std::thread::sleep(Duration::from_millis(120));
        let (ready, body) = health.readiness();
        assert!(!ready && body.starts_with("stalled"), "{body}");
        health.api_answered();
        assert!(health.readiness().0);
    }

    #[test]
    fn an_open_watch_without_events_is_ready_and_one_that_stays_closed_is_not() {
        let health = Health::new(Duration::from_millis(80));
        health.set_role(Role::Leader);
        health.track_watches(["a".to_owned(), "b".to_owned()]);
        health.watch_opened(0);
        health.watch_opened(1);
        // No event, no bookmark: the watches are open and the API answers (Lease renewals).
        for _ in 0..4 {
            std::thread::sleep(Duration::from_millis(40));
            health.api_answered();
            assert_eq!(health.readiness(), (true, "leader".to_owned()));
        }
        // Watch b ends and cannot be opened again; the API still answers other requests.
        health.watch_closed(1);
        std::thread::sleep(Duration::from_millis(50));
        health.api_answered();
        health.watch_closed(1);
        assert!(health.readiness().0, "not yet the stall timeout");
        std::thread::sleep(Duration::from_millis(50));
        health.api_answered();
        let (ready, body) = health.readiness();
        assert!(!ready && body.contains("watch of b"), "{body}");
        // A list page is progress of a source whose watch is not open.
        health.watch_progress(1);
        assert!(health.readiness().0);
        health.watch_opened(1);
        assert!(health.readiness().0);
    }
}
