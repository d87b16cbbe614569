//! Why a cookie was rejected, why a session could not be saved, why a configuration is invalid.

use std::fmt;
use std::time::Duration;

use crate::key::KeyError;

/// Why an incoming session cookie was not used. The request goes on with a fresh session; the
/// reason is there for logging and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Rejection {
    /// Not base64url, too short, or with an invalid structure.
    Malformed,
    /// An envelope format this version does not read.
    UnsupportedVersion(u8),
    /// Signed by a key that is neither the current key nor a fallback (for example one removed
    /// after a rotation).
    UnknownKey,
    /// The tag does not match: the cookie was altered or forged.
    BadSignature,
    /// A cookie minted under another cookie name.
    WrongCookieName,
    /// Older than the absolute lifetime.
    Expired {
        /// How long ago the session was created.
        age: Duration,
        /// The absolute lifetime.
        limit: Duration,
    },
    /// Unused for longer than the idle timeout.
    IdleTimeout {
        /// How long ago the cookie was last issued.
        idle: Duration,
        /// The idle timeout.
        limit: Duration,
    },
    /// Issued later than now, beyond the allowed clock skew.
    IssuedInFuture {
        /// How far in the future.
        by: Duration,
    },
    /// Written by another schema version of the session struct.
    SchemaMismatch {
        /// The version in the cookie.
        found: u32,
        /// The version this app expects.
        expected: u32,
    },
    /// Correctly signed, but the payload does not deserialize into the session type.
    Payload(String),
    /// The cookie value is longer than the configured limit; it was not decoded.
    TooLarge {
        /// The length of the value.
        bytes: usize,
        /// The limit.
        limit: usize,
    },
    /// The app's validation hook refused the session (for example a logged-out-everywhere user).
    Revoked,
    /// A valid id, but the store has no live record for it: expired, logged out or revoked.
    UnknownSession,
    /// The store holds a record under the cookie's id, but it cannot be read: garbage, a
    /// record not written by sessionkit, one not sealed to its key, or one sealed with a key
    /// that is not configured. A refused session, as a forged cookie is; the record is left
    /// as it is for an operator to look at.
    CorruptRecord {
        /// The session's keyed fingerprint ([`SessionConfig::fingerprint`](crate::SessionConfig::fingerprint)).
        session: String,
        /// What is wrong with the record.
        reason: String,
    },
    /// This configuration keeps sessions in a store: load them with
    /// [`SessionConfig::load_async`](crate::SessionConfig::load_async).
    ServerSide,
    /// This configuration checks sessions asynchronously
    /// ([`validate_async`](crate::SessionConfigBuilder::validate_async)): load with
    /// [`SessionConfig::load_async`](crate::SessionConfig::load_async).
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

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed => f.write_str("malformed session cookie"),
            Self::UnsupportedVersion(v) => write!(f, "unsupported session envelope version {v}"),
            Self::UnknownKey => f.write_str("session cookie signed by an unknown key"),
            Self::BadSignature => f.write_str("session cookie has a bad signature"),
            Self::WrongCookieName => f.write_str("session cookie was minted for another name"),
            Self::Expired { age, limit } => write!(
                f,
                "session expired: created {}s ago, lifetime {}s",
                age.as_secs(),
                limit.as_secs()
            ),
            Self::IdleTimeout { idle, limit } => write!(
                f,
                "session idle for {}s, idle timeout {}s",
                idle.as_secs(),
                limit.as_secs()
            ),
            Self::IssuedInFuture { by } => {
                write!(f, "session cookie issued {}s in the future", by.as_secs())
            }
            Self::SchemaMismatch { found, expected } => write!(
                f,
                "session schema version {found} does not match the expected {expected}"
            ),
            Self::Payload(reason) => write!(f, "session payload does not fit the type: {reason}"),
            Self::TooLarge { bytes, limit } => {
                write!(
                    f,
                    "session cookie of {bytes} bytes exceeds the {limit}-byte limit"
                )
            }
            Self::Revoked => f.write_str("session revoked by the validation hook"),
            Self::UnknownSession => {
                f.write_str("no live session for this id (expired, logged out or revoked)")
            }
            Self::CorruptRecord { session, reason } => {
                write!(
                    f,
                    "the record of session {session} cannot be read: {reason}"
                )
            }
            Self::NeedsAsync => f.write_str(
                "this configuration checks sessions asynchronously (`validate_async`): load \
                 with `load_async`",
            ),
            Self::ServerSide => f.write_str(
                "this configuration keeps sessions in a store: call `load_async`, not `load`",
            ),
        }
    }
}

impl std::error::Error for Rejection {}

/// Why a session could not be saved.
#[non_exhaustive]
pub enum SaveError {
    /// The whole `Set-Cookie` value would exceed the limit, and browsers drop such cookies
    /// silently. Store less in the session, or move the data to a server-side store.
    TooLarge {
        /// The length of the `Set-Cookie` value that would have been sent.
        bytes: usize,
        /// The configured limit.
        limit: usize,
    },
    /// The session data failed to serialize (for example a map with non-string keys).
    Serialize(serde_json::Error),
    /// A float field holds NaN or an infinity, which JSON cannot carry (it would be written as
    /// `null` and refuse the session at the next request). Nothing was saved.
    NotFinite {
        /// The session key of the field.
        field: &'static str,
    },
    /// The session store failed; nothing was saved and no cookie must be sent.
    Store(crate::store::StoreError),
    /// Another request changed the session first and the policy is
    /// [`ConflictPolicy::Reject`](crate::ConflictPolicy::Reject).
    Conflict,
    /// The session's owner (`#[session(owner)]`) holds a control character, which not every
    /// store can index (Postgres text cannot hold NUL): one rule for every backend refuses it.
    InvalidOwner,
    /// Under [`ConflictPolicy::Merge`](crate::ConflictPolicy::Merge), other requests kept
    /// changing the session faster than this one could merge and write its change, for the
    /// whole store timeout. Nothing was saved.
    Contended {
        /// How many compare-and-swaps this request lost.
        lost: u32,
    },
    /// This configuration keeps sessions in a store: save them with
    /// [`SessionConfig::save_async`](crate::SessionConfig::save_async).
    NeedsAsync,
    /// The session could not be encrypted (with [`encrypted`](crate::SessionConfigBuilder::encrypted)):
    /// the operating system gave no random nonce. Nothing was saved.
    Encrypt,
    /// The operating system gave no random bytes for a new session id. Nothing was saved.
    Random,
}

impl fmt::Display for SaveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { bytes, limit } => write!(
                f,
                "session cookie would be {bytes} bytes, over the {limit}-byte limit: store less \
                 in the session"
            ),
            Self::Serialize(e) => write!(f, "session data failed to serialize: {e}"),
            Self::NotFinite { field } => write!(
                f,
                "session field `{field}` holds NaN or an infinity, which JSON cannot carry: \
                 nothing was saved"
            ),
            Self::Store(e) => write!(f, "session could not be saved: {e}"),
            Self::Conflict => {
                f.write_str("another request changed the session first (conflict policy `Reject`)")
            }
            Self::InvalidOwner => f.write_str(
                "the session owner holds a control character: use a plain text or numeric id",
            ),
            Self::Contended { lost } => write!(
                f,
                "other requests kept changing the session: this one merged and retried {lost} \
                 times within the store timeout and saved nothing"
            ),
            Self::NeedsAsync => f.write_str(
                "this configuration keeps sessions in a store: call `save_async`, not `save`",
            ),
            Self::Encrypt => f.write_str(
                "the session could not be encrypted (the operating system gave no random nonce): \
                 nothing was saved",
            ),
            Self::Random => f.write_str(
                "the operating system gave no random bytes for a session id: nothing was saved",
            ),
        }
    }
}

impl std::error::Error for SaveError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Serialize(e) => Some(e),
            Self::Store(e) => Some(e),
            Self::TooLarge { .. }
            | Self::NotFinite { .. }
            | Self::Conflict
            | Self::Contended { .. }
            | Self::InvalidOwner
            | Self::NeedsAsync
            | Self::Encrypt
            | Self::Random => None,
        }
    }
}

/// Why a [`SessionConfig`](crate::SessionConfig) could not be built.
#[derive(Clone, PartialEq)]
#[non_exhaustive]
pub enum ConfigError {
    /// No key was given.
    MissingKey,
    /// A store setting (named here) was given without a [`store`](crate::SessionConfigBuilder::store):
    /// it could not take effect.
    NeedsStore(&'static str),
    /// The store timeout is zero: every store operation would time out.
    ZeroStoreTimeout,
    /// A secret was refused.
    Key(KeyError),
    /// The cookie name is not a token.
    InvalidCookieName(String),
    /// A `Path`, `Domain` or `Cache-Control` value a browser would drop or misread.
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
    Prefix(&'static str),
    /// `SameSite=None` requires `Secure`.
    SameSiteNoneWithoutSecure,
    /// `Partitioned` requires `Secure`.
    PartitionedWithoutSecure,
    /// A lifetime or idle timeout of zero.
    ZeroLifetime,
    /// A refresh fraction outside `(0, 1]`, or NaN.
    InvalidRefreshFraction(f64),
    /// A setting that Flask's cookie format cannot honour; the text names it and the fix.
    UnsupportedInFlaskMode(&'static str),
    /// A size limit too small for any cookie.
    CookieLimitTooSmall(usize),
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::MissingKey => f.write_str(
                "no secret key configured: call `.key(Key::from_env(\"SESSION_SECRET\")?)`",
            ),
            Self::NeedsStore(setting) => write!(
                f,
                "`.{setting}(..)` configures a server-side store, and none is configured: add \
                 `.store(..)`, or drop `.{setting}(..)`"
            ),
            Self::ZeroStoreTimeout => f.write_str(
                "the store timeout is zero, so every store operation would time out: give \
                 `.store_timeout(..)` a positive duration (the default is 2 s)",
            ),
            Self::Key(e) => e.fmt(f),
            Self::InvalidCookieName(name) => write!(
                f,
                "cookie name {name:?} is not a token: use letters, digits and `-_.!#$%&'*+^`|~`"
            ),
            Self::InvalidAttribute {
                attribute,
                value,
                expected,
            } => write!(
                f,
                "{attribute} {value:?} would be dropped by browsers: use {expected}"
            ),
            Self::Prefix(why) => f.write_str(why),
            Self::SameSiteNoneWithoutSecure => f.write_str(
                "SameSite=None requires Secure: keep `.secure(true)` or choose SameSite::Lax",
            ),
            Self::PartitionedWithoutSecure => f.write_str(
                "Partitioned requires Secure: keep `.secure(true)` or drop `.partitioned(true)`",
            ),
            Self::ZeroLifetime => f.write_str("session lifetime and idle timeout must be above 0s"),
            Self::InvalidRefreshFraction(x) => {
                write!(
                    f,
                    "refresh fraction {x} must be above 0 and at most 1 (0.5 re-signs after half \
                     the idle timeout): use `Refresh::AfterFraction(0.5)` or `Refresh::Never`"
                )
            }
            Self::UnsupportedInFlaskMode(what) => {
                write!(f, "Flask mode cannot honour {what}")
            }
            Self::CookieLimitTooSmall(n) => {
                write!(f, "max_cookie_bytes {n} is too small: use at least 256")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl From<KeyError> for ConfigError {
    fn from(e: KeyError) -> Self {
        Self::Key(e)
    }
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
pub(crate) use debug_with_message;

debug_with_message!(SaveError, ConfigError);
