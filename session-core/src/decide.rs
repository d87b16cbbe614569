//! The send-back decision, pure and shared: both cookie formats ask it what to do with a
//! session at the end of a request, and supply only how to serialize and seal.

use crate::lifetime::{Lifetime, Stamp};
use crate::session::TrackedSession;

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
        let stamp = Lifetime::next_stamp(times, permanent, now);
        let must_write = session.was_renewed()
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
        }
    }

    /// Whether the outgoing payload must be serialized to decide.
    pub(crate) fn needs_payload(&self) -> bool {
        self.touched
    }

    /// Decides, given the serialized outgoing payload (when [`Plan::needs_payload`]) and
    /// whether it is the empty session.
    pub(crate) fn decide<T>(
        &self,
        session: &TrackedSession<T>,
        outgoing: Option<(&[u8], bool)>,
    ) -> Action {
        let incoming = session.current_incoming();
        match outgoing {
            None if self.must_write && incoming.is_some() => Action::Resign(self.stamp),
            Some((_, true)) if session.incoming().is_some() => Action::Remove,
            None | Some((_, true)) => Action::Keep,
            Some((payload, false)) => {
                if !self.must_write && incoming.is_some_and(|i| i.payload() == payload) {
                    Action::Keep
                } else {
                    Action::Write(self.stamp)
                }
            }
        }
    }
}
