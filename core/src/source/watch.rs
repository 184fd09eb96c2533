//! A watch stream of Events from a resourceVersion, with bookmarks, read line by line.

use std::pin::Pin;
use std::time::Duration;

use futures::{AsyncBufRead, AsyncBufReadExt};
use serde::Deserialize;
use serde_json::Value;

use super::{Scope, SourceError, watch_request};

/// How a watch is opened.
#[derive(Clone, Debug)]
pub struct WatchOptions {
    /// `timeoutSeconds` asked of the API server (it ends the stream then; we watch again).
    pub timeout_secs: u32,
    /// End the stream with [`SourceError::Idle`] when no line (event or bookmark) arrived for
    /// this long: a silent connection must not stall us forever.
    pub idle_timeout: Duration,
}

impl Default for WatchOptions {
    fn default() -> Self {
        Self {
            timeout_secs: 290,
            idle_timeout: Duration::from_secs(330),
        }
    }
}

/// One item of a watch stream.
#[derive(Debug)]
pub enum WatchItem {
    /// A new Event.
    Added(Value),
    /// An updated Event (a repeat: count or series changed).
    Modified(Value),
    /// An Event removed (TTL expiry); not an observation.
    Deleted(Value),
    /// Everything up to this resourceVersion has been sent.
    Bookmark(String),
}

/// An open watch.
pub struct WatchStream {
    body: Pin<Box<dyn AsyncBufRead + Send>>,
    line: Vec<u8>,
    idle_timeout: Duration,
}

impl std::fmt::Debug for WatchStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WatchStream").finish_non_exhaustive()
    }
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    object: Value,
}

/// Opens a watch of the Events in `scope` after resourceVersion `from` (every change with a
/// greater resourceVersion is sent).
pub async fn watch(
    client: &kube::Client,
    scope: &Scope,
    from: &str,
    options: &WatchOptions,
) -> Result<WatchStream, SourceError> {
    let request = watch_request(scope, from, options.timeout_secs)?;
    let body = client
        .request_stream(request)
        .await
        .map_err(SourceError::from_kube)?;
    Ok(WatchStream {
        body: Box::pin(body),
        line: Vec::with_capacity(4096),
        idle_timeout: options.idle_timeout,
    })
}

impl WatchStream {
    /// The next item; `None` when the server ended the stream (watch again from the last
    /// resourceVersion seen). An `ERROR` event becomes an error (`410` is
    /// [`SourceError::Gone`]: list again).
    pub async fn next(&mut self) -> Option<Result<WatchItem, SourceError>> {
        loop {
            self.line.clear();
            let read = tokio::time::timeout(
                self.idle_timeout,
                self.body.read_until(b'\n', &mut self.line),
            )
            .await;
            match read {
                Err(_) => return Some(Err(SourceError::Idle(self.idle_timeout))),
                // A broken connection ends the stream like a server timeout: resume.
                Ok(Err(error)) => {
                    tracing::debug!(%error, "Watch stream broke");
                    return None;
                }
                Ok(Ok(0)) => return None,
                Ok(Ok(_)) => {}
            }
            if self.line.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            if self.line.last() != Some(&b'\n') {
                // A cut-off last line: the connection ended mid-event; resume.
                return None;
            }
            return Some(parse_line(&self.line));
        }
    }
}

fn parse_line(line: &[u8]) -> Result<WatchItem, SourceError> {
    let event: RawEvent = serde_json::from_slice(line).map_err(SourceError::Decode)?;
    match event.kind.as_str() {
        "ADDED" => Ok(WatchItem::Added(event.object)),
        "MODIFIED" => Ok(WatchItem::Modified(event.object)),
        "DELETED" => Ok(WatchItem::Deleted(event.object)),
        "BOOKMARK" => Ok(WatchItem::Bookmark(
            event.object["metadata"]["resourceVersion"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
        )),
        _ => {
            let text = |key: &str| event.object[key].as_str().unwrap_or_default().to_owned();
            let code = event.object["code"].as_u64().unwrap_or(500);
            Err(SourceError::from_status(
                u16::try_from(code).unwrap_or(500),
                text("reason"),
                text("message"),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_become_items() {
        let added = parse_line(br#"{"type":"ADDED","object":{"metadata":{"uid":"u"}}}"#).unwrap();
        assert!(matches!(added, WatchItem::Added(v) if v["metadata"]["uid"] == "u"));
        let bookmark = parse_line(
            br#"{"type":"BOOKMARK","object":{"kind":"Event","metadata":{"resourceVersion":"77"}}}"#,
        )
        .unwrap();
        assert!(matches!(bookmark, WatchItem::Bookmark(rv) if rv == "77"));
    }

    #[test]
    fn error_events_become_errors_and_410_is_gone() {
        let gone = parse_line(
            br#"{"type":"ERROR","object":{"kind":"Status","status":"Failure","reason":"Expired","message":"too old resource version: 1 (5)","code":410}}"#,
        )
        .unwrap_err();
        assert!(gone.is_gone(), "{gone:?}");
        let other =
            parse_line(br#"{"type":"ERROR","object":{"code":500,"reason":"InternalError"}}"#)
                .unwrap_err();
        assert_eq!(other.metric_label(), crate::ErrorClass::Server);
        assert!(matches!(
            parse_line(b"not json\n"),
            Err(SourceError::Decode(_))
        ));
    }
}
