//! The engine's decisions checked with no store and no I/O: what `open`, `resume`, `plan` and
//! `finish` answer, in cookie mode and with a store.

use super::{Done, Opening, StoreOp, Work};
use crate::config::SessionConfig;
use crate::engine::outcome::CookieCommand;
use crate::id::SessionId;
use crate::key::Key;
use crate::schema::SessionSchema;
use crate::session::TrackedSession;
use crate::store::MemoryStore;

#[derive(Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
struct App {
    user: Option<String>,
}

impl SessionSchema for App {
    const FIELDS: &'static [&'static str] = &["user"];
}

const NOW: u64 = 1_700_000_000;

fn key() -> Key {
    Key::from_hex("5f2b8c1e9a7d4036b1e8c3f2a9d07e64c8b1a3f5e2d9076c4b8a1e3f5d2c9b07").unwrap()
}

fn alice() -> App {
    App {
        user: Some("alice".into()),
    }
}

fn with_store() -> SessionConfig<App> {
    SessionConfig::builder()
        .key(key())
        .store(MemoryStore::new())
        .build()
        .unwrap()
}

/// The `name=value` of a `Set-Cookie`.
fn pair(command: &CookieCommand) -> String {
    let CookieCommand::Set(header) = command else {
        panic!("a cookie to set, not {command:?}");
    };
    header.split(';').next().unwrap().to_owned()
}

#[test]
fn cookie_mode_sends_nothing_for_an_untouched_session_and_a_removal_for_a_cleared_one() {
    let config = SessionConfig::<App>::builder().key(key()).build().unwrap();
    let engine = &config.inner.engine;
    let Work::Send(written) = engine.plan(&TrackedSession::new(alice()), NOW).unwrap() else {
        panic!("cookie mode plans no store operation");
    };
    let cookie = pair(&written);
    let Opening::Ready(loaded) = engine.open([cookie.as_bytes()], NOW + 1, false) else {
        panic!("cookie mode fetches nothing");
    };
    assert_eq!((&*loaded.session, loaded.rejected), (&alice(), None));
    let mut session = loaded.session;
    assert!(matches!(
        engine.plan(&session, NOW + 1).unwrap(),
        Work::Send(CookieCommand::Unchanged)
    ));
    session.clear();
    assert!(matches!(
        engine.plan(&session, NOW + 1).unwrap(),
        Work::Send(CookieCommand::Remove(_))
    ));
}

#[test]
fn a_new_stored_session_is_a_create_and_its_cookie_opens_into_a_fetch_of_its_key() {
    let config = with_store();
    let engine = &config.inner.engine;
    let session = TrackedSession::new(alice());
    let Work::Store(op) = engine.plan(&session, NOW).unwrap() else {
        panic!("a store operation");
    };
    let StoreOp::Create {
        replaces,
        json,
        owner,
        stamp,
    } = *op
    else {
        panic!("a create, not {op:?}");
    };
    assert!(replaces.is_none() && owner.is_none());
    assert_eq!(json, br#"{"user":"alice"}"#);
    assert_eq!((stamp.issued_at, stamp.created_at), (NOW, NOW));

    let id = SessionId::generate().unwrap();
    let cookie = pair(&engine.finish(Done::Stored(id.clone(), stamp), NOW).unwrap());
    let Opening::Fetch(tries) = engine.open([cookie.as_bytes()], NOW + 1, true) else {
        panic!("an id to fetch");
    };
    let [Ok(pending)] = <[_; 1]>::try_from(tries).unwrap() else {
        panic!("one id that opens");
    };
    assert_eq!(pending.key, engine.key(&id).unwrap());
    assert!(pending.id == id);
}

#[test]
fn a_changed_stored_session_is_a_swap_of_the_version_read_and_a_renewal_moves_it() {
    let config = with_store();
    let engine = &config.inner.engine;
    let id = SessionId::generate().unwrap();
    let key = engine.key(&id).unwrap();
    let stamp = crate::lifetime::Lifetime::next_stamp(None, false, NOW);
    let record = engine
        .record(&key, 7, br#"{"user":"alice"}"#, None, stamp, NOW)
        .unwrap();
    let cookie = pair(&engine.finish(Done::Stored(id.clone(), stamp), NOW).unwrap());
    let Opening::Fetch(mut tries) = engine.open([cookie.as_bytes()], NOW + 1, true) else {
        panic!("an id to fetch");
    };
    let pending = tries.remove(0).unwrap();
    let mut session = engine.resume(pending, Ok(Some(record)), NOW + 1).unwrap();
    assert_eq!(*session, alice());

    session.user = Some("bob".into());
    let Work::Store(op) = engine.plan(&session, NOW + 10).unwrap() else {
        panic!("a store operation");
    };
    let StoreOp::Swap {
        stored,
        to,
        loaded,
        json,
        resend,
        ..
    } = *op
    else {
        panic!("a swap, not {op:?}");
    };
    assert_eq!((stored.version, stored.key), (7, key));
    assert!(to.is_none() && !resend, "same id, a browser-session cookie");
    assert_eq!(
        (loaded, json.as_slice()),
        (&br#"{"user":"alice"}"#[..], &br#"{"user":"bob"}"#[..])
    );

    session.renew();
    let Work::Store(op) = engine.plan(&session, NOW + 10).unwrap() else {
        panic!("a store operation");
    };
    let StoreOp::Swap {
        to: Some((new, new_key)),
        ..
    } = *op
    else {
        panic!("a rotation to a new id, not {op:?}");
    };
    assert!(
        new != id && new.tag() == id.tag(),
        "a new id in the same partition"
    );
    assert_eq!(new_key, engine.key(&new).unwrap());
}
