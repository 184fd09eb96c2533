//! The filter grammar, shared by the emitter (what to emit) and the notifier (what to notify):
//! include/exclude rules over an event's namespace, involved object kind, reason, type and
//! reporting component, with globs.
//!
//! A rule is space-separated `field=glob[,glob...]` terms; all terms must match (AND), and a term
//! matches when any of its globs does (OR). An event is emitted when there are no include rules
//! or one of them matches, and no exclude rule matches.

use crate::Record;
use globset::{Glob, GlobSet, GlobSetBuilder};

/// Why a rule could not be read.
#[derive(Debug, thiserror::Error)]
pub enum RuleError {
    /// The rule has no terms.
    #[error("empty filter rule")]
    Empty,
    /// A term is not `field=glob`.
    #[error("filter term {0:?} is not field=glob[,glob...]")]
    NotATerm(String),
    /// The field is not one of the five known ones.
    #[error("unknown filter field {0:?} (use namespace, kind, reason, type or component)")]
    UnknownField(String),
    /// A glob is empty or malformed.
    #[error("bad glob {glob:?} in filter term: {source}")]
    BadGlob {
        /// The glob as written.
        glob: String,
        /// What is wrong with it.
        source: globset::Error,
    },
}

/// The event fields a rule can test.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `metadata.namespace` of the Event.
    Namespace,
    /// `involvedObject.kind`.
    Kind,
    /// `reason`.
    Reason,
    /// `type` (Normal, Warning).
    Type,
    /// The reporting component (`reportingComponent`, else `source.component`).
    Component,
}

impl Field {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "namespace" => Self::Namespace,
            "kind" => Self::Kind,
            "reason" => Self::Reason,
            "type" => Self::Type,
            "component" => Self::Component,
            _ => return None,
        })
    }

    fn value(self, record: &Record) -> &str {
        let text = match self {
            Self::Namespace => record.metadata.namespace.as_deref(),
            Self::Kind => record.involved_object.kind.as_deref(),
            Self::Reason => record.reason.as_deref(),
            Self::Type => record.event_type.as_deref(),
            Self::Component => record.reporter.component.as_deref(),
        };
        text.unwrap_or("")
    }
}

#[derive(Clone, Debug)]
struct Term {
    field: Field,
    globs: GlobSet,
}

/// One rule: terms that must all match.
#[derive(Clone, Debug)]
pub struct Rule {
    terms: Vec<Term>,
}

impl Rule {
    /// Parses `field=glob[,glob...] [field=glob...]`.
    pub fn parse(text: &str) -> Result<Self, RuleError> {
        let mut terms = Vec::new();
        for term in text.split_whitespace() {
            let (name, globs) = term
                .split_once('=')
                .ok_or_else(|| RuleError::NotATerm(term.to_owned()))?;
            let field =
                Field::parse(name).ok_or_else(|| RuleError::UnknownField(name.to_owned()))?;
            let mut set = GlobSetBuilder::new();
            for glob in globs.split(',') {
                let bad = |source| RuleError::BadGlob {
                    glob: glob.to_owned(),
                    source,
                };
                if glob.is_empty() {
                    return Err(RuleError::NotATerm(term.to_owned()));
                }
                set.add(Glob::new(glob).map_err(bad)?);
            }
            let globs = set.build().map_err(|source| RuleError::BadGlob {
                glob: globs.to_owned(),
                source,
            })?;
            terms.push(Term { field, globs });
        }
        if terms.is_empty() {
            return Err(RuleError::Empty);
        }
        Ok(Self { terms })
    }

    /// Whether every term matches the record.
    pub fn matches(&self, record: &Record) -> bool {
        self.terms
            .iter()
            .all(|term| term.globs.is_match(term.field.value(record)))
    }
}

/// Include and exclude rules together.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    include: Vec<Rule>,
    exclude: Vec<Rule>,
}

impl Filter {
    /// A filter from include and exclude rules.
    pub fn new(include: Vec<Rule>, exclude: Vec<Rule>) -> Self {
        Self { include, exclude }
    }

    /// Whether the record is emitted.
    pub fn admits(&self, record: &Record) -> bool {
        (self.include.is_empty() || self.include.iter().any(|r| r.matches(record)))
            && !self.exclude.iter().any(|r| r.matches(record))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::TestEvent;
    use crate::{Context, Origin, normalise};

    fn record(event: TestEvent) -> Record {
        normalise(&event.json(), &Context::new("test", Origin::Watch)).unwrap()
    }

    fn filter(include: &[&str], exclude: &[&str]) -> Filter {
        let rules = |r: &[&str]| r.iter().map(|t| Rule::parse(t).unwrap()).collect();
        Filter::new(rules(include), rules(exclude))
    }

    #[test]
    fn pod_and_node_events_only() {
        let f = filter(&["kind=Pod,Node"], &[]);
        assert!(f.admits(&record(TestEvent::new())));
        assert!(!f.admits(&record(TestEvent::new().about("Deployment", "web"))));
        assert!(f.admits(&record(TestEvent::new().about("Node", "node-1"))));
    }

    #[test]
    fn warnings_only() {
        let f = filter(&["type=Warning"], &[]);
        assert!(!f.admits(&record(TestEvent::new())));
        assert!(f.admits(&record(TestEvent::new().warning())));
    }

    #[test]
    fn everything_but_kube_system_normal() {
        let f = filter(&[], &["namespace=kube-system type=Normal"]);
        assert!(f.admits(&record(TestEvent::new())));
        assert!(!f.admits(&record(TestEvent::new().namespace("kube-system"))));
        assert!(f.admits(&record(TestEvent::new().namespace("kube-system").warning())));
    }

    #[test]
    fn globs_and_components() {
        let f = filter(&["reason=Failed* component=kube*"], &[]);
        assert!(f.admits(&record(TestEvent::new().reason("FailedMount"))));
        assert!(!f.admits(&record(TestEvent::new().reason("Started"))));
        assert!(filter(&[], &[]).admits(&record(TestEvent::new())));
    }

    #[test]
    fn bad_rules_say_why() {
        assert!(matches!(Rule::parse("  "), Err(RuleError::Empty)));
        assert!(matches!(Rule::parse("kind"), Err(RuleError::NotATerm(_))));
        assert!(matches!(
            Rule::parse("colour=red"),
            Err(RuleError::UnknownField(_))
        ));
        assert!(matches!(
            Rule::parse("kind=Pod,"),
            Err(RuleError::NotATerm(_))
        ));
        assert!(matches!(
            Rule::parse("kind=[Pod"),
            Err(RuleError::BadGlob { .. })
        ));
    }
}
