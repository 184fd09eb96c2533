//! Helpers shared by the end-to-end tests: locating tools, fixtures and the real-event corpus.
