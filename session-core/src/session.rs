//! [`TrackedSession<T>`]: the app's session data with change tracking.

use std::ops::{Deref, DerefMut};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// What came in with the request, whatever the format: the verified payload bytes and the
/// signed times. The format-neutral record every save decision compares against.
#[derive(Debug)]
pub(crate) struct Incoming {
    /// The decoded bytes; the JSON payload sits at `payload`.
    pub(crate) raw: Vec<u8>,
    pub(crate) payload: std::ops::Range<usize>,
    pub(crate) permanent: bool,
    pub(crate) issued_at: u64,
    /// `None` for a format that signs only one time (Flask's cookie).
    pub(crate) created_at: Option<u64>,
    /// True when a fallback key, not the current one, verified it.
    pub(crate) by_fallback: bool,
    /// With a server-side store: where the record is and which version was read.
    pub(crate) server: Option<Stored>,
    /// When the session ends unless a request comes first (Unix seconds); set on load.
    pub(crate) expires_at: Option<u64>,
}

/// Where a loaded session's record is, and which version was read.
#[derive(Debug, Clone)]
pub(crate) struct Stored {
    pub(crate) id: crate::id::SessionId,
    pub(crate) key: crate::id::StoreKey,
    pub(crate) version: u64,
}

impl Incoming {
    pub(crate) fn payload(&self) -> &[u8] {
        &self.raw[self.payload.clone()]
    }

    /// `(issued_at, created_at)` for [`Lifetime::next_stamp`](crate::lifetime::Lifetime::next_stamp).
    pub(crate) fn times(&self) -> (u64, u64) {
        (self.issued_at, self.created_at.unwrap_or(self.issued_at))
    }
}

/// The app's session data `T`, tracked so that only real changes are sent back.
///
/// Reading through `Deref` costs nothing. Any mutable access (`DerefMut`, so every generated
/// `set_*`, `pop_*` and `*_mut` method) marks the session *touched*; when it is stored, a touched
/// session is serialized again and compared with the bytes that came in, so a `Set-Cookie` goes
/// out only when the data really changed. There is no `modified = True` to forget: a change made
/// deep inside a nested value is seen because it went through `DerefMut`.
///
/// This is what [`SessionConfig::load`](crate::SessionConfig::load) returns and
/// [`SessionConfig::save`](crate::SessionConfig::save) takes, for code that calls the core
/// itself. A handler takes its framework's extractor instead, `sessionkit::axum::Session<T>` or
/// `sessionkit::actix::Session<T>`, which derefs to this type. (`sessionkit::Session` is the
/// derive macro.)
///
/// # Examples
///
/// ```
/// use sessionkit::TrackedSession;
///
/// #[derive(Default, serde::Serialize, serde::Deserialize)]
/// struct Cart { items: Vec<u32> }
///
/// let mut session = TrackedSession::<Cart>::default();
/// assert!(session.is_new());
/// assert!(!session.is_modified());
/// let _ = session.items.len();          // a read
/// assert!(!session.is_modified());
/// session.items.push(7);                // a nested change
/// assert!(session.is_modified());
/// ```
#[derive(Debug)]
pub struct TrackedSession<T> {
    data: T,
    touched: bool,
    cleared: bool,
    renewed: bool,
    /// `None` until chosen: the configuration's default applies when the session is saved.
    permanent: Option<bool>,
    incoming: Option<Incoming>,
    refused: Refused,
    /// The latest end chosen for this session (Unix seconds), if any.
    deadline: Option<u64>,
}

/// What was wrong with what came in, when no session was loaded from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Refused {
    /// Nothing: no cookie came, or it was loaded.
    #[default]
    Nothing,
    /// A session cookie came and was refused: the response removes it unless a new session
    /// replaces it.
    Cookie,
    /// The store failed and the request goes on anonymous
    /// ([`StoreFailure::ContinueAnonymous`](crate::StoreFailure::ContinueAnonymous)): nothing
    /// is written, so the cookie of the session that could not be read stays.
    Unread,
}

impl<T: Default> Default for TrackedSession<T> {
    fn default() -> Self {
        Self::fresh(T::default(), false)
    }
}

impl<T> TrackedSession<T> {
    /// A new session holding `data`, as if no cookie had come in. It is stored if `data`
    /// differs from `T::default()`; its cookie is persistent or not as the configuration says
    /// ([`SessionConfigBuilder::permanent`](crate::SessionConfigBuilder::permanent)) unless
    /// [`TrackedSession::set_permanent`] chooses.
    #[must_use]
    pub fn new(data: T) -> Self {
        Self {
            data,
            touched: true,
            cleared: false,
            renewed: false,
            permanent: None,
            incoming: None,
            refused: Refused::Nothing,
            deadline: None,
        }
    }

    pub(crate) fn fresh(data: T, permanent: bool) -> Self {
        Self {
            data,
            touched: false,
            cleared: false,
            renewed: false,
            permanent: Some(permanent),
            incoming: None,
            refused: Refused::Nothing,
            deadline: None,
        }
    }

    pub(crate) fn loaded(data: T, incoming: Incoming) -> Self {
        Self {
            data,
            touched: false,
            cleared: false,
            renewed: false,
            permanent: Some(incoming.permanent),
            incoming: Some(incoming),
            refused: Refused::Nothing,
            deadline: None,
        }
    }

    /// A fresh session standing in for one that could not be loaded.
    pub(crate) fn refused(data: T, permanent: bool, refused: Refused) -> Self {
        Self {
            refused,
            ..Self::fresh(data, permanent)
        }
    }

    /// What was wrong with what came in, if anything.
    pub(crate) fn refusal(&self) -> Refused {
        self.refused
    }

    /// True when no valid cookie came in with the request.
    #[must_use]
    pub fn is_new(&self) -> bool {
        self.incoming.is_none()
    }

    /// True once the data was borrowed mutably or the session was cleared.
    ///
    /// This says the session *may* have changed; [`SessionConfig::save`](crate::SessionConfig::save)
    /// compares bytes and sends a cookie only if it did.
    #[must_use]
    pub fn is_modified(&self) -> bool {
        self.touched || self.cleared
    }

    /// When the session was first created (or last renewed), as signed in its cookie; `None`
    /// for a new session, and in Flask mode, whose cookie signs only its last write.
    ///
    /// Refreshing a cookie keeps this time, so the absolute lifetime holds.
    #[must_use]
    pub fn created_at(&self) -> Option<SystemTime> {
        let incoming = self.current_incoming()?;
        UNIX_EPOCH.checked_add(Duration::from_secs(incoming.created_at?))
    }

    /// When the loaded session ends if no request comes first: the end of its idle window or of
    /// its absolute lifetime, whichever is sooner (with a store, the record's expiry). `None`
    /// for a new session, or after [`clear`](Self::clear).
    #[must_use]
    pub fn expires_at(&self) -> Option<SystemTime> {
        let incoming = self.current_incoming()?;
        UNIX_EPOCH.checked_add(Duration::from_secs(incoming.expires_at?))
    }

    /// The public identifier of this session's record ([`StoreKey::public_id`](crate::StoreKey::public_id)),
    /// as [`SessionInfo::id`](crate::SessionInfo::id) lists it: to mark "this device" on a
    /// devices page. `None` in cookie mode and for a session not stored yet.
    #[must_use]
    pub fn public_id(&self) -> Option<String> {
        let stored = self.current_incoming()?.server.as_ref()?;
        Some(stored.key.public_id())
    }

    /// When the incoming cookie was last signed; `None` for a new session.
    #[must_use]
    pub fn issued_at(&self) -> Option<SystemTime> {
        let incoming = self.current_incoming()?;
        UNIX_EPOCH.checked_add(Duration::from_secs(incoming.issued_at))
    }

    /// Chooses a persistent cookie (`true`: it carries `Max-Age` and survives a browser restart)
    /// or a browser-session cookie (`false`), as Flask's `session.permanent`. A persistent
    /// session follows the configuration's persistent lifetime
    /// ([`SessionConfigBuilder::persistent_lifetime`](crate::SessionConfigBuilder::persistent_lifetime)),
    /// which a "remember me" login wants.
    ///
    /// The server-side lifetime applies either way.
    pub fn set_permanent(&mut self, permanent: bool) {
        self.permanent = Some(permanent);
    }

    /// Whether the cookie is persistent; see [`TrackedSession::set_permanent`]. For a session built
    /// with [`TrackedSession::new`] and not yet chosen, `false` here, while saving follows the
    /// configuration.
    #[must_use]
    pub fn is_permanent(&self) -> bool {
        self.permanent.unwrap_or(false)
    }

    /// Empties the session, as Flask's `session.clear()`: the data goes back to
    /// `T::default()` and the cookie back to a browser-session cookie (Flask's `clear()` drops
    /// `_permanent` too). If nothing is set afterwards, saving it sends a removal cookie (when
    /// a cookie came in) or nothing.
    pub fn clear(&mut self)
    where
        T: Default,
    {
        self.data = T::default();
        self.cleared = true;
        self.touched = true;
        self.permanent = Some(false);
    }

    /// Starts the session's life again while keeping its data: call it on login. The absolute
    /// lifetime then counts from now, not from the first anonymous visit, and the cookie is
    /// signed again (with a server-side store, the session also gets a new id).
    pub fn renew(&mut self) {
        self.renewed = true;
        self.touched = true;
    }

    /// Ends this session at `deadline` at the latest: an admin session that must end in 15
    /// minutes, a login that is remembered for a week rather than the configured month. The
    /// configuration's limits still hold (a deadline never lengthens a session), and the
    /// cookie's `Max-Age` and a store's record expiry follow.
    ///
    /// The deadline is kept by signing the session's start earlier (`start = deadline -
    /// lifetime`), so it survives every later request with no field of its own, and
    /// [`created_at`](Self::created_at) reports that start. Flask's cookie signs no start, so in
    /// Flask mode this does nothing.
    ///
    /// ```
    /// # use std::time::{Duration, SystemTime};
    /// # use sessionkit::{Key, SessionConfig, TrackedSession};
    /// # #[derive(sessionkit::Session, serde::Serialize, serde::Deserialize, Default)]
    /// # struct App { user: Option<String> }
    /// let config = SessionConfig::<App>::builder().key(Key::generate()?).build()?;
    /// let now = SystemTime::now();
    /// let mut admin = TrackedSession::new(App { user: Some("root".into()) });
    /// admin.set_permanent(true);
    /// admin.expire_at(now + Duration::from_secs(15 * 60));
    /// let header = config.save(&admin, now)?.header().unwrap().to_owned();
    /// assert!(header.ends_with("Max-Age=900"));
    /// let cookie = header.split(';').next().unwrap();
    /// assert!(config.load(cookie, now + Duration::from_secs(14 * 60)).rejected.is_none());
    /// assert!(config.load(cookie, now + Duration::from_secs(16 * 60)).rejected.is_some());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn expire_at(&mut self, deadline: SystemTime) {
        let secs = deadline
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        self.deadline = Some(self.deadline.map_or(secs, |d| d.min(secs)));
    }

    /// [`expire_at`](Self::expire_at) `lifetime` from `now`.
    pub fn expire_after(&mut self, lifetime: Duration, now: SystemTime) {
        self.expire_at(now.checked_add(lifetime).unwrap_or(now));
    }

    /// The deadline chosen with [`expire_at`](Self::expire_at), in Unix seconds.
    pub(crate) fn deadline(&self) -> Option<u64> {
        self.deadline
    }

    /// Takes the data out of the session.
    #[must_use]
    pub fn into_inner(self) -> T {
        self.data
    }

    pub(crate) fn was_touched(&self) -> bool {
        self.touched
    }

    pub(crate) fn was_renewed(&self) -> bool {
        self.renewed
    }

    /// The permanence chosen for this session, if any.
    pub(crate) fn permanence(&self) -> Option<bool> {
        self.permanent
    }

    /// What came in with the request, whatever happened since.
    pub(crate) fn incoming(&self) -> Option<&Incoming> {
        self.incoming.as_ref()
    }

    /// What came in, unless the session was cleared since: the record its save compares with.
    pub(crate) fn current_incoming(&self) -> Option<&Incoming> {
        self.incoming.as_ref().filter(|_| !self.cleared)
    }
}

impl<T> Deref for TrackedSession<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> DerefMut for TrackedSession<T> {
    fn deref_mut(&mut self) -> &mut T {
        self.touched = true;
        &mut self.data
    }
}
