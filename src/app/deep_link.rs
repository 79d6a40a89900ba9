//! `/terminal?context=&namespace=&pod=&container=&command=…`: one terminal, opened directly.
//! A link that carries a command asks before running it.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::Terminal;
use super::api::{BrowserJson, PageInfo, default_container, page_bar};
use super::sync_view::sync_view;
use super::terminal::TerminalView;
use crate::model::Target;

#[component]
pub fn TerminalPage() -> impl IntoView {
    let query = use_query_map();
    let read = move |key: &str| {
        query
            .with_untracked(|q| q.get(key))
            .filter(|v| !v.is_empty())
    };
    let context = read("context");
    let namespace = read("namespace").unwrap_or_else(|| "default".into());
    let pod = read("pod");
    let container = read("container");
    let command: Vec<String> = query.with_untracked(|q| q.get_all("command").unwrap_or_default());
    let shell = read("shell");
    let way = super::ways_in::way_from_link(read("attach"), read("debug_of"), read("reused"));
    let confirmed = RwSignal::new(command.is_empty());
    // A shell handed over by the dashboard ("Own page"): resumed, not started.
    let resume = read("resume");
    let home = super::dashboard_link(context.as_deref(), &namespace);

    let Some(pod) = pod else {
        return sync_view(view! { <p class="page-message error">"This link names no pod. " <a href=home>"Back to the dashboard"</a></p> }).into_any();
    };
    // Resolve the default container when the link names none. Loaded once: a
    // `OnceResource` costs the wasm much less than a `Resource` with a source. Read in the
    // browser without serde_json (see `BrowserJson`).
    let resolved = OnceResource::<_, BrowserJson>::new_with_options(
        {
            let (context, namespace, pod, container) = (
                context.clone(),
                namespace.clone(),
                pod.clone(),
                container.clone(),
            );
            async move {
                match container {
                    Some(c) => Ok::<_, String>(c),
                    None => default_container(context, namespace, pod)
                        .await
                        .map_err(words),
                }
            }
        },
        false,
    );
    let title = format!("{pod} · podterm");
    let info = OnceResource::<_, BrowserJson>::new_with_options(
        {
            let context = context.clone();
            async move { page_bar(context).await.ok() }
        },
        false,
    );
    let crumb = format!("{namespace} / {pod}");
    // Every view that becomes an `AnyView` (`into_any`, the `fallback`s) is a `sync_view`.
    sync_view(view! {
        <super::PageTitle text=title/>
        <div class="single">
            <Suspense fallback=|| sync_view(view! { <header class="topbar"><span class="brand">"podterm"</span></header> })>
                {move || {
                    let crumb = crumb.clone();
                    Suspend::new(async move {
                        let info = info.await;
                        sync_view(view! { <TopBar info crumb/> }).into_any()
                    })
                }}
            </Suspense>
            <Suspense fallback=|| sync_view(view! { <p class="page-message">"Finding the pod…"</p> })>
                {move || {
                    let (context, namespace, pod, command, resume, home) = (context.clone(), namespace.clone(), pod.clone(), command.clone(), resume.clone(), home.clone());
                    let (shell, way) = (shell.clone(), way.clone());
                    Suspend::new(async move {
                        match resolved.await {
                            Err(e) => sync_view(view! {
                                <div class="page-message error" role="alert">
                                    <p>"Cannot open this terminal: " {e} "."</p>
                                    <p><a class="button" href=home>"Back to the dashboard"</a></p>
                                </div>
                            }).into_any(),
                            Ok(container) => {
                                let terminal = Terminal { target: Target { context, namespace, pod, container }, command: command.clone(), shell: shell.clone(), way: way.clone() };
                                let session = RwSignal::new(None::<String>);
                                #[cfg(feature = "hydrate")]
                                let resume = remember(&terminal, session).or(resume);
                                let shown = command.join(" ");
                                let pod_name = terminal.target.pod.clone();
                                sync_view(view! {
                                    <Show when=move || confirmed.get() fallback=move || sync_view(view! {
                                        <div class="confirm" role="dialog" aria-label="Run this command?">
                                            <h2>"Run this command?"</h2>
                                            <p>"This link runs a command in pod " <strong>{pod_name.clone()}</strong> ":"</p>
                                            <pre class="command">{shown.clone()}</pre>
                                            <p>"Only continue if you trust where the link came from."</p>
                                            <button class="button primary" on:click=move |_| confirmed.set(true)>"Run it"</button>
                                            <a class="button" href=format!("{}/", super::base())>"Cancel"</a>
                                        </div>
                                    })>
                                        <TerminalView terminal=terminal.clone() visible=Signal::derive(|| true) early=true resume=resume.clone() session/>
                                    </Show>
                                }).into_any()
                            }
                        }
                    })
                }}
            </Suspense>
        </div>
    }).into_any()
}

/// A server function's error in the server's words.
fn words(error: ServerFnError) -> String {
    match error {
        ServerFnError::ServerError(message) => message,
        other => other.to_string(),
    }
}

/// The bar across the top, as on the dashboard: where the terminal runs, who is logged in.
#[component]
fn TopBar(info: Option<PageInfo>, crumb: String) -> impl IntoView {
    let base = super::base();
    let (demo, context, user, version) = match info {
        Some(info) => (info.demo, info.context, info.user, info.version),
        None => (false, String::new(), String::new(), String::new()),
    };
    let crumb = if context.is_empty() {
        crumb
    } else {
        format!("{context} · {crumb}")
    };
    view! {
        <header class="topbar">
            <a class="brand" href=format!("{base}/")>"podterm"</a>
            {demo.then(|| view! { <span class="demo-badge" title="podterm started its own test cluster; nothing here is a real cluster">"Demo cluster"</span> })}
            <span class="crumb">{crumb}</span>
            <span class="user" title="Logged in as">{user}</span>
            <form method="post" action=format!("{base}/logout") class="logout"><button class="button" type="submit">"Log out"</button></form>
            {(!version.is_empty()).then(|| view! { <span class="version">"v" {version}</span> })}
        </header>
    }
}

/// Keeps this page's session in the browser tab's session storage, under its socket's
/// path (which the page's early script reads on a reload); returns the one kept before.
#[cfg(feature = "hydrate")]
fn remember(terminal: &Terminal, session: RwSignal<Option<String>>) -> Option<String> {
    let key = format!(
        "podterm.session {}{}",
        super::base(),
        terminal.socket_path(None)
    );
    let storage = web_sys::window()?.session_storage().ok().flatten()?;
    let kept = storage.get_item(&key).ok().flatten();
    Effect::new(move |first: Option<()>| {
        let now = session.get();
        // Until the first session attaches, what is kept stays.
        if first.is_none() && now.is_none() {
            return;
        }
        let _ = match now {
            Some(id) => storage.set_item(&key, &id),
            None => storage.remove_item(&key),
        };
    });
    kept
}
