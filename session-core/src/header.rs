//! `Cookie` header parsing and `Set-Cookie` building.
//!
//! Building uses the [`cookie`] crate: the attributes of one configuration are rendered by
//! `cookie::Cookie` once, when the configuration is built, and each response appends the value
//! and the expiry to that rendering. [`CookieCommand::to_cookie`](crate::CookieCommand::to_cookie)
//! hands the same cookie back as a `cookie::Cookie` for a cookie jar.
//!
//! Parsing stays hand-written, for a measured reason: it finds the session cookie by exact name
//! in one bounded pass over the raw header bytes, keeps at most [`MAX_CANDIDATES`] values and
//! never decodes the other cookies. `cookie::Cookie::split_parse` builds every cookie of the
//! header as text, so a header with a non-UTF-8 neighbour cannot be read at all, and on the
//! bench's three-cookie header it makes a whole LOAD 1.5x slower than this scan (`cargo bench
//! --bench session --all-features -- table`, row `LOAD via split_parse`).

use std::fmt::Write as _;

use cookie::Cookie;
pub use cookie::SameSite;

/// How many cookies carrying the session's name are considered, in header order.
///
/// Browsers send the cookie with the longest matching `Path` first, so a stale cookie set on a
/// narrower path can come before the live one. sessionkit uses the first of these that verifies;
/// if none does, the rejection of the first is reported.
pub const MAX_CANDIDATES: usize = 4;

/// The cookie attributes shared by every `Set-Cookie` of one configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Attributes {
    pub(crate) path: String,
    pub(crate) domain: Option<String>,
    pub(crate) secure: bool,
    pub(crate) http_only: bool,
    /// `None` omits the attribute (browsers then apply their default, `Lax` in Chromium).
    pub(crate) same_site: Option<SameSite>,
    pub(crate) partitioned: bool,
}

impl Attributes {
    /// The session cookie with these attributes and an empty value, as `cookie` models it.
    fn cookie(&self, name: &str) -> Cookie<'static> {
        let mut cookie = Cookie::new(name.to_owned(), "");
        cookie.set_path(self.path.clone());
        if let Some(domain) = &self.domain {
            cookie.set_domain(domain.clone());
        }
        cookie.set_http_only(self.http_only);
        cookie.set_secure(self.secure);
        cookie.set_same_site(self.same_site);
        cookie.set_partitioned(self.partitioned);
        cookie
    }
}

/// How the `Set-Cookie` value is laid out: the attributes rendered once, the value and the
/// expiry added per response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    #[cfg_attr(not(feature = "flask"), allow(dead_code))]
    flask: bool,
    /// Between the value and the expiry.
    head: String,
    /// After the expiry.
    tail: String,
    /// The whole `Set-Cookie` value that removes the cookie.
    removal: String,
}

impl Layout {
    /// The `cookie` crate's rendering: `; HttpOnly; SameSite=Lax; Secure; Path=/; Domain=d`,
    /// then `; Max-Age=N` for a persistent cookie.
    pub(crate) fn native(name: &str, a: &Attributes) -> Self {
        let mut cookie = a.cookie(name);
        let head = cookie.to_string()[name.len() + 1..].to_owned();
        cookie.set_max_age(cookie::time::Duration::ZERO);
        Self {
            flask: false,
            head,
            tail: String::new(),
            removal: cookie.to_string(),
        }
    }

    /// Werkzeug's `dump_cookie` order, as Flask sends it, so that a response reads the same as
    /// Flask's: `; Domain=d; Expires=..; Secure; HttpOnly; Path=/; SameSite=Lax; Partitioned`.
    /// The date is formatted by `time`, as `cookie` formats it.
    #[cfg_attr(not(feature = "flask"), allow(dead_code))]
    pub(crate) fn flask(name: &str, a: &Attributes) -> Self {
        let head = a
            .domain
            .as_ref()
            .map(|d| format!("; Domain={d}"))
            .unwrap_or_default();
        let mut tail = String::new();
        push_flag(&mut tail, a.secure, "Secure");
        push_flag(&mut tail, a.http_only, "HttpOnly");
        let _ = write!(tail, "; Path={}", a.path);
        if let Some(same_site) = a.same_site {
            let _ = write!(tail, "; SameSite={same_site}");
        }
        push_flag(&mut tail, a.partitioned, "Partitioned");
        let removal =
            format!("{name}={head}; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0{tail}");
        Self {
            flask: true,
            head,
            tail,
            removal,
        }
    }

    /// Appends the attributes; `max_age` is `Some` for a persistent cookie.
    #[cfg_attr(not(feature = "flask"), allow(unused_variables))]
    pub(crate) fn attributes(&self, out: &mut String, max_age: Option<u64>, now: u64) {
        out.push_str(&self.head);
        match max_age {
            #[cfg(feature = "flask")]
            Some(seconds) if self.flask => {
                let expires = i64::try_from(now.saturating_add(seconds)).unwrap_or(i64::MAX);
                out.push_str("; Expires=");
                out.push_str(&crate::httpdate::imf_fixdate(expires));
            }
            Some(seconds) => {
                let _ = write!(out, "; Max-Age={seconds}");
            }
            None => {}
        }
        out.push_str(&self.tail);
    }

    /// The `Set-Cookie` value that removes the cookie, with the same attributes.
    pub(crate) fn removal(&self) -> &str {
        &self.removal
    }
}

fn push_flag(out: &mut String, on: bool, flag: &str) {
    if on {
        out.push_str("; ");
        out.push_str(flag);
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

/// True for a `Domain` value a browser keeps: a host name (letters, digits, `-` in labels of
/// at most 63 bytes, at most 253 in all) or an IPv4 address, with an optional leading dot. A
/// port, a path, a comma or a space makes browsers drop the whole cookie.
pub(crate) fn is_host_name(domain: &str) -> bool {
    let host = domain.strip_prefix('.').unwrap_or(domain);
    let label_ok = |label: &str| {
        (1..=63).contains(&label.len())
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !label.starts_with('-')
            && !label.ends_with('-')
    };
    (1..=253).contains(&host.len()) && host.split('.').all(label_ok)
}

/// Collects up to [`MAX_CANDIDATES`] values of the cookie `name` from raw `Cookie` header
/// bytes, in order.
///
/// The scan works on bytes, not text: browsers send UTF-8 (and other non-token bytes) in the
/// values of unrelated cookies (`display_name=Zoë`), and such a cookie must not hide the
/// session cookie beside it. Only a session value holding such bytes is affected: it is kept
/// as a candidate and refused as malformed when opened.
pub(crate) fn find<'h>(headers: impl IntoIterator<Item = &'h [u8]>, name: &str) -> Candidates<'h> {
    let name = name.as_bytes();
    let mut found = Candidates::default();
    for header in headers {
        let mut start = 0;
        let ends = memchr::memchr_iter(b';', header).chain(std::iter::once(header.len()));
        for end in ends {
            let pair = trim_blanks(&header[start..end]);
            start = end + 1;
            let Some(eq) = memchr::memchr(b'=', pair) else {
                continue;
            };
            let (key, value) = (&pair[..eq], &pair[eq + 1..]);
            if trim_blanks(key) == name {
                let value = strip_quotes(trim_blanks(value));
                // An empty value is no cookie (what a removal leaves behind; Flask does the same).
                if value.is_empty() {
                    continue;
                }
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

fn trim_blanks(mut bytes: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = bytes {
        bytes = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = bytes {
        bytes = rest;
    }
    bytes
}

/// RFC 6265 allows a cookie value in double quotes; the quotes are not part of the value.
fn strip_quotes(value: &[u8]) -> &[u8] {
    match value {
        [b'"', inner @ .., b'"'] => inner,
        _ => value,
    }
}

/// The values found for one cookie name, without allocating.
#[derive(Debug, Default)]
pub(crate) struct Candidates<'h> {
    values: [&'h [u8]; MAX_CANDIDATES],
    len: usize,
}

impl<'h> Candidates<'h> {
    pub(crate) fn as_slice(&self) -> &[&'h [u8]] {
        &self.values[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_by_exact_name_only() {
        let found = find(
            [&b"theme=dark; xsession=a; session=b; sessions=c"[..]],
            "session",
        );
        assert_eq!(found.as_slice(), [b"b"]);
    }

    #[test]
    fn keeps_duplicates_in_order_up_to_the_cap() {
        let header = "session=1; session=2; session=3; session=4; session=5";
        let found = find([header.as_bytes()], "session");
        assert_eq!(found.as_slice(), [b"1", b"2", b"3", b"4"]);
    }

    #[test]
    fn reads_several_headers_and_quoted_values() {
        let found = find([&b"a=1"[..], b"session=\"xyz\""], "session");
        assert_eq!(found.as_slice(), [b"xyz"]);
    }

    #[test]
    fn bytes_outside_ascii_in_other_cookies_are_skipped_over() {
        let header = "display_name=Zo\u{eb}; session=abc; city=K\u{f8}benhavn".as_bytes();
        assert_eq!(find([header], "session").as_slice(), [b"abc"]);
        let latin1 = b"name=Zo\xeb; session=abc; x=\xff\xfe";
        assert_eq!(find([&latin1[..]], "session").as_slice(), [b"abc"]);
    }

    fn attributes() -> Attributes {
        Attributes {
            path: "/app".into(),
            domain: Some("example.com".into()),
            secure: true,
            http_only: true,
            same_site: Some(SameSite::Strict),
            partitioned: false,
        }
    }

    #[test]
    fn native_layout_is_the_cookie_crates_rendering() {
        let layout = Layout::native("s", &attributes());
        let mut out = String::from("s=v");
        layout.attributes(&mut out, Some(60), 0);
        let mut expected = attributes().cookie("s");
        expected.set_value("v");
        expected.set_max_age(cookie::time::Duration::seconds(60));
        assert_eq!(out, expected.to_string());
        assert_eq!(
            out,
            "s=v; HttpOnly; SameSite=Strict; Secure; Path=/app; Domain=example.com; Max-Age=60"
        );
        assert_eq!(
            layout.removal(),
            "s=; HttpOnly; SameSite=Strict; Secure; Path=/app; Domain=example.com; Max-Age=0"
        );
    }

    #[cfg(feature = "flask")]
    #[test]
    fn flask_layout_follows_werkzeug() {
        let layout = Layout::flask("s", &attributes());
        let mut out = String::from("s=v");
        layout.attributes(&mut out, Some(2_678_400), 1_767_225_600);
        assert_eq!(out, "s=v; Domain=example.com; Expires=Sun, 01 Feb 2026 00:00:00 GMT; Secure; HttpOnly; Path=/app; SameSite=Strict");
        assert_eq!(layout.removal(), "s=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; Path=/app; SameSite=Strict");
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

    #[test]
    fn host_names_are_told_from_what_browsers_drop() {
        for good in [
            "example.com",
            ".example.com",
            "a-b.example.co.uk",
            "localhost",
            "10.0.0.1",
        ] {
            assert!(is_host_name(good), "{good}");
        }
        for bad in [
            "example.com:8080",
            "a.com,b.com",
            "exa mple.com",
            "https://example.com",
            "example.com/app",
            "",
            ".",
            "-bad.com",
            "bad-.com",
            "a..b",
            "ex\u{e4}mple.com",
        ] {
            assert!(!is_host_name(bad), "{bad}");
        }
    }
}
