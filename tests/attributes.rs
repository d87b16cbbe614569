//! Cookie attributes: secure defaults, prefixes, impossible mixes refused at build time.

mod common;

use common::*;
use sessionkit::{ConfigError, CookieCommand, KeyError, SameSite, SessionConfig, TrackedSession};

#[test]
fn defaults_are_http_only_secure_lax_root_path_and_no_domain() {
    // OWASP's session cheat sheet: a browser-session cookie, Secure, HttpOnly, SameSite, no
    // Domain, and the server enforcing the lifetime.
    let header = set_header(
        config()
            .save(&TrackedSession::new(alice()), at(T0))
            .unwrap(),
    );
    assert!(
        header.ends_with("; HttpOnly; SameSite=Lax; Secure; Path=/"),
        "{header}"
    );
    assert!(!header.contains("Max-Age") && !header.contains("Expires"));
    let mut persistent = TrackedSession::new(alice());
    persistent.set_permanent(true);
    let header = set_header(config().save(&persistent, at(T0)).unwrap());
    assert!(
        header.ends_with("; HttpOnly; SameSite=Lax; Secure; Path=/; Max-Age=2678400"),
        "{header}"
    );
    assert!(!header.contains("Domain"));
}

#[test]
fn every_attribute_can_be_set() {
    let config = builder::<App>()
        .cookie_name("sid")
        .path("/app")
        .domain("example.com")
        .same_site(SameSite::Strict)
        .http_only(false)
        .build()
        .unwrap();
    let header = set_header(config.save(&TrackedSession::new(alice()), at(T0)).unwrap());
    assert!(header.starts_with("sid="));
    assert!(
        header.ends_with("; SameSite=Strict; Secure; Path=/app; Domain=example.com"),
        "{header}"
    );
}

#[test]
fn the_removal_cookie_repeats_the_attributes() {
    let config = builder::<App>()
        .path("/app")
        .domain("example.com")
        .build()
        .unwrap();
    let cookie = mint(&config, alice(), T0);
    let mut loaded = config.load(&cookie, at(T0));
    loaded.session.clear();
    assert_eq!(
        config.save(&loaded.session, at(T0)).unwrap(),
        CookieCommand::Remove(
            "session=; HttpOnly; SameSite=Lax; Secure; Path=/app; Domain=example.com; Max-Age=0"
                .into()
        )
    );
}

#[test]
fn host_prefix_names_the_cookie_and_refuses_domain_path_and_insecure() {
    let config = builder::<App>().host_prefix(true).build().unwrap();
    assert_eq!(config.cookie_name(), "__Host-session");
    let errors = [
        builder::<App>()
            .host_prefix(true)
            .domain("example.com")
            .build()
            .unwrap_err(),
        builder::<App>()
            .host_prefix(true)
            .path("/app")
            .build()
            .unwrap_err(),
        builder::<App>()
            .host_prefix(true)
            .secure(false)
            .build()
            .unwrap_err(),
        builder::<App>()
            .cookie_name("__Host-x")
            .secure(false)
            .build()
            .unwrap_err(),
    ];
    for error in errors {
        assert!(matches!(error, ConfigError::Prefix(_)), "{error:?}");
        assert!(error.to_string().contains("remove `."), "{error}");
    }
}

#[test]
fn same_site_none_requires_secure() {
    let error = builder::<App>()
        .same_site(SameSite::None)
        .secure(false)
        .build()
        .unwrap_err();
    assert_eq!(error, ConfigError::SameSiteNoneWithoutSecure);
    assert!(builder::<App>().same_site(SameSite::None).build().is_ok());
}

#[test]
fn invalid_names_and_attribute_values_are_refused() {
    assert_eq!(
        builder::<App>()
            .cookie_name("my session")
            .build()
            .unwrap_err(),
        ConfigError::InvalidCookieName("my session".into())
    );
    for (path, why) in [
        ("/a;b", "a `;` ends the attribute"),
        ("app", "browsers ignore a Path without a leading `/`"),
        ("", "empty"),
        ("/a\r\nSet-Cookie: x=y", "header injection"),
    ] {
        let error = builder::<App>().path(path).build().unwrap_err();
        assert_attribute_error(&error, "Path", path, why);
        assert!(error.to_string().contains("starts with `/`"), "{error}");
    }
    for (domain, why) in [
        ("evil\r\nSet-Cookie: x=y", "header injection"),
        ("example.com:8080", "a port"),
        ("a.example.com,b.example.com", "a comma"),
        ("example .com", "a space"),
        ("https://example.com", "a scheme"),
        ("example.com/app", "a path"),
        ("", "empty"),
    ] {
        let error = builder::<App>().domain(domain).build().unwrap_err();
        assert_attribute_error(&error, "Domain", domain, why);
        assert!(error.to_string().contains("host name"), "{error}");
    }
    for domain in [
        "example.com",
        ".example.com",
        "sub.example.co.uk",
        "localhost",
    ] {
        assert!(builder::<App>().domain(domain).build().is_ok(), "{domain}");
    }
}

fn assert_attribute_error(error: &ConfigError, name: &str, given: &str, why: &str) {
    match error {
        ConfigError::InvalidAttribute {
            attribute, value, ..
        } => {
            assert_eq!((*attribute, value.as_str()), (name, given), "{why}");
            assert!(error.to_string().starts_with(name), "{error}");
        }
        other => panic!("{name} {given:?} ({why}) gave {other:?}"),
    }
}

#[test]
fn a_weak_or_missing_key_fails_at_build_time_with_a_fix() {
    let missing = SessionConfig::<App>::builder().build().unwrap_err();
    assert_eq!(missing, ConfigError::MissingKey);
    let weak = SessionConfig::<App>::builder()
        .secret("keyboard cat")
        .build()
        .unwrap_err();
    assert_eq!(weak, ConfigError::Key(KeyError::WellKnown));
    assert!(weak.to_string().contains("openssl rand -hex 32"), "{weak}");
}

#[test]
fn zero_lifetimes_and_bad_fractions_are_refused() {
    use std::time::Duration;
    assert_eq!(
        builder::<App>()
            .lifetime(Duration::ZERO)
            .build()
            .unwrap_err(),
        ConfigError::ZeroLifetime
    );
    assert_eq!(
        builder::<App>()
            .refresh(sessionkit::Refresh::AfterFraction(1.5))
            .build()
            .unwrap_err(),
        ConfigError::InvalidRefreshFraction(1.5)
    );
    for fraction in [0.0, -0.5, 1.000_001, f64::INFINITY] {
        let error = builder::<App>()
            .refresh(sessionkit::Refresh::AfterFraction(fraction))
            .build()
            .unwrap_err();
        assert_eq!(error, ConfigError::InvalidRefreshFraction(fraction));
        assert!(error.to_string().contains("at most 1"), "{error}");
    }
    let nan = builder::<App>()
        .refresh(sessionkit::Refresh::AfterFraction(f64::NAN))
        .build()
        .unwrap_err();
    assert!(
        matches!(nan, ConfigError::InvalidRefreshFraction(f) if f.is_nan()),
        "{nan:?}"
    );
    assert!(builder::<App>()
        .refresh(sessionkit::Refresh::AfterFraction(1.0))
        .build()
        .is_ok());
    assert_eq!(
        builder::<App>().max_cookie_bytes(100).build().unwrap_err(),
        ConfigError::CookieLimitTooSmall(100)
    );
}

#[test]
fn debug_output_never_shows_the_key() {
    let text = format!("{:?}", config());
    assert!(!text.contains("8f3c9a"), "{text}");
}

#[test]
fn a_store_setting_without_a_store_is_a_build_error_naming_it() {
    for (builder, setting) in [
        (builder::<App>().namespace("shop"), "namespace"),
        (
            builder::<App>().store_timeout(std::time::Duration::from_secs(5)),
            "store_timeout",
        ),
        (
            builder::<App>().conflict_policy(sessionkit::ConflictPolicy::Reject),
            "conflict_policy",
        ),
        (
            builder::<App>().read_unbound_records(),
            "read_unbound_records",
        ),
        (
            builder::<App>().migrate_from(sessionkit::MemoryStore::new()),
            "migrate_from",
        ),
    ] {
        let error = builder.build().unwrap_err();
        assert_eq!(error, ConfigError::NeedsStore(setting));
        assert!(error.to_string().contains("add `.store(..)`"), "{error}");
    }
    let zero = builder::<App>()
        .store(sessionkit::MemoryStore::new())
        .store_timeout(std::time::Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(zero, ConfigError::ZeroStoreTimeout);
}
