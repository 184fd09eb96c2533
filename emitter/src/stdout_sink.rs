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

    /// A sink of `streams` streams writing into a pipe: its inbox, checkpoint, output and task.
    struct Running {
        tx: mpsc::Sender<Message>,
        flushed: watch::Receiver<Option<ResourceVersion>>,
        reader: tokio::io::DuplexStream,
        task: tokio::task::JoinHandle<Result<(), SinkError>>,
    }

    fn start(streams: usize, flush_every: Duration, emitting: bool) -> Running {
        let (tx, rx) = mpsc::channel(16);
        let (flushed_tx, flushed) = watch::channel(None);
        let (reader, writer) = tokio::io::duplex(1 << 16);
        let task = tokio::spawn(run(
            writer,
            rx,
            streams,
            None,
            flush_every,
            flushed_tx,
            Arc::new(AtomicBool::new(emitting)),
        ));
        Running {
            tx,
            flushed,
            reader,
            task,
        }
    }

    impl Running {
        /// Closes the inbox, waits for the sink to end, and returns what it wrote.
        async fn finish(mut self) -> String {
            drop(self.tx);
            self.task.await.unwrap().unwrap();
            let mut out = String::new();
            tokio::io::AsyncReadExt::read_to_string(&mut self.reader, &mut out)
                .await
                .unwrap();
            out
        }
    }

    #[tokio::test]
    async fn checkpoint_follows_the_flush_and_the_slowest_stream() {
        let mut sink = start(2, Duration::from_millis(20), true);
        let tx = sink.tx.clone();
        tx.send(message(0, Some("a\n"), Some(10))).await.unwrap();
        // Stream 1 has no position yet: no checkpoint.
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert_eq!(*sink.flushed.borrow(), None);
        tx.send(message(1, None, Some(7))).await.unwrap();
        sink.flushed.changed().await.unwrap();
        assert_eq!(*sink.flushed.borrow(), Some(ResourceVersion::new(7)));
        tx.send(message(1, Some("b\n"), Some(12))).await.unwrap();
        sink.flushed.changed().await.unwrap();
        assert_eq!(*sink.flushed.borrow(), Some(ResourceVersion::new(10)));
        drop(tx);
        assert_eq!(sink.finish().await, "a\nb\n");
    }

    #[tokio::test]
    async fn a_stopped_sink_writes_nothing_more() {
        let sink = start(1, Duration::from_millis(5), false);
        sink.tx
            .send(message(0, Some("x\n"), Some(3)))
            .await
            .unwrap();
        let flushed = sink.flushed.clone();
        assert_eq!(sink.finish().await, "");
        assert_eq!(*flushed.borrow(), None);
    }
}
