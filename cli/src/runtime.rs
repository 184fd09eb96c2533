//! One async runtime setup for the binaries, and the one shutdown signal they wait for.

use std::future::Future;
use std::process::ExitCode;

/// Runs `main` on a multi-thread runtime; a runtime that cannot start is exit status 1.
pub fn run_async(main: impl Future<Output = ExitCode>) -> ExitCode {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime.block_on(main),
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            ExitCode::FAILURE
        }
    }
}

/// Resolves on SIGTERM (what Kubernetes sends) or Ctrl-C.
pub async fn shutdown_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    match signal(SignalKind::terminate()) {
        Ok(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        // Without a SIGTERM handler, Ctrl-C still works (and SIGTERM ends the process).
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}
