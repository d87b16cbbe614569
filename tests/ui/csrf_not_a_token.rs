use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    #[session(csrf)]
    token: Option<String>,
}

fn main() {}
