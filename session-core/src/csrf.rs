//! [`CsrfToken`]: a per-session token against cross-site request forgery, kept in the session
//! as Flask-WTF keeps its own.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use subtle::ConstantTimeEq as _;

/// A CSRF token kept in the session: generated on first use from the operating system's
/// generator (32 bytes, base64url), compared in constant time.
///
/// Put it in the session struct with `#[session(csrf)]`, which generates `csrf_token()` (for
/// the form) and `verify_csrf(submitted)` (for the handler that receives it):
///
/// ```
/// use sessionkit::{CsrfToken, Session};
///
/// #[derive(Session, serde::Serialize, serde::Deserialize, Default)]
/// struct App {
///     user: Option<String>,
///     #[session(csrf)]
///     csrf: CsrfToken,
/// }
///
/// let mut session = App::default();
/// let token = session.csrf_token();              // into a hidden form field
/// assert_eq!(token.len(), 43);
/// assert_eq!(session.csrf_token(), token);       // the same token for the session's life
/// assert!(session.verify_csrf(&token));
/// assert!(!session.verify_csrf("forged"));
/// ```
///
/// On login, call [`renew`](crate::TrackedSession::renew) on the session and
/// [`rotate`](CsrfToken::rotate) on the token, so a token seen before login is worth nothing
/// after it. An empty token never verifies.
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct CsrfToken(Option<String>);

impl CsrfToken {
    /// The token, generated now if the session has none.
    ///
    /// # Panics
    ///
    /// If the operating system has no random numbers to give.
    pub fn get_or_generate(&mut self) -> &str {
        self.0.get_or_insert_with(|| {
            let mut bytes = [0u8; 32];
            getrandom::fill(&mut bytes).expect("the operating system's random generator failed");
            URL_SAFE_NO_PAD.encode(bytes)
        })
    }

    /// A token of a known value, for tests that post a form: `CsrfToken::from_value("t")` in
    /// the session a test starts with ([`SessionConfig::cookie_for`](crate::SessionConfig::cookie_for)),
    /// then `csrf=t` in the form.
    #[must_use]
    pub fn from_value(value: impl Into<String>) -> Self {
        Self(Some(value.into()))
    }

    /// The token, if one was generated.
    #[must_use]
    pub fn get(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// Whether `submitted` is the token, compared in constant time. `false` when no token was
    /// generated, or for an empty submission.
    #[must_use]
    pub fn verify(&self, submitted: &str) -> bool {
        match &self.0 {
            Some(token) if !submitted.is_empty() => {
                bool::from(token.as_bytes().ct_eq(submitted.as_bytes()))
            }
            _ => false,
        }
    }

    /// Forgets the token; the next [`get_or_generate`](CsrfToken::get_or_generate) makes a new
    /// one (after login, say).
    pub fn rotate(&mut self) {
        self.0 = None;
    }
}

impl std::fmt::Debug for CsrfToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "CsrfToken(<redacted>)"
        } else {
            "CsrfToken(None)"
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_stable_and_checked_exactly() {
        let (mut a, mut b) = (CsrfToken::default(), CsrfToken::default());
        assert!(!a.verify(""));
        let token = a.get_or_generate().to_owned();
        assert_eq!(a.get(), Some(token.as_str()));
        assert_ne!(b.get_or_generate(), token);
        assert!(a.verify(&token));
        assert!(!a.verify(&token[..42]));
        assert!(!a.verify(&format!("{token}x")));
        assert!(!a.verify(""));
        assert_eq!(format!("{a:?}"), "CsrfToken(<redacted>)");
        a.rotate();
        assert!(!a.verify(&token));
        assert_ne!(a.get_or_generate(), token);
    }

    #[test]
    fn it_serializes_as_the_bare_token() {
        let mut token = CsrfToken::default();
        assert_eq!(serde_json::to_string(&token).unwrap(), "null");
        let text = token.get_or_generate().to_owned();
        assert_eq!(
            serde_json::to_string(&token).unwrap(),
            format!("\"{text}\"")
        );
    }
}
