//! Paths shared by core's integration tests: the workspace's one way to find the fixtures and the
//! real-event corpus (`eventkeeper_core::fixtures`).
#![allow(unused_imports)]

pub use eventkeeper_core::fixtures::{fixtures_dir, json_files, real_events_dir};
