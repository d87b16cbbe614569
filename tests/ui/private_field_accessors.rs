mod app {
    use serde::{Deserialize, Serialize};
    use sessionkit::Session;

    #[derive(Session, Serialize, Deserialize, Default)]
    pub struct S {
        pub user: Option<String>,
        pub(crate) role: Option<String>,
        secret: Option<String>,
    }
}

fn main() {
    let mut s = app::S::default();
    s.set_user("alice");
    s.set_role("admin");
    let _ = s.secret();
}
