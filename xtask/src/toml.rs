//! Just enough TOML for the manifests of this workspace, read line by line.
//!
//! Tables are `[header]` lines; entries are `key = value` lines, with arrays and inline
//! tables that span several lines joined into one value by counting brackets. Values are
//! kept as raw text; [`strings`] and [`unquote`] pull strings out of them. Dotted keys
//! (`version.workspace = true`) are kept whole.

/// One `[table]` of a manifest and its entries, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Table {
    /// The header without brackets, such as `package` or `package.metadata.docs.rs`;
    /// empty for entries before the first header.
    pub(crate) header: String,
    /// `(key, raw value)` pairs; keys are unquoted.
    pub(crate) entries: Vec<(String, String)>,
}

impl Table {
    /// The raw value of `key`, if the table has it.
    pub(crate) fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses a manifest into its tables.
pub(crate) fn parse(text: &str) -> Vec<Table> {
    let mut tables = vec![Table {
        header: String::new(),
        entries: Vec::new(),
    }];
    let mut depth = 0usize;
    for line in text.lines() {
        let line = strip_comment(line).trim();
        if line.is_empty() {
            continue;
        }
        let table = tables.last_mut().expect("there is always a table");
        if depth > 0 {
            if let Some((_, value)) = table.entries.last_mut() {
                value.push(' ');
                value.push_str(line);
            }
            depth = (depth + opened(line)).saturating_sub(closed(line));
            continue;
        }
        if line.starts_with('[') {
            let header = line.trim_start_matches('[').trim_end_matches(']').trim();
            tables.push(Table {
                header: header.to_owned(),
                entries: Vec::new(),
            });
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let key = key
            .split('.')
            .map(|part| part.trim().trim_matches(['"', '\'']))
            .collect::<Vec<_>>()
            .join(".");
        let value = value.trim();
        depth = opened(value).saturating_sub(closed(value));
        table.entries.push((key, value.to_owned()));
    }
    tables
}

/// The table named `header`, if the manifest has one.
pub(crate) fn table<'a>(tables: &'a [Table], header: &str) -> Option<&'a Table> {
    tables.iter().find(|t| t.header == header)
}

/// Every double-quoted string in a raw value, in order: the items of an array.
pub(crate) fn strings(value: &str) -> Vec<String> {
    value
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_owned)
        .collect()
}

/// A raw string value without its quotes.
pub(crate) fn unquote(value: &str) -> &str {
    value.trim().trim_matches(['"', '\''])
}

/// Whether an inline table such as `{ workspace = true, optional = true }` sets `key` to
/// `value`.
pub(crate) fn inline_has(raw: &str, key: &str, value: &str) -> bool {
    raw.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .any(|(k, v)| k.trim() == key && v.trim() == value)
}

/// Whether an inline table has the key `key`.
pub(crate) fn inline_key(raw: &str, key: &str) -> bool {
    raw.trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split(',')
        .filter_map(|pair| pair.split_once('='))
        .any(|(k, _)| k.trim() == key)
}

fn opened(s: &str) -> usize {
    s.matches(['[', '{']).count()
}

fn closed(s: &str) -> usize {
    s.matches([']', '}']).count()
}

/// The part of a TOML line before a `#` comment; a `#` inside a double-quoted
/// string does not start a comment.
pub(crate) fn strip_comment(line: &str) -> &str {
    let mut in_string = false;
    for (i, c) in line.char_indices() {
        match c {
            '"' => in_string = !in_string,
            '#' if !in_string => return &line[..i],
            _ => {}
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::{inline_has, parse, strings, table};

    /// Tables, dotted keys, multi-line arrays and comments.
    #[test]
    fn reads_tables_and_entries() {
        let tables = parse(
            r#"
[package]
name = "x" # the name
version.workspace = true
keywords = [
    "a",
    "b", # second
]

[dependencies]
adauth-core = { workspace = true, optional = true }
"#,
        );
        let package = table(&tables, "package").unwrap();
        assert_eq!(package.get("name"), Some("\"x\""));
        assert_eq!(package.get("version.workspace"), Some("true"));
        assert_eq!(strings(package.get("keywords").unwrap()), ["a", "b"]);
        let deps = table(&tables, "dependencies").unwrap();
        assert!(inline_has(
            deps.get("adauth-core").unwrap(),
            "optional",
            "true"
        ));
    }
}
