//! A pane files can be dropped onto: it shows an overlay while files are dragged over it,
//! and keeps what was dropped for the pane to take.

use leptos::ev::DragEvent;
use leptos::prelude::*;

use super::picked::Picked;

#[derive(Clone, Copy)]
pub struct DropZone {
    /// How deep the drag is in the pane's elements (each fires its own enter and leave).
    depth: StoredValue<i32>,
    pub over: RwSignal<bool>,
    /// What was dropped, until the pane takes it.
    pub dropped: RwSignal<Option<Vec<Picked>>>,
    /// A dropped folder that could not be read.
    pub problem: RwSignal<Option<String>>,
}

impl DropZone {
    pub fn new() -> Self {
        Self {
            depth: StoredValue::new(0),
            over: RwSignal::new(false),
            dropped: RwSignal::new(None),
            problem: RwSignal::new(None),
        }
    }

    pub fn enter(&self, event: DragEvent) {
        #[cfg(feature = "hydrate")]
        if super::picked::carries_files(&event) {
            event.prevent_default();
            self.depth.update_value(|d| *d += 1);
            self.over.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    }

    /// Says the drop is welcome (otherwise the browser would open the file).
    pub fn hover(&self, event: DragEvent) {
        #[cfg(feature = "hydrate")]
        if super::picked::carries_files(&event) {
            event.prevent_default();
            if let Some(transfer) = event.data_transfer() {
                transfer.set_drop_effect("copy");
            }
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    }

    pub fn leave(&self, _event: DragEvent) {
        self.depth.update_value(|d| *d = (*d - 1).max(0));
        if self.depth.get_value() == 0 {
            self.over.set(false);
        }
    }

    pub fn drop(&self, event: DragEvent) {
        self.depth.set_value(0);
        self.over.set(false);
        #[cfg(feature = "hydrate")]
        if super::picked::carries_files(&event) {
            event.prevent_default();
            let dropped = super::picked::dropped(&event);
            let zone = *self;
            leptos::task::spawn_local(async move {
                let (picked, problem) = match super::picked::walk(dropped).await {
                    Ok(picked) if picked.is_empty() => (
                        None,
                        Some("Nothing to upload: the folders dropped are empty.".to_string()),
                    ),
                    Ok(picked) => (Some(picked), None),
                    Err(why) => (
                        None,
                        Some(format!(
                            "{}: nothing was uploaded.",
                            crate::app::upper_first(&why)
                        )),
                    ),
                };
                zone.problem.try_set(problem);
                if picked.is_some() {
                    zone.dropped.try_set(picked);
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = event;
    }

    /// Takes what was dropped.
    pub fn take(&self) -> Option<Vec<Picked>> {
        self.dropped.try_update(Option::take).flatten()
    }
}

/// What shows over the pane while files are dragged over it.
#[component]
pub fn DropOverlay(zone: DropZone, #[prop(into)] words: Signal<String>) -> impl IntoView {
    view! {
        <Show when=move || zone.over.get()>
            <div class="drop-overlay" data-testid="drop-overlay">
                <p>{move || words.get()}</p>
            </div>
        </Show>
    }
}
