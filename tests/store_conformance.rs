//! The conformance suite on the stores that need no server: memory and file.

#[macro_use]
mod common;

mod memory {
    use super::common;
    use sessionkit::{BoxedStore, MemoryStore};

    crate::conformance!(Some((BoxedStore::new(MemoryStore::new()), ())); pruned owner index);
}

mod file {
    use super::common;
    use common::temp::TempDir;
    use sessionkit::{BoxedStore, FileStore};

    crate::conformance!({
        let dir = TempDir::new("conformance");
        Some((BoxedStore::new(FileStore::new(dir.path()).unwrap()), dir))
    });
}
