//! Generated code that fits the struct it accepts: generic fields, types without `Default`,
//! non-snake-case names, owner newtypes, floats JSON cannot carry.
#![deny(warnings)]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use sessionkit::{Key, OwnerId, SaveError, Session, SessionConfig, SessionSchema, TrackedSession};

#[derive(Session, Serialize, Deserialize, Debug)]
#[allow(non_snake_case)]
struct Timed<T> {
    value: T,
    since: SystemTime,
    legacyID: Option<u32>,
}

impl<T: Default> Default for Timed<T> {
    fn default() -> Self {
        Self {
            value: T::default(),
            since: UNIX_EPOCH,
            legacyID: None,
        }
    }
}

#[test]
fn a_generic_field_and_a_type_without_default_get_their_accessors() {
    let mut s = Timed::<String>::default();
    s.set_value("x");
    assert_eq!(s.pop_value(), "x");
    s.set_since(UNIX_EPOCH + Duration::from_secs(5));
    assert_eq!(*s.since(), UNIX_EPOCH + Duration::from_secs(5));
    s.set_legacyID(7_u32);
    assert_eq!(s.legacyID(), Some(7));
    // `pop_since` does not exist: `SystemTime` has no default to leave behind.
}

struct UserId(u64);

impl OwnerId for UserId {
    fn owner_id(&self) -> Option<String> {
        self.0.owner_id()
    }
}

impl Serialize for UserId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for UserId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        u64::deserialize(d).map(Self)
    }
}

#[derive(Session, Serialize, Deserialize, Default)]
struct Owned {
    #[session(owner)]
    user: Option<UserId>,
    score: f64,
    ratio: Option<f32>,
}

#[test]
fn owners_are_ids_and_newtypes_say_how() {
    let s = Owned {
        user: Some(UserId(42)),
        ..Owned::default()
    };
    assert_eq!(s.owner().as_deref(), Some("42"));
    assert_eq!(Owned::default().owner(), None);
}

#[test]
fn a_float_json_cannot_carry_is_refused_at_save_naming_the_field() {
    let config = SessionConfig::<Owned>::builder()
        .key(Key::generate().unwrap())
        .build()
        .unwrap();
    let now = SystemTime::now();
    for (score, ratio, field) in [
        (f64::NAN, None, "score"),
        (1.0, Some(f32::INFINITY), "ratio"),
    ] {
        let session = TrackedSession::new(Owned {
            user: None,
            score,
            ratio,
        });
        match config.save(&session, now) {
            Err(SaveError::NotFinite { field: f }) => assert_eq!(f, field),
            other => panic!("{other:?}"),
        }
    }
    let fine = TrackedSession::new(Owned {
        user: None,
        score: 0.5,
        ratio: Some(2.0),
    });
    assert!(config.save(&fine, now).is_ok());
}
