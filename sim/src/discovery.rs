//! Discovery documents: `/version`, `/api`, `/apis`, and the resource lists of the three group
//! versions served. Legacy (unaggregated) discovery; kubectl falls back to it.

use serde_json::{Value, json};

const VERBS: [&str; 8] = [
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// `/version`.
pub fn version() -> Value {
    json!({
        "major": "1",
        "minor": "33",
        "gitVersion": "v1.33.0-eventkeeper-sim",
        "gitCommit": "0000000000000000000000000000000000000000",
        "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z",
        "goVersion": "go1.24.0",
        "compiler": "gc",
        "platform": "linux/amd64",
    })
}

/// `/api`.
pub fn core_versions(server_address: &str) -> Value {
    json!({
        "kind": "APIVersions",
        "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}],
    })
}

fn group(name: &str) -> Value {
    let gv = format!("{name}/v1");
    json!({
        "name": name,
        "versions": [{"groupVersion": gv, "version": "v1"}],
        "preferredVersion": {"groupVersion": gv, "version": "v1"},
    })
}

/// `/apis`.
pub fn groups() -> Value {
    json!({
        "kind": "APIGroupList",
        "apiVersion": "v1",
        "groups": [group("events.k8s.io"), group("coordination.k8s.io")],
    })
}

/// `/apis/<group>` for a served group.
pub fn group_doc(name: &str) -> Option<Value> {
    matches!(name, "events.k8s.io" | "coordination.k8s.io").then(|| {
        let mut g = group(name);
        g["kind"] = json!("APIGroup");
        g["apiVersion"] = json!("v1");
        g
    })
}

fn resource(name: &str, singular: &str, kind: &str, short: &[&str]) -> Value {
    json!({
        "name": name,
        "singularName": singular,
        "namespaced": true,
        "kind": kind,
        "verbs": VERBS,
        "shortNames": short,
    })
}

/// `/api/v1` or `/apis/<group>/v1`.
pub fn resources(group_version: &str) -> Option<Value> {
    let list = match group_version {
        "v1" => vec![resource("events", "event", "Event", &["ev"])],
        "events.k8s.io/v1" => vec![resource("events", "event", "Event", &[])],
        "coordination.k8s.io/v1" => vec![resource("leases", "lease", "Lease", &[])],
        _ => return None,
    };
    Some(json!({
        "kind": "APIResourceList",
        "apiVersion": "v1",
        "groupVersion": group_version,
        "resources": list,
    }))
}
