//! An upload by `XMLHttpRequest`, whose upload events give its progress and which
//! `abort()` stops. The file goes as the request's body, straight from the disk: the page
//! never reads it. (The JSON answers, `list` and `cwd`, are `crate::app::requests`'.)

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{ProgressEvent, XmlHttpRequest};

use super::words::Failure;
use crate::app::requests::{UNREACHABLE, read, refused};
use crate::files::Uploaded;

/// How an upload ended.
pub enum Reply {
    Landed(Uploaded),
    Refused(Failure),
    Aborted,
}

/// A handler of the request's, kept until it ends.
type Handler<E> = RefCell<Option<Closure<dyn FnMut(E)>>>;

/// An upload on its way. Its handlers live until the request ends.
pub struct Upload {
    xhr: XmlHttpRequest,
    progress: Handler<ProgressEvent>,
    sent: Handler<web_sys::Event>,
    aborted: Cell<bool>,
}

impl Upload {
    /// PUTs `file` to `url` (under the site's base): `progress` with the bytes sent so far,
    /// `sent` once all are, `done` at the end, however it ends.
    pub fn start(
        url: &str,
        file: &web_sys::File,
        mut progress: impl FnMut(f64) + 'static,
        mut sent: impl FnMut() + 'static,
        done: impl FnOnce(Reply) + 'static,
    ) -> Result<Rc<Upload>, Failure> {
        let failed = |e: JsValue| Failure::new(UNREACHABLE, crate::app::xterm::js_message(&e));
        let xhr = XmlHttpRequest::new().map_err(failed)?;
        let url = format!("{}{url}", crate::app::base());
        xhr.open_with_async("PUT", &url, true).map_err(failed)?;
        xhr.set_request_header("Content-Type", "application/octet-stream")
            .map_err(failed)?;
        let upload = Rc::new(Upload {
            xhr,
            progress: RefCell::new(Some(Closure::new(move |e: ProgressEvent| {
                progress(e.loaded())
            }))),
            sent: RefCell::new(Some(Closure::new(move |_: web_sys::Event| sent()))),
            aborted: Cell::new(false),
        });
        let events = upload.xhr.upload().map_err(failed)?;
        if let Some(on) = upload.progress.borrow().as_ref() {
            events.set_onprogress(Some(on.as_ref().unchecked_ref()));
        }
        if let Some(on) = upload.sent.borrow().as_ref() {
            events.set_onload(Some(on.as_ref().unchecked_ref()));
        }
        // Once, at the end: freed once called (it always is once the request is sent).
        let ended = upload.clone();
        let loadend = Closure::once_into_js(move || {
            let reply = ended.reply();
            ended.progress.borrow_mut().take();
            ended.sent.borrow_mut().take();
            done(reply);
        });
        upload.xhr.set_onloadend(Some(loadend.unchecked_ref()));
        upload.xhr.send_with_opt_blob(Some(file)).map_err(failed)?;
        Ok(upload)
    }

    /// Stops it; podterm removes what it wrote.
    pub fn cancel(&self) {
        self.aborted.set(true);
        let _ = self.xhr.abort();
    }

    fn reply(&self) -> Reply {
        if self.aborted.get() {
            return Reply::Aborted;
        }
        let status = self.xhr.status().unwrap_or(UNREACHABLE);
        let text = self.xhr.response_text().ok().flatten().unwrap_or_default();
        match status {
            200..=299 => match read(&text) {
                Ok(uploaded) => Reply::Landed(uploaded),
                Err(failure) => Reply::Refused(failure),
            },
            status => Reply::Refused(refused(status, &text)),
        }
    }
}

thread_local! {
    /// Uploads on their way from this page: closing it asks first while there are any.
    static SENDING: Cell<usize> = const { Cell::new(0) };
    static GUARDED: Cell<bool> = const { Cell::new(false) };
}

/// One more (or one fewer) upload on its way.
pub fn count(sending: bool) {
    SENDING.with(|n| {
        n.set(if sending {
            n.get() + 1
        } else {
            n.get().saturating_sub(1)
        })
    });
    if sending && !GUARDED.with(|g| g.replace(true)) {
        guard_page_unload();
    }
}

fn guard_page_unload() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let guard = Closure::<dyn FnMut(web_sys::BeforeUnloadEvent)>::new(
        |event: web_sys::BeforeUnloadEvent| {
            if SENDING.with(Cell::get) > 0 {
                event.prevent_default();
                event.set_return_value("Files are still being uploaded.");
            }
        },
    );
    let _ = window.add_event_listener_with_callback("beforeunload", guard.as_ref().unchecked_ref());
    guard.forget(); // lives as long as the page
}
