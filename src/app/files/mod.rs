//! Moving files between the browser and a container: a Files tab per container (a folder's
//! entries, downloads of a file or a folder as `.tar.gz`, uploads into the folder shown),
//! and files dropped onto a terminal (`destination`). The server's side and the shared
//! words are `crate::files`.
//!
//! Downloads are plain links, so the browser's download manager streams them to the disk
//! (with its own progress and cancel). Uploads go one at a time (`queue`) by
//! `XMLHttpRequest` (`net`), straight from the disk; the transfer list (`list`) shows each
//! one's progress and result.

// What sends and lists runs in the page only (the server renders the controls); the parts
// without the browser are tested on both sides.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod address;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod browse;
mod destination;
mod list;
#[cfg(feature = "hydrate")]
mod net;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod picked;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod queue;
mod table;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod transfer;
mod words;
mod zone;

use leptos::html::Input;
use leptos::prelude::*;

use browse::{Browser, Shown};
pub use destination::later_uploads;
use list::TransferList;
use queue::Uploads;
use table::Entries;
use zone::DropOverlay;
pub use zone::DropZone;

use crate::model::Target;

/// What opens a container's Files tab, where the page has tabs (the dashboard).
#[derive(Clone, Copy)]
pub struct FilesOpener(pub Callback<Target>);

/// A container's files. `visible`: its tab is shown; `busy` follows whether uploads are
/// on their way (closing the tab stops them).
#[component]
pub fn FilesView(
    target: Target,
    #[prop(into)] visible: Signal<bool>,
    #[prop(optional)] busy: Option<RwSignal<bool>>,
) -> impl IntoView {
    let _ = visible;
    let browser = Browser::new(target.clone());
    let uploads = Uploads::new(target.clone());
    uploads.on_settled(Callback::new(move |()| browser.load(true)));
    let zone = DropZone::new();
    let typed = RwSignal::new(String::new());
    // The person has typed in the path field since a folder was asked for.
    let editing = RwSignal::new(false);
    let typed_problem = RwSignal::new(None::<String>);
    let executable = RwSignal::new(false);
    let files_input = NodeRef::<Input>::new();
    let folder_input = NodeRef::<Input>::new();
    #[cfg(feature = "hydrate")]
    browser.load(false);
    // A folder input (no such attribute in the view's vocabulary).
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(input) = folder_input.get() {
            input.set_webkitdirectory(true);
        }
    });
    // The field shows the folder listed, unless the person is typing another.
    Effect::new(move |_| {
        if let Some(dir) = browser.dir()
            && !editing.get_untracked()
        {
            typed.set(dir);
        }
    });
    Effect::new(move |_| {
        browser.asked.track();
        editing.set(false);
    });
    if let Some(busy) = busy {
        Effect::new(move |_| busy.set(uploads.busy()));
    }
    Effect::new(move |_| {
        if zone.dropped.with(Option::is_some)
            && let Some(picked) = zone.take()
        {
            match browser.dir() {
                Some(dir) => uploads.add(picked, &dir, executable.get_untracked()),
                None => zone
                    .problem
                    .set(Some("Open a folder first: nothing was uploaded.".into())),
            }
        }
    });
    let enter = Callback::new(move |path: String| browser.go(Some(path)));
    let go_typed = move || match crate::files::clean_path(typed.get_untracked().trim()) {
        Ok(path) => {
            typed_problem.set(None);
            browser.go(Some(path));
        }
        Err(why) => typed_problem.set(Some(crate::app::upper_first(&why))),
    };
    let chosen = move |input: NodeRef<Input>| {
        #[cfg(feature = "hydrate")]
        if let (Some(input), Some(dir)) = (input.get_untracked(), browser.dir()) {
            let picked = picked::from_input(&input);
            // Empty again, so that choosing the same files again uploads them again.
            input.set_value("");
            uploads.add(picked, &dir, executable.get_untracked());
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = input;
    };
    let pick = move |input: NodeRef<Input>| {
        if let Some(input) = input.get_untracked() {
            input.click();
        }
    };
    let listed = move || browser.dir().is_some();
    let upload_title = move || match browser.dir() {
        Some(dir) => format!("Upload into {dir}"),
        None => "Open a folder first".into(),
    };
    let download_folder = {
        let target = target.clone();
        move || {
            browser.dir().map(|dir| {
                let href = format!("{}{}", super::base(), address::download(&target, &dir));
                let saved = address::saved_name(&dir, true);
                view! {
                    <a class="button small" href=href download=saved.clone() title=format!("Download {dir} and everything in it as {saved}")>
                        "Download folder (.tar.gz)"
                    </a>
                }
            })
        }
    };
    let drop_words = Signal::derive(move || match browser.dir() {
        Some(dir) => format!("Drop to upload into {dir}"),
        None => "Open a folder first".into(),
    });
    let title = target.title();
    let namespace = target.namespace.clone();
    let body_target = target.clone();
    view! {
        <section class="files-pane" data-pod=target.pod.clone() data-container=target.container.clone()
            on:dragenter=move |ev| zone.enter(ev) on:dragover=move |ev| zone.hover(ev)
            on:dragleave=move |ev| zone.leave(ev) on:drop=move |ev| zone.drop(ev)>
            <header class="terminal-bar">
                <span class="terminal-title">{title} <span class="log-word">" · files"</span></span>
                <span class=move || browser.shown.with(status_css) data-testid="files-status">
                    {move || browser.shown.with(status_words)}
                </span>
                <span class="terminal-actions">
                    <button class="button small" disabled=move || !listed() title=upload_title
                        on:click=move |_| pick(files_input)>"Upload files"</button>
                    <button class="button small" disabled=move || !listed() title=upload_title
                        on:click=move |_| pick(folder_input)>"Upload folder"</button>
                    {download_folder}
                </span>
                <input type="file" multiple class="visually-hidden" tabindex="-1" aria-label="Files to upload"
                    node_ref=files_input on:change=move |_| chosen(files_input)/>
                <input type="file" multiple class="visually-hidden" tabindex="-1" aria-label="Folder to upload"
                    node_ref=folder_input on:change=move |_| chosen(folder_input)/>
            </header>
            <form class="files-path" on:submit=move |ev| { ev.prevent_default(); go_typed(); }>
                <button type="button" class="button small" aria-label="Up: the folder above" title="The folder above"
                    disabled=move || browser.up().is_none()
                    on:click=move |_| browser.go(browser.up())>"↑ Up"</button>
                <input type="text" class="files-path-field" aria-label="Folder path" spellcheck="false" autocomplete="off"
                    placeholder="/path/in/the/container" prop:value=move || typed.get()
                    on:input=move |ev| {
                        editing.set(true);
                        typed.set(event_target_value(&ev));
                    }/>
                <button type="submit" class="button small">"Go"</button>
                <button type="button" class="button small" title="List the folder again" on:click=move |_| browser.load(false)>"Reload"</button>
                <label class="check" title="Browsers do not say whether a file is a program: say it here">
                    <input type="checkbox" prop:checked=move || executable.get()
                        on:change=move |ev| executable.set(event_target_checked(&ev))/>
                    "Make uploads executable"
                </label>
            </form>
            {move || typed_problem.get().map(|why| view! { <p class="error-line files-line" role="alert">{why}</p> })}
            {move || zone.problem.get().map(|p| view! {
                <p class="pane-problem error-box" role="alert">{p}
                    <button class="button small" on:click=move |_| zone.problem.set(None)>"OK"</button>
                </p>
            })}
            <div class="files-body">
                {move || body(browser, &body_target, &namespace, enter)}
            </div>
            <DropOverlay zone words=drop_words/>
            <TransferList uploads/>
        </section>
    }
}

fn status_words(shown: &Shown) -> String {
    match shown {
        Shown::Loading => "Loading…".into(),
        Shown::Listed(l) if l.truncated => {
            format!("First {} entries", super::pod_list::count(l.entries.len()))
        }
        Shown::Listed(l) if l.entries.len() == 1 => "1 entry".into(),
        Shown::Listed(l) => format!("{} entries", super::pod_list::count(l.entries.len())),
        Shown::Failed(_) => "Could not list".into(),
    }
}

fn status_css(shown: &Shown) -> &'static str {
    match shown {
        Shown::Loading => "status status-pending",
        Shown::Listed(_) => "status status-done",
        Shown::Failed(_) => "status status-error",
    }
}

/// What the tab shows under its controls: the entries, or why there are none.
fn body(browser: Browser, target: &Target, namespace: &str, enter: Callback<String>) -> AnyView {
    match browser.shown.get() {
        Shown::Loading => {
            let what = browser
                .asked
                .get_untracked()
                .unwrap_or_else(|| "the container's working directory".into());
            view! { <p class="files-note" aria-busy="true">"Loading " {what} "…"</p> }.into_any()
        }
        Shown::Failed(failure) => {
            let retry = move |_| browser.load(false);
            let login = (failure.status == 401).then(|| {
                view! { <a class="button small" href=format!("{}/login", super::base())>"Log in again"</a> }
            });
            let up = browser.up().map(|up| view! {
                <button class="button small" on:click=move |_| browser.go(Some(up.clone()))>"Go up"</button>
            });
            view! {
                <div class="files-failure error-box" role="alert">
                    <strong>{failure.list_headline()}</strong>
                    <p>{failure.said()}</p>
                    {(!failure.advised()).then(|| view! { <p class="next-step">{failure.list_next_step(namespace)}</p> })}
                    <button class="button small" on:click=retry>"Retry"</button>
                    {up}
                    <button class="button small" on:click=move |_| browser.go(None)>"Working directory"</button>
                    {login}
                </div>
            }
            .into_any()
        }
        Shown::Listed(listing) => {
            let via = format!("podterm reaches these files {}.", listing.via.words());
            let note = if listing.entries.is_empty() {
                Some(format!(
                    "{} is empty. Drop files here, or use Upload files.",
                    listing.path
                ))
            } else if listing.truncated {
                Some(format!(
                    "Only the first {} entries are shown: the folder holds more. Type the path of a folder inside it, or download the whole folder.",
                    super::pod_list::count(listing.entries.len())
                ))
            } else {
                None
            };
            let truncated = listing.truncated;
            let table = (!listing.entries.is_empty())
                .then(|| view! { <Entries target=target.clone() listing enter/> });
            view! {
                <p class="files-via" data-testid="files-via">{via}</p>
                {note.map(|n| view! { <p class="files-note" class:warn=truncated role="status">{n}</p> })}
                {table}
            }
            .into_any()
        }
    }
}
