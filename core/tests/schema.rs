//! The committed JSON Schema (docs/schema/event-v1.json) must equal the one generated from the
//! Rust types. Regenerate with `make schema`.

use eventkeeper_core::schema::{COMMITTED_SCHEMA_PATH, record_schema_json};

#[test]
fn committed_schema_matches_the_types() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(COMMITTED_SCHEMA_PATH);
    let generated = record_schema_json();
    if std::env::var_os("EVENTKEEPER_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &generated).expect("write the schema");
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == generated,
        "{COMMITTED_SCHEMA_PATH} is stale: run `make schema` and commit the result"
    );
}

#[test]
fn schema_lists_no_reserved_shipper_key() {
    let schema: serde_json::Value =
        serde_json::from_str(&record_schema_json()).expect("schema is JSON");
    let properties = schema["properties"].as_object().expect("properties");
    for key in eventkeeper_core::record::RESERVED_SHIPPER_KEYS {
        assert!(!properties.contains_key(key), "{key}");
    }
    assert!(properties.contains_key("involvedObject") && properties.contains_key("effectiveTime"));
}
