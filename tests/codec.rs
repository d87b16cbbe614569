//! The wire format: known answers, cookie safety, binding to the name and schema.

mod common;

use common::*;
use sessionkit::{Rejection, SessionConfig, SessionSchema};

/// Computed independently from the layout documented in `session-core/src/codec.rs`.
const KNOWN_ALICE: &str = "AQGwkHg1PzoAAAAAAAAAAGVT8QAAAAAAZVPxAHsidXNlciI6ImFsaWNlIiwiY2FydCI6WzEsMiwzXX2f1tuj0VaKXu8DaYIjVdJE0QpWxFhOHqQblLLi_bg6Lw";

#[test]
fn known_answer_for_a_new_persistent_session() {
    let mut session = sessionkit::TrackedSession::new(alice());
    session.set_permanent(true);
    let header = set_header(config().save(&session, at(T0)).unwrap());
    assert_eq!(
        header,
        format!("session={KNOWN_ALICE}; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=2678400")
    );
}

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct V3 {
    user: Option<String>,
    cart: Vec<u32>,
}

impl SessionSchema for V3 {
    const VERSION: u32 = 3;
    const FIELDS: &'static [&'static str] = &["user", "cart"];
}

#[test]
fn known_answer_for_a_refreshed_browser_session_cookie_of_schema_3() {
    let config = builder::<V3>()
        .refresh(sessionkit::Refresh::EveryRequest)
        .build()
        .unwrap();
    let created = "AQCwkHg1PzoAAAADAAAAAGVT8WQAAAAAZVPxAHsidXNlciI6bnVsbCwiY2FydCI6W119xpUSSligFpbpH7buUW58OK5xCClv9bp3jQ7jFTlko8o";
    let loaded = config.load(&format!("session={created}"), at(T0 + 100));
    assert_eq!(loaded.rejected, None);
    assert!(!loaded.session.is_permanent());
    // Re-signing at the issued-at time reproduces the cookie byte for byte.
    let header = set_header(config.save(&loaded.session, at(T0 + 100)).unwrap());
    assert_eq!(
        header,
        format!("session={created}; HttpOnly; SameSite=Lax; Secure; Path=/")
    );
}

#[test]
fn encoding_is_deterministic_and_cookie_safe() {
    let config = config();
    let a = mint(&config, alice(), T0);
    let b = mint(&config, alice(), T0);
    assert_eq!(a, b);
    let value = value(&a);
    assert!(value
        .bytes()
        .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
}

#[test]
fn round_trip_restores_the_data() {
    let config = config();
    let cookie = mint(&config, alice(), T0);
    let loaded = config.load(&cookie, at(T0 + 1));
    assert_eq!(loaded.rejected, None);
    assert!(!loaded.session.is_new());
    assert_eq!(*loaded.session, alice());
    assert_eq!(loaded.session.created_at(), Some(at(T0)));
}

#[test]
fn a_cookie_minted_under_one_name_is_rejected_under_another() {
    let cart = builder::<App>().cookie_name("cart").build().unwrap();
    let value = value(&mint(&config(), alice(), T0));
    let loaded = cart.load(&format!("cart={value}"), at(T0));
    assert_eq!(rejected(&loaded), Some(Rejection::WrongCookieName));
    assert_eq!(*loaded.session, App::default());
}

#[test]
fn a_cookie_of_another_schema_version_is_rejected() {
    let v3: SessionConfig<V3> = builder::<V3>().build().unwrap();
    let cookie = mint(&config(), alice(), T0);
    let loaded = v3.load(&cookie, at(T0));
    assert_eq!(
        rejected(&loaded),
        Some(Rejection::SchemaMismatch {
            found: 0,
            expected: 3
        })
    );
}

#[test]
fn the_cookie_is_found_among_others_by_exact_name() {
    let config = config();
    let cookie = mint(&config, alice(), T0);
    let header = format!("theme=dark; _ga=GA1.2.3.4; xsession=junk; {cookie}; sessions=junk");
    let loaded = config.load(&header, at(T0));
    assert_eq!(loaded.rejected, None);
    assert_eq!(*loaded.session, alice());
}

#[test]
fn no_cookie_is_a_new_session_without_rejection() {
    let loaded = config().load("theme=dark", at(T0));
    assert_eq!(loaded.rejected, None);
    assert!(loaded.session.is_new());
}

#[test]
fn a_flipped_character_is_a_bad_signature() {
    let config = config();
    let cookie = mint(&config, alice(), T0);
    // Position 60 is inside the payload; 'A' <-> 'B' keeps it valid base64url.
    let mut bytes = cookie.into_bytes();
    bytes[60] = if bytes[60] == b'A' { b'B' } else { b'A' };
    let loaded = config.load(std::str::from_utf8(&bytes).unwrap(), at(T0));
    assert_eq!(rejected(&loaded), Some(Rejection::BadSignature));
}

#[test]
fn padding_and_non_base64_are_malformed() {
    let config = config();
    let cookie = mint(&config, alice(), T0);
    for bad in [
        format!("{cookie}=="),
        format!("{cookie}+"),
        "session=%%%".to_owned(),
    ] {
        assert_eq!(
            rejected(&config.load(&bad, at(T0))),
            Some(Rejection::Malformed),
            "{bad}"
        );
    }
}
