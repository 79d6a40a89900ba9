//! The uploads of one pane (a Files tab or a terminal), one at a time, in the order they
//! were added. A file that exists waits for the person's answer (Replace, Skip, Replace
//! all); the next ones wait behind it.

use leptos::prelude::*;

use super::picked::Picked;
use super::transfer::{Stage, Transfer};
use super::words::Failure;
use crate::model::Target;

/// The answer to "a file of this name is already there".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Replace,
    Skip,
    ReplaceAll,
}

#[derive(Clone, Copy)]
pub struct Uploads {
    pub list: RwSignal<Vec<Transfer>>,
    target: StoredValue<Target>,
    /// The files behind the list, by transfer id.
    files: StoredValue<Vec<(u32, Picked)>>,
    #[cfg(feature = "hydrate")]
    current: StoredValue<Option<(u32, std::rc::Rc<super::net::Upload>)>, LocalStorage>,
    /// "Replace all" was answered: files that exist are replaced without asking.
    replace_all: StoredValue<bool>,
    next_id: StoredValue<u32>,
    /// Runs whenever the last upload of a run ends (a listing shows what landed).
    settled: StoredValue<Option<Callback<()>>>,
}

impl Uploads {
    pub fn new(target: Target) -> Self {
        let uploads = Self {
            list: RwSignal::new(Vec::new()),
            target: StoredValue::new(target),
            files: StoredValue::new(Vec::new()),
            #[cfg(feature = "hydrate")]
            current: StoredValue::new_local(None),
            replace_all: StoredValue::new(false),
            next_id: StoredValue::new(0),
            settled: StoredValue::new(None),
        };
        // A pane that closes stops its upload (podterm removes the partial file).
        on_cleanup(move || uploads.cancel_all());
        uploads
    }

    pub fn on_settled(&self, settled: Callback<()>) {
        self.settled.set_value(Some(settled));
    }

    /// Some upload is not over.
    pub fn busy(&self) -> bool {
        self.list.with(|l| l.iter().any(|t| !t.stage.is_over()))
    }

    /// Queues `picked` for directory `dir`, and starts.
    pub fn add(&self, picked: Vec<Picked>, dir: &str, executable: bool) {
        if !self.busy() {
            self.replace_all.set_value(false);
        }
        for file in picked {
            let id = self.next_id.get_value() + 1;
            self.next_id.set_value(id);
            let (path, stage) = match crate::files::join(dir, &file.name) {
                Ok(path) => (path, Stage::Waiting),
                Err(e) => (String::new(), Stage::Failed(Failure::new(400, e))),
            };
            self.list.update(|l| {
                l.push(Transfer {
                    id,
                    name: file.name.clone(),
                    path,
                    size: file.size,
                    mtime: file.mtime,
                    executable,
                    stage,
                })
            });
            self.files.update_value(|f| f.push((id, file)));
        }
        self.pump();
    }

    fn set(&self, id: u32, stage: Stage) {
        self.list.try_update(|l| {
            if let Some(t) = l.iter_mut().find(|t| t.id == id) {
                t.stage = stage;
            }
        });
    }

    fn stage(&self, id: u32) -> Option<Stage> {
        self.list
            .try_with_untracked(|l| l.iter().find(|t| t.id == id).map(|t| t.stage.clone()))
            .flatten()
    }

    pub fn answer(&self, id: u32, answer: Answer) {
        if self.stage(id) != Some(Stage::Asking) {
            return;
        }
        match answer {
            Answer::Skip => {
                self.set(id, Stage::Skipped);
                self.pump();
            }
            Answer::ReplaceAll | Answer::Replace => {
                if answer == Answer::ReplaceAll {
                    self.replace_all.set_value(true);
                }
                self.send(id, true);
            }
        }
    }

    /// Stops an upload, or takes a waiting one off the list's run.
    pub fn cancel(&self, id: u32) {
        #[cfg(feature = "hydrate")]
        if let Some((_, upload)) = self
            .current
            .try_with_value(|c| c.clone())
            .flatten()
            .filter(|(now, _)| *now == id)
        {
            // Its end (`finish`) says Cancelled.
            upload.cancel();
            return;
        }
        if matches!(self.stage(id), Some(Stage::Waiting | Stage::Asking)) {
            self.set(id, Stage::Cancelled);
            self.pump();
        }
    }

    pub fn cancel_all(&self) {
        let ids: Vec<u32> = self
            .list
            .try_with_untracked(|l| {
                l.iter()
                    .filter(|t| !t.stage.is_over())
                    .map(|t| t.id)
                    .collect()
            })
            .unwrap_or_default();
        // The waiting ones first, so that the end of the current one starts none of them.
        for id in ids.iter().rev() {
            self.cancel(*id);
        }
    }

    /// Sends a failed or cancelled upload again.
    pub fn retry(&self, id: u32) {
        if matches!(self.stage(id), Some(Stage::Failed(_) | Stage::Cancelled)) {
            self.set(id, Stage::Waiting);
            self.pump();
        }
    }

    /// Takes the finished uploads off the list.
    pub fn clear(&self) {
        let over: Vec<u32> = self.list.with_untracked(|l| {
            l.iter()
                .filter(|t| t.stage.is_over())
                .map(|t| t.id)
                .collect()
        });
        self.list.update(|l| l.retain(|t| !over.contains(&t.id)));
        self.files
            .update_value(|f| f.retain(|(id, _)| !over.contains(id)));
    }

    /// Starts the next waiting upload, unless one is on its way or waits for an answer.
    fn pump(&self) {
        let (running, next) = self
            .list
            .try_with_untracked(|l| {
                let running = l.iter().any(|t| {
                    matches!(t.stage, Stage::Sending(_) | Stage::Checking | Stage::Asking)
                });
                let next = l.iter().find(|t| t.stage == Stage::Waiting).map(|t| t.id);
                (running, next)
            })
            .unwrap_or((true, None));
        if running {
            return;
        }
        match next {
            Some(id) => self.send(id, self.replace_all.get_value()),
            None => {
                if let Some(settled) = self.settled.try_get_value().flatten() {
                    settled.run(());
                }
            }
        }
    }

    #[cfg(not(feature = "hydrate"))]
    fn send(&self, _id: u32, _overwrite: bool) {}

    #[cfg(feature = "hydrate")]
    fn send(&self, id: u32, overwrite: bool) {
        use super::address::{Put, upload};
        use super::net::{Reply, Upload, count};
        use super::transfer::Progress;
        let Some(transfer) = self
            .list
            .with_untracked(|l| l.iter().find(|t| t.id == id).cloned())
        else {
            return;
        };
        let file = self.files.with_value(|f| {
            f.iter()
                .find(|(i, _)| *i == id)
                .map(|(_, p)| web_sys::File::clone(&p.file))
        });
        let Some(file) = file else { return };
        let put = Put {
            overwrite,
            mtime: transfer.mtime,
            executable: transfer.executable,
        };
        let url = self.target.with_value(|t| upload(t, &transfer.path, put));
        let now = js_sys::Date::now;
        self.set(
            id,
            Stage::Sending(Progress::new(transfer.size as f64, now())),
        );
        let this = *self;
        let progress = move |sent: f64| {
            this.list.try_update(|l| {
                if let Some(Stage::Sending(p)) =
                    l.iter_mut().find(|t| t.id == id).map(|t| &mut t.stage)
                {
                    p.update(sent, now());
                }
            });
        };
        let sent = move || this.set(id, Stage::Checking);
        let done = move |reply: Reply| {
            count(false);
            this.current.try_set_value(None);
            this.finish(id, reply, overwrite);
        };
        match Upload::start(&url, &file, progress, sent, done) {
            Ok(upload) => {
                count(true);
                self.current.set_value(Some((id, upload)));
            }
            Err(failure) => {
                self.set(id, Stage::Failed(failure));
                self.pump();
            }
        }
    }

    /// `overwrite`: the upload was to replace what is there; a conflict then is not a
    /// file that exists (a folder of that name, say), and is said as it is.
    #[cfg(feature = "hydrate")]
    fn finish(&self, id: u32, reply: super::net::Reply, overwrite: bool) {
        use super::net::Reply;
        let stage = match reply {
            Reply::Landed(uploaded) => Stage::Done(uploaded),
            Reply::Refused(failure) if failure.status == 409 && !overwrite => {
                if self.replace_all.try_get_value() == Some(true) {
                    return self.send(id, true);
                }
                Stage::Asking
            }
            Reply::Refused(failure) => Stage::Failed(failure),
            Reply::Aborted => Stage::Cancelled,
        };
        self.set(id, stage);
        self.pump();
    }
}
