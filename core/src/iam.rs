//! The shape of a function's `iam-actions.json`, the file each Terraform module builds its
//! policy from: `{ "<resource>": ["<action>", ...] }`, the actions sorted. Each binary lists its
//! own actions next to the calls; this writes them the one way the modules read them.

use serde_json::{Map, Value};

/// The actions of each resource, sorted, as one JSON object (in the order given).
pub fn actions_by_resource(groups: &[(&str, &[&str])]) -> Value {
    let mut document = Map::new();
    for (resource, actions) in groups {
        let mut actions: Vec<String> = actions.iter().map(|a| (*a).to_owned()).collect();
        actions.sort();
        document.insert((*resource).to_owned(), actions.into());
    }
    Value::Object(document)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_are_sorted_per_resource() {
        let document = actions_by_resource(&[("bucket", &["s3:PutObject", "s3:GetObject"])]);
        assert_eq!(
            document,
            serde_json::json!({"bucket": ["s3:GetObject", "s3:PutObject"]})
        );
    }
}
