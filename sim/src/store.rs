//! The object store: one global, increasing resourceVersion shared by every write (like an etcd
//! revision), a bounded history window for watches and point-in-time lists, TTL expiry of Events,
//! list snapshots behind continue tokens, and the observation log.
//!
//! Everything lives behind one mutex that is never held across an await.

use crate::clock::{SimClock, format_time};
use crate::ids::Rng;
use crate::resource::{Kind, View};
use crate::status::ApiError;
use bytes::Bytes;
use jiff::SignedDuration;
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

/// `(namespace, name)`, ordered like etcd keys.
pub type Key = (String, String);

/// One stored version of an object, serialised once.
#[derive(Debug)]
pub struct StoredObject {
    /// Where it is stored.
    pub key: Key,
    /// Its resourceVersion.
    pub rv: u64,
    /// metadata.uid.
    pub uid: String,
    /// The object (stored form: core/v1 for Events) as compact JSON. Only the bytes are kept:
    /// a parsed `Value` costs several times more memory, and watches and plain lists never
    /// need one.
    pub json: Bytes,
    /// When it expires (Events only), simulated milliseconds since the epoch.
    pub expires_at_ms: Option<i64>,
}

impl StoredObject {
    /// The object, parsed.
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

/// An optional filter on stored objects (None accepts everything without parsing).
pub type Filter<'a> = Option<&'a dyn Fn(&Value) -> bool>;

fn accepts(filter: Filter<'_>, o: &StoredObject) -> bool {
    filter.is_none_or(|f| f(&o.value()))
}

/// Shared handle to one stored version.
pub type Obj = Arc<StoredObject>;

/// What happened to an object.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Change {
    /// Created.
    Added,
    /// Updated.
    Modified,
    /// Deleted or expired.
    Deleted,
}

impl Change {
    /// The watch event type.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "ADDED",
            Change::Modified => "MODIFIED",
            Change::Deleted => "DELETED",
        }
    }
}

/// One entry of the watch history.
#[derive(Debug)]
pub struct HistoryEntry {
    /// The revision of this change.
    pub rv: u64,
    /// Which collection changed.
    pub kind: Kind,
    /// What happened.
    pub change: Change,
    /// The object after the change (for deletes, the last state with the deletion's RV).
    pub obj: Obj,
    /// The object before the change (modifications and deletes).
    pub prev: Option<Obj>,
}

/// One Event observation (every ADDED and MODIFIED), as `/_sim/observations` prints it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Observation {
    /// metadata.uid.
    pub uid: String,
    /// metadata.resourceVersion.
    pub resource_version: String,
    /// ADDED or MODIFIED.
    #[serde(rename = "type")]
    pub change: Change,
    /// metadata.namespace.
    pub namespace: String,
    /// reason.
    pub reason: String,
    /// type (Normal / Warning).
    pub event_type: String,
    /// involvedObject.kind.
    pub kind: String,
}

/// Limits and lifetimes of the store.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// How many changes the watch history keeps.
    pub history_size: usize,
    /// Events expire this long after their last write (simulated time).
    pub event_ttl: SignedDuration,
    /// Continue tokens expire this long after the first page (simulated time).
    pub continue_ttl: SignedDuration,
    /// At most this many paged lists are kept for continue tokens (oldest dropped first).
    pub max_list_snapshots: usize,
    /// At most this many observations are kept (later ones are counted, not stored).
    pub max_observations: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            history_size: 10_000,
            event_ttl: SignedDuration::from_hours(1),
            continue_ttl: SignedDuration::from_mins(5),
            max_list_snapshots: 256,
            max_observations: 2_000_000,
        }
    }
}

/// Which state a list reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ListAt {
    /// The newest state.
    Latest,
    /// Exactly this revision (reconstructed from the history window).
    Exact(u64),
}

/// Result of asking for watch history after a revision.
#[derive(Debug)]
pub enum Fetch {
    /// The revision is older than the window: the watcher must relist.
    TooOld {
        /// The oldest revision a watch can still start from.
        oldest: u64,
    },
    /// Changes after the revision (maybe none), and the current revision.
    Entries {
        /// Changes in revision order.
        entries: Vec<Arc<HistoryEntry>>,
        /// The store's revision when they were read.
        current: u64,
    },
}

/// Counters for `/_sim/status`.
#[derive(Clone, Copy, Debug, Default)]
pub struct Counts {
    /// Current resourceVersion.
    pub resource_version: u64,
    /// Events currently stored.
    pub live_events: usize,
    /// Leases currently stored.
    pub leases: usize,
    /// Observations stored.
    pub observations: usize,
    /// Observations not stored because of the limit.
    pub observations_dropped: u64,
    /// Changes in the watch history.
    pub history: usize,
    /// Oldest revision a watch can start from.
    pub history_floor: u64,
}

struct Snapshot {
    rv: u64,
    items: Arc<Vec<Obj>>,
    created_ms: i64,
}

struct State {
    rv: u64,
    events: BTreeMap<Key, Obj>,
    leases: BTreeMap<Key, Obj>,
    history: VecDeque<Arc<HistoryEntry>>,
    history_floor: u64,
    /// (expiry in ms, resourceVersion) → key; integer keys keep the index cheap.
    expiry: BTreeMap<(i64, u64), Key>,
    snapshots: BTreeMap<u64, Snapshot>,
    next_snapshot: u64,
    observations: Vec<Observation>,
    observations_dropped: u64,
    rng: Rng,
}

impl State {
    fn map(&self, kind: Kind) -> &BTreeMap<Key, Obj> {
        match kind {
            Kind::Event => &self.events,
            Kind::Lease => &self.leases,
        }
    }

    fn map_mut(&mut self, kind: Kind) -> &mut BTreeMap<Key, Obj> {
        match kind {
            Kind::Event => &mut self.events,
            Kind::Lease => &mut self.leases,
        }
    }
}

/// The store. Cheap to share behind an `Arc`.
pub struct Store {
    state: Mutex<State>,
    notify: watch::Sender<u64>,
    clock: Arc<SimClock>,
    cfg: StoreConfig,
    writes: AtomicU64,
}

const FIRST_RV: u64 = 1;

impl Store {
    /// An empty store.
    pub fn new(cfg: StoreConfig, clock: Arc<SimClock>) -> Self {
        let (notify, _) = watch::channel(FIRST_RV);
        Self {
            state: Mutex::new(State {
                rv: FIRST_RV,
                events: BTreeMap::new(),
                leases: BTreeMap::new(),
                history: VecDeque::new(),
                history_floor: FIRST_RV,
                expiry: BTreeMap::new(),
                snapshots: BTreeMap::new(),
                next_snapshot: 1,
                observations: Vec::new(),
                observations_dropped: 0,
                rng: Rng::fresh(),
            }),
            notify,
            clock,
            cfg,
            writes: AtomicU64::new(0),
        }
    }

    /// The simulated clock the store uses for timestamps and expiry.
    pub fn clock(&self) -> &Arc<SimClock> {
        &self.clock
    }

    /// The configuration.
    pub fn config(&self) -> &StoreConfig {
        &self.cfg
    }

    /// Notified with the new revision after every write.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.notify.subscribe()
    }

    /// The newest revision.
    pub fn current_rv(&self) -> u64 {
        self.state.lock().rv
    }

    /// Number of writes so far.
    pub fn writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Creates an object; `obj` is already defaulted and validated. Fills uid, creationTimestamp,
    /// resourceVersion (and a generated name when only `generateName` is set).
    pub fn create(&self, view: View, namespace: &str, obj: Value) -> Result<Obj, ApiError> {
        let mut st = self.state.lock();
        let out = self.insert_new(&mut st, view, namespace, obj)?;
        drop(st);
        self.notify.send_replace(out.rv);
        Ok(out)
    }

    /// Replaces an object (PUT). A non-empty `metadata.resourceVersion` or `metadata.uid` in
    /// `obj` must match the stored one (409 otherwise). Returns the object and whether it was
    /// created (`allow_create`: Events allow create-on-update, Leases do not).
    pub fn update(
        &self,
        view: View,
        namespace: &str,
        name: &str,
        obj: Value,
        allow_create: bool,
    ) -> Result<(Obj, bool), ApiError> {
        self.patch(view, namespace, name, allow_create, |_| Ok(obj))
    }

    /// Read-modify-write: `apply` gets the current stored object (None if absent) and returns the
    /// new stored object. Preconditions are checked as for `update`.
    pub fn patch(
        &self,
        view: View,
        namespace: &str,
        name: &str,
        allow_create: bool,
        apply: impl FnOnce(Option<&Value>) -> Result<Value, ApiError>,
    ) -> Result<(Obj, bool), ApiError> {
        let kind = view.kind();
        let key: Key = (namespace.to_owned(), name.to_owned());
        let mut st = self.state.lock();
        let current = st.map(kind).get(&key).cloned();
        let current_value = current.as_ref().map(|o| o.value());
        let new = apply(current_value.as_ref())?;
        let body_name = str_at(&new, "/metadata/name");
        if !body_name.is_empty() && body_name != name {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({body_name}) does not match the name on the URL ({name})"
            )));
        }
        let (out, created) = match current {
            None if allow_create => {
                let mut new = new;
                set_meta(&mut new, "name", json!(name));
                if let Some(m) = new.get_mut("metadata").and_then(Value::as_object_mut) {
                    m.remove("resourceVersion");
                }
                (self.insert_new(&mut st, view, namespace, new)?, true)
            }
            None => return Err(ApiError::not_found(view.resource_name(), name)),
            Some(cur) => {
                let rv = str_at(&new, "/metadata/resourceVersion");
                let uid = str_at(&new, "/metadata/uid");
                let cur_uid = cur.uid.clone();
                if (!rv.is_empty() && rv != cur.rv.to_string())
                    || (!uid.is_empty() && uid != cur_uid)
                {
                    return Err(ApiError::conflict(view.resource_name(), name));
                }
                let mut new = new;
                set_meta(&mut new, "name", json!(name));
                set_meta(&mut new, "namespace", json!(namespace));
                set_meta(&mut new, "uid", json!(cur_uid));
                let created_ts = current_value
                    .as_ref()
                    .and_then(|v| v.pointer("/metadata/creationTimestamp"))
                    .cloned()
                    .unwrap_or(Value::Null);
                set_meta(&mut new, "creationTimestamp", created_ts);
                (
                    self.commit(&mut st, kind, key, new, Change::Modified, Some(cur)),
                    false,
                )
            }
        };
        drop(st);
        self.notify.send_replace(out.rv);
        Ok((out, created))
    }

    /// Deletes an object; optional preconditions on resourceVersion and uid (409 on mismatch).
    pub fn delete(
        &self,
        view: View,
        namespace: &str,
        name: &str,
        precondition_rv: Option<&str>,
        precondition_uid: Option<&str>,
    ) -> Result<Obj, ApiError> {
        let key: Key = (namespace.to_owned(), name.to_owned());
        let mut st = self.state.lock();
        let Some(cur) = st.map(view.kind()).get(&key).cloned() else {
            return Err(ApiError::not_found(view.resource_name(), name));
        };
        if precondition_rv.is_some_and(|rv| !rv.is_empty() && rv != cur.rv.to_string())
            || precondition_uid.is_some_and(|u| !u.is_empty() && u != cur.uid)
        {
            return Err(ApiError::conflict(view.resource_name(), name));
        }
        let out = self.remove(&mut st, view.kind(), &key);
        drop(st);
        if let Some(o) = &out {
            self.notify.send_replace(o.rv);
        }
        out.ok_or_else(|| ApiError::not_found(view.resource_name(), name))
    }

    /// Deletes every object of `kind` (in `namespace`, if given) that `filter` accepts.
    pub fn delete_matching(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        filter: Filter<'_>,
    ) -> usize {
        let mut st = self.state.lock();
        let keys: Vec<Key> = range(st.map(kind), namespace)
            .filter(|o| accepts(filter, o))
            .map(|o| o.key.clone())
            .collect();
        let mut last = None;
        for key in &keys {
            last = self.remove(&mut st, kind, key).map(|o| o.rv).or(last);
        }
        drop(st);
        if let Some(rv) = last {
            self.notify.send_replace(rv);
        }
        keys.len()
    }

    /// Deletes every Event whose TTL has passed; watchers see DELETED. Returns how many expired.
    pub fn expire_due(&self) -> usize {
        let now_ms = self.clock.now().as_millisecond();
        let mut st = self.state.lock();
        let mut n = 0;
        let mut last = None;
        while let Some((&(at, _), _)) = st.expiry.first_key_value() {
            if at > now_ms {
                break;
            }
            let Some((_, key)) = st.expiry.pop_first() else {
                break;
            };
            if let Some(o) = self.remove(&mut st, Kind::Event, &key) {
                last = Some(o.rv);
                n += 1;
            }
        }
        drop(st);
        if let Some(rv) = last {
            self.notify.send_replace(rv);
        }
        n
    }

    /// One object.
    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Obj> {
        let key: Key = (namespace.to_owned(), name.to_owned());
        self.state.lock().map(kind).get(&key).cloned()
    }

    /// The objects of `kind` (in `namespace`, if given) that `filter` accepts, in key order, at the
    /// requested revision, and the revision of the list.
    pub fn list(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        at: ListAt,
        filter: Filter<'_>,
    ) -> Result<(Vec<Obj>, u64), ApiError> {
        let st = self.state.lock();
        match at {
            ListAt::Exact(rv) if rv != st.rv => {
                if rv > st.rv {
                    return Err(ApiError::too_large_resource_version(rv, st.rv));
                }
                if rv < st.history_floor {
                    return Err(ApiError::too_old_resource_version(rv, st.history_floor));
                }
                // Undo the changes newer than rv, newest first.
                let mut map: BTreeMap<Key, Obj> = range(st.map(kind), namespace)
                    .map(|o| (o.key.clone(), o.clone()))
                    .collect();
                for e in st.history.iter().rev().take_while(|e| e.rv > rv) {
                    if e.kind != kind || namespace.is_some_and(|ns| ns != e.obj.key.0) {
                        continue;
                    }
                    match (e.change, &e.prev) {
                        (Change::Added, _) => {
                            map.remove(&e.obj.key);
                        }
                        (_, Some(prev)) => {
                            map.insert(prev.key.clone(), prev.clone());
                        }
                        (_, None) => {}
                    }
                }
                let items = map.into_values().filter(|o| accepts(filter, o)).collect();
                Ok((items, rv))
            }
            _ => {
                let items = range(st.map(kind), namespace)
                    .filter(|o| accepts(filter, o))
                    .cloned()
                    .collect();
                Ok((items, st.rv))
            }
        }
    }

    /// Keeps the rest of a paged list for its continue tokens; returns the snapshot id.
    pub fn save_list_snapshot(&self, rv: u64, items: Arc<Vec<Obj>>) -> u64 {
        let now_ms = self.clock.now().as_millisecond();
        let ttl_ms = self.cfg.continue_ttl.as_millis() as i64;
        let mut st = self.state.lock();
        st.snapshots.retain(|_, s| s.created_ms + ttl_ms > now_ms);
        while st.snapshots.len() >= self.cfg.max_list_snapshots.max(1) {
            st.snapshots.pop_first();
        }
        let id = st.next_snapshot;
        st.next_snapshot += 1;
        st.snapshots.insert(
            id,
            Snapshot {
                rv,
                items,
                created_ms: now_ms,
            },
        );
        id
    }

    /// The list behind a continue token and its revision; 410 `Expired` once it is too old.
    pub fn list_snapshot(&self, id: u64) -> Result<(Arc<Vec<Obj>>, u64), ApiError> {
        let now_ms = self.clock.now().as_millisecond();
        let ttl_ms = self.cfg.continue_ttl.as_millis() as i64;
        let mut st = self.state.lock();
        match st.snapshots.get(&id) {
            Some(s) if s.created_ms + ttl_ms > now_ms => Ok((s.items.clone(), s.rv)),
            Some(_) => {
                st.snapshots.remove(&id);
                Err(ApiError::continue_expired())
            }
            None => Err(ApiError::continue_expired()),
        }
    }

    /// History after `after`, at most `max` entries.
    pub fn fetch_after(&self, after: u64, max: usize) -> Fetch {
        let st = self.state.lock();
        if after < st.history_floor {
            return Fetch::TooOld {
                oldest: st.history_floor,
            };
        }
        let start = st.history.partition_point(|e| e.rv <= after);
        let entries = st.history.range(start..).take(max).cloned().collect();
        Fetch::Entries {
            entries,
            current: st.rv,
        }
    }

    /// Counters for the status endpoint.
    pub fn counts(&self) -> Counts {
        let st = self.state.lock();
        Counts {
            resource_version: st.rv,
            live_events: st.events.len(),
            leases: st.leases.len(),
            observations: st.observations.len(),
            observations_dropped: st.observations_dropped,
            history: st.history.len(),
            history_floor: st.history_floor,
        }
    }

    /// Observations from index `from` on (in revision order).
    pub fn observations(&self, from: usize) -> Vec<Observation> {
        let st = self.state.lock();
        st.observations.get(from..).unwrap_or_default().to_vec()
    }

    /// `n` random characters for generated names.
    pub fn random_suffix(&self, n: usize) -> String {
        self.state.lock().rng.name_suffix(n)
    }

    fn insert_new(
        &self,
        st: &mut State,
        view: View,
        namespace: &str,
        mut obj: Value,
    ) -> Result<Obj, ApiError> {
        let kind = view.kind();
        let mut name = str_at(&obj, "/metadata/name");
        if name.is_empty() {
            let prefix = str_at(&obj, "/metadata/generateName");
            if prefix.is_empty() {
                return Err(ApiError::invalid(
                    view.object_kind(),
                    view.resource_name().group,
                    "",
                    "metadata.name",
                    "Required value: name or generateName is required",
                ));
            }
            name = format!("{prefix}{}", st.rng.name_suffix(5));
            set_meta(&mut obj, "name", json!(name));
        }
        let key: Key = (namespace.to_owned(), name.clone());
        if st.map(kind).contains_key(&key) {
            return Err(ApiError::already_exists(view.resource_name(), &name));
        }
        let uid = st.rng.uuid();
        set_meta(&mut obj, "namespace", json!(namespace));
        set_meta(&mut obj, "uid", json!(uid));
        if str_at(&obj, "/metadata/creationTimestamp").is_empty() {
            set_meta(
                &mut obj,
                "creationTimestamp",
                json!(format_time(self.clock.now())),
            );
        }
        Ok(self.commit(st, kind, key, obj, Change::Added, None))
    }

    fn commit(
        &self,
        st: &mut State,
        kind: Kind,
        key: Key,
        mut value: Value,
        change: Change,
        prev: Option<Obj>,
    ) -> Obj {
        st.rv += 1;
        let rv = st.rv;
        set_meta(&mut value, "resourceVersion", json!(rv.to_string()));
        let expires_at_ms = (kind == Kind::Event)
            .then(|| self.clock.now().as_millisecond() + self.cfg.event_ttl.as_millis() as i64);
        if let Some(p) = &prev
            && let Some(at) = p.expires_at_ms
        {
            st.expiry.remove(&(at, p.rv));
        }
        if let Some(at) = expires_at_ms {
            st.expiry.insert((at, rv), key.clone());
        }
        let json = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        if kind == Kind::Event {
            self.observe(st, &key, rv, &value, change);
        }
        let obj = Arc::new(StoredObject {
            key: key.clone(),
            rv,
            uid: str_at(&value, "/metadata/uid"),
            json,
            expires_at_ms,
        });
        st.map_mut(kind).insert(key, obj.clone());
        self.push_history(st, kind, change, obj.clone(), prev);
        obj
    }

    fn remove(&self, st: &mut State, kind: Kind, key: &Key) -> Option<Obj> {
        let cur = st.map_mut(kind).remove(key)?;
        if let Some(at) = cur.expires_at_ms {
            st.expiry.remove(&(at, cur.rv));
        }
        st.rv += 1;
        let rv = st.rv;
        let mut value = cur.value();
        set_meta(&mut value, "resourceVersion", json!(rv.to_string()));
        let json = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        let gone = Arc::new(StoredObject {
            key: key.clone(),
            rv,
            uid: cur.uid.clone(),
            json,
            expires_at_ms: None,
        });
        self.push_history(st, kind, Change::Deleted, gone.clone(), Some(cur));
        Some(gone)
    }

    fn push_history(
        &self,
        st: &mut State,
        kind: Kind,
        change: Change,
        obj: Obj,
        prev: Option<Obj>,
    ) {
        self.writes.fetch_add(1, Ordering::Relaxed);
        st.history.push_back(Arc::new(HistoryEntry {
            rv: obj.rv,
            kind,
            change,
            obj,
            prev,
        }));
        while st.history.len() > self.cfg.history_size.max(1) {
            if let Some(old) = st.history.pop_front() {
                st.history_floor = old.rv;
            }
        }
    }

    fn observe(&self, st: &mut State, key: &Key, rv: u64, v: &Value, change: Change) {
        if st.observations.len() >= self.cfg.max_observations {
            st.observations_dropped += 1;
            return;
        }
        st.observations.push(Observation {
            uid: str_at(v, "/metadata/uid"),
            resource_version: rv.to_string(),
            change,
            namespace: key.0.clone(),
            reason: str_at(v, "/reason"),
            event_type: str_at(v, "/type"),
            kind: str_at(v, "/involvedObject/kind"),
        });
    }
}

fn range<'a>(
    map: &'a BTreeMap<Key, Obj>,
    namespace: Option<&'a str>,
) -> Box<dyn Iterator<Item = &'a Obj> + 'a> {
    match namespace {
        None => Box::new(map.values()),
        Some(ns) => Box::new(
            map.range((ns.to_owned(), String::new())..)
                .take_while(move |(k, _)| k.0 == ns)
                .map(|(_, v)| v),
        ),
    }
}

/// The string at a JSON pointer, "" when absent or not a string.
pub fn str_at(v: &Value, pointer: &str) -> String {
    v.pointer(pointer)
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned()
}

/// Sets `metadata.<field>`, creating `metadata` when needed.
pub fn set_meta(obj: &mut Value, field: &str, value: Value) {
    if let Some(map) = obj.as_object_mut() {
        let meta = map.entry("metadata").or_insert_with(|| json!({}));
        if !meta.is_object() {
            *meta = json!({});
        }
        if let Some(m) = meta.as_object_mut() {
            m.insert(field.to_owned(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(history: usize) -> Store {
        Store::new(
            StoreConfig {
                history_size: history,
                ..StoreConfig::default()
            },
            Arc::new(SimClock::new(1.0)),
        )
    }

    fn event(name: &str) -> Value {
        json!({"metadata": {"name": name}, "reason": "Started", "type": "Normal",
               "involvedObject": {"kind": "Pod", "name": name}})
    }

    #[test]
    fn revisions_are_global_and_increasing() {
        let s = store(100);
        let a = s.create(View::CoreEvents, "ns", event("a")).unwrap();
        let l = s
            .create(View::Leases, "ns", json!({"metadata": {"name": "l"}}))
            .unwrap();
        let b = s.create(View::CoreEvents, "ns", event("b")).unwrap();
        assert!(a.rv < l.rv && l.rv < b.rv);
        assert_eq!(s.current_rv(), b.rv);
        assert_eq!(
            str_at(&b.value(), "/metadata/resourceVersion"),
            b.rv.to_string()
        );
    }

    #[test]
    fn stale_resource_version_conflicts() {
        let s = store(100);
        let l = s
            .create(View::Leases, "ns", json!({"metadata": {"name": "l"}}))
            .unwrap();
        let mut v = l.value();
        v["spec"] = json!({"holderIdentity": "a"});
        s.update(View::Leases, "ns", "l", v.clone(), false).unwrap();
        let err = s.update(View::Leases, "ns", "l", v, false).unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(err.reason, "Conflict");
        let err = s
            .update(View::Leases, "ns", "missing", json!({}), false)
            .unwrap_err();
        assert_eq!(err.code, 404);
    }

    #[test]
    fn exact_lists_are_rebuilt_from_history() {
        let s = store(100);
        s.create(View::CoreEvents, "ns", event("a")).unwrap();
        let rv = s.current_rv();
        s.create(View::CoreEvents, "ns", event("b")).unwrap();
        s.delete(View::CoreEvents, "ns", "a", None, None).unwrap();
        let (now, _) = s.list(Kind::Event, None, ListAt::Latest, None).unwrap();
        assert_eq!(now.len(), 1);
        let (then, at) = s
            .list(Kind::Event, Some("ns"), ListAt::Exact(rv), None)
            .unwrap();
        assert_eq!(at, rv);
        assert_eq!(then.len(), 1);
        assert_eq!(then[0].key.1, "a");
    }

    #[test]
    fn history_window_is_bounded() {
        let s = store(3);
        for i in 0..10 {
            s.create(View::CoreEvents, "ns", event(&format!("e{i}")))
                .unwrap();
        }
        assert!(matches!(s.fetch_after(1, 100), Fetch::TooOld { .. }));
        let cur = s.current_rv();
        match s.fetch_after(cur - 2, 100) {
            Fetch::Entries { entries, current } => {
                assert_eq!(entries.len(), 2);
                assert_eq!(current, cur);
            }
            Fetch::TooOld { .. } => panic!("inside the window"),
        }
        assert_eq!(s.counts().history, 3);
    }

    #[test]
    fn events_expire_after_their_ttl() {
        let s = store(100);
        s.create(View::CoreEvents, "ns", event("a")).unwrap();
        assert_eq!(s.expire_due(), 0);
        s.clock().advance(3599.0);
        assert_eq!(s.expire_due(), 0);
        s.clock().advance(2.0);
        assert_eq!(s.expire_due(), 1);
        assert_eq!(s.counts().live_events, 0);
        let obs = s.observations(0);
        assert_eq!(obs.len(), 1, "a deletion is not an observation");
    }

    #[test]
    fn an_update_refreshes_the_ttl() {
        let s = store(100);
        let a = s.create(View::CoreEvents, "ns", event("a")).unwrap();
        s.clock().advance(3000.0);
        s.update(View::CoreEvents, "ns", "a", a.value(), true)
            .unwrap();
        s.clock().advance(3000.0);
        assert_eq!(s.expire_due(), 0);
        s.clock().advance(700.0);
        assert_eq!(s.expire_due(), 1);
    }

    #[test]
    fn continue_snapshots_expire() {
        let s = store(100);
        let id = s.save_list_snapshot(5, Arc::new(Vec::new()));
        assert!(s.list_snapshot(id).is_ok());
        s.clock().advance(301.0);
        assert_eq!(s.list_snapshot(id).unwrap_err().code, 410);
    }
}
