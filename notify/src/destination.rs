//! Where notifications go: SNS, EventBridge, Slack, Teams or a signed JSON webhook. Each
//! delivery is retried with exponential backoff; what still fails is for
//! [`crate::dead_letter`].

use std::time::Duration;

use aws_lc_rs::hmac;
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::Deserialize;
use serde_json::Value;

use crate::aws_error::aws_error_text;
use crate::render::{self, Outgoing};
use crate::secrets::{SecretError, SecretRef, Secrets};

/// SNS and EventBridge calls of this module (the IAM policy is generated from these).
pub const SNS_ACTIONS: [&str; 1] = ["sns:Publish"];
/// See [`SNS_ACTIONS`].
pub const EVENTBRIDGE_ACTIONS: [&str; 1] = ["events:PutEvents"];

/// The EventBridge detail-type of every notification.
pub const DETAIL_TYPE: &str = "Kubernetes Event";
/// The EventBridge source of every notification.
pub const EVENT_SOURCE: &str = "eventkeeper";
/// SNS's message size limit, less room for the digest's envelope and message attributes.
const SNS_MESSAGE_BYTES: usize = 256 * 1024 - 8 * 1024;

/// The generic webhook's signature header: `sha256=<hex HMAC-SHA256 of "<timestamp>.<body>">`.
pub const SIGNATURE_HEADER: &str = "x-eventkeeper-signature";
/// The generic webhook's timestamp header (epoch seconds), signed with the body.
pub const TIMESTAMP_HEADER: &str = "x-eventkeeper-timestamp";

/// Why the destinations were rejected at start (bad configuration: exit 64).
#[derive(Debug, thiserror::Error)]
pub enum DestinationConfigError {
    /// Not the documented JSON.
    #[error("notification destinations are not a JSON list of destinations: {0}")]
    NotJson(#[source] serde_json::Error),
    /// Two destinations share a name.
    #[error("destination name {0:?} is used twice")]
    Duplicate(String),
    /// A secret reference is not an ARN.
    #[error("destination {name:?}: {source}")]
    BadSecret {
        /// Destination name.
        name: String,
        /// Why.
        source: SecretError,
    },
}

/// Why a destination could not be made ready (its secret).
#[derive(Debug, thiserror::Error)]
pub enum DestinationError {
    /// The secret could not be read.
    #[error("destination {name:?}: {source}")]
    Secret {
        /// Destination name.
        name: String,
        /// Why.
        source: SecretError,
    },
    /// The secret does not hold what the kind needs.
    #[error("destination {name:?}: {reason}")]
    BadSecretValue {
        /// Destination name.
        name: String,
        /// What is wrong (never the value).
        reason: String,
    },
}

/// Why one delivery attempt failed.
#[derive(Debug, thiserror::Error)]
pub enum DeliveryError {
    /// The receiver answered with an error status.
    #[error("receiver answered {status}")]
    Rejected {
        /// HTTP status.
        status: u16,
    },
    /// The receiver could not be reached or timed out.
    #[error("receiver unreachable: {0}")]
    Unreachable(String),
    /// An AWS call failed.
    #[error("{0}")]
    AwsFailed(String),
}

impl DeliveryError {
    /// Whether another attempt can help (4xx other than 408/429 will not).
    pub fn retryable(&self) -> bool {
        match self {
            Self::Rejected { status } => *status >= 500 || *status == 408 || *status == 429,
            Self::Unreachable(_) | Self::AwsFailed(_) => true,
        }
    }
}

/// One destination as configured (`EVENTKEEPER_NOTIFY_DESTINATIONS`, a JSON list).
#[derive(Clone, Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum DestinationSpec {
    /// An SNS topic.
    Sns {
        /// Name used by rules.
        name: String,
        /// Topic ARN.
        #[serde(rename = "topicArn")]
        topic_arn: String,
    },
    /// An EventBridge bus.
    Eventbridge {
        /// Name used by rules.
        name: String,
        /// Bus name or ARN.
        #[serde(rename = "busName")]
        bus_name: String,
    },
    /// A Slack incoming webhook; the secret holds the URL.
    Slack {
        /// Name used by rules.
        name: String,
        /// Secrets Manager or SSM SecureString ARN.
        secret: String,
    },
    /// A Teams workflow webhook; the secret holds the URL.
    Teams {
        /// Name used by rules.
        name: String,
        /// Secrets Manager or SSM SecureString ARN.
        secret: String,
    },
    /// A generic JSON webhook; the secret holds `{"url": ..., "signingKey": ...}`.
    Webhook {
        /// Name used by rules.
        name: String,
        /// Secrets Manager or SSM SecureString ARN.
        secret: String,
    },
}

impl DestinationSpec {
    /// The name rules use.
    pub fn name(&self) -> &str {
        match self {
            Self::Sns { name, .. }
            | Self::Eventbridge { name, .. }
            | Self::Slack { name, .. }
            | Self::Teams { name, .. }
            | Self::Webhook { name, .. } => name,
        }
    }

    fn secret(&self) -> Option<&str> {
        match self {
            Self::Slack { secret, .. }
            | Self::Teams { secret, .. }
            | Self::Webhook { secret, .. } => Some(secret),
            Self::Sns { .. } | Self::Eventbridge { .. } => None,
        }
    }

    /// Parses and checks the list.
    pub fn parse_list(text: &str) -> Result<Vec<Self>, DestinationConfigError> {
        let specs: Vec<Self> =
            serde_json::from_str(text).map_err(DestinationConfigError::NotJson)?;
        let mut names = std::collections::HashSet::new();
        for spec in &specs {
            if !names.insert(spec.name()) {
                return Err(DestinationConfigError::Duplicate(spec.name().to_owned()));
            }
            if let Some(secret) = spec.secret() {
                SecretRef::parse(secret).map_err(|source| DestinationConfigError::BadSecret {
                    name: spec.name().to_owned(),
                    source,
                })?;
            }
        }
        Ok(specs)
    }
}

/// The webhook secret's JSON.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct WebhookSecret {
    url: String,
    signing_key: String,
}

/// A destination ready to send.
#[derive(Clone)]
pub enum Destination {
    /// SNS.
    Sns {
        /// Client.
        client: aws_sdk_sns::Client,
        /// Topic ARN.
        topic_arn: String,
    },
    /// EventBridge.
    EventBridge {
        /// Client.
        client: aws_sdk_eventbridge::Client,
        /// Bus.
        bus: String,
    },
    /// Slack webhook URL.
    Slack(String),
    /// Teams webhook URL.
    Teams(String),
    /// Generic webhook URL and signing key.
    Webhook {
        /// URL.
        url: String,
        /// HMAC key (boxed: it is large, and one destination's size should not set all's).
        key: Box<hmac::Key>,
    },
}

impl std::fmt::Debug for Destination {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // URLs and keys are secrets: never printed.
        f.write_str(self.kind())
    }
}

impl Destination {
    /// Reads the spec's secret and builds the destination.
    pub async fn ready(
        spec: &DestinationSpec,
        aws: &aws_config::SdkConfig,
        secrets: &Secrets,
    ) -> Result<Self, DestinationError> {
        let name = spec.name().to_owned();
        let read = async |arn: &str| {
            let reference = SecretRef::parse(arn).map_err(|source| DestinationError::Secret {
                name: name.clone(),
                source,
            })?;
            secrets
                .read(&reference)
                .await
                .map_err(|source| DestinationError::Secret {
                    name: name.clone(),
                    source,
                })
        };
        let checked_url = |url: String| -> Result<String, DestinationError> {
            check_url(&url).map_err(|reason| DestinationError::BadSecretValue {
                name: name.clone(),
                reason,
            })?;
            Ok(url)
        };
        Ok(match spec {
            DestinationSpec::Sns { topic_arn, .. } => Self::Sns {
                client: aws_sdk_sns::Client::new(aws),
                topic_arn: topic_arn.clone(),
            },
            DestinationSpec::Eventbridge { bus_name, .. } => Self::EventBridge {
                client: aws_sdk_eventbridge::Client::new(aws),
                bus: bus_name.clone(),
            },
            DestinationSpec::Slack { secret, .. } => {
                Self::Slack(checked_url(read(secret).await?.trim().to_owned())?)
            }
            DestinationSpec::Teams { secret, .. } => {
                Self::Teams(checked_url(read(secret).await?.trim().to_owned())?)
            }
            DestinationSpec::Webhook { secret, .. } => {
                let value: WebhookSecret =
                    serde_json::from_str(&read(secret).await?).map_err(|_| {
                        DestinationError::BadSecretValue {
                            name: name.clone(),
                            reason: "the secret is not {\"url\": ..., \"signingKey\": ...}".into(),
                        }
                    })?;
                Self::Webhook {
                    url: checked_url(value.url)?,
                    key: Box::new(hmac::Key::new(
                        hmac::HMAC_SHA256,
                        value.signing_key.as_bytes(),
                    )),
                }
            }
        })
    }

    /// A fixed label for logs and the dead-letter message.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sns { .. } => "sns",
            Self::EventBridge { .. } => "eventbridge",
            Self::Slack(_) => "slack",
            Self::Teams(_) => "teams",
            Self::Webhook { .. } => "webhook",
        }
    }

    /// Whether a burst is sent as one digest (people read it) or one by one (machines do).
    pub fn digests(&self) -> bool {
        !matches!(self, Self::EventBridge { .. })
    }

    /// The largest body this destination takes, where a digest can reach it: an SNS message is
    /// at most 256 KiB (the generic body lists every notification; Slack and Teams list ten).
    pub fn body_limit(&self) -> Option<usize> {
        matches!(self, Self::Sns { .. }).then_some(SNS_MESSAGE_BYTES)
    }

    /// The body this destination is sent for `outgoing` (kept in the dead-letter message).
    pub fn body(&self, outgoing: Outgoing<'_>) -> Value {
        match self {
            Self::Slack(_) => render::slack(outgoing),
            Self::Teams(_) => render::teams(outgoing),
            Self::Sns { .. } | Self::EventBridge { .. } | Self::Webhook { .. } => {
                render::generic(outgoing)
            }
        }
    }

    /// One attempt.
    pub async fn send(
        &self,
        http: &HttpClient,
        outgoing: Outgoing<'_>,
        now_seconds: i64,
    ) -> Result<(), DeliveryError> {
        let body = self.body(outgoing);
        match self {
            Self::Slack(url) | Self::Teams(url) => http.post_json(url, &body, &[]).await,
            Self::Webhook { url, key } => {
                let text = body.to_string();
                let signature = sign(key, now_seconds, &text);
                http.post_json_text(
                    url,
                    text,
                    &[
                        (TIMESTAMP_HEADER, now_seconds.to_string()),
                        (SIGNATURE_HEADER, signature),
                    ],
                )
                .await
            }
            Self::Sns { client, topic_arn } => {
                let subject: String = outgoing
                    .subject()
                    .chars()
                    .filter(|c| c.is_ascii() && !c.is_ascii_control())
                    .take(100)
                    .collect();
                client
                    .publish()
                    .topic_arn(topic_arn)
                    .subject(subject)
                    .message(body.to_string())
                    .send()
                    .await
                    .map_err(|e| DeliveryError::AwsFailed(aws_error_text(e)))?;
                Ok(())
            }
            Self::EventBridge { client, bus } => {
                for chunk in outgoing.notifications().chunks(10) {
                    let entries = chunk.iter().map(|n| {
                        aws_sdk_eventbridge::types::PutEventsRequestEntry::builder()
                            .event_bus_name(bus)
                            .source(EVENT_SOURCE)
                            .detail_type(DETAIL_TYPE)
                            .detail(serde_json::to_string(n).expect("notification serialises"))
                            .build()
                    });
                    let out = client
                        .put_events()
                        .set_entries(Some(entries.collect()))
                        .send()
                        .await
                        .map_err(|e| DeliveryError::AwsFailed(aws_error_text(e)))?;
                    if out.failed_entry_count > 0 {
                        return Err(DeliveryError::AwsFailed(format!(
                            "PutEvents rejected {} of {} entries",
                            out.failed_entry_count,
                            chunk.len()
                        )));
                    }
                }
                Ok(())
            }
        }
    }
}

/// `sha256=<hex>` of HMAC-SHA256 over `"<timestamp>.<body>"`.
pub fn sign(key: &hmac::Key, timestamp: i64, body: &str) -> String {
    let tag = hmac::sign(key, format!("{timestamp}.{body}").as_bytes());
    format!("sha256={}", hex::encode(tag.as_ref()))
}

/// Webhooks must be HTTPS, except on the loopback interface (local runs and tests).
fn check_url(url: &str) -> Result<(), String> {
    let parsed = url::Url::parse(url).map_err(|_| "the secret is not a URL".to_owned())?;
    let loopback = matches!(parsed.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
    match parsed.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        _ => Err("the webhook URL must be https".to_owned()),
    }
}

/// Retry policy for one delivery.
#[derive(Clone, Copy, Debug)]
pub struct Backoff {
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// Wait before the second attempt; doubled each time.
    pub first_wait: Duration,
}

impl Backoff {
    /// Sends with retries; the last error when every attempt failed.
    pub async fn deliver(
        &self,
        destination: &Destination,
        http: &HttpClient,
        outgoing: Outgoing<'_>,
        now_seconds: i64,
    ) -> Result<(), (DeliveryError, u32)> {
        let mut wait = self.first_wait;
        let mut attempt = 1;
        loop {
            match destination.send(http, outgoing, now_seconds).await {
                Ok(()) => return Ok(()),
                Err(error) if attempt >= self.attempts.max(1) || !error.retryable() => {
                    return Err((error, attempt));
                }
                Err(error) => {
                    tracing::warn!(destination = destination.kind(), attempt, %error, "Delivery failed, retrying");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                    attempt += 1;
                }
            }
        }
    }
}

/// HTTPS (and loopback HTTP) client for webhooks, built once.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>,
    timeout: Duration,
}

impl HttpClient {
    /// A client with the platform's root certificates.
    pub fn new(timeout: Duration) -> std::io::Result<Self> {
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_native_roots()?
            .https_or_http()
            .enable_http1()
            .build();
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            timeout,
        })
    }

    async fn post_json(
        &self,
        url: &str,
        body: &Value,
        headers: &[(&str, String)],
    ) -> Result<(), DeliveryError> {
        self.post_json_text(url, body.to_string(), headers).await
    }

    async fn post_json_text(
        &self,
        url: &str,
        body: String,
        headers: &[(&str, String)],
    ) -> Result<(), DeliveryError> {
        let mut request = http::Request::post(url).header("content-type", "application/json");
        for (name, value) in headers {
            request = request.header(*name, value);
        }
        let request = request
            .body(Full::new(Bytes::from(body)))
            .map_err(|e| DeliveryError::Unreachable(e.to_string()))?;
        let response = tokio::time::timeout(self.timeout, self.client.request(request))
            .await
            .map_err(|_| DeliveryError::Unreachable("timed out".into()))?
            .map_err(|e| DeliveryError::Unreachable(e.to_string()))?;
        let status = response.status();
        // Drain the body so the connection can be reused.
        let _ = tokio::time::timeout(self.timeout, response.into_body().collect()).await;
        if status.is_success() {
            Ok(())
        } else {
            Err(DeliveryError::Rejected {
                status: status.as_u16(),
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_parse_and_reject_plain_urls() {
        let ok = r#"[{"kind":"slack","name":"ops","secret":"arn:aws:ssm:us-east-1:1:parameter/s"},
                     {"kind":"sns","name":"topic","topicArn":"arn:aws:sns:us-east-1:1:t"}]"#;
        assert_eq!(DestinationSpec::parse_list(ok).unwrap().len(), 2);
        let plain = r#"[{"kind":"slack","name":"ops","secret":"https://hooks.slack.com/x"}]"#;
        assert!(matches!(
            DestinationSpec::parse_list(plain),
            Err(DestinationConfigError::BadSecret { .. })
        ));
        let url_key = r#"[{"kind":"slack","name":"ops","url":"https://hooks.slack.com/x"}]"#;
        assert!(matches!(
            DestinationSpec::parse_list(url_key),
            Err(DestinationConfigError::NotJson(_))
        ));
        let twice = r#"[{"kind":"sns","name":"a","topicArn":"x"},{"kind":"sns","name":"a","topicArn":"y"}]"#;
        assert!(matches!(
            DestinationSpec::parse_list(twice),
            Err(DestinationConfigError::Duplicate(_))
        ));
    }

    #[test]
    fn webhook_urls_must_be_https_off_loopback() {
        assert!(check_url("https://hooks.slack.com/services/x").is_ok());
        assert!(check_url("http://127.0.0.1:8080/hook").is_ok());
        assert!(check_url("http://example.com/hook").is_err());
        assert!(check_url("not a url").is_err());
    }

    #[test]
    fn signature_is_hmac_sha256_of_timestamp_and_body() {
        // RFC 4231 test case 2 shape: key "Jefe", data "what do ya want for nothing?".
        let key = hmac::Key::new(hmac::HMAC_SHA256, b"Jefe");
        let tag = hmac::sign(&key, b"what do ya want for nothing?");
        assert_eq!(
            hex::encode(tag.as_ref()),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        assert_eq!(
            sign(&key, 1, "{}"),
            format!("sha256={}", hex::encode(hmac::sign(&key, b"1.{}").as_ref()))
        );
    }
}
