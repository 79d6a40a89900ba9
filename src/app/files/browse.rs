//! The folder a Files tab shows: which one was asked for, and where its listing stands.

use leptos::prelude::*;

use super::words::Failure;
use crate::files::Listing;
use crate::model::Target;

#[derive(Debug, Clone, PartialEq)]
pub enum Shown {
    Loading,
    Listed(Listing),
    Failed(Failure),
}

#[derive(Clone, Copy)]
pub struct Browser {
    target: StoredValue<Target>,
    /// The folder asked for; `None`: the container's working directory.
    pub asked: RwSignal<Option<String>>,
    pub shown: RwSignal<Shown>,
    /// Only the answer to the last request is shown.
    generation: StoredValue<u32>,
}

impl Browser {
    pub fn new(target: Target) -> Self {
        Self {
            target: StoredValue::new(target),
            asked: RwSignal::new(None),
            shown: RwSignal::new(Shown::Loading),
            generation: StoredValue::new(0),
        }
    }

    /// The folder listed, once it is.
    pub fn dir(&self) -> Option<String> {
        self.shown.with(|s| match s {
            Shown::Listed(listing) => Some(listing.path.clone()),
            _ => None,
        })
    }

    pub fn go(&self, path: Option<String>) {
        self.asked.set(path);
        self.load(false);
    }

    /// Lists the folder asked for again; `quiet`: the old listing stays until the new one
    /// comes (after uploads).
    pub fn load(&self, quiet: bool) {
        let generation = self.generation.get_value() + 1;
        self.generation.set_value(generation);
        if !quiet {
            self.shown.set(Shown::Loading);
        }
        #[cfg(feature = "hydrate")]
        {
            let this = *self;
            let url = self
                .target
                .with_value(|t| super::address::list(t, self.asked.get_untracked().as_deref()));
            leptos::task::spawn_local(async move {
                let answer = crate::app::requests::fetch_json::<Listing>("GET", &url).await;
                if this.generation.try_get_value() != Some(generation) {
                    return;
                }
                this.shown.try_set(match answer {
                    Ok(listing) => Shown::Listed(listing),
                    Err(failure) => Shown::Failed(failure),
                });
            });
        }
    }

    /// The folder above the one shown (or asked for).
    pub fn up(&self) -> Option<String> {
        let here = self.dir().or_else(|| self.asked.get())?;
        (here != "/").then(|| crate::files::parent(&here).to_string())
    }
}
