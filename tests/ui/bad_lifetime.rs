use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
#[session(lifetime = "31 days")]
struct S {
    user: Option<String>,
}

fn main() {}
