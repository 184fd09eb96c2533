//! Faults injected on demand: closing watches after N events, 410 on the next watch, 429 with
//! Retry-After, 500, added latency, and a pause that stalls the API.
//!
//! They apply to resource requests (events, leases); discovery, `/version` and the admin API are
//! never faulted, so clients can always start and tests can always steer.

use crate::status::ApiError;
use parking_lot::Mutex;
use serde::{Deserialize, Serialize};
use std::time::Duration;
use tokio::sync::watch;

/// A request to change faults; every field given replaces that setting, absent fields stay.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FaultRequest {
    /// Every watch ends after sending this many events (0 = never).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub close_watches_after: Option<u64>,
    /// The next watch request gets a 410 `Expired` ERROR event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gone_next_watch: Option<bool>,
    /// The next `count` requests get 429 with `Retry-After: retryAfterSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttle: Option<Throttle>,
    /// The next N requests get 500.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_errors: Option<u32>,
    /// Every request waits this long before it is answered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<u64>,
    /// While true, requests wait and watch streams send nothing (not even bookmarks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub paused: Option<bool>,
    /// While true, creating, replacing, patching or deleting an Event is refused with 403, as
    /// when RBAC grants only list and watch; reads and Lease writes go on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forbid_event_writes: Option<bool>,
}

/// 429 settings.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Throttle {
    /// How many requests are refused.
    pub count: u32,
    /// The Retry-After value.
    #[serde(default = "one")]
    pub retry_after_seconds: u32,
}

fn one() -> u32 {
    1
}

/// The current fault settings, as `/_sim/faults` reports them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FaultState {
    /// Watches end after this many events (0 = never).
    pub close_watches_after: u64,
    /// The next watch gets 410.
    pub gone_next_watch: bool,
    /// Requests still to be refused with 429.
    pub throttle_remaining: u32,
    /// Retry-After of those 429s.
    pub retry_after_seconds: u32,
    /// Requests still to be answered with 500.
    pub server_errors_remaining: u32,
    /// Added latency per request.
    pub latency_ms: u64,
    /// The API is stalled.
    pub paused: bool,
    /// Event writes get 403.
    pub forbid_event_writes: bool,
}

/// Fault settings shared by every request.
#[derive(Debug)]
pub struct Faults {
    state: Mutex<FaultState>,
    paused: watch::Sender<bool>,
}

impl Default for Faults {
    fn default() -> Self {
        Self::new()
    }
}

impl Faults {
    /// No faults.
    pub fn new() -> Self {
        let (paused, _) = watch::channel(false);
        Self {
            state: Mutex::new(FaultState::default()),
            paused,
        }
    }

    /// Applies a change and returns the new settings.
    pub fn apply(&self, req: &FaultRequest) -> FaultState {
        let mut st = self.state.lock();
        if let Some(n) = req.close_watches_after {
            st.close_watches_after = n;
        }
        if let Some(b) = req.gone_next_watch {
            st.gone_next_watch = b;
        }
        if let Some(t) = req.throttle {
            st.throttle_remaining = t.count;
            st.retry_after_seconds = t.retry_after_seconds;
        }
        if let Some(n) = req.server_errors {
            st.server_errors_remaining = n;
        }
        if let Some(ms) = req.latency_ms {
            st.latency_ms = ms;
        }
        if let Some(f) = req.forbid_event_writes {
            st.forbid_event_writes = f;
        }
        if let Some(p) = req.paused {
            st.paused = p;
            self.paused.send_replace(p);
        }
        st.clone()
    }

    /// The current settings.
    pub fn state(&self) -> FaultState {
        self.state.lock().clone()
    }

    /// Watches close after this many events (None = never).
    pub fn close_watches_after(&self) -> Option<u64> {
        let n = self.state.lock().close_watches_after;
        (n > 0).then_some(n)
    }

    /// True once: the caller (a new watch) must answer 410.
    pub fn take_gone_next_watch(&self) -> bool {
        std::mem::take(&mut self.state.lock().gone_next_watch)
    }

    /// Are Event writes refused now?
    pub fn forbids_event_writes(&self) -> bool {
        self.state.lock().forbid_event_writes
    }

    /// Is the API paused now?
    pub fn is_paused(&self) -> bool {
        *self.paused.borrow()
    }

    /// Waits until the API is not paused.
    pub async fn wait_unpaused(&self) {
        let mut rx = self.paused.subscribe();
        // An error means the sender is gone, which cannot happen while `self` lives.
        let _ = rx.wait_for(|p| !*p).await;
    }

    /// Runs the per-request faults in order: latency, pause, 429, 500.
    pub async fn gate(&self) -> Result<(), ApiError> {
        let latency = self.state.lock().latency_ms;
        if latency > 0 {
            tokio::time::sleep(Duration::from_millis(latency)).await;
        }
        self.wait_unpaused().await;
        let mut st = self.state.lock();
        if st.throttle_remaining > 0 {
            st.throttle_remaining -= 1;
            return Err(ApiError::too_many_requests(st.retry_after_seconds));
        }
        if st.server_errors_remaining > 0 {
            st.server_errors_remaining -= 1;
            return Err(ApiError::internal("injected fault"));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn throttle_then_errors_then_success() {
        let f = Faults::new();
        f.apply(&FaultRequest {
            throttle: Some(Throttle {
                count: 1,
                retry_after_seconds: 7,
            }),
            server_errors: Some(1),
            ..FaultRequest::default()
        });
        let e = f.gate().await.unwrap_err();
        assert_eq!((e.code, e.retry_after), (429, Some(7)));
        assert_eq!(f.gate().await.unwrap_err().code, 500);
        assert!(f.gate().await.is_ok());
    }

    #[test]
    fn gone_next_watch_is_one_shot() {
        let f = Faults::new();
        f.apply(&FaultRequest {
            gone_next_watch: Some(true),
            ..FaultRequest::default()
        });
        assert!(f.take_gone_next_watch());
        assert!(!f.take_gone_next_watch());
    }

    #[test]
    fn event_writes_are_forbidden_until_allowed_again() {
        let f = Faults::new();
        assert!(!f.forbids_event_writes());
        f.apply(&FaultRequest {
            forbid_event_writes: Some(true),
            ..FaultRequest::default()
        });
        assert!(f.forbids_event_writes());
        f.apply(&FaultRequest::default());
        assert!(f.forbids_event_writes(), "absent fields stay");
        f.apply(&FaultRequest {
            forbid_event_writes: Some(false),
            ..FaultRequest::default()
        });
        assert!(!f.forbids_event_writes());
    }

    #[test]
    fn unknown_fault_fields_are_rejected() {
        assert!(serde_json::from_str::<FaultRequest>(r#"{"closeWatchesAfter":3}"#).is_ok());
        assert!(serde_json::from_str::<FaultRequest>(r#"{"closeWatches":3}"#).is_err());
    }
}
