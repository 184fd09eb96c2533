//! Every walk over a record's fields: writing its JSON line, bounding the line's size without
//! writing it, capping its strings, reducing it to a skeleton, and counting the fields it can
//! flatten to.
//!
//! Each value type says once how it takes part ([`FieldValue`]); [`record_object!`] declares a
//! struct of the record and generates every walk, and the serde attributes that must agree with
//! them (the key, when a member is left out), from that one list of fields. A field added to the
//! record is therefore written in one place.

use std::collections::BTreeMap;

use serde_json::Value;

use super::json_line::{JsonObject, cut_escaped, write_string};

/// How one value of the record takes part in each walk.
pub(crate) trait FieldValue {
    /// Most fields the value can flatten to (Logs Insights' count: one per leaf). Maps count 0:
    /// their entries share the rest of the field budget, which counts them per record.
    const MAX_LEAVES: usize;

    /// Most bytes the value's JSON can take beyond [`FieldValue::text_upper_bound`]: punctuation,
    /// key names and numbers.
    const MAX_SYNTAX_BYTES: usize;

    /// Whether the member is left out of the line. serde's `skip_serializing_if` calls this too,
    /// so the writer and the derives cannot disagree.
    fn is_absent(&self) -> bool {
        false
    }

    /// Appends the value as compact JSON, byte for byte as serde_json writes it.
    fn write_value(&self, out: &mut String);

    /// Appends `"key":value` to `object` unless the value is absent.
    fn write_member(&self, key: &'static str, object: &mut JsonObject<'_>) {
        if !self.is_absent() {
            self.write_value(object.key(key));
        }
    }

    /// Bytes the value's text can take at most: every byte at the longest escape (`\u00XX`).
    fn text_upper_bound(&self) -> usize;

    /// Cuts each string to at most `cap` bytes once escaped.
    fn cap_strings(&mut self, cap: usize);

    /// Empties the value except the dotted paths in `keep` (relative to it; none: all of it).
    fn clear_except(&mut self, keep: &[&str]);
}

/// Declares a struct of the record: each field is `pub name: Type => "jsonKey",` with its doc
/// comment and any extra serde attribute (`default`, `flatten`). Generates the struct with
/// serde's `rename` and `skip_serializing_if` for each field, and its [`FieldValue`] walks.
macro_rules! record_object {
    (
        $(#[$struct_meta:meta])*
        pub struct $name:ident {
            $(
                $(#[$field_meta:meta])*
                pub $field:ident: $ty:ty => $key:literal,
            )*
        }
    ) => {
        $(#[$struct_meta])*
        pub struct $name {
            $(
                $(#[$field_meta])*
                #[serde(
                    rename = $key,
                    skip_serializing_if = "crate::record::walk::FieldValue::is_absent"
                )]
                pub $field: $ty,
            )*
        }

        impl crate::record::walk::FieldValue for $name {
            const MAX_LEAVES: usize = crate::record::walk::object_leaves(
                0 $(+ <$ty as crate::record::walk::FieldValue>::MAX_LEAVES)*,
            );
            // `{}`, and per member `"key":` and a comma.
            const MAX_SYNTAX_BYTES: usize = 2
                $(+ $key.len() + 4 + <$ty as crate::record::walk::FieldValue>::MAX_SYNTAX_BYTES)*;

            fn write_value(&self, out: &mut String) {
                let mut object = crate::record::json_line::JsonObject::open(out);
                $(self.$field.write_member($key, &mut object);)*
                object.close();
            }

            fn text_upper_bound(&self) -> usize {
                0 $(+ self.$field.text_upper_bound())*
            }

            fn cap_strings(&mut self, cap: usize) {
                $(self.$field.cap_strings(cap);)*
            }

            fn clear_except(&mut self, keep: &[&str]) {
                $(
                    if !keep.contains(&$key) {
                        let inner = crate::record::walk::paths_under($key, keep);
                        self.$field.clear_except(&inner);
                    }
                )*
            }
        }
    };
}

pub(crate) use record_object;

/// Leaves of an object: its fields' leaves, and an empty object still counts as one.
pub(crate) const fn object_leaves(fields: usize) -> usize {
    if fields == 0 { 1 } else { fields }
}

/// The paths of `keep` below `key`, relative to it (`metadata.uid` → `uid` under `metadata`).
pub(crate) fn paths_under<'a>(key: &str, keep: &[&'a str]) -> Vec<&'a str> {
    keep.iter()
        .filter_map(|path| path.strip_prefix(key)?.strip_prefix('.'))
        .collect()
}

impl FieldValue for String {
    const MAX_LEAVES: usize = 1;
    const MAX_SYNTAX_BYTES: usize = 2;

    fn write_value(&self, out: &mut String) {
        write_string(out, self);
    }

    fn text_upper_bound(&self) -> usize {
        6 * self.len()
    }

    fn cap_strings(&mut self, cap: usize) {
        cut_escaped(self, cap);
    }

    fn clear_except(&mut self, _keep: &[&str]) {
        self.clear();
    }
}

impl<T: FieldValue> FieldValue for Option<T> {
    const MAX_LEAVES: usize = T::MAX_LEAVES;
    const MAX_SYNTAX_BYTES: usize = T::MAX_SYNTAX_BYTES;

    fn is_absent(&self) -> bool {
        self.is_none()
    }

    fn write_value(&self, out: &mut String) {
        match self {
            Some(value) => value.write_value(out),
            None => out.push_str("null"),
        }
    }

    fn text_upper_bound(&self) -> usize {
        self.as_ref().map_or(0, T::text_upper_bound)
    }

    fn cap_strings(&mut self, cap: usize) {
        if let Some(value) = self {
            value.cap_strings(cap);
        }
    }

    fn clear_except(&mut self, keep: &[&str]) {
        match self {
            Some(value) if !keep.is_empty() => value.clear_except(keep),
            _ => *self = None,
        }
    }
}

/// Integers hold no text; the widest value's digits bound their syntax.
macro_rules! integer_field_value {
    ($($(#[$doc:meta])* $int:ty => $widest:literal, absent when $absent:expr;)*) => {$(
        $(#[$doc])*
        impl FieldValue for $int {
            const MAX_LEAVES: usize = 1;
            const MAX_SYNTAX_BYTES: usize = $widest.len();

            fn is_absent(&self) -> bool {
                ($absent)(*self)
            }

            fn write_value(&self, out: &mut String) {
                out.push_str(itoa::Buffer::new().format(*self));
            }

            fn text_upper_bound(&self) -> usize {
                0
            }

            fn cap_strings(&mut self, _cap: usize) {}

            fn clear_except(&mut self, _keep: &[&str]) {
                *self = 0;
            }
        }
    )*};
}

integer_field_value! {
    u32 => "4294967295", absent when |_| false;
    i64 => "-9223372036854775808", absent when |_| false;
    /// Counts are written only when something was counted (`labelsDropped`, ...).
    /// `originalLineBytes` is one too, and never 0: a line has at least its newline.
    u64 => "18446744073709551615", absent when |count| count == 0;
}

/// Labels and annotations.
impl FieldValue for BTreeMap<String, String> {
    const MAX_LEAVES: usize = 0;
    const MAX_SYNTAX_BYTES: usize = 2;

    fn is_absent(&self) -> bool {
        self.is_empty()
    }

    fn write_value(&self, out: &mut String) {
        let mut object = JsonObject::open(out);
        for (key, value) in self {
            write_string(object.escaped_key(key), value);
        }
        object.close();
    }

    fn text_upper_bound(&self) -> usize {
        // `"key":"value",`
        self.iter().map(|(k, v)| 6 * (k.len() + v.len()) + 6).sum()
    }

    fn cap_strings(&mut self, cap: usize) {
        self.values_mut().for_each(|value| cut_escaped(value, cap));
    }

    fn clear_except(&mut self, _keep: &[&str]) {
        self.clear();
    }
}

/// The metadata the record does not name: arbitrary JSON, `#[serde(flatten)]` into the object
/// that holds it (the only map of `Value`s in the record), so its members continue that object.
impl FieldValue for BTreeMap<String, Value> {
    const MAX_LEAVES: usize = 0;
    const MAX_SYNTAX_BYTES: usize = 0;

    fn is_absent(&self) -> bool {
        self.is_empty()
    }

    fn write_value(&self, out: &mut String) {
        let mut object = JsonObject::open(out);
        self.write_member("", &mut object);
        object.close();
    }

    fn write_member(&self, _flattened: &'static str, object: &mut JsonObject<'_>) {
        for (key, value) in self {
            write_json_value(object.escaped_key(key), value);
        }
    }

    fn text_upper_bound(&self) -> usize {
        // `"key":value,` and the value's braces.
        2 + self
            .iter()
            .map(|(k, v)| 6 * k.len() + 4 + json_value_upper_bound(v))
            .sum::<usize>()
    }

    /// Left whole: the line budget drops this metadata before it caps strings.
    fn cap_strings(&mut self, _cap: usize) {}

    fn clear_except(&mut self, _keep: &[&str]) {
        self.clear();
    }
}

/// `truncated.fields`. How long it can get is known where it is filled (the line budget), so
/// it adds no leaves here.
impl FieldValue for Vec<String> {
    const MAX_LEAVES: usize = 0;
    const MAX_SYNTAX_BYTES: usize = 2;

    fn write_value(&self, out: &mut String) {
        out.push('[');
        for (index, item) in self.iter().enumerate() {
            if index > 0 {
                out.push(',');
            }
            write_string(out, item);
        }
        out.push(']');
    }

    fn text_upper_bound(&self) -> usize {
        // `"item",`
        self.iter().map(|item| 6 * item.len() + 3).sum()
    }

    fn cap_strings(&mut self, cap: usize) {
        self.iter_mut().for_each(|item| cut_escaped(item, cap));
    }

    fn clear_except(&mut self, _keep: &[&str]) {
        self.clear();
    }
}

/// Metadata beyond the named fields is arbitrary JSON; strings, the common case, take the fast
/// path and anything else goes through serde_json.
fn write_json_value(out: &mut String, value: &Value) {
    match value {
        Value::String(text) => write_string(out, text),
        other => out.push_str(&other.to_string()),
    }
}

fn json_value_upper_bound(value: &Value) -> usize {
    match value {
        Value::Null | Value::Bool(_) => 5,
        Value::Number(_) => 24,
        Value::String(s) => 6 * s.len() + 2,
        Value::Array(items) => {
            2 + items
                .iter()
                .map(|v| json_value_upper_bound(v) + 1)
                .sum::<usize>()
        }
        Value::Object(map) => {
            2 + map
                .iter()
                .map(|(k, v)| 6 * k.len() + 4 + json_value_upper_bound(v))
                .sum::<usize>()
        }
    }
}
