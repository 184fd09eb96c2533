//! The fixed set of classes a failed Kubernetes API request falls into: the `class` label of the
//! emitter's `eventkeeper_api_errors_total` and the word logs use. An enum, so a class that is
//! not in the set cannot be counted (it does not compile).

/// Why an API request failed, as a metric label.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// `410 Gone`: the resourceVersion or continue token is too old.
    Gone,
    /// `429 Too Many Requests`.
    Throttled,
    /// A `5xx` answer.
    Server,
    /// `401` or `403`: the credentials or RBAC.
    Forbidden,
    /// Any other `4xx` answer.
    Client,
    /// The connection could not be made or broke.
    Network,
    /// The answer was not the JSON expected.
    Decode,
    /// A watch sent nothing, not even a bookmark, for too long.
    Idle,
    /// The request could not be built.
    Request,
    /// A compare-and-swap update lost the race (`409 Conflict`).
    Conflict,
}

impl ErrorClass {
    /// Every class, in the order metrics list them.
    pub const ALL: [Self; 10] = [
        Self::Gone,
        Self::Throttled,
        Self::Server,
        Self::Forbidden,
        Self::Client,
        Self::Network,
        Self::Decode,
        Self::Idle,
        Self::Request,
        Self::Conflict,
    ];

    /// The label value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gone => "gone",
            Self::Throttled => "throttled",
            Self::Server => "server",
            Self::Forbidden => "forbidden",
            Self::Client => "client",
            Self::Network => "network",
            Self::Decode => "decode",
            Self::Idle => "idle",
            Self::Request => "request",
            Self::Conflict => "conflict",
        }
    }
}

impl std::fmt::Display for ErrorClass {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
