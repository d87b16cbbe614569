//! The servers the store tests run against, from the environment `scripts/servers start`
//! writes (`target/servers/env`). A missing URL fails the test when `CI=true`; on a developer
//! machine the test says why it skips.

/// The value of `var`, or `None` (skip, with the reason printed) outside CI.
///
/// # Panics
///
/// When `CI=true` and `var` is not set: CI must start the servers.
pub fn url(var: &str) -> Option<String> {
    match std::env::var(var) {
        Ok(url) if !url.is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("{var} is not set: CI must start the servers (scripts/servers start)")
        }
        _ => {
            eprintln!("skipping: {var} is not set (run scripts/servers start and source target/servers/env)");
            None
        }
    }
}

/// A random suffix for a name no other test uses.
pub fn unique(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).unwrap();
    format!("{prefix}_{:016x}", u64::from_be_bytes(bytes))
}
