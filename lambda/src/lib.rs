//! eventkeeper catch-up.
