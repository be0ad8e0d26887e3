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

use super::schema::{FieldComment, OpenApi, Schema};
use super::{Error, Origin};
use crate::resource::{Gvk, Step};
use crate::value::{Map, Value};
use crate::yaml::resolve::resolve_plain;
use std::borrow::Cow;

/// The key of a strategic merge patch directive.
const DIRECTIVE: &str = "$patch";

/// Applies one strategic merge patch document to one object of kind `gvk`.
///
/// Returns `None` when the patch deletes the whole object (`$patch: delete`
/// at its top level). The patch's name, namespace and kind are merged like
/// any other field: restoring them is the caller's business, as it is in
/// kustomize's patch transformer.
pub fn apply(target: &Value, patch: &Value, gvk: &Gvk) -> Result<Option<Value>, Error> {
    apply_with(target, patch, gvk, OpenApi::builtin(), &[])
}

/// [`apply`] with the merge keys of `schema` (an `openapi:` file) instead of
/// kustomize's built-in schema, and the schemas written in comments on
/// fields of the target and then of the patch (see [`FieldComment`]),
/// which win over it.
pub fn apply_with(
    target: &Value,
    patch: &Value,
    gvk: &Gvk,
    schema: &OpenApi,
    comments: &[(Vec<String>, FieldComment)],
) -> Result<Option<Value>, Error> {
    if !matches!(patch, Value::Map(_)) {
        return Err(Error::PatchNotMap { got: patch.type_name() });
    }
    let mut patch = patch.clone();
    stringify_metadata(&mut patch);
    apply_verbatim_with(target, &patch, gvk, schema, comments)
}

/// [`apply`] as the `patches:` field applies a strategic merge patch: the
/// patch is not loaded as an object first, so `null` in its own labels and
/// annotations deletes them instead of becoming `"null"` (recorded from
/// `kubectl kustomize`: corpus case 085 against patch case
/// smp-null-last-annotation, which uses `patchesStrategicMerge`).
pub fn apply_verbatim(target: &Value, patch: &Value, gvk: &Gvk) -> Result<Option<Value>, Error> {
    apply_verbatim_with(target, patch, gvk, OpenApi::builtin(), &[])
}

/// [`apply_verbatim`] with the merge keys of `schema` and the schemas
/// written in comments (see [`apply_with`]).
pub fn apply_verbatim_with(
    target: &Value,
    patch: &Value,
    gvk: &Gvk,
    schema: &OpenApi,
    comments: &[(Vec<String>, FieldComment)],
) -> Result<Option<Value>, Error> {
    if !matches!(patch, Value::Map(_)) {
        return Err(Error::PatchNotMap { got: patch.type_name() });
    }
    let patch = patch.clone();
    let schema = schema.root(gvk).with_comments(comments);
    let merged = merge(Some(target.clone()), Some(&patch), schema, &mut Vec::new())?;
    // kustomize keeps the object it merged into in place and ignores what the
    // merge returns unless it is nothing: a top-level `$patch: replace`,
    // which returns the patch instead, leaves the object as it was.
    Ok(merged.map(|m| if m.in_place { m.value } else { target.clone() }))
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

/// The result of merging one node.
struct Merged {
    value: Value,
    /// Whether the target's node was updated rather than replaced by the
    /// patch's: kyaml edits the target in place, and list merging later
    /// copies target elements back over merged ones, so the difference shows.
    in_place: bool,
}

impl Merged {
    fn kept(value: Value) -> Option<Merged> {
        Some(Merged { value, in_place: true })
    }
    fn new(value: Value) -> Option<Merged> {
        Some(Merged { value, in_place: false })
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
) -> Result<Option<Merged>, Error> {
    let dest_shape = dest.as_ref().and_then(shape);
    let patch_shape = patch.and_then(shape);
    let Some(kind) = dest_shape.or(patch_shape) else {
        // Neither side has a value: an explicit null in the target survives
        // a patch that does not mention it; a null in the patch clears it.
        return Ok(match (dest, patch) {
            (Some(Value::Null), None) => Merged::kept(Value::Null),
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
            // string. A string that plain YAML would read as something else
            // was certainly quoted; kiln cannot tell for other strings.
            Some(p @ (Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_))) if matches!(&dest, Some(Value::String(d)) if !matches!(resolve_plain(d), Value::String(_))) => {
                Merged::new(Value::String(scalar_text(p)))
            }
            Some(p) => Merged::new(p.clone()),
            None => dest.and_then(Merged::kept),
        }),
        Shape::Map => {
            let dest = match dest {
                Some(Value::Map(m)) => Some(m),
                _ => None,
            };
            let schema = schema.or_kind_of([dest.as_ref(), patch.and_then(Value::as_map)]);
            match patch {
                Some(Value::Null) => Ok(None),
                Some(Value::Map(p)) => merge_map(dest, Some(p), schema, path),
                _ => merge_map(dest, None, schema, path),
            }
        }
        Shape::Seq => {
            let dest = match dest {
                Some(Value::Seq(s)) => Some(s),
                _ => None,
            };
            match patch {
                Some(Value::Null) => Ok(None),
                Some(Value::Seq(p)) => merge_seq(dest, Some(p), schema, path),
                _ => merge_seq(dest, None, schema, path),
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
/// nulls and applies nested directives; merging a copy does the same.
fn add(patch: &Value, schema: Schema<'_>, path: &mut Vec<String>) -> Result<Option<Merged>, Error> {
    let merged = merge(Some(patch.clone()), Some(patch), schema, path)?;
    Ok(merged.map(|m| Merged { value: m.value, in_place: false }))
}

fn merge_map(
    dest: Option<Map>,
    patch: Option<&Map>,
    schema: Schema<'_>,
    path: &mut Vec<String>,
) -> Result<Option<Merged>, Error> {
    let Some(patch) = patch else {
        return Ok(dest.map(|d| walk_map(d, schema, path)).transpose()?.and_then(Merged::kept));
    };
    let had_directive = patch.contains_key(DIRECTIVE);
    let (directive, patch) = split_directive(patch, path)?;
    let mut dest = match (directive, dest) {
        (Directive::Delete, _) => return Ok(None),
        (Directive::Replace, _) | (Directive::Merge, None) => {
            return add(&Value::Map(patch.into_owned()), schema, path);
        }
        (Directive::Merge, Some(d)) => d,
    };
    if had_directive {
        // kyaml elides the directive from the patch node in place; when the
        // target node is that same node (see `add`) it loses it too.
        dest.shift_remove(DIRECTIVE);
    }
    check_keys(&dest, Some(&patch))?;
    // Fields only the target has are walked too; walking keeps the order.
    let unmentioned: Vec<String> =
        dest.keys().filter(|k| !patch.contains_key(*k)).cloned().collect();
    let fields = patch
        .iter()
        .map(|(k, v)| (k.clone(), Some(v)))
        .chain(unmentioned.into_iter().map(|k| (k, None)));
    for (key, pv) in fields {
        merge_field(&mut dest, key, pv, schema, path)?;
    }
    Ok(Merged::kept(Value::Map(dest)))
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
/// the merge leaves nothing.
fn merge_field(
    dest: &mut Map,
    key: String,
    patch: Option<&Value>,
    schema: Schema<'_>,
    path: &mut Vec<String>,
) -> Result<(), Error> {
    let dv = dest.get_mut(&key).map(std::mem::take);
    path.push(key.clone());
    let merged = merge(dv, patch, schema.field(&key).commented(path), path)?;
    path.pop();
    match merged {
        Some(m) => {
            dest.insert(key, m.value);
        }
        None => {
            dest.shift_remove(&key);
        }
    }
    Ok(())
}

/// Walks a map the patch does not mention, as kyaml's merge does: every
/// field is visited with no patch, so that the merged lists below it are
/// rebuilt (see [`merge_seq`]).
fn walk_map(mut dest: Map, schema: Schema<'_>, path: &mut Vec<String>) -> Result<Value, Error> {
    check_keys(&dest, None)?;
    let keys: Vec<String> = dest.keys().cloned().collect();
    for key in keys {
        merge_field(&mut dest, key, None, schema, path)?;
    }
    Ok(Value::Map(dest))
}

/// kyaml's directive for a whole list: the first element of the patch's list
/// that holds `$patch`, when that is its only key. The list without the
/// elements that carry that directive is what the patch then stands for.
fn list_directive(
    patch: &[Value],
    path: &[String],
) -> Result<Option<(Directive, Vec<Value>)>, Error> {
    let Some(Value::Map(first)) =
        patch.iter().find(|e| e.as_map().is_some_and(|m| m.contains_key(DIRECTIVE)))
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
        .filter(|e| e.as_map().is_none_or(|m| m.get(DIRECTIVE) != named))
        .cloned()
        .collect();
    Ok(Some((directive, rest)))
}

fn merge_seq(
    dest: Option<Vec<Value>>,
    patch: Option<&Vec<Value>>,
    schema: Schema<'_>,
    path: &mut Vec<String>,
) -> Result<Option<Merged>, Error> {
    let Some(keys) = schema.merge_keys() else {
        // Not merged: the patch's list, when it has one, wins as it is.
        return Ok(match patch {
            Some(p) => Merged::new(Value::Seq(p.clone())),
            None => dest.map(Value::Seq).and_then(Merged::kept),
        });
    };
    let Some(patch) = patch else {
        // kyaml's walk visits a merged list the patch does not mention as
        // well, which collapses elements that share a key (see `merge_keyed`).
        let Some(dest) = dest else { return Ok(None) };
        let walked = if keys.is_empty() {
            merge_scalar_set(dest, &[], schema, path)?
        } else {
            merge_keyed(dest, &[], keys, schema.elements(), path)?
        };
        return Ok(Merged::kept(Value::Seq(walked)));
    };
    // A list the target lacks is added as the patch has it, merged with
    // itself, before kyaml looks for a list directive; otherwise a
    // `{$patch: replace}` element makes the patch's list (without it) the result.
    let (dest, patch): (Vec<Value>, Cow<'_, [Value]>) = match dest {
        None => (patch.clone(), Cow::Borrowed(patch)),
        Some(d) => match list_directive(patch, path)? {
            // `{$patch: delete}` drops the target's list altogether.
            Some((Directive::Delete, _)) => return Ok(None),
            Some((Directive::Replace, rest)) => (rest.clone(), Cow::Owned(rest)),
            Some((Directive::Merge, rest)) => (d, Cow::Owned(rest)),
            None => (d, Cow::Borrowed(patch)),
        },
    };
    let merged = if keys.is_empty() {
        merge_scalar_set(dest, &patch, schema, path)?
    } else {
        merge_keyed(dest, &patch, keys, schema.elements(), path)?
    };
    Ok(Merged::new(Value::Seq(merged)))
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
    mut dest: Vec<Value>,
    patch: &[Value],
    schema: Schema<'_>,
    path: &mut Vec<String>,
) -> Result<Vec<Value>, Error> {
    // kyaml merges a set by its elements' text, which is empty for a
    // collection: the first collection of the target and that of the patch
    // merge as one element, which then fails as no scalar.
    let collection =
        |list: &[Value]| list.iter().find(|e| matches!(e, Value::Map(_) | Value::Seq(_))).cloned();
    let (d, p) = (collection(&dest), collection(patch));
    if d.is_some() || p.is_some() {
        if let Some(m) = merge(d.clone(), p.as_ref(), schema.unknown(), path)? {
            let origin = match (d, p) {
                (Some(t), Some(p)) => Origin::Merged { target: Box::new(t), patch: Box::new(p) },
                (Some(_), None) => Origin::Target,
                (None, _) => Origin::Patch,
            };
            return Err(element_of_wrong_kind(path, "Scalar", &m.value, origin));
        }
    }
    let mut values: Vec<String> = Vec::new();
    for v in patch.iter().chain(dest.iter()) {
        let t = scalar_text(v);
        if !values.contains(&t) {
            values.push(t);
        }
    }
    let primitive = [String::new()];
    let mut items = Vec::new();
    for value in &values {
        let one = [value.clone()];
        let d = find_element(&dest, &primitive, &one).map(|i| dest[i].clone());
        let p = find_element(patch, &primitive, &one).map(|i| &patch[i]);
        match merge(d, p, schema.unknown(), path)? {
            Some(m) if !is_empty_map(&m.value) => {
                set_element(&mut items, Some(m.value), &primitive, &one)
            }
            _ => set_element(&mut dest, None, &primitive, &one),
        }
    }
    if !values.is_empty() {
        for e in dest {
            let one = [scalar_text(&e)];
            set_element(&mut items, Some(e), &primitive, &one);
        }
    }
    Ok(items)
}

fn is_empty_map(v: &Value) -> bool {
    matches!(v, Value::Map(m) if m.is_empty())
}

/// The text of `key` in a list element, when the element is a map that has it.
fn field_text(elem: &Value, key: &str) -> Option<String> {
    elem.as_map()?.get(key).map(scalar_text)
}

/// The index of the first element whose `keys` equal `values` exactly
/// (kyaml's `ElementList`): a missing field never matches, not even `""`.
/// A single empty key compares scalar elements by their text.
fn find_element(list: &[Value], keys: &[String], values: &[String]) -> Option<usize> {
    if keys.first().is_none_or(String::is_empty) {
        let want = values.first()?;
        return list
            .iter()
            .position(|e| shape(e) == Some(Shape::Scalar) && scalar_text(e) == *want);
    }
    list.iter().position(|e| {
        e.as_map().is_some()
            && keys.iter().zip(values).all(|(k, v)| field_text(e, k).as_deref() == Some(v.as_str()))
    })
}

/// kyaml's `ElementSetter`: every element matching `keys`/`values` is
/// replaced by `element`, or removed when `element` is `None`; an element
/// that matches nothing is appended. Unlike [`find_element`], an empty
/// value matches any element that has the field. Null elements and empty
/// maps are dropped on the way, as kyaml drops them; a null `element`
/// deletes, as `None` does.
fn set_element(list: &mut Vec<Value>, element: Option<Value>, keys: &[String], values: &[String]) {
    let element = element.filter(|e| !e.is_null());
    let primitive = keys.first().is_none_or(String::is_empty);
    let mut found = false;
    let old = std::mem::take(list);
    for e in old {
        if e.is_null() || is_empty_map(&e) {
            continue;
        }
        let matches = if primitive {
            shape(&e) == Some(Shape::Scalar)
                && values.first().is_some_and(|v| *v == scalar_text(&e))
        } else if e.as_map().is_none() {
            // kyaml keeps elements that are not maps when it matches maps.
            list.push(e);
            continue;
        } else {
            // kyaml reuses the last comparison for keys that have no value,
            // and with no value at all matches nothing.
            let mut last = false;
            for (j, k) in keys.iter().enumerate() {
                if let Some(v) = values.get(j) {
                    last = match field_text(&e, k) {
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
    mut dest: Vec<Value>,
    patch: &[Value],
    keys: &[String],
    elem_schema: Schema<'_>,
    path: &mut Vec<String>,
) -> Result<Vec<Value>, Error> {
    // kyaml reads each element of the target's list as a map to find its
    // keys, and fails on the first that is no map (a patch's are skipped).
    if let Some(e) = dest.iter().find(|e| !matches!(e, Value::Map(_) | Value::Null)) {
        return Err(element_of_wrong_kind(path, "Mapping", e, Origin::Target));
    }
    let keys: Vec<String> = keys.to_vec();
    let mut tuples: Vec<Vec<String>> = Vec::new();
    // kyaml's `ElementValuesList`: an element that is no map (a null in
    // the target, any scalar in the patch) has "" for every key, so it walks
    // the tuple that deletes every keyed element left in the target.
    for e in patch.iter().chain(dest.iter()) {
        let t: Vec<String> = keys.iter().map(|k| field_text(e, k).unwrap_or_default()).collect();
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
        let di = find_element(&dest, &lk, &lv);
        let p = find_element(patch, &lk, &lv).map(|i| &patch[i]);
        path.push(format!("[{}]", vv.join(",")));
        let merged = merge(di.map(|i| dest[i].clone()), p, elem_schema, path)?;
        path.pop();
        let Some(Merged { mut value, in_place }) = merged.filter(|m| !is_empty_map(&m.value))
        else {
            set_element(&mut dest, None, &vk, &vv);
            continue;
        };
        if let Value::Map(m) = &mut value {
            for (k, v) in vk.iter().zip(&vv) {
                if !m.contains_key(k) && !v.is_empty() {
                    m.insert(k.clone(), resolve_plain(v));
                }
            }
        }
        if let (Some(i), true) = (di, in_place) {
            dest[i] = value.clone();
        }
        set_element(&mut items, Some(value), &vk, &vv);
    }
    if tuples.is_empty() {
        return Ok(dest);
    }
    // kustomize prepends the patch's elements: the target's elements are set
    // into the list after them, replacing the ones they match.
    for e in dest {
        let mut values = Vec::new();
        for k in &last_keys {
            match field_text(&e, k) {
                Some(t) => values.push(t),
                None => items.push(e.clone()),
            }
        }
        if last_keys.len() > 1 {
            set_element(&mut items, None, &last_keys, &values);
        }
        set_element(&mut items, Some(e), &last_keys, &values);
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
