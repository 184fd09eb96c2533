"""`make chart-check`: the Helm chart, checked with the real tools.

Renders charts/eventkeeper with the real Helm v4 engine (helm-python-sdk) for a matrix of
values, then checks the output with `helm lint --strict`, kubernetes-validate --strict (two
Kubernetes versions), yamllint, checkov, the restricted Pod Security Standard, values.schema.json
rejections, and compares the RBAC and the environment with the real emitter binary
(`eventkeeper-emitter print-rbac` and `run --help`).

    python scripts/chart/check_chart.py --emitter PATH --checkov PATH --yamllint PATH --out DIR

Prints one line per check and ends with `N passed, M failed`; exits 1 when anything failed.
"""

from __future__ import annotations

import argparse
import base64
import functools
import json
import os
import re
import select
import signal
import ssl
import subprocess
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import helm_python as hp
import kubernetes_validate.utils as kv
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))
from render import CHART, NAMESPACE, RELEASE, documents, manifest_text, render  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lib"))
from probes import free_port, http_get, wait_for  # noqa: E402

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
KUBE_VERSIONS = ["1.31.0", "1.33.0"]
# The Lease the emitter (--lease-name) and the catch-up (EVENTKEEPER_LEASE_NAME) default to.
DEFAULT_LEASE = "eventkeeper"
CLUSTER = "demo"

# The matrix every check runs on: name -> values.
MATRIX: dict[str, dict] = {
    "defaults": {"clusterName": CLUSTER},
    "filters": {
        "clusterName": CLUSTER,
        "namespaces": ["team-a", "team-b"],
        "filters": {
            "include": ["type=Warning", "kind=Pod,Node reason=Failed*"],
            "exclude": ["namespace=kube-system type=Normal"],
        },
        "maxLineBytes": 8192,
        "logging": {"format": "text", "level": "debug"},
    },
    "single-replica": {
        "clusterName": CLUSTER,
        "replicaCount": 1,
        "leaderElection": {"enabled": False},
    },
    "service-monitor": {
        "clusterName": CLUSTER,
        "serviceMonitor": {
            "enabled": True, "labels": {"release": "prometheus"},
            "relabelings": [{"sourceLabels": ["__meta_kubernetes_pod_node_name"], "targetLabel": "node"}],
            "metricRelabelings": [{"sourceLabels": ["__name__"], "regex": "eventkeeper_emit_lag_seconds_bucket",
                                   "action": "drop"}],
        },
        "prometheusRule": {"enabled": True, "labels": {"release": "prometheus"}},
    },
    "catch-up": {
        "clusterName": CLUSTER,
        "catchUpAccess": {"enabled": True, "group": "eventkeeper-catchup"},
    },
    "pinned-digest": {
        "clusterName": CLUSTER,
        "image": {"registry": "registry.example", "repository": "mirror/eventkeeper-emitter",
                  "digest": "sha256:" + "ab" * 32},
        "leaderElection": {"enabled": True, "leaseName": "events-leader"},
        "networkPolicy": {"apiServerTo": [{"ipBlock": {"cidr": "10.0.0.0/16"}}]},
    },
}

# Everything a user of the bitnami, fluent-bit or kube-state-metrics charts adapts, at once.
MATRIX["adapted"] = {
    "clusterName": CLUSTER,
    "global": {"imageRegistry": "mirror.example:5000"},
    "image": {"tag": "0.1.0-custom"},
    "imagePullSecrets": [{"name": "regcred"}],
    "commonLabels": {"team": "platform"},
    "podLabels": {"cost-centre": "c42"},
    "podAnnotations": {"example.com/owner": "platform"},
    "extraEnv": [{"name": "RUST_BACKTRACE", "value": "1"},
                 {"name": "NODE_NAME", "valueFrom": {"fieldRef": {"fieldPath": "spec.nodeName"}}}],
    "envFrom": [{"configMapRef": {"name": "team-settings"}}],
    "extraVolumes": [{"name": "ca-bundle", "configMap": {"name": "corporate-ca"}}],
    "extraVolumeMounts": [{"name": "ca-bundle", "mountPath": "/etc/corporate-ca", "readOnly": True}],
    "podSecurityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 2000,
                           "supplementalGroups": [2000], "seccompProfile": {"type": "RuntimeDefault"}},
    "securityContext": {"runAsNonRoot": True, "runAsUser": 65532, "readOnlyRootFilesystem": True,
                        "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                        "seccompProfile": {"type": "RuntimeDefault"}},
    "topologySpreadConstraints": [{
        "maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
        "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "eventkeeper"}},
    }],
    "podMonitor": {"enabled": True, "labels": {"release": "prometheus"}, "interval": "15s",
                   "relabelings": [{"action": "labeldrop", "regex": "endpoint"}]},
    "prometheusRule": {"enabled": True, "checkpointAgeSeconds": 120, "alertLabels": {"severity": "critical"}},
    "networkPolicy": {"enabled": False},
}

# Values the schema (or the templates) must refuse, with a word the error must contain.
REJECTED: dict[str, tuple[dict, str]] = {
    "typo'd top-level key": ({"clusterName": CLUSTER, "replicas": 3}, "replicas"),
    "typo'd nested key": (
        {"clusterName": CLUSTER, "leaderElection": {"enabled": True, "leaseDuraton": "15s"}},
        "leaseDuraton",
    ),
    "wrong type (string for integer)": ({"clusterName": CLUSTER, "replicaCount": "two"}, "replicaCount"),
    "wrong type (string for boolean)": (
        {"clusterName": CLUSTER, "leaderElection": {"enabled": "yes"}},
        "enabled",
    ),
    "wrong type (list for string)": ({"clusterName": CLUSTER, "flushInterval": ["100ms"]}, "flushInterval"),
    "duration without unit": ({"clusterName": CLUSTER, "stallTimeout": "180"}, "stallTimeout"),
    "unknown filter field": (
        {"clusterName": CLUSTER, "filters": {"include": ["severity=Warning"]}},
        "include",
    ),
    "line budget over 16 KiB": ({"clusterName": CLUSTER, "maxLineBytes": 65536}, "maxLineBytes"),
    "unknown log format": ({"clusterName": CLUSTER, "logging": {"format": "logfmt"}}, "format"),
    "log level with a space": ({"clusterName": CLUSTER, "logging": {"level": "info debug"}}, "level"),
    "missing cluster name": ({}, "clusterName is required"),
    "replicas without leader election": (
        {"clusterName": CLUSTER, "leaderElection": {"enabled": False}},
        "needs leaderElection.enabled",
    ),
    "typo'd container security context key": (
        {"clusterName": CLUSTER, "securityContext": {"readOnlyRootFileSystem": True}}, "readOnlyRootFileSystem"),
    "typo'd relabeling key": (
        {"clusterName": CLUSTER, "serviceMonitor": {"relabelings": [{"source_labels": ["a"]}]}}, "source_labels"),
    "extraEnv without a name": ({"clusterName": CLUSTER, "extraEnv": [{"value": "x"}]}, "name"),
    "a volume mount without a path": (
        {"clusterName": CLUSTER, "extraVolumeMounts": [{"name": "ca-bundle"}]}, "mountPath"),
    "spread constraint without topologyKey": (
        {"clusterName": CLUSTER, "topologySpreadConstraints": [{"maxSkew": 1, "whenUnsatisfiable": "DoNotSchedule"}]},
        "topologyKey"),
    "ServiceMonitor and PodMonitor together": (
        {"clusterName": CLUSTER, "serviceMonitor": {"enabled": True}, "podMonitor": {"enabled": True}},
        "choose one"),
    "ServiceMonitor without Service": (
        {"clusterName": CLUSTER, "serviceMonitor": {"enabled": True}, "service": {"enabled": False}},
        "needs service.enabled",
    ),
}

# Pod Security Standards, restricted profile: the volume types it allows.
RESTRICTED_VOLUME_TYPES = {
    "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim",
    "projected", "secret",
}
# Verbs a Role rule can limit with resourceNames (create, list, watch and deletecollection can't).
NAMEABLE_VERBS = {"get", "update", "patch", "delete"}


class Checks:
    """Runs named checks, prints one line each, and counts."""

    def __init__(self) -> None:
        self.passed = 0
        self.failed: list[str] = []

    def run(self, name: str, check: Callable[[], None]) -> None:
        try:
            check()
        except AssertionError as err:
            self._fail(name, str(err) or "assertion failed")
        except Exception as err:  # a crash in a check is a failure too, never a pass
            self._fail(name, f"{type(err).__name__}: {err}\n{traceback.format_exc()}")
        else:
            self.passed += 1
            print(f"ok    {name}")

    def _fail(self, name: str, why: str) -> None:
        self.failed.append(name)
        print(f"FAIL  {name}\n      " + why.replace("\n", "\n      "))


def by_kind(docs: list[dict], kind: str) -> list[dict]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict], kind: str) -> dict:
    found = by_kind(docs, kind)
    assert len(found) == 1, f"expected one {kind}, found {len(found)}"
    return found[0]


def env_of(container: dict) -> dict[str, str]:
    return {e["name"]: e.get("value") for e in container.get("env", [])}


# ---------------------------------------------------------------------------------------------
# Checks on every rendered case.


def check_lint(values: dict) -> None:
    for version in KUBE_VERSIONS:
        report = hp.lint(CHART, values, strict=True, kube_version=f"v{version}")
        problems = [m for m in report["messages"] if m["severity"] >= 2] + [
            {"error": e} for e in report.get("errors") or []
        ]
        assert not problems, f"helm lint --strict (Kubernetes {version}): {problems}"


def check_kubernetes_validate(docs: list[dict]) -> None:
    for version in KUBE_VERSIONS:
        for doc in docs:
            what = f"{doc['kind']}/{doc['metadata']['name']} on Kubernetes {version}"
            if doc["apiVersion"].startswith("monitoring.coreos.com/"):
                check_service_monitor_shape(doc)
                continue
            try:
                kv.validate(doc, version, strict=True)
            except kv.ValidationError as err:
                raise AssertionError(f"{what}: {err.message} at {list(err.absolute_path)}") from None
            except kv.SchemaNotFoundError as err:
                raise AssertionError(f"{what}: {err.message}") from None


RELABEL_KEYS = {"sourceLabels", "separator", "targetLabel", "regex", "modulus", "replacement", "action"}


def check_service_monitor_shape(doc: dict) -> None:
    """No Prometheus Operator schema ships offline: check the fields we set against the
    monitoring.coreos.com/v1 CRDs (ServiceMonitor, PodMonitor, PrometheusRule) by hand (names
    and types only); PromQL is parsed by check_alert_rules."""
    assert doc["apiVersion"] == "monitoring.coreos.com/v1"
    spec = doc["spec"]
    if doc["kind"] == "PrometheusRule":
        assert set(spec) == {"groups"}, spec.keys()
        for group in spec["groups"]:
            assert set(group) == {"name", "rules"}, group.keys()
            for rule in group["rules"]:
                assert set(rule) == {"alert", "expr", "for", "labels", "annotations"}, rule.keys()
                assert re.fullmatch(r"[0-9]+(ms|s|m|h)", rule["for"]), rule
                assert all(isinstance(v, str) for v in {**rule["labels"], **rule["annotations"]}.values()), rule
        return
    endpoints_key = {"ServiceMonitor": "endpoints", "PodMonitor": "podMetricsEndpoints"}[doc["kind"]]
    assert set(spec) == {"namespaceSelector", "selector", endpoints_key}, spec.keys()
    assert set(spec["namespaceSelector"]) == {"matchNames"}
    assert set(spec["selector"]) == {"matchLabels"}
    for endpoint in spec[endpoints_key]:
        assert set(endpoint) <= {"port", "path", "interval", "scrapeTimeout", "relabelings", "metricRelabelings"}, endpoint
        assert endpoint["port"] == "http" and endpoint["path"] == "/metrics", endpoint
        for key in ("interval", "scrapeTimeout"):
            assert re.fullmatch(r"[0-9]+(ms|s|m|h)", endpoint[key]), endpoint
        for key in ("relabelings", "metricRelabelings"):
            for relabel in endpoint.get(key, []):
                assert set(relabel) <= RELABEL_KEYS, relabel


def check_yamllint(yamllint: str, file: Path) -> None:
    proc = subprocess.run(
        [yamllint, "--strict", "-c", str(HERE / "yamllint.yaml"), str(file)],
        capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def check_restricted_pod_security(docs: list[dict], values: dict) -> None:
    deployment = one(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    pod_sc = pod.get("securityContext", {})
    for key in ("hostNetwork", "hostPID", "hostIPC", "hostUsers"):
        assert key not in pod or (key == "hostUsers" and pod[key] is False), f"pod sets {key}"
    assert pod_sc.get("runAsNonRoot") is True, "pod runAsNonRoot"
    assert pod_sc.get("runAsUser") == 65532, "pod runAsUser 65532"
    assert pod_sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "pod seccomp"
    assert "sysctls" not in pod_sc, "pod sysctls"
    assert pod_sc.get("seLinuxOptions", {}).get("type") in (
        None, "", "container_t", "container_init_t", "container_kvm_t", "container_engine_t",
    ), "SELinux type"
    containers = pod["containers"] + pod.get("initContainers", []) + pod.get("ephemeralContainers", [])
    assert [c["name"] for c in pod["containers"]] == ["emitter"], "one container, named emitter"
    for c in containers:
        sc = c.get("securityContext", {})
        name = c["name"]
        assert sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is True, f"{name}: runAsNonRoot"
        uid = sc.get("runAsUser", pod_sc.get("runAsUser"))
        assert uid == 65532, f"{name}: runAsUser {uid}, want the image's fixed non-root 65532"
        assert sc.get("allowPrivilegeEscalation") is False, f"{name}: allowPrivilegeEscalation"
        assert sc.get("privileged", False) is False, f"{name}: privileged"
        assert sc.get("readOnlyRootFilesystem") is True, f"{name}: readOnlyRootFilesystem"
        caps = sc.get("capabilities", {})
        assert caps.get("drop") == ["ALL"], f"{name}: capabilities.drop {caps.get('drop')}"
        assert not caps.get("add"), f"{name}: adds capabilities {caps.get('add')}"
        seccomp = sc.get("seccompProfile", pod_sc.get("seccompProfile", {}))
        assert seccomp.get("type") == "RuntimeDefault", f"{name}: seccomp"
        assert sc.get("procMount", "Default") == "Default", f"{name}: procMount"
        for port in c.get("ports", []):
            assert "hostPort" not in port, f"{name}: hostPort"
    # Volumes: restricted types only, and the only API credential is the projected, expiring
    # token of the emitter container (nothing is auto-mounted).
    for volume in pod.get("volumes", []):
        kinds = set(volume) - {"name"}
        assert kinds <= RESTRICTED_VOLUME_TYPES, f"volume {volume['name']}: {kinds}"
    assert pod.get("automountServiceAccountToken") is False, "pod automounts a token"
    tokens = [
        s["serviceAccountToken"]
        for v in pod.get("volumes", [])
        for s in v.get("projected", {}).get("sources", [])
        if "serviceAccountToken" in s
    ]
    expiry = values.get("serviceAccount", {}).get("tokenExpirationSeconds", 3600)
    assert tokens == [{"path": "token", "expirationSeconds": expiry}], tokens
    service_account = by_kind(docs, "ServiceAccount")
    assert all(sa.get("automountServiceAccountToken") is False for sa in service_account)
    assert not by_kind(docs, "Secret"), "no long-lived token Secret"


def check_deployment_wiring(docs: list[dict], values: dict) -> None:
    """Probes on the emitter's real endpoints, replicas, spread, PDB and Service."""
    deployment = one(docs, "Deployment")
    pod = deployment["spec"]["template"]["spec"]
    c = pod["containers"][0]
    assert c["args"] == ["run"], c["args"]
    assert c["ports"] == [{"name": "http", "containerPort": 8080, "protocol": "TCP"}], c["ports"]
    assert c["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}
    assert env_of(c)["EVENTKEEPER_LISTEN"] == "0.0.0.0:8080"
    assert c["resources"]["requests"] and c["resources"]["limits"]
    replicas = values.get("replicaCount", 2)
    assert deployment["spec"]["replicas"] == replicas
    env = env_of(c)
    leader = values.get("leaderElection", {}).get("enabled", True)
    assert env["EVENTKEEPER_LEADER_ELECTION"] == str(leader).lower(), env
    lease = values.get("leaderElection", {}).get("leaseName") or DEFAULT_LEASE
    assert env["EVENTKEEPER_LEASE_NAME"] == lease
    assert env["EVENTKEEPER_LEASE_NAMESPACE"] == NAMESPACE
    assert env["EVENTKEEPER_CLUSTER_NAME"] == CLUSTER
    spread = pod["topologySpreadConstraints"]
    if values.get("topologySpreadConstraints"):
        assert spread == values["topologySpreadConstraints"], spread
    else:
        assert spread[0]["topologyKey"] == "kubernetes.io/hostname", spread
        assert spread[0]["labelSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    pdb = one(docs, "PodDisruptionBudget")
    assert pdb["spec"]["selector"] == deployment["spec"]["selector"]
    assert pdb["spec"]["maxUnavailable"] == 1, "a PDB that never blocks a single replica's drain"
    svc = one(docs, "Service")
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(labels.get(k) == v for k, v in svc["spec"]["selector"].items()), "Service selects the pods"
    if values.get("networkPolicy", {}).get("enabled", True):
        policy = one(docs, "NetworkPolicy")
        assert policy["spec"]["podSelector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
    else:
        assert not by_kind(docs, "NetworkPolicy")
    image_values = {"registry": "ghcr.io", "repository": "eventkeeper/eventkeeper-emitter", "tag": "0.1.0",
                    **values.get("image", {})}
    registry = values.get("global", {}).get("imageRegistry") or image_values["registry"]
    reference = f"{registry}/{image_values['repository']}" if registry else image_values["repository"]
    if image_values.get("digest"):
        assert c["image"] == f"{reference}@{image_values['digest']}", c["image"]
    else:
        assert c["image"] == f"{reference}:{image_values['tag']}", c["image"]
    for doc in docs:
        if doc["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert doc["metadata"].get("namespace") == NAMESPACE, f"{doc['kind']} has no namespace"


def check_case_specifics(case: str, docs: list[dict], rendered: dict[str, str]) -> None:
    env = env_of(one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0])
    if case == "filters":
        assert env["EVENTKEEPER_NAMESPACES"] == "team-a,team-b", env
        assert env["EVENTKEEPER_INCLUDE"] == "type=Warning;kind=Pod,Node reason=Failed*", env
        assert env["EVENTKEEPER_EXCLUDE"] == "namespace=kube-system type=Normal", env
        assert env["EVENTKEEPER_MAX_LINE_BYTES"] == "8192"
        assert (env["EVENTKEEPER_LOG_FORMAT"], env["EVENTKEEPER_LOG_LEVEL"]) == ("text", "debug")
    else:
        for key in ("EVENTKEEPER_NAMESPACES", "EVENTKEEPER_INCLUDE", "EVENTKEEPER_EXCLUDE"):
            assert key not in env, f"{key} set without a value: the emitter's default is meant"
    values = MATRIX[case]
    if case == "service-monitor":
        monitor = one(docs, "ServiceMonitor")
        assert monitor["metadata"]["labels"]["release"] == "prometheus"
        endpoint = monitor["spec"]["endpoints"][0]
        assert endpoint["relabelings"] == values["serviceMonitor"]["relabelings"], endpoint
        assert endpoint["metricRelabelings"] == values["serviceMonitor"]["metricRelabelings"], endpoint
    else:
        assert not by_kind(docs, "ServiceMonitor")
    if values.get("podMonitor", {}).get("enabled"):
        monitor = one(docs, "PodMonitor")
        deployment = one(docs, "Deployment")
        assert monitor["spec"]["selector"]["matchLabels"] == deployment["spec"]["selector"]["matchLabels"]
        assert monitor["spec"]["podMetricsEndpoints"][0]["relabelings"] == values["podMonitor"]["relabelings"]
        assert not by_kind(docs, "Service") or not by_kind(docs, "ServiceMonitor")
    else:
        assert not by_kind(docs, "PodMonitor")
    if values.get("prometheusRule", {}).get("enabled"):
        rules = one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
        assert [r["alert"] for r in rules] == ["EventkeeperCheckpointStale", "EventkeeperNoLeader",
                                               "EventkeeperForbidden"], rules
        age = values["prometheusRule"].get("checkpointAgeSeconds", 60)
        assert rules[0]["expr"].endswith(f"> {age}"), rules[0]["expr"]
        for rule in rules:
            assert rule["labels"] == values["prometheusRule"].get("alertLabels", {"severity": "warning"}), rule
            assert f'namespace="{NAMESPACE}"' in rule["expr"], rule["expr"]
    else:
        assert not by_kind(docs, "PrometheusRule")
    if case == "adapted":
        check_adapted(docs, values)
    notes = next(text for path, text in rendered.items() if path.endswith("NOTES.txt"))
    assert f"/aws/containerinsights/{CLUSTER}/application" in notes, "NOTES names the log group"
    assert "log_processed." in notes and "| sort @timestamp desc" in notes, "NOTES has a query"


def check_adapted(docs: list[dict], values: dict) -> None:
    """Each adaptation knob lands where its users expect it."""
    deployment = one(docs, "Deployment")
    template = deployment["spec"]["template"]
    pod = template["spec"]
    c = pod["containers"][0]
    for doc in docs:
        assert doc["metadata"]["labels"].get("team") == "platform", f"{doc['kind']} lacks commonLabels"
    assert "team" not in deployment["spec"]["selector"]["matchLabels"], "commonLabels must stay out of selectors"
    assert template["metadata"]["labels"]["team"] == "platform"
    assert template["metadata"]["labels"]["cost-centre"] == "c42"
    assert template["metadata"]["annotations"] == values["podAnnotations"]
    assert pod["imagePullSecrets"] == [{"name": "regcred"}]
    assert c["env"][-len(values["extraEnv"]):] == values["extraEnv"], c["env"][-3:]
    assert c["envFrom"] == values["envFrom"]
    assert values["extraVolumes"][0] in pod["volumes"], pod["volumes"]
    assert values["extraVolumeMounts"][0] in c["volumeMounts"], c["volumeMounts"]
    # Helm merges a user's map into the default one (a key is removed by setting it to null).
    assert values["podSecurityContext"].items() <= pod["securityContext"].items(), pod["securityContext"]
    assert values["securityContext"].items() <= c["securityContext"].items(), c["securityContext"]


def check_catch_up_rbac(case: str, docs: list[dict]) -> None:
    """Catch-up access: a group (the Lambda's EKS access entry) gets events get/list cluster-wide
    and get/update on this release's Lease only. Absent unless turned on."""
    bound = [
        d for d in docs
        if d["kind"] in ("ClusterRoleBinding", "RoleBinding")
        and any(s["kind"] == "Group" for s in d["subjects"])
    ]
    if case != "catch-up":
        assert not bound, "catch-up access is off by default"
        return
    assert len(bound) == 2, bound
    for binding in bound:
        assert binding["subjects"] == [
            {"kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "eventkeeper-catchup"}
        ], binding["subjects"]
    roles = {(d["kind"], d["metadata"]["name"]): d for d in docs if d["kind"] in ("ClusterRole", "Role")}
    cluster_binding = next(b for b in bound if b["kind"] == "ClusterRoleBinding")
    role_binding = next(b for b in bound if b["kind"] == "RoleBinding")
    cluster_role = roles[("ClusterRole", cluster_binding["roleRef"]["name"])]
    role = roles[("Role", role_binding["roleRef"]["name"])]
    assert cluster_role["rules"] == [
        {"apiGroups": [""], "resources": ["events"], "verbs": ["get", "list"]}
    ], cluster_role["rules"]
    assert role["metadata"]["namespace"] == NAMESPACE
    assert role["rules"] == [
        {"apiGroups": ["coordination.k8s.io"], "resources": ["leases"],
         "resourceNames": [RELEASE], "verbs": ["get", "update"]}
    ], role["rules"]


# ---------------------------------------------------------------------------------------------
# Checks against the real emitter binary.


@functools.cache
def emitter_output(emitter: str, *args: str) -> str:
    proc = subprocess.run([emitter, *args], capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, (
        f"`eventkeeper-emitter {' '.join(args)}` exited {proc.returncode}: the chart cannot be "
        f"checked against the emitter until it implements this.\n{proc.stderr.strip()[:600]}"
    )
    return proc.stdout


def emitter_grants(docs: list[dict]) -> set[tuple[str, str, str, str]]:
    """(apiGroup, resource, verb, scope) granted to the emitter's ServiceAccount."""
    sa = {("ServiceAccount", s["metadata"]["name"]) for s in by_kind(docs, "ServiceAccount")}
    roles = {(d["kind"], d["metadata"]["name"]): d for d in docs if d["kind"] in ("ClusterRole", "Role")}
    grants = set()
    for binding in docs:
        if binding["kind"] not in ("ClusterRoleBinding", "RoleBinding"):
            continue
        if not any((s["kind"], s["name"]) in sa for s in binding["subjects"]):
            continue
        role = roles[(binding["roleRef"]["kind"], binding["roleRef"]["name"])]
        scope = "cluster" if role["kind"] == "ClusterRole" else "namespace"
        for rule in role["rules"]:
            assert "nonResourceURLs" not in rule, rule
            for group in rule["apiGroups"]:
                for resource in rule["resources"]:
                    for verb in rule["verbs"]:
                        assert "*" not in (group, resource, verb), f"wildcard in {rule}"
                        grants.add((group, resource, verb, scope))
    return grants


def check_rbac_matches_emitter(emitter: str, docs: list[dict], values: dict) -> None:
    out = emitter_output(emitter, "print-rbac")
    try:
        wanted_rules = json.loads(out)
    except json.JSONDecodeError as err:
        raise AssertionError(f"print-rbac printed no JSON ({err}): {out[:300]!r}") from None
    assert isinstance(wanted_rules, list) and wanted_rules, f"print-rbac printed {out[:300]!r}"
    wanted = set()
    for rule in wanted_rules:
        assert rule["scope"] in ("cluster", "namespace"), rule
        for verb in rule["verbs"]:
            wanted.add((rule["apiGroup"], rule["resource"], verb, rule["scope"]))
    granted = emitter_grants(docs)
    assert granted == wanted, (
        f"chart grants more: {sorted(granted - wanted)}; chart lacks: {sorted(wanted - granted)}"
    )
    # Namespaced grants are limited to the release's own Lease, and its watch heartbeat Event,
    # wherever Kubernetes allows it.
    lease = values.get("leaderElection", {}).get("leaseName") or DEFAULT_LEASE
    own = {"leases": lease, "events": f"{lease}.watch-heartbeat"}
    for role in by_kind(docs, "Role"):
        if role["metadata"]["name"].endswith("-catchup"):
            continue
        for rule in role["rules"]:
            nameable = set(rule["verbs"]) & NAMEABLE_VERBS
            if nameable:
                for resource in rule["resources"]:
                    assert rule.get("resourceNames") == [own[resource]], (
                        f"{rule} not limited to {own[resource]}"
                    )


def check_env_matches_emitter(emitter: str, rendered_cases: dict[str, list[dict]]) -> None:
    """Every variable the chart sets is one the emitter reads, and every setting the emitter
    reads is exposed by the chart (KUBECONFIG excepted: in-cluster config)."""
    help_text = emitter_output(emitter, "run", "--help")
    known = set(re.findall(r"\[env: ([A-Z0-9_]+)[=\]]", help_text))
    assert known, f"`run --help` names no env vars:\n{help_text[:600]}"
    chart_sets: set[str] = set()
    for case, docs in rendered_cases.items():
        container = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
        extra = {e["name"] for e in MATRIX[case].get("extraEnv", [])}
        names = {e["name"] for e in container["env"]} - {"POD_NAME", "POD_NAMESPACE"} - extra
        unknown = names - known
        assert not unknown, f"the chart sets variables the emitter does not read: {sorted(unknown)}"
        chart_sets |= names
    missing = known - chart_sets - {"KUBECONFIG"}
    assert not missing, f"emitter settings the chart does not expose: {sorted(missing)}"


KUBECONFIG = """apiVersion: v1
kind: Config
clusters: [{name: nowhere, cluster: {server: "https://127.0.0.1:9", insecure-skip-tls-verify: true}}]
users: [{name: nobody, user: {token: none}}]
contexts: [{name: nowhere, context: {cluster: nowhere, user: nobody}}]
current-context: nowhere
"""
CONFIG_ERROR = 64  # the emitter's exit status for bad configuration


def run_emitter_with(emitter: str, env: dict[str, str], tmp: Path) -> tuple[int | None, str]:
    """Starts `eventkeeper-emitter run` with `env` against an API address where nothing listens;
    returns (exit status or None if still running after 3 s, stderr)."""
    kubeconfig = tmp / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    full = {"PATH": os.environ.get("PATH", ""), **env, "KUBECONFIG": str(kubeconfig),
            # Only loopback networking here; the chart's 0.0.0.0:8080 is checked above.
            "EVENTKEEPER_LISTEN": "127.0.0.1:0"}
    proc = subprocess.Popen([emitter, "run"], env=full, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    try:
        proc.wait(timeout=3)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)
        return None, proc.stderr.read()
    return proc.returncode, proc.stderr.read()


def check_env_accepted_by_emitter(emitter: str, docs: list[dict], tmp: Path) -> None:
    """The real binary accepts the rendered settings (its config errors exit 64 before any work),
    and the check can tell: a broken duration is refused."""
    container = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    env = {"POD_NAME": "eventkeeper-7d4b9c-x2x7q", "POD_NAMESPACE": NAMESPACE}
    for item in container["env"]:
        if "value" in item:
            env[item["name"]] = item["value"].replace("$(POD_NAME)", env["POD_NAME"])
    status, stderr = run_emitter_with(emitter, env, tmp)
    assert status != CONFIG_ERROR, f"the emitter refused the chart's configuration: {stderr.strip()[:600]}"
    status, stderr = run_emitter_with(emitter, {**env, "EVENTKEEPER_STALL_TIMEOUT": "3 minutes"}, tmp)
    assert status == CONFIG_ERROR, f"a bad duration was not refused (exit {status}): {stderr.strip()[:300]}"


# ---------------------------------------------------------------------------------------------
# The default Deployment, run for real: two emitters with the rendered settings against the
# simulator (a Kubernetes API for Events and Leases), checked through the chart's own probes.

SIM_TOKEN = "chart-check-token"


class Processes:
    """Child processes, always stopped at the end."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen] = []

    def start(self, *args, **kwargs) -> subprocess.Popen:
        proc = subprocess.Popen(*args, **kwargs)
        self.procs.append(proc)
        return proc

    def __enter__(self) -> "Processes":
        return self

    def __exit__(self, *exc) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait(timeout=10)


def check_deployment_runs(emitter: str, sim: str, docs: list[dict], tmp: Path) -> None:
    pod = one(docs, "Deployment")["spec"]["template"]["spec"]
    container = pod["containers"][0]
    grace = pod["terminationGracePeriodSeconds"]
    probes = {"livez": container["livenessProbe"]["httpGet"]["path"],
              "readyz": container["readinessProbe"]["httpGet"]["path"]}
    env_values = {e["name"]: e["value"] for e in container["env"] if "value" in e}
    lease_ns, lease_name = env_values["EVENTKEEPER_LEASE_NAMESPACE"], env_values["EVENTKEEPER_LEASE_NAME"]
    kubeconfig = tmp / "sim-kubeconfig"
    with Processes() as procs:
        sim_proc = procs.start(
            [sim, "--listen", "127.0.0.1:0", "--kubeconfig-out", str(kubeconfig), "--scenario", "seeds",
             "--tls", "--auth", "static", "--token", SIM_TOKEN],
            stdout=subprocess.PIPE, stderr=open(tmp / "sim.stderr", "w"), text=True,
        )
        ready = select.select([sim_proc.stdout], [], [], 30)[0]
        assert ready, "the simulator did not start within 30 s"
        line = sim_proc.stdout.readline().strip()
        assert line.startswith("listening on https://"), line
        server = line.removeprefix("listening on ")
        cluster = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]
        ca = ssl.create_default_context(cadata=base64.b64decode(cluster["certificate-authority-data"]).decode())

        replicas = {}
        for name in ("eventkeeper-7d4b9c-aaaaa", "eventkeeper-7d4b9c-bbbbb"):
            port = free_port()
            env = {"PATH": os.environ.get("PATH", ""), "POD_NAME": name, "POD_NAMESPACE": NAMESPACE,
                   **{k: v.replace("$(POD_NAME)", name) for k, v in env_values.items()},
                   "KUBECONFIG": str(kubeconfig), "EVENTKEEPER_LISTEN": f"127.0.0.1:{port}"}
            out = tmp / f"{name}.stdout"
            proc = procs.start([emitter, *container["args"]], env=env, stdout=open(out, "w"),
                               stderr=open(tmp / f"{name}.stderr", "w"))
            replicas[name] = (proc, f"http://127.0.0.1:{port}", out)

        for name, (proc, base, _) in replicas.items():
            wait_for(f"{name} {probes['livez']} 200",
                     lambda base=base: http_get(base + probes["livez"])[0] == 200, 30)

        def holder() -> str | None:
            status, body = http_get(f"{server}/apis/coordination.k8s.io/v1/namespaces/{lease_ns}/leases/{lease_name}",
                                    token=SIM_TOKEN, ca=ca)
            return json.loads(body)["spec"].get("holderIdentity") if status == 200 else None

        wait_for(f"a holder of Lease {lease_ns}/{lease_name} (the name the Role grants)", lambda: holder() in replicas, 40)
        leader = holder()
        standby = next(n for n in replicas if n != leader)
        wait_for("the leader's readiness", lambda: http_get(replicas[leader][1] + probes["readyz"])[0] == 200, 40)
        status, body = http_get(replicas[standby][1] + probes["readyz"])
        assert (status, body.strip()) == (200, "standby"), f"standby {probes['readyz']}: {status} {body!r}"
        wait_for("records on the leader's stdout", lambda: replicas[leader][2].stat().st_size > 0, 30)
        status, metrics = http_get(replicas[leader][1] + "/metrics")
        assert status == 200 and "eventkeeper_" in metrics, f"/metrics: {status}"
        LEADER_METRICS.append(metrics)
        time.sleep(1)
        records = [json.loads(l) for l in replicas[leader][2].read_text().splitlines() if l.strip()]
        assert records and all(r["cluster"] == CLUSTER for r in records), records[:1]
        assert replicas[standby][2].read_text() == "", "the standby wrote records"
        # Stopping: both exit cleanly well within terminationGracePeriodSeconds.
        started = time.monotonic()
        for proc, _, _ in replicas.values():
            proc.send_signal(signal.SIGTERM)
        for name, (proc, _, _) in replicas.items():
            try:
                code = proc.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                raise AssertionError(f"{name} still running {grace} s after SIGTERM") from None
            assert code == 0, f"{name} exited {code} after SIGTERM"
        print(f"      leader {leader}: {len(records)} records; both stopped "
              f"{time.monotonic() - started:.1f} s after SIGTERM (grace {grace} s)")


LEADER_METRICS: list[str] = []  # the running leader's /metrics, for check_alert_rules


def check_alert_rules(promql_python: str, docs: list[dict]) -> None:
    """The PrometheusRule's expressions parse as PromQL (promql-parser) and name only metrics
    (and labels) the real emitter exports."""
    assert LEADER_METRICS, "no /metrics from a running emitter (the Deployment run failed)"
    exported = set(re.findall(r"^# TYPE (eventkeeper_[a-z_]+) ", LEADER_METRICS[0], re.M))
    rules = one(docs, "PrometheusRule")["spec"]["groups"][0]["rules"]
    parse = subprocess.run(
        [promql_python, "-c", "import json, sys, promql_parser\nfor e in json.load(sys.stdin): promql_parser.parse(e)"],
        input=json.dumps([r["expr"] for r in rules]), capture_output=True, text=True, timeout=60)
    assert parse.returncode == 0, f"PromQL does not parse: {parse.stderr.strip()[-400:]}"
    for rule in rules:
        for name in re.findall(r"\b(eventkeeper_[a-z_]+)\b", rule["expr"]):
            # OpenMetrics names a counter's family without its `_total` sample suffix.
            family = re.sub(r"_(bucket|sum|count|total)$", "", name)
            assert name in exported or family in exported, f"{rule['alert']}: {name} is not exported ({sorted(exported)})"
    assert re.search(r'^eventkeeper_api_errors_total\{class="forbidden"\} ', LEADER_METRICS[0], re.M), \
        "the emitter exports no eventkeeper_api_errors_total{class=\"forbidden\"} series"


# ---------------------------------------------------------------------------------------------
# values.schema.json and template guards.


def check_rejected(values: dict, needle: str) -> None:
    try:
        render(values)
    except (hp.HelmValuesError, hp.HelmRenderError) as err:
        assert needle in str(err), f"rejected, but the message does not name {needle!r}: {err}"
        return
    raise AssertionError(f"rendered without error: {values}")


# ---------------------------------------------------------------------------------------------
# docs/log-pipeline.md: the shipper configurations select the pods this chart makes.


def check_pipeline_guide(docs: list[dict]) -> None:
    guide = (REPO / "docs" / "log-pipeline.md").read_text()
    config_text = (REPO / "docs" / "vector" / "vector.yaml").read_text()
    # The guide quotes the config file verbatim, without its leading comment lines.
    body = "".join(
        line for i, line in enumerate(config_text.splitlines(keepends=True))
        if i >= next(n for n, l in enumerate(config_text.splitlines()) if not l.startswith("#"))
    )
    assert f"```yaml\n{body}```" in guide, "the guide does not quote docs/vector/vector.yaml verbatim"
    config = yaml.safe_load(config_text)
    assert config["sources"]["pods"]["type"] == "kubernetes_logs"
    split = config["transforms"]["split"]
    assert split["type"] == "route" and split["inputs"] == ["pods"]
    remap = config["transforms"]["eventkeeper_records"]
    assert remap == {"type": "remap", "inputs": ["split.eventkeeper"], "file": "/etc/vector/eventkeeper.vrl"}
    sinks = config["sinks"]
    assert sinks["eventkeeper_cloudwatch"]["type"] == "aws_cloudwatch_logs"
    assert sinks["eventkeeper_cloudwatch"]["inputs"] == ["eventkeeper_records"]
    assert sinks["eventkeeper_cloudwatch"]["encoding"] == {"codec": "json"}
    assert sinks["application_cloudwatch"]["inputs"] == ["split._unmatched"]
    assert sinks["eventkeeper_cloudwatch"]["group_name"] != sinks["application_cloudwatch"]["group_name"]
    # The route condition matches the pods and container this chart renders, stdout only.
    pod = one(docs, "Deployment")["spec"]["template"]
    condition = split["route"]["eventkeeper"]
    labels = dict(re.findall(r'\.kubernetes\.pod_labels\."([^"]+)" == "([^"]+)"', condition))
    assert labels, condition
    for key, value in labels.items():
        assert pod["metadata"]["labels"].get(key) == value, f"route wants {key}={value}; pods have {pod['metadata']['labels']}"
    containers = re.findall(r'\.kubernetes\.container_name == "([^"]+)"', condition)
    assert containers == [pod["spec"]["containers"][0]["name"]], containers
    assert '.stream == "stdout"' in condition
    # The Fluent Bit rewrite_tag rule keys on a label the pods carry.
    rule = re.search(r"Rule +\$kubernetes\['labels'\]\['([^']+)'\] \^([^$ ]+)\$", guide)
    assert rule, "no rewrite_tag rule in the guide"
    assert pod["metadata"]["labels"].get(rule.group(1)) == rule.group(2), rule.groups()
    # Container Insights facts the guide and NOTES rely on.
    assert "/aws/containerinsights/<cluster>/application" in guide and "log_processed." in guide
    assert "mergeLogKey: data" in guide


EXAMPLE = CHART / "examples" / "defaults.yaml"


def check_committed_example(text: str) -> None:
    """charts/eventkeeper/examples/defaults.yaml is the committed default rendering, for reviewers
    to read without running Helm; it must not drift (EVENTKEEPER_UPDATE_GENERATED=1 rewrites it)."""
    header = (
        "# Generated by `make chart-check` (EVENTKEEPER_UPDATE_GENERATED=1 to rewrite): the chart\n"
        "# rendered with `--set clusterName=demo`, release and namespace `eventkeeper`.\n"
    )
    wanted = header + text
    if os.environ.get("EVENTKEEPER_UPDATE_GENERATED") == "1":
        EXAMPLE.parent.mkdir(exist_ok=True)
        EXAMPLE.write_text(wanted)
    current = EXAMPLE.read_text() if EXAMPLE.exists() else ""
    assert current == wanted, (
        f"{EXAMPLE.relative_to(REPO)} differs from the rendering: run "
        "`EVENTKEEPER_UPDATE_GENERATED=1 make chart-check` and commit it"
    )


def check_lease_for_any_release() -> None:
    """`helm install prod-events ...` still names the Lease the catch-up looks for by default; the
    Role, the emitter's environment and the catch-up RBAC agree on it."""
    emitter_rs = (REPO / "emitter" / "src" / "config.rs").read_text()
    catchup_rs = (REPO / "lambda" / "src" / "config.rs").read_text()
    settings_rs = (REPO / "cli" / "src" / "settings.rs").read_text()
    # Both binaries take the default from the one definition in the cli crate.
    assert f'pub const DEFAULT_LEASE_NAME: &str = "{DEFAULT_LEASE}";' in settings_rs, \
        "cli/src/settings.rs's default Lease name is not " + DEFAULT_LEASE
    for source in (emitter_rs, catchup_rs):
        assert 'env = "EVENTKEEPER_LEASE_NAME", default_value = DEFAULT_LEASE_NAME' in source, \
            "the emitter's or the catch-up's Lease name does not default to DEFAULT_LEASE_NAME"
    for release in ("prod-events", "eventkeeper-2"):
        docs = documents(render({"clusterName": CLUSTER, "catchUpAccess": {"enabled": True}}, name=release))
        env = env_of(one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0])
        assert env["EVENTKEEPER_LEASE_NAME"] == DEFAULT_LEASE, (release, env["EVENTKEEPER_LEASE_NAME"])
        assert env["EVENTKEEPER_LEASE_NAMESPACE"] == NAMESPACE
        named = {tuple(r.get("resourceNames", [])) for role in by_kind(docs, "Role") for r in role["rules"]
                 if r.get("resourceNames")}
        assert named == {(DEFAULT_LEASE,), (f"{DEFAULT_LEASE}.watch-heartbeat",)}, (release, named)


def check_values_documented() -> None:
    """Every key of values.schema.json is in the chart README's table (or a parent key is)."""
    schema = json.loads((CHART / "values.schema.json").read_text())
    readme = (CHART / "README.md").read_text()
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    documented = set(re.findall(r"`([A-Za-z0-9_.*]+)`", readme))

    def leaves(node: dict, prefix: str) -> list[str]:
        props = node.get("properties")
        if not props:
            return [prefix]
        return [leaf for key, sub in props.items() for leaf in leaves(sub, f"{prefix}{key}.")]

    missing = []
    for leaf in leaves(schema, ""):
        path = leaf.rstrip(".")
        if path == "global":
            continue
        parts = path.split(".")
        prefixes = [".".join(parts[:i]) for i in range(1, len(parts) + 1)]
        if not any(p in documented or f"{p}.*" in documented for p in prefixes):
            missing.append(path)
    assert not missing, f"values missing from charts/eventkeeper/README.md: {missing}"
    undeclared = set(values) - set(schema["properties"])
    assert not undeclared, f"values.yaml keys without a schema: {undeclared}"


# ---------------------------------------------------------------------------------------------


def check_checkov(checkov: str, out: Path) -> None:
    proc = subprocess.run(
        [checkov, "--config-file", str(HERE / "checkov.yaml"), "-d", str(out), "-o", "json"],
        capture_output=True, text=True, timeout=600,
    )
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        raise AssertionError(f"checkov printed no JSON (exit {proc.returncode}): {proc.stderr[-800:]}") from None
    reports = report if isinstance(report, list) else [report]
    failed = [c for r in reports for c in r["results"]["failed_checks"]]
    parsing = [e for r in reports for e in r["results"].get("parsing_errors", [])]
    passed = sum(r["summary"]["passed"] for r in reports)
    assert not parsing, f"checkov could not parse: {parsing}"
    assert passed > 0, "checkov passed nothing: did it scan the manifests?"
    assert not failed, "\n".join(
        f"{c['check_id']} {c['check_name']}: {c['resource']} ({c['file_path']})" for c in failed
    )
    skipped = yaml.safe_load((HERE / "checkov.yaml").read_text()).get("skip-check", [])
    print(f"      checkov: {passed} passed, 0 failed; not run, with reasons in checkov.yaml: {skipped}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emitter", required=True, help="the eventkeeper-emitter binary")
    parser.add_argument("--checkov", required=True, help="the checkov executable")
    parser.add_argument("--yamllint", required=True, help="the yamllint executable")
    parser.add_argument("--sim", required=True, help="the eventkeeper-sim binary")
    parser.add_argument("--out", required=True, type=Path, help="directory for rendered manifests")
    parser.add_argument("--promql-python", required=True, help="a Python with promql-parser")
    args = parser.parse_args()

    checks = Checks()
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("*.yaml"):
        old.unlink()

    rendered_cases: dict[str, list[dict]] = {}
    for case, values in MATRIX.items():
        outcome: dict[str, dict[str, str]] = {}
        checks.run(f"{case}: render", lambda v=values, o=outcome: o.update(rendered=render(v)))
        if "rendered" not in outcome:
            continue
        rendered = outcome["rendered"]
        file = args.out / f"{case}.yaml"
        file.write_text(manifest_text(rendered))
        docs = documents(rendered)
        rendered_cases[case] = docs
        if case == "defaults":
            checks.run("committed example rendering is current",
                       lambda text=manifest_text(rendered): check_committed_example(text))
        checks.run(f"{case}: helm lint --strict ({', '.join(KUBE_VERSIONS)})", lambda v=values: check_lint(v))
        checks.run(f"{case}: kubernetes-validate --strict ({', '.join(KUBE_VERSIONS)})",
                   lambda d=docs: check_kubernetes_validate(d))
        checks.run(f"{case}: yamllint", lambda f=file: check_yamllint(args.yamllint, f))
        checks.run(f"{case}: restricted Pod Security fields",
                   lambda d=docs, v=values: check_restricted_pod_security(d, v))
        checks.run(f"{case}: probes, replicas, spread, PDB, Service, NetworkPolicy",
                   lambda d=docs, v=values: check_deployment_wiring(d, v))
        checks.run(f"{case}: case settings and NOTES",
                   lambda c=case, d=docs, r=rendered: check_case_specifics(c, d, r))
        checks.run(f"{case}: catch-up access", lambda c=case, d=docs: check_catch_up_rbac(c, d))
        checks.run(f"{case}: the emitter accepts the rendered settings",
                   lambda d=docs: check_env_accepted_by_emitter(args.emitter, d, args.out))
        checks.run(f"{case}: RBAC equals `eventkeeper-emitter print-rbac`",
                   lambda d=docs, v=values: check_rbac_matches_emitter(args.emitter, d, v))

    if "defaults" in rendered_cases:
        checks.run("the default Deployment runs: probes, leader and standby, Lease, SIGTERM",
                   lambda: check_deployment_runs(args.emitter, args.sim, rendered_cases["defaults"], args.out))
    if "adapted" in rendered_cases:
        checks.run("PrometheusRule: PromQL parses, metrics are the emitter's",
                   lambda: check_alert_rules(args.promql_python, rendered_cases["adapted"]))
    checks.run("environment equals the emitter's `run --help`",
               lambda: check_env_matches_emitter(args.emitter, rendered_cases))
    for what, (values, needle) in REJECTED.items():
        checks.run(f"rejects {what}", lambda v=values, n=needle: check_rejected(v, n))
    checks.run("every value is documented in the chart README", check_values_documented)
    checks.run("the Lease is the emitter's and catch-up's default for any release name",
               check_lease_for_any_release)
    if "defaults" in rendered_cases:
        checks.run("docs/log-pipeline.md routes this chart's pods",
                   lambda: check_pipeline_guide(rendered_cases["defaults"]))
    checks.run("checkov --framework kubernetes", lambda: check_checkov(args.checkov, args.out))

    print(f"chart-check: {checks.passed} passed, {len(checks.failed)} failed")
    return 1 if checks.failed else 0


if __name__ == "__main__":
    sys.exit(main())
