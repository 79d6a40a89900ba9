//! Moving files between the browser and a container: what the page and the server say to
//! each other (`/api/files/NS/POD/CONTAINER/{list,download,upload,cwd}`), and the rules for
//! a path in a container, shared by both sides.

use serde::{Deserialize, Serialize};

/// The longest path podterm passes to a container (Linux's `PATH_MAX`).
pub const MAX_PATH_BYTES: usize = 4096;

/// How podterm reaches a container's files.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Via {
    /// The container's own shell and tools (`sh`, `tar`, `cat`, `stat`...).
    Shell,
    /// No shell: single programs the container has (`cat`, `dd`, `stat`, `find`).
    Tools,
    /// Neither: a debug container beside it, through `/proc/1/root`.
    Debug,
}

impl Via {
    /// How the page says it.
    pub fn words(self) -> &'static str {
        match self {
            Via::Shell => "through the container's shell",
            Via::Tools => "through the container's own tools (it has no shell)",
            Via::Debug => "through a debug container (this container has no shell or tools)",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    File,
    Dir,
    Link,
    Other,
}

/// One entry of a directory, as `ls -l` would show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileEntry {
    pub name: String,
    pub kind: EntryKind,
    pub size: u64,
    /// As `ls -l` writes it: `-rw-r--r--`, `drwxr-xr-x`, `lrwxrwxrwx`.
    pub mode: String,
    /// The owner's name, or its number when the container has no name for it.
    pub owner: String,
    pub group: String,
    /// Seconds since the epoch.
    pub modified: i64,
    /// Where a symbolic link points.
    pub link: Option<String>,
}

/// `GET …/list`: a directory's entries, directories first, then by name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The directory listed, absolute and without `.`/`..`.
    pub path: String,
    pub via: Via,
    pub entries: Vec<FileEntry>,
    /// True when the directory holds more than `MAX_ENTRIES` and the rest were left out.
    pub truncated: bool,
}

/// The most entries a listing carries.
pub const MAX_ENTRIES: usize = 5000;

/// `PUT …/upload`: what landed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Uploaded {
    pub path: String,
    pub bytes: u64,
    /// SHA-256 of the bytes podterm relayed, hex.
    pub sha256: String,
    /// What the container was asked about its copy.
    pub checked: Check,
    /// Whether its answer matched; `None` when nothing could be checked.
    pub verified: Option<bool>,
    pub via: Via,
}

/// How an upload's copy in the container was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// The container's `sha256sum` of the file, against the digest of what was sent.
    Sha256,
    /// Its size only: the file is over the operator's hashing limit (a container's
    /// `sha256sum` can take longer than the upload), or the container's `sha256sum` is
    /// missing or fails.
    Size,
    /// Neither could be asked.
    Nothing,
}

/// `GET …/cwd`: where an upload goes by default.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cwd {
    pub path: String,
    /// True when it is the shell's current directory; false for the container's working
    /// directory.
    pub from_shell: bool,
}

/// The query of every files request. Paths travel in the query, percent-encoded.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesQuery {
    pub context: Option<String>,
    pub path: Option<String>,
    /// Upload: replace an existing file (otherwise 409).
    #[serde(default)]
    pub overwrite: bool,
    /// Upload: the file's modification time, seconds since the epoch.
    pub mtime: Option<i64>,
    /// Upload: make the file executable (browsers give no modes).
    #[serde(default)]
    pub executable: bool,
    /// Cwd: the terminal's session, whose shell's directory is asked for.
    pub session: Option<String>,
}

/// The four requests, as path segments after `/api/files/NS/POD/CONTAINER/`.
pub const LIST: &str = "list";
pub const DOWNLOAD: &str = "download";
pub const UPLOAD: &str = "upload";
pub const CWD: &str = "cwd";

/// A path as given, made absolute and plain: `.` and empty parts dropped, `..` taken back
/// lexically (never above `/`). Errors read well.
pub fn clean_path(path: &str) -> Result<String, String> {
    if path.is_empty() {
        return Err("the path is empty".into());
    }
    if path.contains('\0') {
        return Err("a path cannot hold a NUL character".into());
    }
    if !path.starts_with('/') {
        return Err(format!("{path:?} is not an absolute path: start it with /"));
    }
    if path.len() > MAX_PATH_BYTES {
        return Err(format!(
            "the path is {} bytes long, more than the {MAX_PATH_BYTES} a container allows",
            path.len()
        ));
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// A name inside a directory (one path component): no `/`, no NUL, not `.` or `..`.
pub fn check_name(name: &str) -> Result<(), String> {
    match name {
        "" => Err("a file name cannot be empty".into()),
        "." | ".." => Err(format!("{name:?} is not a file name")),
        _ if name.contains('/') => Err(format!("a file name cannot hold a /: {name:?}")),
        _ if name.contains('\0') => Err("a file name cannot hold a NUL character".into()),
        _ if name.len() > 255 => Err(format!(
            "the name is {} bytes long; a file name holds at most 255",
            name.len()
        )),
        _ => Ok(()),
    }
}

/// `dir` and a relative path below it (`a/b/c.txt`, as a folder upload names its files),
/// each part checked.
pub fn join(dir: &str, relative: &str) -> Result<String, String> {
    let dir = clean_path(dir)?;
    let mut out = dir.trim_end_matches('/').to_string();
    for part in relative.split('/').filter(|p| !p.is_empty()) {
        check_name(part)?;
        out.push('/');
        out.push_str(part);
    }
    clean_path(if out.is_empty() { "/" } else { &out })
}

/// The directory holding `path` (`/` for `/`).
pub fn parent(path: &str) -> &str {
    match path.trim_end_matches('/').rfind('/') {
        Some(0) | None => "/",
        Some(i) => &path[..i],
    }
}

/// The last part of `path` (empty for `/`).
pub fn base_name(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().unwrap_or("")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_made_plain_and_absolute() {
        assert_eq!(clean_path("/").unwrap(), "/");
        assert_eq!(clean_path("//a/./b//").unwrap(), "/a/b");
        assert_eq!(clean_path("/a/../../b").unwrap(), "/b");
        assert_eq!(clean_path("/-rf/ x\n/é").unwrap(), "/-rf/ x\n/é");
        assert!(clean_path("a/b").unwrap_err().contains("absolute"));
        assert!(clean_path("").is_err());
        assert!(clean_path("/a\0b").is_err());
        assert!(clean_path(&format!("/{}", "a".repeat(5000))).is_err());
    }

    #[test]
    fn names_and_joins_are_checked() {
        assert_eq!(join("/tmp", "a b/c.txt").unwrap(), "/tmp/a b/c.txt");
        assert_eq!(join("/", "x").unwrap(), "/x");
        assert!(join("/tmp", "../etc/passwd").is_err());
        assert!(check_name("a/b").is_err());
        assert!(check_name("..").is_err());
        assert!(check_name("-n").is_ok());
    }

    #[test]
    fn parents_and_base_names() {
        assert_eq!(parent("/a/b"), "/a");
        assert_eq!(parent("/a"), "/");
        assert_eq!(parent("/"), "/");
        assert_eq!(base_name("/a/b c"), "b c");
        assert_eq!(base_name("/"), "");
    }
}
