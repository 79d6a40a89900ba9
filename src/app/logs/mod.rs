//! A container's log, in a tab beside the terminals: followed as it grows or read as it
//! is, the previous instance, the last lines or the last minutes, timestamps, wrapping, a
//! filter that marks (or keeps only) matching lines, a download of what is shown.
//!
//! The view holds at most `lines::MAX_LINES` lines (and `lines::MAX_BYTES` of them), the
//! oldest dropped. The page reads podterm's `GET /api/logs/…` as a stream (`stream`); the
//! reads (`reader`) carry on after a dropped connection from the last line's timestamp,
//! leaving out the lines the view has (`lines::Resume`); lines are drawn with their ANSI
//! colours (`ansi`) and the filter's marks (`filter`) by `screen`, which keeps the view at
//! the end unless the person scrolled up.

// What reads and draws the lines runs in the page only (the server renders the controls);
// the parts without the browser are tested on both sides.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod ansi;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod filter;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod lines;
#[cfg(feature = "hydrate")]
mod reader;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod request;
#[cfg(feature = "hydrate")]
mod screen;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod stamp;
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
mod state;
#[cfg(feature = "hydrate")]
mod stream;

use leptos::html::Div;
use leptos::prelude::*;

use crate::model::Target;
use request::{Since, Tail};
use state::{Counts, LogState, tally};

/// The name of the file a download saves: the pod's and the container's.
fn file_name(target: &Target, previous: bool) -> String {
    let previous = if previous { "_previous" } else { "" };
    format!("{}_{}{previous}.log", target.pod, target.container)
}

/// How long typing pauses before the filter is applied to every line.
#[cfg(feature = "hydrate")]
const FILTER_PAUSE: std::time::Duration = std::time::Duration::from_millis(120);

/// A container's log. `visible`: its tab is shown.
#[component]
pub fn LogsView(target: Target, #[prop(into)] visible: Signal<bool>) -> impl IntoView {
    let state = RwSignal::new(LogState::Starting);
    let counts = RwSignal::new(Counts::default());
    let unseen = RwSignal::new(0usize);
    let follow = RwSignal::new(true);
    let previous = RwSignal::new(false);
    let tail = RwSignal::new(Tail::DEFAULT);
    let since = RwSignal::new(Since::All);
    let timestamps = RwSignal::new(false);
    let wrap = RwSignal::new(true);
    let typed = RwSignal::new(String::new());
    let only = RwSignal::new(false);
    let host = NodeRef::<Div>::new();
    #[cfg(feature = "hydrate")]
    let options = move || request::Options {
        follow: follow.get_untracked(),
        previous: previous.get_untracked(),
        tail: tail.get_untracked(),
        since: since.get_untracked(),
    };

    #[cfg(feature = "hydrate")]
    let reader = hydrate::start(hydrate::Wiring {
        target: target.clone(),
        host,
        state,
        counts,
        unseen,
        follow,
        previous,
        tail,
        since,
        typed,
        only,
        visible,
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (visible, unseen);

    let on_scroll = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(r) = reader.get_value() {
            r.screen.scrolled();
        }
    };
    let to_end = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(r) = reader.get_value() {
            r.screen.to_end();
        }
    };
    let retry = move |_| {
        #[cfg(feature = "hydrate")]
        if let Some(r) = reader.get_value() {
            r.carry_on(options());
        }
    };
    let save_as = {
        let target = target.clone();
        move || {
            format!(
                "Save the lines shown as {}",
                file_name(&target, previous.get())
            )
        }
    };
    let download = {
        let target = target.clone();
        move |_| {
            let name = file_name(&target, previous.get_untracked());
            #[cfg(feature = "hydrate")]
            if let Some(r) = reader.get_value() {
                r.draw_now();
                let text = r.screen.text(&r.store.borrow(), timestamps.get_untracked());
                if let Err(e) = screen::download(&name, &text) {
                    leptos::logging::warn!("podterm: the download failed: {e}");
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = name;
        }
    };
    let filtering = move || !filter::Filter::new(&typed.get()).is_empty();
    let note = move || {
        if counts.with(|c| c.lines > 0) {
            if only.get() && filtering() && counts.with(|c| c.matching == 0) {
                return Some("No line matches the filter.");
            }
            return None;
        }
        state.with(|s| s.empty_note(since.get() != Since::All))
    };
    let failure = move || match state.get() {
        LogState::Failed(failure) => Some(failure),
        _ => None,
    };
    let namespace = target.namespace.clone();
    let login = format!("{}/login", super::base());
    let title = target.title();
    view! {
        <section class="log-pane" data-pod=target.pod.clone() data-container=target.container.clone()>
            <header class="terminal-bar">
                <span class="terminal-title">{title} <span class="log-word">" · log"</span></span>
                <span class=move || state.with(LogState::css) data-testid="log-status">
                    {move || state.with(LogState::describe)}
                </span>
                <Show when=move || state.with(LogState::may_read_on) && !previous.get()>
                    <button class="button small" title="Read the lines written since the last one shown"
                        on:click=retry>"Read on"</button>
                </Show>
                <span class="terminal-actions">
                    <button class="button small" title=save_as on:click=download>"Download"</button>
                </span>
            </header>
            <div class="log-controls">
                <label class="check" title="New lines show as the container writes them">
                    <input type="checkbox" prop:checked=move || follow.get() prop:disabled=move || previous.get()
                        on:change=move |ev| follow.set(event_target_checked(&ev))/>
                    "Follow"
                </label>
                <label class="check" title="The instance before the container's last restart">
                    <input type="checkbox" prop:checked=move || previous.get()
                        on:change=move |ev| previous.set(event_target_checked(&ev))/>
                    "Previous instance"
                </label>
                <label class="field">
                    <span>"Lines"</span>
                    <select aria-label="Lines" on:change=move |ev| tail.set(Tail::from_value(&event_target_value(&ev)))>
                        {Tail::CHOICES.into_iter().map(|t| view! {
                            <option value=t.value() selected=move || tail.get() == t>{t.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"Since"</span>
                    <select aria-label="Since" on:change=move |ev| since.set(Since::from_value(&event_target_value(&ev)))>
                        {Since::CHOICES.into_iter().map(|s| view! {
                            <option value=s.value() selected=move || since.get() == s>{s.label()}</option>
                        }).collect_view()}
                    </select>
                </label>
                <label class="check">
                    <input type="checkbox" prop:checked=move || timestamps.get()
                        on:change=move |ev| timestamps.set(event_target_checked(&ev))/>
                    "Timestamps"
                </label>
                <label class="check">
                    <input type="checkbox" prop:checked=move || wrap.get()
                        on:change=move |ev| wrap.set(event_target_checked(&ev))/>
                    "Wrap"
                </label>
                <input class="log-filter" type="search" placeholder="Filter lines" aria-label="Filter lines"
                    autocomplete="off" prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))/>
                <label class="check">
                    <input type="checkbox" prop:checked=move || only.get()
                        on:change=move |ev| only.set(event_target_checked(&ev))/>
                    "Only matches"
                </label>
            </div>
            <p class="log-count" aria-live="polite">{move || tally(counts.get(), filtering())}</p>
            {move || failure().map(|failure| {
                let detail = super::upper_first(&failure.message);
                let next = failure.next_step(previous.get_untracked(), &namespace);
                let retry_button = failure.may_retry().then(|| view! {
                    <button class="button small" on:click=retry>"Retry"</button>
                });
                let login_link = (failure.status == 401).then(|| view! {
                    <a class="button small" href=login.clone()>"Log in again"</a>
                });
                let headline = failure.headline();
                view! {
                    <div class="log-failure error-box" role="alert">
                        <strong>{headline}</strong>
                        {(!detail.is_empty()).then(|| view! { <p>{detail}</p> })}
                        <p class="next-step">{next}</p>
                        {retry_button}
                        {login_link}
                    </div>
                }
            })}
            <div class="log-body">
                <div class="log-lines" class:with-time=move || timestamps.get() class:wrap=move || wrap.get()
                    node_ref=host tabindex="0" role="log" aria-label="Log lines" on:scroll=on_scroll></div>
                {move || note().map(|text| view! { <p class="log-note">{text}</p> })}
                <Show when=move || unseen.get() != 0>
                    <button class="log-unseen button" on:click=to_end>
                        {move || match unseen.get() { 1 => "1 new line ↓".to_string(), n => format!("{} new lines ↓", super::pod_list::count(n)) }}
                    </button>
                </Show>
            </div>
        </section>
    }
}

/// The view's reader, started once its box exists and started again when the options that
/// choose the lines change.
#[cfg(feature = "hydrate")]
mod hydrate {
    use std::rc::Rc;

    use leptos::html::Div;
    use leptos::leptos_dom::helpers::TimeoutHandle;
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;

    use super::filter::Filter;
    use super::reader::Reader;
    use super::request::{Options, Since, Tail};
    use super::screen::Screen;
    use super::state::{Counts, LogState};
    use crate::model::Target;

    pub struct Wiring {
        pub target: Target,
        pub host: NodeRef<Div>,
        pub state: RwSignal<LogState>,
        pub counts: RwSignal<Counts>,
        pub unseen: RwSignal<usize>,
        pub follow: RwSignal<bool>,
        pub previous: RwSignal<bool>,
        pub tail: RwSignal<Tail>,
        pub since: RwSignal<Since>,
        pub typed: RwSignal<String>,
        pub only: RwSignal<bool>,
        pub visible: Signal<bool>,
    }

    pub fn start(w: Wiring) -> StoredValue<Option<Rc<Reader>>, LocalStorage> {
        let reader = StoredValue::new_local(None::<Rc<Reader>>);
        let Wiring {
            target,
            host,
            state,
            counts,
            unseen,
            follow,
            previous,
            tail,
            since,
            typed,
            only,
            visible,
        } = w;
        // A new read whenever what chooses the lines changes (the first once the box is there).
        Effect::new(move |_| {
            let options = Options {
                follow: follow.get_untracked(),
                previous: previous.get(),
                tail: tail.get(),
                since: since.get(),
            };
            let Some(element) = host.get() else { return };
            let r = match reader.get_value() {
                Some(r) => r,
                None => {
                    let element: web_sys::HtmlElement = element.unchecked_into();
                    let screen = Screen::new(element, unseen);
                    let r = Reader::new(target.clone(), screen, state, counts);
                    reader.set_value(Some(r.clone()));
                    r
                }
            };
            r.start(options);
        });
        // Follow off stops the read, keeping the lines; on again reads on from the last one.
        Effect::new(move |before: Option<bool>| {
            let on = follow.get();
            if before.is_some_and(|b| b != on)
                && !previous.get_untracked()
                && let Some(r) = reader.get_value()
            {
                let options = Options {
                    follow: on,
                    previous: false,
                    tail: tail.get_untracked(),
                    since: since.get_untracked(),
                };
                if on {
                    r.carry_on(options);
                } else {
                    r.pause();
                }
            }
            on
        });
        // The filter, once typing pauses.
        let timer = StoredValue::new_local(None::<TimeoutHandle>);
        Effect::new(move |first: Option<()>| {
            let (filter, only) = (Filter::new(&typed.get()), only.get());
            if first.is_none() {
                return;
            }
            if let Some(t) = timer.try_update_value(Option::take).flatten() {
                t.clear();
            }
            let apply = move || {
                if let Some(r) = reader.get_value() {
                    r.screen.redraw(&mut r.store.borrow_mut(), filter, only);
                    r.show_counts();
                }
            };
            if let Ok(handle) =
                leptos::leptos_dom::helpers::set_timeout_with_handle(apply, super::FILTER_PAUSE)
            {
                timer.set_value(Some(handle));
            }
        });
        // Shown again at the end, if it was there: a hidden box does not scroll.
        Effect::new(move |_| {
            if visible.get()
                && let Some(r) = reader.get_value()
                && r.screen.sticks()
            {
                request_animation_frame(move || {
                    if let Some(r) = reader.try_get_value().flatten() {
                        r.screen.to_end();
                    }
                });
            }
        });
        on_cleanup(move || {
            if let Some(t) = timer.try_update_value(Option::take).flatten() {
                t.clear();
            }
            if let Some(r) = reader.try_get_value().flatten() {
                r.stop();
            }
        });
        reader
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn downloads_are_named_after_the_pod_and_container() {
        let target = Target {
            context: None,
            namespace: "shop".into(),
            pod: "web-7d4b9c6f5-abcde".into(),
            container: "log-shipper".into(),
        };
        assert_eq!(
            file_name(&target, false),
            "web-7d4b9c6f5-abcde_log-shipper.log"
        );
        assert_eq!(
            file_name(&target, true),
            "web-7d4b9c6f5-abcde_log-shipper_previous.log"
        );
    }
}
