//! The search bar over a terminal: finds in the scrollback with xterm.js's search addon,
//! every match highlighted, the count beside the field ("3 of 12"), which follows the
//! output as it streams. Enter and Shift+Enter go to the next and previous match; Esc
//! closes it and gives the keys back to the shell.

use leptos::html::Input;
use leptos::prelude::*;

use super::controls::{Controls, Matches};

#[component]
pub fn SearchBar(controls: Controls) -> impl IntoView {
    let field = NodeRef::<Input>::new();
    let term = RwSignal::new(String::new());
    let case_sensitive = RwSignal::new(false);
    let regex = RwSignal::new(false);
    let find = move |how: &str| {
        controls.find(
            &term.get_untracked(),
            case_sensitive.get_untracked(),
            regex.get_untracked(),
            how,
        );
    };
    // Every Ctrl+Shift+F (or the button) puts the keys in the field, its text selected.
    Effect::new(move |_| {
        controls.search_asked.track();
        if let Some(field) = field.get() {
            let _ = field.focus();
            field.select();
        }
    });
    let toggle = move |option: RwSignal<bool>| {
        option.update(|on| *on = !*on);
        find("typed");
    };
    let matches = controls.matches;
    view! {
        <div class="search-bar" role="search" aria-label="Search the terminal"
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    controls.close_search();
                }
            }>
            <input type="search" class="search-field" node_ref=field placeholder="Find in the terminal"
                aria-label="Find in the terminal" spellcheck="false" autocomplete="off"
                prop:value=move || term.get()
                on:input=move |ev| {
                    term.set(event_target_value(&ev));
                    find("typed");
                }
                on:keydown=move |ev| {
                    if ev.key() == "Enter" {
                        ev.prevent_default();
                        find(if ev.shift_key() { "previous" } else { "next" });
                    }
                }/>
            <span class="search-count" class:search-invalid=move || matches.get() == Matches::Invalid
                aria-live="polite" data-testid="search-count">
                {move || matches.with(Matches::describe)}
            </span>
            <button class="search-toggle" aria-label="Match case" title="Match case"
                aria-pressed=move || case_sensitive.get().to_string()
                on:click=move |_| toggle(case_sensitive)>"Aa"</button>
            <button class="search-toggle" aria-label="Regular expression" title="Regular expression"
                aria-pressed=move || regex.get().to_string()
                on:click=move |_| toggle(regex)>".*"</button>
            <button class="search-step" aria-label="Previous match" title="Previous match (Shift+Enter)"
                on:click=move |_| find("previous")>"↑"</button>
            <button class="search-step" aria-label="Next match" title="Next match (Enter)"
                on:click=move |_| find("next")>"↓"</button>
            <button class="search-step" aria-label="Close search" title="Close (Esc)"
                on:click=move |_| controls.close_search()>"×"</button>
        </div>
    }
}
