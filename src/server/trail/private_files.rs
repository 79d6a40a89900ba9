//! The trail's files hold who did what and what they saw: kept private to podterm's user.

use std::fs::{DirBuilder, Metadata};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` and any missing parents with mode 0700.
pub fn create_private_dir(dir: &Path) -> std::io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Readable, writable or searchable by anyone but its owner.
pub fn open_to_others(meta: &Metadata) -> bool {
    meta.permissions().mode() & 0o077 != 0
}

/// Whether podterm's user owns the file, and so may narrow it without taking it from anyone.
pub fn owned_by_podterm(meta: &Metadata) -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    meta.uid() == unsafe { libc::geteuid() }
}
