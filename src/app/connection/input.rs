//! What the terminal sends: keys, pastes and mouse reports, and its size. Kept while the
//! connection (re)attaches, so what is typed meanwhile reaches the shell.

use std::rc::Rc;

use leptos::prelude::*;
use wasm_bindgen::prelude::*;

use super::Connection;
use crate::app::terminal::SessionState;
use crate::protocol::{ClientMessage, INPUT_CHUNK};

/// Keys typed while (re)connecting that are kept for the shell; more is dropped.
const PENDING_LIMIT: usize = 64 * 1024;

impl Connection {
    /// Listens to the terminal's keys and size from now on.
    pub(super) fn listen_to_terminal(self: &Rc<Self>) {
        let weak = Rc::downgrade(self);
        let on_data = Closure::<dyn FnMut(String)>::new(move |text: String| {
            if let Some(s) = weak.upgrade() {
                // The terminal's answers to a program's queries are its shell's alone.
                if !s.term.by_person() {
                    return s.send_input(text.as_bytes());
                }
                // Ctrl or Alt held on the key bar change the next key typed.
                let text = match &s.sticky {
                    Some(sticky) => sticky.apply(text),
                    None => text,
                };
                s.typed(text.as_bytes());
            }
        });
        let weak = Rc::downgrade(self);
        // onBinary carries one byte per UTF-16 unit (mouse reports in some modes).
        let on_binary = Closure::<dyn FnMut(String)>::new(move |text: String| {
            if let Some(s) = weak.upgrade() {
                let bytes: Vec<u8> = text.encode_utf16().map(|u| u as u8).collect();
                s.send_input(&bytes);
            }
        });
        let weak = Rc::downgrade(self);
        let on_resize = Closure::<dyn FnMut(u16, u16)>::new(move |cols: u16, rows: u16| {
            if let Some(s) = weak.upgrade() {
                s.send_size(cols, rows);
            }
        });
        self.term.on_data(&on_data);
        self.term.on_binary(&on_binary);
        self.term.on_resize(&on_resize);
        self.terminal_callbacks.borrow_mut().extend([
            Box::new(on_data) as Box<dyn std::any::Any>,
            Box::new(on_binary),
            Box::new(on_resize),
        ]);
    }

    /// Sends keystrokes and pastes in chunks; keeps them for later while (re)connecting.
    pub(super) fn send_input(&self, bytes: &[u8]) {
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

    pub(super) fn send_size(&self, cols: u16, rows: u16) {
        if cols == 0 || rows == 0 {
            return;
        }
        if let Some(socket) = self.open_socket() {
            let _ = socket.send_with_str(&ClientMessage::Resize { cols, rows }.to_json());
        }
    }
}
