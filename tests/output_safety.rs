//! Nothing a session holds, and no configuration that builds, can inject into `Set-Cookie`.

mod common;

use common::*;
use proptest::prelude::*;
use sessionkit::{CookieCommand, TrackedSession};

/// The attributes of the default configuration, each after a `; `.
const ATTRIBUTES: usize = 4; // Path, HttpOnly, Secure, SameSite

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn session_content_never_reaches_the_header_syntax(user in any::<String>(), cart in proptest::collection::vec(any::<u32>(), 0..8)) {
        let config = config();
        let session = TrackedSession::new(App { user: Some(user), cart });
        if let Ok(CookieCommand::Set(header)) = config.save(&session, at(T0)) {
            prop_assert!(!header.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0));
            prop_assert_eq!(header.matches("; ").count(), ATTRIBUTES);
            let value = value(&header);
            prop_assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
        }
    }

    #[test]
    fn any_path_or_domain_either_fails_to_build_or_stays_one_attribute(path in any::<String>(), domain in any::<String>()) {
        let built = builder::<App>().path(path.clone()).domain(domain.clone()).build();
        if let Ok(config) = built {
            let header = set_header(config.save(&TrackedSession::new(alice()), at(T0)).unwrap());
            prop_assert!(!header.bytes().any(|b| b.is_ascii_control()));
            prop_assert_eq!(header.matches("; ").count(), ATTRIBUTES + 1);
            let removal = builder::<App>().path(path).domain(domain).build().unwrap();
            let mut loaded = removal.load(&pair(&header), at(T0));
            loaded.session.clear();
            let CookieCommand::Remove(gone) = removal.save(&loaded.session, at(T0)).unwrap() else { panic!() };
            // The removal adds `Max-Age=0` to the same attributes.
            prop_assert_eq!(gone.matches("; ").count(), ATTRIBUTES + 2);
            prop_assert_eq!(&gone, &format!("session={}; Max-Age=0", &header[header.find("; ").unwrap()..]));
            // The `cookie` crate reads both back to the same text.
            for sent in [CookieCommand::Set(header.clone()), CookieCommand::Remove(gone.clone())] {
                let rendered = sent.to_cookie().map(|c| c.to_string());
                prop_assert_eq!(rendered.as_deref(), sent.header());
            }
        }
    }

    #[test]
    fn max_age_never_exceeds_the_remaining_lifetime(lifetime in 1u64..100_000, elapsed in 0u64..100_000) {
        let elapsed = elapsed % lifetime;
        let config = builder::<App>()
            .lifetime(std::time::Duration::from_secs(lifetime))
            .refresh(sessionkit::Refresh::EveryRequest)
            .build()
            .unwrap();
        let cookie = mint_permanent(&config, alice(), T0);
        let loaded = config.load(&cookie, at(T0 + elapsed));
        let header = set_header(config.save(&loaded.session, at(T0 + elapsed)).unwrap());
        let max_age: u64 = header.split("Max-Age=").nth(1).unwrap().split(';').next().unwrap().parse().unwrap();
        prop_assert_eq!(max_age, lifetime - elapsed);
    }
}
