use serde::{Deserialize, Serialize};
use sessionkit::Session;

#[derive(Session, Serialize, Deserialize, Default)]
#[session(cokie = "sid")]
struct S {
    user: Option<String>,
    #[session(flash)]
    flashes: Vec<String>,
}

fn main() {
    // The attribute error is the only error: the accessors still exist.
    let mut session = sessionkit::TrackedSession::<S>::default();
    session.set_user("alice");
    session.flash("hi");
    let _ = session.has_user();
}
