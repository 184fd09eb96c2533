//! The catch-up against real AWS peers (moto server on 127.0.0.1) and the simulator: EKS
//! `DescribeCluster`, an EKS token the simulator verifies by replaying it against moto's STS, S3
//! conditional writes, and a crash between upload and checkpoint.

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use eventkeeper_catchup::testing::archive::S3Store;
use eventkeeper_catchup::testing::archive::{ArchiveStore, SpooledObject, StoreError};
use eventkeeper_tests::peers::{MOTO_SECRET_KEY, MotoServer, SimProcess};
use serde_json::json;

const BUCKET: &str = "eventkeeper-archive";

mod common;
use common::{
    FaultyStore, WriteFault, archived, live_now, moto_bucket_and_sim, moto_with_bucket, runner_for,
    uid_and_rv,
};

fn assert_exactly_once(
    found: &BTreeMap<(String, String), usize>,
    expected: &BTreeSet<(String, String)>,
) {
    assert!(
        found.values().all(|n| *n == 1),
        "duplicates: {:?}",
        found.iter().filter(|(_, n)| **n > 1).collect::<Vec<_>>()
    );
    let keys: BTreeSet<_> = found.keys().cloned().collect();
    assert_eq!(
        &keys, expected,
        "archive differs from the listed observations"
    );
}

/// The token the catch-up mints is what STS expects: replayed the way aws-iam-authenticator does
/// (GET of the presigned URL with `x-k8s-aws-id`), moto's STS answers with the caller. moto picks
/// the service from an Authorization header's credential scope, not from query authentication, so
/// the replay repeats the URL's credential there (moto checks no signature either way; the
/// simulator's `--eks-secret-key` check covers the signature).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_eks_token_is_a_working_sts_request() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let credentials = eventkeeper_tests::aws::moto_credentials();
    let sts = eventkeeper_catchup::testing::cluster::eks_token::sts_endpoint("us-east-1", None);
    let token = eventkeeper_catchup::testing::cluster::eks_token::mint(
        &credentials,
        "us-east-1",
        &sts,
        "demo",
        std::time::SystemTime::now(),
    )
    .expect("token");
    let url = eventkeeper_catchup::testing::cluster::eks_token::presigned_url(&token.token)
        .expect("decodes");
    let path = url
        .strip_prefix(&sts)
        .expect("signed for the regional STS")
        .to_owned();
    let credential = path
        .split('&')
        .find_map(|p| p.strip_prefix("X-Amz-Credential="))
        .expect("credential in the URL")
        .replace("%2F", "/");
    let routing = format!(
        "AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host;x-k8s-aws-id, Signature=0"
    );
    let base = moto.url.clone();
    assert!(
        path.starts_with("/?Action=GetCallerIdentity&Version=2011-06-15&"),
        "{path}"
    );
    let (status, body) = tokio::task::spawn_blocking(move || {
        eventkeeper_tests::peers::http_call_with_headers(
            &base,
            "GET",
            &path,
            &[
                ("Authorization", routing.as_str()),
                ("x-k8s-aws-id", "demo"),
            ],
        )
    })
    .await
    .expect("join");
    assert_eq!(status, 200, "{body}");
    assert!(
        body.contains("<Arn>arn:aws:"),
        "GetCallerIdentity answers with the caller: {body}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eks_token_describe_cluster_and_s3_archive() {
    let Some(moto) = MotoServer::start() else {
        return;
    };
    let (config, s3) = moto_with_bucket(&moto, BUCKET).await;
    aws_sdk_eks::Client::new(&config)
        .create_cluster()
        .name("demo")
        .role_arn("arn:aws:iam::123456789012:role/eks")
        .resources_vpc_config(
            aws_sdk_eks::types::VpcConfigRequest::builder()
                .subnet_ids("subnet-1")
                .build(),
        )
        .send()
        .await
        .expect("create EKS cluster in moto");

    // The simulator accepts only EKS tokens signed for "demo": it checks the SigV4 signature
    // with the cluster name as the x-k8s-aws-id header (moto's STS does not check signatures).
    let sim = SimProcess::start(&[
        "--auth",
        "eks",
        "--cluster-name",
        "demo",
        "--eks-secret-key",
        MOTO_SECRET_KEY,
    ]);
    sim.generate(json!({"events": 250, "ratePerSec": 0, "objects": 250, "repeatShare": 0.0, "warningShare": 0.4, "namespaces": ["test"]}));
    // The list needs a token here; without repeats, every observation is still live.
    let expected: BTreeSet<_> = sim.observations().iter().map(uid_and_rv).collect();
    assert_eq!(expected.len(), 250);

    let run = |cluster: &str| {
        Command::new(env!("CARGO_BIN_EXE_eventkeeper-catchup"))
            .args([
                "--cluster-name",
                cluster,
                "--bucket",
                BUCKET,
                "--log-format",
                "text",
            ])
            .args([
                "--eks-endpoint-override",
                &sim.url,
                "--scheduled-time",
                "2026-11-23T09:30:00Z",
            ])
            .envs(moto.env())
            .env_remove("AWS_PROFILE")
            .output()
            .expect("catch-up runs")
    };
    let output = run("demo");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let again = run("demo");
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
    assert_exactly_once(&archived(&s3, BUCKET).await, &expected);

    // A token for another cluster is refused (401): not retryable, checkpoint untouched.
    let wrong = run("other-cluster");
    assert!(!wrong.status.success());
    let stderr = String::from_utf8_lossy(&wrong.stderr);
    assert!(
        stderr.contains("cluster_unreachable") || stderr.contains("list_failed"),
        "{stderr}"
    );
}

/// The checkpoint write after a successful upload fails, as if the process died between the
/// two.
struct CrashAfterUpload {
    uploaded: std::sync::atomic::AtomicBool,
}

impl WriteFault for CrashAfterUpload {
    fn before_checkpoint(&self) -> Result<(), StoreError> {
        if self.uploaded.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(StoreError::Unavailable(
                "injected crash after upload".into(),
            ));
        }
        Ok(())
    }

    async fn create_object(
        &self,
        store: &S3Store,
        key: &str,
        object: &SpooledObject,
    ) -> Result<(), StoreError> {
        store.create_object(key, object).await?;
        self.uploaded
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_between_upload_and_checkpoint_is_repaired_by_the_retry() {
    let Some((_moto, s3, sim)) = moto_bucket_and_sim(BUCKET).await else {
        return;
    };
    sim.generate(json!({"events": 120, "ratePerSec": 0, "objects": 120, "repeatShare": 0.0, "warningShare": 0.2, "namespaces": ["a"]}));
    let expected = live_now(&sim);

    let runner = |store| runner_for(store, &sim);
    let scheduled: jiff::Timestamp = "2026-11-23T10:00:00Z".parse().expect("time");
    let crashing = runner(FaultyStore {
        inner: S3Store::new(s3.clone(), BUCKET, "events", "demo"),
        fault: CrashAfterUpload {
            uploaded: false.into(),
        },
    });
    let error = crashing
        .run(scheduled)
        .await
        .expect_err("the injected crash fails the run");
    assert!(error.is_retryable());

    // The retry (same scheduled time, as Lambda would retry it) finds the claimed upload.
    let retry = runner_for(S3Store::new(s3.clone(), BUCKET, "events", "demo"), &sim);
    retry.run(scheduled).await.expect("the retry succeeds");
    assert_exactly_once(&archived(&s3, BUCKET).await, &expected);

    let checkpoint = S3Store::new(s3.clone(), BUCKET, "events", "demo")
        .read_checkpoint()
        .await
        .expect("read")
        .expect("exists")
        .0;
    assert!(
        checkpoint.pending.is_none(),
        "the retry confirmed the upload"
    );
    let max: u64 = expected
        .iter()
        .map(|(_, rv)| rv.parse::<u64>().unwrap())
        .max()
        .unwrap();
    assert_eq!(checkpoint.resource_version, max);
}
