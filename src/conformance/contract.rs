//! The store contract itself: what every operation of a [`SessionStore`] must do, called directly.

use crate::store::{Created, Updated};
use crate::{BoxedStore, SessionId, SessionStore, StoreKey};

use super::{key, now_ms, record, renewal};

/// A created record loads back exactly; an unknown key loads nothing.
pub async fn round_trip(store: BoxedStore) {
    let k = key("app");
    let r = record(1, Some("alice"), r#"{"a":1}"#);
    assert_eq!(store.load(&k, now_ms()).await.unwrap(), None);
    assert_eq!(store.create(&k, &r, now_ms()).await.unwrap(), Created::Ok);
    assert_eq!(store.load(&k, now_ms()).await.unwrap(), Some(r.clone()));
    store.delete(&k).await.unwrap();
    assert_eq!(store.load(&k, now_ms()).await.unwrap(), None);
    // Deleting what is not there is not an error.
    store.delete(&k).await.unwrap();
}

/// `create` on a key that exists answers `Created::Exists` and changes nothing.
pub async fn collision(store: BoxedStore) {
    let k = key("app");
    let first = record(1, None, r#"{"a":1}"#);
    assert_eq!(
        store.create(&k, &first, now_ms()).await.unwrap(),
        Created::Ok
    );
    let second = record(1, None, r#"{"a":2}"#);
    assert_eq!(
        store.create(&k, &second, now_ms()).await.unwrap(),
        Created::Collision
    );
    assert_eq!(store.load(&k, now_ms()).await.unwrap(), Some(first));
    // An expired record does not block a create.
    assert_eq!(
        store.create(&k, &second, now_ms() + 60_000).await.unwrap(),
        Created::Ok
    );
}

/// A record is live until its `expires_at` and gone at it, judged by the `now` given.
pub async fn expiry_without_sleeping(store: BoxedStore) {
    let k = key("app");
    assert_eq!(
        store
            .create(&k, &record(1, None, "{}"), now_ms())
            .await
            .unwrap(),
        Created::Ok
    );
    assert!(store.load(&k, now_ms() + 59_999).await.unwrap().is_some());
    assert_eq!(store.load(&k, now_ms() + 60_000).await.unwrap(), None);
    assert!(!store
        .touch(&k, now_ms() + 120_000, now_ms() + 60_000)
        .await
        .unwrap());
    let update = store
        .update(&k, 1, &record(2, None, "{}"), now_ms() + 60_000)
        .await
        .unwrap();
    assert_eq!(update, Updated::Gone);
}

/// `touch` moves the expiry and nothing else; on a missing record it answers `false`.
pub async fn touch_moves_only_the_expiry(store: BoxedStore) {
    let k = key("app");
    let r = record(1, None, r#"{"a":1}"#);
    assert_eq!(store.create(&k, &r, now_ms()).await.unwrap(), Created::Ok);
    assert!(store
        .touch(&k, now_ms() + 90_000, now_ms() + 50_000)
        .await
        .unwrap());
    let touched = store.load(&k, now_ms() + 70_000).await.unwrap().unwrap();
    assert_eq!(
        (touched.version, touched.expires_at),
        (1, now_ms() + 90_000)
    );
    assert_eq!(touched.payload, r.payload);
}

/// An update with a stale version is a conflict that hands back the current record.
pub async fn stale_version_conflicts(store: BoxedStore) {
    let k = key("app");
    assert_eq!(
        store
            .create(&k, &record(1, None, r#"{"a":1}"#), now_ms())
            .await
            .unwrap(),
        Created::Ok
    );
    let v2 = record(2, None, r#"{"a":2}"#);
    assert_eq!(
        store.update(&k, 1, &v2, now_ms()).await.unwrap(),
        Updated::Ok
    );
    let stale = store
        .update(&k, 1, &record(2, None, r#"{"a":3}"#), now_ms())
        .await
        .unwrap();
    assert_eq!(stale, Updated::Conflict(v2.clone()));
    assert_eq!(store.load(&k, now_ms()).await.unwrap(), Some(v2));
}

/// An update or touch after a delete finds the record gone and never brings it back.
pub async fn an_update_racing_a_delete_is_gone(store: BoxedStore) {
    let k = key("app");
    assert_eq!(
        store
            .create(&k, &record(1, None, r#"{"a":1}"#), now_ms())
            .await
            .unwrap(),
        Created::Ok
    );
    store.delete(&k).await.unwrap();
    let late = store
        .update(&k, 1, &record(2, None, r#"{"a":2}"#), now_ms())
        .await
        .unwrap();
    assert_eq!(late, Updated::Gone);
    assert_eq!(store.load(&k, now_ms()).await.unwrap(), None, "resurrected");
    assert!(!store.touch(&k, now_ms() + 1, now_ms()).await.unwrap());
}

/// `rotate` moves a record to a new key atomically: the old key is dead, a stale version
/// conflicts.
pub async fn rotate_kills_the_old_id(store: BoxedStore) {
    let old = key("app");
    let new = renewal("app", &old);
    assert_eq!(
        store
            .create(&old, &record(1, Some("u"), r#"{"a":1}"#), now_ms())
            .await
            .unwrap(),
        Created::Ok
    );
    let rotated = record(2, Some("u"), r#"{"a":1}"#);
    assert_eq!(
        store
            .rotate(&old, &new, 1, &rotated, now_ms())
            .await
            .unwrap(),
        Updated::Ok
    );
    assert_eq!(store.load(&old, now_ms()).await.unwrap(), None);
    assert_eq!(store.load(&new, now_ms()).await.unwrap(), Some(rotated));
    // A request that still holds the old id can neither write nor rotate it back.
    let racing = store
        .update(&old, 1, &record(2, None, r#"{"a":9}"#), now_ms())
        .await
        .unwrap();
    assert_eq!(racing, Updated::Gone);
    let again = store
        .rotate(
            &old,
            &renewal("app", &old),
            1,
            &record(2, None, "{}"),
            now_ms(),
        )
        .await
        .unwrap();
    assert_eq!(again, Updated::Gone);
}

/// `delete_expired` removes expired records only, in batches no larger than asked.
pub async fn cleanup_removes_only_expired_records(store: BoxedStore) {
    let mut live = Vec::new();
    for i in 0..10u64 {
        let k = key("app");
        let mut r = record(1, None, "{}");
        r.expires_at = now_ms() + i * 1_000 + 1;
        assert_eq!(store.create(&k, &r, now_ms()).await.unwrap(), Created::Ok);
        live.push((k, r.expires_at));
    }
    // At now_ms() + 5000: records 0..=4 have expired.
    let mut removed = 0;
    loop {
        let n = store.delete_expired(now_ms() + 5_000, 2).await.unwrap();
        assert!(n <= 2);
        if n == 0 {
            break;
        }
        removed += n;
    }
    assert_eq!(removed, if store.expires_natively() { 0 } else { 5 });
    for (k, expires_at) in live {
        let found = store.load(&k, now_ms() + 5_000).await.unwrap();
        assert_eq!(found.is_some(), expires_at > now_ms() + 5_000);
    }
}

/// The owner index lists an owner's live sessions and revokes them all, or all but one.
pub async fn owner_list_and_revoke(store: BoxedStore) {
    let keys: Vec<StoreKey> = (0..3).map(|_| key("app")).collect();
    for k in &keys {
        assert_eq!(
            store
                .create(k, &record(1, Some("alice"), "{}"), now_ms())
                .await
                .unwrap(),
            Created::Ok
        );
    }
    let bob = key("app");
    assert_eq!(
        store
            .create(&bob, &record(1, Some("bob"), "{}"), now_ms())
            .await
            .unwrap(),
        Created::Ok
    );
    let mut listed: Vec<StoreKey> = store
        .list_owner("alice", now_ms())
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    listed.sort();
    let mut expected = keys.clone();
    expected.sort();
    assert_eq!(listed, expected);
    assert_eq!(
        store.revoke_owner("alice", Some(&keys[0])).await.unwrap(),
        2
    );
    assert!(store.load(&keys[0], now_ms()).await.unwrap().is_some());
    assert_eq!(store.load(&keys[1], now_ms()).await.unwrap(), None);
    assert!(store.load(&bob, now_ms()).await.unwrap().is_some());
    assert_eq!(store.revoke_owner("alice", None).await.unwrap(), 1);
    assert!(store
        .list_owner("alice", now_ms())
        .await
        .unwrap()
        .is_empty());
    // A rotated record moves in the index with its key.
    let old = key("app");
    let new = renewal("app", &old);
    assert_eq!(
        store
            .create(&old, &record(1, Some("carol"), "{}"), now_ms())
            .await
            .unwrap(),
        Created::Ok
    );
    let moved = store
        .rotate(&old, &new, 1, &record(2, Some("carol"), "{}"), now_ms())
        .await
        .unwrap();
    assert_eq!(moved, Updated::Ok);
    let listed = store.list_owner("carol", now_ms()).await.unwrap();
    assert_eq!(
        listed.into_iter().map(|(k, _)| k).collect::<Vec<_>>(),
        [new]
    );
}

/// Two namespaces never see each other's records, even for the same id.
pub async fn namespaces_are_isolated(store: BoxedStore) {
    let id = SessionId::generate().unwrap();
    let (a, b) = (StoreKey::new("app-a", &id), StoreKey::new("app-b", &id));
    assert_eq!(
        store
            .create(&a, &record(1, None, r#"{"a":1}"#), now_ms())
            .await
            .unwrap(),
        Created::Ok
    );
    assert_eq!(store.load(&b, now_ms()).await.unwrap(), None);
}
