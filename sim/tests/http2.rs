//! HTTP/2 over TLS (negotiated by ALPN, as kubectl and client-go do): the simulator allows 100
//! concurrent streams per connection, as the reference server does; a client that
//! multiplexes more waits for a free stream instead of being refused.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use eventkeeper_sim::Simulator;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http2;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};

/// The stream limit the simulator advertises (`SETTINGS_MAX_CONCURRENT_STREAMS`).
const MAX_STREAMS: usize = 100;

/// One TLS connection to `sim`, HTTP/2 by ALPN.
async fn h2_connection(sim: &Simulator) -> http2::SendRequest<Empty<Bytes>> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(sim.ca_pem().expect("TLS").as_bytes()) {
        roots.add(cert.expect("a PEM certificate")).expect("a CA");
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    let tcp = tokio::net::TcpStream::connect(sim.addr())
        .await
        .expect("connect");
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .expect("TLS handshake");
    assert_eq!(
        tls.get_ref().1.alpn_protocol(),
        Some(&b"h2"[..]),
        "the simulator chose HTTP/2 by ALPN"
    );
    let (send, conn) = http2::handshake(TokioExecutor::new(), TokioIo::new(tls))
        .await
        .expect("HTTP/2 handshake");
    tokio::spawn(conn);
    send
}

fn get(sim: &Simulator, path: &str) -> http::Request<Empty<Bytes>> {
    http::Request::get(format!("{}{path}", sim.url()))
        .body(Empty::new())
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_101st_concurrent_stream_on_one_connection_waits_for_a_free_one() {
    let sim = common::start_tls().await;
    let mut send = h2_connection(&sim).await;
    // 100 watches, each an open stream on the same connection.
    let mut watches = Vec::new();
    for _ in 0..MAX_STREAMS {
        send.ready().await.expect("ready");
        let response = send
            .send_request(get(&sim, "/api/v1/events?watch=true&timeoutSeconds=60"))
            .await
            .expect("a watch opens");
        assert_eq!(response.status(), 200);
        assert_eq!(response.version(), http::Version::HTTP_2);
        watches.push(response);
    }
    // The 101st: a list, which would answer at once on a free stream.
    let mut list = {
        let mut send = send.clone();
        let request = get(&sim, "/api/v1/namespaces/default/events");
        tokio::spawn(async move {
            send.ready().await.expect("ready");
            let response = send.send_request(request).await.expect("the list answers");
            let status = response.status();
            let body = response.into_body().collect().await.unwrap().to_bytes();
            (status, body)
        })
    };
    assert!(
        tokio::time::timeout(Duration::from_secs(2), &mut list)
            .await
            .is_err(),
        "a 101st concurrent stream was answered while 100 were open"
    );
    // One watch ends (the client resets its stream): the list gets that stream.
    drop(watches.pop());
    let (status, body) = tokio::time::timeout(Duration::from_secs(10), list)
        .await
        .expect("the 101st stream proceeds once one ends")
        .unwrap();
    assert_eq!(status, 200);
    let list: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(list["kind"], "EventList");
    // The other 99 watches are still open and serving.
    assert_eq!(watches.len(), MAX_STREAMS - 1);
}
