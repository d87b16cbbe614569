use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Serialize, Deserialize, Default)]
struct UserId(u64);

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    user: Option<UserId>,
}

fn main() {
    let mut session = S::default();
    session.set_user("alice");
}
