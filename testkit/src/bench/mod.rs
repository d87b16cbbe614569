//! What the benches share: the workload, interleaved timing, concurrent request batches, the
//! server floors.

pub mod concurrent;
#[cfg(feature = "postgres")]
pub mod floor;
pub mod interleave;
pub mod workload;
