use serde::Serialize;
use sessionkit::Session;

#[derive(Session, Serialize, Default)]
struct S<'a> {
    user: Option<&'a str>,
}

fn main() {}
