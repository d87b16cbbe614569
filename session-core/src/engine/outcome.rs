//! What the engine hands back: the session a request loaded, and the `Set-Cookie` to send.

use crate::error::Rejection;
use crate::session::TrackedSession;

/// The outcome of [`SessionConfig::load`](crate::SessionConfig::load): always a session, and why a cookie was refused.
#[derive(Debug)]
#[must_use = "the session must be saved after the request for changes to persist"]
pub struct Loaded<T> {
    /// The session: the cookie's data, or a fresh one.
    pub session: TrackedSession<T>,
    /// Why the incoming cookie was not used, if one came and was refused.
    pub rejected: Option<Rejection>,
}

/// What to send back: the full `Set-Cookie` header value, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use = "the command says which Set-Cookie header to send"]
pub enum CookieCommand {
    /// Send this `Set-Cookie` value.
    Set(String),
    /// Send this `Set-Cookie` value, which removes the cookie from the browser.
    Remove(String),
    /// Send no `Set-Cookie`.
    Unchanged,
}

impl CookieCommand {
    /// The `Set-Cookie` value to send, if any.
    #[must_use]
    pub fn header(&self) -> Option<&str> {
        match self {
            Self::Set(h) | Self::Remove(h) => Some(h),
            Self::Unchanged => None,
        }
    }

    /// The cookie to send as a [`cookie::Cookie`](::cookie::Cookie), if any: for a cookie jar
    /// such as axum-extra's `CookieJar` (`jar.add(cookie)`), or any code built on the `cookie`
    /// crate. It renders to the same `Set-Cookie` value as [`header`](Self::header); a removal
    /// is a cookie with an empty value and `Max-Age=0`. `cookie` is re-exported as
    /// `sessionkit::cookie`, so the versions always match.
    ///
    /// actix-web 4 builds on an older `cookie` (0.16): use
    /// [`to_actix_cookie`](Self::to_actix_cookie) there.
    ///
    /// ```
    /// # use sessionkit::{Key, Session, SessionConfig};
    /// # #[derive(Session, Default, serde::Serialize, serde::Deserialize)]
    /// # struct App { visits: u32 }
    /// # let config = SessionConfig::<App>::builder().key(Key::generate()?).build()?;
    /// # let now = std::time::SystemTime::now();
    /// let mut loaded = config.load("", now);
    /// loaded.session.set_visits(1_u32);
    /// let command = config.save(&loaded.session, now)?;
    /// let cookie: sessionkit::cookie::Cookie<'static> = command.to_cookie().expect("a cookie to set");
    /// assert_eq!(cookie.name(), "session");
    /// assert_eq!(cookie.http_only(), Some(true));
    /// assert_eq!(Some(cookie.to_string().as_str()), command.header());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[must_use]
    pub fn to_cookie(&self) -> Option<::cookie::Cookie<'static>> {
        ::cookie::Cookie::parse(self.header()?.to_owned()).ok()
    }
}

/// The `name=value` a browser sends back for a `Set-Cookie`; empty for none or a removal.
pub(crate) fn request_pair(command: &CookieCommand) -> String {
    match command {
        CookieCommand::Set(header) => header.split(';').next().unwrap_or_default().to_owned(),
        CookieCommand::Remove(_) | CookieCommand::Unchanged => String::new(),
    }
}
