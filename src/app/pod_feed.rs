//! The pod list's live feed, in the page: follows the server's pod feed (server-sent
//! events) for the window the filter box and "show more" describe, and keeps the page's
//! address in step with it.

use leptos::prelude::*;

use crate::model::{PodWindow, WINDOW_STEP, normalize_filter};

/// Follows the server's pod feed for this namespace while the list is shown, asking for
/// the window the filter box and "show more" describe: at once, then again (after a short
/// pause in typing) whenever they change.
pub fn follow(
    context: Option<String>,
    namespace: String,
    filter: RwSignal<String>,
    limit: RwSignal<usize>,
    live: RwSignal<PodWindow>,
    problem: RwSignal<Option<String>>,
) {
    use leptos::leptos_dom::helpers::{TimeoutHandle, set_timeout_with_handle};
    use std::time::Duration;

    /// How long typing pauses before the server is asked.
    const PAUSE: Duration = Duration::from_millis(150);

    let feed = StoredValue::new_local(None::<Feed>);
    let asked = StoredValue::new(None::<(String, usize)>);
    let timer = StoredValue::new_local(None::<TimeoutHandle>);
    Effect::new(move |_| {
        let wanted = (normalize_filter(&filter.get()), limit.get());
        if let Some(timer) = timer.try_update_value(Option::take).flatten() {
            timer.clear();
        }
        if asked.with_value(|a| a.as_ref() == Some(&wanted)) {
            return;
        }
        let first = asked.with_value(Option::is_none);
        let (context, namespace) = (context.clone(), namespace.clone());
        let connect = move || {
            asked.set_value(Some(wanted.clone()));
            let url = feed_url(context.as_deref(), &namespace, &wanted.0, wanted.1);
            // The old feed closes as the new one takes its place.
            feed.set_value(Feed::open(&url, live, problem));
            if !first {
                let typed = filter.get_untracked();
                show_in_address(context.as_deref(), &namespace, &typed, wanted.1);
            }
        };
        if first {
            connect();
        } else if let Ok(handle) = set_timeout_with_handle(connect, PAUSE) {
            timer.set_value(Some(handle));
        }
    });
    on_cleanup(move || {
        if let Some(timer) = timer.try_update_value(Option::take).flatten() {
            timer.clear();
        }
        feed.try_set_value(None);
    });
}

/// Puts the list's filter and length in the page's address, in place of the current entry,
/// so a reload or a copied link shows the same list. The router is not told: the page
/// already shows that list, and the dashboard's data would load again.
fn show_in_address(context: Option<&str>, namespace: &str, filter: &str, limit: usize) {
    let limit = (limit != WINDOW_STEP).then_some(limit);
    let url = format!(
        "{}/?{}",
        super::base(),
        list_query(context, namespace, filter, limit)
    );
    if let Some(history) = web_sys::window().and_then(|w| w.history().ok()) {
        let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(&url));
    }
}

fn feed_url(context: Option<&str>, namespace: &str, filter: &str, limit: usize) -> String {
    format!(
        "{}/api/pods/watch?{}",
        super::base(),
        list_query(context, namespace, filter, Some(limit))
    )
}

/// The query that names a list: as the dashboard's forms send it and the feed reads it.
fn list_query(
    context: Option<&str>,
    namespace: &str,
    filter: &str,
    limit: Option<usize>,
) -> String {
    use crate::protocol::encode;
    let mut query = format!("namespace={}", encode(namespace));
    if let Some(context) = context {
        query.push_str(&format!("&context={}", encode(context)));
    }
    if !filter.trim().is_empty() {
        query.push_str(&format!("&filter={}", encode(filter)));
    }
    if let Some(limit) = limit {
        query.push_str(&format!("&limit={limit}"));
    }
    query
}

/// One connection to the pod feed; closed when dropped.
struct Feed {
    source: web_sys::EventSource,
    _window: wasm_bindgen::prelude::Closure<dyn FnMut(web_sys::MessageEvent)>,
    _counts: wasm_bindgen::prelude::Closure<dyn FnMut(web_sys::MessageEvent)>,
    _problem: wasm_bindgen::prelude::Closure<dyn FnMut(web_sys::MessageEvent)>,
    _error: wasm_bindgen::prelude::Closure<dyn FnMut(web_sys::Event)>,
}

impl Feed {
    fn open(
        url: &str,
        live: RwSignal<PodWindow>,
        problem: RwSignal<Option<String>>,
    ) -> Option<Self> {
        use crate::model::PodCounts;
        use wasm_bindgen::JsCast;
        use wasm_bindgen::prelude::Closure;
        use web_sys::{Event, EventSource, MessageEvent};

        let source = EventSource::new(url).ok()?;
        let window = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string()
                && let Ok(window) = serde_json::from_str::<PodWindow>(&text)
            {
                problem.set(window.problem.clone());
                live.set(window);
            }
        });
        let counts = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            if let Some(text) = event.data().as_string()
                && let Ok(counts) = serde_json::from_str::<PodCounts>(&text)
            {
                live.update(|w| (w.matching, w.total) = (counts.matching, counts.total));
            }
        });
        let said = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            problem.set(event.data().as_string());
        });
        let watched = source.clone();
        let error = Closure::<dyn FnMut(Event)>::new(move |_: Event| {
            // The browser reconnects by itself unless the server refused the feed.
            problem.set(Some(if watched.ready_state() == EventSource::CLOSED {
                "podterm refused the live feed; reload the page.".into()
            } else {
                "lost the connection to podterm; reconnecting…".into()
            }));
        });
        let _ = source.add_event_listener_with_callback("window", window.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("counts", counts.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("problem", said.as_ref().unchecked_ref());
        let _ = source.add_event_listener_with_callback("error", error.as_ref().unchecked_ref());
        Some(Self {
            source,
            _window: window,
            _counts: counts,
            _problem: said,
            _error: error,
        })
    }
}

impl Drop for Feed {
    fn drop(&mut self) {
        self.source.close();
    }
}
