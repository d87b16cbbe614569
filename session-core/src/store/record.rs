//! [`Record`]: what a store keeps for one session.

/// The first byte of a payload: JSON, as sessionkit writes it.
pub(crate) const PAYLOAD_JSON: u8 = 1;

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
    /// A format byte, the schema version (4 bytes, big-endian), then the JSON of the session.
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

    /// Builds a payload from the schema version and the JSON.
    pub(crate) fn payload_bytes(schema: u32, json: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(5 + json.len());
        out.push(PAYLOAD_JSON);
        out.extend_from_slice(&schema.to_be_bytes());
        out.extend_from_slice(json);
        out
    }

    /// The schema version and the JSON, or `None` for a payload sessionkit did not write.
    pub(crate) fn json(&self) -> Option<(u32, &[u8])> {
        match self.payload.as_slice() {
            [PAYLOAD_JSON, a, b, c, d, json @ ..] => {
                Some((u32::from_be_bytes([*a, *b, *c, *d]), json))
            }
            _ => None,
        }
    }
}
