//! Checks a Flask-Session vector file at the byte level, with no server:
//!
//! ```sh
//! cargo run --example flask_session_vectors --all-features -- vectors.jsonl
//! ```
//!
//! - A record Flask-Session wrote (`stored_hex`): its bytes read to the recorded session, and
//!   that session written back gives the same bytes.
//! - A record a writer injected (`injected.value_hex`): where Flask-Session accepted it, it
//!   reads to the recorded session, and is written back as Flask-Session rewrote it
//!   (`rewritten_hex`); where Flask-Session found nothing, there is no session; where
//!   Flask-Session failed (HTTP 500), sessionkit refuses it with a reason (a fresh session).
//! - A request after which Flask-Session stored nothing: its operations applied to the session
//!   it read leave nothing sessionkit stores either (the prior record deleted); where
//!   Flask-Session failed (HTTP 500), sessionkit refuses the value or keeps it exactly.
//! - A pickle is refused by design (Flask-Session unpickles it; that runs code from the store).
//! - The pickle-only backends (cachelib, filesystem), and SQL expiry text, are skipped with
//!   the reason.
//!
//! Ends with `N passed, M failed`; exits non-zero on a failure.

use std::process::ExitCode;

use rmpv::{Utf8String, Value};
use sessionkit::flask_session::record::{self, RecordError};

fn unhex(text: &str) -> Option<Vec<u8>> {
    text.len()
        .is_multiple_of(2)
        .then(|| {
            (0..text.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(text.get(i..i + 2)?, 16).ok())
                .collect()
        })
        .flatten()
}

/// A value read in document order with the typed wrappers (`{"$datetime": ..}` and the
/// others) turned into the msgpack values they stand for.
fn typed(value: Value) -> Result<Value, String> {
    match value {
        Value::Array(items) => items
            .into_iter()
            .map(typed)
            .collect::<Result<_, _>>()
            .map(Value::Array),
        Value::Map(entries) => entries
            .into_iter()
            .map(|(k, v)| Ok((k.as_str().unwrap_or_default().to_owned(), typed(v)?)))
            .collect::<Result<Vec<_>, String>>()
            .and_then(unwrap_typed),
        other => Ok(other),
    }
}

/// `{"$datetime": ..}` and the other wrappers, or an ordinary map.
fn unwrap_typed(entries: Vec<(String, Value)>) -> Result<Value, String> {
    if let [(tag, inner)] = entries.as_slice() {
        let text = || inner.as_str().ok_or(format!("{tag} needs a string"));
        match tag.as_str() {
            "$datetime" => {
                let (secs, nanos) = record::parse_datetime(text()?).ok_or("bad $datetime")?;
                return Ok(Value::Ext(-1, record::timestamp_bytes(secs, nanos)));
            }
            "$bytes" => return unhex(text()?).map(Value::Binary).ok_or("bad $bytes".into()),
            "$float" => {
                return Ok(Value::F64(match text()? {
                    "nan" => f64::NAN,
                    "inf" => f64::INFINITY,
                    "-inf" => f64::NEG_INFINITY,
                    "-0.0" => -0.0,
                    other => return Err(format!("bad $float {other}")),
                }))
            }
            "$dict" => {
                let Value::Array(pairs) = inner else {
                    return Err("$dict needs pairs".into());
                };
                return pairs
                    .iter()
                    .map(|pair| match pair {
                        Value::Array(kv) if kv.len() == 2 => Ok((kv[0].clone(), kv[1].clone())),
                        _ => Err("$dict needs pairs".to_owned()),
                    })
                    .collect::<Result<_, _>>()
                    .map(Value::Map);
            }
            "$ext" => {
                let Value::Map(fields) = inner else {
                    return Err("$ext needs code and data".into());
                };
                let field = |name: &str| fields.iter().find(|(k, _)| k.as_str() == Some(name));
                let code = field("code")
                    .and_then(|(_, v)| v.as_i64())
                    .ok_or("$ext code")?;
                let data = field("data")
                    .and_then(|(_, v)| v.as_str())
                    .and_then(unhex)
                    .ok_or("$ext data")?;
                return Ok(Value::Ext(
                    i8::try_from(code).map_err(|e| e.to_string())?,
                    data,
                ));
            }
            _ => {}
        }
    }
    Ok(Value::Map(
        entries
            .into_iter()
            .map(|(k, v)| (Value::String(Utf8String::from(k.as_str())), v))
            .collect(),
    ))
}

enum Verdict {
    Pass(&'static str),
    Fail(String),
    Skip(String),
}

fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}

/// What sessionkit makes of `bytes`, against Flask-Session's `decoded` session.
fn check_read(bytes: &[u8], decoded: &Value) -> Result<record::Entries, String> {
    let entries = match record::decode(bytes) {
        Ok(Some(entries)) => entries,
        Ok(None) => return Err("read as no session".into()),
        Err(e) => return Err(format!("refused: {e}")),
    };
    let ours = record::to_typed(&Value::Map(entries.clone()));
    let theirs = record::to_typed(decoded);
    if ours != theirs {
        return Err(format!("read {ours}, Flask-Session read {theirs}"));
    }
    Ok(entries)
}

/// The row's `decoded` session, read in order.
#[derive(serde::Deserialize)]
struct Decoded {
    decoded: record::InOrder,
}

fn decoded(line: &str) -> Result<Value, String> {
    serde_json::from_str::<Decoded>(line)
        .map_err(|e| format!("the line's decoded session does not parse: {e}"))
        .and_then(|d| typed(d.decoded.0))
}

/// Whether the app wrote JSON (`SESSION_SERIALIZATION_FORMAT = "json"`).
fn json_format(row: &serde_json::Value) -> bool {
    row["config"]["SESSION_SERIALIZATION_FORMAT"] == "json"
}

fn encode(row: &serde_json::Value, entries: &record::Entries) -> Vec<u8> {
    if json_format(row) {
        record::encode_json(entries)
    } else {
        record::encode(entries)
    }
}

/// The request a row records: its operations on the session, values as written.
#[derive(serde::Deserialize)]
struct Recorded {
    request: RecordedRequest,
}

#[derive(serde::Deserialize)]
struct RecordedRequest {
    ops: Vec<RecordedOp>,
}

#[derive(serde::Deserialize)]
struct RecordedOp {
    op: String,
    key: Option<String>,
    value: Option<Box<serde_json::value::RawValue>>,
}

/// A request after which Flask-Session stored nothing. Its operations, applied to the session
/// it read (the prior record its cookie names, or none), must leave a session sessionkit also
/// stores nothing for (nothing but `_permanent`: the prior record is deleted). Where
/// Flask-Session failed (HTTP 500) on a value msgspec cannot encode, sessionkit refuses a
/// value it has no type for (`Markup`) and keeps an integer beyond 64 bits exactly, as JSON.
fn stored_nothing(row: &serde_json::Value, line: &str) -> Verdict {
    let recorded: Recorded = match serde_json::from_str(line) {
        Ok(recorded) => recorded,
        Err(e) => return Verdict::Fail(format!("the request does not parse: {e}")),
    };
    let cookie = row["request"]["cookie"].as_str().unwrap_or_default();
    let prior = row["prior_records"]
        .as_array()
        .and_then(|records| records.first())
        .filter(|r| {
            let sid = cookie.strip_prefix("session=").unwrap_or_default();
            !sid.is_empty() && r["key"].as_str().is_some_and(|k| k.ends_with(sid))
        });
    let mut entries = match prior.and_then(|r| r["value_hex"].as_str()).and_then(unhex) {
        Some(bytes) => match record::decode(&bytes) {
            Ok(found) => found.unwrap_or_default(),
            Err(e) => return Verdict::Fail(format!("the prior record does not read: {e}")),
        },
        None => Vec::new(),
    };
    let failed = row["status"] == 500;
    for op in recorded.request.ops {
        let key = Value::String(Utf8String::from(op.key.unwrap_or_default().as_str()));
        let at = entries.iter().position(|(k, _)| *k == key);
        match (op.op.as_str(), op.value) {
            ("set", Some(raw)) => {
                if raw.get().starts_with(r#"{"$markup""#) {
                    return if failed {
                        Verdict::Pass("refused: sessionkit has no Markup type, and Flask-Session failed (500)")
                    } else {
                        Verdict::Fail("a Markup value where Flask-Session succeeded".into())
                    };
                }
                let one = format!(r#"{{"v":{}}}"#, raw.get());
                let value = match record::decode(one.as_bytes()) {
                    Ok(Some(mut e)) => e.remove(0).1,
                    other => return Verdict::Fail(format!("the value does not read: {other:?}")),
                };
                match at {
                    Some(at) => entries[at].1 = value,
                    None => entries.push((key, value)),
                }
            }
            ("del", _) => {
                if let Some(at) = at {
                    entries.remove(at);
                }
            }
            ("clear", _) => entries.clear(),
            ("read" | "regenerate", _) => {}
            (other, _) => return Verdict::Fail(format!("unknown operation {other}")),
        }
    }
    if failed {
        let written = record::encode(&entries);
        return match record::decode(&written) {
            Ok(Some(back)) if back == entries && written.first() == Some(&b'{') => Verdict::Pass(
                "kept exactly, as JSON, an integer msgpack cannot hold (Flask-Session failed, 500)",
            ),
            other => Verdict::Fail(format!(
                "Flask-Session failed (500); sessionkit wrote {other:?}"
            )),
        };
    }
    let only_permanent = entries
        .iter()
        .all(|(k, _)| k.as_str() == Some("_permanent"));
    match (only_permanent, prior.is_some()) {
        (true, true) => Verdict::Pass("emptied: deleted, as Flask-Session"),
        (true, false) => Verdict::Pass("empty: nothing stored, as Flask-Session"),
        (false, _) => Verdict::Fail(format!("sessionkit would store {entries:?}")),
    }
}

fn written_record(row: &serde_json::Value, line: &str) -> Verdict {
    let Some(stored) = row["stored_hex"].as_str().filter(|h| !h.is_empty()) else {
        return stored_nothing(row, line);
    };
    let Some(bytes) = unhex(stored) else {
        return Verdict::Fail("stored_hex is not hex".into());
    };
    let decoded = match decoded(line) {
        Ok(decoded) => decoded,
        Err(why) => return Verdict::Fail(why),
    };
    let decoded = &decoded;
    match check_read(&bytes, decoded).map(|entries| encode(row, &entries)) {
        Err(why) => Verdict::Fail(why),
        Ok(rewritten) if rewritten != bytes => Verdict::Fail(format!(
            "wrote {}, Flask-Session wrote {stored}",
            hex(&rewritten)
        )),
        Ok(_) => {
            let Value::Map(entries) = decoded else {
                return Verdict::Fail("decoded is not a map".into());
            };
            if encode(row, entries) == bytes {
                Verdict::Pass("read, and written back byte for byte")
            } else {
                Verdict::Fail("the recorded session encodes to other bytes".into())
            }
        }
    }
}

fn injected_record(row: &serde_json::Value, line: &str) -> Verdict {
    let injected = &row["injected"];
    let Some(bytes) = injected["value_hex"].as_str().and_then(unhex) else {
        return Verdict::Skip("no injected record value".into());
    };
    let outcome = row["outcome"].as_str().unwrap_or_default();
    let id = row["id"].as_str().unwrap_or_default();
    if id.starts_with("rev-sql-") && outcome != "accepted" {
        return Verdict::Skip(
            "about the SQL table's expiry text, which sessionkit does not write".into(),
        );
    }
    let ours = record::decode(&bytes);
    match (outcome, &ours) {
        (_, Err(RecordError::Pickle)) => Verdict::Pass("pickle refused by design, never unpickled"),
        ("missing", Ok(None)) => Verdict::Pass("no session, as Flask-Session"),
        ("error", Err(_)) => Verdict::Pass("refused with a reason where Flask-Session fails (500)"),
        ("accepted", _) => {
            let decoded = match decoded(line) {
                Ok(decoded) => decoded,
                Err(why) => return Verdict::Fail(why),
            };
            match check_read(&bytes, &decoded).map(|entries| encode(row, &entries)) {
                Err(why) => Verdict::Fail(why),
                Ok(written) => match row["rewritten_hex"].as_str() {
                    Some(expected) if hex(&written) != expected => Verdict::Fail(format!(
                        "wrote {}, Flask-Session rewrote it as {expected}",
                        hex(&written)
                    )),
                    _ => Verdict::Pass("read as Flask-Session reads it"),
                },
            }
        }
        (outcome, ours) => Verdict::Fail(format!("Flask-Session: {outcome}; sessionkit: {ours:?}")),
    }
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: flask_session_vectors FILE.jsonl");
        return ExitCode::from(2);
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(e) => {
            eprintln!("cannot read {path}: {e}");
            return ExitCode::from(2);
        }
    };
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let row: serde_json::Value = match serde_json::from_str(line) {
            Ok(row) => row,
            Err(e) => {
                println!("FAIL  (unparsable line): {e}");
                failed += 1;
                continue;
            }
        };
        let id = row["id"].as_str().unwrap_or("?");
        let backend = row["backend"].as_str().unwrap_or_default();
        let verdict = if matches!(
            backend,
            "cachelib-filesystem" | "filesystem" | "cachelib-redis"
        ) {
            Verdict::Skip(format!(
                "{backend} stores pickle only: sessionkit never unpickles, so it does not read this backend"
            ))
        } else if row.get("injected").is_some() {
            injected_record(&row, line)
        } else {
            written_record(&row, line)
        };
        match verdict {
            Verdict::Pass(how) => {
                passed += 1;
                println!("pass  {id}: {how}");
            }
            Verdict::Fail(why) => {
                failed += 1;
                println!("FAIL  {id}: {why}");
            }
            Verdict::Skip(why) => {
                skipped += 1;
                println!("skip  {id}: {why}");
            }
        }
    }
    println!("{passed} passed, {failed} failed ({skipped} skipped)");
    if failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
