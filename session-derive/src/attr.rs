//! Parsing `#[session(...)]` into typed values (`serde_attrs.rs` reads `#[serde(...)]`).

use std::cell::RefCell;

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr};

/// Collects every error of one derive so the user sees them all at once.
#[derive(Default)]
pub(crate) struct Ctxt {
    errors: RefCell<Vec<syn::Error>>,
}

impl Ctxt {
    pub(crate) fn error(&self, span: Span, message: impl std::fmt::Display) {
        self.errors
            .borrow_mut()
            .push(syn::Error::new(span, message));
    }

    pub(crate) fn syn_error(&self, error: syn::Error) {
        self.errors.borrow_mut().push(error);
    }

    pub(crate) fn into_errors(self) -> Vec<syn::Error> {
        self.errors.into_inner()
    }
}

/// A value set at most once, remembering where.
pub(crate) struct Once<T> {
    value: Option<(Span, T)>,
    name: &'static str,
}

impl<T> Once<T> {
    fn new(name: &'static str) -> Self {
        Self { value: None, name }
    }

    fn set(&mut self, cx: &Ctxt, span: Span, value: T) {
        if self.value.is_some() {
            cx.error(span, format!("duplicate session attribute `{}`", self.name));
        } else {
            self.value = Some((span, value));
        }
    }

    pub(crate) fn get(&self) -> Option<&T> {
        self.value.as_ref().map(|(_, v)| v)
    }

    pub(crate) fn span(&self) -> Option<Span> {
        self.value.as_ref().map(|(s, _)| *s)
    }
}

/// `#[session(cookie = "..", lifetime = "..", version = N, crate = "..")]` on the struct.
pub(crate) struct ContainerAttrs {
    pub(crate) cookie: Once<String>,
    pub(crate) lifetime: Once<u64>,
    pub(crate) version: Once<u32>,
    pub(crate) krate: Once<syn::Path>,
}

const CONTAINER_KEYS: &str = "`cookie`, `lifetime`, `version`, `crate`";
const FIELD_KEYS: &str = "`rename`, `skip`, `flash`, `owner`, `copy`, `csrf`";

impl ContainerAttrs {
    pub(crate) fn parse(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = Self {
            cookie: Once::new("cookie"),
            lifetime: Once::new("lifetime"),
            version: Once::new("version"),
            krate: Once::new("crate"),
        };
        for attr in attrs.iter().filter(|a| a.path().is_ident("session")) {
            let result = attr.parse_nested_meta(|meta| {
                out.parse_one(cx, &meta);
                Ok(())
            });
            if let Err(e) = result {
                cx.syn_error(e);
            }
        }
        out
    }

    fn parse_one(&mut self, cx: &Ctxt, meta: &ParseNestedMeta<'_>) {
        let path = &meta.path;
        let span = path.span();
        if path.is_ident("cookie") {
            if let Some(lit) = string_value(cx, meta) {
                if is_token(&lit.value()) {
                    self.cookie.set(cx, span, lit.value());
                } else {
                    cx.error(lit.span(), format!("invalid cookie name {:?}, expected letters, digits and `-_.!#$%&'*+^`|~`", lit.value()));
                }
            }
        } else if path.is_ident("lifetime") {
            if let Some(lit) = string_value(cx, meta) {
                match parse_duration(&lit.value()) {
                    Some(secs) => self.lifetime.set(cx, span, secs),
                    None => cx.error(lit.span(), format!("invalid lifetime {:?}, expected a positive number followed by one of `s`, `m`, `h`, `d`, such as \"31d\"", lit.value())),
                }
            }
        } else if path.is_ident("max_age") {
            cx.error(span, "`max_age` is now `lifetime`, the name the builder uses too (`.lifetime(..)`): write `lifetime = \"31d\"`");
            skip_value(meta);
        } else if path.is_ident("version") {
            if let Some(n) = version_value(cx, meta) {
                self.version.set(cx, span, n);
            }
        } else if path.is_ident("crate") {
            if let Some(lit) = string_value(cx, meta) {
                match lit.parse::<syn::Path>() {
                    Ok(p) => self.krate.set(cx, span, p),
                    Err(_) => cx.error(lit.span(), format!("invalid crate path {:?}", lit.value())),
                }
            }
        } else {
            let hint = if is_field_key(path) {
                " (this one belongs on a field)"
            } else {
                ""
            };
            cx.error(
                span,
                format!(
                    "unknown session attribute `{}`, expected one of {CONTAINER_KEYS}{hint}",
                    path_text(path)
                ),
            );
            skip_value(meta);
        }
    }
}

/// `#[session(rename = "..", skip, flash, owner, copy, csrf)]` on a field.
pub(crate) struct FieldAttrs {
    pub(crate) rename: Once<String>,
    pub(crate) skip: Once<()>,
    pub(crate) flash: Once<()>,
    pub(crate) owner: Once<()>,
    /// The getter returns the value (the type is `Copy`), not a reference.
    pub(crate) copy: Once<()>,
    /// A `CsrfToken` field: `csrf_token()` and `verify_csrf()`.
    pub(crate) csrf: Once<()>,
}

impl FieldAttrs {
    /// The attribute a flag key (one without a value) sets.
    fn flag(&mut self, path: &syn::Path) -> Option<&mut Once<()>> {
        Some(if path.is_ident("skip") {
            &mut self.skip
        } else if path.is_ident("flash") {
            &mut self.flash
        } else if path.is_ident("owner") {
            &mut self.owner
        } else if path.is_ident("copy") {
            &mut self.copy
        } else if path.is_ident("csrf") {
            &mut self.csrf
        } else {
            return None;
        })
    }

    pub(crate) fn parse(cx: &Ctxt, attrs: &[Attribute]) -> Self {
        let mut out = Self {
            rename: Once::new("rename"),
            skip: Once::new("skip"),
            flash: Once::new("flash"),
            owner: Once::new("owner"),
            copy: Once::new("copy"),
            csrf: Once::new("csrf"),
        };
        for attr in attrs {
            if attr.path().is_ident("session") {
                let result = attr.parse_nested_meta(|meta| {
                    out.parse_one(cx, &meta);
                    Ok(())
                });
                if let Err(e) = result {
                    cx.syn_error(e);
                }
            }
        }
        out
    }

    fn parse_one(&mut self, cx: &Ctxt, meta: &ParseNestedMeta<'_>) {
        let path = &meta.path;
        let span = path.span();
        if path.is_ident("rename") {
            if let Some(lit) = string_value(cx, meta) {
                self.rename.set(cx, span, lit.value());
            }
        } else if let Some(flag) = self.flag(path) {
            if meta.input.is_empty() || meta.input.peek(syn::Token![,]) {
                flag.set(cx, span, ());
            } else {
                let name = path_text(path);
                cx.error(
                    span,
                    format!("`{name}` takes no value: write `#[session({name})]`"),
                );
                skip_value(meta);
            }
        } else {
            let hint = if is_container_key(path) {
                " (this one belongs on the struct)"
            } else {
                ""
            };
            cx.error(
                span,
                format!(
                    "unknown session field attribute `{}`, expected one of {FIELD_KEYS}{hint}",
                    path_text(path)
                ),
            );
            skip_value(meta);
        }
    }
}

/// The whole number `version = N` gives (a `u32`), or `None` after reporting why not.
fn version_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> Option<u32> {
    let bad = |cx: &Ctxt, span: Span| {
        cx.error(span, "invalid `version`, expected a whole number from 0 to 4294967295, such as `version = 2`");
    };
    match meta
        .value()
        .and_then(syn::parse::ParseBuffer::parse::<syn::Expr>)
    {
        Ok(syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Int(lit),
            ..
        })) => match lit.base10_parse::<u32>() {
            Ok(n) => return Some(n),
            Err(_) => bad(cx, lit.span()),
        },
        Ok(other) => bad(cx, other.span()),
        Err(e) => cx.syn_error(e),
    }
    None
}

fn string_value(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> Option<LitStr> {
    match meta
        .value()
        .and_then(syn::parse::ParseBuffer::parse::<LitStr>)
    {
        Ok(lit) => Some(lit),
        Err(e) => {
            cx.syn_error(e);
            None
        }
    }
}

/// Consumes `= value` or `(...)` after an unknown key so parsing can go on to the next one.
pub(crate) fn skip_value(meta: &ParseNestedMeta<'_>) {
    if let Ok(value) = meta.value() {
        let _ = value.parse::<syn::Expr>();
    } else if meta.input.peek(syn::token::Paren) {
        let _ = meta.parse_nested_meta(|inner| {
            skip_value(&inner);
            Ok(())
        });
    }
}

fn is_field_key(path: &syn::Path) -> bool {
    ["rename", "skip", "flash", "owner", "copy", "csrf"]
        .iter()
        .any(|k| path.is_ident(k))
}

fn is_container_key(path: &syn::Path) -> bool {
    ["cookie", "lifetime", "max_age", "version", "crate"]
        .iter()
        .any(|k| path.is_ident(k))
}

fn path_text(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}

/// A cookie name must be an HTTP token.
fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `"90s"`, `"15m"`, `"12h"`, `"31d"` into seconds.
pub(crate) fn parse_duration(text: &str) -> Option<u64> {
    let unit = match text.chars().last()? {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        _ => return None,
    };
    let digits = &text[..text.len() - 1];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits
        .parse::<u64>()
        .ok()?
        .checked_mul(unit)
        .filter(|&s| s > 0)
}

#[cfg(test)]
mod tests {
    use super::parse_duration;

    #[test]
    fn durations_take_one_unit() {
        assert_eq!(parse_duration("90s"), Some(90));
        assert_eq!(parse_duration("15m"), Some(900));
        assert_eq!(parse_duration("12h"), Some(43_200));
        assert_eq!(parse_duration("31d"), Some(2_678_400));
        for bad in [
            "",
            "d",
            "31",
            "31 d",
            "-1d",
            "0s",
            "1w",
            "1.5h",
            "99999999999999999999d",
        ] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }
}
