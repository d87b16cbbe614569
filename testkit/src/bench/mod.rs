//! What the benches share: the workload, interleaved timing, concurrent request batches.

pub mod concurrent;
pub mod interleave;
pub mod workload;
