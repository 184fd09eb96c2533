//! Shared by the notifier's integration tests: moto with the notifier's AWS resources, a local
//! HTTP receiver for webhooks, records wrapped as each shipper wraps them, and the binary.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventkeeper_core::fixtures::TestEvent;
use eventkeeper_core::{Context, Origin, normalise};
use eventkeeper_notify::subscription;
use eventkeeper_tests::peers::MotoServer;
use serde_json::{Value, json};

/// One recorded webhook call.
#[derive(Clone, Debug)]
pub struct Call {
    /// Request path.
    pub path: String,
    /// Lower-cased header names and values.
    pub headers: Vec<(String, String)>,
    /// Raw body.
    pub body: String,
}

impl Call {
    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("webhook body is JSON")
    }

    /// A header.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// A local HTTP receiver: records every call; paths starting `/fail` answer 500.
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    calls: Arc<Mutex<Vec<Call>>>,
}

impl Receiver {
    /// Starts on a free port (the thread ends with the test process).
    pub fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let calls = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&calls);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let record = Arc::clone(&record);
                std::thread::spawn(move || serve(stream, &record));
            }
        });
        Self { url, calls }
    }

    /// Calls so far to paths starting with `prefix`.
    pub fn calls(&self, prefix: &str) -> Vec<Call> {
        self.calls
            .lock()
            .expect("lock")
            .iter()
            .filter(|c| c.path.starts_with(prefix))
            .cloned()
            .collect()
    }

    /// The JSON bodies of the calls so far to paths starting with `prefix`.
    pub fn bodies(&self, prefix: &str) -> Vec<Value> {
        self.calls(prefix).iter().map(Call::json).collect()
    }
}

fn serve(stream: std::net::TcpStream, calls: &Mutex<Vec<Call>>) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("")
            .to_owned();
        let mut headers = Vec::new();
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':') {
                headers.push((name.trim().to_ascii_lowercase(), value.trim().to_owned()));
            }
        }
        let length: usize = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        let status = if path.starts_with("/fail") {
            "500 Internal Server Error"
        } else {
            "200 OK"
        };
        calls.lock().expect("lock").push(Call {
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
        let reply =
            format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok");
        if stream.write_all(reply.as_bytes()).is_err() {
            return;
        }
    }
}

/// The HMAC key of the test webhook.
pub const SIGNING_KEY: &str = "test-signing-key";

/// moto with the notifier's resources, and the receiver.
pub struct World {
    /// The moto server.
    pub moto: MotoServer,
    /// The webhook receiver.
    pub receiver: Receiver,
    /// AWS configuration pointed at moto.
    pub aws: aws_config::SdkConfig,
    /// DynamoDB table.
    pub table: String,
    /// Dead-letter queue URL.
    pub dlq: String,
    /// A queue subscribed to the SNS topic.
    pub sns_queue: String,
    /// A queue the EventBridge rule targets.
    pub events_queue: String,
    /// The destinations JSON.
    pub destinations: Value,
    /// Temporary files.
    pub dir: tempfile::TempDir,
}

/// Creates a state table as the Terraform module does (partition key `pk`, on demand).
pub async fn create_table(aws: &aws_config::SdkConfig, table: &str) {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
    };
    aws_sdk_dynamodb::Client::new(aws)
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(
            AttributeDefinition::builder()
                .attribute_name("pk")
                .attribute_type(ScalarAttributeType::S)
                .build()
                .unwrap(),
        )
        .key_schema(
            KeySchemaElement::builder()
                .attribute_name("pk")
                .key_type(KeyType::Hash)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("create table");
}

/// Deletes a state table.
pub async fn delete_table(aws: &aws_config::SdkConfig, table: &str) {
    aws_sdk_dynamodb::Client::new(aws)
        .delete_table()
        .table_name(table)
        .send()
        .await
        .expect("delete table");
}

/// Starts moto (or `None` when the test must skip) and creates the resources.
pub async fn world(webhook_path: &str) -> Option<World> {
    // Claims are conditional writes raced by concurrent invocations: moto must apply each
    // atomically, as DynamoDB does.
    let moto = MotoServer::start_atomic_dynamodb()?;
    let receiver = Receiver::start();
    let aws = eventkeeper_tests::aws::moto_sdk_config(&moto).await;
    let table = "eventkeeper-notify".to_owned();
    create_table(&aws, &table).await;
    let sqs = aws_sdk_sqs::Client::new(&aws);
    let queue = async |name: &str| {
        sqs.create_queue()
            .queue_name(name)
            .send()
            .await
            .expect("queue")
            .queue_url
            .expect("url")
    };
    let dlq = queue("notify-dlq").await;
    let sns_queue = queue("sns-copy").await;
    let events_queue = queue("events-copy").await;
    let arn = async |url: &str| {
        sqs.get_queue_attributes()
            .queue_url(url)
            .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("attributes")
            .attributes
            .expect("attributes")[&aws_sdk_sqs::types::QueueAttributeName::QueueArn]
            .clone()
    };
    let sns = aws_sdk_sns::Client::new(&aws);
    let topic = sns
        .create_topic()
        .name("eventkeeper-notify")
        .send()
        .await
        .expect("topic")
        .topic_arn
        .expect("arn");
    sns.subscribe()
        .topic_arn(&topic)
        .protocol("sqs")
        .endpoint(arn(&sns_queue).await)
        .attributes("RawMessageDelivery", "true")
        .send()
        .await
        .expect("subscribe");
    let events = aws_sdk_eventbridge::Client::new(&aws);
    events
        .put_rule()
        .name("k8s")
        .event_pattern(json!({"detail-type": ["Kubernetes Event"]}).to_string())
        .send()
        .await
        .expect("rule");
    events
        .put_targets()
        .rule("k8s")
        .targets(
            aws_sdk_eventbridge::types::Target::builder()
                .id("q")
                .arn(arn(&events_queue).await)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .expect("target");
    let secrets = aws_sdk_secretsmanager::Client::new(&aws);
    let secret = async |name: &str, value: String| {
        secrets
            .create_secret()
            .name(name)
            .secret_string(value)
            .send()
            .await
            .expect("secret")
            .arn
            .expect("arn")
    };
    let slack = secret("slack", format!("{}/slack", receiver.url)).await;
    let webhook = secret(
        "webhook",
        json!({"url": format!("{}{webhook_path}", receiver.url), "signingKey": SIGNING_KEY})
            .to_string(),
    )
    .await;
    let ssm = aws_sdk_ssm::Client::new(&aws);
    ssm.put_parameter()
        .name("/eventkeeper/teams")
        .value(format!("{}/teams", receiver.url))
        .r#type(aws_sdk_ssm::types::ParameterType::SecureString)
        .send()
        .await
        .expect("parameter");
    let destinations = json!([
        {"kind": "slack", "name": "slack", "secret": slack},
        {"kind": "teams", "name": "teams", "secret": "arn:aws:ssm:us-east-1:123456789012:parameter/eventkeeper/teams"},
        {"kind": "webhook", "name": "webhook", "secret": webhook},
        {"kind": "sns", "name": "sns", "topicArn": topic},
        {"kind": "eventbridge", "name": "bus", "busName": "default"},
    ]);
    Some(World {
        moto,
        receiver,
        aws,
        table,
        dlq,
        sns_queue,
        events_queue,
        destinations,
        dir: tempfile::tempdir().expect("temp dir"),
    })
}

impl World {
    /// The notifier command with this world's configuration.
    pub fn command(&self, extra: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_eventkeeper-notify"));
        command
            .envs(self.moto.env())
            .env("EVENTKEEPER_NOTIFY_TABLE", &self.table)
            .env(
                "EVENTKEEPER_NOTIFY_DESTINATIONS",
                self.destinations.to_string(),
            )
            .env("EVENTKEEPER_NOTIFY_DLQ_URL", &self.dlq)
            .env("EVENTKEEPER_NOTIFY_FIRST_RETRY_MS", "10")
            .env("EVENTKEEPER_LOG_FORMAT", "text")
            .args(extra);
        command
    }

    /// Writes invocation events to files; returns their paths.
    pub fn payload_files(&self, name: &str, events: &[Value]) -> Vec<PathBuf> {
        events
            .iter()
            .enumerate()
            .map(|(i, event)| {
                let path = self.dir.path().join(format!("{name}-{i:03}.json"));
                std::fs::write(&path, event.to_string()).expect("write payload");
                path
            })
            .collect()
    }

    /// Runs the notifier on payload files.
    pub fn run(&self, files: &[PathBuf], extra: &[&str]) -> Output {
        self.invocation(files, extra)
            .output()
            .expect("notifier runs")
    }

    /// The notifier invoked with these payload files.
    fn invocation(&self, files: &[PathBuf], extra: &[&str]) -> Command {
        let mut command = self.command(extra);
        for file in files {
            command.arg("--payload").arg(file);
        }
        command
    }

    /// Runs the same invocations in two notifier processes at once (an at-least-once duplicate
    /// delivery); whichever met the other's fresh claim (exit 75) is run again `retry_after`
    /// later, once the claim lease is over, as Lambda retries a failed batch.
    pub fn run_twice_at_once(&self, files: &[PathBuf], extra: &[&str], retry_after: Duration) {
        let spawn = || {
            self.invocation(files, extra)
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        };
        let (a, b) = (spawn(), spawn());
        let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
        for output in [&a, &b] {
            let code = output.status.code();
            assert!(code == Some(0) || code == Some(75), "{output:?}");
            if code == Some(75) {
                std::thread::sleep(retry_after);
                assert_ok(&self.run(files, extra));
            }
        }
    }

    /// How many groups the state table holds (one scan: the tests' tables stay under its 1 MB page).
    pub async fn stored_groups(&self) -> i32 {
        aws_sdk_dynamodb::Client::new(&self.aws)
            .scan()
            .table_name(&self.table)
            .send()
            .await
            .expect("scan")
            .count
    }

    /// Every message in a queue (bodies), read until it is empty.
    pub async fn drain(&self, queue: &str) -> Vec<Value> {
        let sqs = aws_sdk_sqs::Client::new(&self.aws);
        let mut bodies = Vec::new();
        loop {
            let out = sqs
                .receive_message()
                .queue_url(queue)
                .max_number_of_messages(10)
                .send()
                .await
                .expect("receive");
            let messages = out.messages.unwrap_or_default();
            if messages.is_empty() {
                return bodies;
            }
            for message in messages {
                let body = message.body.expect("body");
                bodies.push(serde_json::from_str(&body).unwrap_or(Value::String(body)));
                sqs.delete_message()
                    .queue_url(queue)
                    .receipt_handle(message.receipt_handle.expect("handle"))
                    .send()
                    .await
                    .expect("delete");
            }
        }
    }
}

/// EMF documents on a run's stdout.
pub fn emf(output: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("stdout carries only EMF"))
        .collect()
}

/// Sum of one metric over a run's EMF documents.
pub fn metric(output: &Output, name: &str) -> i64 {
    emf(output)
        .iter()
        .map(|d| d[name].as_i64().expect("metric"))
        .sum()
}

/// Every notification generic bodies carry (singles and digests alike), in order.
pub fn notifications(bodies: &[Value]) -> Vec<Value> {
    bodies
        .iter()
        .flat_map(|b| {
            b["notifications"]
                .as_array()
                .expect("notifications")
                .clone()
        })
        .collect()
}

/// Asserts a run succeeded, showing its stderr when not.
pub fn assert_ok(output: &Output) {
    assert!(
        output.status.success(),
        "notifier failed ({:?}): {}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}

pub use eventkeeper_tests::shipper::Shipper;

/// Cuts log event texts into subscription payloads of `per_payload` events.
pub fn payloads(messages: &[String], per_payload: usize) -> Vec<Value> {
    messages
        .chunks(per_payload)
        .map(|chunk| {
            let stamped: Vec<(i64, String)> = chunk
                .iter()
                .map(|m| (jiff::Timestamp::now().as_millisecond(), m.clone()))
                .collect();
            subscription::encode("/eventkeeper/events", "emitter", &stamped)
        })
        .collect()
}

/// A record line from a test event, as the emitter writes it.
pub fn line(event: TestEvent) -> String {
    let record = normalise(&event.json(), &Context::new("prod", Origin::Watch)).expect("record");
    serde_json::to_string(&record).expect("line")
}

/// A repeat of a Warning: `count` occurrences, the last at `at`.
pub fn warning(kind: &str, name: &str, reason: &str, count: i64, at: jiff::Timestamp) -> String {
    line(
        TestEvent::new()
            .warning()
            .about(kind, name)
            .reason(reason)
            .message(format!("{reason} happened to {name}"))
            .uid(&format!("uid-{name}-{reason}"))
            .resource_version(count as u64)
            .count(count)
            .last_timestamp(json!(at.to_string())),
    )
}

/// Validates Teams bodies against the Adaptive Card schema (a real validator on the official
/// schema), or skips loudly when the validator is not installed outside `make test`.
pub fn check_adaptive_cards(bodies: &[Value]) {
    let Some(python) =
        std::env::var_os("EVENTKEEPER_ADAPTIVE_CARD_PY").filter(|p| Path::new(p).exists())
    else {
        assert!(
            std::env::var_os("EVENTKEEPER_REQUIRE_PEERS").is_none(),
            "the Adaptive Card validator is missing (EVENTKEEPER_ADAPTIVE_CARD_PY), but `make test` installs it"
        );
        eprintln!(
            "SKIPPED: Adaptive Card schema check (set EVENTKEEPER_ADAPTIVE_CARD_PY; `make test` does)"
        );
        return;
    };
    let script = eventkeeper_tests::repo_root().join("scripts/notify/check_adaptive_card.py");
    let mut child = Command::new(python)
        .arg(script)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("validator runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(Value::from(bodies.to_vec()).to_string().as_bytes())
        .expect("write");
    let output = child.wait_with_output().expect("validator");
    assert!(
        output.status.success(),
        "Teams payloads are not valid Adaptive Cards:\n{}",
        String::from_utf8_lossy(&output.stdout)
    );
}

/// Checks a Slack body against Block Kit's documented shape for incoming webhooks.
pub fn check_block_kit(body: &Value) {
    assert!(body["text"].is_string(), "fallback text: {body}");
    let blocks = body["blocks"].as_array().expect("blocks");
    assert!(!blocks.is_empty() && blocks.len() <= 50);
    let text_object = |t: &Value, max: usize| {
        let kind = t["type"].as_str().expect("text type");
        assert!(kind == "plain_text" || kind == "mrkdwn", "{t}");
        let text = t["text"].as_str().expect("text");
        assert!(!text.is_empty() && text.chars().count() <= max, "{t}");
    };
    for block in blocks {
        match block["type"].as_str().expect("block type") {
            "header" => {
                assert_eq!(block["text"]["type"], "plain_text");
                text_object(&block["text"], 150);
            }
            "section" => {
                assert!(block.get("text").is_some() || block.get("fields").is_some());
                if let Some(t) = block.get("text") {
                    text_object(t, 3000);
                }
                if let Some(fields) = block.get("fields") {
                    let fields = fields.as_array().expect("fields");
                    assert!(fields.len() <= 10);
                    fields.iter().for_each(|f| text_object(f, 2000));
                }
            }
            "context" => {
                let elements = block["elements"].as_array().expect("elements");
                assert!(!elements.is_empty() && elements.len() <= 10);
                elements.iter().for_each(|e| text_object(e, 3000));
            }
            "actions" => {
                let elements = block["elements"].as_array().expect("elements");
                assert!(!elements.is_empty() && elements.len() <= 25);
                for e in elements {
                    assert_eq!(e["type"], "button");
                    assert_eq!(e["text"]["type"], "plain_text");
                    text_object(&e["text"], 75);
                    let url = e["url"].as_str().expect("url");
                    assert!(url.starts_with("https://") && url.len() <= 3000, "{url}");
                }
            }
            other => panic!("unexpected block type {other}"),
        }
        for key in block.as_object().expect("block").keys() {
            assert!(
                [
                    "type",
                    "text",
                    "fields",
                    "elements",
                    "block_id",
                    "accessory"
                ]
                .contains(&key.as_str()),
                "unknown block key {key}"
            );
        }
    }
}

/// Verifies the generic webhook's HMAC-SHA256 signature with an independent implementation
/// (aws-lc-rs's HMAC through a fresh key).
pub fn check_signature(call: &Call) {
    let timestamp = call
        .header("x-eventkeeper-timestamp")
        .expect("timestamp header");
    let signature = call
        .header("x-eventkeeper-signature")
        .expect("signature header");
    let hex = signature.strip_prefix("sha256=").expect("sha256=");
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, SIGNING_KEY.as_bytes());
    let tag = hex::decode(hex).expect("hex");
    aws_lc_rs::hmac::verify(&key, format!("{timestamp}.{}", call.body).as_bytes(), &tag)
        .expect("signature verifies");
}
