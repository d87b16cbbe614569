//! Expiry from the signed timestamps, tested at its exact boundaries with an injected clock.

mod common;

use std::time::Duration;

use common::*;
use sessionkit::{CookieCommand, Refresh, Rejection};

const DAY: u64 = 24 * 3600;

#[test]
fn absolute_lifetime_holds_at_its_boundary() {
    let config = builder::<App>()
        .lifetime(Duration::from_secs(60))
        .build()
        .unwrap();
    let cookie = mint(&config, alice(), T0);
    assert_eq!(rejected(&config.load(&cookie, at(T0 + 60))), None);
    assert_eq!(
        rejected(&config.load(&cookie, at(T0 + 61))),
        Some(Rejection::Expired {
            age: Duration::from_secs(61),
            limit: Duration::from_secs(60)
        })
    );
}

#[test]
fn the_default_lifetime_is_31_days() {
    let config = config();
    let cookie = mint(&config, alice(), T0);
    assert_eq!(rejected(&config.load(&cookie, at(T0 + 31 * DAY))), None);
    assert!(matches!(
        rejected(&config.load(&cookie, at(T0 + 31 * DAY + 1))),
        Some(Rejection::Expired { .. })
    ));
}

#[test]
fn idle_timeout_holds_at_its_boundary() {
    let config = builder::<App>()
        .idle_timeout(Duration::from_secs(600))
        .build()
        .unwrap();
    let cookie = mint(&config, alice(), T0);
    assert_eq!(rejected(&config.load(&cookie, at(T0 + 600))), None);
    assert_eq!(
        rejected(&config.load(&cookie, at(T0 + 601))),
        Some(Rejection::IdleTimeout {
            idle: Duration::from_secs(601),
            limit: Duration::from_secs(600)
        })
    );
}

#[test]
fn refresh_slides_the_idle_window_but_not_the_absolute_lifetime() {
    let config = builder::<App>()
        .lifetime(Duration::from_secs(1000))
        .idle_timeout(Duration::from_secs(400))
        .refresh(Refresh::AfterFraction(0.5))
        .build()
        .unwrap();
    let mut cookie = mint(&config, alice(), T0);
    // Visit every 300 s: each visit is past half the idle window, so each re-signs.
    for t in [300, 600, 900] {
        let loaded = config.load(&cookie, at(T0 + t));
        assert_eq!(loaded.rejected, None, "at {t}");
        cookie = pair(&set_header(
            config.save(&loaded.session, at(T0 + t)).unwrap(),
        ));
    }
    assert_eq!(rejected(&config.load(&cookie, at(T0 + 1000))), None);
    assert!(matches!(
        rejected(&config.load(&cookie, at(T0 + 1001))),
        Some(Rejection::Expired { .. })
    ));
}

#[test]
fn refresh_waits_for_its_fraction() {
    let config = builder::<App>()
        .idle_timeout(Duration::from_secs(400))
        .refresh(Refresh::AfterFraction(0.5))
        .build()
        .unwrap();
    let cookie = mint(&config, alice(), T0);
    let early = config.load(&cookie, at(T0 + 199));
    assert_eq!(
        config.save(&early.session, at(T0 + 199)).unwrap(),
        CookieCommand::Unchanged
    );
    let due = config.load(&cookie, at(T0 + 200));
    assert!(matches!(
        config.save(&due.session, at(T0 + 200)).unwrap(),
        CookieCommand::Set(_)
    ));
}

#[test]
fn every_request_refresh_re_signs_an_unchanged_session_but_never_refresh_does_not() {
    let every = builder::<App>()
        .refresh(Refresh::EveryRequest)
        .build()
        .unwrap();
    let never = builder::<App>().refresh(Refresh::Never).build().unwrap();
    let cookie = mint(&every, alice(), T0);
    let loaded = every.load(&cookie, at(T0 + 5));
    assert!(matches!(
        every.save(&loaded.session, at(T0 + 5)).unwrap(),
        CookieCommand::Set(_)
    ));
    let loaded = never.load(&cookie, at(T0 + 5));
    assert_eq!(
        never.save(&loaded.session, at(T0 + 5)).unwrap(),
        CookieCommand::Unchanged
    );
}

#[test]
fn max_age_never_exceeds_the_remaining_lifetime() {
    let config = builder::<App>()
        .lifetime(Duration::from_secs(1000))
        .refresh(Refresh::EveryRequest)
        .build()
        .unwrap();
    let cookie = mint_permanent(&config, alice(), T0);
    let loaded = config.load(&cookie, at(T0 + 750));
    let header = set_header(config.save(&loaded.session, at(T0 + 750)).unwrap());
    assert!(header.ends_with("; Max-Age=250"), "{header}");
    let idle = builder::<App>()
        .lifetime(Duration::from_secs(1000))
        .idle_timeout(Duration::from_secs(100))
        .build()
        .unwrap();
    let mut session = sessionkit::TrackedSession::new(alice());
    session.set_permanent(true);
    assert!(set_header(idle.save(&session, at(T0)).unwrap()).ends_with("; Max-Age=100"));
}

#[test]
fn a_cookie_from_the_future_is_refused_beyond_the_skew() {
    let config = config();
    let cookie = mint(&config, alice(), T0 + 60);
    assert_eq!(rejected(&config.load(&cookie, at(T0))), None);
    let cookie = mint(&config, alice(), T0 + 61);
    assert_eq!(
        rejected(&config.load(&cookie, at(T0))),
        Some(Rejection::IssuedInFuture {
            by: Duration::from_secs(61)
        })
    );
}

#[test]
fn a_browser_session_cookie_has_no_max_age_but_still_expires_on_the_server() {
    let config = builder::<App>()
        .lifetime(Duration::from_secs(60))
        .build()
        .unwrap();
    let mut session = sessionkit::TrackedSession::new(alice());
    session.set_permanent(false);
    let header = set_header(config.save(&session, at(T0)).unwrap());
    assert!(!header.contains("Max-Age"), "{header}");
    assert!(matches!(
        rejected(&config.load(&pair(&header), at(T0 + 61))),
        Some(Rejection::Expired { .. })
    ));
}
