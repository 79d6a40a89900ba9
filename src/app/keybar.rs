//! The key bar above a terminal on touch screens, for the keys an on-screen keyboard lacks:
//! Esc, Tab, Ctrl and Alt (they hold until the next key), the arrows, `|`, `~` and `/`.
//! Its keys reach the shell as the bytes a keyboard's would.

use leptos::prelude::*;

/// Ctrl and Alt of the key bar, held for the next key (the bar's or the on-screen
/// keyboard's).
#[derive(Debug, Clone, Copy)]
pub struct Sticky {
    pub ctrl: RwSignal<bool>,
    pub alt: RwSignal<bool>,
}

impl Sticky {
    pub fn new() -> Self {
        Self {
            ctrl: RwSignal::new(false),
            alt: RwSignal::new(false),
        }
    }

    /// Typed text with the held modifiers applied to it, which then let go.
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub fn apply(&self, text: String) -> String {
        let (ctrl, alt) = (self.ctrl.get_untracked(), self.alt.get_untracked());
        if !ctrl && !alt {
            return text;
        }
        self.release();
        modified(&text, ctrl, alt)
    }

    fn release(&self) {
        self.ctrl.set(false);
        self.alt.set(false);
    }
}

/// A key of the bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Esc,
    Tab,
    Up,
    Down,
    Left,
    Right,
    Char(char),
}

const KEYS: [(Key, &str, &str); 10] = [
    (Key::Esc, "Esc", "Escape"),
    (Key::Tab, "Tab", "Tab"),
    (Key::Left, "←", "Left arrow"),
    (Key::Down, "↓", "Down arrow"),
    (Key::Up, "↑", "Up arrow"),
    (Key::Right, "→", "Right arrow"),
    (Key::Char('|'), "|", "Vertical bar"),
    (Key::Char('~'), "~", "Tilde"),
    (Key::Char('/'), "/", "Slash"),
    (Key::Char('-'), "-", "Dash"),
];

/// What a key sends, with Ctrl and Alt as held. `app_cursor`: the program asked for the
/// arrows' application mode (`ESC O A` rather than `ESC [ A`), as xterm.js follows.
pub fn bytes(key: Key, ctrl: bool, alt: bool, app_cursor: bool) -> String {
    let arrow = |letter: char| {
        let held = 1 + if alt { 2 } else { 0 } + if ctrl { 4 } else { 0 };
        match (held, app_cursor) {
            (1, true) => format!("\x1bO{letter}"),
            (1, false) => format!("\x1b[{letter}"),
            (n, _) => format!("\x1b[1;{n}{letter}"),
        }
    };
    match key {
        Key::Up => arrow('A'),
        Key::Down => arrow('B'),
        Key::Right => arrow('C'),
        Key::Left => arrow('D'),
        Key::Esc => modified("\x1b", false, alt),
        Key::Tab => modified("\t", false, alt),
        Key::Char(c) => modified(&c.to_string(), ctrl, alt),
    }
}

/// `text` as typed with Ctrl and Alt: Ctrl makes a letter (and `@[\]^_`, space, `?`, `/`)
/// its control character; Alt puts Esc before it, as xterm.js does.
pub fn modified(text: &str, ctrl: bool, alt: bool) -> String {
    let mut chars = text.chars();
    let one = match (chars.next(), chars.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    };
    let text = match one {
        Some(c) if ctrl => match c {
            'a'..='z' | 'A'..='Z' => ((c.to_ascii_uppercase() as u8) - 64) as char,
            '@' | '[' | '\\' | ']' | '^' | '_' => ((c as u8) - 64) as char,
            ' ' | '2' => '\0',
            '/' => '\x1f',
            '?' => '\x7f',
            other => other,
        }
        .to_string(),
        _ => text.to_string(),
    };
    if alt { format!("\x1b{text}") } else { text }
}

/// The bar. `send`: the bytes of a key, to the shell; `app_cursor`: the arrows' mode now.
#[component]
pub fn KeyBar(
    sticky: Sticky,
    send: Callback<String>,
    app_cursor: Callback<(), bool>,
) -> impl IntoView {
    let Sticky { ctrl, alt } = sticky;
    let press = move |key: Key| {
        let text = bytes(
            key,
            ctrl.get_untracked(),
            alt.get_untracked(),
            app_cursor.run(()),
        );
        sticky.release();
        send.run(text);
    };
    // A press must not take the keyboard from the terminal (the on-screen keyboard would go).
    let keep_focus = |ev: leptos::ev::MouseEvent| ev.prevent_default();
    view! {
        <div class="keybar" role="toolbar" aria-label="Keys for touch screens">
            <button class="key" aria-label="Escape" on:mousedown=keep_focus on:click=move |_| press(Key::Esc)>"Esc"</button>
            <button class="key" aria-label="Tab" on:mousedown=keep_focus on:click=move |_| press(Key::Tab)>"Tab"</button>
            <button class="key sticky" aria-label="Control, for the next key" aria-pressed=move || ctrl.get().to_string()
                on:mousedown=keep_focus on:click=move |_| ctrl.update(|c| *c = !*c)>"Ctrl"</button>
            <button class="key sticky" aria-label="Alt, for the next key" aria-pressed=move || alt.get().to_string()
                on:mousedown=keep_focus on:click=move |_| alt.update(|a| *a = !*a)>"Alt"</button>
            {KEYS[2..].iter().map(|(key, face, label)| {
                let key = *key;
                view! { <button class="key" aria-label=*label on:mousedown=keep_focus on:click=move |_| press(key)>{*face}</button> }
            }).collect_view()}
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_send_what_a_keyboard_would() {
        assert_eq!(bytes(Key::Up, false, false, false), "\x1b[A");
        assert_eq!(bytes(Key::Up, false, false, true), "\x1bOA");
        assert_eq!(bytes(Key::Left, true, false, false), "\x1b[1;5D");
        assert_eq!(bytes(Key::Right, false, true, true), "\x1b[1;3C");
        assert_eq!(bytes(Key::Esc, false, false, false), "\x1b");
        assert_eq!(bytes(Key::Tab, false, true, false), "\x1b\t");
        assert_eq!(bytes(Key::Char('|'), false, false, false), "|");
        assert_eq!(bytes(Key::Char('/'), true, false, false), "\x1f");
    }

    #[test]
    fn held_modifiers_change_the_next_character() {
        assert_eq!(modified("c", true, false), "\x03");
        assert_eq!(modified("C", true, false), "\x03");
        assert_eq!(modified("b", false, true), "\x1bb");
        assert_eq!(modified("r", true, true), "\x1b\x12");
        assert_eq!(modified("[", true, false), "\x1b");
        // Several characters at once (a paste, a word from the keyboard's suggestions)
        // only get Alt.
        assert_eq!(modified("ls", true, false), "ls");
    }
}
