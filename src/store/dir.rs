//! The database directory on disk: created with mode 0700, a directory that holds
//! something other than a sled database refused, and the modes of the files sled writes
//! (with the process's umask) set to 0600 when the engine opens and closes.

use std::fs;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

use super::StoreError;

/// Creates the database directory with mode 0700, or tightens an existing one, and refuses
/// a non-empty directory that is not a sled database.
pub(super) fn prepare_dir(dir: &Path) -> Result<(), StoreError> {
    let io = |e| StoreError::Io {
        path: dir.to_owned(),
        source: e,
    };
    if dir.exists() {
        if !dir.is_dir() {
            return Err(StoreError::NotADatabase {
                path: dir.to_owned(),
            });
        }
        let has_entries = fs::read_dir(dir).map_err(io)?.next().is_some();
        if has_entries && !dir.join("conf").exists() {
            return Err(StoreError::NotADatabase {
                path: dir.to_owned(),
            });
        }
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)?;
    } else {
        fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(io)?;
    }
    Ok(())
}

/// Creates the directory where a process on a shared engine keeps its journal (mode 0700),
/// or tightens an existing one.
pub(super) fn prepare_local_dir(dir: &Path) -> Result<(), StoreError> {
    let io = |e| StoreError::Io {
        path: dir.to_owned(),
        source: e,
    };
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(io)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700)).map_err(io)
}

/// Sets every file under `dir` to 0600 and every directory to 0700: sled creates its files
/// with the process's umask.
pub(super) fn tighten_files(dir: &Path) -> Result<(), StoreError> {
    let io = |e| StoreError::Io {
        path: dir.to_owned(),
        source: e,
    };
    for entry in fs::read_dir(dir).map_err(io)? {
        let entry = entry.map_err(io)?;
        let kind = entry.file_type().map_err(io)?;
        let path = entry.path();
        if kind.is_dir() {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o700)).map_err(io)?;
            tighten_files(&path)?;
        } else if kind.is_file() {
            fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(io)?;
        }
    }
    Ok(())
}
