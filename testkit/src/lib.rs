//! What sessionkit's own tests, benches and fuzz targets share, in one place instead of files
//! included across targets: fixed keys and a fixed clock ([`fixture`]), cookies signed from the
//! documented layout ([`forge`]), the fuzz targets' logic ([`fuzz`]), the Flask vector checker
//! ([`flask_vectors`]), the servers the store tests run against ([`servers`], [`own`]),
//! loopback HTTP ([`http`]), temporary directories ([`temp`]) and the benches' workload and
//! timing ([`bench`](mod@bench)).
//!
//! Not published: a store of a user's own runs the public contract,
//! `sessionkit::conformance`, instead.

// Every helper panics on a failed expectation: that is how a test using it fails.
#![allow(
    clippy::missing_panics_doc,
    clippy::missing_errors_doc,
    clippy::must_use_candidate
)]

pub mod bench;
pub mod fixture;
pub mod flask_vectors;
pub mod forge;
pub mod fuzz;
pub mod http;
pub mod own;
pub mod servers;
pub mod temp;
