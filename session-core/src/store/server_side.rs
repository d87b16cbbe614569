//! What a configuration keeps sessions in a store with: the policies, and the record payload
//! (written plain or sealed to its store key, read back).

use std::time::Duration;

use sha2::{Digest as _, Sha256};

use super::record::{PAYLOAD_BOUND, PAYLOAD_JSON, PAYLOAD_SEALED};
use super::{BoxedStore, StoreKey};
use hmac::Mac;

use crate::aead::{Sealer, ID_LEN};
use crate::error::SaveError;
use crate::key::{HmacSha256, Key, Keyring};

/// What to do when another request changed the session between this one's load and save.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConflictPolicy {
    /// Merge three ways (what this request loaded, what it would write, the current record)
    /// and retry, backing off with jitter within the store timeout: changes to different keys
    /// at any depth both land, and an array both requests only appended to keeps both
    /// appends. A value both changed differently takes this request's value (two increments
    /// of one counter lose one). Emptying the session is a compare-and-swap too, so a write
    /// the emptying request never saw survives it. Fails with
    /// [`SaveError::Contended`](crate::SaveError::Contended) only when other requests kept
    /// winning for the whole timeout.
    #[default]
    Merge,
    /// Overwrite whatever the other request wrote (Flask-Session's behaviour).
    LastWriteWins,
    /// Save nothing and report [`SaveError::Conflict`](crate::SaveError::Conflict).
    Reject,
}

/// What a request gets when the store fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreFailure {
    /// Answer `503 Service Unavailable` with `Retry-After` (seconds) and no `Set-Cookie`.
    Unavailable {
        /// The `Retry-After` value, in seconds.
        retry_after: u32,
    },
    /// A failed load continues with a fresh, anonymous session (logged as an error); a failed
    /// save still answers 503.
    ContinueAnonymous,
}

impl Default for StoreFailure {
    fn default() -> Self {
        Self::Unavailable { retry_after: 1 }
    }
}

/// What a configuration needs to keep sessions in a store.
#[derive(Debug, Clone)]
pub(crate) struct ServerSide {
    pub(crate) store: BoxedStore,
    pub(crate) namespace: String,
    pub(crate) conflict: ConflictPolicy,
    pub(crate) timeout: Duration,
    pub(crate) failure: StoreFailure,
    /// Keys the log fingerprint of ids, derived from the secret.
    pub(crate) fingerprint_key: [u8; 32],
    /// The `record-encryption` ciphers: sealed records are read whatever `encrypt` says.
    pub(crate) records: Sealer,
    /// Records are written sealed ([`SessionConfigBuilder::encrypted`](crate::SessionConfigBuilder::encrypted)).
    pub(crate) encrypt: bool,
    /// The `record-binding` keys that tie a signed record to its store key.
    pub(crate) binder: Binder,
    /// The store sessions move from ([`migrate_from`](crate::SessionConfigBuilder::migrate_from)).
    pub(crate) previous: Option<BoxedStore>,
    /// Signs and opens the cookie that carries the id (sessionkit's envelope: a store is
    /// never configured in Flask mode).
    pub(crate) ids: crate::codec::Codec,
    /// Records bound to nothing are read: the migration window of
    /// [`read_unbound_records`](crate::SessionConfigBuilder::read_unbound_records).
    pub(crate) read_unbound: bool,
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
            let mut id = mac.clone();
            id.update(b"key-id");
            let id = id.finalize().into_bytes();
            ([id[0], id[1], id[2], id[3]], mac)
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

impl ServerSide {
    /// The owner as this configuration's store indexes it, under the one owner rule every
    /// backend follows: no owner, or an empty id, is an anonymous session; an id with a
    /// control character is refused (a store that cannot hold NUL would fail where another
    /// stores it); the id is written after a fixed-width tag of the namespace, so apps that
    /// share a store do not share an owner index (`1a2b3c4d/alice`).
    pub(super) fn indexed_owner(&self, owner: Option<String>) -> Result<Option<String>, SaveError> {
        match owner {
            Some(id) if id.chars().any(char::is_control) => Err(SaveError::InvalidOwner),
            Some(id) if !id.is_empty() => Ok(Some(self.owner_key(&id))),
            _ => Ok(None),
        }
    }

    /// `owner` as [`indexed_owner`](Self::indexed_owner) stores it, for a lookup; `None` for
    /// an owner no session can have.
    pub(super) fn lookup_owner(&self, owner: &str) -> Option<String> {
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
    pub(super) fn payload(
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
        out.extend_from_slice(&self.records.id());
        Sealer::begin(&mut out);
        out.extend_from_slice(json);
        let ad = record_ad(key, created_at, &out);
        self.records.seal(&ad, &mut out, SEALED_AT)?;
        Ok(out)
    }

    /// The schema version of a record payload read from `key`, the payload with its JSON
    /// decrypted in place, and where the JSON sits in it.
    pub(super) fn open(
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
                    .records
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
