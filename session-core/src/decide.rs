//! The send-back decision, pure and shared: both cookie formats ask it what to do with a
//! session at the end of a request, and supply only how to serialize and seal.

use crate::lifetime::{Lifetime, Stamp};
use crate::session::{Refused, TrackedSession};

/// What the end of a request must do with the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Action {
    /// Nothing to send.
    Keep,
    /// The session was emptied and a cookie came in: remove it.
    Remove,
    /// Sign the incoming payload again with a new stamp (refresh, rotation, permanence).
    Resign(Stamp),
    /// Sign the outgoing payload.
    Write(Stamp),
}

/// The part of the decision that needs no serialization: the outgoing stamp, and whether the
/// session must be written even if its data did not change.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Plan {
    pub(crate) stamp: Stamp,
    pub(crate) must_write: bool,
    pub(crate) touched: bool,
    /// Whether a refused cookie is removed when nothing replaces it (Flask keeps it, and Flask
    /// mode sends what Flask sends).
    pub(crate) remove_refused: bool,
}

impl Plan {
    /// Plans the save of `session` at `now`. `refresh_browser_sessions` is false for a format
    /// that refreshes only persistent cookies (Flask's rule).
    pub(crate) fn new<T>(
        session: &TrackedSession<T>,
        default_permanent: bool,
        lifetime: &Lifetime,
        refresh_browser_sessions: bool,
        now: u64,
    ) -> Self {
        let incoming = session.current_incoming();
        let permanent = session.permanence().unwrap_or(default_permanent);
        let times = incoming
            .filter(|_| !session.was_renewed())
            .map(crate::session::Incoming::times);
        let mut stamp = Lifetime::next_stamp(times, permanent, now);
        if let Some(deadline) = session.deadline() {
            stamp.created_at = lifetime.start_for_deadline(stamp, deadline);
        }
        let must_write = session.was_renewed()
            || session.deadline().is_some()
            || incoming.is_some_and(|i| {
                i.by_fallback
                    || i.permanent != permanent
                    || ((permanent || refresh_browser_sessions)
                        && lifetime.refresh_due(i.permanent, i.issued_at, now))
            });
        Self {
            stamp,
            must_write,
            touched: session.was_touched(),
            remove_refused: true,
        }
    }

    /// Whether the outgoing payload must be serialized to decide.
    pub(crate) fn needs_payload(&self) -> bool {
        self.touched
    }

    /// Decides, given the serialized outgoing payload (when [`Plan::needs_payload`]) and
    /// whether it is the empty session. `same` says whether the incoming payload holds the same
    /// value as the outgoing one; it is asked only when their bytes differ (identical bytes are
    /// the fast path), so a map serialized in another order is no change.
    #[inline]
    pub(crate) fn decide<T>(
        &self,
        session: &TrackedSession<T>,
        outgoing: Option<(&[u8], bool)>,
        same: impl FnOnce(&[u8]) -> bool,
    ) -> Action {
        let action = self.decide_data(session, outgoing, same);
        // A refused cookie is removed, unless a new session replaces it.
        match (action, session.refusal()) {
            (Action::Keep, Refused::Cookie) if self.remove_refused => Action::Remove,
            _ => action,
        }
    }

    #[inline]
    fn decide_data<T>(
        &self,
        session: &TrackedSession<T>,
        outgoing: Option<(&[u8], bool)>,
        same: impl FnOnce(&[u8]) -> bool,
    ) -> Action {
        let incoming = session.current_incoming();
        match outgoing {
            None if self.must_write && incoming.is_some() => Action::Resign(self.stamp),
            Some((_, true)) if session.incoming().is_some() => Action::Remove,
            None | Some((_, true)) => Action::Keep,
            Some((payload, false)) => {
                let unchanged =
                    incoming.is_some_and(|i| i.payload() == payload || same(i.payload()));
                if !self.must_write && unchanged {
                    Action::Keep
                } else {
                    Action::Write(self.stamp)
                }
            }
        }
    }
}
