//! The strip of tabs above the panes: each tab's place, name and where it runs; renaming
//! (a double click, F2 or the shortcut), reordering (dragging, or the shortcut), the list
//! of every tab when they do not fit, and "End this shell?" before a live one closes.

use leptos::html::Input;
use leptos::prelude::*;

use super::tabs::{Content, Tabs};

/// The tabs. `here`: the context and namespace the page shows; tabs of others are marked.
#[component]
pub fn TabList(tabs: Tabs, here: RwSignal<Option<(String, String)>>) -> impl IntoView {
    let Tabs {
        list,
        active,
        slots,
        renaming,
        ..
    } = tabs;
    // The active tab stays in view, however many there are.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if active.get().is_some() {
            request_animation_frame(reveal_active_tab);
        }
    });
    // The tab being dragged to another place.
    let dragging = RwSignal::new(None::<u32>);
    let several_panes = move || slots.with(|s| s.len() > 1);
    view! {
        <nav class="tabs" role="tablist" aria-label="Open terminals, logs and files">
            <For each=move || list.get() key=|tab| tab.id let:tab>
                {
                    let id = tab.id;
                    let label = tab.label();
                    let name = tab.name;
                    let shown = {
                        let label = label.clone();
                        move || name.get().unwrap_or_else(|| label.clone())
                    };
                    let target = tab.content.target().clone();
                    let context = target.context.clone().unwrap_or_default();
                    let elsewhere = {
                        let context = context.clone();
                        move || here.with(|h| h.as_ref().is_some_and(|(c, _)| *c != context))
                    };
                    let where_ = {
                        let (context, namespace) = (context.clone(), target.namespace.clone());
                        let elsewhere = elsewhere.clone();
                        move || if elsewhere() { format!("{context} · {namespace}") } else { namespace.clone() }
                    };
                    let title = {
                        let (label, namespace) = (label.clone(), target.namespace.clone());
                        move || {
                            let named = name.get().map(|n| format!("{n}: ")).unwrap_or_default();
                            format!("{named}{label} in namespace {namespace} of {context}. Double click or F2 to rename, drag to move.")
                        }
                    };
                    let close_label = match tab.content {
                        Content::Shell(_) => "Close this terminal",
                        Content::Log(_) => "Close this log",
                        Content::Files(_) => "Close these files",
                    };
                    // Which pane shows it, when the view is split.
                    let pane = move || several_panes().then(|| tabs.pane_of(id)).flatten().map(|p| p + 1);
                    view! {
                        <div class="tab" class:active=move || active.get() == Some(id) class:elsewhere=elsewhere
                            class:in-pane=move || pane().is_some() class:broadcast=move || tab.broadcast.get() class:dragging=move || dragging.get() == Some(id)
                            data-tab=id.to_string() role="tab" aria-selected=move || (active.get() == Some(id)).to_string() title=title
                            draggable="true"
                            on:dragstart=move |ev| {
                                dragging.set(Some(id));
                                #[cfg(feature = "hydrate")]
                                if let Some(data) = ev.data_transfer() {
                                    // Firefox drags nothing without data.
                                    let _ = data.set_data("text/plain", &name.get_untracked().unwrap_or_default());
                                    data.set_effect_allowed("move");
                                }
                                #[cfg(not(feature = "hydrate"))]
                                let _ = ev;
                            }
                            on:dragover=move |ev| { if dragging.get_untracked().is_some() { ev.prevent_default() } }
                            on:drop=move |ev| {
                                if let Some(moved) = dragging.get_untracked() {
                                    ev.prevent_default();
                                    let to = tabs.ids().iter().position(|i| *i == id);
                                    if let Some(to) = to && moved != id {
                                        tabs.move_to(moved, to);
                                    }
                                }
                                dragging.set(None);
                            }
                            on:dragend=move |_| dragging.set(None)>
                            <Show when=move || renaming.get() == Some(id) fallback=move || view! {
                                <button class="tab-title" on:click=move |_| tabs.show(id)
                                    on:dblclick=move |_| renaming.set(Some(id))
                                    on:keydown=move |ev| { if ev.key() == "F2" { ev.prevent_default(); renaming.set(Some(id)); } }>
                                    {move || pane().map(|p| view! { <span class="tab-pane" title=format!("Shown in pane {p}")>{p}</span> })}
                                    <span class="tab-where">{where_.clone()}</span>
                                    <span class="tab-name">{shown.clone()}</span>
                                </button>
                            }>
                                <Rename tabs id label=label.clone()/>
                            </Show>
                            <button class="tab-close" aria-label=close_label on:click=move |_| tabs.ask_to_close(id)>"×"</button>
                        </div>
                    }
                }
            </For>
        </nav>
        <Show when=move || list.with(|t| t.len() > 1)>
            <select class="tab-picker" aria-label="All terminals" title="All open terminals and logs"
                on:change=move |ev| {
                    if let Ok(id) = event_target_value(&ev).parse::<u32>() {
                        tabs.show(id);
                    }
                }
                prop:value=move || active.get().map(|id| id.to_string()).unwrap_or_default()>
                {move || {
                    let count = list.with(Vec::len);
                    list.get().into_iter().enumerate().map(|(i, tab)| {
                        let text = format!("{}/{count} · {} · {}", i + 1, tab.content.target().namespace, tab.shown_name());
                        view! { <option value=tab.id.to_string() selected=move || active.get() == Some(tab.id)>{text}</option> }
                    }).collect_view()
                }}
            </select>
        </Show>
    }
}

/// The name field of a tab being renamed: Enter keeps the name, Esc the old one; an empty
/// name gives the tab podterm's name back.
#[component]
fn Rename(tabs: Tabs, id: u32, label: String) -> impl IntoView {
    let field = NodeRef::<Input>::new();
    let name = tabs
        .list
        .with_untracked(|t| t.iter().find(|tab| tab.id == id).map(|tab| tab.name));
    let current = name.and_then(|n| n.get_untracked());
    let done = move |keep: bool| {
        if tabs.renaming.get_untracked() != Some(id) {
            return;
        }
        if keep && let (Some(name), Some(field)) = (name, field.get_untracked()) {
            let typed = field.value().trim().to_string();
            name.set(Some(typed).filter(|t| !t.is_empty()));
        }
        tabs.renaming.set(None);
        #[cfg(feature = "hydrate")]
        request_animation_frame(move || focus_tab_title(id));
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(field) = field.get() {
            let _ = field.focus();
            field.select();
        }
    });
    view! {
        <input class="tab-rename" node_ref=field aria-label=format!("New name for {label}")
            placeholder=label.clone() value=current.unwrap_or_else(|| label.clone())
            on:keydown=move |ev| match ev.key().as_str() {
                "Enter" => { ev.prevent_default(); done(true) }
                "Escape" => { ev.prevent_default(); ev.stop_propagation(); done(false) }
                _ => {}
            }
            on:blur=move |_| done(true)/>
    }
}

/// "End this shell?" (or "Stop the uploads?") before a tab with a live shell closes.
#[component]
pub fn CloseConfirm(tabs: Tabs) -> impl IntoView {
    let Tabs { list, closing, .. } = tabs;
    let asking = move || {
        closing.get().and_then(|id| {
            list.with(|t| {
                t.iter()
                    .find(|tab| tab.id == id)
                    .and_then(|tab| match &tab.content {
                        Content::Shell(terminal) => Some((tab.shown_name(), terminal.closing_words())),
                        Content::Files(_) => Some((
                            tab.shown_name(),
                            (" stops its uploads; podterm removes what was sent of the file on its way.", "Stop the uploads"),
                        )),
                        Content::Log(_) => None,
                    })
            })
        })
    };
    move || {
        asking().map(|(label, (closing_words, button))| {
            view! {
                <div class="close-confirm" role="alertdialog" aria-label="End this shell?">
                    <span>"Closing " <strong>{label}</strong> {closing_words}</span>
                    <button class="button small danger" on:click=move |_| {
                        if let Some(id) = closing.get_untracked() {
                            tabs.close(id);
                        }
                    }>{button}</button>
                    <button class="button small" on:click=move |_| closing.set(None)>"Keep it"</button>
                </div>
            }
        })
    }
}

/// Puts the keyboard on a tab's title (after renaming it).
#[cfg(feature = "hydrate")]
fn focus_tab_title(id: u32) {
    use wasm_bindgen::JsCast;
    let selector = format!(".tabs .tab[data-tab=\"{id}\"] .tab-title");
    if let Some(title) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.query_selector(&selector).ok().flatten())
        .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    {
        let _ = title.focus();
    }
}

/// Scrolls the tab strip so that the active tab shows.
#[cfg(feature = "hydrate")]
fn reveal_active_tab() {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    let found = |selector: &str| {
        document
            .query_selector(selector)
            .ok()
            .flatten()
            .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
    };
    let (Some(strip), Some(tab)) = (found(".tabs"), found(".tabs .tab.active")) else {
        return;
    };
    let (left, width) = (tab.offset_left(), tab.offset_width());
    let (scrolled, shown) = (strip.scroll_left(), strip.client_width());
    if left < scrolled {
        strip.set_scroll_left(left);
    } else if left + width > scrolled + shown {
        strip.set_scroll_left(left + width - shown);
    }
}
