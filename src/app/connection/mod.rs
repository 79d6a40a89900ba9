//! A terminal's connection to podterm: xterm.js on one end, podterm's exec WebSocket on
//! the other (see `crate::protocol`).
//!
//! One `Connection` lives as long as its terminal and may go through several sessions (the
//! Reconnect button starts a new one) and several sockets per session (a dropped socket is
//! resumed at the output offset the page has received). Its socket is `socket`, with
//! `keepalive`; what the terminal sends is `input`; what the page has of the output is
//! `output`; the server's events are read by `events`; `page_unload` asks before the page
//! closes while one is live.

use std::cell::{Cell, RefCell};
use std::rc::{Rc, Weak};

use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::WebSocket;

mod broadcast;
mod events;
mod input;
mod keepalive;
mod output;
mod page_unload;
mod socket;

use super::Terminal;
use super::early_start::{self, EarlyStart};
use super::keybar::Sticky;
use super::reach::{self, ScreenReader};
use super::terminal::{SessionState, failure_words, next_step};
use super::xterm::{self, TerminalHandle};
use crate::protocol::{ClientMessage, ErrorReason, ServerEvent};
use events::parse_event;
use keepalive::Keepalive;
use output::Output;
pub use page_unload::guard_page_unload;

const RED: &str = "\x1b[1;31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Waits before the resume attempts; later attempts wait the last one.
const BACKOFF_MS: [i32; 6] = [250, 500, 1_000, 2_000, 4_000, 5_000];
/// How long after a drop the page keeps trying to resume.
const GIVE_UP_MS: f64 = 120_000.0;

fn now() -> f64 {
    js_sys::Date::now()
}

struct Connection {
    term: TerminalHandle,
    /// What it runs, where.
    terminal: Terminal,
    state: RwSignal<SessionState>,
    /// The server session's id while it can be resumed, for the page to remember.
    session_out: RwSignal<Option<String>>,
    /// Attaching to a shell the page had before (a reload, a move from the dashboard): if
    /// it has ended meanwhile, a new one starts instead.
    restoring: Cell<bool>,
    /// The session moved to another page: closing this terminal leaves it running.
    moved: Cell<bool>,
    /// Ctrl and Alt held on the key bar, for the next key typed.
    sticky: Option<Sticky>,
    /// Marked for broadcast input (`broadcast`).
    marked: Cell<bool>,
    /// What the server last heard of broadcast input into this session.
    broadcast_said: Cell<bool>,
    /// Nothing but line breaks has come from a new session yet: they are not shown (busybox
    /// starts its banner with two), so the terminal does not open on blank lines.
    leading: Cell<bool>,
    socket: RefCell<Option<WebSocket>>,
    /// Counts sockets; events of an older socket are ignored.
    socket_serial: Cell<u32>,
    /// The current connection's `Attached` arrived.
    attached: Cell<bool>,
    /// The server session's id while it can be resumed; `None` after it ended.
    session_id: RefCell<Option<String>>,
    output: Output,
    /// Typed before the connection attached; sent in order once it does.
    pending: RefCell<Vec<u8>>,
    keepalive: Keepalive,
    /// When the connection dropped, while resuming.
    lost_since: Cell<Option<f64>>,
    retries: Cell<u32>,
    tick_timer: Cell<Option<i32>>,
    retry_timer: Cell<Option<i32>>,
    counted_live: Cell<bool>,
    on_written: Closure<dyn FnMut()>,
    on_tick: Closure<dyn FnMut()>,
    on_retry: Closure<dyn FnMut()>,
    socket_callbacks: RefCell<Vec<Box<dyn std::any::Any>>>,
    terminal_callbacks: RefCell<Vec<Box<dyn std::any::Any>>>,
}

/// A terminal's connection, for its page.
#[derive(Clone, Copy)]
pub struct Handle(StoredValue<Option<Rc<Connection>>, LocalStorage>);

impl Handle {
    /// The terminal, once it exists (the session's state has left `Starting` by then).
    pub fn term(&self) -> Option<TerminalHandle> {
        self.0
            .try_get_value()
            .flatten()
            .map(|connection| connection.term.clone())
    }

    /// The session goes on in another page: let go of it without ending it.
    pub fn detach(&self) {
        if let Some(connection) = self.0.try_get_value().flatten() {
            connection.detach();
        }
    }

    /// Sends text to the shell as if typed (the key bar's keys).
    pub fn send(&self, text: &str) {
        if let Some(connection) = self.0.try_get_value().flatten() {
            connection.typed(text.as_bytes());
        }
    }

    /// Whether the program wants the arrows' application mode.
    pub fn application_cursor(&self) -> bool {
        self.0
            .try_get_value()
            .flatten()
            .is_some_and(|connection| connection.term.application_cursor())
    }
}

/// What a terminal's page gives its connection.
pub struct Setup {
    pub host: NodeRef<Div>,
    pub terminal: Terminal,
    pub state: RwSignal<SessionState>,
    /// Changes when the person asks for a new session (the Reconnect button).
    pub attempt: RwSignal<u32>,
    /// The terminal shows (its tab is in a pane).
    pub visible: Signal<bool>,
    /// Its pane has the keyboard.
    pub focused: Signal<bool>,
    /// A session of this page's to attach to first.
    pub resume: Option<String>,
    /// The session's id while it can be resumed.
    pub session: RwSignal<Option<String>>,
    pub sticky: Option<Sticky>,
    /// Marked for broadcast input: typing goes to every marked terminal.
    pub broadcast: Option<RwSignal<bool>>,
}

/// Starts the terminal once its host element exists, and starts a new session on every
/// change of `attempt` (the Reconnect button). `resume`: a session of this page's to
/// attach to first (its id is kept in `session` while it can be resumed).
pub fn start(setup: Setup) -> Handle {
    let Setup {
        host,
        terminal,
        state,
        attempt,
        visible,
        focused,
        resume,
        session,
        sticky,
        broadcast,
    } = setup;
    let reader = use_context::<ScreenReader>();
    let screen_reader = move || reader.map_or_else(reach::stored, |r| r.0.get());
    let connection = StoredValue::new_local(None::<Rc<Connection>>);
    let resume = StoredValue::new(resume);
    Effect::new(move |_| {
        let again = attempt.get() > 0;
        let Some(element) = host.get() else { return };
        if let Some(connection) = connection.get_value() {
            connection.start(again, None, None);
            // The Reconnect button is gone: keys go to the terminal again.
            connection.term.focus();
            return;
        }
        // On a terminal's own page the page's script may have started it already.
        let early = early_start::take(&element);
        let term = match &early {
            Some(early) => early.terminal(),
            None => match xterm::create(&element) {
                Ok(term) => term,
                Err(e) => {
                    return state.set(SessionState::Failed {
                        reason: ErrorReason::Internal,
                        message: format!("the terminal could not load ({e})"),
                    });
                }
            },
        };
        let created = Connection::new(term, terminal.clone(), state, session, sticky);
        broadcast::join(&created);
        connection.set_value(Some(created.clone()));
        created.start(false, early, resume.get_value());
        if focused.get_untracked() {
            created.term.focus();
        }
    });
    // A terminal that comes into a pane fits it; the pane with the keyboard gives it to its
    // terminal.
    Effect::new(move |_| {
        if visible.get()
            && let Some(connection) = connection.get_value()
        {
            connection.term.fit();
            if focused.get() {
                connection.term.focus();
            }
        }
    });
    Effect::new(move |_| {
        let marked = broadcast.is_some_and(|b| b.get());
        if let Some(connection) = connection.get_value() {
            connection.marked.set(marked);
            broadcast::refresh();
        }
    });
    Effect::new(move |_| {
        let on = screen_reader();
        if let Some(connection) = connection.get_value() {
            connection.term.set_screen_reader_mode(on);
        }
    });
    on_cleanup(move || {
        if let Some(connection) = connection.get_value() {
            connection.dispose();
        }
    });
    Handle(connection)
}

/// A callback that reaches the connection while it exists.
fn callback(weak: &Weak<Connection>, f: fn(&Rc<Connection>)) -> Closure<dyn FnMut()> {
    let weak = weak.clone();
    Closure::new(move || {
        if let Some(s) = weak.upgrade() {
            f(&s);
        }
    })
}

impl Connection {
    fn new(
        term: TerminalHandle,
        terminal: Terminal,
        state: RwSignal<SessionState>,
        session_out: RwSignal<Option<String>>,
        sticky: Option<Sticky>,
    ) -> Rc<Self> {
        let connection = Rc::new_cyclic(|weak: &Weak<Self>| Self {
            term,
            terminal,
            state,
            session_out,
            restoring: Cell::new(false),
            moved: Cell::new(false),
            sticky,
            marked: Cell::new(false),
            broadcast_said: Cell::new(false),
            leading: Cell::new(false),
            socket: RefCell::new(None),
            socket_serial: Cell::new(0),
            attached: Cell::new(false),
            session_id: RefCell::new(None),
            output: Output::default(),
            pending: RefCell::new(Vec::new()),
            keepalive: Keepalive::default(),
            lost_since: Cell::new(None),
            retries: Cell::new(0),
            tick_timer: Cell::new(None),
            retry_timer: Cell::new(None),
            counted_live: Cell::new(false),
            on_written: callback(weak, |s| s.written_one()),
            on_tick: callback(weak, |s| s.tick()),
            on_retry: callback(weak, |s| s.retry()),
            socket_callbacks: RefCell::new(Vec::new()),
            terminal_callbacks: RefCell::new(Vec::new()),
        });
        connection.listen_to_terminal();
        connection
    }

    /// Starts a new server session: the first one, or after the person asked to reconnect;
    /// or attaches to the page's earlier one (`resume`). Takes over the connection of an
    /// early start (see `early_start`), which may itself be a resume.
    fn start(self: &Rc<Self>, again: bool, early: Option<EarlyStart>, resume: Option<String>) {
        self.cancel_retry();
        self.close_socket();
        // Keys typed for a session that ended do not belong to the next shell; keys typed
        // into a terminal the page started early do (see `early_start`).
        if again {
            self.pending.borrow_mut().clear();
        }
        *self.session_id.borrow_mut() = None;
        self.output.new_session();
        self.lost_since.set(None);
        self.retries.set(0);
        if again {
            self.term
                .write_text(&format!("\r\n{DIM}— new session —{RESET}\r\n"));
        }
        self.state.set(SessionState::Connecting);
        let resume = early.as_ref().map_or(resume, |early| early.resume());
        self.restoring.set(resume.is_some());
        self.leading.set(resume.is_none());
        if let Some(id) = &resume {
            *self.session_id.borrow_mut() = Some(id.clone());
        }
        match early {
            Some(early) => {
                let events = early.adopt();
                self.output.already_shown(early.shown() as u64);
                let socket = early.socket();
                self.connect(socket.clone());
                // The early start kept the events; the handlers above go through them now.
                early_start::replay(&events, &socket);
            }
            None => self.open(resume.as_deref().map(|id| (id, 0))),
        }
    }

    /// Re-attaches to the server session from what the page has received.
    fn retry(self: &Rc<Self>) {
        self.retry_timer.set(None);
        let Some(id) = self.session_id.borrow().clone() else {
            return;
        };
        self.open(Some((&id, self.output.received())));
    }

    fn handle_event(self: &Rc<Self>, text: &str) {
        match parse_event(text) {
            Some(ServerEvent::Attached {
                session,
                offset,
                resumed,
            }) => self.attached(session, offset, resumed),
            Some(ServerEvent::Pong) => {}
            Some(ServerEvent::Exit { code }) => {
                self.ended();
                self.term.write_text(&format!(
                    "\r\n{DIM}[process exited with code {code}]{RESET}\r\n"
                ));
                self.state.set(SessionState::Exited(code));
            }
            // About one message of an attached session: the session goes on.
            Some(ServerEvent::Error {
                reason: ErrorReason::BadRequest,
                message,
            }) if self.state.with_untracked(|s| *s == SessionState::Connected) => {
                leptos::logging::warn!("podterm: the server refused a message: {message}");
            }
            // The shell the page had is gone (it ended, or was away too long): a new one.
            Some(ServerEvent::Error {
                reason: ErrorReason::Ended,
                ..
            }) if self.restoring.get() => {
                self.ended();
                self.close_socket();
                self.term.write_text(&format!(
                    "{DIM}The shell this terminal had has ended; here is a new one.{RESET}\r\n"
                ));
                // Not from inside this socket's handler, which the new socket replaces.
                let weak = Rc::downgrade(self);
                set_timeout(
                    move || {
                        if let Some(s) = weak.upgrade() {
                            s.start(false, None, None);
                        }
                    },
                    std::time::Duration::ZERO,
                );
            }
            Some(ServerEvent::Error { reason, message }) => {
                self.ended();
                self.term.write_text(&format!(
                    "\r\n{RED}{}{RESET}\r\n{DIM}{}{RESET}\r\n",
                    failure_words(reason, &message),
                    next_step(reason)
                ));
                self.state.set(SessionState::Failed { reason, message });
            }
            None => leptos::logging::warn!("podterm: ignoring an unknown event: {text}"),
        }
    }

    fn attached(self: &Rc<Self>, session: String, offset: u64, resumed: bool) {
        let resuming = self.session_id.borrow().is_some();
        let missed = self.output.attached(offset, resuming, resumed);
        if missed > 0 {
            // Output the page never got: count it as written once xterm reaches it.
            self.queue_write(&[], missed);
        }
        if self.restoring.replace(false) && resumed {
            self.term.write_text(&format!(
                "{DIM}Back in the same shell; what it printed before is not shown again.{RESET}\r\n"
            ));
        }
        self.session_out.try_set(Some(session.clone()));
        *self.session_id.borrow_mut() = Some(session);
        self.attached.set(true);
        self.lost_since.set(None);
        self.retries.set(0);
        self.state.set(SessionState::Connected);
        self.set_live(true);
        // A new session has not heard that typing here goes to others.
        if !resumed {
            self.broadcast_said.set(false);
        }
        broadcast::refresh();
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        self.send_input(&pending);
        // Also tells the server what it may have missed of the acks before a drop.
        self.maybe_ack();
    }

    /// The server session ended (`Exit` or `Error`): nothing to resume.
    fn ended(&self) {
        *self.session_id.borrow_mut() = None;
        self.session_out.try_set(None);
        self.pending.borrow_mut().clear();
        self.cancel_retry();
        self.set_live(false);
    }

    fn output(&self, bytes: &[u8]) {
        if !self.attached.get() {
            leptos::logging::warn!("podterm: ignoring output before the session attached");
            return;
        }
        let Some((shown, bytes)) = self.output.received_now(bytes) else {
            return;
        };
        // Already on screen: counts as written once xterm has caught up with it.
        if shown > 0 {
            self.leading.set(false);
            self.queue_write(&[], shown);
        }
        let bytes = if self.leading.get() {
            let blank = bytes
                .iter()
                .take_while(|b| matches!(b, b'\r' | b'\n'))
                .count();
            if blank < bytes.len() {
                self.leading.set(false);
            }
            if blank > 0 {
                self.queue_write(&[], blank as u64);
            }
            &bytes[blank..]
        } else {
            bytes
        };
        if !bytes.is_empty() {
            self.queue_write(bytes, bytes.len() as u64);
        }
    }

    /// Writes to xterm and counts `counts` bytes as written once it has.
    fn queue_write(&self, bytes: &[u8], counts: u64) {
        // Queued first: xterm may call back before `write` returns.
        self.output.queued(counts);
        self.term.write_with_callback(bytes, &self.on_written);
    }

    /// xterm finished the oldest queued write (they finish in order).
    fn written_one(self: &Rc<Self>) {
        if self.output.written_one() {
            self.maybe_ack();
        }
    }

    /// Acks every `ACK_EVERY` written bytes; the server stops sending while too much is
    /// unacknowledged.
    fn maybe_ack(&self) {
        self.ack(self.output.ack_due());
    }

    /// Acks all that xterm wrote (at a keepalive tick), so the server can let go of it.
    pub(super) fn settle_ack(&self) {
        self.ack(self.output.settle_due());
    }

    fn ack(&self, upto: Option<u64>) {
        if !self.attached.get() {
            return;
        }
        if let Some(upto) = upto
            && let Some(socket) = self.open_socket()
            && socket
                .send_with_str(&ClientMessage::Ack { offset: upto }.to_json())
                .is_ok()
        {
            self.output.acked(upto);
        }
    }

    /// The socket closed or went silent without the session ending: resume it if there
    /// is one to resume, else report it.
    fn connection_lost(self: &Rc<Self>, why: String) {
        self.close_socket();
        if self.state.with_untracked(SessionState::is_over) {
            self.set_live(false);
            return;
        }
        let resumable = self.session_id.borrow().is_some();
        let since = self.lost_since.get().unwrap_or_else(now);
        self.lost_since.set(Some(since));
        if !resumable || now() - since >= GIVE_UP_MS {
            let why = if resumable {
                format!("{why}, and reconnecting failed for 2 minutes")
            } else {
                why
            };
            self.ended();
            self.term.write_text(&format!("\r\n{RED}{why}{RESET}\r\n"));
            self.state.set(SessionState::Lost(why));
            return;
        }
        let attempt = self.retries.get() + 1;
        self.retries.set(attempt);
        self.state.set(SessionState::Reconnecting { attempt });
        let wait = BACKOFF_MS[(attempt as usize - 1).min(BACKOFF_MS.len() - 1)];
        if let Some(window) = web_sys::window() {
            self.retry_timer.set(
                window
                    .set_timeout_with_callback_and_timeout_and_arguments_0(
                        self.on_retry.as_ref().unchecked_ref(),
                        wait,
                    )
                    .ok(),
            );
        }
    }

    fn fail_locally(&self, message: &str) {
        self.ended();
        self.state.set(SessionState::Failed {
            reason: ErrorReason::Internal,
            message: message.to_string(),
        });
    }

    fn set_live(&self, live: bool) {
        if self.counted_live.replace(live) != live {
            page_unload::count(live);
        }
    }

    fn cancel_retry(&self) {
        if let Some(handle) = self.retry_timer.take()
            && let Some(window) = web_sys::window()
        {
            window.clear_timeout_with_handle(handle);
        }
    }

    /// The session goes on in another page, which resumes it: this one lets go of its
    /// connection without ending it.
    fn detach(&self) {
        self.moved.set(true);
        self.cancel_retry();
        self.close_socket();
        self.set_live(false);
    }

    /// The person closed the terminal: end the server session now rather than after its
    /// grace period (unless it moved to another page).
    fn dispose(&self) {
        self.cancel_retry();
        if !self.moved.get()
            && let Some(socket) = self.open_socket()
        {
            let _ = socket.send_with_str(&ClientMessage::Close.to_json());
        }
        self.marked.set(false);
        self.close_socket();
        // The others may now be fewer than two.
        broadcast::refresh();
        self.set_live(false);
        self.term.dispose();
        self.terminal_callbacks.borrow_mut().clear();
        self.socket_callbacks.borrow_mut().clear();
    }
}
