//! The listener: accepts TCP connections, optionally terminates TLS, and serves HTTP/1.1 and
//! HTTP/2 until shutdown.

use crate::app::App;
use crate::router;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio_rustls::TlsAcceptor;

/// Serves connections until `shutdown` becomes true.
pub async fn serve(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    app: Arc<App>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let stream = tokio::select! {
            r = listener.accept() => match r {
                Ok((s, _)) => s,
                Err(e) => {
                    tracing::warn!(error = %e, "Accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let tls = tls.clone();
        let mut conn_shutdown = shutdown.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req| {
                let app = app.clone();
                async move { Ok::<_, Infallible>(router::handle(app, req).await) }
            });
            let mut builder = auto::Builder::new(TokioExecutor::new());
            // Go's HTTP/2 server, which kube-apiserver uses, allows 100 concurrent streams per
            // connection; a client multiplexing more waits for a free one.
            builder.http2().max_concurrent_streams(100);
            let result = match tls {
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(s) => {
                        let conn = builder.serve_connection(TokioIo::new(s), svc);
                        tokio::select! {
                            r = conn => r,
                            _ = conn_shutdown.changed() => Ok(()),
                        }
                    }
                    Err(e) => {
                        tracing::debug!(error = %e, "TLS handshake failed");
                        Ok(())
                    }
                },
                None => {
                    let conn = builder.serve_connection(TokioIo::new(stream), svc);
                    tokio::select! {
                        r = conn => r,
                        _ = conn_shutdown.changed() => Ok(()),
                    }
                }
            };
            if let Err(e) = result {
                tracing::debug!(error = %e, "Connection ended with an error");
            }
        });
    }
}
