//! kustomize's hash input for a generated object whose kind is no longer ConfigMap or Secret: Go's JSON of its yaml.Node tree.
//!
//! kustomize hashes a ConfigMap or Secret by its data; any other kind (a
//! generated ConfigMap a patch turned into a custom kind) by
//! `encoding/json` of the object's yaml.v3 node tree: every node's kind,
//! style, tag, text, children, comments ([`comments`]), line and column,
//! after kyaml's `DeAnchor` (aliases become the nodes they name, merge keys
//! the fields they bring). Line and column
//! depend on the text the node was parsed from, so kiln follows the tree
//! from where kustomize made it:
//! - a generator parses a two-line template (`apiVersion`, `kind`) and
//!   adds the rest with setters ([`Start::Generated`]);
//! - a JSON patch rebuilds the object by printing its JSON as YAML (keys
//!   sorted, numbers as float64) and parsing that text, so kiln keeps the
//!   object as the patch left it
//!   ([`crate::resource::Resource::json_rebuilt`]) and prints and parses it
//!   the same way ([`Start::Rebuilt`]).
//!
//! Later changes are laid over the tree as kustomize's setters make them: a
//! changed scalar becomes a node without position or tag (keeping its
//! style), except where a replacement changed only its text; a new field a
//! node without position appended to its map; build annotations set by
//! kyaml's `AnnotationSetter` single-quoted, in place or appended.
//! Strategic merge patches bring nodes from their own text: kiln records
//! each ([`crate::resource::MergedPatch`]) and replays kyaml's merge walk
//! over the trees ([`merge`]), checking the result against the data kiln's
//! own merge gave. A tree kiln cannot place (lists merged by a schema's
//! keys, patches with comments or several documents) is hashed by the
//! object's JSON, which differs from kustomize's hash.

mod comments;
mod merge;

use super::patch::DEFINITIONS_REF;
use super::patch::FieldComment;
use crate::resource::{GeneratorMerge, MergedPatch, SourceText, Step};
use crate::value::{Map, Value};
use crate::yaml;
use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};
use std::borrow::Cow;
use std::collections::HashMap;

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
/// yaml.v3's style bit of a node written with an explicit tag.
const TAGGED: u8 = 1;

/// One yaml.v3 node, as far as kustomize's objects use its fields (no
/// anchors or aliases survive kyaml's `DeAnchor`).
#[derive(Debug, Clone, PartialEq, Default)]
struct Node {
    kind: u8,
    style: u8,
    tag: Cow<'static, str>,
    value: String,
    content: Option<Vec<Node>>,
    line: usize,
    column: usize,
    /// A collection a field was cleared from until it had no children: its
    /// list of them is empty rather than missing.
    cleared: bool,
    /// yaml.v3's `HeadComment`, `LineComment` and `FootComment`.
    notes: Option<Box<comments::Notes>>,
    /// Where a node read from text is in it (bytes); empty for one a setter
    /// made.
    span: std::ops::Range<usize>,
    /// A copy of an anchored node an alias stands for: its children's
    /// spans are the anchored node's.
    copied: bool,
    /// Where the anchored node an alias's copy stands for is in the text.
    anchored: Option<std::ops::Range<usize>>,
}

impl Node {
    /// A node made by kyaml's setters: no tag, no position.
    fn made(kind: u8, value: String, content: Option<Vec<Node>>) -> Node {
        let tag = Cow::Borrowed("");
        Node { kind, tag, value, content, ..Node::default() }
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
        Node { style, tag: Cow::Borrowed("!!str"), ..Node::made(SCALAR, s.to_string(), None) }
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

/// What replacements wrote into an object: the scalars they gave new text
/// in place (`kept`, each with the number of patches merged before); the
/// object's scalar texts (see [`crate::resource::Resource::scalar_texts`]):
/// kyaml's node holds the text a replacement copied (`0x10` in an int node
/// or a field it created), where kiln writes the value (`16`); and the
/// fields without a tag (see [`crate::resource::Resource::untagged`]).
pub(super) struct Replaced<'a> {
    pub kept: &'a [(usize, Vec<Step>)],
    /// The annotations among `kept`, with the text each held before (see
    /// [`crate::resource::Resource::kept_note_texts`]).
    pub kept_note_texts: &'a [(String, String)],
    pub texts: &'a [(Vec<Step>, String)],
    pub untagged: &'a [Vec<Step>],
}

/// [`Replaced::texts`] by path.
type Texts<'a> = HashMap<&'a [Step], &'a str>;

/// [`Replaced`] as [`merge_patches`] follows it, with the annotations a
/// replacement created ([`made_notes`]).
struct Written<'a> {
    kept: &'a [(usize, Vec<Step>)],
    kept_note_texts: &'a [(String, String)],
    texts: &'a Texts<'a>,
    created: &'a [&'a str],
}

/// The annotations a replacement created: kyaml appended each to the map
/// as a node without tag or style, holding the text it copied.
fn made_notes(untagged: &[Vec<Step>]) -> Vec<&str> {
    untagged
        .iter()
        .filter_map(|p| match p.as_slice() {
            [Step::Key(m), Step::Key(a), Step::Key(k)] if m == "metadata" && a == "annotations" => {
                Some(k.as_str())
            }
            _ => None,
        })
        .collect()
}

/// The node kyaml sets for an annotation `key` of the object's own, which
/// the build added with the value `v`: one a replacement created (in
/// `created`) as it made it, any other a string node.
fn own_note(key: &str, v: &str, created: &[&str]) -> Node {
    if created.contains(&key) { Node::made(SCALAR, v.to_string(), None) } else { Node::string(v) }
}

/// The text of the scalar node at `at` that holds `v`: the one noted there
/// when it still reads as `v`, else the text kyaml writes for `v`.
fn text_at(texts: &Texts<'_>, at: &[Step], v: &Value) -> String {
    let noted = texts.get(at).filter(|t| {
        crate::resource::reads_as(t, v)
            || crate::yaml::resolve::parse_timestamp(t)
                .is_some_and(|ts| v.as_str() == Some(ts.rfc3339().as_str()))
    });
    noted.map_or_else(|| scalar_text(v), |t| t.to_string())
}

/// The node tree kustomize held for an object when kiln starts following it.
pub(super) enum Start<'a> {
    /// The object a JSON patch left, with the annotations it then had:
    /// kustomize printed its JSON as YAML and parsed that text.
    Rebuilt(&'a Value),
    /// The object a `configMapGenerator` or `secretGenerator` made, before
    /// its build annotations: kustomize made it with setters over a
    /// two-line template; and what a merge into an earlier object set over
    /// it, if it took that object's place.
    Generated(&'a Value, Option<&'a GeneratorMerge>),
    /// An object as read from a document of a file (one whose annotation
    /// asks for a hash suffix): its nodes are the file's, placed where the
    /// file has them.
    Read(&'a Value, &'a SourceText),
}

/// The JSON kustomize hashes for `current`, an object whose node tree
/// began as `start`, whose annotations at hash time are its own plus
/// `internal`, into which kustomize then merged `patches`, and into which
/// replacements wrote `replaced` (`set_anew`: kustomize has set the
/// annotations anew since, as it does while it tracks origins); `None` when
/// the text does not parse or the tree is one kiln cannot place node by
/// node.
pub(super) fn hash_input(
    start: Start<'_>,
    current: &Value,
    internal: &[(String, String)],
    added: &[String],
    patches: &[MergedPatch],
    replaced: &Replaced<'_>,
    set_anew: bool,
) -> Option<String> {
    let texts: Texts<'_> = replaced.texts.iter().map(|(p, t)| (p.as_slice(), t.as_str())).collect();
    let kept = replaced.kept;
    let created = made_notes(replaced.untagged);
    let written = Written {
        kept,
        kept_note_texts: replaced.kept_note_texts,
        texts: &texts,
        created: &created,
    };
    let mut root = match start {
        Start::Rebuilt(rebuilt) => {
            let mut root = parse_tree(&yaml::to_string(rebuilt))?;
            if patches.is_empty() {
                overlay(&mut root, rebuilt, current, &stage(kept, 0), &mut Vec::new(), &texts);
                set_annotations(&mut root, rebuilt, current, internal, added, &created);
            } else {
                // After the JSON patch kustomize set the annotations again.
                merge::set_meta_map(&mut root, "annotations", &notes_of(rebuilt, &[]));
                merge_patches(&mut root, rebuilt, current, internal, added, patches, &written)?;
            }
            root
        }
        Start::Generated(generated, None) => {
            let mut root = generator_tree(generated, internal)?;
            merge_patches(&mut root, generated, current, internal, added, patches, &written)?;
            root
        }
        Start::Generated(generated, Some(m)) => {
            let mut root = generator_tree(generated, &m.generated_notes)?;
            set_merged(&mut root, m);
            merge_patches(&mut root, &m.merged, current, internal, added, patches, &written)?;
            root
        }
        Start::Read(read, text) => {
            // kio splits a file at each line that starts with `---` and
            // decodes each piece on its own: lines and columns count from
            // the piece's start, which is where the object's text starts.
            let mut root = parse_tree(text.file.get(text.range.clone())?)?;
            merge_patches(&mut root, read, current, internal, added, patches, &written)?;
            root
        }
    };
    if set_anew {
        merge::set_meta_map(&mut root, "annotations", &notes_of(current, internal));
    }
    let mut out = String::new();
    dump(&mut out, &root);
    Some(out)
}

/// The node tree of a generated ConfigMap or Secret as kustomize's
/// generator leaves it: the template `apiVersion: v1` / `kind: K` parsed
/// from its second line; `metadata` made by setters (name, namespace, the
/// options' labels single-quoted in key order); for a Secret its `type`;
/// each entry, in key order, a string node in `data` (or a ConfigMap's
/// `binaryData`), the map made by the first entry that goes there;
/// `immutable` a bool node; and last the annotations, which the factory
/// set again when it marked the object (the options' and its build
/// annotations `generatorBehavior` and `needsHashSuffix`, sorted).
fn generator_tree(generated: &Value, internal: &[(String, String)]) -> Option<Node> {
    let text = |path: &[&str]| generated.get_path(path).map(scalar_text);
    let kind = text(&["kind"])?;
    let secret = kind == "Secret";
    let mut root = parse_tree(&format!("\napiVersion: v1\nkind: {kind}\n"))?;
    let meta = merge::lookup_create(&mut root, "metadata");
    merge::set_field(meta, "name", Node::string(&text(&["metadata", "name"])?));
    if let Some(ns) = text(&["metadata", "namespace"]) {
        merge::set_field(meta, "namespace", Node::string(&ns));
    }
    let entries = |path: &[&str]| -> Vec<(String, String)> {
        generated
            .get_path(path)
            .and_then(Value::as_map)
            .into_iter()
            .flatten()
            .map(|(k, v)| (k.clone(), scalar_text(v)))
            .collect()
    };
    let mut labels = entries(&["metadata", "labels"]);
    labels.sort();
    if !labels.is_empty() {
        let map = merge::lookup_create(meta, "labels");
        for (k, v) in labels {
            merge::set_field(map, &k, Node { style: SINGLE_QUOTED, ..Node::string(&v) });
        }
    }
    if secret {
        let t = text(&["type"]).unwrap_or_default();
        merge::set_field(&mut root, "type", Node::string(&t));
    }
    let mut data: Vec<(&str, String, String)> = ["data", "binaryData"]
        .into_iter()
        .flat_map(|field| entries(&[field]).into_iter().map(move |(k, v)| (field, k, v)))
        .collect();
    data.sort_by(|a, b| a.1.cmp(&b.1));
    if secret && data.is_empty() && generated.get_path(&["data"]).is_some() {
        merge::lookup_create(&mut root, "data");
    }
    for (field, k, v) in data {
        merge::set_field(merge::lookup_create(&mut root, field), &k, Node::string(&v));
    }
    if generated.get_path(&["immutable"]).is_some_and(|v| *v == Value::Bool(true)) {
        let node = Node { tag: Cow::Borrowed("!!bool"), ..Node::made(SCALAR, "true".into(), None) };
        merge::set_field(&mut root, "immutable", node);
    }
    let mut notes = entries(&["metadata", "annotations"]);
    notes.extend(
        internal
            .iter()
            .filter(|(k, _)| {
                let key = k.strip_prefix(super::build_annotations::PREFIX).unwrap_or("");
                matches!(key, "generatorBehavior" | "needsHashSuffix")
            })
            .cloned(),
    );
    merge::set_meta_map(&mut root, "annotations", &notes);
    Some(root)
}

/// kustomize's merge of a generated object into the earlier one it
/// replaces, over the new object's tree: the labels and then the
/// annotations set anew (the earlier object's under the new one's, with
/// the earlier object's build annotations), the name and namespace set,
/// and for `behavior: merge` `data` and then `binaryData` cleared and,
/// when they hold entries, made anew at the end of the object.
fn set_merged(root: &mut Node, m: &GeneratorMerge) {
    let entries = |path: &[&str]| -> Vec<(String, String)> {
        let map = m.merged.get_path(path).and_then(Value::as_map);
        map.into_iter().flatten().map(|(k, v)| (k.clone(), scalar_text(v))).collect()
    };
    merge::set_meta_map(root, "labels", &entries(&["metadata", "labels"]));
    let mut notes = entries(&["metadata", "annotations"]);
    notes.extend(m.notes.iter().cloned());
    merge::set_meta_map(root, "annotations", &notes);
    for key in ["name", "namespace"] {
        let text = m.merged.get_path(&["metadata", key]).map(scalar_text).unwrap_or_default();
        merge::set_meta_scalar(root, key, &text);
    }
    if !m.data {
        return;
    }
    for field in ["data", "binaryData"] {
        merge::clear_field(root, field);
        let mut data = entries(&[field]);
        if data.is_empty() {
            continue;
        }
        data.sort();
        let map = merge::lookup_create(root, field);
        for (k, v) in data {
            merge::set_field(map, &k, Node::string(&v));
        }
    }
}

/// The node tree of a one-document YAML text, as yaml.v3 reads it.
fn parse_tree(text: &str) -> Option<Node> {
    let mut parser = Parser::new_from_str(text);
    while let Some(Ok((event, span))) = parser.next_event() {
        if matches!(event, Event::MappingStart(..) | Event::SequenceStart(..) | Event::Scalar(..)) {
            let offsets = (!text.is_ascii()).then(|| text.char_indices().map(|(i, _)| i).collect());
            let mut reader =
                Reader { parser, text, offsets, anchors: HashMap::new(), last_at: 0, last_line: 0 };
            let mut root = reader.read(event, &span)?;
            // The comments are placed with the merge keys where the text
            // has them; kyaml's `DeAnchor` then drops those keys with theirs.
            comments::attach(&mut root, text);
            expand_merge_keys(&mut root);
            return Some(root);
        }
    }
    None
}

/// The annotations of an object as kustomize holds them: its own (as
/// their text) and `internal`, the build annotations.
pub(super) fn notes_of(object: &Value, internal: &[(String, String)]) -> Vec<(String, String)> {
    let own = object.get_path(&["metadata", "annotations"]).and_then(Value::as_map);
    let mut notes: Vec<(String, String)> =
        own.into_iter().flatten().map(|(k, v)| (k.clone(), scalar_text(v))).collect();
    notes.extend(internal.iter().cloned());
    notes
}

/// Whether two annotation lists hold the same entries.
fn same_notes(a: &[(String, String)], b: &[(String, String)]) -> bool {
    let sorted = |v: &[(String, String)]| {
        let mut v = v.to_vec();
        v.sort();
        v.dedup();
        v
    };
    sorted(a) == sorted(b)
}

/// The object without `metadata.annotations`, which the merge walk tracks
/// on its own.
fn without_notes(object: &Value) -> Value {
    let mut v = object.clone();
    if let Some(meta) = v.get_path_mut(&["metadata"]).and_then(Value::as_map_mut) {
        meta.shift_remove("annotations");
    }
    v
}

/// The `metadata` map of a tree.
fn metadata(root: &Node) -> Option<&Node> {
    merge::field(root, "metadata")
}

/// The `metadata` map of a tree, to change.
fn metadata_mut(root: &mut Node) -> Option<&mut Node> {
    let c = root.content.as_mut()?;
    let i = c.chunks(2).position(|pair| pair[0].value == "metadata")?;
    c.get_mut(2 * i + 1)
}

/// Lays the changes from `was` to `now` (neither with annotations) over the
/// tree, leaving its annotations map where it is.
fn overlay_kept_notes(
    root: &mut Node,
    was: &Value,
    now: &Value,
    kept: &[&[Step]],
    texts: &Texts<'_>,
) {
    let meta_at = root
        .content
        .as_ref()
        .and_then(|c| c.chunks(2).position(|pair| pair[0].value == "metadata").map(|i| 2 * i + 1));
    let taken = meta_at.and_then(|m| {
        let meta = root.content.as_mut()?.get_mut(m)?;
        let content = meta.content.as_mut()?;
        let i = content.chunks(2).position(|pair| pair[0].value == "annotations")?;
        Some((i, content.drain(2 * i..2 * i + 2).collect::<Vec<_>>()))
    });
    let before = metadata(root).cloned();
    overlay(root, was, now, kept, &mut Vec::new(), texts);
    // kustomize's transformers write a namespace and label values as
    // string nodes; the setters around a patch do not.
    if let Some(meta) = metadata_mut(root).and_then(|m| m.content.as_mut()) {
        let old = before.as_ref().and_then(|m| m.content.as_ref());
        let unchanged = |key: &str, at: Option<usize>, v: &Node| {
            let Some(old) = old else { return false };
            let i = old.chunks(2).position(|pair| pair[0].value == key);
            let field = i.and_then(|i| old.get(2 * i + 1));
            match at {
                None => field == Some(v),
                Some(j) => field
                    .and_then(|f| f.content.as_ref())
                    .and_then(|c| c.get(j))
                    .is_some_and(|n| n == v),
            }
        };
        let mut fresh = Vec::new();
        for pair in meta.chunks(2) {
            let [key, value] = pair else { continue };
            match (key.value.as_str(), value.content.as_ref()) {
                ("namespace", None) if !unchanged("namespace", None, value) => {
                    fresh.push((key.value.clone(), None));
                }
                ("labels", Some(entries)) => {
                    for j in (1..entries.len()).step_by(2) {
                        if !unchanged("labels", Some(j), &entries[j]) {
                            fresh.push((key.value.clone(), Some(j)));
                        }
                    }
                }
                _ => {}
            }
        }
        for (key, at) in fresh {
            let Some(i) = meta.chunks(2).position(|pair| pair[0].value == key) else { continue };
            let v = match at {
                None => meta.get_mut(2 * i + 1),
                Some(j) => meta
                    .get_mut(2 * i + 1)
                    .and_then(|m| m.content.as_mut())
                    .and_then(|c| c.get_mut(j)),
            };
            if let Some(v) = v.filter(|v| v.line == 0 && v.kind == SCALAR) {
                *v = Node::string(&v.value);
            }
        }
    }
    if let Some((i, pair)) = taken
        && let Some(meta) = root.content.as_mut().and_then(|c| {
            let at = c.chunks(2).position(|pair| pair[0].value == "metadata")?;
            c.get_mut(2 * at + 1)
        })
        && let Some(content) = meta.content.as_mut()
    {
        let i = (2 * i).min(content.len());
        content.splice(i..i, pair);
    }
}

/// Whether the tree holds the data of `value` (annotations aside).
fn agrees(node: &Node, value: &Value) -> bool {
    match (value, node.kind, node.content.as_ref()) {
        (Value::Map(m), MAPPING, content) => {
            let pairs: Vec<&[Node]> = content.map_or(Vec::new(), |c| c.chunks(2).collect());
            pairs.len() == m.len()
                && pairs.iter().all(|pair| match pair {
                    [k, v] => m.get(&k.value).is_some_and(|want| agrees(v, want)),
                    _ => false,
                })
        }
        (Value::Seq(items), SEQUENCE, content) => {
            let nodes = content.map_or(&[][..], Vec::as_slice);
            nodes.len() == items.len() && nodes.iter().zip(items).all(|(n, v)| agrees(n, v))
        }
        (Value::Null, SCALAR, _) => node.tag == "!!null" || node.value == "null",
        (v, SCALAR, _) if !matches!(v, Value::Map(_) | Value::Seq(_)) => {
            let text = scalar_text(v);
            // A plain timestamp's node keeps its text; the data holds it
            // as RFC 3339.
            // A replacement's text (`0x10`) reads as the data (`16`).
            node.value == text
                || crate::resource::reads_as(&node.value, v)
                || (node.tag == "!!timestamp"
                    && crate::yaml::resolve::parse_timestamp(&node.value)
                        .is_some_and(|t| t.rfc3339() == text))
        }
        _ => false,
    }
}

/// Whether the tree holds `value` except its annotations.
fn agrees_without_notes(root: &Node, value: &Value) -> bool {
    let mut tree = root.clone();
    if let Some(i) =
        tree.content.as_ref().and_then(|c| c.chunks(2).position(|pair| pair[0].value == "metadata"))
        && let Some(meta) = tree.content.as_mut().and_then(|c| c.get_mut(2 * i + 1))
    {
        merge::clear_field(meta, "annotations");
    }
    agrees(&tree, &without_notes(value))
}

/// The tree after kustomize merged `patches` into the object a JSON patch
/// rebuilt, with the setters that ran between and after them.
fn merge_patches(
    root: &mut Node,
    rebuilt: &Value,
    current: &Value,
    internal: &[(String, String)],
    added: &[String],
    patches: &[MergedPatch],
    written: &Written<'_>,
) -> Option<()> {
    let Written { kept, kept_note_texts, texts, created } = *written;
    let mut was = without_notes(rebuilt);
    for (i, p) in patches.iter().enumerate() {
        overlay_kept_notes(root, &was, &without_notes(&p.before), &stage(kept, i), texts);
        if let Some(notes) = &p.notes_set_anew {
            merge::set_meta_map(root, "annotations", notes);
        } else if !same_notes(&merge::meta_strings(root, "annotations"), &p.notes) {
            // The transformers before the patch set their annotations (a
            // prefix's build annotations) as they do after the last one.
            later_notes(root, &p.notes, &stage(kept, i), kept_note_texts, internal, added, created);
        }
        if p.notes_rebuilt {
            store_previous_id(root, &p.notes);
        }
        if !same_notes(&merge::meta_strings(root, "annotations"), &p.notes) {
            return None;
        }
        let patch = patch_copy(p.text.as_deref()?, p)?;
        let name = p.before.get_path(&["metadata", "name"]).map(scalar_text).unwrap_or_default();
        let namespace =
            p.before.get_path(&["metadata", "namespace"]).map(scalar_text).unwrap_or_default();
        let kind = p.before.get_path(&["kind"]).map(scalar_text).unwrap_or_default();
        let taken = std::mem::replace(root, Node::made(MAPPING, String::new(), None));
        // A patch that deletes the object leaves nothing to hash.
        *root = merge::merge(Some(taken), Some(patch), p.by_schema).ok()??;
        // kustomize puts back what the patch may not change.
        if !p.allowed.1 {
            merge::set_top_scalar(root, "kind", &kind);
        }
        if !p.allowed.0 {
            merge::set_meta_scalar(root, "name", &name);
        }
        merge::set_meta_scalar(root, "namespace", &namespace);
        if !agrees_without_notes(root, &p.after) {
            return None;
        }
        was = without_notes(&p.after);
    }
    overlay_kept_notes(root, &was, &without_notes(current), &stage(kept, patches.len()), texts);
    let want = notes_of(current, internal);
    if !same_notes(&merge::meta_strings(root, "annotations"), &want) {
        later_notes(
            root,
            &want,
            &stage(kept, patches.len()),
            kept_note_texts,
            internal,
            added,
            created,
        );
    }
    Some(())
}

/// kustomize's `StorePreviousId` before a patch that may rename: kyaml's
/// `AnnotationSetter` sets `previousNames`, `previousNamespaces` and
/// `previousKinds` in turn, each a single-quoted string node replacing the
/// value of a key the map has (in its style) or appended to it.
fn store_previous_id(root: &mut Node, notes: &[(String, String)]) {
    let Some(meta) = metadata_mut(root) else { return };
    let map = merge::lookup_create(meta, "annotations");
    for key in ["previousNames", "previousNamespaces", "previousKinds"] {
        let key = format!("{}{key}", super::build_annotations::PREFIX);
        if let Some((_, v)) = notes.iter().rev().find(|(k, _)| *k == key) {
            merge::set_field(map, &key, Node { style: SINGLE_QUOTED, ..Node::string(v) });
        }
    }
}

/// The annotations changed after the last patch, as kustomize's later
/// transformers set them: a value that changed is replaced in place, one
/// that went is removed, and a new one is appended in the order it came,
/// single-quoted when it is one of kustomize's build annotations, as
/// made when a replacement created it (`created`, see [`own_note`]).
fn later_notes(
    root: &mut Node,
    want: &[(String, String)],
    kept: &[&[Step]],
    kept_note_texts: &[(String, String)],
    internal: &[(String, String)],
    added: &[String],
    created: &[&str],
) {
    let Some(meta) = metadata_mut(root) else { return };
    let map = merge::lookup_create(meta, "annotations");
    let have: Vec<String> =
        map.content.iter().flatten().step_by(2).map(|k| k.value.clone()).collect();
    for key in &have {
        match want.iter().rev().find(|(k, _)| k == key) {
            Some((_, v)) => {
                if merge::field(map, key).is_some_and(|n| n.value != *v) {
                    let at = [
                        Step::Key("metadata".into()),
                        Step::Key("annotations".into()),
                        Step::Key(key.clone()),
                    ];
                    if kept.contains(&&at[..]) {
                        // A replacement changes only the node's text.
                        if let Some(node) = merge::field_mut(map, key) {
                            node.value = v.clone();
                        }
                    } else {
                        merge::set_field(map, key, Node::string(v));
                    }
                }
            }
            None => merge::clear_field(map, key),
        }
    }
    let mut new: Vec<&(String, String)> = want.iter().filter(|(k, _)| !have.contains(k)).collect();
    // kustomize's `StorePreviousId` appends the names, then the namespaces,
    // then the kinds.
    let stored = |k: &str| {
        let key = k.strip_prefix(super::build_annotations::PREFIX).unwrap_or("");
        ["previousNames", "previousNamespaces", "previousKinds"].iter().position(|p| *p == key)
    };
    new.sort_by_key(|(k, _)| (added.iter().position(|a| a == k).unwrap_or(usize::MAX), stored(k)));
    for (k, v) in new {
        let mut node = own_note(k, v, created);
        // A setter made the node for the text it had then, and a
        // replacement changed only that text.
        if let Some((_, old)) = kept_note_texts.iter().find(|(key, _)| key == k)
            && !created.contains(&k.as_str())
        {
            node = Node { value: v.clone(), ..Node::string(old) };
        }
        if k == super::build::ORIGIN {
            // kustomize stamps the origin of an object it reads with the
            // annotations filter's setter: a plain string node, though its
            // text spans lines.
            node.style = 0;
        } else if internal.iter().any(|(ik, _)| ik == k) {
            node.style = SINGLE_QUOTED;
        }
        merge::set_field(map, k, node);
    }
}

/// The patch as kustomize merges it: for a targeted patch, a copy with its
/// labels and annotations set again, its name and namespace set by
/// setters and the target's kind and apiVersion set, then its own kind.
fn patch_copy(text: &str, p: &MergedPatch) -> Option<Node> {
    let mut patch = parse_tree(text)?;
    if patch.kind != MAPPING {
        return None;
    }
    let mut notes = merge::meta_strings(&patch, "annotations");
    for (allowed, key) in [(p.allowed.0, "allowNameChange"), (p.allowed.1, "allowKindChange")] {
        if allowed {
            notes.push((format!("internal.config.kubernetes.io/{key}"), "enabled".into()));
        }
    }
    if p.targeted {
        let labels = merge::meta_strings(&patch, "labels");
        merge::set_meta_map(&mut patch, "labels", &labels);
        merge::set_meta_map(&mut patch, "annotations", &notes);
        let meta_text = |key: &str| {
            merge::field(&patch, "metadata")
                .and_then(|m| merge::field(m, key))
                .map(|n| n.value.clone())
                .unwrap_or_default()
        };
        let (name, namespace) = (meta_text("name"), meta_text("namespace"));
        let own_kind = merge::field(&patch, "kind").map(|n| n.value.clone()).unwrap_or_default();
        merge::set_meta_scalar(&mut patch, "name", &name);
        merge::set_meta_scalar(&mut patch, "namespace", &namespace);
        let target = |key: &str| p.before.get_path(&[key]).map(scalar_text).unwrap_or_default();
        merge::set_top_scalar(&mut patch, "kind", &target("kind"));
        merge::set_top_scalar(&mut patch, "apiVersion", &target("apiVersion"));
        merge::set_top_scalar(&mut patch, "kind", &own_kind);
    } else if p.allowed.0 || p.allowed.1 {
        merge::set_meta_map(&mut patch, "annotations", &notes);
    }
    Some(patch)
}

/// Turns the namespace and label values setters made in a `metadata`
/// map's children into string nodes.
fn string_fields(meta: &mut [Node]) {
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
}

/// The styles of a document's nodes ([`yaml::Styled`]) with the comments
/// yaml.v3 attaches to them, which kyaml's dump of a node in a message
/// prints. Only a text with a `#` is read a second time, into the node tree
/// the comments are placed on.
pub(crate) fn styles_with_comments(text: &str) -> Option<yaml::Styled> {
    let mut styled = yaml::Styled::parse(text)?;
    if text.contains('#')
        && let Some(tree) = parse_tree(text)
    {
        lay_notes(&mut styled, &tree);
    }
    Some(styled)
}

/// Gives each node of `styled` the comments of its node in `node`, the
/// tree of the same text: a map's entries by key, a list's items in order.
fn lay_notes(styled: &mut yaml::Styled, node: &Node) {
    use yaml::Styled;
    let content = node.content.as_deref().unwrap_or_default();
    match styled {
        Styled::Scalar { notes, .. } => *notes = node.notes.clone(),
        Styled::Seq { items, notes, .. } => {
            *notes = node.notes.clone();
            for (item, n) in items.iter_mut().zip(content) {
                lay_notes(item, n);
            }
        }
        Styled::Map { entries, notes, .. } => {
            *notes = node.notes.clone();
            // A key given twice has the comments of its own place.
            let pairs: Vec<&[Node]> = content.chunks(2).collect();
            let same_keys = pairs.len() == entries.len()
                && pairs.iter().zip(entries.iter()).all(|(p, (key, _))| {
                    matches!(key, Styled::Scalar { text, .. } if p[0].kind == SCALAR && p[0].value == *text)
                });
            for (i, (key, value)) in entries.iter_mut().enumerate() {
                let Styled::Scalar { text, .. } = &*key else { continue };
                let pair = if same_keys {
                    pairs.get(i).copied()
                } else {
                    pairs.iter().rev().find(|p| p[0].kind == SCALAR && p[0].value == *text).copied()
                };
                if let Some([k, v]) = pair {
                    lay_notes(key, k);
                    lay_notes(value, v);
                }
            }
        }
        Styled::Other => {}
    }
}

/// yaml.v3's reading of one document's events into nodes: aliases become
/// copies of the nodes they name, as kyaml's `DeAnchor` leaves them.
struct Reader<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    text: &'a str,
    /// The nodes read so far that carry an anchor, by the parser's id.
    anchors: HashMap<usize, Node>,
    /// The byte offset of each character of a text that is not ASCII
    /// (the parser counts characters).
    offsets: Option<Vec<usize>>,
    /// Where in the text the node read last starts, as yaml.v3 places it,
    /// and its line.
    last_at: usize,
    last_line: usize,
}

impl Reader<'_> {
    /// The node an event starts, with its children.
    /// The byte offset of the parser's character index `index`.
    fn byte(&self, index: usize) -> usize {
        match &self.offsets {
            Some(offsets) => offsets.get(index).copied().unwrap_or(self.text.len()),
            None => index.min(self.text.len()),
        }
    }

    fn read(&mut self, event: Event<'_>, span: &Span) -> Option<Node> {
        let text = self.text;
        let mut at = self.byte(span.start.index());
        let end = self.byte(span.end.index());
        let (mut line, mut column) = (span.start.line(), span.start.col() + 1);
        // A node's tag and anchor come before it.
        let body = after_properties(text, at);
        // Where the node's own text starts (a block scalar's indicator).
        let mut own = at;
        if let Event::Scalar(_, ScalarStyle::Literal | ScalarStyle::Folded, _, _) = event {
            // yaml.v3 places a block scalar at its `|` or `>` (or the tag
            // or anchor before), the parser at its first line unless a tag
            // or anchor comes first.
            let indicator = if text[body..].starts_with(['|', '>']) {
                own = body;
                Some(at)
            } else {
                text[..at].rfind(['|', '>']).inspect(|&i| own = i)
            };
            if let Some(i) = indicator {
                let start = text[..i].rfind('\n').map_or(0, |n| n + 1);
                line -= text[i..at].matches('\n').count();
                column = text[start..i].chars().count() + 1;
            }
        }
        if let Event::Scalar(v, ScalarStyle::Plain, _, None) = &event
            && v.is_empty()
            && text[at..].starts_with(':')
        {
            // libyaml places an empty value after the colon before it.
            column += 1;
        }
        let mut flow = if text[body..].starts_with(['{', '[']) { FLOW } else { 0 };
        if matches!(event, Event::SequenceStart(..)) && flow == 0 {
            // yaml.v3 places a block sequence at its first `-`, the parser at
            // its first item (which may start with a `-` of its own: `--a`),
            // or where the line ends for an empty one, past a comment.
            let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            let row = &text[line_start..at];
            let before = row.find(" #").map_or(row, |h| &row[..h]).trim_end_matches(' ');
            if before.ends_with('-') && !is_item_dash(&text[at..]) {
                at = line_start + before.len() - 1;
                column = before.chars().count();
            }
        }
        let (anchor, explicit) = match &event {
            Event::Scalar(_, _, anchor, tag)
            | Event::MappingStart(anchor, tag)
            | Event::SequenceStart(anchor, tag) => (*anchor, tag.as_deref().and_then(short_tag)),
            Event::Alias(id) => {
                let node = self.anchors.get(id)?;
                let anchored = Some(node.span.clone());
                return Some(Node { span: at..end, copied: true, anchored, ..node.clone() });
            }
            _ => return None,
        };
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
                    tag: Cow::Borrowed(tag),
                    value: value.into_owned(),
                    line,
                    column,
                    span: own..end.max(own),
                    ..Node::default()
                }
            }
            Event::MappingStart(..) | Event::SequenceStart(..) => {
                let (kind, tag) = if matches!(event, Event::MappingStart(..)) {
                    (MAPPING, "!!map")
                } else {
                    (SEQUENCE, "!!seq")
                };
                let mut content = Vec::new();
                let end = loop {
                    let (ev, sp) = self.parser.next_event()?.ok()?;
                    if matches!(ev, Event::MappingEnd | Event::SequenceEnd) {
                        break self.byte(sp.end.index());
                    }
                    // The parser places a block sequence whose first item
                    // is a block sequence where that one starts: yaml.v3 at
                    // the `-` before.
                    if kind == SEQUENCE
                        && flow != 0
                        && content.is_empty()
                        && matches!(ev, Event::SequenceStart(..) | Event::MappingStart(..))
                        && sp.start.index() == span.start.index()
                    {
                        // A block sequence whose first item is a flow
                        // collection starts where that one does: yaml.v3
                        // places it at the `-` before.
                        flow = 0;
                        let before = text[..at].trim_end_matches(' ');
                        if before.ends_with('-') {
                            column -= at - before.len() + 1;
                            at = before.len() - 1;
                        }
                    }
                    let nested = kind == SEQUENCE
                        && flow == 0
                        && content.is_empty()
                        && matches!(ev, Event::SequenceStart(..))
                        && sp.start.index() == span.start.index();
                    content.push(self.read(ev, &sp)?);
                    let before = text[..self.last_at].trim_end_matches(' ');
                    if nested && before.ends_with('-') {
                        at = before.len() - 1;
                        let start = text[..at].rfind('\n').map_or(0, |n| n + 1);
                        line = self.last_line - text[at..self.last_at].matches('\n').count();
                        column = text[start..at].chars().count() + 1;
                    }
                };
                // The parser's end of a flow collection may stop before its
                // `}` or run on over a comment after its `]`.
                let end = if flow != 0 { flow_end(text, body).unwrap_or(end) } else { end };
                Node {
                    kind,
                    style: flow,
                    tag: Cow::Borrowed(tag),
                    content: Some(content),
                    line,
                    column,
                    span: at..end.max(at),
                    ..Node::default()
                }
            }
            _ => return None,
        };
        let node = match explicit {
            // yaml.v3 keeps an explicit tag and marks the node's style.
            Some(tag) => Node { style: node.style | TAGGED, tag, ..node },
            None => node,
        };
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        self.last_at = at;
        self.last_line = line;
        Some(node)
    }
}

/// The end of the flow collection whose `[` or `{` is at `at` (past its
/// `]` or `}`), found past quoted scalars and comments; `None` when it
/// does not close.
fn flow_end(text: &str, at: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut depth = 0usize;
    let mut i = at;
    // The last character that is not blank: a quote after `[`, `{`, `,` or
    // `:` starts a quoted scalar, one inside a plain scalar does not.
    let mut last = b' ';
    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth = depth.checked_sub(1)?;
                if depth == 0 {
                    return Some(i + 1);
                }
            }
            b'#' if i == 0 || matches!(bytes[i - 1], b' ' | b'\t' | b'\n' | b'\r') => {
                i = text[i..].find('\n').map_or(bytes.len(), |n| i + n);
                continue;
            }
            b'\'' | b'"' if matches!(last, b'[' | b'{' | b',' | b':') => {
                i = comments::quoted_end(text, i)?;
                last = b'x';
                continue;
            }
            _ => {}
        }
        if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            last = b;
        }
        i += 1;
    }
    None
}

/// Whether `text` starts with a `-` that starts a list item.
pub(super) fn is_item_dash(text: &str) -> bool {
    text.strip_prefix('-')
        .is_some_and(|rest| rest.is_empty() || rest.starts_with([' ', '\t', '\n', '\r']))
}

/// [`merge_keys`] of every map of a tree, a map's values (and the copies
/// its merge keys bring) before the map.
fn expand_merge_keys(node: &mut Node) {
    for child in node.content.iter_mut().flatten() {
        expand_merge_keys(child);
    }
    if node.kind == MAPPING
        && let Some(content) = node.content.as_mut()
    {
        merge_keys(content);
    }
}

/// kyaml's `DeAnchor` of a map's merge keys (`<<: *a`, `<<: [*a, *b]`):
/// the `<<` pairs go, then the fields of the maps they name (copies, placed
/// where the text has them; of a list's maps the last first) and the map's
/// own fields are set in turn with `MapEntrySetter`, which replaces an
/// existing key's key and value nodes in place and appends a new one. The
/// map's own fields thus win and keep their places, the others follow.
fn merge_keys(content: &mut Vec<Node>) {
    // A plain `<<`, or one tagged `!!merge`.
    let is_merge = |k: &Node| k.kind == SCALAR && k.tag == "!!merge" && k.value == "<<";
    if !content.iter().step_by(2).any(is_merge) {
        return;
    }
    let mut sources: Vec<Node> = Vec::new();
    let mut own: Vec<Node> = Vec::new();
    let mut pairs = std::mem::take(content).into_iter();
    while let (Some(key), Some(value)) = (pairs.next(), pairs.next()) {
        if !is_merge(&key) {
            own.push(key);
            own.push(value);
        } else if value.kind == SEQUENCE {
            sources.extend(
                value.content.into_iter().flatten().rev().map(|n| Node { copied: true, ..n }),
            );
        } else {
            sources.push(Node { copied: true, ..value });
        }
    }
    let mut merged = own.clone();
    for source in sources.into_iter().filter(|s| s.kind == MAPPING).chain([Node {
        kind: MAPPING,
        content: Some(own),
        ..Node::default()
    }]) {
        let copied = source.copied;
        let mut fields = source.content.into_iter().flatten();
        while let (Some(key), Some(value)) = (fields.next(), fields.next()) {
            let (key, value) = (Node { copied, ..key }, Node { copied, ..value });
            match merged.iter().step_by(2).position(|k| k.value == key.value) {
                Some(i) => {
                    merged[2 * i] = key;
                    merged[2 * i + 1] = value;
                }
                None => {
                    merged.push(key);
                    merged.push(value);
                }
            }
        }
    }
    *content = merged;
}

/// The tag yaml.v3 gives a node written with `tag` (`!!str` for the core
/// schema's, the text as written for a local one); `None` for the
/// non-specific `!`, which yaml.v3 ignores.
fn short_tag(tag: &Tag) -> Option<Cow<'static, str>> {
    let core = tag.handle == "tag:yaml.org,2002:" || tag.handle == "!!";
    match (core, format!("{}{}", tag.handle, tag.suffix)) {
        (true, _) => Some(Cow::Owned(format!("!!{}", tag.suffix))),
        (false, written) if written == "!" => None,
        (false, written) => Some(Cow::Owned(written)),
    }
}

/// Where a node's content starts in `text`, past the tag and anchor that
/// may come first at `at`.
fn after_properties(text: &str, mut at: usize) -> usize {
    while text[at..].starts_with(['!', '&']) {
        let rest = &text[at..];
        let word = rest.find([' ', '\t', '\n', '\r']).unwrap_or(rest.len());
        let gap =
            rest[word..].len() - rest[word..].trim_start_matches([' ', '\t', '\r', '\n']).len();
        at += word + gap;
    }
    at
}

/// The tag yaml.v3 resolves a plain scalar to.
fn plain_tag(text: &str) -> &'static str {
    if text == "<<" {
        return "!!merge";
    }
    match crate::yaml::resolve::resolve_plain(text) {
        Value::Null => "!!null",
        Value::Bool(_) => "!!bool",
        Value::Int(_) | Value::Uint(_) => "!!int",
        Value::Float(_) => "!!float",
        // yaml.v3 tags a plain timestamp as one (kiln keeps its text).
        _ if crate::yaml::resolve::parse_timestamp(text).is_some() => "!!timestamp",
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

/// The paths of [`hash_input`]'s `kept` written after `patches` patches.
fn stage(kept: &[(usize, Vec<Step>)], patches: usize) -> Vec<&[Step]> {
    kept.iter().filter(|(n, _)| *n == patches).map(|(_, p)| p.as_slice()).collect()
}

/// The paths of `kept` under `step`, relative to it.
fn under<'a>(kept: &[&'a [Step]], step: &Step) -> Vec<&'a [Step]> {
    kept.iter()
        .filter_map(|p| p.split_first().filter(|(s, _)| *s == step).map(|(_, r)| r))
        .collect()
}

/// Lays the changes from `was` to `now` over the node tree parsed from
/// `was` (at `at` of the object); `kept`: the scalars (relative paths) a
/// replacement changed in place, which hold the text it copied, as does a
/// scalar it created.
fn overlay(
    node: &mut Node,
    was: &Value,
    now: &Value,
    kept: &[&[Step]],
    at: &mut Vec<Step>,
    texts: &Texts<'_>,
) {
    // A new scalar field or item: a replacement may have created it.
    let fresh = |v: &Value, at: &[Step]| match v {
        Value::Map(_) | Value::Seq(_) => made(v),
        _ => Node::made(SCALAR, text_at(texts, at, v), None),
    };
    match (was, now, node.content.as_mut()) {
        (Value::Map(w), Value::Map(n), Some(content)) if node.kind == MAPPING => {
            let mut fields = Vec::with_capacity(content.len());
            let mut pairs = std::mem::take(content).into_iter();
            while let (Some(key), Some(mut value)) = (pairs.next(), pairs.next()) {
                let Some(new) = n.get(&key.value) else { continue };
                let step = Step::Key(key.value.clone());
                at.push(step.clone());
                if let Some(old) = w.get(&key.value) {
                    overlay(&mut value, old, new, &under(kept, &step), at, texts);
                } else {
                    value = fresh(new, at);
                }
                at.pop();
                fields.push(key);
                fields.push(value);
            }
            for (k, v) in n.iter().filter(|(k, _)| !w.contains_key(*k)) {
                fields.push(Node::made(SCALAR, k.clone(), None));
                at.push(Step::Key(k.clone()));
                fields.push(fresh(v, at));
                at.pop();
            }
            *content = fields;
        }
        (Value::Seq(w), Value::Seq(n), Some(content)) if node.kind == SEQUENCE => {
            content.truncate(n.len());
            for (i, new) in n.iter().enumerate() {
                at.push(Step::Index(i));
                match (content.get_mut(i), w.get(i)) {
                    (Some(item), Some(old)) => {
                        overlay(item, old, new, &under(kept, &Step::Index(i)), at, texts);
                    }
                    (Some(item), None) => *item = fresh(new, at),
                    (None, _) => content.push(fresh(new, at)),
                }
                at.pop();
            }
        }
        (w, n, None) if node.kind == SCALAR && !matches!(n, Value::Map(_) | Value::Seq(_)) => {
            if w != n {
                if kept.iter().any(|p| p.is_empty()) {
                    // A replacement changes only the node's text.
                    node.value = text_at(texts, at, n);
                } else {
                    // kyaml's setter keeps the style of the node it replaces.
                    *node = Node { style: node.style, ..Node::made(SCALAR, scalar_text(n), None) };
                }
            }
        }
        (_, n, _) => *node = made(n),
    }
}

/// Rebuilds `metadata.annotations` as kyaml's `SetAnnotations` does after
/// the JSON patch: the annotations the object then had and kustomize's
/// build annotations, sorted, each a string node, in a map placed after the
/// fields `metadata` had then. Build annotations added since (prefixes,
/// suffixes) follow, then the object's own (`commonAnnotations`, those a
/// replacement created: `created`, see [`own_note`]); fields added since
/// (a namespace, labels) follow the map.
fn set_annotations(
    root: &mut Node,
    rebuilt: &Value,
    current: &Value,
    internal: &[(String, String)],
    order: &[String],
    created: &[&str],
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
    string_fields(meta);
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
        .chain(added.into_iter().map(|(k, v)| {
            let node = own_note(&k, &v, created);
            (k, node)
        }))
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
    quote(out, &n.tag, true);
    out.push_str(",\"Value\":");
    quote(out, &n.value, true);
    out.push_str(",\"Anchor\":\"\",\"Alias\":null,\"Content\":");
    // A collection the parser or a setter left without children has a nil
    // slice of them; one a field was cleared from, an empty one.
    match &n.content {
        None => out.push_str("null"),
        Some(items) if items.is_empty() && n.cleared => out.push_str("[]"),
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
    let notes = n.notes.as_deref();
    for (name, text) in [
        ("HeadComment", notes.map(|c| c.head.as_str())),
        ("LineComment", notes.map(|c| c.line.as_str())),
        ("FootComment", notes.map(|c| c.foot.as_str())),
    ] {
        out.push_str(&format!(",\"{name}\":"));
        quote(out, text.unwrap_or(""), true);
    }
    out.push_str(&format!(",\"Line\":{},\"Column\":{}}}", n.line, n.column));
}

/// Schemas written in comments, by the path of map keys to their field.
type Found = Vec<(Vec<String>, FieldComment)>;

/// The schemas written in comments on the fields of a document (see
/// [`FieldComment`]), by the path of map keys to each field, as kyaml's
/// merge walk finds them: first those on the fields' value nodes, then
/// those on their key nodes (where yaml.v3 puts the line comment of a key
/// whose value is a block collection). A node's comment is its line
/// comment, or else its head comment, read as a JSON OpenAPI schema.
/// Fields inside list elements are not followed.
pub(super) fn field_comments(text: &str) -> (Found, Found) {
    fn walk(node: &Node, path: &mut Vec<String>, values: &mut Found, keys: &mut Found) {
        let Some(content) = node.content.as_ref().filter(|_| node.kind == MAPPING) else {
            return;
        };
        for pair in content.chunks(2) {
            let [key, value] = pair else { continue };
            path.push(key.value.clone());
            if let Some(comment) = value.notes.as_deref().and_then(field_comment) {
                values.push((path.clone(), comment));
            }
            if let Some(comment) = key.notes.as_deref().and_then(field_comment) {
                keys.push((path.clone(), comment));
            }
            walk(value, path, values, keys);
            path.pop();
        }
    }
    let (mut values, mut keys) = (Vec::new(), Vec::new());
    if let Some(root) = parse_tree(text) {
        walk(&root, &mut Vec::new(), &mut values, &mut keys);
    }
    (values, keys)
}

/// kyaml's `FieldMeta.Read` of a node's comments: the first that is not
/// empty (the line comment, then the head comment), without its leading
/// `#`s, as a JSON schema; `None` when it is no JSON object or `{}`.
fn field_comment(notes: &comments::Notes) -> Option<FieldComment> {
    let text = [&notes.line, &notes.head].into_iter().find(|c| !c.is_empty())?;
    let json: serde_json::Value = serde_json::from_str(text.trim_start_matches('#')).ok()?;
    let fields = json.as_object()?;
    // kyaml looks the patch extensions up by their lower-case names only.
    let extension = |name: &str| fields.get(name).and_then(serde_json::Value::as_str);
    // go-openapi keeps every key it does not know too (as an extension or
    // an extra property), so only `{}` reads as the empty schema.
    if fields.is_empty() {
        return None;
    }
    let merges = extension("x-kubernetes-patch-strategy")
        .is_some_and(|s| s.split(',').any(|strategy| strategy == "merge"));
    let merge_keys = merges.then(|| {
        extension("x-kubernetes-patch-merge-key").map(str::to_string).into_iter().collect()
    });
    // A reference to anything but a whole definition of the same document
    // is not followed here (a JSON pointer escapes `/` and `~` in a name).
    let reference = fields
        .get("$ref")
        .and_then(serde_json::Value::as_str)
        .and_then(|r| r.strip_prefix(DEFINITIONS_REF))
        .filter(|name| !name.contains('/'))
        .map(|name| name.replace("~1", "/").replace("~0", "~"));
    Some(FieldComment { reference, merge_keys })
}
