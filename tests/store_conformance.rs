//! The conformance suite on the stores that need no server: memory and file.

#[macro_use]
mod common;

mod memory {

    use sessionkit::{BoxedStore, MemoryStore};

    sessionkit::conformance!(Some((BoxedStore::new(MemoryStore::new()), ())); pruned owner index);
}

mod file {
    use super::common;
    use common::temp::TempDir;
    use sessionkit::{BoxedStore, FileStore};

    sessionkit::conformance!({
        let dir = TempDir::new("conformance");
        Some((BoxedStore::new(FileStore::new(dir.path()).unwrap()), dir))
    });
}
