//! The question before a paste of several lines reaches the shell, which would run each as
//! it arrives: what is about to go in, Paste or Cancel. In the page rather than
//! `window.confirm`, so it can show the lines and is not blocked by the browser. A setting
//! (on by default) turns it off.

use leptos::html::Button;
use leptos::prelude::*;

use super::controls::Controls;

/// The lines shown before the rest is summed up.
const SHOWN_LINES: usize = 6;
/// The characters of one line shown.
const SHOWN_CHARS: usize = 120;

/// "Paste 3 lines?"; a single line with a break would run at once, and says so.
pub fn question(text: &str) -> String {
    match text.lines().count() {
        0 | 1 => "Paste a line that runs at once?".into(),
        n => format!("Paste {n} lines?"),
    }
}

/// The start of what is pasted, as the question shows it.
pub fn preview(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut shown: Vec<String> = lines
        .iter()
        .take(SHOWN_LINES)
        .map(|line| match line.char_indices().nth(SHOWN_CHARS) {
            Some((cut, _)) => format!("{}…", &line[..cut]),
            None => line.to_string(),
        })
        .collect();
    if lines.len() > SHOWN_LINES {
        shown.push(format!("… and {} more", lines.len() - SHOWN_LINES));
    }
    shown.join("\n")
}

#[component]
pub fn PasteConfirm(controls: Controls, text: String) -> impl IntoView {
    let paste = NodeRef::<Button>::new();
    let question = question(&text);
    let label = question.clone();
    let preview = preview(&text);
    let text = StoredValue::new(text);
    let answer = move |yes: bool| {
        controls.paste.set(None);
        if yes {
            text.with_value(|text| controls.paste_now(text));
        } else {
            controls.focus();
        }
    };
    Effect::new(move |_| {
        if let Some(button) = paste.get() {
            let _ = button.focus();
        }
    });
    view! {
        <div class="paste-confirm" role="alertdialog" aria-label=label
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    answer(false);
                }
            }>
            <strong>{question}</strong>
            <span class="hint">"The shell may run each line as it arrives."</span>
            <pre class="paste-preview">{preview}</pre>
            <div class="paste-answers">
                <button class="button small" node_ref=paste on:click=move |_| answer(true)>"Paste"</button>
                <button class="button small" on:click=move |_| answer(false)>"Cancel"</button>
                <span class="hint">"Turn this question off in the terminal settings (⚙)."</span>
            </div>
        </div>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_question_counts_lines_and_shows_their_start() {
        assert_eq!(question("ls\n"), "Paste a line that runs at once?");
        assert_eq!(question("ls\npwd\n"), "Paste 2 lines?");
        assert_eq!(question("a\r\nb\r\nc"), "Paste 3 lines?");
        let many: String = (1..=9).map(|n| format!("echo {n}\n")).collect();
        assert_eq!(
            preview(&many),
            "echo 1\necho 2\necho 3\necho 4\necho 5\necho 6\n… and 3 more"
        );
        let long = "é".repeat(200);
        assert_eq!(preview(&long).chars().count(), SHOWN_CHARS + 1);
    }
}
