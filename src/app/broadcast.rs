//! Broadcast input, as the dashboard shows it: while terminals are marked, a bar over the
//! panes says which get what is typed, and stops it. The sending is the connections'
//! (`connection::broadcast`); each marked session's server writes its start and stop in
//! the audit trail.

use leptos::prelude::*;

use super::tabs::Tabs;

/// The bar over the panes while any terminal is marked.
#[component]
pub fn BroadcastBar(tabs: Tabs) -> impl IntoView {
    let stop = move |_| {
        tabs.list
            .with_untracked(|t| t.iter().for_each(|tab| tab.broadcast.set(false)))
    };
    move || {
        let names = tabs.broadcasting();
        let words = match names.len() {
            0 => return None,
            1 => format!(
                "{} is marked for broadcast: mark another terminal to type into both at once.",
                names[0]
            ),
            n => format!(
                "Broadcast on: what you type into one of these {n} terminals goes to all of them: {}.",
                names.join(", ")
            ),
        };
        let on = names.len() > 1;
        Some(view! {
            <div class="broadcast-bar" class:on=on role="status" aria-live="polite">
                <span>{words}</span>
                <button class="button small" on:click=stop>"Stop broadcasting"</button>
            </div>
        })
    }
}
