//! The Kubernetes side of the pipeline: paged lists and watch streams of core/v1 Events, as raw
//! JSON ready for [`normalise`](fn@crate::normalise).
//!
//! Generic over a [`kube::Client`], so the emitter (in-cluster, watch and relist) and the catch-up
//! (EKS token, paged list) read Events the same way, through the one [`Pager`]. No informer and
//! no store: a list is read page by page and a watch event by event.

mod list;
mod watch;

pub use list::{
    DEFAULT_PAGE_SIZE, KubePages, ListError, Page, PageSource, Pager, RawListMeta, RawPage,
};
pub use watch::{WatchItem, WatchOptions, WatchStream, watch};

use kube::core::Request;

use crate::ErrorClass;

/// Why reading from the API failed. Each variant maps to a fixed metric label
/// ([`SourceError::metric_label`]).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// The resourceVersion or continue token is too old (`410 Gone`): list again.
    #[error("resource version expired (410 Gone): {message}")]
    Gone {
        /// The API server's message.
        message: String,
    },
    /// The API server refused the request with an HTTP status (`429`, `5xx`, `403`, ...).
    #[error("API request failed with {code}: {reason}: {message}")]
    Api {
        /// HTTP status code.
        code: u16,
        /// The Status reason, e.g. `Forbidden`.
        reason: String,
        /// The API server's message.
        message: String,
    },
    /// The request could not be made or its connection broke.
    #[error("connection to the API server failed")]
    Transport(#[source] kube::Error),
    /// The response was not the JSON expected.
    #[error("cannot decode the API response")]
    Decode(#[source] serde_json::Error),
    /// The watch stream sent nothing, not even a bookmark, for longer than allowed.
    #[error("watch stream idle for {0:?}")]
    Idle(std::time::Duration),
    /// A request could not be built (a bad namespace name or resourceVersion).
    #[error("cannot build the request")]
    BuildRequest(#[source] kube::core::request::Error),
}

impl SourceError {
    /// The metric class of this failure.
    pub fn metric_label(&self) -> ErrorClass {
        match self {
            Self::Gone { .. } => ErrorClass::Gone,
            Self::Api { code: 429, .. } => ErrorClass::Throttled,
            Self::Api {
                code: 401 | 403, ..
            } => ErrorClass::Forbidden,
            Self::Api { code, .. } if *code >= 500 => ErrorClass::Server,
            Self::Api { .. } => ErrorClass::Client,
            Self::Transport(_) => ErrorClass::Network,
            Self::Decode(_) => ErrorClass::Decode,
            Self::Idle(_) => ErrorClass::Idle,
            Self::BuildRequest(_) => ErrorClass::Request,
        }
    }

    /// Whether this is a `410 Gone`.
    pub fn is_gone(&self) -> bool {
        matches!(self, Self::Gone { .. })
    }

    /// Whether the same request may succeed if tried again soon: throttling, a server error, a
    /// broken or silent connection.
    pub fn is_transient(&self) -> bool {
        match self {
            Self::Api { code, .. } => *code == 429 || *code >= 500,
            Self::Transport(_) | Self::Idle(_) => true,
            Self::Gone { .. } | Self::Decode(_) | Self::BuildRequest(_) => false,
        }
    }

    /// Whether the API server refused the request for a reason only a change of configuration
    /// fixes (401, 403, 404, 400, 422, ...), or the request could not even be built.
    pub fn is_refused(&self) -> bool {
        match self {
            Self::Api { code, .. } => (400..500).contains(code) && *code != 429,
            Self::BuildRequest(_) => true,
            Self::Gone { .. } | Self::Transport(_) | Self::Decode(_) | Self::Idle(_) => false,
        }
    }

    /// The [`metric_label`](Self::metric_label) a kube client error would get.
    pub fn label_of(error: &kube::Error) -> ErrorClass {
        match error {
            kube::Error::Api(status) => {
                Self::from_status(status.code, status.reason.clone(), String::new()).metric_label()
            }
            kube::Error::SerdeError(_) => ErrorClass::Decode,
            kube::Error::BuildRequest(_) => ErrorClass::Request,
            _ => ErrorClass::Network,
        }
    }

    pub(crate) fn from_kube(error: kube::Error) -> Self {
        match error {
            kube::Error::Api(status) => {
                Self::from_status(status.code, status.reason, status.message)
            }
            kube::Error::SerdeError(e) => Self::Decode(e),
            kube::Error::BuildRequest(e) => Self::BuildRequest(e),
            other => Self::Transport(other),
        }
    }

    pub(crate) fn from_status(code: u16, reason: String, message: String) -> Self {
        if code == 410 || reason == "Expired" || reason == "Gone" {
            Self::Gone { message }
        } else {
            Self::Api {
                code,
                reason,
                message,
            }
        }
    }
}

/// Which Events to read: all namespaces, or one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Scope {
    /// Every namespace (`/api/v1/events`); needs a ClusterRole.
    AllNamespaces,
    /// One namespace (`/api/v1/namespaces/NS/events`).
    Namespace(String),
}

impl Scope {
    /// The collection path of core/v1 Events in this scope.
    pub fn events_path(&self) -> String {
        match self {
            Self::AllNamespaces => "/api/v1/events".to_owned(),
            Self::Namespace(ns) => format!("/api/v1/namespaces/{ns}/events"),
        }
    }

    /// A short name for logs and metrics: `*` or the namespace.
    pub fn label(&self) -> &str {
        match self {
            Self::AllNamespaces => "*",
            Self::Namespace(ns) => ns,
        }
    }

    pub(crate) fn request(&self) -> Request {
        Request::new(self.events_path())
    }
}

/// The HTTP request a paged list sends (the RBAC verb `list` on `events`).
pub fn list_request(
    scope: &Scope,
    limit: u32,
    continue_token: Option<&str>,
) -> Result<http::Request<Vec<u8>>, SourceError> {
    let mut params = kube::api::ListParams::default().limit(limit);
    if let Some(token) = continue_token {
        params = params.continue_token(token);
    }
    scope
        .request()
        .list(&params)
        .map_err(SourceError::BuildRequest)
}

/// The HTTP request a watch sends (the RBAC verb `watch` on `events`), with bookmarks.
pub fn watch_request(
    scope: &Scope,
    from: &str,
    timeout_secs: u32,
) -> Result<http::Request<Vec<u8>>, SourceError> {
    let params = kube::api::WatchParams::default().timeout(timeout_secs);
    scope
        .request()
        .watch(&params, from)
        .map_err(SourceError::BuildRequest)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_have_the_paths_and_parameters_of_kubectl() {
        let list = list_request(&Scope::AllNamespaces, 500, Some("tok")).unwrap();
        assert_eq!(list.method(), http::Method::GET);
        assert_eq!(list.uri().path(), "/api/v1/events");
        let query = list.uri().query().unwrap();
        assert!(
            query.contains("limit=500") && query.contains("continue=tok"),
            "{query}"
        );
        // Continue tokens are base64 JSON: `+`, `/` and `=` are encoded by kube's builder.
        let encoded = list_request(&Scope::AllNamespaces, 2, Some("eyJ2Ijoi+/=")).unwrap();
        let query = encoded.uri().query().unwrap();
        assert!(query.contains("continue=eyJ2Ijoi%2B%2F%3D"), "{query}");

        let watch = watch_request(&Scope::Namespace("ns1".into()), "42", 290).unwrap();
        assert_eq!(watch.uri().path(), "/api/v1/namespaces/ns1/events");
        let query = watch.uri().query().unwrap();
        for part in [
            "watch=true",
            "resourceVersion=42",
            "allowWatchBookmarks=true",
            "timeoutSeconds=290",
        ] {
            assert!(query.contains(part), "{query} lacks {part}");
        }
    }

    #[test]
    fn errors_map_to_fixed_labels() {
        let status =
            |code: u16, reason: &str| SourceError::from_status(code, reason.into(), "m".into());
        assert_eq!(status(410, "Gone").metric_label(), ErrorClass::Gone);
        assert!(status(500, "Expired").is_gone());
        assert_eq!(
            status(429, "TooManyRequests").metric_label(),
            ErrorClass::Throttled
        );
        assert_eq!(
            status(503, "ServiceUnavailable").metric_label(),
            ErrorClass::Server
        );
        assert_eq!(
            status(403, "Forbidden").metric_label(),
            ErrorClass::Forbidden
        );
        assert_eq!(status(404, "NotFound").metric_label(), ErrorClass::Client);
        assert!(status(429, "TooManyRequests").is_transient());
        assert!(status(503, "ServiceUnavailable").is_transient());
        assert!(!status(403, "Forbidden").is_transient());
        assert!(status(403, "Forbidden").is_refused());
        assert!(status(422, "Invalid").is_refused());
        assert!(!status(429, "TooManyRequests").is_refused());
        assert!(!status(410, "Expired").is_refused() && !status(410, "Expired").is_transient());
    }
}
