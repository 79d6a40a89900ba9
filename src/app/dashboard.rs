//! The dashboard: cluster and namespace selectors, the live pod list (a sidebar that can be
//! hidden), and tabs of terminals, containers' logs and their files in one, two or four
//! panes (`tabs`, `tab_strip`, `panes`), with keyboard shortcuts (`shortcuts`).

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::protocol::encode;

use super::Terminal;
use super::api::{Dashboard, load_dashboard};
use super::panes::{PaneButtons, Panes};
use super::pod_list::PodList;
use super::reach::{self, ScreenReaderToggle};
use super::shortcut_list::{Help, ShortcutList};
use super::shortcuts::{Action, Keys};
use super::tab_strip::{CloseConfirm, TabList};
use super::tabs::{Content, Tabs};
use crate::model::Target;

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
    let tabs = Tabs::new();
    // The context and namespace the page shows: tabs of others are marked.
    let here = RwSignal::new(None::<(String, String)>);
    let open = Callback::new(move |terminal: Terminal| tabs.open(Content::Shell(terminal)));
    let logs = Callback::new(move |target: Target| tabs.open(Content::Log(target)));
    let files = Callback::new(move |target: Target| tabs.open(Content::Files(target)));
    provide_context(super::ways_in::Opener(open));
    provide_context(super::ways_in::LogOpener(logs));
    provide_context(super::files::FilesOpener(files));
    let sidebar_hidden = sidebar::remembered();
    let reader = reach::provide();
    let keys = Keys::new();
    let help = Help::new();
    let run = Callback::new(move |action: Action| match action {
        Action::PreviousTab => tabs.step(-1),
        Action::NextTab => tabs.step(1),
        Action::MoveTabLeft => tabs.shift_active(-1),
        Action::MoveTabRight => tabs.shift_active(1),
        Action::CloseTab => {
            if let Some(id) = tabs.active.get_untracked() {
                tabs.ask_to_close(id);
            }
        }
        Action::RenameTab => tabs.renaming.set(tabs.active.get_untracked()),
        Action::NextPane => tabs.step_pane(1),
        Action::Fullscreen => {
            #[cfg(feature = "hydrate")]
            super::panes::fullscreen();
        }
        Action::Sidebar => sidebar_hidden.update(|h| *h = !*h),
        Action::Help => help.open.update(|o| *o = !*o),
    });
    #[cfg(feature = "hydrate")]
    {
        super::saved_tabs::keep(tabs);
        keys.load();
        super::shortcuts::listen(keys, help, run);
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = run;
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let tab = tabs.active.get().and_then(|id| {
            tabs.list.with(|t| {
                t.iter()
                    .find(|tab| tab.id == id)
                    .map(|tab| tab.shown_name())
            })
        });
        let title = match (tab, here.get()) {
            (Some(tab), _) => format!("{tab} · podterm"),
            (None, Some((_, namespace))) => format!("{namespace} · podterm"),
            (None, None) => "podterm".into(),
        };
        if let Some(document) = web_sys::window().and_then(|w| w.document()) {
            document.set_title(&title);
        }
    });
    view! {
        <div class="layout" class:sidebar-hidden=move || sidebar_hidden.get()>
            <Suspense fallback=|| view! { <header class="topbar"><span class="brand">"podterm"</span></header><p class="page-message">"Loading clusters…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(view_data) => {
                            here.try_set(Some((view_data.context.clone(), view_data.namespace.clone())));
                            let title = format!("{} · podterm", view_data.namespace);
                            view! { <super::PageTitle text=title/><Top data=view_data.clone()/><Sidebar data=view_data open logs files/> }.into_any()
                        }
                        Err(e) => view! {
                            <header class="topbar"><span class="brand">"podterm"</span></header>
                            <p class="page-message error">"podterm could not load the clusters: " {e.to_string()}</p>
                        }.into_any(),
                    }
                })}
            </Suspense>
            <main class="terminals">
                <div class="tab-strip">
                    <button class="button small icon sidebar-toggle" aria-controls="pod-sidebar"
                        aria-expanded=move || (!sidebar_hidden.get()).to_string()
                        aria-label=move || if sidebar_hidden.get() { "Show the pod list" } else { "Hide the pod list" }
                        title=move || if sidebar_hidden.get() { "Show the pod list" } else { "Hide the pod list" }
                        on:click=move |_| sidebar_hidden.update(|h| *h = !*h)>"☰"</button>
                    <TabList tabs here/>
                    <div class="view-buttons">
                        <PaneButtons tabs/>
                        <ScreenReaderToggle reader/>
                        <button class="button small icon" aria-label="Keyboard shortcuts" aria-haspopup="dialog"
                            title="Keyboard shortcuts (?)" on:click=move |_| help.open.set(true)>"?"</button>
                    </div>
                </div>
                <CloseConfirm tabs/>
                <super::broadcast::BroadcastBar tabs/>
                <Show when=move || tabs.list.with(|t| t.is_empty())>
                    <div class="empty-state">
                        <h2>"No terminal open"</h2>
                        <p>"Pick a pod on the left to open a shell in it, or a container's logs to read them. Several can be open at once, each in its own tab, side by side in two or four panes."</p>
                        <p>"Press " <kbd>"?"</kbd> " for the keyboard shortcuts."</p>
                    </div>
                </Show>
                <Panes tabs logs files/>
            </main>
            <ShortcutList keys help/>
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
        Ok(ns) if ns.listable => {
            // A namespace asked for that does not exist is shown as such, not as another.
            let missing = (!ns.names.contains(&namespace)).then(|| {
                let label = format!("{namespace} (not found)");
                view! { <option value=namespace.clone() selected=true disabled=true>{label}</option> }
            });
            view! {
                <select name="namespace" aria-label="Namespace" on:change=move |ev| {
                    go.with_value(|go| go(Some(context_for_namespace.clone()), Some(event_target_value(&ev))));
                }>
                    {missing}
                    {ns.names.into_iter().map(|n| {
                        let selected = n == namespace;
                        let label = n.clone();
                        view! { <option value=n selected=selected>{label}</option> }
                    }).collect_view()}
                </select>
            }.into_any()
        }
        // Why namespaces cannot be listed is said under the bar (`Sidebar`), not in it.
        Ok(ns) => view! {
            <input name="namespace" aria-label="Namespace" value=namespace.clone() placeholder="namespace"
                size="14" title=ns.note.clone().unwrap_or_default()/>
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
                // Without scripts the choice is sent with this; with them, choosing is enough.
                <button class="button no-script" type="submit">"Show"</button>
            </Form>
            <span class="user" title="Logged in as">{user}</span>
            <form method="post" action=format!("{base}/logout") class="logout"><button class="button" type="submit">"Log out"</button></form>
            <span class="version">"v" {version}</span>
        </header>
    }
}

#[component]
fn Sidebar(
    data: Dashboard,
    open: Callback<Terminal>,
    logs: Callback<Target>,
    files: Callback<Target>,
) -> impl IntoView {
    let context = Some(data.context.clone());
    let namespace = data.namespace.clone();
    let exec_denied = data.exec_denied.clone();
    let namespace_note = data.namespaces.as_ref().ok().and_then(|ns| ns.note.clone());
    super::ways_in::provide_for_list(data.ways.clone());
    view! {
        <aside class="sidebar" id="pod-sidebar">
            {namespace_note.map(|note| view! { <p class="panel-message hint-box">{note}</p> })}
            {data.exec_denied.map(|why| view! { <p class="panel-message warn denied" role="status">{super::upper_first(&why)}</p> })}
            {match data.pods {
                Ok(window) => view! { <PodList window context namespace open logs files exec_denied/> }.into_any(),
                Err(e) => view! {
                    <div class="panel-message error error-box" role="alert">
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

/// Whether the pod list is hidden, as the browser remembers it.
mod sidebar {
    use leptos::prelude::*;

    const KEY: &str = "podterm.sidebar";

    /// Hidden or shown as last time (once the page runs), and remembered when it changes.
    pub fn remembered() -> RwSignal<bool> {
        let hidden = RwSignal::new(false);
        #[cfg(feature = "hydrate")]
        Effect::new(move |first: Option<()>| {
            let now = hidden.get();
            let storage = web_sys::window().and_then(|w| w.local_storage().ok().flatten());
            if first.is_none() {
                let stored = storage.and_then(|s| s.get_item(KEY).ok().flatten());
                hidden.set(stored.as_deref() == Some("hidden"));
            } else if let Some(storage) = storage {
                let _ = storage.set_item(KEY, if now { "hidden" } else { "shown" });
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = KEY;
        hidden
    }
}
