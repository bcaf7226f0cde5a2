//! Files breachdesk writes for a person to take away (reports, exports): always new, never
//! over another file, readable by their owner only, on disk before the call returns.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

/// Why a private file was not written: it could not be created (it exists, the directory
/// is missing), or writing it failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot create {0}: {1}")]
    Create(String, std::io::Error),
    #[error("cannot write {0}: {1}")]
    Write(String, std::io::Error),
}

/// Writes `bytes` to a new file at `path` with mode 0600, and waits until it is on disk.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    let name = crate::domain::text::display_path(path);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| WriteError::Create(name.clone(), e))?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(|e| WriteError::Write(name, e))
}
