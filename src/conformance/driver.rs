//! The driver on the store: logins, logouts, renewals, concurrent writers, conflicts, owners,
//! migration, as `load_async` and `save_async` run them.

use std::sync::Arc;
use std::time::Duration;

use crate::store::Created;
use crate::{BoxedStore, ConflictPolicy, CookieCommand, Rejection, SessionConfig, SessionStore};

use super::{
    at, builder, config, key, load, logged_in, now_ms, pair, record, set_header, t0, Wide,
};

/// Through the driver: the cookie is a short signed id, an unchanged session sends nothing, an
/// unknown or cookie-mode cookie is refused and removed.
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
        .store(crate::MemoryStore::new())
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
    let cookie_mode = builder::<Wide>()
        .build()
        .unwrap()
        .save(
            &crate::TrackedSession::new(Wide::default_with_user()),
            at(t0()),
        )
        .unwrap();
    let cookie_mode = pair(&set_header(cookie_mode));
    let loaded = load(&config, &cookie_mode, 0).await;
    assert_eq!(loaded.rejected, Some(Rejection::Malformed));
}

impl Wide {
    /// An otherwise empty session of user `x`.
    #[must_use]
    pub fn default_with_user() -> Self {
        Self {
            user: Some("x".into()),
            ..Self::default()
        }
    }
}

/// A logout deletes the record, and a write racing it does not bring the session back.
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

/// `renew()` moves the session to a new id; the old cookie is refused.
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

/// 32 concurrent requests, each changing its own field of one session: every change lands.
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

/// Each [`ConflictPolicy`] does what it says when two requests change the same field.
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
                matches!(second, Err(crate::SaveError::Conflict)),
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

/// `revoke_owner` logs an owner out everywhere, optionally keeping the current session.
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
                Err(crate::SaveError::InvalidOwner)
            ),
            "{bad:?}"
        );
    }
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

/// Moving live sessions to this store from another (memory or files in development) logs nobody out:
/// in the migration window a session is moved on its first request, keeps its cookie, and is
/// gone from the old store; writes land in this one.
pub async fn driver_sessions_move_from_another_store(store: BoxedStore) {
    let old_store = crate::MemoryStore::new();
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
