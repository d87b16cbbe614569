//! How long a compare-and-swap loop goes on: until the store timeout, backing off with jitter
//! between lost races so that a writer starved by a hot one still lands.

use std::time::Duration;

/// The longest wait between two tries.
#[cfg(feature = "tokio")]
const MAX_DELAY: Duration = Duration::from_millis(20);

/// Without a timer (no `tokio` feature), the loop gives up after this many lost races.
#[cfg(not(feature = "tokio"))]
const MAX_ATTEMPTS: u32 = 256;

/// The retry budget of one save.
#[derive(Debug)]
pub(super) struct Backoff {
    lost: u32,
    #[cfg(feature = "tokio")]
    deadline: tokio::time::Instant,
}

impl Backoff {
    /// A budget that ends `timeout` from now.
    pub(super) fn new(timeout: Duration) -> Self {
        #[cfg(not(feature = "tokio"))]
        let _ = timeout;
        Self {
            lost: 0,
            #[cfg(feature = "tokio")]
            deadline: tokio::time::Instant::now() + timeout,
        }
    }

    /// How many races were lost so far.
    pub(super) fn lost(&self) -> u32 {
        self.lost
    }

    /// Records a lost race and waits before the next try: a random delay up to twice the
    /// last (1 ms, 2 ms, 4 ms, ... up to 20 ms). False when the budget is spent.
    #[cfg_attr(not(feature = "tokio"), allow(clippy::unused_async))] // waits only on tokio
    pub(super) async fn lost_race(&mut self) -> bool {
        self.lost = self.lost.saturating_add(1);
        #[cfg(feature = "tokio")]
        {
            let ceiling = MAX_DELAY.min(Duration::from_millis(1 << self.lost.min(5)));
            let delay = ceiling.mul_f64(jitter());
            let now = tokio::time::Instant::now();
            if now + delay >= self.deadline {
                return false;
            }
            tokio::time::sleep(delay).await;
            true
        }
        #[cfg(not(feature = "tokio"))]
        {
            self.lost < MAX_ATTEMPTS
        }
    }

    /// After a lost race: waits, then `Ok` to try again, or [`SaveError::Contended`] when the
    /// time is up.
    pub(super) async fn again(&mut self) -> Result<(), crate::error::SaveError> {
        if self.lost_race().await {
            return Ok(());
        }
        crate::observe::conflict("contended");
        Err(crate::error::SaveError::Contended { lost: self.lost() })
    }
}

/// A random factor in `[0.5, 1.5)`; 1 when the system has no random numbers to give.
#[cfg(feature = "tokio")]
fn jitter() -> f64 {
    getrandom::u32().map_or(1.0, |r| 0.5 + f64::from(r) / f64::from(u32::MAX))
}
