//! One container's buttons in the pod list: its terminal (with the command chosen for it),
//! the command picker, Attach where its main process reads stdin, and Debug. A debug
//! container shows as what it debugs ("debug → payments") and opens as a terminal.

use leptos::prelude::*;

use super::command::{Choice, remembered, storage_key};
use super::debug::DebugAction;
use super::picker::Picker;
use super::{OpenPicker, Way, Ways};
use crate::app::Terminal;
use crate::model::{ContainerSummary, PodSummary, Target};

/// Why a container that is not running cannot have a debug container beside it.
pub fn not_running_for_debug(container: &str) -> String {
    format!(
        "a debug container shares its target's processes, so it needs {container} running: read its logs, or debug another container of the pod"
    )
}

/// `denied`: no shell may be opened in this namespace (the list says so once, above).
#[component]
pub fn ContainerActions(
    pod: PodSummary,
    container: ContainerSummary,
    context: Option<String>,
    open: Callback<Terminal>,
    denied: bool,
) -> impl IntoView {
    let ways = use_context::<Ways>().unwrap_or_default();
    let target = Target {
        context: context.clone(),
        namespace: pod.namespace.clone(),
        pod: pod.name.clone(),
        container: container.name.clone(),
    };
    let c = container;
    let not_connectable = c.not_connectable.clone();
    let why_not = not_connectable
        .clone()
        .map(|why| view! { <span class="why-not">{why}</span> });
    let shell_denied = || "You may not open shells in this namespace".to_string();
    if let Some(of) = c.debug_of.clone() {
        let terminal = Terminal {
            target,
            way: Way::Debug {
                of: of.clone(),
                reused: false,
            },
            ..Default::default()
        };
        let title = match &not_connectable {
            Some(why) => why.clone(),
            None if denied => shell_denied(),
            None => format!(
                "A debug container ({}) beside {of}: open a shell in it",
                c.image
            ),
        };
        return view! {
            <button class="container debug-of" disabled=not_connectable.is_some() || denied title=title
                data-container=c.name.clone() on:click=move |_| open.run(terminal.clone())>
                "debug → " {of}
            </button>
            {why_not}
        }
        .into_any();
    }
    let base = Terminal {
        target: target.clone(),
        ..Default::default()
    };
    let windows = pod.windows;
    let key = storage_key(context.as_deref(), &pod.namespace, &c.name);
    let choice = RwSignal::new(Choice::default_for(windows));
    // Read once the page is hydrated: the server cannot know what this browser keeps.
    #[cfg(feature = "hydrate")]
    {
        let key = key.clone();
        Effect::new(move |_| choice.set(remembered(&key, windows)));
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = remembered;
    let open_picker = use_context::<OpenPicker>()
        .unwrap_or_else(|| OpenPicker(RwSignal::new(None)))
        .0;
    let picker_key = StoredValue::new(key.clone());
    let picking = Signal::derive(move || {
        open_picker.with(|open| picker_key.with_value(|key| open.as_ref() == Some(key)))
    });
    let disabled = not_connectable.is_some() || denied;
    let is_default = pod.default_container.as_deref() == Some(c.name.as_str());
    let title = {
        let (name, image) = (c.name.clone(), c.image.clone());
        let reason = not_connectable.clone();
        move || match &reason {
            Some(why) => why.clone(),
            None if denied => shell_denied(),
            None => format!(
                "Open a terminal in {name} ({image}) running {}",
                choice.with(Choice::label)
            ),
        }
    };
    let opens = base.clone();
    let chosen = move || {
        choice.with(|c| (*c != Choice::default_for(windows)).then(|| c.label()))
            .map(|label| view! { <code class="chosen" title="The command chosen for this container">{label}</code> })
    };
    // A container that is not running: the guide says why and what can be done.
    let why = (not_connectable.is_some() && !denied && !pod.terminating && pod.phase != "Pending")
        .then(|| {
            let terminal = base.clone();
            view! {
                <button class="button small way" title="See its state, its last log lines and the ways in"
                    on:click=move |_| open.run(terminal.clone())>"Why?"</button>
            }
        });
    let attach = c.interactive.then(|| {
        let reason = ways.attach_denied.clone().or_else(|| not_connectable.clone());
        let terminal = Terminal {
            target: target.clone(),
            way: Way::Attach { stdin: true },
            ..Default::default()
        };
        view! {
            <button class="button small way attach" disabled=reason.is_some()
                title=reason.clone().unwrap_or_else(|| "Attach to the main process, which reads what you type; closing detaches".into())
                on:click=move |_| open.run(terminal.clone())>"Attach"</button>
        }
    });
    let debug_denied = ways.debug_denied.clone().or_else(|| {
        if pod.terminating {
            Some("the pod is being deleted".into())
        } else if matches!(pod.phase.as_str(), "Succeeded" | "Failed") {
            Some("the pod has ended; a debug container cannot start in it".into())
        } else if pod.phase == "Pending" {
            Some("the pod is not running yet".into())
        } else {
            not_connectable
                .as_ref()
                .map(|_| not_running_for_debug(&c.name))
        }
    });
    let picker_label = format!("Choose the command for {}", c.name);
    view! {
        <span class="container-ways" data-ways=c.name.clone()>
            <button class="container" class:default=is_default
                disabled=disabled title=title data-container=c.name.clone()
                on:click=move |_| open.run(choice.with_untracked(|c| c.apply(opens.clone())))>
                {c.name.clone()}
            </button>
            {chosen}
            {(!disabled).then(|| view! {
                <button class="button small way pick" aria-label=picker_label.clone() title=picker_label.clone()
                    aria-expanded=move || picking.get().to_string()
                    on:click=move |_| {
                        let key = picker_key.get_value();
                        open_picker.update(|open| *open = (open.as_ref() != Some(&key)).then_some(key));
                    }>"▾"</button>
            })}
            {attach}
            <DebugAction target denied=debug_denied image=ways.debug_image.clone()/>
            {why}
        </span>
        {why_not}
        <Show when=move || picking.get()>
            <Picker choice key=key.clone() windows terminal=base.clone() open close=Callback::new(move |()| open_picker.set(None))/>
        </Show>
    }
    .into_any()
}
