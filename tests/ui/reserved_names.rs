use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    default: u32,
    into: Option<String>,
    drop: Vec<u32>,
}

fn main() {}
