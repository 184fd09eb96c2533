//! eventkeeper core: the record schema, `normalise`, and what the emitter and the catch-up
//! share. Data flows one way: source (list/watch) → [`normalise`](fn@normalise) (pure) → sink.

pub mod api_event;
pub mod archive_layout;
pub mod backoff;
pub mod emf;
pub mod error_class;
pub mod event_input;
pub mod filter;
#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
pub mod iam;
pub mod lease;
pub mod normalise;
pub mod record;
pub mod resource_version;
pub mod source;

pub use error_class::ErrorClass;
pub use normalise::{Context, NormaliseError, normalise};
pub use record::{Origin, Record, SCHEMA_VERSION};
