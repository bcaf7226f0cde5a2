//! The process settings that need `unsafe`: the only module allowed it (`unsafe_code` is
//! denied everywhere else, `lib.rs`). Each call says why it is sound.

/// `mi_option_purge_delay` in mimalloc.h (v2 and v3 alike); the Rust bindings leave the
/// experimental options unnamed.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Has mimalloc give freed memory back to the system at once rather than after its default
/// 10 ms. Only the binary allocates with mimalloc; elsewhere (tests) this changes an option
/// nothing reads. Call it before any thread is started.
pub fn purge_freed_memory_at_once() {
    // SAFETY: mi_option_set only stores an integer; the caller runs before any other thread
    // exists, as mimalloc's documentation asks of option changes, and 0 is a valid value for
    // mi_option_purge_delay ("purge at once").
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

/// Turns transparent huge pages off for this process, memory already mapped included (the
/// kernel checks at each fault).
pub fn no_transparent_huge_pages() {
    #[cfg(target_os = "linux")]
    {
        use nix::libc;
        // SAFETY: PR_SET_THP_DISABLE takes an integer flag and no pointers; a failure (an
        // old kernel) only leaves huge pages on.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}
