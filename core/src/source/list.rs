//! A paged list of Events (`limit` + `continue`) that always ends as one consistent snapshot,
//! shared by the emitter (relist after `410 Gone`) and the catch-up (every run).
//!
//! # Expired continue tokens
//!
//! Events are served from etcd, not from a watch cache. A continue token names the snapshot
//! (the list's resourceVersion) and the key to go on from; once etcd compacts that revision
//! (every five minutes by default) the next page is refused with `410 Expired`. kube-apiserver
//! then offers a fresh *inconsistent* continue token: the pages after it come from a newer
//! snapshot, so an update made during the list to a key already passed would never be seen, and
//! a checkpoint moved to the highest resourceVersion listed would skip it for good.
//!
//! So the inconsistent token is never used. The list starts over without a token, which gives a
//! new consistent snapshot, and does not hand over again what it already handed over in this
//! run. A continue token means "the keys after this one", so a pass that ended early covered
//! every key up to the last one it delivered, each at the version it had at that pass's
//! snapshot. An item of a later pass whose key is at or before that last key and whose
//! resourceVersion is at or below that snapshot is that same version of that same object:
//! dropping it loses nothing. Every other item is delivered (changed or created after the
//! snapshot, or past where the pass stopped). Memory is one key and one revision per pass, not
//! one entry per Event: a relist of a million Events costs nothing extra. When the last pass
//! ends, every object live at its snapshot has been delivered at the version it had then, and
//! nothing delivered is newer than that snapshot ([`Pager::snapshot`]): a checkpoint at the
//! highest resourceVersion delivered skips nothing a later list could show.
//!
//! Keys compare as etcd compares them, byte by byte (`namespace/name`, where `kube-public/x`
//! comes before `kube/x`). A pass whose items did not arrive in that order proves nothing and
//! covers nothing (its items are delivered again after a restart: duplicates, never a loss); so
//! is an item without a name or with a resourceVersion that is not an integer.
//!
//! # Retries
//!
//! Throttling, 5xx and broken connections are retried with [`RetryPolicy::REQUEST`];
//! a refusal (401, 403, 404, 400, 422: configuration must change) is returned at once as
//! [`ListError::Refused`].

use std::future::Future;
use std::time::Duration;

use serde::Deserialize;

use super::{Scope, SourceError, list_request};
use crate::api_event::ApiEvent;
use crate::backoff::RetryPolicy;
use crate::error_class::ErrorClass;
use crate::resource_version::ResourceVersion;

/// Page size used by kubectl, and by us unless told otherwise.
pub const DEFAULT_PAGE_SIZE: u32 = 500;

/// How many times one list may start over after expired continue tokens before giving up.
const MAX_RESTARTS: u32 = 5;

/// Why a list could not be completed.
#[derive(Debug, thiserror::Error)]
pub enum ListError {
    /// The API server refused the request (401, 403, 404, 400, 422): configuration must change.
    #[error("the API server refused to list events")]
    Refused(#[source] SourceError),
    /// Throttling, server errors or the network kept failing through the retries.
    #[error("listing events failed after {attempts} attempts")]
    Failed {
        /// Attempts made for the failing page.
        attempts: u32,
        /// The last error.
        #[source]
        source: SourceError,
    },
    /// Continue tokens kept expiring: each pass took longer than etcd keeps a snapshot.
    #[error("the list started over {0} times (continue tokens expiring)")]
    TooManyRestarts(u32),
}

impl ListError {
    /// Whether a later attempt can succeed without a change of configuration.
    pub fn is_retryable(&self) -> bool {
        !matches!(self, Self::Refused(_))
    }

    /// A label from [`SourceError::metric_label`]'s fixed set.
    pub fn metric_label(&self) -> ErrorClass {
        match self {
            Self::Refused(source) | Self::Failed { source, .. } => source.metric_label(),
            Self::TooManyRestarts(_) => ErrorClass::Gone,
        }
    }
}

/// One answer of the API server to a list request, its items decoded straight from the body.
#[derive(Debug, Default, Deserialize)]
pub struct RawPage {
    /// The items.
    #[serde(default)]
    pub items: Vec<ApiEvent>,
    /// `metadata`: the snapshot's resourceVersion and the continue token.
    #[serde(default)]
    pub metadata: RawListMeta,
}

/// `metadata` of a list answer.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RawListMeta {
    /// The resourceVersion of the snapshot this page comes from.
    #[serde(default)]
    pub resource_version: String,
    /// The token for the next page; absent or empty on the last page.
    #[serde(default, rename = "continue")]
    pub continue_token: Option<String>,
}

/// Where pages come from: the API server ([`KubePages`]), or a fake in tests.
pub trait PageSource {
    /// One page of at most `limit` items, from the start or after `continue_token`.
    fn page(
        &self,
        limit: u32,
        continue_token: Option<&str>,
    ) -> impl Future<Output = Result<RawPage, SourceError>> + Send;
}

/// The Events of one scope on the API server.
#[derive(Clone)]
pub struct KubePages {
    client: kube::Client,
    scope: Scope,
}

impl KubePages {
    /// Pages of the Events in `scope`.
    pub fn new(client: kube::Client, scope: Scope) -> Self {
        Self { client, scope }
    }
}

impl PageSource for KubePages {
    async fn page(&self, limit: u32, continue_token: Option<&str>) -> Result<RawPage, SourceError> {
        let request = list_request(&self.scope, limit, continue_token)?;
        self.client
            .request::<RawPage>(request)
            .await
            .map_err(SourceError::from_kube)
    }
}

/// One page of a list.
#[derive(Debug)]
pub struct Page {
    /// The Events of this page not yet delivered in this run.
    pub items: Vec<ApiEvent>,
    /// The resourceVersion of the list's snapshot (the same on every page of one pass).
    pub resource_version: String,
    /// True on the first page of a pass that started over because a continue token expired.
    pub restarted: bool,
    /// True on the last page.
    pub last: bool,
}

/// Reads a list page by page; memory holds one page, and one key per pass.
pub struct Pager<S = KubePages> {
    source: S,
    limit: u32,
    retry: RetryPolicy,
    continue_token: Option<String>,
    restarts: u32,
    restarted: bool,
    done: bool,
    delivered: Delivered,
    remember: bool,
    snapshot: Option<ResourceVersion>,
}

impl<S> std::fmt::Debug for Pager<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pager")
            .field("limit", &self.limit)
            .field("restarts", &self.restarts)
            .finish_non_exhaustive()
    }
}

impl Pager<KubePages> {
    /// A list of the Events in `scope` on the API server, `limit` per page (at least 1).
    pub fn new(client: kube::Client, scope: Scope, limit: u32) -> Self {
        Self::from_source(KubePages::new(client, scope), limit)
    }
}

impl<S: PageSource> Pager<S> {
    /// A list read from `source`, `limit` per page (at least 1).
    pub fn from_source(source: S, limit: u32) -> Self {
        Self {
            source,
            limit: limit.max(1),
            retry: RetryPolicy::REQUEST,
            continue_token: None,
            restarts: 0,
            restarted: false,
            done: false,
            delivered: Delivered::default(),
            remember: true,
            snapshot: None,
        }
    }

    /// Does not remember what was delivered, so memory stays one page whatever the list's size.
    /// After an expired continue token the new pass is then delivered whole: the consumer drops
    /// what it already has itself, from the first page marked [`Page::restarted`] on.
    pub fn forgetting_delivered(mut self) -> Self {
        self.remember = false;
        self
    }

    /// Retries failed pages with `retry` instead of [`RetryPolicy::REQUEST`].
    pub fn with_retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The next page, or `None` after the last one. An expired continue token starts the list
    /// over (see the module documentation); transient errors are retried.
    pub async fn next_page(&mut self) -> Result<Option<Page>, ListError> {
        if self.done {
            return Ok(None);
        }
        loop {
            let token = self.continue_token.clone();
            let mut attempts = 0u32;
            // Boxed: callers' futures (a Lambda handler around a run around a list) would
            // otherwise nest past the compiler's layout depth.
            let fetched = Box::pin(self.retry.retry(
                || {
                    attempts += 1;
                    self.source.page(self.limit, token.as_deref())
                },
                SourceError::is_transient,
                |error: &SourceError, pause: Duration| {
                    tracing::warn!(%error, ?pause, "Listing events failed; retrying");
                },
            ))
            .await;
            let raw = match fetched {
                Ok(raw) => raw,
                Err(error) if error.is_gone() && token.is_some() => {
                    self.restart()?;
                    continue;
                }
                Err(error) if error.is_refused() => return Err(ListError::Refused(error)),
                Err(source) => return Err(ListError::Failed { attempts, source }),
            };
            let next = raw.metadata.continue_token.filter(|t| !t.is_empty());
            let last = next.is_none();
            let mut items = raw.items;
            if self.remember {
                self.delivered
                    .page(&raw.metadata.resource_version, &mut items);
            }
            self.done = last;
            self.continue_token = next;
            if last {
                self.snapshot = ResourceVersion::parse(&raw.metadata.resource_version);
            }
            return Ok(Some(Page {
                items,
                resource_version: raw.metadata.resource_version,
                restarted: std::mem::take(&mut self.restarted),
                last,
            }));
        }
    }

    fn restart(&mut self) -> Result<(), ListError> {
        self.restarts += 1;
        if self.restarts > MAX_RESTARTS {
            return Err(ListError::TooManyRestarts(self.restarts));
        }
        tracing::warn!(
            restarts = self.restarts,
            passes = self.delivered.passes_ended() + 1,
            "Continue token expired, listing again from a new snapshot; what was delivered is not delivered again"
        );
        self.continue_token = None;
        self.restarted = true;
        self.delivered.pass_ended();
        Ok(())
    }

    /// How many times this list started over after an expired continue token.
    pub fn restarts(&self) -> u32 {
        self.restarts
    }

    /// After the last page: the resourceVersion of the snapshot the list is consistent with.
    /// Everything delivered is at or below it, and every object live at it was delivered.
    /// `None` before the last page, or when the server's resourceVersion is not an integer.
    pub fn snapshot(&self) -> Option<ResourceVersion> {
        self.snapshot
    }
}

/// What the passes of this run delivered, one key and one revision per pass.
#[derive(Debug, Default)]
struct Delivered {
    /// Passes that ended early, each covering every key up to its last at its snapshot.
    ended: Vec<Covered>,
    /// The pass being read.
    current: Option<Covered>,
}

/// Every key up to `last_key`, at the versions they had at `snapshot`; `None` when the pass's
/// items were out of key order (or had no revision), so it proves nothing.
#[derive(Debug)]
struct Covered {
    snapshot: Option<ResourceVersion>,
    last_key: String,
}

impl Delivered {
    /// Takes the items of one page of the pass being read: drops those an earlier pass
    /// delivered at the same version, and extends this pass's coverage.
    fn page(&mut self, resource_version: &str, items: &mut Vec<ApiEvent>) {
        let snapshot = ResourceVersion::parse(resource_version);
        for key in items.iter().filter_map(etcd_key) {
            match &mut self.current {
                Some(pass) if pass.last_key.as_str() <= key.as_str() => pass.last_key = key,
                // Out of etcd key order: this pass proves nothing.
                Some(pass) => pass.snapshot = None,
                None => {
                    self.current = Some(Covered {
                        snapshot,
                        last_key: key,
                    })
                }
            }
        }
        if let Some(pass) = &mut self.current
            && pass.snapshot != snapshot
        {
            pass.snapshot = None;
        }
        if !self.ended.is_empty() {
            items.retain(|item| !self.delivered_before(item));
        }
    }

    /// The pass being read ended early (its continue token expired).
    fn pass_ended(&mut self) {
        self.ended.extend(self.current.take());
    }

    /// Whether an earlier pass delivered this version of this object. Items that cannot be
    /// placed (no name, no integer resourceVersion) never were.
    fn delivered_before(&self, item: &ApiEvent) -> bool {
        let (Some(key), Some(rv)) = (
            etcd_key(item),
            ResourceVersion::parse(item.resource_version()),
        ) else {
            return false;
        };
        self.ended.iter().any(|pass| {
            pass.snapshot.is_some_and(|snapshot| rv <= snapshot) && key <= pass.last_key
        })
    }

    fn passes_ended(&self) -> usize {
        self.ended.len()
    }
}

/// `namespace/name`, which orders as etcd orders its keys; `None` without a name.
fn etcd_key(item: &ApiEvent) -> Option<String> {
    let name = Some(item.name()).filter(|n| !n.is_empty())?;
    Some(format!("{}/{name}", item.namespace()))
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashMap, HashSet};
    use std::sync::Mutex;

    use serde_json::json;

    use super::*;

    /// A little etcd behind a list endpoint: every write gets the next revision, a list reads the
    /// snapshot at one revision in key byte order, and a continue token of a compacted revision
    /// is refused with 410 (after which kube-apiserver would offer an inconsistent token).
    #[derive(Default)]
    struct FakeEtcd {
        state: Mutex<EtcdState>,
    }

    /// Writes made while the list runs.
    type Change = Box<dyn FnOnce(&mut EtcdState) + Send>;

    #[derive(Default)]
    struct EtcdState {
        revision: u64,
        /// key → every (revision, uid) written to it.
        history: BTreeMap<String, Vec<(u64, String)>>,
        compacted: u64,
        requests: usize,
        /// Called before the request with this number is answered.
        before: HashMap<usize, Change>,
        failures: Vec<SourceError>,
    }

    impl EtcdState {
        fn write(&mut self, key: &str) -> u64 {
            self.revision += 1;
            let uid = format!("uid-{key}");
            self.history
                .entry(key.to_owned())
                .or_default()
                .push((self.revision, uid));
            self.revision
        }

        fn compact(&mut self) {
            self.compacted = self.revision;
        }

        /// Every (key, revision) live at `at`, in key byte order.
        fn snapshot(&self, at: u64) -> Vec<(String, u64, String)> {
            self.history
                .iter()
                .filter_map(|(key, versions)| {
                    let (rv, uid) = versions.iter().rev().find(|(rv, _)| *rv <= at)?;
                    Some((key.clone(), *rv, uid.clone()))
                })
                .collect()
        }
    }

    impl FakeEtcd {
        fn with_keys(keys: &[&str]) -> Self {
            let fake = Self::default();
            for key in keys {
                fake.state.lock().unwrap().write(key);
            }
            fake
        }

        fn before_request(&self, n: usize, change: impl FnOnce(&mut EtcdState) + Send + 'static) {
            self.state
                .lock()
                .unwrap()
                .before
                .insert(n, Box::new(change));
        }
    }

    impl PageSource for FakeEtcd {
        async fn page(&self, limit: u32, token: Option<&str>) -> Result<RawPage, SourceError> {
            let mut state = self.state.lock().unwrap();
            state.requests += 1;
            let n = state.requests;
            if let Some(change) = state.before.remove(&n) {
                change(&mut state);
            }
            if !state.failures.is_empty() {
                return Err(state.failures.remove(0));
            }
            let (at, after) = match token {
                None => (state.revision, None),
                Some(token) => {
                    let (rv, key) = token.split_once('|').expect("our token");
                    (rv.parse::<u64>().unwrap(), Some(key.to_owned()))
                }
            };
            if at < state.compacted {
                return Err(SourceError::from_status(
                    410,
                    "Expired".into(),
                    "The provided continue parameter is too old".into(),
                ));
            }
            let rest: Vec<_> = state
                .snapshot(at)
                .into_iter()
                .filter(|(key, _, _)| after.as_ref().is_none_or(|a| key > a))
                .collect();
            let page: Vec<_> = rest.iter().take(limit as usize).cloned().collect();
            let continue_token = (rest.len() > page.len())
                .then(|| format!("{at}|{}", page.last().expect("a page").0));
            let items = page
                .into_iter()
                .map(|(key, rv, uid)| {
                    let (namespace, name) = key.split_once('/').unwrap();
                    ApiEvent::from(json!({"metadata": {"namespace": namespace, "name": name,
                                        "uid": uid, "resourceVersion": rv.to_string()}}))
                })
                .collect();
            Ok(RawPage {
                items,
                metadata: RawListMeta {
                    resource_version: at.to_string(),
                    continue_token,
                },
            })
        }
    }

    fn key_and_rv(item: &ApiEvent) -> (String, u64) {
        (
            format!("{}/{}", item.namespace(), item.name()),
            item.resource_version().parse().unwrap(),
        )
    }

    async fn read_all<S: PageSource>(
        pager: &mut Pager<S>,
    ) -> Result<Vec<(String, u64)>, ListError> {
        let mut delivered = Vec::new();
        while let Some(page) = pager.next_page().await? {
            delivered.extend(page.items.iter().map(key_and_rv));
        }
        Ok(delivered)
    }

    const KEYS: [&str; 12] = [
        "kube/a",
        "kube/b",
        "kube/c",
        "kube-system/a",
        "kube-system/b",
        "kube-system/c",
        "kube-public/a",
        "kube-public/b",
        "kube-public/c",
        "kubea/a",
        "kubea/b",
        "kubea/c",
    ];

    #[tokio::test]
    async fn the_fake_serves_etcd_byte_order() {
        let fake = FakeEtcd::with_keys(&KEYS);
        let mut pager = Pager::from_source(fake, 5);
        let keys: Vec<String> = read_all(&mut pager)
            .await
            .unwrap()
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert_eq!(
            keys.iter()
                .map(|k| k.split('/').next().unwrap())
                .collect::<Vec<_>>(),
            [
                "kube-public",
                "kube-public",
                "kube-public",
                "kube-system",
                "kube-system",
                "kube-system",
                "kube",
                "kube",
                "kube",
                "kubea",
                "kubea",
                "kubea"
            ]
        );
        assert_eq!(pager.snapshot(), Some(ResourceVersion::new(12)));
        assert_eq!(pager.restarts(), 0);
    }

    /// The continue token expires after two pages (kube-public/a..c and kube-system/a passed)
    /// while keys before and after the position are updated: every version live at the final
    /// snapshot is delivered, nothing twice, nothing above the snapshot.
    #[tokio::test]
    async fn an_expired_continue_token_loses_and_repeats_nothing() {
        let fake = FakeEtcd::with_keys(&KEYS);
        // Before the third request: updates behind and ahead of the position, a new key behind
        // it, then compaction: the token of the first snapshot expires.
        fake.before_request(3, |etcd| {
            etcd.write("kube-public/a");
            etcd.write("kube-public/0");
            etcd.write("kube-system/a");
            etcd.write("kube/b");
            etcd.write("kubea/c");
            etcd.compact();
        });
        // During the second pass, an update behind its position: the next list's business.
        let late = std::sync::Arc::new(Mutex::new(0));
        let late_rv = late.clone();
        fake.before_request(6, move |etcd| {
            *late_rv.lock().unwrap() = etcd.write("kube-public/b");
        });
        let mut pager = Pager::from_source(fake, 2);
        let delivered = read_all(&mut pager).await.unwrap();

        assert_eq!(pager.restarts(), 1);
        let snapshot = pager.snapshot().expect("a snapshot").get();
        assert_eq!(snapshot, 17, "the second pass's snapshot");
        let state = pager.source.state.lock().unwrap();
        for live in state.snapshot(snapshot) {
            assert!(
                delivered.contains(&(live.0.clone(), live.1)),
                "{live:?} was live at the snapshot but not delivered: {delivered:?}"
            );
        }
        let unique: HashSet<_> = delivered.iter().collect();
        assert_eq!(
            unique.len(),
            delivered.len(),
            "delivered twice: {delivered:?}"
        );
        // The versions of the first pages that were superseded were delivered once, in the
        // first pass; the update behind the position, made during the second pass, is above the
        // snapshot, so a checkpoint at the highest delivered version does not skip it.
        assert!(delivered.contains(&("kube-public/a".into(), 7)));
        assert!(delivered.contains(&("kube-public/a".into(), 13)));
        let highest = delivered.iter().map(|(_, rv)| *rv).max().unwrap();
        assert!(highest <= snapshot);
        assert!(*late.lock().unwrap() > highest);
    }

    #[tokio::test]
    async fn continue_tokens_that_keep_expiring_end_the_list() {
        let fake = FakeEtcd::with_keys(&KEYS);
        for n in 1..=20 {
            fake.before_request(n * 2, |etcd| {
                etcd.write("kube/a");
                etcd.compact();
            });
        }
        let mut pager = Pager::from_source(fake, 5);
        let error = read_all(&mut pager).await.unwrap_err();
        assert!(matches!(error, ListError::TooManyRestarts(6)), "{error}");
        assert!(error.is_retryable());
        assert_eq!(error.metric_label(), ErrorClass::Gone);
    }

    #[tokio::test]
    async fn transient_errors_are_retried_and_refusals_are_not() {
        let quick = RetryPolicy::REQUEST.with_first_delay(Duration::from_millis(1));
        let status =
            |code: u16, reason: &str| SourceError::from_status(code, reason.into(), "m".into());

        let fake = FakeEtcd::with_keys(&KEYS);
        fake.state.lock().unwrap().failures = vec![
            status(503, "ServiceUnavailable"),
            status(429, "TooManyRequests"),
        ];
        let mut pager = Pager::from_source(fake, 100).with_retry(quick);
        assert_eq!(read_all(&mut pager).await.unwrap().len(), 12);
        assert_eq!(pager.source.state.lock().unwrap().requests, 3);

        let fake = FakeEtcd::with_keys(&KEYS);
        fake.state.lock().unwrap().failures = vec![status(403, "Forbidden")];
        let mut pager = Pager::from_source(fake, 100).with_retry(quick);
        let error = read_all(&mut pager).await.unwrap_err();
        assert!(matches!(error, ListError::Refused(_)), "{error}");
        assert!(!error.is_retryable());
        assert_eq!(error.metric_label(), ErrorClass::Forbidden);
        assert_eq!(pager.source.state.lock().unwrap().requests, 1);

        let fake = FakeEtcd::with_keys(&KEYS);
        fake.state.lock().unwrap().failures =
            (0..6).map(|_| status(500, "InternalError")).collect();
        let mut pager = Pager::from_source(fake, 100).with_retry(quick);
        let error = read_all(&mut pager).await.unwrap_err();
        assert!(
            matches!(error, ListError::Failed { attempts: 6, .. }),
            "{error}"
        );
        assert!(error.is_retryable());
    }

    fn item(namespace: &str, name: &str, rv: &str) -> ApiEvent {
        ApiEvent::from(
            json!({"metadata": {"namespace": namespace, "name": name, "uid": format!("u-{name}"), "resourceVersion": rv}}),
        )
    }

    fn names(items: &[ApiEvent]) -> Vec<&str> {
        items.iter().map(ApiEvent::name).collect()
    }

    #[test]
    fn a_pass_covers_the_keys_up_to_its_last_at_its_snapshot() {
        let mut delivered = Delivered::default();
        let mut first = vec![item("kube-public", "a", "3"), item("kube-system", "b", "5")];
        delivered.page("10", &mut first);
        assert_eq!(first.len(), 2, "the first pass drops nothing");
        delivered.pass_ended();
        let mut second = vec![
            item("kube-public", "a", "3"), // covered: same version, key before the end
            item("kube-public", "a2", "7"), // created before the snapshot, key covered: delivered then
            item("kube-system", "b", "12"), // changed after the snapshot
            item("kube-system", "c", "4"),  // after where the first pass stopped
            item("kube", "d", "2"),         // after it too (`kube/` sorts after `kube-system/`)
        ];
        delivered.page("20", &mut second);
        assert_eq!(names(&second), ["b", "c", "d"]);
    }

    #[test]
    fn items_that_cannot_be_placed_are_always_delivered() {
        let mut delivered = Delivered::default();
        delivered.page("10", &mut vec![item("ns", "z", "3")]);
        delivered.pass_ended();
        let mut odd = vec![
            ApiEvent::from(json!({"metadata": {"namespace": "ns", "resourceVersion": "5"}})),
            item("ns", "a", "x5"),
        ];
        delivered.page("20", &mut odd);
        assert_eq!(odd.len(), 2);
    }

    #[test]
    fn a_pass_out_of_key_order_covers_nothing() {
        let mut delivered = Delivered::default();
        delivered.page("10", &mut vec![item("ns", "b", "3"), item("ns", "a", "4")]);
        delivered.pass_ended();
        let mut again = vec![item("ns", "a", "4"), item("ns", "b", "3")];
        delivered.page("20", &mut again);
        assert_eq!(again.len(), 2, "a duplicate rather than a loss");

        // Pages of one pass that name different snapshots prove nothing either.
        let mut delivered = Delivered::default();
        delivered.page("10", &mut vec![item("ns", "a", "3")]);
        delivered.page("11", &mut vec![item("ns", "b", "3")]);
        delivered.pass_ended();
        let mut again = vec![item("ns", "a", "3")];
        delivered.page("20", &mut again);
        assert_eq!(again.len(), 1);
    }
}
