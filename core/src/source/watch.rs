//! A watch stream of Events from a resourceVersion, with bookmarks, read line by line.

use std::pin::Pin;
use std::time::Duration;

use futures::{AsyncBufRead, AsyncBufReadExt};
use serde::Deserialize;
use serde_json::value::RawValue;

use super::{Scope, SourceError, watch_request};
use crate::api_event::ApiEvent;

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
    Added(ApiEvent),
    /// An updated Event (a repeat: count or series changed).
    Modified(ApiEvent),
    /// An Event removed (TTL expiry); not an observation.
    Deleted(ApiEvent),
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

/// A watch line: `type` and `object`. The object is kept as raw text and decoded once its type
/// is known: an Event straight into an [`ApiEvent`], an `ERROR` as a Status.
#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(rename = "type")]
    kind: &'a str,
    #[serde(borrow)]
    object: Option<&'a RawValue>,
}

/// The object of an `ERROR` watch event.
#[derive(Default, Deserialize)]
struct Status {
    #[serde(default)]
    code: Option<u64>,
    #[serde(default)]
    reason: Option<String>,
    #[serde(default)]
    message: Option<String>,
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
    let event: RawEvent<'_> = serde_json::from_slice(line).map_err(SourceError::Decode)?;
    let object = event.object.map_or("null", RawValue::get);
    let decode = || serde_json::from_str::<ApiEvent>(object).map_err(SourceError::Decode);
    match event.kind {
        "ADDED" => Ok(WatchItem::Added(decode()?)),
        "MODIFIED" => Ok(WatchItem::Modified(decode()?)),
        "DELETED" => Ok(WatchItem::Deleted(decode()?)),
        "BOOKMARK" => Ok(WatchItem::Bookmark(decode()?.resource_version().to_owned())),
        _ => {
            // A Status that does not even read as one is still an error of the server's.
            let status: Status = serde_json::from_str(object).unwrap_or_default();
            let code = status
                .code
                .and_then(|c| u16::try_from(c).ok())
                .unwrap_or(500);
            Err(SourceError::from_status(
                code,
                status.reason.unwrap_or_default(),
                status.message.unwrap_or_default(),
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
        assert!(matches!(added, WatchItem::Added(v) if v.metadata.uid.as_deref() == Some("u")));
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
