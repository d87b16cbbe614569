use serde::{Deserialize, Serialize};
use sessionkit::{CsrfToken, Session};

#[derive(Session, Serialize, Deserialize, Default)]
#[session(version = -1)]
struct S {
    #[session(flash)]
    a: Vec<String>,
    #[session(flash)]
    b: Vec<String>,
    #[session(csrf)]
    c: CsrfToken,
    #[session(csrf)]
    d: CsrfToken,
    #[session(skip = true)]
    e: u32,
}

fn main() {}
