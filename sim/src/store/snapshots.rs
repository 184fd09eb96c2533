//! The lists behind continue tokens. etcd serves each further page at the revision of the
//! first one until that revision is compacted (`staging/src/k8s.io/apiserver/pkg/storage/
//! etcd3/store.go`, GetList); this store keeps the rest of the list instead of re-reading it.

use super::object::Obj;
use std::collections::BTreeMap;
use std::sync::Arc;

/// The rest of a paged list.
pub struct Snapshot {
    /// The revision the list reads.
    pub rv: u64,
    /// Every item of the list, in key order.
    pub items: Arc<Vec<Obj>>,
    /// When the first page was served (simulated milliseconds).
    pub created_ms: i64,
}

/// Saved lists by id, oldest first.
#[derive(Default)]
pub struct Snapshots {
    saved: BTreeMap<u64, Snapshot>,
    next_id: u64,
}

impl Snapshots {
    /// Keeps `snapshot` (dropping the oldest beyond `max`); returns its id.
    pub fn save(&mut self, snapshot: Snapshot, max: usize) -> u64 {
        while self.saved.len() >= max.max(1) {
            self.saved.pop_first();
        }
        self.next_id += 1;
        self.saved.insert(self.next_id, snapshot);
        self.next_id
    }

    /// Keeps only the snapshots `live` accepts.
    pub fn retain(&mut self, mut live: impl FnMut(&Snapshot) -> bool) {
        self.saved.retain(|_, s| live(s));
    }

    /// A saved list.
    pub fn get(&self, id: u64) -> Option<&Snapshot> {
        self.saved.get(&id)
    }
}
