//! `#[serde(...)]` read as serde reads it, for the keys a session writes and reads: every
//! attribute line, `rename` short, long (`rename(serialize = .., deserialize = ..)`) and split
//! over lines, `rename_all` on the struct, `alias`, `skip*`, `default`, `flatten`.

use proc_macro2::Span;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Attribute, LitStr};

use crate::attr::{skip_value, Ctxt};

/// A name for each direction, as serde keeps them.
pub(crate) struct Both<T> {
    pub(crate) serialize: Option<T>,
    pub(crate) deserialize: Option<T>,
}

impl<T> Default for Both<T> {
    fn default() -> Self {
        Self {
            serialize: None,
            deserialize: None,
        }
    }
}

/// The serde attributes of the struct that decide its keys.
#[derive(Default)]
pub(crate) struct SerdeContainer {
    pub(crate) rename_all: Both<RenameRule>,
    pub(crate) default: bool,
    /// Serialized through another type (`into`, `from`, `try_from`, `remote`).
    pub(crate) custom: bool,
}

/// The serde attributes of a field that decide its keys.
#[derive(Default)]
pub(crate) struct SerdeField {
    pub(crate) rename: Both<(Span, String)>,
    pub(crate) aliases: Vec<String>,
    pub(crate) skip_serializing: Option<Span>,
    pub(crate) skip_deserializing: Option<Span>,
    pub(crate) skip_serializing_if: Option<Span>,
    pub(crate) default: bool,
    pub(crate) flatten: Option<Span>,
    /// Serialized by code of the app's own (`with`, `serialize_with`, `getter`).
    pub(crate) custom: bool,
}

/// serde's `rename_all` rules, as they apply to field names (which are snake case).
#[derive(Clone, Copy)]
pub(crate) enum RenameRule {
    Lower,
    Upper,
    Pascal,
    Camel,
    Snake,
    ScreamingSnake,
    Kebab,
    ScreamingKebab,
}

impl RenameRule {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "lowercase" => Self::Lower,
            "UPPERCASE" => Self::Upper,
            "PascalCase" => Self::Pascal,
            "camelCase" => Self::Camel,
            "snake_case" => Self::Snake,
            "SCREAMING_SNAKE_CASE" => Self::ScreamingSnake,
            "kebab-case" => Self::Kebab,
            "SCREAMING-KEBAB-CASE" => Self::ScreamingKebab,
            _ => return None,
        })
    }

    /// The key serde writes for the field `name`.
    pub(crate) fn apply(self, name: &str) -> String {
        match self {
            Self::Lower | Self::Snake => name.to_owned(),
            Self::Upper | Self::ScreamingSnake => name.to_ascii_uppercase(),
            Self::Pascal => pascal(name),
            Self::Camel => {
                let pascal = pascal(name);
                let mut chars = pascal.chars();
                chars.next().map_or_else(String::new, |first| {
                    first.to_ascii_lowercase().to_string() + chars.as_str()
                })
            }
            Self::Kebab => name.replace('_', "-"),
            Self::ScreamingKebab => name.to_ascii_uppercase().replace('_', "-"),
        }
    }
}

fn pascal(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    let mut capitalize = true;
    for ch in name.chars() {
        if ch == '_' {
            capitalize = true;
        } else if capitalize {
            out.push(ch.to_ascii_uppercase());
            capitalize = false;
        } else {
            out.push(ch);
        }
    }
    out
}

impl SerdeContainer {
    pub(crate) fn parse(attrs: &[Attribute]) -> Self {
        let mut out = Self::default();
        for_each_serde_meta(attrs, |meta| {
            if meta.path.is_ident("rename_all") {
                for_each_direction(meta, |direction, lit| {
                    if let Some(rule) = RenameRule::parse(&lit.value()) {
                        direction.pick(&mut out.rename_all, rule);
                    }
                });
            } else if meta.path.is_ident("default") {
                out.default = true;
                skip_value(meta);
            } else {
                out.custom |= ["into", "from", "try_from", "remote"]
                    .iter()
                    .any(|k| meta.path.is_ident(k));
                skip_value(meta);
            }
        });
        out
    }
}

impl SerdeField {
    pub(crate) fn parse(attrs: &[Attribute]) -> Self {
        let mut out = Self::default();
        for_each_serde_meta(attrs, |meta| {
            let span = meta.path.span();
            let path = &meta.path;
            if path.is_ident("rename") {
                for_each_direction(meta, |direction, lit| {
                    direction.pick(&mut out.rename, (lit.span(), lit.value()));
                });
            } else if path.is_ident("alias") {
                if let Ok(lit) = meta
                    .value()
                    .and_then(syn::parse::ParseBuffer::parse::<LitStr>)
                {
                    out.aliases.push(lit.value());
                }
            } else if path.is_ident("skip") {
                out.skip_serializing = Some(span);
                out.skip_deserializing = Some(span);
            } else if path.is_ident("skip_serializing") {
                out.skip_serializing = Some(span);
            } else if path.is_ident("skip_deserializing") {
                out.skip_deserializing = Some(span);
            } else if path.is_ident("skip_serializing_if") {
                out.skip_serializing_if = Some(span);
                skip_value(meta);
            } else if path.is_ident("default") {
                out.default = true;
                skip_value(meta);
            } else if path.is_ident("flatten") {
                out.flatten = Some(span);
            } else {
                out.custom |= ["with", "serialize_with", "getter"]
                    .iter()
                    .any(|k| path.is_ident(k));
                skip_value(meta);
            }
        });
        out
    }

    /// Whether serde neither writes nor reads the field.
    pub(crate) fn is_skipped(&self) -> bool {
        self.skip_serializing.is_some() && self.skip_deserializing.is_some()
    }
}

#[derive(Clone, Copy)]
enum Direction {
    Both,
    Serialize,
    Deserialize,
}

impl Direction {
    fn pick<T: Clone>(self, both: &mut Both<T>, value: T) {
        if matches!(self, Self::Both | Self::Serialize) {
            both.serialize = Some(value.clone());
        }
        if matches!(self, Self::Both | Self::Deserialize) {
            both.deserialize = Some(value);
        }
    }
}

/// Every item of every `#[serde(...)]` line. serde itself reports malformed ones.
fn for_each_serde_meta(attrs: &[Attribute], mut f: impl FnMut(&ParseNestedMeta<'_>)) {
    for attr in attrs.iter().filter(|a| a.path().is_ident("serde")) {
        let _ = attr.parse_nested_meta(|meta| {
            f(&meta);
            Ok(())
        });
    }
}

/// `key = "x"` (both directions) or `key(serialize = "x", deserialize = "y")`.
fn for_each_direction(meta: &ParseNestedMeta<'_>, mut f: impl FnMut(Direction, LitStr)) {
    if meta.input.peek(syn::Token![=]) {
        if let Ok(lit) = meta
            .value()
            .and_then(syn::parse::ParseBuffer::parse::<LitStr>)
        {
            f(Direction::Both, lit);
        }
        return;
    }
    let _ = meta.parse_nested_meta(|inner| {
        let direction = if inner.path.is_ident("serialize") {
            Direction::Serialize
        } else if inner.path.is_ident("deserialize") {
            Direction::Deserialize
        } else {
            skip_value(&inner);
            return Ok(());
        };
        if let Ok(lit) = inner
            .value()
            .and_then(syn::parse::ParseBuffer::parse::<LitStr>)
        {
            f(direction, lit);
        }
        Ok(())
    });
}

/// Errors for serde attributes a session cannot serve.
pub(crate) fn check_field(cx: &Ctxt, container: &SerdeContainer, field: &SerdeField, name: &str) {
    match (field.skip_serializing, field.skip_deserializing) {
        (Some(span), None) => cx.error(span, format!("`skip_serializing` on field `{name}` loses its value at every save: use `skip` (not stored) or store it")),
        (None, Some(span)) => cx.error(span, format!("`skip_deserializing` on field `{name}` is written but never read back: use `skip` (not stored) or store it")),
        _ => {}
    }
    if let Some(span) = field.skip_serializing_if {
        if !field.default && !container.default {
            cx.error(span, format!("`skip_serializing_if` on field `{name}` needs `#[serde(default)]` on the field: a session saved without the key must load"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RenameRule;

    #[test]
    fn rules_apply_as_serde_applies_them_to_fields() {
        let cases = [
            ("lowercase", "user_id"),
            ("UPPERCASE", "USER_ID"),
            ("PascalCase", "UserId"),
            ("camelCase", "userId"),
            ("snake_case", "user_id"),
            ("SCREAMING_SNAKE_CASE", "USER_ID"),
            ("kebab-case", "user-id"),
            ("SCREAMING-KEBAB-CASE", "USER-ID"),
        ];
        for (rule, key) in cases {
            assert_eq!(
                RenameRule::parse(rule).unwrap().apply("user_id"),
                key,
                "{rule}"
            );
        }
        assert!(RenameRule::parse("Title Case").is_none());
    }
}
