//! Label and field selectors, with the API server's syntax and error messages.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
enum LabelReq {
    Eq(String, String),
    NotEq(String, String),
    In(String, Vec<String>),
    NotIn(String, Vec<String>),
    Exists(String),
    NotExists(String),
}

/// A parsed `labelSelector`; the empty selector matches everything.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LabelSelector(Vec<LabelReq>);

impl LabelSelector {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in split_top_level(text) {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            reqs.push(parse_label_req(part)?);
        }
        Ok(Self(reqs))
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.0.iter().all(|req| match req {
            LabelReq::Eq(k, v) => labels.get(k) == Some(v),
            LabelReq::NotEq(k, v) => labels.get(k) != Some(v),
            LabelReq::In(k, vs) => labels.get(k).is_some_and(|v| vs.contains(v)),
            LabelReq::NotIn(k, vs) => labels.get(k).is_none_or(|v| !vs.contains(v)),
            LabelReq::Exists(k) => labels.contains_key(k),
            LabelReq::NotExists(k) => !labels.contains_key(k),
        })
    }
}

/// Splits on commas that are not inside `( )`.
fn split_top_level(text: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0i32, 0);
    for (i, c) in text.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&text[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&text[start..]);
    parts
}

fn parse_label_req(part: &str) -> Result<LabelReq, String> {
    let bad = || format!("unable to parse requirement: {part:?} is not a valid label selector");
    if let Some(key) = part.strip_prefix('!') {
        return Ok(LabelReq::NotExists(label_key(key.trim()).ok_or_else(bad)?));
    }
    for (op, ctor) in [
        ("!=", LabelReq::NotEq as fn(String, String) -> LabelReq),
        ("==", LabelReq::Eq),
        ("=", LabelReq::Eq),
    ] {
        if let Some((k, v)) = part.split_once(op) {
            // After `key=value` the API server's lexer wants a comma or the end.
            if let Some(next) = v.trim().chars().find(|c| "=!".contains(*c)) {
                return Err(format!("found '{next}', expected: ',' or 'end of string'"));
            }
            let key = label_key(k.trim()).ok_or_else(bad)?;
            let value = label_value(v.trim()).ok_or_else(bad)?;
            return Ok(ctor(key, value));
        }
    }
    let words: Vec<&str> = part.splitn(2, char::is_whitespace).collect();
    if words.len() == 2 {
        let key = label_key(words[0]).ok_or_else(bad)?;
        let rest = words[1].trim();
        let (negate, list) = if let Some(l) = rest.strip_prefix("notin") {
            (true, l)
        } else if let Some(l) = rest.strip_prefix("in") {
            (false, l)
        } else {
            return Err(bad());
        };
        let list = list
            .trim()
            .strip_prefix('(')
            .and_then(|l| l.strip_suffix(')'))
            .ok_or_else(bad)?;
        if list.trim().is_empty() {
            return Err(bad());
        }
        let values = list
            .split(',')
            .map(|v| label_value(v.trim()).ok_or_else(bad))
            .collect::<Result<Vec<_>, _>>()?;
        return Ok(if negate {
            LabelReq::NotIn(key, values)
        } else {
            LabelReq::In(key, values)
        });
    }
    Ok(LabelReq::Exists(label_key(part).ok_or_else(bad)?))
}

fn label_key(key: &str) -> Option<String> {
    let name = key.rsplit_once('/').map_or(
        key,
        |(prefix, name)| {
            if prefix.is_empty() { "" } else { name }
        },
    );
    let ok = !name.is_empty()
        && name.len() <= 63
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name.ends_with(|c: char| c.is_ascii_alphanumeric());
    ok.then(|| key.to_string())
}

fn label_value(value: &str) -> Option<String> {
    let ok = value.is_empty()
        || (value.len() <= 63
            && value
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
            && value.starts_with(|c: char| c.is_ascii_alphanumeric())
            && value.ends_with(|c: char| c.is_ascii_alphanumeric()));
    ok.then(|| value.to_string())
}

/// A parsed `fieldSelector` over the pod fields the API server indexes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FieldSelector(Vec<(String, bool, String)>);

pub const POD_FIELDS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "status.phase",
    "spec.nodeName",
    "spec.restartPolicy",
];
pub const NAMESPACE_FIELDS: &[&str] = &["metadata.name", "status.phase"];

impl FieldSelector {
    /// Parses against the fields a resource supports.
    pub fn parse(text: &str, fields: &[&str]) -> Result<Self, String> {
        let mut reqs = Vec::new();
        for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (field, eq, value) = if let Some((f, v)) = part.split_once("!=") {
                (f, false, v)
            } else if let Some((f, v)) = part.split_once("==") {
                (f, true, v)
            } else if let Some((f, v)) = part.split_once('=') {
                (f, true, v)
            } else {
                return Err(format!(
                    "invalid selector: '{part}'; can't understand '{part}'"
                ));
            };
            let field = field.trim();
            if !fields.contains(&field) {
                return Err(format!("field label not supported: {field}"));
            }
            reqs.push((field.to_string(), eq, value.trim().to_string()));
        }
        Ok(Self(reqs))
    }

    pub fn matches(&self, get: impl Fn(&str) -> String) -> bool {
        self.0
            .iter()
            .all(|(field, eq, value)| (get(field) == *value) == *eq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn label_selector_syntax() {
        let l = labels(&[("app", "web"), ("tier", "frontend")]);
        for (sel, want) in [
            ("", true),
            ("app=web", true),
            ("app==web", true),
            ("app!=web", false),
            ("app=web,tier=backend", false),
            ("app in (web, api)", true),
            ("app notin (web)", false),
            ("tier", true),
            ("!tier", false),
            ("!missing", true),
            ("missing!=x", true),
            ("app in (api),tier", false),
            ("example.com/role", false),
        ] {
            assert_eq!(
                LabelSelector::parse(sel).unwrap().matches(&l),
                want,
                "{sel}"
            );
        }
        for bad in ["app=we b", "app in web", "a b c", "=x", "app in ()"] {
            assert!(LabelSelector::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn field_selector_syntax() {
        let sel =
            FieldSelector::parse("metadata.name=web,status.phase!=Failed", POD_FIELDS).unwrap();
        assert!(sel.matches(|f| if f == "metadata.name" {
            "web".into()
        } else {
            "Running".into()
        }));
        assert!(!sel.matches(|f| if f == "metadata.name" {
            "db".into()
        } else {
            "Running".into()
        }));
        let err = FieldSelector::parse("spec.foo=bar", POD_FIELDS).unwrap_err();
        assert!(err.contains("field label not supported: spec.foo"), "{err}");
        assert!(FieldSelector::parse("nonsense", POD_FIELDS).is_err());
    }
}
