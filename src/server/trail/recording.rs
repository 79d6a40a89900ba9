//! Session recordings in asciicast v2 (play them with `asciinema play FILE`): output with
//! timing, resizes, and typed input only when explicitly enabled (it captures passwords).
//! They are private to podterm's user: files mode 0600 in a directory mode 0700.

use std::fs::{OpenOptions, Permissions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde_json::json;

use super::private_files::{create_private_dir, open_to_others, owned_by_podterm};

pub struct Recorder {
    file: std::io::BufWriter<std::fs::File>,
    started: Instant,
    with_input: bool,
    /// The start of a UTF-8 sequence split across output chunks, kept for the next one.
    carry: Vec<u8>,
    pub path: PathBuf,
}

impl Recorder {
    pub fn create(
        dir: &Path,
        session: &str,
        title: &str,
        with_input: bool,
    ) -> std::io::Result<Self> {
        create_private_dir(dir)?;
        let path = dir.join(format!("{session}.cast"));
        // A new file only: session ids are unique, and nothing already there is followed.
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)?;
        let mut file = std::io::BufWriter::new(file);
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let header = json!({
            "version": 2,
            "width": 80,
            "height": 24,
            "timestamp": timestamp,
            "title": title,
            "env": {"TERM": "xterm-256color"},
        });
        writeln!(file, "{header}")?;
        Ok(Self {
            file,
            started: Instant::now(),
            with_input,
            carry: Vec::new(),
            path,
        })
    }

    fn event(&mut self, kind: &str, data: &str) {
        let t = self.started.elapsed().as_secs_f64();
        let _ = writeln!(
            self.file,
            "{}",
            json!([(t * 1e6).round() / 1e6, kind, data])
        );
    }

    pub fn output(&mut self, bytes: &[u8]) {
        let mut data = std::mem::take(&mut self.carry);
        data.extend_from_slice(bytes);
        let valid = match std::str::from_utf8(&data) {
            Ok(_) => data.len(),
            // Keep an incomplete sequence at the end for the next chunk.
            Err(e) if e.error_len().is_none() => e.valid_up_to(),
            Err(_) => data.len(),
        };
        self.carry = data.split_off(valid);
        let text = String::from_utf8_lossy(&data).into_owned();
        self.event("o", &text);
    }

    pub fn input(&mut self, bytes: &[u8]) {
        if self.with_input {
            let text = String::from_utf8_lossy(bytes).into_owned();
            self.event("i", &text);
        }
    }

    pub fn resize(&mut self, cols: u16, rows: u16) {
        self.event("r", &format!("{cols}x{rows}"));
    }

    /// Writes out what is buffered (the recording is shared with the session's writer).
    pub fn finish(&mut self) {
        let _ = self.file.flush();
    }
}

/// Checked at start: creates the recording directory (mode 0700), or narrows an existing
/// one that others may enter to 0700 when podterm owns it. One that belongs to someone else
/// and is open to others is refused, as podterm cannot make it private.
pub fn prepare_dir(dir: &Path) -> Result<(), String> {
    let shown = dir.display();
    create_private_dir(dir)
        .map_err(|e| format!("cannot create the recording directory {shown}: {e}"))?;
    let meta = std::fs::metadata(dir)
        .map_err(|e| format!("cannot read the recording directory {shown}: {e}"))?;
    if !open_to_others(&meta) {
        return Ok(());
    }
    let mode = meta.permissions().mode() & 0o777;
    if !owned_by_podterm(&meta) {
        return Err(format!(
            "the recording directory {shown} is open to other users (mode {mode:o}) and belongs \
             to another user, so podterm cannot make it private; recordings hold what people \
             see and may type. Name a directory of podterm's own with --record-dir (a missing \
             one is created with mode 0700), or make this one mode 0700"
        ));
    }
    std::fs::set_permissions(dir, Permissions::from_mode(0o700))
        .map_err(|e| format!("cannot make the recording directory {shown} private: {e}"))?;
    tracing::warn!(
        "the recording directory {shown} was open to other users (mode {mode:o}); podterm made it mode 700"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utf8_split_across_chunks_is_recorded_whole() {
        let dir = tempfile::tempdir().unwrap();
        let mut r = Recorder::create(dir.path(), "s1", "t", false).unwrap();
        let bytes = "你好".as_bytes();
        r.output(&bytes[..2]);
        r.output(&bytes[2..]);
        r.input(b"secret");
        r.resize(100, 30);
        let path = r.path.clone();
        r.finish();
        let text = std::fs::read_to_string(path).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["version"], 2);
        let output: String = lines[1..]
            .iter()
            .filter(|l| l[1] == "o")
            .map(|l| l[2].as_str().unwrap())
            .collect();
        assert_eq!(output, "你好");
        assert!(
            !text.contains("secret"),
            "input is not recorded unless enabled"
        );
        assert!(lines.iter().any(|l| l[1] == "r" && l[2] == "100x30"));
    }
}
