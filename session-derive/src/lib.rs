//! `#[derive(Session)]`: typed accessors for a sessionkit session.
//!
//! Use it through the `sessionkit` facade, which re-exports it as `sessionkit::Session`.
//!
//! The manual, with every attribute and compiled examples, is the `derive` module of the
//! facade: `sessionkit::derive` (<https://docs.rs/sessionkit/latest/sessionkit/derive/>).

mod ast;
mod attr;
mod check;
mod expand;
mod serde_attrs;

use proc_macro::TokenStream;

/// Derives typed session accessors (`f()`, `set_f()`, `pop_f()`, `has_f()`, `f_mut()`, flash and
/// CSRF helpers) and `SessionSchema` for a struct with named fields.
///
/// The manual is the `derive` module of `sessionkit` (`sessionkit::derive`).
#[proc_macro_derive(Session, attributes(session))]
pub fn derive_session(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::derive(&input).into()
}
