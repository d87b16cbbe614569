//! `.encrypted()`: the cookie and the store records hide the session, and every change to
//! them, every move to another cookie, schema, time or store key, is refused with its reason.

mod common;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use common::*;
use sessionkit::{
    ConfigError, CookieCommand, FileStore, Rejection, SessionConfig, SessionSchema,
    ENCRYPTED_FORMAT_VERSION, FORMAT_VERSION,
};

fn encrypted() -> SessionConfig<App> {
    builder::<App>().encrypted().build().unwrap()
}

fn decode(pair: &str) -> Vec<u8> {
    URL_SAFE_NO_PAD
        .decode(pair.split_once('=').unwrap().1)
        .unwrap()
}

fn encode(name: &str, raw: &[u8]) -> String {
    format!("{name}={}", URL_SAFE_NO_PAD.encode(raw))
}

/// Loads `cookie` and checks it is refused with `expected`, leaving a fresh session.
fn refused(config: &SessionConfig<App>, cookie: &str, expected: &Rejection, case: &str) {
    let loaded = config.load(cookie, at(T0));
    assert_eq!(loaded.rejected.as_ref(), Some(expected), "{case}");
    assert!(loaded.session.is_new(), "{case}");
    assert_eq!(*loaded.session, App::default(), "{case}");
}

#[test]
fn the_cookie_hides_the_session_and_reads_back() {
    let config = encrypted();
    let cookie = mint(&config, alice(), T0);
    let raw = decode(&cookie);
    assert_eq!(raw[0], ENCRYPTED_FORMAT_VERSION);
    let text = String::from_utf8_lossy(&raw);
    for secret in ["alice", "user", "cart"] {
        assert!(!text.contains(secret), "{secret} shows in {text:?}");
    }
    // Header 28, nonce 12, the JSON, tag 16.
    let json = serde_json::to_vec(&alice()).unwrap();
    assert_eq!(raw.len(), 28 + 12 + json.len() + 16);
    let loaded = config.load(&cookie, at(T0));
    assert_eq!((loaded.rejected, &*loaded.session), (None, &alice()));
    // Two cookies of one session never share a nonce or a ciphertext.
    assert_ne!(mint(&config, alice(), T0), cookie);
}

#[test]
fn every_bit_flip_is_refused_with_its_reason() {
    let config = encrypted();
    let raw = decode(&mint(&config, alice(), T0));
    for byte in 0..raw.len() {
        for bit in 0..8 {
            let mut flipped = raw.clone();
            flipped[byte] ^= 1 << bit;
            let expected = match byte {
                0 => Rejection::UnsupportedVersion(raw[0] ^ (1 << bit)),
                2..6 => Rejection::UnknownKey,
                6..8 => Rejection::WrongCookieName,
                _ => Rejection::BadSignature,
            };
            let case = format!("byte {byte} bit {bit}");
            refused(&config, &encode("session", &flipped), &expected, &case);
        }
    }
    // Cut short or lengthened.
    for len in [1, 27, 28 + 12 + 15] {
        refused(
            &config,
            &encode("session", &raw[..len]),
            &Rejection::Malformed,
            "short",
        );
    }
    let mut longer = raw.clone();
    longer.push(0);
    refused(
        &config,
        &encode("session", &longer),
        &Rejection::BadSignature,
        "longer",
    );
}

#[test]
fn swapped_nonces_and_spliced_parts_do_not_open() {
    let config = encrypted();
    let a = decode(&mint(&config, alice(), T0));
    let bob = App {
        user: Some("bob".into()),
        cart: vec![9, 9, 9],
    };
    let b = decode(&mint(&config, bob, T0));
    let nonce = 28..40;
    let mut swapped = b.clone();
    swapped[nonce.clone()].copy_from_slice(&a[nonce.clone()]);
    refused(
        &config,
        &encode("session", &swapped),
        &Rejection::BadSignature,
        "nonce",
    );
    // A's ciphertext and tag under B's header and nonce.
    let mut spliced = b[..40].to_vec();
    spliced.extend_from_slice(&a[40..]);
    refused(
        &config,
        &encode("session", &spliced),
        &Rejection::BadSignature,
        "splice",
    );
    // A's tag on B.
    let mut tagged = b.clone();
    let tag = b.len() - 16..b.len();
    tagged[tag.clone()].copy_from_slice(&a[a.len() - 16..]);
    refused(
        &config,
        &encode("session", &tagged),
        &Rejection::BadSignature,
        "tag",
    );
}

#[test]
fn a_ciphertext_moved_to_another_name_schema_or_time_does_not_open() {
    let config = encrypted();
    let raw = decode(&mint(&config, alice(), T0));
    // Another cookie name on the same key, as sent.
    let other = builder::<App>()
        .cookie_name("other")
        .encrypted()
        .build()
        .unwrap();
    refused(
        &other,
        &encode("other", &raw),
        &Rejection::WrongCookieName,
        "name",
    );
    // The same, with the name tag rewritten to match: the associated data still differs.
    let mut renamed = raw.clone();
    renamed[6..8].copy_from_slice(&decode(&mint(&other, alice(), T0))[6..8]);
    refused(
        &other,
        &encode("other", &renamed),
        &Rejection::BadSignature,
        "name tag",
    );
    // Another schema version, written in the header: refused before the version is believed.
    let mut schema = raw.clone();
    schema[8..12].copy_from_slice(&7u32.to_be_bytes());
    refused(
        &config,
        &encode("session", &schema),
        &Rejection::BadSignature,
        "schema",
    );
    // Times moved back to make an expired cookie young, or permanence set.
    for (field, case) in [(12..20, "issued-at"), (20..28, "created-at")] {
        let mut moved = raw.clone();
        moved[field.clone()].copy_from_slice(&(T0 + 60).to_be_bytes());
        refused(
            &config,
            &encode("session", &moved),
            &Rejection::BadSignature,
            case,
        );
    }
    let mut permanent = raw.clone();
    permanent[1] |= 1;
    refused(
        &config,
        &encode("session", &permanent),
        &Rejection::BadSignature,
        "flags",
    );
}

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct Versioned {
    user: Option<String>,
}

impl SessionSchema for Versioned {
    const FIELDS: &'static [&'static str] = &["user"];
    const VERSION: u32 = 2;
}

#[test]
fn a_cookie_of_another_schema_is_refused_as_such() {
    let config = encrypted();
    let cookie = mint(&config, alice(), T0);
    let v2 = builder::<Versioned>().encrypted().build().unwrap();
    let loaded = v2.load(&cookie, at(T0));
    assert_eq!(
        loaded.rejected,
        Some(Rejection::SchemaMismatch {
            found: 0,
            expected: 2
        })
    );
}

#[test]
fn keys_rotate_as_for_signing() {
    let old = encrypted();
    let cookie = mint(&old, alice(), T0);
    let rotated = SessionConfig::<App>::builder()
        .key(key(KEY_B))
        .fallback_key(key(KEY_A))
        .encrypted()
        .build()
        .unwrap();
    let loaded = rotated.load(&cookie, at(T0));
    assert_eq!(
        (loaded.rejected.as_ref(), &*loaded.session),
        (None, &alice())
    );
    // Opened by the fallback: sealed again with the current key on this response.
    let resent = pair(&set_header(rotated.save(&loaded.session, at(T0)).unwrap()));
    assert_ne!(decode(&resent)[2..6], decode(&cookie)[2..6]);
    let fresh = SessionConfig::<App>::builder()
        .key(key(KEY_B))
        .encrypted()
        .build()
        .unwrap();
    assert_eq!(fresh.load(&resent, at(T0)).rejected, None);
    refused(&fresh, &cookie, &Rejection::UnknownKey, "old key dropped");
}

#[test]
fn turning_encryption_on_or_off_logs_nobody_out() {
    let (signed, encrypted) = (config(), encrypted());
    let before = mint(&signed, alice(), T0);
    assert_eq!(decode(&before)[0], FORMAT_VERSION);
    let loaded = encrypted.load(&before, at(T0));
    assert_eq!(
        (loaded.rejected.as_ref(), &*loaded.session),
        (None, &alice())
    );
    let after = pair(&set_header(
        encrypted.save(&loaded.session, at(T0)).unwrap(),
    ));
    assert_eq!(decode(&after)[0], ENCRYPTED_FORMAT_VERSION);
    let back = signed.load(&after, at(T0));
    assert_eq!((back.rejected.as_ref(), &*back.session), (None, &alice()));
    let again = pair(&set_header(signed.save(&back.session, at(T0)).unwrap()));
    assert_eq!(decode(&again)[0], FORMAT_VERSION);
}

#[cfg(feature = "flask")]
#[test]
fn flask_mode_refuses_encryption_with_the_reason() {
    let codec = sessionkit::flask::FlaskCodec::new("a-strong-flask-secret-9c1e5a7d3b").unwrap();
    let error = SessionConfig::<App>::builder()
        .flask(codec)
        .encrypted()
        .build()
        .unwrap_err();
    assert!(
        matches!(error, ConfigError::UnsupportedInFlaskMode(why) if why.starts_with("encryption")),
    );
}

/// The files of a file store, by name.
fn record_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut files = Vec::new();
    for shard in std::fs::read_dir(dir).unwrap() {
        let shard = shard.unwrap().path();
        if shard.is_dir() {
            for file in std::fs::read_dir(&shard).unwrap() {
                let file = file.unwrap().path();
                if !file.file_name().unwrap().to_string_lossy().starts_with('.') {
                    files.push(file);
                }
            }
        }
    }
    files.sort();
    files
}

async fn login(config: &SessionConfig<App>, data: App) -> String {
    let mut loaded = config.load_async([], at(T0)).await.unwrap();
    *loaded.session = data;
    let command = config.save_async(&loaded.session, at(T0)).await.unwrap();
    pair(command.header().unwrap())
}

async fn load(config: &SessionConfig<App>, cookie: &str) -> sessionkit::Loaded<App> {
    config
        .load_async([cookie.as_bytes()], at(T0 + 1))
        .await
        .unwrap()
}

#[tokio::test]
async fn store_records_are_encrypted_at_rest_and_bound_to_their_key() {
    let dir = common::temp::TempDir::new("encrypted-records");
    let config = builder::<App>()
        .store(FileStore::new(dir.path()).unwrap())
        .encrypted()
        .build()
        .unwrap();
    let a = login(&config, alice()).await;
    let b = login(
        &config,
        App {
            user: Some("bob".into()),
            cart: vec![],
        },
    )
    .await;
    // The cookie carries the id, encrypted too.
    assert_eq!(decode(&a)[0], ENCRYPTED_FORMAT_VERSION);
    let files = record_files(dir.path());
    assert_eq!(files.len(), 2);
    for file in &files {
        let bytes = std::fs::read(file).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(!text.contains("alice") && !text.contains("bob") && !text.contains("cart"));
    }
    let loaded = load(&config, &a).await;
    assert_eq!(
        (loaded.rejected.as_ref(), &*loaded.session),
        (None, &alice())
    );

    // A's record copied over B's: B's cookie finds a record that does not open.
    let (a_bytes, b_bytes) = (
        std::fs::read(&files[0]).unwrap(),
        std::fs::read(&files[1]).unwrap(),
    );
    let does_not_open = "the encrypted record does not open: tampered, moved from another \
                         session, or sealed with a key that is not configured";
    for (target, source) in [(&files[1], &a_bytes), (&files[0], &b_bytes)] {
        let original = std::fs::read(target).unwrap();
        std::fs::write(target, source).unwrap();
        // Exactly the session whose record was overwritten is refused; the other reads on.
        let mut refusals = Vec::new();
        for cookie in [&a, &b] {
            let loaded = load(&config, cookie).await;
            if let Some(Rejection::CorruptRecord { reason, .. }) = loaded.rejected {
                assert_eq!(*loaded.session, App::default());
                refusals.push(reason);
            }
        }
        assert_eq!(refusals, [does_not_open]);
        std::fs::write(target, original).unwrap();
    }

    // Every bit of A's payload, and the created-at the payload is bound to, flipped. A record
    // file is `SKR1`, three times, the owner length (none), the payload length, the payload:
    // format, schema version, key id, nonce, sealed JSON, tag.
    let payload_at = 4 + 3 * 8 + 4 + 4;
    let a_len = payload_at + 9 + 12 + serde_json::to_vec(&alice()).unwrap().len() + 16;
    let (file, a_bytes) = files
        .iter()
        .map(|f| (f, std::fs::read(f).unwrap()))
        .find(|(_, bytes)| bytes.len() == a_len)
        .unwrap();
    let mut positions: Vec<usize> = (payload_at..a_bytes.len()).collect();
    positions.extend(12..20);
    for at_byte in positions {
        for bit in [0, 3, 7] {
            let mut flipped = a_bytes.clone();
            flipped[at_byte] ^= 1 << bit;
            std::fs::write(file, &flipped).unwrap();
            let loaded = load(&config, &a).await;
            let expected = if at_byte == payload_at && bit == 0 {
                // Format 2 (sealed) becomes 3 (bound), whose key id is not a binding key's.
                "the record is bound with a key that is not configured"
            } else if at_byte == payload_at {
                "the record was not written by sessionkit"
            } else {
                does_not_open
            };
            let reason = match &loaded.rejected {
                Some(Rejection::CorruptRecord { reason, .. }) => reason.as_str(),
                other => panic!("byte {at_byte} bit {bit}: {other:?}"),
            };
            assert_eq!(reason, expected, "byte {at_byte} bit {bit}");
            assert_eq!(*loaded.session, App::default());
        }
    }
    std::fs::write(file, &a_bytes).unwrap();
    assert_eq!(load(&config, &a).await.rejected, None);
}

#[tokio::test]
async fn signed_records_are_read_once_encryption_is_on_and_sealed_at_their_next_change() {
    let dir = common::temp::TempDir::new("encrypted-upgrade");
    let store = || FileStore::new(dir.path()).unwrap();
    let plain = builder::<App>().store(store()).build().unwrap();
    let cookie = login(&plain, alice()).await;
    let file = record_files(dir.path()).remove(0);
    assert!(String::from_utf8_lossy(&std::fs::read(&file).unwrap()).contains("alice"));
    // A signed record is bound to its key with the secret, so it cannot have been planted:
    // the encrypted configuration reads it as it is (no migration window needed), and seals
    // it at its next change. A record bound to nothing is refused (`file_hostile.rs`).
    let sealed = builder::<App>().store(store()).encrypted().build().unwrap();
    let mut loaded = load(&sealed, &cookie).await;
    assert_eq!(
        (loaded.rejected.as_ref(), &*loaded.session),
        (None, &alice())
    );
    loaded.session.cart.push(4);
    let command = sealed
        .save_async(&loaded.session, at(T0 + 1))
        .await
        .unwrap();
    let cookie = match command {
        CookieCommand::Set(header) => pair(&header),
        // The id did not change; the signed cookie is still read.
        CookieCommand::Unchanged => cookie,
        CookieCommand::Remove(h) => panic!("{h}"),
    };
    assert!(!String::from_utf8_lossy(&std::fs::read(&file).unwrap()).contains("alice"));
    let again = load(&sealed, &cookie).await;
    assert_eq!(again.session.cart, [1, 2, 3, 4]);
}
