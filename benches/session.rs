//! sessionkit against the hand-written floor and the `cookie` crate's `SignedJar`, on the same
//! session, in one run. `cargo bench --bench session --all-features` prints criterion's
//! figures, then a table of ns per op and ratios measured interleaved (each round times every
//! implementation back to back, so the drift of a shared machine cancels out in the ratio).
//! `cargo bench --bench session --all-features -- table` prints the table alone.
//!
//! - LOAD: the `Cookie` header (`theme=dark; _ga=GA1.2.3.4; session=...`) to a verified, typed
//!   session.
//! - STORE: a session with one field changed to the full `Set-Cookie` value.
//! - UNTOUCHED: load, read a field, store (nothing to send).
//! - TOUCHED-NO-CHANGE: load, borrow a field mutably without changing it, store.
//! - FLASK LOAD / STORE: the same session in Flask's cookie format.
//! - `encrypted` / `private_jar`: sessionkit's `.encrypted()` and the `cookie` crate's `PrivateJar`
//!   (AES-256-GCM), against the same signed floor.
#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use criterion::{criterion_group, Criterion};
use hmac::{Hmac, Mac};
use sessionkit::{CookieCommand, Key, SessionConfig, TrackedSession};
use sha2::Sha256;
use workload::{workload, Workload};

use sessionkit_testkit::bench::interleave;
use sessionkit_testkit::bench::workload;

use interleave::{interleaved, interleaved_against, print_rows};

use sessionkit_testkit::fixture::KEY_A as KEY_HEX;

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn key_bytes() -> Vec<u8> {
    (0..KEY_HEX.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&KEY_HEX[i..i + 2], 16).unwrap())
        .collect()
}

fn request_header(session_pair: &str) -> String {
    format!("theme=dark; _ga=GA1.2.3.4; {session_pair}")
}

/// The floor: the minimum that does the same work. `serde_json`, HMAC-SHA256 from a precomputed
/// key state, base64url; no checks beyond the MAC.
struct Floor {
    mac: Hmac<Sha256>,
}

impl Floor {
    fn new() -> Self {
        Self {
            mac: Hmac::new_from_slice(&key_bytes()).unwrap(),
        }
    }

    fn save(&self, data: &Workload) -> String {
        let mut raw = serde_json::to_vec(data).unwrap();
        let mut mac = self.mac.clone();
        mac.update(&raw);
        raw.extend_from_slice(&mac.finalize().into_bytes());
        let mut header = String::with_capacity(raw.len() * 4 / 3 + 64);
        header.push_str("session=");
        URL_SAFE_NO_PAD.encode_string(&raw, &mut header);
        header.push_str("; HttpOnly; SameSite=Lax; Secure; Path=/");
        header
    }

    fn load(&self, header: &str) -> Option<Workload> {
        let value = header
            .split("; ")
            .find_map(|c| c.strip_prefix("session="))?;
        let raw = URL_SAFE_NO_PAD.decode(value).ok()?;
        let (payload, tag) = raw.split_at(raw.len().checked_sub(32)?);
        let mut mac = self.mac.clone();
        mac.update(payload);
        mac.verify_slice(tag).ok()?;
        serde_json::from_slice(payload).ok()
    }
}

/// What axum-extra's `SignedCookieJar` and Rocket do: the `cookie` crate's signed jar carrying
/// the same JSON.
struct Jar {
    key: cookie::Key,
    /// `PrivateJar` (encrypted) rather than `SignedJar`.
    private: bool,
}

impl Jar {
    fn new(private: bool) -> Self {
        let mut master = key_bytes();
        master.extend(key_bytes());
        Self {
            key: cookie::Key::from(&master),
            private,
        }
    }

    fn save(&self, data: &Workload) -> String {
        let mut jar = cookie::CookieJar::new();
        let cookie = cookie::Cookie::build(("session", serde_json::to_string(data).unwrap()))
            .path("/")
            .http_only(true)
            .secure(true)
            .same_site(cookie::SameSite::Lax);
        if self.private {
            jar.private_mut(&self.key).add(cookie);
        } else {
            jar.signed_mut(&self.key).add(cookie);
        }
        jar.delta().next().unwrap().encoded().to_string()
    }

    fn load(&self, header: &str) -> Option<Workload> {
        let mut jar = cookie::CookieJar::new();
        for cookie in cookie::Cookie::split_parse_encoded(header.to_owned()).flatten() {
            jar.add_original(cookie);
        }
        let cookie = if self.private {
            jar.private(&self.key).get("session")?
        } else {
            jar.signed(&self.key).get("session")?
        };
        serde_json::from_str(cookie.value()).ok()
    }
}

fn sessionkit_config() -> SessionConfig<Workload> {
    SessionConfig::builder()
        .key(Key::from_hex(KEY_HEX).unwrap())
        .build()
        .unwrap()
}

fn encrypted_config() -> SessionConfig<Workload> {
    SessionConfig::builder()
        .key(Key::from_hex(KEY_HEX).unwrap())
        .encrypted()
        .build()
        .unwrap()
}

fn flask_config() -> SessionConfig<Workload> {
    let codec = sessionkit::flask::FlaskCodec::new("bench-flask-key-3f9c1a7e5d2b").unwrap();
    SessionConfig::builder().flask(codec).build().unwrap()
}

fn first_pair(set_cookie: &str) -> String {
    set_cookie.split(';').next().unwrap().to_owned()
}

fn stored(config: &SessionConfig<Workload>) -> String {
    stored_data(config, workload())
}

fn stored_data(config: &SessionConfig<Workload>, data: Workload) -> String {
    match config.save(&TrackedSession::new(data), now()).unwrap() {
        CookieCommand::Set(h) => request_header(&first_pair(&h)),
        other => panic!("{other:?}"),
    }
}

/// A loaded session with one field changed.
fn touched(config: &SessionConfig<Workload>, header: &str) -> TrackedSession<Workload> {
    let mut session = config.load(header, now()).session;
    session.user_id = 43;
    session
}

fn bench_load(c: &mut Criterion) {
    let (config, floor, jar) = (sessionkit_config(), Floor::new(), Jar::new(false));
    let header = stored(&config);
    let floor_header = request_header(&first_pair(&floor.save(&workload())));
    let jar_header = request_header(&first_pair(&jar.save(&workload())));
    assert_eq!(floor.load(&floor_header).unwrap(), workload());
    assert_eq!(jar.load(&jar_header).unwrap(), workload());
    assert_eq!(*config.load(&header, now()).session, workload());
    let mut group = c.benchmark_group("load");
    group.bench_function("floor", |b| b.iter(|| floor.load(black_box(&floor_header))));
    group.bench_function("sessionkit", |b| {
        b.iter(|| config.load(black_box(&header), now()));
    });
    group.bench_function("signed_jar", |b| {
        b.iter(|| jar.load(black_box(&jar_header)));
    });
    group.finish();
}

fn bench_store(c: &mut Criterion) {
    let (config, floor, jar) = (sessionkit_config(), Floor::new(), Jar::new(false));
    let header = stored(&config);
    let mut changed = workload();
    changed.user_id = 43;
    let mut group = c.benchmark_group("store");
    group.bench_function("floor", |b| b.iter(|| floor.save(black_box(&changed))));
    // A touched session is serialized, compared and sealed again at every store.
    let session = touched(&config, &header);
    group.bench_function("sessionkit", |b| {
        b.iter(|| config.save(black_box(&session), now()).unwrap());
    });
    group.bench_function("signed_jar", |b| b.iter(|| jar.save(black_box(&changed))));
    group.finish();
}

fn bench_request(c: &mut Criterion) {
    let config = sessionkit_config();
    let header = stored(&config);
    let mut group = c.benchmark_group("request");
    group.bench_function("load", |b| {
        b.iter(|| config.load(black_box(&header), now()));
    });
    group.bench_function("untouched", |b| {
        b.iter(|| {
            let loaded = config.load(black_box(&header), now());
            black_box(loaded.session.username());
            config.save(&loaded.session, now()).unwrap()
        });
    });
    group.bench_function("touched_no_change", |b| {
        b.iter(|| {
            let mut loaded = config.load(black_box(&header), now());
            black_box(loaded.session.cart_mut());
            config.save(&loaded.session, now()).unwrap()
        });
    });
    group.finish();
}

fn bench_flask(c: &mut Criterion) {
    let config = flask_config();
    let header = stored(&config);
    assert_eq!(*config.load(&header, now()).session, workload());
    let mut group = c.benchmark_group("flask");
    group.bench_function("load", |b| {
        b.iter(|| config.load(black_box(&header), now()));
    });
    let session = touched(&config, &header);
    group.bench_function("store", |b| {
        b.iter(|| config.save(black_box(&session), now()).unwrap());
    });
    group.finish();
}

/// The table: interleaved ratios, the figures the targets are judged by.
fn report() {
    let (config, floor, jar, flask) = (
        sessionkit_config(),
        Floor::new(),
        Jar::new(false),
        flask_config(),
    );
    let (encrypted, private) = (encrypted_config(), Jar::new(true));
    let encrypted_header = stored(&encrypted);
    let private_header = request_header(&first_pair(&private.save(&workload())));
    assert_eq!(
        *encrypted.load(&encrypted_header, now()).session,
        workload()
    );
    assert_eq!(private.load(&private_header).unwrap(), workload());
    let encrypted_session = touched(&encrypted, &encrypted_header);
    let header = stored(&config);
    let floor_header = request_header(&first_pair(&floor.save(&workload())));
    let jar_header = request_header(&first_pair(&jar.save(&workload())));
    let flask_header = stored(&flask);
    let mut changed = workload();
    changed.user_id = 43;
    let (session, flask_session) = (touched(&config, &header), touched(&flask, &flask_header));

    println!("\n| operation | implementation | ns/op | ratio | to |");
    println!("|---|---|---:|---:|---|");
    let load = interleaved_against(
        &mut [
            ("floor", &mut || {
                drop(black_box(floor.load(black_box(&floor_header))));
            }),
            ("sessionkit", &mut || {
                drop(black_box(config.load(black_box(&header), now())));
            }),
            ("signed_jar", &mut || {
                drop(black_box(jar.load(black_box(&jar_header))));
            }),
            ("flask", &mut || {
                drop(black_box(flask.load(black_box(&flask_header), now())));
            }),
            // The reason the `Cookie` header scan is hand-written: the same LOAD, finding the
            // cookie with the `cookie` crate's parser first.
            ("via split_parse", &mut || {
                let pair = cookie::Cookie::split_parse(black_box(header.as_str()))
                    .flatten()
                    .find(|c| c.name() == "session")
                    .map(|c| c.to_string());
                drop(black_box(pair.map(|p| config.load(&p, now()))));
            }),
            ("encrypted", &mut || {
                drop(black_box(
                    encrypted.load(black_box(&encrypted_header), now()),
                ));
            }),
            ("private_jar", &mut || {
                drop(black_box(private.load(black_box(&private_header))));
            }),
        ],
        &[0, 1],
    );
    print_rows("LOAD", "floor", &load[0]);
    print_rows("LOAD", "sessionkit", &load[1][2..]);
    let store = interleaved_against(
        &mut [
            ("floor", &mut || {
                drop(black_box(floor.save(black_box(&changed))));
            }),
            ("sessionkit", &mut || {
                drop(black_box(config.save(black_box(&session), now())));
            }),
            ("signed_jar", &mut || {
                drop(black_box(jar.save(black_box(&changed))));
            }),
            ("flask", &mut || {
                drop(black_box(flask.save(black_box(&flask_session), now())));
            }),
            ("encrypted", &mut || {
                drop(black_box(
                    encrypted.save(black_box(&encrypted_session), now()),
                ));
            }),
            ("private_jar", &mut || {
                drop(black_box(private.save(black_box(&changed))));
            }),
        ],
        &[0, 1],
    );
    print_rows("STORE", "floor", &store[0]);
    print_rows("STORE", "sessionkit", &store[1][2..]);
    report_request(&config, &header);
    report_large(&config, &flask);
}

/// Flask against native on a session large enough for Flask mode to compress (a 300-item cart,
/// about 1.5 KB of JSON).
fn report_large(config: &SessionConfig<Workload>, flask: &SessionConfig<Workload>) {
    let large = Workload {
        cart: (0..300).collect(),
        ..workload()
    };
    let (header, flask_header) = (
        stored_data(config, large.clone()),
        stored_data(flask, large.clone()),
    );
    assert!(flask_header.contains("session=."), "compressed");
    assert_eq!(*flask.load(&flask_header, now()).session, large);
    let (session, flask_session) = (touched(config, &header), touched(flask, &flask_header));
    let load = interleaved(
        &mut [
            ("sessionkit", &mut || {
                drop(black_box(config.load(black_box(&header), now())));
            }),
            ("flask", &mut || {
                drop(black_box(flask.load(black_box(&flask_header), now())));
            }),
        ],
        0,
    );
    print_rows("LOAD 1.5 KB", "sessionkit", &load);
    let store = interleaved(
        &mut [
            ("sessionkit", &mut || {
                drop(black_box(config.save(black_box(&session), now())));
            }),
            ("flask", &mut || {
                drop(black_box(flask.save(black_box(&flask_session), now())));
            }),
        ],
        0,
    );
    print_rows("STORE 1.5 KB", "sessionkit", &store);
}

/// The REQUEST rows: whole load-use-store cycles against a bare load.
fn report_request(config: &SessionConfig<Workload>, header: &str) {
    let request = interleaved(
        &mut [
            ("load", &mut || {
                drop(black_box(config.load(black_box(header), now())));
            }),
            ("untouched", &mut || {
                let loaded = config.load(black_box(header), now());
                black_box(loaded.session.username());
                drop(black_box(config.save(&loaded.session, now())));
            }),
            ("touched_no_change", &mut || {
                let mut loaded = config.load(black_box(header), now());
                black_box(loaded.session.cart_mut());
                drop(black_box(config.save(&loaded.session, now())));
            }),
        ],
        0,
    );
    print_rows("REQUEST", "load", &request);
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = bench_load, bench_store, bench_request, bench_flask
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    report();
}
