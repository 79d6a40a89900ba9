//! The pod list: a filter box, a window of the namespace's pods (one row per pod, a button
//! per container for a shell, one for its logs and one for its files), how many there are,
//! and a way to list more. Once the page is hydrated
//! it follows the cluster through the server's pod feed (`pod_feed`), which sends the
//! window for the filter as typed, so a namespace with thousands of pods costs the page a
//! few hundred rows.

use leptos::prelude::*;

use super::Terminal;
use crate::model::Target;
use crate::model::{PodSummary, PodWindow, WINDOW_MAX, WINDOW_STEP, normalize_filter};

#[component]
pub fn PodList(
    /// The pods as the server rendered them.
    window: PodWindow,
    context: Option<String>,
    namespace: String,
    /// Why no shell may be opened in this namespace (the cluster's answer), if none may.
    exec_denied: Option<String>,
    open: Callback<Terminal>,
    /// Opens a container's log.
    logs: Callback<Target>,
    /// Opens a container's files.
    files: Callback<Target>,
) -> impl IntoView {
    let typed = window.filter.clone();
    let filter = RwSignal::new(window.filter.clone());
    let limit = RwSignal::new(window.limit);
    let problem = RwSignal::new(window.problem.clone());
    let live = RwSignal::new(window);
    #[cfg(feature = "hydrate")]
    super::pod_feed::follow(
        context.clone(),
        namespace.clone(),
        filter,
        limit,
        live,
        problem,
    );
    let shown = narrowed(live, filter);
    let denied = exec_denied.is_some();
    // The server has not yet answered for the filter or the length asked for.
    let pending = Memo::new(move |_| {
        let (filter, limit) = (normalize_filter(&filter.get()), limit.get());
        live.with(|w| normalize_filter(&w.filter) != filter || w.limit != limit)
    });
    let base = super::base();
    let ns = namespace.clone();
    let context = StoredValue::new(context);
    let namespace = StoredValue::new(namespace);
    // Without scripts, the filter box and "show more" are forms that load the page again.
    let action = StoredValue::new(format!("{base}/"));
    let hidden = move || hidden_fields(context, namespace);
    let more = move || show_more(live, pending, limit, action, hidden);
    view! {
        <div class="pod-list">
            <div class="pod-list-head">
                <form class="filter-form" role="search" method="get" action=action.get_value()
                    on:submit=|ev| ev.prevent_default()>
                    {hidden()}
                    <input class="filter" type="search" name="filter" placeholder="Filter pods" aria-label="Filter pods"
                        autocomplete="off" value=typed
                        prop:value=move || filter.get()
                        on:input=move |ev| filter.set(event_target_value(&ev))/>
                </form>
                <p class="pod-count" aria-live="polite">{move || tally(&live.read(), pending.get(), limit.get())}</p>
                {move || problem.get().map(|p| view! { <p class="panel-message warn">"Live updates paused: " {p}</p> })}
            </div>
            <Show when=move || live.with(|w| w.total > 0) fallback=move || view! {
                <p class="panel-message">"No pods in " <strong>{ns.clone()}</strong> "."</p>
            }>
                <Show when=move || shown.with(|p| !p.is_empty()) fallback=move || view! {
                    <p class="panel-message">
                        {move || if pending.get() {
                            format!("Looking through {} for “{}”…", pods(live.with(|w| w.total)), filter.get().trim())
                        } else {
                            "No pod matches the filter.".to_string()
                        }}
                    </p>
                }>
                    <table class="pods">
                        <thead><tr><th>"Pod"</th><th>"Status"</th><th>"Ready"</th><th>"Restarts"</th><th>"Age"</th></tr></thead>
                        <tbody>
                            <For each=move || shown.get() key=|p| p.clone() let:pod>
                                <PodRow pod context=context.get_value() open logs files denied/>
                            </For>
                        </tbody>
                    </table>
                    {more}
                </Show>
            </Show>
        </div>
    }
}

/// The server's window, narrowed at once to the filter as typed; the server's answer for
/// that filter (which may find pods beyond the window) follows.
fn narrowed(live: RwSignal<PodWindow>, filter: RwSignal<String>) -> Memo<Vec<PodSummary>> {
    Memo::new(move |_| {
        let needle = normalize_filter(&filter.get());
        live.with(|window| {
            window
                .pods
                .iter()
                .filter(|p| p.matches_normalized(&needle))
                .cloned()
                .collect::<Vec<_>>()
        })
    })
}

/// What the list's forms send besides their own field, to load the same list.
fn hidden_fields(
    context: StoredValue<Option<String>>,
    namespace: StoredValue<String>,
) -> impl IntoView {
    view! {
        {context.get_value().map(|c| view! { <input type="hidden" name="context" value=c/> })}
        <input type="hidden" name="namespace" value=namespace.get_value()/>
    }
}

/// "Show N more" (a form, without scripts), or why no more are listed; nothing while the
/// server has not answered or when every match is listed.
fn show_more<H: IntoView>(
    live: RwSignal<PodWindow>,
    pending: Memo<bool>,
    limit: RwSignal<usize>,
    action: StoredValue<String>,
    hidden: impl Fn() -> H,
) -> Option<AnyView> {
    if pending.get() {
        return None;
    }
    let (listed, matching, asked, filter_now) =
        live.with(|w| (w.pods.len(), w.matching, w.limit, w.filter.clone()));
    if matching <= listed {
        return None;
    }
    if asked >= WINDOW_MAX {
        return Some(
            view! {
                <p class="panel-message list-end">
                    "Only the first " {count(WINDOW_MAX)} " are listed. Type in the filter to find the others."
                </p>
            }
            .into_any(),
        );
    }
    // The list grows in whole steps; the button says how many more this one shows.
    let next = (asked + WINDOW_STEP).min(WINDOW_MAX);
    let step = (next - asked).min(matching - listed);
    Some(
        view! {
            <form class="show-more" method="get" action=action.get_value() on:submit=move |ev| {
                ev.prevent_default();
                limit.set(next);
            }>
                {hidden()}
                <input type="hidden" name="filter" value=filter_now/>
                <button class="button" type="submit" name="limit" value=next.to_string()>
                    {format!("Show {} more", count(step))}
                </button>
            </form>
        }
        .into_any(),
    )
}

/// What the count line says: how many pods there are, how many match, how many are listed.
fn tally(window: &PodWindow, pending: bool, limit: usize) -> String {
    let (listed, matching, total) = (window.pods.len(), window.matching, window.total);
    if pending {
        return if limit > window.limit {
            format!("Listing more of {}…", pods(total))
        } else {
            format!("Filtering {}…", pods(total))
        };
    }
    if total == 0 {
        return String::new();
    }
    if window.filter.is_empty() {
        return if listed >= total {
            pods(total)
        } else {
            format!("Showing {} of {}", count(listed), pods(total))
        };
    }
    match matching {
        0 => format!("None of {} match", pods(total)),
        m if m <= listed => format!("{} of {} match", count(m), pods(total)),
        m => format!(
            "Showing {} of {} matching, {} in all",
            count(listed),
            count(m),
            pods(total)
        ),
    }
}

/// "1 pod", "5,000 pods".
fn pods(n: usize) -> String {
    if n == 1 {
        "1 pod".into()
    } else {
        format!("{} pods", count(n))
    }
}

/// A number with thousands separated: 5,000.
pub(super) fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// `denied`: no shell may be opened in this namespace; the list says so once, above. A
/// container's log may be read whatever its state (the cluster says when there is none);
/// its files need a running container and exec (podterm reaches them through exec).
#[component]
fn PodRow(
    pod: PodSummary,
    context: Option<String>,
    open: Callback<Terminal>,
    logs: Callback<Target>,
    files: Callback<Target>,
    denied: bool,
) -> impl IntoView {
    let target = |container: &str| Target {
        context: context.clone(),
        namespace: pod.namespace.clone(),
        pod: pod.name.clone(),
        container: container.to_string(),
    };
    let terminal = |container: &str| Terminal {
        target: target(container),
        ..Default::default()
    };
    let default = pod
        .default_container
        .as_ref()
        .and_then(|name| pod.container(name))
        .filter(|c| c.not_connectable.is_none() && !denied)
        .map(|c| terminal(&c.name));
    let windows = pod.windows;
    let status_class = match pod.status.as_str() {
        "Running" | "Completed" | "Succeeded" => "pod-status ok",
        "Pending" | "ContainerCreating" | "Terminating" => "pod-status pending",
        _ => "pod-status bad",
    };
    let containers = pod
        .containers
        .iter()
        .map(|c| {
            let log = target(&c.name);
            let file = target(&c.name);
            let files_denied = files_denied(c, denied);
            view! {
                <super::ways_in::ContainerActions pod=pod.clone() container=c.clone() context=context.clone() open denied/>
                <button class="container-logs" title=format!("Read the log of {}", c.name) aria-label=format!("Logs of {}", c.name)
                    data-logs=c.name.clone() on:click=move |_| logs.run(log.clone())>
                    "logs"
                </button>
                <button class="container-files" aria-label=format!("Files of {}", c.name) data-files=c.name.clone()
                    disabled=files_denied.is_some()
                    title=files_denied.clone().unwrap_or_else(|| format!("Browse, upload and download the files of {}", c.name))
                    on:click=move |_| files.run(file.clone())>
                    "files"
                </button>
            }
        })
        .collect_view();
    view! {
        <tr class="pod" data-pod=pod.name.clone()>
            <td class="pod-name">
                {match default {
                    Some(t) => view! { <button class="pod-open" title="Open a terminal in the default container" on:click=move |_| open.run(super::ways_in::with_chosen_command(t.clone(), windows))>{pod.name.clone()}</button> }.into_any(),
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

/// Why a container's files cannot be reached, if they cannot: podterm reaches them through
/// exec (or a debug container beside it), so they need a running container and exec.
fn files_denied(container: &crate::model::ContainerSummary, denied: bool) -> Option<String> {
    if denied {
        return Some(
            "You may not open shells in this namespace, and podterm reaches files through exec"
                .into(),
        );
    }
    container.not_connectable.as_ref().map(|why| {
        format!(
            "{}; podterm reaches files through a process in the container, so it must be running",
            super::upper_first(why)
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(listed: usize, matching: usize, total: usize, filter: &str) -> PodWindow {
        PodWindow {
            pods: vec![PodSummary::default(); listed],
            filter: filter.into(),
            limit: 200,
            matching,
            total,
            problem: None,
        }
    }

    #[test]
    fn the_count_line_reads_well() {
        assert_eq!(count(0), "0");
        assert_eq!(count(999), "999");
        assert_eq!(count(5000), "5,000");
        assert_eq!(count(1234567), "1,234,567");
        assert_eq!(tally(&window(1, 1, 1, ""), false, 200), "1 pod");
        assert_eq!(tally(&window(4, 4, 4, ""), false, 200), "4 pods");
        assert_eq!(
            tally(&window(200, 5000, 5000, ""), false, 200),
            "Showing 200 of 5,000 pods"
        );
        assert_eq!(
            tally(&window(12, 12, 5000, "web"), false, 200),
            "12 of 5,000 pods match"
        );
        assert_eq!(
            tally(&window(200, 812, 5000, "web"), false, 200),
            "Showing 200 of 812 matching, 5,000 pods in all"
        );
        assert_eq!(
            tally(&window(0, 0, 5000, "zzz"), false, 200),
            "None of 5,000 pods match"
        );
        assert_eq!(tally(&window(0, 0, 0, ""), false, 200), "");
        assert_eq!(
            tally(&window(200, 5000, 5000, ""), true, 200),
            "Filtering 5,000 pods…"
        );
        assert_eq!(
            tally(&window(200, 5000, 5000, ""), true, 400),
            "Listing more of 5,000 pods…"
        );
    }
}
