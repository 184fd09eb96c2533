//! The Vector pipeline of docs/log-pipeline.md, run with Vector's own VRL engine: the remap
//! program the guide ships (docs/vector/eventkeeper.vrl, the exact file) applied to emitter lines
//! wrapped the way Vector's `kubernetes_logs` source wraps them (`.message` holds the raw line,
//! next to `.kubernetes`, `.file`, `.stream`, `.timestamp` and `.source_type`).

use std::collections::BTreeMap;
use std::path::Path;

use eventkeeper_core::record::line_budget::DEFAULT_MAX_LINE_BYTES;
use eventkeeper_tests::{event_files, record_lines, repo_root};
use vrl::compiler::state::{ExternalEnv, RuntimeState};
use vrl::compiler::{CompileConfig, Context, Program, TargetValue, TimeZone};
use vrl::value::kind::{Collection, Kind};
use vrl::value::{Secrets, Value};

/// The remap program of the guide: one file, included by the guide and by this test.
const PROGRAM: &str = include_str!("../../docs/vector/eventkeeper.vrl");

/// Fields Vector's kubernetes_logs source sets, which must come out unchanged.
const SHIPPER_KEYS: [&str; 5] = ["file", "kubernetes", "source_type", "stream", "timestamp"];

/// A compiled VRL program, as a `remap` transform holds it.
struct Remap(Program);

impl Remap {
    fn compile(source: &str) -> Self {
        let fns = vrl::stdlib::all();
        // As in Vector, the event is known to be an object.
        let event = Kind::object(Collection::any());
        let external = ExternalEnv::new_with_kind(event.clone(), event);
        let compiled =
            vrl::compiler::compile_with_external(source, &fns, &external, CompileConfig::default())
                .unwrap_or_else(|diagnostics| {
                    panic!("the program compiles: {diagnostics:#?}\n{source}")
                });
        assert!(
            compiled.warnings.is_empty(),
            "the program compiles without warnings: {:#?}",
            compiled.warnings
        );
        Self(compiled.program)
    }

    /// Runs the program on `event`; `Err` when it aborted or failed (Vector drops or reroutes
    /// such events).
    fn run(&self, event: Value) -> Result<Value, String> {
        let mut target = TargetValue {
            value: event,
            metadata: Value::Object(BTreeMap::new()),
            secrets: Secrets::default(),
        };
        let mut state = RuntimeState::default();
        let timezone = TimeZone::default();
        let mut ctx = Context::new(&mut target, &mut state, &timezone);
        self.0.resolve(&mut ctx).map_err(|err| err.to_string())?;
        Ok(target.value)
    }
}

/// `line` as Vector's kubernetes_logs source delivers it: the raw line (without its newline) in
/// `.message`, pod metadata in `.kubernetes`, and a timestamp *value* (not a string) in
/// `.timestamp`.
fn kubernetes_logs_event(line: &str) -> Value {
    let json = serde_json::json!({
        "message": line.trim_end_matches('\n'),
        "file": "/var/log/pods/eventkeeper_eventkeeper-7d4b9c-x2x7q_0c1d/emitter/0.log",
        "kubernetes": {
            "pod_name": "eventkeeper-7d4b9c-x2x7q",
            "pod_namespace": "eventkeeper",
            "pod_uid": "0c1d2e3f-0000-4000-8000-000000000001",
            "container_name": "emitter",
            "container_image": "public.ecr.aws/eventkeeper/eventkeeper-emitter:0.1.0",
            "pod_labels": {"app.kubernetes.io/name": "eventkeeper",
                           "app.kubernetes.io/component": "emitter"},
            "pod_node_name": "ip-10-0-1-23.eu-west-1.compute.internal",
        },
        "source_type": "kubernetes_logs",
        "stream": "stdout",
        "timestamp": "2026-11-23T10:00:00.123456789Z",
    });
    // Vector's source sets a timestamp value; make one with VRL itself.
    Remap::compile(r#".timestamp = parse_timestamp!(.timestamp, "%+")"#)
        .run(Value::from(json))
        .expect("a timestamp value")
}

fn object(value: &Value) -> &BTreeMap<vrl::value::KeyString, Value> {
    value.as_object().expect("an object")
}

fn field<'a>(value: &'a Value, key: &str) -> Option<&'a Value> {
    object(value).get(key)
}

/// Checks one record line end to end; returns how many record fields it compared.
fn assert_lifted(remap: &Remap, line: &str, origin: &Path) -> usize {
    let record: serde_json::Value = serde_json::from_str(line).expect("a JSON line");
    let record = record.as_object().expect("a record is an object");
    let event = kubernetes_logs_event(line);
    let out = remap
        .run(event.clone())
        .unwrap_or_else(|err| panic!("{}: remap failed: {err}", origin.display()));
    for (key, value) in record {
        assert_eq!(
            field(&out, key),
            Some(&Value::from(value.clone())),
            "{}: record field {key} at the top level",
            origin.display()
        );
    }
    for key in SHIPPER_KEYS {
        assert_eq!(
            field(&out, key),
            field(&event, key),
            "{}: shipper field {key} unchanged",
            origin.display()
        );
    }
    // Nothing else: no raw line left behind (unless the Event has a message), no marker.
    let expected: Vec<&str> = record
        .keys()
        .map(String::as_str)
        .chain(SHIPPER_KEYS)
        .collect();
    for key in object(&out).keys() {
        assert!(
            expected.contains(&key.as_str()),
            "{}: unexpected field {key}",
            origin.display()
        );
    }
    record.len()
}

#[test]
fn every_record_is_lifted_to_the_top_level_next_to_vectors_fields() {
    let remap = Remap::compile(PROGRAM);
    let (mut lines, mut fields) = (0, 0);
    for file in event_files() {
        for line in record_lines(&file, DEFAULT_MAX_LINE_BYTES) {
            fields += assert_lifted(&remap, &line, &file);
            lines += 1;
        }
    }
    assert!(lines >= 20, "checked {lines} record lines");
    eprintln!("vector_pipeline: {lines} record lines, {fields} fields compared");
}

#[test]
fn truncated_records_are_lifted_too() {
    let remap = Remap::compile(PROGRAM);
    let mut truncated = 0;
    for file in event_files() {
        for line in record_lines(&file, 1024) {
            assert!(line.len() <= 1024, "{}: line budget", file.display());
            assert_lifted(&remap, &line, &file);
            truncated += usize::from(line.contains("\"truncated\""));
        }
    }
    assert!(truncated > 0, "the fixtures include events cut to 1 KiB");
}

#[test]
fn a_record_field_never_clobbers_a_shipper_field() {
    // Records never use these names (docs/schema.md); if one ever did, Vector's field wins.
    let line = r#"{"schemaVersion":1,"cluster":"demo","stream":"x","kubernetes":"x","file":"x","timestamp":"x","source_type":"x","reason":"Pulled"}"#;
    let event = kubernetes_logs_event(line);
    let out = Remap::compile(PROGRAM).run(event.clone()).expect("remap");
    for key in SHIPPER_KEYS {
        assert_eq!(field(&out, key), field(&event, key), "shipper field {key}");
    }
    assert_eq!(field(&out, "reason"), Some(&Value::from("Pulled")));
    assert_eq!(field(&out, "message"), None, "the raw line is gone");
}

#[test]
fn lines_that_are_not_records_are_kept_whole_and_marked() {
    let remap = Remap::compile(PROGRAM);
    for line in [
        "plain text from a crashing process",
        r#"{"timestamp":"2026-11-23T10:00:00Z","level":"WARN","fields":{"message":"Watch restarted"}}"#,
        r#"["an", "array"]"#,
        r#"{"schemaVersion":1,"cluster":"demo","reason":"Cut in the midd"#,
        "",
    ] {
        let event = kubernetes_logs_event(line);
        let out = remap.run(event.clone()).expect("remap never fails");
        assert_eq!(field(&out, "message"), Some(&Value::from(line)), "{line}");
        assert_eq!(
            field(&out, "eventkeeper_unparsed"),
            Some(&Value::Boolean(true))
        );
        for key in SHIPPER_KEYS {
            assert_eq!(field(&out, key), field(&event, key), "{line}: {key}");
        }
    }
}

#[test]
fn the_guide_shows_exactly_the_tested_program() {
    let guide = std::fs::read_to_string(repo_root().join("docs/log-pipeline.md"))
        .expect("docs/log-pipeline.md");
    let block = format!("```coffee\n{PROGRAM}```");
    assert!(
        guide.contains(&block),
        "docs/log-pipeline.md must quote docs/vector/eventkeeper.vrl verbatim in a ```coffee block"
    );
}
