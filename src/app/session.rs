//! The browser side of a terminal session: xterm.js on one end, podterm's exec WebSocket
//! on the other (see `crate::protocol`).

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use leptos::html::Div;
use leptos::prelude::*;
use leptos::task::spawn_local;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::Target;
use super::terminal::{SessionState, reason_label};
use super::xterm::{self, TerminalHandle};
use crate::protocol::{ClientMessage, INPUT_CHUNK, ServerEvent};

thread_local! {
    /// Connected sessions on this page; closing the page asks first while any is live.
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

struct Session {
    term: TerminalHandle,
    target: Target,
    state: RwSignal<SessionState>,
    socket: RefCell<Option<WebSocket>>,
    /// Typed before the socket opened; sent in order once it does.
    pending: RefCell<Vec<u8>>,
    counted_live: Cell<bool>,
    socket_callbacks: RefCell<Vec<Box<dyn std::any::Any>>>,
    terminal_callbacks: RefCell<Vec<Box<dyn std::any::Any>>>,
}

/// Starts the terminal once its host element exists, and (re)connects on every change of
/// `attempt`.
pub fn attach(
    host: NodeRef<Div>,
    target: Target,
    state: RwSignal<SessionState>,
    attempt: RwSignal<u32>,
    visible: Signal<bool>,
) {
    let session = StoredValue::new_local(None::<Rc<Session>>);
    let starting = StoredValue::new_local(false);
    Effect::new(move |_| {
        let reconnect = attempt.get() > 0;
        let Some(element) = host.get() else { return };
        if let Some(session) = session.get_value() {
            session.connect(reconnect);
            return;
        }
        if starting.get_value() {
            return;
        }
        starting.set_value(true);
        let target = target.clone();
        spawn_local(async move {
            match xterm::create(&element).await {
                Ok(term) => {
                    let created = Session::new(term, target, state);
                    created.connect(false);
                    if visible.get_untracked() {
                        created.term.focus();
                    }
                    session.set_value(Some(created));
                }
                Err(e) => state.set(SessionState::Failed {
                    reason: crate::protocol::ErrorReason::Internal,
                    message: format!("the terminal could not load ({e})"),
                }),
            }
        });
    });
    Effect::new(move |_| {
        if visible.get()
            && let Some(session) = session.get_value()
        {
            session.term.fit();
            session.term.focus();
        }
    });
    on_cleanup(move || {
        if let Some(session) = session.get_value() {
            session.dispose();
        }
    });
}

impl Session {
    fn new(term: TerminalHandle, target: Target, state: RwSignal<SessionState>) -> Rc<Self> {
        let session = Rc::new(Self {
            term,
            target,
            state,
            socket: RefCell::new(None),
            pending: RefCell::new(Vec::new()),
            counted_live: Cell::new(false),
            socket_callbacks: RefCell::new(Vec::new()),
            terminal_callbacks: RefCell::new(Vec::new()),
        });
        let weak = Rc::downgrade(&session);
        let on_data = Closure::<dyn FnMut(String)>::new(move |text: String| {
            if let Some(s) = weak.upgrade() {
                s.send_input(text.as_bytes());
            }
        });
        let weak = Rc::downgrade(&session);
        // onBinary carries one byte per UTF-16 unit (mouse reports in some modes).
        let on_binary = Closure::<dyn FnMut(String)>::new(move |text: String| {
            if let Some(s) = weak.upgrade() {
                let bytes: Vec<u8> = text.encode_utf16().map(|u| u as u8).collect();
                s.send_input(&bytes);
            }
        });
        let weak = Rc::downgrade(&session);
        let on_resize = Closure::<dyn FnMut(u16, u16)>::new(move |cols: u16, rows: u16| {
            if let Some(s) = weak.upgrade() {
                s.send_size(cols, rows);
            }
        });
        session.term.on_data(&on_data);
        session.term.on_binary(&on_binary);
        session.term.on_resize(&on_resize);
        session.terminal_callbacks.borrow_mut().extend([
            Box::new(on_data) as Box<dyn std::any::Any>,
            Box::new(on_binary),
            Box::new(on_resize),
        ]);
        session
    }

    fn socket_url(&self) -> Result<String, String> {
        let location = web_sys::window().ok_or("no window")?.location();
        let scheme = if location.protocol().map_err(|_| "no protocol")? == "https:" {
            "wss:"
        } else {
            "ws:"
        };
        let host = location.host().map_err(|_| "no host")?;
        Ok(format!("{scheme}//{host}{}", self.target.socket_path()))
    }

    fn connect(self: &Rc<Self>, reconnect: bool) {
        self.close_socket();
        if reconnect {
            self.term
                .write_text(&format!("\r\n{DIM}— reconnecting —{RESET}\r\n"));
        }
        self.state.set(SessionState::Connecting);
        let url = match self.socket_url() {
            Ok(url) => url,
            Err(e) => return self.fail_locally(&e),
        };
        let socket = match WebSocket::new(&url) {
            Ok(socket) => socket,
            Err(e) => return self.fail_locally(&xterm::js_message(&e)),
        };
        socket.set_binary_type(BinaryType::Arraybuffer);

        let weak = Rc::downgrade(self);
        let on_open = Closure::<dyn FnMut()>::new(move || {
            if let Some(s) = weak.upgrade() {
                s.state.set(SessionState::Connected);
                s.set_live(true);
                s.send_size(s.term.cols(), s.term.rows());
                let pending = std::mem::take(&mut *s.pending.borrow_mut());
                s.send_input(&pending);
            }
        });
        let weak = Rc::downgrade(self);
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |event: MessageEvent| {
            let Some(s) = weak.upgrade() else { return };
            let data = event.data();
            if let Some(buffer) = data.dyn_ref::<js_sys::ArrayBuffer>() {
                s.term.write(&js_sys::Uint8Array::new(buffer).to_vec());
            } else if let Some(text) = data.as_string() {
                s.handle_event(&text);
            }
        });
        let weak = Rc::downgrade(self);
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |event: CloseEvent| {
            let Some(s) = weak.upgrade() else { return };
            s.set_live(false);
            if !s.state.with_untracked(SessionState::is_over) {
                let why = if event.code() == 1006 {
                    "the connection to podterm dropped".to_string()
                } else {
                    format!("the connection closed (code {})", event.code())
                };
                s.term.write_text(&format!("\r\n{RED}{why}{RESET}\r\n"));
                s.state.set(SessionState::Lost(why));
            }
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        *self.socket_callbacks.borrow_mut() =
            vec![Box::new(on_open), Box::new(on_message), Box::new(on_close)];
        *self.socket.borrow_mut() = Some(socket);
    }

    fn handle_event(&self, text: &str) {
        match serde_json::from_str::<ServerEvent>(text) {
            Ok(ServerEvent::Exit { code }) => {
                self.term.write_text(&format!(
                    "\r\n{DIM}[process exited with code {code}]{RESET}\r\n"
                ));
                self.state.set(SessionState::Exited(code));
            }
            Ok(ServerEvent::Error { reason, message }) => {
                self.term.write_text(&format!(
                    "\r\n{RED}{}: {message}{RESET}\r\n",
                    reason_label(reason)
                ));
                self.state.set(SessionState::Failed { reason, message });
            }
            Err(_) => leptos::logging::warn!("podterm: ignoring an unknown event: {text}"),
        }
    }

    fn fail_locally(&self, message: &str) {
        self.state.set(SessionState::Failed {
            reason: crate::protocol::ErrorReason::Internal,
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

    /// Sends keystrokes and pastes in chunks; keeps them for later while connecting.
    fn send_input(&self, bytes: &[u8]) {
        if bytes.is_empty() {
            return;
        }
        match self.open_socket() {
            Some(socket) => {
                for chunk in bytes.chunks(INPUT_CHUNK) {
                    let _ = socket.send_with_u8_array(chunk);
                }
            }
            None if self.state.with_untracked(|s| {
                matches!(s, SessionState::Connecting | SessionState::Starting)
            }) =>
            {
                self.pending.borrow_mut().extend_from_slice(bytes);
            }
            None => {}
        }
    }

    fn send_size(&self, cols: u16, rows: u16) {
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
        if let Some(socket) = self.socket.borrow_mut().take() {
            socket.set_onclose(None);
            socket.set_onmessage(None);
            socket.set_onopen(None);
            let _ = socket.close();
        }
        // Keys typed for a connection that never opened do not belong to the next shell.
        self.pending.borrow_mut().clear();
        self.set_live(false);
        self.socket_callbacks.borrow_mut().clear();
    }

    fn dispose(&self) {
        self.close_socket();
        self.term.dispose();
        self.terminal_callbacks.borrow_mut().clear();
    }
}
