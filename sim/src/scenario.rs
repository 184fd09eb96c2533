//! Scenarios: Events created and repeated on a schedule of simulated time. A scenario is JSON:
//!
//! ```json
//! {"name": "demo", "steps": [
//!   {"atSeconds": 0, "id": "mount", "create": {"involvedObject": {"kind": "Pod", "name": "a"},
//!     "reason": "FailedMount", "message": "...", "type": "Warning", "source": {"component": "kubelet"}}},
//!   {"atSeconds": 30, "everySeconds": 120, "times": 10, "repeat": "mount"}
//! ]}
//! ```
//!
//! At replay, timestamps are set to the simulated time, a missing `metadata.name` becomes
//! `<involvedObject.name>.<hex>`, and a missing `involvedObject.uid` gets one uid per object.
//! The built-in `seeds` scenario reproduces the seed documents' broken deployments.

use crate::clock::{format_micro_time, format_time};
use crate::event_factory::{self, EventTemplate, Involved, Recorder};
use crate::ids::Rng;
use crate::resource::{self, View};
use crate::store::{Key, Store, set_meta, str_at};
use jiff::Timestamp;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;

/// Why a scenario could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    /// The file could not be read.
    #[error("reading scenario {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The JSON is not a scenario.
    #[error("parsing scenario {path}: {source}")]
    Parse {
        /// The file.
        path: String,
        /// The cause.
        source: serde_json::Error,
    },
    /// A step is neither a create nor a repeat, or both.
    #[error("scenario step {0} must have exactly one of `create` and `repeat`")]
    BadStep(usize),
}

/// A schedule of Event writes.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Scenario {
    /// A name for logs.
    #[serde(default)]
    pub name: String,
    /// The steps.
    pub steps: Vec<Step>,
}

/// One scheduled write.
#[derive(Clone, Debug, PartialEq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Step {
    /// Simulated seconds after the scenario starts.
    #[serde(default)]
    pub at_seconds: f64,
    /// Repeat the step this often (simulated seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub every_seconds: Option<f64>,
    /// At most this many times (default: once, or forever with `everySeconds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Name of the Event created by this step, for `repeat`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A core/v1 Event to create.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub create: Option<Value>,
    /// The `id` of an Event to repeat (count+1 or series+1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<String>,
}

impl Scenario {
    /// Reads a scenario file, or `seeds` for the built-in one.
    pub fn load(path: &str) -> Result<Self, ScenarioError> {
        if path == "seeds" {
            return Ok(seeds());
        }
        let text = std::fs::read_to_string(path).map_err(|source| ScenarioError::Read {
            path: path.to_owned(),
            source,
        })?;
        let s: Scenario = serde_json::from_str(&text).map_err(|source| ScenarioError::Parse {
            path: path.to_owned(),
            source,
        })?;
        s.validate()?;
        Ok(s)
    }

    /// Checks every step is a create or a repeat.
    pub fn validate(&self) -> Result<(), ScenarioError> {
        for (i, s) in self.steps.iter().enumerate() {
            if s.create.is_some() == s.repeat.is_some() {
                return Err(ScenarioError::BadStep(i));
            }
        }
        Ok(())
    }
}

struct StepState {
    step: Step,
    next_due: f64,
    fired: u32,
    done: bool,
}

struct Running {
    name: String,
    start: Timestamp,
    steps: Vec<StepState>,
    ids: HashMap<String, Key>,
}

/// Replays scenarios against the store.
pub struct ScenarioRunner {
    store: Arc<Store>,
    running: Mutex<Vec<Running>>,
    uids: Mutex<HashMap<(String, String, String), String>>,
    rng: Mutex<Rng>,
}

impl ScenarioRunner {
    /// A runner with nothing scheduled.
    pub fn new(store: Arc<Store>) -> Self {
        Self {
            store,
            running: Mutex::new(Vec::new()),
            uids: Mutex::new(HashMap::new()),
            rng: Mutex::new(Rng::fresh()),
        }
    }

    /// Starts a scenario now (simulated time); its due steps run at the next tick.
    pub fn start(&self, s: Scenario) {
        tracing::info!(scenario = %s.name, steps = s.steps.len(), "Starting scenario");
        let steps = s
            .steps
            .into_iter()
            .map(|step| StepState {
                next_due: step.at_seconds,
                step,
                fired: 0,
                done: false,
            })
            .collect();
        self.running.lock().push(Running {
            name: s.name,
            start: self.store.clock().now(),
            steps,
            ids: HashMap::new(),
        });
        self.tick();
    }

    /// Are steps still scheduled?
    pub fn active(&self) -> bool {
        self.running
            .lock()
            .iter()
            .any(|r| r.steps.iter().any(|s| !s.done))
    }

    /// Runs every step that is due; returns how many writes were made.
    pub fn tick(&self) -> usize {
        let now = self.store.clock().now();
        let mut running = self.running.lock();
        let mut writes = 0;
        for r in running.iter_mut() {
            let elapsed = now.duration_since(r.start).as_secs_f64();
            let mut order: Vec<usize> = (0..r.steps.len())
                .filter(|&i| !r.steps[i].done && r.steps[i].next_due <= elapsed)
                .collect();
            order.sort_by(|&a, &b| r.steps[a].next_due.total_cmp(&r.steps[b].next_due));
            for i in order {
                let step = r.steps[i].step.clone();
                let ok = self.run_step(&step, &mut r.ids, now);
                if !ok {
                    continue;
                }
                writes += 1;
                let st = &mut r.steps[i];
                st.fired += 1;
                let limit = st.step.times.unwrap_or(if st.step.every_seconds.is_some() {
                    u32::MAX
                } else {
                    1
                });
                match st.step.every_seconds.filter(|e| *e > 0.0) {
                    Some(every) if st.fired < limit => {
                        st.next_due += every;
                        if st.next_due < elapsed {
                            st.next_due = elapsed + every;
                        }
                    }
                    _ => st.done = true,
                }
            }
            if r.steps.iter().all(|s| s.done) {
                tracing::debug!(scenario = %r.name, "Scenario finished");
            }
        }
        writes
    }

    fn run_step(&self, step: &Step, ids: &mut HashMap<String, Key>, now: Timestamp) -> bool {
        if let Some(template) = &step.create {
            match self.create_from_template(template, now, true) {
                Ok(key) => {
                    if let Some(id) = &step.id {
                        ids.insert(id.clone(), key);
                    }
                    true
                }
                Err(e) => {
                    tracing::warn!(error = %e, "Scenario event refused");
                    true
                }
            }
        } else if let Some(id) = &step.repeat {
            let Some(key) = ids.get(id) else {
                return false;
            };
            if event_factory::repeat_stored(&self.store, key, now).is_err() {
                // Expired or deleted: the next repeat recreates nothing; stop quietly.
                tracing::debug!(id, "Scenario repeat target is gone");
            }
            true
        } else {
            true
        }
    }

    /// Creates an Event from a template, filling name, namespace and involvedObject.uid when
    /// absent. Timestamps are set to `now` when `replace_times` (scenario replay), else only when
    /// the Event has none.
    pub fn create_from_template(
        &self,
        template: &Value,
        now: Timestamp,
        replace_times: bool,
    ) -> Result<Key, crate::status::ApiError> {
        let mut e = template.clone();
        let io_ns = str_at(&e, "/involvedObject/namespace");
        let mut ns = str_at(&e, "/metadata/namespace");
        if ns.is_empty() {
            ns = if io_ns.is_empty() {
                "default".into()
            } else {
                io_ns
            };
        }
        let io_name = str_at(&e, "/involvedObject/name");
        if str_at(&e, "/metadata/name").is_empty()
            && str_at(&e, "/metadata/generateName").is_empty()
        {
            let suffix = self.rng.lock().next_u64() >> 4;
            let base = if io_name.is_empty() {
                "event"
            } else {
                &io_name
            };
            set_meta(
                &mut e,
                "name",
                json!(format!(
                    "{base}.{:x}",
                    (now.as_nanosecond() as u64) ^ suffix
                )),
            );
        }
        if e.get("involvedObject").is_some_and(Value::is_object)
            && str_at(&e, "/involvedObject/uid").is_empty()
        {
            let kind = str_at(&e, "/involvedObject/kind");
            let uid = self
                .uids
                .lock()
                .entry((ns.clone(), kind, io_name))
                .or_insert_with(|| self.rng.lock().uuid())
                .clone();
            e["involvedObject"]["uid"] = json!(uid);
        }
        let has = |e: &Value, k: &str| e.get(k).is_some_and(|v| !v.is_null());
        let has_times =
            has(&e, "eventTime") || has(&e, "firstTimestamp") || has(&e, "lastTimestamp");
        if !replace_times && has_times {
            // Keep the caller's timestamps.
        } else if has(&e, "eventTime") {
            e["eventTime"] = json!(format_micro_time(now));
        } else {
            e["firstTimestamp"] = json!(format_time(now));
            e["lastTimestamp"] = json!(format_time(now));
            if e.get("count").is_none_or(Value::is_null) {
                e["count"] = json!(1);
            }
        }
        if let Some(m) = e.get_mut("metadata").and_then(Value::as_object_mut) {
            m.remove("resourceVersion");
            m.remove("uid");
        }
        resource::default_and_validate(View::CoreEvents, &ns, &mut e)?;
        let o = self.store.create(View::CoreEvents, &ns, e)?;
        Ok(o.key.clone())
    }
}

fn pod(ns: &str, name: &str, container: Option<&str>) -> Involved {
    Involved {
        kind: "Pod".into(),
        api_version: "v1".into(),
        namespace: ns.into(),
        name: name.into(),
        uid: String::new(),
        field_path: container.map(|c| format!("spec.containers{{{c}}}")),
    }
}

fn owner(kind: &str, ns: &str, name: &str) -> Involved {
    Involved {
        kind: kind.into(),
        api_version: "apps/v1".into(),
        namespace: ns.into(),
        name: name.into(),
        uid: String::new(),
        field_path: None,
    }
}

fn kubelet(node: &str) -> Recorder {
    Recorder::Legacy {
        component: "kubelet".into(),
        host: node.into(),
    }
}

fn controller(name: &str) -> Recorder {
    Recorder::Legacy {
        component: name.into(),
        host: String::new(),
    }
}

fn scheduler(action: &str) -> Recorder {
    Recorder::New {
        controller: "default-scheduler".into(),
        instance: "default-scheduler-ip-10-42-0-12".into(),
        action: action.into(),
    }
}

fn template(involved: Involved, ty: &str, reason: &str, message: &str, rec: Recorder) -> Value {
    let t = EventTemplate {
        involved,
        event_type: ty.into(),
        reason: reason.into(),
        message: message.into(),
        recorder: rec,
    };
    let mut e = event_factory::build(&t, Timestamp::UNIX_EPOCH, 0);
    if let Some(m) = e.get_mut("metadata").and_then(Value::as_object_mut) {
        m.remove("name");
    }
    if let Some(io) = e.get_mut("involvedObject").and_then(Value::as_object_mut) {
        io.remove("uid");
    }
    e
}

fn once(at: f64, id: Option<&str>, event: Value) -> Step {
    Step {
        at_seconds: at,
        every_seconds: None,
        times: None,
        id: id.map(str::to_owned),
        create: Some(event),
        repeat: None,
    }
}

fn again(at: f64, every: f64, id: &str) -> Step {
    Step {
        at_seconds: at,
        every_seconds: Some(every),
        times: None,
        id: None,
        create: None,
        repeat: Some(id.to_owned()),
    }
}

/// The seed documents' scenarios: the EKS workshop's broken deployments scenario-a (FailedMount of
/// a misspelt secret), scenario-b (image "wrong-image": pull access denied, ErrImagePull,
/// BackOff) and scenario-c (FailedScheduling, Insufficient cpu), and the control-plane events
/// blog's nginx pods, mega-pod (Insufficient cpu) and intolerable-pod (untolerated taint).
pub fn seeds() -> Scenario {
    const NODE_A: &str = "ip-10-42-179-183.us-west-2.compute.internal";
    const NODE_B: &str = "ip-10-42-104-177.us-west-2.compute.internal";
    const NODE_C: &str = "ip-10-42-190-29.us-west-2.compute.internal";
    let t = "test";
    let pod_a = "scenario-a-7f6b9d8c5-2kx4q";
    let pod_b = "scenario-b-cff56c84-xn9hh";
    let pod_c = "scenario-c-6d988b8d84-gghjv";
    let insufficient_cpu = "0/3 nodes are available: 3 Insufficient cpu. preemption: 0/3 nodes are available: 3 No preemption victims found for incoming pod.";
    let mut steps = Vec::new();
    for (dep, rs, p) in [
        ("scenario-a", "scenario-a-7f6b9d8c5", pod_a),
        ("scenario-b", "scenario-b-cff56c84", pod_b),
        ("scenario-c", "scenario-c-6d988b8d84", pod_c),
    ] {
        steps.push(once(
            0.0,
            None,
            template(
                owner("Deployment", t, dep),
                "Normal",
                "ScalingReplicaSet",
                &format!("Scaled up replica set {rs} to 1"),
                controller("deployment-controller"),
            ),
        ));
        steps.push(once(
            0.1,
            None,
            template(
                owner("ReplicaSet", t, rs),
                "Normal",
                "SuccessfulCreate",
                &format!("Created pod: {p}"),
                controller("replicaset-controller"),
            ),
        ));
    }
    for (p, node) in [(pod_a, NODE_A), (pod_b, NODE_B)] {
        steps.push(once(
            0.2,
            None,
            template(
                pod(t, p, None),
                "Normal",
                "Scheduled",
                &format!("Successfully assigned {t}/{p} to {node}"),
                scheduler("Binding"),
            ),
        ));
    }
    steps.push(once(
        0.2,
        Some("c-scheduling"),
        template(
            pod(t, pod_c, None),
            "Warning",
            "FailedScheduling",
            insufficient_cpu,
            scheduler("Scheduling"),
        ),
    ));
    steps.push(again(60.0, 60.0, "c-scheduling"));
    steps.push(once(
        0.5,
        Some("a-mount"),
        template(
            pod(t, pod_a, None),
            "Warning",
            "FailedMount",
            "MountVolume.SetUp failed for volume \"secret-volume\" : secret \"misspelt-secret-name\" not found",
            kubelet(NODE_A),
        ),
    ));
    steps.push(again(120.0, 120.0, "a-mount"));
    let b = |reason: &str, ty: &str, msg: &str| {
        template(
            pod(t, pod_b, Some("scenario-b")),
            ty,
            reason,
            msg,
            kubelet(NODE_B),
        )
    };
    steps.push(once(
        0.5,
        Some("b-pulling"),
        b("Pulling", "Normal", "Pulling image \"wrong-image\""),
    ));
    steps.push(once(
        1.0,
        Some("b-pull-denied"),
        b(
            "Failed",
            "Warning",
            "Failed to pull image \"wrong-image\": rpc error: code = Unknown desc = failed to pull and unpack image \"docker.io/library/wrong-image:latest\": failed to resolve reference \"docker.io/library/wrong-image:latest\": pull access denied, repository does not exist or may require authorization: server message: insufficient_scope: authorization failed",
        ),
    ));
    steps.push(once(
        1.0,
        Some("b-errimagepull"),
        b("Failed", "Warning", "Error: ErrImagePull"),
    ));
    steps.push(once(
        1.5,
        Some("b-backoff"),
        b(
            "BackOff",
            "Normal",
            "Back-off pulling image \"wrong-image\"",
        ),
    ));
    steps.push(once(
        1.5,
        Some("b-imagepullbackoff"),
        b("Failed", "Warning", "Error: ImagePullBackOff"),
    ));
    for id in ["b-pulling", "b-pull-denied", "b-errimagepull"] {
        steps.push(again(150.0, 150.0, id));
    }
    for id in ["b-backoff", "b-imagepullbackoff"] {
        steps.push(again(20.0, 20.0, id));
    }
    for (start, name, node) in [(2.0, "nginx", NODE_C), (3.0, "nginx98", NODE_A)] {
        let d = "default";
        steps.push(once(
            start,
            None,
            template(
                pod(d, name, None),
                "Normal",
                "Scheduled",
                &format!("Successfully assigned {d}/{name} to {node}"),
                scheduler("Binding"),
            ),
        ));
        for (dt, reason, msg) in [
            (0.1, "Pulling", "Pulling image \"nginx\"".to_owned()),
            (
                0.7,
                "Pulled",
                "Successfully pulled image \"nginx\" in 627.545722ms (627.553403ms including waiting)"
                    .to_owned(),
            ),
            (0.8, "Created", format!("Created container {name}")),
            (0.9, "Started", format!("Started container {name}")),
        ] {
            steps.push(once(
                start + dt,
                None,
                template(pod(d, name, Some(name)), "Normal", reason, &msg, kubelet(node)),
            ));
        }
    }
    steps.push(once(
        5.0,
        None,
        template(
            pod("default", "nginx", Some("nginx")),
            "Normal",
            "Killing",
            "Stopping container nginx",
            kubelet(NODE_C),
        ),
    ));
    steps.push(once(
        6.0,
        Some("mega-pod"),
        template(
            pod("default", "mega-pod", None),
            "Warning",
            "FailedScheduling",
            insufficient_cpu,
            scheduler("Scheduling"),
        ),
    ));
    steps.push(again(66.0, 60.0, "mega-pod"));
    steps.push(once(
        8.0,
        Some("intolerable-pod"),
        template(
            pod("default", "intolerable-pod", None),
            "Warning",
            "FailedScheduling",
            "0/3 nodes are available: 3 node(s) had untolerated taint {key1: value1}. preemption: 0/3 nodes are available: 3 Preemption is not helpful for scheduling.",
            scheduler("Scheduling"),
        ),
    ));
    steps.push(again(68.0, 60.0, "intolerable-pod"));
    steps.push(once(
        600.0,
        None,
        template(
            owner("Deployment", t, "scenario-c"),
            "Normal",
            "ScalingReplicaSet",
            "Scaled down replica set scenario-c-6d988b8d84 to 0 from 1",
            controller("deployment-controller"),
        ),
    ));
    Scenario {
        name: "seeds".into(),
        steps,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::SimClock;
    use crate::resource::Kind;
    use crate::store::{ListAt, StoreConfig};

    #[test]
    fn seeds_replay_and_repeat_on_the_simulated_clock() {
        let store = Arc::new(Store::new(
            StoreConfig::default(),
            Arc::new(SimClock::new(1.0)),
        ));
        let runner = ScenarioRunner::new(store.clone());
        runner.start(seeds());
        store.clock().advance(10.0);
        runner.tick();
        let (events, _) = store.list(Kind::Event, None, ListAt::Latest, None).unwrap();
        let msgs: Vec<String> = events
            .iter()
            .map(|o| str_at(&o.value(), "/message"))
            .collect();
        for needle in [
            "secret \"misspelt-secret-name\" not found",
            "pull access denied",
            "Error: ErrImagePull",
            "0/3 nodes are available: 3 Insufficient cpu.",
            "untolerated taint {key1: value1}",
            "Started container nginx",
            "Scaled up replica set scenario-c-6d988b8d84 to 1",
        ] {
            assert!(msgs.iter().any(|m| m.contains(needle)), "missing {needle}");
        }
        let before = store.counts().resource_version;
        store.clock().advance(61.0);
        assert!(runner.tick() > 0, "repeats are due after a minute");
        assert!(store.counts().resource_version > before);
        let backoff = store
            .list(
                Kind::Event,
                Some("test"),
                ListAt::Latest,
                Some(&|v: &Value| str_at(v, "/reason") == "BackOff"),
            )
            .unwrap()
            .0;
        assert!(backoff[0].value()["count"].as_i64().unwrap() >= 2);
    }

    #[test]
    fn scenario_files_need_create_or_repeat() {
        let s: Scenario = serde_json::from_value(json!({"steps": [{"atSeconds": 1}]})).unwrap();
        assert!(matches!(s.validate(), Err(ScenarioError::BadStep(0))));
    }
}
