//! A connection's socket: opening it, listening to it, keeping it alive, closing it.

use std::rc::{Rc, Weak};

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{BinaryType, CloseEvent, MessageEvent, WebSocket};

use super::keepalive::{SILENCE_SECS, TICK_MS, Tick};
use super::{Connection, now};
use crate::app::xterm;
use crate::protocol::ClientMessage;

impl Connection {
    pub(super) fn socket_url(&self, resume: Option<(&str, u64)>) -> Result<String, String> {
        let location = web_sys::window().ok_or("no window")?.location();
        let scheme = if location.protocol().map_err(|_| "no protocol")? == "https:" {
            "wss:"
        } else {
            "ws:"
        };
        let host = location.host().map_err(|_| "no host")?;
        Ok(format!(
            "{scheme}//{host}{}{}",
            crate::app::base(),
            self.terminal.socket_path(resume)
        ))
    }

    pub(super) fn open(self: &Rc<Self>, resume: Option<(&str, u64)>) {
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
    pub(super) fn connect(self: &Rc<Self>, socket: WebSocket) {
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
            s.keepalive.heard(now());
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

        self.keepalive.reset(now());
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

    /// Keepalive: pings, and takes a connection that stays silent for dead; acks what
    /// trickled in since the last ack.
    pub(super) fn tick(self: &Rc<Self>) {
        let Some(socket) = self.socket.borrow().clone() else {
            return;
        };
        self.settle_ack();
        let t = now();
        match self
            .keepalive
            .tick(t, socket.ready_state() == WebSocket::OPEN)
        {
            Tick::Dead => {
                self.connection_lost(format!("podterm did not answer for {SILENCE_SECS} seconds"))
            }
            Tick::Ping => {
                let _ = socket.send_with_str(&ClientMessage::Ping.to_json());
                self.keepalive.pinged(t);
            }
            Tick::Wait => {}
        }
    }

    pub(super) fn open_socket(&self) -> Option<WebSocket> {
        self.socket
            .borrow()
            .as_ref()
            .filter(|s| s.ready_state() == WebSocket::OPEN)
            .cloned()
    }

    pub(super) fn close_socket(&self) {
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
}
