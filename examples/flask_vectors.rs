//! Checks a Flask session vector file (the `public.jsonl` schema) against sessionkit's codec.
//!
//! `cargo run --example flask_vectors --features flask -- FILE.jsonl` prints each failure, then
//! `N passed, M failed` for each tier (`core`, `quirk`) and in total; the exit status is 1 if
//! any failed. What each record is checked for: `sessionkit_testkit::flask_vectors`.

use sessionkit_testkit::flask_vectors::run;

fn main() {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: flask_vectors FILE.jsonl");
        std::process::exit(2);
    };
    let contents = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        eprintln!("cannot read {path}: {e}");
        std::process::exit(2);
    });
    let tally = run(&contents);
    for failure in &tally.failures {
        println!("FAIL {failure}");
    }
    for (tier, passed, failed) in &tally.tiers {
        println!("{tier}: {passed} passed, {failed} failed");
    }
    let (passed, failed) = tally.total();
    println!("{passed} passed, {failed} failed");
    std::process::exit(i32::from(failed > 0));
}
