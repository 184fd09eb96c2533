//! Conformance with kube-rs: the `watcher` (list then watch, bookmarks, recovery from 410 and
//! closed streams), typed Event APIs (core/v1 and events.k8s.io/v1), Leases with optimistic
//! concurrency, and HTTPS from a kubeconfig with certificate-authority-data.

mod common;

use common::{event, start_tls, watch_cache};
use eventkeeper_sim::{FaultRequest, SimConfig, Simulator, Throttle};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Event;
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::config::{KubeConfigOptions, Kubeconfig};
use kube::runtime::watcher;
use kube::{Client, Config};
use std::time::Duration;

async fn client(sim: &Simulator) -> Client {
    let kc: Kubeconfig = serde_json::from_value(sim.kubeconfig()).expect("kubeconfig parses");
    let cfg = Config::from_custom_kubeconfig(kc, &KubeConfigOptions::default())
        .await
        .expect("config");
    Client::try_from(cfg).expect("client")
}

fn seed(sim: &Simulator, n: usize) {
    for i in 0..n {
        sim.create_event(&event(
            "test",
            &format!("pod-{i}"),
            "Normal",
            "Pulled",
            "Pulled image",
        ))
        .expect("event");
    }
}

/// The same watcher against etcd-served Events (no bookmarks) and a watch cache (bookmarks).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_lists_then_follows_changes_and_expiry() {
    for cfg in [SimConfig::default(), watch_cache(100)] {
        watcher_follows(cfg).await;
    }
}

async fn watcher_follows(cfg: SimConfig) {
    let sim = Simulator::start(cfg).await.unwrap();
    seed(&sim, 3);
    let api: Api<Event> = Api::all(client(&sim).await);
    let mut stream = watcher(api, watcher::Config::default()).boxed();
    macro_rules! next {
        () => {
            tokio::time::timeout(Duration::from_secs(10), stream.try_next())
                .await
                .expect("watcher event in time")
                .expect("watcher ok")
                .expect("stream open")
        };
    }
    assert!(matches!(next!(), watcher::Event::Init));
    for _ in 0..3 {
        assert!(matches!(next!(), watcher::Event::InitApply(_)));
    }
    assert!(matches!(next!(), watcher::Event::InitDone));
    let added = sim
        .create_event(&event("test", "late", "Warning", "BackOff", "Back-off"))
        .unwrap();
    let name = added["metadata"]["name"].as_str().unwrap().to_owned();
    match next!() {
        watcher::Event::Apply(e) => assert_eq!(e.metadata.name.as_deref(), Some(name.as_str())),
        other => panic!("expected Apply, got {other:?}"),
    }
    sim.repeat_event("test", &name).unwrap();
    match next!() {
        watcher::Event::Apply(e) => assert_eq!(e.count, Some(2)),
        other => panic!("expected Apply, got {other:?}"),
    }
    // Expiry comes with the shared etcd lease: between TTL and TTL + 60 s.
    sim.advance_clock(3661.0);
    let mut deleted = 0;
    while deleted < 4 {
        match next!() {
            watcher::Event::Delete(_) => deleted += 1,
            other => panic!("expected Delete, got {other:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watcher_recovers_from_410_and_closed_streams() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    seed(&sim, 2);
    sim.set_faults(&FaultRequest {
        gone_next_watch: Some(true),
        close_watches_after: Some(2),
        ..FaultRequest::default()
    });
    let api: Api<Event> = Api::namespaced(client(&sim).await, "test");
    let stream = watcher(api, watcher::Config::default());
    let seen = std::sync::Arc::new(parking_lot::Mutex::new(Vec::<String>::new()));
    let inits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let (s2, i2) = (seen.clone(), inits.clone());
    let task = tokio::spawn(async move {
        let mut stream = stream.boxed();
        while let Some(item) = stream.next().await {
            match item {
                Ok(watcher::Event::Init) => {
                    i2.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                Ok(watcher::Event::Apply(e) | watcher::Event::InitApply(e)) => {
                    s2.lock().push(format!(
                        "{}@{}",
                        e.metadata.name.unwrap_or_default(),
                        e.count.unwrap_or(0)
                    ));
                }
                Ok(_) => {}
                Err(e) => tracing_free_log(&e.to_string()),
            }
        }
    });
    // The first watch gets 410: the watcher relists (a second Init).
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while inits.load(std::sync::atomic::Ordering::SeqCst) < 2 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no relist after 410"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Streams now close after 2 events; the watcher re-watches from its last revision.
    let mut names = Vec::new();
    for i in 0..7 {
        let e = sim
            .create_event(&event(
                "test",
                &format!("burst-{i}"),
                "Normal",
                "Started",
                "x",
            ))
            .unwrap();
        names.push(e["metadata"]["name"].as_str().unwrap().to_owned());
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    loop {
        let got = seen.lock().clone();
        if names
            .iter()
            .all(|n| got.iter().any(|g| g.starts_with(n.as_str())))
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "missing events after closed watches: have {got:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    task.abort();
}

fn tracing_free_log(msg: &str) {
    eprintln!("watcher error (expected during fault tests): {msg}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn leases_use_optimistic_concurrency() {
    // The Lease "eventkeeper" with a JSON merge patch applied.
    async fn merge_patch(api: &Api<Lease>, patch: &serde_json::Value) -> kube::Result<Lease> {
        let params = PatchParams::default();
        api.patch("eventkeeper", &params, &Patch::Merge(patch))
            .await
    }

    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    let api: Api<Lease> = Api::namespaced(client(&sim).await, "kube-system");
    let lease: Lease = serde_json::from_value(serde_json::json!({
        "metadata": {"name": "eventkeeper"},
        "spec": {"holderIdentity": "a", "leaseDurationSeconds": 15},
    }))
    .unwrap();
    let created = api.create(&PostParams::default(), &lease).await.unwrap();
    let rv0 = created.metadata.resource_version.clone().unwrap();
    let err = api
        .create(&PostParams::default(), &lease)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409 && s.reason == "AlreadyExists"),
        "{err:?}"
    );

    let mut update = created.clone();
    update.spec.as_mut().unwrap().holder_identity = Some("b".into());
    let updated = api
        .replace("eventkeeper", &PostParams::default(), &update)
        .await
        .unwrap();
    assert_ne!(
        updated.metadata.resource_version.as_deref(),
        Some(rv0.as_str())
    );
    // The same write again carries a stale resourceVersion.
    let err = api
        .replace("eventkeeper", &PostParams::default(), &update)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409 && s.reason == "Conflict"),
        "{err:?}"
    );

    let patch = serde_json::json!({
        "metadata": {"annotations": {"eventkeeper.io/checkpoint": "1234"}}
    });
    let patched = merge_patch(&api, &patch).await.unwrap();
    assert_eq!(
        patched.metadata.annotations.unwrap()["eventkeeper.io/checkpoint"],
        "1234"
    );
    assert_eq!(patched.spec.unwrap().holder_identity.as_deref(), Some("b"));
    let stale =
        serde_json::json!({"metadata": {"resourceVersion": rv0}, "spec": {"holderIdentity": "c"}});
    let err = merge_patch(&api, &stale).await.unwrap_err();
    assert!(
        matches!(&err, kube::Error::Api(s) if s.code == 409),
        "{err:?}"
    );
    let err = api.get("missing").await.unwrap_err();
    assert!(matches!(&err, kube::Error::Api(s) if s.code == 404 && s.reason == "NotFound"));
    let other_ns: Api<Lease> = Api::namespaced(client(&sim).await, "other");
    assert!(other_ns.get_opt("eventkeeper").await.unwrap().is_none());
    assert_eq!(
        sim.lease("kube-system", "eventkeeper").unwrap()["spec"]["holderIdentity"],
        "b"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_v1_view_and_paged_typed_lists() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    seed(&sim, 5);
    let c = client(&sim).await;
    let v1: Api<k8s_openapi::api::events::v1::Event> = Api::all(c.clone());
    let list = v1.list(&ListParams::default()).await.unwrap();
    assert_eq!(list.items.len(), 5);
    assert_eq!(list.items[0].note.as_deref(), Some("Pulled image"));
    assert_eq!(
        list.items[0].regarding.as_ref().unwrap().kind.as_deref(),
        Some("Pod")
    );

    let core: Api<Event> = Api::namespaced(c, "test");
    let page = core.list(&ListParams::default().limit(2)).await.unwrap();
    assert_eq!(page.items.len(), 2);
    assert_eq!(page.metadata.remaining_item_count, Some(3));
    let token = page.metadata.continue_.clone().unwrap();
    let rest = core
        .list(&ListParams::default().limit(10).continue_token(&token))
        .await
        .unwrap();
    assert_eq!(rest.items.len(), 3);
    assert!(rest.metadata.continue_.is_none());
    assert_eq!(
        rest.metadata.resource_version,
        page.metadata.resource_version
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_and_server_errors_reach_the_client() {
    let sim = Simulator::start(SimConfig::default()).await.unwrap();
    seed(&sim, 1);
    let api: Api<Event> = Api::all(client(&sim).await);
    sim.set_faults(&FaultRequest {
        server_errors: Some(1),
        ..FaultRequest::default()
    });
    let e = api.list(&ListParams::default()).await.unwrap_err();
    assert!(
        matches!(&e, kube::Error::Api(s) if s.code == 500 && s.reason == "InternalError"),
        "{e:?}"
    );
    // kube-rs retries a 429 after Retry-After on its own.
    let state = sim.set_faults(&FaultRequest {
        throttle: Some(Throttle {
            count: 1,
            retry_after_seconds: 1,
        }),
        ..FaultRequest::default()
    });
    assert_eq!(state.throttle_remaining, 1);
    assert_eq!(
        api.list(&ListParams::default()).await.unwrap().items.len(),
        1
    );
    assert_eq!(
        sim.set_faults(&FaultRequest::default()).throttle_remaining,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_the_generated_ca() {
    let sim = start_tls().await;
    seed(&sim, 2);
    assert!(sim.ca_pem().unwrap().contains("BEGIN CERTIFICATE"));
    let api: Api<Event> = Api::all(client(&sim).await);
    assert_eq!(
        api.list(&ListParams::default()).await.unwrap().items.len(),
        2
    );
}
