//! `Cookie` header parsing and `Set-Cookie` building.
//!
//! Parsing finds the session cookie by exact name in bounded work: it scans the header once and
//! keeps at most [`MAX_CANDIDATES`] values, never decoding the other cookies. Building writes the
//! header by hand from attributes validated once, when the configuration is built.

use std::fmt::{self, Write as _};

/// How many cookies carrying the session's name are considered, in header order.
///
/// Browsers send the cookie with the longest matching `Path` first, so a stale cookie set on a
/// narrower path can come before the live one. sessionkit uses the first of these that verifies;
/// if none does, the rejection of the first is reported.
pub const MAX_CANDIDATES: usize = 4;

/// The `SameSite` attribute of the session cookie.
///
/// `Lax` (the default) sends the cookie on top-level navigations from other sites, so links into
/// the app keep the user logged in, but not on cross-site subrequests or form posts. `Strict`
/// never sends it cross-site: use it for apps that are only entered by typing their address, such
/// as a bank or an admin console, where a logged-out first page after a link is acceptable.
/// `None` sends it everywhere and requires `Secure`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SameSite {
    /// Sent on same-site requests only.
    Strict,
    /// Sent on same-site requests and top-level cross-site navigations.
    #[default]
    Lax,
    /// Sent on every request; only valid with `Secure`.
    None,
}

impl fmt::Display for SameSite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Strict => "Strict",
            Self::Lax => "Lax",
            Self::None => "None",
        })
    }
}

/// The cookie attributes shared by every `Set-Cookie` of one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attributes {
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    pub(crate) same_site: SameSite,
}

impl Attributes {
    /// The text after `name=value` and `Max-Age`, e.g. `; Path=/; HttpOnly; Secure; SameSite=Lax`.
    pub(crate) fn suffix(&self) -> String {
        let mut out = format!("; Path={}", self.path);
        if let Some(domain) = &self.domain {
            let _ = write!(out, "; Domain={domain}");
        }
        if self.http_only {
            out.push_str("; HttpOnly");
        }
        if self.secure {
            out.push_str("; Secure");
        }
        let _ = write!(out, "; SameSite={}", self.same_site);
        out
    }
}

/// True for a valid cookie name: an RFC 9110 token.
pub(crate) fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// True for a valid `Path` or `Domain` value: printable ASCII without `;`.
pub(crate) fn is_attribute_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|b| (0x21..0x7f).contains(&b) && b != b';')
}

/// Collects up to [`MAX_CANDIDATES`] values of the cookie `name` from `Cookie` headers, in order.
pub(crate) fn find<'h>(headers: impl IntoIterator<Item = &'h str>, name: &str) -> Candidates<'h> {
    let mut found = Candidates::default();
    for header in headers {
        for pair in header.split(';') {
            let pair = pair.trim_matches([' ', '\t']);
            let Some((key, value)) = pair.split_once('=') else {
                continue;
            };
            if key.trim_end_matches([' ', '\t']) == name {
                let value = value.trim_start_matches([' ', '\t']);
                let value = strip_quotes(value);
                if found.len == MAX_CANDIDATES {
                    return found;
                }
                found.values[found.len] = value;
                found.len += 1;
            }
        }
    }
    found
}

/// RFC 6265 allows a cookie value in double quotes; the quotes are not part of the value.
fn strip_quotes(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// The values found for one cookie name, without allocating.
#[derive(Debug, Default)]
pub(crate) struct Candidates<'h> {
    values: [&'h str; MAX_CANDIDATES],
    len: usize,
}

impl<'h> Candidates<'h> {
    pub(crate) fn as_slice(&self) -> &[&'h str] {
        &self.values[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_by_exact_name_only() {
        let found = find(["theme=dark; xsession=a; session=b; sessions=c"], "session");
        assert_eq!(found.as_slice(), ["b"]);
    }

    #[test]
    fn keeps_duplicates_in_order_up_to_the_cap() {
        let header = "session=1; session=2; session=3; session=4; session=5";
        assert_eq!(find([header], "session").as_slice(), ["1", "2", "3", "4"]);
    }

    #[test]
    fn reads_several_headers_and_quoted_values() {
        let found = find(["a=1", "session=\"xyz\""], "session");
        assert_eq!(found.as_slice(), ["xyz"]);
    }

    #[test]
    fn suffix_lists_the_attributes_in_a_fixed_order() {
        let attributes = Attributes {
            path: "/app".into(),
            domain: Some("example.com".into()),
            secure: true,
            http_only: true,
            same_site: SameSite::Strict,
        };
        assert_eq!(
            attributes.suffix(),
            "; Path=/app; Domain=example.com; HttpOnly; Secure; SameSite=Strict"
        );
    }

    #[test]
    fn validates_names_and_attribute_values() {
        assert!(is_token("__Host-session"));
        assert!(!is_token("a b"));
        assert!(!is_token(""));
        assert!(!is_token("a;b"));
        assert!(!is_attribute_value("/a;b"));
        assert!(!is_attribute_value("/a\r\n"));
        assert!(is_attribute_value("/app"));
    }
}
