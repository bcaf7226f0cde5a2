//! The breachdesk binary: everything lives in the library; this only hands over.

// mimalloc: listing 10,000 incidents allocates heavily, and it cuts that by about a quarter
// against the system allocator (docs/PERFORMANCE.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (v2 and v3 alike); the Rust bindings leave the
/// experimental options unnamed.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() -> std::process::ExitCode {
    let notify = notify_command();
    // Give freed memory back to the system at once rather than after mimalloc's default
    // 10 ms: a send's 16 connection threads otherwise each keep pages they are done with,
    // and its peak went from 192 to 216-224 MB (docs/PERFORMANCE.md). Not for `notify
    // queue`, which allocates and frees letter after letter: there, giving pages back at
    // once made it take them again from the kernel, zeroed, for every chunk (20-30% of its
    // time).
    if notify.as_deref() != Some("queue") {
        // SAFETY: called before any thread is started, as mi_option_set requires; 0 is a
        // valid value for mi_option_purge_delay ("purge at once").
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
    // Queuing and sending 100,000 letters on the embedded database go without transparent
    // huge pages (see the flag's comment); other commands' short runs are faster with them
    // (`incident list` over 10,000 incidents 95 ms against 117-128 ms).
    if matches!(notify.as_deref(), Some("queue" | "send")) {
        breachdesk::cli::HUGE_PAGES_OFF_ON_SLED.store(true, std::sync::atomic::Ordering::Relaxed);
    }
    breachdesk::cli::run()
}

/// The `notify` subcommand of this run (`queue`, `send`, ...), with any global options
/// before it.
fn notify_command() -> Option<String> {
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    args.windows(2)
        .find(|w| w[0] == "notify")
        .and_then(|w| w[1].to_str().map(str::to_owned))
}
