//! Bindings to the xterm.js bridge (public/js/xterm-bridge.mjs), which the page loads before
//! the wasm and which publishes its functions as `globalThis.podtermXterm`.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(js_namespace = podtermXterm)]
extern "C" {
    #[wasm_bindgen(catch, js_name = createTerminal)]
    fn create_terminal(element: &web_sys::HtmlElement) -> Result<TerminalHandle, JsValue>;
    /// The terminal settings (public/js/terminal-settings.mjs), as JSON.
    #[wasm_bindgen(js_name = settingsJson)]
    pub fn settings_json() -> String;
    /// Sets one setting from its text and applies it to every terminal; false when the
    /// setting does not take that value.
    #[wasm_bindgen(js_name = setSetting)]
    pub fn set_setting(name: &str, value: &str) -> bool;
    #[wasm_bindgen(js_name = resetSettings)]
    pub fn reset_settings();
    /// Whether the terminal takes a Mac's keys (the bridge's own test).
    pub fn mac() -> bool;
    /// Adds the stylesheet at `href` to the page, once; the promise settles when it has
    /// loaded or could not be.
    #[wasm_bindgen(js_name = loadStyle)]
    pub fn load_style(href: &str) -> js_sys::Promise;
}

#[wasm_bindgen]
extern "C" {
    #[derive(Clone)]
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
    /// What the terminal tells the page: `(name, detail)`, see the bridge's `onAction`.
    #[wasm_bindgen(method, js_name = onAction)]
    pub fn on_action(this: &TerminalHandle, callback: &Closure<dyn FnMut(String, String)>);
    /// `how`: "typed", "next" or "previous"; the count comes as a "results" action.
    #[wasm_bindgen(method)]
    pub fn find(this: &TerminalHandle, term: &str, case_sensitive: bool, regex: bool, how: &str);
    #[wasm_bindgen(method, js_name = clearSearch)]
    pub fn clear_search(this: &TerminalHandle);
    #[wasm_bindgen(method, js_name = hasSelection)]
    pub fn has_selection(this: &TerminalHandle) -> bool;
    #[wasm_bindgen(method, js_name = selectAll)]
    pub fn select_all(this: &TerminalHandle);
    #[wasm_bindgen(method)]
    pub fn clear(this: &TerminalHandle);
    #[wasm_bindgen(method, js_name = copySelection)]
    pub fn copy_selection(this: &TerminalHandle);
    /// Pastes the clipboard through the same path as the keys (a question first for several
    /// lines); false when the browser gives no clipboard to read.
    #[wasm_bindgen(method, js_name = pasteClipboard)]
    pub fn paste_clipboard(this: &TerminalHandle) -> bool;
    /// A paste the person confirmed.
    #[wasm_bindgen(method, js_name = pasteNow)]
    pub fn paste_now(this: &TerminalHandle, text: &str);
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
