//! Allocations per LOAD and STORE of the benchmark workload, counted by a global allocator: a
//! count, not a time, so it is stable. A LOAD's budget is the struct's own heap parts plus 2; a
//! STORE makes two.

use std::time::{Duration, UNIX_EPOCH};

use sessionkit::{CookieCommand, Key, SessionConfig, TrackedSession};
use workload::{workload, Workload};

use sessionkit_testkit::bench::workload;

#[global_allocator]
static ALLOCATOR: dhat::Alloc = dhat::Alloc;

/// Heap blocks allocated while `f` runs (a reallocation counts as one).
fn allocations(f: impl FnOnce()) -> u64 {
    let before = dhat::HeapStats::get().total_blocks;
    f();
    dhat::HeapStats::get().total_blocks - before
}

/// Heap blocks the struct itself owns: username, csrf, roles + its two strings, cart, flash.
const OWNED: u64 = 7;

#[test]
fn a_load_allocates_no_more_than_the_struct_owns_plus_two() {
    let _profiler = dhat::Profiler::builder().testing().build();
    let key = Key::from_hex(sessionkit_testkit::fixture::KEY_A).unwrap();
    let config = SessionConfig::<Workload>::builder()
        .key(key)
        .build()
        .unwrap();
    let now = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
    let data = workload();
    let CookieCommand::Set(set_cookie) = config
        .save(&TrackedSession::new(data.clone()), now)
        .unwrap()
    else {
        panic!()
    };
    let header = format!(
        "theme=dark; _ga=GA1.2.3.4; {}",
        set_cookie.split(';').next().unwrap()
    );

    let mut loaded = None;
    let count = allocations(|| loaded = Some(config.load(&header, now)));
    let loaded = loaded.unwrap();
    assert_eq!(loaded.rejected, None);
    assert_eq!(*loaded.session, data);
    assert!(
        count <= OWNED + 2,
        "LOAD made {count} allocations, budget {}",
        OWNED + 2
    );

    // An untouched session is not serialized again: storing it allocates nothing.
    let untouched = allocations(|| {
        assert_eq!(
            config.save(&loaded.session, now).unwrap(),
            CookieCommand::Unchanged
        );
    });
    assert_eq!(untouched, 0);

    // A changed session: the envelope (header, JSON, tag) and the `Set-Cookie` value, no more.
    let mut changed = config.load(&header, now).session;
    changed.user_id += 1;
    let mut stored = None;
    let store = allocations(|| stored = Some(config.save(&changed, now)));
    let Some(Ok(CookieCommand::Set(set_cookie))) = stored else {
        panic!("a changed session sets its cookie: {stored:?}")
    };
    assert!(set_cookie.starts_with("session="));
    assert_eq!(store, 2, "STORE made {store} allocations");
}
