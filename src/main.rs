//! The breachdesk binary: everything lives in the library; this only hands over.

#![deny(unsafe_code)]

// mimalloc: listing 10,000 incidents allocates heavily, and it cuts that by about a quarter
// against the system allocator (docs/PERFORMANCE.md). How it is tuned per command is decided
// from the parsed command line (`breachdesk::cli::run`).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    breachdesk::cli::run()
}
