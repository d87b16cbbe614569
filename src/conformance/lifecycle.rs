//! Lifetimes and the worst cases: expiry against cookie mode on one timeline, refresh, the
//! sweep under traffic, corrupt and sealed records, a bounded owner index.

use std::sync::Arc;
use std::time::Duration;

use crate::store::{Created, Record, ScanCursor, Updated};
use crate::{BoxedStore, CookieCommand, Rejection, SessionConfig, SessionStore, StoreKey};

use super::{
    at, builder, config, key, load, logged_in, now_ms, pair, record, set_header, t0, Wide,
};

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
    let configure = |b: crate::SessionConfigBuilder<Wide>| {
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

/// An idle session expires on the server; a used one is refreshed before it would.
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

/// A record the store holds but cannot read is a refused session with its dead cookie replaced,
/// never a panic or an outage.
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
        Err(crate::StoreError::Unsupported("an owner index"))
    );
    assert_eq!(
        store.revoke_owner("alice", None).await,
        Err(crate::StoreError::Unsupported("an owner index"))
    );
    let config = config(&store);
    assert!(config.revoke_owner("alice", None).await.is_err());
    assert_eq!(
        store.scan(&ScanCursor::start(), 10, now_ms()).await,
        Err(crate::StoreError::Unsupported("listing every session"))
    );
}

/// `scan` pages through every live record (at least once each, whatever the page size) and
/// lists no expired one.
pub async fn scan_pages_through_every_live_record(store: BoxedStore) {
    let namespace = format!("scan-{}", now_ms());
    let mut live = std::collections::BTreeSet::new();
    for i in 0..25 {
        let k = key(&namespace);
        let r = record(1, None, &format!("{{\"i\":{i}}}"));
        assert_eq!(store.create(&k, &r, now_ms()).await.unwrap(), Created::Ok);
        live.insert(k);
    }
    let mut expired = std::collections::BTreeSet::new();
    for _ in 0..3 {
        let k = key(&namespace);
        let mut r = record(1, None, "{}");
        (r.created_at, r.expires_at) = (now_ms() - 10_000, now_ms() - 1);
        assert_eq!(
            store.create(&k, &r, now_ms() - 20_000).await.unwrap(),
            Created::Ok
        );
        expired.insert(k);
    }
    let (mut seen, mut cursor, mut pages) =
        (std::collections::BTreeSet::new(), ScanCursor::start(), 0);
    loop {
        let page = store.scan(&cursor, 7, now_ms()).await.unwrap();
        pages += 1;
        for (k, r) in page.records {
            assert!(!expired.contains(&k), "an expired record was listed");
            if live.contains(&k) {
                assert_eq!(
                    r.payload,
                    store.load(&k, now_ms()).await.unwrap().unwrap().payload
                );
                seen.insert(k);
            }
        }
        match page.next {
            Some(next) => cursor = next,
            None => break,
        }
        assert!(pages < 100_000, "the scan never ends");
    }
    assert_eq!(seen, live);
}
