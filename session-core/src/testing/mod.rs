//! Testing an app across requests in-process: a [`TestClock`] the session layer reads, and a
//! [`CookieJar`] that keeps cookies as a browser would (`Max-Age` and `Expires`, removal,
//! `Path`), with a client for each framework: [`AxumClient`] drives
//! an axum `Router`, [`ActixClient`] an actix-web service. Expiry
//! is tested by moving the clock, never by sleeping.

#[cfg(feature = "actix")]
mod actix;
#[cfg(feature = "axum")]
mod axum;

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

#[cfg(feature = "actix")]
#[cfg_attr(docsrs, doc(cfg(feature = "actix")))]
pub use self::actix::ActixClient;
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use self::axum::AxumClient;

/// A clock a test moves: give [`reader`](TestClock::reader) to the session layer
/// (`SessionLayer::clock`, `SessionMiddleware::clock`) and the same clock to the client.
#[derive(Debug, Clone)]
pub struct TestClock(Arc<Mutex<SystemTime>>);

impl TestClock {
    /// A clock showing `start`.
    #[must_use]
    pub fn new(start: SystemTime) -> Self {
        Self(Arc::new(Mutex::new(start)))
    }

    /// The time it shows.
    #[must_use]
    pub fn now(&self) -> SystemTime {
        *self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Moves it forward.
    pub fn advance(&self, by: Duration) {
        let mut now = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *now += by;
    }

    /// A function reading this clock, for the session layer.
    pub fn reader(&self) -> impl Fn() -> SystemTime + Send + Sync + 'static {
        let clock = self.clone();
        move || clock.now()
    }
}

/// One cookie as a browser keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Kept {
    name: String,
    value: String,
    path: String,
    /// `None`: until the browser closes.
    expires: Option<SystemTime>,
}

/// Cookies as a browser keeps them between requests.
#[derive(Debug, Default, Clone)]
pub struct CookieJar {
    cookies: Vec<Kept>,
}

impl CookieJar {
    /// An empty jar.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes one `Set-Cookie` value from a response to a request for `request_path` at `now`:
    /// a new cookie, a replaced one, or (`Max-Age=0`, an `Expires` in the past) a removal. A
    /// value that does not parse is ignored, as a browser ignores it.
    pub fn store(&mut self, set_cookie: &str, request_path: &str, now: SystemTime) {
        let Ok(cookie) = ::cookie::Cookie::parse(set_cookie) else {
            return;
        };
        let path = cookie
            .path()
            .filter(|p| p.starts_with('/'))
            .map_or_else(|| default_path(request_path), str::to_owned);
        let expires = match (cookie.max_age(), cookie.expires_datetime()) {
            (Some(age), _) => Some(if age.is_negative() {
                std::time::UNIX_EPOCH
            } else {
                now + Duration::from_secs(age.whole_seconds().unsigned_abs())
            }),
            (None, Some(at)) => Some(
                std::time::UNIX_EPOCH
                    + Duration::from_secs(u64::try_from(at.unix_timestamp()).unwrap_or(0)),
            ),
            (None, None) => None,
        };
        let (name, value) = (cookie.name().to_owned(), cookie.value().to_owned());
        self.cookies.retain(|c| !(c.name == name && c.path == path));
        if expires.is_none_or(|end| end > now) {
            self.cookies.push(Kept {
                name,
                value,
                path,
                expires,
            });
        }
    }

    /// The `Cookie` header a browser sends with a request for `path` at `now`: the cookies whose
    /// path matches and that have not expired, longer paths first. `None` when there are none.
    #[must_use]
    pub fn header(&self, path: &str, now: SystemTime) -> Option<String> {
        let mut sent: Vec<&Kept> = self
            .cookies
            .iter()
            .filter(|c| c.expires.is_none_or(|end| end > now) && path_matches(path, &c.path))
            .collect();
        sent.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
        let pairs: Vec<String> = sent
            .iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    /// The value of the cookie `name` the browser would send to `/` at `now`, if any.
    #[must_use]
    pub fn get(&self, name: &str, now: SystemTime) -> Option<&str> {
        self.cookies
            .iter()
            .find(|c| c.name == name && c.expires.is_none_or(|end| end > now))
            .map(|c| c.value.as_str())
    }

    /// Forgets the cookies without an expiry, as a browser does when it closes.
    pub fn close_browser(&mut self) {
        self.cookies.retain(|c| c.expires.is_some());
    }
}

/// RFC 6265 §5.1.4: the directory of the request path.
fn default_path(request_path: &str) -> String {
    let path = request_path.split('?').next().unwrap_or("/");
    match path.rfind('/') {
        Some(0) | None => "/".to_owned(),
        Some(at) => path[..at].to_owned(),
    }
}

/// RFC 6265 §5.1.4: `request` is `cookie` or below it.
fn path_matches(request: &str, cookie: &str) -> bool {
    let request = request.split('?').next().unwrap_or("/");
    request == cookie
        || (request.starts_with(cookie)
            && (cookie.ends_with('/') || request.as_bytes().get(cookie.len()) == Some(&b'/')))
}

/// A response a client received.
#[derive(Debug, Clone)]
pub struct TestResponse {
    /// The status code.
    pub status: u16,
    /// Every header, as `(name, value)`, values as text.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl TestResponse {
    /// A response received for a request to `path` at `now`: its `Set-Cookie` values go into
    /// `jar`, as a browser takes them.
    fn received<'h>(
        jar: &mut CookieJar,
        path: &str,
        now: SystemTime,
        status: u16,
        headers: impl IntoIterator<Item = (&'h str, &'h [u8])>,
        body: &[u8],
    ) -> Self {
        let headers: Vec<(String, String)> = headers
            .into_iter()
            .map(|(n, v)| (n.to_owned(), String::from_utf8_lossy(v).into_owned()))
            .collect();
        for (_, value) in headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
        {
            jar.store(value, path, now);
        }
        Self {
            status,
            headers,
            body: String::from_utf8_lossy(body).into_owned(),
        }
    }

    /// The values of the header `name` (case-insensitive).
    #[must_use]
    pub fn header_values(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jar_keeps_cookies_as_a_browser_does() {
        let t0 = std::time::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let mut jar = CookieJar::new();
        jar.store("session=a; Path=/; Max-Age=60; HttpOnly", "/login", t0);
        jar.store("admin=b; Path=/admin", "/", t0);
        jar.store("theme=dark", "/prefs/page", t0);
        assert_eq!(jar.header("/", t0).as_deref(), Some("session=a"));
        assert_eq!(
            jar.header("/admin/x", t0).as_deref(),
            Some("admin=b; session=a")
        );
        assert_eq!(
            jar.header("/administrator", t0).as_deref(),
            Some("session=a")
        );
        assert_eq!(
            jar.header("/prefs/other", t0).as_deref(),
            Some("theme=dark; session=a")
        );
        // Max-Age runs out; a removal removes.
        assert_eq!(jar.get("session", t0 + Duration::from_secs(61)), None);
        jar.store("admin=; Path=/admin; Max-Age=0", "/admin", t0);
        assert_eq!(jar.header("/admin", t0).as_deref(), Some("session=a"));
        jar.close_browser();
        assert_eq!(jar.header("/prefs/x", t0).as_deref(), Some("session=a"));
    }
}
