//! The browser side: the dashboard page (with its terminal and log tabs), the deep-link
//! terminal page, and the components they are made of. Rendered on the server, then
//! hydrated.

pub mod api;
mod broadcast;
#[cfg(feature = "hydrate")]
mod connection;
mod dashboard;
mod deep_link;
mod early_start;
mod files;
mod keybar;
mod later;
mod logs;
mod panes;
#[cfg(feature = "hydrate")]
mod pod_feed;
mod pod_list;
mod reach;
mod requests;
#[cfg(feature = "hydrate")]
mod saved_tabs;
mod settings;
mod shortcut_list;
mod shortcuts;
mod sync_view;
mod tab_strip;
mod tabs;
mod terminal;
pub mod ways_in;
#[cfg(feature = "hydrate")]
mod xterm;

use leptos::prelude::*;
#[cfg(feature = "ssr")]
use leptos_meta::MetaTags;
use leptos_router::SsrMode;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{Lazy, LazyRoute, lazy_route, path};

use sync_view::sync_view;
pub use terminal::Terminal;

/// The path prefix podterm is served under (`""` at the root), provided by the server for
/// its render; the page reads it from its `podterm-base` meta tag.
#[derive(Debug, Clone, Default)]
pub struct BasePath(pub String);

#[cfg(feature = "hydrate")]
static CLIENT_BASE: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// Reads the prefix the server rendered into the page; once, before hydrating.
#[cfg(feature = "hydrate")]
pub fn read_base_from_page() -> &'static str {
    CLIENT_BASE.get_or_init(|| {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.query_selector("meta[name=podterm-base]").ok().flatten())
            .and_then(|m| m.get_attribute("content"))
            .unwrap_or_default()
    })
}

/// The prefix for every URL podterm hands the browser.
pub fn base() -> String {
    #[cfg(feature = "hydrate")]
    {
        read_base_from_page().to_string()
    }
    #[cfg(not(feature = "hydrate"))]
    {
        use_context::<BasePath>().map(|b| b.0).unwrap_or_default()
    }
}

/// The dashboard at a terminal's context and namespace.
pub fn dashboard_link(context: Option<&str>, namespace: &str) -> String {
    use crate::protocol::encode;
    let context = context
        .map(|c| format!("context={}&", encode(c)))
        .unwrap_or_default();
    format!("{}/?{context}namespace={}", base(), encode(namespace))
}

/// `text` with its first letter in upper case: a server's sentence as the page's own.
pub(crate) fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The HTML document around the app. Its hydration scripts carry the nonce the server's
/// Content-Security-Policy names (see `server::headers`).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    let base = base();
    // A terminal's own page starts its terminal without the wasm (see `early_start`): the
    // wasm waits until the page is idle rather than hold up the first output.
    #[cfg(feature = "ssr")]
    let defer = use_context::<http::request::Parts>()
        .is_some_and(|request| request.uri.path().ends_with("/terminal"));
    #[cfg(not(feature = "ssr"))]
    let defer = false;
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="podterm-base" content=base.clone()/>
                // The title and a terminal page's `podterm-socket`, which the next script reads.
                {
                    #[cfg(feature = "ssr")]
                    view! { <MetaTags/> }
                }
                <script nonce=use_nonce() inner_html=early_start::SCRIPT></script>
                <link rel="icon" href=format!("{base}/favicon.svg") type="image/svg+xml"/>
                // Here rather than a `Stylesheet` in `App`: the page never changes it, and
                // leptos_meta's code for it would be in the wasm. It has xterm.css in it.
                <link rel="stylesheet" id="leptos" href=format!("{base}/pkg/podterm.css")/>
                // The later parts' styles: the dashboard shows them at once; a terminal's own
                // page loads them with its later part (`later::stylesheet`).
                {(!defer).then(|| view! { <link rel="stylesheet" href=later::stylesheet_href(&base)/> })}
                // Fetched at once rather than when the bridge below imports it.
                <link rel="modulepreload" href=format!("{base}/vendor/xterm/xterm-bundle.mjs")/>
                <link rel="modulepreload" href=format!("{base}/js/terminal-settings.mjs")/>
                <link rel="modulepreload" href=format!("{base}/js/early-screen.mjs")/>
                // Before the hydration script, so it has run when the wasm needs it; on a
                // terminal's own page it starts the terminal before the wasm has loaded.
                <script type="module" src=format!("{base}/js/xterm-bridge.mjs")></script>
                <AutoReload options=options.clone()/>
                <HydrationScripts options root=base.clone() defer/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

/// The document's title: leptos_meta's on the server; on the page it is set directly, which
/// keeps leptos_meta's code out of the wasm.
#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    // The `()` on both sides: its placeholder is what the page hydrates.
    #[cfg(feature = "ssr")]
    {
        (view! { <leptos_meta::Title text/> }, ())
    }
    #[cfg(not(feature = "ssr"))]
    {
        #[cfg(feature = "hydrate")]
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&text);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    }
}

/// A `<meta>` in the document's head, for the page's scripts that run before the wasm. Only
/// the server writes it (leptos_meta's code stays out of the wasm).
#[component]
pub fn HeadMeta(name: &'static str, #[prop(into)] content: String) -> impl IntoView {
    // The `()` on both sides: its placeholder is what the page hydrates.
    #[cfg(feature = "ssr")]
    {
        (view! { <leptos_meta::Meta name content/> }, ())
    }
    #[cfg(not(feature = "ssr"))]
    {
        let _ = (name, content);
    }
}

#[component]
pub fn App() -> impl IntoView {
    #[cfg(feature = "ssr")]
    leptos_meta::provide_meta_context();
    let home = base();
    let router_base = if cfg!(feature = "hydrate") {
        home.clone()
    } else {
        String::new()
    };
    #[cfg(feature = "hydrate")]
    connection::guard_page_unload();
    view! {
        <PageTitle text="podterm"/>
        // The server routes requests with the prefix removed; the page sees it in its URL.
        <Router base=router_base>
            // Route views become `AnyView`s: see `sync_view`. (`FlatRoutes` would be ~40 KB
            // smaller, but in leptos_router 0.8.17 a route under a base path misses query
            // changes after a navigation from `{base}/` to `{base}?…`.)
            <Routes fallback=move || view! { <p class="page-message">"There is no such page. " <a href=format!("{home}/")>"Back to the dashboard"</a></p> }>
                <Route path=path!("/") view={Lazy::<DashboardRoute>::new()} ssr=SsrMode::Async/>
                <Route path=path!("/terminal") view=|| sync_view(deep_link::TerminalPage()).into_any() ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}

// The dashboard is its own part of the wasm (`cargo leptos build --split`): a terminal's own
// page does not load its code. The terminal's page is in the main part: as a lazy route it
// cost the page three more requests while it starts (the preloads of its parts) and 25 KB
// (gzip) more in all; the dashboard loads that page's code (18 KB) with the main part.

struct DashboardRoute;

#[lazy_route]
impl LazyRoute for DashboardRoute {
    fn data() -> Self {
        Self
    }

    fn view(this: Self) -> AnyView {
        let DashboardRoute = this;
        // Its styles, where a terminal's own page came first (its first load has not all).
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async {
            let _ = later::stylesheet().await;
        });
        sync_view(dashboard::DashboardPage()).into_any()
    }
}
