//! The filter box: which lines match, and where, so the screen can mark them. Matches
//! ignore ASCII case (log words, levels, names); other characters compare exactly.

use std::ops::Range;

/// The longest filter kept, in bytes.
const MAX: usize = 256;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    needle: String,
}

impl Filter {
    /// The filter as typed; surrounding spaces count only inside it.
    pub fn new(typed: &str) -> Filter {
        let mut needle = typed.trim().to_string();
        if needle.len() > MAX {
            let mut end = MAX;
            while !needle.is_char_boundary(end) {
                end -= 1;
            }
            needle.truncate(end);
        }
        Filter { needle }
    }

    pub fn is_empty(&self) -> bool {
        self.needle.is_empty()
    }

    pub fn matches(&self, text: &str) -> bool {
        !self.is_empty() && self.find(text, 0).is_some()
    }

    /// Where `text` matches, in order, not overlapping.
    pub fn ranges(&self, text: &str) -> Vec<Range<usize>> {
        let mut out = Vec::new();
        if self.is_empty() {
            return out;
        }
        let mut from = 0;
        while let Some(at) = self.find(text, from) {
            out.push(at..at + self.needle.len());
            from = at + self.needle.len();
        }
        out
    }

    fn find(&self, text: &str, from: usize) -> Option<usize> {
        let (hay, needle) = (text.as_bytes(), self.needle.as_bytes());
        if needle.is_empty() || hay.len() < needle.len() {
            return None;
        }
        // Both are UTF-8 and the needle starts with a leading byte, so a match starts and
        // ends on character boundaries.
        (from..=hay.len() - needle.len())
            .find(|&at| hay[at..at + needle.len()].eq_ignore_ascii_case(needle))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_ignore_case_and_do_not_overlap() {
        let f = Filter::new("  warn ");
        assert!(f.matches("\u{1b}WARN logs.example.com"));
        assert_eq!(f.ranges("WARN, warn, Warning"), vec![0..4, 6..10, 12..16]);
        assert_eq!(Filter::new("aa").ranges("aaaaa"), vec![0..2, 2..4]);
        assert!(!f.matches("INFO shipped"));
        assert!(!Filter::new("").matches("anything"));
        assert!(Filter::new("").ranges("anything").is_empty());
        assert!(!Filter::new("longer than the text").matches("short"));
    }

    #[test]
    fn other_characters_compare_exactly_and_stay_whole() {
        let f = Filter::new("é");
        assert_eq!(f.ranges("café CAFÉ é"), vec![3..5, 12..14]);
        let text = "日本語のログ";
        for r in Filter::new("のロ").ranges(text) {
            assert!(text.is_char_boundary(r.start) && text.is_char_boundary(r.end));
        }
        let long = "é".repeat(300);
        let f = Filter::new(&long);
        assert!(f.needle.len() <= MAX && f.needle.chars().all(|c| c == 'é'));
    }
}
