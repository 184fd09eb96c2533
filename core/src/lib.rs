//! eventkeeper core.
