//! Change tracking: Set-Cookie only on a real change.

mod common;

use common::*;
use sessionkit::{CookieCommand, TrackedSession};

#[test]
fn an_untouched_new_session_sends_nothing() {
    let config = config();
    let loaded = config.load("", at(T0));
    assert_eq!(
        config.save(&loaded.session, at(T0)).unwrap(),
        CookieCommand::Unchanged
    );
}

#[test]
fn a_read_does_not_mark_the_session_and_sends_nothing() {
    let config = config();
    let loaded = config.load(&mint(&config, alice(), T0), at(T0 + 1));
    assert_eq!(loaded.session.user.as_deref(), Some("alice"));
    assert!(!loaded.session.is_modified());
    assert_eq!(
        config.save(&loaded.session, at(T0 + 1)).unwrap(),
        CookieCommand::Unchanged
    );
}

#[test]
fn a_mutable_borrow_without_a_change_sends_nothing() {
    let config = config();
    let mut loaded = config.load(&mint(&config, alice(), T0), at(T0 + 1));
    loaded.session.cart.sort_unstable();
    assert!(loaded.session.is_modified());
    assert_eq!(
        config.save(&loaded.session, at(T0 + 1)).unwrap(),
        CookieCommand::Unchanged
    );
}

#[test]
fn a_nested_change_is_persisted_without_a_modified_flag() {
    let config = config();
    let mut loaded = config.load(&mint(&config, alice(), T0), at(T0 + 1));
    loaded.session.cart.retain(|&item| item != 2);
    let header = set_header(config.save(&loaded.session, at(T0 + 1)).unwrap());
    let again = config.load(&pair(&header), at(T0 + 2));
    assert_eq!(again.session.cart, [1, 3]);
}

#[test]
fn clearing_a_stored_session_removes_the_cookie() {
    let config = config();
    let mut loaded = config.load(&mint(&config, alice(), T0), at(T0 + 1));
    loaded.session.clear();
    assert!(matches!(
        config.save(&loaded.session, at(T0 + 1)).unwrap(),
        CookieCommand::Remove(_)
    ));
}

#[test]
fn clearing_a_new_session_sends_nothing() {
    let config = config();
    let mut session = TrackedSession::<App>::default();
    session.clear();
    assert_eq!(
        config.save(&session, at(T0)).unwrap(),
        CookieCommand::Unchanged
    );
}

#[test]
fn clear_then_set_starts_a_new_session() {
    let config = config();
    let mut loaded = config.load(&mint(&config, alice(), T0), at(T0 + 50));
    loaded.session.clear();
    loaded.session.user = Some("bob".into());
    assert_eq!(loaded.session.created_at(), None);
    let header = set_header(config.save(&loaded.session, at(T0 + 50)).unwrap());
    let again = config.load(&pair(&header), at(T0 + 60));
    assert_eq!(
        *again.session,
        App {
            user: Some("bob".into()),
            cart: vec![]
        }
    );
    assert_eq!(again.session.created_at(), Some(at(T0 + 50)));
}

#[test]
fn emptying_every_field_removes_the_cookie_as_flask_does() {
    let config = config();
    let mut loaded = config.load(&mint(&config, alice(), T0), at(T0 + 1));
    loaded.session.user = None;
    loaded.session.cart.clear();
    assert!(matches!(
        config.save(&loaded.session, at(T0 + 1)).unwrap(),
        CookieCommand::Remove(_)
    ));
}

#[test]
fn switching_permanence_re_signs_an_unchanged_session() {
    let config = config();
    let mut loaded = config.load(&mint(&config, alice(), T0), at(T0 + 1));
    assert!(!loaded.session.is_permanent());
    loaded.session.set_permanent(true);
    let header = set_header(config.save(&loaded.session, at(T0 + 1)).unwrap());
    assert!(header.ends_with("; Max-Age=2678399"), "{header}");
    let mut again = config.load(&pair(&header), at(T0 + 2));
    assert!(again.session.is_permanent());
    again.session.set_permanent(false);
    let header = set_header(config.save(&again.session, at(T0 + 2)).unwrap());
    assert!(!header.contains("Max-Age"), "{header}");
}

#[test]
fn a_revoked_session_is_rejected_by_the_validation_hook() {
    let config = builder::<App>()
        .validate(|s: &App| s.user.as_deref() != Some("mallory"))
        .build()
        .unwrap();
    let good = config.load(&mint(&config, alice(), T0), at(T0));
    assert_eq!(good.rejected, None);
    let bad = App {
        user: Some("mallory".into()),
        cart: vec![],
    };
    let loaded = config.load(&mint(&config, bad, T0), at(T0));
    assert_eq!(rejected(&loaded), Some(sessionkit::Rejection::Revoked));
}

mod same_data {
    use std::collections::{BTreeMap, HashMap};

    use serde::{Deserialize, Serialize};
    use sessionkit::SessionSchema as _;

    /// Only types whose JSON is one text per value: bytes decide, no decode.
    #[derive(sessionkit::Session, Serialize, Deserialize, Default, PartialEq, Debug)]
    struct Canonical {
        user: Option<String>,
        cart: Vec<u32>,
        prices: BTreeMap<String, f64>,
    }

    /// A hash map writes its keys in any order: compared by meaning.
    #[derive(sessionkit::Session, Serialize, Deserialize, Default, PartialEq, Debug)]
    struct Hashed {
        prefs: HashMap<String, u32>,
    }

    /// A field serialized by the app's own code: compared by meaning.
    #[derive(sessionkit::Session, Serialize, Deserialize, Default, PartialEq, Debug)]
    struct Custom {
        #[serde(with = "as_text")]
        count: u32,
    }

    mod as_text {
        // serde's `with` passes the field by reference.
        #[allow(clippy::trivially_copy_pass_by_ref)]
        pub(super) fn serialize<S: serde::Serializer>(n: &u32, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_str(&n.to_string())
        }
        pub(super) fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u32, D::Error> {
            let text: String = serde::Deserialize::deserialize(d)?;
            text.parse().map_err(serde::de::Error::custom)
        }
    }

    #[test]
    fn bytes_decide_only_where_json_is_one_text_per_value() {
        // The same data in other bytes (keys in another order): only a type that may write
        // such bytes itself looks past them.
        let canonical = Canonical {
            user: Some("ada".into()),
            ..Canonical::default()
        };
        assert!(!canonical.same_data(br#"{"cart":[],"prices":{},"user":"ada"}"#));
        let hashed = Hashed {
            prefs: HashMap::from([("a".into(), 1), ("b".into(), 2)]),
        };
        assert!(hashed.same_data(br#"{"prefs":{"b":2,"a":1}}"#));
        assert!(hashed.same_data(br#"{"prefs":{"a":1,"b":2}}"#));
        assert!(!hashed.same_data(br#"{"prefs":{"a":1,"b":3}}"#));
        let custom = Custom { count: 7 };
        assert!(custom.same_data(br#"{"count":"7"}"#));
        assert!(!custom.same_data(br#"{"count":"8"}"#));
    }
}
