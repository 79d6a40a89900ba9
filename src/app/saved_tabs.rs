//! The open tabs, their names and sessions, and the panes showing them, kept in the browser
//! tab's session storage: a reload of the dashboard comes back to the same shells (podterm
//! keeps them for its grace period), logs and files, split as they were.

use leptos::prelude::*;

use super::Terminal;
use super::tabs::{Content, PANE_COUNTS, Tab, Tabs};
use crate::model::Target;
use crate::protocol::encode;

const KEY: &str = "podterm.tabs";
/// The panes: how many, which has the keyboard, and the place in `KEY`'s list of the tab
/// each shows (`-` for none).
const PANES_KEY: &str = "podterm.panes";
/// The last field of a log's line, and of a Files tab's.
const LOG: &str = "log";
const FILES: &str = "files";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

/// One tab per line: its name when the person gave it one and a tab character, then its
/// context, namespace, pod, container and session, encoded; a log's with no session and
/// `log` after it, a Files tab's with `files`.
fn line(tab: &Tab, session: Option<String>, name: Option<String>) -> String {
    let target = tab.content.target();
    let mut fields = vec![
        target.context.clone().unwrap_or_default(),
        target.namespace.clone(),
        target.pod.clone(),
        target.container.clone(),
        session.unwrap_or_default(),
    ];
    match &tab.content {
        Content::Log(_) => fields.push(LOG.into()),
        Content::Files(_) => fields.push(FILES.into()),
        Content::Shell(terminal) => fields.extend(terminal.saved_fields()),
    }
    let fields = fields
        .iter()
        .map(|field| encode(field))
        .collect::<Vec<_>>()
        .join(" ");
    match name {
        Some(name) => format!("{}\t{fields}", encode(&name)),
        None => fields,
    }
}

fn decode(field: &str) -> Option<String> {
    js_sys::decode_uri_component(field).ok().map(String::from)
}

/// A saved tab: what it shows, its session, its name.
type Saved = (Content, Option<String>, Option<String>);

fn parse(line: &str) -> Option<Saved> {
    // Lines saved before tabs had names have no tab character.
    let (name, line) = match line.split_once('\t') {
        Some((name, rest)) => (Some(decode(name)?).filter(|n| !n.is_empty()), rest),
        None => (None, line),
    };
    let fields: Vec<String> = line.split(' ').map(decode).collect::<Option<_>>()?;
    // A log's line has `log` as its sixth and last field (a Files tab's `files`); a
    // terminal's has none or at least two more (`Terminal::saved_fields`).
    let log = fields.len() == 6 && fields[5] == LOG;
    let files = fields.len() == 6 && fields[5] == FILES;
    let [context, namespace, pod, container, session] =
        <[String; 5]>::try_from(fields.get(..5)?.to_vec()).ok()?;
    if namespace.is_empty() || pod.is_empty() || container.is_empty() {
        return None;
    }
    let target = Target {
        context: Some(context).filter(|c| !c.is_empty()),
        namespace,
        pod,
        container,
    };
    if log {
        return Some((Content::Log(target), None, name));
    }
    if files {
        return Some((Content::Files(target), None, name));
    }
    let terminal = Terminal {
        target,
        ..Default::default()
    }
    .with_saved_fields(&fields[5..])?;
    Some((
        Content::Shell(terminal),
        Some(session).filter(|s| !s.is_empty()),
        name,
    ))
}

/// The panes' line: count, focus, then each pane's tab as its place in `ids`.
fn panes_line(tabs: &Tabs, ids: &[u32]) -> String {
    let mut fields = vec![
        tabs.slots.with(Vec::len).to_string(),
        tabs.focus.get().to_string(),
    ];
    tabs.slots.with(|slots| {
        fields.extend(slots.iter().map(|slot| {
            slot.and_then(|id| ids.iter().position(|i| *i == id))
                .map_or("-".into(), |at| at.to_string())
        }))
    });
    fields.join(" ")
}

/// Puts back the panes of `line`; `ids[n]`: the tab the n-th saved line became, if any.
fn restore_panes(tabs: &Tabs, line: &str, ids: &[Option<u32>]) {
    let mut fields = line.split(' ');
    let count = fields.next().and_then(|c| c.parse::<usize>().ok());
    let Some(count) = count.filter(|c| PANE_COUNTS.contains(c)) else {
        return;
    };
    let focus = fields
        .next()
        .and_then(|f| f.parse::<usize>().ok())
        .unwrap_or(0);
    let mut slots: Vec<Option<u32>> = fields
        .map(|f| {
            f.parse::<usize>()
                .ok()
                .and_then(|at| ids.get(at).copied().flatten())
        })
        .collect();
    slots.resize(count, None);
    tabs.slots.set(slots);
    tabs.focus.set(focus.min(count - 1));
}

/// Brings back the saved tabs and panes once the page is hydrated, then keeps them current.
pub fn keep(tabs: Tabs) {
    Effect::new(move |restored: Option<()>| {
        if restored.is_none() {
            let saved = |key| {
                storage()
                    .and_then(|s| s.get_item(key).ok().flatten())
                    .unwrap_or_default()
            };
            // Tabs whose shell had ended stay closed; logs are read again, files listed.
            let ids: Vec<Option<u32>> = saved(KEY)
                .lines()
                .map(|line| {
                    let (content, session, name) = parse(line)?;
                    let back = session.is_some() || !matches!(content, Content::Shell(_));
                    back.then(|| tabs.add(content, session, name))
                })
                .collect();
            restore_panes(&tabs, &saved(PANES_KEY), &ids);
        }
        let (lines, ids): (Vec<String>, Vec<u32>) = tabs.list.with(|t| {
            t.iter()
                .map(|tab| (line(tab, tab.session.get(), tab.name.get()), tab.id))
                .unzip()
        });
        let panes = panes_line(&tabs, &ids);
        if let Some(storage) = storage() {
            let _ = storage.set_item(KEY, &lines.join("\n"));
            let _ = storage.set_item(PANES_KEY, &panes);
        }
    });
}
