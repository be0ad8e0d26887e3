//! goyaml.v2's `Unmarshal` of a builtin plugin config that kustomize decodes with it (the prefix and suffix transformers): its type errors, in its words.
//!
//! kustomize hands such a plugin the config as `sigs.k8s.io/yaml` writes
//! the object (keys sorted, block style) and the plugin decodes that text
//! with goyaml.v2, which goes on past a value of the wrong type and lists
//! every one at the end: `yaml: unmarshal errors:` and a line per error,
//! `line N: cannot unmarshal !!seq into string`, N counting lines of that
//! text. A scalar shows its tag and its text (cut to seven characters and
//! `...` past ten); goyaml.v2 turns any scalar into a string field's text,
//! and a bool field takes only a YAML 1.1 bool.

use super::go_decode::{self, GoType};
use crate::value::Value;
use saphyr_parser::{Event, Parser, ScalarStyle};

/// A node of the written config, with its line.
enum Node {
    /// A scalar: its text, whether it was quoted, and its line.
    Scalar { text: String, quoted: bool, line: usize },
    /// A sequence and its line.
    Seq { items: Vec<Node>, line: usize },
    /// A mapping and its line.
    Map { entries: Vec<(String, Node)>, line: usize },
}

impl Node {
    fn line(&self) -> usize {
        match self {
            Node::Scalar { line, .. } | Node::Seq { line, .. } | Node::Map { line, .. } => *line,
        }
    }

    /// goyaml.v2's short tag of the node.
    fn tag(&self) -> &'static str {
        match self {
            Node::Seq { .. } => "!!seq",
            Node::Map { .. } => "!!map",
            Node::Scalar { quoted: true, .. } => "!!str",
            Node::Scalar { text, .. } => {
                match crate::yaml::parse_documents_yaml11(text, "value")
                    .ok()
                    .and_then(|d| d.into_iter().next())
                {
                    Some(Value::Null) | None => "!!null",
                    Some(Value::Bool(_)) => "!!bool",
                    Some(Value::Int(_) | Value::Uint(_)) => "!!int",
                    Some(Value::Float(_)) => "!!float",
                    Some(_) => "!!str",
                }
            }
        }
    }
}

/// goyaml.v2's errors for the config `doc` of a plugin of `kind`, or `None`
/// when it decodes (or the plugin is not one that decodes with goyaml.v2).
pub(crate) fn config_errors(doc: &Value, kind: &str) -> Option<String> {
    let structs = go_decode::yaml_v2_plugin(kind)?;
    let text = crate::yaml::to_string(doc);
    let root = read(&text)?;
    structs.iter().find_map(|ty| {
        let mut errors = Vec::new();
        // A config that is no map leaves the struct as it was.
        if let (Node::Map { .. }, GoType::Struct(_, _, fields)) = (&root, ty) {
            check_struct(&root, fields, &mut errors);
        }
        (!errors.is_empty()).then(|| format!("yaml: unmarshal errors:\n  {}", errors.join("\n  ")))
    })
}

/// goyaml.v2 matches a key to a field by its exact name (an embedded
/// struct's fields among them) and ignores keys no field has.
fn check_struct(node: &Node, fields: &[(&str, GoType)], errors: &mut Vec<String>) {
    let Node::Map { entries, .. } = node else { return };
    for (key, value) in entries {
        if let Some((_, ty)) = fields.iter().find(|(f, _)| f == key) {
            check(value, ty, errors);
        }
    }
}

fn check(node: &Node, ty: &GoType, errors: &mut Vec<String>) {
    // A null leaves the field as it was.
    if node.tag() == "!!null" {
        return;
    }
    let fits = match (ty, node) {
        (GoType::Ptr(inner) | GoType::Promoted(inner), _) => return check(node, inner, errors),
        (GoType::Str | GoType::NamedStr(_), Node::Scalar { .. }) => true,
        (GoType::Bool, Node::Scalar { .. }) => node.tag() == "!!bool",
        (GoType::Slice(_, elem), Node::Seq { items, .. }) => {
            for item in items {
                check(item, elem, errors);
            }
            true
        }
        (GoType::Map(_, elem), Node::Map { entries, .. }) => {
            for (_, value) in entries {
                check(value, elem, errors);
            }
            true
        }
        (GoType::Struct(_, _, fields), Node::Map { .. }) => {
            check_struct(node, fields, errors);
            true
        }
        _ => false,
    };
    if !fits {
        let shown = match node {
            Node::Scalar { text, .. } if text.len() > 10 => {
                let cut: String = text.bytes().take(7).map(char::from).collect();
                format!(" `{cut}...`")
            }
            Node::Scalar { text, .. } => format!(" `{text}`"),
            _ => String::new(),
        };
        errors.push(format!(
            "line {}: cannot unmarshal {}{shown} into {}",
            node.line(),
            node.tag(),
            ty.go_name()
        ));
    }
}

/// The first document of `text` as a tree of nodes with their lines.
fn read(text: &str) -> Option<Node> {
    let mut parser = Parser::new_from_str(text);
    loop {
        let (event, span) = parser.next_event()?.ok()?;
        match event {
            Event::MappingStart(..) | Event::SequenceStart(..) | Event::Scalar(..) => {
                return node(&mut parser, event, span.start.line(), 0);
            }
            Event::StreamEnd => return None,
            _ => {}
        }
    }
}

fn node(
    parser: &mut Parser<'_, saphyr_parser::StrInput<'_>>,
    event: Event<'_>,
    line: usize,
    depth: usize,
) -> Option<Node> {
    if depth > 256 {
        return None;
    }
    match event {
        Event::Scalar(value, style, _, _) => Some(Node::Scalar {
            text: value.into_owned(),
            quoted: style != ScalarStyle::Plain,
            line,
        }),
        Event::SequenceStart(..) => {
            let mut items = Vec::new();
            loop {
                let (event, span) = parser.next_event()?.ok()?;
                if matches!(event, Event::SequenceEnd) {
                    return Some(Node::Seq { items, line });
                }
                items.push(node(parser, event, span.start.line(), depth + 1)?);
            }
        }
        Event::MappingStart(..) => {
            let mut entries = Vec::new();
            loop {
                let (event, span) = parser.next_event()?.ok()?;
                if matches!(event, Event::MappingEnd) {
                    return Some(Node::Map { entries, line });
                }
                let key = match node(parser, event, span.start.line(), depth + 1)? {
                    Node::Scalar { text, .. } => text,
                    _ => return None,
                };
                let (event, span) = parser.next_event()?.ok()?;
                entries.push((key, node(parser, event, span.start.line(), depth + 1)?));
            }
        }
        _ => None,
    }
}
