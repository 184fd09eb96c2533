//! The CloudWatch source against moto's Logs Insights: records in the Container Insights
//! envelope, more than one query's 10,000-row limit, all read back through range splitting.

use std::process::Command;

use aws_sdk_cloudwatchlogs::types::InputLogEvent;
use eventkeeper_core::fixtures::TestEvent;
use eventkeeper_core::{Context, Origin, Record, normalise};
use eventkeeper_tests::peers::{MOTO_SECRET_KEY, MotoServer};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

const GROUP: &str = "/aws/containerinsights/demo/application";
const LINES: usize = 10_500;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn more_than_one_query_limit_is_read_by_splitting_the_range() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .endpoint_url(&moto.url)
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            MOTO_SECRET_KEY,
            None,
            None,
            "test",
        ))
        .build();
    let logs = aws_sdk_cloudwatchlogs::Client::from_conf(config);
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
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-eventkeeper"));
    command
        .args([
            "events",
            "-n",
            "default",
            "--source",
            "cloudwatch",
            "--log-group",
            GROUP,
        ])
        .args([
            "--layout",
            "log_processed",
            "--from",
            &from,
            "--to",
            &to,
            "-o",
            "json",
        ])
        .env("HOME", "/nonexistent");
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
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
    let times: Vec<Timestamp> = rows
        .iter()
        .map(|r| r.effective_time.as_deref().unwrap().parse().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "ordered by effective time"
    );

    // The wrong layout finds no record in these lines: each is reported, none is silently empty.
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-eventkeeper"));
    command
        .args([
            "events",
            "-n",
            "default",
            "--source",
            "cloudwatch",
            "--log-group",
            GROUP,
        ])
        .args(["--layout", "data", "--from", &from, "--to", &to])
        .env("HOME", "/nonexistent");
    for (key, value) in moto.env() {
        command.env(key, value);
    }
    let out = tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap();
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
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl StatusRewriter {
    fn start(upstream: &str, status: &'static str) -> Self {
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let upstream = upstream.trim_start_matches("http://").to_owned();
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopping.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((client, _)) => {
                        client.set_nonblocking(false).unwrap();
                        let upstream = upstream.clone();
                        std::thread::spawn(move || {
                            let _ = relay(client, &upstream, status);
                        });
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                        std::thread::sleep(std::time::Duration::from_millis(10));
                    }
                    Err(e) => panic!("proxy accept: {e}"),
                }
            }
        });
        Self {
            url,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for StatusRewriter {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

/// One HTTP/1.1 message from `reader`: its head (request or status line and headers, without
/// the blank line) and its body (by Content-Length, or de-chunked).
fn read_message(reader: &mut impl std::io::BufRead) -> std::io::Result<(Vec<String>, Vec<u8>)> {
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end().to_owned();
        if line.is_empty() {
            break;
        }
        head.push(line);
    }
    let header = |name: &str| {
        head.iter().skip(1).find_map(|h| {
            let (k, v) = h.split_once(':')?;
            k.trim()
                .eq_ignore_ascii_case(name)
                .then(|| v.trim().to_owned())
        })
    };
    let mut body = Vec::new();
    if let Some(length) = header("content-length") {
        body.resize(length.parse().unwrap_or(0), 0);
        reader.read_exact(&mut body)?;
    } else if header("transfer-encoding").is_some_and(|v| v.eq_ignore_ascii_case("chunked")) {
        loop {
            let mut size = String::new();
            reader.read_line(&mut size)?;
            let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or("0"), 16)
                .unwrap_or(0);
            let mut chunk = vec![0; size + 2];
            reader.read_exact(&mut chunk)?;
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    }
    Ok((head, body))
}

/// `head` with a new Content-Length and `Connection: close` (one exchange per connection).
fn write_message(
    out: &mut impl std::io::Write,
    head: &[String],
    body: &[u8],
) -> std::io::Result<()> {
    let mut text = format!("{}\r\n", head[0]);
    for h in &head[1..] {
        let name = h
            .split(':')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            text.push_str(&format!("{h}\r\n"));
        }
    }
    text.push_str(&format!(
        "Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    ));
    out.write_all(text.as_bytes())?;
    out.write_all(body)?;
    out.flush()
}

fn relay(client: std::net::TcpStream, upstream: &str, status: &str) -> std::io::Result<()> {
    let mut from_client = std::io::BufReader::new(client.try_clone()?);
    let (head, body) = read_message(&mut from_client)?;
    let get_results = head.iter().any(|h| {
        h.to_ascii_lowercase().starts_with("x-amz-target:") && h.ends_with(".GetQueryResults")
    });
    let server = std::net::TcpStream::connect(upstream)?;
    write_message(&mut &server, &head, &body)?;
    let (answer_head, mut answer) = read_message(&mut std::io::BufReader::new(&server))?;
    if get_results {
        let mut value: serde_json::Value = serde_json::from_slice(&answer)?;
        value["status"] = status.into();
        answer = serde_json::to_vec(&value)?;
    }
    write_message(&mut &client, &answer_head, &answer)
}

/// A query someone cancelled ends the answer with exit status 7 and one line naming the query;
/// a query that failed or timed out is a failed source (8), naming its status and range.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_or_failed_query_is_a_one_line_error_with_its_exit_status() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let config = aws_sdk_cloudwatchlogs::Config::builder()
        .behavior_version(aws_sdk_cloudwatchlogs::config::BehaviorVersion::latest())
        .endpoint_url(&moto.url)
        .region(aws_sdk_cloudwatchlogs::config::Region::new("us-east-1"))
        .credentials_provider(aws_credential_types::Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            MOTO_SECRET_KEY,
            None,
            None,
            "test",
        ))
        .build();
    aws_sdk_cloudwatchlogs::Client::from_conf(config)
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
        let proxy = StatusRewriter::start(&moto.url, status);
        let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-eventkeeper"));
        command
            .args(["events", "-n", "default", "--source", "cloudwatch"])
            .args(["--log-group", GROUP, "--since", "3h"])
            .env("HOME", "/nonexistent");
        for (key, value) in moto.env() {
            command.env(key, value);
        }
        command.env("AWS_ENDPOINT_URL", &proxy.url);
        let out = tokio::task::spawn_blocking(move || command.output().unwrap())
            .await
            .unwrap();
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
