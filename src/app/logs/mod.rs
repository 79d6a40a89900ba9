//! A container's log, in a tab beside the terminals.
//!
//! The view holds at most `lines::MAX_LINES` lines (and `lines::MAX_BYTES` of them), the
//! oldest dropped; a read after a dropped connection carries on from the last line's
//! timestamp, leaving out the lines the view has (`lines::Resume`); lines are drawn with
//! their ANSI colours (`ansi`) and the filter's marks (`filter`).

// Proven by their tests; the view that uses all of them comes with the page's tab.
#[cfg(test)]
mod ansi;
#[cfg(test)]
mod filter;
#[cfg(test)]
#[allow(dead_code)]
mod lines;
#[cfg(test)]
mod stamp;
