//! What the adapters answer when the session cannot be loaded or saved: the store failure
//! policy turned into a response, so that the adapters never learn where sessions live.

use super::SessionConfig;
use crate::error::SaveError;
use crate::schema::SessionSchema;
use crate::store::{StoreError, StoreFailure};

/// The error response that replaces the handler's, with no `Set-Cookie`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    pub(crate) status: u16,
    pub(crate) retry_after: Option<u32>,
    pub(crate) body: &'static str,
}

impl Failure {
    const NOT_SAVED: Self = Self {
        status: 500,
        retry_after: None,
        body: "session could not be saved",
    };

    fn unavailable(policy: Option<StoreFailure>) -> Self {
        crate::observe::unavailable();
        let retry_after = match policy {
            Some(StoreFailure::Unavailable { retry_after }) => retry_after,
            _ => 1,
        };
        Self {
            status: 503,
            retry_after: Some(retry_after),
            body: "session store unavailable",
        }
    }
}

impl<T: SessionSchema> SessionConfig<T> {
    /// What a failed load answers: `None` to go on with an anonymous session (the policy says
    /// so), else the response (503 by default).
    pub(crate) fn load_failure(&self) -> Option<Failure> {
        match self.store_failure() {
            Some(StoreFailure::ContinueAnonymous) => None,
            policy => Some(Failure::unavailable(policy)),
        }
    }

    /// What a failed save answers instead of the handler's response.
    pub(crate) fn save_failure(&self, error: &SaveError) -> Failure {
        match error {
            // A session the store can never hold is not an outage to retry.
            SaveError::Store(StoreError::TooLarge { .. }) => Failure::NOT_SAVED,
            SaveError::Store(_) | SaveError::Contended { .. } => {
                Failure::unavailable(self.store_failure())
            }
            SaveError::Conflict => Failure {
                status: 409,
                retry_after: None,
                body: "the session was changed by another request",
            },
            _ => Failure::NOT_SAVED,
        }
    }

    /// Whether saving goes to a store (asynchronously) rather than into the cookie.
    pub(crate) fn saves_async(&self) -> bool {
        self.inner.driver.is_some()
    }
}
