//! The policies a configuration keeps sessions in a store with: on a conflict, and on a
//! failure.

/// What to do when another request changed the session between this one's load and save.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ConflictPolicy {
    /// Merge three ways (what this request loaded, what it would write, the current record)
    /// and retry, backing off with jitter within the store timeout: changes to different keys
    /// at any depth both land, and an array both requests only appended to keeps both
    /// appends. A value both changed differently takes this request's value (two increments
    /// of one counter lose one). Emptying the session is a compare-and-swap too, so a write
    /// the emptying request never saw survives it. Fails with
    /// [`SaveError::Contended`](crate::SaveError::Contended) only when other requests kept
    /// winning for the whole timeout.
    #[default]
    Merge,
    /// Overwrite whatever the other request wrote (Flask-Session's behaviour).
    LastWriteWins,
    /// Save nothing and report [`SaveError::Conflict`](crate::SaveError::Conflict).
    Reject,
}

/// What a request gets when the store fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum StoreFailure {
    /// Answer `503 Service Unavailable` with `Retry-After` (seconds) and no `Set-Cookie`.
    Unavailable {
        /// The `Retry-After` value, in seconds.
        retry_after: u32,
    },
    /// A failed load continues with a fresh, anonymous session (logged as an error); a failed
    /// save still answers 503.
    ContinueAnonymous,
}

impl Default for StoreFailure {
    fn default() -> Self {
        Self::Unavailable { retry_after: 1 }
    }
}
