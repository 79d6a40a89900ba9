//! `/terminal?context=&namespace=&pod=&container=&command=…`: one terminal, opened directly.
//! A link that carries a command asks before running it.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::Terminal;
use super::api::find_pod;
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
    let confirmed = RwSignal::new(command.is_empty());

    let Some(pod) = pod else {
        return sync_view(view! { <p class="page-message error">"This link names no pod. " <a href=format!("{}/", super::base())>"Back to the dashboard"</a></p> }).into_any();
    };
    // Resolve the default container when the link names none. Loaded once: a
    // `OnceResource` costs the wasm much less than a `Resource` with a source.
    let resolved = OnceResource::new({
        let (context, namespace, pod, container) = (
            context.clone(),
            namespace.clone(),
            pod.clone(),
            container.clone(),
        );
        async move {
            match container {
                Some(c) => Ok::<_, String>(c),
                None => find_pod(context, namespace, pod.clone())
                    .await
                    .map_err(|e| e.to_string())
                    .and_then(|p| {
                        p.default_container
                            .ok_or_else(|| format!("pod {pod} has no containers"))
                    }),
            }
        }
    });
    let title = format!("{pod} · podterm");
    // Every view that becomes an `AnyView` (`into_any`, the `fallback`s) is a `sync_view`.
    sync_view(view! {
        <super::PageTitle text=title/>
        <div class="single">
            <header class="topbar"><a class="brand" href=format!("{}/", super::base())>"podterm"</a><span class="crumb">{namespace.clone()} " / " {pod.clone()}</span></header>
            <Suspense fallback=|| sync_view(view! { <p class="page-message">"Finding the pod…"</p> })>
                {move || {
                    let (context, namespace, pod, command) = (context.clone(), namespace.clone(), pod.clone(), command.clone());
                    Suspend::new(async move {
                        match resolved.await {
                            Err(e) => sync_view(view! { <p class="page-message error">"Cannot open this terminal: " {e}</p> }).into_any(),
                            Ok(container) => {
                                let terminal = Terminal { target: Target { context, namespace, pod, container }, command: command.clone() };
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
                                        <TerminalView terminal=terminal.clone() visible=Signal::derive(|| true) early=true/>
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
