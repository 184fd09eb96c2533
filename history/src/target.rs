//! `--for KIND/NAME` and `why KIND/NAME`: which involved objects a question is about. A name is
//! exact or a glob (`pod/api-7f6b*`); owners are followed by name the way their controllers name
//! what they create (Deployment `api` → ReplicaSet `api-<hash>` → Pod `api-<hash>-<suffix>`),
//! because the records carry names, not owner references.

use globset::{Glob, GlobMatcher};

/// Why a `KIND/NAME` could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TargetError {
    /// Not of the form `KIND/NAME`.
    #[error("{0:?} is not KIND/NAME (e.g. pod/api-7f6b9d8c5-2kx4q, deployment/api)")]
    NotKindName(String),
    /// The name is not a valid glob.
    #[error("{0:?} is not a valid name pattern")]
    BadPattern(String),
}

/// An object named on the command line, with the kinds its controllers create.
#[derive(Clone, Debug)]
pub struct Target {
    /// Canonical kind (`Pod`, `Deployment`, ...).
    pub kind: String,
    /// The name or pattern as given.
    pub name: String,
    matcher: GlobMatcher,
}

/// Kinds whose controllers create the next kinds, with how many `-<generated>` segments each
/// generation adds.
fn children(kind: &str) -> &'static [(&'static str, usize)] {
    match kind {
        "Deployment" => &[("ReplicaSet", 1), ("Pod", 2)],
        "CronJob" => &[("Job", 1), ("Pod", 2)],
        "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" => &[("Pod", 1)],
        _ => &[],
    }
}

/// The canonical kind for what kubectl accepts (`po`, `pods`, `deploy`, `rs`, ...).
pub fn canonical_kind(text: &str) -> String {
    let lower = text.to_ascii_lowercase();
    let known = match lower.as_str() {
        "po" | "pod" | "pods" => "Pod",
        "deploy" | "deployment" | "deployments" => "Deployment",
        "rs" | "replicaset" | "replicasets" => "ReplicaSet",
        "sts" | "statefulset" | "statefulsets" => "StatefulSet",
        "ds" | "daemonset" | "daemonsets" => "DaemonSet",
        "job" | "jobs" => "Job",
        "cj" | "cronjob" | "cronjobs" => "CronJob",
        "no" | "node" | "nodes" => "Node",
        "svc" | "service" | "services" => "Service",
        "pvc" | "persistentvolumeclaim" | "persistentvolumeclaims" => "PersistentVolumeClaim",
        "hpa" | "horizontalpodautoscaler" | "horizontalpodautoscalers" => "HorizontalPodAutoscaler",
        _ => return text.to_owned(),
    };
    known.to_owned()
}

impl Target {
    /// Reads `KIND/NAME`.
    pub fn parse(text: &str) -> Result<Self, TargetError> {
        let (kind, name) = text
            .split_once('/')
            .filter(|(k, n)| !k.is_empty() && !n.is_empty() && !n.contains('/'))
            .ok_or_else(|| TargetError::NotKindName(text.into()))?;
        let matcher = Glob::new(name)
            .map_err(|_| TargetError::BadPattern(name.into()))?
            .compile_matcher();
        Ok(Self {
            kind: canonical_kind(kind),
            name: name.to_owned(),
            matcher,
        })
    }

    /// `pod/NAME` as printed.
    pub fn display(&self) -> String {
        format!("{}/{}", self.kind.to_ascii_lowercase(), self.name)
    }

    /// Whether an Event about `kind`/`name` concerns the target or something its controllers
    /// created.
    pub fn matches(&self, kind: &str, name: &str) -> bool {
        if kind.eq_ignore_ascii_case(&self.kind) {
            return self.matcher.is_match(name);
        }
        children(&self.kind).iter().any(|(child, generated)| {
            kind == *child
                && strip_generated(name, *generated)
                    .is_some_and(|owner| self.matcher.is_match(owner))
        })
    }

    /// Whether `kind`/`name` is the target, something it created, or an owner of the target
    /// (by name: a Pod `api-7f6b9d8c5-2kx4q` is owned by ReplicaSet `api-7f6b9d8c5` and Deployment
    /// `api`). `why` reads the owners too: a Deployment's events explain its Pods.
    pub fn related(&self, kind: &str, name: &str) -> bool {
        if self.matches(kind, name) {
            return true;
        }
        // Owners: the target must be one of this object's children.
        children(kind).iter().any(|(child, generated)| {
            self.kind == *child
                && strip_generated(&self.name, *generated).is_some_and(|owner| owner == name)
        })
    }
}

/// `name` without its last `generated` `-segment`s, when it has that many.
fn strip_generated(name: &str, generated: usize) -> Option<&str> {
    let mut rest = name;
    for _ in 0..generated {
        let (head, tail) = rest.rsplit_once('-')?;
        if head.is_empty() || tail.is_empty() || !tail.bytes().all(|b| b.is_ascii_alphanumeric()) {
            return None;
        }
        rest = head;
    }
    Some(rest)
}

/// The owner a Pod or ReplicaSet most likely belongs to, by name, for grouping: `api-7f6b-x2`
/// → `api`. Objects whose name has no generated segments are their own group.
pub fn owner_group(kind: &str, name: &str) -> String {
    let stripped = match kind {
        "Pod" => strip_generated(name, 2).or_else(|| strip_generated(name, 1)),
        "ReplicaSet" | "Job" => strip_generated(name, 1),
        _ => None,
    };
    stripped.unwrap_or(name).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_take_kubectl_short_names() {
        assert_eq!(Target::parse("po/x").unwrap().kind, "Pod");
        assert_eq!(Target::parse("deploy/x").unwrap().kind, "Deployment");
        assert_eq!(Target::parse("Widget/x").unwrap().kind, "Widget");
        assert!(Target::parse("x").is_err());
        assert!(Target::parse("pod/").is_err());
        assert!(Target::parse("pod/a/b").is_err());
    }

    #[test]
    fn a_deployment_covers_its_replicasets_and_pods_by_name() {
        let t = Target::parse("deployment/scenario-b").unwrap();
        assert!(t.matches("Deployment", "scenario-b"));
        assert!(t.matches("ReplicaSet", "scenario-b-cff56c84"));
        assert!(t.matches("Pod", "scenario-b-cff56c84-xn9hh"));
        assert!(!t.matches("Pod", "scenario-bb-cff56c84-xn9hh"));
        assert!(!t.matches("Pod", "scenario-b-cff56c84"));
        assert!(!t.matches("Deployment", "scenario-bb"));
    }

    #[test]
    fn a_glob_matches_names() {
        let t = Target::parse("pod/scenario-b*").unwrap();
        assert!(t.matches("Pod", "scenario-b-cff56c84-xn9hh"));
        assert!(!t.matches("Pod", "scenario-a-7f6b9d8c5-2kx4q"));
        assert!(!t.matches("ReplicaSet", "scenario-b-cff56c84"));
    }

    #[test]
    fn owners_are_related_to_a_pod() {
        let t = Target::parse("pod/scenario-c-6d988b8d84-gghjv").unwrap();
        assert!(t.related("ReplicaSet", "scenario-c-6d988b8d84"));
        assert!(t.related("Deployment", "scenario-c"));
        assert!(!t.related("Deployment", "scenario-a"));
        assert_eq!(
            owner_group("Pod", "scenario-c-6d988b8d84-gghjv"),
            "scenario-c"
        );
        assert_eq!(owner_group("Pod", "nginx"), "nginx");
    }
}
