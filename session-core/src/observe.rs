//! What sessionkit tells operators: counters and latencies on the `metrics` facade (with the
//! `metrics` feature; nothing without it), never an id or a secret.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | `sessionkit_sessions_created_total` | counter | |
//! | `sessionkit_sessions_refused_total` | counter | `reason` ([`Rejection::kind`](crate::Rejection::kind)) |
//! | `sessionkit_store_operations_total` | counter | `backend`, `op`, `outcome` (`ok`, `error`) |
//! | `sessionkit_store_operation_seconds` | histogram | `backend`, `op` |
//! | `sessionkit_merges_total` | counter | |
//! | `sessionkit_conflicts_total` | counter | `outcome` (`merged`, `rejected`, `contended`) |
//! | `sessionkit_unavailable_total` | counter | (responses answered 503) |

use std::time::Instant;

/// A session was created (its first write).
pub(crate) fn created() {
    #[cfg(feature = "metrics")]
    metrics::counter!("sessionkit_sessions_created_total").increment(1);
}

/// A cookie was refused.
pub(crate) fn refused(reason: &crate::error::Rejection) {
    #[cfg(feature = "metrics")]
    metrics::counter!("sessionkit_sessions_refused_total", "reason" => reason.kind()).increment(1);
    #[cfg(not(feature = "metrics"))]
    let _ = reason;
}

/// One store operation, from `started`.
pub(crate) fn store_op(backend: &'static str, op: &'static str, started: Instant, ok: bool) {
    #[cfg(feature = "metrics")]
    {
        let outcome = if ok { "ok" } else { "error" };
        metrics::counter!("sessionkit_store_operations_total", "backend" => backend, "op" => op, "outcome" => outcome)
            .increment(1);
        metrics::histogram!("sessionkit_store_operation_seconds", "backend" => backend, "op" => op)
            .record(started.elapsed().as_secs_f64());
    }
    #[cfg(not(feature = "metrics"))]
    let _ = (backend, op, started, ok);
}

/// A conflict, and what became of it.
pub(crate) fn conflict(outcome: &'static str) {
    #[cfg(feature = "metrics")]
    {
        metrics::counter!("sessionkit_conflicts_total", "outcome" => outcome).increment(1);
        if outcome == "merged" {
            metrics::counter!("sessionkit_merges_total").increment(1);
        }
    }
    #[cfg(not(feature = "metrics"))]
    let _ = outcome;
}

/// A response answered 503 because the store failed.
#[cfg(any(feature = "axum", feature = "actix"))]
pub(crate) fn unavailable() {
    #[cfg(feature = "metrics")]
    metrics::counter!("sessionkit_unavailable_total").increment(1);
}
