//! Property tests: whatever JSON comes in, `normalise` never panics, every line is valid JSON
//! within the byte and field budgets, and the idempotency key is stable.

use eventkeeper_core::fixtures::TestEvent;
use eventkeeper_core::record::line_budget::MIN_MAX_LINE_BYTES;
use eventkeeper_core::record::line_budget::{MAX_RECORD_FIELDS, flattened_fields};
use eventkeeper_core::{Context, Origin, normalise};
use proptest::prelude::*;
use serde_json::{Value, json};

/// Any JSON value, a few levels deep, with strings that include quotes, control characters and
/// multi-byte text.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 40, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Event-shaped JSON whose every field may be replaced by junk or by a huge string.
fn event_like() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        3 => Just(None),
        1 => any_json().prop_map(Some),
        1 => (".{1,4}", 1usize..20_000).prop_map(|(s, n)| Some(Value::from(s.repeat(n)))),
    ];
    let keys = [
        "message",
        "reason",
        "type",
        "count",
        "eventTime",
        "lastTimestamp",
        "series",
        "involvedObject",
        "related",
        "source",
        "reportingComponent",
        "action",
    ];
    (
        prop::collection::vec(field, keys.len()),
        0usize..400,
        0usize..400,
        prop::option::of(".{0,50}"),
    )
        .prop_map(move |(values, labels, annotations, uid)| {
            let mut event = TestEvent::new().labels(labels).json();
            for (key, value) in keys.iter().zip(values) {
                if let Some(value) = value {
                    event[*key] = value;
                }
            }
            let notes: serde_json::Map<String, Value> = (0..annotations)
                .map(|i| (format!("a/{i}"), json!("x".repeat(i % 97))))
                .collect();
            event["metadata"]["annotations"] = Value::Object(notes);
            if let Some(uid) = uid {
                event["metadata"]["uid"] = Value::from(uid);
            }
            event
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn any_json_never_panics(value in any_json()) {
        if let Ok(record) = normalise(&value, &Context::new("c", Origin::Watch)) {
            // Whatever the input, the hand-written writer agrees with the serde derives.
            let serde_line = serde_json::to_string(&record).expect("a Record serializes") + "\n";
            prop_assert_eq!(record.to_line(), serde_line);
        }
    }

    #[test]
    fn any_extra_metadata_writes_like_serde(
        extra in prop::collection::btree_map(".{0,12}", any_json(), 0..8),
    ) {
        let mut event = TestEvent::new().json();
        for (key, value) in extra {
            event["metadata"][key] = value;
        }
        let record = normalise(&event, &Context::new("c", Origin::Watch)).expect("an event");
        let serde_line = serde_json::to_string(&record).expect("a Record serializes") + "\n";
        prop_assert_eq!(record.to_line(), serde_line);
    }

    #[test]
    fn every_line_fits_and_parses(
        event in event_like(),
        budget in prop_oneof![Just(16 * 1024), MIN_MAX_LINE_BYTES..20_000usize],
    ) {
        let ctx = Context { max_line_bytes: budget, ..Context::new("cluster-1", Origin::Watch) };
        let record = normalise(&event, &ctx).expect("an object is an event");
        let line = record.to_line();
        prop_assert_eq!(&line, &(serde_json::to_string(&record).expect("serializes") + "\n"));
        prop_assert!(line.len() <= budget, "{} > {}", line.len(), budget);
        prop_assert!(line.ends_with('\n') && line.matches('\n').count() == 1);
        let value: Value = serde_json::from_str(&line).expect("valid JSON");
        prop_assert!(flattened_fields(&value) <= MAX_RECORD_FIELDS);
    }

    #[test]
    fn the_idempotency_key_is_stable_and_survives_cutting(event in event_like()) {
        let ctx = Context::new("c", Origin::Watch);
        let first = normalise(&event, &ctx).expect("event");
        let second = normalise(&event, &ctx).expect("event");
        prop_assert_eq!(first.to_line(), second.to_line());
        let uid = event["metadata"]["uid"].as_str().unwrap_or_default();
        // Identity survives every cut short of the last-resort cap on absurd (>32 byte) values.
        if uid.len() <= 32 && uid.chars().all(|c| !c.is_control() && c != '"' && c != '\\') {
            prop_assert_eq!(first.uid(), uid);
            prop_assert_eq!(first.resource_version(), "1000");
        }
    }
}
