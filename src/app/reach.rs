//! xterm.js's screen-reader mode (it mirrors the terminal's rows into text a screen reader
//! reads, and announces new output): a setting kept in the browser, for every terminal.

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
const KEY: &str = "podterm.screen-reader";

/// Whether the terminals run in screen-reader mode.
#[derive(Clone, Copy)]
pub struct ScreenReader(pub RwSignal<bool>);

/// The setting as the browser keeps it.
#[cfg(feature = "hydrate")]
pub fn stored() -> bool {
    web_sys::window()
        .and_then(|w| w.local_storage().ok().flatten())
        .and_then(|s| s.get_item(KEY).ok().flatten())
        .is_some_and(|v| v == "on")
}

/// The setting for this page's terminals, read once the page runs and kept when changed.
pub fn provide() -> ScreenReader {
    let on = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |first: Option<()>| {
        let now = on.get();
        if first.is_none() {
            on.set(stored());
        } else if let Some(storage) =
            web_sys::window().and_then(|w| w.local_storage().ok().flatten())
        {
            let _ = storage.set_item(KEY, if now { "on" } else { "off" });
        }
    });
    let reader = ScreenReader(on);
    provide_context(reader);
    reader
}

/// The button that turns it on and off.
#[component]
pub fn ScreenReaderToggle(reader: ScreenReader) -> impl IntoView {
    let on = reader.0;
    view! {
        <button class="button small" aria-pressed=move || on.get().to_string()
            title="Lets a screen reader read the terminals' text and hear new output"
            on:click=move |_| on.update(|o| *o = !*o)>"Screen reader"</button>
    }
}
