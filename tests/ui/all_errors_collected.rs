use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
#[session(cookie = "bad name", max_age = "forever")]
struct S {
    #[session(flash)]
    user: Option<String>,
    #[session(skipp)]
    cart: Vec<u32>,
}

fn main() {}
