//! Compile-fail behaviour of `#[derive(Session)]`: one rule a file in `tests/ui/`, each with the
//! reviewed compiler output beside it (rustc 1.95; regenerate with `TRYBUILD=overwrite` and
//! review the diff when the toolchain changes).

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/*.rs");
}
