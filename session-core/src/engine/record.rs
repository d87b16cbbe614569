//! [`Record`]: what a store keeps for one session, and how this configuration writes and reads
//! its payload (bound to its store key, or sealed to it), indexes its owner and fingerprints
//! its id.

use hmac::Mac;
use sha2::{Digest as _, Sha256};

use crate::aead::{Sealer, ID_LEN};
use crate::error::SaveError;
use crate::id::{SessionId, StoreKey};
use crate::key::{key_id, HmacSha256, Key, Keyring};

/// The first byte of a payload: JSON bound to nothing, as sessionkit before 0.2 wrote it (read
/// only in the migration window of `read_unbound_records`).
pub(crate) const PAYLOAD_JSON: u8 = 1;
/// The first byte of a payload: JSON sealed with AES-256-GCM to the record's store key.
pub(crate) const PAYLOAD_SEALED: u8 = 2;
/// The first byte of a payload: JSON with an HMAC-SHA256 tag that binds it to the record's
/// store key (signed mode).
pub(crate) const PAYLOAD_BOUND: u8 = 3;

/// One session as a store keeps it. Times are Unix milliseconds from the app's clock: no time
/// zone enters anywhere.
#[derive(Clone, PartialEq, Eq)]
pub struct Record {
    /// 1 at creation, one more at every data write (not at a touch).
    pub version: u64,
    /// When the session was created (or renewed on login).
    pub created_at: u64,
    /// When it ends, unless touched; never past the absolute lifetime.
    pub expires_at: u64,
    /// The owner (the field marked `#[session(owner)]`), for "log out everywhere".
    pub owner: Option<String>,
    /// A format byte, the schema version (4 bytes, big-endian), then the JSON of the session;
    /// encrypted, the key id, a nonce, the sealed JSON and its tag follow the schema version.
    pub payload: Vec<u8>,
}

impl std::fmt::Debug for Record {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Record")
            .field("version", &self.version)
            .field("created_at", &self.created_at)
            .field("expires_at", &self.expires_at)
            .field("owner", &self.owner.as_ref().map(|_| "<redacted>"))
            .field("payload_bytes", &self.payload.len())
            .finish()
    }
}

impl Record {
    /// True while `now` (Unix milliseconds) is before the expiry.
    #[must_use]
    pub fn is_live(&self, now_ms: u64) -> bool {
        self.expires_at > now_ms
    }
}

/// How a configuration with a store writes and reads record payloads, and names its owners.
#[derive(Debug, Clone)]
pub(crate) struct Records {
    /// Part of every store key: apps that share a store do not share sessions.
    pub(crate) namespace: String,
    /// Keys the log fingerprint of ids, derived from the secret.
    fingerprint_key: [u8; 32],
    /// The `record-encryption` ciphers: sealed records are read whatever `encrypt` says.
    sealer: Sealer,
    /// Records are written sealed ([`SessionConfigBuilder::encrypted`](crate::SessionConfigBuilder::encrypted)).
    encrypt: bool,
    /// The `record-binding` keys that tie a signed record to its store key.
    binder: Binder,
    /// Records bound to nothing are read: the migration window of
    /// [`read_unbound_records`](crate::SessionConfigBuilder::read_unbound_records).
    read_unbound: bool,
}

impl Records {
    /// The record settings of a store configured with `keys` under `namespace`.
    pub(crate) fn new(
        keys: &Keyring,
        namespace: String,
        encrypt: bool,
        read_unbound: bool,
    ) -> Self {
        Self {
            namespace,
            fingerprint_key: keys.current().derive(b"log-fingerprint"),
            sealer: Sealer::new(keys, b"record-encryption"),
            encrypt,
            binder: Binder::new(keys),
            read_unbound,
        }
    }

    /// The key `id`'s record is stored under.
    pub(crate) fn key(&self, id: &SessionId) -> StoreKey {
        StoreKey::new(&self.namespace, id)
    }

    /// A short keyed fingerprint of `id`, for logs.
    pub(crate) fn fingerprint(&self, id: &SessionId) -> String {
        fingerprint(&self.fingerprint_key, id)
    }

    /// The owner as this configuration's store indexes it, under the one owner rule every
    /// backend follows: no owner, or an empty id, is an anonymous session; an id with a
    /// control character is refused (a store that cannot hold NUL would fail where another
    /// stores it); the id is written after a fixed-width tag of the namespace, so apps that
    /// share a store do not share an owner index (`1a2b3c4d/alice`).
    pub(crate) fn indexed_owner(&self, owner: Option<String>) -> Result<Option<String>, SaveError> {
        match owner {
            Some(id) if id.chars().any(char::is_control) => Err(SaveError::InvalidOwner),
            Some(id) if !id.is_empty() => Ok(Some(self.owner_key(&id))),
            _ => Ok(None),
        }
    }

    /// `owner` as [`indexed_owner`](Self::indexed_owner) stores it, for a lookup; `None` for
    /// an owner no session can have.
    pub(crate) fn lookup_owner(&self, owner: &str) -> Option<String> {
        self.indexed_owner(Some(owner.to_owned())).ok().flatten()
    }

    fn owner_key(&self, id: &str) -> String {
        let mut tag = Sha256::new();
        tag.update(b"sessionkit/owner-namespace/");
        tag.update(self.namespace.as_bytes());
        let tag = tag.finalize();
        format!("{}/{id}", hex::encode(&tag[..4]))
    }

    /// The record payload for `json`, sealed to `key` when records are encrypted.
    pub(crate) fn payload(
        &self,
        key: &StoreKey,
        created_at: u64,
        schema: u32,
        json: &[u8],
    ) -> Result<Vec<u8>, SaveError> {
        if !self.encrypt {
            let mut out = Vec::with_capacity(BOUND_AT + json.len());
            out.push(PAYLOAD_BOUND);
            out.extend_from_slice(&schema.to_be_bytes());
            out.extend_from_slice(&self.binder.keys[0].0);
            let ad = record_ad(key, created_at, &out);
            out.extend_from_slice(&self.binder.mac(0, &ad, json).finalize().into_bytes());
            out.extend_from_slice(json);
            return Ok(out);
        }
        let mut out = Vec::with_capacity(SEALED_AT + crate::aead::OVERHEAD + json.len());
        out.push(PAYLOAD_SEALED);
        out.extend_from_slice(&schema.to_be_bytes());
        out.extend_from_slice(&self.sealer.id());
        Sealer::begin(&mut out);
        out.extend_from_slice(json);
        let ad = record_ad(key, created_at, &out);
        self.sealer.seal(&ad, &mut out, SEALED_AT)?;
        Ok(out)
    }

    /// The schema version of a record payload read from `key`, the payload with its JSON
    /// decrypted in place, and where the JSON sits in it.
    pub(crate) fn open(
        &self,
        key: &StoreKey,
        created_at: u64,
        mut payload: Vec<u8>,
    ) -> Result<(u32, Vec<u8>, std::ops::Range<usize>), &'static str> {
        let schema = |p: &[u8]| u32::from_be_bytes([p[1], p[2], p[3], p[4]]);
        match payload.first() {
            Some(&PAYLOAD_JSON) if !self.read_unbound => Err(
                "the record is not bound to its key (planted, or written before records were \
                 bound: `read_unbound_records()` opens a migration window)",
            ),
            Some(&PAYLOAD_BOUND) if payload.len() >= BOUND_AT => {
                let at = self
                    .binder
                    .keys
                    .iter()
                    .position(|(id, _)| id[..] == payload[5..SEALED_AT])
                    .ok_or("the record is bound with a key that is not configured")?;
                let ad = record_ad(key, created_at, &payload);
                self.binder
                    .mac(at, &ad, &payload[BOUND_AT..])
                    .verify_slice(&payload[SEALED_AT..BOUND_AT])
                    .map_err(|_| "the record is not bound to this session: tampered, or moved from another session")?;
                let json = BOUND_AT..payload.len();
                Ok((schema(&payload), payload, json))
            }
            Some(&PAYLOAD_JSON) if payload.len() >= 5 => {
                let json = 5..payload.len();
                Ok((schema(&payload), payload, json))
            }
            Some(&PAYLOAD_SEALED) if payload.len() >= SEALED_AT => {
                let ad = record_ad(key, created_at, &payload);
                let id: [u8; 4] = payload[5..9].try_into().expect("checked length");
                let (json, _) = self
                    .sealer
                    .open(&id, &ad, &mut payload, SEALED_AT)
                    .map_err(|_| {
                        "the encrypted record does not open: tampered, moved from another \
                         session, or sealed with a key that is not configured"
                    })?;
                Ok((schema(&payload), payload, json))
            }
            _ => Err("the record was not written by sessionkit"),
        }
    }
}

/// A short HMAC-SHA256 fingerprint of `id` under `key` (six bytes, in hex).
pub(crate) fn fingerprint(key: &[u8; 32], id: &SessionId) -> String {
    let Ok(mut mac) = HmacSha256::new_from_slice(key) else {
        return String::new(); // HMAC takes keys of any length
    };
    mac.update(id.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..6])
}

/// The HMAC-SHA256 keys (`record-binding`, one per key of the ring, the current first) that
/// bind a signed-mode record to its store key.
#[derive(Clone)]
pub(crate) struct Binder {
    keys: Vec<([u8; ID_LEN], HmacSha256)>,
}

impl std::fmt::Debug for Binder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Binder")
            .field("keys", &self.keys.len())
            .finish_non_exhaustive()
    }
}

impl Binder {
    pub(crate) fn new(keys: &Keyring) -> Self {
        let binder = |key: &Key| {
            let subkey = key.derive(b"record-binding");
            let mac = <HmacSha256 as Mac>::new_from_slice(&subkey).expect("any key length");
            (key_id(&subkey), mac)
        };
        Self {
            keys: std::iter::once(keys.current())
                .chain(keys.fallbacks())
                .map(binder)
                .collect(),
        }
    }

    fn mac(&self, at: usize, ad: &[u8], json: &[u8]) -> HmacSha256 {
        let mut mac = self.keys[at].1.clone();
        mac.update(ad);
        mac.update(json);
        mac
    }
}

/// Where the sealed JSON of an encrypted record starts: format, schema version, key id.
const SEALED_AT: usize = 9;
/// Where the JSON of a bound record starts: the head as sealed records have it, the tag.
const BOUND_AT: usize = SEALED_AT + 32;

/// What an encrypted record's tag binds besides its JSON: the store key it belongs to, its
/// creation time, and its head (format, schema version, key id). The version and the expiry
/// are left out: a touch changes the expiry without writing the payload again, and the store
/// enforces both.
fn record_ad(key: &StoreKey, created_at: u64, payload: &[u8]) -> [u8; 72 + SEALED_AT] {
    let mut ad = [0; 72 + SEALED_AT];
    ad[..32].copy_from_slice(&Sha256::digest(b"sessionkit/record/v1"));
    ad[32..64].copy_from_slice(key.as_bytes());
    ad[64..72].copy_from_slice(&created_at.to_be_bytes());
    ad[72..].copy_from_slice(&payload[..SEALED_AT]);
    ad
}
