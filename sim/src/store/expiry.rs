//! TTL expiry through shared etcd leases.
//!
//! kube-apiserver attaches each Event to an etcd lease and reuses one lease for many objects
//! (`staging/src/k8s.io/apiserver/pkg/storage/etcd3/lease_manager.go`): a lease granted at `t`
//! lives `ttl + reuse` and takes new objects until `t + reuse` or until it holds 1,000 objects
//! (`reuse` = 5% of the TTL, at most 60 s). When it expires, etcd deletes all its keys in one
//! transaction, at one revision, between TTL and TTL + reuse after each object's last write.

use super::object::Key;
use std::collections::{BTreeMap, BTreeSet};

/// Objects per lease (`--lease-reuse-duration-seconds`' companion, `leaseMaxAttachedObjectCount`).
pub const MAX_OBJECTS_PER_LEASE: usize = 1000;
const MAX_REUSE_MS: i64 = 60_000;

struct Lease {
    keys: BTreeSet<Key>,
}

struct Current {
    id: u64,
    granted_ms: i64,
    attached: usize,
}

/// The leases holding Events.
#[derive(Default)]
pub struct Leases {
    next_id: u64,
    current: Option<Current>,
    leases: BTreeMap<u64, Lease>,
    by_expiry: BTreeSet<(i64, u64)>,
}

impl Leases {
    /// Attaches `key` to a lease for an object written at `now_ms`; returns the lease.
    pub fn attach(&mut self, key: &Key, now_ms: i64, ttl_ms: i64) -> u64 {
        let reuse_ms = (ttl_ms / 20).min(MAX_REUSE_MS);
        let reusable = self.current.as_ref().is_some_and(|c| {
            now_ms - c.granted_ms < reuse_ms
                && c.attached < MAX_OBJECTS_PER_LEASE
                && self.leases.contains_key(&c.id)
        });
        if !reusable {
            self.next_id += 1;
            let id = self.next_id;
            let expires_ms = now_ms + ttl_ms + reuse_ms;
            self.leases.insert(
                id,
                Lease {
                    keys: BTreeSet::new(),
                },
            );
            self.by_expiry.insert((expires_ms, id));
            self.current = Some(Current {
                id,
                granted_ms: now_ms,
                attached: 0,
            });
        }
        let Some(c) = self.current.as_mut() else {
            return 0;
        };
        c.attached += 1;
        if let Some(l) = self.leases.get_mut(&c.id) {
            l.keys.insert(key.clone());
        }
        c.id
    }

    /// Detaches `key` from `lease` (the object was rewritten or deleted).
    pub fn detach(&mut self, lease: u64, key: &Key) {
        if let Some(l) = self.leases.get_mut(&lease) {
            l.keys.remove(key);
        }
    }

    /// The keys of the next lease expired at `now_ms`, if any (the lease is revoked).
    pub fn pop_expired(&mut self, now_ms: i64) -> Option<Vec<Key>> {
        let &(at, id) = self.by_expiry.first()?;
        if at > now_ms {
            return None;
        }
        self.by_expiry.pop_first();
        let lease = self.leases.remove(&id)?;
        Some(lease.keys.into_iter().collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(i: usize) -> Key {
        ("ns".into(), format!("e{i}"))
    }

    #[test]
    fn a_lease_takes_objects_for_the_reuse_time_or_up_to_its_limit() {
        let mut l = Leases::default();
        let ttl = 3_600_000;
        let first = l.attach(&key(0), 0, ttl);
        assert_eq!(l.attach(&key(1), 59_999, ttl), first);
        assert_ne!(
            l.attach(&key(2), 60_000, ttl),
            first,
            "reuse ends after 60 s"
        );
        let mut l = Leases::default();
        let ids: BTreeSet<u64> = (0..=MAX_OBJECTS_PER_LEASE)
            .map(|i| l.attach(&key(i), 0, ttl))
            .collect();
        assert_eq!(ids.len(), 2, "1,000 objects per lease");
        assert!(l.pop_expired(ttl + 59_999).is_none());
        assert_eq!(l.pop_expired(ttl + 60_000).unwrap().len(), 1000);
    }
}
