//! Files dropped onto a terminal: where should they go? The question comes prefilled with
//! the shell's current directory (`GET …/cwd` with the terminal's session), else the
//! container's working directory; the person may change it. Then their uploads.

use leptos::prelude::*;

use super::list::TransferList;
use super::picked::{Picked, describe};
use super::queue::Uploads;
use super::zone::{DropOverlay, DropZone};
use crate::app::later::Unloaded;
use crate::model::Target;

/// The uploads of a terminal, from its later part of the wasm (`crate::app::later`): shown
/// from the first file dragged over the terminal on.
pub fn later_uploads(target: Target, session: RwSignal<Option<String>>, zone: DropZone) -> AnyView {
    crate::app::later::show(move || uploads_view(target.clone(), session, zone))
}

#[leptos::wasm_split::wasm_split(terminal_later, wasm_split_path = ::leptos::wasm_split, fallible)]
fn uploads_view(
    target: Target,
    session: RwSignal<Option<String>>,
    zone: DropZone,
) -> Result<AnyView, Unloaded> {
    Ok(view! { <TerminalUploads target session zone/> }.into_any())
}

/// The uploads of a terminal. `session`: the terminal's, whose shell's directory is asked.
#[component]
fn TerminalUploads(
    target: Target,
    session: RwSignal<Option<String>>,
    zone: DropZone,
) -> impl IntoView {
    let uploads = Uploads::new(target.clone());
    // Dropped, waiting for a destination.
    let waiting = RwSignal::new(None::<Vec<Picked>>);
    let dir = RwSignal::new(String::new());
    let typed = RwSignal::new(false);
    let note = RwSignal::new(String::new());
    let invalid = RwSignal::new(None::<String>);
    let executable = RwSignal::new(false);
    let field = NodeRef::<leptos::html::Input>::new();
    let target = StoredValue::new(target);
    let prefill = move || {
        #[cfg(feature = "hydrate")]
        {
            use crate::files::Cwd;
            note.set("Finding the shell's current directory…".into());
            let url =
                target.with_value(|t| super::address::cwd(t, session.get_untracked().as_deref()));
            leptos::task::spawn_local(async move {
                let (path, said) = match crate::app::requests::fetch_json::<Cwd>("GET", &url).await
                {
                    Ok(Cwd {
                        path,
                        from_shell: true,
                    }) => (path, "The shell's current directory.".to_string()),
                    Ok(Cwd { path, .. }) => (
                        path,
                        "The container's working directory (the shell's own could not be read)."
                            .into(),
                    ),
                    Err(failure) => (
                        String::new(),
                        format!("{} Type the folder the files go to.", failure.said()),
                    ),
                };
                if typed.try_get_untracked() == Some(false) {
                    dir.try_set(path);
                }
                note.try_set(said);
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (target, session, note);
    };
    Effect::new(move |_| {
        if zone.dropped.with(Option::is_some)
            && let Some(picked) = zone.take()
        {
            let first = waiting.with_untracked(Option::is_none);
            waiting.update(|w| w.get_or_insert_with(Vec::new).extend(picked));
            if first {
                typed.set(false);
                invalid.set(None);
                prefill();
            }
        }
    });
    // The question takes the keyboard: Enter uploads.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(field) = field.get() {
            let _ = field.focus();
        }
    });
    let start = move || match crate::files::clean_path(dir.get_untracked().trim()) {
        Err(why) => invalid.set(Some(crate::app::upper_first(&why))),
        Ok(path) => {
            if let Some(picked) = waiting.try_update(Option::take).flatten() {
                uploads.add(picked, &path, executable.get_untracked());
            }
        }
    };
    let what = move || waiting.with(|w| w.as_deref().map(describe).unwrap_or_default());
    view! {
        <DropOverlay zone words="Drop to upload into this container: you choose the folder next"/>
        {move || zone.problem.get().map(|p| view! {
            <p class="pane-problem error-box" role="alert">{p}
                <button class="button small" on:click=move |_| zone.problem.set(None)>"OK"</button>
            </p>
        })}
        <Show when=move || waiting.with(Option::is_some)>
            <form class="upload-where" role="dialog" aria-label="Where should the files go?"
                on:submit=move |ev| { ev.prevent_default(); start(); }>
                <label class="upload-where-field">
                    <span>"Upload " <strong>{what}</strong> " into the folder"</span>
                    <input type="text" class="upload-dir" aria-label="Destination folder" spellcheck="false" node_ref=field
                        autocomplete="off" prop:value=move || dir.get()
                        on:input=move |ev| { typed.set(true); invalid.set(None); dir.set(event_target_value(&ev)); }/>
                </label>
                <p class="hint-line">{move || note.get()}</p>
                {move || invalid.get().map(|why| view! { <p class="error-line" role="alert">{why}</p> })}
                <div class="upload-where-buttons">
                    <label class="check" title="Browsers do not say whether a file is a program: say it here">
                        <input type="checkbox" prop:checked=move || executable.get()
                            on:change=move |ev| executable.set(event_target_checked(&ev))/>
                        "Make executable"
                    </label>
                    <button type="submit" class="button small primary">"Upload"</button>
                    <button type="button" class="button small" on:click=move |_| waiting.set(None)>"Cancel"</button>
                </div>
            </form>
        </Show>
        <TransferList uploads/>
    }
}
