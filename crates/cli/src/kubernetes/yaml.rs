//! A small YAML writer for manifests: block maps and lists, strings, integers and booleans.
//!
//! Written by hand rather than with serde_norway because that crate writes YAML 1.2 plain
//! scalars: a value such as `on`, `yes` or `12:30` comes out bare, and Kubernetes' YAML 1.1
//! reader (and PyYAML) takes it for a boolean or a number. Here a string is bare only when it
//! cannot be read as anything but a string in either version; everything else is
//! double-quoted with escapes.

/// One node of a manifest. Maps keep their order, so manifests read as people write them.
#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Str(String),
    Int(i64),
    Bool(bool),
    List(Vec<Node>),
    Map(Vec<(String, Node)>),
}

impl Node {
    pub fn str(text: impl Into<String>) -> Node {
        Node::Str(text.into())
    }

    /// An unsigned count as an integer, saturating at `i64::MAX` (no count we write gets near).
    pub fn uint(value: u64) -> Node {
        Node::Int(i64::try_from(value).unwrap_or(i64::MAX))
    }

    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, Node)>) -> Node {
        Node::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    pub fn strs<S: Into<String>>(items: impl IntoIterator<Item = S>) -> Node {
        Node::List(items.into_iter().map(|s| Node::Str(s.into())).collect())
    }

    /// Adds an entry to a map (a no-op on any other node).
    pub fn push(&mut self, key: &str, value: Node) {
        if let Node::Map(entries) = self {
            entries.push((key.to_string(), value));
        }
    }
}

/// The node as a YAML document (without the `---` that separates documents).
pub fn to_yaml(node: &Node) -> String {
    let mut out = String::new();
    match node {
        Node::Map(entries) if !entries.is_empty() => write_map(&mut out, entries, 0),
        Node::List(items) if !items.is_empty() => write_list(&mut out, items, 0),
        scalar => {
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
    out
}

/// A comment line: what a note says, on one line whatever it holds.
pub fn comment(text: &str) -> String {
    let flat: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    format!("# {}\n", flat.trim_end())
}

fn write_map(out: &mut String, entries: &[(String, Node)], indent: usize) {
    for (key, value) in entries {
        out.push_str(&" ".repeat(indent));
        out.push_str(&scalar_text(key));
        out.push(':');
        write_value(out, value, indent + 2);
    }
}

fn write_list(out: &mut String, items: &[Node], indent: usize) {
    for item in items {
        out.push_str(&" ".repeat(indent));
        out.push('-');
        match item {
            // The first entry shares the dash's line; the rest line up under it.
            Node::Map(entries) if !entries.is_empty() => {
                let mut nested = String::new();
                write_map(&mut nested, entries, indent + 2);
                out.push(' ');
                out.push_str(nested.trim_start_matches(' '));
            }
            other => write_value(out, other, indent + 2),
        }
    }
}

/// What follows `key:` or `-`: a scalar on the same line, or a block on the next ones.
fn write_value(out: &mut String, value: &Node, indent: usize) {
    match value {
        Node::Map(entries) if !entries.is_empty() => {
            out.push('\n');
            write_map(out, entries, indent);
        }
        Node::List(items) if !items.is_empty() => {
            out.push('\n');
            write_list(out, items, indent);
        }
        scalar => {
            out.push(' ');
            out.push_str(&inline(scalar));
            out.push('\n');
        }
    }
}

fn inline(node: &Node) -> String {
    match node {
        Node::Str(text) => scalar_text(text),
        Node::Int(n) => n.to_string(),
        Node::Bool(b) => b.to_string(),
        Node::List(_) => "[]".into(),
        Node::Map(_) => "{}".into(),
    }
}

/// Words YAML 1.1 reads as booleans or null (YAML 1.2 as null): never written bare.
const RESERVED: &[&str] = &[
    "y", "yes", "n", "no", "true", "false", "on", "off", "null", "~",
];

/// A string bare when it starts with a letter, `_` or `/` and holds only letters, digits and
/// `._/-:` (no number, date, time or indicator can look like that; a `:` not last, where it
/// would end a key), quoted otherwise.
fn scalar_text(text: &str) -> String {
    let plain = text
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._/-:".contains(c))
        && !text.ends_with(':')
        && !RESERVED.contains(&text.to_ascii_lowercase().as_str());
    if plain {
        return text.to_string();
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            '\t' => quoted.push_str("\\t"),
            // What YAML does not allow as it is in a document: controls (C0, DEL, C1), the
            // line and paragraph separators, the byte order mark and the noncharacters.
            c if c.is_control()
                || matches!(
                    c,
                    '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
                ) =>
            {
                quoted.push_str(&format!("\\u{:04x}", u32::from(c)));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_norway::Value;

    use super::*;

    /// The node as serde_norway reads it, to compare with what it reads from our text.
    fn value(node: &Node) -> Value {
        match node {
            Node::Str(s) => Value::String(s.clone()),
            Node::Int(n) => Value::Number((*n).into()),
            Node::Bool(b) => Value::Bool(*b),
            Node::List(items) => Value::Sequence(items.iter().map(value).collect()),
            Node::Map(entries) => Value::Mapping(
                entries
                    .iter()
                    .map(|(k, v)| (Value::String(k.clone()), value(v)))
                    .collect(),
            ),
        }
    }

    fn reads_back(node: &Node) {
        let text = to_yaml(node);
        let parsed: Value = serde_norway::from_str(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert_eq!(parsed, value(node), "{text}");
    }

    #[test]
    fn nested_maps_and_lists_are_block_style_and_read_back() {
        let node = Node::map([
            ("apiVersion", Node::str("apps/v1")),
            ("replicas", Node::Int(1)),
            ("paused", Node::Bool(false)),
            (
                "containers",
                Node::List(vec![Node::map([
                    ("name", Node::str("web")),
                    ("args", Node::strs(["-c", "echo hi"])),
                    ("env", Node::List(vec![])),
                    ("limits", Node::map::<&str>([])),
                ])]),
            ),
        ]);
        let text = to_yaml(&node);
        assert_eq!(
            text,
            "apiVersion: apps/v1\nreplicas: 1\npaused: false\ncontainers:\n  - name: web\n    args:\n      - \"-c\"\n      - \"echo hi\"\n    env: []\n    limits: {}\n"
        );
        reads_back(&node);
    }

    #[test]
    fn words_yaml_1_1_would_read_as_something_else_are_quoted() {
        for word in [
            "on",
            "Off",
            "yes",
            "NO",
            "y",
            "true",
            "null",
            "~",
            "12:30",
            "0755",
            "1e3",
            "1_000",
            ".inf",
            "2026-01-01",
            "",
            " padded ",
            "*/15 * * * *",
            "a: b",
            "#x",
            "-",
            "@daily",
        ] {
            let text = scalar_text(word);
            assert!(text.starts_with('"'), "{word:?} written as {text}");
            reads_back(&Node::map([("v", Node::str(word))]));
        }
        for word in [
            "web",
            "apps/v1",
            "app.kubernetes.io/name",
            "/bin/sh",
            "Always",
            "example/app:1.0",
            "a:b:c",
        ] {
            assert_eq!(scalar_text(word), word);
            reads_back(&Node::map([(word, Node::str(word))]));
        }
        assert_eq!(scalar_text("app:"), "\"app:\"");
        reads_back(&Node::map([("app:", Node::str("app:"))]));
    }

    #[test]
    fn control_characters_and_separators_are_escaped() {
        let text = scalar_text("a\u{7f}b\u{85}c\u{2028}d\"e\\f\rg");
        assert_eq!(text, "\"a\\u007fb\\u0085c\\u2028d\\\"e\\\\f\\u000dg\"");
        assert_eq!(comment("one\ntwo\tthree  "), "# one two three\n");
    }

    proptest! {
        #[test]
        fn any_string_reads_back_as_itself(key in any::<String>(), text in any::<String>()) {
            prop_assume!(key != "list");
            let node = Node::map([
                (key.clone(), Node::str(text.clone())),
                ("list".to_string(), Node::strs([text.clone()])),
            ]);
            let yaml = to_yaml(&node);
            let parsed: Value = serde_norway::from_str(&yaml).map_err(|e| TestCaseError::fail(format!("{e}\n{yaml}")))?;
            prop_assert_eq!(parsed, value(&node));
        }
    }
}
