//! The live API: the Events the API server still holds (the last hour: `--event-ttl`), read as
//! one paged list and normalised exactly as the emitter and the catch-up do.

use std::path::Path;

use eventkeeper_core::normalise::normalise_event;
use eventkeeper_core::source::{DEFAULT_PAGE_SIZE, Pager, Scope};
use eventkeeper_core::{Context, Origin};
use kube::config::{KubeConfigOptions, Kubeconfig};

use crate::error::{HistoryError, Problem};
use crate::query::{Merged, Query};

const SOURCE: &str = "live";

/// A client for the kubeconfig at `path`, or the usual lookup (`KUBECONFIG`, `~/.kube/config`,
/// in-cluster) when `None`.
pub async fn client(path: Option<&Path>) -> Result<kube::Client, HistoryError> {
    let failed = |message: String| HistoryError::SourceFailed {
        source_name: SOURCE,
        message,
    };
    let config = match path {
        Some(path) => {
            let kubeconfig = Kubeconfig::read_from(path)
                .map_err(|e| HistoryError::Config(format!("{}: {e}", path.display())))?;
            kube::Config::from_custom_kubeconfig(kubeconfig, &KubeConfigOptions::default())
                .await
                .map_err(|e| HistoryError::Config(format!("{}: {e}", path.display())))?
        }
        None => kube::Config::infer()
            .await
            .map_err(|e| failed(format!("no kubeconfig: {e}")))?,
    };
    kube::Client::try_from(config).map_err(|e| failed(e.to_string()))
}

/// Lists the Events of the query's namespace (or all) and adds what the query wants. A failed
/// list is a [`Problem`]: the archive may still answer.
pub async fn read(
    client: kube::Client,
    cluster: &str,
    query: &Query,
    merged: &mut Merged,
    problems: &mut Vec<Problem>,
) -> Result<usize, Problem> {
    let scope = match &query.namespace {
        Some(ns) => Scope::Namespace(ns.clone()),
        None => Scope::AllNamespaces,
    };
    // A list, not the emitter's watch: `origin` says `relist`.
    let context = Context::new(cluster, Origin::Relist);
    let mut pager = Pager::new(client, scope.clone(), DEFAULT_PAGE_SIZE);
    let mut listed = 0;
    loop {
        let page = pager.next_page().await.map_err(|e| Problem {
            source_name: SOURCE,
            part: scope.events_path(),
            reason: e.to_string(),
        })?;
        let Some(page) = page else {
            return Ok(listed);
        };
        for item in page.items {
            listed += 1;
            match normalise_event(item, &context) {
                Ok(record) if query.wants(&record) => merged.add(record),
                Ok(_) => {}
                Err(e) => problems.push(Problem {
                    source_name: SOURCE,
                    part: format!("{} item {listed}", scope.events_path()),
                    reason: e.to_string(),
                }),
            }
        }
    }
}
