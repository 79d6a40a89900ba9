//! Broadcast input: what is typed into one marked terminal goes to every marked terminal of
//! the page, while at least two are marked. Each marked session's server hears that it is
//! on and when it stops (for the audit trail); the keys go on each one's own socket.

use std::cell::RefCell;
use std::rc::{Rc, Weak};

use super::Connection;
use crate::protocol::ClientMessage;

thread_local! {
    /// The page's terminals, marked or not.
    static ALL: RefCell<Vec<Weak<Connection>>> = const { RefCell::new(Vec::new()) };
}

fn live() -> Vec<Rc<Connection>> {
    ALL.with(|all| {
        let mut all = all.borrow_mut();
        all.retain(|c| c.strong_count() > 0);
        all.iter().filter_map(Weak::upgrade).collect()
    })
}

fn marked() -> Vec<Rc<Connection>> {
    live().into_iter().filter(|c| c.marked.get()).collect()
}

/// A terminal of the page, from now on.
pub(super) fn join(connection: &Rc<Connection>) {
    ALL.with(|all| all.borrow_mut().push(Rc::downgrade(connection)));
}

/// A terminal's mark changed (or it closed): every terminal tells its server whether
/// typing into it now goes to others.
pub(super) fn refresh() {
    let marked = marked();
    let on = marked.len() >= 2;
    for connection in live() {
        connection.say_broadcast(on && connection.marked.get(), marked.len() as u32);
    }
}

impl Connection {
    /// Keys typed into this terminal (or its key bar): to every marked terminal when it is
    /// marked and others are too, else to its own shell.
    pub(super) fn typed(&self, bytes: &[u8]) {
        if self.marked.get() {
            let marked = marked();
            if marked.len() >= 2 {
                for connection in marked {
                    connection.send_input(bytes);
                }
                return;
            }
        }
        self.send_input(bytes);
    }

    /// Tells the server, once per change, whether typing here goes to others; again
    /// after a new session attached (its server has not heard).
    pub(super) fn say_broadcast(&self, on: bool, terminals: u32) {
        if self.broadcast_said.get() == on {
            return;
        }
        let Some(socket) = self.open_socket() else {
            return;
        };
        if !self.attached.get() {
            return;
        }
        let message = ClientMessage::Broadcast { on, terminals }.to_json();
        if socket.send_with_str(&message).is_ok() {
            self.broadcast_said.set(on);
        }
    }
}
