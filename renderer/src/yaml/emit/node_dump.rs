//! kyaml's dump of a node (`node contents:`) in the style its text gave it: flow collections, quoted and block scalars.
//!
//! kustomize keeps a resource as the yaml.v3 node tree it read, and its
//! messages print a node through goyaml.v3's encoder, which writes each
//! node in the style the node holds: a collection written `[a, b]` or
//! `{a: 1}` stays in flow style (and so does everything inside it), a
//! scalar keeps its quotes or its `|`/`>` block, a number or null keeps
//! its text (`012`, `~`), and the emitter falls back to another style only
//! where the text cannot be written in the one asked for. kiln keeps
//! values, not nodes, so [`Styled`] reads the styles back from the text
//! the object came from, and [`node_to_string_styled`] lays them over the
//! value as it is now: a collection keeps its style while it is still a
//! collection of the same kind (kyaml edits maps and lists in place), a
//! scalar while it holds the same value. The encoder also writes the
//! comments a node holds; the tree carries those kustomize's reader placed
//! (`kustomize::ynode::styles_with_comments` lays them on it).

use super::{Analysis, Emitter, INDENT, Style, analyze_for, is_blank, is_break, is_simple_key};
use crate::resource::Step;
use crate::value::Value;
use crate::yaml::resolve::resolve_plain;
use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;

/// The comments yaml.v3 keeps on a node: its `HeadComment` (the lines
/// before it), `LineComment` (after it on its line) and `FootComment` (the
/// lines after a block), each without its final line break.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Comments {
    pub(crate) head: String,
    pub(crate) line: String,
    pub(crate) foot: String,
}

/// A node's comments; `None` for a node without any (nearly all).
pub(crate) type Notes = Option<Box<Comments>>;

/// A node of a YAML text and the style it was written in.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Styled {
    /// A scalar: its style, its text, the value it reads as, the tag
    /// written on it and its comments.
    Scalar { style: Style, text: String, value: Value, tag: Option<Box<str>>, notes: Notes },
    /// A sequence, in flow style or not, its tag and its comments.
    Seq { flow: bool, items: Vec<Styled>, tag: Option<Box<str>>, notes: Notes },
    /// A mapping, in flow style or not, with its keys as scalars, its tag
    /// and its comments.
    Map { flow: bool, entries: Vec<(Styled, Styled)>, tag: Option<Box<str>>, notes: Notes },
    /// A node whose style kiln does not carry over (a scalar whose tag does
    /// not decode): written as if it had none.
    Other,
}

impl Styled {
    /// The first document of `text`, as kyaml reads it; `None` when the text
    /// does not read (the caller then has the value alone).
    pub fn parse(text: &str) -> Option<Styled> {
        let mut parser = Parser::new_from_str(text);
        let mut reader = Reader { text, chars: CharIndex::new(text), anchors: Vec::new() };
        while let Some(Ok((event, span))) = parser.next_event() {
            match event {
                Event::MappingStart(..) | Event::SequenceStart(..) | Event::Scalar(..) => {
                    return reader.read(&mut parser, event, &span, 0, false);
                }
                Event::StreamEnd | Event::DocumentEnd => return None,
                _ => {}
            }
        }
        None
    }

    /// Whether each key of the map at field `field` of this map is a null
    /// (`~`, `null`, or written as nothing).
    pub fn null_keys_at(&self, field: &str) -> Option<Vec<bool>> {
        let Styled::Map { entries, .. } = self else { return None };
        let (_, inner) = entries.iter().find(|(k, _)| key_text(k) == Some(field))?;
        let Styled::Map { entries, .. } = inner else { return None };
        // A key written as nothing inside a flow mapping is held as the
        // empty string (see `read`), but is a null node all the same.
        let null = |k: &Styled| match k {
            Styled::Scalar { value: Value::Null, .. } => true,
            Styled::Scalar { style: Style::Plain, text, tag: None, .. } => text.is_empty(),
            _ => false,
        };
        Some(entries.iter().map(|(k, _)| null(k)).collect())
    }

    /// Lays a strategic merge patch's nodes over this tree as kyaml's merge
    /// walk does: a map stays (its style too, unless it was empty) and takes
    /// the patch's fields, a list of maps (merged by key) stays, and a
    /// scalar or a list of scalars is the patch's node.
    pub fn merge(&mut self, patch: &Styled) {
        self.merge_node(patch, false);
    }

    /// [`Styled::merge`] of a node that is the value of a map's field
    /// (`in_field`), which the field setter writes.
    fn merge_node(&mut self, patch: &Styled, in_field: bool) {
        match (&mut *self, patch) {
            (
                Styled::Map { flow, entries, .. },
                Styled::Map { flow: patch_flow, entries: more, .. },
            ) => {
                if entries.is_empty() {
                    *flow = *patch_flow;
                }
                for (key, value) in more {
                    // A null in the patch deletes the field: kyaml's lookup
                    // finds the first node of a key given twice, and its
                    // comments go with it.
                    if matches!(value, Styled::Scalar { value: Value::Null, .. }) {
                        if let Some(i) = entries.iter().position(|(k, _)| k.same_key(key)) {
                            entries.remove(i);
                        }
                        continue;
                    }
                    match entries.iter_mut().rev().find(|(k, _)| k.same_key(key)) {
                        Some((_, had)) => had.merge_node(value, true),
                        None => entries.push((key.clone(), value.clone())),
                    }
                }
            }
            (Styled::Seq { items, .. }, Styled::Seq { items: more, .. })
                if !items.is_empty()
                    && items.iter().chain(more).all(|i| matches!(i, Styled::Map { .. })) =>
            {
                // Merged by key: each item of the patch merges into the item
                // that has the same value in the first field they share.
                // kyaml puts the patch's items first, in its order, then
                // the target's items the patch has none for.
                let mut merged = Vec::with_capacity(items.len() + more.len());
                let mut taken = vec![false; items.len()];
                for item in more {
                    match items.iter().position(|had| had.same_item(item)) {
                        Some(i) => {
                            let mut had = items[i].clone();
                            had.merge(item);
                            merged.push(had);
                            taken[i] = true;
                        }
                        None => merged.push(item.clone()),
                    }
                }
                let rest = items.iter().zip(&taken).filter(|(_, t)| !**t).map(|(i, _)| i.clone());
                merged.extend(rest);
                *items = merged;
            }
            (had, _) => {
                let mut new = patch.clone();
                if in_field {
                    new.keep_style_of(had);
                }
                *had = new;
            }
        }
    }

    /// kyaml's field setter gives the node it sets the style of the node it
    /// replaces: a scalar its quoting or block, a collection its flow style
    /// (none when it replaces a scalar, such as a null). The merge first
    /// gives an empty collection the patch's style, so that one stays.
    fn keep_style_of(&mut self, had: &Styled) {
        match (self, had) {
            (Styled::Scalar { style, .. }, Styled::Scalar { style: old, .. }) => *style = *old,
            (Styled::Seq { flow, .. } | Styled::Map { flow, .. }, old) => match old {
                Styled::Seq { items, .. } if items.is_empty() => {}
                Styled::Map { entries, .. } if entries.is_empty() => {}
                Styled::Seq { flow: f, .. } | Styled::Map { flow: f, .. } => *flow = *f,
                Styled::Scalar { .. } => *flow = false,
                Styled::Other => {}
            },
            _ => {}
        }
    }

    /// Whether two map items of a list merged by key are the same item: the
    /// first scalar field of `other` that this one has holds the same value.
    fn same_item(&self, other: &Styled) -> bool {
        let Styled::Map { entries, .. } = other else { return false };
        entries.iter().find_map(|(key, value)| {
            let Styled::Scalar { value: v, .. } = value else { return None };
            let (_, had) = self.entry(key_text(key)?)?;
            match had {
                Styled::Scalar { value: h, .. } => Some(h == v),
                _ => None,
            }
        }) == Some(true)
    }

    /// Whether two key nodes name the same key.
    fn same_key(&self, other: &Styled) -> bool {
        key_text(other).is_some_and(|k| self.text_is(k))
    }

    /// Renames the key of the second node that the map at `map` has for
    /// `key` to `mark` (its comments and style kept): called for each key
    /// given again in turn, each written under a mark of its own then finds
    /// its own node, and the first node's key is the only one left.
    pub fn mark_given_again(&mut self, map: &[Step], key: &str, mark: &str) {
        let mut node = self;
        for step in map {
            let next = match (node, step) {
                (Styled::Map { entries, .. }, Step::Key(k)) => {
                    entries.iter_mut().rev().find(|(key, _)| key.text_is(k)).map(|(_, v)| v)
                }
                (Styled::Seq { items, .. }, Step::Index(i)) => items.get_mut(*i),
                _ => None,
            };
            let Some(next) = next else { return };
            node = next;
        }
        let Styled::Map { entries, .. } = node else { return };
        let again = entries.iter_mut().map(|(k, _)| k).filter(|k| k.text_is(key)).nth(1);
        if let Some(Styled::Scalar { text, value, .. }) = again {
            *text = mark.to_string();
            *value = Value::String(mark.to_string());
        }
    }

    /// The node at `path` below this one.
    pub fn at(&self, path: &[Step]) -> Option<&Styled> {
        let mut node = self;
        for step in path {
            node = match (node, step) {
                (Styled::Map { entries, .. }, Step::Key(k)) => {
                    &entries.iter().rev().find(|(key, _)| key.text_is(k))?.1
                }
                (Styled::Seq { items, .. }, Step::Index(i)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Whether a collection on the way to `path` (as far as this tree has
    /// its nodes) is in flow style: yaml.v3's emitter writes everything
    /// inside one in flow style too, so an empty plain scalar there comes
    /// out as `''`.
    pub fn in_flow(&self, path: &[Step]) -> bool {
        let mut node = self;
        for step in path {
            let next = match (node, step) {
                (Styled::Map { flow: true, .. } | Styled::Seq { flow: true, .. }, _) => {
                    return true;
                }
                (Styled::Map { entries, .. }, Step::Key(k)) => {
                    entries.iter().rev().find(|(key, _)| key.text_is(k)).map(|(_, v)| v)
                }
                (Styled::Seq { items, .. }, Step::Index(i)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => return false,
            }
        }
        false
    }

    /// The first node, in the order of the text, that holds `value` (a
    /// node of a patch or an object an error shows).
    pub fn find(&self, value: &Value) -> Option<&Styled> {
        if self.holds(value) {
            return Some(self);
        }
        match self {
            Styled::Seq { items, .. } => items.iter().find_map(|i| i.find(value)),
            Styled::Map { entries, .. } => entries.iter().find_map(|(_, v)| v.find(value)),
            _ => None,
        }
    }

    /// Whether this node holds `value`, as a value.
    fn holds(&self, value: &Value) -> bool {
        match (self, value) {
            (Styled::Scalar { value: v, .. }, value) => v == value,
            (Styled::Seq { items, .. }, Value::Seq(s)) => {
                items.len() == s.len() && items.iter().zip(s).all(|(i, v)| i.holds(v))
            }
            (Styled::Map { entries, .. }, Value::Map(m)) => {
                let by_key = self.entries_by_key();
                entries.len() == m.len()
                    && m.iter()
                        .all(|(k, v)| by_key.get(k.as_str()).is_some_and(|(_, n)| n.holds(v)))
            }
            _ => false,
        }
    }

    /// Whether this is a scalar key that reads as the string `key`.
    fn text_is(&self, key: &str) -> bool {
        match self {
            Styled::Scalar { value: Value::String(s), .. } => s == key,
            // The reader names a key that is no string by what it reads as
            // (`~` is `null`, `0x1F` is `31`).
            Styled::Scalar { value, text, .. } => {
                text == key || crate::yaml::parse::key_string(value.clone()).is_ok_and(|k| k == key)
            }
            _ => false,
        }
    }

    /// The string a scalar key reads as: a string's value, another
    /// scalar's text.
    fn key_str(&self) -> Option<&str> {
        match self {
            Styled::Scalar { value: Value::String(s), .. } => Some(s),
            Styled::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    /// The entry of a map node for `key`.
    fn entry(&self, key: &str) -> Option<(&Styled, &Styled)> {
        match self {
            Styled::Map { entries, .. } => {
                entries.iter().rev().find(|(k, _)| k.text_is(key)).map(|(k, v)| (k, v))
            }
            _ => None,
        }
    }

    /// [`Styled::entry`] for every key of a map node at once, so that a
    /// large map is not searched once per key.
    fn entries_by_key(&self) -> HashMap<&str, (&Styled, &Styled)> {
        let Styled::Map { entries, .. } = self else { return HashMap::new() };
        // A key given twice is the later entry, as `entry` finds it.
        entries.iter().filter_map(|(k, v)| Some((k.key_str()?, (k, v)))).collect()
    }

    /// The item of a sequence node at `i`.
    fn item(&self, i: usize) -> Option<&Styled> {
        match self {
            Styled::Seq { items, .. } => items.get(i),
            _ => None,
        }
    }

    /// Whether `value`, a non-empty collection, is written in flow style:
    /// this node is a flow collection of the same kind.
    fn flow_for(&self, value: &Value) -> bool {
        match (self, value) {
            (Styled::Seq { flow, .. }, Value::Seq(s)) => *flow && !s.is_empty(),
            (Styled::Map { flow, .. }, Value::Map(m)) => *flow && !m.is_empty(),
            _ => false,
        }
    }

    /// The tag written on this node, if it is still a node of `value`'s
    /// kind (a scalar: holding `value`).
    fn tag_for(&self, value: &Value) -> Option<&str> {
        let tag = match (self, value) {
            (Styled::Scalar { value: v, tag, .. }, value) if v == value => tag,
            (Styled::Seq { tag, .. }, Value::Seq(_)) | (Styled::Map { tag, .. }, Value::Map(_)) => {
                tag
            }
            _ => return None,
        };
        tag.as_deref()
    }

    /// The first map, in the order of the text, with a collection as a key.
    pub fn map_with_collection_key(&self) -> Option<&Styled> {
        match self {
            Styled::Map { entries, .. } => {
                if entries.iter().any(|(k, _)| !matches!(k, Styled::Scalar { .. } | Styled::Other))
                {
                    return Some(self);
                }
                entries.iter().find_map(|(_, v)| v.map_with_collection_key())
            }
            Styled::Seq { items, .. } => items.iter().find_map(Styled::map_with_collection_key),
            _ => None,
        }
    }

    /// The style a string that took this string node's place is written in:
    /// kyaml's field setter gives the node it sets the style of the node it
    /// replaces (`FieldSetter` keeps the original style), so a value a
    /// transformer changed keeps the quotes or block its text had.
    fn string_style(&self) -> Option<Style> {
        match self {
            Styled::Scalar { style, value: Value::String(_), tag: None, .. } => Some(*style),
            _ => None,
        }
    }

    /// The style and text this scalar node gives `value`, if it holds it.
    fn scalar_for(&self, value: &Value) -> Option<(Style, &str)> {
        match self {
            Styled::Scalar { style, text, value: v, .. } if v == value => Some((*style, text)),
            _ => None,
        }
    }
}

/// The text of a key node, as the key it names.
fn key_text(key: &Styled) -> Option<&str> {
    match key {
        Styled::Scalar { value: Value::String(s), .. } => Some(s),
        Styled::Scalar { text, .. } => Some(text),
        _ => None,
    }
}

/// Byte offsets of a text's characters: the parser counts characters.
struct CharIndex {
    /// The byte offset of every character that is not ASCII, by character
    /// index; empty for ASCII text.
    offsets: Vec<usize>,
    len: usize,
}

impl CharIndex {
    fn new(text: &str) -> CharIndex {
        let offsets = if text.is_ascii() {
            Vec::new()
        } else {
            text.char_indices().map(|(i, _)| i).collect()
        };
        CharIndex { offsets, len: text.len() }
    }

    fn byte(&self, char_index: usize) -> usize {
        if self.offsets.is_empty() {
            char_index.min(self.len)
        } else {
            self.offsets.get(char_index).copied().unwrap_or(self.len)
        }
    }
}

/// How deep collections may nest before the reader gives up on styles.
const MAX_DEPTH: usize = 512;

/// Reads the node tree of one document.
struct Reader<'t> {
    text: &'t str,
    chars: CharIndex,
    /// The nodes anchored so far, by the parser's anchor id: an alias
    /// stands for a copy of its node, as kyaml leaves it.
    anchors: Vec<(usize, Styled)>,
}

impl Reader<'_> {
    fn read(
        &mut self,
        parser: &mut Parser<'_, saphyr_parser::StrInput<'_>>,
        event: Event<'_>,
        span: &Span,
        depth: usize,
        in_flow: bool,
    ) -> Option<Styled> {
        if depth > MAX_DEPTH {
            return None;
        }
        let at = self.chars.byte(span.start.index());
        let flow = self.text.get(at..).is_some_and(starts_flow);
        let (node, anchor) = match event {
            Event::Scalar(value, style, anchor, tag) => {
                let text = value.into_owned();
                // yaml.v3 reads the non-specific tag `!` as no tag at all.
                let tag = tag.filter(|t| !crate::yaml::parse::is_non_specific(t));
                let value = match (&tag, style) {
                    // A text its tag does not fit stays as written, tag
                    // and all: kyaml's node holds it so until it is decoded.
                    (Some(tag), _) => crate::yaml::parse::tagged_scalar(&text, tag, false)
                        .unwrap_or_else(|_| Value::String(text.clone())),
                    // As kiln's reader has it: kustomize writes a flow
                    // collection back out before it decodes it, quoting a
                    // plain scalar that cannot stay plain there.
                    (None, ScalarStyle::Plain)
                        if in_flow && !analyze_for(&text, false).flow_plain =>
                    {
                        Value::String(text.clone())
                    }
                    (None, ScalarStyle::Plain) => resolve_plain(&text),
                    (None, _) => Value::String(text.clone()),
                };
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::Single,
                    ScalarStyle::DoubleQuoted => Style::Double,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let tag = tag.map(|t| short_tag(&t));
                (Styled::Scalar { style, text, value, tag, notes: None }, anchor)
            }
            Event::Alias(id) => {
                let node = self.anchors.iter().rev().find(|(a, _)| *a == id);
                return Some(node.map_or(Styled::Other, |(_, n)| n.clone()));
            }
            Event::SequenceStart(anchor, tag) => {
                let mut items = Vec::new();
                let mut flow = flow;
                loop {
                    let (event, item_span) = parser.next_event()?.ok()?;
                    if matches!(event, Event::SequenceEnd) {
                        break;
                    }
                    // The parser places a block sequence written in its
                    // key's column (`env:` over `- {...}`) where its first
                    // item starts, which may be a flow collection.
                    if items.is_empty() && item_span.start.index() == span.start.index() {
                        flow = false;
                    }
                    items.push(self.read(parser, event, &item_span, depth + 1, in_flow || flow)?);
                }
                (Styled::Seq { flow, items, tag: tag.map(|t| short_tag(&t)), notes: None }, anchor)
            }
            Event::MappingStart(anchor, tag) => {
                let mut entries = Vec::new();
                loop {
                    let (event, span) = parser.next_event()?.ok()?;
                    if matches!(event, Event::MappingEnd) {
                        break;
                    }
                    let key = self.read(parser, event, &span, depth + 1, in_flow || flow)?;
                    let (event, span) = parser.next_event()?.ok()?;
                    let value = self.read(parser, event, &span, depth + 1, in_flow || flow)?;
                    entries.push((key, value));
                }
                merge_keys(&mut entries);
                (
                    Styled::Map { flow, entries, tag: tag.map(|t| short_tag(&t)), notes: None },
                    anchor,
                )
            }
            _ => return None,
        };
        if anchor > 0 {
            self.anchors.push((anchor, node.clone()));
        }
        Some(node)
    }
}

/// kyaml's `DeAnchor` of a map's merge keys (`<<: *a`, `<<: [*a, *b]`):
/// the `<<` entries go and the entries of the maps they name that the map
/// does not set itself come after its own, the first map's where several
/// have a key (the order of the value's keys is the reader's).
fn merge_keys(entries: &mut Vec<(Styled, Styled)>) {
    let is_merge = |k: &Styled| {
        matches!(k, Styled::Scalar { style: Style::Plain, text, tag: None, .. } if text == "<<")
            || matches!(k, Styled::Scalar { text, tag: Some(t), .. } if text == "<<" && &**t == "!!merge")
    };
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return;
    }
    let (merges, own): (Vec<_>, Vec<_>) =
        std::mem::take(entries).into_iter().partition(|(k, _)| is_merge(k));
    *entries = own;
    for (_, source) in merges {
        let maps = match source {
            Styled::Seq { items, .. } => items,
            map => vec![map],
        };
        for map in maps {
            let Styled::Map { entries: fields, .. } = map else { continue };
            for (key, value) in fields {
                if !entries.iter().any(|(k, _)| k.same_key(&key)) {
                    entries.push((key, value));
                }
            }
        }
    }
}

/// A flow collection as goyaml.v3's encoder writes it from its nodes alone
/// (`None` for a block collection or a scalar): a key that is itself a
/// collection is written `? KEY : VALUE`, an empty plain scalar `''`.
pub(crate) fn flow_node_text(node: &Styled) -> Option<String> {
    if !matches!(node, Styled::Seq { flow: true, .. } | Styled::Map { flow: true, .. }) {
        return None;
    }
    let mut out = String::new();
    let mut e = Emitter::new(&mut out, false, true);
    e.flow_node(node);
    e.newline();
    Some(out)
}

impl Emitter<'_> {
    /// A node of a flow collection, from the node alone.
    fn flow_node(&mut self, node: &Styled) {
        match node {
            Styled::Seq { items, .. } => {
                self.write_char('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        self.write(", ");
                    }
                    self.flow_node(item);
                }
                self.write_char(']');
            }
            Styled::Map { entries, .. } => {
                self.write_char('{');
                for (i, (key, value)) in entries.iter().enumerate() {
                    if i > 0 {
                        self.write(", ");
                    }
                    if matches!(key, Styled::Scalar { .. }) {
                        self.flow_node(key);
                        self.write(": ");
                    } else {
                        self.write("? ");
                        self.flow_node(key);
                        self.write(" : ");
                    }
                    self.flow_node(value);
                }
                self.write_char('}');
            }
            Styled::Scalar { style, text, .. } => {
                let analysis = analyze_for(text, true);
                match style {
                    Style::Plain if text.is_empty() => self.write("''"),
                    Style::Plain if analysis.flow_plain => self.write(text),
                    style => self.styled_string(text, &analysis, 0, Some(*style), false, true),
                }
            }
            Styled::Other => {}
        }
    }
}

/// Whether a node's text, from where the parser places it, is a flow
/// collection: its anchor and tag, if any, come first.
fn starts_flow(text: &str) -> bool {
    let mut rest = text;
    while rest.starts_with(['&', '!']) {
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        rest = rest[end..].trim_start();
    }
    rest.starts_with(['{', '['])
}

/// A tag as goyaml.v3's encoder writes it: the YAML types' prefix as `!!`.
fn short_tag(tag: &saphyr_parser::Tag) -> Box<str> {
    let handle = match tag.handle.as_str() {
        "tag:yaml.org,2002:" => "!!",
        handle => handle,
    };
    format!("{handle}{}", tag.suffix).into_boxed_str()
}

/// kyaml's text of the first document of `text` (`RNode.String()`) when
/// its mappings give keys twice, which a value cannot hold: the document as
/// kyaml's encoder lays it out, each key given again in its place, from
/// `styled`, the document's style tree with its comments. `None` where kiln
/// cannot write it as kyaml does: an anchor or alias, a key given again
/// with a tag or with text quotes would have to escape.
pub(crate) fn document_with_duplicates(text: &str, styled: &Styled) -> Option<String> {
    if text.contains(['&', '*']) {
        return None;
    }
    let mut again = Vec::new();
    let (value, styles) = unique_keys(styled, &mut again)?;
    let mut out = node_to_string_styled(&value, Some(&styles));
    for (mark, key) in again {
        out = out.replacen(&mark, &key, 1);
    }
    Some(out)
}

/// `node` as a value and its styles, each key given again in a mapping
/// renamed to a mark of its own, noted in `again` with the key's text.
fn unique_keys(node: &Styled, again: &mut Vec<(String, String)>) -> Option<(Value, Styled)> {
    crate::stack::grow(|| match node {
        Styled::Scalar { value, .. } => Some((value.clone(), node.clone())),
        Styled::Seq { flow, items, tag, notes } => {
            let (values, styles) = items
                .iter()
                .map(|item| unique_keys(item, again))
                .collect::<Option<(Vec<_>, _)>>()?;
            Some((
                Value::Seq(values),
                Styled::Seq { flow: *flow, items: styles, tag: tag.clone(), notes: notes.clone() },
            ))
        }
        Styled::Map { flow, entries, tag, notes } => {
            let mut map = crate::value::Map::new();
            let mut styled = Vec::with_capacity(entries.len());
            // The entries kyaml's reader appends for null keys (see the
            // reader's `null_copies`).
            let keys: Vec<crate::yaml::parse::WrittenKey> = entries
                .iter()
                .map(|(k, _)| crate::yaml::parse::WrittenKey {
                    text: key_text(k).unwrap_or_default().to_string(),
                    null: matches!(k, Styled::Scalar { value: Value::Null, text, .. } if !text.is_empty()),
                    ..Default::default()
                })
                .collect();
            let copies = crate::yaml::parse::null_copies(&keys);
            for (key, value) in entries.iter().chain(copies.iter().map(|&i| &entries[i])) {
                let (value, value_style) = unique_keys(value, again)?;
                let mut name = key_text(key)?.to_string();
                let mut key = key.clone();
                // A null key is no string: written as its text, like a key
                // given again.
                let null = matches!(&key, Styled::Scalar { value: Value::Null, .. });
                if map.contains_key(&name) || null {
                    let Styled::Scalar { style, text, tag: None, .. } = &key else { return None };
                    let plain = |c: char| c.is_alphanumeric() || "-_./ ".contains(c);
                    let written = match style {
                        Style::Plain => text.clone(),
                        Style::Single if text.chars().all(plain) => format!("'{text}'"),
                        Style::Double if text.chars().all(plain) => format!("\"{text}\""),
                        _ => return None,
                    };
                    let mark = format!("kiln-key-given-again-{}", again.len());
                    again.push((mark.clone(), written));
                    name = mark.clone();
                    key = Styled::Scalar {
                        style: Style::Plain,
                        text: mark.clone(),
                        value: Value::String(mark),
                        tag: None,
                        notes: None,
                    };
                }
                map.insert(name, value);
                styled.push((key, value_style));
            }
            Some((
                Value::Map(map),
                Styled::Map {
                    flow: *flow,
                    entries: styled,
                    tag: tag.clone(),
                    notes: notes.clone(),
                },
            ))
        }
        Styled::Other => None,
    })
}

/// A node as kyaml prints it in an error, `styles` giving the style its
/// text wrote each part in and the comments it holds (see the module's
/// comment); without styles, [`super::node_to_string`].
///
/// goyaml.v3's encoder writes a node's head comment above it, its line
/// comment after it and its foot comment below it, each line at the
/// indent of the block it is in; a key's foot waits for the next key (or
/// the end of its map), and an empty line parts a foot from a line
/// written at the same indent.
pub(crate) fn node_to_string_styled(value: &Value, styles: Option<&Styled>) -> String {
    let Some(st) = styles else {
        return super::node_to_string(value);
    };
    let mut out = String::new();
    let mut e = Emitter::new(&mut out, false, true);
    let notes = st.notes();
    // The document's content: its head comes first whatever the node.
    e.head_comments("", notes.map_or("", |n| n.head.as_str()), 0);
    if st.flow_for(value) {
        e.flow(value, Some(st), INDENT, "");
        e.write_line_comment(notes.map_or("", |n| n.line.as_str()));
        e.newline();
    } else {
        let tagged = |e: &mut Emitter<'_>| {
            if let Some(tag) = st.tag_for(value) {
                e.write(tag);
                e.newline();
            }
        };
        match value {
            Value::Map(m) if !m.is_empty() => {
                tagged(&mut e);
                e.styled_map(value, 0, st, "");
            }
            Value::Seq(s) if !s.is_empty() => {
                tagged(&mut e);
                e.styled_seq(s, 0, st, "");
            }
            other => {
                e.line_comment = notes.map_or(String::new(), |n| n.line.clone());
                e.styled_scalar(other, INDENT, Some(st), false);
                e.pending_line_comment();
                e.newline();
            }
        }
    }
    // The document's end parts its foot from what comes before.
    if let Some(foot) = notes.map(|n| n.foot.as_str()).filter(|f| !f.is_empty()) {
        e.foot_indent = Some(0);
        e.foot_comment(foot, 0);
    }
    out
}

impl Styled {
    /// The comments of this node, if it has any.
    fn notes(&self) -> Option<&Comments> {
        match self {
            Styled::Scalar { notes, .. }
            | Styled::Seq { notes, .. }
            | Styled::Map { notes, .. } => notes.as_deref(),
            Styled::Other => None,
        }
    }
}

/// Whether `v` is a map or list without entries, which goyaml.v3 writes in
/// flow style (`{}`, `[]`).
fn is_empty_collection(v: &Value) -> bool {
    matches!(v, Value::Map(m) if m.is_empty()) || matches!(v, Value::Seq(s) if s.is_empty())
}

/// One of the comments of a node that may have them.
fn note(st: Option<&Styled>, pick: fn(&Comments) -> &str) -> &str {
    st.and_then(Styled::notes).map_or("", pick)
}

impl Emitter<'_> {
    /// libyaml's `write_comment`: the lines of `text`, each after the
    /// first at `indent` (an empty one left empty), `# ` put before a line
    /// that does not start with `#`; the line is then ended.
    fn comment(&mut self, text: &str, indent: usize) {
        for (i, line) in text.split('\n').enumerate() {
            if i > 0 {
                self.out.push('\n');
                self.column = 0;
            }
            if !line.is_empty() {
                if i > 0 {
                    self.indent_to(indent);
                }
                if !line.starts_with('#') {
                    self.write("# ");
                }
                self.write(line);
            }
        }
        if self.column != 0 {
            self.newline();
        }
    }

    /// libyaml's `process_head_comment`: the foot of the key before
    /// (`tail`), then the head, each on lines of its own at `indent`;
    /// whether it wrote any.
    fn head_comments(&mut self, tail: &str, head: &str, indent: usize) -> bool {
        if !tail.is_empty() {
            self.foot_comment(tail, indent);
        }
        if !head.is_empty() {
            self.indent_to(indent);
            self.comment(head, indent);
        }
        !tail.is_empty() || !head.is_empty()
    }

    /// libyaml's `process_foot_comment`: a foot on lines of its own at
    /// `indent`.
    fn foot_comment(&mut self, foot: &str, indent: usize) {
        if foot.is_empty() {
            return;
        }
        self.indent_to(indent);
        self.comment(foot, indent);
        self.foot_indent = Some(indent);
    }

    /// A line comment after what the line holds.
    fn write_line_comment(&mut self, line: &str) {
        if !line.is_empty() {
            // libyaml writes nothing for an empty plain scalar, so the space
            // before it serves.
            if !self.out.ends_with(' ') {
                self.write_char(' ');
            }
            if !line.starts_with('#') {
                self.write("# ");
            }
            self.write(line);
        }
    }

    /// The line comment waiting for the scalar just written, if any.
    pub(super) fn pending_line_comment(&mut self) {
        let line = std::mem::take(&mut self.line_comment);
        self.write_line_comment(&line);
    }

    /// The entries of a non-empty block map (see `map_body`); `head` is the
    /// map's own head comment, which its first key writes unless that key
    /// has one of its own.
    fn styled_map(&mut self, value: &Value, indent: usize, st: &Styled, head: &str) {
        let Value::Map(map) = value else { return };
        let by_key = st.entries_by_key();
        // The foot of the key before, which goes before the next key.
        let mut tail = "";
        // The head of a scalar value before, which the emitter keeps until
        // the next key (unless that key has one) or the end of the map.
        let mut value_head = "";
        for (i, (key, v)) in map.iter().enumerate() {
            self.entry_start(i, indent);
            let (key_st, value_st) = by_key.get(key.as_str()).copied().unzip();
            let key_head = match note(key_st, |n| &n.head) {
                "" if i == 0 => head,
                "" => value_head,
                own => own,
            };
            if self.head_comments(tail, key_head, indent) {
                self.indent_to(indent);
            }
            tail = note(key_st, |n| &n.foot);
            // A line comment waiting (a block collection's) or the key's own.
            let key_line = note(key_st, |n| &n.line);
            if !key_line.is_empty() {
                self.line_comment = key_line.to_string();
            }
            if !self.line_comment.is_empty() {
                self.key_line = std::mem::take(&mut self.line_comment);
            }
            let analysis = analyze_for(key, true);
            let key_value = Value::String(key.clone());
            let requested = key_st.and_then(|k| k.scalar_for(&key_value)).map(|(s, _)| s);
            if is_simple_key(key, &analysis) {
                self.styled_string(key, &analysis, indent, requested, true, false);
                self.write(":");
                self.styled_value(v, indent, value_st, false);
            } else {
                self.write("? ");
                self.styled_string(key, &analysis, indent + INDENT, requested, false, false);
                if self.column != 0 {
                    self.newline();
                }
                self.indent_to(indent);
                self.write(":");
                self.styled_value(v, indent, value_st, true);
            }
            self.foot_comment(note(value_st, |n| &n.foot), indent);
            // Only a scalar or an empty list leaves its head waiting.
            let waits = !matches!(v, Value::Map(_) | Value::Seq(_))
                || matches!(v, Value::Seq(s) if s.is_empty());
            value_head = if waits { note(value_st, |n| &n.head) } else { "" };
        }
        self.head_comments(tail, value_head, indent);
    }

    /// The items of a non-empty block sequence (see `seq_body`); `head` is
    /// the list's own head comment, which its first item writes unless
    /// that item has one of its own.
    fn styled_seq(&mut self, items: &[Value], indent: usize, st: &Styled, head: &str) {
        for (i, item) in items.iter().enumerate() {
            self.entry_start(i, indent);
            let item_st = st.item(i);
            let item_head = match note(item_st, |n| &n.head) {
                "" if i == 0 => head,
                own => own,
            };
            if self.head_comments("", item_head, indent) {
                self.indent_to(indent);
            }
            self.write("-");
            self.styled_value(item, indent, item_st, true);
            self.foot_comment(note(item_st, |n| &n.foot), indent);
        }
    }

    /// A value after `key:` (or, `compact`, after `-` or a `?` key's `:`).
    ///
    /// Line comments follow goyaml.v3's emitter, which keeps one waiting
    /// until a scalar or a flow collection ends: a key's goes to a scalar
    /// value without one of its own and after the `:` of a block
    /// collection, and past a flow collection waits for a later value; a
    /// block collection's own waits for the next key, which takes it as its
    /// line comment.
    fn styled_value(&mut self, v: &Value, indent: usize, st: Option<&Styled>, compact: bool) {
        let own_line = note(st, |n| &n.line);
        let collection = matches!(v, Value::Map(_) | Value::Seq(_));
        let flow_node =
            matches!(st, Some(Styled::Seq { flow: true, .. } | Styled::Map { flow: true, .. }));
        let block = collection && !flow_node && !is_empty_collection(v);
        if !block && !own_line.is_empty() {
            self.line_comment = own_line.to_string();
        }
        if !compact && !self.key_line.is_empty() {
            if !collection {
                if self.line_comment.is_empty() {
                    self.line_comment = std::mem::take(&mut self.key_line);
                }
            } else if !flow_node {
                let key_line = std::mem::take(&mut self.key_line);
                self.write_line_comment(&key_line);
            }
        }
        // A map's value has its head written by the emitter's first look
        // for a flow collection's entries: inside it (an empty map's too).
        let inner_head = if compact { "" } else { note(st, |n| &n.head) };
        let empty_map = matches!(v, Value::Map(m) if m.is_empty());
        if st.is_some_and(|s| s.flow_for(v)) || (empty_map && !inner_head.is_empty()) {
            self.write_char(' ');
            self.flow(v, st, indent + INDENT, inner_head);
            self.pending_line_comment();
            self.newline();
            return;
        }
        let Some(node) = st else {
            // Nothing below has a style of its own.
            if compact {
                self.compact_value(v, indent);
            } else {
                self.simple_value(v, indent);
            }
            return;
        };
        let head = note(st, |n| &n.head);
        let tag = node.tag_for(v).filter(|_| collection);
        match v {
            Value::Map(m) if !m.is_empty() => {
                self.block_start(tag, compact);
                self.indent_to(indent + INDENT);
                // An item's head was written before its `-`.
                self.styled_map(v, indent + INDENT, node, if compact { "" } else { head });
            }
            Value::Seq(s) if !s.is_empty() => {
                let at = if compact { indent + INDENT } else { indent };
                self.block_start(tag, compact);
                self.indent_to(at);
                self.styled_seq(s, at, node, if compact { "" } else { head });
            }
            _ => {
                self.write_char(' ');
                let at = self.out.len();
                self.styled_scalar(v, indent + INDENT, st, false);
                if self.out.len() == at {
                    // libyaml writes no space before an empty plain scalar.
                    self.out.pop();
                    self.column -= 1;
                }
                self.pending_line_comment();
                self.newline();
                return;
            }
        }
        if !own_line.is_empty() {
            self.line_comment = own_line.to_string();
        }
    }

    /// What comes between a block collection's indicator (`:` or `-`) and
    /// its first entry: its tag, a line comment waiting, and the end of the
    /// line unless the first entry follows a `-` on it.
    fn block_start(&mut self, tag: Option<&str>, compact: bool) {
        if let Some(tag) = tag {
            self.write_char(' ');
            self.write(tag);
        }
        self.pending_line_comment();
        if tag.is_some() || !compact {
            self.newline();
        }
    }

    /// A collection in flow style, with everything inside it and the
    /// comments its nodes hold; `indent` is where goyaml.v3's emitter puts
    /// the lines inside it (two past the block it stands in).
    ///
    /// An item's head goes on lines of its own before it; an item with a
    /// line comment or foot is followed by its `,` at once, then the
    /// comment, which ends the line (the next item starts the next line at
    /// `indent`, a `]` the next line at the enclosing indent, a `}` at its
    /// start). A map's key hands its foot to the next key, or to the `}`.
    fn flow(&mut self, v: &Value, st: Option<&Styled>, indent: usize, head: &str) {
        if matches!(v, Value::Seq(_) | Value::Map(_))
            && let Some(tag) = st.and_then(|s| s.tag_for(v))
        {
            self.write(tag);
            self.write_char(' ');
        }
        let inner = indent + INDENT;
        match v {
            Value::Seq(items) => {
                self.write_char('[');
                if !items.is_empty() && !head.is_empty() {
                    self.flow_comment(head, indent);
                }
                let mut trail = false;
                for (i, item) in items.iter().enumerate() {
                    let item_st = st.and_then(|s| s.item(i));
                    self.flow_entry_start(i, trail, "", note(item_st, |n| &n.head), indent);
                    self.flow(item, item_st, inner, "");
                    trail = self.flow_entry_end(item_st, indent);
                }
                if self.column == 0 {
                    self.indent_to(indent - INDENT);
                }
                self.write_char(']');
            }
            Value::Map(map) => {
                self.write_char('{');
                if !head.is_empty() {
                    self.flow_comment(head, indent);
                }
                let by_key = st.map(Styled::entries_by_key).unwrap_or_default();
                let mut trail = false;
                let mut tail = "";
                for (i, (key, item)) in map.iter().enumerate() {
                    let (key_st, value_st) = by_key.get(key.as_str()).copied().unzip();
                    self.flow_entry_start(i, trail, tail, note(key_st, |n| &n.head), indent);
                    tail = note(key_st, |n| &n.foot);
                    let analysis = analyze_for(key, true);
                    let key_value = Value::String(key.clone());
                    let requested = key_st.and_then(|k| k.scalar_for(&key_value)).map(|(s, _)| s);
                    self.styled_string(key, &analysis, 0, requested, true, true);
                    self.write(": ");
                    self.flow(item, value_st, inner, "");
                    trail = self.flow_entry_end(value_st, indent);
                }
                // The map's end carries the last key's foot and the map's
                // own: with either, the emitter writes a `,` before the `}`
                // (unless a comment after the last entry wrote one).
                if (!tail.is_empty() || !note(st, |n| &n.foot).is_empty())
                    && !trail
                    && !map.is_empty()
                {
                    self.write_char(',');
                }
                if !tail.is_empty() {
                    self.flow_comment(tail, indent);
                    self.foot_indent = Some(indent);
                }
                self.write_char('}');
            }
            scalar => self.styled_scalar(scalar, 0, st, true),
        }
    }

    /// What comes before the entry `i` of a flow collection: the `,` after
    /// the entry before (unless a comment after it wrote one), the foot of
    /// the key before (`tail`) and the entry's head, each on lines of their
    /// own at `indent`, and the space or indent before it.
    fn flow_entry_start(&mut self, i: usize, trail: bool, tail: &str, head: &str, indent: usize) {
        if i > 0 && !trail {
            self.write_char(',');
        }
        if !tail.is_empty() {
            self.flow_comment(tail, indent);
            self.foot_indent = Some(indent);
        }
        if !head.is_empty() {
            self.flow_comment(head, indent);
        }
        if self.column == 0 {
            self.indent_to(indent);
        } else if i > 0 {
            self.write_char(' ');
        }
    }

    /// The line comment and foot of a flow collection's entry: after a `,`
    /// for a scalar (whether it wrote any), at once after a collection's
    /// end, whose `,` comes later.
    fn flow_entry_end(&mut self, st: Option<&Styled>, indent: usize) -> bool {
        let (line, foot) = (note(st, |n| &n.line), note(st, |n| &n.foot));
        if line.is_empty() && foot.is_empty() {
            return false;
        }
        let collection = matches!(st, Some(Styled::Seq { .. } | Styled::Map { .. }));
        if !collection {
            self.write_char(',');
        }
        if !line.is_empty() {
            self.write_line_comment(line);
            self.newline();
        }
        if !foot.is_empty() {
            self.flow_comment(foot, indent);
            self.foot_indent = Some(indent);
        }
        !collection
    }

    /// A comment on lines of its own inside a flow collection, at `indent`.
    fn flow_comment(&mut self, text: &str, indent: usize) {
        if self.column > 0 {
            self.newline();
        }
        self.indent_to(indent);
        self.comment(text, indent);
    }

    /// A scalar (or an empty collection), in the style its node asks for.
    fn styled_scalar(&mut self, v: &Value, indent: usize, st: Option<&Styled>, in_flow: bool) {
        let held = st.and_then(|s| s.scalar_for(v));
        let tag = st.and_then(|s| s.tag_for(v));
        if let Some(tag) = tag {
            self.write(tag);
            self.write_char(' ');
        }
        match (v, held) {
            // A plain string with a tag, read from other text (a timestamp,
            // `!!binary`) or from text that reads as another type (which
            // kiln's reader takes as a string inside a flow collection, where
            // kustomize keeps the node) keeps the text it was written with,
            // quoted where it is empty.
            (Value::String(s), Some((Style::Plain, text)))
                if tag.is_some() || text != s || !matches!(resolve_plain(s), Value::String(_)) =>
            {
                if text.is_empty() {
                    self.write("''");
                } else {
                    self.write(text);
                }
            }
            (Value::String(s), held) => {
                let analysis = analyze_for(s, true);
                let style = held.map(|h| h.0).or_else(|| st.and_then(Styled::string_style));
                self.styled_string(s, &analysis, indent, style, false, in_flow);
            }
            // A number, bool or null keeps the text it was written with.
            (_, Some((Style::Plain, text))) => self.write(text),
            _ => self.scalar_or_empty(v, indent),
        }
    }

    /// A string in the style asked for, or the one goyaml.v3's emitter falls
    /// back to (`yaml_emitter_select_scalar_style`); with none asked for,
    /// the encoder's choice (a literal block for several lines, double
    /// quotes for text that would read as another type).
    fn styled_string(
        &mut self,
        s: &str,
        a: &Analysis,
        indent: usize,
        requested: Option<Style>,
        simple_key: bool,
        in_flow: bool,
    ) {
        let mut style = match requested {
            Some(style @ (Style::Single | Style::Double | Style::Literal | Style::Folded)) => style,
            _ if s.contains('\n') => Style::Literal,
            _ if !matches!(resolve_plain(s), Value::String(_)) => Style::Double,
            _ => Style::Plain,
        };
        if simple_key && a.multiline {
            style = Style::Double;
        }
        if style == Style::Plain {
            let allowed = if in_flow { a.flow_plain } else { a.block_plain };
            if !allowed || (s.is_empty() && (in_flow || simple_key)) {
                style = Style::Single;
            }
        }
        if style == Style::Single && !a.single {
            style = Style::Double;
        }
        if matches!(style, Style::Literal | Style::Folded) && (!a.block || in_flow || simple_key) {
            style = Style::Double;
        }
        let allow_breaks = !simple_key;
        match style {
            Style::Plain => self.plain(s, indent, allow_breaks),
            Style::Single => self.single(s, indent, allow_breaks),
            Style::Double => self.double(s, indent, allow_breaks),
            Style::Literal => self.literal(s, indent),
            Style::Folded => self.folded(s, indent),
        }
    }

    /// goyaml.v3's folded block (`yaml_emitter_write_folded_scalar`). Its
    /// look-ahead for a line that starts with a blank reads from the start
    /// of the text instead of the break, so after every line of text that
    /// does not itself start with a blank it writes an empty line, unless
    /// the text starts with a blank or a break.
    pub(super) fn folded(&mut self, s: &str, indent: usize) {
        let chars: Vec<char> = s.chars().collect();
        self.write_char('>');
        self.block_hints(&chars);
        self.pending_line_comment();
        self.newline();
        let starts_blank = chars.first().is_none_or(|&c| is_blank(c) || is_break(c));
        let (mut breaks, mut leading_spaces) = (true, true);
        for &c in &chars {
            if is_break(c) {
                if !breaks && !leading_spaces && c == '\n' && !starts_blank {
                    self.newline();
                }
                self.write_break(c);
                breaks = true;
            } else {
                if breaks {
                    self.indent_to(indent);
                    leading_spaces = is_blank(c);
                }
                self.write_char(c);
                breaks = false;
            }
        }
        // As after a literal block: the caller ends the line.
        if self.column == 0 && self.out.ends_with('\n') {
            self.out.pop();
            self.column = 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    fn dump(src: &str, path: &[Step]) -> String {
        let value = parse_documents(src, "t").unwrap().remove(0);
        let styles = Styled::parse(src).unwrap();
        let mut node = &value;
        for step in path {
            node = match step {
                Step::Key(k) => node.get_path(&[k.as_str()]).unwrap(),
                Step::Index(i) => &node.as_seq().unwrap()[*i],
            };
        }
        node_to_string_styled(node, styles.at(path))
    }

    #[test]
    fn keeps_the_styles_the_text_wrote() {
        // Recorded from `kubectl kustomize` (kustomize v5.5): a field spec
        // that ends at this map.
        let src = "spec:\n  template:\n    spec:\n      containers: [{name: c, image: \"nginx\", args: ['a', b]}]\n      ports: {http: 80, \"x\": 'y'}\n      lit: |\n        one\n        two\n      fold: >\n        folded\n        text\n      q: \"text\"\n      sq: 'text'\n      n: 012\n      empty: []\n      emptym: {}\n      nested:\n        - [1, 2]\n        - {a: [x]}\n";
        let want = "spec:\n  containers: [{name: c, image: \"nginx\", args: ['a', b]}]\n  ports: {http: 80, \"x\": 'y'}\n  lit: |\n    one\n    two\n  fold: >\n    folded text\n\n  q: \"text\"\n  sq: 'text'\n  n: 012\n  empty: []\n  emptym: {}\n  nested:\n  - [1, 2]\n  - {a: [x]}\n";
        assert_eq!(dump(src, &[Step::Key("spec".into()), Step::Key("template".into())]), want);
    }

    #[test]
    fn json_stays_flow() {
        let src = "{\"spec\": {\"template\": {\"spec\": {\"n\": 1.5, \"e\": [], \"c\": [{\"name\": \"c\"}]}}}}\n";
        let want = "{\"spec\": {\"n\": 1.5, \"e\": [], \"c\": [{\"name\": \"c\"}]}}\n";
        assert_eq!(dump(src, &[Step::Key("spec".into()), Step::Key("template".into())]), want);
    }
}
