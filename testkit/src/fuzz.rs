//! What the fuzz targets do (`fuzz/fuzz_targets/`), shared with `tests/fuzz_corpus.rs`, which
//! replays the corpus on stable.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sessionkit::flask::FlaskCodec;
use sessionkit::{CookieCommand, Key, SessionConfig};

/// The fuzzed time: 2023-11-14T22:13:20Z.
/// The fuzzed time: 2023-11-14T22:13:20Z.
pub const NOW: u64 = 1_700_000_000;
pub use crate::fixture::KEY_A as KEY_HEX;
/// The Flask secret the Flask target signs with.
pub const FLASK_KEY: &str = "fuzz-flask-key-5e2a9c71d3";

/// The fuzzed session schema.
#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug, PartialEq)]
pub struct Fuzzed {
    user: Option<String>,
    #[serde(default)]
    cart: Vec<u32>,
    extra: Option<serde_json::Value>,
}

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(NOW)
}

fn native() -> SessionConfig<Fuzzed> {
    let key = Key::from_hex(KEY_HEX).expect("a strong test key");
    SessionConfig::builder()
        .key(key)
        .idle_timeout(Duration::from_secs(3600))
        .build()
        .expect("valid")
}

fn encrypted() -> SessionConfig<Fuzzed> {
    let key = Key::from_hex(KEY_HEX).expect("a strong test key");
    SessionConfig::builder()
        .key(key)
        .encrypted()
        .build()
        .expect("valid")
}

fn flask() -> SessionConfig<Fuzzed> {
    let codec = FlaskCodec::new(FLASK_KEY).expect("a usable Flask key");
    SessionConfig::builder()
        .flask(codec)
        .build()
        .expect("valid")
}

/// Loads, touches and stores; checks what must hold whatever the input.
fn exercise(config: &SessionConfig<Fuzzed>, header: &str) {
    exercise_bytes(config, &[header.as_bytes()]);
}

/// As [`exercise`], from raw `Cookie` header bytes, as a server receives them.
fn exercise_bytes(config: &SessionConfig<Fuzzed>, headers: &[&[u8]]) {
    let mut loaded = config.load_header_bytes(headers.iter().copied(), now());
    if loaded.rejected.is_some() {
        assert!(
            loaded.session.is_new(),
            "a rejected cookie left data behind"
        );
        assert_eq!(*loaded.session, Fuzzed::default());
    }
    let untouched = config.save(&loaded.session, now());
    if let Ok(CookieCommand::Set(h) | CookieCommand::Remove(h)) = &untouched {
        assert_safe(h);
    }
    loaded.session.cart_mut().push(7);
    match config.save(&loaded.session, now()) {
        Ok(CookieCommand::Set(h)) => {
            assert_safe(&h);
            let value = h.split(';').next().expect("name=value");
            let again = config.load(value, now());
            assert_eq!(
                again.rejected, None,
                "a cookie sessionkit wrote was refused: {h}"
            );
            assert_eq!(*again.session, *loaded.session);
        }
        Ok(other) => panic!("a changed session gave {other:?}"),
        Err(_) => {} // too large or not serializable: the error is the outcome
    }
}

fn assert_safe(header: &str) {
    assert!(
        !header.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0),
        "{header:?}"
    );
}

/// Target `load_raw`: any bytes as one or more raw `Cookie` headers (split at `\n`), with a
/// valid session cookie placed among them when the first byte is odd: bytes that are not
/// ASCII in other cookies must never cost the user the session.
pub fn load_raw(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let config = native();
    let mut headers: Vec<Vec<u8>> = rest.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
    if mode % 2 == 1 {
        let mut session = sessionkit::TrackedSession::new(Fuzzed::default());
        session.cart_mut().push(1);
        let set = match config.save(&session, now()) {
            Ok(CookieCommand::Set(h)) => h,
            other => panic!("a new session gave {other:?}"),
        };
        let pair = set.split(';').next().expect("name=value").as_bytes();
        let at = usize::from(mode / 2) % headers.len();
        let header = &mut headers[at];
        // After the last complete pair, so the fuzzed bytes cannot swallow the cookie.
        header.extend_from_slice(b"; ");
        header.extend_from_slice(pair);
        let views: Vec<&[u8]> = headers.iter().map(Vec::as_slice).collect();
        let loaded = config.load_header_bytes(views.iter().copied(), now());
        // With no other cookie of that name, whatever the other bytes, the session is found.
        let others_named = rest.windows(7).any(|w| w.eq_ignore_ascii_case(b"session"));
        if !others_named {
            assert_eq!(
                (loaded.rejected.as_ref(), loaded.session.cart.as_slice()),
                (None, &[1][..]),
                "the session cookie was lost among {:?}",
                String::from_utf8_lossy(&views.concat())
            );
        }
    }
    let views: Vec<&[u8]> = headers.iter().map(Vec::as_slice).collect();
    exercise_bytes(&config, &views);
}

/// Target `load_encrypted`: a valid encrypted cookie with the fuzz bytes XOR-ed into its
/// decoded bytes from the offset in byte 0, so that every bit flip, swapped nonce or spliced
/// tag is tried; then the bytes themselves as a header, in encrypted mode. A changed cookie
/// must be refused, the unchanged one accepted.
pub fn load_encrypted(data: &[u8]) {
    let Some((&offset, mask)) = data.split_first() else {
        return;
    };
    let config = encrypted();
    let mut session = sessionkit::TrackedSession::new(Fuzzed::default());
    session.cart_mut().push(1);
    let set = match config.save(&session, now()) {
        Ok(CookieCommand::Set(h)) => h,
        other => panic!("a new session gave {other:?}"),
    };
    let value = set["session=".len()..].split(';').next().expect("a value");
    let original = URL_SAFE_NO_PAD
        .decode(value)
        .expect("sessionkit writes base64url");
    assert_eq!(original[0], sessionkit::ENCRYPTED_FORMAT_VERSION);
    assert!(
        !original.windows(7).any(|w| w == b"\"cart\":"),
        "the payload shows through the encryption"
    );
    let mut raw = original.clone();
    for (i, m) in mask.iter().enumerate() {
        let at = (usize::from(offset) + i) % raw.len();
        raw[at] ^= m;
    }
    let loaded = config.load(&format!("session={}", URL_SAFE_NO_PAD.encode(&raw)), now());
    if raw == original {
        assert_eq!(
            (loaded.rejected.as_ref(), loaded.session.cart.as_slice()),
            (None, &[1][..])
        );
    } else {
        assert!(loaded.rejected.is_some(), "a changed cookie was accepted");
        assert_eq!(*loaded.session, Fuzzed::default());
    }
    exercise(&config, &String::from_utf8_lossy(mask));
}

/// Target `load`: any bytes as the Cookie header, in both formats.
pub fn load(data: &[u8]) {
    let header = String::from_utf8_lossy(data);
    exercise(&native(), &header);
    exercise(&flask(), &header);
}

fn u16_at(data: &[u8], at: usize) -> u64 {
    u64::from(u16::from_be_bytes([
        data.get(at).copied().unwrap_or(0),
        data.get(at + 1).copied().unwrap_or(0),
    ]))
}

/// Target `load_signed`: arbitrary payloads signed with the known key (a leaked-key model).
/// Byte 0 picks the format; then envelope fields; the rest is the payload.
pub fn load_signed(data: &[u8]) {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode % 2 == 0 {
        let master: Vec<u8> = (0..KEY_HEX.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&KEY_HEX[i..i + 2], 16).unwrap())
            .collect();
        let issued = NOW
            .saturating_sub(u16_at(rest, 1))
            .saturating_add(u64::from(rest.get(5).copied().unwrap_or(0) & 1) * 90);
        let envelope = crate::forge::Envelope {
            version: 1,
            flags: rest.first().copied().unwrap_or(1) & 3,
            schema: u32::from(rest.get(6).copied().unwrap_or(0) & 1),
            issued_at: issued,
            created_at: issued.saturating_sub(u16_at(rest, 3) * 60),
            key_id: None,
        };
        let payload = rest.get(7..).unwrap_or(&[]);
        let value = crate::forge::seal(&master, "session", &envelope, payload);
        exercise(&native(), &format!("session={value}"));
    } else {
        let compress = rest.first().is_some_and(|b| b & 1 == 1);
        let timestamp = NOW.saturating_sub(u16_at(rest, 1) * 64);
        let payload = rest.get(3..).unwrap_or(&[]);
        exercise(
            &flask(),
            &format!("session={}", flask_sign(payload, compress, timestamp)),
        );
    }
}

/// Signs `payload` as Flask does, compressed or not, with `FLASK_KEY`.
pub fn flask_sign(payload: &[u8], compress: bool, timestamp: u64) -> String {
    use std::io::Write as _;
    let mut text = if compress {
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
        z.write_all(payload).expect("in memory");
        format!(
            ".{}",
            URL_SAFE_NO_PAD.encode(z.finish().expect("in memory"))
        )
    } else {
        URL_SAFE_NO_PAD.encode(payload)
    };
    let bytes = timestamp.to_be_bytes();
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(8);
    text.push('.');
    text.push_str(&URL_SAFE_NO_PAD.encode(&bytes[first..]));
    let mut derive = Hmac::<sha1::Sha1>::new_from_slice(FLASK_KEY.as_bytes()).expect("any length");
    derive.update(b"cookie-session");
    let mut mac =
        Hmac::<sha1::Sha1>::new_from_slice(&derive.finalize().into_bytes()).expect("any length");
    mac.update(text.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{text}.{signature}")
}
