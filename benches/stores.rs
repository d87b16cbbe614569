//! Server-side sessions: a whole request (load by id cookie, change one field, save) through
//! `MemoryStore` and `FileStore`, beside a hand-written floor doing the same reads and writes.
//! `cargo bench --bench stores --all-features` prints criterion's figures for the memory store,
//! then a table of ns per request and ratios measured interleaved in one run (see
//! `benches/session.rs` for the method); `-- table` prints the table alone.
//!
//! - memory floor: verify the id cookie's HMAC, copy the bytes out of a locked `HashMap`,
//!   deserialize, change, serialize, put them back.
//! - file floor: verify the HMAC, read the file, deserialize, change, serialize, write a
//!   temporary file, flush it to disk, rename it over the record.
#![allow(missing_docs)]

use std::collections::HashMap;
use std::hint::black_box;
use std::sync::Mutex;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use criterion::{criterion_group, Criterion};
use hmac::{Hmac, Mac};
use sessionkit::{CookieCommand, FileStore, Key, MemoryStore, SessionConfig, SessionStore};
use sha2::Sha256;
use workload::{workload, Workload};

use sessionkit_testkit::bench::interleave;
use sessionkit_testkit::bench::workload;

use sessionkit_testkit::fixture::KEY_A as KEY_HEX;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn config(store: impl SessionStore + 'static) -> SessionConfig<Workload> {
    SessionConfig::builder()
        .key(Key::from_hex(KEY_HEX).unwrap())
        .store(store)
        .build()
        .unwrap()
}

/// Logs a session in; returns the `Cookie` header of the next requests.
fn logged_in(runtime: &tokio::runtime::Runtime, config: &SessionConfig<Workload>) -> String {
    runtime.block_on(async {
        let mut loaded = config.load_async([&b""[..]], now()).await.unwrap();
        *loaded.session = workload();
        let CookieCommand::Set(header) = config.save_async(&loaded.session, now()).await.unwrap()
        else {
            panic!("a new session sets a cookie")
        };
        format!("theme=dark; {}", header.split(';').next().unwrap())
    })
}

/// One request through sessionkit: load, change a field, save.
fn request(runtime: &tokio::runtime::Runtime, config: &SessionConfig<Workload>, header: &str) {
    runtime.block_on(async {
        let mut loaded = config.load_async([header.as_bytes()], now()).await.unwrap();
        *loaded.session.user_id_mut() += 1;
        drop(black_box(
            config.save_async(&loaded.session, now()).await.unwrap(),
        ));
    });
}

/// The floor's cookie: 32 id bytes and their HMAC.
struct FloorCookie {
    mac: Hmac<Sha256>,
    value: String,
    id: [u8; 32],
}

impl FloorCookie {
    fn new() -> Self {
        let key: Vec<u8> = (0..KEY_HEX.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&KEY_HEX[i..i + 2], 16).unwrap())
            .collect();
        let mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
        let id = [7u8; 32];
        let mut signer = mac.clone();
        signer.update(&id);
        let mut raw = id.to_vec();
        raw.extend_from_slice(&signer.finalize().into_bytes());
        Self {
            mac,
            value: URL_SAFE_NO_PAD.encode(raw),
            id,
        }
    }

    fn verify(&self, value: &str) -> [u8; 32] {
        let raw = URL_SAFE_NO_PAD.decode(value).unwrap();
        let mut mac = self.mac.clone();
        mac.update(&raw[..32]);
        mac.verify_slice(&raw[32..]).unwrap();
        raw[..32].try_into().unwrap()
    }
}

fn change(bytes: &[u8]) -> Vec<u8> {
    let mut data: Workload = serde_json::from_slice(bytes).unwrap();
    data.user_id += 1;
    serde_json::to_vec(&data).unwrap()
}

fn write_file(dir: &std::path::Path, name: &str, bytes: &[u8]) {
    use std::io::Write as _;
    let tmp = dir.join(format!(".tmp-{name}"));
    let mut file = std::fs::File::create(&tmp).unwrap();
    file.write_all(bytes).unwrap();
    file.sync_all().unwrap();
    std::fs::rename(tmp, dir.join(name)).unwrap();
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Criterion's figures for the memory store and its floor (the file store's fsync makes
/// criterion's sampling take minutes; it is in the interleaved table only).
fn bench_memory(c: &mut Criterion) {
    let runtime = runtime();
    let floor = FloorCookie::new();
    let map = Mutex::new(HashMap::from([(
        floor.id,
        serde_json::to_vec(&workload()).unwrap(),
    )]));
    let memory = config(MemoryStore::new());
    let header = logged_in(&runtime, &memory);
    let mut group = c.benchmark_group("memory_store_request");
    group.bench_function("floor", |b| {
        b.iter(|| {
            let id = floor.verify(black_box(&floor.value));
            let bytes = map.lock().unwrap().get(&id).cloned().unwrap();
            map.lock().unwrap().insert(id, change(&bytes));
        });
    });
    group.bench_function("sessionkit", |b| {
        b.iter(|| request(&runtime, &memory, &header));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = bench_memory
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}

/// The table: interleaved ratios, the figures the README reports.
fn report() {
    let runtime = runtime();
    let floor = FloorCookie::new();
    let json = serde_json::to_vec(&workload()).unwrap();

    let memory = config(MemoryStore::new());
    let memory_header = logged_in(&runtime, &memory);
    let map = Mutex::new(HashMap::from([(floor.id, json.clone())]));
    println!("\n| store | implementation | ns/request | ratio |");
    println!("|---|---|---:|---:|");
    let rows = interleave::interleaved(
        &mut [
            ("floor", &mut || {
                runtime.block_on(async {
                    let id = floor.verify(black_box(&floor.value));
                    let bytes = map.lock().unwrap().get(&id).cloned().unwrap();
                    let changed = change(&bytes);
                    map.lock().unwrap().insert(id, changed);
                });
            }),
            ("sessionkit", &mut || {
                request(&runtime, &memory, &memory_header);
            }),
        ],
        0,
    );
    for (name, ns, ratio) in rows {
        println!("| MemoryStore | {name} | {ns:.0} | {ratio:.2}x |");
    }

    let dir = std::env::temp_dir().join(format!("sessionkit-bench-{}", std::process::id()));
    let file = config(FileStore::new(dir.join("sessionkit")).unwrap());
    let file_header = logged_in(&runtime, &file);
    let floor_dir = dir.join("floor");
    std::fs::create_dir_all(&floor_dir).unwrap();
    write_file(&floor_dir, "record", &json);
    let rows = interleave::interleaved_with(
        &mut [
            ("floor", &mut || {
                runtime.block_on(async {
                    let _id = floor.verify(black_box(&floor.value));
                    let bytes = std::fs::read(floor_dir.join("record")).unwrap();
                    write_file(&floor_dir, "record", &change(&bytes));
                });
            }),
            ("sessionkit", &mut || request(&runtime, &file, &file_header)),
        ],
        0,
        21,
        20,
    );
    for (name, ns, ratio) in rows {
        println!("| FileStore | {name} | {ns:.0} | {ratio:.2}x |");
    }
    let _ = std::fs::remove_dir_all(dir);
}
