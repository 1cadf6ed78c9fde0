//! How every binary of the crate gets its memory: the allocator, and the page
//! size it gets from the kernel.

// The rules allocate millions of small index vectors per run; the system
// allocator spent half a large estate's `who can` in malloc and free.
// Declared in the library so that the command line, the benchmarks and the
// tests all measure the same allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Sets up how this process gets and keeps its memory
/// (`without_huge_pages`, `keep_freed_pages`). Call it first thing in `main`.
pub fn set_up() {
    without_huge_pages();
    keep_freed_pages();
}

/// mimalloc 3.3's `mi_option_purge_delay` (`mimalloc.h`, `mi_option_e`):
/// the crate's bindings name options only up to `mi_option_use_numa_nodes`.
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// The milliseconds mimalloc 3.3 waits before giving freed memory back
/// (`options.c`): how `keep_freed_pages` tells the option it means.
const PURGE_DELAY_DEFAULT: std::ffi::c_long = 1000;

/// Keeps freed memory for reuse instead of giving it back to the kernel
/// (`MIMALLOC_PURGE_DELAY=-1`). An engine answers query after query in one
/// process (REPL, `check`, the warm benchmark): a large `who can` frees
/// hundreds of MiB of answers, and with pages given back, the next query
/// faults each one in again, zeroed by the kernel. Six large `who can`s in
/// one process faulted 490–560k pages, with them kept 225–235k (CPU time
/// 9.2–10.3 s → 8.5–8.9 s; peak RSS about the same, 860–930 MiB). Done
/// only where the option at that index is the purge delay, by its default:
/// another mimalloc, or one told otherwise by `MIMALLOC_PURGE_DELAY`, is
/// left as it is.
fn keep_freed_pages() {
    // SAFETY: reading and setting an allocator option by index; mimalloc
    // ignores an index it does not know.
    unsafe {
        let v3_3 = libmimalloc_sys::mi_version() / 100 == 303;
        if v3_3 && libmimalloc_sys::mi_option_get(PURGE_DELAY) == PURGE_DELAY_DEFAULT {
            libmimalloc_sys::mi_option_set(PURGE_DELAY, -1);
        }
    }
}

/// Turns transparent huge pages off for this process, as mimalloc does with
/// `MIMALLOC_ALLOW_THP=0`. mimalloc asks for huge pages on its arenas; the
/// kernel then zeroes 2 MiB on each first touch, and again after every page
/// mimalloc gives back. On the large benchmark estate that was 1.8 s of
/// kernel time in a 4.2 s one-shot `who can`; with 4 KiB pages it is 0.4 s,
/// at the same peak memory. The kernel checks the flag at each page fault,
/// so it also covers memory mapped before.
fn without_huge_pages() {
    // SAFETY: PR_SET_THP_DISABLE only sets a flag on this process's memory
    // map; it takes no pointers. Failure (an old kernel) leaves huge pages on,
    // which is slower, never wrong.
    #[cfg(target_os = "linux")]
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    /// A mimalloc update that moves or renames the option fails here
    /// rather than leaving pages given back unnoticed.
    #[test]
    fn this_mimalloc_keeps_freed_pages() {
        super::set_up();
        // SAFETY: reading an allocator option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::PURGE_DELAY) };
        assert_eq!(delay, -1);
    }
}
