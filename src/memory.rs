//! How every binary of the crate gets its memory: the allocator, and the page
//! size it gets from the kernel.

// The rules allocate millions of small index vectors per run; the system
// allocator spent half a large estate's `who can` in malloc and free.
// Declared in the library so that the command line, the benchmarks and the
// tests all measure the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Turns transparent huge pages off for this process, as mimalloc does with
/// `MIMALLOC_ALLOW_THP=0`. mimalloc asks for huge pages on its arenas; the
/// kernel then zeroes 2 MiB on each first touch, and again after every page
/// mimalloc gives back. On the large benchmark estate that was 1.8 s of
/// kernel time in a 4.2 s one-shot `who can`; with 4 KiB pages it is 0.4 s,
/// at the same peak memory. Call it first thing in `main`: the kernel checks
/// the flag at each page fault, so it also covers memory mapped before.
pub fn without_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE only sets a flag on this process's memory
    // map; it takes no pointers. Failure (an old kernel) leaves huge pages on,
    // which is slower, never wrong.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
