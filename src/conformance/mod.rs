//! The store contract, as a test suite any [`SessionStore`](crate::SessionStore) runs: the one
//! every backend in sessionkit passes, public so that a store of your own is held to the same
//! rules (feature `conformance`).
//!
//! [`conformance!`](crate::conformance!) expands to one `#[tokio::test]` per case. Its
//! argument is an expression that makes a fresh store: `Some((store, guard))`, the guard being
//! whatever must live as long as the store (a temporary directory, a database schema), or
//! `None` to skip (a server not configured on a developer machine; in CI, panic instead).
//! Your crate needs `tokio` with the `macros` and `rt-multi-thread` features among its
//! dev-dependencies.
//!
//! ```
//! use sessionkit::{BoxedStore, MemoryStore};
//!
//! fn my_store() -> Option<(BoxedStore, ())> {
//!     Some((BoxedStore::new(MemoryStore::new()), ()))
//! }
//!
//! // In `tests/my_store.rs`: one test per case.
//! sessionkit::conformance!(my_store(); pruned owner index);
//! # fn main() {}
//! ```
//!
//! The forms: `conformance!(factory)` for a store with an owner index;
//! `conformance!(factory; pruned owner index)` when the index is pruned as sessions expire
//! (adds the bounded-index, sweep and [`scan`](crate::SessionStore::scan) cases; `pruned owner
//! index, no scan` leaves out the scan); `conformance!(factory; no owner index)` for a store
//! without one, which must answer [`StoreError::Unsupported`](crate::StoreError) for the index
//! and the scan instead. Each case is also a public `async fn(BoxedStore)`, to run on its own.
//!
//! Every case panics, with the broken rule, when the store breaks it. Times are real (a
//! server's own TTL must agree): the suite starts at the wall clock and moves forward by
//! offsets, never by sleeping.
// A case fails by panicking, as a test does.
#![allow(clippy::missing_panics_doc)]

mod contract;
mod driver;
mod lifecycle;

use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::store::Record;
use crate::{
    BoxedStore, CookieCommand, Key, Loaded, SessionConfig, SessionConfigBuilder, SessionId,
    SessionSchema, StoreKey,
};

pub use contract::*;
pub use driver::*;
pub use lifecycle::*;

/// The time `secs` seconds after the Unix epoch.
fn at(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// A builder with the suite's key: one key for the whole run, so that every configuration
/// reads every other's cookies.
fn builder<T: SessionSchema>() -> SessionConfigBuilder<T> {
    static KEY: OnceLock<Key> = OnceLock::new();
    let key = KEY.get_or_init(|| Key::generate().expect("the system random generator works"));
    SessionConfig::<T>::builder().key(key.clone())
}

/// The `Set-Cookie` value of a command that must set a cookie.
fn set_header(command: CookieCommand) -> String {
    match command {
        CookieCommand::Set(header) => header,
        other => panic!("expected a Set-Cookie, got {other:?}"),
    }
}

/// The `name=value` pair of a `Set-Cookie` value, as a browser sends it back.
fn pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap_or_default().to_owned()
}

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
#[must_use]
pub fn now_ms() -> u64 {
    t0() * 1000
}

/// A fresh key in `namespace`.
#[must_use]
pub fn key(namespace: &str) -> StoreKey {
    StoreKey::new(namespace, &SessionId::generate().unwrap())
}

/// A renewal's key for `old`: a new id with `old`'s tag, as the driver draws it.
#[must_use]
pub fn renewal(namespace: &str, old: &StoreKey) -> StoreKey {
    StoreKey::new(namespace, &SessionId::generate_with_tag(old.tag()).unwrap())
}

/// A record at `version`, created now and live for a minute, holding `json` behind the
/// payload's 5-byte header.
#[must_use]
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

/// A session with 32 top-level fields, for 32 writers on disjoint fields: `user` (the owner),
/// `fields`, and the counters `f00` to `f31`, one per writer.
#[allow(missing_docs)]
#[derive(crate::Session, Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
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
    /// Field `i` of `f00`..`f31`.
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

/// The suite's configuration of [`Wide`] on `store`.
#[must_use]
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

/// One `#[tokio::test]` per case of the suite, on the store the factory makes. A store
/// without an owner index (memcached) runs `conformance!(factory; no owner index)`, which
/// checks that it says so instead of the owner cases.
#[macro_export]
macro_rules! conformance {
    ($factory:expr) => {
        $crate::conformance!(@indexed $factory);
        $crate::conformance!(@cases $factory; scan_pages_through_every_live_record);
    };
    // A backend whose owner index is pruned as sessions expire (the file store's index is
    // its records, bounded by the sweep).
    ($factory:expr; pruned owner index) => {
        $crate::conformance!($factory);
        $crate::conformance!(@pruned $factory);
    };
    // The same, on a store that cannot list every session (a Redis Cluster).
    ($factory:expr; pruned owner index, no scan) => {
        $crate::conformance!(@indexed $factory);
        $crate::conformance!(@pruned $factory);
    };
    (@pruned $factory:expr) => {
        $crate::conformance!(@cases $factory; owner_index_stays_bounded,
            driver_sweep_takes_every_expired_record);
    };
    (@indexed $factory:expr) => {
        $crate::conformance!(@common $factory);
        $crate::conformance!(@cases $factory; owner_list_and_revoke, driver_owner_revocation,
            corrupt_records_are_errors_or_rejections_never_panics, driver_encrypted_records,
            driver_owner_index_is_per_namespace, driver_one_owner_rule, driver_devices_page,
            driver_devices_show_last_activity);
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
            #[::tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $case() {
                // `None`: the server is not configured on this developer machine (in CI that
                // is a failure, raised by the factory).
                let made = $factory;
                let Some((store, _guard)) = made else {
                    return;
                };
                $crate::conformance::$case(store).await;
            }
        )*
    };
}
