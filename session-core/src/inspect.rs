//! [`inspect`]: what a sessionkit cookie holds, for tools and operators (the `sessionkit`
//! command-line tool's `decode`), verified with the app's keys but before any lifetime or
//! schema rule, so that the answer says *why* the app would refuse it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::codec::Codec;
use crate::{error::Rejection, key::Keyring};

/// A verified cookie's envelope and contents.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Inspected {
    /// Encrypted (AES-256-GCM) rather than signed.
    pub encrypted: bool,
    /// The schema version signed into it (`#[session(version = N)]`).
    pub schema_version: u32,
    /// When the session was created (or renewed at login).
    pub created_at: SystemTime,
    /// When this cookie was issued (its last write or refresh).
    pub issued_at: SystemTime,
    /// A persistent ("remember me") cookie, sent with a `Max-Age`.
    pub permanent: bool,
    /// A fallback key, not the current one, verified it.
    pub by_fallback_key: bool,
    /// What it carries.
    pub contents: Contents,
}

/// What a cookie carries.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum Contents {
    /// The session itself (cookie mode), as JSON.
    Data(serde_json::Value),
    /// A server-side session's id. Only its store key's public identifier
    /// ([`StoreKey::public_id`](crate::StoreKey::public_id)) in `namespace` is shown, never
    /// the id.
    Stored {
        /// The public identifier of its record in the namespace given to [`inspect`].
        public_id: String,
    },
}

/// Verifies `value`, the value of the cookie `name`, with `keys`, and says what it holds.
/// `namespace` is the configuration's store namespace (`SessionConfigBuilder::namespace`,
/// the cookie name by default), used only to name a server-side session's record.
///
/// # Errors
///
/// The [`Rejection`] the app itself would answer for a cookie that does not verify (forged,
/// another key, another cookie name, malformed) or whose payload is not JSON.
pub fn inspect(
    keys: &Keyring,
    name: &str,
    namespace: &str,
    value: &str,
) -> Result<Inspected, Rejection> {
    let codec = Codec::new(keys, name, 0, false);
    let opened = codec.open(value.trim().as_bytes())?;
    let at = |secs: u64| UNIX_EPOCH + Duration::from_secs(secs);
    let payload = &opened.raw[opened.payload.clone()];
    let contents = if opened.server {
        let id = crate::id::SessionId::from_bytes(payload).ok_or(Rejection::Malformed)?;
        Contents::Stored {
            public_id: crate::id::StoreKey::new(namespace, &id).public_id(),
        }
    } else {
        Contents::Data(
            serde_json::from_slice(payload).map_err(|e| Rejection::Payload(e.to_string()))?,
        )
    };
    Ok(Inspected {
        encrypted: opened.raw.first() == Some(&crate::codec::ENCRYPTED_FORMAT_VERSION),
        schema_version: opened.schema,
        created_at: at(opened.stamp.created_at),
        issued_at: at(opened.stamp.issued_at),
        permanent: opened.stamp.permanent,
        by_fallback_key: opened.by_fallback && {
            // `by_fallback` also marks a cookie to be rewritten in the other format.
            let encrypted = opened.raw.first() == Some(&crate::codec::ENCRYPTED_FORMAT_VERSION);
            Codec::new(&Keyring::new(keys.current().clone()), name, 0, encrypted)
                .open(value.trim().as_bytes())
                .is_err()
        },
        contents,
    })
}
