//! A temporary directory removed on drop.

use std::path::{Path, PathBuf};

/// A directory of its own under the system's temporary directory.
#[derive(Debug)]
pub struct TempDir(PathBuf);

impl TempDir {
    /// Creates `sessionkit-LABEL-RANDOM`.
    pub fn new(label: &str) -> Self {
        let mut suffix = [0u8; 8];
        getrandom::fill(&mut suffix).unwrap();
        let dir = std::env::temp_dir().join(format!(
            "sessionkit-{label}-{:016x}",
            u64::from_be_bytes(suffix)
        ));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
