//! The session extractor every adapter hands to handlers (`sessionkit::Session`, also reachable
//! as `sessionkit::axum::Session` and `sessionkit::actix::Session`): one type, with each
//! framework's extractor trait implemented in its adapter.

use std::ops::{Deref, DerefMut};

use crate::slot::{Slot, TakeError};
use crate::{error::Rejection, schema::SessionSchema};

/// The session of the current request, for a handler to read and change directly.
///
/// ```
/// use sessionkit::Session; // the derive macro and this extractor
///
/// #[derive(Session, serde::Serialize, serde::Deserialize, Default)]
/// struct App {
///     visits: u32,
/// }
///
/// async fn count(mut session: Session<App>) -> String {
///     *session.visits_mut() += 1;
///     format!("visit {}", session.visits())
/// }
/// # let _ = axum::Router::<()>::new().route("/", axum::routing::get(count));
/// # let _ = actix_web::App::new().route("/", actix_web::web::get().to(count));
/// ```
///
/// Changes are saved when the handler returns: the extractor hands the session back to the
/// adapter's middleware when it is dropped. Do not move it into a task that outlives the
/// request; such changes are lost (and logged as an error).
pub struct Session<T: SessionSchema> {
    inner: Option<Box<crate::session::TrackedSession<T>>>,
    rejected: Option<Rejection>,
    slot: Slot<T>,
}

impl<T: SessionSchema> Session<T> {
    /// Moves the request's session out of the middleware's slot.
    pub(crate) fn take_from(slot: Slot<T>) -> Result<Self, TakeError> {
        let (session, rejected) = slot.take()?;
        Ok(Self {
            inner: Some(session),
            rejected,
            slot,
        })
    }

    /// The time this request's session was loaded at, by the layer's clock (the system
    /// clock, or the one given to `SessionLayer::clock` / `SessionMiddleware::clock`). Pass it
    /// to [`list_owner`](crate::config::SessionConfig::list_owner) and the like, so that a test
    /// moving a [`TestClock`](crate::testing::TestClock) sees the time the layer sees.
    #[must_use]
    pub fn now(&self) -> std::time::SystemTime {
        self.slot.now()
    }

    /// Why the request's session cookie was refused, if it was (for logging).
    #[must_use]
    pub fn rejection(&self) -> Option<&Rejection> {
        self.rejected.as_ref()
    }
}

impl<T: SessionSchema + std::fmt::Debug> std::fmt::Debug for Session<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Session").field(&self.inner).finish()
    }
}

impl<T: SessionSchema> Deref for Session<T> {
    type Target = crate::session::TrackedSession<T>;

    fn deref(&self) -> &Self::Target {
        self.inner.as_ref().expect("present until drop")
    }
}

impl<T: SessionSchema> DerefMut for Session<T> {
    fn deref_mut(&mut self) -> &mut Self::Target {
        self.inner.as_mut().expect("present until drop")
    }
}

impl<T: SessionSchema> Drop for Session<T> {
    fn drop(&mut self) {
        if let Some(session) = self.inner.take() {
            self.slot.put_back(session);
        }
    }
}
