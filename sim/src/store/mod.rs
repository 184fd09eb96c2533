//! The object store: one global, increasing resourceVersion shared by every write (like an etcd
//! revision), and the objects themselves. Each other concern has its own module: the watch
//! history and compaction (`history`), TTL expiry through shared leases (`expiry`), the lists
//! behind continue tokens (`snapshots`) and the observation log (`observations`).
//!
//! Everything lives behind one mutex that is never held across an await.

mod expiry;
mod history;
mod object;
mod observations;
mod snapshots;

pub use expiry::MAX_OBJECTS_PER_LEASE;
pub use history::{Fetch, HistoryEntry, Window};
pub use object::{Change, EtcdKey, Filter, Key, Obj, StoredObject, set_meta, str_at};
pub use observations::Observation;

use crate::clock::{SimClock, format_time};
use crate::ids::Rng;
use crate::resource::{Kind, View};
use crate::status::ApiError;
use bytes::Bytes;
use expiry::Leases;
use history::History;
use jiff::SignedDuration;
use object::accepts;
use observations::ObservationLog;
use parking_lot::Mutex;
use serde_json::{Value, json};
use snapshots::{Snapshot, Snapshots};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::watch;

/// Limits and lifetimes of the store.
#[derive(Clone, Debug)]
pub struct StoreConfig {
    /// How far back watches reach: etcd's compaction window, or a watch cache's size.
    pub window: Window,
    /// etcd compaction period (simulated time): a revision stays readable one to two periods.
    pub compaction_interval: SignedDuration,
    /// Events expire this long after their last write (simulated time).
    pub event_ttl: SignedDuration,
    /// Optional extra limit on continue tokens (simulated time); they always end at compaction.
    pub continue_ttl: Option<SignedDuration>,
    /// At most this many paged lists are kept for continue tokens (oldest dropped first).
    pub max_list_snapshots: usize,
    /// At most this many observations are kept (later ones are counted, not stored).
    pub max_observations: usize,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            window: Window::Etcd,
            compaction_interval: SignedDuration::from_mins(5),
            event_ttl: SignedDuration::from_hours(1),
            continue_ttl: None,
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

type Objects = BTreeMap<EtcdKey, Obj>;

struct State {
    rv: u64,
    events: Objects,
    leases: Objects,
    history: History,
    ttl: Leases,
    snapshots: Snapshots,
    observations: ObservationLog,
    rng: Rng,
}

impl State {
    fn map(&self, kind: Kind) -> &Objects {
        match kind {
            Kind::Event => &self.events,
            Kind::Lease => &self.leases,
        }
    }

    fn map_mut(&mut self, kind: Kind) -> &mut Objects {
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
        let now_ms = clock.now().as_millisecond();
        Self {
            state: Mutex::new(State {
                rv: FIRST_RV,
                events: BTreeMap::new(),
                leases: BTreeMap::new(),
                history: History::new(cfg.window, cfg.compaction_interval, FIRST_RV, now_ms),
                ttl: Leases::default(),
                snapshots: Snapshots::default(),
                observations: ObservationLog::new(cfg.max_observations),
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
    /// `obj` must match the stored one (409 otherwise). A resource that does not allow
    /// unconditional updates (Leases) refuses a PUT without `metadata.resourceVersion` with 422,
    /// as `AllowUnconditionalUpdate() == false` does in the API server. Returns the object and
    /// whether it was created (`allow_create`: create-on-update).
    pub fn update(
        &self,
        view: View,
        namespace: &str,
        name: &str,
        obj: Value,
        allow_create: bool,
    ) -> Result<(Obj, bool), ApiError> {
        let unconditional = str_at(&obj, "/metadata/resourceVersion").is_empty();
        self.patch(view, namespace, name, allow_create, |cur| {
            if cur.is_some() && unconditional && !view.allows_unconditional_update() {
                return Err(ApiError::invalid(
                    view.object_kind(),
                    view.resource_name().group,
                    name,
                    "metadata.resourceVersion",
                    "Invalid value: 0x0: must be specified for an update",
                ));
            }
            Ok(obj)
        })
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
        let key = EtcdKey::new(namespace, name);
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
        let key = EtcdKey::new(namespace, name);
        let mut st = self.state.lock();
        let Some(cur) = st.map(view.kind()).get(&key).cloned() else {
            return Err(ApiError::not_found(view.resource_name(), name));
        };
        if precondition_rv.is_some_and(|rv| !rv.is_empty() && rv != cur.rv.to_string())
            || precondition_uid.is_some_and(|u| !u.is_empty() && u != cur.uid)
        {
            return Err(ApiError::conflict(view.resource_name(), name));
        }
        st.rv += 1;
        let rv = st.rv;
        let out = self.remove_at(&mut st, view.kind(), &key, rv);
        drop(st);
        if let Some(o) = &out {
            self.notify.send_replace(o.rv);
        }
        out.ok_or_else(|| ApiError::not_found(view.resource_name(), name))
    }

    /// Deletes every object of `kind` (in `namespace`, if given) that `filter` accepts, one
    /// revision each (the API server deletes a collection object by object).
    pub fn delete_matching(
        &self,
        kind: Kind,
        namespace: Option<&str>,
        filter: Filter<'_>,
    ) -> usize {
        let mut st = self.state.lock();
        let keys: Vec<EtcdKey> = range(st.map(kind), namespace)
            .filter(|o| accepts(filter, o))
            .map(|o| EtcdKey(o.key.clone()))
            .collect();
        let mut last = None;
        for key in &keys {
            st.rv += 1;
            let rv = st.rv;
            last = self
                .remove_at(&mut st, kind, key, rv)
                .map(|o| o.rv)
                .or(last);
        }
        drop(st);
        if let Some(rv) = last {
            self.notify.send_replace(rv);
        }
        keys.len()
    }

    /// Runs what the simulated clock made due: etcd compactions, and the expiry of every lease
    /// whose time has come (all its Events deleted at one revision; watchers see DELETED).
    /// Returns how many Events expired.
    pub fn expire_due(&self) -> usize {
        let now_ms = self.clock.now().as_millisecond();
        let mut st = self.state.lock();
        let current = st.rv;
        st.history.compact_due(now_ms, current);
        let mut n = 0;
        let mut last = None;
        while let Some(keys) = st.ttl.pop_expired(now_ms) {
            let keys: Vec<EtcdKey> = keys
                .into_iter()
                .map(EtcdKey)
                .filter(|k| st.events.contains_key(k))
                .collect();
            if keys.is_empty() {
                continue;
            }
            st.rv += 1;
            let rv = st.rv;
            for key in &keys {
                if self.remove_at(&mut st, Kind::Event, key, rv).is_some() {
                    n += 1;
                }
            }
            last = Some(rv);
        }
        drop(st);
        if let Some(rv) = last {
            self.notify.send_replace(rv);
        }
        n
    }

    /// One object.
    pub fn get(&self, kind: Kind, namespace: &str, name: &str) -> Option<Obj> {
        self.state
            .lock()
            .map(kind)
            .get(&EtcdKey::new(namespace, name))
            .cloned()
    }

    /// The objects of `kind` (in `namespace`, if given) that `filter` accepts, in etcd key order,
    /// at the requested revision, and the revision of the list.
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
                let floor = st.history.list_floor();
                if rv < floor {
                    return Err(ApiError::too_old_resource_version(rv, floor));
                }
                // Undo the changes newer than rv, newest first.
                let mut map: Objects = range(st.map(kind), namespace)
                    .map(|o| (EtcdKey(o.key.clone()), o.clone()))
                    .collect();
                for e in st.history.newer_than(rv) {
                    if e.kind != kind || namespace.is_some_and(|ns| ns != e.obj.key.0) {
                        continue;
                    }
                    match (e.change, &e.prev) {
                        (Change::Added, _) => {
                            map.remove(&EtcdKey(e.obj.key.clone()));
                        }
                        (_, Some(prev)) => {
                            map.insert(EtcdKey(prev.key.clone()), prev.clone());
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
        let mut st = self.state.lock();
        let st = &mut *st;
        let history = &st.history;
        let ttl = self.cfg.continue_ttl;
        st.snapshots
            .retain(|s| snapshot_live(s, history, ttl, now_ms));
        st.snapshots.save(
            Snapshot {
                rv,
                items,
                created_ms: now_ms,
            },
            self.cfg.max_list_snapshots,
        )
    }

    /// The list behind a continue token and its revision; 410 `Expired` once etcd has
    /// compacted its revision (or it is older than the optional continue TTL).
    pub fn list_snapshot(&self, id: u64) -> Result<(Arc<Vec<Obj>>, u64), ApiError> {
        let now_ms = self.clock.now().as_millisecond();
        let st = self.state.lock();
        match st.snapshots.get(id) {
            Some(s) if snapshot_live(s, &st.history, self.cfg.continue_ttl, now_ms) => {
                Ok((s.items.clone(), s.rv))
            }
            _ => Err(ApiError::continue_expired()),
        }
    }

    /// History after `after`, about `max` entries (never ending inside a revision).
    pub fn fetch_after(&self, after: u64, max: usize) -> Fetch {
        let st = self.state.lock();
        st.history.fetch_after(after, max, st.rv)
    }

    /// Counters for the status endpoint.
    pub fn counts(&self) -> Counts {
        let st = self.state.lock();
        Counts {
            resource_version: st.rv,
            live_events: st.events.len(),
            leases: st.leases.len(),
            observations: st.observations.kept(),
            observations_dropped: st.observations.dropped(),
            history: st.history.kept(),
            history_floor: st.history.floor(),
        }
    }

    /// Observations from index `from` on (in revision order).
    pub fn observations(&self, from: usize) -> Vec<Observation> {
        self.state.lock().observations.from(from)
    }

    /// `n` random characters for generated names.
    pub fn random_suffix(&self, n: usize) -> String {
        self.state.lock().rng.name_suffix(n)
    }

    /// A random number in `0..n`.
    pub fn random_below(&self, n: usize) -> usize {
        self.state.lock().rng.below(n)
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
        let key = EtcdKey::new(namespace, &name);
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
        key: EtcdKey,
        mut value: Value,
        change: Change,
        prev: Option<Obj>,
    ) -> Obj {
        st.rv += 1;
        let rv = st.rv;
        set_meta(&mut value, "resourceVersion", json!(rv.to_string()));
        if let Some(lease) = prev.as_ref().and_then(|p| p.lease) {
            st.ttl.detach(lease, &key.0);
        }
        let lease = (kind == Kind::Event).then(|| {
            st.ttl.attach(
                &key.0,
                self.clock.now().as_millisecond(),
                self.cfg.event_ttl.as_millis() as i64,
            )
        });
        let json = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        if kind == Kind::Event {
            st.observations.record(&key.0, rv, &value, change);
        }
        let obj = Arc::new(StoredObject {
            key: key.0.clone(),
            rv,
            uid: str_at(&value, "/metadata/uid"),
            json,
            lease,
        });
        st.map_mut(kind).insert(key, obj.clone());
        self.push_history(st, kind, change, obj.clone(), prev);
        obj
    }

    /// Removes `key` as part of the write at revision `rv` (already taken).
    fn remove_at(&self, st: &mut State, kind: Kind, key: &EtcdKey, rv: u64) -> Option<Obj> {
        let cur = st.map_mut(kind).remove(key)?;
        if let Some(lease) = cur.lease {
            st.ttl.detach(lease, &key.0);
        }
        let mut value = cur.value();
        set_meta(&mut value, "resourceVersion", json!(rv.to_string()));
        let json = Bytes::from(serde_json::to_vec(&value).unwrap_or_default());
        let gone = Arc::new(StoredObject {
            key: key.0.clone(),
            rv,
            uid: cur.uid.clone(),
            json,
            lease: None,
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
        st.history.push(HistoryEntry {
            rv: obj.rv,
            kind,
            change,
            obj,
            prev,
        });
    }
}

fn snapshot_live(
    s: &Snapshot,
    history: &History,
    ttl: Option<SignedDuration>,
    now_ms: i64,
) -> bool {
    !history.is_compacted(s.rv) && ttl.is_none_or(|t| s.created_ms + t.as_millis() as i64 > now_ms)
}

fn range<'a>(
    map: &'a Objects,
    namespace: Option<&'a str>,
) -> Box<dyn Iterator<Item = &'a Obj> + 'a> {
    match namespace {
        None => Box::new(map.values()),
        // Every `ns/…` key follows `ns/` and they are contiguous: `ns/` is their common prefix.
        Some(ns) => Box::new(
            map.range(EtcdKey::new(ns, "")..)
                .take_while(move |(k, _)| k.0.0 == ns)
                .map(|(_, v)| v),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(window: Window) -> Store {
        Store::new(
            StoreConfig {
                window,
                ..StoreConfig::default()
            },
            Arc::new(SimClock::new(1.0)),
        )
    }

    /// A store holding `count` Events `e0`, `e1`, ... in namespace `ns`.
    fn store_with_events(window: Window, count: usize) -> Store {
        let s = store(window);
        for i in 0..count {
            s.create(View::CoreEvents, "ns", event(&format!("e{i}")))
                .unwrap();
        }
        s
    }

    fn event(name: &str) -> Value {
        json!({"metadata": {"name": name}, "reason": "Started", "type": "Normal",
               "involvedObject": {"kind": "Pod", "name": name}})
    }

    fn lease(name: &str) -> Value {
        json!({"metadata": {"name": name}})
    }

    #[test]
    fn revisions_are_global_and_increasing() {
        let s = store(Window::Etcd);
        let a = s.create(View::CoreEvents, "ns", event("a")).unwrap();
        let l = s.create(View::Leases, "ns", lease("l")).unwrap();
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
        let s = store(Window::Etcd);
        let l = s.create(View::Leases, "ns", lease("l")).unwrap();
        let mut v = l.value();
        v["spec"] = json!({"holderIdentity": "a"});
        s.update(View::Leases, "ns", "l", v.clone(), true).unwrap();
        let err = s.update(View::Leases, "ns", "l", v, true).unwrap_err();
        assert_eq!(err.code, 409);
        assert_eq!(err.reason, "Conflict");
        let err = s
            .update(View::Leases, "ns", "missing", json!({}), false)
            .unwrap_err();
        assert_eq!(err.code, 404);
    }

    #[test]
    fn lease_updates_need_a_resource_version_but_creates_do_not() {
        let s = store(Window::Etcd);
        let (_, created) = s.update(View::Leases, "ns", "l", lease("l"), true).unwrap();
        assert!(created, "a PUT to a missing Lease creates it");
        let err = s
            .update(View::Leases, "ns", "l", lease("l"), true)
            .unwrap_err();
        assert_eq!((err.code, err.reason), (422, "Invalid"));
        assert!(err.message.contains("metadata.resourceVersion"), "{err}");
        let e = s.create(View::CoreEvents, "ns", event("e")).unwrap();
        let mut v = e.value();
        v["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("resourceVersion");
        s.update(View::CoreEvents, "ns", "e", v, true)
            .expect("Events allow unconditional updates");
    }

    #[test]
    fn exact_lists_are_rebuilt_from_history() {
        let s = store(Window::Etcd);
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
    fn lists_come_in_etcd_key_order() {
        let s = store(Window::Etcd);
        for ns in ["kube", "kubea", "kube-system", "kube-public"] {
            s.create(View::CoreEvents, ns, event("x")).unwrap();
        }
        let (items, _) = s.list(Kind::Event, None, ListAt::Latest, None).unwrap();
        let order: Vec<&str> = items.iter().map(|o| o.key.0.as_str()).collect();
        assert_eq!(order, ["kube-public", "kube-system", "kube", "kubea"]);
        let (kube, _) = s
            .list(Kind::Event, Some("kube"), ListAt::Latest, None)
            .unwrap();
        assert_eq!(kube.len(), 1);
    }

    #[test]
    fn a_watch_cache_window_is_counted_in_changes() {
        let s = store_with_events(Window::WatchCache(3), 10);
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
    fn etcd_keeps_a_revision_until_the_second_compaction_after_it() {
        let s = store_with_events(Window::Etcd, 10_000);
        let rv = s.current_rv();
        assert!(matches!(s.fetch_after(2, 100), Fetch::Entries { .. }));
        s.clock().advance(301.0);
        s.expire_due();
        s.create(View::CoreEvents, "ns", event("later")).unwrap();
        assert!(
            matches!(s.fetch_after(rv, 100), Fetch::Entries { .. }),
            "one compaction keeps what the previous tick saw"
        );
        s.clock().advance(300.0);
        s.expire_due();
        assert!(matches!(s.fetch_after(rv - 2, 100), Fetch::TooOld { .. }));
        assert!(matches!(s.fetch_after(rv - 1, 100), Fetch::Entries { .. }));
    }

    #[test]
    fn events_expire_in_lease_batches_at_one_revision() {
        let s = store(Window::Etcd);
        s.create(View::CoreEvents, "ns", event("a")).unwrap();
        s.clock().advance(30.0);
        s.create(View::CoreEvents, "ns", event("b")).unwrap();
        s.clock().advance(31.0);
        s.create(View::CoreEvents, "ns", event("c")).unwrap();
        let before = s.current_rv();
        s.clock().advance(3598.0 - 61.0);
        assert_eq!(s.expire_due(), 0, "nothing before the TTL");
        s.clock().advance(61.0);
        assert_eq!(s.expire_due(), 0, "a lease lives TTL + 60 s");
        s.clock().advance(1.0);
        assert_eq!(s.expire_due(), 2, "a and b shared a lease");
        assert_eq!(s.current_rv(), before + 1, "one revision for the batch");
        match s.fetch_after(before, 100) {
            Fetch::Entries { entries, .. } => {
                assert_eq!(entries.len(), 2);
                assert!(entries.iter().all(|e| e.rv == before + 1));
            }
            Fetch::TooOld { .. } => panic!("inside the window"),
        }
        s.clock().advance(61.0);
        assert_eq!(s.expire_due(), 1);
        let obs = s.observations(0);
        assert_eq!(obs.len(), 3, "a deletion is not an observation");
    }

    #[test]
    fn a_fetch_never_ends_inside_a_revision() {
        let s = store_with_events(Window::Etcd, 5);
        let before = s.current_rv();
        s.clock().advance(3661.0);
        assert_eq!(s.expire_due(), 5);
        match s.fetch_after(before, 2) {
            Fetch::Entries { entries, .. } => assert_eq!(entries.len(), 5),
            Fetch::TooOld { .. } => panic!("inside the window"),
        }
    }

    #[test]
    fn an_update_refreshes_the_ttl() {
        let s = store(Window::Etcd);
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
    fn continue_snapshots_end_when_their_revision_is_compacted() {
        let s = store(Window::Etcd);
        s.create(View::CoreEvents, "ns", event("a")).unwrap();
        let id = s.save_list_snapshot(s.current_rv(), Arc::new(Vec::new()));
        s.create(View::CoreEvents, "ns", event("b")).unwrap();
        s.clock().advance(301.0);
        s.expire_due();
        assert!(s.list_snapshot(id).is_ok(), "the first compaction keeps it");
        s.clock().advance(300.0);
        s.expire_due();
        assert_eq!(s.list_snapshot(id).unwrap_err().code, 410);
    }
}
