//! Strategic merge patch with the semantics `kubectl kustomize` (kustomize v5.5) gives it.
//!
//! kustomize does not use the API server's strategic merge code: it walks the
//! target and the patch together with kyaml's merge walker, which takes
//! merge keys from its built-in OpenAPI document (see [`schema`](super::schema)).
//! What that means, measured against `kubectl kustomize`:
//!
//! - Maps merge recursively; `null` in the patch deletes a key, except in the
//!   patch's own top-level `metadata.labels` and `metadata.annotations`,
//!   whose values kustomize reads as strings (`null` becomes `"null"`, `2`
//!   becomes `"2"`).
//! - A list merges by key only where the schema says so; all other lists,
//!   including every list of a custom resource, are replaced.
//! - Merged lists put the patch's elements first, in patch order, then the
//!   target's remaining elements. For lists with two keys (container ports,
//!   Service ports, topology spread constraints) a target element that
//!   matches a patch element moves behind the patch's new elements.
//!   A patch element is matched on every key the list's elements carry, so a
//!   port patched without `protocol` does not match a port that has one.
//!   Keys compare by the text the files wrote ([`Written`]): a port written
//!   `1_0` or `0x0A` is not the patch's `10`, a quoted `"10"` is.
//! - `$patch: delete|replace|merge` work on maps and list elements, except
//!   that `$patch: replace` on an element of a merged list, or on the whole
//!   object, is ignored;
//!   as a list element of a list merged by key, `{$patch: replace}` replaces
//!   the list, `{$patch: delete}` removes it and `{$patch: merge}` merges it.
//! - `$setElementOrder/…`, `$retainKeys` and `$deleteFromPrimitiveList/…` are
//!   not understood: they are kept in the output as ordinary keys.
//! - kyaml walks the whole target, not only what the patch mentions, and
//!   its merge drops a null the target wrote as nothing (`key:`) while it
//!   keeps `key: null` and `key: ~` (merge2's map visitor returns a fresh
//!   scalar for a null with text, which its field setter does not clear).
//!   The walk enters maps and the elements of lists merged by key, not
//!   other lists. [`drop_empty_nulls`] does that part before the merge.
//! - Every list merged by key is rebuilt by that walk, whether the patch
//!   mentions it or not: elements of the target that share a key (two env
//!   vars `A`, two containers `c`, two finalizers `f`) collapse into one, at
//!   the first one's place with the last one's content, and a port without
//!   a protocol after the same port with one replaces it (patch cases
//!   `smp-dup-*`, recorded from `kubectl kustomize`).

use super::landing::{Landed, Landing, Side};
use super::schema::{FieldComment, OpenApi, Schema};
use super::{Error, Origin};
use crate::resource::{Gvk, Step};
use crate::value::{Map, Value};
use crate::yaml::resolve::resolve_plain;
use std::borrow::Cow;
use std::collections::HashMap;

/// The key of a strategic merge patch directive.
const DIRECTIVE: &str = "$patch";

/// Applies one strategic merge patch document to one object of kind `gvk`.
///
/// Returns `None` when the patch deletes the whole object (`$patch: delete`
/// at its top level). The patch's name, namespace and kind are merged like
/// any other field: restoring them is the caller's business, as it is in
/// kustomize's patch transformer.
pub fn apply(target: &Value, patch: &Value, gvk: &Gvk) -> Result<Option<Value>, Error> {
    let merged = apply_with(target, patch, gvk, OpenApi::builtin(), &[], Written::default())?;
    Ok(merged.map(|(value, _)| value))
}

/// [`apply`] with the merge keys of `schema` (an `openapi:` file) instead of
/// kustomize's built-in schema, and the schemas written in comments on
/// fields of the target and then of the patch (see [`FieldComment`]),
/// which win over it, and the texts the files wrote (see [`Written`]).
/// With the result comes where the merge put the nodes of both ([`Landing`]).
pub fn apply_with(
    target: &Value,
    patch: &Value,
    gvk: &Gvk,
    schema: &OpenApi,
    comments: &[(Vec<String>, FieldComment)],
    written: Written<'_>,
) -> Result<Option<(Value, Landing)>, Error> {
    if !matches!(patch, Value::Map(_)) {
        return Err(Error::PatchNotMap { got: patch.type_name() });
    }
    let mut patch = patch.clone();
    stringify_metadata(&mut patch);
    apply_verbatim_with(target, &patch, gvk, schema, comments, written)
}

/// [`apply`] as the `patches:` field applies a strategic merge patch: the
/// patch is not loaded as an object first, so `null` in its own labels and
/// annotations deletes them instead of becoming `"null"` (recorded from
/// `kubectl kustomize`: corpus case 085 against patch case
/// smp-null-last-annotation, which uses `patchesStrategicMerge`).
pub fn apply_verbatim(target: &Value, patch: &Value, gvk: &Gvk) -> Result<Option<Value>, Error> {
    let merged =
        apply_verbatim_with(target, patch, gvk, OpenApi::builtin(), &[], Written::default())?;
    Ok(merged.map(|(value, _)| value))
}

/// [`apply_verbatim`] with the merge keys of `schema`, the schemas
/// written in comments and the texts the files wrote (see [`apply_with`]).
pub fn apply_verbatim_with(
    target: &Value,
    patch: &Value,
    gvk: &Gvk,
    schema: &OpenApi,
    comments: &[(Vec<String>, FieldComment)],
    written: Written<'_>,
) -> Result<Option<(Value, Landing)>, Error> {
    if !matches!(patch, Value::Map(_)) {
        return Err(Error::PatchNotMap { got: patch.type_name() });
    }
    let patch = patch.clone();
    let schema = schema.root(gvk).with_comments(comments);
    let tx = Texts::new(written);
    let at = Sides::apart(tx.root(Side::Target), tx.root(Side::Patch));
    let merged = merge(Some(target.clone()), Some(&patch), schema, &mut Vec::new(), &tx, &at)?;
    // kustomize keeps the object it merged into in place and ignores what the
    // merge returns unless it is nothing: a top-level `$patch: replace`,
    // which returns the patch instead, leaves the object as it was.
    Ok(merged.map(|m| match m.in_place {
        true => (m.value, m.landing),
        false => (target.clone(), Landing::Only(Side::Target)),
    }))
}

/// Removes the fields of `target` (an object of kind `gvk`) that its file
/// wrote with no value, at the `paths` its parser reported
/// ([`crate::yaml::Document::null_texts`] with text `""`), where kyaml's
/// merge walk reaches them: through maps and the elements of lists that
/// `schema` merges by key. Apply before [`apply_with`] or [`apply_verbatim_with`].
pub fn drop_empty_nulls(target: &mut Value, paths: &[&[Step]], gvk: &Gvk, schema: &OpenApi) {
    for path in paths {
        let Some((Step::Key(last), parents)) = path.split_last() else { continue };
        if let Some(Value::Map(m)) = walked(target, parents, schema.root(gvk)) {
            if matches!(m.get(last), Some(Value::Null)) {
                m.shift_remove(last);
            }
        }
    }
}

/// The node at `path` when kyaml's merge walk gets there.
fn walked<'v>(node: &'v mut Value, path: &[Step], at: Schema<'_>) -> Option<&'v mut Value> {
    let Some((step, rest)) = path.split_first() else { return Some(node) };
    match (step, node) {
        (Step::Key(k), Value::Map(m)) => walked(m.get_mut(k)?, rest, at.field(k)),
        (Step::Index(i), Value::Seq(items)) if at.merge_keys().is_some_and(|k| !k.is_empty()) => {
            walked(items.get_mut(*i)?, rest, at.elements())
        }
        _ => None,
    }
}

/// kustomize reads the labels and annotations of a patch as strings.
fn stringify_metadata(patch: &mut Value) {
    for field in ["labels", "annotations"] {
        if let Some(Value::Map(m)) = patch.get_path_mut(&["metadata", field]) {
            for v in m.values_mut() {
                if !matches!(v, Value::String(_) | Value::Map(_) | Value::Seq(_)) {
                    *v = Value::String(scalar_text(v));
                }
            }
        }
    }
}

/// The texts the files wrote for the scalars of the target and of the
/// patch, by path ([`crate::resource::Resource::scalar_texts`],
/// [`crate::yaml::Document::scalar_texts`]). kyaml matches the items of a
/// list merged by key, and the items of a set, by their nodes' text: a port
/// written `1_0` is not the patch's `10` (recorded from `kubectl
/// kustomize`: case 4460).
#[derive(Debug, Clone, Copy, Default)]
pub struct Written<'t> {
    /// The target's texts, by path in the target.
    pub target: &'t [(Vec<Step>, String)],
    /// The patch's texts, by path in the patch.
    pub patch: &'t [(Vec<Step>, String)],
    /// Where the target's file wrote strings in quotes or as blocks
    /// ([`crate::resource::Resource::quoted`]).
    pub quoted: &'t [Vec<Step>],
}

/// The written texts that differ from the text of the value read (`1_0`,
/// `0x0A`, `~`, a plain timestamp), by the path of their parent node and
/// their last step: the others need no lookup.
struct Texts<'t> {
    target: HashMap<(&'t [Step], &'t Step), &'t str>,
    patch: HashMap<(&'t [Step], &'t Step), &'t str>,
    quoted: std::collections::HashSet<&'t [Step]>,
}

impl<'t> Texts<'t> {
    fn new(written: Written<'t>) -> Texts<'t> {
        let table = |texts: &'t [(Vec<Step>, String)]| {
            texts
                .iter()
                .filter(|(_, t)| !t.is_empty() && scalar_text(&resolve_plain(t)) != *t)
                .filter_map(|(p, t)| {
                    let (last, parent) = p.split_last()?;
                    Some(((parent, last), t.as_str()))
                })
                .collect()
        };
        Texts {
            target: table(written.target),
            patch: table(written.patch),
            quoted: written.quoted.iter().map(Vec::as_slice).collect(),
        }
    }

    /// Where a walk of one side starts: nowhere when that side wrote no
    /// text worth following.
    fn root(&self, side: Side) -> At {
        let table = if side == Side::Target { &self.target } else { &self.patch };
        let quotes = side == Side::Target && !self.quoted.is_empty();
        if table.is_empty() && !quotes { At::Unknown } else { At::In(side, Vec::new()) }
    }

    /// Whether the target's scalar `dest`, found at `at`, was written in
    /// quotes: known for a node of the target; for a node the walk cannot
    /// place, a string that plain YAML would read as something else, where
    /// the target wrote quotes at all.
    fn quoted(&self, dest: &Value, at: &At) -> bool {
        let Value::String(d) = dest else { return false };
        match at {
            At::In(Side::Target, path) => self.quoted.contains(path.as_slice()),
            At::In(Side::Patch, _) => false,
            At::Unknown => !self.quoted.is_empty() && !matches!(resolve_plain(d), Value::String(_)),
        }
    }

    /// The text of the scalar `v` at `at` (its field `field` when given),
    /// as its node holds it: the written text if `v` still reads as it,
    /// else the value's own.
    fn text(&self, v: &Value, at: &At, field: Option<&str>) -> String {
        let written = match at {
            At::Unknown => None,
            At::In(side, path) => {
                let table = if *side == Side::Target { &self.target } else { &self.patch };
                match field {
                    Some(k) => table.get(&(path.as_slice(), &Step::Key(k.to_string()))).copied(),
                    None => path
                        .split_last()
                        .and_then(|(last, parent)| table.get(&(parent, last)).copied()),
                }
            }
        };
        match written {
            Some(t) if crate::resource::reads_as(t, v) => t.to_string(),
            _ => scalar_text(v),
        }
    }
}

/// Where a node of the merge came from: a path in the target or in the
/// patch, or nowhere known (a side with no texts to follow, or a node
/// the merge made).
#[derive(Debug, Clone)]
enum At {
    Unknown,
    In(Side, Vec<Step>),
}

impl At {
    fn step(&self, step: impl FnOnce() -> Step) -> At {
        match self {
            At::Unknown => At::Unknown,
            At::In(side, path) => {
                let mut path = path.clone();
                path.push(step());
                At::In(*side, path)
            }
        }
    }
}

/// Where the two nodes being merged came from, and which document the
/// node merged into is (the patch's, where kyaml adds a node by merging the
/// patch's with itself).
#[derive(Debug, Clone)]
struct Sides {
    dest: At,
    patch: At,
    dest_side: Side,
    /// Whether the target's node is the patch's own (see [`add`]): what
    /// the merge deletes from a list there is gone from the patch too.
    same: bool,
}

impl Sides {
    /// The patch's node merged with itself, where the target has none (see
    /// [`add`]).
    fn own(at: &At) -> Sides {
        Sides { dest: at.clone(), patch: at.clone(), dest_side: Side::Patch, same: true }
    }

    /// Two nodes of different trees.
    fn apart(dest: At, patch: At) -> Sides {
        Sides { dest, patch, dest_side: Side::Target, same: false }
    }

    fn field(&self, key: &str) -> Sides {
        let key = || Step::Key(key.to_string());
        Sides {
            dest: self.dest.step(key),
            patch: self.patch.step(key),
            dest_side: self.dest_side,
            same: self.same,
        }
    }
}

/// A list item with the place it came from, for its texts, and the items
/// of the documents it was made from, for [`Landing`].
#[derive(Debug, Clone)]
struct Item {
    value: Value,
    at: At,
    from: Landed,
}

/// The items of `list` of document `side`, found at `at`.
fn items(list: Vec<Value>, at: &At, side: Side) -> Vec<Item> {
    let item =
        |(i, value)| Item { value, at: at.step(|| Step::Index(i)), from: Landed::item(side, i) };
    list.into_iter().enumerate().map(item).collect()
}

/// The list of `items`, and where they came from.
fn landed(items: Vec<Item>) -> (Vec<Value>, Landing) {
    let (values, from) = items.into_iter().map(|e| (e.value, e.from)).unzip();
    (values, Landing::seq(from))
}

/// The result of merging one node.
struct Merged {
    value: Value,
    /// Whether the target's node was updated rather than replaced by the
    /// patch's: kyaml edits the target in place, and list merging later
    /// copies target elements back over merged ones, so the difference shows.
    in_place: bool,
    /// Where the nodes below came from.
    landing: Landing,
}

impl Merged {
    fn kept(value: Value, landing: Landing) -> Option<Merged> {
        Some(Merged { value, in_place: true, landing })
    }
    fn new(value: Value, landing: Landing) -> Option<Merged> {
        Some(Merged { value, in_place: false, landing })
    }
    /// A node the patch added (see [`add`]).
    fn added(self) -> Option<Merged> {
        Merged::new(self.value, Landing::Added(Box::new(self.landing)))
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Map,
    Seq,
    Scalar,
}

fn shape(v: &Value) -> Option<Shape> {
    match v {
        Value::Null => None,
        Value::Map(_) => Some(Shape::Map),
        Value::Seq(_) => Some(Shape::Seq),
        _ => Some(Shape::Scalar),
    }
}

fn shape_name(s: Shape) -> &'static str {
    match s {
        Shape::Map => "Mapping",
        Shape::Seq => "Sequence",
        Shape::Scalar => "Scalar",
    }
}

/// Merges `patch` (`None`: the patch does not mention the field) into `dest`
/// (`None`: the target lacks it). `None` as a result removes the field.
fn merge(
    dest: Option<Value>,
    patch: Option<&Value>,
    schema: Schema<'_>,
    path: &mut Vec<String>,
    tx: &Texts<'_>,
    at: &Sides,
) -> Result<Option<Merged>, Error> {
    let dest_shape = dest.as_ref().and_then(shape);
    let patch_shape = patch.and_then(shape);
    let Some(kind) = dest_shape.or(patch_shape) else {
        // Neither side has a value: an explicit null in the target survives
        // a patch that does not mention it; a null in the patch clears it.
        return Ok(match (dest, patch) {
            (Some(Value::Null), None) => Merged::kept(Value::Null, Landing::Merged),
            _ => None,
        });
    };
    if let (Some(d), Some(p)) = (dest_shape, patch_shape)
        && d != p
    {
        return Err(Error::WrongKind {
            path: path.join("."),
            expected: shape_name(d),
            got: shape_name(p),
            contents: patch.map(crate::yaml::node_to_string).unwrap_or_default(),
            node: Box::new(patch.cloned().unwrap_or_default()),
            origin: Origin::Patch,
        });
    }
    let dest = dest.filter(|d| !d.is_null());
    match kind {
        Shape::Scalar => Ok(match patch {
            Some(Value::Null) => None,
            // kyaml gives the patch's scalar the target's quoting: a plain
            // number or boolean patched over a quoted string becomes a
            // string. A string written plain with a tag (`!!str 10`) has no
            // quotes to give (recorded from `kubectl kustomize`: case 4472).
            // The string is the patch node's text (`0x50`, not `80`: case 4520).
            Some(p @ (Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_)))
                if dest.as_ref().is_some_and(|d| tx.quoted(d, &at.dest)) =>
            {
                Merged::new(Value::String(tx.text(p, &at.patch, None)), Landing::Merged)
            }
            Some(p) => Merged::new(p.clone(), Landing::Merged),
            None => dest.and_then(|d| Merged::kept(d, Landing::Merged)),
        }),
        Shape::Map => {
            let dest = match dest {
                Some(Value::Map(m)) => Some(m),
                _ => None,
            };
            let schema = schema.or_kind_of([dest.as_ref(), patch.and_then(Value::as_map)]);
            match patch {
                Some(Value::Null) => Ok(None),
                Some(Value::Map(p)) => merge_map(dest, Some(p), schema, path, tx, at),
                _ => merge_map(dest, None, schema, path, tx, at),
            }
        }
        Shape::Seq => {
            let dest = match dest {
                Some(Value::Seq(s)) => Some(s),
                _ => None,
            };
            match patch {
                Some(Value::Null) => Ok(None),
                Some(Value::Seq(p)) => merge_seq(dest, Some(p), schema, path, tx, at),
                _ => merge_seq(dest, None, schema, path, tx, at),
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Directive {
    Merge,
    Replace,
    Delete,
}

/// What a strategic merge patch does to its target's annotations whole,
/// where kustomize keeps its build state: `Some(true)` where a
/// `$patch: replace` on its `metadata` or annotations makes the patch's
/// annotations the target's, `Some(false)` where a `$patch: delete` there
/// drops them, `None` where they are merged.
pub(crate) fn annotations_replaced(patch: &Value) -> Option<bool> {
    let directive = |at: &[&str]| match patch.get_path(at)?.as_map()?.get(DIRECTIVE)?.as_str()? {
        "replace" => Some(true),
        "delete" => Some(false),
        _ => None,
    };
    // The outer directive takes the nodes below along.
    directive(&["metadata"]).or_else(|| directive(&["metadata", "annotations"]))
}

/// Takes the `$patch` directive out of a patch map.
fn split_directive<'a>(
    patch: &'a Map,
    path: &[String],
) -> Result<(Directive, Cow<'a, Map>), Error> {
    let Some(value) = patch.get(DIRECTIVE) else {
        return Ok((Directive::Merge, Cow::Borrowed(patch)));
    };
    let directive = match value.as_str() {
        Some("merge") => Directive::Merge,
        Some("replace") => Directive::Replace,
        Some("delete") => Directive::Delete,
        _ => {
            return Err(Error::UnknownStrategy {
                path: path.join("."),
                strategy: scalar_text(value),
            });
        }
    };
    let mut rest = patch.clone();
    rest.shift_remove(DIRECTIVE);
    Ok((directive, Cow::Owned(rest)))
}

/// Adds a subtree that only the patch has (or that replaces the target's).
///
/// kyaml does this by merging the patch node with itself, which removes
/// nulls and applies nested directives; merging a copy does the same, as
/// long as what a list loses is lost from the patch's list as well.
fn add(
    patch: &Value,
    schema: Schema<'_>,
    path: &mut Vec<String>,
    tx: &Texts<'_>,
    at: &At,
) -> Result<Option<Merged>, Error> {
    let at = Sides::own(at);
    let merged = merge(Some(patch.clone()), Some(patch), schema, path, tx, &at)?;
    Ok(merged.and_then(Merged::added))
}

fn merge_map(
    dest: Option<Map>,
    patch: Option<&Map>,
    schema: Schema<'_>,
    path: &mut Vec<String>,
    tx: &Texts<'_>,
    at: &Sides,
) -> Result<Option<Merged>, Error> {
    let Some(patch) = patch else {
        let walked = dest.map(|d| walk_map(d, schema, path, tx, at)).transpose()?;
        return Ok(walked.and_then(|(value, landing)| Merged::kept(value, landing)));
    };
    let had_directive = patch.contains_key(DIRECTIVE);
    let (directive, patch) = match split_directive(patch, path) {
        // A directive kyaml cannot read, where the target lacks the map:
        // kyaml ignores the error and takes the patch's map as it is,
        // `$patch` field included, merging it with itself only below
        // (where such a directive does fail; see `add`).
        Err(Error::UnknownStrategy { .. }) if dest.is_none() => {
            let own = Sides::own(&at.patch);
            let merged = merge_fields(patch.clone(), patch, schema, path, tx, &own)?;
            return Ok(merged.and_then(Merged::added));
        }
        split => split?,
    };
    let mut dest = match (directive, dest) {
        (Directive::Delete, _) => return Ok(None),
        (Directive::Replace, _) | (Directive::Merge, None) => {
            return add(&Value::Map(patch.into_owned()), schema, path, tx, &at.patch);
        }
        (Directive::Merge, Some(d)) => d,
    };
    if had_directive {
        // kyaml elides the directive from the patch node in place; when the
        // target node is that same node (see `add`) it loses it too.
        dest.shift_remove(DIRECTIVE);
    }
    merge_fields(dest, &patch, schema, path, tx, at)
}

/// Merges the fields of `patch` into `dest`, field by field, the fields
/// only `dest` has walked after them.
fn merge_fields(
    mut dest: Map,
    patch: &Map,
    schema: Schema<'_>,
    path: &mut Vec<String>,
    tx: &Texts<'_>,
    at: &Sides,
) -> Result<Option<Merged>, Error> {
    check_keys(&dest, Some(patch))?;
    // Fields only the target has are walked too; walking keeps the order.
    let unmentioned: Vec<String> =
        dest.keys().filter(|k| !patch.contains_key(*k)).cloned().collect();
    let fields = patch
        .iter()
        .map(|(k, v)| (k.clone(), Some(v)))
        .chain(unmentioned.into_iter().map(|k| (k, None)));
    let mut landings = Vec::new();
    for (key, pv) in fields {
        let landing = merge_field(&mut dest, &key, pv, schema, path, tx, at)?;
        landings.push((key, landing));
    }
    Ok(Merged::kept(Value::Map(dest), Landing::map(landings)))
}

/// kyaml's merge walk reads an empty key as the map itself where it wants
/// the key's value, and fails on the map (the target's, as it was).
fn check_keys(dest: &Map, patch: Option<&Map>) -> Result<(), Error> {
    if dest.contains_key("") || patch.is_some_and(|p| p.contains_key("")) {
        let node = Box::new(Value::Map(dest.clone()));
        return Err(Error::EmptyKey { contents: crate::yaml::node_to_string(&node), node });
    }
    Ok(())
}

/// Merges `patch` into the field `key` of `dest`, removing the field when
/// the merge leaves nothing; returns where the field's nodes landed.
fn merge_field(
    dest: &mut Map,
    key: &str,
    patch: Option<&Value>,
    schema: Schema<'_>,
    path: &mut Vec<String>,
    tx: &Texts<'_>,
    at: &Sides,
) -> Result<Landing, Error> {
    let dv = dest.get_mut(key).map(std::mem::take);
    path.push(key.to_string());
    let at = at.field(key);
    let merged = merge(dv, patch, schema.field(key).commented(path), path, tx, &at)?;
    path.pop();
    Ok(match merged {
        Some(m) => {
            dest.insert(key.to_string(), m.value);
            m.landing
        }
        None => {
            dest.shift_remove(key);
            Landing::Merged
        }
    })
}

/// Walks a map the patch does not mention, as kyaml's merge does: every
/// field is visited with no patch, so that the merged lists below it are
/// rebuilt (see [`merge_seq`]).
fn walk_map(
    mut dest: Map,
    schema: Schema<'_>,
    path: &mut Vec<String>,
    tx: &Texts<'_>,
    at: &Sides,
) -> Result<(Value, Landing), Error> {
    check_keys(&dest, None)?;
    let keys: Vec<String> = dest.keys().cloned().collect();
    let at = Sides { patch: At::Unknown, same: false, ..at.clone() };
    let mut landings = Vec::new();
    for key in keys {
        let landing = merge_field(&mut dest, &key, None, schema, path, tx, &at)?;
        landings.push((key, landing));
    }
    Ok((Value::Map(dest), Landing::map(landings)))
}

/// kyaml's directive for a whole list: the first element of the patch's list
/// that holds `$patch`, when that is its only key. The list without the
/// elements that carry that directive is what the patch then stands for.
fn list_directive(
    patch: &[Item],
    path: &[String],
) -> Result<Option<(Directive, Vec<Item>)>, Error> {
    let Some(Value::Map(first)) = patch
        .iter()
        .map(|e| &e.value)
        .find(|e| e.as_map().is_some_and(|m| m.contains_key(DIRECTIVE)))
    else {
        return Ok(None);
    };
    if first.len() != 1 {
        return Ok(None);
    }
    let (directive, _) = split_directive(first, path)?;
    let named = first.get(DIRECTIVE);
    let rest = patch
        .iter()
        .filter(|e| e.value.as_map().is_none_or(|m| m.get(DIRECTIVE) != named))
        .cloned()
        .collect();
    Ok(Some((directive, rest)))
}

fn merge_seq(
    dest: Option<Vec<Value>>,
    patch: Option<&Vec<Value>>,
    schema: Schema<'_>,
    path: &mut Vec<String>,
    tx: &Texts<'_>,
    at: &Sides,
) -> Result<Option<Merged>, Error> {
    let Some(keys) = schema.merge_keys() else {
        // Not merged: the patch's list, when it has one, wins as it is.
        return Ok(match patch {
            Some(p) => Merged::new(Value::Seq(p.clone()), Landing::Only(Side::Patch)),
            None => dest.and_then(|d| Merged::kept(Value::Seq(d), Landing::Only(at.dest_side))),
        });
    };
    let Some(patch) = patch else {
        // kyaml's walk visits a merged list the patch does not mention as
        // well, which collapses elements that share a key (see `merge_keyed`).
        let Some(dest) = dest else { return Ok(None) };
        let dest = items(dest, &at.dest, at.dest_side);
        let walked = if keys.is_empty() {
            merge_scalar_set(dest, &[], false, schema, path, tx)?
        } else {
            merge_keyed(dest, &[], false, keys, schema.elements(), path, tx)?
        };
        let (walked, landing) = landed(walked);
        return Ok(Merged::kept(Value::Seq(walked), landing));
    };
    // A list the target lacks is added as the patch has it, merged with
    // itself, before kyaml looks for a list directive; otherwise a
    // `{$patch: replace}` element makes the patch's list (without it) the result.
    let patch = items(patch.clone(), &at.patch, Side::Patch);
    // kyaml adds a list the target lacks, or replaces the target's, by
    // making the patch's node the target's: the walk's deletions from it are
    // lost from the patch's list too (recorded from `kubectl kustomize`:
    // case 4521).
    let mut same = at.same || dest.is_none();
    let (dest, patch) = match dest {
        None => (patch.clone(), patch),
        Some(d) => match list_directive(&patch, path)? {
            // `{$patch: delete}` drops the target's list altogether.
            Some((Directive::Delete, _)) => return Ok(None),
            Some((Directive::Replace, rest)) => {
                same = true;
                (rest.clone(), rest)
            }
            // kyaml elides the directive's elements from the patch's list in
            // place; a list only the patch has (see `add`) is that same node
            // and loses them too (recorded from `kubectl kustomize`: case 4507).
            // The target's own `{$patch: merge}` elements stay (case 4543).
            Some((Directive::Merge, rest)) => {
                let merge = Some(Value::String("merge".into()));
                let d = items(d, &at.dest, at.dest_side).into_iter().filter(|e| {
                    at.dest_side == Side::Target
                        || e.value.as_map().is_none_or(|m| m.get(DIRECTIVE) != merge.as_ref())
                });
                (d.collect(), rest)
            }
            None => (items(d, &at.dest, at.dest_side), patch),
        },
    };
    let merged = if keys.is_empty() {
        merge_scalar_set(dest, &patch, same, schema, path, tx)?
    } else {
        merge_keyed(dest, &patch, same, keys, schema.elements(), path, tx)?
    };
    let (merged, landing) = landed(merged);
    Ok(Merged::new(Value::Seq(merged), landing))
}

/// The text of a scalar as YAML wrote it, which is what kyaml compares keys by.
pub(crate) fn scalar_text(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Int(i) => i.to_string(),
        Value::Uint(u) => u.to_string(),
        Value::Float(f) => f.to_string(),
        Value::String(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) => String::new(),
    }
}

/// kyaml's error for an element of a list that is not of the kind the
/// list's merge reads its elements as.
fn element_of_wrong_kind(
    path: &[String],
    expected: &'static str,
    element: &Value,
    origin: Origin,
) -> Error {
    Error::WrongKind {
        path: path.join("."),
        expected,
        got: shape(element).map_or("Scalar", shape_name),
        contents: crate::yaml::node_to_string(element),
        node: Box::new(element.clone()),
        origin,
    }
}

/// A list of scalars merged as a set (`metadata.finalizers`).
fn merge_scalar_set(
    mut dest: Vec<Item>,
    patch: &[Item],
    same: bool,
    schema: Schema<'_>,
    path: &mut Vec<String>,
    tx: &Texts<'_>,
) -> Result<Vec<Item>, Error> {
    // kyaml merges a set by its elements' text, which is empty for a
    // collection: the first collection of the target and that of the patch
    // merge as one element, which then fails as no scalar unless it is an
    // empty map, which is dropped (recorded from `kubectl kustomize`:
    // case 4522).
    let collection = |list: &[Item]| {
        list.iter().map(|e| &e.value).find(|e| matches!(e, Value::Map(_) | Value::Seq(_))).cloned()
    };
    let (d, p) = (collection(&dest), collection(patch));
    if d.is_some() || p.is_some() {
        let nowhere = Sides::apart(At::Unknown, At::Unknown);
        if let Some(m) = merge(d.clone(), p.as_ref(), schema.unknown(), path, tx, &nowhere)?
            && !is_empty_map(&m.value)
        {
            let origin = match (d, p) {
                (Some(t), Some(p)) => Origin::Merged { target: Box::new(t), patch: Box::new(p) },
                (Some(_), None) => Origin::Target,
                (None, _) => Origin::Patch,
            };
            return Err(element_of_wrong_kind(path, "Scalar", &m.value, origin));
        }
    }
    let mut values: Vec<String> = Vec::new();
    for e in patch.iter().chain(dest.iter()) {
        let t = tx.text(&e.value, &e.at, None);
        if !values.contains(&t) {
            values.push(t);
        }
    }
    let primitive = [String::new()];
    let mut items = Vec::new();
    for value in &values {
        let one = [value.clone()];
        let d = find_element(&dest, &primitive, &one, tx).map(|i| &dest[i]);
        let patch = if same { &dest } else { patch };
        let p = find_element(patch, &primitive, &one, tx).map(|i| &patch[i]);
        // The merged scalar is the patch's node when it has one.
        let merged_at = p.or(d).map_or(At::Unknown, |e| e.at.clone());
        let from = Landed::merged(d.map(|e| &e.from), p.map(|e| &e.from), Landing::Merged);
        let at = Sides {
            dest: d.map_or(At::Unknown, |e| e.at.clone()),
            patch: p.map_or(At::Unknown, |e| e.at.clone()),
            dest_side: from.side(),
            same,
        };
        let (d, p) = (d.map(|e| e.value.clone()), p.map(|e| e.value.clone()));
        let p = p.as_ref();
        match merge(d, p, schema.unknown(), path, tx, &at)? {
            Some(m) if !is_empty_map(&m.value) => {
                let merged = Item { value: m.value, at: merged_at, from };
                set_element(&mut items, Some(merged), &primitive, &one, tx)
            }
            _ => set_element(&mut dest, None, &primitive, &one, tx),
        }
    }
    if !values.is_empty() {
        for e in dest {
            // An empty collection merges as nothing and leaves the list; a
            // collection after it is set back as a scalar, which fails.
            if matches!(e.value, Value::Map(_) | Value::Seq(_)) {
                let origin = if same { Origin::Patch } else { Origin::Target };
                return Err(element_of_wrong_kind(path, "Scalar", &e.value, origin));
            }
            let one = [tx.text(&e.value, &e.at, None)];
            set_element(&mut items, Some(e), &primitive, &one, tx);
        }
    }
    Ok(items)
}

fn is_empty_map(v: &Value) -> bool {
    matches!(v, Value::Map(m) if m.is_empty())
}

/// The text of `key` in a list element, when the element is a map that has it.
fn field_text(elem: &Item, key: &str, tx: &Texts<'_>) -> Option<String> {
    elem.value.as_map()?.get(key).map(|v| tx.text(v, &elem.at, Some(key)))
}

/// The index of the first element whose `keys` equal `values` exactly
/// (kyaml's `ElementList`): a missing field never matches, not even `""`.
/// A single empty key compares scalar elements by their text.
fn find_element(
    list: &[Item],
    keys: &[String],
    values: &[String],
    tx: &Texts<'_>,
) -> Option<usize> {
    if keys.first().is_none_or(String::is_empty) {
        let want = values.first()?;
        return list.iter().position(|e| {
            shape(&e.value) == Some(Shape::Scalar) && tx.text(&e.value, &e.at, None) == *want
        });
    }
    list.iter().position(|e| {
        e.value.as_map().is_some()
            && keys
                .iter()
                .zip(values)
                .all(|(k, v)| field_text(e, k, tx).as_deref() == Some(v.as_str()))
    })
}

/// kyaml's `ElementSetter`: every element matching `keys`/`values` is
/// replaced by `element`, or removed when `element` is `None`; an element
/// that matches nothing is appended. Unlike [`find_element`], an empty
/// value matches any element that has the field. Null elements and empty
/// maps are dropped on the way, as kyaml drops them; a null `element`
/// deletes, as `None` does.
fn set_element(
    list: &mut Vec<Item>,
    element: Option<Item>,
    keys: &[String],
    values: &[String],
    tx: &Texts<'_>,
) {
    let element = element.filter(|e| !e.value.is_null());
    let primitive = keys.first().is_none_or(String::is_empty);
    let mut found = false;
    let old = std::mem::take(list);
    for e in old {
        if e.value.is_null() || is_empty_map(&e.value) {
            continue;
        }
        let matches = if primitive {
            shape(&e.value) == Some(Shape::Scalar)
                && values.first().is_some_and(|v| *v == tx.text(&e.value, &e.at, None))
        } else if e.value.as_map().is_none() {
            // kyaml keeps elements that are not maps when it matches maps.
            list.push(e);
            continue;
        } else {
            // kyaml reuses the last comparison for keys that have no value,
            // and with no value at all matches nothing.
            let mut last = false;
            for (j, k) in keys.iter().enumerate() {
                if let Some(v) = values.get(j) {
                    last = match field_text(&e, k, tx) {
                        Some(t) => v.is_empty() || t == *v,
                        None => false,
                    };
                }
                if !last {
                    break;
                }
            }
            last
        };
        if !matches {
            // kyaml keeps non-matching elements only when it matched by value.
            if !values.is_empty() {
                list.push(e);
            }
            continue;
        }
        found = true;
        if let Some(el) = &element {
            list.push(el.clone());
        }
    }
    if let Some(el) = element
        && !found
    {
        list.push(el);
    }
}

/// kyaml's `validateKeys`: the keys that some element of the list has a
/// value for, and this element's values for them.
fn valid_keys(
    all: &[Vec<String>],
    values: &[String],
    keys: &[String],
) -> (Vec<String>, Vec<String>) {
    let used: Vec<&String> = keys
        .iter()
        .enumerate()
        .filter(|(i, _)| all.iter().any(|vs| vs.get(*i).is_some_and(|v| !v.is_empty())))
        .map(|(_, k)| k)
        .collect();
    if used.is_empty() {
        return (keys.to_vec(), values.to_vec());
    }
    let vk = keys.iter().filter(|k| used.contains(k)).cloned().collect();
    let vv = values
        .iter()
        .zip(keys)
        .filter(|(v, k)| !v.is_empty() || used.contains(k))
        .map(|(v, _)| v.clone())
        .collect();
    (vk, vv)
}

/// kyaml's `mergeValues`: tuples that agree wherever both have a value are
/// unified, so a port without a protocol and the same port with one count
/// as one element.
fn unify_tuples(list: &mut [Vec<String>]) {
    for i in 0..list.len() {
        let first = list[i].clone();
        for j in 0..list.len() {
            if let Some(unified) = unify(&first, &list[j]) {
                list[i] = unified.clone();
                list[j] = unified;
            }
        }
    }
}

fn unify(a: &[String], b: &[String]) -> Option<Vec<String>> {
    if a.len() != b.len() {
        return None;
    }
    let mut common = false;
    let mut out = Vec::with_capacity(a.len());
    for (x, y) in a.iter().zip(b) {
        if x == y {
            common = true;
            out.push(x.clone());
        } else if !x.is_empty() && !y.is_empty() {
            return None;
        } else {
            out.push(if x.is_empty() { y.clone() } else { x.clone() });
        }
    }
    common.then_some(out)
}

/// A list of maps merged by `keys`.
fn merge_keyed(
    mut dest: Vec<Item>,
    patch: &[Item],
    same: bool,
    keys: &[String],
    elem_schema: Schema<'_>,
    path: &mut Vec<String>,
    tx: &Texts<'_>,
) -> Result<Vec<Item>, Error> {
    // kyaml reads each element of the target's list as a map to find its
    // keys, and fails on the first that is no map (a patch's are skipped).
    if let Some(e) = dest.iter().find(|e| !matches!(e.value, Value::Map(_) | Value::Null)) {
        return Err(element_of_wrong_kind(path, "Mapping", &e.value, Origin::Target));
    }
    let keys: Vec<String> = keys.to_vec();
    let mut tuples: Vec<Vec<String>> = Vec::new();
    // kyaml's `ElementValuesList`: an element that is no map (a null in
    // the target, any scalar in the patch) has "" for every key, so it walks
    // the tuple that deletes every keyed element left in the target.
    // A key whose value is null (`~`, `null`) counts as missing there, as
    // kyaml's `IsNilOrEmpty` reads it, while the matchers still compare the
    // node's text: such an element matches no tuple and is dropped.
    for e in patch.iter().chain(dest.iter()) {
        let t: Vec<String> = keys
            .iter()
            .map(|k| match e.value.as_map().and_then(|m| m.get(k)) {
                Some(Value::Null) => String::new(),
                _ => field_text(e, k, tx).unwrap_or_default(),
            })
            .collect();
        if !tuples.contains(&t) {
            tuples.push(t);
        }
    }
    if keys.len() > 1 {
        unify_tuples(&mut tuples);
    }
    let mut items = Vec::new();
    let mut last_keys = keys.clone();
    for values in &tuples {
        let (vk, vv) = valid_keys(&tuples, values, &keys);
        last_keys.clone_from(&vk);
        let (lk, lv) = valid_keys(std::slice::from_ref(&vv), &vv, &vk);
        let di = find_element(&dest, &lk, &lv, tx);
        // A list that is the patch's own node is its patch as it is now
        // (copied, as the walk changes that node below).
        let own;
        let p = if same {
            own = find_element(&dest, &lk, &lv, tx).map(|i| dest[i].clone());
            own.as_ref()
        } else {
            find_element(patch, &lk, &lv, tx).map(|i| &patch[i])
        };
        // The merged element is the target's node when it has one.
        let at = Sides {
            dest: di.map_or(At::Unknown, |i| dest[i].at.clone()),
            patch: p.map_or(At::Unknown, |e| e.at.clone()),
            dest_side: di.map_or(Side::Patch, |i| dest[i].from.side()),
            same,
        };
        let merged_at = if di.is_some() { at.dest.clone() } else { at.patch.clone() };
        path.push(format!("[{}]", vv.join(",")));
        let d = di.map(|i| dest[i].value.clone());
        let merged = merge(d, p.map(|e| &e.value), elem_schema, path, tx, &at)?;
        path.pop();
        // In a list only the patch has (see `add`), the target's element is
        // the patch's own node, which kyaml changes in place: the directive
        // it elides from the patch's element is gone from the target's, and
        // an element it replaces is the merged one (recorded from `kubectl
        // kustomize`: case 4540).
        let same_node = di.filter(|&i| {
            let d = &dest[i].from;
            d.target.is_none() && d.patch.is_some() && d.patch == p.and_then(|e| e.from.patch)
        });
        if let Some(Value::Map(m)) = same_node.map(|i| &mut dest[i].value) {
            m.shift_remove(DIRECTIVE);
        }
        let Some(Merged { mut value, in_place, landing }) =
            merged.filter(|m| !is_empty_map(&m.value))
        else {
            set_element(&mut dest, None, &vk, &vv, tx);
            continue;
        };
        if let Value::Map(m) = &mut value {
            for (k, v) in vk.iter().zip(&vv) {
                if !m.contains_key(k) && !v.is_empty() {
                    m.insert(k.clone(), resolve_plain(v));
                }
            }
        }
        let from = Landed::merged(di.map(|i| &dest[i].from), p.map(|e| &e.from), landing);
        let merged = Item { value, at: merged_at, from };
        if let (Some(i), true) = (di, in_place || same_node.is_some()) {
            dest[i] = merged.clone();
        }
        set_element(&mut items, Some(merged), &vk, &vv, tx);
    }
    if tuples.is_empty() {
        return Ok(dest);
    }
    // kustomize prepends the patch's elements: the target's elements are set
    // into the list after them, replacing the ones they match.
    for e in dest {
        let mut values = Vec::new();
        for k in &last_keys {
            match field_text(&e, k, tx) {
                Some(t) => values.push(t),
                None => items.push(e.clone()),
            }
        }
        if last_keys.len() > 1 {
            set_element(&mut items, None, &last_keys, &values, tx);
        }
        set_element(&mut items, Some(e), &last_keys, &values, tx);
    }
    Ok(items)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;

    fn yaml(text: &str) -> Value {
        parse_documents(text, "test").expect("test YAML parses").remove(0)
    }

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n";

    #[test]
    fn merges() {
        // (target spec, patch spec, merged spec) of a v1 Pod.
        let cases: &[(&str, &str, &str)] = &[
            ("{a: 1, b: {c: 2}}", "{b: {d: 3}, a: null}", "{b: {c: 2, d: 3}}"),
            (
                "{containers: [{name: a, image: a1}, {name: b}]}",
                "{containers: [{name: c}, {name: a, image: a2}]}",
                "{containers: [{name: c}, {name: a, image: a2}, {name: b}]}",
            ),
            (
                "{containers: [{name: a}, {name: b}]}",
                "{containers: [{name: a, $patch: delete}]}",
                "{containers: [{name: b}]}",
            ),
            (
                "{containers: [{name: a}, {name: b}]}",
                "{containers: [{name: x}, {$patch: replace}]}",
                "{containers: [{name: x}]}",
            ),
            ("{tolerations: [{key: a}]}", "{tolerations: [{key: b}]}", "{tolerations: [{key: b}]}"),
            ("{x: {y: 1}}", "{x: {$patch: replace, z: 2}}", "{x: {z: 2}}"),
            ("{x: {y: 1}, w: 1}", "{x: {$patch: delete}}", "{w: 1}"),
            (
                "{containers: [{name: a, ports: [{containerPort: 80, protocol: TCP}, {containerPort: 53, protocol: UDP}]}]}",
                "{containers: [{name: a, ports: [{containerPort: 53, protocol: UDP, name: dns}, {containerPort: 8080, protocol: TCP}]}]}",
                "{containers: [{name: a, ports: [{containerPort: 8080, protocol: TCP}, {containerPort: 80, protocol: TCP}, {containerPort: 53, protocol: UDP, name: dns}]}]}",
            ),
            ("{n: {a: 1}}", "{m: {a: null, b: 2}}", "{n: {a: 1}, m: {b: 2}}"),
        ];
        for (target, patch, want) in cases {
            let target = yaml(&format!("{POD}spec: {target}"));
            let patch = yaml(&format!("{POD}spec: {patch}"));
            let gvk = Gvk::from_api_version("v1", "Pod");
            let got = apply(&target, &patch, &gvk).unwrap_or_else(|e| panic!("{patch:?}: {e}"));
            assert_eq!(got, Some(yaml(&format!("{POD}spec: {want}"))), "patch {patch:?}");
        }
    }

    #[test]
    fn deletes_whole_object_and_reports_errors() {
        let gvk = Gvk::from_api_version("v1", "Pod");
        let target = yaml(&format!("{POD}spec: {{a: 1, l: [1]}}"));
        assert_eq!(apply(&target, &yaml(&format!("{POD}$patch: delete")), &gvk), Ok(None));
        let bad: &[(&str, &str)] = &[
            (
                "spec: {a: {b: 1}}",
                "wrong node kind: expected ScalarNode but got MappingNode: node contents:\nb: 1\n",
            ),
            (
                "spec: {l: x}",
                "wrong node kind: expected SequenceNode but got ScalarNode: node contents:\nx\n",
            ),
            ("spec: {$patch: nope}", "unknown patch strategy 'nope' at spec"),
        ];
        for (patch, message) in bad {
            let err = apply(&target, &yaml(&format!("{POD}{patch}")), &gvk).expect_err(patch);
            assert_eq!(err.to_string(), *message);
        }
        assert!(matches!(apply(&target, &yaml("[1]"), &gvk), Err(Error::PatchNotMap { .. })));
    }

    #[test]
    fn patch_labels_are_strings() {
        let gvk = Gvk::from_api_version("example.com/v1", "Widget");
        let target = yaml("metadata: {name: w, labels: {a: x}}");
        let patch = yaml("metadata: {labels: {a: null, b: 2, c: true}}");
        let want = yaml("metadata: {name: w, labels: {a: 'null', b: '2', c: 'true'}}");
        assert_eq!(apply(&target, &patch, &gvk), Ok(Some(want)));
    }
}
