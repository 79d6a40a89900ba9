//! The terminal settings panel (the gear on a terminal's bar): font, line height, theme,
//! cursor, scrollback, the clipboard's behaviour and the renderer. The settings themselves live in the
//! browser (public/js/terminal-settings.mjs keeps them in local storage, so a terminal
//! starts with them before the wasm loads); a change applies to every open terminal, which
//! refits and tells its PTY the new size.

use leptos::html::Div;
use leptos::prelude::*;
use serde::Deserialize;

use super::terminal::controls::Controls;

/// The settings as the browser keeps them.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Settings {
    pub font_size: u32,
    pub font_family: String,
    pub line_height: f64,
    pub theme: String,
    pub cursor_style: String,
    pub scrollback: u32,
    pub copy_on_select: bool,
    pub osc52: bool,
    pub confirm_paste: bool,
    pub renderer: String,
}

const FONTS: [(&str, &str); 5] = [
    ("default", "Default (DejaVu, Noto, Liberation…)"),
    ("dejavu-sans-mono", "DejaVu Sans Mono"),
    ("noto-sans-mono", "Noto Sans Mono"),
    ("liberation-mono", "Liberation Mono"),
    ("monospace", "The browser's monospace"),
];
const LINE_HEIGHTS: [(&str, &str); 6] = [
    ("1", "1"),
    ("1.15", "1.15"),
    ("1.3", "1.3"),
    ("1.5", "1.5"),
    ("1.75", "1.75"),
    ("2", "2"),
];
const THEMES: [(&str, &str); 4] = [
    ("dark", "Dark"),
    ("light", "Light"),
    ("high-contrast", "High contrast"),
    ("system", "Follow the system"),
];
const CURSORS: [(&str, &str); 3] = [
    ("block", "Block"),
    ("underline", "Underline"),
    ("bar", "Bar"),
];
const RENDERERS: [(&str, &str); 3] = [
    ("automatic", "WebGL where a GPU draws it"),
    ("webgl", "WebGL, even without a GPU"),
    ("dom", "DOM only"),
];

/// What a setting takes, said when a value is refused.
fn accepts(name: &str) -> &'static str {
    match name {
        "fontSize" => "The font size is a whole number from 8 to 32.",
        "scrollback" => "The scrollback is a whole number of lines from 0 to 100000.",
        _ => "That value is not one this setting takes.",
    }
}

/// The current settings; `None` on the server.
fn read() -> Option<Settings> {
    #[cfg(feature = "hydrate")]
    {
        serde_json::from_str(&super::xterm::settings_json()).ok()
    }
    #[cfg(not(feature = "hydrate"))]
    None
}

fn set(name: &str, value: &str) -> bool {
    #[cfg(feature = "hydrate")]
    {
        super::xterm::set_setting(name, value)
    }
    #[cfg(not(feature = "hydrate"))]
    {
        let _ = (name, value);
        false
    }
}

fn reset() {
    #[cfg(feature = "hydrate")]
    super::xterm::reset_settings();
}

/// The gear button that opens the panel.
#[component]
pub fn SettingsButton(controls: Controls) -> impl IntoView {
    let open = controls.settings_open;
    view! {
        <button class="button small icon" aria-label="Terminal settings" title="Terminal settings"
            aria-expanded=move || open.get().to_string()
            on:click=move |_| {
                controls.menu.set(None);
                open.update(|open| *open = !*open);
            }>"⚙"</button>
    }
}

#[component]
pub fn SettingsPanel(controls: Controls) -> impl IntoView {
    let panel = NodeRef::<Div>::new();
    let current = RwSignal::new(read());
    let refused = RwSignal::new(None::<&'static str>);
    let change = move |name: &'static str, value: String| {
        refused.set((!set(name, &value)).then(|| accepts(name)));
        // Also shows a refused value's setting as it still is.
        current.set(read());
    };
    let close = move || {
        controls.settings_open.set(false);
        controls.focus();
    };
    Effect::new(move |_| {
        if let Some(panel) = panel.get()
            && let Ok(Some(first)) = panel.query_selector("input, select")
        {
            use leptos::wasm_bindgen::JsCast;
            if let Ok(first) = first.dyn_into::<leptos::web_sys::HtmlElement>() {
                let _ = first.focus();
            }
        }
    });
    let value = move |get: fn(&Settings) -> String| {
        move || current.with(|s| s.as_ref().map(get).unwrap_or_default())
    };
    let checked =
        move |get: fn(&Settings) -> bool| move || current.with(|s| s.as_ref().is_some_and(get));
    // `prop:selected` on each option rather than the select's value: it holds whether the
    // options are in yet or not, and after a reset.
    let options = move |choices: &[(&'static str, &'static str)], get: fn(&Settings) -> String| {
        choices
            .iter()
            .map(|&(choice, label)| {
                let selected =
                    move || current.with(|s| s.as_ref().is_some_and(|s| get(s) == choice));
                view! { <option value=choice prop:selected=selected>{label}</option> }
            })
            .collect_view()
    };
    let select = move |name: &'static str,
                       label: &'static str,
                       choices: &[(&'static str, &'static str)],
                       get: fn(&Settings) -> String| {
        view! {
            <label class="setting">
                <span>{label}</span>
                <select name=name aria-label=label on:change=move |ev| change(name, event_target_value(&ev))>
                    {options(choices, get)}
                </select>
            </label>
        }
    };
    let check = move |name: &'static str, label: &'static str, get: fn(&Settings) -> bool| {
        view! {
            <label class="setting check">
                <input type="checkbox" name=name prop:checked=checked(get)
                    on:change=move |ev| change(name, event_target_checked(&ev).to_string())/>
                {label}
            </label>
        }
    };
    view! {
        <div class="settings-panel" role="dialog" aria-label="Terminal settings" node_ref=panel
            on:keydown=move |ev| {
                if ev.key() == "Escape" {
                    ev.prevent_default();
                    close();
                }
            }>
            <label class="setting">
                <span>"Font size"</span>
                <input type="number" name="fontSize" aria-label="Font size" min="8" max="32" step="1"
                    prop:value=value(|s| s.font_size.to_string())
                    on:change=move |ev| change("fontSize", event_target_value(&ev))/>
                <span class="hint">"Ctrl+= and Ctrl+- in the terminal, Ctrl+0 resets"</span>
            </label>
            {select("fontFamily", "Font", &FONTS, |s| s.font_family.clone())}
            {select("lineHeight", "Line height", &LINE_HEIGHTS, |s| s.line_height.to_string())}
            {select("theme", "Theme", &THEMES, |s| s.theme.clone())}
            {select("cursorStyle", "Cursor", &CURSORS, |s| s.cursor_style.clone())}
            {select("renderer", "Renderer", &RENDERERS, |s| s.renderer.clone())}
            <label class="setting">
                <span>"Scrollback, lines"</span>
                <input type="number" name="scrollback" aria-label="Scrollback, lines" min="0" max="100000" step="1000"
                    prop:value=value(|s| s.scrollback.to_string())
                    on:change=move |ev| change("scrollback", event_target_value(&ev))/>
            </label>
            {check("copyOnSelect", "Copy text as it is selected", |s| s.copy_on_select)}
            {check("confirmPaste", "Ask before pasting several lines", |s| s.confirm_paste)}
            {check("osc52", "Let programs in the pod copy to the clipboard (OSC 52)", |s| s.osc52)}
            {move || refused.get().map(|why| view! { <p class="setting-refused" role="alert">{why}</p> })}
            <div class="settings-answers">
                <button class="button small" on:click=move |_| {
                    reset();
                    refused.set(None);
                    current.set(read());
                }>"Reset to defaults"</button>
                <button class="button small" on:click=move |_| close()>"Done"</button>
            </div>
            <p class="hint">"Kept in this browser; every terminal uses them."</p>
        </div>
    }
}
