//! Reading Events from saved text: what `kubectl get events -o json` prints (an `EventList` or
//! `List`), a single Event, JSON lines, concatenated objects (`kubectl get events -w -o json`),
//! watch events (`{"type":"ADDED","object":{...}}`), or a bare JSON array of Events.
//!
//! A broken item is reported with its position and skipped; reading resumes at the next line that
//! starts an object, so one bad item never hides the rest.

use std::fmt;

use serde_json::{Deserializer, Value};

/// Where an entry was found in the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Position {
    /// 1-based line where the top-level JSON value starts.
    pub line: usize,
    /// Index in the list's `items`, when the value was a list.
    pub item: Option<usize>,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.item {
            Some(item) => write!(f, "line {} items[{item}]", self.line),
            None => write!(f, "line {}", self.line),
        }
    }
}

/// One thing found in the input.
#[derive(Debug)]
pub enum Entry {
    /// Something that should be an Event (normalise decides whether it is one).
    Event(Position, Value),
    /// Input that is not valid JSON or not an object where an Event must be.
    Malformed(Position, String),
    /// A valid value that is no observation: a watch BOOKMARK or DELETED, or an empty list.
    Ignored(Position, &'static str),
}

/// Calls `each` for every entry of `input`, in order.
pub fn for_each_entry(input: &str, mut each: impl FnMut(Entry)) {
    let mut offset = 0;
    let mut line = 1;
    loop {
        let skipped = input[offset..].len() - input[offset..].trim_start().len();
        line += count_lines(&input[offset..offset + skipped]);
        offset += skipped;
        if offset >= input.len() {
            return;
        }
        let mut values = Deserializer::from_str(&input[offset..]).into_iter::<Value>();
        match values.next() {
            Some(Ok(value)) => {
                let end = offset + values.byte_offset();
                expand(value, line, &mut each);
                line += count_lines(&input[offset..end]);
                offset = end;
            }
            Some(Err(error)) => {
                let position = Position { line, item: None };
                let at_line = line + error.line().saturating_sub(1);
                // serde_json's own position is relative to where this value started.
                let text = error.to_string();
                let reason = text.split(" at line ").next().unwrap_or(&text);
                each(Entry::Malformed(
                    position,
                    format!(
                        "invalid JSON at line {at_line} column {}: {reason}",
                        error.column()
                    ),
                ));
                // Resume at the next line that starts a top-level object.
                match input[offset..].find("\n{") {
                    Some(next) => {
                        line += count_lines(&input[offset..offset + next + 1]);
                        offset += next + 1;
                    }
                    None => return,
                }
            }
            None => return,
        }
    }
}

fn expand(value: Value, line: usize, each: &mut impl FnMut(Entry)) {
    let at = |item| Position { line, item };
    match value {
        Value::Object(mut object) => {
            let items = object.remove("items").or_else(|| object.remove("Items"));
            if let Some(items) = items {
                match items {
                    Value::Array(items) if !items.is_empty() => {
                        for (index, item) in items.into_iter().enumerate() {
                            one(item, at(Some(index)), each);
                        }
                    }
                    Value::Array(_) | Value::Null => each(Entry::Ignored(at(None), "empty list")),
                    _ => each(Entry::Malformed(at(None), "`items` is not an array".into())),
                }
                return;
            }
            one(Value::Object(object), at(None), each);
        }
        Value::Array(items) => {
            for (index, item) in items.into_iter().enumerate() {
                one(item, at(Some(index)), each);
            }
        }
        other => one(other, at(None), each),
    }
}

/// One list item or top-level value: an Event, or a watch event wrapping one.
fn one(value: Value, position: Position, each: &mut impl FnMut(Entry)) {
    let Value::Object(mut object) = value else {
        each(Entry::Malformed(position, "not a JSON object".into()));
        return;
    };
    let is_watch_event = object.len() == 2
        && object.get("type").is_some_and(Value::is_string)
        && object.contains_key("object");
    if !is_watch_event {
        each(Entry::Event(position, Value::Object(object)));
        return;
    }
    let kind = object["type"].as_str().unwrap_or_default().to_owned();
    let inner = object.remove("object").unwrap_or_default();
    match kind.as_str() {
        "ADDED" | "MODIFIED" => each(Entry::Event(position, inner)),
        "DELETED" => each(Entry::Ignored(
            position,
            "watch DELETED (expiry, not an observation)",
        )),
        "BOOKMARK" => each(Entry::Ignored(position, "watch BOOKMARK")),
        _ => each(Entry::Malformed(
            position,
            format!("watch event of type {kind:?}: {}", summarise_status(&inner)),
        )),
    }
}

fn summarise_status(status: &Value) -> String {
    status
        .get("message")
        .and_then(Value::as_str)
        .unwrap_or("no message")
        .to_owned()
}

fn count_lines(text: &str) -> usize {
    text.bytes().filter(|b| *b == b'\n').count()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(input: &str) -> Vec<String> {
        let mut out = Vec::new();
        for_each_entry(input, |entry| {
            out.push(match entry {
                Entry::Event(at, v) => format!("event {at} {}", v["reason"]),
                Entry::Malformed(at, why) => format!("bad {at} {why}"),
                Entry::Ignored(at, why) => format!("ignored {at} {why}"),
            })
        });
        out
    }

    #[test]
    fn reads_a_list_with_positions() {
        let input = "{\"kind\":\"EventList\",\"items\":[{\"reason\":\"A\"},7,{\"reason\":\"B\"}]}";
        assert_eq!(
            read(input),
            [
                "event line 1 items[0] \"A\"",
                "bad line 1 items[1] not a JSON object",
                "event line 1 items[2] \"B\""
            ]
        );
    }

    #[test]
    fn json_lines_resume_after_a_broken_line() {
        let input = "{\"reason\":\"A\"}\n{\"reason\": \"B\"\n{\"reason\":\"C\"}\n";
        let out = read(input);
        assert_eq!(out[0], "event line 1 \"A\"");
        assert!(
            out[1].starts_with("bad line 2 invalid JSON at line 3"),
            "{out:?}"
        );
        assert_eq!(out[2], "event line 3 \"C\"");
        assert_eq!(out.len(), 3);
    }

    #[test]
    fn concatenated_pretty_objects_and_watch_events() {
        let input = "{\n  \"type\": \"ADDED\",\n  \"object\": {\"reason\": \"A\"}\n}\n{\n  \"type\": \"BOOKMARK\",\n  \"object\": {}\n}\n{\"reason\":\"C\"}";
        assert_eq!(
            read(input),
            [
                "event line 1 \"A\"",
                "ignored line 5 watch BOOKMARK",
                "event line 9 \"C\""
            ]
        );
    }

    #[test]
    fn null_items_is_an_empty_list() {
        assert_eq!(
            read("{\"kind\":\"EventList\",\"items\":null}"),
            ["ignored line 1 empty list"]
        );
    }

    #[test]
    fn garbage_is_reported_once() {
        let out = read("not json at all");
        assert_eq!(out.len(), 1);
        assert!(out[0].starts_with("bad line 1 invalid JSON"), "{out:?}");
    }
}
