//! Flask-Session 0.8's record values: msgspec msgpack (or JSON) of the session dict, read and
//! written without ever running pickle.

use std::fmt;

use rmpv::{Integer, Utf8String, Value};

/// The session dict of a record, keys in their stored order (Flask-Session keeps insertion
/// order, and a new session starts with `_permanent`).
pub type Entries = Vec<(Value, Value)>;

/// Why a stored value is not read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RecordError {
    /// A pickle (Flask-Session's fallback, and the whole format of its cachelib and filesystem
    /// backends). Unpickling runs code chosen by whoever wrote the store, so it is never done.
    #[error(
        "a pickle record: refused, never unpickled (it could run any code); the session \
         starts fresh"
    )]
    Pickle,
    /// Neither msgpack nor JSON, or trailing bytes, or invalid UTF-8.
    #[error("not a Flask-Session record: {0}")]
    Corrupt(String),
    /// Valid, but not a map (nor a list of `[key, value]` pairs): a struct written as an array,
    /// a bare string or number.
    #[error("a Flask-Session record that is not a map")]
    NotAMap,
}

/// Reads a stored value as Flask-Session 0.8 does (msgpack, then JSON), except that a pickle
/// is refused. `Ok(None)` is a missing session: an empty value or a top-level nil.
///
/// # Errors
///
/// [`RecordError`] for a pickle, a corrupt value or one that is not a map.
pub fn decode(bytes: &[u8]) -> Result<Option<Entries>, RecordError> {
    if bytes.is_empty() {
        return Ok(None);
    }
    // PROTO opcode (protocols 2 to 5), or cachelib's `!` marker before one.
    if bytes[0] == 0x80 || bytes.starts_with(&[b'!', 0x80]) {
        return Err(RecordError::Pickle);
    }
    let value = match read_msgpack(bytes) {
        Some(value) => value,
        None => read_json(bytes)?,
    };
    match value {
        Value::Nil => Ok(None),
        Value::Map(entries) => Ok(Some(canonical_entries(entries)?)),
        // `dict(list_of_pairs)`, which Flask-Session's constructor accepts.
        Value::Array(items) => items
            .into_iter()
            .map(|item| match item {
                Value::Array(pair) if pair.len() == 2 => {
                    let mut pair = pair.into_iter();
                    Ok((
                        pair.next().unwrap_or(Value::Nil),
                        pair.next().unwrap_or(Value::Nil),
                    ))
                }
                _ => Err(RecordError::NotAMap),
            })
            .collect::<Result<Entries, _>>()
            .and_then(canonical_entries)
            .map(Some),
        _ => Err(RecordError::NotAMap),
    }
}

fn read_msgpack(bytes: &[u8]) -> Option<Value> {
    let mut rest = bytes;
    let value = rmpv::decode::read_value(&mut rest).ok()?;
    rest.is_empty().then_some(value)
}

fn read_json(bytes: &[u8]) -> Result<Value, RecordError> {
    serde_json::from_slice::<InOrder>(&crate::flask::bigint::protect(bytes))
        .map(|v| v.0)
        .map_err(|e| RecordError::Corrupt(e.to_string()))
}

/// A JSON value read into msgpack with its objects' keys in document order (msgspec's JSON
/// decoder keeps them, and a rewrite must too).
#[derive(Debug)]
pub struct InOrder(pub Value);

impl<'de> serde::Deserialize<'de> for InOrder {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(InOrderVisitor).map(InOrder)
    }
}

struct InOrderVisitor;

impl<'de> serde::de::Visitor<'de> for InOrderVisitor {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Nil)
    }
    fn visit_bool<E>(self, b: bool) -> Result<Value, E> {
        Ok(Value::Boolean(b))
    }
    fn visit_u64<E>(self, n: u64) -> Result<Value, E> {
        Ok(Value::Integer(Integer::from(n)))
    }
    fn visit_i64<E>(self, n: i64) -> Result<Value, E> {
        Ok(Value::Integer(Integer::from(n)))
    }
    fn visit_f64<E>(self, f: f64) -> Result<Value, E> {
        Ok(Value::F64(f))
    }
    fn visit_str<E>(self, s: &str) -> Result<Value, E> {
        if let Some(digits) = crate::flask::bigint::digits(s) {
            return Ok(Value::Ext(BIG_INT, digits.as_bytes().to_vec()));
        }
        Ok(Value::String(Utf8String::from(s)))
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::new();
        while let Some(InOrder(item)) = seq.next_element()? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut entries = Vec::new();
        while let Some((key, InOrder(value))) = map.next_entry::<String, InOrder>()? {
            entries.push((Value::String(Utf8String::from(key)), value));
        }
        Ok(Value::Map(entries))
    }
}

/// The record as msgspec's JSON encoder writes it (`SESSION_SERIALIZATION_FORMAT = "json"`):
/// compact, keys in order, binary as base64, timestamps as RFC 3339 text, non-finite floats
/// as `null`, other keys than strings as their text.
#[must_use]
pub fn encode_json(entries: &Entries) -> Vec<u8> {
    let mut out = String::with_capacity(64);
    write_json_map(&mut out, entries);
    out.into_bytes()
}

fn write_json_map(out: &mut String, entries: &Entries) {
    out.push('{');
    for (i, (key, value)) in entries.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        let key = match key {
            Value::String(s) => s.as_str().unwrap_or_default().to_owned(),
            other => to_json(other).to_string().trim_matches('"').to_owned(),
        };
        out.push_str(&serde_json::Value::String(key).to_string());
        out.push(':');
        write_json(out, value);
    }
    out.push('}');
}

fn write_json(out: &mut String, value: &Value) {
    use base64::Engine as _;
    match value {
        Value::Binary(b) => out.push_str(
            &serde_json::Value::String(base64::engine::general_purpose::STANDARD.encode(b))
                .to_string(),
        ),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_json(out, item);
            }
            out.push(']');
        }
        Value::Map(entries) => write_json_map(out, entries),
        Value::Ext(BIG_INT, digits) if big_int(digits).is_some() => {
            out.push_str(big_int(digits).unwrap_or_default());
        }
        other => out.push_str(&to_json(other).to_string()),
    }
}

/// Duplicate keys resolved as Python's dict does (the last value wins, at the first key's
/// place), strings checked for UTF-8, values made canonical.
fn canonical_entries(entries: Entries) -> Result<Entries, RecordError> {
    let mut out: Entries = Vec::with_capacity(entries.len());
    for (key, value) in entries {
        let (key, value) = (canonical(key)?, canonical(value)?);
        // Keys are canonical here (integers normalized, floats widened), so `==` is Python's
        // key equality for every key type a session holds.
        match out.iter_mut().find(|(k, _)| *k == key) {
            Some(slot) => slot.1 = value,
            None => out.push((key, value)),
        }
    }
    Ok(out)
}

/// What msgspec would read back: float32 widened, timestamps at microsecond precision,
/// strings valid UTF-8.
fn canonical(value: Value) -> Result<Value, RecordError> {
    Ok(match value {
        Value::F32(f) => Value::F64(f64::from(f)),
        Value::String(s) if s.as_str().is_none() => {
            return Err(RecordError::Corrupt("a string that is not UTF-8".into()))
        }
        Value::Array(items) => {
            Value::Array(items.into_iter().map(canonical).collect::<Result<_, _>>()?)
        }
        Value::Map(entries) => Value::Map(canonical_entries(entries)?),
        Value::Ext(-1, data) => {
            let (secs, nanos) = timestamp(&data)
                .ok_or_else(|| RecordError::Corrupt("a malformed msgpack timestamp".into()))?;
            // msgspec reads nanoseconds into a datetime's microseconds, rounding.
            let micros = (u64::from(nanos) + 500) / 1000;
            let (secs, micros) = if micros == 1_000_000 {
                (secs + 1, 0)
            } else {
                (secs, micros)
            };
            Value::Ext(-1, timestamp_bytes(secs, (micros * 1000) as u32))
        }
        other => other,
    })
}

/// `(seconds, nanoseconds)` of a msgpack timestamp (ext -1, 4, 8 or 12 bytes).
#[must_use]
pub fn timestamp(data: &[u8]) -> Option<(i64, u32)> {
    match data.len() {
        4 => Some((i64::from(u32::from_be_bytes(data.try_into().ok()?)), 0)),
        8 => {
            let n = u64::from_be_bytes(data.try_into().ok()?);
            let nanos = (n >> 34) as u32;
            let secs = i64::try_from(n & 0x3_ffff_ffff).ok()?;
            (nanos < 1_000_000_000).then_some((secs, nanos))
        }
        12 => {
            let nanos = u32::from_be_bytes(data[..4].try_into().ok()?);
            let secs = i64::from_be_bytes(data[4..].try_into().ok()?);
            (nanos < 1_000_000_000).then_some((secs, nanos))
        }
        _ => None,
    }
}

/// The smallest timestamp layout, as msgspec chooses it.
#[must_use]
pub fn timestamp_bytes(secs: i64, nanos: u32) -> Vec<u8> {
    if let Ok(small) = u32::try_from(secs) {
        if nanos == 0 {
            return small.to_be_bytes().to_vec();
        }
    }
    if let Some(secs) = u64::try_from(secs).ok().filter(|s| *s < 1 << 34) {
        return ((u64::from(nanos) << 34) | secs).to_be_bytes().to_vec();
    }
    let mut out = nanos.to_be_bytes().to_vec();
    out.extend_from_slice(&secs.to_be_bytes());
    out
}

/// The record bytes, as msgspec writes them: the smallest width for every integer, string,
/// binary, array and map header, floats as float64, keys in their order. A record holding an
/// integer beyond 64 bits (read from a JSON record) is written as JSON instead, which keeps it
/// exactly and which Flask-Session reads too.
#[must_use]
pub fn encode(entries: &Entries) -> Vec<u8> {
    if entries
        .iter()
        .any(|(k, v)| holds_big_int(k) || holds_big_int(v))
    {
        return encode_json(entries);
    }
    let mut out = Vec::with_capacity(64);
    write_map(&mut out, entries);
    out
}

fn write_map(out: &mut Vec<u8>, entries: &Entries) {
    let _ = rmp::encode::write_map_len(out, entries.len() as u32);
    for (key, value) in entries {
        write(out, key);
        write(out, value);
    }
}

fn write(out: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Nil => rmp::encode::write_nil(out).unwrap_or_default(),
        Value::Boolean(b) => rmp::encode::write_bool(out, *b).unwrap_or_default(),
        Value::Integer(n) => {
            if let Some(u) = n.as_u64() {
                let _ = rmp::encode::write_uint(out, u);
            } else if let Some(i) = n.as_i64() {
                let _ = rmp::encode::write_sint(out, i);
            }
        }
        Value::F32(f) => rmp::encode::write_f64(out, f64::from(*f)).unwrap_or_default(),
        Value::F64(f) => rmp::encode::write_f64(out, *f).unwrap_or_default(),
        Value::String(s) => {
            let bytes = s.as_bytes();
            let _ = rmp::encode::write_str_len(out, bytes.len() as u32);
            out.extend_from_slice(bytes);
        }
        Value::Binary(b) => {
            let _ = rmp::encode::write_bin(out, b);
        }
        Value::Array(items) => {
            let _ = rmp::encode::write_array_len(out, items.len() as u32);
            for item in items {
                write(out, item);
            }
        }
        Value::Map(entries) => write_map(out, entries),
        Value::Ext(code, data) => {
            let _ = rmp::encode::write_ext_meta(out, data.len() as u32, *code);
            out.extend_from_slice(data);
        }
    }
}

/// An integer beyond 64 bits read from a JSON record, as its decimal digits: msgpack cannot
/// hold it, so a record holding one is written back as JSON (which Flask-Session reads too).
pub const BIG_INT: i8 = 127;

/// The digits of a [`BIG_INT`] extension value.
fn big_int(data: &[u8]) -> Option<&str> {
    let text = std::str::from_utf8(data).ok()?;
    let digits = text.strip_prefix('-').unwrap_or(text);
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(text)
}

fn holds_big_int(value: &Value) -> bool {
    match value {
        Value::Ext(BIG_INT, data) => big_int(data).is_some(),
        Value::Array(items) => items.iter().any(holds_big_int),
        Value::Map(entries) => entries
            .iter()
            .any(|(k, v)| holds_big_int(k) || holds_big_int(v)),
        _ => false,
    }
}

/// A JSON value as msgpack: what msgspec's JSON decoder gives (objects keep their order as
/// `serde_json` hands it over).
pub fn from_json(json: &serde_json::Value) -> Value {
    match json {
        serde_json::Value::Null => Value::Nil,
        serde_json::Value::Bool(b) => Value::Boolean(*b),
        serde_json::Value::Number(n) => n
            .as_u64()
            .map(|u| Value::Integer(Integer::from(u)))
            .or_else(|| n.as_i64().map(|i| Value::Integer(Integer::from(i))))
            .unwrap_or_else(|| Value::F64(n.as_f64().unwrap_or(f64::NAN))),
        serde_json::Value::String(s) => Value::String(Utf8String::from(s.as_str())),
        serde_json::Value::Array(items) => Value::Array(items.iter().map(from_json).collect()),
        serde_json::Value::Object(map) => Value::Map(
            map.iter()
                .map(|(k, v)| (Value::String(Utf8String::from(k.as_str())), from_json(v)))
                .collect(),
        ),
    }
}

/// A msgpack value as the JSON a typed struct reads: binary as an array of bytes, timestamps
/// as RFC 3339 text, maps with other keys than strings and other extensions as `null`.
pub fn to_json(value: &Value) -> serde_json::Value {
    match value {
        Value::Boolean(b) => serde_json::Value::Bool(*b),
        Value::Integer(n) => n
            .as_u64()
            .map(serde_json::Value::from)
            .or_else(|| n.as_i64().map(serde_json::Value::from))
            .unwrap_or(serde_json::Value::Null),
        Value::F32(f) => serde_json::Value::from(f64::from(*f)),
        Value::F64(f) => {
            serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into)
        }
        Value::String(s) => s.as_str().map_or(serde_json::Value::Null, |s| {
            serde_json::Value::String(s.to_owned())
        }),
        Value::Binary(b) => serde_json::Value::from(b.clone()),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Map(entries) => {
            let mut map = serde_json::Map::new();
            for (k, v) in entries {
                match k.as_str() {
                    Some(key) => {
                        map.insert(key.to_owned(), to_json(v));
                    }
                    None => return serde_json::Value::Null,
                }
            }
            serde_json::Value::Object(map)
        }
        Value::Ext(BIG_INT, digits) if big_int(digits).is_some() => {
            serde_json::Value::String(big_int(digits).unwrap_or_default().to_owned())
        }
        Value::Ext(-1, data) => timestamp(data).map_or(serde_json::Value::Null, |(secs, nanos)| {
            serde_json::Value::String(rfc3339(secs, nanos))
        }),
        Value::Ext(..) | Value::Nil => serde_json::Value::Null,
    }
}

/// `2030-01-01T12:30:45.123456+00:00`, as Python's `isoformat()` writes an aware UTC datetime.
#[must_use]
pub fn rfc3339(secs: i64, nanos: u32) -> String {
    let base = crate::httpdate::rfc3339(secs);
    let base = base.trim_end_matches('Z');
    let micros = nanos / 1000;
    if micros == 0 {
        format!("{base}+00:00")
    } else {
        format!("{base}.{micros:06}+00:00")
    }
}

/// Parses `2030-01-01T12:30:45[.ffffff]+00:00` (or `Z`) into `(seconds, nanoseconds)`.
#[must_use]
pub fn parse_datetime(text: &str) -> Option<(i64, u32)> {
    let text = text
        .strip_suffix("+00:00")
        .or_else(|| text.strip_suffix('Z'))?;
    let (base, fraction) = text.split_once('.').unwrap_or((text, ""));
    let secs = crate::httpdate::parse_rfc3339(&format!("{base}Z"))?;
    let nanos = if fraction.is_empty() {
        0
    } else {
        let digits = fraction.get(..fraction.len().min(9))?;
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        format!("{digits:0<9}").parse().ok()?
    };
    Some((secs, nanos))
}

/// The typed form the interop vectors use for what Python reads: JSON, with `{"$bytes":
/// hex}`, `{"$datetime": rfc3339}`, `{"$float": "nan"}`, `{"$ext": {"code", "data"}}` and
/// `{"$dict": [[key, value], ...]}` for a map with keys that are not all strings.
#[must_use]
pub fn to_typed(value: &Value) -> serde_json::Value {
    use serde_json::json;
    match value {
        Value::F32(f) => to_typed(&Value::F64(f64::from(*f))),
        Value::F64(f) if f.is_nan() => json!({"$float": "nan"}),
        Value::F64(f) if f.is_infinite() => {
            json!({"$float": if *f > 0.0 { "inf" } else { "-inf" }})
        }
        Value::F64(f) if *f == 0.0 && f.is_sign_negative() => json!({"$float": "-0.0"}),
        Value::Binary(b) => json!({ "$bytes": hex(b) }),
        Value::Array(items) => serde_json::Value::Array(items.iter().map(to_typed).collect()),
        Value::Map(entries) if entries.iter().all(|(k, _)| k.as_str().is_some()) => {
            serde_json::Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_str().unwrap_or_default().to_owned(), to_typed(v)))
                    .collect(),
            )
        }
        Value::Map(entries) => json!({
            "$dict": entries.iter().map(|(k, v)| json!([to_typed(k), to_typed(v)])).collect::<Vec<_>>()
        }),
        Value::Ext(-1, data) => timestamp(data).map_or(
            serde_json::Value::Null,
            |(s, n)| json!({ "$datetime": rfc3339(s, n) }),
        ),
        Value::Ext(code, data) => json!({"$ext": {"code": code, "data": hex(data)}}),
        other => to_json(other),
    }
}

use hex::encode as hex;

#[cfg(test)]
mod big_int_tests {
    use super::*;

    #[test]
    fn integers_beyond_64_bits_in_a_json_record_are_kept_exactly() {
        let json =
            br#"{"_permanent":true,"big":18446744073709551616,"list":[-123456789012345678901234]}"#;
        let entries = decode(json).unwrap().unwrap();
        // msgpack cannot hold them: the record is written back as JSON, digit for digit.
        assert_eq!(encode(&entries), json.to_vec());
        assert_eq!(
            to_json(&entries[1].1),
            serde_json::Value::String("18446744073709551616".into())
        );
        // A record without one is still msgpack.
        let small = decode(br#"{"n":1}"#).unwrap().unwrap();
        assert_eq!(encode(&small)[0], 0x81);
    }
}
