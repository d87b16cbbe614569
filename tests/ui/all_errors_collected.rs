use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
#[session(cookie = "bad name", lifetime = "forever")]
struct S {
    #[session(flash)]
    user: Option<String>,
    #[session(skipp)]
    cart: Vec<u32>,
}

fn main() {}
