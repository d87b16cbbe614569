use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    user: Option<String>,
}

fn main() {
    let mut session = S::default();
    session.set_usr("alice");
}
