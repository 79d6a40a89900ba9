//! The first prompt step by step: when each step on a terminal page's way to its prompt
//! happened, in milliseconds since the navigation started (see `end2end/bench/navigation.mjs`).

use std::fmt::Write;

use serde::{Deserialize, Serialize};

use crate::stats::Spread;

/// One visit's steps; a step the page never reached is missing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Steps {
    /// The page's first byte (the server rendered its head).
    pub response: Option<f64>,
    /// The page's last byte.
    pub html: Option<f64>,
    /// The document made: Chromium committed the navigation (the first script ran).
    pub document: Option<f64>,
    /// The page's early script made the terminal's WebSocket.
    pub socket: Option<f64>,
    pub open: Option<f64>,
    /// The first message: the session's id (the server has the exec stream).
    pub attached: Option<f64>,
    /// The first output: the shell's first bytes.
    pub output: Option<f64>,
    /// The xterm.js bundle loaded.
    pub bundle: Option<f64>,
    /// The terminal's rows shown.
    pub terminal: Option<f64>,
    /// The frame that showed the shell's first output on the early screen (before
    /// xterm.js drew it), when the page drew one.
    pub screen: Option<f64>,
    /// The prompt shown: the visit's own time, kept beside its steps.
    pub prompt: Option<f64>,
}

/// The visits of one run: with an empty cache, then cached.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Visits {
    pub cold: Vec<Steps>,
    pub cached: Vec<Steps>,
}

type Step = (&'static str, fn(&Steps) -> Option<f64>);

const STEPS: [Step; 10] = [
    ("the page's first byte", |s| s.response),
    ("the page's last byte", |s| s.html),
    (
        "the document made (Chromium committed the navigation)",
        |s| s.document,
    ),
    ("the WebSocket made (the page's early script)", |s| s.socket),
    ("the WebSocket open", |s| s.open),
    ("attached: the session's id arrived", |s| s.attached),
    ("the shell's first output arrived", |s| s.output),
    ("xterm.js loaded", |s| s.bundle),
    ("the terminal's rows shown", |s| s.terminal),
    (
        "the early screen shown (the visits that showed the output before xterm.js)",
        |s| s.screen,
    ),
];

/// The median of one step over `visits`.
fn median(visits: &[Steps], step: fn(&Steps) -> Option<f64>) -> f64 {
    Spread::of(visits.iter().filter_map(step)).median
}

fn cell(spread: Spread) -> String {
    if spread.median.is_nan() {
        "—".to_string()
    } else {
        spread.to_string()
    }
}

/// A table of each step's median per run, with the range over the runs; nothing without
/// steps (a run of an older script).
pub fn table(out: &mut String, runs: &[&Visits], prompt: (Spread, Spread)) {
    if runs
        .iter()
        .all(|v| v.cold.is_empty() && v.cached.is_empty())
    {
        return;
    }
    let _ = writeln!(
        out,
        "\n| the first prompt step by step, ms since navigation start (median of each run's visits) | empty cache | cached |"
    );
    let _ = writeln!(out, "|---|---|---|");
    for (name, step) in STEPS {
        let cold = Spread::of(runs.iter().map(|v| median(&v.cold, step)));
        let cached = Spread::of(runs.iter().map(|v| median(&v.cached, step)));
        let _ = writeln!(out, "| {name} | {} | {} |", cell(cold), cell(cached));
    }
    let _ = writeln!(out, "| the prompt shown | {} | {} |", prompt.0, prompt.1);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_step_missing_from_some_visits_takes_the_median_of_the_others() {
        let visit = |output| Steps {
            output,
            ..Steps::default()
        };
        let visits = [visit(Some(10.0)), visit(None), visit(Some(30.0))];
        assert_eq!(median(&visits, |s| s.output), 20.0);
        assert!(median(&visits, |s| s.open).is_nan());
    }

    #[test]
    fn the_table_has_a_row_per_step_and_is_left_out_without_steps() {
        let mut out = String::new();
        let prompt = (Spread::of([200.0]), Spread::of([180.0]));
        table(&mut out, &[&Visits::default()], prompt);
        assert!(out.is_empty());
        let visits = Visits {
            cold: vec![Steps {
                open: Some(50.0),
                ..Steps::default()
            }],
            cached: vec![],
        };
        table(&mut out, &[&visits], prompt);
        assert_eq!(out.lines().filter(|l| l.starts_with("| ")).count(), 12);
        assert!(out.contains("| the WebSocket open | 50.0 | — |"), "{out}");
    }
}
