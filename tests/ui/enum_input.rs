use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize)]
enum S {
    LoggedIn { user: String },
    Anonymous,
}

fn main() {}
