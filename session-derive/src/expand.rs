//! Code generation: the `SessionSchema` impl and the typed accessors.

use std::collections::BTreeSet;

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{DeriveInput, GenericParam};

use crate::ast::{kind, Container, Field, Kind, Shape};
use crate::attr::Ctxt;
use crate::check;

/// Seconds in 31 days, the default lifetime.
const DEFAULT_LIFETIME: u64 = 31 * 86_400;

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    let cx = Ctxt::default();
    let Some(container) = Container::from_ast(&cx, input) else {
        return compile_errors(cx);
    };
    check::check(&cx, &container);
    // With errors, the impls are still emitted (minus what cannot compile), so code that uses
    // the accessors sees the attribute error alone, not a cascade of missing methods.
    let schema = schema_impl(&container);
    let accessors = accessors_impl(&container);
    let errors = compile_errors(cx);
    quote! {
        #errors
        #[allow(non_upper_case_globals, unused_attributes, unused_qualifications, clippy::all, clippy::pedantic)]
        const _: () = {
            #schema
            #accessors
        };
    }
}

fn compile_errors(cx: Ctxt) -> TokenStream {
    let errors = cx.into_errors().into_iter().map(|e| e.to_compile_error());
    quote!(#(#errors)*)
}

fn schema_impl(container: &Container<'_>) -> TokenStream {
    let generics = &container.input.generics;
    if generics
        .params
        .iter()
        .any(|p| matches!(p, GenericParam::Lifetime(_)))
    {
        return TokenStream::new();
    }
    let krate = container.krate();
    let ident = &container.input.ident;
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let mut predicates: Vec<TokenStream> = where_clause
        .map(|w| w.predicates.iter().map(|p| quote!(#p)).collect())
        .unwrap_or_default();
    if !generics.params.is_empty() {
        predicates.push(quote! {
            Self: #krate::__private::serde::Serialize
                + #krate::__private::serde::de::DeserializeOwned
                + ::core::default::Default
        });
    }
    let attrs = &container.attrs;
    let cookie = attrs.cookie.get().map_or("session", String::as_str);
    let lifetime = attrs.lifetime.get().copied().unwrap_or(DEFAULT_LIFETIME);
    let version = attrs.version.get().copied().unwrap_or(0);
    let keys = container.fields.iter().flat_map(|f| &f.keys);
    let owner = owner_fn(container, &krate);
    let same_data = same_data_fn(container, &krate);
    let non_finite = non_finite_check(container);
    let sets = sets_check(container, &krate);
    let flattened = container
        .fields
        .iter()
        .any(|f| f.serde.flatten.is_some())
        .then(|| {
            quote!(
                const FLATTENED: ::core::primitive::bool = true;
            )
        });
    quote! {
        #[automatically_derived]
        impl #impl_generics #krate::__private::SessionSchema for #ident #ty_generics where #(#predicates),* {
            const COOKIE_NAME: &'static ::core::primitive::str = #cookie;
            const LIFETIME: ::core::time::Duration = ::core::time::Duration::from_secs(#lifetime);
            const VERSION: ::core::primitive::u32 = #version;
            const FIELDS: &'static [&'static ::core::primitive::str] = &[#(#keys),*];
            #owner
            #non_finite
            #flattened
            #same_data
        }
        #sets
    }
}

/// `fn same_data`, asked only when the outgoing bytes differ from the incoming ones. When
/// every field is of a type whose JSON is one text per value (numbers, strings, `Option`,
/// `Vec`, `BTreeMap` and the like, nothing the app serializes by hand), different bytes are
/// different data: no decode. Otherwise the data is compared by meaning (`==`, or JSON), so a
/// `HashMap` written in another order is not a change.
fn same_data_fn(container: &Container<'_>, krate: &syn::Path) -> TokenStream {
    let canonical = !container.serde.custom
        && container.fields.iter().all(|f| {
            f.serde.is_skipped()
                || (!f.serde.custom && f.serde.flatten.is_none() && canonical_json(f.ty))
        });
    if canonical {
        return quote! {
            fn same_data(&self, _payload: &[::core::primitive::u8]) -> ::core::primitive::bool {
                false
            }
        };
    }
    quote! {
        fn same_data(&self, payload: &[::core::primitive::u8]) -> ::core::primitive::bool {
            #[allow(unused_imports)]
            use #krate::__private::{SameByEq as _, SameByJson as _};
            (&&#krate::__private::Compare(self)).same_as(payload)
        }
    }
}

/// Whether `serde_json` writes every value of `ty` as one text: primitives, strings and
/// sessionkit's CSRF token, and `Option`, `Vec`, `VecDeque`, `Box`, `BTreeMap`, `BTreeSet`,
/// arrays and tuples of them. Hash maps and sets (any order) and every other type (which may
/// hold one) are not.
fn canonical_json(ty: &syn::Type) -> bool {
    match ty {
        syn::Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return false;
            };
            let args: Vec<&syn::Type> = match &last.arguments {
                syn::PathArguments::None => Vec::new(),
                syn::PathArguments::AngleBracketed(a) => a
                    .args
                    .iter()
                    .filter_map(|a| match a {
                        syn::GenericArgument::Type(t) => Some(t),
                        _ => None,
                    })
                    .collect(),
                syn::PathArguments::Parenthesized(_) => return false,
            };
            match last.ident.to_string().as_str() {
                "u8" | "u16" | "u32" | "u64" | "u128" | "usize" | "i8" | "i16" | "i32" | "i64"
                | "i128" | "isize" | "f32" | "f64" | "bool" | "char" | "String" | "CsrfToken" => {
                    args.is_empty()
                }
                "Option" | "Vec" | "VecDeque" | "Box" | "BTreeSet" | "BTreeMap" => {
                    !args.is_empty() && args.into_iter().all(canonical_json)
                }
                _ => false,
            }
        }
        syn::Type::Array(array) => canonical_json(&array.elem),
        syn::Type::Tuple(tuple) => tuple.elems.iter().all(canonical_json),
        syn::Type::Paren(inner) => canonical_json(&inner.elem),
        syn::Type::Group(inner) => canonical_json(&inner.elem),
        _ => false,
    }
}

/// `fn owner`, from the field marked `#[session(owner)]`, if one is.
fn owner_fn(container: &Container<'_>, krate: &syn::Path) -> Option<TokenStream> {
    let field = container
        .fields
        .iter()
        .find(|f| f.attrs.owner.get().is_some())?;
    let member = field.ident;
    let id = quote_spanned!(field.ty.span()=> #krate::__private::OwnerId::owner_id(&self.#member));
    Some(quote! {
        fn owner(&self) -> ::core::option::Option<::std::string::String> {
            #id
        }
    })
}

/// A `HashSet` field (at the top level, where the derive can see it) needs `Self: PartialEq`
/// for change detection: checked in `same_data`'s neighbour, with a message naming the fix.
fn sets_check(container: &Container<'_>, krate: &syn::Path) -> TokenStream {
    let set = container.fields.iter().find(|f| {
        let ty = match f.shape {
            Shape::Optional(inner) => inner,
            _ => f.ty,
        };
        !f.keys.is_empty() && crate::ast::is_hash_set(ty)
    });
    let Some(field) = set else {
        return TokenStream::new();
    };
    if !container.input.generics.params.is_empty() {
        return TokenStream::new(); // a generic struct's `PartialEq` depends on its parameters
    }
    let ident = &container.input.ident;
    quote_spanned! {field.ty.span()=>
        fn __sessionkit_sets_compare() {
            fn compares<__S: ?::core::marker::Sized + #krate::__private::ComparesSets>() {}
            compares::<#ident>();
        }
    }
}

/// `non_finite_field`: the first float field holding NaN or an infinity, which JSON writes as
/// `null` and the next request could not read back.
fn non_finite_check(container: &Container<'_>) -> TokenStream {
    let checks = container
        .fields
        .iter()
        .filter(|f| !f.keys.is_empty())
        .filter_map(|f| {
            let member = f.ident;
            let key = &f.key;
            match &f.shape {
                Shape::Plain if crate::ast::is_float(f.ty) => Some(quote! {
                    if !self.#member.is_finite() {
                        return ::core::option::Option::Some(#key);
                    }
                }),
                Shape::Optional(inner) if crate::ast::is_float(inner) => Some(quote! {
                    if ::core::option::Option::is_some_and(self.#member, |v| !v.is_finite()) {
                        return ::core::option::Option::Some(#key);
                    }
                }),
                _ => None,
            }
        });
    let checks: Vec<TokenStream> = checks.collect();
    if checks.is_empty() {
        return TokenStream::new();
    }
    quote! {
        fn non_finite_field(&self) -> ::core::option::Option<&'static ::core::primitive::str> {
            #(#checks)*
            ::core::option::Option::None
        }
    }
}

fn accessors_impl(container: &Container<'_>) -> TokenStream {
    let ident = &container.input.ident;
    let (impl_generics, ty_generics, where_clause) = container.input.generics.split_for_impl();
    let krate = container.krate();
    let mut emitted = BTreeSet::new();
    let methods = container.fields.iter().filter_map(|field| {
        let names = check::accessor_names(field);
        let fresh = names.iter().all(|n| !emitted.contains(n));
        emitted.extend(names);
        // A colliding field was reported by `check`; leaving it out keeps the error alone.
        fresh.then(|| field_methods(field, field.vis, &krate))
    });
    let methods: Vec<TokenStream> = methods.collect();
    quote! {
        #[automatically_derived]
        #[allow(non_snake_case)]
        impl #impl_generics #ident #ty_generics #where_clause {
            #(#methods)*
        }
    }
}

fn field_methods(field: &Field<'_>, vis: &syn::Visibility, krate: &syn::Path) -> TokenStream {
    match field.shape {
        _ if field.is_skipped() => TokenStream::new(),
        Shape::Flash(message) => flash_methods(field, message, vis),
        // A wrong type was reported by `check`; no methods, so the error stays alone.
        Shape::Csrf if !crate::ast::is_csrf_token(field.ty) => TokenStream::new(),
        Shape::Csrf => csrf_methods(field, vis, krate),
        Shape::Optional(inner) => optional_methods(field, inner, vis, krate),
        Shape::Plain => plain_methods(field, vis, krate),
    }
}

fn csrf_methods(field: &Field<'_>, vis: &syn::Visibility, krate: &syn::Path) -> TokenStream {
    let (f, ty) = (field.ident, field.ty);
    let token = quote_spanned!(ty.span()=> ::std::borrow::ToOwned::to_owned(#krate::CsrfToken::get_or_generate(&mut self.#f)));
    let verify = quote_spanned!(ty.span()=> #krate::CsrfToken::verify(&self.#f, submitted));
    quote! {
        /// The CSRF token to put in forms, generated on first use (32 bytes from the
        /// operating system's generator) and kept in the session. Owned, so the session's
        /// other fields can be read after it (a template reads them all).
        ///
        /// # Panics
        ///
        /// If the operating system has no random numbers to give (as `Key::generate` fails).
        #[inline]
        #vis fn csrf_token(&mut self) -> ::std::string::String {
            #token
        }
        /// Whether `submitted` is this session's CSRF token, compared in constant time; `false`
        /// when the session has none yet.
        #[inline]
        #vis fn verify_csrf(&self, submitted: &::core::primitive::str) -> ::core::primitive::bool {
            #verify
        }
    }
}

/// The getter's return type and body for a value of type `ty` read as `value` (a place).
fn getter(
    field: &Field<'_>,
    ty: &syn::Type,
    kind: Kind,
    optional: bool,
    krate: &syn::Path,
) -> (TokenStream, TokenStream) {
    let f = field.ident;
    // A type marked `copy` is checked through `CopyField`, whose error names the attribute.
    let copied = field
        .attrs
        .copy
        .span()
        .map(|span| quote_spanned!(span=> #krate::__private::CopyField::copied(&self.#f)));
    match (kind, optional) {
        (Kind::Copy, _) if copied.is_some() => {
            let ty = if optional {
                quote!(::core::option::Option<#ty>)
            } else {
                quote!(#ty)
            };
            (ty, copied.unwrap_or_default())
        }
        (Kind::Str, false) => (
            quote!(&::core::primitive::str),
            quote!(::std::string::String::as_str(&self.#f)),
        ),
        (Kind::Str, true) => (
            quote!(::core::option::Option<&::core::primitive::str>),
            quote!(::core::option::Option::as_deref(&self.#f)),
        ),
        (Kind::Copy, false) => (quote!(#ty), quote!(self.#f)),
        (Kind::Copy, true) => (quote!(::core::option::Option<#ty>), quote!(self.#f)),
        (Kind::Ref, false) => (quote!(&#ty), quote!(&self.#f)),
        (Kind::Ref, true) => (
            quote!(::core::option::Option<&#ty>),
            quote!(::core::option::Option::as_ref(&self.#f)),
        ),
    }
}

/// A setter takes the exact type for primitives (so `set_visits(1)` infers), `impl Into`
/// otherwise (so `set_user("alice")` works).
fn setter_param(ty: &syn::Type, kind: Kind, marked_copy: bool) -> TokenStream {
    if kind == Kind::Copy && !marked_copy {
        quote!(#ty)
    } else {
        quote_spanned!(ty.span()=> impl ::core::convert::Into<#ty>)
    }
}

struct Names {
    get: syn::Ident,
    set: syn::Ident,
    pop: syn::Ident,
    get_mut: syn::Ident,
    has: syn::Ident,
}

fn names(field: &Field<'_>) -> Names {
    let n = &field.name;
    Names {
        get: field.ident.clone(),
        set: format_ident!("set_{}", n),
        pop: format_ident!("pop_{}", n),
        get_mut: format_ident!("{}_mut", n),
        has: format_ident!("has_{}", n),
    }
}

fn optional_methods(
    field: &Field<'_>,
    inner: &syn::Type,
    vis: &syn::Visibility,
    krate: &syn::Path,
) -> TokenStream {
    let Names {
        get,
        set,
        pop,
        get_mut,
        has,
    } = names(field);
    let (f, ty, key) = (field.ident, field.ty, &field.key);
    let doc_get =
        format!("The `{key}` value, or `None` if it is not set (Flask: `session.get(\"{key}\")`).");
    let doc_set = format!("Sets `{key}` (Flask: `session[\"{key}\"] = value`).");
    let doc_pop = format!("Removes `{key}` and returns it (Flask: `session.pop(\"{key}\", None)`). Popping an absent key changes nothing, so no cookie is sent.");
    let doc_has = format!("Whether `{key}` is set (Flask: `\"{key}\" in session`).");
    let doc_mut = format!("`{key}` for changing in place; a change made through it is saved with no `modified = True`.");
    let marked_copy = field.attrs.copy.get().is_some();
    let value_kind = kind(inner, marked_copy);
    let into = setter_param(inner, value_kind, marked_copy);
    let (get_ty, get_body) = getter(field, inner, value_kind, true, krate);
    quote! {
        #[doc = #doc_get]
        #[inline]
        #vis fn #get(&self) -> #get_ty {
            #get_body
        }
        #[doc = #doc_set]
        #[inline]
        #vis fn #set(&mut self, value: #into) {
            self.#f = ::core::option::Option::Some(::core::convert::Into::into(value));
        }
        #[doc = #doc_pop]
        #[inline]
        #vis fn #pop(&mut self) -> ::core::option::Option<#inner> {
            ::core::option::Option::take(&mut self.#f)
        }
        #[doc = #doc_has]
        #[inline]
        #vis fn #has(&self) -> ::core::primitive::bool {
            ::core::option::Option::is_some(&self.#f)
        }
        #[doc = #doc_mut]
        #[inline]
        #vis fn #get_mut(&mut self) -> &mut #ty {
            &mut self.#f
        }
    }
}

fn plain_methods(field: &Field<'_>, vis: &syn::Visibility, krate: &syn::Path) -> TokenStream {
    let Names {
        get,
        set,
        pop,
        get_mut,
        ..
    } = names(field);
    let (f, ty, key) = (field.ident, field.ty, &field.key);
    let doc_get = format!(
        "The `{key}` value (Flask: `session.get(\"{key}\")`, with the type's default when unset)."
    );
    let doc_set = format!("Sets `{key}` (Flask: `session[\"{key}\"] = value`).");
    let doc_pop =
        format!("Returns `{key}` and resets it to its default (Flask: `session.pop(\"{key}\")`).");
    let doc_mut = format!("`{key}` for changing in place; a change made through it is saved with no `modified = True`.");
    let take = quote_spanned!(ty.span()=> ::core::mem::take(&mut self.#f));
    let marked_copy = field.attrs.copy.get().is_some();
    let value_kind = kind(ty, marked_copy);
    let into = setter_param(ty, value_kind, marked_copy);
    let (get_ty, get_body) = getter(field, ty, value_kind, false, krate);
    quote! {
        #[doc = #doc_get]
        #[inline]
        #vis fn #get(&self) -> #get_ty {
            #get_body
        }
        #[doc = #doc_set]
        #[inline]
        #vis fn #set(&mut self, value: #into) {
            self.#f = ::core::convert::Into::into(value);
        }
        #[doc = #doc_pop]
        #[inline]
        #vis fn #pop(&mut self) -> #ty where for<'__s> #ty: ::core::default::Default {
            #take
        }
        #[doc = #doc_mut]
        #[inline]
        #vis fn #get_mut(&mut self) -> &mut #ty {
            &mut self.#f
        }
    }
}

fn flash_methods(field: &Field<'_>, message: &syn::Type, vis: &syn::Visibility) -> TokenStream {
    let f = field.ident;
    quote! {
        /// Queues a one-shot message for the next page (Flask: `flash(message)`).
        #[inline]
        #vis fn flash(&mut self, message: impl ::core::convert::Into<#message>) {
            ::std::vec::Vec::push(&mut self.#f, ::core::convert::Into::into(message));
        }
        /// Returns the queued messages and empties the queue, so each is shown exactly once
        /// (Flask: `get_flashed_messages()`).
        #[inline]
        #vis fn take_flashes(&mut self) -> ::std::vec::Vec<#message> {
            ::core::mem::take(&mut self.#f)
        }
    }
}
