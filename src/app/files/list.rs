//! The transfer list: one line per upload with its progress bar (bytes, speed, time
//! left), a Cancel button, the question when the file exists, and the result.

use leptos::prelude::*;

use super::queue::{Answer, Uploads};
use super::transfer::{Stage, summary};

#[component]
pub fn TransferList(uploads: Uploads) -> impl IntoView {
    let list = uploads.list;
    let any_over = move || list.with(|l| l.iter().any(|t| t.stage.is_over()));
    let several_running =
        move || list.with(|l| l.iter().filter(|t| !t.stage.is_over()).count() > 1);
    view! {
        <Show when=move || list.with(|l| !l.is_empty())>
            <section class="transfers" aria-label="Uploads">
                <header class="transfers-head">
                    <span class="transfers-summary" role="status" aria-live="polite">{move || list.with(|l| summary(l))}</span>
                    <Show when=several_running>
                        <button class="button small" on:click=move |_| uploads.cancel_all()>"Cancel all"</button>
                    </Show>
                    <Show when=any_over>
                        <button class="button small" title="Take the finished uploads off this list"
                            on:click=move |_| uploads.clear()>"Clear finished"</button>
                    </Show>
                </header>
                <ul class="transfer-list">
                    <For each=move || list.with(|l| l.iter().map(|t| (t.id, t.name.clone(), t.path.clone())).collect::<Vec<_>>())
                        key=|(id, ..)| *id
                        children=move |(id, name, path)| view! { <Row uploads id name path/> }/>
                </ul>
            </section>
        </Show>
    }
}

#[component]
fn Row(uploads: Uploads, id: u32, name: String, path: String) -> impl IntoView {
    let stage = Memo::new(move |_| {
        uploads
            .list
            .with(|l| l.iter().find(|t| t.id == id).map(|t| t.stage.clone()))
            .unwrap_or(Stage::Cancelled)
    });
    let dir = crate::files::parent(&path).to_string();
    let progress = {
        let label = format!("Upload of {name}");
        move || {
            match stage.get() {
            Stage::Sending(p) => Some(view! {
                <progress class="transfer-bar" max=p.total.max(1.0) value=p.sent aria-label=label.clone()></progress>
            }.into_any()),
            Stage::Checking => Some(view! {
                <progress class="transfer-bar" aria-label=label.clone()></progress>
            }.into_any()),
            _ => None,
        }
        }
    };
    let question = {
        let (name, dir) = (name.clone(), dir.clone());
        move || {
            (stage.get() == Stage::Asking).then(|| view! {
            <div class="transfer-ask" role="group" aria-label=format!("{name} already exists")>
                <span>{format!("{name} is already in {dir}. Replace it?")}</span>
                <button class="button small danger" on:click=move |_| uploads.answer(id, Answer::Replace)>"Replace"</button>
                <button class="button small" on:click=move |_| uploads.answer(id, Answer::Skip)>"Skip"</button>
                <button class="button small" title="Replace this file and any other that exists, without asking"
                    on:click=move |_| uploads.answer(id, Answer::ReplaceAll)>"Replace all"</button>
            </div>
        })
        }
    };
    let may_retry = move || match stage.get() {
        Stage::Failed(f) => f.may_retry(),
        Stage::Cancelled => true,
        _ => false,
    };
    let cancel_label = format!("Cancel the upload of {name}");
    let to = if path.is_empty() {
        String::new()
    } else {
        format!(" → {dir}")
    };
    view! {
        <li class="transfer" data-stage=move || stage.with(Stage::key) data-name=name.clone()>
            <div class="transfer-line">
                <span class="transfer-name" title=path.clone()>{name.clone()}</span>
                <span class="transfer-to">{to}</span>
                <Show when=move || !stage.with(Stage::is_over)>
                    <button class="button small" aria-label=cancel_label.clone()
                        on:click=move |_| uploads.cancel(id)>"Cancel"</button>
                </Show>
                <Show when=may_retry>
                    <button class="button small" on:click=move |_| uploads.retry(id)>"Try again"</button>
                </Show>
            </div>
            {progress}
            <p class="transfer-words" class:error=move || matches!(stage.get(), Stage::Failed(_))>
                {move || stage.with(Stage::words)}
            </p>
            {question}
        </li>
    }
}
