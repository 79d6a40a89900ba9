//! A pane's tools (the search bar, the settings panel, the paste question, the context
//! menu) as a part of the wasm of their own (`cargo leptos build --split`): a terminal's
//! first load does not carry them; the first tool opened loads the part.

use leptos::prelude::*;

use super::super::settings::SettingsPanel;
use super::super::sync_view::sync_view;
use super::controls::Controls;
use super::menu::ContextMenu;
use super::paste_confirm::PasteConfirm;
use super::search::SearchBar;

pub enum Tool {
    Search,
    Settings,
    /// The question before this paste.
    Paste(String),
    /// The context menu at these page coordinates.
    Menu(i32, i32),
}

#[lazy]
fn tool_view(controls: Controls, tool: Tool) -> AnyView {
    match tool {
        Tool::Search => sync_view(view! { <SearchBar controls/> }).into_any(),
        Tool::Settings => sync_view(view! { <SettingsPanel controls/> }).into_any(),
        Tool::Paste(text) => sync_view(view! { <PasteConfirm controls text/> }).into_any(),
        Tool::Menu(x, y) => sync_view(view! { <ContextMenu controls x y/> }).into_any(),
    }
}

/// Fetches the tools' part a moment after the terminal started (after the page's first
/// load), so the first Ctrl+Shift+F opens the search bar at once.
#[cfg(feature = "hydrate")]
pub fn load_soon() {
    set_timeout(
        || leptos::task::spawn_local(__preload_tool_view()),
        std::time::Duration::from_secs(2),
    );
}

/// `tool`, shown once its part of the wasm is in.
pub fn tool(controls: Controls, tool: Tool) -> Suspend<AnyView> {
    // The part's loader is a browser future, held on the page's only thread.
    #[cfg(feature = "hydrate")]
    let view = send_wrapper::SendWrapper::new(tool_view(controls, tool));
    #[cfg(not(feature = "hydrate"))]
    let view = tool_view(controls, tool);
    Suspend::new(view)
}
