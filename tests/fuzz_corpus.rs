//! Replays the fuzz corpus (`fuzz/corpus/<target>/`) through the fuzz targets' own logic on
//! stable, so every input the fuzzers kept is checked in CI. A longer fuzz run:
//! `cd fuzz && cargo +nightly fuzz run load -- -max_total_time=600` (and `load_signed`,
//! `load_raw`, `load_encrypted`).

use sessionkit_testkit::fuzz as targets;

fn replay(target: &str, run: fn(&[u8])) -> usize {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.unwrap().path();
        // A running fuzzer may replace a file between listing and reading.
        let Ok(data) = std::fs::read(&path) else {
            continue;
        };
        if let Err(panic) = std::panic::catch_unwind(|| run(&data)) {
            panic!("{} failed: {panic:?}", path.display());
        }
        count += 1;
    }
    count
}

#[test]
fn the_load_corpus_replays_cleanly() {
    assert!(replay("load", targets::load) >= 21);
}

#[test]
fn the_signed_corpus_replays_cleanly() {
    assert!(replay("load_signed", targets::load_signed) >= 17);
}

#[test]
fn the_raw_header_corpus_replays_cleanly() {
    assert!(replay("load_raw", targets::load_raw) >= 5);
}

#[test]
fn the_encrypted_corpus_replays_cleanly() {
    assert!(replay("load_encrypted", targets::load_encrypted) >= 12);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(512))]

    /// Random raw header bytes through the `load_raw` target, on stable, in every test run.
    #[test]
    fn random_raw_headers_never_hide_the_session(
        data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600)
    ) {
        targets::load_raw(&data);
    }

    /// Random masks over a valid encrypted cookie through the `load_encrypted` target.
    #[test]
    fn random_changes_to_an_encrypted_cookie_are_refused(
        data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200)
    ) {
        targets::load_encrypted(&data);
    }
}
