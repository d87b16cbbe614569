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

use crate::error::KeyError;

pub(crate) type HmacSha256 = Hmac<Sha256>;

/// The minimum length of a secret key, in bytes.
pub const MIN_KEY_BYTES: usize = 32;

/// Secrets published in tutorials, framework docs and books, which real apps ship with. A key
/// that is one of these, or one repeated (compared case-insensitively, ignoring spaces, `_`,
/// `-` and `.`), is refused whatever its length. Sources: the Flask docs and tutorial
/// (`dev`, `development key`, the quickstart's `_5#y2L"F4Q8z\n\xec]/`, the `secrets.token_hex()`
/// output shown in the deployment docs, `super secret key`, the old
/// `A0Zr98j/3yX R~XHH!jmN]LWX/,?RT`), Miguel Grinberg's Flask Mega-Tutorial and book
/// (`you-will-never-guess`, `hard to guess string`), a `DigitalOcean` Flask-Login tutorial
/// (`secret-key-goes-here`), express-session's docs (`keyboard cat`), the session tutorials
/// this project grew from (`secret key`, `w98fw9ef8hwe98fhwef`, `supersecretkey123`,
/// `your_secret_key_here`, `a_secure_random_key`), and the placeholders common in blog posts.
pub(crate) const WELL_KNOWN: &[&[u8]] = &[
    b"secret key",
    b"w98fw9ef8hwe98fhwef",
    b"supersecretkey123",
    b"your_secret_key_here",
    b"a_secure_random_key",
    b"dev",
    b"development",
    b"development key",
    b"_5#y2L\"F4Q8z\n\xec]/",
    b"192b9bdd22ab9ed4d12e236c78afcb9a393ec15f71bbf5dc987d54727823bcbf",
    b"A0Zr98j/3yX R~XHH!jmN]LWX/,?RT",
    b"you-will-never-guess",
    b"hard to guess string",
    b"secret-key-goes-here",
    b"super secret key",
    b"keyboard cat",
    b"mysecret123",
    b"mysecretkey",
    b"my secret key",
    b"your-secret-key",
    b"your secret key",
    b"default-secret",
    b"dev-secret",
    b"mysecret",
    b"secret",
    b"secret123",
    b"secretkey123",
    b"changeme",
    b"change-this",
    b"changeit",
    b"thisisasecret",
    b"this is a secret key",
    b"abc123",
    b"password",
    b"s3cr3t",
    b"sekrit",
    b"topsecret",
    b"notasecret",
    b"flask secret key",
    b"flask-secret",
    b"flask",
    b"test",
    b"testing",
    b"default",
    b"qwerty",
    b"admin",
    b"somesecret",
    b"random string",
    b"supersecret",
    b"averysecretkey",
    b"fake secret",
];

/// Placeholder phrases that mark a key as an example wherever they appear in it
/// (`change-me-in-production-0a1b2c…`, `my-super-secret-key-2024`), compared as
/// [`WELL_KNOWN`] is. Each is long enough (6 letters or more, not all hex digits) that a random
/// base64 or hex key contains one with negligible probability.
pub(crate) const PLACEHOLDERS: &[&[u8]] = &[
    b"secretkey",
    b"changeme",
    b"changethis",
    b"replaceme",
    b"yoursecret",
    b"mysecret",
    b"supersecret",
    b"topsecret",
    b"notsecret",
    b"notasecret",
    b"keyboardcat",
    b"placeholder",
    b"insecure",
    b"donotuse",
    b"dontuse",
    b"neverguess",
    b"hardtoguess",
    b"password",
    b"example",
    b"sample",
    b"secretstring",
    b"randomstring",
    b"randomkey",
    b"s3cr3t",
    b"sekrit",
];

/// Keyboard rows (US, German and French layouts) a walked key follows.
const KEYBOARD_ROWS: &[&[u8]] = &[
    b"`1234567890-=",
    b"qwertyuiop[]\\",
    b"asdfghjkl;'",
    b"zxcvbnm,./",
    b"qwertzuiop",
    b"yxcvbnm",
    b"azertyuiop",
    b"qsdfghjklm",
    b"wxcvbn",
];

/// A master secret of at least [`MIN_KEY_BYTES`] bytes that passed the strength checks.
///
/// `Debug` never shows the bytes and equality is constant time.
///
/// # Examples
///
/// ```
/// use sessionkit::{Key, KeyError};
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
        let bytes = hex::decode(text.trim()).map_err(|_| KeyError::InvalidHex)?;
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

    /// Reads a key from an environment variable, whose encoding is never guessed: hex digits
    /// (what `openssl rand -hex 32` prints), or a value labelled `hex:<digits>` or
    /// `base64:<text>` (standard or URL-safe, padded or not). Surrounding whitespace is ignored.
    ///
    /// # Errors
    ///
    /// [`KeyError::MissingEnv`] when the variable is unset, [`KeyError::EmptyEnv`] when it is
    /// empty, [`KeyError::UnlabelledEnv`] for a value that is not hex and has no label, or any
    /// error of the parsers (a 48-digit hex value is 24 bytes: [`KeyError::TooShort`]).
    pub fn from_env(var: &str) -> Result<Self, KeyError> {
        let named = || var.to_owned();
        let value = std::env::var(var).map_err(|_| KeyError::MissingEnv { var: named() })?;
        let value = value.trim();
        if value.is_empty() {
            return Err(KeyError::EmptyEnv { var: named() });
        }
        if let Some(hex) = value.strip_prefix("hex:") {
            Self::from_hex(hex)
        } else if let Some(base64) = value.strip_prefix("base64:") {
            Self::from_base64(base64)
        } else if value.bytes().all(|b| b.is_ascii_hexdigit()) {
            Self::from_hex(value)
        } else {
            Err(KeyError::UnlabelledEnv { var: named() })
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

/// The id a subkey is known by beside what it signs or seals (4 bytes in a cookie's or a
/// record's head): the first bytes of `HMAC-SHA256(subkey, "key-id")`. It names the key
/// without giving anything away about it, so a rotation finds the right key at once.
pub(crate) fn key_id(subkey: &[u8; 32]) -> [u8; 4] {
    let mut mac = HmacSha256::new_from_slice(subkey).expect("HMAC takes any key length");
    mac.update(b"key-id");
    let id = mac.finalize().into_bytes();
    [id[0], id[1], id[2], id[3]]
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

/// The strength rules, with the minimum length as a parameter (Flask keys may be shorter).
pub(crate) fn check_secret(bytes: &[u8], min_len: usize) -> Result<(), KeyError> {
    let normal = normalise(bytes);
    if is_well_known(&normal) {
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
    if has_short_period(bytes) {
        return Err(KeyError::Repeated);
    }
    if is_keyboard_walk(&normal) {
        return Err(KeyError::KeyboardPattern);
    }
    Ok(())
}

/// Lower case, without the separators people sprinkle into memorable secrets.
fn normalise(bytes: &[u8]) -> Vec<u8> {
    bytes
        .iter()
        .filter(|b| !matches!(b, b' ' | b'_' | b'-' | b'.'))
        .map(u8::to_ascii_lowercase)
        .collect()
}

/// True for a short pattern (16 bytes or fewer) repeated to length: `hunter2hunter2hunter2…`.
fn has_short_period(bytes: &[u8]) -> bool {
    (1..=16.min(bytes.len() / 2)).any(|period| bytes.chunks(period).all(|c| c == &bytes[..c.len()]))
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

/// True when the normalised secret is a well-known value or that value repeated, or contains
/// a placeholder phrase.
fn is_well_known(normal: &[u8]) -> bool {
    let whole = WELL_KNOWN.iter().any(|known| {
        let known = normalise(known);
        !normal.is_empty()
            && normal.len().is_multiple_of(known.len())
            && normal.chunks(known.len()).all(|c| c == known)
    });
    whole
        || PLACEHOLDERS
            .iter()
            .any(|phrase| normal.windows(phrase.len()).any(|w| w == *phrase))
}

/// True when three quarters or more of the adjacent pairs are neighbours on one keyboard row
/// (either direction): `qwertyuiop…`, `asdfasdf…`, `zxcvbnm,./…`.
fn is_keyboard_walk(normal: &[u8]) -> bool {
    let neighbours = |a: u8, b: u8| {
        KEYBOARD_ROWS.iter().any(|row| {
            row.windows(2)
                .any(|w| (w[0], w[1]) == (a, b) || (w[1], w[0]) == (a, b))
        })
    };
    let pairs = normal.len().saturating_sub(1);
    let walked = normal.windows(2).filter(|w| neighbours(w[0], w[1])).count();
    pairs >= 8 && walked * 4 >= pairs * 3
}

/// The keys a configuration verifies with: the current key signs, fallbacks only verify.
///
/// # Examples
///
/// ```
/// use sessionkit::{Key, Keyring};
///
/// let old = Key::generate()?;
/// let new = Key::generate()?;
/// let ring = Keyring::new(new).with_fallback(old);
/// assert_eq!(ring.fallbacks().len(), 1);
/// # Ok::<(), sessionkit::KeyError>(())
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
    fn an_error_returned_from_main_shows_its_fix() {
        // `main` prints the error with `Debug`.
        let error = KeyError::UnlabelledEnv {
            var: "SESSION_SECRET".into(),
        };
        let shown = format!("{error:?}");
        assert!(shown.starts_with("KeyError: "), "{shown}");
        assert!(shown.contains("base64:<text>"), "{shown}");
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
    fn from_env_reads_hex_or_labelled_base64_and_names_the_variable() {
        let hex = "8f3c9a1e5b7d2f40c6e81a93d5b7f2046e8c1a3f5d7b9e20c4a6e81f3d5b7c90";
        let b64 = "jzyaHlt9L0DG6BqT1bfyBG6MGj9de54gxKboHz1bfJA";
        let set = |var: &str, value: &str| std::env::set_var(var, value);
        set("SESSIONKIT_TEST_KEY_HEX", hex);
        set("SESSIONKIT_TEST_KEY_HEX_LABEL", &format!("hex:{hex}"));
        set("SESSIONKIT_TEST_KEY_B64", &format!(" base64:{b64}\n"));
        let from_hex = Key::from_env("SESSIONKIT_TEST_KEY_HEX").unwrap();
        assert_eq!(
            from_hex,
            Key::from_env("SESSIONKIT_TEST_KEY_HEX_LABEL").unwrap()
        );
        assert_eq!(from_hex, Key::from_env("SESSIONKIT_TEST_KEY_B64").unwrap());
        assert_eq!(from_hex, Key::from_hex(hex).unwrap());

        let missing = Key::from_env("SESSIONKIT_TEST_KEY_UNSET").unwrap_err();
        let var = |v: &str| v.to_owned();
        assert_eq!(
            missing,
            KeyError::MissingEnv {
                var: var("SESSIONKIT_TEST_KEY_UNSET")
            }
        );
        assert!(missing.to_string().contains("SESSIONKIT_TEST_KEY_UNSET"));

        set("SESSIONKIT_TEST_KEY_EMPTY", "  ");
        let empty = Key::from_env("SESSIONKIT_TEST_KEY_EMPTY").unwrap_err();
        assert_eq!(
            empty,
            KeyError::EmptyEnv {
                var: var("SESSIONKIT_TEST_KEY_EMPTY")
            }
        );
        assert!(empty
            .to_string()
            .contains("`SESSIONKIT_TEST_KEY_EMPTY` holding the secret key is empty"));

        // Unlabelled base64 is not guessed at.
        set("SESSIONKIT_TEST_KEY_BARE_B64", b64);
        let bare = Key::from_env("SESSIONKIT_TEST_KEY_BARE_B64").unwrap_err();
        assert_eq!(
            bare,
            KeyError::UnlabelledEnv {
                var: var("SESSIONKIT_TEST_KEY_BARE_B64")
            }
        );
        assert!(bare.to_string().contains("base64:"), "{bare}");
    }

    #[test]
    fn a_24_byte_key_in_hex_is_too_short_however_it_is_read() {
        // 48 hex digits are also valid base64 (36 bytes): read as hex, never as base64.
        let hex24 = "8f3c9a1e5b7d2f40c6e81a93d5b7f2046e8c1a3f5d7b9e20";
        std::env::set_var("SESSIONKIT_TEST_KEY_HEX24", hex24);
        std::env::set_var("SESSIONKIT_TEST_KEY_HEX24_LABEL", format!("hex:{hex24}"));
        let short = KeyError::TooShort { len: 24, min: 32 };
        assert_eq!(
            Key::from_env("SESSIONKIT_TEST_KEY_HEX24"),
            Err(short.clone())
        );
        assert_eq!(Key::from_env("SESSIONKIT_TEST_KEY_HEX24_LABEL"), Err(short));
    }

    #[test]
    fn every_well_known_secret_is_refused_alone_repeated_and_padded() {
        assert!(WELL_KNOWN.len() >= 40, "{} entries", WELL_KNOWN.len());
        for known in WELL_KNOWN {
            let shown = String::from_utf8_lossy(known);
            assert_eq!(check_secret(known, 16), Err(KeyError::WellKnown), "{shown}");
            let repeated = known.repeat(64 / known.len() + 1);
            assert_eq!(
                Key::from_bytes(&repeated),
                Err(KeyError::WellKnown),
                "{shown}"
            );
            let upper: Vec<u8> = known.to_ascii_uppercase();
            assert_eq!(
                check_secret(&upper, 16),
                Err(KeyError::WellKnown),
                "{shown}"
            );
        }
    }

    #[test]
    fn a_key_containing_a_placeholder_phrase_is_refused() {
        let random = "9f1c62e0b4d87a35c2e19f6b0d4a7c38";
        for phrase in PLACEHOLDERS {
            let phrase = String::from_utf8_lossy(phrase);
            for key in [
                format!("{phrase}-{random}"),
                format!("{random}_{phrase}"),
                format!(
                    "{}{}{}",
                    &random[..10],
                    phrase.to_uppercase(),
                    &random[10..]
                ),
            ] {
                assert_eq!(Key::from_bytes(&key), Err(KeyError::WellKnown), "{key}");
            }
        }
        for key in [
            "change-me-in-production-please-2024",
            "my-super-secret-key-for-the-app-2024",
            "django-insecure-6a%j@x!2b9#kq)w0v&r=8t^e",
        ] {
            assert_eq!(Key::from_bytes(key), Err(KeyError::WellKnown), "{key}");
        }
    }

    #[test]
    fn a_short_word_repeated_to_length_is_refused() {
        for word in ["hunter2", "Tr0ub4dor&3", "abcd1234", "x9k", "correcthorse"] {
            let key = word.repeat(40 / word.len() + 1);
            assert_eq!(Key::from_bytes(&key), Err(KeyError::Repeated), "{key}");
        }
        let mut pattern = b"hunter2".repeat(6);
        pattern.truncate(33);
        assert_eq!(Key::from_bytes(&pattern), Err(KeyError::Repeated));
    }

    #[test]
    fn keyboard_rows_walked_or_repeated_are_refused() {
        for key in [
            "qwertyuiopasdfghjklzxcvbnmqwertyuiop",
            "poiuytrewqlkjhgfdsamnbvcxzpoiuytrewq",
            "azertyuiopqsdfghjklmwxcvbnazertyuiop",
            "Qwerty-Asdfgh-Zxcvbn-Qwertz-Uiop-Asdf",
        ] {
            assert_eq!(
                Key::from_bytes(key),
                Err(KeyError::KeyboardPattern),
                "{key}"
            );
        }
        // A short row repeated is refused as a repeated pattern.
        for key in [
            "zxcvbzxcvbzxcvbzxcvbzxcvbzxcvbzxcvb",
            "asdfghjkl;asdfghjkl;asdfghjkl;asdfghjkl;",
        ] {
            assert_eq!(Key::from_bytes(key), Err(KeyError::Repeated), "{key}");
        }
    }

    #[test]
    fn random_keys_pass_every_rule() {
        for _ in 0..2_000 {
            let key = Key::generate().unwrap();
            let hex: String = key.bytes[..32]
                .iter()
                .flat_map(|b| [b >> 4, b & 15])
                .map(|n| char::from_digit(u32::from(n), 16).unwrap())
                .collect();
            let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&key.bytes[..32]);
            assert_eq!(check_secret(hex.as_bytes(), 32), Ok(()), "{hex}");
            assert_eq!(check_secret(b64.as_bytes(), 32), Ok(()), "{b64}");
        }
    }

    #[test]
    fn derivation_separates_purposes() {
        let key = Key::generate().unwrap();
        assert_ne!(key.derive(b"session"), key.derive(b"other"));
        assert_eq!(key.derive(b"session"), key.derive(b"session"));
    }
}
