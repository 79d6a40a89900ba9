//! Closing the page asks first while a terminal is connected.

use std::cell::Cell;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;

thread_local! {
    /// Connected (or reconnecting) sessions on this page; closing the page asks first while
    /// any is live.
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// Asks before the page unloads while a terminal is connected.
pub fn guard_page_unload() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let guard = Closure::<dyn FnMut(web_sys::BeforeUnloadEvent)>::new(
        |event: web_sys::BeforeUnloadEvent| {
            if LIVE.with(Cell::get) > 0 {
                event.prevent_default();
                event.set_return_value("A terminal is still connected.");
            }
        },
    );
    let _ = window.add_event_listener_with_callback("beforeunload", guard.as_ref().unchecked_ref());
    guard.forget(); // lives as long as the page
}

/// One more (or one fewer) live terminal on this page.
pub(super) fn count(live: bool) {
    LIVE.with(|n| {
        n.set(if live {
            n.get() + 1
        } else {
            n.get().saturating_sub(1)
        })
    });
}
