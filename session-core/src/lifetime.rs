//! The one lifetime policy: absolute and idle limits (separately for browser-session and
//! persistent "remember me" sessions), clock skew, refresh, `Max-Age`.
//!
//! Every rule about time lives here, as pure functions of the signed times and `now` (Unix
//! seconds), so both cookie formats and the server-side stores apply the same rules and every
//! rule is tested without a clock.

use std::time::Duration;

use crate::error::Rejection;

/// The longest `Max-Age` browsers honour (RFC 6265bis caps it at 400 days); a longer server-side
/// lifetime still holds on the server, the browser just needs the cookie re-sent within it.
pub(crate) const MAX_AGE_CAP: u64 = 400 * 24 * 60 * 60;

/// When an unchanged session's cookie is signed again with a new issued-at time.
///
/// Re-signing slides the idle timeout forward; the created-at time is kept, so the absolute
/// lifetime still holds.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum Refresh {
    /// Only changed sessions are sent.
    Never,
    /// Every request that loaded a session re-signs it (Flask's `SESSION_REFRESH_EACH_REQUEST`).
    EveryRequest,
    /// Re-sign once this fraction of the idle timeout has passed since the cookie was issued.
    /// The fraction must be in `(0, 1]`. Without an idle timeout there is nothing to slide, so
    /// nothing is re-signed.
    AfterFraction(f64),
}

impl Default for Refresh {
    /// `AfterFraction(0.5)`: at most one extra `Set-Cookie` per half idle window.
    fn default() -> Self {
        Self::AfterFraction(0.5)
    }
}

/// The limits of one kind of session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Limits {
    /// The absolute lifetime from creation.
    pub(crate) absolute: Duration,
    /// The idle timeout from the last issue, if any.
    pub(crate) idle: Option<Duration>,
}

/// The signed times of a session, as they came in or go out (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    pub(crate) permanent: bool,
    pub(crate) issued_at: u64,
    pub(crate) created_at: u64,
}

/// The whole time policy of a configuration.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Lifetime {
    /// Browser-session cookies (not permanent).
    pub(crate) browser: Limits,
    /// Persistent cookies ("remember me"); the browser limits unless configured apart.
    pub(crate) persistent: Limits,
    /// How far in the future an issued-at time may be.
    pub(crate) skew: Duration,
    pub(crate) refresh: Refresh,
}

impl Lifetime {
    pub(crate) fn limits(&self, permanent: bool) -> Limits {
        if permanent {
            self.persistent
        } else {
            self.browser
        }
    }

    /// Checks signed times at `now`: valid while `age <= absolute` and `idle <= idle timeout`,
    /// with an issued-at time at most `skew` ahead. `created_at` is `None` for a format that
    /// signs only one time (Flask); the age then counts from `issued_at`.
    pub(crate) fn check(
        &self,
        permanent: bool,
        issued_at: u64,
        created_at: Option<u64>,
        now: u64,
    ) -> Result<(), Rejection> {
        self.check_absolute(permanent, issued_at, created_at, now)?;
        let idle = Duration::from_secs(now.saturating_sub(issued_at));
        match self.limits(permanent).idle {
            Some(limit) if idle > limit => Err(Rejection::IdleTimeout { idle, limit }),
            _ => Ok(()),
        }
    }

    /// [`check`](Self::check) without the idle timeout: for the cookie that carries a store's
    /// id, whose record's expiry is the authority on idleness.
    pub(crate) fn check_absolute(
        &self,
        permanent: bool,
        issued_at: u64,
        created_at: Option<u64>,
        now: u64,
    ) -> Result<(), Rejection> {
        if created_at.is_some_and(|c| c > issued_at) {
            return Err(Rejection::Malformed);
        }
        if issued_at > now.saturating_add(self.skew.as_secs()) {
            return Err(Rejection::IssuedInFuture {
                by: Duration::from_secs(issued_at - now),
            });
        }
        self.check_age(permanent, created_at.unwrap_or(issued_at), now)
    }

    /// The absolute lifetime alone: a session created at `created_at` (Unix seconds) is too
    /// old at `now`.
    pub(crate) fn check_age(
        &self,
        permanent: bool,
        created_at: u64,
        now: u64,
    ) -> Result<(), Rejection> {
        let absolute = self.limits(permanent).absolute;
        let age = Duration::from_secs(now.saturating_sub(created_at));
        if age > absolute {
            return Err(Rejection::Expired {
                age,
                limit: absolute,
            });
        }
        Ok(())
    }

    /// [`expires_at`](Self::expires_at) in Unix milliseconds, as a store record keeps it.
    pub(crate) fn expires_at_ms(&self, stamp: Stamp, now: u64) -> u64 {
        to_ms(self.expires_at(stamp, now))
    }

    /// [`last_active`](Self::last_active) of a store record (times in Unix milliseconds).
    pub(crate) fn last_active_ms(&self, created_at_ms: u64, expires_at_ms: u64) -> Option<u64> {
        self.last_active(to_s(created_at_ms), to_s(expires_at_ms))
            .map(to_ms)
    }

    /// The times to sign into the outgoing cookie.
    ///
    /// `created_at` is kept from the incoming session (`None` starts a new one, as does a
    /// renewal). The issued-at time never goes backwards: a server whose clock is behind the one
    /// that issued the cookie (within the skew) re-issues it at the later time, so the next
    /// server never sees `created_at > issued_at`.
    pub(crate) fn next_stamp(incoming: Option<(u64, u64)>, permanent: bool, now: u64) -> Stamp {
        let (issued_before, created_at) = incoming.unwrap_or((now, now));
        Stamp {
            permanent,
            issued_at: now.max(issued_before).max(created_at),
            created_at,
        }
    }

    /// The start to sign for a session that must end by `deadline`: the absolute lifetime
    /// then ends there (or earlier, if it already did).
    pub(crate) fn start_for_deadline(&self, stamp: Stamp, deadline: u64) -> u64 {
        let absolute = self.limits(stamp.permanent).absolute.as_secs();
        stamp.created_at.min(deadline.saturating_sub(absolute))
    }

    /// Whether an unchanged session issued at `issued_at` is re-signed at `now`.
    pub(crate) fn refresh_due(&self, permanent: bool, issued_at: u64, now: u64) -> bool {
        match (self.refresh, self.limits(permanent).idle) {
            (Refresh::EveryRequest, _) => true,
            (Refresh::AfterFraction(fraction), Some(idle)) => {
                // In floating point: `idle * fraction` cannot overflow, whatever the idle time.
                let since = Duration::from_secs(now.saturating_sub(issued_at)).as_secs_f64();
                since >= idle.as_secs_f64() * fraction
            }
            _ => false,
        }
    }

    /// When a session signed with `stamp` at `now` ends unless used again (Unix seconds): the
    /// idle timeout from now, never past the absolute lifetime.
    pub(crate) fn expires_at(&self, stamp: Stamp, now: u64) -> u64 {
        let limits = self.limits(stamp.permanent);
        let absolute = stamp.created_at.saturating_add(limits.absolute.as_secs());
        limits.idle.map_or(absolute, |idle| {
            absolute.min(now.saturating_add(idle.as_secs()))
        })
    }

    /// When a session created at `created_at` and expiring at `expires_at` (Unix seconds) was
    /// last written or refreshed: its expiry minus the idle timeout, when the idle timeout (not
    /// the absolute lifetime) set that expiry. `None` when no limit explains it, or when both
    /// kinds of session would, with different answers.
    pub(crate) fn last_active(&self, created_at: u64, expires_at: u64) -> Option<u64> {
        let candidate = |limits: Limits| {
            let idle = limits.idle?.as_secs();
            let seen = expires_at.checked_sub(idle)?;
            let absolute_end = created_at.saturating_add(limits.absolute.as_secs());
            (seen >= created_at && expires_at < absolute_end).then_some(seen)
        };
        match (candidate(self.browser), candidate(self.persistent)) {
            (Some(a), Some(b)) if a != b => None,
            (a, b) => a.or(b),
        }
    }

    /// The cookie's `Max-Age` for a persistent session: what is left of the absolute lifetime,
    /// never more than the idle timeout, never more than browsers honour.
    pub(crate) fn max_age(&self, stamp: Stamp, now: u64) -> u64 {
        let limits = self.limits(stamp.permanent);
        let left = limits
            .absolute
            .as_secs()
            .saturating_sub(now.saturating_sub(stamp.created_at));
        let capped = limits.idle.map_or(left, |idle| left.min(idle.as_secs()));
        capped.min(MAX_AGE_CAP)
    }
}

/// Unix seconds as the milliseconds a store record keeps.
/// `now` in Unix seconds (0 before the epoch).
pub(crate) fn unix_seconds(now: std::time::SystemTime) -> u64 {
    now.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// `now` in Unix milliseconds (0 before the epoch).
pub(crate) fn unix_millis(now: std::time::SystemTime) -> u64 {
    now.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

pub(crate) fn to_ms(seconds: u64) -> u64 {
    seconds.saturating_mul(1000)
}

/// A store record's Unix milliseconds as the whole seconds a cookie signs.
pub(crate) fn to_s(milliseconds: u64) -> u64 {
    milliseconds / 1000
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> Lifetime {
        let limits = Limits {
            absolute: Duration::from_secs(3600),
            idle: Some(Duration::from_secs(600)),
        };
        Lifetime {
            browser: limits,
            persistent: Limits {
                absolute: Duration::from_secs(30 * 86_400),
                idle: None,
            },
            skew: Duration::from_secs(60),
            refresh: Refresh::default(),
        }
    }

    #[test]
    fn a_later_issuer_never_moves_issued_at_back() {
        // Issued at 1_060 by a server ahead; re-issued by a server at 1_000.
        let stamp = Lifetime::next_stamp(Some((1_060, 1_060)), false, 1_000);
        assert_eq!((stamp.issued_at, stamp.created_at), (1_060, 1_060));
        assert_eq!(policy().check(false, 1_060, Some(1_060), 1_000), Ok(()));
    }

    #[test]
    fn persistent_sessions_have_their_own_limits() {
        let p = policy();
        assert_eq!(
            p.max_age(Lifetime::next_stamp(None, true, 0), 0),
            30 * 86_400
        );
        assert_eq!(p.max_age(Lifetime::next_stamp(None, false, 0), 0), 600);
        assert_eq!(p.check(true, 0, Some(0), 7_200), Ok(()));
        assert!(matches!(
            p.check(false, 0, Some(0), 7_200),
            Err(Rejection::Expired { .. })
        ));
    }

    #[test]
    fn refresh_never_overflows() {
        let mut p = policy();
        p.browser.idle = Some(Duration::MAX);
        p.refresh = Refresh::AfterFraction(1.0);
        assert!(!p.refresh_due(false, 0, 1_000_000));
        assert_eq!(p.max_age(Lifetime::next_stamp(None, false, 5), 5), 3600);
    }
}
