//! The file store across processes: several processes share one directory without losing an
//! update, and a writer killed mid-write leaves the previous record intact.
//!
//! The other processes are this test binary again, started with `SESSIONKIT_FILE_CHILD` set:
//! the `child` test below is their entry point and returns at once in a normal run.

mod common;

use std::process::{Child, Command};
use std::time::Duration;

use common::conformance::{now_ms, record, t0, Wide};
use common::temp::TempDir;
use common::{at, builder};
use sessionkit::store::Updated;
use sessionkit::{FileStore, SessionConfig, SessionId, SessionStore, StoreKey};

const CHILD: &str = "SESSIONKIT_FILE_CHILD";

fn spawn(mode: &str, dir: &std::path::Path, arg: &str) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "child", "--nocapture", "--test-threads=1"])
        .env(CHILD, mode)
        .env("SESSIONKIT_FILE_DIR", dir)
        .env("SESSIONKIT_FILE_ARG", arg)
        .spawn()
        .unwrap()
}

fn config(dir: &std::path::Path) -> SessionConfig<Wide> {
    builder::<Wide>()
        .store(FileStore::new(dir).unwrap())
        .build()
        .unwrap()
}

/// A record whose payload says its own version, padded to `size` bytes so that a write takes
/// long enough to be interrupted.
fn versioned(version: u64, size: usize) -> sessionkit::store::Record {
    let json = format!(r#"{{"v":{version},"pad":"{}"}}"#, "x".repeat(size));
    let mut r = record(version, None, &json);
    r.expires_at = u64::MAX;
    r
}

fn version_in_payload(r: &sessionkit::store::Record) -> u64 {
    let json: serde_json::Value = serde_json::from_slice(&r.payload[5..]).unwrap();
    json["v"].as_u64().unwrap()
}

#[tokio::test]
async fn child() {
    let Ok(mode) = std::env::var(CHILD) else {
        return; // a normal run: only the tests below start children
    };
    let dir = std::env::var("SESSIONKIT_FILE_DIR").unwrap();
    let arg = std::env::var("SESSIONKIT_FILE_ARG").unwrap();
    match mode.as_str() {
        // Rewrites one record forever, each version 4 MB, until killed.
        "writer" => {
            let store = FileStore::new(&dir).unwrap();
            let key = StoreKey::from_hex(&arg).unwrap();
            loop {
                let current = store.load(&key, now_ms()).await.unwrap().unwrap();
                let next = versioned(current.version + 1, 4 << 20);
                assert_eq!(
                    store
                        .update(&key, current.version, &next, now_ms())
                        .await
                        .unwrap(),
                    Updated::Ok
                );
            }
        }
        // Increments its own field of the shared session 25 times through the driver.
        field => {
            let index: usize = field.parse().unwrap();
            let config = config(dir.as_ref());
            for _ in 0..25 {
                let mut loaded = config
                    .load_async([arg.as_bytes()], at(t0() + 1))
                    .await
                    .unwrap();
                assert_eq!(loaded.rejected, None);
                *loaded.session.field(index) += 1;
                let _sent = config
                    .save_async(&loaded.session, at(t0() + 1))
                    .await
                    .unwrap();
            }
        }
    }
}

#[tokio::test]
async fn several_processes_share_one_directory_without_losing_an_update() {
    let dir = TempDir::new("processes");
    let config = config(dir.path());
    let cookie = common::conformance::logged_in(&config).await;
    let children: Vec<Child> = (0..4)
        .map(|i| spawn(&i.to_string(), dir.path(), &cookie))
        .collect();
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    let mut last = config
        .load_async([cookie.as_bytes()], at(t0() + 2))
        .await
        .unwrap();
    for i in 0..4 {
        assert_eq!(*last.session.field(i), 25, "field {i}");
    }
}

#[tokio::test]
async fn a_writer_killed_mid_write_leaves_the_previous_record_intact() {
    let dir = TempDir::new("killed");
    let store = FileStore::new(dir.path()).unwrap();
    let key = StoreKey::new("app", &SessionId::generate().unwrap());
    assert_eq!(
        store
            .create(&key, &versioned(1, 16), now_ms())
            .await
            .unwrap(),
        sessionkit::store::Created::Ok
    );
    for round in 0..6u64 {
        let mut writer = spawn("writer", dir.path(), &key.to_hex());
        std::thread::sleep(Duration::from_millis(150 + 70 * round));
        writer.kill().unwrap();
        writer.wait().unwrap();
        // Whatever the moment of the kill: a whole record, consistent with itself.
        let r = store
            .load(&key, now_ms())
            .await
            .unwrap()
            .expect("the record survives");
        assert_eq!(version_in_payload(&r), r.version, "round {round}");
    }
    // Temporary files the killed writers left are not records; the sweep keeps the record.
    assert_eq!(store.delete_expired(now_ms(), 100).await.unwrap(), 0);
    assert!(store.load(&key, now_ms()).await.unwrap().is_some());
}

#[test]
fn files_and_directories_are_private() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = TempDir::new("modes");
    let store = FileStore::new(dir.path().join("sessions")).unwrap();
    let key = StoreKey::new("app", &SessionId::generate().unwrap());
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let created = runtime
        .block_on(store.create(&key, &record(1, None, "{}"), now_ms()))
        .unwrap();
    assert_eq!(created, sessionkit::store::Created::Ok);
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let shard = store.dir().join(&key.to_hex()[..2]);
    assert_eq!(mode(store.dir()), 0o700);
    assert_eq!(mode(&shard), 0o700);
    assert_eq!(mode(&shard.join(key.to_hex())), 0o600);
    // The id itself appears nowhere on disk: only its hash names the file.
    let names: Vec<String> = std::fs::read_dir(&shard)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(names.contains(&key.to_hex()));
}
