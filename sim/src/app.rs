//! Request routing and the Kubernetes API handlers: discovery, list (paged, at a revision, with
//! selectors), get, create, update, patch, delete, deletecollection, and watch.

use crate::admin;
use crate::auth::Auth;
use crate::discovery;
use crate::faults::Faults;
use crate::generator::Generator;
use crate::resource::{self, Kind, View};
use crate::scenario::ScenarioRunner;
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{ListAt, Obj, Store, str_at};
use crate::table::{self, IncludeObject, TableRequest};
use crate::watch::{self, WatchSpec, WatchStart};
use base64::Engine as _;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, Limited, StreamBody, combinators::UnsyncBoxBody};
use hyper::body::{Frame, Incoming};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch as tokio_watch};

/// Response body type of every handler.
pub type Body = UnsyncBoxBody<Bytes, Infallible>;

/// Largest request body accepted (kube-apiserver's limit is 3 MiB).
const MAX_BODY: usize = 3 * 1024 * 1024;

/// Shared state of one running simulator.
pub struct App {
    /// Objects, history, observations.
    pub store: Arc<Store>,
    /// Injected faults.
    pub faults: Arc<Faults>,
    /// Bearer token checks.
    pub auth: Auth,
    /// Load generator.
    pub generator: Arc<Generator>,
    /// Scenario replay.
    pub scenarios: Arc<ScenarioRunner>,
    /// Bookmark period of watches.
    pub bookmark_interval: Duration,
    /// `host:port` the server listens on (for `/api`).
    pub server_address: String,
    /// Becomes true at shutdown.
    pub shutdown: tokio_watch::Receiver<bool>,
}

/// Query parameters.
pub type Query = HashMap<String, String>;

/// A resource path.
#[derive(Clone, Debug, PartialEq, Eq)]
struct ResourcePath {
    view: View,
    namespace: Option<String>,
    name: Option<String>,
    watch: bool,
}

fn parse_resource_path(segs: &[&str]) -> Option<ResourcePath> {
    let (views, rest): (&[View], &[&str]) = match segs {
        ["api", "v1", rest @ ..] => (&[View::CoreEvents], rest),
        ["apis", "events.k8s.io", "v1", rest @ ..] => (&[View::EventsV1], rest),
        ["apis", "coordination.k8s.io", "v1", rest @ ..] => (&[View::Leases], rest),
        _ => return None,
    };
    let view = views[0];
    let (watch, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    let plural = view.resource_name().plural;
    let (namespace, name) = match rest {
        [p] if *p == plural => (None, None),
        ["namespaces", ns, p] if *p == plural => (Some(ns.to_string()), None),
        ["namespaces", ns, p, name] if *p == plural => {
            (Some(ns.to_string()), Some(name.to_string()))
        }
        _ => return None,
    };
    Some(ResourcePath {
        view,
        namespace,
        name,
        watch,
    })
}

/// A JSON response.
pub fn json_response(code: StatusCode, v: &Value) -> Response<Body> {
    bytes_response(
        code,
        Bytes::from(serde_json::to_vec(v).unwrap_or_default()),
        "application/json",
    )
}

/// A response with a body and content type.
pub fn bytes_response(code: StatusCode, body: Bytes, content_type: &str) -> Response<Body> {
    let mut r = Response::new(Full::new(body).boxed_unsync());
    *r.status_mut() = code;
    if let Ok(v) = HeaderValue::from_str(content_type) {
        r.headers_mut().insert(header::CONTENT_TYPE, v);
    }
    r
}

/// A Status response for an error.
pub fn error_response(e: &ApiError) -> Response<Body> {
    let code = StatusCode::from_u16(e.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut r = json_response(code, &e.to_status());
    if let Some(s) = e.retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    r
}

/// Reads a request body (up to 3 MiB) as JSON.
pub async fn read_json(req: Request<Incoming>) -> Result<Value, ApiError> {
    let bytes = read_body(req).await?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::bad_request(format!("the request body is not valid JSON: {e}")))
}

/// Reads a request body (up to 3 MiB).
pub async fn read_body(req: Request<Incoming>) -> Result<Bytes, ApiError> {
    Limited::new(req.into_body(), MAX_BODY)
        .collect()
        .await
        .map(|c| c.to_bytes())
        .map_err(|e| ApiError::bad_request(format!("cannot read the request body: {e}")))
}

fn parse_query(q: Option<&str>) -> Query {
    form_urlencoded::parse(q.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

fn flag(q: &Query, k: &str) -> bool {
    q.get(k).is_some_and(|v| v == "true" || v == "1")
}

impl App {
    /// Answers one request.
    pub async fn handle(self: Arc<Self>, req: Request<Incoming>) -> Response<Body> {
        let path = req.uri().path().to_owned();
        let method = req.method().clone();
        let query = parse_query(req.uri().query());
        tracing::debug!(%method, %path, query = ?req.uri().query(), "Request");
        let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
        let res = match segs.as_slice() {
            ["_sim", rest @ ..] => {
                let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
                admin::handle(&self, method, &rest, &query, req).await
            }
            ["healthz"] | ["livez"] | ["readyz"] => Ok(bytes_response(
                StatusCode::OK,
                Bytes::from_static(b"ok"),
                "text/plain",
            )),
            ["version"] => Ok(json_response(StatusCode::OK, &discovery::version())),
            _ => match self.auth.authenticate(req.headers()).await {
                Err(e) => Err(e),
                Ok(who) => {
                    tracing::trace!(user = %who, "Authenticated");
                    self.api(
                        method,
                        segs.iter().map(|s| s.to_string()).collect(),
                        query,
                        req,
                    )
                    .await
                }
            },
        };
        res.unwrap_or_else(|e| {
            tracing::debug!(code = e.code, reason = e.reason, "Request failed");
            error_response(&e)
        })
    }

    async fn api(
        self: Arc<Self>,
        method: Method,
        segs: Vec<String>,
        query: Query,
        req: Request<Incoming>,
    ) -> Result<Response<Body>, ApiError> {
        let s: Vec<&str> = segs.iter().map(String::as_str).collect();
        let get = method == Method::GET;
        match s.as_slice() {
            ["api"] if get => {
                return Ok(json_response(
                    StatusCode::OK,
                    &discovery::core_versions(&self.server_address),
                ));
            }
            ["apis"] if get => return Ok(json_response(StatusCode::OK, &discovery::groups())),
            ["apis", g] if get => {
                return discovery::group_doc(g)
                    .map(|d| json_response(StatusCode::OK, &d))
                    .ok_or_else(ApiError::no_such_path);
            }
            ["api", "v1"] if get => {
                return discovery::resources("v1")
                    .map(|d| json_response(StatusCode::OK, &d))
                    .ok_or_else(ApiError::no_such_path);
            }
            ["apis", g, v] if get => {
                return discovery::resources(&format!("{g}/{v}"))
                    .map(|d| json_response(StatusCode::OK, &d))
                    .ok_or_else(ApiError::no_such_path);
            }
            _ => {}
        }
        let rp = parse_resource_path(&s).ok_or_else(ApiError::no_such_path)?;
        self.faults.gate().await?;
        let accept = req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let tbl = table::requested(
            &accept,
            IncludeObject::parse(query.get("includeObject").map(String::as_str)),
        );
        let ns = rp.namespace.clone();
        match (method, rp.name.clone()) {
            (Method::GET, _) if rp.watch || flag(&query, "watch") => self.watch(&rp, &query, tbl),
            (Method::GET, None) => self.list(&rp, &query, tbl).await,
            (Method::GET, Some(name)) => {
                let ns = ns.ok_or_else(ApiError::no_such_path)?;
                let o = self
                    .store
                    .get(rp.view.kind(), &ns, &name)
                    .ok_or_else(|| ApiError::not_found(rp.view.resource_name(), &name))?;
                Ok(self.object_response(StatusCode::OK, rp.view, &o, tbl))
            }
            (Method::POST, None) => {
                let ns = ns.ok_or_else(ApiError::method_not_allowed)?;
                let body = read_json(req).await?;
                let obj = self.incoming(rp.view, &ns, body, None)?;
                let o = self.store.create(rp.view, &ns, obj)?;
                Ok(self.object_response(StatusCode::CREATED, rp.view, &o, None))
            }
            (Method::PUT, Some(name)) => {
                let ns = ns.ok_or_else(ApiError::no_such_path)?;
                let body = read_json(req).await?;
                let obj = self.incoming(rp.view, &ns, body, Some(&name))?;
                let (o, created) =
                    self.store
                        .update(rp.view, &ns, &name, obj, rp.view.kind() == Kind::Event)?;
                let code = if created {
                    StatusCode::CREATED
                } else {
                    StatusCode::OK
                };
                Ok(self.object_response(code, rp.view, &o, None))
            }
            (Method::PATCH, Some(name)) => {
                let ns = ns.ok_or_else(ApiError::no_such_path)?;
                self.patch(rp.view, &ns, &name, req).await
            }
            (Method::DELETE, Some(name)) => {
                let ns = ns.ok_or_else(ApiError::no_such_path)?;
                let body = read_body(req).await?;
                let opts: Value = if body.is_empty() {
                    json!({})
                } else {
                    serde_json::from_slice(&body)
                        .map_err(|e| ApiError::bad_request(format!("invalid DeleteOptions: {e}")))?
                };
                let pre_rv = opts
                    .pointer("/preconditions/resourceVersion")
                    .and_then(Value::as_str);
                let pre_uid = opts.pointer("/preconditions/uid").and_then(Value::as_str);
                let o = self.store.delete(rp.view, &ns, &name, pre_rv, pre_uid)?;
                Ok(self.object_response(StatusCode::OK, rp.view, &o, None))
            }
            (Method::DELETE, None) => {
                let (fields, labels) = selectors(rp.view, &query)?;
                let f = |v: &Value| fields.matches(v) && labels.matches(v);
                let filter: crate::store::Filter<'_> =
                    (!fields.is_empty() || !labels.is_empty()).then_some(&f);
                let n = self
                    .store
                    .delete_matching(rp.view.kind(), ns.as_deref(), filter);
                Ok(json_response(
                    StatusCode::OK,
                    &json!({"kind": "Status", "apiVersion": "v1", "metadata": {},
                            "status": "Success", "details": {"kind": rp.view.resource_name().plural},
                            "message": format!("deleted {n} objects")}),
                ))
            }
            _ => Err(ApiError::method_not_allowed()),
        }
    }

    /// A client's object, in the stored form, defaulted and validated against the URL.
    fn incoming(
        &self,
        view: View,
        ns: &str,
        body: Value,
        url_name: Option<&str>,
    ) -> Result<Value, ApiError> {
        if !body.is_object() {
            return Err(ApiError::bad_request("the body must be a JSON object"));
        }
        let mut obj = view.to_stored(body);
        let body_ns = str_at(&obj, "/metadata/namespace");
        if !body_ns.is_empty() && body_ns != ns {
            return Err(ApiError::bad_request(
                "the namespace of the provided object does not match the namespace sent on the request",
            ));
        }
        if let Some(name) = url_name {
            let body_name = str_at(&obj, "/metadata/name");
            if !body_name.is_empty() && body_name != name {
                return Err(ApiError::bad_request(format!(
                    "the name of the object ({body_name}) does not match the name on the URL ({name})"
                )));
            }
            crate::store::set_meta(&mut obj, "name", json!(name));
        }
        if str_at(&obj, "/metadata/name").is_empty() {
            let prefix = str_at(&obj, "/metadata/generateName");
            if !prefix.is_empty() {
                let name = format!("{prefix}{}", self.store.random_suffix(5));
                crate::store::set_meta(&mut obj, "name", json!(name));
            }
        }
        resource::default_and_validate(view, ns, &mut obj)?;
        Ok(obj)
    }

    fn object_response(
        &self,
        code: StatusCode,
        view: View,
        o: &Obj,
        tbl: Option<TableRequest>,
    ) -> Response<Body> {
        if let Some(t) = tbl {
            let now = self.store.clock().now();
            let row = table::row(view, &o.value(), now, t);
            return json_response(
                code,
                &table::table(
                    view,
                    t,
                    json!({"resourceVersion": o.rv.to_string()}),
                    vec![row],
                ),
            );
        }
        match view {
            View::EventsV1 => json_response(code, &view.present(&o.value())),
            View::CoreEvents | View::Leases => {
                bytes_response(code, o.json.clone(), "application/json")
            }
        }
    }

    async fn patch(
        &self,
        view: View,
        ns: &str,
        name: &str,
        req: Request<Incoming>,
    ) -> Result<Response<Body>, ApiError> {
        let content_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_owned();
        let body = read_body(req).await?;
        enum PatchKind {
            Merge,
            Apply,
            Json,
        }
        let kind = match content_type.as_str() {
            "application/merge-patch+json" | "application/strategic-merge-patch+json" => {
                PatchKind::Merge
            }
            "application/apply-patch+yaml" | "application/apply-patch+json" => PatchKind::Apply,
            "application/json-patch+json" => PatchKind::Json,
            other => return Err(ApiError::unsupported_media_type(other)),
        };
        let patch: Value = serde_json::from_slice(&body).map_err(|e| {
            ApiError::bad_request(format!(
                "the patch is not valid JSON (YAML apply patches are not supported): {e}"
            ))
        })?;
        let allow_create = matches!(kind, PatchKind::Apply);
        let (o, created) = self.store.patch(view, ns, name, allow_create, |cur| {
            let mut doc = match cur {
                Some(c) => view.present(c),
                None => json!({}),
            };
            match kind {
                PatchKind::Merge | PatchKind::Apply => merge_patch(&mut doc, &patch),
                PatchKind::Json => {
                    let p: json_patch::Patch = serde_json::from_value(patch.clone())
                        .map_err(|e| ApiError::bad_request(format!("invalid JSON patch: {e}")))?;
                    json_patch::patch(&mut doc, &p).map_err(|e| {
                        ApiError::invalid(
                            view.object_kind(),
                            view.resource_name().group,
                            name,
                            "patch",
                            &e.to_string(),
                        )
                    })?;
                }
            }
            self.incoming(view, ns, doc, Some(name))
        })?;
        let code = if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok(self.object_response(code, view, &o, None))
    }

    async fn list(
        &self,
        rp: &ResourcePath,
        q: &Query,
        tbl: Option<TableRequest>,
    ) -> Result<Response<Body>, ApiError> {
        let (fields, labels) = selectors(rp.view, q)?;
        let limit = match q.get("limit").map(String::as_str) {
            None | Some("") => None,
            Some(s) => {
                let n: i64 = s
                    .parse()
                    .map_err(|_| ApiError::bad_request(format!("invalid limit: {s:?}")))?;
                (n > 0).then_some(n as usize)
            }
        };
        let selected = !fields.is_empty() || !labels.is_empty();
        let (items, offset, rv) = match q.get("continue").filter(|c| !c.is_empty()) {
            Some(token) => {
                let (id, offset) = decode_continue(token)?;
                let (items, rv) = self.store.list_snapshot(id)?;
                (items, offset, rv)
            }
            None => {
                let at = self.list_at(q, limit.is_some()).await?;
                let ns = rp.namespace.as_deref();
                let f = |v: &Value| fields.matches(v) && labels.matches(v);
                let filter: crate::store::Filter<'_> = selected.then_some(&f);
                let (items, rv) = self.store.list(rp.view.kind(), ns, at, filter)?;
                (Arc::new(items), 0, rv)
            }
        };
        let end = limit.map_or(items.len(), |l| (offset + l).min(items.len()));
        let page = items.get(offset.min(end)..end).unwrap_or_default();
        let mut meta = json!({"resourceVersion": rv.to_string()});
        if end < items.len() {
            let id = match q.get("continue").filter(|c| !c.is_empty()) {
                Some(token) => decode_continue(token)?.0,
                None => self.store.save_list_snapshot(rv, items.clone()),
            };
            meta["continue"] = json!(encode_continue(id, end, rv, &items[end]));
            if !selected {
                meta["remainingItemCount"] = json!(items.len() - end);
            }
        }
        if let Some(t) = tbl {
            let now = self.store.clock().now();
            let rows = page
                .iter()
                .map(|o| table::row(rp.view, &o.value(), now, t))
                .collect();
            return Ok(json_response(
                StatusCode::OK,
                &table::table(rp.view, t, meta, rows),
            ));
        }
        let mut out = Vec::with_capacity(64 + page.iter().map(|o| o.json.len() + 1).sum::<usize>());
        out.extend_from_slice(
            format!(
                "{{\"kind\":\"{}\",\"apiVersion\":\"{}\",\"metadata\":{},\"items\":[",
                rp.view.list_kind(),
                rp.view.api_version(),
                meta
            )
            .as_bytes(),
        );
        for (i, o) in page.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match rp.view {
                View::EventsV1 => {
                    let _ = serde_json::to_writer(&mut out, &rp.view.present(&o.value()));
                }
                View::CoreEvents | View::Leases => out.extend_from_slice(&o.json),
            }
        }
        out.extend_from_slice(b"]}");
        Ok(bytes_response(
            StatusCode::OK,
            Bytes::from(out),
            "application/json",
        ))
    }

    /// Which revision a list reads (`resourceVersion` + `resourceVersionMatch`).
    async fn list_at(&self, q: &Query, paged: bool) -> Result<ListAt, ApiError> {
        let rv = match q.get("resourceVersion").map(String::as_str) {
            None | Some("") | Some("0") => return Ok(ListAt::Latest),
            Some(s) => parse_rv(s)?,
        };
        let exact = match q.get("resourceVersionMatch").map(String::as_str) {
            Some("Exact") => true,
            Some("NotOlderThan") => false,
            None | Some("") => paged,
            Some(other) => {
                return Err(ApiError::bad_request(format!(
                    "unsupported resourceVersionMatch: {other:?}"
                )));
            }
        };
        // A revision from the future: wait a little for it, like the watch cache does.
        let mut notify = self.store.subscribe();
        let waited =
            tokio::time::timeout(Duration::from_secs(3), notify.wait_for(|cur| *cur >= rv)).await;
        if !matches!(waited, Ok(Ok(_))) {
            return Err(ApiError::too_large_resource_version(
                rv,
                self.store.current_rv(),
            ));
        }
        Ok(if exact {
            ListAt::Exact(rv)
        } else {
            ListAt::Latest
        })
    }

    fn watch(
        self: Arc<Self>,
        rp: &ResourcePath,
        q: &Query,
        tbl: Option<TableRequest>,
    ) -> Result<Response<Body>, ApiError> {
        let (fields, labels) = selectors(rp.view, q)?;
        let start = match q.get("resourceVersion").map(String::as_str) {
            None | Some("") | Some("0") => WatchStart::CurrentState,
            Some(s) => WatchStart::After(parse_rv(s)?),
        };
        let timeout = match q.get("timeoutSeconds").map(String::as_str) {
            None | Some("") => Duration::from_secs(1800),
            Some(s) => Duration::from_secs(
                s.parse()
                    .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds: {s:?}")))?,
            ),
        };
        let name = rp
            .name
            .clone()
            .or_else(|| fields.required_value("metadata.name").map(str::to_owned));
        let spec = WatchSpec {
            view: rp.view,
            namespace: rp.namespace.clone(),
            name,
            fields,
            labels,
            start,
            send_initial_events: flag(q, "sendInitialEvents"),
            bookmarks: flag(q, "allowWatchBookmarks"),
            timeout,
            table: tbl,
        };
        let (tx, rx) = mpsc::channel::<Bytes>(8);
        tokio::spawn(watch::run(self.clone(), spec, tx));
        let stream = futures::stream::unfold(rx, |mut rx| async move {
            rx.recv()
                .await
                .map(|b| (Ok::<_, Infallible>(Frame::data(b)), rx))
        });
        let mut r = Response::new(StreamBody::new(stream).boxed_unsync());
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r.headers_mut().insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-cache, private"),
        );
        Ok(r)
    }
}

fn selectors(view: View, q: &Query) -> Result<(FieldSelector, LabelSelector), ApiError> {
    let fields = FieldSelector::parse(
        q.get("fieldSelector").map(String::as_str).unwrap_or(""),
        |l| view.field_path(l),
    )
    .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let labels = LabelSelector::parse(q.get("labelSelector").map(String::as_str).unwrap_or(""))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok((fields, labels))
}

fn parse_rv(s: &str) -> Result<u64, ApiError> {
    s.parse()
        .map_err(|_| ApiError::bad_request(format!("invalid resource version: {s:?}")))
}

/// A continue token: base64 of the JSON the API server uses, plus where our snapshot is.
fn encode_continue(id: u64, offset: usize, rv: u64, next: &Obj) -> String {
    let start = format!("{}/{}\u{0}", next.key.0, next.key.1);
    let v =
        json!({"v": "meta.k8s.io/v1", "rv": rv, "start": start, "snapshot": id, "offset": offset});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
}

fn decode_continue(token: &str) -> Result<(u64, usize), ApiError> {
    let bad = || {
        ApiError::bad_request(
            "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)",
        )
    };
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(token.trim_end_matches('='))
        .map_err(|_| bad())?;
    let v: Value = serde_json::from_slice(&raw).map_err(|_| bad())?;
    let id = v.get("snapshot").and_then(Value::as_u64).ok_or_else(bad)?;
    let offset = v.get("offset").and_then(Value::as_u64).ok_or_else(bad)? as usize;
    Ok((id, offset))
}

/// RFC 7386 JSON merge patch.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Some(p) = patch.as_object() else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = json!({});
    }
    if let Some(t) = target.as_object_mut() {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// The headers a request was made with (for tests of auth).
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resource_paths() {
        let p = |s: &str| parse_resource_path(&s.trim_matches('/').split('/').collect::<Vec<_>>());
        assert_eq!(p("/api/v1/events").unwrap().namespace, None);
        let r = p("/api/v1/namespaces/test/events/x").unwrap();
        assert_eq!(
            (r.namespace.as_deref(), r.name.as_deref()),
            (Some("test"), Some("x"))
        );
        assert!(p("/api/v1/watch/namespaces/test/events").unwrap().watch);
        assert_eq!(
            p("/apis/events.k8s.io/v1/events").unwrap().view,
            View::EventsV1
        );
        assert_eq!(
            p("/apis/coordination.k8s.io/v1/namespaces/a/leases/b")
                .unwrap()
                .view,
            View::Leases
        );
        assert!(p("/api/v1/pods").is_none());
        assert!(p("/apis/coordination.k8s.io/v1/namespaces/a/events").is_none());
    }

    #[test]
    fn merge_patch_follows_rfc7386() {
        let mut t = json!({"a": 1, "b": {"c": 2, "d": 3}, "count": 1});
        merge_patch(&mut t, &json!({"b": {"c": null, "e": 4}, "count": 2}));
        assert_eq!(t, json!({"a": 1, "b": {"d": 3, "e": 4}, "count": 2}));
    }
}
