//! Login, logout, remember-me and deploys, as Flask users expect them.

mod common;

use std::time::Duration;

use common::*;
use serde::{Deserialize, Serialize};
use sessionkit::{CookieCommand, Rejection, SessionConfig, TrackedSession};

#[test]
fn clear_resets_permanent_as_flasks_does() {
    let config = config();
    let cookie = mint_permanent(&config, alice(), T0);
    let mut loaded = config.load(&cookie, at(T0 + 5));
    assert!(loaded.session.is_permanent());
    loaded.session.clear();
    assert!(!loaded.session.is_permanent());
    // Logged in again in the same request: a browser-session cookie, with no Max-Age.
    loaded.session.user = Some("bob".into());
    let header = set_header(config.save(&loaded.session, at(T0 + 5)).unwrap());
    assert!(!header.contains("Max-Age"), "{header}");
}

#[test]
fn renew_restarts_the_absolute_lifetime_from_login() {
    let config = builder::<App>()
        .lifetime(Duration::from_secs(3_600))
        .build()
        .unwrap();
    // An anonymous visitor at T0 fills a cart; logs in at T0 + 3000.
    let anonymous = mint(
        &config,
        App {
            user: None,
            cart: vec![1],
        },
        T0,
    );
    let mut login = config.load(&anonymous, at(T0 + 3_000));
    login.session.user = Some("alice".into());
    login.session.renew();
    let cookie = pair(&set_header(
        config.save(&login.session, at(T0 + 3_000)).unwrap(),
    ));
    // Without renew() the session would expire at T0 + 3600; it lives an hour from login.
    let later = config.load(&cookie, at(T0 + 6_000));
    assert_eq!(later.rejected, None);
    assert_eq!(later.session.created_at(), Some(at(T0 + 3_000)));
    assert_eq!(later.session.user.as_deref(), Some("alice"));
    assert!(matches!(
        config.load(&cookie, at(T0 + 6_601)).rejected,
        Some(Rejection::Expired { .. })
    ));
}

#[test]
fn renew_alone_signs_the_cookie_again() {
    let config = config();
    let cookie = mint(&config, alice(), T0);
    let mut loaded = config.load(&cookie, at(T0 + 100));
    loaded.session.renew();
    let header = set_header(config.save(&loaded.session, at(T0 + 100)).unwrap());
    let again = config.load(&pair(&header), at(T0 + 100));
    assert_eq!(again.session.created_at(), Some(at(T0 + 100)));
    assert_eq!(*again.session, alice());
}

#[test]
fn renew_changes_the_cookie_even_for_the_same_data_in_the_same_second() {
    let config = config();
    let cookie = mint(&config, alice(), T0);
    let mut previous = cookie.clone();
    // Three renewals in the second the session was made: each credential is new.
    for _ in 0..3 {
        let mut loaded = config.load(&previous, at(T0));
        loaded.session.renew();
        let next = pair(&set_header(config.save(&loaded.session, at(T0)).unwrap()));
        assert_ne!(next, previous);
        let again = config.load(&next, at(T0));
        assert_eq!((again.rejected, &*again.session), (None, &alice()));
        previous = next;
    }
}

#[test]
fn a_remember_me_session_outlives_the_idle_timeout_of_browser_sessions() {
    let config = builder::<App>()
        .idle_timeout(Duration::from_secs(1_800))
        .persistent_lifetime(Duration::from_secs(30 * 86_400))
        .build()
        .unwrap();
    let remembered = set_header(config.save(&permanent(alice()), at(T0)).unwrap());
    assert!(remembered.ends_with("; Max-Age=2592000"), "{remembered}");
    let browser = set_header(config.save(&TrackedSession::new(alice()), at(T0)).unwrap());
    assert!(!browser.contains("Max-Age"), "{browser}");
    // Two days unused: the remembered session lives, the browser session does not.
    let two_days = at(T0 + 2 * 86_400);
    assert_eq!(config.load(&pair(&remembered), two_days).rejected, None);
    assert!(matches!(
        config.load(&pair(&browser), two_days).rejected,
        Some(Rejection::IdleTimeout { .. })
    ));
    assert!(matches!(
        config
            .load(&pair(&remembered), at(T0 + 31 * 86_400))
            .rejected,
        Some(Rejection::Expired { .. })
    ));
}

#[test]
fn a_remember_me_session_may_have_its_own_idle_timeout() {
    let config = builder::<App>()
        .idle_timeout(Duration::from_secs(1_800))
        .persistent_lifetime(Duration::from_secs(30 * 86_400))
        .persistent_idle_timeout(Duration::from_secs(7 * 86_400))
        .build()
        .unwrap();
    let header = set_header(config.save(&permanent(alice()), at(T0)).unwrap());
    assert!(header.ends_with("; Max-Age=604800"), "{header}");
    assert!(matches!(
        config.load(&pair(&header), at(T0 + 8 * 86_400)).rejected,
        Some(Rejection::IdleTimeout { .. })
    ));
}

fn permanent(data: App) -> TrackedSession<App> {
    let mut session = TrackedSession::new(data);
    session.set_permanent(true);
    session
}

#[test]
fn session_new_follows_the_configurations_permanence() {
    let persistent = builder::<App>().permanent(true).build().unwrap();
    let header = set_header(
        persistent
            .save(&TrackedSession::new(alice()), at(T0))
            .unwrap(),
    );
    assert!(header.contains("Max-Age="), "{header}");
    let browser = config();
    let header = set_header(browser.save(&TrackedSession::new(alice()), at(T0)).unwrap());
    assert!(!header.contains("Max-Age"), "{header}");
    // An explicit choice wins over the configuration.
    let mut chosen = TrackedSession::new(alice());
    chosen.set_permanent(false);
    let header = set_header(persistent.save(&chosen, at(T0)).unwrap());
    assert!(!header.contains("Max-Age"), "{header}");
}

#[test]
fn a_configuration_is_cheap_to_clone_and_clones_agree() {
    let config = config();
    let clone = config.clone();
    let cookie = mint(&config, alice(), T0);
    assert_eq!(*clone.load(&cookie, at(T0)).session, alice());
    assert_eq!(format!("{config:?}"), format!("{clone:?}"));
}

/// The README's struct, as deployed before.
#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug, PartialEq)]
#[session(cookie = "session", lifetime = "31d")]
struct AppSession {
    user: Option<String>,
    cart: Vec<u32>,
    #[session(flash)]
    flashes: Vec<String>,
}

/// The same struct in the next deploy: a new non-`Option` field, no `#[serde(default)]`.
#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug, PartialEq)]
#[session(cookie = "session", lifetime = "31d")]
struct AppSessionNext {
    user: Option<String>,
    cart: Vec<u32>,
    #[session(flash)]
    flashes: Vec<String>,
    theme: String,
    visits: u32,
}

#[test]
fn adding_a_field_to_the_readme_struct_keeps_everyone_logged_in() {
    let before: SessionConfig<AppSession> = builder().build().unwrap();
    let after: SessionConfig<AppSessionNext> = builder().build().unwrap();
    let old = AppSession {
        user: Some("alice".into()),
        cart: vec![7],
        flashes: vec!["Registered".into()],
    };
    let cookie = mint(&before, old, T0);
    let mut loaded = after.load(&cookie, at(T0 + 60));
    assert_eq!(loaded.rejected, None);
    assert_eq!(
        *loaded.session,
        AppSessionNext {
            user: Some("alice".into()),
            cart: vec![7],
            flashes: vec!["Registered".into()],
            theme: String::new(),
            visits: 0,
        }
    );
    // Untouched, nothing is sent; changed, the new field is written.
    assert_eq!(
        after.save(&loaded.session, at(T0 + 60)).unwrap(),
        CookieCommand::Unchanged
    );
    *loaded.session.visits_mut() += 1;
    let header = set_header(after.save(&loaded.session, at(T0 + 60)).unwrap());
    assert_eq!(after.load(&pair(&header), at(T0 + 61)).session.visits(), 1);
}

#[test]
fn a_field_whose_type_changed_is_still_a_rejection() {
    #[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug)]
    #[session(cookie = "session")]
    struct Changed {
        user: Option<String>,
        cart: String,
    }
    let before: SessionConfig<AppSession> = builder().build().unwrap();
    let after: SessionConfig<Changed> = builder().build().unwrap();
    let cookie = mint(
        &before,
        AppSession {
            cart: vec![1],
            ..AppSession::default()
        },
        T0,
    );
    assert!(matches!(
        after.load(&cookie, at(T0)).rejected,
        Some(Rejection::Payload(_))
    ));
}
