//! Bindings to the xterm.js bridge (src/app/xterm_bridge.js), loaded as a wasm-bindgen snippet.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/src/app/xterm_bridge.js")]
extern "C" {
    #[wasm_bindgen(catch, js_name = createTerminal)]
    async fn create_terminal(
        element: &web_sys::HtmlElement,
        asset_base: &str,
    ) -> Result<JsValue, JsValue>;

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
    #[wasm_bindgen(method)]
    pub fn dispose(this: &TerminalHandle);
}

/// Where the server serves xterm.js and its addons.
/// Under the site's base path.
pub const ASSETS: &str = "/vendor/xterm";

/// Creates a terminal inside `element`.
pub async fn create(element: &web_sys::HtmlElement) -> Result<TerminalHandle, String> {
    let handle = create_terminal(element, &format!("{}{ASSETS}", super::base()))
        .await
        .map_err(|e| js_message(&e))?;
    Ok(handle.unchecked_into())
}

/// The message of a thrown JS value.
pub fn js_message(value: &JsValue) -> String {
    value
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.message()))
        .or_else(|| value.as_string())
        .unwrap_or_else(|| "unknown error".into())
}
