//! The generated code compiles warning-free with the prelude shadowed, raw identifiers, generic
//! structs and a `crate =` path.
#![deny(warnings)]
#![allow(dead_code)]

mod shadowed {
    use serde::{Deserialize, Serialize};

    // Generated code must name everything by absolute path.
    struct Option;
    struct Result;
    struct String;
    struct Vec;
    struct Box;

    #[derive(sessionkit::Session, Serialize, Deserialize, Default)]
    pub(crate) struct Shadowed {
        pub(crate) user: ::core::option::Option<::std::string::String>,
        pub(crate) count: ::core::primitive::u64,
        pub(crate) r#type: ::std::option::Option<::std::string::String>,
        #[session(flash)]
        pub(crate) flashes: ::std::vec::Vec<::std::string::String>,
    }

    pub(crate) fn exercise() -> ::std::vec::Vec<::std::string::String> {
        let mut s = Shadowed::default();
        s.set_user("alice");
        s.set_type("admin");
        *s.count_mut() += 1;
        s.flash("hello");
        assert!(s.has_user() && s.has_type());
        assert_eq!(s.count(), 1);
        assert_eq!(s.r#type(), ::core::option::Option::Some("admin"));
        s.take_flashes()
    }
}

mod reexported {
    // A crate that re-exports sessionkit under another name points the derive at it.
    pub(crate) mod web {
        pub(crate) use sessionkit as sessions;
    }

    #[derive(web::sessions::Session, serde::Serialize, serde::Deserialize, Default)]
    #[session(crate = "web::sessions", cookie = "sid")]
    pub(crate) struct ViaPath {
        pub(crate) user: Option<String>,
    }
}

#[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
struct Generic<T> {
    value: Option<T>,
    history: Vec<T>,
}

#[test]
fn shadowed_prelude_compiles_and_works() {
    assert_eq!(shadowed::exercise(), ["hello"]);
}

#[test]
fn raw_identifier_key_is_the_bare_name() {
    use sessionkit::SessionSchema;
    assert_eq!(
        shadowed::Shadowed::FIELDS,
        ["user", "count", "type", "flashes"]
    );
}

#[test]
fn crate_path_override_compiles() {
    use sessionkit::SessionSchema;
    let mut s = reexported::ViaPath::default();
    s.set_user("bob");
    assert_eq!(reexported::ViaPath::COOKIE_NAME, "sid");
    assert_eq!(s.user(), Some("bob"));
}

#[test]
fn generic_structs_get_accessors_and_a_schema() {
    use sessionkit::SessionSchema;
    let mut s = Generic::<u8>::default();
    s.set_value(3u8);
    s.history_mut().push(4);
    assert_eq!(s.pop_value(), Some(3));
    assert_eq!(Generic::<u8>::FIELDS, ["value", "history"]);
}
