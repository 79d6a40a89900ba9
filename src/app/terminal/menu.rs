//! podterm's own menu on a right click in a terminal (the browser's would paste into
//! xterm.js's hidden field and offer nothing else): Copy, Paste, Select all, Search, Clear.
//! Arrow keys move through it, Esc closes it; a click elsewhere closes it too.

use leptos::html::Div;
use leptos::prelude::*;

use super::controls::Controls;
use crate::app::shortcuts::TerminalKey;

#[component]
pub fn ContextMenu(controls: Controls, x: i32, y: i32) -> impl IntoView {
    let menu = NodeRef::<Div>::new();
    // Read once as it opens: the selection cannot change while the menu is up.
    let can_copy = controls.has_selection();
    let close = move || {
        controls.menu.set(None);
        controls.focus();
    };
    // The first item takes the keys, as in a desktop menu.
    Effect::new(move |_| {
        if let Some(menu) = menu.get()
            && let Ok(Some(first)) = menu.query_selector("button:not(:disabled)")
        {
            use leptos::wasm_bindgen::JsCast;
            if let Ok(first) = first.dyn_into::<leptos::web_sys::HtmlElement>() {
                let _ = first.focus();
            }
        }
    });
    let item = move |label: &'static str, keys: &'static str, enabled: bool, act: fn(&Controls)| {
        view! {
            <button role="menuitem" class="menu-item" disabled=!enabled
                on:click=move |_| {
                    controls.menu.set(None);
                    act(&controls);
                    // Search keeps the keys in its field.
                    if !controls.search_open.get_untracked() {
                        controls.focus();
                    }
                }>
                <span>{label}</span>
                <kbd class="menu-keys">{keys}</kbd>
            </button>
        }
    };
    view! {
        // Takes the click that closes the menu, so it does not also reach the terminal.
        <div class="menu-backdrop"
            on:mousedown=move |ev| { ev.prevent_default(); close(); }
            on:contextmenu=move |ev| { ev.prevent_default(); close(); }></div>
        <div class="context-menu" role="menu" aria-label="Terminal" node_ref=menu
            style:left=format!("{x}px") style:top=format!("{y}px")
            on:keydown=move |ev| {
                let step = match ev.key().as_str() {
                    "Escape" | "Tab" => {
                        ev.prevent_default();
                        return close();
                    }
                    "ArrowDown" => 1,
                    "ArrowUp" => -1,
                    _ => return,
                };
                ev.prevent_default();
                #[cfg(feature = "hydrate")]
                move_focus(menu, step);
                #[cfg(not(feature = "hydrate"))]
                let _ = step;
            }>
            {item("Copy", TerminalKey::Copy.keys()[0], can_copy, Controls::copy)}
            {item("Paste", TerminalKey::Paste.keys()[0], true, Controls::paste_clipboard)}
            {item("Select all", "", true, Controls::select_all)}
            {item("Search…", TerminalKey::Search.keys()[0], true, Controls::open_search)}
            {item("Clear", "", true, Controls::clear)}
        </div>
    }
}

/// Where a menu opened at the pointer goes: there, or moved in so that it fits the window.
pub fn place(x: i32, y: i32) -> (i32, i32) {
    // Roughly the menu's size (public/css/later.css, .context-menu).
    const WIDTH: i32 = 240;
    const HEIGHT: i32 = 190;
    let window = leptos::web_sys::window();
    let size = |get: fn(&leptos::web_sys::Window) -> Result<leptos::wasm_bindgen::JsValue, _>| {
        window
            .as_ref()
            .and_then(|w| get(w).ok())
            .and_then(|v| v.as_f64())
            .map_or(i32::MAX, |v| v as i32)
    };
    let (width, height) = (size(|w| w.inner_width()), size(|w| w.inner_height()));
    (
        x.min(width.saturating_sub(WIDTH)).max(0),
        y.min(height.saturating_sub(HEIGHT)).max(0),
    )
}

/// Moves the focus `step` items on, round the ends, past disabled ones.
#[cfg(feature = "hydrate")]
fn move_focus(menu: NodeRef<Div>, step: i32) {
    use leptos::wasm_bindgen::JsCast;
    let Some(menu) = menu.get_untracked() else {
        return;
    };
    let Ok(items) = menu.query_selector_all("button:not(:disabled)") else {
        return;
    };
    let count = items.length() as i32;
    if count == 0 {
        return;
    }
    let active = leptos::web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.active_element());
    let at = (0..count)
        .find(|&i| items.get(i as u32).as_ref() == active.as_ref().map(|a| a.as_ref()))
        .unwrap_or(-1);
    let next = (at + step).rem_euclid(count) as u32;
    if let Some(item) = items
        .get(next)
        .and_then(|n| n.dyn_into::<leptos::web_sys::HtmlElement>().ok())
    {
        let _ = item.focus();
    }
}
