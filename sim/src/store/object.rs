//! What the store holds: keys in etcd's order, stored versions, and the kinds of change.

use bytes::Bytes;
use serde::Serialize;
use serde_json::{Value, json};
use std::cmp::Ordering;
use std::sync::Arc;

/// `(namespace, name)`.
pub type Key = (String, String);

/// A key ordered the way etcd orders `namespace/name`: by bytes. Tuple order would put `kube`
/// before `kube-public`; etcd puts it after, because `-` sorts before `/`.
#[derive(Clone, Debug)]
pub struct EtcdKey(pub Key);

impl EtcdKey {
    /// The key of `namespace/name`.
    pub fn new(namespace: &str, name: &str) -> Self {
        Self((namespace.to_owned(), name.to_owned()))
    }

    fn bytes(&self) -> impl Iterator<Item = &u8> {
        self.0
            .0
            .as_bytes()
            .iter()
            .chain(b"/")
            .chain(self.0.1.as_bytes())
    }

    /// Is this key at or after `start` (the `namespace/name\0` of a continue token)?
    pub fn at_or_after(&self, start: &[u8]) -> bool {
        self.bytes().cmp(start.iter()) != Ordering::Less
    }
}

impl Ord for EtcdKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.bytes().cmp(other.bytes())
    }
}

impl PartialOrd for EtcdKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for EtcdKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for EtcdKey {}

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
    /// The etcd lease that expires it (Events only).
    pub lease: Option<u64>,
}

impl StoredObject {
    /// The object, parsed.
    pub fn value(&self) -> Value {
        serde_json::from_slice(&self.json).unwrap_or(Value::Null)
    }
}

/// Shared handle to one stored version.
pub type Obj = Arc<StoredObject>;

/// An optional filter on stored objects (None accepts everything without parsing).
pub type Filter<'a> = Option<&'a dyn Fn(&Value) -> bool>;

pub(crate) fn accepts(filter: Filter<'_>, o: &StoredObject) -> bool {
    filter.is_none_or(|f| f(&o.value()))
}

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

    #[test]
    fn keys_sort_as_etcd_bytes() {
        let mut keys = [
            EtcdKey::new("kube", "a"),
            EtcdKey::new("kubea", "a"),
            EtcdKey::new("kube-system", "a"),
            EtcdKey::new("kube-public", "a"),
        ];
        keys.sort();
        let order: Vec<&str> = keys.iter().map(|k| k.0.0.as_str()).collect();
        assert_eq!(order, ["kube-public", "kube-system", "kube", "kubea"]);
        assert!(EtcdKey::new("kube", "b").at_or_after(b"kube/a\0"));
        assert!(!EtcdKey::new("kube", "a").at_or_after(b"kube/a\0"));
        assert!(!EtcdKey::new("kube-system", "z").at_or_after(b"kube/a\0"));
    }
}
