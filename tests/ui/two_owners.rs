use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    #[session(owner)]
    user: Option<String>,
    #[session(owner)]
    account: Option<u64>,
}

fn main() {}
