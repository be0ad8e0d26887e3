//! kustomize's hash input for a generated object whose kind is no longer ConfigMap or Secret: Go's JSON of its yaml.Node tree.
//!
//! kustomize hashes a ConfigMap or Secret by its data; any other kind (a
//! generated ConfigMap a JSON patch turned into a custom kind) by
//! `encoding/json` of the object's yaml.v3 node tree: every node's kind,
//! style, tag, text, children, comments, line and column. Line and column
//! depend on the text the node was parsed from. A JSON patch rebuilds the
//! object by printing its JSON as YAML (keys sorted, numbers as float64) and
//! parsing that text, so kiln keeps the object as the patch left it
//! ([`crate::resource::Resource::json_rebuilt`]), prints and parses it the
//! same way, and lays the later changes over it as kustomize's setters make
//! them: a changed scalar becomes a node without position or tag (keeping
//! its style), a new field a node without position appended to its map, and
//! the annotations a map rebuilt at the end of `metadata` after every patch.

use crate::value::{Map, Value};
use crate::yaml;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// yaml.v3 node kinds.
const SEQUENCE: u8 = 2;
const MAPPING: u8 = 4;
const SCALAR: u8 = 8;

/// yaml.v3 node styles.
const DOUBLE_QUOTED: u8 = 2;
const SINGLE_QUOTED: u8 = 4;
const LITERAL: u8 = 8;
const FOLDED: u8 = 16;
const FLOW: u8 = 32;

/// One yaml.v3 node, as far as kustomize's objects use its fields (no
/// anchors, aliases or comments survive JSON).
#[derive(Debug, Clone, PartialEq)]
struct Node {
    kind: u8,
    style: u8,
    tag: &'static str,
    value: String,
    content: Option<Vec<Node>>,
    line: usize,
    column: usize,
}

impl Node {
    /// A node made by kyaml's setters: no tag, no position.
    fn made(kind: u8, value: String, content: Option<Vec<Node>>) -> Node {
        Node { kind, style: 0, tag: "", value, content, line: 0, column: 0 }
    }

    /// A string node as kyaml sets a metadata map's value: a literal block
    /// when it spans lines, double-quoted when YAML 1.1 would read its text
    /// as something other than a string (`y`, `1.5`, `a: b`).
    fn string(s: &str) -> Node {
        let style = if s.contains('\n') {
            LITERAL
        } else if reads_as_non_string(s) {
            DOUBLE_QUOTED
        } else {
            0
        };
        Node { style, tag: "!!str", ..Node::made(SCALAR, s.to_string(), None) }
    }
}

/// Whether goyaml.v2 reads `s` (one line, not empty) as a value other than
/// a string: a number, bool, null, map or list; text it cannot read counts
/// as a string.
fn reads_as_non_string(s: &str) -> bool {
    if s.is_empty() {
        return false;
    }
    match yaml::parse_documents_yaml11(s, "value") {
        Ok(docs) => !matches!(docs.first(), Some(Value::String(_))),
        Err(_) => false,
    }
}

/// The JSON kustomize hashes for `current`, an object a JSON patch left as
/// `rebuilt` (with the annotations it then had), whose annotations at hash
/// time are its own plus `internal`; `None` when the text does not parse.
pub(super) fn hash_input(
    rebuilt: &Value,
    current: &Value,
    internal: &[(String, String)],
    added: &[String],
) -> Option<String> {
    let text = yaml::to_string(rebuilt);
    let mut parser = Parser::new_from_str(&text);
    let mut root = None;
    while let Some(Ok((event, span))) = parser.next_event() {
        if matches!(event, Event::MappingStart(..) | Event::SequenceStart(..) | Event::Scalar(..)) {
            root = Some(read(&mut parser, event, &span, &text)?);
            break;
        }
    }
    let mut root = root?;
    overlay(&mut root, rebuilt, current);
    set_annotations(&mut root, rebuilt, current, internal, added);
    let mut out = String::new();
    dump(&mut out, &root);
    Some(out)
}

/// The node an event starts, with its children.
fn read(
    parser: &mut Parser<'_, saphyr_parser::StrInput<'_>>,
    event: Event<'_>,
    span: &Span,
    text: &str,
) -> Option<Node> {
    let (line, mut column) = (span.start.line(), span.start.col() + 1);
    let at = text.char_indices().nth(span.start.index()).map_or(text.len(), |(i, _)| i);
    let flow = || if text[at..].starts_with(['{', '[']) { FLOW } else { 0 };
    if matches!(event, Event::SequenceStart(..)) && flow() == 0 {
        // yaml.v3 places a block sequence at its first `-`, the parser at
        // its first item.
        let before = text[..at].trim_end_matches(' ');
        if before.ends_with('-') {
            column -= at - before.len() + 1;
        }
    }
    let node = match event {
        Event::Scalar(value, style, _, _) => {
            let (style, tag) = match style {
                ScalarStyle::Plain => (0, plain_tag(&value)),
                ScalarStyle::SingleQuoted => (SINGLE_QUOTED, "!!str"),
                ScalarStyle::DoubleQuoted => (DOUBLE_QUOTED, "!!str"),
                ScalarStyle::Literal => (LITERAL, "!!str"),
                ScalarStyle::Folded => (FOLDED, "!!str"),
            };
            Node {
                kind: SCALAR,
                style,
                tag,
                value: value.into_owned(),
                content: None,
                line,
                column,
            }
        }
        Event::MappingStart(..) | Event::SequenceStart(..) => {
            let (kind, tag) = if matches!(event, Event::MappingStart(..)) {
                (MAPPING, "!!map")
            } else {
                (SEQUENCE, "!!seq")
            };
            let style = flow();
            let mut content = Vec::new();
            loop {
                let (ev, sp) = parser.next_event()?.ok()?;
                if matches!(ev, Event::MappingEnd | Event::SequenceEnd) {
                    break;
                }
                content.push(read(parser, ev, &sp, text)?);
            }
            Node { kind, style, tag, value: String::new(), content: Some(content), line, column }
        }
        _ => return None,
    };
    Some(node)
}

/// The tag yaml.v3 resolves a plain scalar to.
fn plain_tag(text: &str) -> &'static str {
    match crate::yaml::resolve::resolve_plain(text) {
        Value::Null => "!!null",
        Value::Bool(_) => "!!bool",
        Value::Int(_) | Value::Uint(_) => "!!int",
        Value::Float(_) => "!!float",
        _ => "!!str",
    }
}

/// The text kyaml writes for a scalar value.
fn scalar_text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => yaml::to_string(other).trim_end().to_string(),
    }
}

/// A node tree kyaml's setters would make for `v`.
fn made(v: &Value) -> Node {
    match v {
        Value::Map(m) => Node::made(
            MAPPING,
            String::new(),
            Some(
                m.iter()
                    .flat_map(|(k, v)| [Node::made(SCALAR, k.clone(), None), made(v)])
                    .collect(),
            ),
        ),
        Value::Seq(items) => {
            Node::made(SEQUENCE, String::new(), Some(items.iter().map(made).collect()))
        }
        other => Node::made(SCALAR, scalar_text(other), None),
    }
}

/// Lays the changes from `was` to `now` over the node tree parsed from `was`.
fn overlay(node: &mut Node, was: &Value, now: &Value) {
    match (was, now, node.content.as_mut()) {
        (Value::Map(w), Value::Map(n), Some(content)) if node.kind == MAPPING => {
            let mut kept = Vec::with_capacity(content.len());
            let mut pairs = std::mem::take(content).into_iter();
            while let (Some(key), Some(mut value)) = (pairs.next(), pairs.next()) {
                let Some(new) = n.get(&key.value) else { continue };
                if let Some(old) = w.get(&key.value) {
                    overlay(&mut value, old, new);
                } else {
                    value = made(new);
                }
                kept.push(key);
                kept.push(value);
            }
            for (k, v) in n.iter().filter(|(k, _)| !w.contains_key(*k)) {
                kept.push(Node::made(SCALAR, k.clone(), None));
                kept.push(made(v));
            }
            *content = kept;
        }
        (Value::Seq(w), Value::Seq(n), Some(content)) if node.kind == SEQUENCE => {
            content.truncate(n.len());
            for (i, new) in n.iter().enumerate() {
                match (content.get_mut(i), w.get(i)) {
                    (Some(item), Some(old)) => overlay(item, old, new),
                    (Some(item), None) => *item = made(new),
                    (None, _) => content.push(made(new)),
                }
            }
        }
        (w, n, None) if node.kind == SCALAR && !matches!(n, Value::Map(_) | Value::Seq(_)) => {
            if w != n {
                // kyaml's setter keeps the style of the node it replaces.
                *node = Node { style: node.style, ..Node::made(SCALAR, scalar_text(n), None) };
            }
        }
        (_, n, _) => *node = made(n),
    }
}

/// Rebuilds `metadata.annotations` as kyaml's `SetAnnotations` does after
/// the JSON patch: the annotations the object then had and kustomize's
/// build annotations, sorted, each a string node, in a map placed after the
/// fields `metadata` had then. Build annotations added since (prefixes,
/// suffixes) follow, then the object's own (`commonAnnotations`); fields
/// added since (a namespace, labels) follow the map.
fn set_annotations(
    root: &mut Node,
    rebuilt: &Value,
    current: &Value,
    internal: &[(String, String)],
    order: &[String],
) {
    let Some(meta) = root
        .content
        .as_mut()
        .and_then(|c| {
            let i = c.chunks(2).position(|pair| pair[0].value == "metadata")?;
            c.get_mut(2 * i + 1)
        })
        .and_then(|m| m.content.as_mut())
    else {
        return;
    };
    if let Some(i) = meta.chunks(2).position(|pair| pair[0].value == "annotations") {
        meta.drain(2 * i..2 * i + 2);
    }
    // kustomize's transformers write a namespace and label values as
    // string nodes.
    for pair in meta.chunks_mut(2) {
        let [key, value] = pair else { continue };
        let entries = match (key.value.as_str(), value.content.as_mut()) {
            ("labels", Some(entries)) => entries.iter_mut().skip(1).step_by(2).collect(),
            ("namespace", None) => vec![value],
            _ => Vec::new(),
        };
        for v in entries.into_iter().filter(|v| v.line == 0 && v.kind == SCALAR) {
            *v = Node::string(&v.value);
        }
    }
    let old_meta = rebuilt.get_path(&["metadata"]).and_then(Value::as_map);
    let old_notes = rebuilt.get_path(&["metadata", "annotations"]).and_then(Value::as_map);
    let own = current.get_path(&["metadata", "annotations"]).and_then(Value::as_map);
    let mut sorted = Map::new();
    let mut added = Vec::new();
    for (k, v) in own.into_iter().flatten() {
        if old_notes.is_some_and(|m| m.contains_key(k)) {
            sorted.insert(k.clone(), Value::String(scalar_text(v)));
        } else {
            added.push((k.clone(), scalar_text(v)));
        }
    }
    // kustomize adds a build annotation it did not have then (a prefix, a
    // suffix) by appending it to the map, single-quoted, and updates one it
    // had in place.
    let mut appended = Vec::new();
    for (k, v) in internal {
        if old_notes.is_some_and(|m| m.contains_key(k)) {
            sorted.insert(k.clone(), Value::String(v.clone()));
        } else {
            appended.push((k.clone(), v.clone()));
        }
    }
    if sorted.is_empty() && added.is_empty() && appended.is_empty() {
        return;
    }
    sorted.sort_keys();
    let mut content: Vec<Node> = sorted
        .iter()
        .flat_map(|(k, v)| [Node::made(SCALAR, k.clone(), None), Node::string(&scalar_text(v))])
        .collect();
    // The later ones in the order they came: kustomize's own single-quoted.
    let mut later: Vec<(String, Node)> = appended
        .into_iter()
        .map(|(k, v)| (k, Node { style: SINGLE_QUOTED, ..Node::string(&v) }))
        .chain(added.into_iter().map(|(k, v)| (k, Node::string(&v))))
        .collect();
    later.sort_by_key(|(k, _)| order.iter().position(|o| o == k).unwrap_or(usize::MAX));
    for (k, v) in later {
        content.push(Node::made(SCALAR, k, None));
        content.push(v);
    }
    let at = meta
        .chunks(2)
        .position(|pair| old_meta.is_none_or(|m| !m.contains_key(&pair[0].value)))
        .map_or(meta.len(), |i| 2 * i);
    meta.splice(
        at..at,
        [
            Node::made(SCALAR, "annotations".into(), None),
            Node::made(MAPPING, String::new(), Some(content)),
        ],
    );
}

/// `encoding/json` of a yaml.v3 node: its exported fields in order.
fn dump(out: &mut String, n: &Node) {
    use crate::gotmpl::sprig::json::quote;
    out.push_str(&format!("{{\"Kind\":{},\"Style\":{},\"Tag\":", n.kind, n.style));
    quote(out, n.tag, true);
    out.push_str(",\"Value\":");
    quote(out, &n.value, true);
    out.push_str(",\"Anchor\":\"\",\"Alias\":null,\"Content\":");
    // A collection the parser or a setter left without children has a nil
    // slice of them.
    match &n.content {
        None => out.push_str("null"),
        Some(items) if items.is_empty() => out.push_str("null"),
        Some(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                dump(out, item);
            }
            out.push(']');
        }
    }
    out.push_str(&format!(
        ",\"HeadComment\":\"\",\"LineComment\":\"\",\"FootComment\":\"\",\"Line\":{},\"Column\":{}}}",
        n.line, n.column
    ));
}
