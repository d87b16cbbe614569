//! Session ids and the keys records are stored under.

use std::fmt;

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// A session id: 32 bytes from the operating system's generator.
///
/// Its first two bytes are its *tag*: drawn at random with the rest when a session is created,
/// and kept when a login renews the id ([`SessionId::generate_with_tag`]), so that a session's
/// keys stay in one partition of a clustered store (one Redis Cluster hash slot) for its whole
/// life while sessions spread evenly over the partitions. The other 30 bytes (240 bits) are
/// drawn anew at every renewal.
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
    /// [`StoreError::Other`](crate::error::StoreError::Other) if the operating system cannot provide
    /// randomness.
    pub fn generate() -> Result<Self, crate::error::StoreError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|_| {
            crate::error::StoreError::Other("the system random generator failed".into())
        })?;
        Ok(Self(bytes))
    }

    /// A new random id with `tag` as its first two bytes: a renewal's id, in the partition of
    /// the id it replaces.
    ///
    /// # Errors
    ///
    /// As [`SessionId::generate`].
    pub fn generate_with_tag(tag: u16) -> Result<Self, crate::error::StoreError> {
        let mut id = Self::generate()?;
        id.0[..2].copy_from_slice(&tag.to_be_bytes());
        Ok(id)
    }

    /// The id's tag: its first two bytes (see the type's documentation).
    #[must_use]
    pub fn tag(&self) -> u16 {
        u16::from_be_bytes([self.0[0], self.0[1]])
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

/// The key a record is stored under: `SHA-256(namespace ‖ 0x00 ‖ id)`, with the id's tag
/// ([`SessionId::tag`]) beside it.
///
/// A copy of the store holds no ids, so it cannot be replayed as cookies; lookups depend on no
/// secret. Its hex form (64 characters) names files and database rows. The tag is not part of
/// the key's identity (equality, ordering and hashing use the 32 bytes only): a clustered store
/// uses it to place the record ([`StoreKey::tag`]).
#[derive(Clone, Copy)]
pub struct StoreKey {
    hash: [u8; 32],
    tag: u16,
}

impl PartialEq for StoreKey {
    fn eq(&self, other: &Self) -> bool {
        self.hash == other.hash
    }
}

impl Eq for StoreKey {}

impl std::hash::Hash for StoreKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.hash.hash(state);
    }
}

impl PartialOrd for StoreKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for StoreKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.hash.cmp(&other.hash)
    }
}

impl StoreKey {
    /// The key of `id` in `namespace`.
    #[must_use]
    pub fn new(namespace: &str, id: &SessionId) -> Self {
        let mut hash = Sha256::new();
        hash.update(namespace.as_bytes());
        hash.update([0]);
        hash.update(id.as_bytes());
        Self {
            hash: hash.finalize().into(),
            tag: id.tag(),
        }
    }

    /// The tag of the id this key was made from: a renewal keeps it, so a session's record
    /// stays in one partition of a clustered store. A key read back from its hex or bytes
    /// alone has tag 0 unless [`StoreKey::with_tag`] gives it one.
    #[must_use]
    pub fn tag(&self) -> u16 {
        self.tag
    }

    /// This key with `tag` (for a store that keeps the tag beside the key, as Redis Cluster's
    /// key names do).
    #[must_use]
    pub fn with_tag(self, tag: u16) -> Self {
        Self { tag, ..self }
    }

    /// The raw 32 bytes.
    #[must_use]
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.hash
    }

    /// Lower-case hex, 64 characters.
    #[must_use]
    pub fn to_hex(&self) -> String {
        let mut out = String::with_capacity(64);
        self.push_hex(&mut out);
        out
    }

    /// Appends [`StoreKey::to_hex`]'s 64 characters to `out`, for a store that builds its key
    /// names around it (a prefix, a tag) in one buffer.
    pub fn push_hex(&self, out: &mut String) {
        // `hex::encode` builds its string a `char` at a time, which a store pays on every
        // request; the slice encoder writes the bytes at once.
        let mut buf = [0; 64];
        if hex::encode_to_slice(self.hash, &mut buf).is_ok() {
            out.push_str(std::str::from_utf8(&buf).unwrap_or_default());
        }
    }

    /// The session's public identifier: 16 hex characters derived from this key, safe to show
    /// (on a "your devices" page, in an admin tool) and to take back in a form to revoke that
    /// one session ([`SessionConfig::revoke_session`](crate::SessionConfig::revoke_session)).
    /// Neither the cookie nor the store key can be recovered from it.
    #[must_use]
    pub fn public_id(&self) -> String {
        let mut hash = Sha256::new();
        hash.update(b"sessionkit/public-id/");
        hash.update(self.hash);
        hex::encode(&hash.finalize()[..8])
    }

    /// The key from its 32 raw bytes.
    #[must_use]
    pub fn from_bytes(bytes: &[u8]) -> Option<Self> {
        let hash = bytes.try_into().ok()?;
        Some(Self { hash, tag: 0 })
    }

    /// Parses the form [`StoreKey::to_hex`] writes.
    #[must_use]
    pub fn from_hex(text: &str) -> Option<Self> {
        let mut out = [0u8; 32];
        hex::decode_to_slice(text, &mut out).ok()?;
        Some(Self { hash: out, tag: 0 })
    }
}

impl fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "StoreKey({}…)", &self.to_hex()[..12])
    }
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

    #[test]
    fn hex_is_the_lower_case_form_of_the_raw_bytes() {
        let bytes: Vec<u8> = (0..32u8).map(|b| b.wrapping_mul(37)).collect();
        let key = StoreKey::from_bytes(&bytes).unwrap();
        let expected = bytes.iter().fold(String::new(), |mut hex, b| {
            let _ = std::fmt::Write::write_fmt(&mut hex, format_args!("{b:02x}"));
            hex
        });
        assert_eq!(key.to_hex(), expected);
        let mut named = String::from("prefix:");
        key.push_hex(&mut named);
        assert_eq!(named, format!("prefix:{expected}"));
    }

    #[test]
    fn a_renewal_keeps_the_tag_and_draws_the_rest() {
        let id = SessionId::generate().unwrap();
        let renewed = SessionId::generate_with_tag(id.tag()).unwrap();
        assert_eq!(renewed.tag(), id.tag());
        assert_ne!(renewed.as_bytes()[2..], id.as_bytes()[2..]);
        let key = StoreKey::new("app", &renewed);
        assert_eq!(key.tag(), id.tag());
        let parsed = StoreKey::from_hex(&key.to_hex()).unwrap();
        assert_eq!((parsed, parsed.tag()), (key, 0));
        assert_eq!(parsed.with_tag(key.tag()).tag(), key.tag());
    }
}
