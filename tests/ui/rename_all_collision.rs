use serde::{Deserialize, Serialize};
use sessionkit::Session;

// `rename_all` makes `user_id` write `userId`, the key `login` already takes.
#[derive(Session, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct S {
    user_id: Option<String>,
    #[serde(rename = "userId")]
    login: Option<String>,
}

fn main() {}
