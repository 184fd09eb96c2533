//! The shared state of one running simulator, which the routes read.

use crate::auth::Auth;
use crate::faults::Faults;
use crate::generator::Generator;
use crate::scenario::ScenarioRunner;
use crate::store::Store;
use crate::watch::WatchHandle;
use std::sync::Arc;

/// Shared state of one running simulator.
pub struct App {
    /// Objects, history, observations.
    pub store: Arc<Store>,
    /// Injected faults.
    pub faults: Arc<Faults>,
    /// Bearer token checks.
    pub auth: Auth,
    /// Load generator.
    pub generator: Arc<Generator>,
    /// Scenario replay.
    pub scenarios: Arc<ScenarioRunner>,
    /// What watch streams use.
    pub watches: WatchHandle,
    /// `host:port` the server listens on (for `/api`).
    pub server_address: String,
}
