//! The archive in a local directory (`--archive-dir`): the same layout and the same conditional
//! semantics as S3, for the CLI, the demo and tests.
//!
//! Conditional writes: an object is first written to a temporary file and then hard-linked to its
//! key, which fails if the key exists (no clobber, never a half-written object). The checkpoint is
//! compared and replaced under an exclusive lock on a lock file.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::{ArchiveStore, Checkpoint, ObjectInfo, SpooledObject, StoreError, Tag, checkpoint_key};

/// An archive rooted at a local directory.
#[derive(Clone, Debug)]
pub struct DirStore {
    root: PathBuf,
    checkpoint: PathBuf,
}

impl DirStore {
    /// An archive under `root` for `cluster`, keys starting with `prefix`.
    pub fn new(root: impl Into<PathBuf>, prefix: &str, cluster: &str) -> Self {
        let root = root.into();
        let checkpoint = root.join(checkpoint_key(prefix, cluster));
        Self { root, checkpoint }
    }

    fn info_path(object: &Path) -> PathBuf {
        let mut name = object.as_os_str().to_owned();
        name.push(".info.json");
        PathBuf::from(name)
    }

    fn read_tagged(&self) -> Result<Option<(Checkpoint, Tag)>, StoreError> {
        match fs::read_to_string(&self.checkpoint) {
            Ok(text) => {
                let checkpoint = serde_json::from_str(&text).map_err(|e| {
                    StoreError::Failed(format!(
                        "{}: not a checkpoint: {e}",
                        self.checkpoint.display()
                    ))
                })?;
                Ok(Some((checkpoint, Tag(text))))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_error(&self.checkpoint, e)),
        }
    }
}

impl ArchiveStore for DirStore {
    async fn read_checkpoint(&self) -> Result<Option<(Checkpoint, Tag)>, StoreError> {
        self.read_tagged()
    }

    async fn write_checkpoint(
        &self,
        checkpoint: &Checkpoint,
        expected: Option<&Tag>,
    ) -> Result<Tag, StoreError> {
        let dir = self
            .checkpoint
            .parent()
            .expect("checkpoint has a directory");
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let lock_path = dir.join(".checkpoint.lock");
        let lock = fs::File::create(&lock_path).map_err(|e| io_error(&lock_path, e))?;
        lock.lock().map_err(|e| io_error(&lock_path, e))?;

        let current = self.read_tagged()?.map(|(_, tag)| tag);
        if current.as_ref() != expected {
            return Err(StoreError::PreconditionFailed("checkpoint changed".into()));
        }
        let text = serde_json::to_string_pretty(checkpoint).expect("a checkpoint serializes");
        let temp = dir.join(".checkpoint.tmp");
        write_synced(&temp, text.as_bytes())?;
        fs::rename(&temp, &self.checkpoint).map_err(|e| io_error(&self.checkpoint, e))?;
        Ok(Tag(text))
    }

    async fn create_object(&self, key: &str, object: &SpooledObject) -> Result<(), StoreError> {
        let SpooledObject { body, info } = object;
        let path = self.root.join(key);
        let dir = path.parent().expect("a key has a directory");
        fs::create_dir_all(dir).map_err(|e| io_error(dir, e))?;
        let info_text = serde_json::to_vec(info).expect("info serializes");
        write_synced(&Self::info_path(&path), &info_text)?;
        let temp = dir.join(format!(".{}.tmp-{}", file_name(&path), std::process::id()));
        copy_synced(body.path(), &temp)?;
        let linked = fs::hard_link(&temp, &path);
        let _ = fs::remove_file(&temp);
        match linked {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                Err(StoreError::PreconditionFailed(format!("{key} exists")))
            }
            Err(e) => Err(io_error(&path, e)),
        }
    }

    async fn object_info(&self, key: &str) -> Result<Option<ObjectInfo>, StoreError> {
        let path = self.root.join(key);
        if !path.exists() {
            return Ok(None);
        }
        let info_path = Self::info_path(&path);
        let text = fs::read(&info_path).map_err(|e| io_error(&info_path, e))?;
        serde_json::from_slice(&text)
            .map(Some)
            .map_err(|e| StoreError::Failed(format!("{}: {e}", info_path.display())))
    }
}

fn write_synced(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let mut file = fs::File::create(path).map_err(|e| io_error(path, e))?;
    file.write_all(bytes).map_err(|e| io_error(path, e))?;
    file.sync_all().map_err(|e| io_error(path, e))
}

fn copy_synced(from: &Path, to: &Path) -> Result<(), StoreError> {
    fs::copy(from, to).map_err(|e| io_error(to, e))?;
    fs::File::open(to)
        .and_then(|file| file.sync_all())
        .map_err(|e| io_error(to, e))
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

fn io_error(path: &Path, error: std::io::Error) -> StoreError {
    StoreError::Failed(format!("{}: {error}", path.display()))
}
