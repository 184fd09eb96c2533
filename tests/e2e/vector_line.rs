//! Our lines as Vector sees them: the `kubernetes_logs` source puts the raw line in `.message`
//! next to its own fields, and the usual `remap` lifts the JSON with
//! `. = merge!(., parse_json!(.message))`. Run with Vector's own VRL engine.

use std::collections::BTreeMap;

use eventkeeper_core::record::line_budget::DEFAULT_MAX_LINE_BYTES;
use eventkeeper_tests::{event_files, record_lines};
use vrl::compiler::state::{ExternalEnv, RuntimeState};
use vrl::compiler::{CompileConfig, Context, TargetValue, TimeZone};
use vrl::value::kind::{Collection, Kind};
use vrl::value::{Secrets, Value};

// VRL 0.38 types `parse_json!` as any value, so the merge is marked fallible (`merge!`): it
// aborts the event, rather than dropping fields, if a line were ever not an object.
const REMAP: &str = ". = merge!(., parse_json!(.message))";

/// Fields Vector's kubernetes_logs source adds, which our record must not clobber.
fn vector_envelope(line: &str) -> serde_json::Value {
    serde_json::json!({
        "message": line.trim_end_matches('\n'),
        "file": "/var/log/pods/eventkeeper_eventkeeper-abc_0/emitter/0.log",
        "kubernetes": {"pod_name": "eventkeeper-7d4b9c-x2x7q", "pod_namespace": "eventkeeper",
                       "container_name": "emitter"},
        "source_type": "kubernetes_logs",
        "stream": "stdout",
        "timestamp": "2026-11-23T10:00:00.000000001Z",
    })
}

fn remap(program: &vrl::compiler::Program, input: serde_json::Value) -> serde_json::Value {
    let mut target = TargetValue {
        value: Value::from(input),
        metadata: Value::Object(BTreeMap::new()),
        secrets: Secrets::default(),
    };
    let mut state = RuntimeState::default();
    let timezone = TimeZone::default();
    let mut ctx = Context::new(&mut target, &mut state, &timezone);
    program
        .resolve(&mut ctx)
        .expect("the remap succeeds on every line");
    serde_json::to_value(&target.value).expect("a VRL value is JSON")
}

#[test]
fn every_record_survives_vectors_remap() {
    let fns = vrl::stdlib::all();
    // As in Vector, the event is known to be an object.
    let event = Kind::object(Collection::any());
    let external = ExternalEnv::new_with_kind(event.clone(), event);
    let program =
        vrl::compiler::compile_with_external(REMAP, &fns, &external, CompileConfig::default())
            .expect("the remap compiles")
            .program;
    let mut checked = 0;
    for file in event_files() {
        for line in record_lines(&file, DEFAULT_MAX_LINE_BYTES) {
            let record: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
            let envelope = vector_envelope(&line);
            let out = remap(&program, envelope.clone());
            for (key, value) in record.as_object().expect("an object") {
                assert_eq!(&out[key], value, "{}: field {key}", file.display());
            }
            for key in ["file", "kubernetes", "source_type", "stream", "timestamp"] {
                assert_eq!(
                    out[key],
                    envelope[key],
                    "{}: shipper field {key}",
                    file.display()
                );
            }
            checked += 1;
        }
    }
    assert!(checked >= 20, "checked {checked} lines");
}
