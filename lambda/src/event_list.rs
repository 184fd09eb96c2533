//! Paged list of core/v1 Events (`GET /api/v1/events?limit=N&continue=...`), page by page, so
//! memory is bounded by a page and not by the cluster.
//!
//! A continue token expires after about five minutes (`410 Gone`, `ResourceExpired`). The
//! server's 410 may carry a fresh token to go on from (an inconsistent continuation); otherwise
//! the list starts over and skips the events it has already delivered (lists come in key order,
//! namespace then name). Throttling and 5xx are retried with backoff.

use std::time::Duration;

use kube::Client;
use serde_json::Value;

/// Events per page, as kubectl uses.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

const MAX_ATTEMPTS: u32 = 6;
const MAX_RESTARTS: u32 = 5;

/// Why the list could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The API server kept failing (throttling, 5xx, network) after retries.
    #[error("listing events failed after {attempts} attempts")]
    ListFailed {
        /// Attempts made for the failing page.
        attempts: u32,
        /// The last error.
        #[source]
        source: kube::Error,
    },
    /// The API server refused the request (401, 403, ...): configuration must change.
    #[error("the API server refused to list events")]
    Refused(#[source] kube::Error),
    /// Continue tokens kept expiring.
    #[error("the list had to restart {0} times (continue tokens expiring)")]
    TooManyRestarts(u32),
    /// The answer was not an event list.
    #[error("the API server returned something other than an event list: {0}")]
    NotAList(String),
}

impl ListError {
    /// Whether a later run can succeed without a change of configuration.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, ListError::Refused(_))
    }
}

/// What the list saw.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ListStats {
    /// Events delivered.
    pub events: u64,
    /// Pages fetched.
    pub pages: u64,
    /// Times the list resumed after an expired continue token.
    pub restarts: u32,
}

/// Lists every event, calling `on_page` with each page's items in order.
pub async fn list_events(
    client: &Client,
    page_size: u32,
    mut on_page: impl FnMut(Vec<Value>),
) -> Result<ListStats, ListError> {
    let mut stats = ListStats::default();
    let mut token: Option<String> = None;
    // After a restart from scratch: skip items up to and including this (namespace, name).
    let mut skip_through: Option<(String, String)> = None;
    let mut last_key: Option<(String, String)> = None;
    loop {
        let page = match fetch_page(client, page_size, token.as_deref()).await {
            Ok(page) => page,
            Err(PageError::Expired { fresh_token }) => {
                stats.restarts += 1;
                if stats.restarts > MAX_RESTARTS {
                    return Err(ListError::TooManyRestarts(stats.restarts));
                }
                tracing::warn!(
                    restarts = stats.restarts,
                    "Continue token expired; resuming list"
                );
                match fresh_token {
                    Some(fresh) => token = Some(fresh),
                    None => {
                        token = None;
                        skip_through = last_key.clone();
                    }
                }
                continue;
            }
            Err(PageError::List(error)) => return Err(error),
        };
        stats.pages += 1;
        let mut items = page.items;
        if let Some(through) = &skip_through {
            items.retain(|item| key_of(item) > *through);
            if !items.is_empty() {
                skip_through = None;
            }
        }
        if let Some(last) = items.last() {
            last_key = Some(key_of(last));
        }
        stats.events += items.len() as u64;
        on_page(items);
        match page.continue_token {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(stats),
        }
    }
}

struct Page {
    items: Vec<Value>,
    continue_token: Option<String>,
}

enum PageError {
    Expired { fresh_token: Option<String> },
    List(ListError),
}

async fn fetch_page(client: &Client, limit: u32, token: Option<&str>) -> Result<Page, PageError> {
    let mut query = form_query(limit, token);
    query.insert(0, '?');
    let mut attempt = 0;
    loop {
        attempt += 1;
        let request = http::Request::get(format!("/api/v1/events{query}"))
            .body(Vec::new())
            .expect("a valid request");
        match client.request::<Value>(request).await {
            Ok(mut list) => {
                let items = match list.get_mut("items").map(Value::take) {
                    Some(Value::Array(items)) => items,
                    Some(Value::Null) | None => Vec::new(),
                    Some(other) => {
                        return Err(PageError::List(ListError::NotAList(format!(
                            "items is {other}"
                        ))));
                    }
                };
                let continue_token = list["metadata"]["continue"].as_str().map(str::to_owned);
                return Ok(Page {
                    items,
                    continue_token,
                });
            }
            Err(kube::Error::Api(status)) if status.code == 410 => {
                let fresh_token = status
                    .metadata
                    .as_ref()
                    .and_then(|m| m.continue_.clone())
                    .filter(|t| !t.is_empty());
                return Err(PageError::Expired { fresh_token });
            }
            Err(kube::Error::Api(status))
                if matches!(status.code, 400..=499) && status.code != 429 =>
            {
                return Err(PageError::List(ListError::Refused(kube::Error::Api(
                    status,
                ))));
            }
            Err(error) if attempt >= MAX_ATTEMPTS => {
                return Err(PageError::List(ListError::ListFailed {
                    attempts: attempt,
                    source: error,
                }));
            }
            Err(error) => {
                let pause = Duration::from_millis(200 * 2u64.pow(attempt - 1));
                tracing::warn!(attempt, ?pause, error = %error, "Listing events failed; retrying");
                tokio::time::sleep(pause).await;
            }
        }
    }
}

fn form_query(limit: u32, token: Option<&str>) -> String {
    let mut query = format!("limit={limit}");
    if let Some(token) = token {
        query.push_str("&continue=");
        query.push_str(&percent_encode(token));
    }
    query
}

/// Continue tokens are base64 and may hold `+`, `/` and `=`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn key_of(item: &Value) -> (String, String) {
    let meta = &item["metadata"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (text(&meta["namespace"]), text(&meta["name"]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_tokens_are_encoded() {
        assert_eq!(form_query(500, None), "limit=500");
        assert_eq!(
            form_query(2, Some("eyJ2Ijoi+/=")),
            "limit=2&continue=eyJ2Ijoi%2B%2F%3D"
        );
    }
}
