//! ANSI colours in log lines: the escape sequences programs write (SGR: colours, bold,
//! underline, …) read into styled runs of plain text, and written back as HTML, escaped,
//! with the filter's matches marked. Other escape sequences and control characters are
//! dropped: a log line is shown as text, not replayed as a terminal would.
//!
//! The 16 basic colours become classes (`fg-0` … `fg-15`, `bg-…`) that the stylesheet
//! gives the terminal's theme; the 256-colour palette and 24-bit colours become inline
//! colours.

use std::fmt::Write;
use std::ops::Range;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// The xterm palette: 0–15 the themed colours, 16–231 the 6×6×6 cube, 232–255 greys.
    Index(u8),
    Rgb(u8, u8, u8),
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Style {
    pub fg: Option<Color>,
    pub bg: Option<Color>,
    pub bold: bool,
    pub dim: bool,
    pub italic: bool,
    pub underline: bool,
    pub inverse: bool,
    pub strike: bool,
}

/// A line's text without escape sequences, and the style of each part of it: `runs[i]`
/// starts at byte `runs[i].0` of `text` and goes on to the next run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Styled {
    pub text: String,
    pub runs: Vec<(usize, Style)>,
}

const ESC: char = '\u{1b}';

/// Reads one line. Styles do not carry over from one line to the next (each line of a log
/// may come from another writer), as `kubectl logs` piped into `less -R` shows them too.
pub fn parse(line: &str) -> Styled {
    let mut out = Styled::default();
    let mut style = Style::default();
    let mut chars = line.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        match c {
            ESC => match chars.peek().map(|&(_, c)| c) {
                Some('[') => {
                    chars.next();
                    let start = at + 2;
                    let mut end = None;
                    for (i, c) in chars.by_ref() {
                        if ('\u{40}'..='\u{7e}').contains(&c) {
                            end = Some((i, c));
                            break;
                        }
                        if !('\u{20}'..='\u{3f}').contains(&c) {
                            // Not a well-formed sequence: drop what was read of it.
                            break;
                        }
                    }
                    if let Some((i, 'm')) = end {
                        apply_sgr(&mut style, &line[start..i]);
                    }
                }
                Some(']') => {
                    // OSC (a title, a hyperlink): up to BEL or ESC \.
                    chars.next();
                    while let Some((_, c)) = chars.next() {
                        if c == '\u{7}' {
                            break;
                        }
                        if c == ESC {
                            if chars.peek().is_some_and(|&(_, c)| c == '\\') {
                                chars.next();
                            }
                            break;
                        }
                    }
                }
                Some(_) => {
                    // ESC, intermediates, a final character (a charset choice, …).
                    while let Some(&(_, c)) = chars.peek() {
                        chars.next();
                        if !('\u{20}'..='\u{2f}').contains(&c) {
                            break;
                        }
                    }
                }
                None => {}
            },
            '\t' => push(&mut out, style, '\t'),
            c if c.is_control() => {}
            c => push(&mut out, style, c),
        }
    }
    out
}

fn push(out: &mut Styled, style: Style, c: char) {
    if out.runs.last().map(|&(_, s)| s) != Some(style) {
        // A style that styled nothing is replaced.
        if out.runs.last().is_some_and(|&(at, _)| at == out.text.len()) {
            out.runs.pop();
        }
        if out.runs.last().map(|&(_, s)| s) != Some(style) {
            out.runs.push((out.text.len(), style));
        }
    }
    out.text.push(c);
}

fn apply_sgr(style: &mut Style, params: &str) {
    // Private sequences (`ESC [ ? … m`, `ESC [ > … m`) set no style.
    if params.starts_with(['<', '=', '>', '?']) {
        return;
    }
    let number = |p: &str| {
        if p.is_empty() {
            Some(0)
        } else {
            p.parse::<u32>().ok()
        }
    };
    let byte = |p: Option<&str>| p.and_then(number).and_then(|n| u8::try_from(n).ok());
    let rgb = |r, g, b| match (byte(r), byte(g), byte(b)) {
        (Some(r), Some(g), Some(b)) => Some(Color::Rgb(r, g, b)),
        _ => None,
    };
    let groups: Vec<&str> = params.split(';').collect();
    let mut i = 0;
    while i < groups.len() {
        let group = groups[i];
        i += 1;
        // The standard's colon form carries its own parameters: `38:5:n`, `38:2::r:g:b`
        // (with a colour space id, often empty), `38:2:r:g:b`, `4:0` … `4:5`.
        if group.contains(':') {
            let subs: Vec<&str> = group.split(':').collect();
            match number(subs[0]) {
                Some(code @ (38 | 48)) => {
                    let color = match subs.get(1).copied().and_then(number) {
                        Some(5) => byte(subs.get(2).copied()).map(Color::Index),
                        Some(2) if subs.len() >= 6 => {
                            rgb(Some(subs[3]), Some(subs[4]), Some(subs[5]))
                        }
                        Some(2) => rgb(
                            subs.get(2).copied(),
                            subs.get(3).copied(),
                            subs.get(4).copied(),
                        ),
                        _ => None,
                    };
                    set_color(style, code, color);
                }
                Some(4) => style.underline = subs.get(1).copied().and_then(number) != Some(0),
                Some(code) => apply_code(style, code),
                None => {}
            }
            continue;
        }
        let Some(code) = number(group) else { continue };
        if code == 38 || code == 48 {
            // `38;5;n` and `38;2;r;g;b`: the colour's parameters are taken even when they
            // are not valid, so they are not read as codes of their own.
            let at = |k: usize| groups.get(i + k).copied();
            match at(0).and_then(number) {
                Some(5) => {
                    set_color(style, code, byte(at(1)).map(Color::Index));
                    i += 2;
                }
                Some(2) => {
                    set_color(style, code, rgb(at(1), at(2), at(3)));
                    i += 4;
                }
                _ => {}
            }
            continue;
        }
        apply_code(style, code);
    }
}

fn set_color(style: &mut Style, code: u32, color: Option<Color>) {
    if color.is_none() {
        return;
    }
    if code == 38 {
        style.fg = color;
    } else {
        style.bg = color;
    }
}

fn apply_code(style: &mut Style, code: u32) {
    match code {
        0 => *style = Style::default(),
        1 => style.bold = true,
        2 => style.dim = true,
        3 => style.italic = true,
        4 | 21 => style.underline = true,
        7 => style.inverse = true,
        9 => style.strike = true,
        22 => (style.bold, style.dim) = (false, false),
        23 => style.italic = false,
        24 => style.underline = false,
        27 => style.inverse = false,
        29 => style.strike = false,
        30..=37 => style.fg = Some(Color::Index((code - 30) as u8)),
        39 => style.fg = None,
        40..=47 => style.bg = Some(Color::Index((code - 40) as u8)),
        49 => style.bg = None,
        90..=97 => style.fg = Some(Color::Index((code - 90 + 8) as u8)),
        100..=107 => style.bg = Some(Color::Index((code - 100 + 8) as u8)),
        _ => {}
    }
}

/// `text` with `&`, `<`, `>` and quotes escaped, onto `out`.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The line as HTML: a `span` per styled run, `mark`s around `marks` (byte ranges of
/// `styled.text`, in order, not overlapping).
pub fn to_html(out: &mut String, styled: &Styled, marks: &[Range<usize>]) {
    let text = &styled.text;
    let mut marks = marks.iter().peekable();
    for (i, &(start, style)) in styled.runs.iter().enumerate() {
        let end = styled.runs.get(i + 1).map_or(text.len(), |&(at, _)| at);
        if start >= end {
            continue;
        }
        let open = open_tag(&style);
        if let Some(tag) = &open {
            out.push_str(tag);
        }
        let mut at = start;
        while at < end {
            // Marks that ended before this point are done with.
            while marks.peek().is_some_and(|m| m.end <= at) {
                marks.next();
            }
            match marks.peek() {
                Some(m) if m.start <= at => {
                    let stop = m.end.min(end);
                    out.push_str("<mark>");
                    escape_into(out, &text[at..stop]);
                    out.push_str("</mark>");
                    at = stop;
                }
                Some(m) if m.start < end => {
                    escape_into(out, &text[at..m.start]);
                    at = m.start;
                }
                _ => {
                    escape_into(out, &text[at..end]);
                    at = end;
                }
            }
        }
        if open.is_some() {
            out.push_str("</span>");
        }
    }
}

fn open_tag(style: &Style) -> Option<String> {
    if *style == Style::default() {
        return None;
    }
    let (mut fg, mut bg) = (style.fg, style.bg);
    let mut classes: Vec<String> = Vec::new();
    let mut inline = String::new();
    if style.inverse {
        std::mem::swap(&mut fg, &mut bg);
        // The default colours swapped: the stylesheet's, as classes.
        if fg.is_none() {
            classes.push("fg-inverse".into());
        }
        if bg.is_none() {
            classes.push("bg-inverse".into());
        }
    }
    for (color, class, property) in [(fg, "fg", "color"), (bg, "bg", "background")] {
        match color {
            Some(Color::Index(n)) if n < 16 => classes.push(format!("{class}-{n}")),
            Some(color) => {
                let (r, g, b) = rgb(color);
                let _ = write!(inline, "{property}:#{r:02x}{g:02x}{b:02x};");
            }
            None => {}
        }
    }
    for (on, class) in [
        (style.bold, "bold"),
        (style.dim, "dim"),
        (style.italic, "italic"),
        (style.underline, "underline"),
        (style.strike, "strike"),
    ] {
        if on {
            classes.push(class.into());
        }
    }
    let mut tag = String::from("<span");
    if !classes.is_empty() {
        let _ = write!(tag, " class=\"{}\"", classes.join(" "));
    }
    if !inline.is_empty() {
        let _ = write!(tag, " style=\"{inline}\"");
    }
    tag.push('>');
    Some(tag)
}

/// A palette colour above 15, or a 24-bit one, as xterm shows it.
fn rgb(color: Color) -> (u8, u8, u8) {
    match color {
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Index(n @ 16..=231) => {
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            let n = n - 16;
            (level(n / 36), level(n / 6 % 6), level(n % 6))
        }
        Color::Index(n @ 232..=255) => {
            let grey = 8 + (n - 232) * 10;
            (grey, grey, grey)
        }
        // Themed colours are classes; not reached.
        Color::Index(_) => (0, 0, 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn html(line: &str, marks: &[Range<usize>]) -> String {
        let mut out = String::new();
        to_html(&mut out, &parse(line), marks);
        out
    }

    #[test]
    fn the_sidecars_colours() {
        let line = "\u{1b}[32mINFO\u{1b}[0m shipped batch 3 (25 lines)";
        let styled = parse(line);
        assert_eq!(styled.text, "INFO shipped batch 3 (25 lines)");
        assert_eq!(
            html(line, &[]),
            "<span class=\"fg-2\">INFO</span> shipped batch 3 (25 lines)"
        );
        assert_eq!(
            html("\u{1b}[33mWARN\u{1b}[0m slow", &[]),
            "<span class=\"fg-3\">WARN</span> slow"
        );
    }

    #[test]
    fn bright_bold_and_resets() {
        assert_eq!(
            html("\u{1b}[1;91merr\u{1b}[22m plain red\u{1b}[39m none", &[]),
            "<span class=\"fg-9 bold\">err</span><span class=\"fg-9\"> plain red</span> none"
        );
        assert_eq!(
            html("\u{1b}[97;100mx\u{1b}[m", &[]),
            "<span class=\"fg-15 bg-8\">x</span>"
        );
        // An empty parameter is a 0.
        assert_eq!(
            html("\u{1b}[31m\u{1b}[;1mx", &[]),
            "<span class=\"bold\">x</span>"
        );
        assert_eq!(
            html("\u{1b}[2;3;4;9mx", &[]),
            "<span class=\"dim italic underline strike\">x</span>"
        );
    }

    #[test]
    fn palette_and_true_colour() {
        assert_eq!(
            html("\u{1b}[38;5;196mx", &[]),
            "<span style=\"color:#ff0000;\">x</span>"
        );
        assert_eq!(
            html("\u{1b}[38;5;4mx", &[]),
            "<span class=\"fg-4\">x</span>"
        );
        assert_eq!(
            html("\u{1b}[48;5;244mx", &[]),
            "<span style=\"background:#808080;\">x</span>"
        );
        assert_eq!(
            html("\u{1b}[38;2;1;2;3mx", &[]),
            "<span style=\"color:#010203;\">x</span>"
        );
        assert_eq!(
            html("\u{1b}[38:2::1:2:3mx", &[]),
            "<span style=\"color:#010203;\">x</span>"
        );
        assert_eq!(
            html("\u{1b}[38:2:1:2:3mx", &[]),
            "<span style=\"color:#010203;\">x</span>"
        );
        assert_eq!(
            html("\u{1b}[38:5:16mx", &[]),
            "<span style=\"color:#000000;\">x</span>"
        );
        assert_eq!(
            html("\u{1b}[4:3mx\u{1b}[4:0my", &[]),
            "<span class=\"underline\">x</span>y"
        );
        // A truncated colour does not take the codes after it for something else.
        assert_eq!(html("\u{1b}[38;5mx", &[]), "x");
        assert_eq!(
            html("\u{1b}[38;2;300;0;0;1mx", &[]),
            "<span class=\"bold\">x</span>"
        );
    }

    #[test]
    fn inverse_swaps_the_colours() {
        assert_eq!(
            html("\u{1b}[7mx", &[]),
            "<span class=\"fg-inverse bg-inverse\">x</span>"
        );
        assert_eq!(
            html("\u{1b}[31;7mx", &[]),
            "<span class=\"fg-inverse bg-1\">x</span>"
        );
    }

    #[test]
    fn text_is_escaped_and_other_sequences_dropped() {
        assert_eq!(
            html("<script>alert('x')</script> & \"q\"", &[]),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;"
        );
        // Cursor moves, a title, a hyperlink, a charset choice, a bell, a carriage return.
        let line = "a\u{1b}[2Kb\u{1b}]0;title\u{7}c\u{1b}]8;;http://x\u{1b}\\d\u{1b}(Be\u{7}f\r";
        assert_eq!(parse(line).text, "abcdef");
        assert!(parse(line).runs.iter().all(|(_, s)| *s == Style::default()));
        // Private and cut sequences.
        assert_eq!(parse("a\u{1b}[?25lb\u{1b}[>4;1mc\u{1b}[").text, "abc");
        assert_eq!(parse("tab\there").text, "tab\there");
        assert_eq!(parse("\u{1b}[31m").text, "");
        assert_eq!(html("\u{1b}[31m", &[]), "");
    }

    #[test]
    fn marks_cross_styles() {
        let line = "\u{1b}[32mINFO\u{1b}[0m shipped";
        // "FO sh" spans the coloured word and the plain text after it.
        assert_eq!(
            html(line, &[Range { start: 2, end: 7 }]),
            "<span class=\"fg-2\">IN<mark>FO</mark></span><mark> sh</mark>ipped"
        );
        assert_eq!(
            html("a<b a<b", &[1..2, 5..6]),
            "a<mark>&lt;</mark>b a<mark>&lt;</mark>b"
        );
        assert_eq!(
            html("abc", &[Range { start: 0, end: 3 }]),
            "<mark>abc</mark>"
        );
    }
}
