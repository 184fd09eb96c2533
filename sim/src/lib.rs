//! eventkeeper simulator.
