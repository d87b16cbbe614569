//! The signed envelope: the only place that touches cookie bytes.
//!
//! A cookie value is `base64url(raw)` with no padding, where `raw` is
//!
//! ```text
//! offset  size  field
//!      0     1  format version (1)
//!      1     1  flags (bit 0: permanent; bit 1: the payload is a server-side session id;
//!               bit 2: set on a renewal that would otherwise repeat the incoming bytes)
//!      2     4  key id: the first 4 bytes of HMAC-SHA256(signing key, "key-id")
//!      6     2  name tag: the first 2 bytes of SHA-256(cookie name), for diagnostics only
//!      8     4  schema version, big-endian
//!     12     8  issued-at, seconds since the Unix epoch, big-endian
//!     20     8  created-at, seconds since the Unix epoch, big-endian
//!     28     n  payload: serde_json
//!   28+n    32  tag: HMAC-SHA256 over the length-prefixed name, the header and the
//!               length-prefixed payload
//! ```
//!
//! The signing key is derived from the master secret for the purpose `cookie-signing`; the MAC
//! input is `u32(len(name)) || name || raw[0..28] || u32(n) || payload`. Every field but the name
//! has a fixed width and both variable parts carry their length, so no two inputs share an
//! encoding. The tag is checked, in constant time, before any field after the key id is read.
//!
//! With [`encrypted`](crate::SessionConfigBuilder::encrypted), the format version is 2, the key
//! id is that of the `cookie-encryption` subkey, and the header is followed by a sealed payload:
//!
//! ```text
//!     28    12  nonce, random
//!     40     n  payload: serde_json, encrypted with AES-256-GCM
//!   40+n    16  tag, over SHA-256(cookie name) || raw[0..28] as associated data
//! ```
//!
//! The header stays readable (times, schema, flags) but is authenticated with the payload, so a
//! ciphertext moved to another cookie name, schema or time does not open. Either version is read
//! whatever the configuration writes; a cookie in the other version is written again in the
//! configured one on its response, so turning encryption on or off logs nobody out.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::Mac;
use sha2::{Digest, Sha256};

use crate::aead::{Sealer, Unsealed};
use crate::key::{key_id, HmacSha256, Key, Keyring};
pub(crate) use crate::lifetime::Stamp;
use crate::{error::Rejection, error::SaveError};

/// The envelope format this version writes for a signed cookie.
pub const FORMAT_VERSION: u8 = 1;
/// The envelope format of an encrypted cookie.
pub const ENCRYPTED_FORMAT_VERSION: u8 = 2;
pub(crate) const HEADER_LEN: usize = 28;
pub(crate) const TAG_LEN: usize = 32;
const FLAG_PERMANENT: u8 = 1;
/// The payload is a server-side session id, not the session.
pub(crate) const FLAG_SERVER: u8 = 2;
/// Set by [`TrackedSession::renew`](crate::TrackedSession::renew) when the renewed cookie
/// would read byte for byte as the one that came in (same data, same second): a renewal
/// always changes the credential.
const FLAG_RENEWED: u8 = 4;

/// A verified envelope: the decoded bytes and where the payload sits in them.
#[derive(Debug)]
pub(crate) struct Opened {
    pub(crate) raw: Vec<u8>,
    /// Where the `serde_json` payload sits in `raw`.
    pub(crate) payload: std::ops::Range<usize>,
    pub(crate) stamp: Stamp,
    pub(crate) schema: u32,
    /// True when the cookie is to be written again: a fallback key, not the current one,
    /// verified it, or it is not in the configured version (signed or encrypted).
    pub(crate) by_fallback: bool,
    /// True when the payload is a server-side session id ([`FLAG_SERVER`]).
    pub(crate) server: bool,
}

#[derive(Clone)]
struct Signer {
    id: [u8; 4],
    /// Keyed with the derived signing key, already fed the length-prefixed cookie name.
    mac: HmacSha256,
}

/// Signs and verifies envelopes for one cookie name and schema version.
#[derive(Clone)]
pub(crate) struct Codec {
    name_tag: [u8; 2],
    /// SHA-256 of the cookie name, the start of an encrypted cookie's associated data.
    name_digest: [u8; 32],
    schema: u32,
    /// The current key first, then the fallbacks.
    signers: Vec<Signer>,
    sealer: Sealer,
    /// Writes version 2 (encrypted) rather than 1 (signed).
    encrypt: bool,
}

impl std::fmt::Debug for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Codec")
            .field("schema", &self.schema)
            .field("keys", &self.signers.len())
            .field("encrypt", &self.encrypt)
            .finish_non_exhaustive()
    }
}

impl Codec {
    pub(crate) fn new(keys: &Keyring, name: &str, schema: u32, encrypt: bool) -> Self {
        let signer = |key: &Key| {
            let subkey = key.derive(b"cookie-signing");
            let mut mac = HmacSha256::new_from_slice(&subkey).expect("any key length");
            mac.update(&len_prefix(name.len()));
            mac.update(name.as_bytes());
            Signer {
                id: key_id(&subkey),
                mac,
            }
        };
        let digest = Sha256::digest(name.as_bytes());
        Self {
            name_tag: [digest[0], digest[1]],
            name_digest: digest.into(),
            schema,
            signers: std::iter::once(keys.current())
                .chain(keys.fallbacks())
                .map(signer)
                .collect(),
            sealer: Sealer::new(keys, b"cookie-encryption"),
            encrypt,
        }
    }

    /// Starts an envelope: returns a buffer holding the header, ready for the payload.
    pub(crate) fn begin(&self, stamp: Stamp, payload_hint: usize) -> Vec<u8> {
        self.begin_with(stamp, 0, payload_hint)
    }

    /// Marks `raw` (a signed envelope's header and payload, before sealing) as a renewal when
    /// it reads exactly as `incoming` (the header and payload of the cookie that came in), so
    /// the renewed cookie differs from it. An encrypted envelope differs anyway (its nonce is
    /// new).
    pub(crate) fn renewal(&self, raw: &mut [u8], incoming: &[u8]) {
        if !self.encrypt && incoming == raw {
            raw[1] ^= FLAG_RENEWED;
        }
    }

    /// [`Codec::begin`] with extra flags ([`FLAG_SERVER`]).
    pub(crate) fn begin_with(&self, stamp: Stamp, flags: u8, payload_hint: usize) -> Vec<u8> {
        let mut raw =
            Vec::with_capacity(HEADER_LEN + crate::aead::NONCE_LEN + payload_hint + TAG_LEN);
        let (version, id) = if self.encrypt {
            (ENCRYPTED_FORMAT_VERSION, self.sealer.id())
        } else {
            (FORMAT_VERSION, self.signers[0].id)
        };
        raw.push(version);
        raw.push(flags | if stamp.permanent { FLAG_PERMANENT } else { 0 });
        raw.extend_from_slice(&id);
        raw.extend_from_slice(&self.name_tag);
        raw.extend_from_slice(&self.schema.to_be_bytes());
        raw.extend_from_slice(&stamp.issued_at.to_be_bytes());
        raw.extend_from_slice(&stamp.created_at.to_be_bytes());
        if self.encrypt {
            Sealer::begin(&mut raw);
        }
        raw
    }

    /// Finishes an envelope started by [`Codec::begin`] whose payload has been appended: signs
    /// or encrypts it with the current key and appends the base64url text to `out`.
    ///
    /// # Errors
    ///
    /// [`SaveError::Encrypt`] when no nonce could be drawn.
    pub(crate) fn seal(&self, mut raw: Vec<u8>, out: &mut String) -> Result<(), SaveError> {
        if self.encrypt {
            let ad = self.associated_data(&raw);
            self.sealer.seal(&ad, &mut raw, HEADER_LEN)?;
        } else {
            let tag = tag(&self.signers[0].mac, &raw);
            raw.extend_from_slice(&tag);
        }
        URL_SAFE_NO_PAD.encode_string(&raw, out);
        Ok(())
    }

    /// What an encrypted cookie's tag binds besides its payload: the cookie name and the
    /// header (version, flags, key id, schema, times).
    fn associated_data(&self, raw: &[u8]) -> [u8; 32 + HEADER_LEN] {
        let mut ad = [0; 32 + HEADER_LEN];
        ad[..32].copy_from_slice(&self.name_digest);
        ad[32..].copy_from_slice(&raw[..HEADER_LEN]);
        ad
    }

    /// [`open`](Self::open), for the one kind of envelope the caller reads: a session
    /// (`server` false) or a store's id (`server` true), of schema version `schema`. The other
    /// kind is [`Rejection::Malformed`].
    pub(crate) fn open_as(
        &self,
        value: &[u8],
        server: bool,
        schema: u32,
    ) -> Result<Opened, Rejection> {
        let opened = self.open(value)?;
        if opened.server != server {
            return Err(Rejection::Malformed);
        }
        if opened.schema != schema {
            return Err(Rejection::SchemaMismatch {
                found: opened.schema,
                expected: schema,
            });
        }
        Ok(opened)
    }

    /// Decodes and verifies a cookie value, whose length the caller has bounded. Any byte
    /// outside base64url makes it [`Rejection::Malformed`].
    pub(crate) fn open(&self, value: &[u8]) -> Result<Opened, Rejection> {
        let raw = URL_SAFE_NO_PAD
            .decode(value)
            .map_err(|_| Rejection::Malformed)?;
        match raw.first() {
            Some(&FORMAT_VERSION) => self.verify(raw),
            Some(&ENCRYPTED_FORMAT_VERSION) => self.decrypt(raw),
            Some(&other) => Err(Rejection::UnsupportedVersion(other)),
            None => Err(Rejection::Malformed),
        }
    }

    /// Decrypts an encrypted (version 2) envelope.
    fn decrypt(&self, mut raw: Vec<u8>) -> Result<Opened, Rejection> {
        if raw.len() < HEADER_LEN + crate::aead::OVERHEAD {
            return Err(Rejection::Malformed);
        }
        let wrong_name = raw[6..8] != self.name_tag;
        let ad = self.associated_data(&raw);
        let id: [u8; 4] = field(&raw, 2);
        let (payload, by_fallback) = match self.sealer.open(&id, &ad, &mut raw, HEADER_LEN) {
            Ok(opened) => opened,
            Err(_) if wrong_name => return Err(Rejection::WrongCookieName),
            Err(Unsealed::UnknownKey) => return Err(Rejection::UnknownKey),
            Err(Unsealed::Forged) => return Err(Rejection::BadSignature),
            Err(Unsealed::Short) => return Err(Rejection::Malformed),
        };
        Ok(Opened {
            server: raw[1] & FLAG_SERVER != 0,
            stamp: parse_stamp(&raw)?,
            schema: u32::from_be_bytes(field(&raw, 8)),
            by_fallback: by_fallback || !self.encrypt,
            payload,
            raw,
        })
    }

    /// Verifies a signed (version 1) envelope.
    fn verify(&self, raw: Vec<u8>) -> Result<Opened, Rejection> {
        if raw.len() < HEADER_LEN + TAG_LEN {
            return Err(Rejection::Malformed);
        }
        let body_len = raw.len() - TAG_LEN;
        let (body, given) = raw.split_at(body_len);
        let wrong_name = body[6..8] != self.name_tag;
        let position = self.signers.iter().position(|s| s.id == body[2..6]);
        let Some(position) = position else {
            return Err(if wrong_name {
                Rejection::WrongCookieName
            } else {
                Rejection::UnknownKey
            });
        };
        let mut mac = self.signers[position].mac.clone();
        feed(&mut mac, body);
        if mac.verify_slice(given).is_err() {
            return Err(if wrong_name {
                Rejection::WrongCookieName
            } else {
                Rejection::BadSignature
            });
        }
        Ok(Opened {
            server: body[1] & FLAG_SERVER != 0,
            stamp: parse_stamp(body)?,
            schema: u32::from_be_bytes(field(body, 8)),
            by_fallback: position != 0 || self.encrypt,
            payload: HEADER_LEN..body_len,
            raw,
        })
    }
}

fn parse_stamp(body: &[u8]) -> Result<Stamp, Rejection> {
    if body[1] & !(FLAG_PERMANENT | FLAG_SERVER | FLAG_RENEWED) != 0 {
        return Err(Rejection::Malformed);
    }
    Ok(Stamp {
        permanent: body[1] & FLAG_PERMANENT != 0,
        issued_at: u64::from_be_bytes(field(body, 12)),
        created_at: u64::from_be_bytes(field(body, 20)),
    })
}

fn field<const N: usize>(body: &[u8], at: usize) -> [u8; N] {
    body[at..at + N]
        .try_into()
        .expect("header has a fixed size")
}

fn len_prefix(len: usize) -> [u8; 4] {
    u32::try_from(len).unwrap_or(u32::MAX).to_be_bytes()
}

/// Feeds the header and the length-prefixed payload of `body` to `mac`.
fn feed(mac: &mut HmacSha256, body: &[u8]) {
    let (header, payload) = body.split_at(HEADER_LEN);
    mac.update(header);
    mac.update(&len_prefix(payload.len()));
    mac.update(payload);
}

fn tag(keyed: &HmacSha256, body: &[u8]) -> [u8; TAG_LEN] {
    let mut mac = keyed.clone();
    feed(&mut mac, body);
    mac.finalize().into_bytes().into()
}
