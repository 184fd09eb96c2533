//! Request routing and the Kubernetes API handlers: discovery, list (paged, at a revision, with
//! selectors), get, create, update, patch, delete, deletecollection, and watch.

use crate::admin;
use crate::app::App;
use crate::continue_token::{self, Continue};
use crate::discovery;
use crate::http::{
    Body, Query, bytes_response, error_response, flag, json_response, param, parse_query,
    read_body, read_json,
};
use crate::resource::{self, Kind, View};
use crate::selector::{FieldSelector, LabelSelector};
use crate::status::ApiError;
use crate::store::{Filter, ListAt, Obj, str_at};
use crate::table::{self, IncludeObject, TableRequest};
use crate::watch::{self, WatchSpec};
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::{Frame, Incoming};
use serde_json::{Value, json};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

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

/// Answers one request.
pub async fn handle(app: Arc<App>, req: Request<Incoming>) -> Response<Body> {
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let query = parse_query(req.uri().query());
    tracing::debug!(%method, %path, query = ?req.uri().query(), version = ?req.version(), "Request");
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    let res = match segs.as_slice() {
        ["_sim", rest @ ..] => {
            let rest: Vec<String> = rest.iter().map(|s| s.to_string()).collect();
            admin::handle(&app, method, &rest, &query, req).await
        }
        ["healthz"] | ["livez"] | ["readyz"] => Ok(bytes_response(
            StatusCode::OK,
            Bytes::from_static(b"ok"),
            "text/plain",
        )),
        ["version"] => Ok(json_response(StatusCode::OK, &discovery::version())),
        _ => match app.auth.authenticate(req.headers()).await {
            Err(e) => Err(e),
            Ok(who) => {
                tracing::trace!(user = %who, "Authenticated");
                api(
                    app.clone(),
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
    app: Arc<App>,
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
                &discovery::core_versions(&app.server_address),
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
    app.faults.gate().await?;
    if rp.view.kind() == Kind::Event && method != Method::GET && app.faults.forbids_event_writes() {
        let verb = match method {
            Method::POST => "create",
            Method::PUT => "update",
            Method::PATCH => "patch",
            _ if rp.name.is_none() => "deletecollection",
            _ => "delete",
        };
        return Err(ApiError::forbidden(
            verb,
            "events",
            rp.name.as_deref().unwrap_or(""),
            rp.namespace.as_deref().unwrap_or(""),
        ));
    }
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
        (Method::GET, _) if rp.watch || flag(&query, "watch") => {
            watch_stream(&app, &rp, &query, tbl)
        }
        (Method::GET, None) => list(&app, &rp, &query, tbl).await,
        (Method::GET, Some(name)) => {
            let ns = ns.ok_or_else(ApiError::no_such_path)?;
            let o = app
                .store
                .get(rp.view.kind(), &ns, &name)
                .ok_or_else(|| ApiError::not_found(rp.view.resource_name(), &name))?;
            Ok(object_response(&app, StatusCode::OK, rp.view, &o, tbl))
        }
        (Method::POST, None) => {
            let ns = ns.ok_or_else(ApiError::method_not_allowed)?;
            let body = read_json(req).await?;
            let obj = incoming(&app, rp.view, &ns, body, None)?;
            let o = app.store.create(rp.view, &ns, obj)?;
            Ok(object_response(
                &app,
                StatusCode::CREATED,
                rp.view,
                &o,
                None,
            ))
        }
        (Method::PUT, Some(name)) => {
            let ns = ns.ok_or_else(ApiError::no_such_path)?;
            let body = read_json(req).await?;
            let obj = incoming(&app, rp.view, &ns, body, Some(&name))?;
            // Events and Leases both allow create-on-update.
            let (o, created) = app.store.update(rp.view, &ns, &name, obj, true)?;
            let code = if created {
                StatusCode::CREATED
            } else {
                StatusCode::OK
            };
            Ok(object_response(&app, code, rp.view, &o, None))
        }
        (Method::PATCH, Some(name)) => {
            let ns = ns.ok_or_else(ApiError::no_such_path)?;
            patch(&app, rp.view, &ns, &name, req).await
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
            let o = app.store.delete(rp.view, &ns, &name, pre_rv, pre_uid)?;
            Ok(object_response(&app, StatusCode::OK, rp.view, &o, None))
        }
        (Method::DELETE, None) => {
            let (fields, labels) = selectors(rp.view, &query)?;
            let f = |v: &Value| fields.matches(v) && labels.matches(v);
            let filter: Filter<'_> = (!fields.is_empty() || !labels.is_empty()).then_some(&f);
            let n = app
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
    app: &App,
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
            let name = format!("{prefix}{}", app.store.random_suffix(5));
            crate::store::set_meta(&mut obj, "name", json!(name));
        }
    }
    resource::default_and_validate(view, ns, &mut obj)?;
    Ok(obj)
}

fn object_response(
    app: &App,
    code: StatusCode,
    view: View,
    o: &Obj,
    tbl: Option<TableRequest>,
) -> Response<Body> {
    if let Some(t) = tbl {
        let now = app.store.clock().now();
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
        View::CoreEvents | View::Leases => bytes_response(code, o.json.clone(), "application/json"),
    }
}

async fn patch(
    app: &App,
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
    let (o, created) = app.store.patch(view, ns, name, allow_create, |cur| {
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
        incoming(app, view, ns, doc, Some(name))
    })?;
    let code = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(object_response(app, code, view, &o, None))
}

async fn list(
    app: &App,
    rp: &ResourcePath,
    q: &Query,
    tbl: Option<TableRequest>,
) -> Result<Response<Body>, ApiError> {
    validate_list_options(q)?;
    let (fields, labels) = selectors(rp.view, q)?;
    let limit = match param(q, "limit") {
        None => None,
        Some(s) => {
            let n: i64 = s
                .parse()
                .map_err(|_| ApiError::bad_request(format!("invalid limit: {s:?}")))?;
            (n > 0).then_some(n as usize)
        }
    };
    // Waits (for a future revision) before the filter exists: it is not `Send`.
    let at = match param(q, "continue") {
        None => Some(list_at(app, q, limit.is_some()).await?),
        Some(_) => None,
    };
    let selected = !fields.is_empty() || !labels.is_empty();
    let f = |v: &Value| fields.matches(v) && labels.matches(v);
    let filter: Filter<'_> = selected.then_some(&f);
    let ns = rp.namespace.as_deref();
    // (items, where this page starts, revision, the saved list the items come from)
    let (items, offset, rv, saved) = match param(q, "continue").map(continue_token::decode) {
        Some(Err(e)) => return Err(e),
        Some(Ok(Continue::Snapshot { id, offset, start })) => {
            let (items, rv) = app.store.list_snapshot(id).map_err(|e| {
                if e.code == 410 {
                    ApiError::continue_expired_inconsistent(continue_token::encode_inconsistent(
                        &start,
                    ))
                } else {
                    e
                }
            })?;
            (items, offset, rv, Some(id))
        }
        Some(Ok(Continue::Inconsistent { start })) => {
            let (items, rv) = app.store.list(rp.view.kind(), ns, ListAt::Latest, filter)?;
            let rest: Vec<Obj> = items
                .into_iter()
                .filter(|o| crate::store::EtcdKey(o.key.clone()).at_or_after(start.as_bytes()))
                .collect();
            (Arc::new(rest), 0, rv, None)
        }
        None => {
            let at = at.unwrap_or(ListAt::Latest);
            let (items, rv) = app.store.list(rp.view.kind(), ns, at, filter)?;
            (Arc::new(items), 0, rv, None)
        }
    };
    let end = limit.map_or(items.len(), |l| (offset + l).min(items.len()));
    let page = items.get(offset.min(end)..end).unwrap_or_default();
    let mut meta = json!({"resourceVersion": rv.to_string()});
    if end < items.len() {
        let id = saved.unwrap_or_else(|| app.store.save_list_snapshot(rv, items.clone()));
        meta["continue"] = json!(continue_token::encode(id, end, rv, &items[end - 1]));
        if !selected {
            meta["remainingItemCount"] = json!(items.len() - end);
        }
    }
    if let Some(t) = tbl {
        let now = app.store.clock().now();
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

/// The checks kube-apiserver makes on list parameters before any storage is asked:
/// `ValidateListOptions` (422) and the etcd3 store's refusal of `continue` with a
/// `resourceVersion` (400, `staging/src/k8s.io/apiserver/pkg/storage/etcd3/store.go`).
fn validate_list_options(q: &Query) -> Result<(), ApiError> {
    let rv = param(q, "resourceVersion");
    let continuing = param(q, "continue").is_some();
    if let Some(m) = param(q, "resourceVersionMatch") {
        if rv.is_none() {
            return Err(ApiError::invalid_list_options(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided",
            ));
        }
        if continuing {
            return Err(ApiError::invalid_list_options(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden when continue is provided",
            ));
        }
        if m != "Exact" && m != "NotOlderThan" {
            return Err(ApiError::invalid_list_options(
                "resourceVersionMatch",
                &format!(
                    "Unsupported value: {m:?}: supported values: \"Exact\", \"NotOlderThan\", \"\""
                ),
            ));
        }
        if m == "Exact" && rv == Some("0") {
            return Err(ApiError::invalid_list_options(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch \"exact\" is forbidden for resourceVersion \"0\"",
            ));
        }
    }
    if q.contains_key("sendInitialEvents") {
        return Err(ApiError::invalid_list_options(
            "sendInitialEvents",
            "Forbidden: sendInitialEvents is forbidden for list",
        ));
    }
    if continuing && rv.is_some_and(|v| v != "0") {
        return Err(ApiError::bad_request(
            "specifying resource version is not allowed when using continue",
        ));
    }
    Ok(())
}

/// The same checks for a watch (`validateWatchOptions`): `resourceVersionMatch` only as
/// `NotOlderThan`, and only together with `sendInitialEvents`.
fn validate_watch_options(q: &Query) -> Result<(), ApiError> {
    let m = param(q, "resourceVersionMatch");
    if q.contains_key("sendInitialEvents") && m != Some("NotOlderThan") {
        return Err(ApiError::invalid_list_options(
            "resourceVersionMatch",
            "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan",
        ));
    }
    if let Some(m) = m {
        if !q.contains_key("sendInitialEvents") {
            return Err(ApiError::invalid_list_options(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided",
            ));
        }
        if m != "NotOlderThan" {
            return Err(ApiError::invalid_list_options(
                "resourceVersionMatch",
                &format!("Unsupported value: {m:?}: supported values: \"NotOlderThan\""),
            ));
        }
        if param(q, "continue").is_some() {
            return Err(ApiError::invalid_list_options(
                "resourceVersionMatch",
                "Forbidden: resourceVersionMatch is forbidden when continue is provided",
            ));
        }
    }
    Ok(())
}

/// Which revision a list reads (`resourceVersion` + `resourceVersionMatch`).
async fn list_at(app: &App, q: &Query, paged: bool) -> Result<ListAt, ApiError> {
    let rv = match param(q, "resourceVersion") {
        None | Some("0") => return Ok(ListAt::Latest),
        Some(s) => parse_rv(s)?,
    };
    let exact = match param(q, "resourceVersionMatch") {
        Some("Exact") => true,
        Some(_) => false,
        None => paged,
    };
    // A revision from the future: wait a little for it, like the API server does.
    let mut notify = app.store.subscribe();
    let waited =
        tokio::time::timeout(Duration::from_secs(3), notify.wait_for(|cur| *cur >= rv)).await;
    if !matches!(waited, Ok(Ok(_))) {
        return Err(ApiError::too_large_resource_version(
            rv,
            app.store.current_rv(),
        ));
    }
    Ok(if exact {
        ListAt::Exact(rv)
    } else {
        ListAt::Latest
    })
}

/// `timeoutSeconds`; unset or 0 means a random 30–60 minutes, as the API server's
/// `--min-request-timeout` (1800 s) times `[1, 2)` (`staging/src/k8s.io/apiserver/pkg/
/// endpoints/handlers/get.go`).
fn watch_timeout(app: &App, q: &Query) -> Result<Duration, ApiError> {
    let secs: u64 = match param(q, "timeoutSeconds") {
        None => 0,
        Some(s) => s
            .parse()
            .map_err(|_| ApiError::bad_request(format!("invalid timeoutSeconds: {s:?}")))?,
    };
    Ok(match secs {
        0 => Duration::from_secs(1800 + app.store.random_below(1800) as u64),
        s => Duration::from_secs(s),
    })
}

fn watch_stream(
    app: &App,
    rp: &ResourcePath,
    q: &Query,
    tbl: Option<TableRequest>,
) -> Result<Response<Body>, ApiError> {
    validate_watch_options(q)?;
    let (fields, labels) = selectors(rp.view, q)?;
    let resource_version = match param(q, "resourceVersion") {
        None => 0,
        Some(s) => parse_rv(s)?,
    };
    let send_initial_events = match param(q, "sendInitialEvents") {
        None => None,
        Some("true" | "1") => Some(true),
        Some("false" | "0") => Some(false),
        Some(other) => {
            return Err(ApiError::bad_request(format!(
                "invalid sendInitialEvents: {other:?}"
            )));
        }
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
        resource_version,
        send_initial_events,
        bookmarks: flag(q, "allowWatchBookmarks"),
        timeout: watch_timeout(app, q)?,
        table: tbl,
    };
    let (tx, rx) = mpsc::channel::<Bytes>(8);
    tokio::spawn(watch::run(app.watches.clone(), spec, tx));
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
