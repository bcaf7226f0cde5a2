//! File paths typed in forms: `~/` for the home directory, and Tab completion against what
//! is on disk (one directory read per Tab, on a key press; nothing is read while drawing).

use std::path::PathBuf;

/// `~/...` under the home directory; anything else as typed.
pub fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => dirs::home_dir().map_or_else(|| PathBuf::from(path), |h| h.join(rest)),
        None => PathBuf::from(path),
    }
}

/// Where to write a new file: not empty, not there yet, in a directory that exists.
pub fn new_file(v: &str) -> Result<PathBuf, String> {
    let path = v.trim();
    if path.is_empty() {
        return Err("give the path of the file to write".into());
    }
    let path = expand_home(path);
    if path.exists() {
        return Err(format!(
            "{} exists; files are never overwritten",
            crate::domain::text::display_path(&path)
        ));
    }
    match path.parent().filter(|d| !d.as_os_str().is_empty()) {
        Some(dir) if !dir.is_dir() => Err(format!(
            "no directory {}",
            crate::domain::text::display_path(dir)
        )),
        _ => Ok(path),
    }
}

/// A file or directory that exists.
pub fn existing_path(v: &str) -> Result<PathBuf, String> {
    let path = v.trim();
    if path.is_empty() {
        return Err("give a path".into());
    }
    let path = expand_home(path);
    if !path.exists() {
        return Err(format!(
            "nothing at {}",
            crate::domain::text::display_path(&path)
        ));
    }
    Ok(path)
}

/// The roster to import: a path (`~/` is the home directory) to a file that exists.
pub fn roster_file(v: &str) -> Result<PathBuf, String> {
    let path = v.trim();
    if path.is_empty() {
        return Err("give the path of a CSV file".into());
    }
    let path = expand_home(path);
    if !path.is_file() {
        return Err(format!(
            "no file at {}",
            crate::domain::text::display_path(&path)
        ));
    }
    Ok(path)
}

/// What a Tab on a typed path gives.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// The typed text completed further, when the names on disk allow it.
    pub value: Option<String>,
    /// The names that match, when there are several (directories end in `/`).
    pub candidates: Vec<String>,
}

/// Completes `typed` (as the user wrote it, `~/` kept) against the directory it names:
/// as far as every matching name agrees, and with a `/` after a single directory. Hidden
/// names are offered only when the typed part starts with a dot.
pub fn complete(typed: &str) -> Completion {
    let (dir_part, prefix) = match typed.rfind('/') {
        Some(at) => (&typed[..=at], &typed[at + 1..]),
        None => ("", typed),
    };
    let dir = if dir_part.is_empty() {
        PathBuf::from(".")
    } else {
        expand_home(dir_part)
    };
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Completion::default();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            if !name.starts_with(prefix) || (name.starts_with('.') && !prefix.starts_with('.')) {
                return None;
            }
            let is_dir = e.path().is_dir();
            Some(if is_dir { format!("{name}/") } else { name })
        })
        .collect();
    names.sort();
    let Some(first) = names.first() else {
        return Completion::default();
    };
    let common = names.iter().fold(first.clone(), |common, name| {
        common
            .chars()
            .zip(name.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a)
            .collect()
    });
    let value = (common.len() > prefix.len()).then(|| format!("{dir_part}{common}"));
    Completion {
        value,
        candidates: if names.len() > 1 { names } else { Vec::new() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tab_completes_as_far_as_the_names_agree() {
        let dir = tempfile::tempdir().unwrap();
        let base = format!("{}/", dir.path().display());
        std::fs::write(dir.path().join("roster-2026.csv"), "").unwrap();
        std::fs::write(dir.path().join("roster-2025.csv"), "").unwrap();
        std::fs::create_dir(dir.path().join("logs")).unwrap();
        std::fs::write(dir.path().join(".hidden"), "").unwrap();

        let c = complete(&format!("{base}ro"));
        assert_eq!(c.value, Some(format!("{base}roster-202")));
        assert_eq!(c.candidates, ["roster-2025.csv", "roster-2026.csv"]);
        let c = complete(&format!("{base}roster-2026"));
        assert_eq!(c.value, Some(format!("{base}roster-2026.csv")));
        assert!(c.candidates.is_empty());
        assert_eq!(
            complete(&format!("{base}l")).value,
            Some(format!("{base}logs/"))
        );
        assert_eq!(complete(&format!("{base}zzz")), Completion::default());
        let all = complete(&base);
        assert!(!all.candidates.contains(&".hidden".to_owned()), "{all:?}");
        assert_eq!(
            complete(&format!("{base}.h")).value,
            Some(format!("{base}.hidden"))
        );
    }
}
