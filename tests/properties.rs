//! Properties of the envelope over arbitrary sessions, keys, edits and clocks.

mod common;

use std::time::Duration;

use common::*;
use proptest::prelude::*;
use sessionkit::{Key, Rejection, SessionConfig, TrackedSession};

const KEYS: [&str; 4] = [
    KEY_A,
    KEY_B,
    KEY_C,
    "0f1e2d3c4b5a69788796a5b4c3d2e1f00123fedcba98765443210fedcba9876a",
];

fn arb_app() -> impl Strategy<Value = App> {
    (
        proptest::option::of(".{0,40}"),
        proptest::collection::vec(any::<u32>(), 0..20),
    )
        .prop_map(|(user, cart)| App { user, cart })
        // An empty session is never stored (see tests/tracking.rs), so it has no cookie to test.
        .prop_filter("non-empty", |app| *app != App::default())
}

fn base64url_char() -> impl Strategy<Value = char> {
    prop_oneof![
        proptest::char::range('A', 'Z'),
        proptest::char::range('a', 'z'),
        proptest::char::range('0', '9'),
        Just('-'),
        Just('_'),
    ]
}

/// A valid cookie value for a small session.
fn sample() -> String {
    value(&mint(&config(), alice(), T0))
}

fn load_value(value: &str) -> Option<Rejection> {
    let loaded = config().load(&format!("session={value}"), at(T0));
    if loaded.rejected.is_some() {
        assert!(loaded.session.is_new());
    }
    loaded.rejected
}

#[test]
fn every_single_character_change_is_rejected() {
    let valid = sample();
    let alphabet: Vec<char> = ('A'..='Z')
        .chain('a'..='z')
        .chain('0'..='9')
        .chain(['-', '_'])
        .collect();
    for i in 0..valid.len() {
        for &c in &alphabet {
            let mut edited: Vec<char> = valid.chars().collect();
            if edited[i] == c {
                continue;
            }
            edited[i] = c;
            let edited: String = edited.into_iter().collect();
            assert!(
                load_value(&edited).is_some(),
                "position {i} -> {c} accepted"
            );
        }
    }
}

#[test]
fn every_single_deletion_and_truncation_is_rejected() {
    let valid = sample();
    // An empty value is no cookie at all: a fresh session with nothing to report.
    let empty = config().load("session=", at(T0));
    assert!(empty.session.is_new() && empty.rejected.is_none());
    for i in 1..valid.len() {
        let mut deleted = valid.clone();
        deleted.remove(i);
        assert!(load_value(&deleted).is_some(), "deletion at {i} accepted");
        assert!(
            load_value(&valid[..i]).is_some(),
            "truncation to {i} accepted"
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn round_trip_for_arbitrary_sessions(data in arb_app(), offset in 0u64..1000) {
        let config = config();
        let cookie = mint(&config, data.clone(), T0);
        let loaded = config.load(&cookie, at(T0 + offset));
        prop_assert_eq!(loaded.rejected, None);
        prop_assert_eq!(&*loaded.session, &data);
    }

    #[test]
    fn any_insertion_or_extension_is_rejected(at_ in any::<prop::sample::Index>(), c in base64url_char(), tail in "[A-Za-z0-9_-]{1,8}") {
        let valid = sample();
        let mut inserted = valid.clone();
        inserted.insert(at_.index(valid.len() + 1), c);
        prop_assert!(load_value(&inserted).is_some());
        let extended = valid + &tail;
        prop_assert!(load_value(&extended).is_some());
    }

    #[test]
    fn a_cookie_verifies_iff_its_signing_key_is_in_the_list(signer in 0usize..4, ring in proptest::collection::vec(0usize..4, 1..4)) {
        let signing = builder::<App>().key(key(KEYS[signer])).build().unwrap();
        let cookie = mint(&signing, alice(), T0);
        let mut verifying = SessionConfig::<App>::builder().key(key(KEYS[ring[0]]));
        for &k in &ring[1..] {
            verifying = verifying.fallback_key(key(KEYS[k]));
        }
        let loaded = verifying.build().unwrap().load(&cookie, at(T0));
        if ring.contains(&signer) {
            prop_assert_eq!(loaded.rejected, None);
        } else {
            prop_assert_eq!(loaded.rejected, Some(Rejection::UnknownKey));
        }
    }

    #[test]
    fn a_fresh_cookie_verifies_with_the_current_key_alone(data in arb_app(), fallback in 1usize..4) {
        let signing = builder::<App>().key(key(KEYS[0])).fallback_key(key(KEYS[fallback])).build().unwrap();
        let cookie = mint(&signing, data, T0);
        let alone = SessionConfig::<App>::builder().key(Key::from_hex(KEYS[0]).unwrap()).build().unwrap();
        prop_assert_eq!(alone.load(&cookie, at(T0)).rejected, None);
    }

    #[test]
    fn expiry_holds_exactly_at_its_boundaries(lifetime in 1u64..10_000_000, idle in 1u64..10_000_000, start in 0u64..4_000_000_000) {
        let config = builder::<App>()
            .lifetime(Duration::from_secs(lifetime))
            .idle_timeout(Duration::from_secs(idle))
            .build()
            .unwrap();
        let cookie = pair(&set_header(config.save(&TrackedSession::new(alice()), at(start)).unwrap()));
        let limit = lifetime.min(idle);
        prop_assert_eq!(config.load(&cookie, at(start + limit)).rejected, None);
        prop_assert!(config.load(&cookie, at(start + limit + 1)).rejected.is_some());
    }
}
