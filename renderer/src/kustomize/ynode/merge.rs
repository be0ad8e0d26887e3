//! kyaml's strategic merge of a patch's node tree into an object's, as kustomize's `patches` make it.
//!
//! kustomize merges a strategic merge patch with kyaml's `merge2` walk over
//! yaml.v3 nodes: map fields in sorted order, a field only the patch has
//! appended to the map as the patch's own node (its line, column, style and
//! tag), a scalar in both replaced by the patch's node wearing the object's
//! style, a list without merge keys replaced by the patch's, `$patch`
//! directives obeyed and `null` clearing a field. Around the merge it sets
//! the patch copy's identity and puts the object's back with setters, whose
//! nodes have no position and no tag.

use super::{MAPPING, Node, SCALAR, SEQUENCE};

/// What the merge of one field gives: the node to set, `None` to clear it;
/// `Err` where the walk is one kiln does not model (lists merged by key).
type Merged = Result<Option<Node>, Unmodelled>;

/// A merge kiln cannot place node by node.
#[derive(Debug)]
pub(super) struct Unmodelled;

fn is_null(n: &Node) -> bool {
    n.tag == "!!null"
}

fn field_index(map: &Node, key: &str) -> Option<usize> {
    map.content.as_ref()?.chunks_exact(2).position(|pair| pair[0].value == key).map(|i| 2 * i)
}

/// The value node of `key` in a map node.
pub(super) fn field<'a>(map: &'a Node, key: &str) -> Option<&'a Node> {
    let i = field_index(map, key)?;
    map.content.as_ref()?.get(i + 1)
}

/// The value node of `key` in a map node, to change.
pub(super) fn field_mut<'a>(map: &'a mut Node, key: &str) -> Option<&'a mut Node> {
    let i = field_index(map, key)?;
    map.content.as_mut()?.get_mut(i + 1)
}

/// kyaml's `FieldSetter`: an existing field's value is replaced by `value`
/// wearing the old value's style; a new field is appended with a key node
/// that has no tag and no position.
pub(super) fn set_field(map: &mut Node, key: &str, mut value: Node) {
    match field_index(map, key) {
        Some(i) => {
            let content = map.content.as_mut().expect("a found field has content");
            value.style = content[i + 1].style;
            content[i + 1] = value;
        }
        None => {
            let content = map.content.get_or_insert_with(Vec::new);
            content.push(Node::made(SCALAR, key.to_string(), None));
            content.push(value);
        }
    }
}

/// kyaml's `FieldClearer`: removing a map's last field leaves it an empty,
/// not a missing, list of children.
pub(super) fn clear_field(map: &mut Node, key: &str) {
    if let Some(i) = field_index(map, key)
        && let Some(content) = map.content.as_mut()
    {
        content.drain(i..i + 2);
        map.cleared = content.is_empty();
    }
}

/// kyaml's `LookupCreate(MappingNode, key)`: the map at `key`, made and
/// appended when missing.
pub(super) fn lookup_create<'a>(map: &'a mut Node, key: &str) -> &'a mut Node {
    let i = match field_index(map, key) {
        Some(i) => i,
        None => {
            set_field(map, key, Node::made(MAPPING, String::new(), None));
            map.content.as_ref().map_or(0, Vec::len) - 2
        }
    };
    &mut map.content.as_mut().expect("the field exists now")[i + 1]
}

/// The string entries of the map at `metadata.<key>`.
pub(super) fn meta_strings(root: &Node, key: &str) -> Vec<(String, String)> {
    let Some(map) = field(root, "metadata").and_then(|m| field(m, key)) else {
        return Vec::new();
    };
    map.content
        .iter()
        .flatten()
        .collect::<Vec<_>>()
        .chunks(2)
        .filter_map(|pair| match pair {
            [k, v] if v.kind == SCALAR => Some((k.value.clone(), v.value.clone())),
            _ => None,
        })
        .collect()
}

/// kyaml's `setMapInMetadata` (`SetLabels`, `SetAnnotations`): the map is
/// cleared and, when there are entries, made anew at the end of `metadata`,
/// sorted by key, each value a string node.
pub(super) fn set_meta_map(root: &mut Node, key: &str, entries: &[(String, String)]) {
    let meta = lookup_create(root, "metadata");
    clear_field(meta, key);
    if entries.is_empty() {
        return;
    }
    let mut sorted: Vec<&(String, String)> = entries.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    sorted.dedup_by(|a, b| a.0 == b.0);
    let map = lookup_create(meta, key);
    for (k, v) in sorted {
        set_field(map, k, Node::string(v));
    }
}

/// A scalar made by kyaml's `NewScalarRNode`: no tag, no position.
fn scalar(text: &str) -> Node {
    Node::made(SCALAR, text.to_string(), None)
}

/// kyaml's `SetName`/`SetNamespace`-style setter of a `metadata` field; an
/// empty namespace is cleared instead.
pub(super) fn set_meta_scalar(root: &mut Node, key: &str, text: &str) {
    if key == "namespace" && text.is_empty() {
        if let Some(i) = field_index(root, "metadata")
            && let Some(meta) = root.content.as_mut().and_then(|c| c.get_mut(i + 1))
        {
            clear_field(meta, key);
        }
        return;
    }
    set_field(lookup_create(root, "metadata"), key, scalar(text));
}

/// Sets a top-level field to a setter's scalar (`SetKind`, `SetApiVersion`).
pub(super) fn set_top_scalar(root: &mut Node, key: &str, text: &str) {
    set_field(root, key, scalar(text));
}

/// A strategic merge directive a patch map carries.
#[derive(PartialEq)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

/// Reads and removes the `$patch` directive of a patch map.
fn take_directive(origin: Option<&mut Node>) -> Result<Directive, Unmodelled> {
    let Some(origin) = origin.filter(|o| o.kind == MAPPING) else {
        return Ok(Directive::Merge);
    };
    let Some(value) = field(origin, "$patch").map(|v| v.value.clone()) else {
        return Ok(Directive::Merge);
    };
    clear_field(origin, "$patch");
    match value.as_str() {
        "merge" => Ok(Directive::Merge),
        "replace" => Ok(Directive::Replace),
        "delete" => Ok(Directive::Delete),
        _ => Err(Unmodelled),
    }
}

/// kyaml's merge walk of `origin` (the patch's node) into `dest` (the
/// object's); `by_schema`: the object's kind has a schema, whose lists
/// kustomize may merge by key (not modelled).
pub(super) fn merge(dest: Option<Node>, origin: Option<Node>, by_schema: bool) -> Merged {
    let kind = [&dest, &origin]
        .into_iter()
        .find_map(|n| n.as_ref().filter(|n| !is_null(n)).map(|n| n.kind))
        .unwrap_or(0);
    let (mut dest, mut origin) = (dest, origin);
    // An empty collection takes the patch's style (flow or block).
    if let (Some(d), Some(o)) = (dest.as_mut(), origin.as_ref())
        && d.kind != SCALAR
        && d.content.as_ref().is_none_or(Vec::is_empty)
    {
        d.style = o.style;
    }
    match kind {
        SCALAR => Ok(origin.or(dest)),
        // Without a schema kustomize merges no list by key: the patch's list
        // replaces the object's.
        SEQUENCE if !by_schema => Ok(origin.or(dest)),
        // Only nulls (or nothing): the field goes.
        0 => Ok(None),
        MAPPING => {
            let mut map = match dest.filter(|d| !is_null(d)) {
                None => {
                    if take_directive(origin.as_mut())? == Directive::Delete {
                        return Ok(None);
                    }
                    match origin.clone() {
                        Some(o) => o,
                        None => return Ok(None),
                    }
                }
                Some(d) => {
                    if origin.as_ref().is_some_and(is_null) {
                        return Ok(None);
                    }
                    match take_directive(origin.as_mut())? {
                        Directive::Delete => return Ok(None),
                        Directive::Replace => origin.clone().ok_or(Unmodelled)?,
                        Directive::Merge => d,
                    }
                }
            };
            if map.kind != MAPPING || origin.as_ref().is_some_and(|o| o.kind != MAPPING) {
                return Err(Unmodelled);
            }
            let mut keys: Vec<String> = [Some(&map), origin.as_ref()]
                .into_iter()
                .flatten()
                .flat_map(|m| m.content.iter().flatten().step_by(2).map(|k| k.value.clone()))
                .collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                let d = field(&map, &key).cloned();
                let o = origin.as_ref().and_then(|o| field(o, &key)).cloned();
                match merge(d, o, by_schema)? {
                    Some(v) if !is_null(&v) => set_field(&mut map, &key, v),
                    _ => clear_field(&mut map, &key),
                }
            }
            Ok(Some(map))
        }
        _ => Err(Unmodelled),
    }
}
