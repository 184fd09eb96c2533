//! eventkeeper simulator: a local Kubernetes API server for Events and Leases that behaves like
//! kube-apiserver for the requests kubectl, the official Python client and kube-rs make, with
//! a load generator, scenario replay, a simulated clock and fault injection.
//!
//! In-process use:
//!
//! ```no_run
//! # async fn demo() -> Result<(), eventkeeper_sim::SimError> {
//! use eventkeeper_sim::{SimConfig, Simulator};
//! let sim = Simulator::start(SimConfig::default()).await?;
//! sim.write_kubeconfig(std::path::Path::new("/tmp/kubeconfig"))?;
//! sim.advance_clock(3601.0); // expire every Event
//! # Ok(()) }
//! ```

pub mod admin;
pub mod app;
pub mod auth;
pub mod clock;
pub mod continue_token;
pub mod discovery;
pub mod event_factory;
pub mod faults;
pub mod generator;
pub mod http;
pub mod ids;
pub mod kubeconfig;
pub mod resource;
pub mod router;
pub mod scenario;
pub mod selector;
pub mod server;
pub mod status;
pub mod store;
pub mod table;
pub mod tls;
pub mod watch;

pub use admin::SimStatus;
pub use auth::{AuthMode, EksConfig};
pub use faults::{FaultRequest, FaultState, Throttle};
pub use generator::GenerateSpec;
pub use scenario::Scenario;
pub use status::ApiError;
pub use store::{Observation, StoreConfig, Window};

use app::App;
use clock::SimClock;
use faults::Faults;
use generator::Generator;
use scenario::ScenarioRunner;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use tokio::net::TcpListener;
use tokio::sync::watch as signal;
use tokio::task::JoinHandle;

/// Why a simulator could not start or an operation failed.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// The listen address could not be bound.
    #[error("binding {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Certificates could not be generated.
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    /// The kubeconfig could not be written.
    #[error("writing kubeconfig {path}: {source}")]
    WriteKubeconfig {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The API refused the operation.
    #[error(transparent)]
    Api(#[from] ApiError),
}

/// How to run a simulator. `Default` is plain HTTP on 127.0.0.1, a random port, no auth.
#[derive(Clone, Debug)]
pub struct SimConfig {
    /// Address to listen on.
    pub listen: SocketAddr,
    /// Serve HTTPS with a generated CA.
    pub tls: bool,
    /// Bearer token checks.
    pub auth: AuthMode,
    /// History window (etcd compaction, or a watch cache for Events), TTLs, limits.
    pub store: StoreConfig,
    /// Simulated seconds per real second.
    pub clock_speed: f64,
    /// Period of BOOKMARKs on watches served from a watch cache (Leases always; Events with
    /// `Window::WatchCache`).
    pub bookmark_interval: Duration,
    /// Faults active from the start.
    pub faults: FaultRequest,
    /// Scenarios started at once.
    pub scenarios: Vec<Scenario>,
    /// A load generation started at once.
    pub generate: Option<GenerateSpec>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            auth: AuthMode::None,
            store: StoreConfig::default(),
            clock_speed: 1.0,
            bookmark_interval: Duration::from_secs(60),
            faults: FaultRequest::default(),
            scenarios: Vec::new(),
            generate: None,
        }
    }
}

/// A running simulator. Dropping it stops the server and its background tasks.
pub struct Simulator {
    app: Arc<App>,
    addr: SocketAddr,
    url: String,
    ca_pem: Option<String>,
    shutdown: signal::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

impl Simulator {
    /// Binds, starts serving, and starts configured scenarios and load.
    pub async fn start(cfg: SimConfig) -> Result<Self, SimError> {
        let listener = TcpListener::bind(cfg.listen)
            .await
            .map_err(|source| SimError::Bind {
                addr: cfg.listen,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| SimError::Bind {
            addr: cfg.listen,
            source,
        })?;
        let (tls, ca_pem) = if cfg.tls {
            let m = tls::generate(addr.ip())?;
            (
                Some(tokio_rustls::TlsAcceptor::from(m.server_config)),
                Some(m.ca_pem),
            )
        } else {
            (None, None)
        };
        let scheme = if cfg.tls { "https" } else { "http" };
        let url = format!("{scheme}://{addr}");
        let clock = Arc::new(SimClock::new(cfg.clock_speed));
        let store = Arc::new(Store::new(cfg.store.clone(), clock));
        let faults = Arc::new(Faults::new());
        faults.apply(&cfg.faults);
        let (shutdown, shutdown_rx) = signal::channel(false);
        let app = Arc::new(App {
            store: store.clone(),
            faults: faults.clone(),
            auth: auth::Auth::new(cfg.auth.clone()),
            generator: Arc::new(Generator::new(store.clone())),
            scenarios: Arc::new(ScenarioRunner::new(store.clone())),
            watches: watch::WatchHandle {
                store: store.clone(),
                faults: faults.clone(),
                shutdown: shutdown_rx.clone(),
                bookmark_interval: cfg.bookmark_interval,
            },
            server_address: addr.to_string(),
        });
        let mut tasks = vec![tokio::spawn(server::serve(
            listener,
            tls,
            app.clone(),
            shutdown_rx.clone(),
        ))];
        tasks.push(tokio::spawn(ticker(app.clone(), shutdown_rx)));
        for s in cfg.scenarios {
            app.scenarios.start(s);
        }
        if let Some(g) = cfg.generate {
            app.generator.spawn(g);
        }
        tracing::info!(%url, "Simulator listening");
        Ok(Self {
            app,
            addr,
            url,
            ca_pem,
            shutdown,
            tasks,
        })
    }

    /// `http://127.0.0.1:PORT` or `https://...`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The CA certificate (PEM) when serving HTTPS.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// A kubeconfig for this simulator (JSON; YAML readers accept it).
    pub fn kubeconfig(&self) -> Value {
        let token = match self.app.auth.mode() {
            AuthMode::StaticToken(t) => Some(t.as_str()),
            AuthMode::None | AuthMode::Eks(_) => None,
        };
        kubeconfig::render(&self.url, self.ca_pem.as_deref(), token)
    }

    /// Writes the kubeconfig to a file.
    pub fn write_kubeconfig(&self, path: &Path) -> Result<(), SimError> {
        let text = serde_json::to_string_pretty(&self.kubeconfig()).unwrap_or_default();
        std::fs::write(path, text).map_err(|source| SimError::WriteKubeconfig {
            path: path.display().to_string(),
            source,
        })
    }

    /// Creates an Event (core/v1); name, namespace, uid and missing timestamps are filled.
    pub fn create_event(&self, event: &Value) -> Result<Value, SimError> {
        let now = self.app.store.clock().now();
        let key = self.app.scenarios.create_from_template(event, now, false)?;
        self.event(&key.0, &key.1)
            .ok_or_else(|| SimError::Api(ApiError::no_such_path()))
    }

    /// Repeats an Event (count+1 or series+1): a MODIFIED to watchers.
    pub fn repeat_event(&self, namespace: &str, name: &str) -> Result<Value, SimError> {
        let now = self.app.store.clock().now();
        let (o, _) =
            self.app
                .store
                .patch(resource::View::CoreEvents, namespace, name, false, |cur| {
                    cur.map(|c| event_factory::repeat(c, now)).ok_or_else(|| {
                        ApiError::not_found(resource::View::CoreEvents.resource_name(), name)
                    })
                })?;
        Ok(o.value())
    }

    /// Deletes an Event: a DELETED to watchers.
    pub fn delete_event(&self, namespace: &str, name: &str) -> Result<(), SimError> {
        self.app
            .store
            .delete(resource::View::CoreEvents, namespace, name, None, None)?;
        Ok(())
    }

    /// One stored Event.
    pub fn event(&self, namespace: &str, name: &str) -> Option<Value> {
        self.app
            .store
            .get(resource::Kind::Event, namespace, name)
            .map(|o| o.value())
    }

    /// One stored Lease.
    pub fn lease(&self, namespace: &str, name: &str) -> Option<Value> {
        self.app
            .store
            .get(resource::Kind::Lease, namespace, name)
            .map(|o| o.value())
    }

    /// Starts a load generation and returns at once (see `status().generating`).
    pub fn generate(&self, spec: GenerateSpec) {
        self.app.generator.spawn(spec);
    }

    /// Waits until no generation runs (at most `limit`); true when done.
    pub async fn wait_generated(&self, limit: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + limit;
        while self.app.generator.generating() {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        true
    }

    /// Starts a scenario.
    pub fn run_scenario(&self, s: Scenario) {
        self.app.scenarios.start(s);
    }

    /// Counters (the `/_sim/status` document).
    pub fn status(&self) -> SimStatus {
        admin::status(&self.app)
    }

    /// Every observation so far, in resourceVersion order.
    pub fn observations(&self) -> Vec<Observation> {
        self.app.store.observations(0)
    }

    /// The current resourceVersion.
    pub fn resource_version(&self) -> u64 {
        self.app.store.current_rv()
    }

    /// Changes faults; returns the new settings.
    pub fn set_faults(&self, req: &FaultRequest) -> FaultState {
        self.app.faults.apply(req)
    }

    /// Advances the simulated clock and runs what became due (expiry, scenario steps).
    pub fn advance_clock(&self, seconds: f64) -> Value {
        admin::advance_clock(&self.app, seconds)
    }

    /// Stops serving. Open watch streams end.
    pub fn shutdown(&self) {
        self.shutdown.send_replace(true);
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.shutdown.send_replace(true);
        for t in &self.tasks {
            t.abort();
        }
    }
}

async fn ticker(app: Arc<App>, mut shutdown: signal::Receiver<bool>) {
    let mut tick = tokio::time::interval(Duration::from_millis(50));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {
                // Lease expiry and etcd compaction.
                app.store.expire_due();
                app.scenarios.tick();
            }
            _ = shutdown.changed() => return,
        }
    }
}
