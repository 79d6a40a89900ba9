//! The panes: the view split into one, two or four, each showing a tab (a terminal, a log or
//! files), one of them with the keyboard; and a pane full screen. A terminal refits, and
//! tells its shell its new size, whenever its pane changes size (the bridge watches its box).

use leptos::prelude::*;

use super::files::FilesView;
use super::logs::LogsView;
use super::sync_view::sync_view;
use super::tabs::{Content, PANE_COUNTS, Tabs};
use super::terminal::TerminalView;
use crate::model::Target;

/// Every tab's view, in the pane that shows it; tabs no pane shows stay, hidden, so their
/// shells and logs go on.
#[component]
pub fn Panes(tabs: Tabs, logs: Callback<Target>, files: Callback<Target>) -> impl IntoView {
    let Tabs {
        list, slots, focus, ..
    } = tabs;
    let count = move || slots.with(Vec::len);
    // In the order they were opened, whatever the strip's: moving a tab does not move its
    // terminal in the page.
    let by_age = move || {
        let mut all = list.get();
        all.sort_by_key(|tab| tab.id);
        all
    };
    let empty_panes = move || {
        let shown = list.with(|t| !t.is_empty());
        slots.with(|s| {
            s.iter()
                .enumerate()
                .filter(|(_, slot)| shown && slot.is_none())
                .map(|(i, _)| i)
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div class="panes" class:none=move || list.with(Vec::is_empty) data-count=move || count().to_string()>
            <For each=by_age key=|tab| tab.id let:tab>
                {
                    let id = tab.id;
                    let pane = Memo::new(move |_| tabs.pane_of(id));
                    let visible = Signal::derive(move || pane.get().is_some());
                    let focused = Signal::derive(move || pane.get().is_some_and(|p| p == focus.get()));
                    let view = match tab.content {
                        Content::Shell(terminal) => {
                            let moved = Callback::new(move |()| tabs.close(id));
                            let another = {
                                let terminal = terminal.clone();
                                Callback::new(move |()| {
                                    tabs.add(Content::Shell(terminal.clone()), None, None);
                                })
                            };
                            let target = terminal.target.clone();
                            let log = Callback::new(move |()| logs.run(target.clone()));
                            let target = terminal.target.clone();
                            let file = Callback::new(move |()| files.run(target.clone()));
                            sync_view(view! { <TerminalView terminal visible focused resume=tab.resume session=tab.session moved another logs=log files=file broadcast=tab.broadcast/> }).into_any()
                        }
                        Content::Log(target) => sync_view(view! { <LogsView target visible/> }).into_any(),
                        Content::Files(target) => sync_view(view! { <FilesView target visible busy=tab.busy/> }).into_any(),
                    };
                    view! {
                        <div class="tab-panel" class:hidden=move || !visible.get() class:focused=move || { focused.get() && count() > 1 }
                            class:has-keyboard=focused
                            style:order=move || pane.get().unwrap_or(0).to_string()
                            on:focusin=move |_| take_keyboard(focus, pane.get_untracked())
                            on:pointerdown=move |_| take_keyboard(focus, pane.get_untracked())>
                            {view}
                        </div>
                    }
                }
            </For>
            <For each=empty_panes key=|i| *i let:i>
                <button class="empty-pane" class:focused=move || focus.get() == i style:order=i.to_string()
                    on:click=move |_| focus.set(i)>
                    <strong>{format!("Pane {} is empty", i + 1)}</strong>
                    <span>"Click here, then pick a tab above or a pod on the left: it opens in this pane."</span>
                </button>
            </For>
        </div>
    }
}

/// The buttons that split the view and show a pane full screen.
#[component]
pub fn PaneButtons(tabs: Tabs) -> impl IntoView {
    let words = |n: usize| match n {
        1 => ("One pane", "▢"),
        2 => ("Two panes side by side", "◫"),
        _ => ("Four panes", "⊞"),
    };
    view! {
        <div class="pane-buttons" role="group" aria-label="Panes">
            {PANE_COUNTS.iter().map(|n| {
                let n = *n;
                let (label, glyph) = words(n);
                view! {
                    <button class="button small icon" aria-label=label title=label
                        aria-pressed=move || (tabs.slots.with(Vec::len) == n).to_string()
                        on:click=move |_| tabs.set_panes(n)>{glyph}</button>
                }
            }).collect_view()}
            <button class="button small icon" aria-label="Show the pane with the keyboard full screen"
                title="Full screen (Esc leaves it; keys the browser keeps, like Ctrl+W, then reach the shell where the browser allows it)"
                on:click=move |_| {
                    #[cfg(feature = "hydrate")]
                    fullscreen();
                }>"⤢"</button>
        </div>
    }
}

/// The keyboard to pane `p`, only if it is another pane's: setting the same pane again
/// would give the keys back to its terminal, away from the search field or menu in it.
fn take_keyboard(focus: RwSignal<usize>, p: Option<usize>) {
    if let Some(p) = p
        && focus.get_untracked() != p
    {
        focus.set(p);
    }
}

/// Shows the pane with the keyboard full screen, or leaves full screen. With Keyboard Lock
/// (Chromium), keys the browser keeps for itself, Ctrl+W among them, reach the page.
#[cfg(feature = "hydrate")]
pub fn fullscreen() {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    let Some(window) = web_sys::window() else {
        return;
    };
    let Some(document) = window.document() else {
        return;
    };
    if document.fullscreen_element().is_some() {
        document.exit_fullscreen();
        return;
    }
    let Some(panel) = document
        .query_selector(".tab-panel.has-keyboard")
        .ok()
        .flatten()
    else {
        return;
    };
    let _ = panel.request_fullscreen();
    let lock = js_sys::Reflect::get(&window, &"navigator".into())
        .and_then(|navigator| js_sys::Reflect::get(&navigator, &"keyboard".into()))
        .ok()
        .filter(|k| !k.is_undefined() && !k.is_null())
        .and_then(|keyboard| {
            let lock = js_sys::Reflect::get(&keyboard, &"lock".into()).ok()?;
            lock.dyn_into::<js_sys::Function>()
                .ok()?
                .call0(&keyboard)
                .ok()
        });
    if let Some(promise) = lock.and_then(|p| p.dyn_into::<js_sys::Promise>().ok()) {
        // Refused outside full screen or in other browsers: the keys stay the browser's.
        let ignore = Closure::<dyn FnMut(JsValue)>::new(|_| {});
        let _ = promise.catch(&ignore);
        ignore.forget();
    }
}
