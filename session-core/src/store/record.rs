//! The byte form of a [`Record`] for stores that keep bytes (files, memcached).

use std::io::{self, Read as _};

use crate::engine::record::Record;

const MAGIC: &[u8; 4] = b"SKR1";
const NO_OWNER: u32 = u32::MAX;

impl Record {
    /// `SKR1 | version | created_at | expires_at | owner length (u32::MAX: none) | owner |
    /// payload length | payload`, integers big-endian.
    pub(crate) fn to_bytes(&self) -> Vec<u8> {
        let record = self;
        let owner = record.owner.as_deref().unwrap_or("");
        let mut out = Vec::with_capacity(40 + owner.len() + record.payload.len());
        out.extend_from_slice(MAGIC);
        for n in [record.version, record.created_at, record.expires_at] {
            out.extend_from_slice(&n.to_be_bytes());
        }
        let owner_len = record
            .owner
            .as_ref()
            .map_or(NO_OWNER, |o| u32::try_from(o.len()).unwrap_or(NO_OWNER - 1));
        out.extend_from_slice(&owner_len.to_be_bytes());
        out.extend_from_slice(owner.as_bytes());
        out.extend_from_slice(
            &u32::try_from(record.payload.len())
                .unwrap_or(u32::MAX)
                .to_be_bytes(),
        );
        out.extend_from_slice(&record.payload);
        out
    }

    pub(crate) fn from_bytes(bytes: &[u8]) -> io::Result<Record> {
        let corrupt = |why: &str| io::Error::new(io::ErrorKind::InvalidData, why.to_owned());
        let mut reader = bytes;
        let mut magic = [0u8; 4];
        reader
            .read_exact(&mut magic)
            .map_err(|_| corrupt("truncated"))?;
        if &magic != MAGIC {
            return Err(corrupt("not a sessionkit record"));
        }
        let mut u64_field = || -> io::Result<u64> {
            let mut b = [0u8; 8];
            reader
                .read_exact(&mut b)
                .map_err(|_| corrupt("truncated"))?;
            Ok(u64::from_be_bytes(b))
        };
        let (version, created_at, expires_at) = (u64_field()?, u64_field()?, u64_field()?);
        let mut take = |len: usize| -> io::Result<Vec<u8>> {
            let mut out = vec![0u8; len.min(reader.len())];
            reader
                .read_exact(&mut out)
                .map_err(|_| corrupt("truncated"))?;
            if out.len() != len {
                return Err(corrupt("truncated"));
            }
            Ok(out)
        };
        let len = |b: Vec<u8>| u32::from_be_bytes(b.try_into().unwrap_or([0; 4]));
        let owner_len = len(take(4)?);
        let owner = if owner_len == NO_OWNER {
            None
        } else {
            let bytes = take(owner_len as usize)?;
            Some(String::from_utf8(bytes).map_err(|_| corrupt("owner is not UTF-8"))?)
        };
        let payload_len = len(take(4)?);
        let payload = take(payload_len as usize)?;
        if !reader.is_empty() {
            return Err(corrupt("bytes after the record"));
        }
        Ok(Record {
            version,
            created_at,
            expires_at,
            owner,
            payload,
        })
    }
}
