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
    /// `None` omits the attribute (browsers then apply their default, `Lax` in Chromium).
    pub(crate) same_site: Option<SameSite>,
    pub(crate) partitioned: bool,
}

/// How the `Set-Cookie` value is laid out: the attributes in a fixed order, written once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Layout {
    flask: bool,
    /// Between the value and the expiry.
    head: String,
    /// After the expiry.
    tail: String,
}

impl Layout {
    /// sessionkit's order: `; Max-Age=N; Path=/; Domain=d; HttpOnly; Secure; SameSite=Lax`.
    pub(crate) fn native(a: &Attributes) -> Self {
        let mut tail = format!("; Path={}", a.path);
        if let Some(domain) = &a.domain {
            let _ = write!(tail, "; Domain={domain}");
        }
        push_flag(&mut tail, a.http_only, "HttpOnly");
        push_flag(&mut tail, a.secure, "Secure");
        if let Some(same_site) = a.same_site {
            let _ = write!(tail, "; SameSite={same_site}");
        }
        push_flag(&mut tail, a.partitioned, "Partitioned");
        Self {
            flask: false,
            head: String::new(),
            tail,
        }
    }

    /// Werkzeug's `dump_cookie` order, as Flask sends it:
    /// `; Domain=d; Expires=..; Secure; HttpOnly; Path=/; SameSite=Lax; Partitioned`.
    #[cfg_attr(not(feature = "flask"), allow(dead_code))]
    pub(crate) fn flask(a: &Attributes) -> Self {
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
        Self {
            flask: true,
            head,
            tail,
        }
    }

    /// Appends the attributes; `max_age` is `Some` for a persistent cookie.
    pub(crate) fn attributes(&self, out: &mut String, max_age: Option<u64>, now: u64) {
        out.push_str(&self.head);
        match max_age {
            Some(seconds) if self.flask => {
                let expires = i64::try_from(now.saturating_add(seconds)).unwrap_or(i64::MAX);
                out.push_str("; Expires=");
                out.push_str(&crate::httpdate::imf_fixdate(expires));
            }
            Some(seconds) => {
                out.push_str("; Max-Age=");
                out.push_str(itoa(seconds, &mut [0u8; 20]));
            }
            None => {}
        }
        out.push_str(&self.tail);
    }

    /// The `Set-Cookie` value that removes the cookie, with the same attributes.
    pub(crate) fn removal(&self, name: &str) -> String {
        let expiry = if self.flask {
            "; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0"
        } else {
            "; Max-Age=0"
        };
        format!("{name}={}{expiry}{}", self.head, self.tail)
    }
}

fn push_flag(out: &mut String, on: bool, flag: &str) {
    if on {
        out.push_str("; ");
        out.push_str(flag);
    }
}

fn itoa(mut n: u64, buf: &mut [u8; 20]) -> &str {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    std::str::from_utf8(&buf[at..]).expect("digits are ASCII")
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
    fn native_layout_lists_the_attributes_in_a_fixed_order() {
        let mut out = String::from("s=v");
        Layout::native(&attributes()).attributes(&mut out, Some(60), 0);
        assert_eq!(
            out,
            "s=v; Max-Age=60; Path=/app; Domain=example.com; HttpOnly; Secure; SameSite=Strict"
        );
    }

    #[test]
    fn flask_layout_follows_werkzeug() {
        let layout = Layout::flask(&attributes());
        let mut out = String::from("s=v");
        layout.attributes(&mut out, Some(2_678_400), 1_767_225_600);
        assert_eq!(out, "s=v; Domain=example.com; Expires=Sun, 01 Feb 2026 00:00:00 GMT; Secure; HttpOnly; Path=/app; SameSite=Strict");
        assert_eq!(layout.removal("s"), "s=; Domain=example.com; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Max-Age=0; Secure; HttpOnly; Path=/app; SameSite=Strict");
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
