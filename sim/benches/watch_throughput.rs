//! Watch throughput of the simulator to one client (`make bench-sim`).
//!
//! 1. replay: N Events are written first, then one watch from the revision before them reads
//!    all N from the history window (server serialisation + HTTP streaming).
//! 2. live: a watch is open while the load generator writes M Events as fast as it can
//!    (store writes and delivery together).
//! 3. kube-rs: the same replay read through kube-rs' typed `Api::watch` (client decoding
//!    included), to show what a real client sees.
//!
//! The client in 1 and 2 counts lines of the chunked stream and parses none, so the figure is
//! the simulator's, not a JSON parser's.

use bytes::Bytes;
use eventkeeper_sim::{GenerateSpec, SimConfig, Simulator, StoreConfig, Window};
use futures::StreamExt;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use std::time::{Duration, Instant};

/// The binary ships with mimalloc; measure with it.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const REPLAY: u64 = 200_000;
const LIVE: u64 = 200_000;

async fn count_lines(url: &str, want: u64) -> (u64, Duration) {
    let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
    let start = Instant::now();
    let resp = client
        .request(http::Request::get(url).body(Empty::new()).unwrap())
        .await
        .expect("watch");
    let mut body = resp.into_body();
    let mut n = 0u64;
    while n < want {
        match tokio::time::timeout(Duration::from_secs(60), body.frame()).await {
            Ok(Some(Ok(f))) => {
                if let Ok(d) = f.into_data() {
                    n += d.iter().filter(|b| **b == b'\n').count() as u64;
                }
            }
            _ => break,
        }
    }
    (n, start.elapsed())
}

fn rate(n: u64, d: Duration) -> f64 {
    n as f64 / d.as_secs_f64()
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let sim = Simulator::start(SimConfig {
            store: StoreConfig {
                window: Window::WatchCache((REPLAY + LIVE) as usize + 10),
                ..StoreConfig::default()
            },
            ..SimConfig::default()
        })
        .await
        .unwrap();
        let spec = |events| GenerateSpec {
            events,
            objects: 1000,
            repeat_share: 0.3,
            warning_share: 0.2,
            namespaces: vec!["a".into(), "b".into(), "c".into()],
            seed: Some(1),
            ..GenerateSpec::default()
        };

        // 1. replay from history
        let from = sim.resource_version();
        let t = Instant::now();
        sim.generate(spec(REPLAY));
        assert!(sim.wait_generated(Duration::from_secs(600)).await);
        let write_rate = rate(REPLAY, t.elapsed());
        let url = format!("{}/api/v1/events?watch=true&resourceVersion={from}", sim.url());
        let (n, d) = count_lines(&url, REPLAY).await;
        assert_eq!(n, REPLAY, "replay delivered everything");
        let replay_rate = rate(n, d);
        let bytes_per_event = {
            let client = Client::builder(TokioExecutor::new()).build_http::<Empty<Bytes>>();
            let r = client
                .request(
                    http::Request::get(format!("{}/api/v1/events?limit=1000", sim.url()))
                        .body(Empty::new())
                        .unwrap(),
                )
                .await
                .unwrap();
            let b = r.into_body().collect().await.unwrap().to_bytes();
            b.len() / 1000
        };

        // 2. live: writer and watcher at the same time
        let from = sim.resource_version();
        let url = format!("{}/api/v1/events?watch=true&resourceVersion={from}", sim.url());
        let watcher = tokio::spawn(async move { count_lines(&url, LIVE).await });
        tokio::time::sleep(Duration::from_millis(100)).await;
        sim.generate(spec(LIVE));
        let (n, d) = watcher.await.unwrap();
        assert_eq!(n, LIVE, "live watch delivered everything");
        let live_rate = rate(n, d.saturating_sub(Duration::from_millis(100)));

        // 3. kube-rs typed watch over the same replay
        let kc: kube::config::Kubeconfig = serde_json::from_value(sim.kubeconfig()).unwrap();
        let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default())
            .await
            .unwrap();
        let api: kube::Api<k8s_openapi::api::core::v1::Event> =
            kube::Api::all(kube::Client::try_from(cfg).unwrap());
        let start_rv = from.to_string();
        let t = Instant::now();
        let mut stream = api
            .watch(&kube::api::WatchParams::default().timeout(290), &start_rv)
            .await
            .unwrap()
            .boxed();
        let mut k = 0u64;
        while k < LIVE {
            match tokio::time::timeout(Duration::from_secs(60), stream.next()).await {
                Ok(Some(Ok(_))) => k += 1,
                other => panic!("kube-rs watch ended early after {k}: {:?}", other.map(|o| o.map(|r| r.is_ok()))),
            }
        }
        let kube_rate = rate(k, t.elapsed());

        println!("## simulator watch throughput (one client, release build)");
        println!("events written by the generator: {write_rate:>10.0} /s");
        println!("watch replay from history:       {replay_rate:>10.0} events/s ({REPLAY} events, ~{bytes_per_event} B each)");
        println!("watch live while generating:     {live_rate:>10.0} events/s ({LIVE} events)");
        println!("kube-rs typed Api::watch:        {kube_rate:>10.0} events/s ({LIVE} events, client decoding included)");
        let target = 50_000.0;
        if replay_rate < target || live_rate < target {
            println!("BELOW TARGET of {target} events/s");
        }
    });
}
