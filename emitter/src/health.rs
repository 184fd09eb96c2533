//! `/livez`, `/readyz` and `/metrics` on one port.
//!
//! Readiness means work is flowing: a standby is ready (it only waits), a leader is ready while
//! its watch has seen an event or a bookmark within the stall timeout.

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

/// Shared health state.
#[derive(Debug)]
pub struct Health {
    started: Instant,
    role: Mutex<Role>,
    /// Milliseconds after `started` of the last event, bookmark or list page.
    last_progress_ms: AtomicU64,
    stall_timeout: Duration,
}

impl Health {
    /// Health with the given stall timeout.
    pub fn new(stall_timeout: Duration) -> Self {
        Self {
            started: Instant::now(),
            role: Mutex::new(Role::Starting),
            last_progress_ms: AtomicU64::new(0),
            stall_timeout,
        }
    }

    /// Sets the role; becoming leader counts as progress (the stall clock starts then).
    pub fn set_role(&self, role: Role) {
        if role == Role::Leader {
            self.progress();
        }
        *self.role.lock().unwrap_or_else(|e| e.into_inner()) = role;
    }

    fn role(&self) -> Role {
        *self.role.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The watch or list moved forward.
    pub fn progress(&self) {
        let ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.last_progress_ms.store(ms, Ordering::Relaxed);
    }

    /// (ready, body).
    pub fn readiness(&self) -> (bool, String) {
        match self.role() {
            Role::Standby => (true, "standby".to_owned()),
            Role::Leader => {
                let last = Duration::from_millis(self.last_progress_ms.load(Ordering::Relaxed));
                let idle = self.started.elapsed().saturating_sub(last);
                if idle <= self.stall_timeout {
                    (true, "leader".to_owned())
                } else {
                    (
                        false,
                        format!("stalled: no event or bookmark for {}s", idle.as_secs()),
                    )
                }
            }
            Role::Starting => (false, "starting".to_owned()),
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
    fn readiness_follows_role_and_progress() {
        let health = Health::new(Duration::from_millis(50));
        assert!(!health.readiness().0);
        health.set_role(Role::Standby);
        assert_eq!(health.readiness(), (true, "standby".to_owned()));
        health.set_role(Role::Leader);
        assert!(health.readiness().0);
        std::thread::sleep(Duration::from_millis(120));
        let (ready, body) = health.readiness();
        assert!(!ready && body.starts_with("stalled"), "{body}");
        health.progress();
        assert!(health.readiness().0);
    }
}
