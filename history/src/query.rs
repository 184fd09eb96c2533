//! What a question asks for — namespace, object, window, types, reasons — and the merge of the
//! records every source returned: deduplicated by (uid, resourceVersion), one row per Event at its
//! latest observation unless every version is asked for, ordered by effective time.

use std::collections::{HashMap, HashSet};

use eventkeeper_core::Record;
use jiff::Timestamp;

use crate::target::Target;
use crate::window::Window;

/// Which observations answer the question.
#[derive(Clone, Debug)]
pub struct Query {
    /// One namespace, or `None` for all (`-A`).
    pub namespace: Option<String>,
    /// `--for` / `why`'s object.
    pub target: Option<Target>,
    /// Also the target's owners (for `why`).
    pub with_owners: bool,
    /// Effective times included.
    pub window: Window,
    /// `--types` (empty: all).
    pub types: Vec<String>,
    /// `--reason` (empty: all).
    pub reasons: Vec<String>,
}

/// A record's effective time, parsed.
pub fn effective_time(record: &Record) -> Option<Timestamp> {
    record.effective_time.as_deref()?.parse().ok()
}

impl Query {
    /// Whether this observation answers the question.
    pub fn wants(&self, record: &Record) -> bool {
        let object = &record.involved_object;
        let namespace = object
            .namespace
            .as_deref()
            .or(record.metadata.namespace.as_deref())
            .unwrap_or("");
        if let Some(ns) = &self.namespace
            && namespace != ns
        {
            return false;
        }
        if !self.types.is_empty() && !self.types.iter().any(|t| t == record.event_type()) {
            return false;
        }
        let reason = record.reason.as_deref().unwrap_or("");
        if !self.reasons.is_empty() && !self.reasons.iter().any(|r| r == reason) {
            return false;
        }
        if let Some(target) = &self.target {
            let kind = object.kind.as_deref().unwrap_or("");
            let name = object.name.as_deref().unwrap_or("");
            let hit = if self.with_owners {
                target.related(kind, name)
            } else {
                target.matches(kind, name)
            };
            if !hit {
                return false;
            }
        }
        effective_time(record).is_some_and(|at| self.window.contains(at))
    }
}

/// Records from every source, each observation once.
#[derive(Debug, Default)]
pub struct Merged {
    seen: HashSet<(String, String)>,
    records: Vec<Record>,
}

impl Merged {
    /// Adds an observation unless the same (uid, resourceVersion) was already added.
    pub fn add(&mut self, record: Record) {
        let key = (
            record.uid().to_owned(),
            record.resource_version().to_owned(),
        );
        if self.seen.insert(key) {
            self.records.push(record);
        }
    }

    /// How many distinct observations were added.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The rows: every observation (`all_versions`) or each Event's latest, oldest first.
    pub fn rows(self, all_versions: bool) -> Vec<Record> {
        let mut rows = if all_versions {
            self.records
        } else {
            let mut latest: HashMap<String, Record> = HashMap::new();
            for record in self.records {
                let key = record.uid().to_owned();
                match latest.get(&key) {
                    Some(kept) if !is_later(&record, kept) => {}
                    _ => {
                        latest.insert(key, record);
                    }
                }
            }
            latest.into_values().collect()
        };
        rows.sort_by(|a, b| {
            (effective_time(a), numeric_rv(a), a.uid()).cmp(&(
                effective_time(b),
                numeric_rv(b),
                b.uid(),
            ))
        });
        rows
    }
}

fn numeric_rv(record: &Record) -> u64 {
    record.resource_version().parse().unwrap_or(0)
}

/// Whether `a` is a later observation of the same Event than `b`.
fn is_later(a: &Record, b: &Record) -> bool {
    (a.occurrences, effective_time(a), numeric_rv(a))
        > (b.occurrences, effective_time(b), numeric_rv(b))
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventkeeper_core::fixtures::TestEvent;
    use eventkeeper_core::{Context, Origin, normalise};

    fn record(uid: &str, rv: u64, count: i64, last: &str) -> Record {
        let event = TestEvent::new().uid(uid).resource_version(rv).json();
        let mut event = event;
        event["count"] = count.into();
        event["lastTimestamp"] = last.into();
        normalise(&event, &Context::new("demo", Origin::CatchUp)).unwrap()
    }

    #[test]
    fn duplicates_collapse_and_the_latest_version_wins() {
        let mut merged = Merged::default();
        merged.add(record("a", 1, 1, "2025-01-01T10:00:00Z"));
        merged.add(record("a", 1, 1, "2025-01-01T10:00:00Z"));
        merged.add(record("a", 5, 3, "2025-01-01T10:05:00Z"));
        merged.add(record("b", 2, 1, "2025-01-01T10:01:00Z"));
        assert_eq!(merged.len(), 3);
        let rows = merged.rows(false);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].uid(), "b");
        assert_eq!(rows[1].occurrences, 3);
    }

    #[test]
    fn all_versions_keeps_every_observation_in_time_order() {
        let mut merged = Merged::default();
        merged.add(record("a", 5, 3, "2025-01-01T10:05:00Z"));
        merged.add(record("a", 1, 1, "2025-01-01T10:00:00Z"));
        let rows = merged.rows(true);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].resource_version(), "1");
    }

    #[test]
    fn the_query_filters_namespace_type_reason_object_and_window() {
        let r = record("a", 1, 1, "2025-01-01T10:00:00Z");
        let window = Window {
            from: "2025-01-01T09:00:00Z".parse().unwrap(),
            to: "2025-01-01T11:00:00Z".parse().unwrap(),
        };
        let mut q = Query {
            namespace: Some("default".into()),
            target: Some(Target::parse("pod/web-*").unwrap()),
            with_owners: false,
            window,
            types: vec![],
            reasons: vec![],
        };
        assert!(q.wants(&r));
        q.types = vec!["Warning".into()];
        assert!(!q.wants(&r));
        q.types.clear();
        q.reasons = vec!["Started".into()];
        assert!(q.wants(&r));
        q.namespace = Some("other".into());
        assert!(!q.wants(&r));
        q.namespace = None;
        q.window.to = "2025-01-01T09:30:00Z".parse().unwrap();
        assert!(!q.wants(&r));
    }
}
