//! A folder's entries: a folder's name enters it, a file's downloads it (a plain link: the
//! browser's download manager streams it to the disk), and each row has its download
//! (a folder's as `.tar.gz`).

use leptos::prelude::*;

use super::address::{download, saved_name};
use super::words::{modified, size};
use crate::files::{EntryKind, FileEntry, Listing};
use crate::model::Target;

/// Minutes east of UTC, for the times shown.
fn local_offset() -> i32 {
    #[cfg(feature = "hydrate")]
    {
        -(js_sys::Date::new_0().get_timezone_offset() as i32)
    }
    #[cfg(not(feature = "hydrate"))]
    0
}

#[component]
pub fn Entries(target: Target, listing: Listing, enter: Callback<String>) -> impl IntoView {
    let offset = local_offset();
    let base = crate::app::base();
    let rows = listing
        .entries
        .into_iter()
        .map(|entry| {
            let path = crate::files::join(&listing.path, &entry.name).unwrap_or_default();
            let href = format!("{base}{}", download(&target, &path));
            row(entry, path, href, offset, enter)
        })
        .collect_view();
    view! {
        <table class="files">
            <thead>
                <tr>
                    <th>"Name"</th><th class="num">"Size"</th><th>"Mode"</th><th>"Owner"</th><th>"Modified"</th>
                    <th><span class="visually-hidden">"Download"</span></th>
                </tr>
            </thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

fn row(
    entry: FileEntry,
    path: String,
    href: String,
    offset: i32,
    enter: Callback<String>,
) -> impl IntoView {
    let FileEntry {
        name,
        kind,
        size: bytes,
        mode,
        owner,
        group,
        modified: when,
        link,
    } = entry;
    let dir = kind == EntryKind::Dir;
    let saved = saved_name(&path, dir);
    let name_cell = match kind {
        EntryKind::Dir => {
            let path = path.clone();
            view! {
                <button class="file-link dir" title=format!("Open {path}") on:click=move |_| enter.run(path.clone())>
                    {name.clone()} "/"
                </button>
            }
            .into_any()
        }
        EntryKind::File | EntryKind::Link => view! {
            <a class="file-link" href=href.clone() download=saved.clone() title=format!("Download {path}")>{name.clone()}</a>
        }
        .into_any(),
        EntryKind::Other => view! {
            <span class="file-other" title="Not a regular file (a device, socket or pipe): it cannot be downloaded">{name.clone()}</span>
        }
        .into_any(),
    };
    // A link may lead to a folder: it can be opened as one.
    let link = link.map(|to| {
        let path = path.clone();
        view! {
            <span class="file-target">" → " {to}</span>
            <button class="file-open" aria-label=format!("Open {name} as a folder") title="If it leads to a folder, open it"
                on:click=move |_| enter.run(path.clone())>"Open"</button>
        }
    });
    let fetch = (kind != EntryKind::Other).then(|| {
        let label = if dir {
            format!("Download the folder {name} as {saved}")
        } else {
            format!("Download {name}")
        };
        view! { <a class="button small file-download" href=href download=saved aria-label=label.clone() title=label>"↓"</a> }
    });
    view! {
        <tr data-name=name.clone() data-kind=format!("{kind:?}").to_lowercase()>
            <td class="file-name">{name_cell}{link}</td>
            <td class="num" title=format!("{bytes} bytes")>{(!dir).then(|| size(bytes))}</td>
            <td><code>{mode}</code></td>
            <td title=format!("group {group}")>{owner}</td>
            <td class="file-when">{modified(when, offset)}</td>
            <td>{fetch}</td>
        </tr>
    }
}
