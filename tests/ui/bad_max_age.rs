use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
#[session(max_age = "31 days")]
struct S {
    user: Option<String>,
}

fn main() {}
