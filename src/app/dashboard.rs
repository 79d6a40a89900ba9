//! The dashboard: cluster and namespace selectors, the live pod list, and tabs of terminals,
//! containers' logs and their files.

use leptos::prelude::*;
use leptos_router::components::Form;
use leptos_router::hooks::{use_navigate, use_query_map};

use crate::protocol::encode;

use super::Terminal;
use super::api::{Dashboard, load_dashboard};
use super::files::FilesView;
use super::logs::LogsView;
use super::pod_list::PodList;
use super::sync_view::sync_view;
use super::terminal::TerminalView;
use crate::model::Target;

/// What a tab shows: a terminal, a container's log, or its files.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Pane {
    Shell(Terminal),
    Log(Target),
    Files(Target),
}

impl Pane {
    fn target(&self) -> &Target {
        match self {
            Pane::Shell(terminal) => &terminal.target,
            Pane::Log(target) | Pane::Files(target) => target,
        }
    }
}

/// A tab. A shell's session id is kept in the browser (`saved_tabs`), so a reload brings
/// the tabs back to the same shells (and logs).
#[derive(Debug, Clone)]
struct Tab {
    id: u32,
    pane: Pane,
    /// A shell's session while it can be resumed.
    session: RwSignal<Option<String>>,
    /// The session to attach to first (a tab brought back after a reload).
    resume: Option<String>,
    /// Which shell of its container this is: 1, 2, … (a log has one tab).
    nth: u32,
    /// Files tabs: uploads are on their way (closing the tab stops them).
    busy: RwSignal<bool>,
}

/// The tabs: which is shown, and the one waiting for "End the shell?".
#[derive(Clone, Copy)]
struct Tabs {
    list: RwSignal<Vec<Tab>>,
    active: RwSignal<Option<u32>>,
    closing: RwSignal<Option<u32>>,
    next_id: StoredValue<u32>,
    /// The page's owner: a tab's signals live as long as the page, wherever it is opened
    /// from (an effect disposes what it made when it runs again).
    owner: StoredValue<Owner>,
}

impl Tabs {
    fn new() -> Self {
        Self {
            list: RwSignal::new(Vec::new()),
            active: RwSignal::new(None),
            closing: RwSignal::new(None),
            next_id: StoredValue::new(0),
            owner: StoredValue::new(Owner::current().unwrap_or_default()),
        }
    }

    /// A new tab (shown), for another shell of a terminal when it already has one.
    fn add(&self, pane: Pane, resume: Option<String>) -> u32 {
        let id = self.next_id.get_value() + 1;
        self.next_id.set_value(id);
        let (session, busy) = self.owner.with_value(|owner| {
            owner.with(|| (RwSignal::new(resume.clone()), RwSignal::new(false)))
        });
        self.list.update(|t| {
            let nth = t
                .iter()
                .filter(|tab| tab.pane == pane)
                .map(|tab| tab.nth)
                .max()
                .unwrap_or(0)
                + 1;
            t.push(Tab {
                id,
                pane,
                session,
                resume,
                nth,
                busy,
            })
        });
        self.active.set(Some(id));
        id
    }

    /// Shows the first tab of a terminal or log, or opens one.
    fn open(&self, pane: Pane) {
        let existing = self
            .list
            .with_untracked(|t| t.iter().find(|tab| tab.pane == pane).map(|tab| tab.id));
        match existing {
            Some(id) => self.active.set(Some(id)),
            None => {
                self.add(pane, None);
            }
        }
    }

    fn close(&self, id: u32) {
        self.closing.set(None);
        self.list.update(|t| t.retain(|tab| tab.id != id));
        if self.active.get_untracked() == Some(id) {
            self.active
                .set(self.list.with_untracked(|t| t.last().map(|tab| tab.id)));
        }
    }

    /// The × of a tab: a live shell, or uploads on their way, end only once the person
    /// says so.
    fn ask_to_close(&self, id: u32) {
        let live = self.list.with_untracked(|t| {
            t.iter().any(|tab| {
                tab.id == id && (tab.session.get_untracked().is_some() || tab.busy.get_untracked())
            })
        });
        if live {
            self.active.set(Some(id));
            self.closing.set(Some(id));
        } else {
            self.close(id);
        }
    }
}

impl Tab {
    fn label(&self) -> String {
        let title = self.pane.target().title();
        match (&self.pane, self.nth) {
            (Pane::Log(_), _) => format!("{title} · log"),
            (Pane::Files(_), _) => format!("{title} · files"),
            (Pane::Shell(_), 1) => title,
            (Pane::Shell(_), n) => format!("{title} ({n})"),
        }
    }
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
    let tabs = Tabs::new();
    // The context and namespace the page shows: tabs of others are marked.
    let here = RwSignal::new(None::<(String, String)>);
    let open = Callback::new(move |terminal: Terminal| tabs.open(Pane::Shell(terminal)));
    let logs = Callback::new(move |target: Target| tabs.open(Pane::Log(target)));
    let files = Callback::new(move |target: Target| tabs.open(Pane::Files(target)));
    provide_context(super::ways_in::Opener(open));
    provide_context(super::ways_in::LogOpener(logs));
    provide_context(super::files::FilesOpener(files));
    #[cfg(feature = "hydrate")]
    saved_tabs::keep(tabs);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let tab = tabs.active.get().and_then(|id| {
            tabs.list
                .with(|t| t.iter().find(|tab| tab.id == id).map(Tab::label))
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
        <div class="layout">
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
            <Terminals tabs here logs files/>
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
        <aside class="sidebar">
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

#[component]
fn Terminals(
    tabs: Tabs,
    here: RwSignal<Option<(String, String)>>,
    logs: Callback<Target>,
    files: Callback<Target>,
) -> impl IntoView {
    let Tabs {
        list,
        active,
        closing,
        ..
    } = tabs;
    // The active tab stays in view, however many there are.
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if active.get().is_some() {
            request_animation_frame(reveal_active_tab);
        }
    });
    let asking = move || {
        closing.get().and_then(|id| {
            list.with(|t| {
                t.iter()
                    .find(|tab| tab.id == id)
                    .and_then(|tab| match &tab.pane {
                        Pane::Shell(terminal) => Some((tab.label(), terminal.closing_words())),
                        Pane::Files(_) => Some((
                            tab.label(),
                            (" stops its uploads; podterm removes what was sent of the file on its way.", "Stop the uploads"),
                        )),
                        Pane::Log(_) => None,
                    })
            })
        })
    };
    view! {
        <main class="terminals">
            <Show when=move || list.with(|t| !t.is_empty()) fallback=|| view! {
                <div class="empty-state">
                    <h2>"No terminal open"</h2>
                    <p>"Pick a pod on the left to open a shell in it, or a container's logs to read them. Several can be open at once, each in its own tab."</p>
                </div>
            }>
                <div class="tab-strip">
                    <nav class="tabs" role="tablist">
                        <For each=move || list.get() key=|tab| tab.id let:tab>
                            {
                                let id = tab.id;
                                let label = tab.label();
                                let target = tab.pane.target().clone();
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
                                let title = format!("{label} in namespace {} of {context}", target.namespace);
                                let close_label = match tab.pane {
                                    Pane::Shell(_) => "Close this terminal",
                                    Pane::Log(_) => "Close this log",
                                    Pane::Files(_) => "Close these files",
                                };
                                view! {
                                    <div class="tab" class:active=move || active.get() == Some(id) class:elsewhere=elsewhere
                                        role="tab" aria-selected=move || (active.get() == Some(id)).to_string() title=title>
                                        <button class="tab-title" on:click=move |_| active.set(Some(id))>
                                            <span class="tab-where">{where_}</span>
                                            {label}
                                        </button>
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
                                    active.set(Some(id));
                                }
                            }
                            prop:value=move || active.get().map(|id| id.to_string()).unwrap_or_default()>
                            {move || {
                                let count = list.with(Vec::len);
                                list.get().into_iter().enumerate().map(|(i, tab)| {
                                    let text = format!("{}/{count} · {} · {}", i + 1, tab.pane.target().namespace, tab.label());
                                    view! { <option value=tab.id.to_string() selected=move || active.get() == Some(tab.id)>{text}</option> }
                                }).collect_view()
                            }}
                        </select>
                    </Show>
                </div>
            </Show>
            {move || asking().map(|(label, (closing_words, button))| view! {
                <div class="close-confirm" role="alertdialog" aria-label="End this shell?">
                    <span>"Closing " <strong>{label}</strong> {closing_words}</span>
                    <button class="button small danger" on:click=move |_| {
                        if let Some(id) = closing.get_untracked() {
                            tabs.close(id);
                        }
                    }>{button}</button>
                    <button class="button small" on:click=move |_| closing.set(None)>"Keep it"</button>
                </div>
            })}
            <For each=move || list.get() key=|tab| tab.id let:tab>
                {
                    let id = tab.id;
                    let visible = Signal::derive(move || active.get() == Some(id));
                    let pane = match tab.pane {
                        Pane::Shell(terminal) => {
                            let moved = Callback::new(move |()| tabs.close(id));
                            let another = {
                                let terminal = terminal.clone();
                                Callback::new(move |()| {
                                    tabs.add(Pane::Shell(terminal.clone()), None);
                                })
                            };
                            let target = terminal.target.clone();
                            let log = Callback::new(move |()| logs.run(target.clone()));
                            let target = terminal.target.clone();
                            let file = Callback::new(move |()| files.run(target.clone()));
                            sync_view(view! { <TerminalView terminal visible resume=tab.resume session=tab.session moved another logs=log files=file/> }).into_any()
                        }
                        Pane::Log(target) => sync_view(view! { <LogsView target visible/> }).into_any(),
                        Pane::Files(target) => sync_view(view! { <FilesView target visible busy=tab.busy/> }).into_any(),
                    };
                    view! {
                        <div class="tab-panel" class:hidden=move || !visible.get()>
                            {pane}
                        </div>
                    }
                }
            </For>
        </main>
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

/// The open tabs and their sessions, kept in the browser tab's session storage: a reload
/// of the dashboard comes back to the same shells (podterm keeps them for its grace period)
/// and logs.
#[cfg(feature = "hydrate")]
mod saved_tabs {
    use leptos::prelude::*;

    use super::{Pane, Tab, Tabs};
    use crate::app::Terminal;
    use crate::model::Target;
    use crate::protocol::encode;

    const KEY: &str = "podterm.tabs";
    /// The last field of a log's line, and of a Files tab's.
    const LOG: &str = "log";
    const FILES: &str = "files";

    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.session_storage().ok().flatten()
    }

    /// One tab per line: its context, namespace, pod, container and session, encoded; a
    /// log's with no session and `log` after it, a Files tab's with `files`.
    fn line(tab: &Tab, session: Option<String>) -> String {
        let target = tab.pane.target();
        let mut fields = vec![
            target.context.clone().unwrap_or_default(),
            target.namespace.clone(),
            target.pod.clone(),
            target.container.clone(),
            session.unwrap_or_default(),
        ];
        match &tab.pane {
            Pane::Log(_) => fields.push(LOG.into()),
            Pane::Files(_) => fields.push(FILES.into()),
            Pane::Shell(terminal) => fields.extend(terminal.saved_fields()),
        }
        fields
            .iter()
            .map(|field| encode(field))
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn parse(line: &str) -> Option<(Pane, Option<String>)> {
        let fields: Vec<String> = line
            .split(' ')
            .map(|f| js_sys::decode_uri_component(f).ok().map(String::from))
            .collect::<Option<_>>()?;
        // A log's line has `log` as its sixth and last field (a Files tab's `files`); a
        // terminal's has none or at least two more (`Terminal::saved_fields`).
        let log = fields.len() == 6 && fields[5] == LOG;
        let files = fields.len() == 6 && fields[5] == FILES;
        let [context, namespace, pod, container, session] =
            <[String; 5]>::try_from(fields.get(..5)?.to_vec()).ok()?;
        if namespace.is_empty() || pod.is_empty() || container.is_empty() {
            return None;
        }
        let target = Target {
            context: Some(context).filter(|c| !c.is_empty()),
            namespace,
            pod,
            container,
        };
        if log {
            return Some((Pane::Log(target), None));
        }
        if files {
            return Some((Pane::Files(target), None));
        }
        let terminal = Terminal {
            target,
            ..Default::default()
        }
        .with_saved_fields(&fields[5..])?;
        Some((
            Pane::Shell(terminal),
            Some(session).filter(|s| !s.is_empty()),
        ))
    }

    /// Brings back the saved tabs once the page is hydrated, then keeps the list current.
    pub(super) fn keep(tabs: Tabs) {
        Effect::new(move |restored: Option<()>| {
            if restored.is_none() {
                let saved = storage()
                    .and_then(|s| s.get_item(KEY).ok().flatten())
                    .unwrap_or_default();
                // Tabs whose shell had ended stay closed; logs are read again, files listed.
                for (pane, session) in saved.lines().filter_map(parse) {
                    if session.is_some() || matches!(pane, Pane::Log(_) | Pane::Files(_)) {
                        tabs.add(pane, session);
                    }
                }
            }
            let lines: Vec<String> = tabs
                .list
                .with(|t| t.iter().map(|tab| line(tab, tab.session.get())).collect());
            if let Some(storage) = storage() {
                let _ = storage.set_item(KEY, &lines.join("\n"));
            }
        });
    }
}
