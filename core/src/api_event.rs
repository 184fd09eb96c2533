//! An Event as the API server sends it, decoded in one pass: straight from the JSON of a list
//! page or a watch line, or from a [`serde_json::Value`]. It holds only what
//! [`normalise`](fn@crate::normalise) reads, each value already in the type the record keeps.
//! `managedFields` and unknown fields are skipped while parsing, instead of being built into a
//! tree of maps and freed again: that tree was a third of the emitter's CPU.
//!
//! Reading is lenient, because real Events are untidy: a value of the wrong type is absent rather
//! than failing the Event (losing one field beats losing the observation), `null` is absent,
//! numbers and booleans are kept as text where the record wants text, numbers given as strings are
//! read as numbers. Both API versions' names are read (`regarding`, `note`, `deprecatedCount`,
//! ...; where both are present the core/v1 one wins, even when its value is unusable), and so are
//! the capitalised keys of the internal Go type that old `kubectl cluster-info dump` printed,
//! which also inlines the object metadata at the top level.

use std::collections::BTreeMap;
use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use crate::record::{EventSeries, EventSource, Metadata, ObjectReference};

/// One Event, decoded; what [`normalise_event`](crate::normalise::normalise_event) turns into a
/// record. Deserialize it from JSON text, or convert a [`Value`] with `From`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ApiEvent {
    /// The JSON type found when the value was not an object (then nothing else is set).
    pub(crate) not_an_object: Option<&'static str>,
    pub(crate) kind: Option<String>,
    pub(crate) api_version: Option<String>,
    /// `metadata`, or the internal Go type's inlined fields when there is no metadata object.
    pub(crate) metadata: Metadata,
    pub(crate) involved_object: Option<ObjectReference>,
    pub(crate) reason: Option<String>,
    pub(crate) message: Option<String>,
    pub(crate) event_type: Option<String>,
    pub(crate) count: Option<i64>,
    pub(crate) source: Option<EventSource>,
    pub(crate) first_timestamp: Option<String>,
    pub(crate) last_timestamp: Option<String>,
    pub(crate) event_time: Option<String>,
    pub(crate) series: Option<EventSeries>,
    pub(crate) reporting_component: Option<String>,
    pub(crate) reporting_instance: Option<String>,
    pub(crate) action: Option<String>,
    pub(crate) related: Option<ObjectReference>,
}

impl ApiEvent {
    /// `metadata.resourceVersion`, or `""` when there is none.
    pub fn resource_version(&self) -> &str {
        self.metadata.resource_version.as_deref().unwrap_or("")
    }

    /// `metadata.namespace`, or `""` when there is none.
    pub fn namespace(&self) -> &str {
        self.metadata.namespace.as_deref().unwrap_or("")
    }

    /// `metadata.name`, or `""` when there is none.
    pub fn name(&self) -> &str {
        self.metadata.name.as_deref().unwrap_or("")
    }

    fn not_an_object(found: &'static str) -> Self {
        Self {
            not_an_object: Some(found),
            ..Self::default()
        }
    }
}

impl From<&Value> for ApiEvent {
    fn from(value: &Value) -> Self {
        // Reading a `Value` cannot fail: every shape has a lenient reading.
        Self::deserialize(value).unwrap_or_else(|_| Self::not_an_object("an unreadable value"))
    }
}

impl From<Value> for ApiEvent {
    /// Moves the value's strings instead of copying them.
    fn from(value: Value) -> Self {
        Self::deserialize(value).unwrap_or_else(|_| Self::not_an_object("an unreadable value"))
    }
}

impl<'de> Deserialize<'de> for ApiEvent {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Anything but an object is kept as what it is, for normalise to refuse by name.
        Ok(match Lenient::<TopFields>::deserialize(deserializer)? {
            Lenient::Is(fields) => fields.resolve(),
            Lenient::WrongType(found) => Self::not_an_object(found),
            Lenient::Null => Self::not_an_object("null"),
        })
    }
}

/// The top-level values as found, before the two API versions' names are reconciled.
#[derive(Default)]
struct TopFields {
    kind: Loose,
    api_version: Loose,
    metadata: Lenient<Metadata>,
    involved_object: Lenient<ObjectReference>,
    regarding: Lenient<ObjectReference>,
    reason: Loose,
    message: Loose,
    note: Loose,
    event_type: Loose,
    count: Loose,
    deprecated_count: Loose,
    source: Lenient<EventSource>,
    deprecated_source: Lenient<EventSource>,
    first_timestamp: Loose,
    deprecated_first_timestamp: Loose,
    last_timestamp: Loose,
    deprecated_last_timestamp: Loose,
    event_time: Loose,
    series: Lenient<EventSeries>,
    reporting_component: Loose,
    reporting_controller: Loose,
    reporting_instance: Loose,
    action: Loose,
    related: Lenient<ObjectReference>,
    // ObjectMeta inlined at the top level by the internal Go type.
    name: Loose,
    namespace: Loose,
    uid: Loose,
    resource_version: Loose,
    creation_timestamp: Loose,
}

/// Declares the top-level keys once: the key enum, its reading from a key, and where each
/// value goes.
macro_rules! top_level_keys {
    ($($key:literal => $variant:ident => $field:ident,)*) => {
        /// A top-level key, read without allocating.
        enum TopKey {
            $($variant,)*
            Other,
        }

        impl TopKey {
            fn of(key: &str) -> Self {
                match api_name(key) {
                    $($key => Self::$variant,)*
                    _ => Self::Other,
                }
            }
        }

        impl ReadMap for TopFields {
            fn read_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
                let mut fields = Self::default();
                while let Some(key) = map.next_key_seed(KeyWith(TopKey::of))? {
                    match key {
                        $(TopKey::$variant => {
                            let value = map.next_value()?;
                            // `null` is absent: it never replaces a value nor hides a twin.
                            if !Present::is_null(&value) {
                                fields.$field = value;
                            }
                        })*
                        TopKey::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(fields)
            }
        }
    };
}

top_level_keys! {
    "kind" => Kind => kind,
    "apiVersion" => ApiVersion => api_version,
    "metadata" => Metadata => metadata,
    "involvedObject" => InvolvedObject => involved_object,
    "regarding" => Regarding => regarding,
    "reason" => Reason => reason,
    "message" => Message => message,
    "note" => Note => note,
    "type" => Type => event_type,
    "count" => Count => count,
    "deprecatedCount" => DeprecatedCount => deprecated_count,
    "source" => Source => source,
    "deprecatedSource" => DeprecatedSource => deprecated_source,
    "firstTimestamp" => FirstTimestamp => first_timestamp,
    "deprecatedFirstTimestamp" => DeprecatedFirstTimestamp => deprecated_first_timestamp,
    "lastTimestamp" => LastTimestamp => last_timestamp,
    "deprecatedLastTimestamp" => DeprecatedLastTimestamp => deprecated_last_timestamp,
    "eventTime" => EventTime => event_time,
    "series" => Series => series,
    "reportingComponent" => ReportingComponent => reporting_component,
    "reportingController" => ReportingController => reporting_controller,
    "reportingInstance" => ReportingInstance => reporting_instance,
    "action" => Action => action,
    "related" => Related => related,
    "name" => Name => name,
    "namespace" => Namespace => namespace,
    "uid" => Uid => uid,
    "resourceVersion" => ResourceVersion => resource_version,
    "creationTimestamp" => CreationTimestamp => creation_timestamp,
}

impl TopFields {
    /// The core/v1 name where present, else its events.k8s.io twin; the metadata object, else
    /// the inlined fields.
    fn resolve(self) -> ApiEvent {
        let metadata = match self.metadata {
            Lenient::Is(metadata) => metadata,
            _ => Metadata {
                name: self.name.into_text(),
                namespace: self.namespace.into_text(),
                uid: self.uid.into_text(),
                resource_version: self.resource_version.into_text(),
                creation_timestamp: self.creation_timestamp.into_time_text(),
                ..Metadata::default()
            },
        };
        ApiEvent {
            not_an_object: None,
            kind: self.kind.into_text(),
            api_version: self.api_version.into_text(),
            metadata,
            involved_object: self.involved_object.or(self.regarding).into_option(),
            reason: self.reason.into_text(),
            message: self.message.or(self.note).into_text(),
            event_type: self.event_type.into_text(),
            count: self.count.or(self.deprecated_count).into_integer(),
            source: self.source.or(self.deprecated_source).into_option(),
            first_timestamp: self
                .first_timestamp
                .or(self.deprecated_first_timestamp)
                .into_time_text(),
            last_timestamp: self
                .last_timestamp
                .or(self.deprecated_last_timestamp)
                .into_time_text(),
            event_time: self.event_time.into_time_text(),
            series: self.series.into_option(),
            reporting_component: self
                .reporting_component
                .or(self.reporting_controller)
                .into_text(),
            reporting_instance: self.reporting_instance.into_text(),
            action: self.action.into_text(),
            related: self.related.into_option(),
        }
    }
}

impl ReadMap for Metadata {
    fn read_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut metadata = Metadata::default();
        // Metadata keys are read as written: the Go type has no metadata object.
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "name" => metadata.name = map.next_value::<Loose>()?.into_text(),
                "namespace" => metadata.namespace = map.next_value::<Loose>()?.into_text(),
                "uid" => metadata.uid = map.next_value::<Loose>()?.into_text(),
                "resourceVersion" => {
                    metadata.resource_version = map.next_value::<Loose>()?.into_text()
                }
                "creationTimestamp" => {
                    metadata.creation_timestamp = map.next_value::<Loose>()?.into_time_text()
                }
                "labels" => metadata.labels = map.next_value::<StringMap>()?.0,
                "annotations" => metadata.annotations = map.next_value::<StringMap>()?.0,
                // Field ownership bookkeeping: large, and says nothing about what happened.
                "managedFields" => {
                    map.next_value::<IgnoredAny>()?;
                }
                _ => match map.next_value::<Value>()? {
                    Value::Null => {}
                    value => {
                        metadata.other.insert(key, value);
                    }
                },
            }
        }
        Ok(metadata)
    }
}

impl ReadMap for ObjectReference {
    fn read_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        const FIELDS: [&str; 7] = [
            "kind",
            "namespace",
            "name",
            "uid",
            "apiVersion",
            "resourceVersion",
            "fieldPath",
        ];
        read_scalar_fields(
            map,
            |key| known(FIELDS, key),
            |reference: &mut Self, key, value| {
                let slot = match key {
                    "kind" => &mut reference.kind,
                    "namespace" => &mut reference.namespace,
                    "name" => &mut reference.name,
                    "uid" => &mut reference.uid,
                    "apiVersion" => &mut reference.api_version,
                    "resourceVersion" => &mut reference.resource_version,
                    _ => &mut reference.field_path,
                };
                *slot = value.into_text();
            },
        )
    }
}

impl ReadMap for EventSource {
    fn read_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let fields = |key: &str| known(["component", "host"], key);
        read_scalar_fields(map, fields, |source: &mut Self, key, value| match key {
            "component" => source.component = value.into_text(),
            _ => source.host = value.into_text(),
        })
    }
}

impl ReadMap for EventSeries {
    fn read_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        let fields = |key: &str| known(["count", "lastObservedTime", "state"], key);
        read_scalar_fields(map, fields, |series: &mut Self, key, value| match key {
            "count" => series.count = value.into_integer(),
            "lastObservedTime" => series.last_observed_time = value.into_time_text(),
            _ => series.state = value.into_text(),
        })
    }
}

/// Reads an object whose fields are scalars: `field` names each known key (its API name),
/// `set` stores its value; other keys are skipped without being built.
fn read_scalar_fields<'de, A, T, K>(
    mut map: A,
    field: impl Fn(&str) -> Option<K> + Copy,
    mut set: impl FnMut(&mut T, K, Loose),
) -> Result<T, A::Error>
where
    A: MapAccess<'de>,
    T: Default,
{
    let mut object = T::default();
    while let Some(key) = map.next_key_seed(KeyWith(field))? {
        match key {
            Some(key) => set(&mut object, key, map.next_value()?),
            None => {
                map.next_value::<IgnoredAny>()?;
            }
        }
    }
    Ok(object)
}

/// The API name of `key` when it is one of `names`.
fn known<const N: usize>(names: [&'static str; N], key: &str) -> Option<&'static str> {
    let key = api_name(key);
    names.into_iter().find(|name| *name == key)
}

/// Labels or annotations: text values kept, others dropped; not an object is empty.
struct StringMap(BTreeMap<String, String>);

impl ReadMap for StringMap {
    fn read_map<'de, A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut entries = BTreeMap::new();
        while let Some((key, value)) = map.next_entry::<String, Loose>()? {
            match value.into_text() {
                Some(text) => entries.insert(key, text),
                None => entries.remove(&key),
            };
        }
        Ok(Self(entries))
    }
}

impl<'de> Deserialize<'de> for StringMap {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let entries = match Lenient::<StringMap>::deserialize(deserializer)? {
            Lenient::Is(map) => map.0,
            _ => BTreeMap::new(),
        };
        Ok(Self(entries))
    }
}

/// An object type read key by key from a JSON object.
trait ReadMap: Sized {
    fn read_map<'de, A: MapAccess<'de>>(map: A) -> Result<Self, A::Error>;
}

/// A found value that may be `null` (absent).
trait Present: Sized {
    fn is_null(&self) -> bool;

    /// This value where present (even when unusable), else `other`.
    fn or(self, other: Self) -> Self {
        if self.is_null() { other } else { self }
    }
}

/// An object field: `null`, something that is not an object (its JSON type), or the object read.
#[derive(Default)]
enum Lenient<T> {
    #[default]
    Null,
    WrongType(&'static str),
    Is(T),
}

impl<T> Lenient<T> {
    fn into_option(self) -> Option<T> {
        match self {
            Self::Is(value) => Some(value),
            _ => None,
        }
    }
}

impl<T> Present for Lenient<T> {
    fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
}

impl<'de, T: ReadMap> Deserialize<'de> for Lenient<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientObject(std::marker::PhantomData))
    }
}

struct LenientObject<T>(std::marker::PhantomData<T>);

impl<'de, T: ReadMap> Visitor<'de> for LenientObject<T> {
    type Value = Lenient<T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::read_map(map).map(Lenient::Is)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
        drain_seq(seq)?;
        Ok(Lenient::WrongType("an array"))
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Lenient::Null)
    }

    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Lenient::Null)
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Lenient::WrongType("a boolean"))
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Lenient::WrongType("a number"))
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Lenient::WrongType("a number"))
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Lenient::WrongType("a number"))
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Lenient::WrongType("a string"))
    }
}

/// A scalar field as found; objects and arrays are skipped without being built.
#[derive(Default)]
enum Loose {
    #[default]
    Null,
    Text(String),
    Unsigned(u64),
    Signed(i64),
    Float(f64),
    Bool(bool),
    /// An object or an array.
    Structure,
}

impl Loose {
    /// A string, or the text of a number or boolean (as serde_json writes them).
    fn into_text(self) -> Option<String> {
        match self {
            Self::Text(text) => Some(text),
            Self::Unsigned(n) => Some(n.to_string()),
            Self::Signed(n) => Some(n.to_string()),
            Self::Float(n) => serde_json::Number::from_f64(n).map(|n| n.to_string()),
            Self::Bool(b) => Some(b.to_string()),
            Self::Null | Self::Structure => None,
        }
    }

    /// A time kept verbatim as text; `{}` (a zero MicroTime some servers print) is absent.
    fn into_time_text(self) -> Option<String> {
        match self {
            Self::Text(text) if !text.is_empty() => Some(text),
            _ => None,
        }
    }

    /// An integer, a float cut to one, or a string holding an integer.
    fn into_integer(self) -> Option<i64> {
        match self {
            Self::Signed(n) => Some(n),
            Self::Unsigned(n) => Some(i64::try_from(n).unwrap_or(i64::MAX)),
            Self::Float(n) => Some(n as i64),
            Self::Text(text) => text.trim().parse().ok(),
            Self::Null | Self::Bool(_) | Self::Structure => None,
        }
    }
}

impl Present for Loose {
    fn is_null(&self) -> bool {
        matches!(self, Self::Null)
    }
}

impl<'de> Deserialize<'de> for Loose {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LooseVisitor)
    }
}

struct LooseVisitor;

impl<'de> Visitor<'de> for LooseVisitor {
    type Value = Loose;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Loose, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Loose::Structure)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Loose, A::Error> {
        drain_seq(seq)?;
        Ok(Loose::Structure)
    }

    fn visit_unit<E>(self) -> Result<Loose, E> {
        Ok(Loose::Null)
    }

    fn visit_none<E>(self) -> Result<Loose, E> {
        Ok(Loose::Null)
    }

    fn visit_bool<E>(self, value: bool) -> Result<Loose, E> {
        Ok(Loose::Bool(value))
    }

    fn visit_i64<E>(self, value: i64) -> Result<Loose, E> {
        Ok(Loose::Signed(value))
    }

    fn visit_u64<E>(self, value: u64) -> Result<Loose, E> {
        Ok(Loose::Unsigned(value))
    }

    fn visit_f64<E>(self, value: f64) -> Result<Loose, E> {
        Ok(Loose::Float(value))
    }

    fn visit_str<E>(self, value: &str) -> Result<Loose, E> {
        Ok(Loose::Text(value.to_owned()))
    }

    /// An owned `Value`'s strings move instead of being copied.
    fn visit_string<E>(self, value: String) -> Result<Loose, E> {
        Ok(Loose::Text(value))
    }
}

fn drain_seq<'de, A: SeqAccess<'de>>(mut seq: A) -> Result<(), A::Error> {
    while seq.next_element::<IgnoredAny>()?.is_some() {}
    Ok(())
}

/// Reads a map key through `F` as a borrowed `&str`, so a known key costs no allocation.
struct KeyWith<F>(F);

impl<'de, K, F: FnOnce(&str) -> K> DeserializeSeed<'de> for KeyWith<F> {
    type Value = K;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'de, K, F: FnOnce(&str) -> K> Visitor<'de> for KeyWith<F> {
    type Value = K;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<K, E> {
        Ok((self.0)(key))
    }
}

/// The internal Go type's field names (what old `kubectl cluster-info dump` printed) and the API
/// names they stand for, sorted by Go name for the binary search in [`api_name`].
const GO_FIELD_NAMES: [(&str, &str); 26] = [
    ("APIVersion", "apiVersion"),
    ("Action", "action"),
    ("Component", "component"),
    ("Count", "count"),
    ("CreationTimestamp", "creationTimestamp"),
    ("EventTime", "eventTime"),
    ("FieldPath", "fieldPath"),
    ("FirstTimestamp", "firstTimestamp"),
    ("Host", "host"),
    ("InvolvedObject", "involvedObject"),
    ("Kind", "kind"),
    ("LastObservedTime", "lastObservedTime"),
    ("LastTimestamp", "lastTimestamp"),
    ("Message", "message"),
    ("Metadata", "metadata"),
    ("Name", "name"),
    ("Namespace", "namespace"),
    ("Reason", "reason"),
    ("Related", "related"),
    ("ReportingComponent", "reportingComponent"),
    ("ReportingInstance", "reportingInstance"),
    ("ResourceVersion", "resourceVersion"),
    ("Series", "series"),
    ("Source", "source"),
    ("Type", "type"),
    ("UID", "uid"),
];

/// The API's name for a key: the key itself, or for the internal Go type's capitalised keys
/// (`InvolvedObject`, `UID`, `APIVersion`, or the same in any other capitalisation) the API
/// field it stands for.
fn api_name(key: &str) -> &str {
    if !key.starts_with(|c: char| c.is_ascii_uppercase()) {
        return key;
    }
    let go_spelling = GO_FIELD_NAMES
        .binary_search_by(|(go, _)| (*go).cmp(key))
        .ok()
        .map(|at| GO_FIELD_NAMES[at].1);
    go_spelling
        .or_else(|| {
            GO_FIELD_NAMES
                .iter()
                .map(|(_, api)| *api)
                .find(|api| api.eq_ignore_ascii_case(key))
        })
        .unwrap_or(key)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::fixtures::benchmark_mix;

    #[test]
    fn go_field_names_are_sorted_and_each_is_its_api_name_capitalised() {
        assert!(GO_FIELD_NAMES.windows(2).all(|w| w[0].0 < w[1].0), "sorted");
        for (go, api) in GO_FIELD_NAMES {
            assert!(go.eq_ignore_ascii_case(api), "{go} / {api}");
            assert_eq!(api_name(go), api);
        }
    }

    #[test]
    fn go_field_names_map_to_api_names() {
        assert_eq!(api_name("InvolvedObject"), "involvedObject");
        assert_eq!(api_name("UID"), "uid");
        assert_eq!(api_name("APIVersion"), "apiVersion");
        assert_eq!(
            api_name("LastObservedTime"),
            "lastObservedTime",
            "a series field"
        );
        assert_eq!(api_name("REASON"), "reason", "any capitalisation");
        assert_eq!(api_name("reason"), "reason");
        assert_eq!(api_name("Unknown"), "Unknown");
    }

    /// Text, a `Value` borrowed and a `Value` owned are three ways into one reading.
    #[test]
    fn text_borrowed_and_owned_values_decode_alike() {
        for event in benchmark_mix() {
            let text = serde_json::to_string(&event).expect("a value serializes");
            let from_text: ApiEvent = serde_json::from_str(&text).expect("lenient");
            assert_eq!(from_text, ApiEvent::from(&event), "{text}");
            assert_eq!(from_text, ApiEvent::from(event), "{text}");
        }
    }

    #[test]
    fn a_core_v1_field_hides_its_twin_even_when_unusable_but_null_does_not() {
        let event = ApiEvent::from(json!({
            "message": {"not": "text"}, "note": "from the events API",
            "count": null, "deprecatedCount": "4",
        }));
        assert_eq!(event.message, None);
        assert_eq!(event.count, Some(4));
    }

    #[test]
    fn scalars_become_text_as_json_writes_them() {
        let event = ApiEvent::from(json!({
            "reason": 12, "type": true, "action": 1.5, "message": -3,
            "metadata": {"name": ["a"], "uid": {"x": 1}, "resourceVersion": 18446744073709551615u64},
            "count": 1e3,
        }));
        assert_eq!(event.reason.as_deref(), Some("12"));
        assert_eq!(event.event_type.as_deref(), Some("true"));
        assert_eq!(event.action.as_deref(), Some("1.5"));
        assert_eq!(event.message.as_deref(), Some("-3"));
        assert_eq!(event.metadata.name, None);
        assert_eq!(event.metadata.uid, None);
        assert_eq!(event.resource_version(), "18446744073709551615");
        assert_eq!(event.count, Some(1000));
    }

    #[test]
    fn managed_fields_and_unknown_keys_are_skipped_and_other_metadata_kept() {
        let text = r#"{"metadata":{"name":"n","managedFields":[{"manager":"kubelet","fieldsV1":{"f:count":{}}}],
            "generateName":"web-","selfLink":null,"labels":{"a":"1","b":{"x":1},"c":2}},
            "unknownTop":{"deep":[1,2,{"x":null}]},"reason":"BackOff"}"#;
        let event: ApiEvent = serde_json::from_str(text).expect("lenient");
        assert_eq!(event.name(), "n");
        assert_eq!(event.reason.as_deref(), Some("BackOff"));
        assert_eq!(event.metadata.other.len(), 1, "{:?}", event.metadata.other);
        assert_eq!(event.metadata.other["generateName"], "web-");
        let labels: Vec<_> = event.metadata.labels.iter().collect();
        assert_eq!(
            labels,
            [
                (&"a".to_owned(), &"1".to_owned()),
                (&"c".into(), &"2".into())
            ]
        );
    }

    #[test]
    fn what_is_not_an_object_says_what_it_is() {
        for (text, found) in [
            ("[1]", "an array"),
            ("null", "null"),
            ("7", "a number"),
            ("\"e\"", "a string"),
            ("true", "a boolean"),
        ] {
            let event: ApiEvent = serde_json::from_str(text).expect("lenient");
            assert_eq!(event.not_an_object, Some(found), "{text}");
        }
    }

    #[test]
    fn broken_json_is_still_an_error() {
        assert!(serde_json::from_str::<ApiEvent>(r#"{"reason": "A""#).is_err());
        assert!(serde_json::from_str::<ApiEvent>(r#"{"metadata": {"name": }"#).is_err());
    }
}
