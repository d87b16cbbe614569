//! The Flask session vector checker (the `public.jsonl` schema) against sessionkit's codec,
//! shared by `examples/flask_vectors.rs` (which runs it on any file) and `tests/flask_codec.rs`.
//!
//! Per record: the reader verdict (`valid`, and for invalid cookies whether Flask would use an
//! empty session or fail), the decoded session against `expected.session_typed`, the TaggedJSON
//! text, and the writer: byte for byte for `exact` records, by decoding back for `roundtrip`.
//! The tiers follow the spec (§6.2): a `core` record must agree with Flask; a `quirk` record
//! (input Flask accepts only because Python's decoders are lenient, and never writes) passes
//! when refused, or when accepted with Flask's exact result.
//!
//! The vectors are signed with short, public test secrets, which a production codec refuses:
//! this checker uses the weak-legacy opt-in, [`FlaskCodec::new_weak_legacy`], so every record
//! is checked.

use serde_json::Value;
use sessionkit::flask::{FlaskCodec, FlaskError};

fn text<'a>(record: &'a Value, field: &str) -> Result<&'a str, String> {
    record[field]
        .as_str()
        .ok_or_else(|| format!("record has no string `{field}`"))
}

fn unhex(hex: &str) -> Result<Vec<u8>, String> {
    (0..hex.len())
        .step_by(2)
        .map(|i| {
            u8::from_str_radix(hex.get(i..i + 2).unwrap_or("?"), 16).map_err(|e| e.to_string())
        })
        .collect()
}

fn codec(current: &str, fallbacks: &[Value]) -> Result<FlaskCodec, String> {
    let mut codec = FlaskCodec::new_weak_legacy(unhex(current)?).map_err(|e| e.to_string())?;
    for fallback in fallbacks {
        let hex = fallback.as_str().ok_or("fallback keys are hex strings")?;
        codec = codec
            .with_weak_legacy_fallback(unhex(hex)?)
            .map_err(|e| e.to_string())?;
    }
    Ok(codec)
}

/// Checks one record; `Err` says what differs.
pub fn check(record: &Value) -> Result<(), String> {
    let fallbacks = record["fallback_keys_hex"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    let reader = codec(text(record, "secret_key_hex")?, &fallbacks)?;
    let (now, max_age) = (
        record["now"].as_u64().ok_or("no `now`")?,
        record["max_age"].as_u64().ok_or("no `max_age`")?,
    );
    let decoded = reader.decode(text(record, "cookie")?, now, max_age);
    let quirk = record["tier"] == "quirk";
    match (
        &decoded,
        record["valid"].as_bool(),
        record["outcome"].as_str(),
    ) {
        // A quirk refused (strictly) passes; one accepted falls through to the exact checks.
        (Err(_), _, _) if quirk => return Ok(()),
        (Err(FlaskError::Invalid(_)), Some(false), Some("empty"))
        | (Err(FlaskError::BadPayload(_)), Some(false), Some("error")) => return Ok(()),
        (Ok(session), Some(true), _) => {
            let expected = &record["expected"]["session_typed"];
            if Value::Object(session.data.clone()) != *expected {
                return Err(format!("decoded {:?}, expected {expected}", session.data));
            }
            // A quirk accepted passes on its session (§6.2): Flask never writes such a
            // cookie, so there is no text to write back to.
            if quirk {
                return Ok(());
            }
        }
        (got, valid, outcome) => {
            return Err(format!(
                "got {got:?}, expected valid={valid:?} outcome={outcome:?}"
            ))
        }
    }
    check_writer(record)
}

fn check_writer(record: &Value) -> Result<(), String> {
    let Value::Object(typed) = &record["expected"]["session_typed"] else {
        return Err("expected.session_typed is not an object".into());
    };
    let tagged = sessionkit::flask::tagged_json(typed).map_err(|e| e.to_string())?;
    if tagged != text(&record["expected"], "tagged_json")? {
        return Err(format!(
            "TaggedJSON {tagged}, expected {}",
            record["expected"]["tagged_json"]
        ));
    }
    let Some(mode) = record["writer_check"].as_str() else {
        return Ok(());
    };
    let signing = record["signing_key_hex"]
        .as_str()
        .unwrap_or(text(record, "secret_key_hex")?);
    let writer = codec(signing, &[])?;
    let timestamp = record["timestamp"].as_u64().ok_or("no `timestamp`")?;
    let cookie = writer.encode(typed, timestamp).map_err(|e| e.to_string())?;
    match mode {
        "exact" if cookie == text(record, "cookie")? => Ok(()),
        "exact" => Err(format!(
            "wrote {cookie}, expected {}",
            text(record, "cookie")?
        )),
        _ => match writer.decode(&cookie, timestamp, 0) {
            Ok(back) if back.data == *typed => Ok(()),
            other => Err(format!("round trip gave {other:?}")),
        },
    }
}

/// What a run found, per tier.
#[derive(Debug, Default)]
pub struct Tally {
    /// `(tier, passed, failed)`, in the order tiers first appear.
    pub tiers: Vec<(String, usize, usize)>,
    /// Each failure, with its line and record name.
    pub failures: Vec<String>,
}

impl Tally {
    fn count(&mut self, tier: &str, passed: bool) {
        let at = self
            .tiers
            .iter()
            .position(|(t, _, _)| t == tier)
            .unwrap_or_else(|| {
                self.tiers.push((tier.to_owned(), 0, 0));
                self.tiers.len() - 1
            });
        if passed {
            self.tiers[at].1 += 1;
        } else {
            self.tiers[at].2 += 1;
        }
    }

    /// `(passed, failed)` over every tier.
    pub fn total(&self) -> (usize, usize) {
        self.tiers
            .iter()
            .fold((0, 0), |(p, f), (_, tp, tf)| (p + tp, f + tf))
    }
}

/// Checks every record of a JSON-lines file.
pub fn run(contents: &str) -> Tally {
    let mut tally = Tally::default();
    for (number, line) in contents
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let (tier, outcome) = match serde_json::from_str::<Value>(line) {
            Ok(r) => {
                let name = r["name"].as_str().unwrap_or("?").to_owned();
                let tier = r["tier"].as_str().unwrap_or("core").to_owned();
                (tier, check(&r).map_err(|e| format!("{name}: {e}")))
            }
            Err(e) => ("core".to_owned(), Err(e.to_string())),
        };
        tally.count(&tier, outcome.is_ok());
        if let Err(e) = outcome {
            tally
                .failures
                .push(format!("line {} ({tier}): {e}", number + 1));
        }
    }
    tally
}

/// The bytes Flask-Session stored for vector `id` of `tests/data/flask-session/vectors.jsonl`
/// (its `stored_hex`), as the store tests plant them.
///
/// # Panics
///
/// When the file or the vector is missing: a test's fixture is wrong.
#[must_use]
pub fn flask_session_stored(id: &str) -> Vec<u8> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/data/flask-session/vectors.jsonl"
    );
    let text = std::fs::read_to_string(path).expect("the Flask-Session vectors");
    let row = text
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("a JSON line"))
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no Flask-Session vector {id:?}"));
    unhex(row["stored_hex"].as_str().expect("stored_hex")).expect("hex")
}
