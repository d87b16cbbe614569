//! Signs arbitrary envelopes with a known key, written from the layout documented in
//! `session-core/src/codec.rs` (not from its code): the attacker who holds a leaked key, or the
//! test that needs a valid signature over hostile content.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

type HmacSha256 = Hmac<Sha256>;

/// Every header field of an envelope, free to be wrong.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// The format version (1: signed).
    pub version: u8,
    /// The flag byte (bit 0: persistent).
    pub flags: u8,
    /// The schema version.
    pub schema: u32,
    /// When it was written, in Unix seconds.
    pub issued_at: u64,
    /// When its session began, in Unix seconds.
    pub created_at: u64,
    /// Overrides the key id computed from the key.
    pub key_id: Option<[u8; 4]>,
}

impl Envelope {
    /// A valid version-1 header issued and created at `time`.
    pub fn at(time: u64) -> Self {
        Self {
            version: 1,
            flags: 1,
            schema: 0,
            issued_at: time,
            created_at: time,
            key_id: None,
        }
    }
}

fn mac(key: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(key).expect("any key length")
}

/// The signing key derived from a master secret for cookies.
pub fn subkey(master: &[u8]) -> [u8; 32] {
    let mut m = mac(master);
    m.update(b"sessionkit/derive/v1\0cookie-signing");
    m.finalize().into_bytes().into()
}

/// The raw envelope bytes (header, payload, tag) for cookie `name`.
pub fn raw(master: &[u8], name: &str, envelope: &Envelope, payload: &[u8]) -> Vec<u8> {
    let sub = subkey(master);
    let mut id = mac(&sub);
    id.update(b"key-id");
    let id: [u8; 4] = id.finalize().into_bytes()[..4].try_into().unwrap();
    let mut header = vec![envelope.version, envelope.flags];
    header.extend_from_slice(&envelope.key_id.unwrap_or(id));
    header.extend_from_slice(&Sha256::digest(name.as_bytes())[..2]);
    header.extend_from_slice(&envelope.schema.to_be_bytes());
    header.extend_from_slice(&envelope.issued_at.to_be_bytes());
    header.extend_from_slice(&envelope.created_at.to_be_bytes());
    let mut m = mac(&sub);
    m.update(&(name.len() as u32).to_be_bytes());
    m.update(name.as_bytes());
    m.update(&header);
    m.update(&(payload.len() as u32).to_be_bytes());
    m.update(payload);
    let mut out = header;
    out.extend_from_slice(payload);
    out.extend_from_slice(&m.finalize().into_bytes());
    out
}

/// The cookie value for `raw` bytes.
pub fn encode(raw: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(raw)
}

/// A signed cookie value.
pub fn seal(master: &[u8], name: &str, envelope: &Envelope, payload: &[u8]) -> String {
    encode(&raw(master, name, envelope, payload))
}
