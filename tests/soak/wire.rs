//! The soak's own calls to its peers over plain HTTP on 127.0.0.1: a Lease written back by
//! "another writer" on the simulator, and the moto calls that set up and read back S3 and
//! CloudWatch Logs (moto checks no signature; the `Authorization` header only tells its
//! single-port server which service is meant).

use serde_json::{Value, json};

/// One HTTP/1.1 request; (status, body). `Err` when the server does not answer.
pub fn call(
    base: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> std::io::Result<(u16, String)> {
    eventkeeper_tests::http::call(base, method, path, headers, body.as_bytes())
}

/// Another writer bumps the Lease: it reads it and writes it back unchanged, which gives it a
/// new resourceVersion, so the holder's next renewal (on the old one) gets 409 Conflict.
/// Returns whether the write went through (the API may be faulted at that moment).
pub fn bump_lease(sim_url: &str, namespace: &str, name: &str) -> bool {
    let path = format!("/apis/coordination.k8s.io/v1/namespaces/{namespace}/leases/{name}");
    let Ok((200, text)) = call(sim_url, "GET", &path, &[], "") else {
        return false;
    };
    let Ok(lease) = serde_json::from_str::<Value>(&text) else {
        return false;
    };
    let json = [("Content-Type", "application/json")];
    matches!(
        call(sim_url, "PUT", &path, &json, &lease.to_string()),
        Ok((200, _))
    )
}

fn auth(service: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20260101/us-east-1/{service}/aws4_request, SignedHeaders=host, Signature=0"
    )
}

/// Creates an S3 bucket on moto.
pub fn create_bucket(moto_url: &str, bucket: &str) {
    let (status, text) = call(
        moto_url,
        "PUT",
        &format!("/{bucket}"),
        &[("Authorization", &auth("s3"))],
        "",
    )
    .expect("moto answers");
    assert!(status == 200, "create bucket {bucket}: {status} {text}");
}

/// How many objects the bucket holds under `prefix` (ListObjectsV2, every page).
pub fn count_objects(moto_url: &str, bucket: &str, prefix: &str) -> usize {
    let mut count = 0;
    let mut token: Option<String> = None;
    loop {
        let mut path = format!("/{bucket}?list-type=2&prefix={prefix}");
        if let Some(t) = &token {
            path.push_str("&continuation-token=");
            path.push_str(&percent(t));
        }
        let (status, text) = call(
            moto_url,
            "GET",
            &path,
            &[("Authorization", &auth("s3"))],
            "",
        )
        .expect("moto answers");
        assert!(status == 200, "list {bucket}: {status} {text:.300}");
        count += text.matches("<Key>").count();
        token = between(&text, "<NextContinuationToken>", "</NextContinuationToken>");
        if token.is_none() {
            return count;
        }
    }
}

fn between(text: &str, open: &str, close: &str) -> Option<String> {
    let start = text.find(open)? + open.len();
    let end = text[start..].find(close)? + start;
    Some(text[start..end].to_owned())
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Every message of a CloudWatch Logs stream, oldest first (GetLogEvents until the forward token
/// repeats). A stream or group that does not exist yet holds nothing.
pub fn log_messages(moto_url: &str, group: &str, stream: &str) -> Vec<String> {
    let headers = [
        ("Authorization", auth("logs")),
        ("X-Amz-Target", "Logs_20140328.GetLogEvents".to_owned()),
        ("Content-Type", "application/x-amz-json-1.1".to_owned()),
    ];
    let headers: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut messages = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut request = json!({
            "logGroupName": group, "logStreamName": stream, "startFromHead": true, "limit": 10000,
        });
        if let Some(t) = &token {
            request["nextToken"] = json!(t);
        }
        let (status, text) =
            call(moto_url, "POST", "/", &headers, &request.to_string()).expect("moto answers");
        if status == 400 && text.contains("ResourceNotFoundException") {
            return messages;
        }
        assert!(status == 200, "GetLogEvents: {status} {text:.300}");
        let page: Value = serde_json::from_str(&text).expect("GetLogEvents JSON");
        let events = page["events"].as_array().cloned().unwrap_or_default();
        messages.extend(
            events
                .iter()
                .filter_map(|e| e["message"].as_str().map(str::to_owned)),
        );
        let next = page["nextForwardToken"].as_str().map(str::to_owned);
        if events.is_empty() || next.is_none() || next == token {
            return messages;
        }
        token = next;
    }
}
