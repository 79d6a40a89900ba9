//! The lines on the page: drawn as HTML (colours, the filter's marks) into the view's
//! scrolling box, at most once a frame; the oldest taken away as the store drops them; kept
//! at the end while the person has not scrolled up, else counted as new lines; and saved
//! as a text file.

use std::cell::{Cell, RefCell};

use leptos::prelude::*;
use wasm_bindgen::JsCast;

use super::ansi;
use super::filter::Filter;
use super::lines::{Line, Store};

/// Within this many pixels of the bottom counts as at the end.
const AT_END_PX: i32 = 8;

pub struct Screen {
    /// The scrolling box the lines are drawn in.
    element: web_sys::HtmlElement,
    filter: RefCell<Filter>,
    /// Only lines that match the filter are drawn.
    only: Cell<bool>,
    /// The view stays at the end as lines come.
    stick: Cell<bool>,
    /// Lines drawn below while the person looked further up.
    pub unseen: RwSignal<usize>,
}

impl Screen {
    pub fn new(element: web_sys::HtmlElement, unseen: RwSignal<usize>) -> Screen {
        Screen {
            element,
            filter: RefCell::new(Filter::default()),
            only: Cell::new(false),
            stick: Cell::new(true),
            unseen,
        }
    }

    /// Draws what changed in the store since the last look: takes the dropped lines
    /// away, adds the new ones.
    pub fn draw(&self, store: &mut Store) {
        let gone = std::mem::take(&mut store.gone);
        for _ in 0..gone {
            match self.element.first_element_child() {
                Some(first) => first.remove(),
                None => break,
            }
        }
        let filter = self.filter.borrow();
        let only = self.only.get() && !filter.is_empty();
        let mut html = String::new();
        let mut drawn = 0;
        let mut matched = 0;
        for line in store.undrawn_mut() {
            line.matched = filter.matches(&ansi::parse(line.text()).text);
            line.drawn = !only || line.matched;
            matched += usize::from(line.matched);
            if line.drawn {
                line_html(&mut html, line, &filter);
                drawn += 1;
            }
        }
        store.undrawn = 0;
        store.matching += matched;
        drop(filter);
        if drawn > 0 {
            let _ = self.element.insert_adjacent_html("beforeend", &html);
            if self.stick.get() {
                self.to_end();
            } else {
                self.unseen.update(|n| *n += drawn);
            }
        }
    }

    /// Draws every line again, for another filter.
    pub fn redraw(&self, store: &mut Store, filter: Filter, only: bool) {
        *self.filter.borrow_mut() = filter;
        self.only.set(only);
        for line in store.iter_mut() {
            line.drawn = false;
        }
        store.undrawn = store.len();
        store.gone = 0;
        store.matching = 0;
        self.element.set_inner_html("");
        let stick = self.stick.get();
        self.draw(store);
        self.unseen.set(0);
        if stick {
            self.to_end();
        }
    }

    /// Every line away, for a read with other options.
    pub fn clear(&self) {
        self.element.set_inner_html("");
        self.unseen.set(0);
        self.stick.set(true);
    }

    /// The person scrolled: at the end the view follows new lines again.
    pub fn scrolled(&self) {
        let e = &self.element;
        // Hidden (another tab shows), it measures nothing: nothing changed.
        if e.client_height() == 0 {
            return;
        }
        let at_end = e.scroll_height() - e.scroll_top() - e.client_height() <= AT_END_PX;
        self.stick.set(at_end);
        if at_end {
            self.unseen.set(0);
        }
    }

    /// To the end, and stays there.
    pub fn to_end(&self) {
        self.stick.set(true);
        self.unseen.set(0);
        self.element.set_scroll_top(self.element.scroll_height());
    }

    pub fn sticks(&self) -> bool {
        self.stick.get()
    }

    /// The lines as shown, as text: timestamps when shown, only matches when only those
    /// are shown, colours left out.
    pub fn text(&self, store: &Store, timestamps: bool) -> String {
        let mut out = String::new();
        for line in store.iter().filter(|l| l.drawn) {
            if timestamps && !line.time().is_empty() {
                out.push_str(line.time());
                out.push(' ');
            }
            out.push_str(&ansi::parse(line.text()).text);
            out.push('\n');
        }
        out
    }
}

/// One line's element.
fn line_html(out: &mut String, line: &Line, filter: &Filter) {
    let styled = ansi::parse(line.text());
    let marks = filter.ranges(&styled.text);
    out.push_str(if marks.is_empty() {
        "<div class=\"line\">"
    } else {
        "<div class=\"line match\">"
    });
    if !line.time().is_empty() {
        out.push_str("<span class=\"time\">");
        ansi::escape_into(out, line.time());
        out.push_str(" </span>");
    }
    ansi::to_html(out, &styled, &marks);
    out.push_str("</div>");
}

/// Offers `text` as a download named `name`.
pub fn download(name: &str, text: &str) -> Result<(), String> {
    use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};
    let fail = |e: wasm_bindgen::JsValue| crate::app::xterm::js_message(&e);
    let parts = js_sys::Array::of1(&text.into());
    let options = BlobPropertyBag::new();
    options.set_type("text/plain;charset=utf-8");
    let blob = Blob::new_with_str_sequence_and_options(&parts, &options).map_err(fail)?;
    let url = Url::create_object_url_with_blob(&blob).map_err(fail)?;
    let document = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let link: HtmlAnchorElement = document.create_element("a").map_err(fail)?.unchecked_into();
    link.set_href(&url);
    link.set_download(name);
    link.click();
    // Once the browser has taken the file.
    set_timeout(
        move || {
            let _ = Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(10),
    );
    Ok(())
}
