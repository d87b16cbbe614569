//! The integration tests' shared helpers: the test kit's fixtures, loopback HTTP and servers,
//! and sessionkit's public store conformance suite.
#![allow(unused_imports)]

pub(crate) use sessionkit::conformance;
pub(crate) use sessionkit_testkit::fixture::*;
pub(crate) use sessionkit_testkit::http::*;
pub(crate) use sessionkit_testkit::{forge, own, servers, temp};
