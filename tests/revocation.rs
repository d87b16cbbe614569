//! Revocation beyond the signature: a per-user generation number checked at load, so "log out
//! everywhere" invalidates every cookie a user holds, even unexpired ones.

mod common;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use common::*;
use serde::{Deserialize, Serialize};
use sessionkit::{Rejection, SessionSchema, TrackedSession};

#[derive(Debug, Default, Clone, Serialize, Deserialize)]
struct Login {
    user: Option<String>,
    generation: u64,
}

impl SessionSchema for Login {
    const FIELDS: &'static [&'static str] = &["user", "generation"];
}

/// Stands in for the app's user table.
type Generations = Arc<RwLock<HashMap<String, u64>>>;

fn config(generations: &Generations) -> sessionkit::SessionConfig<Login> {
    let table = Arc::clone(generations);
    builder::<Login>()
        .validate(move |login: &Login| match &login.user {
            Some(user) => table.read().unwrap().get(user).copied().unwrap_or(0) == login.generation,
            None => true,
        })
        .build()
        .unwrap()
}

#[test]
fn logging_out_everywhere_revokes_every_outstanding_cookie() {
    let generations: Generations = Arc::default();
    generations.write().unwrap().insert("alice".into(), 1);
    let config = config(&generations);
    let login = Login {
        user: Some("alice".into()),
        generation: 1,
    };
    let laptop = pair(&set_header(
        config
            .save(&TrackedSession::new(login.clone()), at(T0))
            .unwrap(),
    ));
    let phone = pair(&set_header(
        config
            .save(&TrackedSession::new(login), at(T0 + 5))
            .unwrap(),
    ));
    assert_eq!(config.load(&laptop, at(T0 + 10)).rejected, None);

    // "Log out everywhere": bump the generation.
    *generations.write().unwrap().get_mut("alice").unwrap() += 1;
    for cookie in [&laptop, &phone] {
        let loaded = config.load(cookie, at(T0 + 20));
        assert_eq!(loaded.rejected, Some(Rejection::Revoked));
        assert!(loaded.session.is_new());
    }
    // A new login with the new generation works.
    let fresh = Login {
        user: Some("alice".into()),
        generation: 2,
    };
    let cookie = pair(&set_header(
        config
            .save(&TrackedSession::new(fresh), at(T0 + 30))
            .unwrap(),
    ));
    assert_eq!(config.load(&cookie, at(T0 + 31)).rejected, None);
}
