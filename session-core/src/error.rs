//! Why a cookie was rejected, why a session could not be saved, why a configuration is invalid.

use std::fmt;
use std::time::Duration;

/// Why an incoming session cookie was not used. The request goes on with a fresh session; the
/// reason is there for logging and metrics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Rejection {
    /// Not base64url, too short, or with an invalid structure.
    #[error("malformed session cookie")]
    Malformed,
    /// An envelope format this version does not read.
    #[error("unsupported session envelope version {0}")]
    UnsupportedVersion(u8),
    /// Signed by a key that is neither the current key nor a fallback (for example one removed
    /// after a rotation).
    #[error("session cookie signed by an unknown key")]
    UnknownKey,
    /// The tag does not match: the cookie was altered or forged.
    #[error("session cookie has a bad signature")]
    BadSignature,
    /// A cookie minted under another cookie name.
    #[error("session cookie was minted for another name")]
    WrongCookieName,
    /// Older than the absolute lifetime.
    #[error("session expired: created {}s ago, lifetime {}s", .age.as_secs(), .limit.as_secs())]
    Expired {
        /// How long ago the session was created.
        age: Duration,
        /// The absolute lifetime.
        limit: Duration,
    },
    /// Unused for longer than the idle timeout.
    #[error("session idle for {}s, idle timeout {}s", .idle.as_secs(), .limit.as_secs())]
    IdleTimeout {
        /// How long ago the cookie was last issued.
        idle: Duration,
        /// The idle timeout.
        limit: Duration,
    },
    /// Issued later than now, beyond the allowed clock skew.
    #[error("session cookie issued {}s in the future", .by.as_secs())]
    IssuedInFuture {
        /// How far in the future.
        by: Duration,
    },
    /// Written by another schema version of the session struct.
    #[error("session schema version {found} does not match the expected {expected}")]
    SchemaMismatch {
        /// The version in the cookie.
        found: u32,
        /// The version this app expects.
        expected: u32,
    },
    /// Correctly signed, but the payload does not deserialize into the session type.
    #[error("session payload does not fit the type: {0}")]
    Payload(String),
    /// The cookie value is longer than the configured limit; it was not decoded.
    #[error("session cookie of {bytes} bytes exceeds the {limit}-byte limit")]
    TooLarge {
        /// The length of the value.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The app's validation hook refused the session (for example a logged-out-everywhere user).
    #[error("session revoked by the validation hook")]
    Revoked,
    /// A valid id, but the store has no live record for it: expired, logged out or revoked.
    #[error("no live session for this id (expired, logged out or revoked)")]
    UnknownSession,
    /// The store holds a record under the cookie's id, but it cannot be read: garbage, a
    /// record not written by sessionkit, one not sealed to its key, or one sealed with a key
    /// that is not configured. A refused session, as a forged cookie is; the record is left
    /// as it is for an operator to look at.
    #[error("the record of session {session} cannot be read: {reason}")]
    CorruptRecord {
        /// The session's keyed fingerprint ([`SessionConfig::fingerprint`](crate::SessionConfig::fingerprint)).
        session: String,
        /// What is wrong with the record.
        reason: String,
    },
    /// This configuration keeps sessions in a store: load them with
    /// [`SessionConfig::load_async`](crate::SessionConfig::load_async).
    #[error("this configuration keeps sessions in a store: call `load_async`, not `load`")]
    ServerSide,
    /// This configuration checks sessions asynchronously
    /// ([`validate_async`](crate::SessionConfigBuilder::validate_async)): load with
    /// [`SessionConfig::load_async`](crate::SessionConfig::load_async).
    #[error(
        "this configuration checks sessions asynchronously (`validate_async`): load with \
         `load_async`"
    )]
    NeedsAsync,
}

impl Rejection {
    /// A short, stable name for the reason, for logs and metrics labels
    /// (`sessionkit_sessions_refused_total{reason="expired"}`).
    #[must_use]
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Malformed => "malformed",
            Self::UnsupportedVersion(_) => "unsupported_version",
            Self::UnknownKey => "unknown_key",
            Self::BadSignature => "bad_signature",
            Self::WrongCookieName => "wrong_cookie_name",
            Self::Expired { .. } => "expired",
            Self::IdleTimeout { .. } => "idle_timeout",
            Self::IssuedInFuture { .. } => "issued_in_future",
            Self::SchemaMismatch { .. } => "schema_mismatch",
            Self::Payload(_) => "payload",
            Self::TooLarge { .. } => "too_large",
            Self::Revoked => "revoked",
            Self::UnknownSession => "unknown_session",
            Self::CorruptRecord { .. } => "corrupt_record",
            Self::ServerSide => "server_side",
            Self::NeedsAsync => "needs_async",
        }
    }
}

/// Why a session could not be saved.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The whole `Set-Cookie` value would exceed the limit, and browsers drop such cookies
    /// silently. Store less in the session, or move the data to a server-side store.
    #[error(
        "session cookie would be {bytes} bytes, over the {limit}-byte limit: store less in \
         the session"
    )]
    TooLarge {
        /// The length of the `Set-Cookie` value that would have been sent.
        bytes: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The session data failed to serialize (for example a map with non-string keys).
    #[error("session data failed to serialize: {0}")]
    Serialize(#[source] serde_json::Error),
    /// A float field holds NaN or an infinity, which JSON cannot carry (it would be written as
    /// `null` and refuse the session at the next request). Nothing was saved.
    #[error(
        "session field `{field}` holds NaN or an infinity, which JSON cannot carry: nothing \
         was saved"
    )]
    NotFinite {
        /// The session key of the field.
        field: &'static str,
    },
    /// The session store failed; nothing was saved and no cookie must be sent.
    #[error("session could not be saved: {0}")]
    Store(#[source] crate::error::StoreError),
    /// Another request changed the session first and the policy is
    /// [`ConflictPolicy::Reject`](crate::ConflictPolicy::Reject).
    #[error("another request changed the session first (conflict policy `Reject`)")]
    Conflict,
    /// The session's owner (`#[session(owner)]`) holds a control character, which not every
    /// store can index (Postgres text cannot hold NUL): one rule for every backend refuses it.
    #[error("the session owner holds a control character: use a plain text or numeric id")]
    InvalidOwner,
    /// Under [`ConflictPolicy::Merge`](crate::ConflictPolicy::Merge), other requests kept
    /// changing the session faster than this one could merge and write its change, for the
    /// whole store timeout. Nothing was saved.
    #[error(
        "other requests kept changing the session: this one merged and retried {lost} times \
         within the store timeout and saved nothing"
    )]
    Contended {
        /// How many compare-and-swaps this request lost.
        lost: u32,
    },
    /// This configuration keeps sessions in a store: save them with
    /// [`SessionConfig::save_async`](crate::SessionConfig::save_async).
    #[error("this configuration keeps sessions in a store: call `save_async`, not `save`")]
    NeedsAsync,
    /// The session could not be encrypted (with [`encrypted`](crate::SessionConfigBuilder::encrypted)):
    /// the operating system gave no random nonce. Nothing was saved.
    #[error(
        "the session could not be encrypted (the operating system gave no random nonce): \
         nothing was saved"
    )]
    Encrypt,
    /// The operating system gave no random bytes for a new session id. Nothing was saved.
    #[error("the operating system gave no random bytes for a session id: nothing was saved")]
    Random,
}

/// Why a [`SessionConfig`](crate::SessionConfig) could not be built.
#[derive(Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// No key was given.
    #[error("no secret key configured: call `.key(Key::from_env(\"SESSION_SECRET\")?)`")]
    MissingKey,
    /// A store setting (named here) was given without a [`store`](crate::SessionConfigBuilder::store):
    /// it could not take effect.
    #[error(
        "`.{0}(..)` configures a server-side store, and none is configured: add `.store(..)`, \
         or drop `.{0}(..)`"
    )]
    NeedsStore(&'static str),
    /// The store timeout is zero: every store operation would time out.
    #[error(
        "the store timeout is zero, so every store operation would time out: give \
         `.store_timeout(..)` a positive duration (the default is 2 s)"
    )]
    ZeroStoreTimeout,
    /// A secret was refused.
    #[error(transparent)]
    Key(#[from] KeyError),
    /// The cookie name is not a token.
    #[error("cookie name {0:?} is not a token: use letters, digits and `-_.!#$%&'*+^`|~`")]
    InvalidCookieName(String),
    /// A `Path`, `Domain` or `Cache-Control` value a browser would drop or misread.
    #[error("{attribute} {value:?} would be dropped by browsers: use {expected}")]
    InvalidAttribute {
        /// `Path`, `Domain` or `Cache-Control`.
        attribute: &'static str,
        /// The value given.
        value: String,
        /// What a valid value looks like.
        expected: &'static str,
    },
    /// A cookie-name prefix rule is broken: `__Host-` requires `Secure`, `Path=/` and no
    /// `Domain`; `__Secure-` requires `Secure`.
    #[error("{0}")]
    Prefix(&'static str),
    /// `SameSite=None` requires `Secure`.
    #[error("SameSite=None requires Secure: keep `.secure(true)` or choose SameSite::Lax")]
    SameSiteNoneWithoutSecure,
    /// `Partitioned` requires `Secure`.
    #[error("Partitioned requires Secure: keep `.secure(true)` or drop `.partitioned(true)`")]
    PartitionedWithoutSecure,
    /// A lifetime or idle timeout of zero.
    #[error("session lifetime and idle timeout must be above 0s")]
    ZeroLifetime,
    /// A refresh fraction outside `(0, 1]`, or NaN.
    #[error(
        "refresh fraction {0} must be above 0 and at most 1 (0.5 re-signs after half the \
         idle timeout): use `Refresh::AfterFraction(0.5)` or `Refresh::Never`"
    )]
    InvalidRefreshFraction(f64),
    /// A setting that Flask's cookie format cannot honour; the text names it and the fix.
    #[error("Flask mode cannot honour {0}")]
    UnsupportedInFlaskMode(&'static str),
    /// A size limit too small for any cookie.
    #[error("max_cookie_bytes {0} is too small: use at least 256")]
    CookieLimitTooSmall(usize),
}

/// `Debug` as the message, with the variant: an error returned from `main` (which prints it
/// with `Debug`) shows the fix its message carries, not only a variant name.
macro_rules! debug_with_message {
    ($($error:ty),*) => {$(
        impl fmt::Debug for $error {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}: {self}", stringify!($error))
            }
        }
    )*};
}

debug_with_message!(SaveError, ConfigError);

/// Why a store operation failed. The request is answered with an error (503 by default), never
/// with an empty session.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// The backend cannot be reached (refused connection, server down, directory missing).
    #[error("session store unavailable: {0}")]
    Unavailable(String),
    /// The operation did not finish within the configured timeout.
    #[error("session store timed out")]
    Timeout,
    /// A record is there but does not decode.
    #[error("session record is corrupt: {0}")]
    Corrupt(String),
    /// The backend cannot do this (for example an owner index on memcached).
    #[error("session store does not support {0}")]
    Unsupported(&'static str),
    /// A store URL that names no store this build has ([`connect`](crate::store::connect)); the message says which
    /// forms are understood, or which cargo feature to turn on.
    #[error("{0}")]
    BadUrl(String),
    /// The record is larger than the backend keeps in one item (memcached's item size limit,
    /// 1 MiB by default): no retry can succeed. Store less in the session.
    #[error(
        "the session record of {bytes} bytes is larger than the store keeps in one item: \
         store less in the session"
    )]
    TooLarge {
        /// The record's size in bytes.
        bytes: usize,
    },
    /// Anything else the backend reported.
    #[error("session store failed: {0}")]
    Other(String),
}

debug_with_message!(StoreError);

const HOW_TO_FIX: &str = "generate one with `openssl rand -hex 32` (or `Key::generate()` in \
    development) and load it with `Key::from_hex` or `Key::from_env`";

/// Why a secret was refused.
#[derive(Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// The secret has fewer than [`MIN_KEY_BYTES`](crate::key::MIN_KEY_BYTES) bytes.
    #[error("secret key is {len} bytes, at least {min} are needed: {HOW_TO_FIX}")]
    TooShort {
        /// The length that was given.
        len: usize,
        /// The minimum length.
        min: usize,
    },
    /// Every byte of the secret is the same.
    #[error("secret key is one byte or one short pattern repeated: {HOW_TO_FIX}")]
    Repeated,
    /// The secret is a run such as `0123456789…` or `abcdef…`.
    #[error("secret key is a sequential run: {HOW_TO_FIX}")]
    Sequential,
    /// The secret is (or is made of, or contains) a well-known example value or placeholder
    /// phrase from tutorials.
    #[error("secret key is, or contains, a well-known example value from tutorials: {HOW_TO_FIX}")]
    WellKnown,
    /// The secret walks along a keyboard row (`qwertyuiop…`, `asdfgh…`), repeated or not.
    #[error("secret key walks along a keyboard row: {HOW_TO_FIX}")]
    KeyboardPattern,
    /// The text is not valid hex.
    #[error("secret key is not valid hex: {HOW_TO_FIX}")]
    InvalidHex,
    /// The text is not valid base64 (standard or URL-safe, padded or not).
    #[error("secret key is not valid base64: {HOW_TO_FIX}")]
    InvalidBase64,
    /// The environment variable is not set or not valid UTF-8.
    #[error("environment variable `{var}` holding the secret key is not set: {HOW_TO_FIX}")]
    MissingEnv {
        /// The variable's name.
        var: String,
    },
    /// The environment variable is set but empty.
    #[error("environment variable `{var}` holding the secret key is empty: {HOW_TO_FIX}")]
    EmptyEnv {
        /// The variable's name.
        var: String,
    },
    /// The environment variable holds neither hex digits nor a value labelled `hex:` or
    /// `base64:`, so its encoding would have to be guessed.
    #[error(
        "environment variable `{var}` is not hex: write a base64 key as `base64:<text>` (or \
         hex as `hex:<digits>`) so its encoding is not guessed"
    )]
    UnlabelledEnv {
        /// The variable's name.
        var: String,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

debug_with_message!(KeyError);
