//! The benchmark workload, shared by `benches/session.rs` and `tests/alloc_count.rs`.

use serde::{Deserialize, Serialize};

/// A typical session.
#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
pub(crate) struct Workload {
    pub(crate) user_id: u64,
    pub(crate) username: String,
    pub(crate) csrf: String,
    pub(crate) roles: Vec<String>,
    pub(crate) cart: Vec<u32>,
    pub(crate) flash: Option<String>,
}

/// Its values: alice, a 32-character CSRF token, two roles, three items, a flash.
pub(crate) fn workload() -> Workload {
    Workload {
        user_id: 42,
        username: "alice".into(),
        csrf: "0123456789abcdef0123456789abcdef".into(),
        roles: vec!["admin".into(), "editor".into()],
        cart: vec![1, 2, 3],
        flash: Some("Saved!".into()),
    }
}
