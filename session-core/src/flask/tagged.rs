//! Flask's TaggedJSON, mapped to plain serde.
//!
//! Flask writes Python values with no JSON equivalent as one-key objects with a tag key
//! (`{" t": [..]}` for a tuple). sessionkit reads them into a *typed form* where each becomes a
//! one-key object with a `$` name, and the wrapper types of this module serialize to exactly
//! that form, so a struct field of type [`Tuple`], [`Bytes`], [`Markup`], [`Uuid`] or
//! [`DateTime`] round-trips with Flask:
//!
//! | Python | Flask tag | typed form | Rust |
//! |---|---|---|---|
//! | `tuple` | `" t"` | `{"$tuple": [..]}` | [`Tuple<T>`] (`T` a Rust tuple or `Vec`) |
//! | `bytes` | `" b"` | `{"$bytes": "<hex>"}` | [`Bytes`] |
//! | `Markup` | `" m"` | `{"$markup": ".."}` | [`Markup`] |
//! | `UUID` | `" u"` | `{"$uuid": "8-4-4-4-12"}` | [`Uuid`] |
//! | `datetime` | `" d"` | `{"$datetime": "YYYY-MM-DDTHH:MM:SSZ"}` | [`DateTime`] |
//! | one-key dict whose key is a tag | `" di"` | the plain dict | a map |
//!
//! The limit of this mapping: a one-key object whose key is one of the five `$` names above is
//! taken for that type when written. Untagged JSON maps to plain serde.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::de::{self, Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::pyjson;
use crate::httpdate;

const TAG_KEYS: [&str; 6] = [" t", " b", " m", " u", " d", " di"];

/// Replaces Flask tags by the typed form, bottom-up as Flask does.
pub(crate) fn untag(value: Value) -> Result<Value, String> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(untag)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(map) => {
            let map = map
                .into_iter()
                .map(|(k, v)| Ok((k, untag(v)?)))
                .collect::<Result<Map<String, Value>, String>>()?;
            if map.len() == 1 {
                let (key, inner) = map.iter().next().expect("one entry");
                if TAG_KEYS.contains(&key.as_str()) {
                    return untag_one(key, inner.clone());
                }
            }
            Ok(Value::Object(map))
        }
        other => Ok(other),
    }
}

fn untag_one(tag: &str, inner: Value) -> Result<Value, String> {
    let text = || {
        inner
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| format!("tag {tag:?} needs a string"))
    };
    Ok(match tag {
        " t" if inner.is_array() => wrap("$tuple", inner),
        " b" => {
            let bytes = STANDARD
                .decode(text()?)
                .map_err(|e| format!("bad bytes tag: {e}"))?;
            wrap("$bytes", Value::String(hex(&bytes)))
        }
        " m" => wrap("$markup", Value::String(text()?)),
        " u" => wrap("$uuid", Value::String(Uuid::parse(&text()?)?.to_string())),
        // Flask's `parse_date` returns None for a date it cannot read.
        " d" => httpdate::parse_imf_fixdate(&text()?).map_or(Value::Null, |s| {
            wrap("$datetime", Value::String(httpdate::rfc3339(s)))
        }),
        " di" => {
            let Value::Object(escaped) = inner else {
                return Err("bad dict tag".into());
            };
            let (key, value) = escaped
                .into_iter()
                .next()
                .filter(|(k, _)| k.ends_with("__"))
                .ok_or("bad dict tag")?;
            wrap(&key[..key.len() - 2], value)
        }
        _ => return Err(format!("bad content for tag {tag:?}")),
    })
}

/// Writes `value` (typed form) as the TaggedJSON text Flask would write, in one pass: the
/// tagged tree is never built, only the small typed values (`$tuple`, `$bytes`, ...).
pub(crate) fn write_tagged(value: &Value, out: &mut String) -> Result<(), String> {
    match value {
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_tagged(item, out)?;
            }
            out.push(']');
            Ok(())
        }
        Value::Object(map) => write_tagged_object(map, out),
        other => {
            pyjson::write(other, out);
            Ok(())
        }
    }
}

/// [`write_tagged`] for a map: a typed wrapper, a dict whose one key looks like a tag (Flask
/// escapes it as ` di`), or an ordinary dict.
pub(crate) fn write_tagged_object(
    map: &Map<String, Value>,
    out: &mut String,
) -> Result<(), String> {
    let single = (map.len() == 1).then(|| map.iter().next()).flatten();
    if let Some((key, inner)) = single {
        if key.starts_with('$') {
            if let Some(typed) = tag_typed(key, inner) {
                pyjson::write(&typed?, out);
                return Ok(());
            }
        }
        if TAG_KEYS.contains(&key.as_str()) {
            out.push_str("{\" di\":{");
            pyjson::write_string(&format!("{key}__"), out);
            out.push(':');
            write_tagged(inner, out)?;
            out.push_str("}}");
            return Ok(());
        }
    }
    out.push('{');
    for (i, (key, item)) in map.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        pyjson::write_string(key, out);
        out.push(':');
        write_tagged(item, out)?;
    }
    out.push('}');
    Ok(())
}

/// Replaces the typed form by Flask tags, escaping one-key dicts whose key is a tag.
pub(crate) fn tag(value: &Value) -> Result<Value, String> {
    match value {
        Value::Array(items) => items
            .iter()
            .map(tag)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Object(map)
            if map.len() == 1 && map.keys().next().is_some_and(|k| k.starts_with('$')) =>
        {
            let (key, inner) = map.iter().next().expect("one entry");
            tag_typed(key, inner).unwrap_or_else(|| tag_dict(map))
        }
        Value::Object(map) => tag_dict(map),
        other => Ok(other.clone()),
    }
}

fn tag_dict(map: &Map<String, Value>) -> Result<Value, String> {
    let tagged = map
        .iter()
        .map(|(k, v)| Ok((k.clone(), tag(v)?)))
        .collect::<Result<Map<_, _>, String>>()?;
    match tagged.iter().next() {
        Some((key, inner)) if tagged.len() == 1 && TAG_KEYS.contains(&key.as_str()) => {
            Ok(wrap(" di", wrap(&format!("{key}__"), inner.clone())))
        }
        _ => Ok(Value::Object(tagged)),
    }
}

/// `None` when `key` is not one of the typed names (then it is an ordinary dict).
fn tag_typed(key: &str, inner: &Value) -> Option<Result<Value, String>> {
    let text = || {
        inner
            .as_str()
            .ok_or_else(|| format!("{key} needs a string"))
    };
    Some(match key {
        "$tuple" => match inner {
            Value::Array(items) => items
                .iter()
                .map(tag)
                .collect::<Result<_, _>>()
                .map(|t| wrap(" t", Value::Array(t))),
            _ => Err("$tuple needs an array".into()),
        },
        "$bytes" => text()
            .and_then(|t| unhex(t).ok_or_else(|| "$bytes needs hex".into()))
            .map(|b| wrap(" b", Value::String(STANDARD.encode(b)))),
        "$markup" => text().map(|t| wrap(" m", Value::String(t.to_owned()))),
        "$uuid" => text()
            .and_then(Uuid::parse)
            .map(|u| wrap(" u", Value::String(hex(u.0)))),
        "$datetime" => text()
            .and_then(|t| {
                httpdate::parse_rfc3339(t)
                    .ok_or_else(|| "$datetime needs YYYY-MM-DDTHH:MM:SSZ".into())
            })
            .map(|s| wrap(" d", Value::String(httpdate::imf_fixdate(s)))),
        _ => return None,
    })
}

fn wrap(key: &str, value: Value) -> Value {
    let mut map = Map::new();
    map.insert(key.to_owned(), value);
    Value::Object(map)
}

use hex::encode as hex;

fn unhex(text: &str) -> Option<Vec<u8>> {
    hex::decode(text).ok()
}

/// A Python `tuple`: `T` is a Rust tuple (or a `Vec`) of the items.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tuple<T>(pub T);

/// Python `bytes`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Bytes(pub Vec<u8>);

/// A `markupsafe.Markup` string: HTML that Jinja will not escape again.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Markup(pub String);

/// A Python `uuid.UUID`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Uuid(pub [u8; 16]);

/// A Python `datetime` (always UTC, to the second) as Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct DateTime(pub i64);

impl Uuid {
    /// Parses the forms Python's `uuid.UUID` accepts: 32 hex digits, with or without dashes,
    /// braces or a `urn:uuid:` prefix, in any case.
    ///
    /// # Errors
    ///
    /// A message when the text is not a UUID.
    pub fn parse(text: &str) -> Result<Self, String> {
        let lower = text.to_ascii_lowercase();
        let bare = lower.strip_prefix("urn:uuid:").unwrap_or(&lower);
        let bare = bare
            .trim_start_matches('{')
            .trim_end_matches('}')
            .replace('-', "");
        let bytes: [u8; 16] = unhex(&bare)
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| format!("bad UUID {text:?}"))?;
        Ok(Self(bytes))
    }
}

impl fmt::Display for Uuid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let h = hex(self.0);
        write!(
            f,
            "{}-{}-{}-{}-{}",
            &h[..8],
            &h[8..12],
            &h[12..16],
            &h[16..20],
            &h[20..]
        )
    }
}

fn one_entry<S: Serializer, V: Serialize + ?Sized>(
    serializer: S,
    key: &str,
    value: &V,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(1))?;
    map.serialize_entry(key, value)?;
    map.end()
}

/// Reads `{"<key>": V}` and nothing else.
struct OneEntry<V> {
    key: &'static str,
    value: std::marker::PhantomData<V>,
}

impl<'de, V: Deserialize<'de>> Visitor<'de> for OneEntry<V> {
    type Value = V;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "an object with the single key {:?}", self.key)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<V, A::Error> {
        let key: String = map
            .next_key()?
            .ok_or_else(|| de::Error::missing_field(self.key))?;
        if key != self.key {
            return Err(de::Error::custom(format!(
                "expected the key {:?}, found {key:?}",
                self.key
            )));
        }
        let value = map.next_value()?;
        if map.next_key::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::custom(format!("{} takes one key", self.key)));
        }
        Ok(value)
    }
}

fn read_one<'de, D: Deserializer<'de>, V: Deserialize<'de>>(
    deserializer: D,
    key: &'static str,
) -> Result<V, D::Error> {
    deserializer.deserialize_map(OneEntry {
        key,
        value: std::marker::PhantomData,
    })
}

impl<T: Serialize> Serialize for Tuple<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        one_entry(s, "$tuple", &self.0)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Tuple<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_one(d, "$tuple").map(Self)
    }
}

impl Serialize for Bytes {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        one_entry(s, "$bytes", &hex(&self.0))
    }
}

impl<'de> Deserialize<'de> for Bytes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: String = read_one(d, "$bytes")?;
        unhex(&text)
            .map(Self)
            .ok_or_else(|| de::Error::custom("$bytes needs lowercase hex"))
    }
}

impl Serialize for Markup {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        one_entry(s, "$markup", &self.0)
    }
}

impl<'de> Deserialize<'de> for Markup {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        read_one(d, "$markup").map(Self)
    }
}

impl Serialize for Uuid {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        one_entry(s, "$uuid", &self.to_string())
    }
}

impl<'de> Deserialize<'de> for Uuid {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: String = read_one(d, "$uuid")?;
        Self::parse(&text).map_err(de::Error::custom)
    }
}

impl Serialize for DateTime {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        one_entry(s, "$datetime", &httpdate::rfc3339(self.0))
    }
}

impl<'de> Deserialize<'de> for DateTime {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text: String = read_one(d, "$datetime")?;
        httpdate::parse_rfc3339(&text)
            .map(Self)
            .ok_or_else(|| de::Error::custom("$datetime needs YYYY-MM-DDTHH:MM:SSZ"))
    }
}
