//! The benchmark workload: the session every bench and `tests/alloc_count.rs` measure.

use serde::{Deserialize, Serialize};

/// A typical session.
#[derive(sessionkit::Session, Serialize, Deserialize, Default, Debug, Clone, PartialEq)]
pub struct Workload {
    /// The user's id.
    pub user_id: u64,
    /// Their name.
    pub username: String,
    /// A CSRF token.
    pub csrf: String,
    /// Their roles.
    pub roles: Vec<String>,
    /// Item ids.
    pub cart: Vec<u32>,
    /// A flash message.
    pub flash: Option<String>,
}

/// Its values: alice, a 32-character CSRF token, two roles, three items, a flash.
pub fn workload() -> Workload {
    Workload {
        user_id: 42,
        username: "alice".into(),
        csrf: "0123456789abcdef0123456789abcdef".into(),
        roles: vec!["admin".into(), "editor".into()],
        cart: vec![1, 2, 3],
        flash: Some("Saved!".into()),
    }
}
