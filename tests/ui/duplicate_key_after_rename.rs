use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    user: Option<String>,
    #[session(rename = "user")]
    #[serde(rename = "user")]
    login: Option<String>,
}

fn main() {}
