//! The body of one archive object, compressed as it is listed into a file on local disk (the
//! Lambda's ephemeral storage), so memory holds a page and a buffer whatever the cluster's size.
//! The store then uploads the file with the same conditional create as before: one object per
//! run, and the archive protocol does not change.
//!
//! The file is named `.eventkeeper-spool-*` in the spool directory and removed when its
//! [`SpooledBody`] (or the unfinished [`Spool`]) is dropped: after a success, a failure and a
//! lost conditional create alike. A process killed mid-run cannot remove it, so every run first
//! removes spool files nobody has written for [`STALE_AFTER`] (longer than a Lambda may run).

use std::collections::HashSet;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

use eventkeeper_core::api_event::ApiEvent;
use eventkeeper_core::resource_version::ResourceVersion;
use eventkeeper_core::source::{ListError, PageSource, Pager};
use eventkeeper_core::{Context, normalise::normalise_event};
use flate2::Compression;
use flate2::write::GzEncoder;
use jiff::Timestamp;
use tempfile::NamedTempFile;

use super::ObjectInfo;

/// Name prefix of spool files: what the stale sweep may remove.
const SPOOL_PREFIX: &str = ".eventkeeper-spool-";

/// A spool file not written for this long belongs to a run that was killed (Lambda stops a run
/// after at most 15 minutes).
pub const STALE_AFTER: Duration = Duration::from_secs(20 * 60);

/// Write buffer between the compressor and the file.
const WRITE_BUFFER: usize = 256 * 1024;

/// Pages in flight between the list and the compressor: the next page is fetched while the
/// current one is normalised and compressed.
const PAGES_IN_FLIGHT: usize = 1;

/// Why spooling failed (the run fails retryably; the checkpoint does not move).
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// The spool directory cannot be written (missing, read-only, full).
    #[error("spool file in {dir}: {source}")]
    Io {
        /// The spool directory.
        dir: PathBuf,
        /// What the file system said.
        #[source]
        source: std::io::Error,
    },
    /// The list failed.
    #[error(transparent)]
    List(#[from] ListError),
}

/// A gzip JSON-lines body being written to a spool file.
pub struct Spool {
    dir: PathBuf,
    encoder: GzEncoder<BufWriter<NamedTempFile>>,
}

impl Spool {
    /// A new empty body in `dir`.
    pub fn create(dir: &Path) -> Result<Self, SpoolError> {
        let file = spool_file(dir, ".json.gz")?;
        Ok(Self {
            dir: dir.to_owned(),
            encoder: GzEncoder::new(
                BufWriter::with_capacity(WRITE_BUFFER, file),
                Compression::default(),
            ),
        })
    }

    fn write(&mut self, line: &[u8]) -> Result<(), SpoolError> {
        let dir = &self.dir;
        self.encoder.write_all(line).map_err(|e| io(dir, e))
    }

    /// Completes the gzip stream and flushes it to disk.
    pub fn finish(self) -> Result<SpooledBody, SpoolError> {
        let dir = self.dir;
        let buffered = self.encoder.finish().map_err(|e| io(&dir, e))?;
        let file = buffered
            .into_inner()
            .map_err(|e| io(&dir, e.into_error()))?;
        let len = file.as_file().metadata().map_err(|e| io(&dir, e))?.len();
        Ok(SpooledBody { file, len })
    }
}

/// A finished body on disk; the file is removed when this is dropped.
#[derive(Debug)]
pub struct SpooledBody {
    file: NamedTempFile,
    len: u64,
}

impl SpooledBody {
    /// Where the body is.
    pub fn path(&self) -> &Path {
        self.file.path()
    }

    /// Its size in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether it is empty (never: a gzip stream has a header).
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Removes spool files in `dir` that no run has written for [`STALE_AFTER`]; a failure to do so
/// is logged, not fatal (the run needs the space, but may still have enough).
pub fn remove_stale(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(SPOOL_PREFIX) {
            continue;
        }
        let stale = entry
            .metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|modified| modified.elapsed().ok())
            .is_some_and(|age| age > STALE_AFTER);
        if stale {
            match std::fs::remove_file(entry.path()) {
                Ok(()) => {
                    tracing::warn!(path = %entry.path().display(), "Removed the spool file of a run that was killed")
                }
                Err(error) => {
                    tracing::warn!(path = %entry.path().display(), %error, "Could not remove a stale spool file")
                }
            }
        }
    }
}

/// An archive object ready to be stored: its body and what it says about itself, which every
/// store writes together.
pub struct SpooledObject {
    /// The object's body.
    pub body: SpooledBody,
    /// What the object says about itself.
    pub info: ObjectInfo,
}

/// What listing into a spool produced.
pub struct Spooled {
    /// The object to store.
    pub object: SpooledObject,
    /// Events the list returned (archived or not).
    pub listed: u64,
}

/// Lists every Event and writes the observations newer than `after` into a new spool in `dir`.
/// The list runs here while a blocking thread normalises and compresses the previous page, so
/// memory holds at most [`PAGES_IN_FLIGHT`] + 2 pages. The pager must not remember what it
/// delivered ([`Pager::forgetting_delivered`]): after an expired continue token, what this run
/// already archived is recognised here instead, from a file, so memory stays flat unless a list
/// starts over.
pub async fn list_into_spool<S: PageSource>(
    mut pager: Pager<S>,
    after: u64,
    ctx: Context,
    dir: &Path,
) -> Result<Spooled, SpoolError> {
    let listed_at = Timestamp::now();
    let mut spool = Spool::create(dir)?;
    let mut archived = Archived::create(dir)?;
    let (pages, mut inbox) = tokio::sync::mpsc::channel::<(Vec<ApiEvent>, bool)>(PAGES_IN_FLIGHT);
    let compressor = tokio::task::spawn_blocking(move || {
        let mut info = ObjectInfo {
            max_resource_version: after,
            listed_at,
            events: 0,
        };
        while let Some((items, restarted)) = inbox.blocking_recv() {
            if restarted {
                archived.recall()?;
            }
            for item in items {
                add_event(item, after, &ctx, &mut spool, &mut archived, &mut info)?;
            }
        }
        Ok::<_, SpoolError>((spool, info))
    });
    let mut listed = 0u64;
    let listing = async {
        while let Some(page) = pager.next_page().await? {
            listed += page.items.len() as u64;
            if pages.send((page.items, page.restarted)).await.is_err() {
                // The compressor stopped on an error; it is reported below.
                break;
            }
        }
        drop(pages);
        Ok::<_, ListError>(())
    }
    .await;
    let compressed = compressor.await.map_err(|e| {
        io(
            dir,
            std::io::Error::other(format!("the compressor stopped: {e}")),
        )
    })?;
    listing?;
    let (spool, info) = compressed?;
    // The list is one consistent snapshot even after expired continue tokens: nothing archived
    // is above it, so the checkpoint cannot pass an update the list did not see.
    debug_assert!(
        pager
            .snapshot()
            .is_none_or(|s| info.max_resource_version <= s.get())
    );
    Ok(Spooled {
        object: SpooledObject {
            body: spool.finish()?,
            info,
        },
        listed,
    })
}

/// Adds one listed event to the body when it is newer than the checkpoint.
fn add_event(
    item: ApiEvent,
    after: u64,
    ctx: &Context,
    spool: &mut Spool,
    archived: &mut Archived,
    info: &mut ObjectInfo,
) -> Result<(), SpoolError> {
    let record = match normalise_event(item, ctx) {
        Ok(record) => record,
        Err(error) => {
            tracing::error!(%error, "Listed item is not an Event; skipped");
            return Ok(());
        }
    };
    // resourceVersions are etcd revisions: integers that grow with every write.
    let Some(rv) = ResourceVersion::parse(record.resource_version()).map(ResourceVersion::get)
    else {
        tracing::warn!(
            uid = record.uid(),
            rv = record.resource_version(),
            "Non-integer resourceVersion: archived every run"
        );
        info.events += 1;
        return spool.write(record.to_line().as_bytes());
    };
    if rv <= after || !archived.first_time(record.uid(), rv)? {
        return Ok(());
    }
    info.max_resource_version = info.max_resource_version.max(rv);
    info.events += 1;
    spool.write(record.to_line().as_bytes())
}

/// The `(uid, resourceVersion)` of every observation archived in this run: appended to a file
/// while the list runs, read into memory only when a list starts over (then ~100 bytes per
/// Event), to drop what the earlier pass already archived.
struct Archived {
    dir: PathBuf,
    log: BufWriter<NamedTempFile>,
    recalled: Option<HashSet<(Box<str>, u64)>>,
}

impl Archived {
    fn create(dir: &Path) -> Result<Self, SpoolError> {
        let file = spool_file(dir, ".archived")?;
        Ok(Self {
            dir: dir.to_owned(),
            log: BufWriter::new(file),
            recalled: None,
        })
    }

    /// Reads the file back: from now on, what was archived is recognised.
    fn recall(&mut self) -> Result<(), SpoolError> {
        let dir = &self.dir;
        self.log.flush().map_err(|e| io(dir, e))?;
        let text = std::fs::read_to_string(self.log.get_ref().path()).map_err(|e| io(dir, e))?;
        let recalled = text
            .lines()
            .filter_map(|line| {
                let (uid, rv) = line.rsplit_once(' ')?;
                Some((Box::from(uid), rv.parse().ok()?))
            })
            .collect();
        tracing::warn!(
            archived = text.lines().count(),
            "The list started over: observations archived by its earlier pass are not archived again"
        );
        self.recalled = Some(recalled);
        Ok(())
    }

    /// Records an observation; false when this run archived it already. Observations without a
    /// uid cannot be recognised and are always archived (a duplicate, never a loss).
    fn first_time(&mut self, uid: &str, rv: u64) -> Result<bool, SpoolError> {
        if uid.is_empty() || uid.contains(['\n', ' ']) {
            return Ok(true);
        }
        if let Some(recalled) = &mut self.recalled
            && !recalled.insert((uid.into(), rv))
        {
            return Ok(false);
        }
        let dir = &self.dir;
        writeln!(self.log, "{uid} {rv}").map_err(|e| io(dir, e))?;
        Ok(true)
    }
}

/// A new file in `dir` named like every spool file (so a later run's sweep finds it), ending in
/// `suffix`.
fn spool_file(dir: &Path, suffix: &str) -> Result<tempfile::NamedTempFile, SpoolError> {
    tempfile::Builder::new()
        .prefix(SPOOL_PREFIX)
        .suffix(suffix)
        .tempfile_in(dir)
        .map_err(|source| io(dir, source))
}

fn io(dir: &Path, source: std::io::Error) -> SpoolError {
    SpoolError::Io {
        dir: dir.to_owned(),
        source,
    }
}
