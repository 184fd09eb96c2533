//! The wire protocol checked directly: watch ERROR/BOOKMARK events, timeouts, selectors on
//! watches, Status objects for errors, Retry-After, 401, Exact lists, faults, the load
//! generator, and the process mode of the binary.

mod common;

use common::{event, get, post_json, request, watch_cache, watch_until};
use eventkeeper_sim::{
    AuthMode, FaultRequest, GenerateSpec, SimConfig, Simulator, Throttle, Window,
};
use eventkeeper_tests::http::Reply;
use serde_json::{Value, json};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, BufReader};

async fn sim_with(cfg: SimConfig) -> Simulator {
    Simulator::start(cfg).await.expect("simulator starts")
}

async fn sim() -> Simulator {
    sim_with(SimConfig::default()).await
}

/// `PUT url` with a JSON body and no content type, as a bare client sends it.
async fn put(url: &str, body: &Value) -> Reply {
    request("PUT", url, &[], Some(&body.to_string())).await
}

/// `method` on the simulator's `path` (with any query), without extra headers.
async fn call(s: &Simulator, method: &str, path: &str, body: Option<&str>) -> Reply {
    request(method, &format!("{}{path}", s.url()), &[], body).await
}

/// Ten Events, with the history before them gone: from a watch cache of 3 changes, or (without
/// one) by two etcd compactions with writes between them.
async fn sim_past_its_window(cfg: SimConfig) -> Simulator {
    let etcd = cfg.store.window == Window::Etcd;
    let s = sim_with(cfg).await;
    for i in 0..10 {
        s.create_event(&event("ns", &format!("p{i}"), "Normal", "Started", "x"))
            .unwrap();
        if etcd && i % 5 == 4 {
            s.advance_clock(301.0);
        }
    }
    s
}

async fn expired_watch(cfg: SimConfig) {
    let s = sim_past_its_window(cfg).await;
    let url = format!("{}/api/v1/events?watch=true&resourceVersion=2", s.url());
    let (events, ended) = watch_until(&url, Duration::from_secs(5), |_| false).await;
    assert!(ended, "the server ends the stream after the error");
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["type"], "ERROR");
    let status = &events[0]["object"];
    assert_eq!(status["kind"], "Status");
    assert_eq!(status["code"], 410);
    assert_eq!(status["reason"], "Expired");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .starts_with("too old resource version: 2")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_a_revision_older_than_the_window_gets_an_expired_error_event() {
    expired_watch(SimConfig::default()).await;
    expired_watch(watch_cache(3)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bookmarks_come_only_from_a_watch_cache_and_timeout_ends_the_stream() {
    for (cfg, cached) in [(watch_cache(100), true), (SimConfig::default(), false)] {
        let s = sim_with(SimConfig {
            bookmark_interval: Duration::from_millis(100),
            ..cfg
        })
        .await;
        s.create_event(&event("ns", "p", "Normal", "Started", "x"))
            .unwrap();
        let rv = s.resource_version();
        let url = format!(
            "{}/api/v1/namespaces/ns/events?watch=true&allowWatchBookmarks=true&resourceVersion={rv}&timeoutSeconds=1",
            s.url()
        );
        let started = std::time::Instant::now();
        let (events, ended) = watch_until(&url, Duration::from_secs(5), |_| false).await;
        assert!(ended, "timeoutSeconds ends the stream");
        assert!(started.elapsed() >= Duration::from_millis(900));
        if cached {
            assert!(events.len() >= 3, "bookmarks every 100ms: {events:?}");
        } else {
            assert!(events.is_empty(), "etcd sends no bookmarks: {events:?}");
        }
        for e in &events {
            assert_eq!(e["type"], "BOOKMARK");
            assert_eq!(e["object"]["kind"], "Event");
            assert_eq!(e["object"]["metadata"]["resourceVersion"], rv.to_string());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn timeout_seconds_zero_is_not_an_immediate_close() {
    let s = sim().await;
    let rv = s.resource_version();
    let url = format!(
        "{}/api/v1/events?watch=true&resourceVersion={rv}&timeoutSeconds=0",
        s.url()
    );
    let (_, ended) = watch_until(&url, Duration::from_millis(1500), |_| false).await;
    assert!(!ended, "timeoutSeconds=0 means 30-60 minutes");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_initial_events_ends_with_an_annotated_bookmark() {
    for cfg in [SimConfig::default(), watch_cache(100)] {
        let s = sim_with(cfg).await;
        for i in 0..3 {
            s.create_event(&event("ns", &format!("p{i}"), "Normal", "Started", "x"))
                .unwrap();
        }
        let rv = s.resource_version();
        // From "0" (unset) and, as the etcd3 watcher does, also from a given revision: the
        // newest state, then the annotated bookmark at the revision it was read at.
        for from in ["", "&resourceVersion=2"] {
            let url = format!(
                "{}/api/v1/events?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan{from}",
                s.url()
            );
            let (events, _) = watch_until(&url, Duration::from_secs(5), |e| e.len() == 4).await;
            let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
            assert_eq!(types, ["ADDED", "ADDED", "ADDED", "BOOKMARK"]);
            let end = &events[3]["object"]["metadata"];
            assert_eq!(end["annotations"]["k8s.io/initial-events-end"], "true");
            assert_eq!(end["resourceVersion"], rv.to_string());
        }
        // sendInitialEvents=false from "0": only what happens from now on.
        let url = format!(
            "{}/api/v1/events?watch=true&sendInitialEvents=false&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan&timeoutSeconds=1",
            s.url()
        );
        let (events, _) = watch_until(&url, Duration::from_secs(5), |_| false).await;
        assert!(
            events.iter().all(|e| e["type"] == "BOOKMARK"),
            "no initial events: {events:?}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_and_watch_parameters_are_validated_like_the_api_server() {
    let s = sim().await;
    let base = format!("{}/api/v1/events", s.url());
    for (query, code) in [
        ("?resourceVersionMatch=NotOlderThan", 422),
        ("?resourceVersion=0&resourceVersionMatch=Exact", 422),
        ("?resourceVersion=1&resourceVersionMatch=Newest", 422),
        ("?sendInitialEvents=true", 422),
        (
            "?watch=true&resourceVersion=1&resourceVersionMatch=NotOlderThan",
            422,
        ),
        ("?watch=true&sendInitialEvents=true", 422),
        ("?limit=1&continue=abc&resourceVersion=5", 400),
    ] {
        let r = get(&format!("{base}{query}")).await;
        assert_eq!(
            r.status,
            code,
            "{query}: {}",
            String::from_utf8_lossy(&r.body)
        );
        let v = r.json();
        assert_eq!(v["kind"], "Status", "{query}");
        if code == 422 {
            assert_eq!(v["details"]["kind"], "ListOptions", "{query}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lists_come_in_etcd_key_order() {
    let s = sim().await;
    for ns in ["kube", "kubea", "kube-system", "kube-public"] {
        s.create_event(&event(ns, "p", "Normal", "Started", "x"))
            .unwrap();
    }
    let v = get(&format!("{}/api/v1/events", s.url())).await.json();
    let order: Vec<&str> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["metadata"]["namespace"].as_str().unwrap())
        .collect();
    assert_eq!(order, ["kube-public", "kube-system", "kube", "kubea"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_compacted_continue_token_is_410_with_an_inconsistent_continuation() {
    let s = sim().await;
    for ns in ["kube", "kubea", "kube-system", "kube-public"] {
        for i in 0..2 {
            s.create_event(&event(ns, &format!("p{i}"), "Normal", "Started", "x"))
                .unwrap();
        }
    }
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| {
                // Names are `<pod>.<random>`: keep the pod.
                let name = i["metadata"]["name"].as_str().unwrap();
                format!(
                    "{}/{}",
                    i["metadata"]["namespace"].as_str().unwrap(),
                    name.split('.').next().unwrap()
                )
            })
            .collect()
    };
    let base = format!("{}/api/v1/events?limit=3", s.url());
    let first = get(&base).await.json();
    let seen = names(&first);
    let token = first["metadata"]["continue"].as_str().unwrap().to_owned();
    // A write, then two compactions: the first page's revision is gone.
    s.create_event(&event("kube", "late", "Normal", "Started", "x"))
        .unwrap();
    s.advance_clock(301.0);
    s.create_event(&event("kubea", "later", "Normal", "Started", "x"))
        .unwrap();
    s.advance_clock(301.0);
    let r = get(&format!("{base}&continue={token}")).await;
    assert_eq!(r.status, 410, "{}", String::from_utf8_lossy(&r.body));
    let status = r.json();
    assert_eq!(status["reason"], "Expired");
    let fresh = status["metadata"]["continue"]
        .as_str()
        .expect("a fresh continue token")
        .to_owned();
    assert!(status["message"].as_str().unwrap().ends_with(&fresh));
    // It continues after the last key served, at the newest revision (so "kubea/later" shows).
    let mut rest = Vec::new();
    let mut next = Some(fresh);
    while let Some(t) = next {
        let page = get(&format!("{base}&continue={t}")).await;
        assert_eq!(page.status, 200, "{}", String::from_utf8_lossy(&page.body));
        let v = page.json();
        assert_eq!(
            v["metadata"]["resourceVersion"],
            s.resource_version().to_string()
        );
        rest.extend(names(&v));
        next = v["metadata"]["continue"].as_str().map(str::to_owned);
    }
    let mut all = seen;
    all.extend(rest);
    let expected = [
        "kube-public/p0",
        "kube-public/p1",
        "kube-system/p0",
        "kube-system/p1",
        "kube/late",
        "kube/p0",
        "kube/p1",
        "kubea/later",
        "kubea/p0",
        "kubea/p1",
    ];
    assert_eq!(all, expected, "nothing repeated or skipped, in etcd order");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lease_writes_are_as_strict_as_the_api_server() {
    let s = sim().await;
    let url = format!(
        "{}/apis/coordination.k8s.io/v1/namespaces/ns/leases/l",
        s.url()
    );
    let put = |body: Value| {
        let url = url.clone();
        async move {
            request(
                "PUT",
                &url,
                &[("content-type", "application/json")],
                Some(&body.to_string()),
            )
            .await
        }
    };
    let lease = |spec: Value| json!({"metadata": {"name": "l"}, "spec": spec});
    let r = put(lease(json!({"holderIdentity": "a"}))).await;
    assert_eq!(
        r.status,
        201,
        "a PUT to a missing Lease creates it: {}",
        String::from_utf8_lossy(&r.body)
    );
    let created = r.json();
    let r = put(lease(json!({"holderIdentity": "b"}))).await;
    assert_eq!(
        r.status,
        422,
        "an unconditional PUT is refused: {}",
        String::from_utf8_lossy(&r.body)
    );
    assert!(
        String::from_utf8_lossy(&r.body).contains("metadata.resourceVersion"),
        "{}",
        String::from_utf8_lossy(&r.body)
    );
    let rv = created["metadata"]["resourceVersion"].clone();
    let mut bad = lease(json!({"holderIdentity": "b", "renewTime": "yesterday"}));
    bad["metadata"]["resourceVersion"] = rv.clone();
    assert_eq!(
        put(bad).await.status,
        400,
        "renewTime must be RFC 3339 micro"
    );
    let mut millis = lease(json!({"holderIdentity": "b", "renewTime": "2026-11-30T20:00:00.123Z"}));
    millis["metadata"]["resourceVersion"] = rv.clone();
    assert_eq!(put(millis).await.status, 400, "exactly six fraction digits");
    let mut good =
        lease(json!({"holderIdentity": "b", "renewTime": "2026-11-30T20:00:00.123456Z"}));
    good["metadata"]["resourceVersion"] = rv;
    let r = put(good).await;
    assert_eq!(r.status, 200, "{}", String::from_utf8_lossy(&r.body));
    assert_eq!(r.json()["spec"]["renewTime"], "2026-11-30T20:00:00.123456Z");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expiry_deletes_a_lease_batch_at_one_revision() {
    let s = sim().await;
    for i in 0..5 {
        s.create_event(&event("ns", &format!("p{i}"), "Normal", "Started", "x"))
            .unwrap();
    }
    let rv = s.resource_version();
    let url = format!("{}/api/v1/events?watch=true&resourceVersion={rv}", s.url());
    let watcher =
        tokio::spawn(
            async move { watch_until(&url, Duration::from_secs(10), |e| e.len() == 5).await },
        );
    tokio::time::sleep(Duration::from_millis(200)).await;
    s.advance_clock(3599.0);
    assert_eq!(s.status().live_events, 5, "not before the TTL");
    s.advance_clock(62.0);
    assert_eq!(s.status().live_events, 0, "by TTL + 60 s");
    let (events, _) = watcher.await.unwrap();
    assert_eq!(events.len(), 5);
    let expected = (rv + 1).to_string();
    for e in &events {
        assert_eq!(e["type"], "DELETED");
        assert_eq!(e["object"]["metadata"]["resourceVersion"], expected);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_selectors_filter_and_label_changes_look_like_add_and_delete() {
    let s = sim().await;
    let rv = s.resource_version();
    let url = format!(
        "{}/api/v1/events?watch=true&resourceVersion={rv}&fieldSelector=type%3DWarning&labelSelector=team%3Dweb",
        s.url()
    );
    let watcher =
        tokio::spawn(
            async move { watch_until(&url, Duration::from_secs(10), |e| e.len() == 2).await },
        );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut normal = event("ns", "a", "Normal", "Started", "x");
    normal["metadata"]["labels"] = json!({"team": "web"});
    s.create_event(&normal).unwrap();
    let mut warning = event("ns", "b", "Warning", "BackOff", "x");
    warning["metadata"]["labels"] = json!({"team": "db"});
    let w = s.create_event(&warning).unwrap();
    let name = w["metadata"]["name"].as_str().unwrap();
    // Relabel into the selector (ADDED), then out of it (DELETED).
    let patch = |team: &str| {
        let url = format!("{}/api/v1/namespaces/ns/events/{name}", s.url());
        let body = json!({"metadata": {"labels": {"team": team}}}).to_string();
        async move {
            request(
                "PATCH",
                &url,
                &[("content-type", "application/merge-patch+json")],
                Some(&body),
            )
            .await
        }
    };
    assert_eq!(patch("web").await.status, 200);
    assert_eq!(patch("db").await.status, 200);
    let (events, _) = watcher.await.unwrap();
    let types: Vec<&str> = events.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["ADDED", "DELETED"]);
    assert!(events.iter().all(|e| e["object"]["type"] == "Warning"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_are_status_objects() {
    let s = sim().await;
    let r = get(&format!("{}/api/v1/namespaces/ns/events/missing", s.url())).await;
    assert_eq!(r.status, 404);
    let v = r.json();
    assert_eq!(
        (v["kind"].as_str(), v["reason"].as_str(), v["code"].as_u64()),
        (Some("Status"), Some("NotFound"), Some(404))
    );
    assert_eq!(v["message"], "events \"missing\" not found");
    let unsupported_field = "/api/v1/events?fieldSelector=spec.nodeName%3Dx";
    let r = call(&s, "GET", unsupported_field, None).await;
    assert_eq!(
        (r.status, r.json()["reason"].clone()),
        (400, json!("BadRequest"))
    );
    let r = call(&s, "POST", "/api/v1/events", Some("{}")).await;
    assert_eq!(r.status, 405);
    let nameless = r#"{"metadata":{}}"#;
    let r = call(&s, "POST", "/api/v1/namespaces/ns/events", Some(nameless)).await;
    assert_eq!(
        (r.status, r.json()["reason"].clone()),
        (422, json!("Invalid"))
    );
    let url = format!("{}/api/v1/namespaces/ns/events/x", s.url());
    let r = request("PATCH", &url, &[("content-type", "text/plain")], Some("{}")).await;
    assert_eq!(r.status, 415);
    let r = call(&s, "GET", "/api/v1/pods", None).await;
    assert_eq!(r.status, 404);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_get_update_delete_over_http() {
    let s = sim().await;
    let base = format!("{}/api/v1/namespaces/ns/events", s.url());
    let body = json!({"metadata": {"generateName": "pod-a."}, "involvedObject": {"kind": "Pod", "name": "pod-a"},
                      "reason": "Started", "message": "hi", "type": "Normal"});
    let r = post_json(&base, &body).await;
    assert_eq!(r.status, 201);
    let created = r.json();
    let name = created["metadata"]["name"].as_str().unwrap().to_owned();
    assert!(name.starts_with("pod-a.") && name.len() == "pod-a.".len() + 5);
    assert_eq!(created["metadata"]["uid"].as_str().unwrap().len(), 36);
    let mut upd = created.clone();
    upd["count"] = json!(5);
    let r = put(&format!("{base}/{name}"), &upd).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["count"], 5);
    let r = put(&format!("{base}/{name}"), &upd).await;
    assert_eq!(
        (r.status, r.json()["reason"].clone()),
        (409, json!("Conflict"))
    );
    let r = request("DELETE", &format!("{base}/{name}"), &[], None).await;
    assert_eq!(r.status, 200);
    assert_eq!(get(&format!("{base}/{name}")).await.status, 404);
    let obs = s.observations();
    let types: Vec<_> = obs.iter().map(|o| format!("{:?}", o.change)).collect();
    assert_eq!(types, ["Added", "Modified"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exact_lists_read_the_past_and_future_revisions_time_out() {
    let s = sim().await;
    let a = s
        .create_event(&event("ns", "a", "Normal", "Started", "x"))
        .unwrap();
    let rv = s.resource_version();
    s.create_event(&event("ns", "b", "Normal", "Started", "x"))
        .unwrap();
    s.delete_event("ns", a["metadata"]["name"].as_str().unwrap())
        .unwrap();
    let r = get(&format!(
        "{}/api/v1/events?resourceVersion={rv}&resourceVersionMatch=Exact",
        s.url()
    ))
    .await
    .json();
    assert_eq!(r["metadata"]["resourceVersion"], rv.to_string());
    assert_eq!(r["items"].as_array().unwrap().len(), 1);
    assert_eq!(r["items"][0]["metadata"]["name"], a["metadata"]["name"]);
    let future = s.resource_version() + 100;
    let r = get(&format!(
        "{}/api/v1/events?resourceVersion={future}&resourceVersionMatch=NotOlderThan",
        s.url()
    ))
    .await;
    assert_eq!(r.status, 504);
    assert_eq!(
        r.json()["details"]["causes"][0]["reason"],
        "ResourceVersionTooLarge"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_answers_429_with_retry_after() {
    let s = sim().await;
    s.set_faults(&FaultRequest {
        throttle: Some(Throttle {
            count: 2,
            retry_after_seconds: 3,
        }),
        ..FaultRequest::default()
    });
    // Discovery is never faulted.
    assert_eq!(get(&format!("{}/api/v1", s.url())).await.status, 200);
    for _ in 0..2 {
        let r = get(&format!("{}/api/v1/events", s.url())).await;
        assert_eq!(r.status, 429);
        assert_eq!(r.headers["retry-after"], "3");
        assert_eq!(r.json()["reason"], "TooManyRequests");
    }
    assert_eq!(get(&format!("{}/api/v1/events", s.url())).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watches_close_after_n_events_and_pause_stalls_requests() {
    let s = sim().await;
    let rv = s.resource_version();
    for i in 0..5 {
        s.create_event(&event("ns", &format!("p{i}"), "Normal", "Started", "x"))
            .unwrap();
    }
    let r = post_json(
        &format!("{}/_sim/faults", s.url()),
        &json!({"closeWatchesAfter": 2}),
    )
    .await;
    assert_eq!(r.json()["closeWatchesAfter"], 2);
    let url = format!("{}/api/v1/events?watch=true&resourceVersion={rv}", s.url());
    let (events, ended) = watch_until(&url, Duration::from_secs(5), |_| false).await;
    assert!(ended);
    assert_eq!(events.len(), 2);

    s.set_faults(&FaultRequest {
        close_watches_after: Some(0),
        paused: Some(true),
        ..FaultRequest::default()
    });
    let url = format!("{}/api/v1/events", s.url());
    let stalled = tokio::time::timeout(Duration::from_millis(300), get(&url)).await;
    assert!(stalled.is_err(), "a paused API does not answer");
    let pending = tokio::spawn(async move { get(&url).await.status });
    tokio::time::sleep(Duration::from_millis(100)).await;
    post_json(
        &format!("{}/_sim/faults", s.url()),
        &json!({"paused": false}),
    )
    .await;
    assert_eq!(pending.await.unwrap(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn static_token_mode_answers_401_with_a_status() {
    let s = sim_with(SimConfig {
        auth: AuthMode::StaticToken("t0ken".into()),
        ..SimConfig::default()
    })
    .await;
    let r = get(&format!("{}/api/v1/events", s.url())).await;
    assert_eq!(r.status, 401);
    let v = r.json();
    assert_eq!(
        (v["kind"].as_str(), v["reason"].as_str()),
        (Some("Status"), Some("Unauthorized"))
    );
    let r = request(
        "GET",
        &format!("{}/api/v1/events", s.url()),
        &[("authorization", "Bearer t0ken")],
        None,
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(get(&format!("{}/version", s.url())).await.status, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generator_mixes_repeats_warnings_and_namespaces() {
    let s = sim().await;
    s.generate(GenerateSpec {
        events: 2000,
        objects: 50,
        repeat_share: 0.3,
        warning_share: 0.2,
        namespaces: vec!["a".into(), "b".into()],
        seed: Some(42),
        ..GenerateSpec::default()
    });
    assert!(s.wait_generated(Duration::from_secs(30)).await);
    let st = s.status();
    assert_eq!(st.generated, 2000);
    let obs = s.observations();
    assert_eq!(obs.len(), 2000);
    let modified = obs
        .iter()
        .filter(|o| format!("{:?}", o.change) == "Modified")
        .count();
    assert!(
        (400..800).contains(&modified),
        "repeat share ~0.3: {modified}"
    );
    let added: Vec<_> = obs
        .iter()
        .filter(|o| format!("{:?}", o.change) == "Added")
        .collect();
    let warnings = added.iter().filter(|o| o.event_type == "Warning").count();
    let share = warnings as f64 / added.len() as f64;
    assert!((0.12..0.28).contains(&share), "warning share ~0.2: {share}");
    assert!(obs.iter().all(|o| o.namespace == "a" || o.namespace == "b"));
    let rvs: Vec<u64> = obs
        .iter()
        .map(|o| o.resource_version.parse().unwrap())
        .collect();
    assert!(
        rvs.windows(2).all(|w| w[0] < w[1]),
        "observations in revision order"
    );
    assert_eq!(st.live_events, added.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn process_mode_prints_one_line_and_serves_the_admin_api() {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_eventkeeper-sim"))
        .args([
            "--listen",
            "127.0.0.1:0",
            "--scenario",
            "seeds",
            "--kubeconfig-out",
        ])
        .arg(&kubeconfig)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(10), lines.next_line())
        .await
        .expect("ready line in time")
        .unwrap()
        .expect("a line");
    let url = line
        .strip_prefix("listening on ")
        .expect("listening on <url>")
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"));
    let kc: Value = serde_json::from_str(&std::fs::read_to_string(&kubeconfig).unwrap()).unwrap();
    assert_eq!(kc["clusters"][0]["cluster"]["server"], url.as_str());

    let r = post_json(
        &format!("{url}/_sim/generate"),
        &json!({"events": 300, "ratePerSec": 0, "objects": 10, "repeatShare": 0.3,
                "warningShare": 0.2, "namespaces": ["x", "y"]}),
    )
    .await;
    assert_eq!(r.status, 202);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        let st = get(&format!("{url}/_sim/status")).await.json();
        if st["generating"] == false && st["generated"] == 300 {
            break st;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "generation never ended: {st}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(
        status["resourceVersion"]
            .as_str()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            > 300
    );
    assert!(
        status["liveEvents"].as_u64().unwrap() > 20,
        "seed events are live"
    );
    let obs = get(&format!("{url}/_sim/observations")).await;
    let text = String::from_utf8_lossy(&obs.body).to_string();
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(lines.len() >= 300);
    for key in [
        "uid",
        "resourceVersion",
        "type",
        "namespace",
        "reason",
        "eventType",
        "kind",
    ] {
        assert!(
            lines[0].get(key).is_some(),
            "observation lacks {key}: {}",
            lines[0]
        );
    }
    assert!(
        lines.iter().any(|l| l["reason"] == "FailedMount"),
        "seed events observed"
    );

    let created = post_json(
        &format!("{url}/_sim/events"),
        &event(
            "demo",
            "p",
            "Warning",
            "BackOff",
            "Back-off restarting failed container",
        ),
    )
    .await;
    assert_eq!(created.status, 201);
    let r = post_json(
        &format!("{url}/_sim/clock"),
        &json!({"advanceSeconds": 7200}),
    )
    .await;
    assert!(
        r.json()["expired"].as_u64().unwrap() > 100,
        "everything expired"
    );
    for ns in ["x", "y", "demo"] {
        let list = get(&format!("{url}/api/v1/namespaces/{ns}/events"))
            .await
            .json();
        assert_eq!(list["items"].as_array().unwrap().len(), 0, "{ns} expired");
    }
    let bad = post_json(&format!("{url}/_sim/faults"), &json!({"nope": 1})).await;
    assert_eq!(bad.status, 400);
    child.kill().await.unwrap();
}

#[tokio::test]
async fn bad_flags_exit_64() {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_eventkeeper-sim"))
        .args(["--auth", "static"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    assert_eq!(String::from_utf8_lossy(&out.stderr).lines().count(), 1);
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_eventkeeper-sim"))
        .args(["--event-ttl", "soon"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_eventkeeper-sim"))
        .args(["--log-format", "xml"])
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(64));
}

/// `--log-format json` gives one JSON object per stderr line, as the emitter's and catch-up's do;
/// stdout keeps only the `listening on` line other programs wait for.
#[tokio::test]
async fn json_logs_on_stderr() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_eventkeeper-sim"))
        .args(["--listen", "127.0.0.1:0", "--log-format", "json"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = tokio::io::BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    tokio::io::AsyncBufReadExt::read_line(&mut stdout, &mut line)
        .await
        .unwrap();
    assert!(line.starts_with("listening on http://127.0.0.1:"), "{line}");
    child.start_kill().unwrap();
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let first = stderr.lines().next().expect("a log line");
    let log: serde_json::Value = serde_json::from_str(first).expect("a JSON log line");
    assert_eq!(log["message"], "Simulator listening", "{first}");
    assert_eq!(log["level"], "INFO");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_v1_and_lease_watches() {
    let s = sim().await;
    let rv = s.resource_version();
    let ev_url = format!(
        "{}/apis/events.k8s.io/v1/namespaces/ns/events?watch=true&resourceVersion={rv}",
        s.url()
    );
    let lease_url = format!(
        "{}/apis/coordination.k8s.io/v1/namespaces/ns/leases?watch=true&resourceVersion={rv}",
        s.url()
    );
    let ev_watch = tokio::spawn(async move {
        watch_until(&ev_url, Duration::from_secs(10), |e| e.len() == 1).await
    });
    let lease_watch = tokio::spawn(async move {
        watch_until(&lease_url, Duration::from_secs(10), |e| e.len() == 2).await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    let created = post_json(
        &format!("{}/apis/events.k8s.io/v1/namespaces/ns/events", s.url()),
        &json!({"metadata": {"name": "x.1"}, "regarding": {"kind": "Pod", "name": "x", "namespace": "ns"},
                "note": "hello", "reason": "Started", "type": "Normal",
                "reportingController": "kubelet", "reportingInstance": "n1", "action": "Start",
                "eventTime": "2026-11-23T10:00:00.000000Z"}),
    )
    .await;
    assert_eq!(created.status, 201);
    assert_eq!(created.json()["note"], "hello");
    let core = get(&format!("{}/api/v1/namespaces/ns/events/x.1", s.url()))
        .await
        .json();
    assert_eq!(core["message"], "hello");
    assert_eq!(core["involvedObject"]["name"], "x");
    let lease_base = format!(
        "{}/apis/coordination.k8s.io/v1/namespaces/ns/leases",
        s.url()
    );
    let lease = post_json(
        &lease_base,
        &json!({"metadata": {"name": "l"}, "spec": {"holderIdentity": "a"}}),
    )
    .await
    .json();
    let mut renewed = lease.clone();
    renewed["spec"]["holderIdentity"] = json!("b");
    let r = put(&format!("{lease_base}/l"), &renewed).await;
    assert_eq!(r.status, 200);
    let (events, _) = ev_watch.await.unwrap();
    assert_eq!(events[0]["type"], "ADDED");
    assert_eq!(events[0]["object"]["apiVersion"], "events.k8s.io/v1");
    assert_eq!(events[0]["object"]["note"], "hello");
    let (leases, _) = lease_watch.await.unwrap();
    let types: Vec<&str> = leases.iter().map(|e| e["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["ADDED", "MODIFIED"]);
    assert_eq!(leases[1]["object"]["spec"]["holderIdentity"], "b");
}
