//! CloudWatch Embedded Metric Format: the one place every Lambda of the project writes its
//! metrics. A Lambda prints one EMF document per invocation on stdout; its log group turns it into
//! metrics without any API call, so a metric costs no request and cannot fail a run.

use jiff::Timestamp;
use serde_json::{Map, Value, json};

/// CloudWatch namespace of every metric the project publishes.
pub const NAMESPACE: &str = "eventkeeper";

/// The units the project's metrics use (CloudWatch's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    /// A number of things.
    Count,
    /// A size.
    Bytes,
    /// A duration in seconds.
    Seconds,
    /// A duration in milliseconds.
    Milliseconds,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Self::Count => "Count",
            Self::Bytes => "Bytes",
            Self::Seconds => "Seconds",
            Self::Milliseconds => "Milliseconds",
        }
    }
}

/// One metric's name, unit and value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Metric {
    /// Metric name, e.g. `EventsArchived`.
    pub name: &'static str,
    /// Its unit.
    pub unit: Unit,
    /// Its value for this document.
    pub value: f64,
}

impl Metric {
    /// A metric from an integer count or size.
    pub fn new(name: &'static str, unit: Unit, value: impl Into<f64>) -> Self {
        Self {
            name,
            unit,
            value: value.into(),
        }
    }
}

/// The EMF document for `metrics`, with every dimension in `dimensions` as one dimension set.
///
/// Values are written as JSON numbers (whole numbers without a fraction), declared metrics and
/// values come from the same slice, so a metric cannot be declared without a value.
pub fn document(dimensions: &[(&'static str, &str)], metrics: &[Metric], at: Timestamp) -> Value {
    let declared: Vec<Value> = metrics
        .iter()
        .map(|m| json!({"Name": m.name, "Unit": m.unit.as_str()}))
        .collect();
    let dimension_names: Vec<&str> = dimensions.iter().map(|(name, _)| *name).collect();
    let mut root = Map::new();
    root.insert(
        "_aws".to_owned(),
        json!({
            "Timestamp": at.as_millisecond(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [dimension_names],
                "Metrics": declared,
            }],
        }),
    );
    for (name, value) in dimensions {
        root.insert((*name).to_owned(), Value::from(*value));
    }
    for metric in metrics {
        root.insert(metric.name.to_owned(), number(metric.value));
    }
    Value::Object(root)
}

/// Whole numbers stay integers in the JSON, as CloudWatch shows them.
fn number(value: f64) -> Value {
    if value.fract() == 0.0 && value.abs() < 9.0e15 {
        #[allow(clippy::cast_possible_truncation)]
        Value::from(value as i64)
    } else {
        Value::from(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_declared_metric_has_a_value_and_dimensions_are_set() {
        let doc = document(
            &[("Cluster", "prod")],
            &[
                Metric::new("EventsListed", Unit::Count, 3u32),
                Metric::new("DurationMs", Unit::Milliseconds, 1.5),
            ],
            Timestamp::UNIX_EPOCH,
        );
        let spec = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(spec["Namespace"], NAMESPACE);
        assert_eq!(spec["Dimensions"], json!([["Cluster"]]));
        let declared = spec["Metrics"].as_array().expect("metrics");
        assert_eq!(declared.len(), 2);
        for metric in declared {
            let name = metric["Name"].as_str().expect("name");
            assert!(doc[name].is_number(), "{name} has a value");
        }
        assert_eq!(doc["EventsListed"], json!(3));
        assert_eq!(doc["DurationMs"], json!(1.5));
        assert_eq!(doc["Cluster"], "prod");
        assert_eq!(doc["_aws"]["Timestamp"], 0);
    }
}
