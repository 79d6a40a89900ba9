//! The pod list: a filter box, one row per pod, a button per container; it follows the
//! cluster live through the server's pod feed once the page is hydrated.

use leptos::prelude::*;

use super::Target;
use crate::model::PodSummary;

#[component]
pub fn PodList(
    pods: Vec<PodSummary>,
    context: Option<String>,
    namespace: String,
    /// Why no shell may be opened in this namespace (the cluster's answer), if none may.
    exec_denied: Option<String>,
    open: Callback<Target>,
) -> impl IntoView {
    let live = RwSignal::new(pods);
    let problem = RwSignal::new(None::<String>);
    let filter = RwSignal::new(String::new());
    #[cfg(feature = "hydrate")]
    follow(context.clone(), namespace.clone(), live, problem);
    let shown = Memo::new(move |_| {
        let f = filter.get();
        live.with(|pods| {
            pods.iter()
                .filter(|p| p.matches(&f))
                .cloned()
                .map(|mut p| {
                    if exec_denied.is_some() {
                        for c in p
                            .containers
                            .iter_mut()
                            .filter(|c| c.not_connectable.is_none())
                        {
                            c.not_connectable = Some("not allowed".into());
                        }
                    }
                    p
                })
                .collect::<Vec<_>>()
        })
    });
    let ns = namespace.clone();
    let context = StoredValue::new(context);
    view! {
        <div class="pod-list">
            <input class="filter" type="search" placeholder="Filter pods" aria-label="Filter pods"
                prop:value=move || filter.get()
                on:input=move |ev| filter.set(event_target_value(&ev))/>
            {move || problem.get().map(|p| view! { <p class="panel-message warn">"Live updates paused: " {p}</p> })}
            <Show when=move || live.with(|p| !p.is_empty()) fallback=move || view! {
                <p class="panel-message">"No pods in " <strong>{ns.clone()}</strong> "."</p>
            }>
                <Show when=move || shown.with(|p| !p.is_empty()) fallback=|| view! { <p class="panel-message">"No pod matches the filter."</p> }>
                    <table class="pods">
                        <thead><tr><th>"Pod"</th><th>"Status"</th><th>"Ready"</th><th>"Restarts"</th><th>"Age"</th></tr></thead>
                        <tbody>
                            <For each=move || shown.get() key=|p| p.clone() let:pod>
                                <PodRow pod context=context.get_value() open/>
                            </For>
                        </tbody>
                    </table>
                </Show>
            </Show>
        </div>
    }
}

#[component]
fn PodRow(pod: PodSummary, context: Option<String>, open: Callback<Target>) -> impl IntoView {
    let target = |container: &str| Target {
        context: context.clone(),
        namespace: pod.namespace.clone(),
        pod: pod.name.clone(),
        container: container.to_string(),
        command: Vec::new(),
    };
    let default = pod
        .default_container
        .as_ref()
        .and_then(|name| pod.container(name))
        .filter(|c| c.not_connectable.is_none())
        .map(|c| target(&c.name));
    let status_class = match pod.status.as_str() {
        "Running" | "Completed" | "Succeeded" => "pod-status ok",
        "Pending" | "ContainerCreating" | "Terminating" => "pod-status pending",
        _ => "pod-status bad",
    };
    let containers = pod.containers.iter().map(|c| {
        let t = target(&c.name);
        let disabled = c.not_connectable.is_some();
        let title = c.not_connectable.clone().unwrap_or_else(|| format!("Open a shell in {} ({})", c.name, c.image));
        view! {
            <button class="container" class:default=pod.default_container.as_deref() == Some(c.name.as_str())
                disabled=disabled title=title.clone() data-container=c.name.clone()
                on:click=move |_| open.run(t.clone())>
                {c.name.clone()}
            </button>
            {c.not_connectable.clone().map(|why| view! { <span class="why-not">{why}</span> })}
        }
    }).collect_view();
    view! {
        <tr class="pod" data-pod=pod.name.clone()>
            <td class="pod-name">
                {match default {
                    Some(t) => view! { <button class="pod-open" title="Open a shell in the default container" on:click=move |_| open.run(t.clone())>{pod.name.clone()}</button> }.into_any(),
                    None => view! { <span class="pod-open disabled">{pod.name.clone()}</span> }.into_any(),
                }}
                <div class="containers">{containers}</div>
            </td>
            <td><span class=status_class>{pod.status.clone()}</span></td>
            <td>{format!("{}/{}", pod.ready, pod.total)}</td>
            <td>{pod.restarts}</td>
            <td>{pod.age.clone()}</td>
        </tr>
    }
}

/// Subscribes to the server's pod feed for this namespace while the list is shown.
#[cfg(feature = "hydrate")]
fn follow(
    context: Option<String>,
    namespace: String,
    live: RwSignal<Vec<PodSummary>>,
    problem: RwSignal<Option<String>>,
) {
    use crate::protocol::encode;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::Closure;

    let mut url = format!(
        "{}/api/pods/watch?namespace={}",
        super::base(),
        encode(&namespace)
    );
    if let Some(context) = &context {
        url.push_str(&format!("&context={}", encode(context)));
    }
    let Ok(source) = web_sys::EventSource::new(&url) else {
        return;
    };
    let on_pods =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            if let Some(text) = event.data().as_string()
                && let Ok(pods) = serde_json::from_str::<Vec<PodSummary>>(&text)
            {
                problem.set(None);
                live.set(pods);
            }
        });
    let on_problem =
        Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |event: web_sys::MessageEvent| {
            problem.set(event.data().as_string());
        });
    let _ = source.add_event_listener_with_callback("pods", on_pods.as_ref().unchecked_ref());
    let _ = source.add_event_listener_with_callback("problem", on_problem.as_ref().unchecked_ref());
    let held = send_wrapper::SendWrapper::new((source, on_pods, on_problem));
    on_cleanup(move || held.0.close());
}
