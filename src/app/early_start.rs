//! The early start, page side. On a terminal's own page the terminal connects while the
//! page loads: the server names the terminal's socket in the head, with the session it
//! started for the page as it rendered it (`server::relay::prestart`); an inline script
//! opens the socket at once, claiming that session (`start=ID`, `protocol::Join::Claim`),
//! and the bridge (`public/js/xterm-bridge.mjs`) shows its output until the wasm takes the
//! terminal and the socket over (`take`, `replay`).

use leptos::prelude::*;

use super::Terminal;

/// Opens the socket before anything else loads. Inlined in the head, before the
/// stylesheets, so nothing holds it back; the bridge takes the socket and its events so far.
pub const SCRIPT: &str = include_str!("../../public/js/early-socket.js");

/// The head tags the script reads: the terminal's socket path and the session the server
/// started for this page (empty when it did not). The same two tags on both sides (the
/// page renders them as placeholders).
/// No session is started when the page resumes one (`resuming`).
pub fn head(terminal: &Terminal, socket: String, resuming: bool) -> impl IntoView + use<> {
    // Only podterm's own shell (bash, else sh), the one the server starts for a page.
    #[cfg(feature = "ssr")]
    let session = if terminal.command.is_empty()
        && terminal.shell.is_none()
        && !matches!(terminal.way, super::ways_in::Way::Attach { .. })
        && !resuming
    {
        crate::server::relay::prestart::prestart(&terminal.target).unwrap_or_default()
    } else {
        // Only the shell: a command runs once the person has confirmed it.
        String::new()
    };
    #[cfg(not(feature = "ssr"))]
    let session = {
        let _ = (terminal, resuming);
        String::new()
    };
    view! {
        <super::HeadMeta name="podterm-socket" content=socket/>
        <super::HeadMeta name="podterm-session" content=session/>
    }
}

#[cfg(feature = "hydrate")]
pub use hydrate::*;

#[cfg(feature = "hydrate")]
mod hydrate {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    use web_sys::WebSocket;

    use crate::app::xterm::TerminalHandle;

    #[wasm_bindgen(js_namespace = podtermXterm)]
    extern "C" {
        #[wasm_bindgen(catch, js_name = takeEarly)]
        fn take_early(element: &web_sys::HtmlElement) -> Result<Option<EarlyStart>, JsValue>;
    }

    #[wasm_bindgen]
    extern "C" {
        /// A terminal and its WebSocket that the page started before the wasm loaded.
        pub type EarlyStart;

        #[wasm_bindgen(method, getter)]
        pub fn terminal(this: &EarlyStart) -> TerminalHandle;
        #[wasm_bindgen(method, getter)]
        pub fn socket(this: &EarlyStart) -> WebSocket;
        /// The session the socket resumes, when it resumes one.
        #[wasm_bindgen(method, getter)]
        pub fn resume(this: &EarlyStart) -> Option<String>;
        /// Output bytes already written to the terminal.
        #[wasm_bindgen(method, getter)]
        pub fn shown(this: &EarlyStart) -> f64;
        /// Detaches the page's listeners; returns the socket's events so far, in order.
        #[wasm_bindgen(method)]
        pub fn adopt(this: &EarlyStart) -> js_sys::Array;
    }

    /// The terminal the page already started inside `element`, if it did.
    pub fn take(element: &web_sys::HtmlElement) -> Option<EarlyStart> {
        take_early(element).ok().flatten()
    }

    /// Goes through the events the early start kept, in order, with the handlers the
    /// socket has now.
    pub fn replay(events: &js_sys::Array, socket: &WebSocket) {
        for event in events.iter() {
            let event: web_sys::Event = event.unchecked_into();
            let handler = match event.type_().as_str() {
                "open" => socket.onopen(),
                "message" => socket.onmessage(),
                "close" => socket.onclose(),
                _ => None,
            };
            if let Some(handler) = handler {
                let _ = handler.call1(&JsValue::NULL, &event);
            }
        }
    }
}
