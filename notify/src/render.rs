//! The wire formats of each destination, as pure functions of the notifications: Slack Block
//! Kit, a Teams Adaptive Card (workflow webhook), the generic JSON body (also the EventBridge
//! detail and the SNS message). A burst of notifications becomes one digest.

use serde_json::{Value, json};

use crate::message::Notification;

/// How many groups a digest lists by name; the rest are "N more".
pub const DIGEST_LISTED: usize = 10;
/// Slack's limit on a button URL; longer links go into the text.
const SLACK_URL_LIMIT: usize = 3000;
/// Slack's limit on a header's text.
const SLACK_HEADER_LIMIT: usize = 150;

/// What one delivery carries.
#[derive(Clone, Copy, Debug)]
pub enum Outgoing<'a> {
    /// One notification.
    Single(&'a Notification),
    /// Several notifications of one invocation, as one message.
    Digest(&'a [Notification]),
}

impl Outgoing<'_> {
    /// The notifications carried.
    pub fn notifications(&self) -> &[Notification] {
        match self {
            Self::Single(n) => std::slice::from_ref(*n),
            Self::Digest(all) => all,
        }
    }

    /// A one-line subject (SNS subject, fallback texts).
    pub fn subject(&self) -> String {
        match self {
            Self::Single(n) => n.title(),
            Self::Digest(all) => digest_title(all),
        }
    }
}

fn digest_title(all: &[Notification]) -> String {
    let clusters: std::collections::BTreeSet<&str> =
        all.iter().map(|n| n.cluster.as_str()).collect();
    format!(
        "{} Kubernetes Events need attention ({})",
        all.len(),
        clusters.into_iter().collect::<Vec<_>>().join(", ")
    )
}

fn digest_lines(all: &[Notification]) -> (Vec<String>, usize) {
    let lines = all
        .iter()
        .take(DIGEST_LISTED)
        .map(|n| format!("{} — {} ×{}", n.title(), n.why(), n.count))
        .collect();
    (lines, all.len().saturating_sub(DIGEST_LISTED))
}

fn clip(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
        out.push('…');
        out
    }
}

/// The generic JSON body: `{"kind": "notification"|"digest", "notifications": [...]}`.
pub fn generic(outgoing: Outgoing<'_>) -> Value {
    let kind = match outgoing {
        Outgoing::Single(_) => "notification",
        Outgoing::Digest(_) => "digest",
    };
    json!({
        "kind": kind,
        "subject": outgoing.subject(),
        "notifications": outgoing.notifications(),
    })
}

/// Slack incoming-webhook body in Block Kit.
pub fn slack(outgoing: Outgoing<'_>) -> Value {
    match outgoing {
        Outgoing::Single(n) => {
            let mut blocks = vec![
                json!({"type": "header", "text": {"type": "plain_text", "text": clip(&n.title(), SLACK_HEADER_LIMIT), "emoji": false}}),
                json!({"type": "section", "text": {"type": "mrkdwn", "text": clip(&format!("```{}```", n.message), 3000)}}),
                json!({"type": "section", "fields": [
                    field("Cluster", &n.cluster),
                    field("Namespace", &n.namespace),
                    field("Object", &n.object),
                    field("Reason", &n.reason),
                    field("Type", &n.event_type),
                    field("Count", &n.count.to_string()),
                    field("First seen", &n.first_seen),
                    field("Last seen", &n.last_seen),
                ]}),
            ];
            let mut context = format!("{} · rule {}", n.why(), n.rule);
            if n.late {
                context.push_str(" · late record (older than the late threshold)");
            }
            blocks.push(json!({"type": "context", "elements": [{"type": "mrkdwn", "text": clip(&context, 3000)}]}));
            if n.link.len() <= SLACK_URL_LIMIT {
                blocks.push(json!({"type": "actions", "elements": [{
                    "type": "button",
                    "text": {"type": "plain_text", "text": "Object history"},
                    "url": n.link,
                }]}));
            }
            json!({"text": n.title(), "blocks": blocks})
        }
        Outgoing::Digest(all) => {
            let (lines, more) = digest_lines(all);
            let mut text = lines
                .iter()
                .map(|l| format!("• {l}"))
                .collect::<Vec<_>>()
                .join("\n");
            if more > 0 {
                text.push_str(&format!("\n…and {more} more"));
            }
            json!({"text": digest_title(all), "blocks": [
                {"type": "header", "text": {"type": "plain_text", "text": clip(&digest_title(all), SLACK_HEADER_LIMIT), "emoji": false}},
                {"type": "section", "text": {"type": "mrkdwn", "text": clip(&text, 3000)}},
            ]})
        }
    }
}

fn field(name: &str, value: &str) -> Value {
    json!({"type": "mrkdwn", "text": clip(&format!("*{name}*\n{value}"), 2000)})
}

/// Teams workflow-webhook body: a message with one Adaptive Card (version 1.4).
pub fn teams(outgoing: Outgoing<'_>) -> Value {
    let (body, actions) = match outgoing {
        Outgoing::Single(n) => {
            let mut body = vec![
                json!({"type": "TextBlock", "text": n.title(), "weight": "Bolder", "size": "Medium", "wrap": true, "color": "Attention"}),
                json!({"type": "TextBlock", "text": n.message, "wrap": true, "fontType": "Monospace"}),
                json!({"type": "FactSet", "facts": [
                    fact("Cluster", &n.cluster),
                    fact("Namespace", &n.namespace),
                    fact("Object", &n.object),
                    fact("Reason", &n.reason),
                    fact("Type", &n.event_type),
                    fact("Count", &n.count.to_string()),
                    fact("First seen", &n.first_seen),
                    fact("Last seen", &n.last_seen),
                ]}),
                json!({"type": "TextBlock", "text": format!("{} · rule {}", n.why(), n.rule), "isSubtle": true, "wrap": true, "size": "Small"}),
            ];
            if n.late {
                body.push(json!({"type": "TextBlock", "text": "Late record (older than the late threshold)", "isSubtle": true, "wrap": true, "size": "Small"}));
            }
            let actions =
                vec![json!({"type": "Action.OpenUrl", "title": "Object history", "url": n.link})];
            (body, actions)
        }
        Outgoing::Digest(all) => {
            let (lines, more) = digest_lines(all);
            let mut body = vec![
                json!({"type": "TextBlock", "text": digest_title(all), "weight": "Bolder", "size": "Medium", "wrap": true}),
            ];
            body.extend(
                lines
                    .iter()
                    .map(|l| json!({"type": "TextBlock", "text": format!("- {l}"), "wrap": true})),
            );
            if more > 0 {
                body.push(json!({"type": "TextBlock", "text": format!("…and {more} more"), "wrap": true, "isSubtle": true}));
            }
            (body, Vec::new())
        }
    };
    let mut card = json!({
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    });
    if !actions.is_empty() {
        card["actions"] = Value::from(actions);
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": card,
        }],
    })
}

fn fact(title: &str, value: &str) -> Value {
    json!({"title": title, "value": value})
}
