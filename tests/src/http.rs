//! The one HTTP client of the test support: hyper's, for every plain-HTTP peer on 127.0.0.1
//! (the simulator, moto, the emitter's probes, local receivers). Async tests call [`request`]
//! and [`watch_until`]; blocking tests and harnesses call [`call`], which runs the same client on
//! a runtime of its own.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;

/// How long a blocking [`call`] waits for the whole answer.
const CALL_LIMIT: Duration = Duration::from_secs(60);
/// How long an async [`request`] waits for headers, then for the body.
const REQUEST_LIMIT: Duration = Duration::from_secs(10);

fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

fn build(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> http::Request<Full<Bytes>> {
    let mut builder = http::Request::builder().method(method).uri(url);
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    builder
        .body(Full::new(Bytes::copy_from_slice(body)))
        .unwrap_or_else(|e| panic!("{method} {url}: not a request: {e}"))
}

/// A response.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    /// The body as JSON; panics with the start of the body when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body[..self.body.len().min(500)])
            )
        })
    }
}

/// One request with headers and a body, 10 s for the headers and 10 s for the body.
pub async fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
) -> Reply {
    let req = build(method, url, headers, body.unwrap_or("").as_bytes());
    let resp = tokio::time::timeout(REQUEST_LIMIT, client().request(req))
        .await
        .expect("request timed out")
        .expect("request failed");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let body = tokio::time::timeout(REQUEST_LIMIT, resp.into_body().collect())
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

/// `GET url`.
pub async fn get(url: &str) -> Reply {
    request("GET", url, &[], None).await
}

/// `POST url` with a JSON body.
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
    let deadline = tokio::time::Instant::now() + limit;
    let resp = tokio::time::timeout_at(deadline, client().request(build("GET", url, &[], b"")))
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

/// The runtime blocking [`call`]s run on: one for the test binary, so each call does not build
/// and tear down its own.
fn runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    RUNTIME.get_or_init(|| {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("test HTTP runtime")
    })
}

/// One blocking request to `base` + `path`; (status, body as text). `Err` when the server does
/// not answer within 60 s (a peer that is going away, for probes).
pub fn call(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> std::io::Result<(u16, String)> {
    // Callers give `http://host:port` or a bare `host:port` (the emitter's listen address).
    let base = base.trim_end_matches('/');
    let url = if base.contains("://") {
        format!("{base}{path}")
    } else {
        format!("http://{base}{path}")
    };
    let req = build(method, &url, headers, body);
    let answer = async {
        let resp = client().request(req).await.map_err(std::io::Error::other)?;
        let status = resp.status().as_u16();
        let body = resp
            .into_body()
            .collect()
            .await
            .map_err(std::io::Error::other)?
            .to_bytes();
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    };
    let limited = async {
        tokio::time::timeout(CALL_LIMIT, answer)
            .await
            .map_err(|_| {
                std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!("{method} {url}: no answer in {CALL_LIMIT:?}"),
                )
            })?
    };
    // A runtime cannot block inside another: from async code the call runs on a thread of its own.
    if tokio::runtime::Handle::try_current().is_ok() {
        std::thread::scope(|scope| {
            scope
                .spawn(|| runtime().block_on(limited))
                .join()
                .expect("HTTP call thread")
        })
    } else {
        runtime().block_on(limited)
    }
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};
    use std::net::TcpListener;

    /// A server that answers each connection with one fixed chunked response.
    fn answering(times: usize) -> String {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        std::thread::spawn(move || {
            for stream in listener.incoming().take(times) {
                let mut stream = stream.expect("accept");
                let mut request = [0u8; 4096];
                let _ = stream.read(&mut request);
                let _ = stream.write_all(
                    b"HTTP/1.1 201 Created\r\ntransfer-encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
                );
            }
        });
        addr
    }

    #[test]
    fn a_bare_address_and_a_url_reach_the_same_server() {
        let addr = answering(2);
        assert_eq!(
            super::call(&addr, "GET", "/x", &[], b"").expect("bare"),
            (201, "abcde".to_owned())
        );
        assert_eq!(
            super::call(&format!("http://{addr}/"), "POST", "/x", &[], b"{}").expect("url"),
            (201, "abcde".to_owned())
        );
    }

    #[test]
    fn a_server_that_is_gone_is_an_error_not_a_panic() {
        let addr = TcpListener::bind("127.0.0.1:0")
            .expect("bind")
            .local_addr()
            .expect("addr")
            .to_string();
        assert!(super::call(&addr, "GET", "/", &[], b"").is_err());
    }
}
