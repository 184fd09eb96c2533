//! A paged list of Events (`limit` + `continue`), started again from scratch when a continue
//! token expires (`410 Gone` after about five minutes).

use serde::Deserialize;
use serde_json::Value;

use super::{Scope, SourceError, list_request};

/// Page size used by kubectl, and by us unless told otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// How many times one list may start over after expired continue tokens before giving up.
const MAX_RESTARTS: u32 = 5;

/// One page of a list.
#[derive(Debug)]
pub struct Page {
    /// The Events of this page, as the API server sent them.
    pub items: Vec<Value>,
    /// The resourceVersion of the list's snapshot (the same on every page of one pass).
    pub resource_version: String,
    /// True on the first page of a pass that started over because a continue token expired:
    /// the items of the earlier pages may come again.
    pub restarted: bool,
    /// True on the last page.
    pub last: bool,
}

/// Reads a list page by page; memory holds one page at a time.
pub struct Pager {
    client: kube::Client,
    scope: Scope,
    limit: u32,
    continue_token: Option<String>,
    restarts: u32,
    restarted: bool,
    done: bool,
}

#[derive(Deserialize)]
struct ListResponse {
    #[serde(default)]
    metadata: ListMeta,
    #[serde(default)]
    items: Vec<Value>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListMeta {
    #[serde(default)]
    resource_version: String,
    #[serde(default, rename = "continue")]
    continue_token: Option<String>,
}

impl std::fmt::Debug for Pager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager")
            .field("scope", &self.scope)
            .field("restarts", &self.restarts)
            .finish_non_exhaustive()
    }
}

impl Pager {
    /// A list of the Events in `scope`, `limit` per page (at least 1).
    pub fn new(client: kube::Client, scope: Scope, limit: u32) -> Self {
        Self {
            client,
            scope,
            limit: limit.max(1),
            continue_token: None,
            restarts: 0,
            restarted: false,
            done: false,
        }
    }

    /// The next page, or `None` after the last one. A `410 Gone` on a continue token starts the
    /// list over (at most a few times); any other error is returned and the same page can be
    /// asked for again.
    pub async fn next_page(&mut self) -> Result<Option<Page>, SourceError> {
        if self.done {
            return Ok(None);
        }
        loop {
            let request = list_request(&self.scope, self.limit, self.continue_token.as_deref())?;
            match self.client.request::<ListResponse>(request).await {
                Ok(response) => {
                    let next = response.metadata.continue_token.filter(|t| !t.is_empty());
                    let last = next.is_none();
                    self.done = last;
                    self.continue_token = next;
                    return Ok(Some(Page {
                        items: response.items,
                        resource_version: response.metadata.resource_version,
                        restarted: std::mem::take(&mut self.restarted),
                        last,
                    }));
                }
                Err(error) => {
                    let error = SourceError::from_kube(error);
                    if error.is_gone()
                        && self.continue_token.is_some()
                        && self.restarts < MAX_RESTARTS
                    {
                        tracing::warn!(
                            scope = self.scope.label(),
                            "Continue token expired, listing again"
                        );
                        self.restarts += 1;
                        self.continue_token = None;
                        self.restarted = true;
                        continue;
                    }
                    return Err(error);
                }
            }
        }
    }

    /// How many times this list started over.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }
}
