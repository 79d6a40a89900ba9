#![recursion_limit = "256"]
//! podterm: a web terminal for Kubernetes pods.
//!
//! The data path: the browser (`app`, hydrated) speaks the `protocol` to the server
//! (`server`, ssr only), which relays to the cluster through kube-rs.

pub mod app;
pub mod files;
pub mod model;
pub mod names;
pub mod protocol;
#[cfg(feature = "ssr")]
pub mod server;

/// Room for wasm-split (`cargo leptos build --split`) to lay out the read-only data of the
/// wasm's parts. It gives each part the data its code uses, each part's aligned; where that
/// comes out longer than the linker's data segment, it gives up and puts all of it in the
/// main part, the dashboard's and the later parts' text with it (75 KB more in the first
/// load, from a change anywhere that moves the padding by a few bytes). Nothing reads this
/// and no part uses it, so wasm-split leaves it out: it only makes the segment longer.
#[cfg(feature = "hydrate")]
#[used]
static SPLIT_DATA_ROOM: [u8; 1024] = [0xa5; 1024];

/// The browser entry point: hydrates the server-rendered page.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    // Server functions live under the prefix too.
    leptos::server_fn::client::set_server_url(app::read_base_from_page());
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let (Some(body), Some(root)) = (document.body(), document.document_element()) else {
        return;
    };
    // Asynchronous: each page is its own part of the wasm, loaded before it hydrates.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async move {
        leptos::mount::hydrate_from_async(body, app::App)
            .await
            .forget();
        // Until this is set, controls are server-rendered HTML only; tests and styles wait
        // for it.
        let _ = root.set_attribute("data-hydrated", "");
    });
}
