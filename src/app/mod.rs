//! The browser side: the dashboard page, the deep-link terminal page, and the components
//! they are made of. Rendered on the server, then hydrated.

pub mod api;
mod dashboard;
mod deep_link;
mod pod_list;
#[cfg(feature = "hydrate")]
mod session;
mod target;
mod terminal;
#[cfg(feature = "hydrate")]
mod xterm;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::SsrMode;
use leptos_router::components::{Route, Router, Routes};
use leptos_router::path;

pub use target::Target;

/// The HTML document around the app. Its hydration scripts carry the nonce the server's
/// Content-Security-Policy names (see `server::headers`).
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <AutoReload options=options.clone()/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    #[cfg(feature = "hydrate")]
    session::guard_page_unload();
    view! {
        <Stylesheet id="leptos" href="/pkg/podterm.css"/>
        <Stylesheet id="xterm" href="/vendor/xterm/xterm.css"/>
        <Title text="podterm"/>
        <Router>
            <Routes fallback=|| view! { <p class="page-message">"There is no such page. " <a href="/">"Back to the dashboard"</a></p> }>
                <Route path=path!("/") view=dashboard::DashboardPage ssr=SsrMode::Async/>
                <Route path=path!("/terminal") view=deep_link::TerminalPage ssr=SsrMode::Async/>
            </Routes>
        </Router>
    }
}
