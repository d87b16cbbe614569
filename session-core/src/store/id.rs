//! Session ids and the keys records are stored under.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A session id: 32 bytes from the operating system's generator.
///
/// It travels only inside the signed cookie envelope. `Debug` never shows it, and logs use a
/// short keyed fingerprint ([`SessionConfig::fingerprint`](crate::SessionConfig::fingerprint)).
/// Equality is constant time.
#[derive(Clone)]
pub struct SessionId([u8; 32]);

impl SessionId {
    /// The length of an id, in bytes.
    pub const LEN: usize = 32;

    /// A new random id.
    ///
    /// # Errors
    ///
    /// [`StoreError::Other`](crate::StoreError::Other) if the operating system cannot provide
    /// randomness.
    pub fn generate() -> Result<Self, crate::StoreError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes)
            .map_err(|_| crate::StoreError::Other("the system random generator failed".into()))?;
        Ok(Self(bytes))
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for SessionId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SessionId(<redacted>)")
    }
}

impl PartialEq for SessionId {
    fn eq(&self, other: &Self) -> bool {
        self.0.ct_eq(&other.0).into()
    }
}

impl Eq for SessionId {}

/// The key a record is stored under: `SHA-256(namespace ‖ 0x00 ‖ id)`.
///
/// A copy of the store holds no ids, so it cannot be replayed as cookies; lookups depend on no
/// secret. Its hex form (64 characters) names files and database rows.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StoreKey([u8; 32]);

impl StoreKey {
    /// The key of `id` in `namespace`.
    #[must_use]
    pub fn new(namespace: &str, id: &SessionId) -> Self {
        let mut hash = Sha256::new();
        hash.update(namespace.as_bytes());
        hash.update([0]);
        hash.update(id.as_bytes());
        Self(hash.finalize().into())
    }

    /// The raw 32 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Lower-case hex, 64 characters.
    #[must_use]
    pub fn to_hex(&self) -> String {
        hex(&self.0)
    }

    /// The session's public identifier: 16 hex characters derived from this key, safe to show
    /// (on a "your devices" page, in an admin tool) and to take back in a form to revoke that
    /// one session ([`SessionConfig::revoke_session`](crate::SessionConfig::revoke_session)).
    /// Neither the cookie nor the store key can be recovered from it.
    #[must_use]
    pub fn public_id(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(b"sessionkit/public-id/");
        hash.update(self.0);
        hex(&hash.finalize()[..8])
    }

    /// The key from its 32 raw bytes.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        bytes.try_into().ok().map(Self)
    }

    /// Parses the form [`StoreKey::to_hex`] writes.
    #[must_use]
    pub fn from_hex(text: &str) -> Option<Self> {
        let text = text.as_bytes();
        if text.len() != 64 {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, pair) in text.chunks_exact(2).enumerate() {
            let digit = |c: u8| char::from(c).to_digit(16);
            out[i] = u8::try_from(digit(pair[0])? << 4 | digit(pair[1])?).ok()?;
        }
        Some(Self(out))
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreKey({}…)", &self.to_hex()[..12])
    }
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_namespace_and_id_and_round_trip_as_hex() {
        let id = SessionId::generate().unwrap();
        let key = StoreKey::new("app", &id);
        assert_ne!(key, StoreKey::new("other", &id));
        assert_ne!(key, StoreKey::new("app", &SessionId::generate().unwrap()));
        assert_eq!(StoreKey::from_hex(&key.to_hex()), Some(key));
        assert_eq!(StoreKey::from_hex("zz"), None);
        assert_eq!(format!("{id:?}"), "SessionId(<redacted>)");
    }
}
