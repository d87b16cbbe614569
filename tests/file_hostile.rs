#![cfg(unix)]
//! The file store in a directory someone else could write: no link followed, nothing but a
//! regular file read, never more than the record limit, a shared directory refused.

mod common;

use std::os::unix::fs::{symlink, PermissionsExt as _};
use std::time::Duration;

use common::conformance::{logged_in, t0, Wide};
use common::temp::TempDir;
use common::{at, builder};
use sessionkit::{FileStore, Rejection, SessionConfig, StoreError};

fn config(dir: &std::path::Path) -> SessionConfig<Wide> {
    builder::<Wide>()
        .store(FileStore::new(dir).unwrap())
        .store_timeout(Duration::from_secs(2))
        .build()
        .unwrap()
}

/// The one record file under `dir`.
fn record_file(dir: &std::path::Path) -> std::path::PathBuf {
    for shard in std::fs::read_dir(dir).unwrap().flatten() {
        if shard.file_type().unwrap().is_dir() {
            for entry in std::fs::read_dir(shard.path()).unwrap().flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') {
                    return entry.path();
                }
            }
        }
    }
    panic!("no record file in {}", dir.display())
}

async fn refusal_for(config: &SessionConfig<Wide>, cookie: &str) -> String {
    let loaded = config
        .load_async([cookie.as_bytes()], at(t0() + 1))
        .await
        .expect("a refused session, not a store error");
    assert!(loaded.session.is_new());
    match loaded.rejected {
        Some(Rejection::CorruptRecord { reason, .. }) => reason,
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_directory_other_users_can_write_is_refused_with_the_fix() {
    let dir = TempDir::new("file-shared");
    for mode in [0o777, 0o770, 0o722] {
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(mode)).unwrap();
        let Err(StoreError::Unavailable(message)) = FileStore::new(dir.path()) else {
            panic!("mode {mode:o} accepted")
        };
        assert!(message.contains("chmod 700"), "{message}");
    }
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o700)).unwrap();
    assert!(FileStore::new(dir.path()).is_ok());
}

#[test]
fn start_up_never_writes_through_a_planted_link() {
    let dir = TempDir::new("file-probe");
    let target = TempDir::new("file-probe-target");
    let victim = target.path().join("victim");
    std::fs::write(&victim, b"precious").unwrap();
    symlink(&victim, dir.path().join(".probe")).unwrap();
    FileStore::new(dir.path()).unwrap();
    assert_eq!(std::fs::read(&victim).unwrap(), b"precious");
}

#[tokio::test]
async fn a_link_planted_as_a_lock_file_is_an_error_never_followed() {
    let dir = TempDir::new("file-lock");
    let elsewhere = TempDir::new("file-lock-elsewhere");
    let config = config(dir.path());
    // Plant a dangling `.lock` link in every shard before any exists.
    for shard in 0..=255u8 {
        let shard = dir.path().join(format!("{shard:02x}"));
        std::fs::create_dir(&shard).unwrap();
        std::fs::set_permissions(&shard, std::fs::Permissions::from_mode(0o700)).unwrap();
        symlink(
            elsewhere
                .path()
                .join(format!("made-{}", shard.display().to_string().len())),
            shard.join(".lock"),
        )
        .unwrap();
    }
    let mut session = config
        .load_async([&b""[..]], at(t0()))
        .await
        .unwrap()
        .session;
    session.set_user("alice");
    assert!(config.save_async(&session, at(t0())).await.is_err());
    assert_eq!(std::fs::read_dir(elsewhere.path()).unwrap().count(), 0);
}

#[tokio::test]
async fn a_record_that_is_a_link_a_fifo_or_huge_is_a_refused_session() {
    let dir = TempDir::new("file-records");
    let config = config(dir.path());
    let cookie = logged_in(&config).await;
    let file = record_file(dir.path());
    let original = std::fs::read(&file).unwrap();

    // A link to a record elsewhere (a copy of the real one): not followed.
    let copy = dir.path().join("copy");
    std::fs::write(&copy, &original).unwrap();
    std::fs::remove_file(&file).unwrap();
    symlink(&copy, &file).unwrap();
    assert_eq!(refusal_for(&config, &cookie).await, "a link, not a record");

    // A FIFO: refused at once, no reader blocked until the timeout.
    std::fs::remove_file(&file).unwrap();
    let status = std::process::Command::new("mkfifo")
        .arg(&file)
        .status()
        .unwrap();
    assert!(status.success());
    let started = std::time::Instant::now();
    assert_eq!(refusal_for(&config, &cookie).await, "not a regular file");
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "{:?}",
        started.elapsed()
    );

    // A 1 GiB sparse file: refused from its size, never read.
    std::fs::remove_file(&file).unwrap();
    let huge = std::fs::File::create(&file).unwrap();
    huge.set_len(1 << 30).unwrap();
    drop(huge);
    assert_eq!(
        refusal_for(&config, &cookie).await,
        "1073741824 bytes, over the 8388608-byte record limit"
    );

    // The real record back: the session loads again.
    std::fs::remove_file(&file).unwrap();
    std::fs::write(&file, &original).unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let loaded = config
        .load_async([cookie.as_bytes()], at(t0() + 1))
        .await
        .unwrap();
    assert_eq!(loaded.rejected, None);
}

/// In signed mode too, a record is bound to its store key: one copied over another session's
/// file, or one written without a binding, is a refused session.
#[tokio::test]
async fn a_record_copied_over_another_sessions_file_is_refused() {
    let dir = TempDir::new("file-bound");
    let config = config(dir.path());
    let alice = logged_in(&config).await;
    let alice_file = record_file(dir.path());
    let mut other = config
        .load_async([&b""[..]], at(t0()))
        .await
        .unwrap()
        .session;
    other.set_user("mallory");
    let mallory = common::pair(&common::set_header(
        config.save_async(&other, at(t0())).await.unwrap(),
    ));
    let mallory_file = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .filter(|s| s.file_type().unwrap().is_dir())
        .flat_map(|s| std::fs::read_dir(s.path()).unwrap().flatten())
        .map(|e| e.path())
        .find(|p| *p != alice_file && !p.file_name().unwrap().to_string_lossy().starts_with('.'))
        .unwrap();
    // Mallory copies her record over Alice's: Alice's cookie does not load Mallory's session.
    std::fs::copy(&mallory_file, &alice_file).unwrap();
    assert_eq!(
        refusal_for(&config, &alice).await,
        "the record is not bound to this session: tampered, or moved from another session"
    );
    let loaded = config
        .load_async([mallory.as_bytes()], at(t0() + 1))
        .await
        .unwrap();
    assert_eq!(loaded.session.user(), Some("mallory"));

    // A record bound to nothing (as sessionkit wrote before binding): refused, unless the
    // migration window is open.
    let mut legacy = std::fs::read(&mallory_file).unwrap();
    // `SKR1`, three times, the owner's length and bytes, the payload's length, the payload.
    let owner_len = u32::from_be_bytes(legacy[28..32].try_into().unwrap()) as usize;
    let payload_at = 32 + owner_len + 4;
    let bound = legacy.split_off(payload_at);
    let json = &bound[41..];
    legacy.push(1);
    legacy.extend_from_slice(&bound[1..5]);
    legacy.extend_from_slice(json);
    let len = u32::try_from(json.len() + 5).unwrap().to_be_bytes();
    legacy[payload_at - 4..payload_at].copy_from_slice(&len);
    std::fs::write(&mallory_file, &legacy).unwrap();
    let refused = refusal_for(&config, &mallory).await;
    assert!(
        refused.starts_with("the record is not bound to its key"),
        "{refused}"
    );
    let window = builder::<Wide>()
        .store(FileStore::new(dir.path()).unwrap())
        .read_unbound_records()
        .build()
        .unwrap();
    let loaded = window
        .load_async([mallory.as_bytes()], at(t0() + 1))
        .await
        .unwrap();
    assert_eq!(
        (loaded.rejected, loaded.session.user()),
        (None, Some("mallory"))
    );
}
