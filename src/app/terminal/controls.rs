//! What a terminal pane's own controls (the search bar, the context menu, the paste
//! question) do to its xterm.js terminal, and what the terminal tells them. Rendered on
//! the server too, where there is no terminal and every action does nothing.

use leptos::prelude::*;

/// Where a search stands, for the words beside the search field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
pub enum Matches {
    /// Nothing to look for yet.
    #[default]
    Idle,
    /// The `index`th (from 0; `None` when no match is the current one) of `count`.
    Found { index: Option<u32>, count: u32 },
    /// The regular expression does not parse.
    Invalid,
}

/// The search addon highlights at most this many matches (public/js/terminal-extras.mjs).
pub const MATCH_LIMIT: u32 = 1000;

impl Matches {
    /// From the bridge's "results" detail: "index count", or "invalid".
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn parse(detail: &str) -> Matches {
        if detail == "invalid" {
            return Matches::Invalid;
        }
        let mut parts = detail.split(' ').map(str::parse::<i64>);
        match (parts.next(), parts.next()) {
            (Some(Ok(index)), Some(Ok(count))) => Matches::Found {
                index: u32::try_from(index).ok(),
                count: u32::try_from(count).unwrap_or(0),
            },
            _ => Matches::Idle,
        }
    }

    pub fn describe(&self) -> String {
        match *self {
            Matches::Idle => String::new(),
            Matches::Invalid => "Not a valid pattern".into(),
            Matches::Found { count: 0, .. } => "No matches".into(),
            Matches::Found { count, .. } if count >= MATCH_LIMIT => {
                format!("{MATCH_LIMIT} or more matches")
            }
            Matches::Found {
                index: Some(index),
                count,
            } if index < count => format!("{} of {count}", index + 1),
            Matches::Found { count: 1, .. } => "1 match".into(),
            Matches::Found { count, .. } => format!("{count} matches"),
        }
    }
}

/// Hears what the terminal tells the page (the bridge's `onAction`).
#[cfg(feature = "hydrate")]
type ActionListener = wasm_bindgen::closure::Closure<dyn FnMut(String, String)>;

/// A pane's controls and the terminal they act on. `Copy`, for views.
#[derive(Clone, Copy)]
pub struct Controls {
    /// The search bar is open; `search_asked` counts the requests, each focuses its field.
    pub search_open: RwSignal<bool>,
    pub search_asked: RwSignal<u32>,
    pub matches: RwSignal<Matches>,
    /// A paste of several lines, waiting for the person's yes.
    pub paste: RwSignal<Option<String>>,
    /// The context menu, open at these page coordinates.
    pub menu: RwSignal<Option<(i32, i32)>>,
    pub settings_open: RwSignal<bool>,
    #[cfg(feature = "hydrate")]
    term: StoredValue<Option<crate::app::xterm::TerminalHandle>, LocalStorage>,
    #[cfg(feature = "hydrate")]
    listener: StoredValue<Option<ActionListener>, LocalStorage>,
}

impl Default for Controls {
    fn default() -> Self {
        Self::new()
    }
}

impl Controls {
    pub fn new() -> Self {
        Self {
            search_open: RwSignal::new(false),
            search_asked: RwSignal::new(0),
            matches: RwSignal::new(Matches::Idle),
            paste: RwSignal::new(None),
            menu: RwSignal::new(None),
            settings_open: RwSignal::new(false),
            #[cfg(feature = "hydrate")]
            term: StoredValue::new_local(None),
            #[cfg(feature = "hydrate")]
            listener: StoredValue::new_local(None),
        }
    }

    /// The pane's terminal exists: listen to it. False when it already did.
    #[cfg(feature = "hydrate")]
    pub fn attach(&self, term: &crate::app::xterm::TerminalHandle) -> bool {
        use wasm_bindgen::closure::Closure;
        if self.term.with_value(|term| term.is_some()) {
            return false;
        }
        let this = *self;
        let listener = Closure::new(move |name: String, detail: String| match name.as_str() {
            "search" => this.open_search(),
            "paste" => this.paste.set(Some(detail)),
            "results" => this.matches.set(Matches::parse(&detail)),
            _ => {}
        });
        term.on_action(&listener);
        self.listener.set_value(Some(listener));
        self.term.set_value(Some(term.clone()));
        true
    }

    /// Runs `act` on the terminal, if there is one (never on the server).
    #[cfg(feature = "hydrate")]
    fn with(&self, act: impl FnOnce(&crate::app::xterm::TerminalHandle)) {
        self.term.with_value(|term| {
            if let Some(term) = term {
                act(term);
            }
        });
    }

    pub fn open_search(&self) {
        self.menu.set(None);
        self.settings_open.set(false);
        self.search_open.set(true);
        self.search_asked.update(|n| *n += 1);
    }

    /// Closes the search bar, its highlights with it, and gives the keys back to the shell.
    pub fn close_search(&self) {
        self.search_open.set(false);
        self.matches.set(Matches::Idle);
        #[cfg(feature = "hydrate")]
        self.with(|term| term.clear_search());
        self.focus();
    }

    /// `how`: "typed", "next" or "previous". An empty term clears the highlights.
    pub fn find(&self, term: &str, case_sensitive: bool, regex: bool, how: &str) {
        if term.is_empty() {
            self.matches.set(Matches::Idle);
            #[cfg(feature = "hydrate")]
            self.with(|t| t.clear_search());
            return;
        }
        #[cfg(feature = "hydrate")]
        self.with(|t| t.find(term, case_sensitive, regex, how));
        #[cfg(not(feature = "hydrate"))]
        let _ = (case_sensitive, regex, how);
    }

    pub fn focus(&self) {
        #[cfg(feature = "hydrate")]
        self.with(|term| term.focus());
    }

    pub fn has_selection(&self) -> bool {
        #[cfg(feature = "hydrate")]
        {
            self.term
                .with_value(|term| term.as_ref().is_some_and(|t| t.has_selection()))
        }
        #[cfg(not(feature = "hydrate"))]
        false
    }

    pub fn copy(&self) {
        #[cfg(feature = "hydrate")]
        self.with(|term| term.copy_selection());
    }

    pub fn paste_clipboard(&self) {
        #[cfg(feature = "hydrate")]
        self.with(|term| {
            term.paste_clipboard();
        });
    }

    /// The paste the person said yes to.
    pub fn paste_now(&self, text: &str) {
        #[cfg(feature = "hydrate")]
        self.with(|term| term.paste_now(text));
        #[cfg(not(feature = "hydrate"))]
        let _ = text;
    }

    pub fn select_all(&self) {
        #[cfg(feature = "hydrate")]
        self.with(|term| term.select_all());
    }

    pub fn clear(&self) {
        #[cfg(feature = "hydrate")]
        self.with(|term| term.clear());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_match_count_reads_as_a_person_would_say_it() {
        let words = |detail: &str| Matches::parse(detail).describe();
        assert_eq!(words("2 12"), "3 of 12");
        assert_eq!(words("-1 12"), "12 matches");
        assert_eq!(words("-1 1"), "1 match");
        assert_eq!(words("-1 0"), "No matches");
        assert_eq!(words("-1 1000"), "1000 or more matches");
        assert_eq!(words("invalid"), "Not a valid pattern");
        assert_eq!(words("garbage"), "");
    }
}
