use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
#[session(cookie = "a", cookie = "b")]
struct S {
    user: Option<String>,
}

fn main() {}
