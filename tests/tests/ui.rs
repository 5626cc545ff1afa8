//! Compile-time UI tests for the `#[thing]` macros, one folder per topic: each
//! `ui/<topic>/fail/*.rs` must fail to compile with exactly the one error in its `.stderr`
//! snapshot; each `ui/<topic>/pass/*.rs` must build and run.
//!
//! The snapshots hold rustc's exact wording, which changes between releases, so the test runs
//! only on the compiler they were taken with. To refresh them after a deliberate change to a
//! message: `TRYBUILD=overwrite cargo test -p labthings-tests --test ui`, then read every
//! changed `.stderr`.

#[rustversion::attr(
    not(stable(1.95)),
    ignore = "the .stderr snapshots hold rustc 1.95's wording"
)]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*/fail/*.rs");
    t.pass("ui/*/pass/*.rs");
}
