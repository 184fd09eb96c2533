//! API errors as metav1 `Status` objects, with the reasons and messages kube-apiserver uses.

use serde_json::{Value, json};

/// The resource an error is about, for messages like `leases.coordination.k8s.io "x" not found`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResourceName {
    /// Plural resource name (`events`).
    pub plural: &'static str,
    /// API group, "" for core.
    pub group: &'static str,
}

impl ResourceName {
    fn qualified(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_owned()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }
}

/// An error answered to a client as a `Status` object.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{code} {reason}: {message}")]
pub struct ApiError {
    /// HTTP status code (also `Status.code`).
    pub code: u16,
    /// `Status.reason` (`NotFound`, `Conflict`, `Expired`, ...).
    pub reason: &'static str,
    /// Human readable message.
    pub message: String,
    /// `Status.details`, when there are any.
    pub details: Option<Value>,
    /// Seconds for the `Retry-After` header (429, 504).
    pub retry_after: Option<u32>,
    /// `Status.metadata.continue`: the inconsistent continuation of an expired list.
    pub continue_token: Option<String>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            reason,
            message: message.into(),
            details: None,
            retry_after: None,
            continue_token: None,
        }
    }

    fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    fn name_details(res: ResourceName, name: &str) -> Value {
        let mut d = json!({"name": name, "kind": res.plural});
        if !res.group.is_empty() {
            d["group"] = json!(res.group);
        }
        d
    }

    /// `<code> <reason>` with the message `<resource> "<name>" <what>`, naming the object.
    fn about_name(
        code: u16,
        reason: &'static str,
        res: ResourceName,
        name: &str,
        what: &str,
    ) -> Self {
        let message = format!("{} \"{name}\" {what}", res.qualified());
        Self::new(code, reason, message).with_details(Self::name_details(res, name))
    }

    /// 404 for a named object.
    pub fn not_found(res: ResourceName, name: &str) -> Self {
        Self::about_name(404, "NotFound", res, name, "not found")
    }

    /// 404 for a path this server does not serve.
    pub fn no_such_path() -> Self {
        Self::new(
            404,
            "NotFound",
            "the server could not find the requested resource",
        )
        .with_details(json!({}))
    }

    /// 409 on create of an existing name.
    pub fn already_exists(res: ResourceName, name: &str) -> Self {
        Self::about_name(409, "AlreadyExists", res, name, "already exists")
    }

    /// 409 on a write with a stale resourceVersion or uid precondition.
    pub fn conflict(res: ResourceName, name: &str) -> Self {
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {} \"{name}\": the object has been modified; \
                 please apply your changes to the latest version and try again",
                res.qualified()
            ),
        )
        .with_details(Self::name_details(res, name))
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message)
    }

    /// 422 with one cause.
    pub fn invalid(kind: &str, group: &str, name: &str, field: &str, detail: &str) -> Self {
        let qualified_kind = if group.is_empty() {
            format!("{kind}.core")
        } else {
            format!("{kind}.{group}")
        };
        Self::new(
            422,
            "Invalid",
            format!("{qualified_kind} \"{name}\" is invalid: {field}: {detail}"),
        )
        .with_details(json!({
            "name": name, "kind": kind, "group": group,
            "causes": [{"reason": "FieldValueInvalid", "message": detail, "field": field}],
        }))
    }

    /// 405.
    pub fn method_not_allowed() -> Self {
        Self::new(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource",
        )
        .with_details(json!({}))
    }

    /// 415 for a patch type this server does not understand.
    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: \
                 application/json-patch+json, application/merge-patch+json, \
                 application/apply-patch+yaml, application/strategic-merge-patch+json \
                 (got {content_type:?})"
            ),
        )
    }

    /// 410 `Expired`, for a resourceVersion older than the history window.
    pub fn too_old_resource_version(requested: u64, oldest: u64) -> Self {
        Self::new(
            410,
            "Expired",
            format!("too old resource version: {requested} ({oldest})"),
        )
    }

    /// 410 `Expired`, for a continue token past its lifetime.
    pub fn continue_expired() -> Self {
        Self::new(
            410,
            "Expired",
            "The provided continue parameter is too old to display a consistent list result. \
             You can start a new list without the continue parameter.",
        )
    }

    /// 410 `Expired` for a continue token whose revision etcd compacted, with a fresh token that
    /// continues the list at the newest revision (`handleCompactedErrorForPaging` in
    /// `staging/src/k8s.io/apiserver/pkg/storage/etcd3/errors.go`).
    pub fn continue_expired_inconsistent(token: String) -> Self {
        let mut e = Self::new(
            410,
            "Expired",
            format!(
                "The provided continue parameter is too old to display a consistent list result. \
                 You can start a new list without the continue parameter, or use the continue \
                 token in this response to retrieve the remainder of the results. Continuing \
                 with the provided token results in an inconsistent list - objects that were \
                 created, modified, or deleted between the time the first chunk was returned \
                 and now may show up in the list.{token}"
            ),
        );
        e.continue_token = Some(token);
        e
    }

    /// 422 for list or watch parameters that do not go together (`ValidateListOptions` in
    /// `staging/src/k8s.io/apimachinery/pkg/apis/meta/internalversion/validation`).
    pub fn invalid_list_options(field: &str, detail: &str) -> Self {
        Self::new(
            422,
            "Invalid",
            format!("ListOptions.meta.k8s.io \"\" is invalid: {field}: {detail}"),
        )
        .with_details(json!({
            "kind": "ListOptions", "group": "meta.k8s.io",
            "causes": [{"reason": "FieldValueForbidden", "message": detail, "field": field}],
        }))
    }

    /// 504 for a resourceVersion newer than the server has.
    pub fn too_large_resource_version(requested: u64, current: u64) -> Self {
        let mut e = Self::new(
            504,
            "Timeout",
            format!("Too large resource version: {requested}, current: {current}"),
        )
        .with_details(json!({
            "causes": [{"reason": "ResourceVersionTooLarge", "message": "Too large resource version"}],
            "retryAfterSeconds": 1,
        }));
        e.retry_after = Some(1);
        e
    }

    /// 401.
    pub fn unauthorized(why: &str) -> Self {
        let mut e = Self::new(401, "Unauthorized", "Unauthorized");
        if !why.is_empty() {
            e.details = Some(json!({"causes": [{"message": why}]}));
        }
        e
    }

    /// 403 as kube-apiserver's RBAC authorizer words it (an injected fault).
    pub fn forbidden(verb: &str, resource: &str, name: &str, namespace: &str) -> Self {
        let object = if name.is_empty() {
            format!("{resource} is forbidden")
        } else {
            format!("{resource} \"{name}\" is forbidden")
        };
        Self::new(
            403,
            "Forbidden",
            format!(
                "{object}: User \"eventkeeper\" cannot {verb} resource \"{resource}\" in API group \"\" in the namespace \"{namespace}\""
            ),
        )
        .with_details(json!({"name": name, "kind": resource}))
    }

    /// 429 with Retry-After (an injected fault).
    pub fn too_many_requests(retry_after: u32) -> Self {
        let mut e = Self::new(
            429,
            "TooManyRequests",
            "Too many requests, please try again later.",
        )
        .with_details(json!({"retryAfterSeconds": retry_after}));
        e.retry_after = Some(retry_after);
        e
    }

    /// 500 (an injected fault).
    pub fn internal(message: &str) -> Self {
        Self::new(
            500,
            "InternalError",
            format!("Internal error occurred: {message}"),
        )
        .with_details(json!({"causes": [{"message": message}]}))
    }

    /// The metav1 Status object.
    pub fn to_status(&self) -> Value {
        let mut s = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if let Some(d) = &self.details {
            s["details"] = d.clone();
        }
        if let Some(t) = &self.continue_token {
            s["metadata"] = json!({"continue": t});
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflict_reads_like_the_api_server() {
        let res = ResourceName {
            plural: "leases",
            group: "coordination.k8s.io",
        };
        let s = ApiError::conflict(res, "eventkeeper").to_status();
        assert_eq!(s["code"], 409);
        assert_eq!(s["reason"], "Conflict");
        assert!(s["message"].as_str().unwrap().starts_with(
            "Operation cannot be fulfilled on leases.coordination.k8s.io \"eventkeeper\""
        ));
        assert_eq!(s["details"]["group"], "coordination.k8s.io");
    }
}
