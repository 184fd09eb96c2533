//! The committed JSON Schema (docs/schema/event-v1.json) must equal the one generated from the
//! Rust types. Regenerate with `make schema`.

use eventkeeper_core::record::schema::{COMMITTED_SCHEMA_PATH, record_schema_json};

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

/// The block of docs/schema.md between the seed-lines markers, as `convert` prints it today.
fn seed_lines_block() -> String {
    use eventkeeper_core::event_input::{Entry, for_each_entry};
    use eventkeeper_core::{Context, Origin, normalise};

    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/seeds");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("seed fixtures")
        .map(|e| e.expect("entry").path())
        .collect();
    files.sort();
    let ctx = Context::new("demo", Origin::Convert);
    let mut block = String::new();
    for file in files {
        let name = file
            .file_name()
            .expect("name")
            .to_string_lossy()
            .into_owned();
        block.push_str(&format!("\n`{name}`:\n\n```json\n"));
        let text = std::fs::read_to_string(&file).expect("readable");
        for_each_entry(&text, |entry| {
            if let Entry::Event(_, event) = entry {
                block.push_str(&normalise(&event, &ctx).expect("an event").to_line());
            }
        });
        block.push_str("```\n");
    }
    block.push('\n');
    block
}

#[test]
fn schema_doc_shows_current_seed_lines() {
    const START: &str = "<!-- seed-lines:start -->\n";
    const END: &str = "<!-- seed-lines:end -->";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/schema.md");
    let mut doc = std::fs::read_to_string(&path).expect("docs/schema.md");
    let (head, rest) = doc.split_once(START).expect("start marker");
    let (_, tail) = rest.split_once(END).expect("end marker");
    let current = format!("{head}{START}{}{END}{tail}", seed_lines_block());
    if std::env::var_os("EVENTKEEPER_UPDATE_GENERATED").is_some() {
        std::fs::write(&path, &current).expect("write docs/schema.md");
        doc = current.clone();
    }
    assert!(
        doc == current,
        "docs/schema.md seed lines are stale: run `make schema` and commit the result"
    );
}
