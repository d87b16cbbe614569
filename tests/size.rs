//! Size limits: measured on the final Set-Cookie string, enforced before decoding on the way in.

mod common;

use common::*;
use sessionkit::{Rejection, SaveError, TrackedSession};

fn with_cart(len: usize) -> App {
    App {
        user: None,
        cart: (0..len as u32).map(|i| i % 10).collect(),
    }
}

#[test]
fn an_oversized_session_is_too_large_with_the_exact_byte_count() {
    let config = config();
    let Err(SaveError::TooLarge { bytes, limit }) =
        config.save(&TrackedSession::new(with_cart(2000)), at(T0))
    else {
        panic!("expected TooLarge");
    };
    assert_eq!(limit, 4096);
    // {"user":null,"cart":[...]}: 23 bytes of frame, 2000 one-digit items, 1999 commas.
    let json = 23 + 2000 + 1999;
    // Unpadded base64url of the 28-byte header, the JSON and the 32-byte tag.
    let value = (4 * (28 + json + 32_usize)).div_ceil(3);
    let attributes = "; HttpOnly; SameSite=Lax; Secure; Path=/".len();
    assert_eq!(bytes, "session=".len() + value + attributes);
}

#[test]
fn the_limit_applies_to_the_whole_header_at_its_boundary() {
    let config = config();
    let header = set_header(
        config
            .save(&TrackedSession::new(with_cart(100)), at(T0))
            .unwrap(),
    );
    let exact = builder::<App>()
        .max_cookie_bytes(header.len())
        .build()
        .unwrap();
    assert_eq!(
        set_header(
            exact
                .save(&TrackedSession::new(with_cart(100)), at(T0))
                .unwrap()
        ),
        header
    );
    let short = builder::<App>()
        .max_cookie_bytes(header.len() - 1)
        .build()
        .unwrap();
    assert!(matches!(
        short.save(&TrackedSession::new(with_cart(100)), at(T0)),
        Err(SaveError::TooLarge { bytes, limit }) if bytes == header.len() && limit == header.len() - 1
    ));
}

#[test]
fn an_incoming_value_over_the_limit_is_refused_before_decoding() {
    let config = config();
    let huge = format!("session={}", "A".repeat(4097));
    assert_eq!(
        rejected(&config.load(&huge, at(T0))),
        Some(Rejection::TooLarge {
            bytes: 4097,
            limit: 4096
        })
    );
}
