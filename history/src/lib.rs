//! `kubectl-eventkeeper`: the history of a cluster's Events past the API server's one-hour TTL,
//! read from the live API, the catch-up's S3 archive and CloudWatch Logs, merged by
//! (uid, resourceVersion). Data flows one way: sources → [`query::Merged`] → a renderer.

pub mod app;
pub mod archive;
pub mod cloudwatch;
pub mod config;
pub mod error;
pub mod html;
pub mod live;
pub mod query;
pub mod table;
pub mod target;
pub mod why;
pub mod window;
