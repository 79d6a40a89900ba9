//! A terminal's connection to podterm: xterm.js on one end, podterm's exec WebSocket on
//! the other (see `crate::protocol`).
//!
//! One `Connection` lives as long as its terminal and may go through several sessions (the
//! Reconnect button starts a new one) and several sockets per session (a dropped socket is
//! resumed at the output offset the page has received).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::{Rc, Weak};

use leptos::html::Div;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::Terminal;
use super::early_start::{self, EarlyStart};
use super::terminal::{SessionState, reason_label};
use super::xterm::{self, TerminalHandle};
use crate::protocol::{
    ACK_EVERY, ClientMessage, DEAD_AFTER_SECS, ErrorReason, INPUT_CHUNK, KEEPALIVE_SECS,
    ServerEvent,
};

thread_local! {
    /// Connected (or reconnecting) sessions on this page; closing the page asks first while
    /// any is live.
    static LIVE: Cell<usize> = const { Cell::new(0) };
}

/// Asks before the page unloads while a terminal is connected.
pub fn guard_page_unload() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let guard = Closure::<dyn FnMut(web_sys::BeforeUnloadEvent)>::new(
        |event: web_sys::BeforeUnloadEvent| {
            if LIVE.with(Cell::get) > 0 {
                event.prevent_default();
                event.set_return_value("A terminal is still connected.");
            }
        },
    );
    let _ = window.add_event_listener_with_callback("beforeunload", guard.as_ref().unchecked_ref());
    guard.forget(); // lives as long as the page
}

const RED: &str = "\x1b[1;31m";
const DIM: &str = "\x1b[2m";
const RESET: &str = "\x1b[0m";

/// Keys typed while (re)connecting that are kept for the shell; more is dropped.
const PENDING_LIMIT: usize = 64 * 1024;
/// How often the keepalive timer looks at the connection.
const TICK_MS: i32 = 5_000;
const KEEPALIVE_MS: f64 = (KEEPALIVE_SECS * 1000) as f64;
/// Silence after which the page takes a connection for dead: shorter than the server's
/// `DEAD_AFTER_SECS`, so the page notices a half-open connection first.
const SILENCE_SECS: u64 = 2 * KEEPALIVE_SECS + 5;
const SILENCE_MS: f64 = (SILENCE_SECS * 1000) as f64;
const _: () = assert!(SILENCE_SECS < DEAD_AFTER_SECS);
/// Waits before the resume attempts; later attempts wait the last one.
const BACKOFF_MS: [i32; 6] = [250, 500, 1_000, 2_000, 4_000, 5_000];
/// How long after a drop the page keeps trying to resume.
const GIVE_UP_MS: f64 = 120_000.0;

fn now() -> f64 {
    js_sys::Date::now()
}

/// Reads a server event with the browser's JSON parser: serde_json's support for tagged
/// enums would add about 10 KB to the wasm. Accepts the JSON `ServerEvent` describes;
/// numbers must be integers in range (offsets below 2^53, which no session reaches).
fn parse_event(text: &str) -> Option<ServerEvent> {
    let event = js_sys::JSON::parse(text).ok()?;
    // Reflect.get fails on anything but an object, e.g. `null`.
    let field = |name: &str| js_sys::Reflect::get(&event, &JsValue::from_str(name)).ok();
    let string = |name: &str| field(name)?.as_string();
    let integer = |name: &str, min: f64, max: f64| {
        field(name)?
            .as_f64()
            .filter(|n| n.fract() == 0.0 && (min..=max).contains(n))
    };
    Some(match string("type")?.as_str() {
        "attached" => ServerEvent::Attached {
            session: string("session")?,
            offset: integer("offset", 0.0, js_sys::Number::MAX_SAFE_INTEGER)? as u64,
            resumed: field("resumed")?.as_bool()?,
        },
        "pong" => ServerEvent::Pong,
        "exit" => ServerEvent::Exit {
            code: integer("code", i32::MIN.into(), i32::MAX.into())? as i32,
        },
        "error" => ServerEvent::Error {
            reason: ErrorReason::from_name(&string("reason")?)?,
            message: string("message")?,
        },
        _ => return None,
    })
}

struct Connection {
    term: TerminalHandle,
    /// What it runs, where.
    terminal: Terminal,
    state: RwSignal<SessionState>,
    socket: RefCell<Option<WebSocket>>,
    /// Counts sockets; events of an older socket are ignored.
    socket_serial: Cell<u32>,
    /// The current connection's `Attached` arrived.
    attached: Cell<bool>,
    /// The server session's id while it can be resumed; `None` after it ended.
    session_id: RefCell<Option<String>>,
    /// Counts server sessions; writes queued for an earlier one do not count as written.
    epoch: Cell<u32>,
    /// Output offset up to which the page has received output (queued in xterm or written).
    received: Cell<u64>,
    /// Output offset up to which xterm has written.
    written: Cell<u64>,
    /// Output the server sent again after a resume (it started before `received`).
    skip: Cell<u64>,
    /// Output of the first connection that an early start already wrote to the terminal.
    shown: Cell<u64>,
    /// Where the current connection's output started.
    attached_at: Cell<u64>,
    /// The last ack sent on the current connection.
    last_acked: Cell<Option<u64>>,
    /// Writes xterm has not finished, in order: (epoch, bytes).
    writes: RefCell<VecDeque<(u32, u64)>>,
    /// Typed before the connection attached; sent in order once it does.
    pending: RefCell<Vec<u8>>,
    /// When the current connection last carried anything.
    heard: Cell<f64>,
    last_ping: Cell<f64>,
    /// When the first ping sent since `heard` went out.
    unanswered_since: Cell<Option<f64>>,
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

/// Starts the terminal once its host element exists, and starts a new session on every
/// change of `attempt` (the Reconnect button).
pub fn start(
    host: NodeRef<Div>,
    terminal: Terminal,
    state: RwSignal<SessionState>,
    attempt: RwSignal<u32>,
    visible: Signal<bool>,
) {
    let connection = StoredValue::new_local(None::<Rc<Connection>>);
    Effect::new(move |_| {
        let again = attempt.get() > 0;
        let Some(element) = host.get() else { return };
        if let Some(connection) = connection.get_value() {
            connection.start(again, None);
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
        let created = Connection::new(term, terminal.clone(), state);
        connection.set_value(Some(created.clone()));
        created.start(false, early);
        if visible.get_untracked() {
            created.term.focus();
        }
    });
    Effect::new(move |_| {
        if visible.get()
            && let Some(connection) = connection.get_value()
        {
            connection.term.fit();
            connection.term.focus();
        }
    });
    on_cleanup(move || {
        if let Some(connection) = connection.get_value() {
            connection.dispose();
        }
    });
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
    fn new(term: TerminalHandle, terminal: Terminal, state: RwSignal<SessionState>) -> Rc<Self> {
        let connection = Rc::new_cyclic(|weak: &Weak<Self>| Self {
            term,
            terminal,
            state,
            socket: RefCell::new(None),
            socket_serial: Cell::new(0),
            attached: Cell::new(false),
            session_id: RefCell::new(None),
            epoch: Cell::new(0),
            received: Cell::new(0),
            written: Cell::new(0),
            skip: Cell::new(0),
            shown: Cell::new(0),
            attached_at: Cell::new(0),
            last_acked: Cell::new(None),
            writes: RefCell::new(VecDeque::new()),
            pending: RefCell::new(Vec::new()),
            heard: Cell::new(0.0),
            last_ping: Cell::new(0.0),
            unanswered_since: Cell::new(None),
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
        let weak = Rc::downgrade(&connection);
        let on_data = Closure::<dyn FnMut(String)>::new(move |text: String| {
            if let Some(s) = weak.upgrade() {
                s.send_input(text.as_bytes());
            }
        });
        let weak = Rc::downgrade(&connection);
        // onBinary carries one byte per UTF-16 unit (mouse reports in some modes).
        let on_binary = Closure::<dyn FnMut(String)>::new(move |text: String| {
            if let Some(s) = weak.upgrade() {
                let bytes: Vec<u8> = text.encode_utf16().map(|u| u as u8).collect();
                s.send_input(&bytes);
            }
        });
        let weak = Rc::downgrade(&connection);
        let on_resize = Closure::<dyn FnMut(u16, u16)>::new(move |cols: u16, rows: u16| {
            if let Some(s) = weak.upgrade() {
                s.send_size(cols, rows);
            }
        });
        connection.term.on_data(&on_data);
        connection.term.on_binary(&on_binary);
        connection.term.on_resize(&on_resize);
        connection.terminal_callbacks.borrow_mut().extend([
            Box::new(on_data) as Box<dyn std::any::Any>,
            Box::new(on_binary),
            Box::new(on_resize),
        ]);
        connection
    }

    fn socket_url(&self, resume: Option<(&str, u64)>) -> Result<String, String> {
        let location = web_sys::window().ok_or("no window")?.location();
        let scheme = if location.protocol().map_err(|_| "no protocol")? == "https:" {
            "wss:"
        } else {
            "ws:"
        };
        let host = location.host().map_err(|_| "no host")?;
        Ok(format!(
            "{scheme}//{host}{}{}",
            super::base(),
            self.terminal.socket_path(resume)
        ))
    }

    /// Starts a new server session: the first one, or after the person asked to reconnect.
    /// Takes over the connection of an early start (see `early_start`).
    fn start(self: &Rc<Self>, again: bool, early: Option<EarlyStart>) {
        self.cancel_retry();
        self.close_socket();
        // Keys typed for a session that ended do not belong to the next shell; keys typed
        // into a terminal the page started early do (see `early_start`).
        if again {
            self.pending.borrow_mut().clear();
        }
        *self.session_id.borrow_mut() = None;
        self.epoch.set(self.epoch.get().wrapping_add(1));
        self.received.set(0);
        self.written.set(0);
        self.skip.set(0);
        self.shown.set(0);
        self.lost_since.set(None);
        self.retries.set(0);
        if again {
            self.term
                .write_text(&format!("\r\n{DIM}— new session —{RESET}\r\n"));
        }
        self.state.set(SessionState::Connecting);
        match early {
            Some(early) => {
                let events = early.adopt();
                self.shown.set(early.shown() as u64);
                let socket = early.socket();
                self.connect(socket.clone());
                // The early start kept the events; the handlers above go through them now.
                early_start::replay(&events, &socket);
            }
            None => self.open(None),
        }
    }

    /// Re-attaches to the server session from what the page has received.
    fn retry(self: &Rc<Self>) {
        self.retry_timer.set(None);
        let Some(id) = self.session_id.borrow().clone() else {
            return;
        };
        self.open(Some((&id, self.received.get())));
    }

    fn open(self: &Rc<Self>, resume: Option<(&str, u64)>) {
        self.close_socket();
        let url = match self.socket_url(resume) {
            Ok(url) => url,
            Err(e) => return self.fail_locally(&e),
        };
        let socket = match WebSocket::new(&url) {
            Ok(socket) => socket,
            Err(e) => return self.fail_locally(&xterm::js_message(&e)),
        };
        socket.set_binary_type(BinaryType::Arraybuffer);
        self.connect(socket);
    }

    /// Listens to a new connection's socket and starts its keepalive.
    fn connect(self: &Rc<Self>, socket: WebSocket) {
        let serial = self.socket_serial.get().wrapping_add(1);
        self.socket_serial.set(serial);
        let current = move |weak: &Weak<Connection>| {
            weak.upgrade().filter(|s| s.socket_serial.get() == serial)
        };

        let weak = Rc::downgrade(self);
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if let Some(s) = current(&weak) {
                s.send_size(s.term.cols(), s.term.rows());
            }
        });
        let weak = Rc::downgrade(self);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(s) = current(&weak) else { return };
            s.heard.set(now());
            s.unanswered_since.set(None);
            let data = event.data();
            if let Some(buffer) = data.dyn_ref::<js_sys::ArrayBuffer>() {
                s.output(&js_sys::Uint8Array::new(buffer).to_vec());
            } else if let Some(text) = data.as_string() {
                s.handle_event(&text);
            }
        });
        let weak = Rc::downgrade(self);
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            let Some(s) = current(&weak) else { return };
            let why = if event.code() == crate::protocol::CLOSE_ABNORMAL {
                "the connection to podterm dropped".to_string()
            } else {
                format!("the connection closed (code {})", event.code())
            };
            s.connection_lost(why);
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        // The previous socket's callbacks are detached; dropping them here is safe.
        *self.socket_callbacks.borrow_mut() =
            vec![Box::new(on_open), Box::new(on_message), Box::new(on_close)];
        *self.socket.borrow_mut() = Some(socket);

        let t = now();
        self.heard.set(t);
        self.last_ping.set(t);
        self.unanswered_since.set(None);
        if let Some(window) = web_sys::window() {
            self.tick_timer.set(
                window
                    .set_interval_with_callback_and_timeout_and_arguments_0(
                        self.on_tick.as_ref().unchecked_ref(),
                        TICK_MS,
                    )
                    .ok(),
            );
        }
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
            Some(ServerEvent::Error { reason, message }) => {
                self.ended();
                self.term.write_text(&format!(
                    "\r\n{RED}{}: {message}{RESET}\r\n",
                    reason_label(reason)
                ));
                self.state.set(SessionState::Failed { reason, message });
            }
            None => leptos::logging::warn!("podterm: ignoring an unknown event: {text}"),
        }
    }

    fn attached(self: &Rc<Self>, session: String, offset: u64, resumed: bool) {
        let resuming = self.session_id.borrow().is_some();
        if resuming && resumed {
            let received = self.received.get();
            if offset < received {
                self.skip.set(received - offset);
            } else {
                self.skip.set(0);
                if offset > received {
                    // Output the page never got: count it as written once xterm reaches it.
                    self.received.set(offset);
                    self.queue_write(&[], offset - received);
                }
            }
        } else {
            if resuming {
                // The server started over instead of resuming: a new session.
                self.epoch.set(self.epoch.get().wrapping_add(1));
            }
            self.received.set(offset);
            self.written.set(offset);
            self.skip.set(0);
        }
        *self.session_id.borrow_mut() = Some(session);
        self.attached.set(true);
        self.attached_at.set(offset);
        self.last_acked.set(None);
        self.lost_since.set(None);
        self.retries.set(0);
        self.state.set(SessionState::Connected);
        self.set_live(true);
        let pending = std::mem::take(&mut *self.pending.borrow_mut());
        self.send_input(&pending);
        // Also tells the server what it may have missed of the acks before a drop.
        self.maybe_ack();
    }

    /// The server session ended (`Exit` or `Error`): nothing to resume.
    fn ended(&self) {
        *self.session_id.borrow_mut() = None;
        self.pending.borrow_mut().clear();
        self.cancel_retry();
        self.set_live(false);
    }

    fn output(&self, bytes: &[u8]) {
        if !self.attached.get() {
            leptos::logging::warn!("podterm: ignoring output before the session attached");
            return;
        }
        let skip = self.skip.get().min(bytes.len() as u64);
        self.skip.set(self.skip.get() - skip);
        let bytes = &bytes[skip as usize..];
        if bytes.is_empty() {
            return;
        }
        self.received.set(self.received.get() + bytes.len() as u64);
        // Already on screen: counts as written once xterm has caught up with it.
        let shown = self.shown.get().min(bytes.len() as u64);
        if shown > 0 {
            self.shown.set(self.shown.get() - shown);
            self.queue_write(&[], shown);
        }
        let bytes = &bytes[shown as usize..];
        if !bytes.is_empty() {
            self.queue_write(bytes, bytes.len() as u64);
        }
    }

    /// Writes to xterm and counts `counts` bytes as written once it has.
    fn queue_write(&self, bytes: &[u8], counts: u64) {
        // Queued first: xterm may call back before `write` returns.
        self.writes
            .borrow_mut()
            .push_back((self.epoch.get(), counts));
        self.term.write_with_callback(bytes, &self.on_written);
    }

    /// xterm finished the oldest queued write (they finish in order).
    fn written_one(self: &Rc<Self>) {
        let Some((epoch, counts)) = self.writes.borrow_mut().pop_front() else {
            return;
        };
        if epoch == self.epoch.get() {
            self.written.set(self.written.get() + counts);
            self.maybe_ack();
        }
    }

    /// Acks every `ACK_EVERY` written bytes, and when xterm caught up with what arrived;
    /// the server stops sending while too much is unacknowledged.
    fn maybe_ack(&self) {
        if !self.attached.get() {
            return;
        }
        let received = self.received.get();
        let upto = self.written.get().min(received);
        // Output before this connection's start is not this connection's to ack.
        if upto == 0 || upto < self.attached_at.get() {
            return;
        }
        let due = match self.last_acked.get() {
            None => true,
            Some(last) => upto > last && (upto - last >= ACK_EVERY || upto == received),
        };
        if due
            && let Some(socket) = self.open_socket()
            && socket
                .send_with_str(&ClientMessage::Ack { offset: upto }.to_json())
                .is_ok()
        {
            self.last_acked.set(Some(upto));
        }
    }

    /// Keepalive: pings, and takes a connection that stays silent for dead.
    fn tick(self: &Rc<Self>) {
        let Some(socket) = self.socket.borrow().clone() else {
            return;
        };
        let t = now();
        let open = socket.ready_state() == WebSocket::OPEN;
        // A ping must have gone unanswered too: a throttled background tab may tick late.
        let dead = t - self.heard.get() >= SILENCE_MS
            && (!open
                || self
                    .unanswered_since
                    .get()
                    .is_some_and(|since| t - since >= KEEPALIVE_MS));
        if dead {
            return self
                .connection_lost(format!("podterm did not answer for {SILENCE_SECS} seconds"));
        }
        if open && t - self.last_ping.get() >= KEEPALIVE_MS - f64::from(TICK_MS) / 2.0 {
            let _ = socket.send_with_str(&ClientMessage::Ping.to_json());
            self.last_ping.set(t);
            if self.unanswered_since.get().is_none() {
                self.unanswered_since.set(Some(t));
            }
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

    fn open_socket(&self) -> Option<WebSocket> {
        self.socket
            .borrow()
            .as_ref()
            .filter(|s| s.ready_state() == WebSocket::OPEN)
            .cloned()
    }

    /// Sends keystrokes and pastes in chunks; keeps them for later while (re)connecting.
    fn send_input(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        if self.attached.get()
            && let Some(socket) = self.open_socket()
        {
            for chunk in bytes.chunks(INPUT_CHUNK) {
                let _ = socket.send_with_u8_array(chunk);
            }
            return;
        }
        // Also while the state still says connected: the close event may not have come yet.
        let waiting = !self.state.with_untracked(SessionState::is_over);
        let mut pending = self.pending.borrow_mut();
        // Whole inputs only: a cut paste or escape sequence would be worse than none.
        if waiting && pending.len() + bytes.len() <= PENDING_LIMIT {
            pending.extend_from_slice(bytes);
        }
    }

    fn send_size(&self, cols: u16, rows: u16) {
        if cols == 0 || rows == 0 {
            return;
        }
        if let Some(socket) = self.open_socket() {
            let _ = socket.send_with_str(&ClientMessage::Resize { cols, rows }.to_json());
        }
    }

    fn set_live(&self, live: bool) {
        if self.counted_live.replace(live) != live {
            LIVE.with(|n| {
                n.set(if live {
                    n.get() + 1
                } else {
                    n.get().saturating_sub(1)
                })
            });
        }
    }

    fn close_socket(&self) {
        if let Some(handle) = self.tick_timer.take()
            && let Some(window) = web_sys::window()
        {
            window.clear_interval_with_handle(handle);
        }
        self.attached.set(false);
        if let Some(socket) = self.socket.borrow_mut().take() {
            socket.set_onclose(None);
            socket.set_onmessage(None);
            socket.set_onopen(None);
            let _ = socket.close();
        }
    }

    fn cancel_retry(&self) {
        if let Some(handle) = self.retry_timer.take()
            && let Some(window) = web_sys::window()
        {
            window.clear_timeout_with_handle(handle);
        }
    }

    /// The person closed the terminal: end the server session now rather than after its
    /// grace period.
    fn dispose(&self) {
        self.cancel_retry();
        if let Some(socket) = self.open_socket() {
            let _ = socket.send_with_str(&ClientMessage::Close.to_json());
        }
        self.close_socket();
        self.set_live(false);
        self.term.dispose();
        self.terminal_callbacks.borrow_mut().clear();
        self.socket_callbacks.borrow_mut().clear();
    }
}
