//! The command picker of one container: podterm's shell (bash, else sh), only bash, only
//! sh, or the person's own command, one argument per line; on Windows `cmd.exe` (its
//! default) or `powershell.exe`. Each change is remembered (see `command`).

use leptos::prelude::*;

use super::command::{
    Choice, SHELLS, WINDOWS_SHELLS, parse_argv, remember, remembered, typed_argv,
};
use crate::app::Terminal;

/// The radio button a choice shows as.
fn option_of(choice: &Choice, windows: bool) -> String {
    match choice {
        Choice::Default => "default".into(),
        Choice::Shell(shell) => shell.clone(),
        Choice::Argv(argv)
            if windows && argv.len() == 1 && WINDOWS_SHELLS.contains(&argv[0].as_str()) =>
        {
            argv[0].clone()
        }
        Choice::Argv(_) => "custom".into(),
    }
}

/// The picker's panel. `choice` is the container's current choice; `key` where it is
/// remembered; `terminal` the container's terminal, which "Open" runs the choice in.
#[component]
pub fn Picker(
    choice: RwSignal<Choice>,
    key: String,
    windows: bool,
    terminal: Terminal,
    open: Callback<Terminal>,
    close: Callback<()>,
) -> impl IntoView {
    // Only ever made in the browser (it opens on a click): what it keeps is known.
    let kept = remembered(&key, windows);
    let picked = RwSignal::new(option_of(&kept, windows));
    let typed = RwSignal::new(match &kept {
        Choice::Argv(argv) if option_of(&kept, windows) == "custom" => typed_argv(argv),
        _ => String::new(),
    });
    // What the picker's state asks for: a choice, or why the typed command cannot run.
    let wanted = Memo::new(move |_| -> Result<Choice, &'static str> {
        Ok(match picked.get().as_str() {
            "default" => Choice::Default,
            "custom" => Choice::Argv(parse_argv(&typed.get())?),
            shell if SHELLS.contains(&shell) => Choice::Shell(shell.into()),
            program => Choice::Argv(vec![program.to_string()]),
        })
    });
    let key = StoredValue::new(key);
    // Each change is kept; opening the picker changes nothing.
    Effect::new(move |opened: Option<()>| {
        let wanted = wanted.get();
        if opened.is_none() {
            return;
        }
        if let Ok(wanted) = wanted {
            key.with_value(|key| remember(key, &wanted, windows));
            choice.set(wanted);
        }
    });
    let options: Vec<(&'static str, &'static str)> = if windows {
        vec![
            ("cmd.exe", "cmd.exe (the default here)"),
            ("powershell.exe", "powershell.exe"),
            ("custom", "Your own command"),
        ]
    } else {
        vec![
            ("default", "bash, else sh (podterm's shell)"),
            ("bash", "bash only"),
            ("sh", "sh only"),
            ("custom", "Your own command"),
        ]
    };
    // One radio group per picker, however many are open.
    let name = format!(
        "command of {}/{}",
        terminal.target.pod, terminal.target.container
    );
    let radios = options
        .into_iter()
        .map(|(value, label)| {
            let name = name.clone();
            view! {
                <label class="picker-option">
                    <input type="radio" name=name value=value
                        prop:checked=move || picked.get() == value
                        on:change=move |_| picked.set(value.to_string())/>
                    {label}
                </label>
            }
        })
        .collect_view();
    let container = terminal.target.container.clone();
    let run = move |_| {
        if let Ok(choice) = wanted.get_untracked() {
            open.run(choice.apply(terminal.clone()));
            close.run(());
        }
    };
    view! {
        <fieldset class="picker" data-testid="picker">
            <legend>"What a terminal in " {container} " runs"</legend>
            {radios}
            <Show when=move || picked.get() == "custom">
                <label class="picker-argv">
                    <span>"The program on the first line, then one argument per line"</span>
                    <textarea rows="4" spellcheck="false" autocomplete="off" aria-label="Command, one argument per line"
                        prop:value=move || typed.get()
                        on:input=move |ev| typed.set(event_target_value(&ev))></textarea>
                </label>
                <p class="hint-line">"Each line is one argument, exactly as typed, spaces and quotes included: no shell splits or expands it. Blank lines at the end are left out."</p>
            </Show>
            {move || match wanted.get() {
                Err(why) => Some(view! { <p class="why-not" role="alert">{why}</p> }.into_any()),
                Ok(c) if !c.ends_processes() => Some(view! {
                    <p class="warn-line">
                        {if windows {
                            "podterm cannot end a Windows session's processes when its terminal closes (that needs /bin/sh): end them yourself before closing."
                        } else {
                            "A command runs as given, so podterm cannot end the session's processes when its terminal closes: end them yourself before closing."
                        }}
                    </p>
                }.into_any()),
                Ok(_) => None,
            }}
            <div class="picker-buttons">
                <button class="button small primary" disabled=move || wanted.with(Result::is_err) on:click=run>"Open a terminal"</button>
                <button class="button small" on:click=move |_| close.run(())>"Done"</button>
            </div>
        </fieldset>
    }
}
