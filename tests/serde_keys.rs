//! The derive computes session keys as serde does: `rename_all`, long and split `rename`,
//! `alias`, `skip`.

use serde::{Deserialize, Serialize};
use sessionkit::{Session, SessionSchema};

#[derive(Session, Serialize, Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
struct Camel {
    user_id: Option<String>,
    #[serde(rename(serialize = "cartItems", deserialize = "cart_items"))]
    cart: Vec<u32>,
    #[serde(rename(serialize = "Theme"))]
    #[serde(rename(deserialize = "THEME"), alias = "colour_scheme")]
    theme: String,
    #[serde(skip)]
    scratch: Vec<u8>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    note: Option<String>,
}

#[test]
fn fields_lists_every_key_serde_reads_or_writes() {
    assert_eq!(
        Camel::FIELDS,
        [
            "userId",
            "cartItems",
            "cart_items",
            "Theme",
            "THEME",
            "colour_scheme",
            "note"
        ]
    );
    let json = serde_json::to_value(Camel {
        user_id: Some("a".into()),
        ..Camel::default()
    })
    .unwrap();
    let written: Vec<&str> = json
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    // Every key serde writes is one the session owns.
    assert!(
        written.iter().all(|k| Camel::FIELDS.contains(k)),
        "{written:?}"
    );
}

#[test]
fn a_field_serde_skips_has_no_accessors_but_the_others_work() {
    let mut s = Camel::default();
    s.set_user_id("alice");
    s.set_theme("dark");
    assert_eq!(
        (s.user_id(), s.theme(), s.has_note()),
        (Some("alice"), "dark", false)
    );
    assert!(s.scratch.is_empty());
}

#[cfg(feature = "flask")]
#[test]
fn popping_a_renamed_key_in_flask_mode_removes_it_from_the_cookie() {
    use sessionkit::{CookieCommand, SessionConfig};
    let config = SessionConfig::<Camel>::builder()
        .flask(sessionkit::flask::FlaskCodec::new("a-strong-flask-secret-9c1e5a7d3b").unwrap())
        .build()
        .unwrap();
    let now = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    let mut first = config.load("", now);
    first.session.set_user_id("alice");
    let CookieCommand::Set(header) = config.save(&first.session, now).unwrap() else {
        panic!("a cookie to set")
    };
    let pair = header.split(';').next().unwrap().to_owned();
    let mut loaded = config.load(&pair, now);
    assert_eq!(loaded.session.pop_user_id().as_deref(), Some("alice"));
    // The user is logged out: `userId` is gone from the cookie Flask reads.
    let CookieCommand::Set(header) = config.save(&loaded.session, now).unwrap() else {
        panic!("the change is sent")
    };
    let pair = header.split(';').next().unwrap().to_owned();
    let again = config.load(&pair, now);
    assert_eq!((again.rejected, again.session.user_id()), (None, None));
}

#[derive(Serialize, Deserialize, Default, Debug)]
struct Prefs {
    theme: Option<String>,
    lang: Option<String>,
}

#[derive(Session, Serialize, Deserialize, Default, Debug)]
struct Flat {
    user: Option<String>,
    #[serde(flatten)]
    prefs: Prefs,
}

#[cfg(feature = "flask")]
#[test]
fn a_flattened_value_owns_its_keys_in_flask_mode() {
    use sessionkit::{CookieCommand, SessionConfig};
    let config = SessionConfig::<Flat>::builder()
        .flask(sessionkit::flask::FlaskCodec::new("a-strong-flask-secret-9c1e5a7d3b").unwrap())
        .build()
        .unwrap();
    let now = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    let mut first = config.load("", now);
    first.session.set_user("alice");
    first.session.prefs_mut().theme = Some("dark".into());
    let CookieCommand::Set(header) = config.save(&first.session, now).unwrap() else {
        panic!("a cookie to set")
    };
    let mut loaded = config.load(header.split(';').next().unwrap(), now);
    assert_eq!(loaded.session.prefs().theme.as_deref(), Some("dark"));
    loaded.session.prefs_mut().theme = None;
    let CookieCommand::Set(header) = config.save(&loaded.session, now).unwrap() else {
        panic!("the change is sent")
    };
    let again = config.load(header.split(';').next().unwrap(), now);
    assert_eq!(
        (again.session.user(), again.session.prefs().theme.as_deref()),
        (Some("alice"), None)
    );
}
