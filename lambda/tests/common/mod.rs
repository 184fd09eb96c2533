//! What the catch-up's integration tests share: an AWS SDK configuration pointed at moto, and
//! the catch-up binary set up to read the simulator and archive to a local directory.

#![allow(dead_code)] // Each test binary uses a different part.

use std::path::Path;
use std::process::Command;

use aws_credential_types::Credentials;
use eventkeeper_tests::peers::{MOTO_SECRET_KEY, MotoServer, SimProcess};

/// An SDK configuration whose clients talk to this moto server.
pub async fn moto_sdk_config(moto: &MotoServer) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(&moto.url)
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(Credentials::new(
            "AKIAIOSFODNN7EXAMPLE",
            MOTO_SECRET_KEY,
            None,
            None,
            "test",
        ))
        .load()
        .await
}

/// `eventkeeper-catchup` for cluster `demo`, reading the simulator through its kubeconfig and
/// archiving to `archive`, as a CLI run (never in Lambda mode).
pub fn catchup_command(sim: &SimProcess, archive: &Path) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_eventkeeper-catchup"));
    command
        .args([
            "--cluster-name",
            "demo",
            "--log-format",
            "text",
            "--kubeconfig",
        ])
        .arg(&sim.kubeconfig)
        .arg("--archive-dir")
        .arg(archive)
        .env_remove("AWS_LAMBDA_RUNTIME_API");
    command
}
