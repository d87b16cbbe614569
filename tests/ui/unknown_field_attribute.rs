use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    #[session(flsh)]
    flashes: Vec<String>,
}

fn main() {}
