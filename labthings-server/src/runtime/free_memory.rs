//! Handing the memory evicted records freed back to the operating system.
//!
//! glibc's `malloc` keeps what a program frees for reuse, in one arena per thread (up to eight
//! per core), and returns it only from the top of each: after a burst of invocations, the
//! server's resident memory stays at the sum of every arena's high-water mark even when the
//! records it keeps are within their budget. Measured on the process test's load (3,000
//! invocations logging 1,000 lines each, 64 MiB budget): the records held 64 MiB, the process
//! 105 MiB above its start. `malloc_trim(0)` returns the free pages inside every arena; it
//! costs a walk of the heap, so the expiry timer calls it only after evictions freed a good
//! part of the budget, at most every 250 ms, on a blocking thread.

use std::time::Duration;

/// The least time between two trims.
pub const TRIM_PAUSE: Duration = Duration::from_millis(250);

/// Return the free pages `malloc` holds to the operating system (glibc only; elsewhere the
/// allocator is left to its own policy).
pub fn return_to_os() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: `malloc_trim` takes a byte count of padding to keep and touches only the
    // allocator's own free lists (under its own locks); any thread may call it at any time.
    unsafe {
        libc::malloc_trim(0);
    }
}
