//! [`Session<T>`]: the app's session data with change tracking.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::codec::Opened;

/// The app's session data `T`, tracked so that only real changes are sent back.
///
/// Reading through `Deref` costs nothing. Any mutable access (`DerefMut`, so every generated
/// `set_*`, `pop_*` and `*_mut` method) marks the session *touched*; when it is stored, a touched
/// session is serialized again and compared with the bytes that came in, so a `Set-Cookie` goes
/// out only when the data really changed. There is no `modified = True` to forget: a change made
/// deep inside a nested value is seen because it went through `DerefMut`.
///
/// # Examples
///
/// ```
/// use session_core::Session;
///
/// #[derive(Default, serde::Serialize, serde::Deserialize)]
/// struct Cart { items: Vec<u32> }
///
/// let mut session = Session::<Cart>::default();
/// assert!(session.is_new());
/// assert!(!session.is_modified());
/// let _ = session.items.len();          // a read
/// assert!(!session.is_modified());
/// session.items.push(7);                // a nested change
/// assert!(session.is_modified());
/// ```
#[derive(Debug)]
pub struct Session<T> {
    data: T,
    touched: bool,
    cleared: bool,
    permanent: bool,
    incoming: Option<Opened>,
}

impl<T: Default> Default for Session<T> {
    fn default() -> Self {
        Self::fresh(T::default(), false)
    }
}

impl<T> Session<T> {
    /// A new session holding `data`, as if no cookie had come in. It is stored if `data`
    /// differs from `T::default()`, in a browser-session cookie unless
    /// [`Session::set_permanent`] asks for a persistent one.
    #[must_use]
    pub fn new(data: T) -> Self {
        Self {
            data,
            touched: true,
            cleared: false,
            permanent: false,
            incoming: None,
        }
    }

    pub(crate) fn fresh(data: T, permanent: bool) -> Self {
        Self {
            data,
            touched: false,
            cleared: false,
            permanent,
            incoming: None,
        }
    }

    pub(crate) fn loaded(data: T, opened: Opened) -> Self {
        Self {
            data,
            touched: false,
            cleared: false,
            permanent: opened.stamp.permanent,
            incoming: Some(opened),
        }
    }

    /// True when no valid cookie came in with the request.
    #[must_use]
    pub fn is_new(&self) -> bool {
        self.incoming.is_none()
    }

    /// True once the data was borrowed mutably or the session was cleared.
    ///
    /// This says the session *may* have changed; [`SessionConfig::store`](crate::SessionConfig::store)
    /// compares bytes and sends a cookie only if it did.
    #[must_use]
    pub fn is_modified(&self) -> bool {
        self.touched || self.cleared
    }

    /// When the session was first created, as signed in its cookie; `None` for a new session.
    ///
    /// Refreshing a cookie keeps this time, so the absolute lifetime holds.
    #[must_use]
    pub fn created_at(&self) -> Option<SystemTime> {
        let opened = self.incoming.as_ref().filter(|_| !self.cleared)?;
        Some(UNIX_EPOCH + Duration::from_secs(opened.stamp.created_at))
    }

    /// Chooses a persistent cookie (`true`: it carries `Max-Age` and survives a browser restart)
    /// or a browser-session cookie (`false`), as Flask's `session.permanent`.
    ///
    /// The server-side lifetime applies either way.
    pub fn set_permanent(&mut self, permanent: bool) {
        self.permanent = permanent;
    }

    /// Whether the cookie is persistent; see [`Session::set_permanent`].
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// Empties the session, as Flask's `session.clear()`. If nothing is set afterwards, storing
    /// it sends a removal cookie (when a cookie came in) or nothing.
    pub fn clear(&mut self)
    where
        T: Default,
    {
        self.data = T::default();
        self.cleared = true;
        self.touched = true;
    }

    /// Takes the data out of the session.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.data
    }

    pub(crate) fn was_touched(&self) -> bool {
        self.touched
    }

    pub(crate) fn was_cleared(&self) -> bool {
        self.cleared
    }

    pub(crate) fn incoming(&self) -> Option<&Opened> {
        self.incoming.as_ref()
    }
}

impl<T> Deref for Session<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> DerefMut for Session<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.touched = true;
        &mut self.data
    }
}
