//! Flask's own session cookie: read and write it exactly as Flask 3.1 does.
//!
//! A team moving a Flask app to Rust, or running a Rust service beside it, keeps everyone logged
//! in: [`FlaskCodec`] speaks itsdangerous' `URLSafeTimedSerializer` with Flask's settings (salt
//! `cookie-session`, HMAC-SHA1 with the `hmac` key derivation, a timestamp, zlib when it is at
//! least 2 bytes shorter) and Flask's TaggedJSON (see [`Tuple`], [`Bytes`], [`Markup`], [`Uuid`],
//! [`DateTime`]).
//!
//! Use it on its own, or give it to [`SessionConfigBuilder::flask`](crate::SessionConfigBuilder::flask)
//! so that the adapters and `#[derive(Session)]` work unchanged on Flask's cookie.
//!
//! ```
//! use sessionkit::flask::FlaskCodec;
//!
//! // Flask: app.secret_key = "public-test-secret-key-1", a weak published test secret, which
//! // `FlaskCodec::new` refuses: reading it takes the loudly named migration opt-in.
//! assert!(FlaskCodec::new("public-test-secret-key-1").is_err());
//! let codec = FlaskCodec::new_weak_legacy("public-test-secret-key-1")?;
//! let cookie = "eyJtc2ciOiJIZWxsbyJ9.aVXHFw.IdI205iZ0ZeF56bQN5OoLgplGUY";
//! let session = codec.decode(cookie, 1_767_229_207, 2_678_400)?;
//! assert_eq!(session.data["msg"], "Hello");
//! assert_eq!(codec.encode(&session.data, 1_767_229_207)?, cookie);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! Decoding is strict where Flask is lenient but never produces the input (padded or standard
//! base64, bytes after the zlib stream, `NaN`, a signature with stray low bits): such cookies are
//! refused. It is bounded: the caller caps the cookie length, decompression stops at
//! [`MAX_DECOMPRESSED`] bytes and JSON nesting at `serde_json`'s 128 levels.
//!
//! Flask compresses whenever that makes the cookie shorter; sessionkit compresses a session
//! whose JSON is [`COMPRESS_FROM`] bytes or more, at level 1 with a 4 KiB window (zlib-rs through
//! `flate2`). Below that size deflate saves a few dozen bytes of the 4096-byte budget but costs
//! more than the rest of the write: every stream starts by clearing a 128 KiB hash table. Flask
//! reads both forms (it inflates any valid zlib stream), and an uncompressed cookie is
//! byte-identical to what Flask writes uncompressed; `tests/flask_live.rs` has real Flask read
//! both kinds.

pub(crate) mod bigint;
pub(crate) mod cookie;
mod pyjson;
mod tagged;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use sha1::Sha1;

pub use tagged::{Bytes, DateTime, Markup, Tuple, Uuid};

use crate::error::KeyError;
use crate::error::Rejection;
use crate::key::check_secret;

type HmacSha1 = Hmac<Sha1>;

/// The most bytes a compressed payload may inflate to (1 MiB).
pub const MAX_DECOMPRESSED: usize = 1 << 20;

/// The shortest Flask `SECRET_KEY` accepted, in bytes (Flask apps often use `os.urandom(16)`).
pub const MIN_FLASK_KEY_BYTES: usize = 16;

/// Signs and verifies Flask session cookies: `SECRET_KEY` signs, `SECRET_KEY_FALLBACKS` only
/// verify (Flask 3.1.1's order).
#[derive(Clone)]
pub struct FlaskCodec {
    /// Keyed with the derived key `HMAC-SHA1(secret, "cookie-session")`; the current key first.
    signers: Vec<HmacSha1>,
    /// True once a weak legacy secret was let in (see [`FlaskCodec::new_weak_legacy`]).
    weak_legacy: bool,
}

impl std::fmt::Debug for FlaskCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlaskCodec")
            .field("keys", &self.signers.len())
            .field("weak_legacy", &self.weak_legacy)
            .finish()
    }
}

/// A verified Flask session.
#[derive(Debug, Clone, PartialEq)]
#[must_use]
pub struct FlaskSession {
    /// The session in typed form (see the module docs), `_permanent` included when set.
    pub data: Map<String, Value>,
    /// The signing time, Unix seconds.
    pub timestamp: u64,
    /// True when a fallback key verified it.
    pub by_fallback: bool,
}

impl FlaskSession {
    /// Flask's `session.permanent`: the `_permanent` key.
    #[must_use]
    pub fn permanent(&self) -> bool {
        self.data.get("_permanent") == Some(&Value::Bool(true))
    }
}

/// A cookie whose signature verified; its time is not checked yet.
#[derive(Debug)]
pub(crate) struct Verified<'c> {
    payload: &'c str,
    pub(crate) timestamp: u64,
    pub(crate) by_fallback: bool,
}

impl Verified<'_> {
    /// The session in typed form.
    pub(crate) fn data(&self) -> Result<Map<String, Value>, FlaskError> {
        decode_payload(self.payload).map_err(FlaskError::BadPayload)
    }
}

/// Why a Flask cookie gave no session. Flask itself tells two cases apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum FlaskError {
    /// Bad, tampered, foreign or expired: Flask silently uses an empty session.
    #[error("invalid Flask session cookie: {0}")]
    Invalid(Rejection),
    /// Correctly signed, but the payload does not decode: Flask fails the request (HTTP 500).
    /// Only a holder of the key can produce this, so the app should see it.
    #[error("signed Flask session payload does not decode: {0}")]
    BadPayload(String),
    /// The data cannot be written as a Flask session.
    #[error("cannot write a Flask session: {0}")]
    Encode(String),
}

impl FlaskCodec {
    /// A codec for Flask's `SECRET_KEY`, given as its bytes (a `str` key is its UTF-8).
    ///
    /// # Errors
    ///
    /// [`KeyError`] for a key shorter than [`MIN_FLASK_KEY_BYTES`], one repeated byte, a run, or
    /// a well-known tutorial secret such as `"secret key"`: an app still signing with one must
    /// rotate first (Flask: `SECRET_KEY_FALLBACKS`), or opt in with
    /// [`FlaskCodec::new_weak_legacy`] for the migration.
    pub fn new(secret_key: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let secret = secret_key.as_ref();
        check_secret(secret, MIN_FLASK_KEY_BYTES)?;
        Ok(Self {
            signers: vec![signer(secret)],
            weak_legacy: false,
        })
    }

    /// **Insecure, for a migration only.** A codec that signs with the weak secret a Flask app
    /// really runs on (`"secret key"`, `"dev"`, a short string): anyone who guesses it can
    /// forge any session, so it is refused by [`FlaskCodec::new`]. Only an empty secret is
    /// refused here. Building a configuration with such a codec logs a warning.
    ///
    /// Use it for the first deploy only, then rotate: sign with a strong key and keep the weak
    /// one as a fallback ([`FlaskCodec::with_weak_legacy_fallback`]) for one lifetime, so that
    /// every cookie is re-signed with the strong key, then drop it.
    ///
    /// # Errors
    ///
    /// [`KeyError::TooShort`] for an empty secret.
    pub fn new_weak_legacy(secret_key: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let secret = non_empty(secret_key.as_ref())?;
        Ok(Self {
            signers: vec![signer(secret)],
            weak_legacy: true,
        })
    }

    /// Adds a `SECRET_KEY_FALLBACKS` entry: it verifies, never signs.
    ///
    /// # Errors
    ///
    /// As [`FlaskCodec::new`].
    pub fn with_fallback(mut self, secret_key: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let secret = secret_key.as_ref();
        check_secret(secret, MIN_FLASK_KEY_BYTES)?;
        self.signers.push(signer(secret));
        Ok(self)
    }

    /// **Insecure, for a migration only.** Adds the weak legacy secret as a fallback: cookies
    /// it verifies are accepted and re-signed with the current key. This is the rotation path
    /// away from a weak Flask secret; see [`FlaskCodec::new_weak_legacy`].
    ///
    /// # Errors
    ///
    /// [`KeyError::TooShort`] for an empty secret.
    pub fn with_weak_legacy_fallback(
        mut self,
        secret_key: impl AsRef<[u8]>,
    ) -> Result<Self, KeyError> {
        let secret = non_empty(secret_key.as_ref())?;
        self.signers.push(signer(secret));
        self.weak_legacy = true;
        Ok(self)
    }

    /// True when a weak legacy secret signs or verifies (an opt-in for a migration).
    #[must_use]
    pub fn uses_weak_legacy_secret(&self) -> bool {
        self.weak_legacy
    }

    /// Verifies and decodes a cookie value at `now` (Unix seconds): valid while
    /// `0 <= now - timestamp <= max_age`.
    ///
    /// # Errors
    ///
    /// [`FlaskError::Invalid`] for anything Flask treats as no session; [`FlaskError::BadPayload`]
    /// for a signed payload that does not decode.
    pub fn decode(&self, cookie: &str, now: u64, max_age: u64) -> Result<FlaskSession, FlaskError> {
        let verified = self.verify_cookie(cookie)?;
        let timestamp = verified.timestamp;
        if timestamp > now {
            let by = std::time::Duration::from_secs(timestamp - now);
            return Err(FlaskError::Invalid(Rejection::IssuedInFuture { by }));
        }
        if now - timestamp > max_age {
            let (age, limit) = (
                std::time::Duration::from_secs(now - timestamp),
                std::time::Duration::from_secs(max_age),
            );
            return Err(FlaskError::Invalid(Rejection::Expired { age, limit }));
        }
        Ok(FlaskSession {
            data: verified.data()?,
            timestamp,
            by_fallback: verified.by_fallback,
        })
    }

    /// Verifies the signature and reads the timestamp, without checking the time.
    pub(crate) fn verify_cookie<'c>(&self, cookie: &'c str) -> Result<Verified<'c>, FlaskError> {
        let (signed, signature) = cookie
            .rsplit_once('.')
            .ok_or(FlaskError::Invalid(Rejection::Malformed))?;
        let position = self
            .verify(signed, signature)
            .ok_or(FlaskError::Invalid(Rejection::BadSignature))?;
        let (payload, stamp) = signed
            .rsplit_once('.')
            .ok_or(FlaskError::Invalid(Rejection::Malformed))?;
        let timestamp = decode_timestamp(stamp).ok_or(FlaskError::Invalid(Rejection::Malformed))?;
        Ok(Verified {
            payload,
            timestamp,
            by_fallback: position != 0,
        })
    }

    /// Decodes straight into a typed session.
    ///
    /// # Errors
    ///
    /// As [`FlaskCodec::decode`]; a session that does not fit `T` is [`FlaskError::BadPayload`].
    pub fn decode_as<T: DeserializeOwned>(
        &self,
        cookie: &str,
        now: u64,
        max_age: u64,
    ) -> Result<T, FlaskError> {
        let session = self.decode(cookie, now, max_age)?;
        serde_json::from_value(Value::Object(session.data))
            .map_err(|e| FlaskError::BadPayload(e.to_string()))
    }

    /// Writes `data` (typed form) as Flask would at `timestamp`, signed with the current key.
    ///
    /// # Errors
    ///
    /// [`FlaskError::Encode`] when a typed-form wrapper holds an invalid value.
    pub fn encode(&self, data: &Map<String, Value>, timestamp: u64) -> Result<String, FlaskError> {
        let json = tagged_json(data)?;
        let mut out = encode_payload(json.as_bytes());
        out.push('.');
        let bytes = timestamp.to_be_bytes();
        let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
        URL_SAFE_NO_PAD.encode_string(&bytes[first..], &mut out);
        let mut mac = self.signers[0].clone();
        mac.update(out.as_bytes());
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(mac.finalize().into_bytes(), &mut out);
        Ok(out)
    }

    /// Writes a typed value (a struct or map) as a Flask session.
    ///
    /// # Errors
    ///
    /// [`FlaskError::Encode`] when `data` is not a map or holds an invalid wrapper.
    pub fn encode_value<T: Serialize>(
        &self,
        data: &T,
        timestamp: u64,
    ) -> Result<String, FlaskError> {
        match serde_json::to_value(data) {
            Ok(Value::Object(map)) => self.encode(&map, timestamp),
            Ok(_) => Err(FlaskError::Encode("a Flask session is a map".into())),
            Err(e) => Err(FlaskError::Encode(e.to_string())),
        }
    }

    /// The index of the key whose signature matches, compared in constant time.
    fn verify(&self, signed: &str, signature: &str) -> Option<usize> {
        let given = URL_SAFE_NO_PAD.decode(signature).ok()?;
        self.signers.iter().position(|keyed| {
            let mut mac = keyed.clone();
            mac.update(signed.as_bytes());
            mac.verify_slice(&given).is_ok()
        })
    }
}

/// The TaggedJSON text Flask would write for `data` (typed form).
///
/// # Errors
///
/// [`FlaskError::Encode`] when a typed-form wrapper holds an invalid value.
pub fn tagged_json(data: &Map<String, Value>) -> Result<String, FlaskError> {
    let mut json = String::with_capacity(256);
    tagged::write_tagged_object(data, &mut json).map_err(FlaskError::Encode)?;
    Ok(json)
}

/// The one itsdangerous signer: `Signer(secret, salt, key_derivation="hmac",
/// digest_method=sha1)`, its key `HMAC-SHA1(secret, salt)`. Flask's cookie uses the salt
/// `cookie-session`, Flask-Session's signed ids `flask-session`.
pub(crate) fn itsdangerous_signer(secret: &[u8], salt: &[u8]) -> HmacSha1 {
    let mut derive = HmacSha1::new_from_slice(secret).expect("HMAC takes any key length");
    derive.update(salt);
    HmacSha1::new_from_slice(&derive.finalize().into_bytes()).expect("HMAC takes any key length")
}

fn signer(secret: &[u8]) -> HmacSha1 {
    itsdangerous_signer(secret, b"cookie-session")
}

fn non_empty(secret: &[u8]) -> Result<&[u8], KeyError> {
    if secret.is_empty() {
        return Err(KeyError::TooShort { len: 0, min: 1 });
    }
    Ok(secret)
}

fn decode_timestamp(text: &str) -> Option<u64> {
    let bytes = URL_SAFE_NO_PAD.decode(text).ok()?;
    if bytes.len() > 8 {
        return None;
    }
    Some(bytes.iter().fold(0u64, |n, &b| n << 8 | u64::from(b)))
}

/// The JSON length from which a cookie is compressed.
pub const COMPRESS_FROM: usize = 512;

thread_local! {
    /// Building a deflate state zeroes a few hundred kilobytes of tables, which cost more than
    /// compressing a cookie; one state per thread is reset instead.
    static DEFLATE: std::cell::RefCell<flate2::Compress> =
        std::cell::RefCell::new(flate2::Compress::new_with_window_bits(
            flate2::Compression::fast(),
            true,
            12,
        ));
    static INFLATE: std::cell::RefCell<flate2::Decompress> =
        std::cell::RefCell::new(flate2::Decompress::new(true));
}

/// Base64url, zlib (then a leading `.`) from [`COMPRESS_FROM`] bytes when at least 2 bytes
/// shorter.
fn encode_payload(json: &[u8]) -> String {
    if json.len() < COMPRESS_FROM {
        return URL_SAFE_NO_PAD.encode(json);
    }
    let compressed = DEFLATE.with_borrow_mut(|deflate| deflate_all(deflate, json));
    match compressed.filter(|c| c.len() + 1 < json.len()) {
        Some(c) => format!(".{}", URL_SAFE_NO_PAD.encode(c)),
        None => URL_SAFE_NO_PAD.encode(json),
    }
}

fn deflate_all(deflate: &mut flate2::Compress, input: &[u8]) -> Option<Vec<u8>> {
    deflate.reset();
    // Deflate expands incompressible input by a few bytes per block, plus a 6-byte frame.
    let mut out = Vec::with_capacity(input.len() + input.len() / 16 + 64);
    loop {
        let consumed = usize::try_from(deflate.total_in()).ok()?;
        let status = deflate
            .compress_vec(&input[consumed..], &mut out, flate2::FlushCompress::Finish)
            .ok()?;
        match status {
            flate2::Status::StreamEnd => return Some(out),
            _ => out.reserve(out.capacity().max(64)),
        }
    }
}

fn decode_payload(payload: &str) -> Result<Map<String, Value>, String> {
    let (compressed, text) = payload
        .strip_prefix('.')
        .map_or((false, payload), |p| (true, p));
    let mut bytes = URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|e| format!("base64: {e}"))?;
    if compressed {
        bytes = inflate(&bytes)?;
    }
    let value: Value =
        serde_json::from_slice(&bigint::protect(&bytes)).map_err(|e| format!("JSON: {e}"))?;
    match tagged::untag(value)? {
        Value::Object(map) => Ok(map),
        _ => Err("the session is not a JSON object".into()),
    }
}

/// Inflates a whole zlib stream, refusing more than [`MAX_DECOMPRESSED`] bytes or trailing data.
fn inflate(data: &[u8]) -> Result<Vec<u8>, String> {
    use flate2::{FlushDecompress, Status};
    let too_big = || format!("inflates past {MAX_DECOMPRESSED} bytes");
    INFLATE.with_borrow_mut(|inflate| {
        inflate.reset(true);
        let mut out = Vec::with_capacity((data.len() * 4).clamp(256, MAX_DECOMPRESSED + 1));
        loop {
            let progress = (inflate.total_in(), inflate.total_out());
            let rest = &data[(inflate.total_in() as usize).min(data.len())..];
            let status = inflate
                .decompress_vec(rest, &mut out, FlushDecompress::None)
                .map_err(|e| format!("zlib: {e}"))?;
            if status == Status::StreamEnd {
                break;
            }
            if out.len() > MAX_DECOMPRESSED {
                return Err(too_big());
            }
            if out.len() < out.capacity() && progress == (inflate.total_in(), inflate.total_out()) {
                return Err("zlib: truncated stream".into());
            }
            if out.len() == out.capacity() {
                out.reserve(out.capacity().min(MAX_DECOMPRESSED + 1 - out.len()).max(1));
            }
        }
        if out.len() > MAX_DECOMPRESSED {
            return Err(too_big());
        }
        if inflate.total_in() != data.len() as u64 {
            return Err("bytes after the zlib stream".into());
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_beyond_64_bits_in_a_flask_cookie_are_written_back_exactly() {
        // Sorted keys, as Flask writes them.
        let json = br#"{"big":18446744073709551616,"n":7,"neg":-99999999999999999999}"#;
        let map = decode_payload(&URL_SAFE_NO_PAD.encode(json)).unwrap();
        let mut out = String::new();
        pyjson::write(&Value::Object(map), &mut out);
        assert_eq!(out, std::str::from_utf8(json).unwrap());
    }
}
