//! File helpers shared by every writer.

use crate::error::{Error, Result};
use std::io::Write;
use std::path::Path;

/// Temporary files of a save start with this (and are cleaned up when left behind).
const TEMP_PREFIX: &str = ".headroom-";

/// A temporary file older than this beside a target was left by a save that was killed.
const STALE_AFTER: std::time::Duration = std::time::Duration::from_secs(600);

/// Writes `bytes` to `path` atomically: into a temporary file beside it, flushed to disk,
/// renamed over the target, then the directory flushed so the rename survives a crash. A
/// crash mid-write leaves the previous file intact; temporary files left by a killed
/// save are removed by the next one.
///
/// # Errors
/// The directory is not writable, the disk is full or a file-size limit is hit; the
/// previous file is then untouched and the temporary file removed.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    atomic_write_with(path, |w| w.write_all(bytes))
}

/// [`atomic_write`] of what `write` writes, streamed to the temporary file (through a
/// buffer), so a large output never has to sit in memory whole.
///
/// # Errors
/// As [`atomic_write`], or what `write` returns; the old file is left as it was.
pub fn atomic_write_with(path: &Path, write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let dir = parent_dir(path);
    remove_stale_temps(dir);
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX);
    #[cfg(unix)]
    builder.permissions(permissions_for(path));
    let mut tmp = builder.tempfile_in(dir).map_err(|e| Error::io(path, plain(e)))?;
    // On any error below, dropping `tmp` deletes the temporary file.
    {
        let mut out = std::io::BufWriter::with_capacity(1 << 16, tmp.as_file_mut());
        write(&mut out).map_err(|e| Error::io(path, plain(e)))?;
        out.flush().map_err(|e| Error::io(path, plain(e)))?;
    }
    tmp.as_file().sync_all().map_err(|e| Error::io(path, plain(e)))?;
    tmp.persist(path).map_err(|e| Error::io(path, plain(e.error)))?;
    // The rename is durable only once the directory is on disk too.
    #[cfg(unix)]
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Checks up front, before minutes of work, that `path` can be written: its directory
/// exists and takes a new file, and an existing file is not read-only.
///
/// # Errors
/// Why not, naming the path.
pub fn ensure_writable(path: &Path) -> Result<()> {
    let dir = parent_dir(path);
    if !dir.is_dir() {
        return Err(Error::io(
            path,
            std::io::Error::new(std::io::ErrorKind::NotFound, format!("the directory {} does not exist", dir.display())),
        ));
    }
    if std::fs::metadata(path).is_ok_and(|m| m.permissions().readonly()) {
        return Err(Error::io(path, std::io::Error::new(std::io::ErrorKind::PermissionDenied, "the file is read-only")));
    }
    takes_new_files(dir, path)
}

/// Checks that `dir` (created if missing) can take new files.
///
/// # Errors
/// Why not, naming the directory.
pub fn ensure_writable_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, plain(e)))?;
    takes_new_files(dir, dir)
}

/// Creates and removes a temporary file in `dir`; an error names `named`.
fn takes_new_files(dir: &Path, named: &Path) -> Result<()> {
    tempfile::Builder::new().prefix(TEMP_PREFIX).tempfile_in(dir).map(drop).map_err(|e| Error::io(named, plain(e)))
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// An I/O error without the temporary file's path that `tempfile` adds (the message
/// names the target instead, once).
fn plain(e: std::io::Error) -> std::io::Error {
    match e.raw_os_error() {
        Some(code) => std::io::Error::from_raw_os_error(code),
        None => std::io::Error::new(e.kind(), e.kind().to_string()),
    }
}

/// Removes temporary files of killed saves in `dir` (best effort, only old ones: a save
/// running in another window is never touched).
fn remove_stale_temps(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let name = e.file_name();
        if !name.to_string_lossy().starts_with(TEMP_PREFIX) {
            continue;
        }
        let old = e.metadata().ok().and_then(|m| m.modified().ok()).and_then(|t| t.elapsed().ok()).is_some_and(|age| age > STALE_AFTER);
        if old {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The `*.csv` files directly inside `dir`, sorted by name.
///
/// # Errors
/// The directory cannot be read.
pub fn csv_files_in(dir: &Path) -> Result<Vec<std::path::PathBuf>> {
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_file() && p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")))
        .collect();
    files.sort();
    Ok(files)
}

/// The permissions of the file being replaced; a new file gets the usual 0644 rather
/// than a temporary file's private 0600.
#[cfg(unix)]
fn permissions_for(path: &Path) -> std::fs::Permissions {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).map(|m| m.permissions()).unwrap_or_else(|_| std::fs::Permissions::from_mode(0o644))
}
