use std::collections::HashSet;

use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
struct S {
    seen: HashSet<String>,
}

fn main() {}
