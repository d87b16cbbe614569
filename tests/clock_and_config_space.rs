//! Properties over clocks and configurations: no sequence of loads and saves at times within
//! the clock skew produces a cookie the same configuration refuses, and no configuration the
//! builder accepts makes `load` or `save` panic.

mod common;

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use common::*;
use proptest::prelude::*;
use sessionkit::{CookieCommand, Refresh, SessionConfig, TrackedSession};

/// One request: which server's clock (an offset from the base time, within the skew), and
/// what the handler does.
#[derive(Debug, Clone)]
struct Step {
    offset: u64,
    change: Option<u32>,
    renew: bool,
    permanent: Option<bool>,
}

fn arb_step(skew: u64) -> impl Strategy<Value = Step> {
    (
        0..=skew,
        proptest::option::of(any::<u32>()),
        any::<bool>(),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(offset, change, renew, permanent)| Step {
            offset,
            change,
            renew,
            permanent,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Servers whose clocks differ by up to the skew (or one stepped back by NTP) take turns:
    /// every cookie any of them writes is accepted by all of them.
    #[test]
    fn clock_skew_within_the_window_never_logs_anyone_out(
        skew in 1u64..600,
        idle in proptest::option::of(600u64..7_200),
        steps in proptest::collection::vec(arb_step(600), 1..24),
    ) {
        let mut builder = builder::<App>().clock_skew(Duration::from_secs(skew));
        if let Some(idle) = idle {
            builder = builder.idle_timeout(Duration::from_secs(idle));
        }
        let config = builder.build().unwrap();
        let mut cookie = mint(&config, alice(), T0 + skew);
        for step in steps {
            let now = T0 + step.offset % (skew + 1);
            let mut loaded = config.load(&cookie, at(now));
            prop_assert_eq!(loaded.rejected.clone(), None, "refused at {} (skew {})", now, skew);
            if let Some(item) = step.change {
                loaded.session.cart.push(item);
            }
            if step.renew {
                loaded.session.renew();
            }
            if let Some(permanent) = step.permanent {
                loaded.session.set_permanent(permanent);
            }
            if let CookieCommand::Set(header) = config.save(&loaded.session, at(now)).unwrap() {
                cookie = pair(&header);
            }
        }
    }
}

/// A configuration from anywhere in the space the builder offers, extremes included.
#[derive(Debug, Clone)]
struct Settings {
    lifetime: u64,
    idle: Option<u64>,
    persistent: Option<(u64, Option<u64>)>,
    refresh: Refresh,
    skew: u64,
    permanent: bool,
}

fn arb_seconds() -> impl Strategy<Value = u64> {
    prop_oneof![
        1u64..100_000,
        Just(u64::MAX),
        Just(u64::MAX / 2),
        any::<u64>().prop_map(|s| s.max(1))
    ]
}

fn arb_refresh() -> impl Strategy<Value = Refresh> {
    prop_oneof![
        Just(Refresh::Never),
        Just(Refresh::EveryRequest),
        Just(Refresh::AfterFraction(1.0)),
        Just(Refresh::AfterFraction(f64::MIN_POSITIVE)),
        (1u32..=1000).prop_map(|n| Refresh::AfterFraction(f64::from(n) / 1000.0)),
    ]
}

fn arb_settings() -> impl Strategy<Value = Settings> {
    (
        arb_seconds(),
        proptest::option::of(arb_seconds()),
        proptest::option::of((arb_seconds(), proptest::option::of(arb_seconds()))),
        arb_refresh(),
        prop_oneof![Just(0u64), 1u64..10_000, Just(u64::MAX)],
        any::<bool>(),
    )
        .prop_map(
            |(lifetime, idle, persistent, refresh, skew, permanent)| Settings {
                lifetime,
                idle,
                persistent,
                refresh,
                skew,
                permanent,
            },
        )
}

fn build(settings: &Settings) -> SessionConfig<App> {
    let mut builder = builder::<App>()
        .lifetime(Duration::from_secs(settings.lifetime))
        .refresh(settings.refresh)
        .clock_skew(Duration::from_secs(settings.skew))
        .permanent(settings.permanent);
    if let Some(idle) = settings.idle {
        builder = builder.idle_timeout(Duration::from_secs(idle));
    }
    if let Some((lifetime, idle)) = settings.persistent {
        builder = builder.persistent_lifetime(Duration::from_secs(lifetime));
        if let Some(idle) = idle {
            builder = builder.persistent_idle_timeout(Duration::from_secs(idle));
        }
    }
    builder.build().unwrap()
}

/// A time anywhere a `SystemTime` can be: before the epoch, now, far ahead.
fn arb_time() -> impl Strategy<Value = SystemTime> {
    prop_oneof![
        (0u64..4_000_000_000).prop_map(at),
        (0u64..1 << 40).prop_map(|s| UNIX_EPOCH - Duration::from_secs(s)),
        (0u64..1 << 62).prop_map(|s| UNIX_EPOCH + Duration::from_secs(s)),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn no_configuration_makes_load_or_save_panic(
        settings in arb_settings(),
        times in proptest::collection::vec(arb_time(), 1..6),
        change in any::<bool>(),
    ) {
        let config = build(&settings);
        let mut cookie = String::new();
        for now in times {
            let mut loaded = config.load(&cookie, now);
            if change {
                loaded.session.cart.push(1);
            }
            match config.save(&loaded.session, now) {
                Ok(CookieCommand::Set(header)) => {
                    // A cookie just written is accepted at the time it was written.
                    let again = config.load(&pair(&header), now);
                    prop_assert_eq!(again.rejected, None, "{}", header);
                    cookie = pair(&header);
                }
                Ok(_) => {}
                Err(e) => prop_assert!(false, "save failed: {}", e),
            }
        }
    }
}

#[test]
fn a_session_written_ahead_and_changed_behind_is_still_valid() {
    // Server A runs 50 s ahead of server B; the skew allows 60 s.
    let config = config();
    let cookie = mint(&config, alice(), T0 + 50);
    let mut on_b = config.load(&cookie, at(T0));
    assert_eq!(on_b.rejected, None);
    on_b.session.cart.push(9);
    let changed = pair(&set_header(config.save(&on_b.session, at(T0)).unwrap()));
    let next = config.load(&changed, at(T0 + 1));
    assert_eq!(next.rejected, None);
    assert_eq!(next.session.cart, [1, 2, 3, 9]);
}

#[test]
fn an_ntp_step_back_does_not_refuse_the_servers_own_cookies() {
    let config = config();
    let cookie = mint(&config, alice(), T0);
    // The clock steps back 30 s; the user adds to the cart twice.
    let mut loaded = config.load(&cookie, at(T0 - 30));
    loaded.session.cart.push(4);
    let first = pair(&set_header(
        config.save(&loaded.session, at(T0 - 30)).unwrap(),
    ));
    let mut loaded = config.load(&first, at(T0 - 29));
    assert_eq!(loaded.rejected, None);
    loaded.session.cart.push(5);
    let second = pair(&set_header(
        config.save(&loaded.session, at(T0 - 29)).unwrap(),
    ));
    assert_eq!(
        config.load(&second, at(T0 - 28)).session.cart,
        [1, 2, 3, 4, 5]
    );
}

#[test]
fn an_idle_timeout_near_duration_max_with_a_full_refresh_fraction_saves() {
    let config = builder::<App>()
        .idle_timeout(Duration::MAX)
        .lifetime(Duration::MAX)
        .refresh(Refresh::AfterFraction(1.0))
        .build()
        .unwrap();
    let cookie = mint(&config, alice(), T0);
    let loaded = config.load(&cookie, at(T0 + 10));
    assert_eq!(loaded.rejected, None);
    assert_eq!(
        config.save(&loaded.session, at(T0 + 10)).unwrap(),
        CookieCommand::Unchanged
    );
    let mut session = TrackedSession::new(alice());
    session.set_permanent(true);
    let header = set_header(config.save(&session, at(T0)).unwrap());
    // Browsers cap Max-Age at 400 days; the server-side lifetime still holds.
    assert!(header.ends_with("; Max-Age=34560000"), "{header}");
}
