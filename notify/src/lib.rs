//! eventkeeper-notify: a Lambda fed by a CloudWatch Logs subscription on the events log group.
//! Data flows one way: [`subscription`] (payload) → [`layout`] (record) → [`rules`] →
//! [`decision`] (pure) → [`state`] (claim) → [`render`] + [`destination`] (send) →
//! [`dead_letter`] (what still fails). [`notifier`] wires one invocation.

pub mod aws_error;
pub mod batch_calls;
pub mod config;
pub mod dead_letter;
pub mod decision;
pub mod destination;
pub mod iam;
pub mod layout;
pub mod message;
pub mod metrics;
pub mod notifier;
pub mod render;
pub mod rules;
pub mod secrets;
pub mod state;
pub mod state_error;
pub mod subscription;
