//! sessionkit: typed, signed web sessions.
#![doc(html_root_url = "https://docs.rs/sessionkit/0.1.0")]

pub use session_core::*;
pub use session_derive::Session;

#[doc(hidden)]
pub mod __private {
    pub use serde;
    pub use session_core::SessionSchema;
}
