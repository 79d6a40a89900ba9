//! What a terminal does not need for its first prompt (its tools, its uploads, the ways-in
//! guide) is a part of the wasm of its own (`cargo leptos build --split`), with a
//! stylesheet of its own: fetched a moment after the terminal connects, or when first
//! shown. A part that cannot be fetched (the network is down) says so where it would have
//! been, and is fetched again next time: it never stops the page.

use leptos::prelude::*;

/// A part of the wasm that could not be fetched.
#[derive(Debug)]
pub struct Unloaded;

impl From<leptos::wasm_split::SplitLoaderError> for Unloaded {
    fn from(_: leptos::wasm_split::SplitLoaderError) -> Self {
        Unloaded
    }
}

/// The later parts' stylesheet (public/css/later.css), under the site's prefix `base`.
pub fn stylesheet_href(base: &str) -> String {
    format!("{base}/css/later.css")
}

/// Loads the later parts' stylesheet, once (the dashboard has it in its head already). The
/// fetch starts at the call, not at the first poll.
#[cfg(feature = "hydrate")]
pub fn stylesheet() -> impl Future<Output = Result<(), Unloaded>> {
    let href = stylesheet_href(&super::base());
    let loading = wasm_bindgen_futures::JsFuture::from(super::xterm::load_style(&href));
    async move { loading.await.map(|_| ()).map_err(|_| Unloaded) }
}

/// How long after a terminal connects its later part is fetched: the page's first load is
/// over by then.
#[cfg(feature = "hydrate")]
const FETCH_AFTER: std::time::Duration = std::time::Duration::from_millis(1000);

/// On the server nothing is split (a `load` is its view at once) and futures are `Send`; in
/// the browser, one thread.
#[cfg(feature = "hydrate")]
pub trait MaybeSend {}
#[cfg(feature = "hydrate")]
impl<T> MaybeSend for T {}
#[cfg(not(feature = "hydrate"))]
pub trait MaybeSend: Send + Sync {}
#[cfg(not(feature = "hydrate"))]
impl<T: Send + Sync> MaybeSend for T {}

/// A part's view on its way.
#[cfg(feature = "hydrate")]
type Part = std::pin::Pin<Box<dyn Future<Output = Result<AnyView, Unloaded>>>>;

/// `part` with the later parts' styles, both fetched at once; one function for every part.
#[cfg(feature = "hydrate")]
fn styled(part: Part) -> Part {
    let styles = stylesheet();
    Box::pin(async move {
        let part = part.await;
        styles.await?;
        part
    })
}

/// The view `load` gives, once its part is there; where the part cannot be fetched, words
/// and a button that tries again.
pub fn show<F, Fut>(load: F) -> AnyView
where
    F: Fn() -> Fut + MaybeSend + 'static,
    Fut: Future<Output = Result<AnyView, Unloaded>> + MaybeSend + 'static,
{
    let attempt = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    let load = send_wrapper::SendWrapper::new(load);
    (move || {
        attempt.track();
        #[cfg(feature = "hydrate")]
        let loading = send_wrapper::SendWrapper::new(styled(Box::pin(load())));
        #[cfg(not(feature = "hydrate"))]
        let loading = load();
        Suspend::new(async move {
            loading.await.unwrap_or_else(|Unloaded| {
                view! {
                    <p class="part-unloaded error-box" role="alert">
                        "This part of the page could not be loaded: check your connection. "
                        <button class="button small" on:click=move |_| attempt.update(|n| *n += 1)>"Try again"</button>
                    </p>
                }
                .into_any()
            })
        })
    })
    .into_any()
}

/// Fetches the terminal's later part a moment after the page's first terminal connects,
/// so its tools open at once; once per page (again only after a failed fetch).
#[cfg(feature = "hydrate")]
pub fn fetch_soon() {
    use std::sync::atomic::{AtomicBool, Ordering};
    static ASKED: AtomicBool = AtomicBool::new(false);
    if ASKED.swap(true, Ordering::Relaxed) {
        return;
    }
    set_timeout(
        || {
            leptos::task::spawn_local(async {
                // A failure is not kept: the part is fetched again when first shown, or
                // after the next terminal connects.
                let styles = stylesheet();
                let fetched = super::terminal::fetch_tools().await.is_ok();
                let styled = styles.await.is_ok();
                if !(fetched && styled) {
                    ASKED.store(false, Ordering::Relaxed);
                }
            })
        },
        FETCH_AFTER,
    );
}
