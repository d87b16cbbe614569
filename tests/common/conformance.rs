//! The conformance suite every session store passes: the store contract directly, then the
//! driver on top of it. `conformance!(factory)` expands to one test per case; the factory
//! returns `Some((store, guard))`, the guard being whatever must live as long as the store (a
//! temporary directory, a database schema), or `None` when a server is not configured on a
//! developer machine.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sessionkit::store::{Created, Record, Updated};
use sessionkit::{
    BoxedStore, ConflictPolicy, CookieCommand, Loaded, Rejection, SessionConfig, SessionId,
    SessionStore, StoreKey,
};

use super::{at, builder, pair, set_header};

/// The suite's start time: the real time at the first call, in whole seconds. A server with
/// its own clock (Redis' TTL, memcached's expiry) must see records that are live in real time
/// too; every later time is this one plus an offset, so nothing sleeps.
pub fn t0() -> u64 {
    static START: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    *START.get_or_init(|| {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs()
    })
}

/// Milliseconds of [`t0`].
pub fn now_ms() -> u64 {
    t0() * 1000
}

pub fn key(namespace: &str) -> StoreKey {
    StoreKey::new(namespace, &SessionId::generate().unwrap())
}

/// A renewal's key for `old`: a new id with `old`'s tag, as the driver draws it.
pub fn renewal(namespace: &str, old: &StoreKey) -> StoreKey {
    StoreKey::new(namespace, &SessionId::generate_with_tag(old.tag()).unwrap())
}

pub fn record(version: u64, owner: Option<&str>, json: &str) -> Record {
    let mut payload = vec![1, 0, 0, 0, 0];
    payload.extend_from_slice(json.as_bytes());
    Record {
        version,
        created_at: now_ms(),
        expires_at: now_ms() + 60_000,
        owner: owner.map(str::to_owned),
        payload,
    }
}

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

/// A session with 32 top-level fields, for 32 writers on disjoint fields.
#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
pub struct Wide {
    #[session(owner)]
    pub user: Option<String>,
    pub fields: Vec<Option<u32>>,
    pub f00: u32,
    pub f01: u32,
    pub f02: u32,
    pub f03: u32,
    pub f04: u32,
    pub f05: u32,
    pub f06: u32,
    pub f07: u32,
    pub f08: u32,
    pub f09: u32,
    pub f10: u32,
    pub f11: u32,
    pub f12: u32,
    pub f13: u32,
    pub f14: u32,
    pub f15: u32,
    pub f16: u32,
    pub f17: u32,
    pub f18: u32,
    pub f19: u32,
    pub f20: u32,
    pub f21: u32,
    pub f22: u32,
    pub f23: u32,
    pub f24: u32,
    pub f25: u32,
    pub f26: u32,
    pub f27: u32,
    pub f28: u32,
    pub f29: u32,
    pub f30: u32,
    pub f31: u32,
}

impl Wide {
    pub fn field(&mut self, i: usize) -> &mut u32 {
        let all = [
            &mut self.f00,
            &mut self.f01,
            &mut self.f02,
            &mut self.f03,
            &mut self.f04,
            &mut self.f05,
            &mut self.f06,
            &mut self.f07,
            &mut self.f08,
            &mut self.f09,
            &mut self.f10,
            &mut self.f11,
            &mut self.f12,
            &mut self.f13,
            &mut self.f14,
            &mut self.f15,
            &mut self.f16,
            &mut self.f17,
            &mut self.f18,
            &mut self.f19,
            &mut self.f20,
            &mut self.f21,
            &mut self.f22,
            &mut self.f23,
            &mut self.f24,
            &mut self.f25,
            &mut self.f26,
            &mut self.f27,
            &mut self.f28,
            &mut self.f29,
            &mut self.f30,
            &mut self.f31,
        ];
        all.into_iter().nth(i).unwrap()
    }
}

pub fn config(store: &BoxedStore) -> SessionConfig<Wide> {
    builder::<Wide>().store(store.clone()).build().unwrap()
}

/// Loads the session `cookie` names, `after` seconds past [`t0`].
pub async fn load(config: &SessionConfig<Wide>, cookie: &str, after: u64) -> Loaded<Wide> {
    config
        .load_async([cookie.as_bytes()], at(t0() + after))
        .await
        .unwrap()
}

/// Logs alice in through the driver; returns the cookie pair.
pub async fn logged_in(config: &SessionConfig<Wide>) -> String {
    let mut loaded = config.load_async([&b""[..]], at(t0())).await.unwrap();
    loaded.session.set_user("alice");
    pair(&set_header(
        config.save_async(&loaded.session, at(t0())).await.unwrap(),
    ))
}

pub async fn driver_round_trip_and_strict_ids(store: BoxedStore) {
    let config = config(&store);
    let cookie = logged_in(&config).await;
    // The cookie is a short signed id, not the data.
    // `session=` and 92 bytes in base64url: header, the 32-byte id, the 32-byte tag.
    assert_eq!(cookie.len(), 8 + 123, "{cookie}");
    assert!(!cookie.contains("alice"));
    let loaded = load(&config, &cookie, 1).await;
    assert_eq!(loaded.session.user(), Some("alice"));
    // An unchanged session writes nothing and sends nothing.
    assert_eq!(
        config
            .save_async(&loaded.session, at(t0() + 1))
            .await
            .unwrap(),
        CookieCommand::Unchanged
    );

    // A validly signed cookie for an id the store does not know: fresh, and nothing is written.
    let other: SessionConfig<Wide> = builder::<Wide>()
        .store(sessionkit::MemoryStore::new())
        .build()
        .unwrap();
    let unknown = logged_in(&other).await;
    let loaded = load(&config, &unknown, 0).await;
    assert_eq!(loaded.rejected, Some(Rejection::UnknownSession));
    assert!(loaded.session.is_new());
    // The dead cookie is removed, so the browser stops sending it.
    assert!(matches!(
        config.save_async(&loaded.session, at(t0())).await.unwrap(),
        CookieCommand::Remove(_)
    ));
    // A cookie-mode cookie is not an id.
    let cookie_mode = super::mint(
        &builder::<Wide>().build().unwrap(),
        Wide::default_with_user(),
        t0(),
    );
    let loaded = load(&config, &cookie_mode, 0).await;
    assert_eq!(loaded.rejected, Some(Rejection::Malformed));
}

impl Wide {
    pub fn default_with_user() -> Self {
        Self {
            user: Some("x".into()),
            ..Self::default()
        }
    }
}

pub async fn driver_logout_deletes_and_a_racing_write_stays_dead(store: BoxedStore) {
    let config = config(&store);
    let cookie = logged_in(&config).await;
    let mut racing = load(&config, &cookie, 0).await;
    let mut logout = load(&config, &cookie, 0).await;
    logout.session.clear();
    let removal = config.save_async(&logout.session, at(t0())).await.unwrap();
    assert!(matches!(removal, CookieCommand::Remove(_)));
    *racing.session.f01_mut() = 5;
    let late = config.save_async(&racing.session, at(t0())).await.unwrap();
    assert!(matches!(late, CookieCommand::Remove(_)), "{late:?}");
    let after = load(&config, &cookie, 0).await;
    assert_eq!(after.rejected, Some(Rejection::UnknownSession));
}

pub async fn driver_renew_rotates_the_id(store: BoxedStore) {
    let config = config(&store);
    let cookie = logged_in(&config).await;
    let mut racing = load(&config, &cookie, 5).await;
    let mut login = load(&config, &cookie, 5).await;
    login.session.renew();
    let renewed = pair(&set_header(
        config
            .save_async(&login.session, at(t0() + 5))
            .await
            .unwrap(),
    ));
    assert_ne!(renewed, cookie);
    let dead = load(&config, &cookie, 6).await;
    assert_eq!(dead.rejected, Some(Rejection::UnknownSession));
    let alive = load(&config, &renewed, 6).await;
    assert_eq!(alive.session.created_at(), Some(at(t0() + 5)));
    // A request that read the old id before the rotation cannot write it back.
    *racing.session.f02_mut() = 1;
    assert!(matches!(
        config
            .save_async(&racing.session, at(t0() + 6))
            .await
            .unwrap(),
        CookieCommand::Remove(_)
    ));
}

pub async fn driver_32_writers_on_disjoint_fields_all_land(store: BoxedStore) {
    let config = Arc::new(config(&store));
    let cookie = logged_in(&config).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(32));
    let tasks: Vec<_> = (0..32)
        .map(|i| {
            let (config, cookie, barrier) = (config.clone(), cookie.clone(), barrier.clone());
            tokio::spawn(async move {
                let mut loaded = load(&config, &cookie, 1).await;
                // Every writer has read the same version before any writes.
                barrier.wait().await;
                *loaded.session.field(i) = u32::try_from(i).unwrap() + 100;
                config
                    .save_async(&loaded.session, at(t0() + 1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), CookieCommand::Unchanged);
    }
    let mut last = load(&config, &cookie, 2).await;
    for i in 0..32 {
        assert_eq!(
            *last.session.field(i),
            u32::try_from(i).unwrap() + 100,
            "field {i} lost"
        );
    }
}

/// 32 requests each add one item to the same cart at once: every item is there after.
pub async fn driver_32_appends_to_one_cart_all_land(store: BoxedStore) {
    let config = Arc::new(config(&store));
    let cookie = logged_in(&config).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(32));
    let tasks: Vec<_> = (0..32_u32)
        .map(|i| {
            let (config, cookie, barrier) = (config.clone(), cookie.clone(), barrier.clone());
            tokio::spawn(async move {
                let mut loaded = load(&config, &cookie, 1).await;
                barrier.wait().await;
                loaded.session.fields_mut().push(Some(i));
                config
                    .save_async(&loaded.session, at(t0() + 1))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap(), CookieCommand::Unchanged);
    }
    let last = load(&config, &cookie, 2).await;
    let mut cart: Vec<u32> = last.session.fields().iter().flatten().copied().collect();
    cart.sort_unstable();
    assert_eq!(cart, (0..32).collect::<Vec<_>>());
}

/// Emptying a session is a compare-and-swap under `Merge`: a write the emptying request never
/// saw survives it, and what it did see goes.
pub async fn driver_emptying_keeps_a_write_it_never_saw(store: BoxedStore) {
    let config = config(&store);
    let cookie = logged_in(&config).await;
    let mut clearing = load(&config, &cookie, 0).await;
    let mut other = load(&config, &cookie, 0).await;
    *other.session.f05_mut() = 5;
    assert_eq!(
        config.save_async(&other.session, at(t0())).await.unwrap(),
        CookieCommand::Unchanged
    );
    clearing.session.clear();
    assert_eq!(
        config
            .save_async(&clearing.session, at(t0()))
            .await
            .unwrap(),
        CookieCommand::Unchanged
    );
    let after = load(&config, &cookie, 1).await;
    assert_eq!(after.rejected, None);
    assert_eq!((after.session.user(), after.session.f05()), (None, 5));
    // With nothing unseen, emptying ends the session for good.
    let mut last = load(&config, &cookie, 1).await;
    last.session.clear();
    *last.session.f05_mut() = 0;
    assert!(matches!(
        config
            .save_async(&last.session, at(t0() + 1))
            .await
            .unwrap(),
        CookieCommand::Remove(_)
    ));
    assert_eq!(
        load(&config, &cookie, 2).await.rejected,
        Some(Rejection::UnknownSession)
    );
}

pub async fn driver_conflict_policies(store: BoxedStore) {
    for (policy, expect_first_kept) in [
        (ConflictPolicy::LastWriteWins, false),
        (ConflictPolicy::Reject, true),
    ] {
        let config = builder::<Wide>()
            .store(store.clone())
            .conflict_policy(policy)
            .build()
            .unwrap();
        let cookie = logged_in(&config).await;
        let mut a = load(&config, &cookie, 0).await;
        let mut b = load(&config, &cookie, 0).await;
        *a.session.f00_mut() = 1;
        *b.session.f01_mut() = 2;
        assert_eq!(
            config.save_async(&a.session, at(t0())).await.unwrap(),
            CookieCommand::Unchanged
        );
        let second = config.save_async(&b.session, at(t0())).await;
        let mut after = load(&config, &cookie, 0).await;
        if policy == ConflictPolicy::Reject {
            assert!(
                matches!(second, Err(sessionkit::SaveError::Conflict)),
                "{second:?}"
            );
        }
        assert_eq!(
            *after.session.field(0) == 1,
            expect_first_kept,
            "{policy:?}"
        );
    }
}

pub async fn driver_owner_revocation(store: BoxedStore) {
    let config = config(&store);
    let phone = logged_in(&config).await;
    let laptop = logged_in(&config).await;
    assert_eq!(config.list_owner("alice", at(t0())).await.unwrap().len(), 2);
    let current = load(&config, &laptop, 0).await;
    assert_eq!(
        config
            .revoke_owner("alice", Some(&current.session))
            .await
            .unwrap(),
        1
    );
    let phone = load(&config, &phone, 0).await;
    assert_eq!(phone.rejected, Some(Rejection::UnknownSession));
    let laptop = load(&config, &laptop, 0).await;
    assert_eq!(laptop.rejected, None);
}

/// Two apps sharing a store under different namespaces have separate owner indexes.
pub async fn driver_owner_index_is_per_namespace(store: BoxedStore) {
    let app = |namespace: &str| {
        builder::<Wide>()
            .store(store.clone())
            .namespace(namespace)
            .build()
            .unwrap()
    };
    let (shop, blog) = (app("shop"), app("blog"));
    let shop_cookie = logged_in(&shop).await;
    let blog_cookie = logged_in(&blog).await;
    let now = at(t0());
    assert_eq!(shop.list_owner("alice", now).await.unwrap().len(), 1);
    assert_eq!(blog.list_owner("alice", now).await.unwrap().len(), 1);
    assert_eq!(shop.revoke_owner("alice", None).await.unwrap(), 1);
    assert_eq!(
        load(&shop, &shop_cookie, 0).await.rejected,
        Some(Rejection::UnknownSession)
    );
    assert_eq!(load(&blog, &blog_cookie, 0).await.rejected, None);
    assert_eq!(blog.list_owner("alice", now).await.unwrap().len(), 1);
}

/// A "your devices" page: each session's public id, created-at and expiry; this device marked;
/// one revoked by its id; all but this one logged out.
pub async fn driver_devices_page(store: BoxedStore) {
    let config = config(&store);
    let (laptop, phone, tablet) = (
        logged_in(&config).await,
        logged_in(&config).await,
        logged_in(&config).await,
    );
    let now = at(t0());
    let here = load(&config, &laptop, 0).await.session;
    let this_device = here.public_id().unwrap();
    let devices = config.list_owner("alice", now).await.unwrap();
    assert_eq!(devices.len(), 3);
    assert_eq!(devices.iter().filter(|d| d.id == this_device).count(), 1);
    assert!(devices
        .iter()
        .all(|d| d.id.len() == 16 && d.expires_at > d.created_at));
    // Without an idle timeout the expiry says nothing of the last activity.
    assert!(devices.iter().all(|d| d.last_active.is_none()));
    // Revoke the phone by the id the page shows.
    let phone_id = load(&config, &phone, 0).await.session.public_id().unwrap();
    assert!(config
        .revoke_session("alice", &phone_id, now)
        .await
        .unwrap());
    assert_eq!(
        load(&config, &phone, 0).await.rejected,
        Some(Rejection::UnknownSession)
    );
    // An id that is not one of alice's sessions deletes nothing.
    assert!(!config
        .revoke_session("bob", &this_device, now)
        .await
        .unwrap());
    assert!(!config
        .revoke_session("alice", "0000000000000000", now)
        .await
        .unwrap());
    // Log out everywhere else.
    assert_eq!(config.revoke_owner("alice", Some(&here)).await.unwrap(), 1);
    assert_eq!(
        load(&config, &tablet, 0).await.rejected,
        Some(Rejection::UnknownSession)
    );
    assert_eq!(load(&config, &laptop, 0).await.rejected, None);
}

/// A handler shortens this session's life; the record and the cookie follow, in cookie mode
/// and on this store alike.
pub async fn driver_per_session_expiry(store: BoxedStore) {
    for config in [
        builder::<Wide>().build().unwrap(),
        builder::<Wide>().store(store.clone()).build().unwrap(),
    ] {
        let mut admin = load(&config, "", 0).await.session;
        admin.set_user("root");
        admin.set_permanent(true);
        admin.expire_after(Duration::from_secs(15 * 60), at(t0()));
        let header = set_header(config.save_async(&admin, at(t0())).await.unwrap());
        assert!(header.ends_with("Max-Age=900"), "{header}");
        let cookie = pair(&header);
        // A later request keeps the deadline, and a change does not move it.
        let mut later = load(&config, &cookie, 600).await.session;
        assert_eq!(later.user(), Some("root"));
        *later.f02_mut() = 2;
        let header = config.save_async(&later, at(t0() + 600)).await.unwrap();
        let cookie = match header {
            CookieCommand::Set(h) => {
                assert!(h.ends_with("Max-Age=300"), "{h}");
                pair(&h)
            }
            _ => cookie,
        };
        assert_eq!(load(&config, &cookie, 899).await.rejected, None);
        assert!(load(&config, &cookie, 901).await.rejected.is_some());
    }
}

/// A "your devices" page shows when each session was last active (its last write or
/// refresh), read from its expiry and the idle timeout.
pub async fn driver_devices_show_last_activity(store: BoxedStore) {
    let config = builder::<Wide>()
        .store(store.clone())
        .idle_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let cookie = logged_in(&config).await;
    let devices = config.list_owner("alice", at(t0())).await.unwrap();
    assert_eq!(devices[0].last_active, Some(at(t0())));
    let mut later = load(&config, &cookie, 100).await.session;
    *later.f06_mut() = 6;
    let saved = config.save_async(&later, at(t0() + 100)).await.unwrap();
    assert_eq!(saved, CookieCommand::Unchanged);
    let devices = config.list_owner("alice", at(t0() + 100)).await.unwrap();
    assert_eq!(devices[0].last_active, Some(at(t0() + 100)));
}

/// One owner rule on every backend: an empty id is no owner, a control character is refused.
pub async fn driver_one_owner_rule(store: BoxedStore) {
    let config = config(&store);
    let mut empty = load(&config, "", 0).await.session;
    empty.set_user("");
    *empty.f00_mut() = 1;
    let cookie = pair(&set_header(
        config.save_async(&empty, at(t0())).await.unwrap(),
    ));
    assert_eq!(load(&config, &cookie, 0).await.session.user(), Some(""));
    assert!(config.list_owner("", at(t0())).await.unwrap().is_empty());
    assert_eq!(config.revoke_owner("", None).await.unwrap(), 0);
    for bad in ["a\0b", "line\nbreak", "\u{1f}"] {
        let mut session = load(&config, "", 0).await.session;
        session.set_user(bad);
        assert!(
            matches!(
                config.save_async(&session, at(t0())).await,
                Err(sessionkit::SaveError::InvalidOwner)
            ),
            "{bad:?}"
        );
    }
}

/// 10,000 logins of one user over sessions that expire leave an index of live sessions only.
pub async fn owner_index_stays_bounded(store: BoxedStore) {
    let mut now = now_ms();
    for _ in 0..10_000 {
        let mut r = record(1, Some("bounded"), "{}");
        (r.created_at, r.expires_at) = (now, now + 1);
        assert_eq!(
            store.create(&key("bounded"), &r, now).await.unwrap(),
            Created::Ok
        );
        now += 2;
    }
    // Every session but none is expired; the index holds at most the last one.
    assert!(store.list_owner("bounded", now).await.unwrap().is_empty());
    let mut live = record(1, Some("bounded"), "{}");
    (live.created_at, live.expires_at) = (now, now + 60_000);
    assert_eq!(
        store.create(&key("bounded"), &live, now).await.unwrap(),
        Created::Ok
    );
    // Revoking deletes what the index holds: the live session and no stale entry but the last.
    assert!(store.revoke_owner("bounded", None).await.unwrap() <= 2);
}

/// What a browser keeps of the session cookie: its `name=value` and when `Max-Age` ends it
/// (`None`: when the browser closes).
#[derive(Default)]
struct Jar {
    cookie: Option<(String, Option<u64>)>,
}

impl Jar {
    fn send(&self, now: u64) -> String {
        match &self.cookie {
            Some((pair, until)) if until.is_none_or(|end| now < end) => pair.clone(),
            _ => String::new(),
        }
    }

    fn take(&mut self, command: CookieCommand, now: u64) {
        match command {
            CookieCommand::Set(header) => {
                let max_age = header
                    .split("; ")
                    .find_map(|a| a.strip_prefix("Max-Age="))
                    .map(|n| now + n.parse::<u64>().unwrap());
                self.cookie = Some((pair(&header), max_age));
            }
            CookieCommand::Remove(_) => self.cookie = None,
            CookieCommand::Unchanged => {}
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Step {
    Login { remember: bool },
    Change,
    Visit,
    Renew,
    Logout,
}

/// (seconds after t0, what the request does, whether the user was logged in when it came).
/// Lifetime an hour, idle timeout 60 s, refresh after half of it.
const TIMELINE: &[(u64, Step, bool)] = &[
    (0, Step::Login { remember: true }, false),
    (20, Step::Change, true),
    // The record lives until 80 after the change; the cookie must too (it was 60 from login).
    (65, Step::Visit, true),
    (100, Step::Renew, true),
    (150, Step::Visit, true),
    // 60 s idle since the refresh at 150: logged out, in the browser and on the server.
    (215, Step::Visit, false),
    (300, Step::Login { remember: false }, false),
    (330, Step::Visit, true),
    (350, Step::Change, true),
    // A browser-session cookie is still sent, but the server's idle timeout ended it.
    (420, Step::Visit, false),
    (430, Step::Login { remember: true }, false),
    (440, Step::Logout, true),
    (450, Step::Visit, false),
];

async fn timeline(config: &SessionConfig<Wide>) -> Vec<bool> {
    let mut jar = Jar::default();
    let mut seen = Vec::new();
    for &(after, step, _) in TIMELINE {
        let now = t0() + after;
        let cookie = jar.send(now);
        let mut session = config
            .load_async([cookie.as_bytes()], at(now))
            .await
            .unwrap()
            .session;
        seen.push(session.user().is_some());
        match step {
            Step::Login { remember } => {
                session.set_user("alice");
                session.set_permanent(remember);
                session.renew();
            }
            Step::Change => *session.f01_mut() += 1,
            Step::Visit => {}
            Step::Renew => session.renew(),
            Step::Logout => session.clear(),
        }
        jar.take(config.save_async(&session, at(now)).await.unwrap(), now);
    }
    seen
}

/// The same timeline of a browser, in cookie mode and on this store: logged in and out at the
/// same steps (the store's cookie follows its record's expiry).
pub async fn driver_timeline_matches_cookie_mode(store: BoxedStore) {
    let configure = |b: sessionkit::SessionConfigBuilder<Wide>| {
        b.lifetime(Duration::from_secs(3600))
            .idle_timeout(Duration::from_secs(60))
            .build()
            .unwrap()
    };
    let expected: Vec<bool> = TIMELINE
        .iter()
        .map(|&(_, _, logged_in)| logged_in)
        .collect();
    assert_eq!(
        timeline(&configure(builder::<Wide>())).await,
        expected,
        "cookie mode"
    );
    let stored = configure(builder::<Wide>().store(store));
    assert_eq!(timeline(&stored).await, expected, "store mode");
}

pub async fn driver_expiry_and_refresh(store: BoxedStore) {
    let config = builder::<Wide>()
        .store(store.clone())
        .idle_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let cookie = logged_in(&config).await;
    // Past half the idle window, an unchanged request touches the record and re-sends the id.
    let loaded = load(&config, &cookie, 400).await;
    let refreshed = config
        .save_async(&loaded.session, at(t0() + 400))
        .await
        .unwrap();
    let refreshed = pair(&set_header(refreshed));
    // The record now lives until t0() + 1000: alive at t0() + 900, gone at t0() + 1001.
    assert_eq!(load(&config, &refreshed, 900).await.rejected, None);
    let expired = load(&config, &refreshed, 1001).await;
    assert_eq!(expired.rejected, Some(Rejection::UnknownSession));
}

pub async fn corrupt_records_are_errors_or_rejections_never_panics(store: BoxedStore) {
    let config = config(&store);
    let cookie = logged_in(&config).await;
    // Overwrite alice's record with bytes sessionkit did not write.
    let owned = store
        .list_owner(&config.indexed_owner("alice").unwrap(), now_ms())
        .await
        .unwrap();
    let (k, current) = owned.into_iter().next().unwrap();
    let mut bad = current.clone();
    bad.payload = b"\x09garbage".to_vec();
    bad.version += 1;
    assert_eq!(
        store
            .update(&k, current.version, &bad, now_ms())
            .await
            .unwrap(),
        Updated::Ok
    );
    let loaded = load(&config, &cookie, 0).await;
    assert!(
        matches!(&loaded.rejected, Some(Rejection::CorruptRecord { session, .. }) if session.len() == 12),
        "{:?}",
        loaded.rejected
    );
    assert!(loaded.session.is_new());
    // A refused session: the dead cookie is removed, and a new login replaces it.
    assert!(matches!(
        config.save_async(&loaded.session, at(t0())).await.unwrap(),
        CookieCommand::Remove(_)
    ));
    let mut again = load(&config, &cookie, 0).await.session;
    again.set_user("alice");
    let fresh = pair(&set_header(
        config.save_async(&again, at(t0())).await.unwrap(),
    ));
    assert_eq!(load(&config, &fresh, 1).await.session.user(), Some("alice"));
}

/// `.encrypted()`: every driver path (create, merge after a conflict, rotate, touch, delete)
/// writes records the store cannot read, and reads them back.
pub async fn driver_encrypted_records(store: BoxedStore) {
    let config = builder::<Wide>()
        .store(store.clone())
        .idle_timeout(Duration::from_secs(600))
        .encrypted()
        .build()
        .unwrap();
    let sealed = |records: Vec<(StoreKey, Record)>| {
        for (_, record) in &records {
            assert_eq!(record.payload[0], 2, "not sealed: {record:?}");
            let text = String::from_utf8_lossy(&record.payload);
            assert!(!text.contains("alice") && !text.contains("f00"), "{text}");
        }
        records.len()
    };
    let cookie = logged_in(&config).await;
    assert_eq!(
        sealed(
            store
                .list_owner(&config.indexed_owner("alice").unwrap(), now_ms())
                .await
                .unwrap()
        ),
        1
    );
    // Two requests change different fields: the second conflicts and merges with the sealed
    // record the first wrote.
    let mut a = load(&config, &cookie, 0).await;
    let mut b = load(&config, &cookie, 0).await;
    *a.session.f00_mut() = 1;
    *b.session.f01_mut() = 2;
    for request in [&a, &b] {
        let saved = config.save_async(&request.session, at(t0())).await.unwrap();
        assert_eq!(saved, CookieCommand::Unchanged);
    }
    let merged = load(&config, &cookie, 1).await;
    assert_eq!((merged.session.f00, merged.session.f01), (1, 2));
    // Renewed: the record moves to a new key, sealed to it.
    let mut login = load(&config, &cookie, 5).await;
    login.session.renew();
    let renewed = config
        .save_async(&login.session, at(t0() + 5))
        .await
        .unwrap();
    let renewed = pair(&set_header(renewed));
    assert_eq!(
        load(&config, &cookie, 6).await.rejected,
        Some(Rejection::UnknownSession)
    );
    let alive = load(&config, &renewed, 6).await;
    assert_eq!((alive.rejected.as_ref(), alive.session.f01), (None, 2));
    assert_eq!(
        sealed(
            store
                .list_owner(&config.indexed_owner("alice").unwrap(), now_ms())
                .await
                .unwrap()
        ),
        1
    );
    // Touched past half the idle window, without writing the payload again.
    let idle = load(&config, &renewed, 400).await;
    let touched = config
        .save_async(&idle.session, at(t0() + 400))
        .await
        .unwrap();
    assert!(matches!(touched, CookieCommand::Set(_)), "{touched:?}");
    assert_eq!(load(&config, &renewed, 900).await.session.f00, 1);
    // Logged out: gone.
    let mut logout = load(&config, &renewed, 900).await;
    logout.session.clear();
    let removal = config
        .save_async(&logout.session, at(t0() + 900))
        .await
        .unwrap();
    assert!(matches!(removal, CookieCommand::Remove(_)));
    assert_eq!(
        sealed(
            store
                .list_owner(&config.indexed_owner("alice").unwrap(), now_ms())
                .await
                .unwrap()
        ),
        0
    );
}

/// The sweep runs while sessions are written: it removes the expired ones and never a live
/// one, and no write is lost to it.
pub async fn cleanup_during_traffic(store: BoxedStore) {
    let config = Arc::new(config(&store));
    let mut cookies = Vec::new();
    for _ in 0..8 {
        cookies.push(logged_in(&config).await);
    }
    // Expired records for the sweep to find (one second old at t0).
    for _ in 0..20 {
        let mut old = record(1, None, "{}");
        old.expires_at = now_ms() - 1_000;
        old.created_at = now_ms() - 60_000;
        let _ = store
            .create(&key("sweep"), &old, now_ms() - 60_000)
            .await
            .unwrap();
    }
    let sweeper = {
        let store = store.clone();
        tokio::spawn(async move {
            let mut removed = 0;
            for _ in 0..20 {
                removed += store.delete_expired(now_ms(), 3).await.unwrap();
                tokio::task::yield_now().await;
            }
            removed
        })
    };
    let writers: Vec<_> = cookies
        .iter()
        .cloned()
        .map(|cookie| {
            let config = config.clone();
            tokio::spawn(async move {
                for _ in 0..10 {
                    let mut loaded = load(&config, &cookie, 0).await;
                    assert_eq!(loaded.rejected, None);
                    *loaded.session.f00_mut() += 1;
                    let _sent = config.save_async(&loaded.session, at(t0())).await.unwrap();
                }
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
    let removed = sweeper.await.unwrap();
    assert_eq!(removed, if store.expires_natively() { 0 } else { 20 });
    for cookie in &cookies {
        let loaded = load(&config, cookie, 0).await;
        assert_eq!(loaded.session.f00(), 10);
    }
}

/// A store without an owner index says so, with the typed error.
pub async fn owner_index_is_unsupported(store: BoxedStore) {
    assert_eq!(
        store.list_owner("alice", now_ms()).await,
        Err(sessionkit::StoreError::Unsupported("an owner index"))
    );
    assert_eq!(
        store.revoke_owner("alice", None).await,
        Err(sessionkit::StoreError::Unsupported("an owner index"))
    );
    let config = config(&store);
    assert!(config.revoke_owner("alice", None).await.is_err());
}

/// One `#[tokio::test]` per case of the suite, on the store the factory makes. A store
/// without an owner index (memcached) runs `conformance!(factory; no owner index)`, which
/// checks that it says so instead of the owner cases.
#[macro_export]
macro_rules! conformance {
    ($factory:expr) => {
        $crate::conformance!(@common $factory);
        $crate::conformance!(@cases $factory; owner_list_and_revoke, driver_owner_revocation,
            corrupt_records_are_errors_or_rejections_never_panics, driver_encrypted_records,
            driver_owner_index_is_per_namespace, driver_one_owner_rule, driver_devices_page,
            driver_devices_show_last_activity);
    };
    // A backend whose owner index is pruned as sessions expire (the file store's index is
    // its records, bounded by the sweep).
    ($factory:expr; pruned owner index) => {
        $crate::conformance!($factory);
        $crate::conformance!(@cases $factory; owner_index_stays_bounded,
            driver_sweep_takes_every_expired_record);
    };
    ($factory:expr; no owner index) => {
        $crate::conformance!(@common $factory);
        $crate::conformance!(@cases $factory; owner_index_is_unsupported);
    };
    (@common $factory:expr) => {
        $crate::conformance!(@cases $factory;
            round_trip, collision, expiry_without_sleeping, touch_moves_only_the_expiry,
            stale_version_conflicts, an_update_racing_a_delete_is_gone, rotate_kills_the_old_id,
            cleanup_removes_only_expired_records, namespaces_are_isolated,
            driver_round_trip_and_strict_ids, driver_logout_deletes_and_a_racing_write_stays_dead,
            driver_renew_rotates_the_id, driver_32_writers_on_disjoint_fields_all_land,
            driver_32_appends_to_one_cart_all_land, driver_emptying_keeps_a_write_it_never_saw,
            driver_timeline_matches_cookie_mode, driver_per_session_expiry,
            driver_sessions_move_from_another_store,
            driver_conflict_policies, driver_expiry_and_refresh, cleanup_during_traffic);
    };
    (@cases $factory:expr; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                // `None`: the server is not configured on this developer machine (in CI that
                // is a failure, raised by the factory).
                let made = $factory;
                let Some((store, _guard)) = made else {
                    return;
                };
                common::conformance::$case(store).await;
            }
        )*
    };
}

/// `sweep` deletes every expired record in batches, and no live one.
pub async fn driver_sweep_takes_every_expired_record(store: BoxedStore) {
    let config = config(&store);
    let now = now_ms();
    // More than one batch of 10,000.
    for i in 0..10_500_u64 {
        let mut r = record(1, None, "{}");
        (r.created_at, r.expires_at) = (now - 10_000, now - 1 - i % 5_000);
        let created = store.create(&key("sweep"), &r, now - 20_000).await.unwrap();
        assert_eq!(created, Created::Ok);
    }
    let live = key("sweep");
    let created = store
        .create(&live, &record(1, None, "{}"), now)
        .await
        .unwrap();
    assert_eq!(created, Created::Ok);
    let swept = config.sweep(at(t0())).await.unwrap();
    let expected = if store.expires_natively() { 0 } else { 10_500 };
    assert_eq!(swept, expected);
    assert!(store.load(&live, now).await.unwrap().is_some());
}

/// Moving live sessions to this store from another (files in development) logs nobody out:
/// in the migration window a session is moved on its first request, keeps its cookie, and is
/// gone from the old store; writes land in this one.
pub async fn driver_sessions_move_from_another_store(store: BoxedStore) {
    let dir = super::temp::TempDir::new("move-from");
    let old_store = sessionkit::FileStore::new(dir.path()).unwrap();
    let old = builder::<Wide>().store(old_store.clone()).build().unwrap();
    let cookie = logged_in(&old).await;
    let moving = builder::<Wide>()
        .store(store.clone())
        .migrate_from(old_store)
        .build()
        .unwrap();
    let mut loaded = load(&moving, &cookie, 1).await;
    assert_eq!(
        (loaded.rejected.as_ref(), loaded.session.user()),
        (None, Some("alice"))
    );
    assert_eq!(
        load(&old, &cookie, 1).await.rejected,
        Some(Rejection::UnknownSession),
        "the old record went"
    );
    *loaded.session.f03_mut() = 3;
    assert_eq!(
        moving
            .save_async(&loaded.session, at(t0() + 1))
            .await
            .unwrap(),
        CookieCommand::Unchanged
    );
    // After the window, the new store alone holds the session.
    let after = config(&store);
    let again = load(&after, &cookie, 2).await;
    assert_eq!(
        (again.session.user(), again.session.f03()),
        (Some("alice"), 3)
    );
}
