use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    #[serde(skip_serializing_if = "Vec::is_empty")]
    cart: Vec<u32>,
}

fn main() {}
