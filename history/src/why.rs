//! `why KIND/NAME`: the warnings (and the Normal events that explain a death: `Killing`,
//! `BackOff`, `Preempted`, ...) about an object and its owners, grouped by reason, last cause
//! first, ending with one line naming the likeliest cause.

use std::collections::BTreeMap;

use eventkeeper_core::Record;
use jiff::Timestamp;

use crate::query::effective_time;
use crate::table::{align, first_seen, object};
use crate::window::age;

/// Normal-typed reasons that still explain what happened to a Pod.
const EXPLAINING: [&str; 8] = [
    "Killing",
    "BackOff",
    "Preempted",
    "Preempting",
    "Evicted",
    "OOMKilling",
    "NodeNotReady",
    "TaintManagerEviction",
];

/// Whether an Event helps explain what happened.
pub fn explains(record: &Record) -> bool {
    record.event_type() == "Warning"
        || record
            .reason
            .as_deref()
            .is_some_and(|r| EXPLAINING.contains(&r))
}

/// The Events of one reason.
#[derive(Debug)]
pub struct Group {
    /// The reason.
    pub reason: String,
    /// Occurrences summed over its Events.
    pub count: i64,
    /// First occurrence.
    pub first: Option<Timestamp>,
    /// Last occurrence.
    pub last: Option<Timestamp>,
    /// Objects involved.
    pub objects: Vec<String>,
    /// Distinct messages with their occurrences, most frequent first.
    pub messages: Vec<(String, i64)>,
}

/// Groups the explaining rows (latest version of each Event) by reason, last first.
pub fn groups(rows: &[Record]) -> Vec<Group> {
    let mut by_reason: BTreeMap<String, Group> = BTreeMap::new();
    let mut messages: BTreeMap<String, BTreeMap<String, i64>> = BTreeMap::new();
    for r in rows.iter().filter(|r| explains(r)) {
        let reason = r.reason.clone().unwrap_or_default();
        let g = by_reason.entry(reason.clone()).or_insert_with(|| Group {
            reason: reason.clone(),
            count: 0,
            first: None,
            last: None,
            objects: Vec::new(),
            messages: Vec::new(),
        });
        g.count += r.occurrences;
        let first = first_seen(r).or(effective_time(r));
        g.first = match (g.first, first) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        g.last = g.last.max(effective_time(r));
        let o = object(r);
        if !g.objects.contains(&o) {
            g.objects.push(o);
        }
        let message = r
            .message
            .as_deref()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        *messages
            .entry(reason)
            .or_default()
            .entry(message)
            .or_insert(0) += r.occurrences;
    }
    let mut out: Vec<Group> = by_reason
        .into_values()
        .map(|mut g| {
            let mut m: Vec<(String, i64)> = messages
                .remove(&g.reason)
                .unwrap_or_default()
                .into_iter()
                .collect();
            m.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
            g.messages = m;
            g
        })
        .collect();
    out.sort_by(|a, b| b.last.cmp(&a.last).then(a.reason.cmp(&b.reason)));
    out
}

/// A diagnosis: what most likely happened, and the message that says so.
#[derive(Debug, PartialEq, Eq)]
pub struct Cause {
    /// Lower is likelier to be the answer when several are present.
    rank: u8,
    /// One phrase: `out of memory`, `image pull failed`, `missing secret "x"`, ...
    pub summary: String,
    /// The Event message behind it.
    pub evidence: String,
    last: Option<Timestamp>,
}

fn quoted_after<'a>(message: &'a str, word: &str) -> Option<&'a str> {
    let start = message.find(&format!("{word} \""))? + word.len() + 2;
    let rest = &message[start..];
    Some(&rest[..rest.find('"')?])
}

/// What one Event says happened, if it names a cause.
fn classify(reason: &str, message: &str) -> Option<(u8, String)> {
    let lower = message.to_ascii_lowercase();
    let cause = match reason {
        "OOMKilling" => (0, "out of memory (OOM killed)".to_owned()),
        _ if lower.contains("oomkilled") || lower.contains("out of memory") => {
            (0, "out of memory (OOM killed)".to_owned())
        }
        "Evicted" | "TaintManagerEviction" => (1, "evicted".to_owned()),
        "Preempted" | "Preempting" => (1, "preempted by a higher-priority pod".to_owned()),
        "Unhealthy" if lower.contains("liveness") => (2, "liveness probe failed".to_owned()),
        "Unhealthy" => (5, "probe failed".to_owned()),
        "Failed" | "BackOff" | "ErrImagePull" | "ImagePullBackOff" | "InspectFailed"
            if lower.contains("pull") && lower.contains("image") =>
        {
            (3, "image pull failed".to_owned())
        }
        "FailedMount" | "FailedAttachVolume" | "FailedCreatePodSandBox" => {
            match (
                quoted_after(message, "secret"),
                quoted_after(message, "configmap"),
            ) {
                (Some(s), _) if lower.contains("not found") => {
                    (3, format!("missing secret \"{s}\""))
                }
                (_, Some(c)) if lower.contains("not found") => {
                    (3, format!("missing configmap \"{c}\""))
                }
                _ => (4, "volume mount failed".to_owned()),
            }
        }
        "FailedScheduling" => {
            let what = if lower.contains("insufficient cpu") {
                "not schedulable: insufficient cpu".to_owned()
            } else if lower.contains("insufficient memory") {
                "not schedulable: insufficient memory".to_owned()
            } else if lower.contains("untolerated taint") {
                "not schedulable: untolerated node taint".to_owned()
            } else {
                "not schedulable".to_owned()
            };
            (3, what)
        }
        "BackOff" if lower.contains("restarting failed container") => {
            (4, "crash loop (container keeps failing)".to_owned())
        }
        "NodeNotReady" => (4, "node not ready".to_owned()),
        "Killing" => (6, "stopped by the kubelet".to_owned()),
        _ => (7, reason.to_owned()),
    };
    Some(cause)
}

/// The likeliest cause among the groups: the most telling kind of cause, the latest on a tie;
/// for that cause, the message most specific to it (the longest).
pub fn likeliest(groups: &[Group]) -> Option<Cause> {
    let mut best: Option<Cause> = None;
    for g in groups {
        for (message, _) in &g.messages {
            let Some((rank, summary)) = classify(&g.reason, message) else {
                continue;
            };
            let candidate = Cause {
                rank,
                summary,
                evidence: message.clone(),
                last: g.last,
            };
            let better = match &best {
                None => true,
                Some(b) => {
                    (candidate.rank, std::cmp::Reverse(candidate.last))
                        < (b.rank, std::cmp::Reverse(b.last))
                        || (candidate.rank == b.rank
                            && candidate.summary == b.summary
                            && candidate.evidence.len() > b.evidence.len())
                }
            };
            if better {
                best = Some(candidate);
            }
        }
    }
    // A liveness failure explains a later Killing; keep the Killing only when nothing else does.
    best
}

/// The report: one block per reason, then the likeliest cause.
pub fn render(groups: &[Group], now: Timestamp) -> String {
    let mut lines: Vec<Vec<String>> = vec![
        ["LAST SEEN", "FIRST SEEN", "COUNT", "REASON", "OBJECT"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    ];
    let mut out = String::new();
    for g in groups {
        let objects = match g.objects.len() {
            0 => String::new(),
            1 => g.objects[0].clone(),
            n => format!("{} (+{} more)", g.objects[0], n - 1),
        };
        lines.push(vec![
            g.last.map(|t| age(now, t)).unwrap_or_default(),
            g.first.map(|t| age(now, t)).unwrap_or_default(),
            g.count.to_string(),
            g.reason.clone(),
            objects,
        ]);
    }
    let table = align(&lines);
    let mut table_lines = table.lines();
    if let Some(header) = table_lines.next() {
        out.push_str(header);
        out.push('\n');
    }
    for (g, line) in groups.iter().zip(table_lines) {
        out.push_str(line);
        out.push('\n');
        for (message, count) in g.messages.iter().take(3) {
            out.push_str(&format!("    x{count}  {message}\n"));
        }
        if g.messages.len() > 3 {
            out.push_str(&format!("    … {} more messages\n", g.messages.len() - 3));
        }
    }
    match likeliest(groups) {
        Some(cause) => out.push_str(&format!(
            "Likeliest cause: {}: {}\n",
            cause.summary, cause.evidence
        )),
        None => out.push_str("Likeliest cause: none found (no warnings in the window)\n"),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_are_named_from_the_messages() {
        let c = |r: &str, m: &str| classify(r, m).unwrap().1;
        assert_eq!(
            c(
                "FailedMount",
                "MountVolume.SetUp failed for volume \"secret-volume\" : secret \"misspelt-secret-name\" not found"
            ),
            "missing secret \"misspelt-secret-name\""
        );
        assert_eq!(
            c(
                "FailedScheduling",
                "0/3 nodes are available: 3 Insufficient cpu."
            ),
            "not schedulable: insufficient cpu"
        );
        assert_eq!(
            c(
                "Failed",
                "Failed to pull image \"wrong-image\": pull access denied"
            ),
            "image pull failed"
        );
        assert_eq!(
            c("BackOff", "Back-off pulling image \"x\""),
            "image pull failed"
        );
        assert_eq!(
            c("BackOff", "Back-off restarting failed container app"),
            "crash loop (container keeps failing)"
        );
        assert_eq!(
            c("Unhealthy", "Liveness probe failed: HTTP 500"),
            "liveness probe failed"
        );
    }
}
