//! Runs the `flask_session_vectors` example over both vector files: every record Flask-Session
//! wrote reads to its session and writes back byte for byte, every request after which it
//! stored nothing leaves sessionkit storing nothing too, and every injected record gets
//! Flask-Session's verdict (or, for a pickle, a refusal by design). What is skipped is only
//! what sessionkit does not read by design: pickle-only backends and the SQL table's expiry
//! text.

use std::process::Command;

fn run(file: &str) -> String {
    // `cargo test` builds the examples next to the test binaries.
    let exe = std::env::current_exe().unwrap();
    let examples = exe.parent().unwrap().parent().unwrap().join("examples");
    let runner = examples.join("flask_session_vectors");
    let output = Command::new(&runner)
        .arg(format!("tests/data/flask-session/{file}"))
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", runner.display()));
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(output.status.success(), "{text}");
    text.lines().last().unwrap().to_owned()
}

#[test]
fn every_record_flask_session_wrote_round_trips_byte_for_byte() {
    assert_eq!(run("vectors.jsonl"), "50 passed, 0 failed (11 skipped)");
}

#[test]
fn every_injected_record_gets_flask_sessions_verdict_or_a_safe_refusal() {
    assert_eq!(run("reverse.jsonl"), "43 passed, 0 failed (15 skipped)");
}
