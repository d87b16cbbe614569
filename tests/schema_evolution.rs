//! Deploying a changed struct: added fields default, removed fields are ignored, changed types
//! are a rejection (a fresh session), never a panic.

mod common;

use common::*;
use serde::{Deserialize, Serialize};
use sessionkit::{CookieCommand, Rejection, SessionSchema};

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Added {
    user: Option<String>,
    cart: Vec<u32>,
    #[serde(default)]
    theme: String,
}
impl SessionSchema for Added {
    const FIELDS: &'static [&'static str] = &["user", "cart", "theme"];
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Removed {
    user: Option<String>,
}
impl SessionSchema for Removed {
    const FIELDS: &'static [&'static str] = &["user"];
}

#[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
struct Changed {
    user: Option<String>,
    cart: String,
}
impl SessionSchema for Changed {
    const FIELDS: &'static [&'static str] = &["user", "cart"];
}

#[test]
fn an_added_field_with_a_default_loads() {
    let cookie = mint(&config(), alice(), T0);
    let loaded = builder::<Added>().build().unwrap().load(&cookie, at(T0));
    assert_eq!(loaded.rejected, None);
    assert_eq!(
        *loaded.session,
        Added {
            user: Some("alice".into()),
            cart: vec![1, 2, 3],
            theme: String::new()
        }
    );
}

#[test]
fn a_removed_field_is_ignored_and_dropped_at_the_next_change() {
    let config = builder::<Removed>().build().unwrap();
    let cookie = mint(&common::config(), alice(), T0);
    let mut loaded = config.load(&cookie, at(T0));
    assert_eq!(loaded.rejected, None);
    assert_eq!(loaded.session.user.as_deref(), Some("alice"));
    // Untouched: nothing is sent, the old payload stays as it was.
    assert_eq!(
        config.save(&loaded.session, at(T0)).unwrap(),
        CookieCommand::Unchanged
    );
    // Touched without a change to the data: the bytes differ (no `cart`), so the cookie is rewritten.
    let _ = &mut loaded.session.user;
    let header = set_header(config.save(&loaded.session, at(T0)).unwrap());
    let again = config.load(&pair(&header), at(T0));
    assert_eq!(
        *again.session,
        Removed {
            user: Some("alice".into())
        }
    );
}

#[test]
fn a_changed_type_is_a_payload_rejection() {
    let cookie = mint(&config(), alice(), T0);
    let loaded = builder::<Changed>().build().unwrap().load(&cookie, at(T0));
    let Some(Rejection::Payload(reason)) = loaded.rejected else {
        panic!("expected a payload rejection, got {:?}", loaded.rejected);
    };
    assert!(reason.contains("expected a string"), "{reason}");
    assert_eq!(*loaded.session, Changed::default());
}
