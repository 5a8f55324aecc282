//! A new SQLite database is private to its owner: it holds prompts, answers and memories.
//!
//! SQLite creates a missing file with the process umask (0644 under the usual 022), and the folders
//! above it were created the same way, so every user of the machine could read them. A missing
//! folder is created 0700 and a missing file 0600 before SQLite opens it (an empty file is a new
//! database to SQLite, and its `-wal`/`-shm` files take the database file's mode). Existing files
//! and folders keep the mode their owner gave them.

use std::io;
use std::path::Path;

/// Creates the missing folders of `path` (0700) and the file itself if missing (0600).
pub fn create_private(path: &Path) -> io::Result<()> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        let mut folders = std::fs::DirBuilder::new();
        folders.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut folders, 0o700);
        folders.create(parent)?;
    }
    let mut file = std::fs::OpenOptions::new();
    file.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut file, 0o600);
    match file.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}
