//! The dashboard's tabs and the panes that show them: which tabs are open, in what order,
//! under what name, and which tab each pane shows. The strip is `tab_strip`, the panes'
//! view `panes`, what a reload keeps `saved_tabs`.

use leptos::prelude::*;

use super::Terminal;
use crate::model::Target;

/// What a tab shows: a terminal, a container's log, or its files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Content {
    Shell(Terminal),
    Log(Target),
    Files(Target),
}

impl Content {
    pub fn target(&self) -> &Target {
        match self {
            Content::Shell(terminal) => &terminal.target,
            Content::Log(target) | Content::Files(target) => target,
        }
    }
}

/// A tab. A shell's session id is kept in the browser (`saved_tabs`), so a reload brings
/// the tabs back to the same shells (and logs).
#[derive(Debug, Clone)]
pub struct Tab {
    pub id: u32,
    pub content: Content,
    /// A shell's session while it can be resumed.
    pub session: RwSignal<Option<String>>,
    /// The session to attach to first (a tab brought back after a reload).
    pub resume: Option<String>,
    /// Which shell of its container this is: 1, 2, … (a log has one tab).
    pub nth: u32,
    /// Files tabs: uploads are on their way (closing the tab stops them).
    pub busy: RwSignal<bool>,
    /// The name the person gave it; `None`: the name podterm gives it (`label`).
    pub name: RwSignal<Option<String>>,
    /// A terminal marked for broadcast input; off for every tab until the person marks it.
    pub broadcast: RwSignal<bool>,
}

impl Tab {
    /// The name podterm gives the tab.
    pub fn label(&self) -> String {
        let title = self.content.target().title();
        match (&self.content, self.nth) {
            (Content::Log(_), _) => format!("{title} · log"),
            (Content::Files(_), _) => format!("{title} · files"),
            (Content::Shell(_), 1) => title,
            (Content::Shell(_), n) => format!("{title} ({n})"),
        }
    }

    /// The name shown: the person's, else podterm's.
    pub fn shown_name(&self) -> String {
        self.name.get().unwrap_or_else(|| self.label())
    }
}

/// How many panes the view is split into.
pub const PANE_COUNTS: [usize; 3] = [1, 2, 4];

/// The tabs, the panes and the tab waiting for "End the shell?".
#[derive(Clone, Copy)]
pub struct Tabs {
    pub list: RwSignal<Vec<Tab>>,
    /// The tab each pane shows (one, two or four panes), `None` for an empty pane.
    pub slots: RwSignal<Vec<Option<u32>>>,
    /// The pane that has the keyboard: the tab strip's active tab is the one it shows.
    pub focus: RwSignal<usize>,
    pub active: Memo<Option<u32>>,
    pub closing: RwSignal<Option<u32>>,
    /// The tab whose name is being typed.
    pub renaming: RwSignal<Option<u32>>,
    next_id: StoredValue<u32>,
    /// The page's owner: a tab's signals live as long as the page, wherever it is opened
    /// from (an effect disposes what it made when it runs again).
    owner: StoredValue<Owner>,
}

impl Tabs {
    pub fn new() -> Self {
        let slots = RwSignal::new(vec![None]);
        let focus = RwSignal::new(0usize);
        Self {
            list: RwSignal::new(Vec::new()),
            slots,
            focus,
            active: Memo::new(move |_| slots.with(|s| s.get(focus.get()).copied().flatten())),
            closing: RwSignal::new(None),
            renaming: RwSignal::new(None),
            next_id: StoredValue::new(0),
            owner: StoredValue::new(Owner::current().unwrap_or_default()),
        }
    }

    /// A new tab (shown), for another shell of a terminal when it already has one.
    pub fn add(&self, content: Content, resume: Option<String>, name: Option<String>) -> u32 {
        let id = self.next_id.get_value() + 1;
        self.next_id.set_value(id);
        let (session, busy, name, broadcast) = self.owner.with_value(|owner| {
            owner.with(|| {
                (
                    RwSignal::new(resume.clone()),
                    RwSignal::new(false),
                    RwSignal::new(name),
                    RwSignal::new(false),
                )
            })
        });
        self.list.update(|t| {
            let nth = t
                .iter()
                .filter(|tab| tab.content == content)
                .map(|tab| tab.nth)
                .max()
                .unwrap_or(0)
                + 1;
            t.push(Tab {
                id,
                content,
                session,
                resume,
                nth,
                busy,
                name,
                broadcast,
            })
        });
        self.show(id);
        id
    }

    /// The terminals marked for broadcast input: their names.
    pub fn broadcasting(&self) -> Vec<String> {
        self.list.with(|t| {
            t.iter()
                .filter(|tab| tab.broadcast.get())
                .map(Tab::shown_name)
                .collect()
        })
    }

    /// Shows the first tab of a terminal or log, or opens one.
    pub fn open(&self, content: Content) {
        let existing = self.list.with_untracked(|t| {
            t.iter()
                .find(|tab| tab.content == content)
                .map(|tab| tab.id)
        });
        match existing {
            Some(id) => self.show(id),
            None => {
                self.add(content, None, None);
            }
        }
    }

    /// Shows a tab: where a pane shows it already, that pane takes the keyboard; else the
    /// pane with the keyboard shows it.
    pub fn show(&self, id: u32) {
        let shown = self
            .slots
            .with_untracked(|s| s.iter().position(|slot| *slot == Some(id)));
        match shown {
            Some(pane) => self.focus.set(pane),
            None => {
                let pane = self.focus.get_untracked();
                self.slots.update(|s| {
                    if let Some(slot) = s.get_mut(pane) {
                        *slot = Some(id);
                    }
                });
            }
        }
    }

    pub fn close(&self, id: u32) {
        self.closing.set(None);
        self.list.update(|t| t.retain(|tab| tab.id != id));
        // Its pane shows the last tab no pane shows, or nothing.
        let ids = self.ids();
        self.slots.update(|slots| {
            for i in 0..slots.len() {
                if slots[i] == Some(id) {
                    slots[i] = ids
                        .iter()
                        .rev()
                        .find(|other| !slots.contains(&Some(**other)))
                        .copied();
                }
            }
        });
    }

    /// The × of a tab: a live shell, or uploads on their way, end only once the person
    /// says so.
    pub fn ask_to_close(&self, id: u32) {
        let live = self.list.with_untracked(|t| {
            t.iter().any(|tab| {
                tab.id == id && (tab.session.get_untracked().is_some() || tab.busy.get_untracked())
            })
        });
        if live {
            self.show(id);
            self.closing.set(Some(id));
        } else {
            self.close(id);
        }
    }

    /// The tabs' ids, in the strip's order.
    pub fn ids(&self) -> Vec<u32> {
        self.list
            .with_untracked(|t| t.iter().map(|tab| tab.id).collect())
    }

    /// Shows the tab `step` places after the active one (before it when negative), round
    /// the end of the strip.
    pub fn step(&self, step: isize) {
        let ids = self.ids();
        if let Some(next) = stepped(&ids, self.active.get_untracked(), step) {
            self.show(next);
        }
    }

    /// Moves the active tab one place along the strip.
    pub fn shift_active(&self, step: isize) {
        let Some(id) = self.active.get_untracked() else {
            return;
        };
        let ids = self.ids();
        let Some(from) = ids.iter().position(|i| *i == id) else {
            return;
        };
        let to = from as isize + step;
        if to >= 0 && (to as usize) < ids.len() {
            self.move_to(id, to as usize);
        }
    }

    /// Puts tab `id` at place `to` of the strip.
    pub fn move_to(&self, id: u32, to: usize) {
        self.list.update(|t| {
            if let Some(from) = t.iter().position(|tab| tab.id == id) {
                let tab = t.remove(from);
                t.insert(to.min(t.len()), tab);
            }
        });
    }

    /// Splits the view into `count` panes (1, 2 or 4); new panes show tabs no pane shows.
    pub fn set_panes(&self, count: usize) {
        let ids = self.ids();
        let focus = self.focus.get_untracked();
        let slots = self.slots.get_untracked();
        let kept = resized(&slots, focus, count, &ids);
        let focus = if count < slots.len() { 0 } else { focus };
        self.slots.set(kept);
        self.focus.set(focus.min(count - 1));
    }

    /// Gives the keyboard to the next pane (or the previous, when `step` is negative).
    pub fn step_pane(&self, step: isize) {
        let count = self.slots.with_untracked(Vec::len) as isize;
        let focus = self.focus.get_untracked() as isize;
        self.focus.set((focus + step).rem_euclid(count) as usize);
    }

    /// The pane showing tab `id`, if any.
    pub fn pane_of(&self, id: u32) -> Option<usize> {
        self.slots
            .with(|s| s.iter().position(|slot| *slot == Some(id)))
    }
}

/// The id `step` places from `current` in `ids`, round the end; the first without one.
fn stepped(ids: &[u32], current: Option<u32>, step: isize) -> Option<u32> {
    if ids.is_empty() {
        return None;
    }
    let Some(at) = current.and_then(|c| ids.iter().position(|i| *i == c)) else {
        return ids.first().copied();
    };
    let len = ids.len() as isize;
    Some(ids[(at as isize + step).rem_euclid(len) as usize])
}

/// `count` panes from `slots`: the pane with the keyboard first when there are fewer,
/// new panes filled with tabs of `ids` that no pane shows.
fn resized(slots: &[Option<u32>], focus: usize, count: usize, ids: &[u32]) -> Vec<Option<u32>> {
    let mut kept: Vec<Option<u32>> = if count < slots.len() {
        let mut order = vec![slots.get(focus).copied().flatten()];
        order.extend(
            slots
                .iter()
                .enumerate()
                .filter(|(i, _)| *i != focus)
                .map(|(_, s)| *s),
        );
        order.truncate(count);
        order
    } else {
        slots.to_vec()
    };
    let spare: Vec<u32> = ids
        .iter()
        .filter(|id| !kept.contains(&Some(**id)))
        .copied()
        .collect();
    let mut spare = spare.into_iter();
    while kept.len() < count {
        kept.push(spare.next());
    }
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stepping_goes_round_the_strip() {
        let ids = [4, 7, 9];
        assert_eq!(stepped(&ids, Some(7), 1), Some(9));
        assert_eq!(stepped(&ids, Some(9), 1), Some(4));
        assert_eq!(stepped(&ids, Some(4), -1), Some(9));
        assert_eq!(stepped(&ids, None, 1), Some(4));
        assert_eq!(stepped(&[], Some(1), 1), None);
    }

    #[test]
    fn new_panes_show_tabs_no_pane_shows_and_fewer_keep_the_focused_one() {
        assert_eq!(
            resized(&[Some(2)], 0, 2, &[1, 2, 3]),
            vec![Some(2), Some(1)]
        );
        assert_eq!(
            resized(&[Some(2), Some(1)], 0, 4, &[1, 2, 3]),
            vec![Some(2), Some(1), Some(3), None]
        );
        assert_eq!(
            resized(&[Some(2), Some(1), Some(3), None], 2, 1, &[1, 2, 3]),
            vec![Some(3)]
        );
        assert_eq!(resized(&[None], 0, 2, &[]), vec![None, None]);
    }
}
