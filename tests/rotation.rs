//! Key rotation: the current key signs, fallbacks only verify, verified-by-fallback re-signs.

mod common;

use common::*;
use sessionkit::{CookieCommand, Keyring, Rejection};

#[test]
fn a_fallback_key_verifies_and_the_cookie_is_re_signed_with_the_current_key() {
    let old = config();
    let rotated = sessionkit::SessionConfig::<App>::builder()
        .key(key(KEY_B))
        .fallback_key(key(KEY_A))
        .build()
        .unwrap();
    let cookie = mint(&old, alice(), T0);
    let loaded = rotated.load(&cookie, at(T0 + 10));
    assert_eq!(loaded.rejected, None);
    assert_eq!(*loaded.session, alice());

    let resigned = pair(&set_header(
        rotated.save(&loaded.session, at(T0 + 10)).unwrap(),
    ));
    // The new cookie verifies with the new key alone, and keeps its creation time.
    let only_new = builder::<App>().key(key(KEY_B)).build().unwrap();
    let again = only_new.load(&resigned, at(T0 + 20));
    assert_eq!(again.rejected, None);
    assert_eq!(again.session.created_at(), Some(at(T0)));
    // The old configuration cannot read it.
    assert_eq!(
        rejected(&old.load(&resigned, at(T0 + 20))),
        Some(Rejection::UnknownKey)
    );
}

#[test]
fn a_current_key_cookie_is_not_re_signed() {
    let ring = Keyring::new(key(KEY_B)).with_fallback(key(KEY_A));
    let config = sessionkit::SessionConfig::<App>::builder()
        .keyring(ring)
        .build()
        .unwrap();
    let cookie = mint(&config, alice(), T0);
    let loaded = config.load(&cookie, at(T0 + 10));
    assert_eq!(
        config.save(&loaded.session, at(T0 + 10)).unwrap(),
        CookieCommand::Unchanged
    );
}

#[test]
fn a_removed_key_is_unknown() {
    let cookie = mint(&config(), alice(), T0);
    let other = builder::<App>().key(key(KEY_C)).build().unwrap();
    let loaded = other.load(&cookie, at(T0));
    assert_eq!(rejected(&loaded), Some(Rejection::UnknownKey));
    assert!(loaded.session.is_new());
}

#[test]
fn fallbacks_never_sign() {
    let with_fallback = builder::<App>().fallback_key(key(KEY_B)).build().unwrap();
    let cookie = mint(&with_fallback, alice(), T0);
    let only_b = builder::<App>().key(key(KEY_B)).build().unwrap();
    assert_eq!(
        rejected(&only_b.load(&cookie, at(T0))),
        Some(Rejection::UnknownKey)
    );
    assert_eq!(rejected(&config().load(&cookie, at(T0))), None);
}
