//! Flask's cookie format: every record of the public vectors, and typed decoding.

use sessionkit_testkit::flask_vectors as vectors;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sessionkit::flask::{Bytes, DateTime, FlaskCodec, FlaskError, Markup, Tuple, Uuid};
use sessionkit::Rejection;

const PUBLIC: &str = include_str!("data/flask/public.jsonl");

fn record(prefix: &str) -> Value {
    let line = PUBLIC
        .lines()
        .find(|l| l.contains(&format!("\"name\": \"{prefix}")))
        .unwrap();
    serde_json::from_str(line).unwrap()
}

#[test]
fn every_public_vector_passes() {
    let tally = vectors::run(PUBLIC);
    assert_eq!(tally.failures, Vec::<String>::new());
    assert_eq!(tally.total(), (48, 0));
    assert_eq!(
        tally.tiers,
        [("core".to_owned(), 47, 0), ("quirk".to_owned(), 1, 0)]
    );
}

fn decode_record<T: serde::de::DeserializeOwned>(prefix: &str) -> T {
    let r = record(prefix);
    let codec = FlaskCodec::new_weak_legacy("public-test-secret-key-1").unwrap();
    codec
        .decode_as(
            r["cookie"].as_str().unwrap(),
            r["now"].as_u64().unwrap(),
            r["max_age"].as_u64().unwrap(),
        )
        .unwrap()
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Flashes {
    #[serde(rename = "_flashes")]
    flashes: Vec<Tuple<(String, String)>>,
}

#[test]
fn flask_flash_messages_are_tuples_of_category_and_message() {
    let got: Flashes = decode_record("pub-013");
    assert_eq!(
        got.flashes,
        [
            Tuple(("message".to_owned(), "Profile saved.".to_owned())),
            Tuple(("error".to_owned(), "Password too short".to_owned()))
        ]
    );
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct Tagged {
    raw: Bytes,
    empty: Bytes,
}

#[test]
fn bytes_uuid_datetime_and_markup_map_to_wrapper_types() {
    #[derive(Deserialize)]
    struct Seen {
        last_seen: DateTime,
    }
    #[derive(Deserialize)]
    struct Request {
        req: Uuid,
    }
    #[derive(Deserialize)]
    struct Banner {
        banner: Markup,
    }

    let bytes: Tagged = decode_record("pub-009");
    assert_eq!(bytes.raw, Bytes(b"\x00\x01binary\xff".to_vec()));
    assert_eq!(bytes.empty, Bytes(Vec::new()));
    let seen: Seen = decode_record("pub-010");
    assert_eq!(seen.last_seen, DateTime(1_766_601_005));

    let request: Request = decode_record("pub-011");
    assert_eq!(
        request.req.to_string(),
        "12345678-1234-5678-1234-567812345678"
    );

    let banner: Banner = decode_record("pub-012");
    assert_eq!(banner.banner, Markup("<b>Welcome</b> &amp; enjoy".into()));
}

#[test]
fn a_typed_struct_round_trips_through_flask_tags() {
    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    struct All {
        point: Tuple<(i32, i32)>,
        token: Bytes,
        id: Uuid,
        at: DateTime,
        note: Markup,
    }
    let value = All {
        point: Tuple((3, 4)),
        token: Bytes(vec![0, 255]),
        id: Uuid::parse("{12345678-1234-5678-1234-567812345678}").unwrap(),
        at: DateTime(1_700_000_000),
        note: Markup("<i>hi</i>".into()),
    };
    let codec = FlaskCodec::new_weak_legacy("public-test-secret-key-1").unwrap();
    let cookie = codec.encode_value(&value, 1_700_000_000).unwrap();
    let back: All = codec.decode_as(&cookie, 1_700_000_000, 60).unwrap();
    assert_eq!(back, value);
}

#[test]
fn tagged_json_matches_flask_for_the_typed_struct() {
    let typed: Value =
        serde_json::json!({"when": {"$datetime": "2025-12-24T18:30:05Z"}, "k": {" t": 1}});
    let json = sessionkit::flask::tagged_json(typed.as_object().unwrap()).unwrap();
    assert_eq!(
        json,
        r#"{"k":{" di":{" t__":1}},"when":{" d":"Wed, 24 Dec 2025 18:30:05 GMT"}}"#
    );
}

#[test]
fn signed_garbage_is_an_error_the_app_sees_but_a_forgery_is_an_empty_session() {
    let bad_json = record("pub-047");
    let codec = FlaskCodec::new_weak_legacy("public-test-secret-key-1").unwrap();
    let (now, max_age) = (bad_json["now"].as_u64().unwrap(), 2_678_400);
    assert!(matches!(
        codec.decode(bad_json["cookie"].as_str().unwrap(), now, max_age),
        Err(FlaskError::BadPayload(_))
    ));
    // Signed with another app's key than the reader's `public-test-secret-key-2`.
    let forged = record("pub-031");
    assert_eq!(forged["secret_key"], "public-test-secret-key-2");
    let reader = FlaskCodec::new_weak_legacy("public-test-secret-key-2").unwrap();
    assert_eq!(
        reader.decode(forged["cookie"].as_str().unwrap(), now, max_age),
        Err(FlaskError::Invalid(Rejection::BadSignature))
    );
}

#[test]
fn a_zip_bomb_is_refused_without_inflating_it_all() {
    use base64::Engine as _;
    use std::io::Write as _;
    let json = format!("{{\"a\":\"{}\"}}", "x".repeat(2 << 20));
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(json.as_bytes()).unwrap();
    let payload = format!(
        ".{}",
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(z.finish().unwrap())
    );
    // Sign it properly, so only the size cap stands in the way.
    let codec = FlaskCodec::new_weak_legacy("public-test-secret-key-1").unwrap();
    let honest = codec
        .encode(serde_json::json!({"a": "b"}).as_object().unwrap(), 100)
        .unwrap();
    let mut parts = honest.splitn(2, '.');
    let _ = parts.next();
    let signed = resign(&format!(
        "{payload}.{}",
        parts.next().unwrap().rsplit_once('.').unwrap().0
    ));
    let result = codec.decode(&signed, 100, 60);
    assert!(
        matches!(&result, Err(FlaskError::BadPayload(why)) if why.contains("inflates past")),
        "{result:?}"
    );
}

/// Signs `value` as Flask does with `public-test-secret-key-1`.
fn resign(value: &str) -> String {
    use base64::Engine as _;
    use hmac::Mac as _;
    type HmacSha1 = hmac::Hmac<sha1::Sha1>;
    let mut derive = HmacSha1::new_from_slice(b"public-test-secret-key-1").unwrap();
    derive.update(b"cookie-session");
    let mut mac = HmacSha1::new_from_slice(&derive.finalize().into_bytes()).unwrap();
    mac.update(value.as_bytes());
    let sig = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{value}.{sig}")
}

#[test]
fn weak_flask_keys_are_refused_unless_the_legacy_opt_in_says_so() {
    for weak in [
        "secret key",
        "short",
        "public-test-secret-key-1",
        "w98fw9ef8hwe98fhwef",
        "supersecretkey123",
    ] {
        assert!(FlaskCodec::new(weak).is_err(), "{weak}");
        let legacy = FlaskCodec::new_weak_legacy(weak).unwrap();
        assert!(legacy.uses_weak_legacy_secret(), "{weak}");
    }
    assert!(FlaskCodec::new("").is_err());
    assert!(FlaskCodec::new_weak_legacy("").is_err());
    let strong = FlaskCodec::new("7c1e9a44d0b35f86e2a1c9d7").unwrap();
    assert!(!strong.uses_weak_legacy_secret());
    assert!(strong
        .with_weak_legacy_fallback("secret key")
        .unwrap()
        .uses_weak_legacy_secret());
}
