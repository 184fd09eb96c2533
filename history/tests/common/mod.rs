//! What the history tests share: SDK clients pointed at moto, and the real `kubectl-eventkeeper`
//! binary set up to reach it.

#![allow(dead_code)] // Each test binary uses a different part.

use std::process::{Command, Output};

use eventkeeper_tests::aws::moto_sdk_config;
use eventkeeper_tests::peers::MotoServer;

/// An S3 client for this moto server (path-style addressing, as moto needs).
pub async fn s3_client(moto: &MotoServer) -> aws_sdk_s3::Client {
    let config = aws_sdk_s3::config::Builder::from(&moto_sdk_config(moto).await)
        .force_path_style(true)
        .build();
    aws_sdk_s3::Client::from_conf(config)
}

/// An S3 client for this moto server, with `bucket` created.
pub async fn s3_with_bucket(moto: &MotoServer, bucket: &str) -> aws_sdk_s3::Client {
    let s3 = s3_client(moto).await;
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("bucket");
    s3
}

/// A CloudWatch Logs client for this moto server.
pub async fn logs_client(moto: &MotoServer) -> aws_sdk_cloudwatchlogs::Client {
    aws_sdk_cloudwatchlogs::Client::new(&moto_sdk_config(moto).await)
}

/// `kubectl-eventkeeper` with no config file and this moto server's AWS environment.
pub fn history_command(moto: &MotoServer) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_kubectl-eventkeeper"));
    command
        .env_remove("EVENTKEEPER_HISTORY_CONFIG")
        .env("HOME", "/nonexistent")
        .envs(moto.env());
    command
}

/// Runs `command` off the async runtime's worker threads.
pub async fn output_of(mut command: Command) -> Output {
    tokio::task::spawn_blocking(move || command.output().expect("kubectl-eventkeeper runs"))
        .await
        .expect("the command's thread")
}

/// Asserts the records come in effective-time order (the plugin's answer order).
pub fn assert_ordered_by_effective_time(records: &[eventkeeper_core::Record]) {
    let times: Vec<jiff::Timestamp> = records
        .iter()
        .map(|r| r.effective_time.as_deref().unwrap().parse().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] <= w[1]),
        "ordered by effective time"
    );
}
