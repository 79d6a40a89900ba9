//! The dashboard's keyboard shortcuts: what they do, their keys (each can be changed, and
//! the changes are kept in the browser) and the listener that runs them. Their `?` list is
//! `shortcut_list`.
//!
//! The defaults are keys a page receives in an ordinary browser tab and a shell does not
//! need: Chromium keeps Ctrl+PageUp/PageDown, Ctrl+Tab, Ctrl+W, Ctrl+T, Ctrl+N and
//! Ctrl+Shift+T/N/W/Q for itself (a page never sees them, except in an installed app's
//! window), and xterm.js sends nothing for Ctrl+Shift with a letter, so those are free.

// Keys are read in the browser only.
#![cfg_attr(not(feature = "hydrate"), allow(dead_code))]

use leptos::prelude::*;

#[cfg(feature = "hydrate")]
use super::shortcut_list::Help;

/// What a shortcut does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    PreviousTab,
    NextTab,
    MoveTabLeft,
    MoveTabRight,
    CloseTab,
    RenameTab,
    NextPane,
    Fullscreen,
    Sidebar,
    Help,
}

impl Action {
    pub const ALL: [Action; 10] = [
        Action::PreviousTab,
        Action::NextTab,
        Action::MoveTabLeft,
        Action::MoveTabRight,
        Action::CloseTab,
        Action::RenameTab,
        Action::NextPane,
        Action::Fullscreen,
        Action::Sidebar,
        Action::Help,
    ];

    /// Its name in the browser's storage.
    pub fn id(self) -> &'static str {
        match self {
            Action::PreviousTab => "previous-tab",
            Action::NextTab => "next-tab",
            Action::MoveTabLeft => "move-tab-left",
            Action::MoveTabRight => "move-tab-right",
            Action::CloseTab => "close-tab",
            Action::RenameTab => "rename-tab",
            Action::NextPane => "next-pane",
            Action::Fullscreen => "fullscreen",
            Action::Sidebar => "sidebar",
            Action::Help => "help",
        }
    }

    pub fn words(self) -> &'static str {
        match self {
            Action::PreviousTab => "Show the previous tab",
            Action::NextTab => "Show the next tab",
            Action::MoveTabLeft => "Move the tab left",
            Action::MoveTabRight => "Move the tab right",
            Action::CloseTab => "Close the tab (a live shell asks first)",
            Action::RenameTab => "Rename the tab",
            Action::NextPane => "Go to the next pane",
            Action::Fullscreen => "Show the pane full screen",
            Action::Sidebar => "Hide or show the pod list",
            Action::Help => "List the shortcuts",
        }
    }

    pub fn default_keys(self) -> Option<&'static str> {
        match self {
            Action::PreviousTab => Some("Alt+PageUp"),
            Action::NextTab => Some("Alt+PageDown"),
            Action::MoveTabLeft => Some("Alt+Shift+PageUp"),
            Action::MoveTabRight => Some("Alt+Shift+PageDown"),
            Action::CloseTab => Some("Ctrl+Shift+X"),
            Action::NextPane => Some("Alt+Shift+ArrowRight"),
            Action::Help => Some("Ctrl+Shift+/"),
            Action::RenameTab | Action::Fullscreen | Action::Sidebar => None,
        }
    }
}

/// Keys as podterm writes them ("Ctrl+Shift+X"): the modifiers in a fixed order, then the
/// key where it sits on the keyboard (`KeyboardEvent.code`), so Shift does not change its
/// name. `None` for a modifier pressed alone.
pub fn combo(ctrl: bool, alt: bool, shift: bool, meta: bool, code: &str) -> Option<String> {
    let key = match code {
        "" | "ControlLeft" | "ControlRight" | "AltLeft" | "AltRight" | "ShiftLeft"
        | "ShiftRight" | "MetaLeft" | "MetaRight" | "OSLeft" | "OSRight" | "CapsLock" => {
            return None;
        }
        "Slash" => "/",
        "Backslash" => "\\",
        "Period" => ".",
        "Comma" => ",",
        "Semicolon" => ";",
        "Quote" => "'",
        "Backquote" => "`",
        "BracketLeft" => "[",
        "BracketRight" => "]",
        "Minus" => "-",
        "Equal" => "=",
        other => other
            .strip_prefix("Key")
            .or_else(|| other.strip_prefix("Digit"))
            .unwrap_or(other),
    };
    let mut out = String::new();
    for (on, name) in [
        (ctrl, "Ctrl+"),
        (alt, "Alt+"),
        (shift, "Shift+"),
        (meta, "Meta+"),
    ] {
        if on {
            out.push_str(name);
        }
    }
    out.push_str(key);
    Some(out)
}

/// Whether a shell (or a program in it) may want these keys: plain keys, Ctrl with a
/// character (Ctrl+R, Ctrl+A, Ctrl+W), Alt with a character (readline's Meta keys). Not
/// Ctrl+Shift with a letter (xterm.js sends nothing for those) nor Alt with PageUp.
pub fn shell_may_need(keys: &str) -> bool {
    let parts: Vec<&str> = keys.split('+').collect();
    let (mods, key) = match keys.strip_suffix("++") {
        // The plus key itself.
        Some(mods) => (mods.split('+').collect::<Vec<_>>(), "+"),
        None => (parts[..parts.len() - 1].to_vec(), parts[parts.len() - 1]),
    };
    let has = |m: &str| mods.contains(&m);
    let character = key.chars().count() == 1;
    if has("Meta") {
        return false;
    }
    match (has("Ctrl"), has("Alt"), has("Shift")) {
        (false, false, _) => true,
        (true, false, false) => character,
        (_, true, _) => character,
        (true, false, true) => false,
    }
}

/// The keys of every action: the defaults with the person's changes.
#[derive(Clone, Copy)]
pub struct Keys(pub RwSignal<Vec<(Action, Option<String>)>>);

const STORAGE_KEY: &str = "podterm.keys";

impl Keys {
    pub fn new() -> Self {
        Self(RwSignal::new(Self::defaults()))
    }

    fn defaults() -> Vec<(Action, Option<String>)> {
        Action::ALL
            .iter()
            .map(|a| (*a, a.default_keys().map(String::from)))
            .collect()
    }

    pub fn of(&self, action: Action) -> Option<String> {
        self.0.with(|keys| {
            keys.iter()
                .find(|(a, _)| *a == action)
                .and_then(|(_, k)| k.clone())
        })
    }

    /// The action these keys run, if any.
    pub fn action(&self, keys: &str) -> Option<Action> {
        self.0.with_untracked(|all| {
            all.iter()
                .find(|(_, k)| k.as_deref() == Some(keys))
                .map(|(a, _)| *a)
        })
    }

    /// Gives `action` these keys (none: no keys), taking them from any other action.
    pub fn set(&self, action: Action, keys: Option<String>) {
        self.0.update(|all| bind(all, action, keys));
        self.save();
    }

    pub fn reset(&self) {
        self.0.set(Self::defaults());
        self.save();
    }

    fn changes(&self) -> String {
        self.0.with_untracked(|all| changes(all))
    }

    fn apply(&self, saved: &str) {
        self.0.update(|all| apply(all, saved));
    }

    #[cfg(feature = "hydrate")]
    fn storage() -> Option<web_sys::Storage> {
        web_sys::window()?.local_storage().ok().flatten()
    }

    /// Reads the person's changes (once the page runs).
    pub fn load(&self) {
        #[cfg(feature = "hydrate")]
        if let Some(changes) = Self::storage().and_then(|s| s.get_item(STORAGE_KEY).ok().flatten())
        {
            self.apply(&changes);
        }
    }

    fn save(&self) {
        let changes = self.changes();
        #[cfg(feature = "hydrate")]
        if let Some(storage) = Self::storage() {
            let _ = storage.set_item(STORAGE_KEY, &changes);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (changes, STORAGE_KEY);
    }
}

/// Gives `action` these keys (none: no keys), taking them from any other action.
fn bind(all: &mut [(Action, Option<String>)], action: Action, keys: Option<String>) {
    for (a, k) in all.iter_mut() {
        if *a == action {
            *k = keys.clone();
        } else if keys.is_some() && *k == keys {
            *k = None;
        }
    }
}

/// The changes from the defaults, one `action=keys` a line.
fn changes(all: &[(Action, Option<String>)]) -> String {
    all.iter()
        .filter(|(a, k)| a.default_keys() != k.as_deref())
        .map(|(a, k)| format!("{}={}", a.id(), k.clone().unwrap_or_default()))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Puts back what `changes` wrote.
fn apply(all: &mut [(Action, Option<String>)], saved: &str) {
    for line in saved.lines() {
        let Some((id, keys)) = line.split_once('=') else {
            continue;
        };
        if let Some(entry) = all.iter_mut().find(|(a, _)| a.id() == id) {
            entry.1 = Some(keys.to_string()).filter(|k| !k.is_empty());
        }
    }
}

/// The browser's own keys for its tabs, which reach a page only where the browser lets
/// them (an installed app's window, full screen with Keyboard Lock): there they switch
/// podterm's tabs, unless given to another action.
fn browser_tab_keys(keys: &str) -> Option<Action> {
    match keys {
        "Ctrl+PageUp" => Some(Action::PreviousTab),
        "Ctrl+PageDown" => Some(Action::NextTab),
        _ => None,
    }
}

/// Listens to the page's keys, before xterm.js sees them: keys of a shortcut run it (and
/// never reach the shell), `?` outside a terminal opens the list, keys pressed while an
/// action waits for new ones become its keys.
#[cfg(feature = "hydrate")]
pub fn listen(keys: Keys, help: Help, run: Callback<Action>) {
    use wasm_bindgen::JsCast;
    use wasm_bindgen::prelude::*;
    let Some(window) = web_sys::window() else {
        return;
    };
    let handler = Closure::<dyn FnMut(web_sys::KeyboardEvent)>::new(
        move |event: web_sys::KeyboardEvent| {
            let pressed = combo(
                event.ctrl_key(),
                event.alt_key(),
                event.shift_key(),
                event.meta_key(),
                &event.code(),
            );
            let take = |event: &web_sys::KeyboardEvent| {
                event.prevent_default();
                event.stop_propagation();
            };
            if let Some(action) = help.recording.get_untracked() {
                let Some(pressed) = pressed else { return };
                take(&event);
                help.recording.set(None);
                if pressed == "Escape" {
                    return;
                }
                let taken = keys.action(&pressed).filter(|a| *a != action);
                let mut said = Vec::new();
                if let Some(other) = taken {
                    said.push(format!("{pressed} no longer does “{}”.", other.words()));
                }
                if shell_may_need(&pressed) {
                    said.push(format!(
                        "{pressed} is also a key of the shell: inside a terminal it now does this instead."
                    ));
                }
                help.note.set((!said.is_empty()).then(|| said.join(" ")));
                keys.set(action, Some(pressed));
                return;
            }
            if help.open.get_untracked() && event.key() == "Escape" {
                take(&event);
                help.open.set(false);
                return;
            }
            let plain = !event.ctrl_key() && !event.alt_key() && !event.meta_key();
            if plain && event.key() == "?" && !typing_into(&event) {
                take(&event);
                run.run(Action::Help);
                return;
            }
            if let Some(action) =
                pressed.and_then(|p| keys.action(&p).or_else(|| browser_tab_keys(&p)))
            {
                take(&event);
                run.run(action);
            }
        },
    );
    // Capturing, on the window: before xterm.js's own listener on its text area.
    let _ = window.add_event_listener_with_callback_and_bool(
        "keydown",
        handler.as_ref().unchecked_ref(),
        true,
    );
    // Removed when the dashboard goes.
    let handler = StoredValue::new_local(Some(handler));
    on_cleanup(move || {
        if let (Some(window), Some(handler)) = (
            web_sys::window(),
            handler.try_update_value(Option::take).flatten(),
        ) {
            let _ = window.remove_event_listener_with_callback_and_bool(
                "keydown",
                handler.as_ref().unchecked_ref(),
                true,
            );
        }
    });
}

/// The keys go into a field or a terminal, where `?` is a character.
#[cfg(feature = "hydrate")]
fn typing_into(event: &web_sys::KeyboardEvent) -> bool {
    use wasm_bindgen::JsCast;
    event
        .target()
        .and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok())
        .is_some_and(|e| {
            matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT")
                || e.is_content_editable()
        })
}

/// A terminal's own keys, which cannot be changed (the bridge reads them).
#[derive(Clone, Copy)]
pub enum TerminalKey {
    Copy,
    Paste,
    Search,
}

impl TerminalKey {
    /// Its keys as this browser's platform has them, the usual one first: a Mac's Cmd keys
    /// where the terminal takes them.
    pub fn keys(self) -> &'static [&'static str] {
        match (self, on_mac()) {
            (Self::Copy, true) => &["Cmd+C", "Ctrl+Shift+C"],
            (Self::Copy, false) => &["Ctrl+Shift+C", "Ctrl+Insert"],
            (Self::Paste, true) => &["Cmd+V", "Ctrl+Shift+V"],
            (Self::Paste, false) => &["Ctrl+Shift+V", "Shift+Insert"],
            (Self::Search, true) => &["Cmd+F", "Ctrl+Shift+F"],
            (Self::Search, false) => &["Ctrl+Shift+F"],
        }
    }
}

fn on_mac() -> bool {
    #[cfg(feature = "hydrate")]
    return super::xterm::mac();
    #[cfg(not(feature = "hydrate"))]
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_named_where_they_sit() {
        assert_eq!(
            combo(true, false, true, false, "KeyX").as_deref(),
            Some("Ctrl+Shift+X")
        );
        assert_eq!(
            combo(true, false, true, false, "Slash").as_deref(),
            Some("Ctrl+Shift+/")
        );
        assert_eq!(
            combo(false, true, false, false, "PageDown").as_deref(),
            Some("Alt+PageDown")
        );
        assert_eq!(
            combo(false, true, false, false, "Digit1").as_deref(),
            Some("Alt+1")
        );
        assert_eq!(combo(true, false, false, false, "ControlLeft"), None);
    }

    #[test]
    fn the_defaults_leave_the_shell_its_keys() {
        for action in Action::ALL {
            if let Some(keys) = action.default_keys() {
                assert!(!shell_may_need(keys), "{keys}");
            }
        }
        for keys in [
            "Ctrl+R", "Ctrl+A", "Ctrl+W", "Alt+1", "Alt+B", "A", "PageUp", "Ctrl+/",
        ] {
            assert!(shell_may_need(keys), "{keys}");
        }
    }

    #[test]
    fn changes_are_kept_and_read_back() {
        let of = |all: &[(Action, Option<String>)], action| {
            all.iter()
                .find(|(a, _)| *a == action)
                .and_then(|(_, k)| k.clone())
        };
        let mut keys = Keys::defaults();
        bind(&mut keys, Action::NextTab, Some("Ctrl+Shift+X".into()));
        // Taken from the action that had them.
        assert_eq!(of(&keys, Action::CloseTab), None);
        let mut again = Keys::defaults();
        apply(&mut again, &changes(&keys));
        assert_eq!(again, keys);
        assert_eq!(of(&again, Action::NextTab).as_deref(), Some("Ctrl+Shift+X"));
        assert_eq!(of(&again, Action::Help).as_deref(), Some("Ctrl+Shift+/"));
        // Unknown names (from a later version) are left alone.
        apply(&mut again, "teleport=F9\nhelp=");
        assert_eq!(of(&again, Action::Help), None);
    }
}
