//! The load generator: N writes at a rate, over a pool of involved objects, with a share of
//! repeats (MODIFIED) and a Normal/Warning mix, across namespaces.

use crate::event_factory::{self, EventTemplate, Involved, Recorder};
use crate::ids::Rng;
use crate::resource::View;
use crate::store::{Key, Store};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;
use tokio::time::Instant;

/// What to generate (the body of `POST /_sim/generate`).
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct GenerateSpec {
    /// How many writes (new Events plus repeats).
    pub events: u64,
    /// Writes per second; 0 = as fast as possible.
    #[serde(default)]
    pub rate_per_sec: f64,
    /// How many distinct involved objects.
    #[serde(default = "default_objects")]
    pub objects: usize,
    /// Share of writes that repeat an earlier Event (count+1, a MODIFIED).
    #[serde(default)]
    pub repeat_share: f64,
    /// Share of new Events that are Warnings.
    #[serde(default = "default_warning_share")]
    pub warning_share: f64,
    /// Namespaces to spread objects over.
    #[serde(default = "default_namespaces")]
    pub namespaces: Vec<String>,
    /// Seed of the random choices (same seed, same sequence of reasons and objects).
    #[serde(default)]
    pub seed: Option<u64>,
}

fn default_objects() -> usize {
    100
}
fn default_warning_share() -> f64 {
    0.2
}
fn default_namespaces() -> Vec<String> {
    vec!["default".to_owned()]
}

impl Default for GenerateSpec {
    fn default() -> Self {
        Self {
            events: 0,
            rate_per_sec: 0.0,
            objects: default_objects(),
            repeat_share: 0.0,
            warning_share: default_warning_share(),
            namespaces: default_namespaces(),
            seed: None,
        }
    }
}

/// Runs generations and counts what they wrote.
pub struct Generator {
    store: Arc<Store>,
    active: AtomicUsize,
    generated: AtomicU64,
    unique: AtomicU64,
}

const NODES: [&str; 3] = [
    "ip-10-42-179-183.us-west-2.compute.internal",
    "ip-10-42-104-177.us-west-2.compute.internal",
    "ip-10-42-190-29.us-west-2.compute.internal",
];

/// (type, reason, component, message with {pod} {ns} {node} placeholders)
const NORMAL: [(&str, &str, &str); 6] = [
    (
        "Scheduled",
        "default-scheduler",
        "Successfully assigned {ns}/{pod} to {node}",
    ),
    ("Pulling", "kubelet", "Pulling image \"nginx\""),
    (
        "Pulled",
        "kubelet",
        "Successfully pulled image \"nginx\" in 627.545722ms (627.553403ms including waiting)",
    ),
    ("Created", "kubelet", "Created container nginx"),
    ("Started", "kubelet", "Started container nginx"),
    ("Killing", "kubelet", "Stopping container nginx"),
];
const WARNING: [(&str, &str, &str); 5] = [
    (
        "BackOff",
        "kubelet",
        "Back-off restarting failed container app in pod {pod}_{ns}",
    ),
    (
        "Unhealthy",
        "kubelet",
        "Readiness probe failed: Get \"http://10.42.127.4:8080/actuator/health/liveness\": dial tcp 10.42.127.4:8080: connect: connection refused",
    ),
    (
        "FailedScheduling",
        "default-scheduler",
        "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.",
    ),
    (
        "FailedMount",
        "kubelet",
        "MountVolume.SetUp failed for volume \"secret-volume\" : secret \"misspelt-secret-name\" not found",
    ),
    ("Failed", "kubelet", "Error: ImagePullBackOff"),
];

impl Generator {
    /// A generator writing into `store`.
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            active: AtomicUsize::new(0),
            generated: AtomicU64::new(0),
            unique: AtomicU64::new(0),
        }
    }

    /// Is a generation running?
    pub fn generating(&self) -> bool {
        self.active.load(Ordering::SeqCst) > 0
    }

    /// Writes made by generations so far.
    pub fn generated(&self) -> u64 {
        self.generated.load(Ordering::Relaxed)
    }

    /// Starts a generation in the background and returns at once.
    pub fn spawn(self: &Arc<Self>, spec: GenerateSpec) -> tokio::task::JoinHandle<()> {
        self.active.fetch_add(1, Ordering::SeqCst);
        let me = self.clone();
        tokio::spawn(async move {
            me.run(spec).await;
            me.active.fetch_sub(1, Ordering::SeqCst);
        })
    }

    async fn run(&self, spec: GenerateSpec) {
        let mut rng = spec.seed.map_or_else(Rng::fresh, Rng::seeded);
        let namespaces = if spec.namespaces.is_empty() {
            default_namespaces()
        } else {
            spec.namespaces.clone()
        };
        let objects: Vec<Involved> = (0..spec.objects.max(1))
            .map(|i| {
                let ns = &namespaces[i % namespaces.len()];
                Involved {
                    kind: "Pod".into(),
                    api_version: "v1".into(),
                    namespace: ns.clone(),
                    name: format!("load-{}-{}", rng.name_suffix(5), i),
                    uid: rng.uuid(),
                    field_path: Some("spec.containers{app}".into()),
                }
            })
            .collect();
        let mut recent: VecDeque<Key> = VecDeque::with_capacity(4096);
        let start = Instant::now();
        tracing::info!(
            events = spec.events,
            rate = spec.rate_per_sec,
            "Generating events"
        );
        for i in 0..spec.events {
            if spec.rate_per_sec > 0.0 {
                let due = start + Duration::from_secs_f64(i as f64 / spec.rate_per_sec);
                if due > Instant::now() + Duration::from_millis(2) {
                    tokio::time::sleep_until(due).await;
                }
            } else if i % 512 == 511 {
                tokio::task::yield_now().await;
            }
            let now = self.store.clock().now();
            if !recent.is_empty() && rng.unit() < spec.repeat_share {
                let key = recent[rng.below(recent.len())].clone();
                if event_factory::repeat_stored(&self.store, &key, now).is_ok() {
                    self.generated.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
            }
            let io = objects[rng.below(objects.len())].clone();
            let warning = rng.unit() < spec.warning_share;
            let (reason, component, message) = if warning {
                WARNING[rng.below(WARNING.len())]
            } else {
                NORMAL[rng.below(NORMAL.len())]
            };
            let node = NODES[rng.below(NODES.len())];
            let message = message
                .replace("{pod}", &io.name)
                .replace("{ns}", &io.namespace)
                .replace("{node}", node);
            let recorder = if component == "default-scheduler" {
                Recorder::New {
                    controller: component.into(),
                    instance: format!("default-scheduler-{}", NODES[0]),
                    action: "Scheduling".into(),
                }
            } else {
                Recorder::Legacy {
                    component: component.into(),
                    host: node.into(),
                }
            };
            let t = EventTemplate {
                involved: io,
                event_type: if warning { "Warning" } else { "Normal" }.into(),
                reason: reason.into(),
                message,
                recorder,
            };
            let unique = self.unique.fetch_add(1, Ordering::Relaxed);
            let ev = event_factory::build(&t, now, unique);
            let ns = t.involved.namespace.clone();
            match self.store.create(View::CoreEvents, &ns, ev) {
                Ok(o) => {
                    self.generated.fetch_add(1, Ordering::Relaxed);
                    if recent.len() == recent.capacity() {
                        recent.pop_front();
                    }
                    recent.push_back(o.key.clone());
                }
                Err(e) => tracing::warn!(error = %e, "Generated event refused"),
            }
        }
        tracing::info!(
            generated = self.generated(),
            elapsed_ms = start.elapsed().as_millis() as u64,
            "Generation done"
        );
    }
}
