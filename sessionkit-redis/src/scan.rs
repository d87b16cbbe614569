//! Listing every session of one Redis server (`SCAN` over the record keys), for moving
//! sessions to another store.

use session_core::store::{ScanCursor, ScanPage, StoreError, StoreKey, StoreResult};

use crate::scripts::decode;
use crate::store::{redis_error, RedisStore};

impl RedisStore {
    /// One `SCAN` step over this store's record keys (owner index keys are skipped), with
    /// the live records they hold.
    pub(crate) async fn scan_page(
        &self,
        cursor: &ScanCursor,
        limit: usize,
        now_ms: u64,
    ) -> StoreResult<ScanPage> {
        if self.connection.is_cluster() {
            return Err(StoreError::Unsupported(
                "listing every session on a Redis Cluster (scan each master through its own \
                 redis:// URL)",
            ));
        }
        let position: u64 = match cursor.position() {
            "" => 0,
            text => text
                .parse()
                .map_err(|_| StoreError::Other(format!("not a Redis scan cursor: {text:?}")))?,
        };
        let (next, names): (u64, Vec<String>) = redis::cmd("SCAN")
            .arg(position)
            .arg("MATCH")
            .arg(self.scan_pattern())
            .arg("COUNT")
            .arg(limit.max(1))
            .query_async(&mut self.connection())
            .await
            .map_err(|e| redis_error(&e))?;
        let keys: Vec<StoreKey> = names
            .iter()
            .filter_map(|name| Self::key_of(name.strip_prefix(&*self.prefix)?))
            .collect();
        let mut page = ScanPage::new(
            Vec::with_capacity(keys.len()),
            (next != 0).then(|| ScanCursor::at(next.to_string())),
        );
        if keys.is_empty() {
            return Ok(page);
        }
        let values: Vec<Option<Vec<u8>>> = redis::cmd("MGET")
            .arg(keys.iter().map(|k| self.key(k)).collect::<Vec<_>>())
            .query_async(&mut self.connection())
            .await
            .map_err(|e| redis_error(&e))?;
        for (key, value) in keys.into_iter().zip(values) {
            // A record that cannot be read is left where it is, for `load` to report.
            if let Some(record) = value.and_then(|v| decode(&v).ok()) {
                if record.is_live(now_ms) {
                    page.records.push((key, record));
                }
            }
        }
        Ok(page)
    }

    /// The `SCAN` pattern of this store's keys: its prefix, with glob characters escaped.
    fn scan_pattern(&self) -> String {
        self.prefix
            .chars()
            .flat_map(|c| {
                matches!(c, '*' | '?' | '[' | ']' | '\\')
                    .then_some('\\')
                    .into_iter()
                    .chain([c])
            })
            .chain(['*'])
            .collect()
    }
}
