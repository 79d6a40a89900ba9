//! A folder's tar written by podterm, for containers without `tar`: `find -print0` names
//! the tree (links are not followed), `stat` describes each entry, `cat` gives each file's
//! bytes. Headers come from the `tar` crate; contents are streamed, never held.

use super::FileError;
use super::download::{CHUNK, Gzip, cat};
use super::reach::Place;
use super::run::OUTPUT_KEPT;
use super::stat::{Stat, stat_all};
use crate::files::base_name;

/// Writes the tar of `seen` (as the programs see it) into `out`.
pub async fn write(place: &Place, seen: &str, out: &mut Gzip<'_>) -> Result<(), FileError> {
    let start = format!("{}/.", seen.trim_end_matches('/'));
    let found = place.run(&["find", &start, "-print0"]).await?;
    if found.cut {
        return Err(FileError::bad(format!(
            "{} holds too many files to list (over {} MiB of names) and the container has no tar",
            place.shown(seen),
            OUTPUT_KEPT >> 20
        )));
    }
    let top = match base_name(seen) {
        "" => ".".to_string(),
        name => format!("./{name}"),
    };
    let names: Vec<String> = found
        .stdout
        .split(|b| *b == 0)
        .filter(|n| !n.is_empty())
        .map(|n| String::from_utf8_lossy(n).into_owned())
        .collect();
    let mut builder = tar::Builder::new(Vec::new());
    for entry in stat_all(place, &names).await? {
        let relative = entry.path.strip_prefix(&start).unwrap_or("");
        let name = format!("{top}{relative}");
        add(place, &mut builder, &entry, &name, out).await?;
    }
    // Two zero blocks end an archive.
    out.write(&[0u8; 1024]).await
}

async fn add(
    place: &Place,
    builder: &mut tar::Builder<Vec<u8>>,
    entry: &Stat,
    name: &str,
    out: &mut Gzip<'_>,
) -> Result<(), FileError> {
    let mut header = tar::Header::new_gnu();
    header.set_mode(entry.mode & 0o7777);
    header.set_mtime(entry.modified.max(0) as u64);
    let size = match entry.mode & 0o170000 {
        0o040000 => {
            header.set_entry_type(tar::EntryType::Directory);
            0
        }
        0o100000 => {
            header.set_entry_type(tar::EntryType::Regular);
            entry.size
        }
        0o120000 => {
            header.set_entry_type(tar::EntryType::Symlink);
            let Some(target) = &entry.link else {
                return Ok(());
            };
            builder
                .append_link(&mut header, name, target)
                .map_err(|e| {
                    FileError::bad(format!("cannot put the link {name} in the archive: {e}"))
                })?;
            let bytes = std::mem::take(builder.get_mut());
            return out.write(&bytes).await;
        }
        // Devices, pipes and sockets have no contents to download.
        _ => return Ok(()),
    };
    header.set_size(size);
    builder
        .append_data(&mut header, name, std::io::empty())
        .map_err(|e| FileError::bad(format!("cannot put {name} in the archive: {e}")))?;
    let bytes = std::mem::take(builder.get_mut());
    out.write(&bytes).await?;
    if size > 0 {
        contents(place, &entry.path, size, out).await?;
    }
    Ok(())
}

/// Exactly `size` bytes of the file (cut, or padded with zeros if it shrank meanwhile),
/// then the padding to the next block.
async fn contents(
    place: &Place,
    path: &str,
    size: u64,
    out: &mut Gzip<'_>,
) -> Result<(), FileError> {
    let mut written = cat(place, path, size, out).await?;
    // The header said `size`: zeros make up what is missing.
    let zeros = vec![0u8; CHUNK];
    while written < size {
        let n = CHUNK.min((size - written) as usize);
        out.write(&zeros[..n]).await?;
        written += n as u64;
    }
    let pad = (512 - size % 512) % 512;
    out.write(&zeros[..pad as usize]).await
}
