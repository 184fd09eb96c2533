//! Watch streams: chunked JSON lines from a resourceVersion, with timeouts, the history window
//! (410 `Expired` ERROR event when the start is too old) and selector semantics (an object that
//! stops matching is seen as DELETED, one that starts matching as ADDED).
//!
//! Event watches are served the way kube-apiserver serves them without a watch cache, by the
//! etcd3 watcher (`staging/src/k8s.io/apiserver/pkg/storage/etcd3/watcher.go`): no periodic
//! BOOKMARKs, and initial events only as `areInitialEventsRequired` says. With a watch cache
//! (and always for Leases, which kube-apiserver caches) BOOKMARKs come every bookmark interval.

use crate::faults::Faults;
use crate::resource::{Kind, View};
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{Change, Fetch, HistoryEntry, ListAt, Store, StoredObject, Window};
use crate::table::{self, TableRequest};
use bytes::Bytes;
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch as signal};
use tokio::time::Instant;

/// What a watch needs from the simulator, and nothing more.
#[derive(Clone)]
pub struct WatchHandle {
    /// The history and the objects.
    pub store: Arc<Store>,
    /// Pauses, forced 410s and closes.
    pub faults: Arc<Faults>,
    /// Becomes true at shutdown.
    pub shutdown: signal::Receiver<bool>,
    /// Period of BOOKMARKs on watches served from a watch cache.
    pub bookmark_interval: Duration,
}

impl WatchHandle {
    /// Does a watch cache serve this kind? Leases always; Events only when configured, as with
    /// `--watch-cache-sizes=events#N` (kube-apiserver's default for Events is 0, no cache).
    fn cached(&self, kind: Kind) -> bool {
        kind == Kind::Lease || matches!(self.store.config().window, Window::WatchCache(_))
    }
}

/// A parsed watch request.
#[derive(Clone, Debug)]
pub struct WatchSpec {
    /// The API view.
    pub view: View,
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only this name (`fieldSelector=metadata.name=` or a named watch path).
    pub name: Option<String>,
    /// fieldSelector.
    pub fields: FieldSelector,
    /// labelSelector.
    pub labels: LabelSelector,
    /// `resourceVersion`; 0 when unset or "0".
    pub resource_version: u64,
    /// `sendInitialEvents`, when given: the current state first, then (with bookmarks allowed)
    /// a BOOKMARK annotated `k8s.io/initial-events-end`.
    pub send_initial_events: Option<bool>,
    /// `allowWatchBookmarks=true`.
    pub bookmarks: bool,
    /// When the server ends the stream.
    pub timeout: Duration,
    /// Table output (kubectl).
    pub table: Option<TableRequest>,
}

const BATCH: usize = 2048;
const FLUSH_BYTES: usize = 256 * 1024;

impl WatchSpec {
    /// `areInitialEventsRequired`: a legacy watch from "0" or unset, or `sendInitialEvents=true`.
    fn initial_events(&self) -> bool {
        self.send_initial_events
            .unwrap_or(self.resource_version == 0)
    }

    fn matches(&self, o: &StoredObject) -> bool {
        if self.namespace.as_deref().is_some_and(|ns| ns != o.key.0)
            || self.name.as_deref().is_some_and(|n| n != o.key.1)
        {
            return false;
        }
        if self.fields.is_empty() && self.labels.is_empty() {
            return true;
        }
        let v = o.value();
        self.fields.matches(&v) && self.labels.matches(&v)
    }

    /// The event type a watcher with this spec sees for a history entry, if any.
    fn decide<'a>(&self, e: &'a HistoryEntry) -> Option<(&'static str, &'a StoredObject)> {
        if e.kind != self.view.kind() {
            return None;
        }
        let now = self.matches(&e.obj);
        match e.change {
            Change::Added | Change::Deleted => now.then_some((e.change.as_str(), &*e.obj)),
            Change::Modified => {
                let before = e.prev.as_ref().is_some_and(|p| self.matches(p));
                match (before, now) {
                    (true, true) => Some(("MODIFIED", &*e.obj)),
                    (false, true) => Some(("ADDED", &*e.obj)),
                    (true, false) => Some(("DELETED", &*e.obj)),
                    (false, false) => None,
                }
            }
        }
    }
}

struct Writer<'a> {
    store: &'a Store,
    spec: &'a WatchSpec,
    buf: Vec<u8>,
    sent_table_header: bool,
}

impl Writer<'_> {
    fn event(&mut self, ty: &str, o: &StoredObject) {
        if let Some(t) = self.spec.table {
            let now = self.store.clock().now();
            let row = table::row(self.spec.view, &o.value(), now, t);
            let mut tbl = table::table(
                self.spec.view,
                t,
                json!({"resourceVersion": o.rv.to_string()}),
                vec![row],
            );
            if self.sent_table_header {
                tbl["columnDefinitions"] = json!([]);
            }
            self.sent_table_header = true;
            self.line(ty, &tbl);
            return;
        }
        match self.spec.view {
            View::EventsV1 => {
                let v = self.spec.view.present(&o.value());
                self.line(ty, &v);
            }
            View::CoreEvents | View::Leases => {
                self.buf.extend_from_slice(b"{\"type\":\"");
                self.buf.extend_from_slice(ty.as_bytes());
                self.buf.extend_from_slice(b"\",\"object\":");
                self.buf.extend_from_slice(&o.json);
                self.buf.extend_from_slice(b"}\n");
            }
        }
    }

    fn line(&mut self, ty: &str, object: &Value) {
        let v = json!({"type": ty, "object": object});
        // Serialising a Value cannot fail.
        let _ = serde_json::to_writer(&mut self.buf, &v);
        self.buf.push(b'\n');
    }

    fn bookmark(&mut self, rv: u64, initial_end: bool) {
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if initial_end {
            meta["annotations"] = json!({"k8s.io/initial-events-end": "true"});
        }
        let obj = json!({
            "kind": self.spec.view.object_kind(),
            "apiVersion": self.spec.view.api_version(),
            "metadata": meta,
        });
        self.line("BOOKMARK", &obj);
    }

    fn error(&mut self, e: &ApiError) {
        self.line("ERROR", &e.to_status());
    }

    fn take(&mut self) -> Option<Bytes> {
        (!self.buf.is_empty()).then(|| {
            let fresh = Vec::with_capacity(self.buf.capacity().min(FLUSH_BYTES + 64 * 1024));
            Bytes::from(std::mem::replace(&mut self.buf, fresh))
        })
    }
}

/// Runs one watch, sending chunks into `tx` until the timeout, a fault, shutdown, or the client
/// goes away.
pub async fn run(handle: WatchHandle, spec: WatchSpec, tx: mpsc::Sender<Bytes>) {
    let deadline = Instant::now() + spec.timeout;
    let WatchHandle {
        store,
        faults,
        mut shutdown,
        bookmark_interval,
    } = handle.clone();
    let periodic_bookmarks = spec.bookmarks && handle.cached(spec.view.kind());
    let mut notify = store.subscribe();
    let mut w = Writer {
        store: &store,
        spec: &spec,
        buf: Vec::with_capacity(64 * 1024),
        sent_table_header: false,
    };
    let mut sent: u64 = 0;

    if faults.take_gone_next_watch() {
        let cur = store.current_rv();
        let rv = match spec.resource_version {
            0 => cur,
            rv => rv,
        };
        w.error(&ApiError::too_old_resource_version(rv, cur));
        if let Some(b) = w.take() {
            let _ = tx.send(b).await;
        }
        return;
    }
    let current = store.current_rv();
    if spec.initial_events() && spec.resource_version > current {
        w.error(&ApiError::too_large_resource_version(
            spec.resource_version,
            current,
        ));
        if let Some(b) = w.take() {
            let _ = tx.send(b).await;
        }
        return;
    }

    let mut last = match spec.resource_version {
        _ if spec.initial_events() => {
            let f = |v: &Value| spec.fields.matches(v) && spec.labels.matches(v);
            let filter: crate::store::Filter<'_> =
                (!spec.fields.is_empty() || !spec.labels.is_empty()).then_some(&f);
            let (items, rv) = match store.list(
                spec.view.kind(),
                spec.namespace.as_deref(),
                ListAt::Latest,
                filter,
            ) {
                Ok(x) => x,
                Err(e) => {
                    w.error(&e);
                    if let Some(b) = w.take() {
                        let _ = tx.send(b).await;
                    }
                    return;
                }
            };
            for o in items
                .iter()
                .filter(|o| spec.name.as_deref().is_none_or(|n| n == o.key.1))
            {
                w.event("ADDED", o);
                sent += 1;
                if w.buf.len() >= FLUSH_BYTES
                    && let Some(b) = w.take()
                    && tx.send(b).await.is_err()
                {
                    return;
                }
            }
            if spec.send_initial_events == Some(true) && spec.bookmarks {
                w.bookmark(rv, true);
            }
            rv
        }
        // `sendInitialEvents=false` from "0": from the newest revision on.
        0 => current,
        rv => rv,
    };
    let mut first_fetch = true;
    let mut caught_up_rv = last;
    let bookmark_every = bookmark_interval;
    let mut next_bookmark = Instant::now() + bookmark_every;

    loop {
        if faults.is_paused() {
            if let Some(b) = w.take()
                && tx.send(b).await.is_err()
            {
                return;
            }
            tokio::select! {
                _ = faults.wait_unpaused() => {}
                _ = tokio::time::sleep_until(deadline) => return,
                _ = shutdown.changed() => return,
                _ = tx.closed() => return,
            }
            next_bookmark = Instant::now() + bookmark_every;
            continue;
        }
        let more = match store.fetch_after(last, BATCH) {
            Fetch::TooOld { oldest } => {
                if first_fetch {
                    w.error(&ApiError::too_old_resource_version(last, oldest));
                }
                // Otherwise this watcher fell behind the window: end the stream like the API
                // server does with a slow watcher; the client re-watches and gets 410.
                if let Some(b) = w.take() {
                    let _ = tx.send(b).await;
                }
                return;
            }
            Fetch::Entries { entries, current } => {
                let n = entries.len();
                for e in &entries {
                    if let Some((ty, o)) = spec.decide(e) {
                        w.event(ty, o);
                        sent += 1;
                        if faults.close_watches_after().is_some_and(|max| sent >= max) {
                            if let Some(b) = w.take() {
                                let _ = tx.send(b).await;
                            }
                            return;
                        }
                    }
                    last = e.rv;
                    if w.buf.len() >= FLUSH_BYTES
                        && let Some(b) = w.take()
                        && tx.send(b).await.is_err()
                    {
                        return;
                    }
                }
                if n < BATCH {
                    caught_up_rv = current.max(last);
                }
                n >= BATCH
            }
        };
        first_fetch = false;
        if let Some(b) = w.take()
            && tx.send(b).await.is_err()
        {
            return;
        }
        if more {
            continue;
        }
        tokio::select! {
            r = notify.changed() => { if r.is_err() { return; } }
            _ = tokio::time::sleep_until(next_bookmark) => {
                next_bookmark = Instant::now() + bookmark_every;
                if periodic_bookmarks && !faults.is_paused() {
                    w.bookmark(caught_up_rv, false);
                }
            }
            _ = tokio::time::sleep_until(deadline) => return,
            _ = shutdown.changed() => return,
            _ = tx.closed() => return,
        }
    }
}
