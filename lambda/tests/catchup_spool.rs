//! The archive object is compressed into a spool file and uploaded from it (moto S3): the file is
//! gone after a success, a failed upload and a lost conditional create, and a killed run's file
//! is swept by the next run once it is stale.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use eventkeeper_catchup::testing::Runner;
use eventkeeper_catchup::testing::archive::{ArchiveStore, S3Store, SpooledObject, StoreError};
use serde_json::{Value, json};

mod common;
use common::{FaultyStore, WriteFault, archived, moto_bucket_and_sim, runner_for, uid_and_rv};

const BUCKET: &str = "eventkeeper-spool";

/// What the upload does after it has checked that its body is a file in the spool directory.
#[derive(Clone, Copy)]
enum Upload {
    Succeed,
    Fail,
    /// Uploads, then creates again: moto's real `412 Precondition Failed` reaches the protocol.
    LoseTheRace,
}

/// Watches the spooled body each upload is given.
struct Watched {
    upload: Upload,
    spool_dir: PathBuf,
    seen: Mutex<Vec<PathBuf>>,
}

impl WriteFault for Watched {
    async fn create_object(
        &self,
        store: &S3Store,
        key: &str,
        object: &SpooledObject,
    ) -> Result<(), StoreError> {
        let body = &object.body;
        assert_eq!(body.path().parent(), Some(self.spool_dir.as_path()));
        assert_eq!(
            std::fs::metadata(body.path()).expect("spooled").len(),
            body.len()
        );
        self.seen.lock().unwrap().push(body.path().to_owned());
        match self.upload {
            Upload::Succeed => store.create_object(key, object).await,
            Upload::Fail => Err(StoreError::Unavailable("injected upload failure".into())),
            Upload::LoseTheRace => {
                store.create_object(key, object).await?;
                store.create_object(key, object).await
            }
        }
    }
}

fn files_in(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .expect("spool dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_spool_file_is_removed_after_success_failure_and_a_lost_create() {
    let Some((_moto, s3, sim)) = moto_bucket_and_sim(BUCKET).await else {
        return;
    };
    let spool = tempfile::tempdir().expect("spool dir");
    // A file a killed run left an hour ago, and one a run in another process is writing now.
    let stale = spool.path().join(".eventkeeper-spool-killed.json.gz");
    let fresh = spool.path().join(".eventkeeper-spool-running.json.gz");
    std::fs::write(&stale, b"x").expect("stale file");
    std::fs::write(&fresh, b"x").expect("fresh file");
    std::fs::File::options()
        .write(true)
        .open(&stale)
        .expect("open")
        .set_modified(SystemTime::now() - Duration::from_secs(3600))
        .expect("age the file");

    let run = |upload: Upload, at: &str, events: u64| {
        sim.generate(json!({"events": events, "ratePerSec": 0, "objects": events, "repeatShare": 0.0, "warningShare": 0.2, "namespaces": ["a"]}));
        let store = FaultyStore {
            inner: S3Store::new(s3.clone(), BUCKET, "events", "demo"),
            fault: Watched {
                upload,
                spool_dir: spool.path().to_owned(),
                seen: Mutex::default(),
            },
        };
        let runner = Runner {
            page_size: 40,
            spool_dir: spool.path().to_owned(),
            ..runner_for(store, &sim)
        };
        let at: jiff::Timestamp = at.parse().expect("time");
        async move {
            let result = runner.run(at).await;
            let seen = runner.store.fault.seen.into_inner().unwrap();
            assert!(!seen.is_empty(), "the body was spooled");
            (result, seen)
        }
    };

    let (result, seen) = run(Upload::Succeed, "2026-11-23T10:00:00Z", 150).await;
    result.expect("the run succeeds");
    assert!(
        seen.iter().all(|p| !p.exists()),
        "spool file left after a success"
    );
    assert!(
        !stale.exists(),
        "the stale spool file of a killed run is removed"
    );
    assert_eq!(
        files_in(spool.path()),
        [".eventkeeper-spool-running.json.gz"]
    );
    std::fs::remove_file(&fresh).expect("remove");

    let (result, seen) = run(Upload::Fail, "2026-11-23T10:30:00Z", 60).await;
    assert!(result.expect_err("the upload fails").is_retryable());
    assert!(seen.iter().all(|p| !p.exists()));
    assert_eq!(
        files_in(spool.path()),
        Vec::<String>::new(),
        "spool file left after a failure"
    );

    // The failed run's claim is adopted: the object is uploaded, then created again (412).
    let (result, seen) = run(Upload::LoseTheRace, "2026-11-23T11:00:00Z", 30).await;
    result.expect("a lost conditional create counts the object that exists");
    assert_eq!(
        seen.len(),
        1,
        "one upload: the adopted claim holds every new observation"
    );
    assert_eq!(
        files_in(spool.path()),
        Vec::<String>::new(),
        "spool file left after a 412"
    );

    let found = archived(&s3, BUCKET).await;
    assert!(found.values().all(|n| *n == 1), "duplicates");
    let list: Value =
        serde_json::from_str(&sim.admin("GET", "/api/v1/events", None)).expect("list");
    let live = list["items"].as_array().expect("items");
    assert!(live.len() >= 150);
    for event in live {
        let id = uid_and_rv(&event["metadata"]);
        assert!(found.contains_key(&id), "{id:?} is live but not archived");
    }
}
