//! The JSON Schema of the record, generated from the Rust types so it cannot drift from them.
//! The committed copy is `docs/schema/event-v1.json`; a test fails when the two differ.

use super::Record;

/// Path of the committed schema, relative to the repository root.
pub const COMMITTED_SCHEMA_PATH: &str = "docs/schema/event-v1.json";

/// The schema of [`Record`] as pretty JSON with a trailing newline.
pub fn record_schema_json() -> String {
    let mut schema = schemars::schema_for!(Record);
    schema.insert(
        "$id".into(),
        "https://eventkeeper.dev/schema/event-v1.json".into(),
    );
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema always serializes");
    text.push('\n');
    text
}
