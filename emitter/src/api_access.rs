//! Every Kubernetes API request the emitter makes, and the RBAC rules they need — one source of
//! truth. Events are read through `eventkeeper_core::source` (its `list_request` and
//! `watch_request` build every Events request), the Lease through `eventkeeper_core::lease` (its
//! `get_request`, `create_request` and `replace_request`), the heartbeat Event is written through
//! `heartbeat` (its `create_request` and `patch_request`). `print-rbac` prints [`RULES`]; the
//! chart's ClusterRole and Role are checked against that output, and the test below checks
//! [`RULES`] against the requests themselves.

use serde::Serialize;

/// One RBAC rule.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessRule {
    /// API group (`""` is core).
    pub api_group: &'static str,
    /// Resource (plural).
    pub resource: &'static str,
    /// Verbs used.
    pub verbs: &'static [&'static str],
    /// `cluster` (ClusterRole) or `namespace` (Role in the Lease's namespace).
    pub scope: &'static str,
}

/// Reading Events: a paged list at start and after a 410, then a watch.
pub const EVENTS: AccessRule = AccessRule {
    api_group: "",
    resource: "events",
    verbs: &["list", "watch"],
    scope: "cluster",
};

/// The leader Lease: read it, create it the first time, update it to renew, checkpoint and
/// release (optimistic concurrency on its resourceVersion).
pub const LEASES: AccessRule = AccessRule {
    api_group: "coordination.k8s.io",
    resource: "leases",
    verbs: &["get", "create", "update"],
    scope: "namespace",
};

/// The watch heartbeat: create its Event in the Lease namespace once, then PATCH it.
pub const HEARTBEAT_EVENTS: AccessRule = AccessRule {
    api_group: "",
    resource: "events",
    verbs: &["create", "patch"],
    scope: "namespace",
};

/// Every rule the emitter needs.
pub const RULES: [AccessRule; 3] = [EVENTS, LEASES, HEARTBEAT_EVENTS];

/// The JSON `print-rbac` writes.
pub fn rbac_json() -> String {
    serde_json::to_string_pretty(&RULES).expect("static rules serialize")
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventkeeper_core::lease::{LeaseView, create_request, get_request, replace_request};
    use eventkeeper_core::source::{Scope, list_request, watch_request};
    use serde_json::Value;
    use std::collections::BTreeSet;

    /// What RBAC verb an HTTP request needs, the way the API server's request info resolver
    /// reads it: (group, resource, verb, cluster-wide?).
    fn rbac_of(request: &http::Request<Vec<u8>>) -> (String, String, String, bool) {
        let path: Vec<&str> = request
            .uri()
            .path()
            .trim_start_matches('/')
            .split('/')
            .collect();
        let (group, rest) = match path.as_slice() {
            ["api", "v1", rest @ ..] => (String::new(), rest),
            ["apis", group, _version, rest @ ..] => ((*group).to_owned(), rest),
            other => panic!("unexpected path {other:?}"),
        };
        let (namespaced, resource, name) = match rest {
            ["namespaces", _, resource, name @ ..] => (true, *resource, name.first()),
            [resource, name @ ..] => (false, *resource, name.first()),
            [] => panic!("no resource"),
        };
        let watch = request
            .uri()
            .query()
            .is_some_and(|q| q.contains("watch=true"));
        let verb = match (request.method().as_str(), name.is_some(), watch) {
            ("GET", _, true) => "watch",
            ("GET", false, false) => "list",
            ("GET", true, false) => "get",
            ("POST", false, _) => "create",
            ("PUT", true, _) => "update",
            ("PATCH", true, _) => "patch",
            ("DELETE", _, _) => "delete",
            other => panic!("unexpected request {other:?}"),
        };
        (group, resource.to_owned(), verb.to_owned(), !namespaced)
    }

    #[test]
    fn rules_are_exactly_what_the_requests_need() {
        let lease = LeaseView::create(
            "ns",
            "eventkeeper",
            "pod-a",
            std::time::Duration::from_secs(15),
            jiff::Timestamp::now(),
        );
        let requests = [
            list_request(&Scope::AllNamespaces, 500, None).unwrap(),
            list_request(&Scope::AllNamespaces, 500, Some("c")).unwrap(),
            watch_request(&Scope::AllNamespaces, "1", 290).unwrap(),
            get_request("ns", "eventkeeper").unwrap(),
            create_request("ns", &lease).unwrap(),
            replace_request("ns", "eventkeeper", &lease).unwrap(),
            crate::heartbeat::create_request("ns", &serde_json::json!({})).unwrap(),
            crate::heartbeat::patch_request("ns", "e", &serde_json::json!({})).unwrap(),
        ];
        let needed: BTreeSet<_> = requests.iter().map(rbac_of).collect();
        let granted: BTreeSet<_> = RULES
            .iter()
            .flat_map(|r| {
                r.verbs.iter().map(|v| {
                    (
                        r.api_group.to_owned(),
                        r.resource.to_owned(),
                        (*v).to_owned(),
                        r.scope == "cluster",
                    )
                })
            })
            .collect();
        assert_eq!(needed, granted);
    }

    #[test]
    fn rbac_json_has_the_agreed_shape() {
        let v: Value = serde_json::from_str(&rbac_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!([
                {"apiGroup": "", "resource": "events", "verbs": ["list", "watch"], "scope": "cluster"},
                {"apiGroup": "coordination.k8s.io", "resource": "leases",
                 "verbs": ["get", "create", "update"], "scope": "namespace"},
                {"apiGroup": "", "resource": "events", "verbs": ["create", "patch"],
                 "scope": "namespace"}
            ])
        );
    }
}
