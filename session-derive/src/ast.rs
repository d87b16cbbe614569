//! A borrowed view of the input struct with its attributes parsed.

use proc_macro2::Span;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Fields, GenericArgument, Ident, PathArguments, Type};

use crate::attr::{ContainerAttrs, Ctxt, FieldAttrs};
use crate::serde_attrs::{RenameRule, SerdeContainer, SerdeField};

pub(crate) struct Container<'a> {
    pub(crate) input: &'a DeriveInput,
    pub(crate) attrs: ContainerAttrs,
    pub(crate) serde: SerdeContainer,
    pub(crate) fields: Vec<Field<'a>>,
}

pub(crate) struct Field<'a> {
    pub(crate) ident: &'a Ident,
    /// The field's visibility, which its accessors take.
    pub(crate) vis: &'a syn::Visibility,
    pub(crate) ty: &'a Type,
    pub(crate) attrs: FieldAttrs,
    /// The field name without `r#`, the stem of every accessor name.
    pub(crate) name: String,
    pub(crate) serde: SerdeField,
    /// The key serde writes the field under (`rename`, `rename_all` applied).
    pub(crate) key: String,
    /// Every key the field owns in the session: the one written, the one read, the aliases.
    /// Empty when serde does not store the field, or flattens it.
    pub(crate) keys: Vec<String>,
    pub(crate) shape: Shape<'a>,
}

pub(crate) enum Shape<'a> {
    /// `Option<V>`: accessors take and give `V`.
    Optional(&'a Type),
    /// A `#[session(flash)]` field `Vec<M>`.
    Flash(&'a Type),
    /// A `#[session(csrf)]` field (a `CsrfToken`).
    Csrf,
    /// Any other type.
    Plain,
}

/// Whether `ty` is spelt `CsrfToken` (with any path).
pub(crate) fn is_csrf_token(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.path.segments.last().is_some_and(|s| s.ident == "CsrfToken"))
}

/// Whether `ty` is spelt `f32` or `f64` (with any path).
pub(crate) fn is_float(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.segments.last().is_some_and(|s| s.ident == "f32" || s.ident == "f64"))
}

/// Whether `ty` is spelt `HashSet<..>` (with any path).
pub(crate) fn is_hash_set(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.segments.last().is_some_and(|s| s.ident == "HashSet"))
}

/// Whether `ty` is spelt `u128` or `i128` (with any path).
pub(crate) fn is_wide_integer(ty: &Type) -> bool {
    matches!(ty, Type::Path(path) if path.qself.is_none() && path.path.segments.last().is_some_and(|s| s.ident == "u128" || s.ident == "i128"))
}

/// How a getter hands a value out.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `String`: as `&str`.
    Str,
    /// A primitive, or a type marked `#[session(copy)]`: by value.
    Copy,
    /// Anything else: by reference.
    Ref,
}

/// The getter kind of `ty`, read from its spelling (a derive sees no types): `String` and the
/// primitive types by name, any other `Copy` type through `#[session(copy)]`.
pub(crate) fn kind(ty: &Type, marked_copy: bool) -> Kind {
    const PRIMITIVES: &[&str] = &[
        "bool", "char", "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64",
        "i128", "isize", "f32", "f64",
    ];
    if marked_copy {
        return Kind::Copy;
    }
    let Type::Path(path) = ty else {
        return Kind::Ref;
    };
    if path.qself.is_some() {
        return Kind::Ref;
    }
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let plain = path.path.segments.iter().all(|s| s.arguments.is_none());
    let segments: Vec<&str> = segments.iter().map(String::as_str).collect();
    match segments.as_slice() {
        _ if !plain => Kind::Ref,
        ["String"] | ["std" | "alloc", "string", "String"] => Kind::Str,
        [one] if PRIMITIVES.contains(one) => Kind::Copy,
        ["core" | "std", "primitive", one] if PRIMITIVES.contains(one) => Kind::Copy,
        _ => Kind::Ref,
    }
}

impl<'a> Container<'a> {
    /// Returns `None` (with an error recorded) when the input is not a struct with named fields.
    pub(crate) fn from_ast(cx: &Ctxt, input: &'a DeriveInput) -> Option<Self> {
        let named = match &input.data {
            Data::Struct(data) => match &data.fields {
                Fields::Named(named) => named,
                Fields::Unnamed(_) => {
                    cx.error(input.ident.span(), "`Session` cannot be derived for a tuple struct: session keys come from field names, use a struct with named fields");
                    return None;
                }
                Fields::Unit => {
                    cx.error(input.ident.span(), "`Session` cannot be derived for a unit struct: add the named fields the session holds");
                    return None;
                }
            },
            Data::Enum(data) => {
                cx.error(data.enum_token.span(), "`Session` cannot be derived for an enum: use a struct with named fields, and put the enum in a field");
                return None;
            }
            Data::Union(data) => {
                cx.error(
                    data.union_token.span(),
                    "`Session` cannot be derived for a union: use a struct with named fields",
                );
                return None;
            }
        };
        let attrs = ContainerAttrs::parse(cx, &input.attrs);
        let serde = SerdeContainer::parse(&input.attrs);
        let fields = named
            .named
            .iter()
            .map(|f| Field::from_ast(cx, &serde, f))
            .collect();
        Some(Self {
            input,
            attrs,
            serde,
            fields,
        })
    }

    pub(crate) fn krate(&self) -> syn::Path {
        self.attrs
            .krate
            .get()
            .cloned()
            .unwrap_or_else(|| syn::parse_quote!(::sessionkit))
    }
}

impl<'a> Field<'a> {
    fn from_ast(cx: &Ctxt, container: &SerdeContainer, field: &'a syn::Field) -> Self {
        let ident = field.ident.as_ref().expect("named field");
        let attrs = FieldAttrs::parse(cx, &field.attrs);
        let serde = SerdeField::parse(&field.attrs);
        let name = unraw(ident);
        let named = |explicit: &Option<(Span, String)>, rule: Option<RenameRule>| {
            explicit.as_ref().map_or_else(
                || rule.map_or_else(|| name.clone(), |r| r.apply(&name)),
                |(_, k)| k.clone(),
            )
        };
        let key = named(&serde.rename.serialize, container.rename_all.serialize);
        let read = named(&serde.rename.deserialize, container.rename_all.deserialize);
        let mut keys = Vec::new();
        if !serde.is_skipped() && serde.flatten.is_none() {
            for k in [&key, &read].into_iter().chain(&serde.aliases) {
                if !keys.contains(k) {
                    keys.push(k.clone());
                }
            }
        }
        let shape = if attrs.flash.get().is_some() {
            generic_argument(&field.ty, "Vec").map_or(Shape::Plain, Shape::Flash)
        } else if attrs.csrf.get().is_some() {
            Shape::Csrf
        } else {
            option_argument(&field.ty).map_or(Shape::Plain, Shape::Optional)
        };
        Self {
            ident,
            vis: &field.vis,
            ty: &field.ty,
            attrs,
            serde,
            name,
            key,
            keys,
            shape,
        }
    }

    pub(crate) fn span(&self) -> Span {
        self.ident.span()
    }

    /// No accessors: `#[session(skip)]`, or a field serde does not store.
    pub(crate) fn is_skipped(&self) -> bool {
        self.attrs.skip.get().is_some() || self.serde.is_skipped()
    }
}

fn unraw(ident: &Ident) -> String {
    let text = ident.to_string();
    text.strip_prefix("r#")
        .map_or_else(|| text.clone(), str::to_owned)
}

/// `V` when `ty` is `Option<V>`, `std::option::Option<V>` or `core::option::Option<V>`.
///
/// A path with other leading segments (`my::Option<V>`) is not `Option`. A bare `Option<V>` is
/// taken for the prelude's: if the user shadowed it with their own generic `Option`, the
/// generated code fails to type-check at the field rather than misbehave.
pub(crate) fn option_argument(ty: &Type) -> Option<&Type> {
    let Type::Path(path) = ty else { return None };
    if path.qself.is_some() {
        return None;
    }
    let segments: Vec<String> = path
        .path
        .segments
        .iter()
        .map(|s| s.ident.to_string())
        .collect();
    let is_option = match segments.as_slice() {
        [last] => last == "Option" && path.path.leading_colon.is_none(),
        [root, module, last] => {
            (root == "std" || root == "core") && module == "option" && last == "Option"
        }
        _ => false,
    };
    if !is_option {
        return None;
    }
    single_argument(path.path.segments.last()?)
}

/// `M` when `ty` is `Vec<M>` (or `std::vec::Vec<M>`, `alloc::vec::Vec<M>`).
fn generic_argument<'t>(ty: &'t Type, name: &str) -> Option<&'t Type> {
    let Type::Path(path) = ty else { return None };
    let last = path.path.segments.last()?;
    let prefix_ok = path.path.segments.len() == 1
        || path
            .path
            .segments
            .iter()
            .next()
            .is_some_and(|s| s.ident == "std" || s.ident == "alloc");
    if last.ident != name || !prefix_ok || path.qself.is_some() {
        return None;
    }
    single_argument(last)
}

fn single_argument(segment: &syn::PathSegment) -> Option<&Type> {
    let PathArguments::AngleBracketed(args) = &segment.arguments else {
        return None;
    };
    match args.args.iter().collect::<Vec<_>>().as_slice() {
        [GenericArgument::Type(inner)] => Some(inner),
        _ => None,
    }
}
