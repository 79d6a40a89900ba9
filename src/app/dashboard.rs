//! The dashboard: cluster and namespace selectors, the live pod list, and terminal tabs.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::protocol::encode;

use super::Terminal;
use super::api::{Dashboard, load_dashboard};
use super::pod_list::PodList;
use super::terminal::TerminalView;

#[derive(Debug, Clone, PartialEq)]
struct Tab {
    id: u32,
    terminal: Terminal,
}

#[component]
pub fn DashboardPage() -> impl IntoView {
    let query = use_query_map();
    // `filter` and `limit` come from the URL only when the page is loaded or the list's
    // forms are sent without scripts; once hydrated, the list changes them itself.
    let data = Resource::new(
        move || {
            query.with(|q| {
                (
                    q.get("context"),
                    q.get("namespace"),
                    q.get("filter"),
                    q.get("limit").and_then(|l| l.parse::<usize>().ok()),
                )
            })
        },
        |(context, namespace, filter, limit)| load_dashboard(context, namespace, filter, limit),
    );
    let tabs = RwSignal::new(Vec::<Tab>::new());
    let active = RwSignal::new(None::<u32>);
    let next_id = StoredValue::new(0u32);
    let open = Callback::new(move |terminal: Terminal| {
        let existing = tabs.with_untracked(|t| {
            t.iter()
                .find(|tab| tab.terminal == terminal)
                .map(|tab| tab.id)
        });
        let id = existing.unwrap_or_else(|| {
            let id = next_id.get_value() + 1;
            next_id.set_value(id);
            tabs.update(|t| t.push(Tab { id, terminal }));
            id
        });
        active.set(Some(id));
    });
    view! {
        <div class="layout">
            <Suspense fallback=|| view! { <header class="topbar"><span class="brand">"podterm"</span></header><p class="page-message">"Loading clusters…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view_data) => view! { <Top data=view_data.clone()/><Sidebar data=view_data open/> }.into_any(),
                        Err(e) => view! {
                            <header class="topbar"><span class="brand">"podterm"</span></header>
                            <p class="page-message error">"podterm could not load the clusters: " {e.to_string()}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <Terminals tabs active/>
        </div>
    }
}

/// The bar across the top: brand, demo notice, cluster and namespace choice.
#[component]
fn Top(data: Dashboard) -> impl IntoView {
    let Dashboard {
        demo,
        contexts,
        context,
        namespaces,
        namespace,
        version,
        user,
        ..
    } = data;
    let navigate = use_navigate();
    let go = move |context: Option<String>, namespace: Option<String>| {
        let mut url = String::from("/?");
        if let Some(c) = context {
            url.push_str(&format!("context={}", encode(&c)));
        }
        if let Some(n) = namespace.filter(|n| !n.is_empty()) {
            url.push_str(&format!("&namespace={}", encode(&n)));
        }
        navigate(&url, Default::default());
    };
    let go = StoredValue::new(go);
    let context_for_namespace = context.clone();
    let namespace_choice = match namespaces {
        Ok(ns) if ns.listable => view! {
            <select name="namespace" aria-label="Namespace" on:change=move |ev| {
                go.with_value(|go| go(Some(context_for_namespace.clone()), Some(event_target_value(&ev))));
            }>
                {ns.names.into_iter().map(|n| {
                    let selected = n == namespace;
                    let label = n.clone();
                    view! { <option value=n selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        }.into_any(),
        Ok(ns) => view! {
            <input name="namespace" aria-label="Namespace" value=namespace.clone() placeholder="namespace" title=ns.note.clone().unwrap_or_default()/>
            <span class="hint">{ns.note.unwrap_or_default()}</span>
        }.into_any(),
        Err(_) => view! { <input name="namespace" aria-label="Namespace" value=namespace.clone()/> }.into_any(),
    };
    let base = super::base();
    view! {
        <header class="topbar">
            <a class="brand" href=format!("{base}/")>"podterm"</a>
            {demo.then(|| view! { <span class="demo-badge" title="podterm started its own test cluster; nothing here is a real cluster">"Demo cluster"</span> })}
            <Form method="GET" action="/">
                <label class="field">
                    <span>"Cluster"</span>
                    <select name="context" aria-label="Cluster" on:change=move |ev| go.with_value(|go| go(Some(event_target_value(&ev)), None))>
                        {contexts.into_iter().map(|c| {
                            let selected = c.name == context;
                            let label = c.name.clone();
                            view! { <option value=c.name selected=selected>{label}</option> }
                        }).collect_view()}
                    </select>
                </label>
                <label class="field">
                    <span>"Namespace"</span>
                    {namespace_choice}
                </label>
                <button class="button" type="submit">"Show"</button>
            </Form>
            <span class="user" title="Logged in as">{user}</span>
            <form method="post" action=format!("{base}/logout") class="logout"><button class="button" type="submit">"Log out"</button></form>
            <span class="version">"v" {version}</span>
        </header>
    }
}

#[component]
fn Sidebar(data: Dashboard, open: Callback<Terminal>) -> impl IntoView {
    let context = Some(data.context.clone());
    let namespace = data.namespace.clone();
    let exec_denied = data.exec_denied.clone();
    view! {
        <aside class="sidebar">
            {data.exec_denied.map(|why| view! { <p class="panel-message warn denied" role="status">{upper_first(&why)}</p> })}
            {match data.pods {
                Ok(window) => view! { <PodList window context namespace open exec_denied/> }.into_any(),
                Err(e) => view! {
                    <div class="panel-message error" role="alert">
                        <strong>"Cannot list pods in " {namespace.clone()}</strong>
                        <p>{e}</p>
                        {data.login_for.map(|wanted| {
                            let next = encode(&format!("/?context={}", encode(&wanted)));
                            let href = format!("{}/login?context={}&next={next}", super::base(), encode(&wanted));
                            view! { <a class="button" href=href>"Log in for " {wanted}</a> }
                        })}
                    </div>
                }.into_any(),
            }}
        </aside>
    }
}

#[component]
fn Terminals(tabs: RwSignal<Vec<Tab>>, active: RwSignal<Option<u32>>) -> impl IntoView {
    let close = move |id: u32| {
        tabs.update(|t| t.retain(|tab| tab.id != id));
        if active.get_untracked() == Some(id) {
            active.set(tabs.with_untracked(|t| t.last().map(|tab| tab.id)));
        }
    };
    view! {
        <main class="terminals">
            <Show when=move || tabs.with(|t| !t.is_empty()) fallback=|| view! {
                <div class="empty-state">
                    <h2>"No terminal open"</h2>
                    <p>"Pick a pod on the left to open a shell in it. Several terminals can be open at once, each in its own tab."</p>
                </div>
            }>
                <nav class="tabs" role="tablist">
                    <For each=move || tabs.get() key=|tab| tab.id let:tab>
                        <div class="tab" class:active=move || active.get() == Some(tab.id) role="tab">
                            <button class="tab-title" on:click=move |_| active.set(Some(tab.id))>{tab.terminal.target.title()}</button>
                            <button class="tab-close" aria-label="Close this terminal" on:click=move |_| close(tab.id)>"×"</button>
                        </div>
                    </For>
                </nav>
            </Show>
            <For each=move || tabs.get() key=|tab| tab.id let:tab>
                {
                    let id = tab.id;
                    let visible = Signal::derive(move || active.get() == Some(id));
                    view! {
                        <div class="tab-panel" class:hidden=move || !visible.get()>
                            <TerminalView terminal=tab.terminal visible/>
                        </div>
                    }
                }
            </For>
        </main>
    }
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
