use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
#[session(max_age = "31d")]
struct S {
    user: Option<String>,
}

fn main() {}
