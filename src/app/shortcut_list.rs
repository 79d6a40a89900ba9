//! The list of shortcuts (`?`): every action with its keys, each with a button to give it
//! other keys or none, and the keys that cannot be changed.

use leptos::prelude::*;

use super::shortcuts::{Action, Keys, TerminalKey};

/// The list's state: open, and the action waiting for new keys.
#[derive(Clone, Copy)]
pub struct Help {
    pub open: RwSignal<bool>,
    pub recording: RwSignal<Option<Action>>,
    /// What the last change said (keys the shell also uses, keys taken from another action).
    pub note: RwSignal<Option<String>>,
}

impl Help {
    pub fn new() -> Self {
        Self {
            open: RwSignal::new(false),
            recording: RwSignal::new(None),
            note: RwSignal::new(None),
        }
    }
}

/// Keys that always do the same and cannot be changed, for the list.
fn fixed() -> Vec<(String, &'static str)> {
    let terminal = |key: TerminalKey| key.keys().join(", ");
    vec![
        ("?".into(), "List the shortcuts (outside a terminal)"),
        (
            "Ctrl+PageUp, Ctrl+PageDown".into(),
            "Show the previous or next tab where the browser lets them through (an installed app's window, full screen with Keyboard Lock)",
        ),
        ("F2 or a double click on a tab".into(), "Rename that tab"),
        ("Esc".into(), "Close this list"),
        (terminal(TerminalKey::Copy), "Copy the terminal's selection"),
        (terminal(TerminalKey::Paste), "Paste into the terminal"),
        (
            terminal(TerminalKey::Search),
            "Search the terminal's output",
        ),
        (
            "Ctrl+=, Ctrl+-, Ctrl+0".into(),
            "Make the terminal's font bigger, smaller, or as it was",
        ),
        (
            "Ctrl+R, Ctrl+A, Ctrl+W, Ctrl+C …".into(),
            "The shell's, inside a terminal",
        ),
    ]
}

/// The list of shortcuts, where each can be given other keys.
#[component]
pub fn ShortcutList(keys: Keys, help: Help) -> impl IntoView {
    let Help {
        open,
        recording,
        note,
    } = help;
    let close = move || {
        recording.set(None);
        note.set(None);
        open.set(false);
    };
    #[cfg(feature = "hydrate")]
    keep_focus_with(open);
    view! {
        <Show when=move || open.get()>
            <div class="overlay" on:click=move |ev| {
                // A click beside the list closes it.
                if event_target_class(&ev).contains("overlay") {
                    close();
                }
            }>
                <section class="shortcut-list" role="dialog" aria-modal="true" aria-labelledby="shortcut-title">
                    <header>
                        <h2 id="shortcut-title">"Keyboard shortcuts"</h2>
                        <button class="button small close-list" aria-label="Close the list of shortcuts"
                            on:click=move |_| close()>"Close"</button>
                    </header>
                    <p class="shortcut-hint">"Inside a terminal every other key goes to the shell. Change a shortcut's keys with its button; podterm keeps them in this browser."</p>
                    <table>
                        <tbody>
                            {Action::ALL.iter().map(|action| {
                                let action = *action;
                                let shown = move || match (recording.get() == Some(action), keys.of(action)) {
                                    (true, _) => "Press the new keys… (Esc: keep the old)".to_string(),
                                    (false, Some(k)) => k,
                                    (false, None) => "not set".to_string(),
                                };
                                view! {
                                    <tr data-action=action.id()>
                                        <td>{action.words()}</td>
                                        <td><kbd class:unset=move || keys.of(action).is_none()>{shown}</kbd></td>
                                        <td class="shortcut-buttons">
                                            <button class="button small" aria-label=format!("Change the keys of: {}", action.words())
                                                on:click=move |_| { note.set(None); recording.set(Some(action)); }>"Change"</button>
                                            <button class="button small" aria-label=format!("Remove the keys of: {}", action.words())
                                                disabled=move || keys.of(action).is_none()
                                                on:click=move |_| keys.set(action, None)>"Remove"</button>
                                        </td>
                                    </tr>
                                }
                            }).collect_view()}
                            {fixed().into_iter().map(|(k, words)| view! {
                                <tr class="fixed"><td>{words}</td><td><kbd>{k}</kbd></td><td></td></tr>
                            }).collect_view()}
                        </tbody>
                    </table>
                    {move || note.get().map(|n| view! { <p class="shortcut-note" role="status">{n}</p> })}
                    <button class="button small" on:click=move |_| { keys.reset(); note.set(None); }>"Back to the defaults"</button>
                </section>
            </div>
        </Show>
    }
}

/// The list takes the keyboard when it opens and gives it back (to the terminal, say) when
/// it closes.
#[cfg(feature = "hydrate")]
fn keep_focus_with(open: RwSignal<bool>) {
    use wasm_bindgen::JsCast;
    let before = StoredValue::new_local(None::<web_sys::HtmlElement>);
    let focused = || {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.active_element())
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    };
    Effect::new(move |was: Option<bool>| {
        let now = open.get();
        match (was.unwrap_or(false), now) {
            (false, true) => {
                before.set_value(focused());
                request_animation_frame(|| {
                    let button = web_sys::window()
                        .and_then(|w| w.document())
                        .and_then(|d| {
                            d.query_selector(".shortcut-list .close-list")
                                .ok()
                                .flatten()
                        })
                        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok());
                    if let Some(button) = button {
                        let _ = button.focus();
                    }
                });
            }
            (true, false) => {
                if let Some(element) = before.try_update_value(Option::take).flatten() {
                    let _ = element.focus();
                }
            }
            _ => {}
        }
        now
    });
}

fn event_target_class(ev: &leptos::ev::MouseEvent) -> String {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        ev.target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .map(|e| e.class_name())
            .unwrap_or_default()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = ev;
        String::new()
    }
}
