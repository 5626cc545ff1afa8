//! Compile-time UI tests for the `#[thing]` macros: each `ui/fail/*.rs` must fail to compile
//! with the diagnostics in its `.stderr` snapshot; each `ui/pass/*.rs` must build and run.
//!
//! The snapshots hold rustc's exact wording (taken with rustc 1.95). To refresh them after a
//! deliberate change to a message: `TRYBUILD=overwrite cargo test -p labthings-tests --test ui`,
//! then review the diff.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/fail/*.rs");
    t.pass("ui/pass/*.rs");
}
