//! `fieldSelector` and `labelSelector` parsing and matching, with the syntax of kube-apiserver.

use serde_json::Value;

/// Why a selector was rejected (answered as 400 BadRequest).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// A field the resource does not index.
    #[error("field label not supported: {0}")]
    UnsupportedField(String),
    /// A term without an operator.
    #[error("invalid selector: '{0}'; can't understand '{1}'")]
    Malformed(String, String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum FieldOp {
    Eq,
    NotEq,
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct FieldRequirement {
    /// Dotted path into the stored (core/v1) object.
    path: &'static str,
    op: FieldOp,
    value: String,
}

/// A parsed `fieldSelector`: all requirements must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FieldSelector {
    reqs: Vec<FieldRequirement>,
}

impl FieldSelector {
    /// Parses `a=b,c!=d`; `resolve` maps a field label to the object path it selects on, or None
    /// when the resource does not support it.
    pub fn parse(
        input: &str,
        resolve: impl Fn(&str) -> Option<&'static str>,
    ) -> Result<Self, SelectorError> {
        let mut reqs = Vec::new();
        for term in split_unescaped(input, ',') {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            let (field, op, value) = if let Some((f, v)) = term.split_once("!=") {
                (f, FieldOp::NotEq, v)
            } else if let Some((f, v)) = term.split_once("==") {
                (f, FieldOp::Eq, v)
            } else if let Some((f, v)) = term.split_once('=') {
                (f, FieldOp::Eq, v)
            } else {
                return Err(SelectorError::Malformed(input.to_owned(), term.to_owned()));
            };
            let field = field.trim();
            let path =
                resolve(field).ok_or_else(|| SelectorError::UnsupportedField(field.to_owned()))?;
            reqs.push(FieldRequirement {
                path,
                op,
                value: unescape(value.trim()),
            });
        }
        Ok(Self { reqs })
    }

    /// True when no requirement was given.
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// The value required for `path` with `=`, if the selector pins it (used for `metadata.name`).
    pub fn required_value(&self, path: &str) -> Option<&str> {
        self.reqs
            .iter()
            .find(|r| r.path == path && r.op == FieldOp::Eq)
            .map(|r| r.value.as_str())
    }

    /// Does the object satisfy every requirement?
    pub fn matches(&self, object: &Value) -> bool {
        self.reqs.iter().all(|r| {
            let actual = field_value(object, r.path);
            match r.op {
                FieldOp::Eq => actual == r.value,
                FieldOp::NotEq => actual != r.value,
            }
        })
    }
}

/// The string value at a dotted path; absent and null are "", numbers are printed.
pub fn field_value(object: &Value, path: &str) -> String {
    let mut cur = object;
    for part in path.split('.') {
        match cur.get(part) {
            Some(v) => cur = v,
            None => return String::new(),
        }
    }
    match cur {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        Value::Number(n) => n.to_string(),
        Value::Bool(b) => b.to_string(),
        other => other.to_string(),
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum LabelRequirement {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`: all requirements must hold.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LabelSelector {
    reqs: Vec<LabelRequirement>,
}

impl LabelSelector {
    /// Parses `app=web,tier in (a,b),!legacy,env!=prod,team`.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let malformed = |t: &str| SelectorError::Malformed(input.to_owned(), t.to_owned());
        let mut reqs = Vec::new();
        for term in split_top_level(input) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            let req = if let Some(key) = term.strip_prefix('!') {
                LabelRequirement::NotExists(valid_key(key.trim()).ok_or_else(|| malformed(term))?)
            } else if let Some((k, v)) = term.split_once("!=") {
                LabelRequirement::NotEq(
                    valid_key(k.trim()).ok_or_else(|| malformed(term))?,
                    v.trim().to_owned(),
                )
            } else if let Some((k, v)) = term.split_once("==") {
                LabelRequirement::Eq(
                    valid_key(k.trim()).ok_or_else(|| malformed(term))?,
                    v.trim().to_owned(),
                )
            } else if let Some((k, v)) = term.split_once('=') {
                LabelRequirement::Eq(
                    valid_key(k.trim()).ok_or_else(|| malformed(term))?,
                    v.trim().to_owned(),
                )
            } else if let Some((k, rest)) = split_set_op(term, " notin ") {
                LabelRequirement::NotIn(
                    valid_key(k).ok_or_else(|| malformed(term))?,
                    parse_set(rest).ok_or_else(|| malformed(term))?,
                )
            } else if let Some((k, rest)) = split_set_op(term, " in ") {
                LabelRequirement::In(
                    valid_key(k).ok_or_else(|| malformed(term))?,
                    parse_set(rest).ok_or_else(|| malformed(term))?,
                )
            } else {
                LabelRequirement::Exists(valid_key(term).ok_or_else(|| malformed(term))?)
            };
            reqs.push(req);
        }
        Ok(Self { reqs })
    }

    /// True when no requirement was given.
    pub fn is_empty(&self) -> bool {
        self.reqs.is_empty()
    }

    /// Does the object's `metadata.labels` satisfy every requirement?
    pub fn matches(&self, object: &Value) -> bool {
        let labels = object.pointer("/metadata/labels");
        let get = |k: &str| labels.and_then(|l| l.get(k)).and_then(Value::as_str);
        self.reqs.iter().all(|r| match r {
            LabelRequirement::Eq(k, v) => get(k) == Some(v.as_str()),
            LabelRequirement::NotEq(k, v) => get(k) != Some(v.as_str()),
            LabelRequirement::In(k, set) => get(k).is_some_and(|x| set.iter().any(|s| s == x)),
            LabelRequirement::NotIn(k, set) => !get(k).is_some_and(|x| set.iter().any(|s| s == x)),
            LabelRequirement::Exists(k) => get(k).is_some(),
            LabelRequirement::NotExists(k) => get(k).is_none(),
        })
    }
}

fn valid_key(k: &str) -> Option<String> {
    let ok = !k.is_empty()
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'));
    ok.then(|| k.to_owned())
}

fn split_set_op<'a>(term: &'a str, op: &str) -> Option<(&'a str, &'a str)> {
    let idx = term.find(op)?;
    Some((term[..idx].trim(), term[idx + op.len()..].trim()))
}

fn parse_set(s: &str) -> Option<Vec<String>> {
    let inner = s.strip_prefix('(')?.strip_suffix(')')?;
    Some(
        inner
            .split(',')
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

/// Splits on commas outside parentheses.
fn split_top_level(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

/// Splits on `sep` not preceded by a backslash.
fn split_unescaped(s: &str, sep: char) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == sep {
            out.push(&s[start..i]);
            start = i + c.len_utf8();
        }
    }
    out.push(&s[start..]);
    out
}

fn unescape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn resolve(f: &str) -> Option<&'static str> {
        match f {
            "type" => Some("type"),
            "reason" => Some("reason"),
            "involvedObject.kind" => Some("involvedObject.kind"),
            "metadata.namespace" => Some("metadata.namespace"),
            _ => None,
        }
    }

    fn event() -> Value {
        json!({
            "metadata": {"namespace": "test", "labels": {"app": "web", "tier": "front"}},
            "type": "Warning", "reason": "BackOff", "involvedObject": {"kind": "Pod"},
        })
    }

    #[test]
    fn field_selectors_match_equal_and_not_equal() {
        let e = event();
        let sel = |s| FieldSelector::parse(s, resolve).unwrap();
        assert!(sel("type=Warning").matches(&e));
        assert!(sel("type==Warning,involvedObject.kind=Pod").matches(&e));
        assert!(!sel("type!=Warning").matches(&e));
        assert!(sel("type!=Normal,metadata.namespace=test").matches(&e));
        assert!(!sel("reason=Pulled").matches(&e));
        assert!(sel("").is_empty());
        assert_eq!(sel("type=Warning").required_value("type"), Some("Warning"));
    }

    #[test]
    fn unknown_field_labels_are_rejected() {
        assert_eq!(
            FieldSelector::parse("spec.nodeName=x", resolve),
            Err(SelectorError::UnsupportedField("spec.nodeName".into()))
        );
        assert!(FieldSelector::parse("type", resolve).is_err());
    }

    #[test]
    fn label_selectors_cover_every_operator() {
        let e = event();
        let sel = |s| LabelSelector::parse(s).unwrap();
        assert!(sel("app=web").matches(&e));
        assert!(sel("app==web,tier").matches(&e));
        assert!(!sel("app!=web").matches(&e));
        assert!(sel("tier in (front, back)").matches(&e));
        assert!(!sel("tier notin (front)").matches(&e));
        assert!(sel("!legacy").matches(&e));
        assert!(!sel("legacy").matches(&e));
        assert!(sel("env!=prod").matches(&e), "absent label satisfies !=");
        assert!(LabelSelector::parse("a in b").is_err());
    }
}
