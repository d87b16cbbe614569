//! `#[derive(Session)]`: typed accessors for a sessionkit session.
//!
//! Use it through the `sessionkit` facade, which re-exports it as `sessionkit::Session`.
//!
//! # A tour
//!
//! ```
//! use serde::{Deserialize, Serialize};
//! use sessionkit::Session;
//!
//! #[derive(Session, Serialize, Deserialize, Default, Debug)]
//! struct AppSession {
//!     user: Option<String>,
//!     cart: Vec<u32>,
//! }
//!
//! let mut s = AppSession::default();
//! assert!(!s.has_user());                  // 'user' in session
//! s.set_user("alice");                     // session['user'] = 'alice'
//! assert_eq!(s.user(), Some("alice"));
//! s.cart_mut().push(7);                    // nested change, no `modified = True`
//! assert_eq!(s.pop_user().as_deref(), Some("alice"));
//! assert_eq!(s.pop_user(), None);          // session.pop('user', None)
//! assert_eq!(s.pop_cart(), vec![7]);       // non-Option fields reset to their default
//! ```
//!
//! For an `Option<V>` field `f` the accessors are `f() -> Option<&V>`, `set_f(impl Into<V>)`,
//! `pop_f() -> Option<V>`, `has_f() -> bool` and `f_mut() -> &mut Option<V>`; for any other
//! type `T` they are `f() -> &T`, `set_f(impl Into<T>)`, `pop_f() -> T` (leaving
//! `T::default()`) and `f_mut() -> &mut T`. A field counts as `Option` when its type is written
//! `Option<V>`, `std::option::Option<V>` or `core::option::Option<V>`; a bare `Option<V>` is
//! taken for the prelude's, so an app that shadows `Option` with its own generic type gets a type
//! error at that field.
//!
//! # Field attributes
//!
//! `#[session(flash)]` on a `Vec<M>` gives one-shot messages: `flash(m)` queues one and
//! `take_flashes()` returns them all and empties the queue.
//!
//! ```
//! # use serde::{Deserialize, Serialize};
//! #[derive(sessionkit::Session, Serialize, Deserialize, Default)]
//! struct S {
//!     #[session(flash)]
//!     flashes: Vec<String>,
//! }
//! let mut s = S::default();
//! s.flash("Registered");
//! assert_eq!(s.take_flashes(), ["Registered"]);
//! assert!(s.take_flashes().is_empty());    // shown once, then gone
//! ```
//!
//! `#[session(rename = "k")]` names the session key. serde writes the cookie, so it goes with
//! `#[serde(rename = "k")]`, which alone is honoured too. A raw identifier `r#type` is the key
//! `"type"`, with accessors `r#type()`, `set_type()`, ...
//!
//! ```
//! # use serde::{Deserialize, Serialize};
//! use sessionkit::SessionSchema;
//!
//! #[derive(sessionkit::Session, Serialize, Deserialize, Default)]
//! struct S {
//!     #[session(rename = "uid")]
//!     #[serde(rename = "uid")]
//!     user_id: Option<u64>,
//!     r#type: Option<String>,
//! }
//! assert_eq!(S::FIELDS, ["uid", "type"]);
//! let mut s = S::default();
//! s.set_type("admin");
//! assert_eq!(s.r#type(), Some("admin"));
//! ```
//!
//! `#[session(skip)]` generates no accessors for a field (it is still serialized unless serde
//! skips it too).
//!
//! ```
//! # use serde::{Deserialize, Serialize};
//! #[derive(sessionkit::Session, Serialize, Deserialize, Default)]
//! struct S {
//!     #[session(skip)]
//!     internal: u32,
//! }
//! let s = S::default();
//! assert_eq!(s.internal, 0);
//! ```
//!
//! # Container attributes
//!
//! `cookie = "name"` (default `"session"`), `lifetime = "31d"` (a number and one of `s`, `m`,
//! `h`, `d`; default 31 days), `version = N` (the schema version signed into every cookie;
//! default 0) and `crate = "path"` (where the facade is, for crates that re-export it).
//!
//! ```
//! # use serde::{Deserialize, Serialize};
//! use sessionkit::SessionSchema;
//!
//! #[derive(sessionkit::Session, Serialize, Deserialize, Default)]
//! #[session(cookie = "cart", lifetime = "12h", version = 2, crate = "::sessionkit")]
//! struct Cart {
//!     items: Vec<u32>,
//! }
//! assert_eq!(Cart::COOKIE_NAME, "cart");
//! assert_eq!(Cart::LIFETIME.as_secs(), 12 * 3600);
//! assert_eq!(Cart::VERSION, 2);
//! ```
//!
//! Misspelt attributes, a bad `lifetime`, `flash` on a non-`Vec`, two fields with the same key
//! and colliding accessor names are compile errors that point at the offending token.

mod ast;
mod attr;
mod check;
mod expand;

use proc_macro::TokenStream;

/// Derives typed session accessors and `SessionSchema`; see the [crate documentation](crate).
#[proc_macro_derive(Session, attributes(session))]
pub fn derive_session(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
