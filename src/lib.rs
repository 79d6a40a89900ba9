#![recursion_limit = "256"]
//! podterm: a web terminal for Kubernetes pods.
//!
//! The data path: the browser (`app`, hydrated) speaks the `protocol` to the server
//! (`server`, ssr only), which relays to the cluster through kube-rs.

pub mod app;
pub mod model;
pub mod protocol;
#[cfg(feature = "ssr")]
pub mod server;

/// The browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Server functions live under the prefix too.
    leptos::server_fn::client::set_server_url(app::read_base_from_page());
    leptos::mount::hydrate_body(app::App);
    // Until this is set, controls are server-rendered HTML only; tests and styles wait for it.
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = root.set_attribute("data-hydrated", "");
    }
}
