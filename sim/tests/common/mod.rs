//! Helpers shared by the conformance tests: the test support's HTTP client and watch-stream
//! reader (from `eventkeeper-tests`), external tools found through environment variables, and
//! commands run with a time limit.

#![allow(dead_code)]

use eventkeeper_sim::{SimConfig, Simulator, StoreConfig, Window};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;
use std::time::Duration;

/// The path in `var`, or None after a loud SKIPPED line on stderr. Under `make test`
/// (`EVENTKEEPER_REQUIRE_PEERS` set), where the tool is installed, a missing one is a failure.
pub fn tool(var: &str, what: &str) -> Option<PathBuf> {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        Some(p) if PathBuf::from(&p).exists() => Some(PathBuf::from(p)),
        _ => {
            assert!(
                std::env::var_os("EVENTKEEPER_REQUIRE_PEERS").is_none(),
                "{what} is missing ({var}), but `make test` installs it"
            );
            eprintln!("SKIPPED: needs {what} (set {var}; `make test` sets it)");
            None
        }
    }
}

/// kubectl from EVENTKEEPER_KUBECTL, else /usr/bin/kubectl when present.
pub fn kubectl() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("EVENTKEEPER_KUBECTL").filter(|v| !v.is_empty()) {
        let p = PathBuf::from(p);
        if p.exists() {
            return Some(p);
        }
    }
    let fallback = PathBuf::from("/usr/bin/kubectl");
    if fallback.exists() {
        return Some(fallback);
    }
    // Under `make test`, which installs kubectl, a missing one is a failure, not a skip.
    assert!(
        std::env::var_os("EVENTKEEPER_REQUIRE_PEERS").is_none(),
        "kubectl is missing (EVENTKEEPER_KUBECTL), but `make test` installs it"
    );
    eprintln!(
        "SKIPPED: needs kubectl (set EVENTKEEPER_KUBECTL, or install kubectl / Debian kubernetes-client)"
    );
    None
}

// Each test binary includes this module and uses part of it.
#[allow(unused_imports)]
pub use eventkeeper_tests::http::{get, post_json, request, watch_until};

/// Runs a command with a time limit (kills it when over).
pub async fn run(cmd: &mut tokio::process::Command, limit: Duration) -> Output {
    cmd.kill_on_drop(true);
    cmd.stdin(std::process::Stdio::null());
    let child = cmd.output();
    tokio::time::timeout(limit, child)
        .await
        .unwrap_or_else(|_| panic!("command timed out after {limit:?}: {cmd:?}"))
        .expect("command starts")
}

/// A simulator serving HTTPS with a CA it generates.
pub async fn start_tls() -> Simulator {
    Simulator::start(SimConfig {
        tls: true,
        ..SimConfig::default()
    })
    .await
    .expect("simulator starts")
}

/// A simulator whose Event watches come from a watch cache of `size` changes, bookmarking every
/// 100 ms (the API server's cache, where etcd serves no bookmarks).
pub fn watch_cache(size: usize) -> SimConfig {
    SimConfig {
        store: StoreConfig {
            window: Window::WatchCache(size),
            ..StoreConfig::default()
        },
        bookmark_interval: Duration::from_millis(100),
        ..SimConfig::default()
    }
}

/// A simulator holding `events`, and a kubeconfig for it in a temporary directory that lives as
/// long as the returned guard: what a client under test needs.
pub async fn start_with_kubeconfig(
    cfg: SimConfig,
    events: impl IntoIterator<Item = Value>,
) -> (Simulator, tempfile::TempDir, PathBuf) {
    let sim = Simulator::start(cfg).await.expect("simulator starts");
    for e in events {
        sim.create_event(&e).expect("event");
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let kubeconfig = dir.path().join("kubeconfig");
    sim.write_kubeconfig(&kubeconfig).expect("kubeconfig");
    (sim, dir, kubeconfig)
}

/// A minimal core/v1 Event for `POST /_sim/events` or `Simulator::create_event`.
pub fn event(ns: &str, pod: &str, ty: &str, reason: &str, message: &str) -> Value {
    serde_json::json!({
        "metadata": {"namespace": ns},
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns, "apiVersion": "v1"},
        "type": ty, "reason": reason, "message": message,
        "source": {"component": "kubelet", "host": "node-1"},
    })
}
