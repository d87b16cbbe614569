use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    #[session(rename = "uid")]
    user_id: Option<u64>,
}

fn main() {}
