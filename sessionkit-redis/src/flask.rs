//! Flask-Session's records in Redis, as its `RedisSessionInterface` keeps them: a string under
//! `<prefix><sid>`, written with `SET … EX`.

use std::time::Duration;

use redis::aio::ConnectionManager;
use session_core::flask_session::FlaskSessionBackend;
use session_core::store::StoreError;

use crate::store::redis_error;

/// One server's connection, as the Flask-Session app's.
pub(crate) struct Records(pub(crate) ConnectionManager);

impl FlaskSessionBackend for Records {
    fn name(&self) -> &'static str {
        "redis"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        redis::cmd("GET")
            .arg(key)
            .query_async(&mut self.0.clone())
            .await
            .map_err(|e| redis_error(&e))
    }

    async fn set(&self, key: &str, value: &[u8], lifetime: Duration) -> Result<(), StoreError> {
        redis::cmd("SET")
            .arg(key)
            .arg(value)
            .arg("EX")
            .arg(lifetime.as_secs().max(1))
            .query_async(&mut self.0.clone())
            .await
            .map_err(|e| redis_error(&e))
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        redis::cmd("DEL")
            .arg(key)
            .query_async(&mut self.0.clone())
            .await
            .map_err(|e| redis_error(&e))
    }
}
