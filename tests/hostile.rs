//! Hostile input: every case is a fresh session with the exact rejection reason, never a panic.
//! Work is bounded by construction (one scan of the header, four candidates at most, a length
//! cap before decoding); the large cases below exercise those bounds.

mod common;

use common::forge::{self, Envelope};
use common::*;
use sessionkit::{Rejection, SessionConfig};

/// The master secret of `KEY_A`, for forging.
fn master() -> Vec<u8> {
    (0..KEY_A.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&KEY_A[i..i + 2], 16).unwrap())
        .collect()
}

fn valid() -> String {
    value(&mint(&config(), alice(), T0))
}

fn signed(envelope: &Envelope, payload: &[u8]) -> String {
    forge::seal(&master(), "session", envelope, payload)
}

/// Loads `header` at `T0` and checks the outcome is a fresh session with `expected`.
fn check(config: &SessionConfig<App>, name: &str, header: &str, expected: Option<&Rejection>) {
    let loaded = config.load(header, at(T0));
    assert_eq!(loaded.rejected.as_ref(), expected, "case {name}");
    assert!(
        loaded.session.is_new(),
        "case {name}: a session was accepted"
    );
    assert_eq!(*loaded.session, App::default(), "case {name}");
}

fn cookie(value: &str) -> String {
    format!("session={value}")
}

#[test]
fn empty_and_separator_only_headers_are_no_cookie_or_malformed() {
    let config = config();
    let cases: &[(&str, &str, Option<Rejection>)] = &[
        ("empty header", "", None),
        ("whitespace", "   \t ", None),
        ("separators only", ";;;; ;", None),
        ("empty value", "session=", None),
        ("empty quoted value", "session=\"\"", None),
        ("name without =", "session", None),
        ("equals only", "session====", Some(Rejection::Malformed)),
        ("dots", "session=...", Some(Rejection::Malformed)),
    ];
    for (name, header, expected) in cases {
        check(&config, name, header, expected.as_ref());
    }
}

#[test]
fn structural_damage_to_a_valid_token_is_rejected() {
    let config = config();
    let v = valid();
    let flipped_case: String = v
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() {
                c.to_ascii_uppercase()
            } else {
                c.to_ascii_lowercase()
            }
        })
        .collect();
    let cases: Vec<(&str, String, Rejection)> = vec![
        ("header only", v[..37].to_owned(), Rejection::Malformed),
        ("extra part", format!("{v}.extra"), Rejection::Malformed),
        (
            "junk before",
            format!("AAAA{v}"),
            Rejection::UnsupportedVersion(0),
        ),
        ("junk after", format!("{v}AAAA"), Rejection::BadSignature),
        // 126 + 126 characters decode as whole groups: well-formed bytes, wrong tag.
        ("doubled", format!("{v}{v}"), Rejection::BadSignature),
        // Flipping the last character sets bits past the end of the data.
        ("case flipped", flipped_case, Rejection::Malformed),
        (
            "plus and slash",
            v.replace('-', "+").replace('_', "/") + "+/",
            Rejection::Malformed,
        ),
        ("percent-encoded", format!("%41{v}"), Rejection::Malformed),
        (
            "space inside",
            format!("{} {}", &v[..10], &v[10..]),
            Rejection::Malformed,
        ),
        ("padded", format!("{v}="), Rejection::Malformed),
        ("non-ASCII", format!("{v}é"), Rejection::Malformed),
    ];
    for (name, value, expected) in cases {
        check(&config, name, &cookie(&value), Some(&expected));
    }
}

#[test]
fn non_canonical_base64_is_malformed() {
    // 94 bytes encode to 126 characters whose last one carries 2 unused bits.
    let v = valid();
    assert_eq!(v.len() % 4, 2, "the sample must end in a partial group");
    let last = v.chars().last().unwrap();
    let alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let index = alphabet.find(last).unwrap();
    let stray = alphabet.chars().nth(index | 1).unwrap();
    let tampered = format!("{}{stray}", &v[..v.len() - 1]);
    assert_ne!(tampered, v);
    check(
        &config(),
        "trailing bits",
        &cookie(&tampered),
        Some(&Rejection::Malformed),
    );
}

#[test]
fn every_single_bit_flip_is_rejected_with_the_field_it_hit() {
    let config = config();
    let raw = forge::raw(
        &master(),
        "session",
        &Envelope::at(T0),
        br#"{"user":"alice","cart":[1,2,3]}"#,
    );
    for bit in 0..raw.len() * 8 {
        let mut flipped = raw.clone();
        flipped[bit / 8] ^= 1 << (bit % 8);
        let expected = match bit / 8 {
            0 => Rejection::UnsupportedVersion(flipped[0]),
            2..=5 => Rejection::UnknownKey,
            6..=7 => Rejection::WrongCookieName,
            _ => Rejection::BadSignature,
        };
        check(
            &config,
            &format!("bit {bit}"),
            &cookie(&forge::encode(&flipped)),
            Some(&expected),
        );
    }
}

#[test]
fn damaged_or_borrowed_tags_are_bad_signatures() {
    let config = config();
    let payload = br#"{"user":"alice","cart":[]}"#;
    let raw = forge::raw(&master(), "session", &Envelope::at(T0), payload);
    let other = forge::raw(
        &master(),
        "session",
        &Envelope::at(T0),
        br#"{"user":"bob","cart":[]}"#,
    );
    let body = &raw[..raw.len() - 32];
    let mut zero_tag = body.to_vec();
    zero_tag.extend_from_slice(&[0; 32]);
    let mut borrowed = body.to_vec();
    borrowed.extend_from_slice(&other[other.len() - 32..]);
    let mut extended = raw.clone();
    extended.push(0);
    let cases = [
        ("truncated tag", raw[..raw.len() - 1].to_vec()),
        ("extended tag", extended),
        ("all-zero tag", zero_tag),
        ("tag of another cookie", borrowed),
    ];
    for (name, bytes) in cases {
        check(
            &config,
            name,
            &cookie(&forge::encode(&bytes)),
            Some(&Rejection::BadSignature),
        );
    }
}

#[test]
fn envelope_fields_are_checked_after_the_signature() {
    use std::time::Duration;
    let config = config();
    let payload = br#"{"user":"alice","cart":[]}"#;
    let with = |f: fn(&mut Envelope)| {
        let mut envelope = Envelope::at(T0);
        f(&mut envelope);
        cookie(&signed(&envelope, payload))
    };
    let cases = [
        (
            "version 3",
            with(|e| e.version = 3),
            Rejection::UnsupportedVersion(3),
        ),
        (
            "a signed body labelled encrypted",
            with(|e| e.version = 2),
            Rejection::UnknownKey,
        ),
        (
            "unknown flag",
            with(|e| e.flags = 0x80),
            Rejection::Malformed,
        ),
        (
            "another schema",
            with(|e| e.schema = 7),
            Rejection::SchemaMismatch {
                found: 7,
                expected: 0,
            },
        ),
        (
            "created after issued",
            with(|e| e.created_at = T0 + 1),
            Rejection::Malformed,
        ),
        (
            "issued far in the future",
            with(|e| e.issued_at = u64::MAX),
            Rejection::IssuedInFuture {
                by: Duration::from_secs(u64::MAX - T0),
            },
        ),
        (
            "created at zero",
            with(|e| e.created_at = 0),
            Rejection::Expired {
                age: Duration::from_secs(T0),
                limit: Duration::from_secs(31 * 86_400),
            },
        ),
        (
            "issued in 1970",
            with(|e| {
                e.issued_at = 0;
                e.created_at = 0;
            }),
            Rejection::Expired {
                age: Duration::from_secs(T0),
                limit: Duration::from_secs(31 * 86_400),
            },
        ),
    ];
    for (name, header, expected) in cases {
        check(&config, name, &header, Some(&expected));
    }
    let other_name = forge::seal(&master(), "cart", &Envelope::at(T0), payload);
    check(
        &config,
        "another cookie name",
        &cookie(&other_name),
        Some(&Rejection::WrongCookieName),
    );
    let stranger = forge::seal(
        b"a different master secret of some length",
        "session",
        &Envelope::at(T0),
        payload,
    );
    check(
        &config,
        "unknown key",
        &cookie(&stranger),
        Some(&Rejection::UnknownKey),
    );
}

#[test]
fn expiry_boundaries_hold_under_forged_times() {
    let config = builder::<App>()
        .lifetime(std::time::Duration::from_secs(100))
        .build()
        .unwrap();
    let at_boundary = signed(&Envelope::at(T0 - 100), br#"{"user":"alice","cart":[]}"#);
    assert_eq!(config.load(&cookie(&at_boundary), at(T0)).rejected, None);
    let one_over = signed(&Envelope::at(T0 - 101), br#"{"user":"alice","cart":[]}"#);
    assert!(matches!(
        config.load(&cookie(&one_over), at(T0)).rejected,
        Some(Rejection::Expired { .. })
    ));
    // Refreshed a second ago, but created past the absolute lifetime.
    let mut refreshed = Envelope::at(T0 - 1);
    refreshed.created_at = T0 - 101;
    let refreshed = signed(&refreshed, br#"{"user":"alice","cart":[]}"#);
    assert!(matches!(
        config.load(&cookie(&refreshed), at(T0)).rejected,
        Some(Rejection::Expired { .. })
    ));
}

#[test]
fn signed_but_hostile_payloads_are_payload_rejections() {
    let roomy = builder::<App>().max_cookie_bytes(1 << 20).build().unwrap();
    let deep = format!(
        "{{\"cart\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("not JSON", b"\xff\xfe not json".to_vec(), "expected value"),
        // serde reads a sequence into a struct by position: the first item is not a string.
        (
            "JSON array",
            b"[1,2,3]".to_vec(),
            "invalid type: integer `1`",
        ),
        (
            "wrong field type",
            br#"{"user":42,"cart":[]}"#.to_vec(),
            "invalid type: integer",
        ),
        // The typed struct stops at the second `[`, long before any depth matters.
        (
            "nested 100000 deep",
            deep.into_bytes(),
            "invalid type: sequence, expected u32",
        ),
        (
            "duplicate keys",
            br#"{"user":"a","user":"b","cart":[]}"#.to_vec(),
            "duplicate field `user`",
        ),
        (
            "huge integer",
            br#"{"cart":[99999999999999999999999]}"#.to_vec(),
            "invalid",
        ),
        (
            "huge float",
            br#"{"cart":[1e400]}"#.to_vec(),
            "number out of range",
        ),
        (
            "trailing data",
            br#"{"cart":[]} {}"#.to_vec(),
            "trailing characters",
        ),
    ];
    for (name, payload, reason) in cases {
        let loaded = roomy.load(&cookie(&signed(&Envelope::at(T0), &payload)), at(T0));
        match &loaded.rejected {
            Some(Rejection::Payload(why)) if why.contains(reason) => {}
            other => panic!("case {name}: {other:?}"),
        }
        assert!(loaded.session.is_new(), "case {name}");
    }
}

#[test]
fn oversized_values_are_refused_before_decoding() {
    let config = config();
    let just_over = "A".repeat(4097);
    check(
        &config,
        "4 KiB + 1",
        &cookie(&just_over),
        Some(&Rejection::TooLarge {
            bytes: 4097,
            limit: 4096,
        }),
    );
    let huge = "A".repeat(1 << 20);
    check(
        &config,
        "1 MiB",
        &cookie(&huge),
        Some(&Rejection::TooLarge {
            bytes: 1 << 20,
            limit: 4096,
        }),
    );
}

#[test]
fn the_session_is_found_behind_ten_thousand_other_cookies() {
    let config = config();
    let mut header = String::new();
    for i in 0..10_000 {
        let _ = std::fmt::Write::write_fmt(&mut header, format_args!("c{i}=v{i}; "));
    }
    assert!(header.len() > 64 * 1024 / 2);
    header.push_str(&cookie(&valid()));
    let loaded = config.load(&header, at(T0));
    assert_eq!(loaded.rejected, None);
    assert_eq!(*loaded.session, alice());
}

#[test]
fn duplicate_session_cookies_use_the_first_that_verifies_among_four() {
    let config = config();
    let (good, bad) = (cookie(&valid()), cookie("forged"));
    let second = config.load(&format!("{bad}; {good}"), at(T0));
    assert_eq!(second.rejected, None);
    assert_eq!(*second.session, alice());
    let bob = value(&mint(
        &config,
        App {
            user: Some("bob".into()),
            cart: vec![],
        },
        T0,
    ));
    let both = config.load(&format!("{good}; session={bob}"), at(T0));
    assert_eq!(both.session.user.as_deref(), Some("alice"));
    let fifth = format!("{bad}; {bad}; {bad}; {bad}; {good}");
    check(
        &config,
        "valid fifth candidate",
        &fifth,
        Some(&Rejection::Malformed),
    );
}

#[derive(Debug, Default, serde::Serialize, serde::Deserialize)]
struct Loose {
    data: serde_json::Value,
}

impl sessionkit::SessionSchema for Loose {
    const FIELDS: &'static [&'static str] = &["data"];
}

#[test]
fn deep_nesting_stops_at_the_recursion_limit_even_into_untyped_values() {
    let config = builder::<Loose>()
        .max_cookie_bytes(1 << 20)
        .build()
        .unwrap();
    let deep = format!(
        "{{\"data\":{}{}}}",
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let loaded = config.load(&cookie(&signed(&Envelope::at(T0), deep.as_bytes())), at(T0));
    assert!(
        matches!(&loaded.rejected, Some(Rejection::Payload(why)) if why.contains("recursion limit exceeded")),
        "{:?}",
        loaded.rejected
    );
    assert!(loaded.session.is_new());
}
