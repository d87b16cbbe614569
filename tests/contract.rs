//! The contract for the code users write: equal values are no change (maps and sets at any
//! depth), and changing the struct between deploys keeps everyone logged in.

#![allow(dead_code)] // the generated accessors of the evolution pairs are not all called

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};

use common::*;
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use sessionkit::{CookieCommand, Session, SessionConfig, SessionSchema};

#[derive(Session, Serialize, Deserialize, Default, Debug)]
struct Maps {
    prefs: HashMap<String, u32>,
    nested: Vec<HashMap<String, HashMap<String, bool>>>,
    inner: Inner,
}

#[derive(Serialize, Deserialize, Default, Debug, PartialEq)]
struct Inner {
    scores: HashMap<String, Vec<u32>>,
}

#[derive(Session, Serialize, Deserialize, Default, Debug, PartialEq)]
struct Sets {
    seen: HashSet<String>,
    by_day: BTreeMap<String, HashSet<u32>>,
}

fn many<T: FromIterator<(String, V)>, V: Clone>(v: &V) -> T {
    (0..8).map(|i| (format!("key{i}"), v.clone())).collect()
}

fn no_op_requests<T: SessionSchema + std::fmt::Debug>(
    config: &SessionConfig<T>,
    data: T,
    borrow: impl Fn(&mut T),
) {
    let cookie = config.cookie_for(data, at(T0)).unwrap();
    for request in 1..=5 {
        let mut loaded = config.load(&cookie, at(T0 + request));
        assert!(loaded.rejected.is_none());
        borrow(&mut loaded.session);
        assert_eq!(
            config.save(&loaded.session, at(T0 + request)).unwrap(),
            CookieCommand::Unchanged,
            "request {request}"
        );
    }
}

#[test]
fn maps_borrowed_without_a_change_send_nothing_at_any_depth() {
    let config = builder::<Maps>().build().unwrap();
    let data = Maps {
        prefs: many(&1),
        nested: vec![many(&many(&true)), HashMap::new()],
        inner: Inner {
            scores: many(&vec![1, 2]),
        },
    };
    no_op_requests(&config, data, |s| {
        let _ = s.prefs_mut();
        let _ = s.nested_mut();
        s.inner_mut().scores.retain(|_, _| true);
    });
}

#[test]
fn sets_compare_by_meaning_when_the_struct_is_partial_eq() {
    let config = builder::<Sets>().build().unwrap();
    let set: HashSet<u32> = (0..16).collect();
    let data = Sets {
        seen: (0..16).map(|i| format!("page{i}")).collect(),
        by_day: many(&set),
    };
    no_op_requests(&config, data, |s| {
        let _ = s.seen_mut();
        let _ = s.by_day_mut();
    });
}

#[test]
fn a_real_change_inside_a_map_is_still_sent() {
    let config = builder::<Maps>().build().unwrap();
    let cookie = config
        .cookie_for(
            Maps {
                prefs: many(&1),
                ..Maps::default()
            },
            at(T0),
        )
        .unwrap();
    let mut loaded = config.load(&cookie, at(T0 + 1));
    loaded.session.prefs_mut().insert("key7".into(), 2);
    let header = set_header(config.save(&loaded.session, at(T0 + 1)).unwrap());
    let again = config.load(&pair(&header), at(T0 + 2));
    assert_eq!(again.session.prefs()["key7"], 2);
}

// Deploy 1, and deploy 2 with a field renamed (with an alias for the old key) *and* a new
// required field, and a field added inside a nested struct, no `#[serde(default)]` anywhere.
mod v1 {
    use super::*;

    #[derive(Session, Serialize, Deserialize, Default, Debug)]
    pub(crate) struct App {
        pub(crate) user: Option<String>,
        pub(crate) cart: Vec<Item>,
        pub(crate) profile: Profile,
        pub(crate) gone: u32,
    }

    #[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
    pub(crate) struct Item {
        pub(crate) sku: u32,
    }

    #[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
    pub(crate) struct Profile {
        pub(crate) name: String,
    }
}

mod v2 {
    use super::*;

    #[derive(Session, Serialize, Deserialize, Debug)]
    pub(crate) struct App {
        #[serde(alias = "user")]
        pub(crate) username: Option<String>,
        pub(crate) cart: Vec<Item>,
        pub(crate) profile: Profile,
        pub(crate) theme: String,
        pub(crate) visits: u64,
    }

    impl Default for App {
        fn default() -> Self {
            Self {
                username: None,
                cart: Vec::new(),
                profile: Profile::default(),
                theme: "light".into(),
                visits: 0,
            }
        }
    }

    #[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
    pub(crate) struct Item {
        pub(crate) sku: u32,
        pub(crate) quantity: u32,
        pub(crate) note: Option<String>,
        pub(crate) tags: Vec<String>,
        pub(crate) meta: Meta,
    }

    #[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
    pub(crate) struct Meta {
        pub(crate) added_by: String,
    }

    #[derive(Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
    pub(crate) struct Profile {
        pub(crate) name: String,
        pub(crate) locale: String,
    }
}

#[test]
fn a_rename_with_an_alias_plus_new_fields_keeps_the_user_logged_in() {
    let old = builder::<v1::App>().build().unwrap();
    let new = builder::<v2::App>().build().unwrap();
    let cookie = old
        .cookie_for(
            v1::App {
                user: Some("alice".into()),
                cart: vec![v1::Item { sku: 7 }, v1::Item { sku: 9 }],
                profile: v1::Profile {
                    name: "Alice".into(),
                },
                gone: 3,
            },
            at(T0),
        )
        .unwrap();
    let loaded = new.load(&cookie, at(T0 + 1));
    assert_eq!(loaded.rejected, None);
    let s = &loaded.session;
    assert_eq!(s.username(), Some("alice"));
    assert_eq!(s.theme(), "light", "a new field takes the struct's Default");
    assert_eq!(
        s.cart()
            .iter()
            .map(|i| (i.sku, i.quantity))
            .collect::<Vec<_>>(),
        [(7, 0), (9, 0)]
    );
    assert_eq!(s.cart()[1].meta, v2::Meta::default());
    assert_eq!(
        s.profile(),
        &v2::Profile {
            name: "Alice".into(),
            locale: String::new()
        }
    );
}

#[test]
fn a_payload_that_cannot_load_is_refused_with_its_reason() {
    #[derive(Session, Serialize, Deserialize, Default, Debug)]
    struct Strict {
        visits: u64,
    }
    // `visits` holds text in the cookie: a wrong type is not mended.
    #[derive(Session, Serialize, Deserialize, Default, Debug)]
    struct Text {
        visits: String,
    }
    let config = builder::<Strict>().build().unwrap();
    let text = builder::<Text>().build().unwrap();
    let cookie = text
        .cookie_for(
            Text {
                visits: "many".into(),
            },
            at(T0),
        )
        .unwrap();
    let loaded = config.load(&cookie, at(T0 + 1));
    assert!(
        matches!(&loaded.rejected, Some(sessionkit::Rejection::Payload(why)) if why.contains("invalid type")),
        "{:?}",
        loaded.rejected
    );
}

// Struct pairs (old, new) for the edits a deploy makes; every old value must load.
macro_rules! evolution {
    ($name:ident, old { $($of:ident : $ot:ty),* }, new { $($nf:ident : $nt:ty),* }) => {
        mod $name {
            use super::*;
            #[derive(Session, Serialize, Deserialize, Default, Debug)]
            pub(crate) struct Old { $(pub(crate) $of: $ot),* }
            #[derive(Session, Serialize, Deserialize, Default, Debug)]
            pub(crate) struct New { $(pub(crate) $nf: $nt),* }
        }
    };
}

evolution!(added_top, old { a: u32, b: String }, new { a: u32, b: String, c: Vec<u8>, d: Option<bool> });
evolution!(removed_top, old { a: u32, b: String, c: Vec<u32> }, new { a: u32 });
evolution!(nested_added, old { n: Vec<Old1> }, new { n: Vec<New1> });

#[derive(Serialize, Deserialize, Default, Debug, Clone)]
pub(crate) struct Old1 {
    x: u32,
}

#[derive(Serialize, Deserialize, Default, Debug, Clone)]
pub(crate) struct New1 {
    x: u32,
    y: String,
    z: Option<New2>,
    w: New2,
}

#[derive(Serialize, Deserialize, Default, Debug, Clone)]
pub(crate) struct New2 {
    k: u64,
    l: Vec<bool>,
}

fn loads<Old: SessionSchema, New: SessionSchema + std::fmt::Debug>(old: Old) -> New {
    let from = builder::<Old>().build().unwrap();
    let to = builder::<New>().build().unwrap();
    let cookie = from.cookie_for(old, at(T0)).unwrap();
    let loaded = to.load(&cookie, at(T0 + 1));
    assert_eq!(loaded.rejected, None);
    loaded.session.into_inner()
}

proptest! {
    #[test]
    fn every_edit_keeps_old_sessions_loading(a in any::<u32>(), b in ".{0,20}", c in prop::collection::vec(any::<u32>(), 0..5), xs in prop::collection::vec(any::<u32>(), 1..5)) {
        // An empty session sends no cookie, so each value is made non-default.
        let added: added_top::New = loads(added_top::Old { a: a | 1, b: b.clone() });
        prop_assert_eq!((added.a, &added.b, added.c.len(), added.d), (a | 1, &b, 0, None));
        let removed: removed_top::New = loads(removed_top::Old { a: a | 1, b, c });
        prop_assert_eq!(removed.a, a | 1);
        let nested: nested_added::New = loads(nested_added::Old { n: xs.iter().map(|&x| Old1 { x }).collect() });
        prop_assert_eq!(nested.n.iter().map(|n| n.x).collect::<Vec<_>>(), xs);
        prop_assert!(nested.n.iter().all(|n| n.y.is_empty() && n.z.is_none() && n.w.k == 0));
    }
}
