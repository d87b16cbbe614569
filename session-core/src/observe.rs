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

#[cfg(feature = "metrics")]
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

/// A store operation, as its metrics name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    Load,
    Create,
    Update,
    Touch,
    Rotate,
    Delete,
    DeleteExpired,
    ListOwner,
    RevokeOwner,
    Scan,
}

impl Op {
    #[cfg(feature = "metrics")]
    const ALL: [Self; 10] = [
        Self::Load,
        Self::Create,
        Self::Update,
        Self::Touch,
        Self::Rotate,
        Self::Delete,
        Self::DeleteExpired,
        Self::ListOwner,
        Self::RevokeOwner,
        Self::Scan,
    ];

    #[cfg(feature = "metrics")]
    fn name(self) -> &'static str {
        match self {
            Self::Load => "load",
            Self::Create => "create",
            Self::Update => "update",
            Self::Touch => "touch",
            Self::Rotate => "rotate",
            Self::Delete => "delete",
            Self::DeleteExpired => "delete_expired",
            Self::ListOwner => "list_owner",
            Self::RevokeOwner => "revoke_owner",
            Self::Scan => "scan",
        }
    }
}

/// The metric keys of one store's operations, labelled once when the store is boxed: a
/// `metrics` macro given a label that is not a literal builds its labels at every call, two
/// allocations per operation that a request paid twice.
#[derive(Debug)]
pub(crate) struct StoreMeter {
    /// Per [`Op`]: the operations counter for `ok`, for `error`, and the latency histogram.
    #[cfg(feature = "metrics")]
    keys: Vec<[metrics::Key; 3]>,
}

#[cfg(feature = "metrics")]
static METADATA: metrics::Metadata<'static> =
    metrics::Metadata::new(module_path!(), metrics::Level::INFO, Some(module_path!()));

impl StoreMeter {
    /// The keys for a store whose type is named `backend` (its path's last segment).
    pub(crate) fn new(backend: &'static str) -> Self {
        #[cfg(feature = "metrics")]
        {
            use metrics::{Key, Label};
            let key = |name: &'static str, op: Op, outcome: Option<&'static str>| {
                let mut labels = vec![Label::new("backend", backend), Label::new("op", op.name())];
                labels.extend(outcome.map(|o| Label::new("outcome", o)));
                Key::from_parts(name, labels)
            };
            let keys = Op::ALL
                .iter()
                .map(|&op| {
                    [
                        key("sessionkit_store_operations_total", op, Some("ok")),
                        key("sessionkit_store_operations_total", op, Some("error")),
                        key("sessionkit_store_operation_seconds", op, None),
                    ]
                })
                .collect();
            Self { keys }
        }
        #[cfg(not(feature = "metrics"))]
        {
            let _ = backend;
            Self {}
        }
    }

    /// One store operation, from `started`.
    pub(crate) fn record(&self, op: Op, started: Started, ok: bool) {
        #[cfg(feature = "metrics")]
        {
            let [ok_key, error_key, seconds] = &self.keys[op as usize];
            let seconds_taken = started.at.elapsed().as_secs_f64();
            metrics::with_recorder(|recorder| {
                let counter = if ok { ok_key } else { error_key };
                recorder.register_counter(counter, &METADATA).increment(1);
                recorder
                    .register_histogram(seconds, &METADATA)
                    .record(seconds_taken);
            });
        }
        #[cfg(not(feature = "metrics"))]
        let _ = (self, op, started, ok);
    }
}

/// When a store operation started: the origin of its latency, read only when metrics are built
/// in.
#[derive(Clone, Copy)]
pub(crate) struct Started {
    #[cfg(feature = "metrics")]
    at: Instant,
}

impl Started {
    pub(crate) fn now() -> Self {
        Self {
            #[cfg(feature = "metrics")]
            at: Instant::now(),
        }
    }
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

#[cfg(all(test, feature = "metrics"))]
mod tests {
    use super::*;

    #[test]
    fn each_operation_finds_its_own_keys() {
        let meter = StoreMeter::new("MemoryStore");
        for (i, op) in Op::ALL.into_iter().enumerate() {
            assert_eq!(op as usize, i);
            let [ok, error, seconds] = &meter.keys[op as usize];
            for key in [ok, error, seconds] {
                let labels: Vec<_> = key.labels().map(|l| (l.key(), l.value())).collect();
                assert_eq!(labels[..2], [("backend", "MemoryStore"), ("op", op.name())]);
            }
            assert_eq!(ok.labels().nth(2).map(metrics::Label::value), Some("ok"));
            assert_eq!(
                error.labels().nth(2).map(metrics::Label::value),
                Some("error")
            );
            assert_eq!(seconds.labels().count(), 2);
        }
    }
}
