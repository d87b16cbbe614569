use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    rejection: Option<String>,
}

fn main() {}
