//! Which records are notified, and where: rules in the project's filter grammar
//! ([`eventkeeper_core::filter::Rule`]) plus an optional message regex, each naming its
//! destinations. The first matching rule decides.

use eventkeeper_core::Record;
use eventkeeper_core::filter::{Rule, RuleError};
use regex::Regex;
use serde::Deserialize;

/// Why the rule configuration was rejected (bad configuration: exit 64).
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The rules are not the documented JSON.
    #[error("notification rules are not a JSON list of rules: {0}")]
    NotJson(#[source] serde_json::Error),
    /// A rule's `match` does not parse.
    #[error("rule {name:?}: {source}")]
    BadMatch {
        /// The rule's name.
        name: String,
        /// What is wrong.
        source: RuleError,
    },
    /// A rule's `message` is not a regex.
    #[error("rule {name:?}: bad message regex: {source}")]
    BadRegex {
        /// The rule's name.
        name: String,
        /// What is wrong.
        source: regex::Error,
    },
    /// A rule names a destination that is not configured.
    #[error("rule {rule:?} names destination {destination:?}, which is not configured")]
    UnknownDestination {
        /// The rule's name.
        rule: String,
        /// The destination it names.
        destination: String,
    },
}

/// A rule as written in configuration (`EVENTKEEPER_NOTIFY_RULES`).
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleSpec {
    /// Name, shown in messages and logs.
    pub name: String,
    /// Filter terms, e.g. `reason=BackOff,CrashLoopBackOff namespace=prod-*`.
    #[serde(rename = "match")]
    pub matches: String,
    /// Optional regex the message must match.
    #[serde(default)]
    pub message: Option<String>,
    /// Destination names; `["*"]` (the default) means every configured destination.
    #[serde(default = "every_destination")]
    pub destinations: Vec<String>,
}

fn every_destination() -> Vec<String> {
    vec!["*".to_owned()]
}

/// The reasons users most want to hear about, one rule per family.
pub const DEFAULT_RULES: [(&str, &str); 10] = [
    ("crash-loop", "reason=BackOff,CrashLoopBackOff"),
    (
        "image-pull",
        "reason=Failed,ErrImagePull,ImagePullBackOff type=Warning",
    ),
    ("scheduling", "reason=FailedScheduling"),
    ("volumes", "reason=FailedMount,FailedAttachVolume"),
    ("eviction", "reason=Evicted,Preempted"),
    ("oom", "reason=OOMKilling"),
    ("probes", "reason=Unhealthy"),
    ("node-not-ready", "reason=NodeNotReady"),
    ("node-rebooted", "reason=Rebooted"),
    ("create-failures", "reason=FailedCreate"),
];

/// The default rule set, every rule to every destination.
pub fn default_specs() -> Vec<RuleSpec> {
    DEFAULT_RULES
        .iter()
        .map(|(name, matches)| RuleSpec {
            name: (*name).to_owned(),
            matches: (*matches).to_owned(),
            message: None,
            destinations: every_destination(),
        })
        .collect()
}

/// A parsed rule.
#[derive(Clone, Debug)]
pub struct NotifyRule {
    /// Name.
    pub name: String,
    filter: Rule,
    message: Option<Regex>,
    /// Destination names (resolved: never `*`).
    pub destinations: Vec<String>,
}

impl NotifyRule {
    /// Whether the record matches.
    pub fn matches(&self, record: &Record) -> bool {
        self.filter.matches(record)
            && self
                .message
                .as_ref()
                .is_none_or(|re| re.is_match(record.message.as_deref().unwrap_or("")))
    }
}

/// The rule set.
#[derive(Clone, Debug)]
pub struct Rules(Vec<NotifyRule>);

impl Rules {
    /// Parses rules from JSON text, or the default set when `text` is `None`, resolving
    /// destination names against `configured`.
    pub fn parse(text: Option<&str>, configured: &[String]) -> Result<Self, RulesError> {
        let specs = match text {
            Some(text) => serde_json::from_str(text).map_err(RulesError::NotJson)?,
            None => default_specs(),
        };
        Self::from_specs(specs, configured)
    }

    /// Builds rules from specs.
    pub fn from_specs(specs: Vec<RuleSpec>, configured: &[String]) -> Result<Self, RulesError> {
        let mut rules = Vec::with_capacity(specs.len());
        for spec in specs {
            let filter = Rule::parse(&spec.matches).map_err(|source| RulesError::BadMatch {
                name: spec.name.clone(),
                source,
            })?;
            let message = spec
                .message
                .as_deref()
                .map(Regex::new)
                .transpose()
                .map_err(|source| RulesError::BadRegex {
                    name: spec.name.clone(),
                    source,
                })?;
            let mut destinations = Vec::new();
            for name in &spec.destinations {
                if name == "*" {
                    destinations.extend(configured.iter().cloned());
                } else if configured.contains(name) {
                    destinations.push(name.clone());
                } else {
                    return Err(RulesError::UnknownDestination {
                        rule: spec.name.clone(),
                        destination: name.clone(),
                    });
                }
            }
            destinations.dedup();
            rules.push(NotifyRule {
                name: spec.name,
                filter,
                message,
                destinations,
            });
        }
        Ok(Self(rules))
    }

    /// The first rule that matches the record.
    pub fn first_match(&self, record: &Record) -> Option<&NotifyRule> {
        self.0.iter().find(|rule| rule.matches(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use eventkeeper_core::fixtures::TestEvent;
    use eventkeeper_core::{Context, Origin, normalise};

    fn record(event: TestEvent) -> Record {
        normalise(&event.json(), &Context::new("prod", Origin::Watch)).unwrap()
    }

    fn dests() -> Vec<String> {
        vec!["slack".into(), "sns".into()]
    }

    #[test]
    fn default_rules_cover_the_documented_reasons() {
        let rules = Rules::parse(None, &dests()).unwrap();
        for reason in [
            "BackOff",
            "CrashLoopBackOff",
            "ErrImagePull",
            "FailedScheduling",
            "FailedMount",
            "Evicted",
            "OOMKilling",
            "Unhealthy",
            "NodeNotReady",
            "Rebooted",
            "FailedCreate",
        ] {
            let rule = rules
                .first_match(&record(TestEvent::new().warning().reason(reason)))
                .unwrap_or_else(|| panic!("{reason} has no default rule"));
            assert_eq!(rule.destinations, dests());
        }
        assert!(
            rules
                .first_match(&record(TestEvent::new().reason("Scheduled")))
                .is_none()
        );
    }

    #[test]
    fn message_regex_and_named_destinations() {
        let text = r#"[{"name":"disk","match":"reason=FailedMount","message":"timed out","destinations":["sns"]}]"#;
        let rules = Rules::parse(Some(text), &dests()).unwrap();
        let hit = TestEvent::new()
            .reason("FailedMount")
            .message("Unable to attach: timed out waiting");
        let miss = TestEvent::new().reason("FailedMount").message("other");
        assert_eq!(
            rules.first_match(&record(hit)).unwrap().destinations,
            vec!["sns".to_owned()]
        );
        assert!(rules.first_match(&record(miss)).is_none());
    }

    #[test]
    fn bad_rules_say_why() {
        let bad = |text: &str| Rules::parse(Some(text), &dests()).unwrap_err();
        assert!(matches!(bad("{"), RulesError::NotJson(_)));
        assert!(matches!(
            bad(r#"[{"name":"x","match":"colour=red"}]"#),
            RulesError::BadMatch { .. }
        ));
        assert!(matches!(
            bad(r#"[{"name":"x","match":"kind=Pod","message":"("}]"#),
            RulesError::BadRegex { .. }
        ));
        assert!(matches!(
            bad(r#"[{"name":"x","match":"kind=Pod","destinations":["teams"]}]"#),
            RulesError::UnknownDestination { .. }
        ));
    }
}
