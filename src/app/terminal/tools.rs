//! A pane's tools (the search bar, the settings panel, the paste question, the context
//! menu), one view each, in the terminal's later part of the wasm.

use leptos::prelude::*;

use super::super::later::Unloaded;
use super::super::settings::SettingsPanel;
use super::super::sync_view::sync_view;
use super::controls::Controls;
use super::menu::ContextMenu;
use super::paste_confirm::PasteConfirm;
use super::search::SearchBar;

#[derive(Clone)]
pub enum Tool {
    Search,
    Settings,
    /// The question before this paste.
    Paste(String),
    /// The context menu at these page coordinates.
    Menu(i32, i32),
}

/// `tool`'s view.
fn tool(controls: Controls, tool: Tool) -> AnyView {
    match tool {
        Tool::Search => sync_view(view! { <SearchBar controls/> }).into_any(),
        Tool::Settings => sync_view(view! { <SettingsPanel controls/> }).into_any(),
        Tool::Paste(text) => sync_view(view! { <PasteConfirm controls text/> }).into_any(),
        Tool::Menu(x, y) => sync_view(view! { <ContextMenu controls x y/> }).into_any(),
    }
}

/// `tool`'s view, from the terminal's later part (`super::super::later`).
pub fn later(controls: Controls, tool: Tool) -> AnyView {
    super::super::later::show(move || tool_view(controls, tool.clone()))
}

#[leptos::wasm_split::wasm_split(
    terminal_later,
    wasm_split_path = ::leptos::wasm_split,
    preload(fetch_tools),
    fallible
)]
pub(crate) fn tool_view(controls: Controls, tool: Tool) -> Result<AnyView, Unloaded> {
    Ok(self::tool(controls, tool))
}
