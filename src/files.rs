//! Files breachdesk writes for a person to take away (reports, exports, manual pages): new
//! files, never through a symbolic link, never over another file unless the caller says so
//! (and then only over a regular file, replaced whole through a temporary file), on disk
//! before the call returns.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;
use std::path::Path;

/// Why a file was not written: it could not be created (it exists, it is a link, the
/// directory is missing), or writing it failed.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    #[error("cannot create {0}: {1}")]
    Create(String, std::io::Error),
    #[error("cannot write {0}: {1}")]
    Write(String, std::io::Error),
}

/// Whether an existing file at the path may be replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse: the file must be new.
    Refuse,
    /// Replace a regular file whole; anything else (a link, a directory, a device) is
    /// refused.
    ReplaceRegular,
}

/// Writes `bytes` to a new file at `path` with mode 0600, and waits until it is on disk.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), WriteError> {
    write_file(path, bytes, 0o600, Existing::Refuse)
}

/// Writes `bytes` to `path` with `mode` (for a new file), as `existing` allows, and waits
/// until it is on disk. A link at `path` is never followed: creating refuses it, and
/// replacing refuses anything but a regular file, then renames a new file over it, so a
/// link planted meanwhile is itself replaced and its target never written.
pub fn write_file(
    path: &Path,
    bytes: &[u8],
    mode: u32,
    existing: Existing,
) -> Result<(), WriteError> {
    let name = crate::domain::text::display_path(path);
    let found = std::fs::symlink_metadata(path).ok();
    let replacing = match (found, existing) {
        (None, _) => false,
        (Some(meta), Existing::ReplaceRegular) if meta.file_type().is_file() => true,
        (Some(meta), Existing::ReplaceRegular) => {
            let what = if meta.file_type().is_symlink() {
                "it is a symbolic link"
            } else {
                "it is not a regular file"
            };
            return Err(WriteError::Create(
                name,
                std::io::Error::other(format!("{what}; not replaced")),
            ));
        }
        (Some(_), Existing::Refuse) => {
            return Err(WriteError::Create(
                name,
                std::io::Error::from(std::io::ErrorKind::AlreadyExists),
            ));
        }
    };
    if !replacing {
        return create_and_write(path, bytes, mode).map_err(|e| e.named(&name));
    }
    let file_name = path
        .file_name()
        .map_or_else(|| "file".into(), |n| n.to_string_lossy().into_owned());
    let temp = path.with_file_name(format!(".{file_name}.{}.new", std::process::id()));
    let written = create_and_write(&temp, bytes, mode).map_err(|e| e.named(&name));
    let renamed = written.and_then(|()| {
        std::fs::rename(&temp, path).map_err(|e| WriteError::Write(name.clone(), e))
    });
    if renamed.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    renamed
}

/// What failed while creating and writing one file, before it is named.
enum Failed {
    Create(std::io::Error),
    Write(std::io::Error),
}

impl Failed {
    fn named(self, name: &str) -> WriteError {
        match self {
            Failed::Create(e) => WriteError::Create(name.to_owned(), e),
            Failed::Write(e) => WriteError::Write(name.to_owned(), e),
        }
    }
}

fn create_and_write(path: &Path, bytes: &[u8], mode: u32) -> Result<(), Failed> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .custom_flags(nix::libc::O_NOFOLLOW)
        .open(path)
        .map_err(Failed::Create)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .map_err(Failed::Write)
}
