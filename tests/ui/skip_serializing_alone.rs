use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    #[serde(skip_serializing)]
    cache: Vec<u32>,
}

fn main() {}
