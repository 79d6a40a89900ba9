//! Bindings to the xterm.js bridge (public/js/xterm-bridge.mjs), which the page loads before
//! the wasm and which publishes its functions as `globalThis.podtermXterm`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_namespace = podtermXterm)]
extern "C" {
    #[wasm_bindgen(catch, js_name = createTerminal)]
    fn create_terminal(element: &web_sys::HtmlElement) -> Result<TerminalHandle, JsValue>;
}

#[wasm_bindgen]
extern "C" {
    pub type TerminalHandle;

    #[wasm_bindgen(method)]
    pub fn write(this: &TerminalHandle, bytes: &[u8]);
    /// Like `write`, and calls `callback` once xterm.js has processed these bytes.
    #[wasm_bindgen(method, js_name = writeWithCallback)]
    pub fn write_with_callback(
        this: &TerminalHandle,
        bytes: &[u8],
        callback: &Closure<dyn FnMut()>,
    );
    #[wasm_bindgen(method, js_name = writeText)]
    pub fn write_text(this: &TerminalHandle, text: &str);
    /// Also receives the keys typed before it was called.
    #[wasm_bindgen(method, js_name = onData)]
    pub fn on_data(this: &TerminalHandle, callback: &Closure<dyn FnMut(String)>);
    #[wasm_bindgen(method, js_name = onBinary)]
    pub fn on_binary(this: &TerminalHandle, callback: &Closure<dyn FnMut(String)>);
    #[wasm_bindgen(method, js_name = onResize)]
    pub fn on_resize(this: &TerminalHandle, callback: &Closure<dyn FnMut(u16, u16)>);
    #[wasm_bindgen(method)]
    pub fn fit(this: &TerminalHandle);
    #[wasm_bindgen(method)]
    pub fn cols(this: &TerminalHandle) -> u16;
    #[wasm_bindgen(method)]
    pub fn rows(this: &TerminalHandle) -> u16;
    #[wasm_bindgen(method)]
    pub fn focus(this: &TerminalHandle);
    #[wasm_bindgen(method, js_name = setScreenReaderMode)]
    pub fn set_screen_reader_mode(this: &TerminalHandle, on: bool);
    /// Whether the data being handed over was typed or pasted by the person (not the
    /// terminal answering a program).
    #[wasm_bindgen(method, js_name = byPerson)]
    pub fn by_person(this: &TerminalHandle) -> bool;
    #[wasm_bindgen(method, js_name = applicationCursor)]
    pub fn application_cursor(this: &TerminalHandle) -> bool;
    #[wasm_bindgen(method)]
    pub fn dispose(this: &TerminalHandle);
}

/// Creates a terminal inside `element`.
pub fn create(element: &web_sys::HtmlElement) -> Result<TerminalHandle, String> {
    create_terminal(element).map_err(|e| js_message(&e))
}

/// The message of a thrown JS value.
pub fn js_message(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
