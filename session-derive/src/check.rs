//! Rules that span more than one attribute or field, one function each.

use std::collections::BTreeMap;

use syn::spanned::Spanned;
use syn::GenericParam;

use crate::ast::{Container, Field, Shape};
use crate::attr::Ctxt;

/// Methods an accessor would be shadowed by when called on a session, with their owner: the
/// core wrapper `sessionkit::Session<T>`, and the framework extractors (axum's and actix's
/// `Session<T>`), which deref to the wrapper. Keep in step with `session.rs` and `extract.rs`.
const RESERVED_METHODS: &[(&str, &str)] = &[
    ("clear", "sessionkit::TrackedSession::clear"),
    ("created_at", "sessionkit::TrackedSession::created_at"),
    ("deref", "sessionkit::TrackedSession::deref"),
    ("deref_mut", "sessionkit::TrackedSession::deref_mut"),
    ("into_inner", "sessionkit::TrackedSession::into_inner"),
    ("is_modified", "sessionkit::TrackedSession::is_modified"),
    ("is_new", "sessionkit::TrackedSession::is_new"),
    ("is_permanent", "sessionkit::TrackedSession::is_permanent"),
    ("issued_at", "sessionkit::TrackedSession::issued_at"),
    ("renew", "sessionkit::TrackedSession::renew"),
    ("set_permanent", "sessionkit::TrackedSession::set_permanent"),
    ("expires_at", "sessionkit::TrackedSession::expires_at"),
    (
        "rejection",
        "the extractor's `rejection` (axum and actix `Session`)",
    ),
];

/// Trait methods an accessor would hide: the inherent method wins, so `S::default()` or
/// `session.into()` would call the getter.
const HIDDEN_TRAIT_METHODS: &[(&str, &str)] = &[
    (
        "default",
        "`Default::default`: `S::default()` would call the getter",
    ),
    ("into", "`Into::into`: `.into()` would call the getter"),
    ("clone", "`Clone::clone`: `.clone()` would call the getter"),
    (
        "drop",
        "`Drop::drop` and `drop(..)`: `.drop()` would read the field, not drop the value",
    ),
];

pub(crate) fn check(cx: &Ctxt, container: &Container<'_>) {
    check_no_lifetimes(cx, container);
    check_flash_is_a_vec(cx, container);
    check_single_flash(cx, container);
    check_csrf(cx, container);
    check_skip_excludes_others(cx, container);
    check_rename_agrees_with_serde(cx, container);
    check_serde_attributes(cx, container);
    check_unique_keys(cx, container);
    check_unique_accessors(cx, container);
    check_single_owner(cx, container);
    check_round_trip_types(cx, container);
}

/// A stored field's type must come back from JSON as it went in: `Some(None)` and `None`
/// both write `null`, and an integer wider than 64 bits does not survive the mending of a
/// payload after a deploy (JSON values hold 64-bit integers).
fn check_round_trip_types(cx: &Ctxt, container: &Container<'_>) {
    for field in container.fields.iter().filter(|f| !f.keys.is_empty()) {
        if let Shape::Optional(inner) = field.shape {
            if crate::ast::option_argument(inner).is_some() {
                cx.error(field.ty.span(), format!("`Option<Option<_>>` on field `{}` does not survive a round trip: `Some(None)` and `None` both serialize as `null`; use an enum with a variant for each case", field.name));
            }
        }
        let value = match field.shape {
            Shape::Optional(inner) => inner,
            _ => field.ty,
        };
        if crate::ast::is_wide_integer(value) {
            cx.error(value.span(), format!("a 128-bit integer on field `{}` is not kept exactly in a session (JSON values hold 64 bits): use `u64`/`i64`, or store it as a `String`", field.name));
        }
    }
}

/// One field says whose session it is, and it is data: not skipped, not the flash queue.
fn check_single_owner(cx: &Ctxt, container: &Container<'_>) {
    let owners: Vec<&Field<'_>> = container
        .fields
        .iter()
        .filter(|f| f.attrs.owner.get().is_some())
        .collect();
    for extra in owners.iter().skip(1) {
        cx.error(
            extra.span(),
            format!(
                "`owner` is already on field `{}`: a session has one owner",
                owners[0].name
            ),
        );
    }
    for field in owners {
        if field.is_skipped() || field.attrs.flash.get().is_some() {
            cx.error(
                field.span(),
                "`owner` needs a stored field: not `skip`, not `flash`",
            );
        }
    }
}

/// A session is deserialized into owned data, so borrowed fields cannot work.
fn check_no_lifetimes(cx: &Ctxt, container: &Container<'_>) {
    for param in &container.input.generics.params {
        if let GenericParam::Lifetime(lifetime) = param {
            cx.error(lifetime.span(), "`Session` cannot be derived for a struct with lifetime parameters: sessions are deserialized into owned data, use owned types such as `String`");
        }
    }
}

/// `flash` needs a `Vec<M>` to push to and take from.
fn check_flash_is_a_vec(cx: &Ctxt, container: &Container<'_>) {
    for field in &container.fields {
        if field.attrs.flash.get().is_some() && matches!(field.shape, Shape::Plain) {
            cx.error(
                field.ty.span(),
                "`flash` requires a field of type `Vec<M>`, where `M` is the message type",
            );
        }
    }
}

/// `csrf` goes on a `CsrfToken` field, once per struct.
fn check_csrf(cx: &Ctxt, container: &Container<'_>) {
    let mut seen = false;
    for field in container
        .fields
        .iter()
        .filter(|f| f.attrs.csrf.get().is_some())
    {
        let is_token = match field.ty {
            syn::Type::Path(path) => path
                .path
                .segments
                .last()
                .is_some_and(|s| s.ident == "CsrfToken"),
            _ => false,
        };
        if !is_token {
            cx.error(
                field.ty.span(),
                "`csrf` requires a field of type `sessionkit::CsrfToken`",
            );
        }
        if seen {
            cx.error(field.span(), "only one field can be `#[session(csrf)]`");
        }
        seen = true;
    }
}

/// The flash helpers `flash` and `take_flashes` exist once per struct.
fn check_single_flash(cx: &Ctxt, container: &Container<'_>) {
    let flashes: Vec<&Field<'_>> = container
        .fields
        .iter()
        .filter(|f| f.attrs.flash.get().is_some())
        .collect();
    for extra in flashes.iter().skip(1) {
        let span = extra.attrs.flash.span().unwrap_or_else(|| extra.span());
        cx.error(
            span,
            format!(
                "only one field can be `flash`, and `{}` is already",
                flashes[0].name
            ),
        );
    }
}

/// A skipped field has no accessors, so `flash` or `rename` on it would do nothing.
fn check_skip_excludes_others(cx: &Ctxt, container: &Container<'_>) {
    for field in container.fields.iter().filter(|f| f.is_skipped()) {
        if let Some(span) = field.attrs.flash.span() {
            cx.error(span, "`flash` cannot be combined with `skip`");
        }
        if let Some(span) = field.attrs.rename.span() {
            cx.error(span, "`rename` cannot be combined with `skip`");
        }
    }
}

/// serde writes the cookie, so a session key renamed for sessionkit must be the key serde
/// writes (through `rename` or `rename_all`).
fn check_rename_agrees_with_serde(cx: &Ctxt, container: &Container<'_>) {
    for field in &container.fields {
        let (Some(ours), Some(span)) = (field.attrs.rename.get(), field.attrs.rename.span()) else {
            continue;
        };
        if *ours == field.key {
            continue;
        }
        match &field.serde.rename.serialize {
            Some((serde_span, theirs)) => cx.error(*serde_span, format!("`#[serde(rename = {theirs:?})]` disagrees with `#[session(rename = {ours:?})]`: the session key is the serialized name, keep one of them")),
            None => cx.error(span, format!("`rename` needs `#[serde(rename = {ours:?})]` on the same field: serde writes the cookie under `{}`, so the key must be renamed for serde too", field.key)),
        }
    }
}

/// serde attributes a session cannot serve: a field written but never read (or the reverse),
/// a key left out when empty that cannot load again.
fn check_serde_attributes(cx: &Ctxt, container: &Container<'_>) {
    for field in &container.fields {
        crate::serde_attrs::check_field(cx, &container.serde, &field.serde, &field.name);
    }
}

/// Two fields may not own the same key (written, read or an alias), `rename_all` applied.
fn check_unique_keys(cx: &Ctxt, container: &Container<'_>) {
    let mut seen: BTreeMap<&str, &Field<'_>> = BTreeMap::new();
    for field in &container.fields {
        for key in &field.keys {
            match seen.insert(key, field) {
                Some(first) if first.name != field.name => cx.error(
                    field.span(),
                    format!(
                        "duplicate session key `{key}`: fields `{}` and `{}` both use it",
                        first.name, field.name
                    ),
                ),
                _ => {}
            }
        }
    }
}

/// No two generated methods may share a name, and none may be shadowed by `Session<T>`.
fn check_unique_accessors(cx: &Ctxt, container: &Container<'_>) {
    let mut seen: BTreeMap<String, &str> = BTreeMap::new();
    // A second `flash` or `csrf` field is reported by its own check, once.
    let mut helpers = (false, false);
    for field in &container.fields {
        let second = match field.shape {
            Shape::Flash(_) => std::mem::replace(&mut helpers.0, true),
            Shape::Csrf => std::mem::replace(&mut helpers.1, true),
            _ => false,
        };
        if second {
            continue;
        }
        for method in accessor_names(field) {
            if let Some((_, hidden)) = HIDDEN_TRAIT_METHODS.iter().find(|(m, _)| *m == method) {
                cx.error(
                    field.span(),
                    format!(
                        "accessor `{method}` of field `{}` would hide {hidden}; rename the field",
                        field.name
                    ),
                );
            } else if let Some((_, owner)) = RESERVED_METHODS.iter().find(|(m, _)| *m == method) {
                let owner = if owner.starts_with("sessionkit::") {
                    format!("`{owner}`")
                } else {
                    (*owner).to_owned()
                };
                cx.error(field.span(), format!("accessor `{method}` of field `{}` would be shadowed by {owner}, rename the field", field.name));
            } else if let Some(owner) = seen.get(&method) {
                cx.error(field.span(), format!("accessor `{method}` of field `{}` collides with an accessor of field `{owner}`, rename one of the fields", field.name));
            } else {
                seen.insert(method, &field.name);
            }
        }
    }
}

/// The names of the methods generated for `field`.
pub(crate) fn accessor_names(field: &Field<'_>) -> Vec<String> {
    let n = &field.name;
    match field.shape {
        _ if field.is_skipped() => Vec::new(),
        Shape::Flash(_) => vec!["flash".into(), "take_flashes".into()],
        Shape::Csrf => vec!["csrf_token".into(), "verify_csrf".into()],
        Shape::Optional(_) => vec![
            n.clone(),
            format!("set_{n}"),
            format!("pop_{n}"),
            format!("{n}_mut"),
            format!("has_{n}"),
        ],
        Shape::Plain => vec![
            n.clone(),
            format!("set_{n}"),
            format!("pop_{n}"),
            format!("{n}_mut"),
        ],
    }
}
