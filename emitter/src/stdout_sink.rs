//! The stdout sink: lines in batches, flushed at least every flush interval; after each flush it
//! publishes the checkpoint — the resourceVersion through which every line is on stdout.
//!
//! Each source stream sends its lines and its progress (the resourceVersion through which it has
//! sent everything). With several streams (one per namespace) the checkpoint is the smallest of
//! their flushed positions: resuming every stream from there loses nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use eventkeeper_core::resource_version::ResourceVersion;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};
use tokio::time::Instant;

/// Flush when this much is buffered, even before the deadline.
const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Why the sink stopped.
#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// Writing to stdout failed (closed pipe, full disk).
    #[error("cannot write to stdout")]
    WriteFailed(#[source] std::io::Error),
}

/// What a source stream sends.
#[derive(Debug)]
pub struct Message {
    /// Index of the stream.
    pub stream: usize,
    /// A line to write (with its newline).
    pub line: Option<String>,
    /// After this message, the stream has sent everything up to this resourceVersion.
    pub progress: Option<ResourceVersion>,
}

/// Writes lines to `out` until every sender is gone; `emitting` false stops it without writing
/// what is buffered (a leader that lost its Lease must not write any more).
pub async fn run<W: tokio::io::AsyncWrite + Unpin>(
    mut out: W,
    mut rx: mpsc::Receiver<Message>,
    streams: usize,
    start: Option<ResourceVersion>,
    flush_interval: Duration,
    flushed: watch::Sender<Option<ResourceVersion>>,
    emitting: Arc<AtomicBool>,
) -> Result<(), SinkError> {
    let mut buffer: Vec<u8> = Vec::with_capacity(MAX_BATCH_BYTES + 32 * 1024);
    let mut pending = vec![start; streams];
    let mut deadline: Option<Instant> = None;
    let mut dirty = false;
    loop {
        let message = match deadline {
            Some(at) => tokio::select! {
                message = rx.recv() => message,
                () = tokio::time::sleep_until(at) => {
                    flush(&mut out, &mut buffer, &pending, &flushed, &emitting).await?;
                    deadline = None;
                    dirty = false;
                    continue;
                }
            },
            None => rx.recv().await,
        };
        let Some(message) = message else {
            if dirty {
                flush(&mut out, &mut buffer, &pending, &flushed, &emitting).await?;
            }
            return Ok(());
        };
        if let Some(line) = message.line {
            buffer.extend_from_slice(line.as_bytes());
        }
        if let Some(rv) = message.progress
            && let Some(slot) = pending.get_mut(message.stream)
        {
            *slot = Some(slot.map_or(rv, |p| p.max(rv)));
        }
        dirty = true;
        let at = *deadline.get_or_insert_with(|| Instant::now() + flush_interval);
        if buffer.len() >= MAX_BATCH_BYTES || Instant::now() >= at {
            flush(&mut out, &mut buffer, &pending, &flushed, &emitting).await?;
            deadline = None;
            dirty = false;
        }
    }
}

async fn flush<W: tokio::io::AsyncWrite + Unpin>(
    out: &mut W,
    buffer: &mut Vec<u8>,
    pending: &[Option<ResourceVersion>],
    flushed: &watch::Sender<Option<ResourceVersion>>,
    emitting: &AtomicBool,
) -> Result<(), SinkError> {
    if !emitting.load(Ordering::Acquire) {
        buffer.clear();
        return Ok(());
    }
    if !buffer.is_empty() {
        out.write_all(buffer)
            .await
            .map_err(SinkError::WriteFailed)?;
        out.flush().await.map_err(SinkError::WriteFailed)?;
        buffer.clear();
    }
    // The checkpoint exists once every stream has a position.
    let checkpoint = pending
        .iter()
        .copied()
        .collect::<Option<Vec<_>>>()
        .and_then(|v| v.into_iter().min());
    if checkpoint.is_some() {
        flushed.send_if_modified(|current| {
            let changed = *current != checkpoint;
            *current = checkpoint;
            changed
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(stream: usize, line: Option<&str>, rv: Option<u64>) -> Message {
        Message {
            stream,
            line: line.map(str::to_owned),
            progress: rv.map(ResourceVersion::new),
        }
    }

    #[tokio::test]
    async fn checkpoint_follows_the_flush_and_the_slowest_stream() {
        let (tx, rx) = mpsc::channel(16);
        let (flushed_tx, mut flushed_rx) = watch::channel(None);
        let (mut reader, writer) = tokio::io::duplex(1 << 16);
        let task = tokio::spawn(run(
            writer,
            rx,
            2,
            None,
            Duration::from_millis(20),
            flushed_tx,
            Arc::new(AtomicBool::new(true)),
        ));
        tx.send(message(0, Some("a\n"), Some(10))).await.unwrap();
        // Stream 1 has no position yet: no checkpoint.
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(*flushed_rx.borrow(), None);
        tx.send(message(1, None, Some(7))).await.unwrap();
        flushed_rx.changed().await.unwrap();
        assert_eq!(*flushed_rx.borrow(), Some(ResourceVersion::new(7)));
        tx.send(message(1, Some("b\n"), Some(12))).await.unwrap();
        flushed_rx.changed().await.unwrap();
        assert_eq!(*flushed_rx.borrow(), Some(ResourceVersion::new(10)));
        drop(tx);
        task.await.unwrap().unwrap();
        let mut out = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut reader, &mut out)
            .await
            .unwrap();
        assert_eq!(out, "a\nb\n");
    }

    #[tokio::test]
    async fn a_stopped_sink_writes_nothing_more() {
        let (tx, rx) = mpsc::channel(16);
        let (flushed_tx, flushed_rx) = watch::channel(None);
        let (mut reader, writer) = tokio::io::duplex(1 << 16);
        let emitting = Arc::new(AtomicBool::new(false));
        let task = tokio::spawn(run(
            writer,
            rx,
            1,
            None,
            Duration::from_millis(5),
            flushed_tx,
            emitting,
        ));
        tx.send(message(0, Some("x\n"), Some(3))).await.unwrap();
        drop(tx);
        task.await.unwrap().unwrap();
        let mut out = String::new();
        tokio::io::AsyncReadExt::read_to_string(&mut reader, &mut out)
            .await
            .unwrap();
        assert_eq!(out, "");
        assert_eq!(*flushed_rx.borrow(), None);
    }
}
