//! What the catch-up's integration tests share: the catch-up binary set up to read the
//! simulator and archive to a local directory, and reading an archive back from moto S3.

#![allow(dead_code)] // Each test binary uses a different part.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Read;
use std::path::Path;
use std::process::Command;

use eventkeeper_catchup::testing::Runner;
use eventkeeper_catchup::testing::archive::{
    ArchiveStore, Checkpoint, ObjectInfo, S3Store, SpooledObject, StoreError, Tag,
};
use eventkeeper_catchup::testing::cluster::{ClusterConnector, ClusterTarget};
use eventkeeper_tests::aws::moto_sdk_config;
use eventkeeper_tests::peers::{self, MotoServer, SimProcess};

/// `eventkeeper-catchup` for cluster `demo`, reading the simulator through its kubeconfig and
/// archiving to `archive`, as a CLI run (never in Lambda mode).
pub fn catchup_command(sim: &SimProcess, archive: &Path) -> Command {
    let mut command =
        peers::catchup_command(Path::new(env!("CARGO_BIN_EXE_eventkeeper-catchup")), sim);
    command.arg("--archive-dir").arg(archive);
    command
}

/// What a list taken now returns: (uid, resourceVersion) of the latest observation of each live
/// event.
pub fn live_now(sim: &SimProcess) -> BTreeSet<(String, String)> {
    let list: serde_json::Value =
        serde_json::from_str(&sim.admin("GET", "/api/v1/events", None)).expect("list JSON");
    list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|e| uid_and_rv(&e["metadata"]))
        .collect()
}

/// (uid, resourceVersion) of an Event's metadata or of a simulator observation: the identity of
/// one observation.
pub fn uid_and_rv(meta: &serde_json::Value) -> (String, String) {
    (
        meta["uid"].as_str().expect("uid").to_owned(),
        meta["resourceVersion"]
            .as_str()
            .expect("resourceVersion")
            .to_owned(),
    )
}

/// moto's SDK configuration and an S3 client for it, with `bucket` created.
pub async fn moto_with_bucket(
    moto: &MotoServer,
    bucket: &str,
) -> (aws_config::SdkConfig, aws_sdk_s3::Client) {
    let config = moto_sdk_config(moto).await;
    let s3 = s3(&config);
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .expect("create bucket");
    (config, s3)
}

/// moto with `bucket` created, an S3 client for it, and a simulator; None when moto is missing
/// (as `MotoServer::start`).
pub async fn moto_bucket_and_sim(
    bucket: &str,
) -> Option<(MotoServer, aws_sdk_s3::Client, SimProcess)> {
    let moto = MotoServer::start()?;
    let (_, s3) = moto_with_bucket(&moto, bucket).await;
    Some((moto, s3, SimProcess::start(&[])))
}

/// An S3 client for moto (path-style addressing, as moto needs).
pub fn s3(config: &aws_config::SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// (uid, resourceVersion) → count over every archive object in `bucket`, each of which must be
/// in the Hive layout of cluster `demo`.
pub async fn archived(s3: &aws_sdk_s3::Client, bucket: &str) -> BTreeMap<(String, String), usize> {
    let mut found = BTreeMap::new();
    let listing = s3
        .list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .expect("list bucket");
    for object in listing.contents() {
        let key = object.key().expect("key");
        if !key.ends_with(".json.gz") {
            continue;
        }
        assert!(key.contains("/cluster=demo/dt="), "Hive layout: {key}");
        let body = s3
            .get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .expect("get")
            .body
            .collect()
            .await
            .expect("body");
        let mut text = String::new();
        flate2::read::GzDecoder::new(body.into_bytes().as_ref())
            .read_to_string(&mut text)
            .expect("gzip");
        for line in text.lines() {
            let record: serde_json::Value = serde_json::from_str(line).expect("record");
            *found.entry(uid_and_rv(&record["metadata"])).or_insert(0) += 1;
        }
    }
    found
}

/// A runner for cluster `demo` archiving into `store` under `events`, reading the simulator
/// through its kubeconfig, 50 events a page, spooling to the temporary directory.
pub fn runner_for<S>(store: S, sim: &SimProcess) -> Runner<S> {
    Runner {
        store,
        connector: ClusterConnector::new(ClusterTarget::Kubeconfig(sim.kubeconfig.clone()), None),
        cluster: "demo".into(),
        prefix: "events".into(),
        ttl: jiff::SignedDuration::from_hours(1),
        page_size: 50,
        backfill: None,
        spool_dir: std::env::temp_dir(),
    }
}

/// What a test changes in the real S3 store's writes; reads stay the store's own.
pub trait WriteFault: Send + Sync {
    /// Runs before each checkpoint write; an error takes the write's place.
    fn before_checkpoint(&self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Creates the object, through `store` or not.
    fn create_object(
        &self,
        store: &S3Store,
        key: &str,
        object: &SpooledObject,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The real S3 store with a test's [`WriteFault`].
pub struct FaultyStore<F> {
    pub inner: S3Store,
    pub fault: F,
}

impl<F: WriteFault> ArchiveStore for FaultyStore<F> {
    async fn read_checkpoint(&self) -> Result<Option<(Checkpoint, Tag)>, StoreError> {
        self.inner.read_checkpoint().await
    }

    async fn write_checkpoint(
        &self,
        checkpoint: &Checkpoint,
        expected: Option<&Tag>,
    ) -> Result<Tag, StoreError> {
        self.fault.before_checkpoint()?;
        self.inner.write_checkpoint(checkpoint, expected).await
    }

    async fn create_object(&self, key: &str, object: &SpooledObject) -> Result<(), StoreError> {
        self.fault.create_object(&self.inner, key, object).await
    }

    async fn object_info(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        self.inner.object_info(key).await
    }
}
