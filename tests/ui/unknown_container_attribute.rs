use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
#[session(maxage = "1d")]
struct S {
    user: Option<String>,
}

fn main() {}
