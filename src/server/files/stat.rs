//! `stat` of many paths at once, read back exactly: each record prints its path, so one
//! gone between `find` and `stat` is skipped rather than misread, and names may hold any
//! byte but NUL (newlines included). Used by listings and by the tar podterm writes.

use super::FileError;
use super::reach::Place;

/// Argument bytes per `stat` (they travel in the exec request's URL).
const BATCH_BYTES: usize = 48 * 1024;
/// Separates `stat`'s fields from the names it prints back.
const SEP: char = '\u{1f}';
/// Ends each record (a name or a link's target may hold newlines).
const END: &str = "\u{1e}\n";
/// Mode, size, time, owner, group, the name, and the name with a link's target.
const FORMAT: &str = "%f %s %Y %U %G\u{1f}%n\u{1f}%N\u{1e}";

/// What `stat` says of one path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stat {
    /// As asked (as the programs see it).
    pub path: String,
    /// The raw mode: type and permission bits.
    pub mode: u32,
    pub size: u64,
    pub modified: i64,
    pub owner: String,
    pub group: String,
    /// A symbolic link's target, when `stat` quoted it plainly.
    pub link: Option<String>,
}

impl Stat {
    pub fn kind(&self) -> u32 {
        self.mode & 0o170000
    }
}

/// `stat` of every path in `paths`, in order, those gone left out.
pub async fn stat_all(place: &Place, paths: &[String]) -> Result<Vec<Stat>, FileError> {
    let mut all = Vec::with_capacity(paths.len());
    for batch in batches(paths) {
        let mut argv = vec!["stat", "-c", FORMAT];
        argv.extend(batch.iter().map(String::as_str));
        let out = place.run(&argv).await?;
        all.extend(parse(&String::from_utf8_lossy(&out.stdout), batch));
    }
    Ok(all)
}

fn batches(names: &[String]) -> Vec<&[String]> {
    let mut out = Vec::new();
    let (mut from, mut bytes) = (0, 0);
    for (i, name) in names.iter().enumerate() {
        if bytes + name.len() > BATCH_BYTES && i > from {
            out.push(&names[from..i]);
            (from, bytes) = (i, 0);
        }
        bytes += name.len() + 1;
    }
    if from < names.len() {
        out.push(&names[from..]);
    }
    out
}

/// Reads `stat`'s records for `asked`, in order; a path without its record is skipped.
fn parse(output: &str, asked: &[String]) -> Vec<Stat> {
    let mut all = Vec::new();
    let mut rest = output;
    for path in asked {
        let Some((fields, after)) = rest.split_once(SEP) else {
            break;
        };
        let Some(after) = after.strip_prefix(path.as_str()) else {
            continue;
        };
        let Some(after) = after.strip_prefix(SEP) else {
            continue;
        };
        let (quoted, next) = after.split_once(END).unwrap_or((after, ""));
        rest = next;
        if let Some(stat) = record(fields, path, quoted) {
            all.push(stat);
        }
    }
    all
}

fn record(fields: &str, path: &str, quoted: &str) -> Option<Stat> {
    let fields: Vec<&str> = fields.split(' ').collect();
    let [mode, size, modified, owner, group] = fields[..] else {
        return None;
    };
    let mode = u32::from_str_radix(mode, 16).ok()?;
    let link = (mode & 0o170000 == 0o120000)
        .then(|| link_target(quoted, path))
        .flatten();
    Some(Stat {
        path: path.to_string(),
        mode,
        size: size.parse().unwrap_or(0),
        modified: modified.parse().unwrap_or(0),
        owner: owner.to_string(),
        group: group.to_string(),
        link,
    })
}

/// `'PATH' -> 'TARGET'` as busybox and coreutils quote plain names; others are left out.
fn link_target(quoted: &str, path: &str) -> Option<String> {
    let rest = quoted.strip_prefix(&format!("'{path}' -> "))?;
    let target = rest
        .strip_prefix('\'')
        .and_then(|t| t.strip_suffix('\''))
        .or_else(|| rest.strip_prefix('"').and_then(|t| t.strip_suffix('"')))?;
    Some(target.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_matched_to_the_paths_asked() {
        let asked = vec![
            "/tmp/./a b".to_string(),
            "/tmp/./gone".to_string(),
            "/tmp/./new\nline".to_string(),
            "/tmp/./l".to_string(),
        ];
        let out = "81a4 5 1700000000 root root\u{1f}/tmp/./a b\u{1f}'/tmp/./a b'\u{1e}\n\
                   81a4 0 1 1000 1000\u{1f}/tmp/./new\nline\u{1f}'/tmp/./new\nline'\u{1e}\n\
                   a1ff 7 2 root root\u{1f}/tmp/./l\u{1f}'/tmp/./l' -> '/etc/x'\u{1e}\n";
        let all = parse(out, &asked);
        let paths: Vec<&str> = all.iter().map(|s| s.path.as_str()).collect();
        assert_eq!(paths, ["/tmp/./a b", "/tmp/./new\nline", "/tmp/./l"]);
        assert_eq!((all[0].size, all[0].mode), (5, 0o100644));
        assert_eq!(all[1].owner, "1000");
        assert_eq!(all[2].kind(), 0o120000);
        assert_eq!(all[2].link.as_deref(), Some("/etc/x"));
    }

    #[test]
    fn batches_keep_every_name_once() {
        let names: Vec<String> = (0..3000).map(|i| format!("/d/./{i:0>40}")).collect();
        let batches = batches(&names);
        assert!(batches.len() > 1);
        assert_eq!(batches.iter().map(|b| b.len()).sum::<usize>(), 3000);
    }
}
