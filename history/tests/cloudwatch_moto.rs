//! The CloudWatch source against moto's Logs Insights: records in the Container Insights
//! envelope, more than one query's 10,000-row limit, all read back through range splitting.

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use eventkeeper_core::fixtures::TestEvent;
use eventkeeper_core::{Context, Origin, Record, normalise};
use eventkeeper_tests::peers::MotoServer;
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

mod common;

use common::{assert_ordered_by_effective_time, history_command, logs_client, output_of};

const GROUP: &str = "/aws/containerinsights/demo/application";
const LINES: usize = 10_500;
/// The Events of namespace `default` from the test's log group.
const CLOUDWATCH_QUERY: [&str; 7] = [
    "events",
    "-n",
    "default",
    "--source",
    "cloudwatch",
    "--log-group",
    GROUP,
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_one_query_limit_is_read_by_splitting_the_range() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let logs = logs_client(&moto).await;
    logs.create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    logs.create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name("node-1")
        .send()
        .await
        .unwrap();
    // Ten lines a second, from an hour ago: 1,050 seconds of lines.
    let base = Timestamp::now() - SignedDuration::from_hours(1);
    let base = Timestamp::from_second(base.as_second()).unwrap();
    let mut batch = Vec::new();
    for i in 0..LINES {
        let at = base + SignedDuration::from_millis(i as i64 * 100);
        let event = TestEvent::new()
            .uid(&format!("uid-{i}"))
            .resource_version(i as u64 + 1)
            .set("firstTimestamp", at.to_string())
            .set("lastTimestamp", at.to_string())
            .json();
        let record: Record = normalise(&event, &Context::new("demo", Origin::Watch)).unwrap();
        let line = record.to_line();
        let message = json!({
            "log": line,
            "log_processed": serde_json::from_str::<serde_json::Value>(&line).unwrap(),
            "kubernetes": {"pod_name": "eventkeeper-0", "namespace_name": "eventkeeper"},
        });
        batch.push(
            InputLogEvent::builder()
                .timestamp(at.as_millisecond())
                .message(message.to_string())
                .build()
                .unwrap(),
        );
        if batch.len() == 5_000 || i == LINES - 1 {
            logs.put_log_events()
                .log_group_name(GROUP)
                .log_stream_name("node-1")
                .set_log_events(Some(std::mem::take(&mut batch)))
                .send()
                .await
                .unwrap();
        }
    }
    let from = (base - SignedDuration::from_secs(60)).to_string();
    let to = (base + SignedDuration::from_secs(1200)).to_string();
    let mut command = history_command(&moto);
    command.args(CLOUDWATCH_QUERY).args([
        "--layout",
        "log_processed",
        "--from",
        &from,
        "--to",
        &to,
        "-o",
        "json",
    ]);
    let out = output_of(command).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{}: {stderr}", out.status);
    let rows: Vec<Record> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(
        rows.len(),
        LINES,
        "every line, none lost to the row limit: {stderr}"
    );
    assert_ordered_by_effective_time(&rows);

    // The wrong layout finds no record in these lines: each is reported, none is silently empty.
    let mut command = history_command(&moto);
    command
        .args(CLOUDWATCH_QUERY)
        .args(["--layout", "data", "--from", &from, "--to", &to]);
    let out = output_of(command).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("wrong layout?"), "{stderr}");
    // The halves of a split share one second, so a line there can be reported twice.
    let reported = stderr.lines().last().unwrap_or_default();
    assert!(reported.starts_with("partial answer: "), "{stderr}");
}

/// A one-purpose HTTP proxy on 127.0.0.1 in front of moto: it forwards every request and, in
/// the answer to `GetQueryResults`, replaces the query's status with `status` (moto's queries
/// always end `Complete`, so a cancelled or failed query cannot be had from moto alone).
struct StatusRewriter {
    url: String,
    task: tokio::task::JoinHandle<()>,
}

impl StatusRewriter {
    async fn start(upstream: &str, status: &'static str) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_end_matches('/').to_owned();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        relay(request, upstream.clone(), status)
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, task }
    }
}

impl Drop for StatusRewriter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Headers that belong to one hop, not to the message.
fn end_to_end_header(name: &str) -> bool {
    !matches!(
        name,
        "host" | "content-length" | "connection" | "transfer-encoding"
    )
}

async fn relay(
    request: hyper::Request<hyper::body::Incoming>,
    upstream: String,
    status: &'static str,
) -> Result<hyper::Response<http_body_util::Full<bytes::Bytes>>, std::convert::Infallible> {
    use http_body_util::BodyExt;
    let (parts, body) = request.into_parts();
    let body = body
        .collect()
        .await
        .map(|b| b.to_bytes())
        .unwrap_or_default();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .filter(|(name, _)| end_to_end_header(name.as_str()))
        .map(|(name, value)| (name.to_string(), value.to_str().unwrap_or("").to_owned()))
        .collect();
    let headers: Vec<(&str, &str)> = headers
        .iter()
        .map(|(n, v)| (n.as_str(), v.as_str()))
        .collect();
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let reply = eventkeeper_tests::http::request(
        parts.method.as_str(),
        &format!("{upstream}{target}"),
        &headers,
        Some(std::str::from_utf8(&body).expect("the Logs API speaks JSON")),
    )
    .await;
    let get_results = parts
        .headers
        .get("x-amz-target")
        .is_some_and(|t| t.as_bytes().ends_with(b".GetQueryResults"));
    let mut answer = reply.body.to_vec();
    if get_results {
        let mut value: serde_json::Value = serde_json::from_slice(&answer).unwrap();
        value["status"] = status.into();
        answer = serde_json::to_vec(&value).unwrap();
    }
    let mut response = hyper::Response::builder().status(reply.status);
    for (name, value) in &reply.headers {
        if end_to_end_header(name.as_str()) {
            response = response.header(name, value);
        }
    }
    Ok(response
        .body(http_body_util::Full::new(answer.into()))
        .unwrap())
}

/// A query someone cancelled ends the answer with exit status 7 and one line naming the query;
/// a query that failed or timed out is a failed source (8), naming its status and range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_or_failed_query_is_a_one_line_error_with_its_exit_status() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    logs_client(&moto)
        .await
        .create_log_group()
        .log_group_name(GROUP)
        .send()
        .await
        .unwrap();
    for (status, code, says) in [
        ("Cancelled", 7, "was cancelled"),
        ("Failed", 8, "ended \"Failed\""),
        ("Timeout", 8, "ended \"Timeout\""),
    ] {
        let proxy = StatusRewriter::start(&moto.url, status).await;
        let mut command = history_command(&moto);
        command
            .args(CLOUDWATCH_QUERY)
            .args(["--since", "3h"])
            .env("AWS_ENDPOINT_URL", &proxy.url);
        let out = output_of(command).await;
        drop(proxy);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(code), "{status}: {stderr}");
        assert!(out.stdout.is_empty(), "{status}: no table is printed");
        assert_eq!(stderr.trim_end().lines().count(), 1, "one line: {stderr}");
        assert!(stderr.contains(says), "{status}: {stderr}");
        assert!(
            stderr.contains("query "),
            "{status} names the query: {stderr}"
        );
    }
}
