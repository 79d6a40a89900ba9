//! The Debug action: says what a debug container is before starting one, shows its
//! progress (`POST /api/debug/NS/POD/CONTAINER` answers once it runs, which can take a
//! while when its image is pulled), then opens a terminal in it.

use std::collections::HashMap;

use leptos::prelude::*;

use super::opener;
use crate::model::Target;

/// Where the action stands.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Idle,
    /// Saying what it does, waiting for a yes.
    Asking,
    Starting,
    Failed(String),
}

/// Where each container's Debug action stands, kept by the pod list rather than its rows:
/// a row is made again whenever its pod changes (a debug container added, a restart).
#[derive(Clone, Copy)]
pub struct DebugSteps(RwSignal<HashMap<String, Step>>);

impl DebugSteps {
    pub fn new() -> Self {
        Self(RwSignal::new(HashMap::new()))
    }
}

/// What the server answers once the debug container runs.
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
#[derive(serde::Deserialize)]
struct Started {
    container: String,
    #[serde(default)]
    reused: bool,
}

/// One container's step in `steps`, as a signal.
#[derive(Clone)]
struct Keyed {
    steps: RwSignal<HashMap<String, Step>>,
    key: StoredValue<String>,
}

impl Copy for Keyed {}

impl Step {
    fn keyed(steps: RwSignal<HashMap<String, Step>>, key: String) -> Keyed {
        Keyed {
            steps,
            key: StoredValue::new(key),
        }
    }
}

impl Keyed {
    fn get(&self) -> Step {
        let key = self.key.get_value();
        self.steps
            .with(|s| s.get(&key).cloned())
            .unwrap_or(Step::Idle)
    }

    fn set(&self, step: Step) {
        set_step(self.steps, self.key.get_value(), step);
    }
}

/// Also from a task that outlives the row (its steps are the list's).
fn set_step(steps: RwSignal<HashMap<String, Step>>, key: String, step: Step) {
    steps.try_update(|s| {
        if step == Step::Idle {
            s.remove(&key);
        } else {
            s.insert(key, step);
        }
    });
}

/// A "Debug" button for container `target`, and what follows it. `denied`: why the person
/// may not (the button is disabled, with the reason; `explain` also says it beside it).
#[component]
pub fn DebugAction(
    target: Target,
    denied: Option<String>,
    /// The image it runs.
    image: String,
    #[prop(optional)] explain: bool,
    #[prop(default = "Debug")] label: &'static str,
) -> impl IntoView {
    let key = format!(
        "{} {}/{}/{}",
        target.context.as_deref().unwrap_or(""),
        target.namespace,
        target.pod,
        target.container
    );
    let steps = use_context::<DebugSteps>()
        .unwrap_or_else(DebugSteps::new)
        .0;
    let step = Step::keyed(steps, key);
    let open = opener();
    let container = target.container.clone();
    let title = match &denied {
        Some(why) => upper_first(why),
        None => format!("Start a debug container beside {container} and open a shell in it"),
    };
    let reason = denied
        .clone()
        .filter(|_| explain)
        .map(|why| view! { <span class="why-not">{upper_first(&why)}</span> });
    let disabled = denied.is_some();
    let target = StoredValue::new(target);
    let go = move || {
        step.set(Step::Starting);
        let (steps, key) = (step.steps, step.key.get_value());
        #[cfg(not(feature = "hydrate"))]
        let _ = (steps, key);
        #[cfg(feature = "hydrate")]
        leptos::task::spawn_local(async move {
            let target = target.get_value();
            match start(&target).await {
                Ok(started) => {
                    set_step(steps, key, Step::Idle);
                    open.run(crate::app::Terminal {
                        target: Target {
                            container: started.container,
                            ..target.clone()
                        },
                        way: super::Way::Debug {
                            of: target.container.clone(),
                            reused: started.reused,
                        },
                        ..Default::default()
                    });
                }
                Err(why) => {
                    set_step(steps, key, Step::Failed(why));
                }
            }
        });
        #[cfg(not(feature = "hydrate"))]
        let _ = (target, open);
    };
    let panel = move || {
        let container = container.clone();
        let image = image.clone();
        match step.get() {
            Step::Idle => None,
            Step::Asking => Some(
                view! {
                    <div class="debug-panel" role="dialog" aria-label="Start a debug container?">
                        <p><strong>"Start a debug container beside " {container.clone()} "?"</strong></p>
                        <ul>
                            <li>"It runs " <code>{image}</code> " in the pod and sees " {container.clone()} "'s processes: its files are at " <code>"/proc/1/root"</code> "."</li>
                            <li>"It runs as " {container.clone()} "'s user, with all capabilities dropped."</li>
                            <li>"A debug container stays in the pod's spec until the pod is deleted. podterm reuses yours while it runs."</li>
                        </ul>
                        <button class="button small primary" on:click=move |_| go()>"Start the debug container"</button>
                        " "
                        <button class="button small" on:click=move |_| step.set(Step::Idle)>"Cancel"</button>
                    </div>
                }
                .into_any(),
            ),
            Step::Starting => Some(
                view! {
                    <div class="debug-panel" role="status">
                        <progress class="debug-progress" aria-label="Starting a debug container"></progress>
                        <p>"Starting a debug container… (its image may have to be pulled first)"</p>
                    </div>
                }
                .into_any(),
            ),
            Step::Failed(why) => Some(
                view! {
                    <div class="debug-panel error-box" role="alert">
                        <p><strong>"The debug container could not start"</strong></p>
                        <p>{upper_first(&why)}</p>
                        <button class="button small" on:click=move |_| step.set(Step::Asking)>"Try again"</button>
                        " "
                        <button class="button small" on:click=move |_| step.set(Step::Idle)>"Close"</button>
                    </div>
                }
                .into_any(),
            ),
        }
    };
    view! {
        <button class="button small way debug" disabled=disabled title=title
            aria-label=format!("{label}: start a debug container beside {}", target.with_value(|t| t.container.clone()))
            on:click=move |_| if step.get() == Step::Idle { step.set(Step::Asking) }>
            {label}
        </button>
        {reason}
        {panel}
    }
}

/// Asks the server for the debug container; Err is a sentence for the person.
#[cfg(feature = "hydrate")]
async fn start(target: &Target) -> Result<Started, String> {
    use crate::protocol::encode;
    let mut url = format!(
        "/api/debug/{}/{}/{}",
        encode(&target.namespace),
        encode(&target.pod),
        encode(&target.container)
    );
    if let Some(context) = &target.context {
        url.push_str(&format!("?context={}", encode(context)));
    }
    crate::app::requests::fetch_json("POST", &url)
        .await
        .map_err(|failure| match failure.status {
            0 => "podterm could not be reached; check your connection and try again".into(),
            401 => "your login has ended; reload the page to log in again".into(),
            status if failure.message.is_empty() => format!("podterm answered {status}"),
            _ => failure.message,
        })
}

fn upper_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
