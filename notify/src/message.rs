//! What a notification says, independent of where it goes: the group, the step, the record, and
//! a CloudWatch console link that opens the object-history saved query for that object and time.

use eventkeeper_core::Record;
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};

use crate::decision::{Episode, Step};
use crate::layout::Layout;

/// The object-history saved query of the Terraform module (the one copy of its text);
/// `${p}` is the field prefix, `"default"` and `"my-pod"` the object to fill in.
const OBJECT_HISTORY_QUERY: &str =
    include_str!("../../infra/terraform/modules/eventkeeper/queries/object-history.tftpl");

/// One notification of one step of one group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    /// The rule that matched.
    pub rule: String,
    /// The group's stored key.
    pub group: String,
    /// Why now.
    pub step: Step,
    /// Sequence number of this step within the group (1 = first notification ever).
    pub step_number: u64,
    /// Cluster name.
    pub cluster: String,
    /// Namespace of the involved object.
    pub namespace: String,
    /// `Kind/name` of the involved object.
    pub object: String,
    /// Reason.
    pub reason: String,
    /// `Warning` or `Normal`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The latest message.
    pub message: String,
    /// Occurrences in this episode.
    pub count: i64,
    /// Start of the episode (RFC 3339).
    pub first_seen: String,
    /// Latest time seen (RFC 3339).
    pub last_seen: String,
    /// The record is older than the late threshold (e.g. from a backfill).
    pub late: bool,
    /// Logs Insights, object-history query, this object and time range.
    pub link: String,
    /// The latest record of the group, as stored.
    pub record: Record,
}

/// Where the console link points.
#[derive(Clone, Debug)]
pub struct LinkTarget {
    /// AWS region of the log group.
    pub region: String,
    /// The events log group.
    pub log_group: String,
}

impl Notification {
    /// Builds the notification for `record`, the latest of its group.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        rule: &str,
        group: &str,
        step: Step,
        episode: &Episode,
        record: &Record,
        layout: Layout,
        late: bool,
        link: &LinkTarget,
    ) -> Self {
        let o = &record.involved_object;
        let namespace = o
            .namespace
            .clone()
            .or_else(|| record.metadata.namespace.clone())
            .unwrap_or_default();
        let name = o.name.clone().unwrap_or_default();
        let first = episode.first_seen.unwrap_or(Timestamp::UNIX_EPOCH);
        let last = episode.last_seen.unwrap_or(first);
        Self {
            rule: rule.to_owned(),
            group: group.to_owned(),
            step,
            step_number: episode.steps,
            cluster: record.cluster.clone(),
            object: format!("{}/{}", o.kind.as_deref().unwrap_or("Object"), name),
            reason: record.reason.clone().unwrap_or_default(),
            event_type: record.event_type.clone().unwrap_or_default(),
            message: record.message.clone().unwrap_or_default(),
            count: episode.count,
            first_seen: first.to_string(),
            last_seen: last.to_string(),
            late,
            link: console_link(link, layout, &namespace, &name, first, last),
            namespace,
            record: record.clone(),
        }
    }

    /// A one-line title: `Warning BackOff on Pod/web-1 (prod/default)`.
    pub fn title(&self) -> String {
        let late = if self.late { " [late]" } else { "" };
        format!(
            "{} {} on {} ({}/{}){late}",
            self.event_type, self.reason, self.object, self.cluster, self.namespace
        )
    }

    /// Why it is sent now, in words.
    pub fn why(&self) -> String {
        match self.step {
            Step::First => format!("first seen, {} occurrence(s)", self.count),
            Step::Threshold(t) => format!("reached {t} occurrences ({} now)", self.count),
            Step::AfterQuiet => format!("back after a quiet period, {} occurrence(s)", self.count),
        }
    }
}

/// The Logs Insights console URL with the object-history query for one object, from five
/// minutes before `first` to five minutes after `last`.
pub fn console_link(
    target: &LinkTarget,
    layout: Layout,
    namespace: &str,
    name: &str,
    first: Timestamp,
    last: Timestamp,
) -> String {
    let prefix = match layout {
        Layout::ContainerInsights => "log_processed.",
        Layout::FluentBit => "data.",
        Layout::Bare => "",
    };
    let quote = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let query = OBJECT_HISTORY_QUERY
        .replace("${p}", prefix)
        .replace("\"default\"", &format!("\"{}\"", quote(namespace)))
        .replace("\"my-pod\"", &format!("\"{}\"", quote(name)));
    let margin = SignedDuration::from_mins(5);
    let time = |t: Timestamp| t.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string();
    let start = first.checked_sub(margin).unwrap_or(first);
    let end = last.checked_add(margin).unwrap_or(last);
    // The console's own encoding: each value percent-encoded with `*` for `%`, then the whole
    // fragment parameter percent-encoded with `$` for `%`.
    let value = |s: &str| console_escape(s, '*');
    let detail = format!(
        "~(end~'{}~start~'{}~timeType~'ABSOLUTE~tz~'UTC~editorString~'{}~source~(~'{}))",
        value(&time(end)),
        value(&time(start)),
        value(&query),
        value(&target.log_group)
    );
    format!(
        "https://{r}.console.aws.amazon.com/cloudwatch/home?region={r}#logsV2:logs-insights{}",
        console_escape(&format!("?queryDetail={detail}"), '$'),
        r = target.region
    )
}

/// `encodeURIComponent`, with `escape` in place of `%`.
fn console_escape(text: &str, escape: char) -> String {
    let mut out = String::with_capacity(text.len() * 2);
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push(escape);
            out.push_str(&format!("{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_link_opens_object_history_for_the_object() {
        assert!(OBJECT_HISTORY_QUERY.contains("${p}involvedObject.name = \"my-pod\""));
        let target = LinkTarget {
            region: "eu-west-1".into(),
            log_group: "/aws/containerinsights/prod/application".into(),
        };
        let first: Timestamp = "2026-01-02T03:04:05Z".parse().unwrap();
        let link = console_link(&target, Layout::FluentBit, "shop", "web-1", first, first);
        assert!(link.starts_with(
            "https://eu-west-1.console.aws.amazon.com/cloudwatch/home?region=eu-west-1#logsV2:logs-insights$3FqueryDetail$3D~(end~'2026-01-02T03*3A09*3A05.000Z~start~'2026-01-02T02*3A59*3A05.000Z~"
        ));
        assert!(link.contains("data.involvedObject.name*20*3D*20*22web-1*22"));
        assert!(link.ends_with("~source~(~'*2Faws*2Fcontainerinsights*2Fprod*2Fapplication))"));
        assert!(!link.contains(' ') && !link.contains('%'));
    }
}
