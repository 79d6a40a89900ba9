//! Files the person chose to upload: from a file input (a folder's keep their paths inside
//! it), or dropped (a dropped folder is walked). Only handles to the files: their bytes
//! stay on the disk until the upload sends them.

/// The browser's handle to a file (nothing on the server). The page has one thread: the
/// wrapper only lets it live in the signals every page shares with the server.
#[cfg(feature = "hydrate")]
pub type FileHandle = send_wrapper::SendWrapper<web_sys::File>;
#[cfg(not(feature = "hydrate"))]
pub type FileHandle = ();

pub struct Picked {
    pub file: FileHandle,
    /// Its name, or its path inside the folder chosen (`photos/2026/a.jpg`).
    pub name: String,
    pub size: u64,
    /// Seconds since the epoch.
    pub mtime: Option<i64>,
}

/// `3 files (12 MiB)`.
pub fn describe(picked: &[Picked]) -> String {
    let bytes = super::words::size(picked.iter().map(|p| p.size).sum());
    match picked {
        [one] => format!("{} ({bytes})", one.name),
        many => format!("{} files ({bytes})", many.len()),
    }
}

#[cfg(feature = "hydrate")]
pub use browser::*;

#[cfg(feature = "hydrate")]
mod browser {
    use js_sys::{Array, Promise, Reflect};
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{
        DragEvent, File, FileSystemDirectoryEntry, FileSystemEntry, FileSystemFileEntry,
        HtmlInputElement,
    };

    use super::Picked;

    fn picked(file: File, name: String) -> Picked {
        let modified = file.last_modified();
        Picked {
            size: file.size() as u64,
            mtime: (modified > 0.0).then(|| (modified / 1000.0).floor() as i64),
            file: send_wrapper::SendWrapper::new(file),
            name,
        }
    }

    /// What a file input holds; a folder input's files are named by their path in it.
    pub fn from_input(input: &HtmlInputElement) -> Vec<Picked> {
        let Some(list) = input.files() else {
            return Vec::new();
        };
        (0..list.length())
            .filter_map(|i| list.get(i))
            .map(|file| {
                let inside = Reflect::get(&file, &"webkitRelativePath".into())
                    .ok()
                    .and_then(|p| p.as_string())
                    .filter(|p| !p.is_empty());
                let name = inside.unwrap_or_else(|| file.name());
                picked(file, name)
            })
            .collect()
    }

    /// The drag carries files (not text or a link).
    pub fn carries_files(event: &DragEvent) -> bool {
        event
            .data_transfer()
            .is_some_and(|d| d.types().includes(&"Files".into(), 0))
    }

    /// What was dropped: files, and folders to walk. Read at once: the browser empties
    /// the drop's list once its event is over.
    pub enum Dropped {
        File(File),
        Folder(FileSystemDirectoryEntry),
    }

    pub fn dropped(event: &DragEvent) -> Vec<Dropped> {
        let Some(transfer) = event.data_transfer() else {
            return Vec::new();
        };
        let items = transfer.items();
        (0..items.length())
            .filter_map(|i| items.get(i))
            .filter(|item| item.kind() == "file")
            .filter_map(|item| {
                let entry = item.webkit_get_as_entry().ok().flatten();
                match entry {
                    Some(entry) if entry.is_directory() => {
                        Some(Dropped::Folder(entry.unchecked_into()))
                    }
                    _ => item.get_as_file().ok().flatten().map(Dropped::File),
                }
            })
            .collect()
    }

    /// Every file dropped, those in folders named by their path from the folder dropped.
    pub async fn walk(dropped: Vec<Dropped>) -> Result<Vec<Picked>, String> {
        let mut out = Vec::new();
        let mut folders = Vec::new();
        for d in dropped {
            match d {
                Dropped::File(file) => {
                    let name = file.name();
                    out.push(picked(file, name));
                }
                Dropped::Folder(dir) => folders.push((dir.name(), dir)),
            }
        }
        while let Some((prefix, dir)) = folders.pop() {
            for entry in entries(&dir).await? {
                let name = format!("{prefix}/{}", entry.name());
                if entry.is_directory() {
                    folders.push((name, entry.unchecked_into()));
                } else if entry.is_file() {
                    let file = file_of(entry.unchecked_ref()).await?;
                    out.push(picked(file, name));
                }
            }
        }
        Ok(out)
    }

    /// A folder's entries: `readEntries` gives them in batches until an empty one.
    async fn entries(dir: &FileSystemDirectoryEntry) -> Result<Vec<FileSystemEntry>, String> {
        let reader = dir.create_reader();
        let mut all = Vec::new();
        loop {
            let batch = Promise::new(&mut |ok, fail| {
                let _ = reader.read_entries_with_callback_and_callback(&ok, &fail);
            });
            let batch: Array = JsFuture::from(batch)
                .await
                .map_err(|_| format!("the folder {} could not be read", dir.name()))?
                .unchecked_into();
            if batch.length() == 0 {
                return Ok(all);
            }
            all.extend(batch.iter().map(|e| e.unchecked_into::<FileSystemEntry>()));
        }
    }

    async fn file_of(entry: &FileSystemFileEntry) -> Result<File, String> {
        let file = Promise::new(&mut |ok, fail| {
            entry.file_with_callback_and_callback(&ok, &fail);
        });
        JsFuture::from(file)
            .await
            .map(|f| f.unchecked_into())
            .map_err(|_| {
                format!(
                    "{} could not be read",
                    entry.unchecked_ref::<FileSystemEntry>().full_path()
                )
            })
    }
}
