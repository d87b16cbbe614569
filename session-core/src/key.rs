//! Secret keys: strength checks, per-purpose derivation, rotation.
//!
//! A [`Key`] is the master secret an application configures. sessionkit never signs with it
//! directly: each use (each cookie) gets its own signing key derived from it with HMAC-SHA256, so
//! one secret can safely serve several cookies. A [`Keyring`] holds the current key, which signs,
//! and fallback keys, which only verify, so a secret can be rotated without logging anyone out.

use std::fmt;

use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The minimum length of a secret key, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// Secrets copied from tutorials and framework docs. A key containing one of these (compared
/// case-insensitively, ignoring spaces, `_` and `-`) is refused whatever its length.
const WELL_KNOWN: &[&str] = &[
    "secretkey",
    "secret",
    "dev",
    "development",
    "changeme",
    "changethis",
    "keyboardcat",
    "supersecretkey",
    "yoursecretkeyhere",
    "yoursecretkey",
    "mysecretkey",
    "supersecretkey123",
    "password",
    "default",
    "test",
    "flask",
    "abc123",
    "qwerty",
];

const HOW_TO_FIX: &str = "generate one with `openssl rand -hex 32` (or `Key::generate()` in \
    development) and load it with `Key::from_hex` or `Key::from_env`";

/// Why a secret was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyError {
    /// The secret has fewer than [`MIN_KEY_BYTES`] bytes.
    TooShort {
        /// The length that was given.
        len: usize,
        /// The minimum length.
        min: usize,
    },
    /// Every byte of the secret is the same.
    Repeated,
    /// The secret is a run such as `0123456789…` or `abcdef…`.
    Sequential,
    /// The secret is (or is made of) a well-known example value from tutorials.
    WellKnown,
    /// The text is not valid hex.
    InvalidHex,
    /// The text is not valid base64 (standard or URL-safe, padded or not).
    InvalidBase64,
    /// The environment variable is not set or not valid UTF-8.
    MissingEnv {
        /// The variable's name.
        var: String,
    },
    /// The operating system's random number generator failed.
    Random,
}

impl fmt::Display for KeyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooShort { len, min } => write!(
                f,
                "secret key is {len} bytes, at least {min} are needed: {HOW_TO_FIX}"
            ),
            Self::Repeated => write!(f, "secret key is one repeated byte: {HOW_TO_FIX}"),
            Self::Sequential => write!(f, "secret key is a sequential run: {HOW_TO_FIX}"),
            Self::WellKnown => write!(
                f,
                "secret key is a well-known example value from tutorials: {HOW_TO_FIX}"
            ),
            Self::InvalidHex => write!(f, "secret key is not valid hex: {HOW_TO_FIX}"),
            Self::InvalidBase64 => write!(f, "secret key is not valid base64: {HOW_TO_FIX}"),
            Self::MissingEnv { var } => write!(
                f,
                "environment variable `{var}` holding the secret key is not set: {HOW_TO_FIX}"
            ),
            Self::Random => write!(f, "the system random number generator failed"),
        }
    }
}

impl std::error::Error for KeyError {}

/// A master secret of at least [`MIN_KEY_BYTES`] bytes that passed the strength checks.
///
/// `Debug` never shows the bytes and equality is constant time.
///
/// # Examples
///
/// ```
/// use session_core::{Key, KeyError};
///
/// let key = Key::from_hex("8f3c9a1e5b7d2f40c6e81a93d5b7f2046e8c1a3f5d7b9e20c4a6e81f3d5b7c90")?;
/// assert_eq!(format!("{key:?}"), "Key(<redacted>)");
/// assert_eq!(Key::from_bytes(b"a short secret").unwrap_err(), KeyError::TooShort { len: 14, min: 32 });
/// assert_eq!(Key::from_bytes(b"keyboard cat").unwrap_err(), KeyError::WellKnown);
/// # Ok::<(), KeyError>(())
/// ```
#[derive(Clone)]
pub struct Key {
    bytes: Box<[u8]>,
}

impl Key {
    /// Builds a key from raw bytes.
    ///
    /// # Errors
    ///
    /// [`KeyError`] when the bytes are too short, one repeated byte, a sequential run, or a
    /// well-known tutorial secret.
    pub fn from_bytes(bytes: impl AsRef<[u8]>) -> Result<Self, KeyError> {
        let bytes = bytes.as_ref();
        check_secret(bytes, MIN_KEY_BYTES)?;
        Ok(Self {
            bytes: bytes.into(),
        })
    }

    /// Builds a key from hex text (upper or lower case, surrounding whitespace ignored).
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidHex`], or any error of [`Key::from_bytes`].
    pub fn from_hex(text: &str) -> Result<Self, KeyError> {
        let text = text.trim().as_bytes();
        if text.len() % 2 != 0 {
            return Err(KeyError::InvalidHex);
        }
        let bytes = text
            .chunks_exact(2)
            .map(|pair| Some(hex_value(pair[0])? << 4 | hex_value(pair[1])?))
            .collect::<Option<Vec<u8>>>()
            .ok_or(KeyError::InvalidHex)?;
        Self::from_bytes(bytes)
    }

    /// Builds a key from base64 text, standard or URL-safe alphabet, padded or not.
    ///
    /// # Errors
    ///
    /// [`KeyError::InvalidBase64`], or any error of [`Key::from_bytes`].
    pub fn from_base64(text: &str) -> Result<Self, KeyError> {
        use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
        let text = text.trim().trim_end_matches('=');
        let bytes = STANDARD_NO_PAD
            .decode(text)
            .or_else(|_| URL_SAFE_NO_PAD.decode(text))
            .map_err(|_| KeyError::InvalidBase64)?;
        Self::from_bytes(bytes)
    }

    /// Reads a key from an environment variable holding hex (64 or more hex digits) or base64.
    ///
    /// # Errors
    ///
    /// [`KeyError::MissingEnv`] when the variable is unset, or any error of the parsers.
    pub fn from_env(var: &str) -> Result<Self, KeyError> {
        let value = std::env::var(var).map_err(|_| KeyError::MissingEnv {
            var: var.to_owned(),
        })?;
        let trimmed = value.trim();
        let looks_hex =
            trimmed.len() >= 2 * MIN_KEY_BYTES && trimmed.bytes().all(|b| b.is_ascii_hexdigit());
        if looks_hex {
            Self::from_hex(&value)
        } else {
            Self::from_base64(&value)
        }
    }

    /// Generates a random 64-byte key from the operating system's generator.
    ///
    /// Meant for development and tests: a generated key changes at every start, which logs every
    /// user out. Production keys come from configuration ([`Key::from_env`]).
    ///
    /// # Errors
    ///
    /// [`KeyError::Random`] if the operating system cannot provide randomness.
    pub fn generate() -> Result<Self, KeyError> {
        let mut bytes = [0u8; 64];
        getrandom::fill(&mut bytes).map_err(|_| KeyError::Random)?;
        Self::from_bytes(bytes)
    }

    /// Derives the 32-byte subkey for one purpose: `HMAC-SHA256(master, label || purpose)`.
    pub(crate) fn derive(&self, purpose: &[u8]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.bytes).expect("HMAC takes any key length");
        mac.update(b"sessionkit/derive/v1\0");
        mac.update(purpose);
        mac.finalize().into_bytes().into()
    }
}

impl fmt::Debug for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.bytes.ct_eq(&other.bytes).into()
    }
}

impl Eq for Key {}

impl TryFrom<&[u8]> for Key {
    type Error = KeyError;

    fn try_from(bytes: &[u8]) -> Result<Self, KeyError> {
        Self::from_bytes(bytes)
    }
}

fn hex_value(digit: u8) -> Option<u8> {
    match digit {
        b'0'..=b'9' => Some(digit - b'0'),
        b'a'..=b'f' => Some(digit - b'a' + 10),
        b'A'..=b'F' => Some(digit - b'A' + 10),
        _ => None,
    }
}

/// The strength rules, with the minimum length as a parameter (Flask keys may be shorter).
pub(crate) fn check_secret(bytes: &[u8], min_len: usize) -> Result<(), KeyError> {
    if is_well_known(bytes) {
        return Err(KeyError::WellKnown);
    }
    if bytes.len() < min_len.max(2) {
        return Err(KeyError::TooShort {
            len: bytes.len(),
            min: min_len,
        });
    }
    if bytes.iter().all(|&b| b == bytes[0]) {
        return Err(KeyError::Repeated);
    }
    let step = bytes[1].wrapping_sub(bytes[0]);
    let run = bytes.windows(2).all(|w| w[1].wrapping_sub(w[0]) == step);
    if run || is_cyclic_run(bytes) {
        return Err(KeyError::Sequential);
    }
    Ok(())
}

/// True for `0123456789012…` or `abc…xyzabc…`: a run of up to 64 bytes repeated to length.
fn is_cyclic_run(bytes: &[u8]) -> bool {
    (2..=64.min(bytes.len())).any(|period| {
        let head = &bytes[..period];
        let step = head[1].wrapping_sub(head[0]);
        head.windows(2).all(|w| w[1].wrapping_sub(w[0]) == step)
            && bytes.chunks(period).all(|c| c == &head[..c.len()])
    })
}

/// True when the secret, normalised, is a well-known value or that value repeated.
fn is_well_known(bytes: &[u8]) -> bool {
    let normal: Vec<u8> = bytes
        .iter()
        .filter(|b| !matches!(b, b' ' | b'_' | b'-' | b'.'))
        .map(u8::to_ascii_lowercase)
        .collect();
    WELL_KNOWN.iter().any(|known| {
        let known = known.as_bytes();
        !normal.is_empty()
            && normal.len() % known.len() == 0
            && normal.chunks(known.len()).all(|c| c == known)
    })
}

/// The keys a configuration verifies with: the current key signs, fallbacks only verify.
///
/// # Examples
///
/// ```
/// use session_core::{Key, Keyring};
///
/// let old = Key::generate()?;
/// let new = Key::generate()?;
/// let ring = Keyring::new(new).with_fallback(old);
/// assert_eq!(ring.fallbacks().len(), 1);
/// # Ok::<(), session_core::KeyError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Keyring {
    pub(crate) current: Key,
    pub(crate) fallbacks: Vec<Key>,
}

impl Keyring {
    /// A keyring that signs and verifies with `current` only.
    #[must_use]
    pub fn new(current: Key) -> Self {
        Self {
            current,
            fallbacks: Vec::new(),
        }
    }

    /// Adds a key that still verifies old cookies but never signs new ones.
    #[must_use]
    pub fn with_fallback(mut self, key: Key) -> Self {
        self.fallbacks.push(key);
        self
    }

    /// The key that signs.
    #[must_use]
    pub fn current(&self) -> &Key {
        &self.current
    }

    /// The keys that only verify, in the order they are tried.
    #[must_use]
    pub fn fallbacks(&self) -> &[Key] {
        &self.fallbacks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_tutorial_literals_whatever_their_case() {
        for secret in [
            "secret key",
            "secret",
            "dev",
            "changeme",
            "keyboard cat",
            "super secret key",
            "your_secret_key_here",
            "supersecretkey123",
            "MY_SECRET_KEY",
            "keyboard cat keyboard cat keyboard cat keyboard cat",
        ] {
            assert_eq!(
                Key::from_bytes(secret),
                Err(KeyError::WellKnown),
                "{secret}"
            );
        }
    }

    #[test]
    fn refuses_short_repeated_and_sequential_keys() {
        assert_eq!(
            Key::from_bytes(""),
            Err(KeyError::TooShort { len: 0, min: 32 })
        );
        assert_eq!(
            Key::from_bytes([7u8; 31]),
            Err(KeyError::TooShort { len: 31, min: 32 })
        );
        assert_eq!(Key::from_bytes([7u8; 64]), Err(KeyError::Repeated));
        let run: Vec<u8> = (0u8..64).collect();
        assert_eq!(Key::from_bytes(run), Err(KeyError::Sequential));
        assert_eq!(
            Key::from_bytes("0123456789012345678901234567890123456789"),
            Err(KeyError::Sequential)
        );
        assert_eq!(
            Key::from_bytes("abcdefghijklmnopqrstuvwxyzabcdefghijkl"),
            Err(KeyError::Sequential)
        );
    }

    #[test]
    fn error_message_says_how_to_fix() {
        let message = KeyError::TooShort { len: 3, min: 32 }.to_string();
        assert!(message.contains("openssl rand -hex 32"), "{message}");
    }

    #[test]
    fn hex_and_base64_give_the_same_key() {
        let hex = "8f3c9a1e5b7d2f40c6e81a93d5b7f2046e8c1a3f5d7b9e20c4a6e81f3d5b7c90";
        let b64 = "jzyaHlt9L0DG6BqT1bfyBG6MGj9de54gxKboHz1bfJA";
        assert_eq!(Key::from_hex(hex).unwrap(), Key::from_base64(b64).unwrap());
        assert_eq!(Key::from_hex("zz"), Err(KeyError::InvalidHex));
        assert_eq!(Key::from_base64("!!!!"), Err(KeyError::InvalidBase64));
    }

    #[test]
    fn generated_keys_differ_and_never_print() {
        let (a, b) = (Key::generate().unwrap(), Key::generate().unwrap());
        assert_ne!(a, b);
        assert_eq!(
            format!("{:?}", Keyring::new(a).with_fallback(b)),
            "Keyring { current: Key(<redacted>), fallbacks: [Key(<redacted>)] }"
        );
    }

    #[test]
    fn from_env_reads_hex_or_base64_and_names_a_missing_variable() {
        let hex = "8f3c9a1e5b7d2f40c6e81a93d5b7f2046e8c1a3f5d7b9e20c4a6e81f3d5b7c90";
        let b64 = "jzyaHlt9L0DG6BqT1bfyBG6MGj9de54gxKboHz1bfJA";
        std::env::set_var("SESSIONKIT_TEST_KEY_HEX", hex);
        std::env::set_var("SESSIONKIT_TEST_KEY_B64", format!(" {b64}\n"));
        let from_hex = Key::from_env("SESSIONKIT_TEST_KEY_HEX").unwrap();
        assert_eq!(from_hex, Key::from_env("SESSIONKIT_TEST_KEY_B64").unwrap());
        assert_eq!(from_hex, Key::from_hex(hex).unwrap());
        let missing = Key::from_env("SESSIONKIT_TEST_KEY_UNSET").unwrap_err();
        assert_eq!(
            missing,
            KeyError::MissingEnv {
                var: "SESSIONKIT_TEST_KEY_UNSET".into()
            }
        );
        assert!(missing.to_string().contains("SESSIONKIT_TEST_KEY_UNSET"));
    }

    #[test]
    fn derivation_separates_purposes() {
        let key = Key::generate().unwrap();
        assert_ne!(key.derive(b"session"), key.derive(b"other"));
        assert_eq!(key.derive(b"session"), key.derive(b"session"));
    }
}
