//! Generated accessors driven through the core's `TrackedSession<T>`: what marks a session modified and
//! what sends a cookie.

mod common;

use common::{at, builder, pair, set_header, T0};
use serde::{Deserialize, Serialize};
use sessionkit::{CookieCommand, Session, SessionConfig, TrackedSession};

#[derive(Session, Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
#[session(cookie = "session", lifetime = "31d")]
struct AppSession {
    user: Option<String>,
    item: Option<Item>,
    cart: Vec<u32>,
    #[session(flash)]
    flashes: Vec<String>,
}

#[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
struct Item {
    name: Option<String>,
    email: String,
    address: String,
}

fn config() -> SessionConfig<AppSession> {
    builder::<AppSession>().build().unwrap()
}

/// Runs one request: load from `cookie`, apply `handler`, store; returns the command.
fn request(
    config: &SessionConfig<AppSession>,
    cookie: &str,
    handler: impl FnOnce(&mut TrackedSession<AppSession>),
) -> CookieCommand {
    let mut loaded = config.load(cookie, at(T0 + 1));
    assert_eq!(loaded.rejected, None);
    handler(&mut loaded.session);
    config.save(&loaded.session, at(T0 + 1)).unwrap()
}

fn logged_in(config: &SessionConfig<AppSession>) -> String {
    let mut session = TrackedSession::<AppSession>::default();
    session.set_user("alice");
    session.set_item(Item {
        name: Some("Alice".into()),
        email: "alice@example.com".into(),
        address: "1 Main St".into(),
    });
    pair(&set_header(config.save(&session, at(T0)).unwrap()))
}

#[test]
fn setting_marks_modified_and_reading_does_not() {
    let mut session = TrackedSession::<AppSession>::default();
    assert_eq!(session.user(), None);
    assert!(!session.has_user());
    assert!(!session.is_modified());
    session.set_user("alice");
    assert!(session.is_modified());
}

#[test]
fn a_set_value_is_sent_and_read_back() {
    let config = config();
    let cookie = logged_in(&config);
    let loaded = config.load(&cookie, at(T0 + 1));
    assert_eq!(loaded.session.user(), Some("alice"));
}

#[test]
fn reading_sends_no_cookie() {
    let config = config();
    let cookie = logged_in(&config);
    let command = request(&config, &cookie, |s| {
        assert!(s.has_user());
        assert_eq!(s.cart(), &Vec::<u32>::new());
    });
    assert_eq!(command, CookieCommand::Unchanged);
}

#[test]
fn popping_an_absent_key_sends_no_cookie() {
    let config = config();
    let cookie = logged_in(&config);
    let command = request(&config, &cookie, |s| {
        assert_eq!(s.pop_cart(), Vec::<u32>::new());
    });
    assert_eq!(command, CookieCommand::Unchanged);
}

#[test]
fn popping_a_present_key_sends_the_change() {
    let config = config();
    let cookie = logged_in(&config);
    let command = request(&config, &cookie, |s| {
        assert_eq!(s.pop_user().as_deref(), Some("alice"));
    });
    let loaded = config.load(&pair(&set_header(command)), at(T0 + 2));
    assert_eq!(loaded.session.user(), None);
    assert!(loaded.session.has_item());
}

#[test]
fn a_nested_change_through_mut_is_persisted_without_modified_true() {
    // Flask's pitfall: `session['item'].pop('name')` is lost unless `session.modified = True`.
    let config = config();
    let cookie = logged_in(&config);
    let command = request(&config, &cookie, |s| {
        if let Some(item) = s.item_mut() {
            item.name = None;
        }
    });
    let loaded = config.load(&pair(&set_header(command)), at(T0 + 2));
    let item = loaded.session.item().unwrap();
    assert_eq!(item.name, None);
    assert_eq!(item.email, "alice@example.com");
}

#[test]
fn a_flash_survives_exactly_one_read() {
    let config = config();
    let first = request(&config, "", |s| s.flash("Registered"));
    let cookie = pair(&set_header(first));
    let mut shown = Vec::new();
    let second = request(&config, &cookie, |s| shown = s.take_flashes());
    assert_eq!(shown, ["Registered"]);
    // The flash was the only content, so taking it empties the session: the cookie goes.
    assert!(matches!(second, CookieCommand::Remove(_)));
    let third = request(&config, "", |s| assert!(s.take_flashes().is_empty()));
    assert_eq!(third, CookieCommand::Unchanged);
}

#[test]
fn clear_empties_every_field_and_removes_the_cookie() {
    let config = config();
    let cookie = logged_in(&config);
    let command = request(&config, &cookie, TrackedSession::clear);
    assert_eq!(
        command,
        CookieCommand::Remove("session=; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=0".into())
    );
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, Default)]
struct UserId(u64);

#[derive(Session, Serialize, Deserialize, Default)]
struct Ergonomic {
    name: String,
    nick: Option<String>,
    visits: u32,
    last_seen: Option<u64>,
    #[session(copy)]
    user_id: Option<UserId>,
    tags: Vec<String>,
    #[session(csrf)]
    csrf: sessionkit::CsrfToken,
}

#[test]
fn getters_give_str_for_strings_and_values_for_copy_types() {
    let mut s = Ergonomic::default();
    s.set_name("alice");
    s.set_nick("al");
    s.set_visits(3); // an integer literal: the setter takes `u32` itself
    s.set_last_seen(1_700_000_000);
    s.set_user_id(UserId(7));
    let name: &str = s.name();
    let nick: Option<&str> = s.nick();
    let visits: u32 = s.visits();
    let last_seen: Option<u64> = s.last_seen();
    let user_id: Option<UserId> = s.user_id();
    let tags: &Vec<String> = s.tags();
    assert_eq!(
        (name, nick, visits, last_seen, user_id, tags.len()),
        (
            "alice",
            Some("al"),
            3,
            Some(1_700_000_000),
            Some(UserId(7)),
            0
        )
    );
    // The borrow-based access stays.
    s.name_mut().push('!');
    *s.visits_mut() += 1;
    assert_eq!((s.name(), s.visits()), ("alice!", 4));
}

#[test]
fn the_csrf_field_makes_one_token_per_session_and_checks_it() {
    let config: SessionConfig<Ergonomic> = builder().build().unwrap();
    let mut first = config.load("", at(T0));
    let token = first.session.csrf_token();
    assert_eq!(token.len(), 43);
    // Generating the token is a change: the cookie carries it to the next request.
    let cookie = pair(&set_header(config.save(&first.session, at(T0)).unwrap()));
    let mut next = config.load(&cookie, at(T0 + 1));
    assert!(next.session.verify_csrf(&token));
    assert!(!next.session.verify_csrf(&token[1..]));
    assert!(!next.session.verify_csrf(""));
    // Reading the token again changes nothing, so nothing is sent.
    assert_eq!(next.session.csrf_token(), token);
    assert_eq!(
        config.save(&next.session, at(T0 + 1)).unwrap(),
        CookieCommand::Unchanged
    );
    // Another session has another token, and a session with none verifies nothing.
    let mut other = Ergonomic::default();
    assert!(!other.verify_csrf(&token));
    assert_ne!(other.csrf_token(), token);
}
