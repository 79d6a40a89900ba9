//! A pane's tools (the search bar, the settings panel, the paste question, the context
//! menu), one view each. They are part of the main wasm: a part of its own, loaded later,
//! panicked the page when the network was down as it loaded (a dropped connection, the
//! moment a person most needs the terminal to hold on).

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

/// `tool`'s view.
pub fn tool(controls: Controls, tool: Tool) -> AnyView {
    match tool {
        Tool::Search => sync_view(view! { <SearchBar controls/> }).into_any(),
        Tool::Settings => sync_view(view! { <SettingsPanel controls/> }).into_any(),
        Tool::Paste(text) => sync_view(view! { <PasteConfirm controls text/> }).into_any(),
        Tool::Menu(x, y) => sync_view(view! { <ContextMenu controls x y/> }).into_any(),
    }
}
