//! A log view's reads: the first one with the options chosen; after a dropped connection,
//! again from the view's last line (backing off, for up to two minutes), leaving out the
//! lines the view already has; again from there when follow is turned back on.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};
use std::time::Duration;

use leptos::leptos_dom::helpers::{TimeoutHandle, set_timeout_with_handle};
use leptos::prelude::*;

use super::lines::{Line, Resume, Splitter, Store};
use super::request::{Options, Read};
use super::screen::Screen;
use super::state::{Counts, Failure, LogState};
use super::stream::{self, Outcome};
use crate::model::Target;

/// Waits before the attempts to read again; later attempts wait the last one.
const BACKOFF_MS: [u64; 6] = [250, 500, 1_000, 2_000, 4_000, 5_000];
/// How long after a drop the view keeps trying.
const GIVE_UP_MS: f64 = 120_000.0;

pub struct Reader {
    target: Target,
    pub state: RwSignal<LogState>,
    pub counts: RwSignal<Counts>,
    pub store: RefCell<Store>,
    pub screen: Screen,
    options: Cell<Options>,
    splitter: RefCell<Splitter>,
    resume: RefCell<Option<Resume>>,
    abort: RefCell<Option<web_sys::AbortController>>,
    /// Counts reads; what an older read reports is ignored.
    serial: Cell<u32>,
    /// When the connection dropped, while reading again.
    lost_since: Cell<Option<f64>>,
    retries: Cell<u32>,
    retry_timer: Cell<Option<TimeoutHandle>>,
    /// A draw waits for the next frame.
    drawing: Cell<bool>,
    this: Weak<Reader>,
}

impl Reader {
    pub fn new(
        target: Target,
        screen: Screen,
        state: RwSignal<LogState>,
        counts: RwSignal<Counts>,
    ) -> Rc<Reader> {
        Rc::new_cyclic(|this| Reader {
            target,
            state,
            counts,
            store: RefCell::new(Store::default()),
            screen,
            options: Cell::new(Options::default()),
            splitter: RefCell::new(Splitter::default()),
            resume: RefCell::new(None),
            abort: RefCell::new(None),
            serial: Cell::new(0),
            lost_since: Cell::new(None),
            retries: Cell::new(0),
            retry_timer: Cell::new(None),
            drawing: Cell::new(false),
            this: this.clone(),
        })
    }

    /// A new read with these options: the lines shown so far go.
    pub fn start(&self, options: Options) {
        self.stop();
        self.options.set(options);
        self.store.borrow_mut().clear();
        self.screen.clear();
        self.show_counts();
        self.lost_since.set(None);
        self.retries.set(0);
        self.read(options.first_read(js_sys::Date::now()), None);
    }

    /// Reads on from the view's last line (after a drop, a failure, or with follow turned
    /// back on); from the start when it has none.
    pub fn carry_on(&self, options: Options) {
        self.stop();
        self.options.set(options);
        let resume = Resume::from(self.store.borrow().end());
        match resume {
            Some(resume) => {
                let read = options.read_from(resume.since_time());
                self.read(read, Some(resume));
            }
            None => {
                self.store.borrow_mut().clear();
                self.screen.clear();
                self.read(options.first_read(js_sys::Date::now()), None);
            }
        }
    }

    /// Follow turned off: the lines stay, nothing more comes.
    pub fn pause(&self) {
        self.stop();
        self.lost_since.set(None);
        self.state.set(LogState::Paused);
    }

    /// Stops the current read, if any, and a wait to read again.
    pub fn stop(&self) {
        self.serial.set(self.serial.get().wrapping_add(1));
        if let Some(abort) = self.abort.borrow_mut().take() {
            abort.abort();
        }
        if let Some(timer) = self.retry_timer.take() {
            timer.clear();
        }
    }

    fn read(&self, read: Read, resume: Option<Resume>) {
        let serial = self.serial.get().wrapping_add(1);
        self.serial.set(serial);
        // A line cut off by the previous read's end comes again whole.
        *self.splitter.borrow_mut() = Splitter::default();
        *self.resume.borrow_mut() = resume;
        if self.lost_since.get().is_none() {
            self.state.set(LogState::Loading);
        }
        let Ok(abort) = web_sys::AbortController::new() else {
            return self.failed(Failure {
                status: 500,
                message: "this browser cannot stop a read".into(),
            });
        };
        let signal = abort.signal();
        *self.abort.borrow_mut() = Some(abort);
        let url = format!("{}{}", crate::app::base(), read.path(&self.target));
        let follow = read.follow;
        let this = self.this.clone();
        leptos::task::spawn_local(async move {
            let current = |this: &Weak<Reader>| this.upgrade().filter(|r| r.serial.get() == serial);
            let outcome = stream::read(
                &url,
                &signal,
                || {
                    if let Some(r) = current(&this) {
                        r.opened(follow);
                    }
                },
                |bytes| {
                    if let Some(r) = current(&this) {
                        r.received(bytes);
                    }
                },
            )
            .await;
            if let Some(r) = current(&this) {
                r.finished(outcome, follow);
            }
        });
    }

    fn opened(&self, follow: bool) {
        self.lost_since.set(None);
        self.retries.set(0);
        self.state.set(if follow {
            LogState::Following
        } else {
            LogState::Reading
        });
    }

    fn received(&self, bytes: &[u8]) {
        let mut raw = Vec::new();
        self.splitter.borrow_mut().push(bytes, &mut raw);
        self.add(raw);
    }

    fn add(&self, raw: Vec<String>) {
        if raw.is_empty() {
            return;
        }
        {
            let mut store = self.store.borrow_mut();
            let mut resume = self.resume.borrow_mut();
            for text in raw {
                let line = Line::new(text);
                if resume.as_mut().is_some_and(|r| r.has(&line)) {
                    continue;
                }
                store.push(line);
            }
        }
        self.draw_soon();
    }

    fn finished(&self, outcome: Outcome, follow: bool) {
        *self.abort.borrow_mut() = None;
        match outcome {
            Outcome::Ended => {
                let mut rest = Vec::new();
                self.splitter.borrow_mut().finish(&mut rest);
                self.add(rest);
                self.state.set(if follow {
                    LogState::Stopped
                } else {
                    LogState::Ended
                });
            }
            Outcome::Refused { status, message } => {
                if self.lost_since.get().is_some() && Failure::passing(status) {
                    self.lost(message);
                } else {
                    self.failed(Failure { status, message });
                }
            }
            Outcome::Dropped(why) => self.lost(why),
            Outcome::Aborted => {}
        }
    }

    /// The connection failed or dropped: read again after a while, or give up.
    fn lost(&self, why: String) {
        let now = js_sys::Date::now();
        let since = *self.lost_since.get().get_or_insert(now);
        self.lost_since.set(Some(since));
        if now - since >= GIVE_UP_MS {
            self.lost_since.set(None);
            return self.failed(Failure {
                status: 0,
                message: why,
            });
        }
        let attempt = self.retries.get() + 1;
        self.retries.set(attempt);
        self.state.set(LogState::Reconnecting { attempt });
        let wait = BACKOFF_MS[(attempt as usize - 1).min(BACKOFF_MS.len() - 1)];
        let this = self.this.clone();
        let timer = set_timeout_with_handle(
            move || {
                if let Some(r) = this.upgrade() {
                    r.retry_timer.set(None);
                    r.carry_on(r.options.get());
                }
            },
            Duration::from_millis(wait),
        );
        self.retry_timer.set(timer.ok());
    }

    fn failed(&self, failure: Failure) {
        self.stop();
        self.state.set(LogState::Failed(failure));
    }

    /// Draws at the next frame, once however many reads come before it.
    fn draw_soon(&self) {
        if self.drawing.replace(true) {
            return;
        }
        let this = self.this.clone();
        request_animation_frame(move || {
            if let Some(r) = this.upgrade() {
                r.drawing.set(false);
                r.draw_now();
            }
        });
    }

    /// Draws what waits to be drawn.
    pub fn draw_now(&self) {
        self.screen.draw(&mut self.store.borrow_mut());
        self.show_counts();
    }

    pub fn show_counts(&self) {
        let store = self.store.borrow();
        self.counts.set(Counts {
            lines: store.len(),
            dropped: store.dropped,
            matching: store.matching,
        });
    }
}
