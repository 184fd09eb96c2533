//! Configuration, parsed once at start from flags or `EVENTKEEPER_NOTIFY_*` variables. Bad
//! configuration exits 64 with a one-line reason before any work.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use jiff::{SignedDuration, Timestamp};

use crate::decision::Policy;
use crate::destination::{Backoff, DestinationSpec};
use crate::notifier::Settings;
use crate::rules::Rules;

/// eventkeeper-notify: CloudWatch Logs subscription records → rules → one message per step to
/// Slack, Teams, SNS, EventBridge or a webhook. In AWS Lambda it handles each invocation; on the
/// command line it handles the invocation events in `--payload` files.
#[derive(Debug, Parser)]
#[command(name = "eventkeeper-notify", version)]
pub struct Config {
    /// DynamoDB table holding each group's state (partition key `pk`, TTL attribute `expiresAt`).
    #[arg(long, env = "EVENTKEEPER_NOTIFY_TABLE")]
    pub table: String,

    /// Destinations, a JSON list: `{"kind":"slack|teams|webhook","name":..,"secret":ARN}`,
    /// `{"kind":"sns","name":..,"topicArn":..}`, `{"kind":"eventbridge","name":..,"busName":..}`.
    #[arg(long, env = "EVENTKEEPER_NOTIFY_DESTINATIONS")]
    pub destinations: String,

    /// Rules, a JSON list of `{"name":..,"match":"reason=BackOff ...","message":REGEX,
    /// "destinations":[..]}`; the default rule set when absent.
    #[arg(long, env = "EVENTKEEPER_NOTIFY_RULES")]
    pub rules: Option<String>,

    /// Occurrence counts that notify again, ascending, comma-separated.
    #[arg(
        long,
        env = "EVENTKEEPER_NOTIFY_THRESHOLDS",
        default_value = "10,100,1000",
        value_delimiter = ','
    )]
    pub thresholds: Vec<i64>,

    /// Seconds a group must be quiet before it is notified again as a new episode.
    #[arg(
        long,
        env = "EVENTKEEPER_NOTIFY_QUIET_PERIOD_SECONDS",
        default_value_t = 3600
    )]
    pub quiet_period_seconds: u32,

    /// More messages than this for one destination in one invocation become one digest.
    #[arg(long, env = "EVENTKEEPER_NOTIFY_BURST_LIMIT", default_value_t = 5)]
    pub burst_limit: usize,

    /// Records older than this many seconds are notified, marked late.
    #[arg(
        long,
        env = "EVENTKEEPER_NOTIFY_LATE_AFTER_SECONDS",
        default_value_t = 900
    )]
    pub late_after_seconds: u32,

    /// Seconds after which an unfinished claim is taken over and sent again: at least the
    /// function's timeout.
    #[arg(
        long,
        env = "EVENTKEEPER_NOTIFY_CLAIM_LEASE_SECONDS",
        default_value_t = 120
    )]
    pub claim_lease_seconds: u32,

    /// SQS queue URL for deliveries that fail every retry.
    #[arg(long, env = "EVENTKEEPER_NOTIFY_DLQ_URL")]
    pub dlq_url: Option<String>,

    /// Attempts per delivery.
    #[arg(long, env = "EVENTKEEPER_NOTIFY_ATTEMPTS", default_value_t = 3)]
    pub attempts: u32,

    /// Milliseconds before the second attempt; doubled for each further one.
    #[arg(long, env = "EVENTKEEPER_NOTIFY_FIRST_RETRY_MS", default_value_t = 500)]
    pub first_retry_ms: u64,

    /// Seconds a webhook call may take.
    #[arg(
        long,
        env = "EVENTKEEPER_NOTIFY_HTTP_TIMEOUT_SECONDS",
        default_value_t = 10
    )]
    pub http_timeout_seconds: u64,

    /// Days a group's state is kept after the quiet period (DynamoDB TTL).
    #[arg(long, env = "EVENTKEEPER_NOTIFY_RETENTION_DAYS", default_value_t = 1)]
    pub retention_days: u32,

    /// DynamoDB calls in flight at once (each reads or writes up to 100 groups).
    #[arg(long, env = "EVENTKEEPER_NOTIFY_CONCURRENCY", default_value_t = 16)]
    pub concurrency: usize,

    /// Log format and level on stderr (the flags every eventkeeper binary takes).
    #[command(flatten)]
    pub logs: eventkeeper_cli::LogArgs,

    /// Local runs: invocation event files (`{"awslogs":{"data":...}}`), handled in order.
    #[arg(long)]
    pub payload: Vec<PathBuf>,

    /// Local runs: the time to judge lateness against (RFC 3339), instead of the clock.
    #[arg(long)]
    pub now: Option<Timestamp>,
}

impl Config {
    /// Checks what clap cannot; the parsed destinations and rules.
    pub fn validate(&self) -> Result<(Vec<DestinationSpec>, Rules), String> {
        if self.thresholds.iter().any(|t| *t < 2) || !self.thresholds.is_sorted() {
            return Err("thresholds must be ascending counts of at least 2".into());
        }
        if self.thresholds.windows(2).any(|w| w[0] == w[1]) {
            return Err("thresholds must not repeat".into());
        }
        if self.burst_limit == 0 {
            return Err("burst limit must be at least 1".into());
        }
        if self.claim_lease_seconds == 0 || self.attempts == 0 || self.concurrency == 0 {
            return Err("claim lease, attempts and concurrency must be at least 1".into());
        }
        let specs = DestinationSpec::parse_list(&self.destinations).map_err(|e| e.to_string())?;
        if specs.is_empty() {
            return Err("no destinations configured".into());
        }
        let names: Vec<String> = specs.iter().map(|s| s.name().to_owned()).collect();
        let rules = Rules::parse(self.rules.as_deref(), &names).map_err(|e| e.to_string())?;
        Ok((specs, rules))
    }

    /// The notifier's tunables.
    pub fn settings(&self, region: String) -> Settings {
        Settings {
            policy: Policy {
                thresholds: self.thresholds.clone(),
                quiet: SignedDuration::from_secs(i64::from(self.quiet_period_seconds)),
            },
            burst_limit: self.burst_limit,
            late_after: SignedDuration::from_secs(i64::from(self.late_after_seconds)),
            claim_lease: SignedDuration::from_secs(i64::from(self.claim_lease_seconds)),
            backoff: Backoff {
                attempts: self.attempts,
                first_wait: Duration::from_millis(self.first_retry_ms),
            },
            region,
            state_retention: SignedDuration::from_hours(24 * i64::from(self.retention_days)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &[&str]) -> Config {
        let mut args = vec![
            "eventkeeper-notify",
            "--table",
            "t",
            "--destinations",
            r#"[{"kind":"sns","name":"topic","topicArn":"arn:aws:sns:us-east-1:1:t"}]"#,
        ];
        args.extend_from_slice(extra);
        Config::try_parse_from(args).unwrap()
    }

    #[test]
    fn defaults_are_valid_and_bad_values_say_why() {
        assert!(config(&[]).validate().is_ok());
        assert_eq!(config(&[]).thresholds, vec![10, 100, 1000]);
        assert!(config(&["--thresholds", "100,10"]).validate().is_err());
        assert!(config(&["--burst-limit", "0"]).validate().is_err());
        assert!(
            config(&["--rules", "[{\"name\":\"x\",\"match\":\"kind\"}]"])
                .validate()
                .is_err()
        );
        let args = ["eventkeeper-notify", "--table", "t", "--log-format", "xml"];
        assert!(Config::try_parse_from(args).is_err(), "json or text only");
    }
}
