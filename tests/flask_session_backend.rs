//! A Flask-Session backend of one's own (`FlaskSessionBackend`, as `sessionkit-redis` implements
//! it for Redis): a record Flask-Session wrote is read through it, written back byte for byte
//! with the app's lifetime, and deleted on migration.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sessionkit::flask_session::{FlaskSessionBackend, FlaskSessionStore};
use sessionkit::{Session, StoreError};
use sessionkit_testkit::flask_vectors::flask_session_stored;

#[derive(Session, Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
struct Mixed {
    user: Option<String>,
    n: u64,
}

/// Every call the store made, and the values it holds.
#[derive(Clone, Default)]
struct Recorder {
    values: Arc<Mutex<HashMap<String, Vec<u8>>>>,
    calls: Arc<Mutex<Vec<String>>>,
}

impl FlaskSessionBackend for Recorder {
    fn name(&self) -> &'static str {
        "recorder"
    }

    async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        self.calls.lock().unwrap().push(format!("GET {key}"));
        Ok(self.values.lock().unwrap().get(key).cloned())
    }

    async fn set(&self, key: &str, value: &[u8], lifetime: Duration) -> Result<(), StoreError> {
        let call = format!("SET {key} EX {}", lifetime.as_secs());
        self.calls.lock().unwrap().push(call);
        self.values
            .lock()
            .unwrap()
            .insert(key.to_owned(), value.to_vec());
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.calls.lock().unwrap().push(format!("DEL {key}"));
        self.values.lock().unwrap().remove(key);
        Ok(())
    }
}

#[tokio::test]
async fn a_backend_of_ones_own_carries_flask_sessions_records() {
    let sid = "Pz0ZAJqrqCrJs1I6-wlUfpl5xjAeZVRmS3stcJ88Djs";
    let key = format!("session:{sid}");
    let bytes = flask_session_stored("redis-mixed");
    let backend = Recorder::default();
    backend
        .values
        .lock()
        .unwrap()
        .insert(key.clone(), bytes.clone());
    let store = FlaskSessionStore::new(backend.clone()).with_lifetime(Duration::from_secs(3600));
    assert!(format!("{store:?}").contains("\"recorder\""), "{store:?}");

    let mut record = store.load::<Mixed>(sid).await.unwrap().record.unwrap();
    assert_eq!(
        record.data,
        Mixed {
            user: Some("bob".into()),
            n: 7
        }
    );
    // Unchanged, it goes back byte for byte, with the app's lifetime.
    store.save(&record).await.unwrap();
    assert_eq!(backend.values.lock().unwrap()[&key], bytes);
    record.data.n = 8;
    store.save(&record).await.unwrap();
    assert_eq!(
        store
            .load::<Mixed>(sid)
            .await
            .unwrap()
            .record
            .unwrap()
            .data
            .n,
        8
    );
    assert_eq!(
        *backend.calls.lock().unwrap(),
        [
            format!("GET {key}"),
            format!("SET {key} EX 3600"),
            format!("SET {key} EX 3600"),
            format!("GET {key}"),
        ]
    );

    // A session id no record has is no session, and no error.
    let absent = store.load::<Mixed>(&"A".repeat(43)).await.unwrap();
    assert!(absent.record.is_none(), "{absent:?}");
    assert_eq!(absent.rejected, None);
}
