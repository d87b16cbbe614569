//! The `#[derive(Session)]` macro.
