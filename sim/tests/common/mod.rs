//! Helpers shared by the conformance tests: a raw HTTP client, watch-stream readers, external
//! tools found through environment variables, and commands run with a time limit.

#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
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

/// A response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(500)])
            )
        })
    }
}

/// One request with a body and headers, 10 s limit.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let mut b = http::Request::builder().method(method).uri(url);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let req = b
        .body(Full::new(Bytes::from(body.unwrap_or("").to_owned())))
        .expect("request");
    let resp = tokio::time::timeout(Duration::from_secs(10), client.request(req))
        .await
        .expect("request timed out")
        .expect("request failed");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = tokio::time::timeout(Duration::from_secs(10), resp.into_body().collect())
        .await
        .expect("body timed out")
        .expect("body")
        .to_bytes();
    Reply {
        status,
        headers,
        body,
    }
}

pub async fn get(url: &str) -> Reply {
    request("GET", url, &[], None).await
}

pub async fn post_json(url: &str, body: &Value) -> Reply {
    request(
        "POST",
        url,
        &[("content-type", "application/json")],
        Some(&body.to_string()),
    )
    .await
}

/// Reads a watch stream until `stop` says so, the server ends it, or `limit` passes; returns
/// the events (parsed lines) and whether the server ended the stream.
pub async fn watch_until(
    url: &str,
    limit: Duration,
    mut stop: impl FnMut(&[Value]) -> bool,
) -> (Vec<Value>, bool) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    let req = http::Request::get(url)
        .body(Full::new(Bytes::new()))
        .expect("request");
    let deadline = tokio::time::Instant::now() + limit;
    let resp = tokio::time::timeout_at(deadline, client.request(req))
        .await
        .expect("watch request timed out")
        .expect("watch request failed");
    assert_eq!(resp.status(), 200, "watch status");
    let mut body = resp.into_body();
    let mut buf = Vec::new();
    let mut events = Vec::new();
    loop {
        let frame = match tokio::time::timeout_at(deadline, body.frame()).await {
            Err(_) => return (events, false),
            Ok(None) => return (events, true),
            Ok(Some(f)) => f.expect("watch frame"),
        };
        if let Ok(data) = frame.into_data() {
            buf.extend_from_slice(&data);
            while let Some(pos) = buf.iter().position(|b| *b == b'\n') {
                let line: Vec<u8> = buf.drain(..=pos).collect();
                let v: Value = serde_json::from_slice(&line).expect("watch line is JSON");
                events.push(v);
                if stop(&events) {
                    return (events, false);
                }
            }
        }
    }
}

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

/// A minimal core/v1 Event for `POST /_sim/events` or `Simulator::create_event`.
pub fn event(ns: &str, pod: &str, ty: &str, reason: &str, message: &str) -> Value {
    serde_json::json!({
        "metadata": {"namespace": ns},
        "involvedObject": {"kind": "Pod", "name": pod, "namespace": ns, "apiVersion": "v1"},
        "type": ty, "reason": reason, "message": message,
        "source": {"component": "kubelet", "host": "node-1"},
    })
}
