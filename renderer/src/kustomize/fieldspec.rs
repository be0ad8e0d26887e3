//! Field spec walks: how a transformer reaches the fields a field spec names, and kustomize's errors on the way.

use super::build_annotations;
use crate::resource::{Resource, Step};
use crate::value::{Map, Value};

/// Where and why kustomize's field walk stopped a build: the reason, after
/// the words each list the walk went through puts before it (see
/// [`traversal_wraps`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{wraps}{reason}")]
pub struct WalkFailure {
    /// Why the walk stopped.
    pub reason: WalkError,
    /// `visit traversal on path: [REST]: ` for each list on the way.
    pub wraps: String,
    /// Where in the object the walk stopped.
    pub at: Vec<Step>,
}

impl WalkFailure {
    /// The walk's failure, unless a setter refused a slot it reached
    /// earlier (`refused`: where): kustomize's walk goes item by item and
    /// stops at the first failure of either kind, so `Ok` means the
    /// refusal is the error to report.
    pub fn unless_refused_before(
        walked: Result<(), Self>,
        refused: Option<&[Step]>,
    ) -> Result<(), Self> {
        match (walked, refused) {
            (Err(e), Some(at)) if at < &e.at[..] => Ok(()),
            (walked, _) => walked,
        }
    }
}

/// Why kustomize's field walk stops a build.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WalkError {
    /// The path has an empty segment (or is empty).
    #[error("cannot set or create an empty field name")]
    EmptyField,
    /// A scalar stands where the path goes on.
    #[error("expected sequence or mapping node")]
    NotContainer,
}

/// kustomize's message for a field walk that failed in an object:
/// `considering field 'PATH' of object Kind.version.group/name.namespace: WHY`.
pub fn field_error(r: &Resource, path: &str, why: impl std::fmt::Display) -> String {
    format!("considering field '{path}' of object {}: {why}", r.id().kustomize_form())
}

/// Calls `set` on every scalar (or null, or just created) slot at the
/// spec's path in `r`, as kustomize's scalar setters do; the walk failing,
/// or a list or a map at the end of the path, is the error kustomize gives.
pub fn set_scalars(
    r: &mut Resource,
    path: &str,
    create: bool,
    set: &mut dyn FnMut(&[Step], &mut Value),
) -> Result<(), String> {
    let mut wrong = None;
    let walked = with_held_annotations(r, &segments(path), |r| {
        visit_checked_node(&mut r.value, path, create, &mut |at, slot| match slot {
            Value::Seq(_) | Value::Map(_) => {
                wrong.get_or_insert_with(|| (slot.clone(), at.to_vec()));
            }
            _ => set(at, slot),
        })
    });
    if let Err(e) =
        WalkFailure::unless_refused_before(walked, wrong.as_ref().map(|(_, at)| &at[..]))
    {
        return Err(field_error(r, path, e));
    }
    match wrong {
        Some((node, at)) => {
            let why = format!("{}{}", traversal_wraps(path, &at), scalar_expected(r, &at, &node));
            Err(field_error(r, path, why))
        }
        None => Ok(()),
    }
}

/// Runs `walk` (down the path `segs`) over `r` as kustomize holds it:
/// kustomize keeps its build annotations in the object's annotations map
/// until the end of the build, so a walk into `metadata/annotations` finds
/// a map even where the object has none. A map the walk leaves empty goes
/// again.
pub fn with_held_annotations<T>(
    r: &mut Resource,
    segs: &[String],
    walk: impl FnOnce(&mut Resource) -> T,
) -> T {
    let held = segs.len() >= 2
        && segs[0] == "metadata"
        && segs[1] == "annotations"
        && build_annotations::holds_any(r)
        && metadata_mut(r).is_some_and(|m| {
            !m.contains_key("annotations")
                && m.insert("annotations".into(), Value::Map(Map::new())).is_none()
        });
    let out = walk(r);
    if let Some(meta) = metadata_mut(r).filter(|_| held) {
        if matches!(meta.get("annotations"), Some(Value::Map(m)) if m.is_empty()) {
            meta.shift_remove("annotations");
        }
    }
    out
}

/// `metadata` of `r`, where it is a map.
fn metadata_mut(r: &mut Resource) -> Option<&mut Map> {
    r.value.get_path_mut(&["metadata"]).and_then(Value::as_map_mut)
}

/// The words kustomize's field spec walk puts before an error met at `at`
/// (a place `path` reached): for each list the walk went through, `visit
/// traversal on path: [REST]: `, REST being the path's fields after it.
pub fn traversal_wraps(path: &str, at: &[Step]) -> String {
    let segs: Vec<String> = marked_segments(path)
        .into_iter()
        .map(|(name, list)| if list { name + "[]" } else { name })
        .collect();
    let mut consumed = 0;
    let mut out = String::new();
    for step in at {
        match step {
            Step::Key(_) => consumed += 1,
            Step::Index(_) => {
                let rest = segs.get(consumed..).unwrap_or_default();
                out.push_str(&format!("visit traversal on path: [{}]: ", rest.join(" ")));
            }
        }
    }
    out
}

/// kustomize's complaint about a `Sequence` or `Mapping` node where a
/// scalar must be, which shows the node (`node`, at `at` in `r`).
pub fn scalar_expected(r: &Resource, at: &[Step], node: &Value) -> String {
    wrong_kind(r, at, node, "Scalar")
}

/// kyaml's complaint about a node (`node`, at `at` in `r`) of another kind
/// than the `expected` one (`Scalar`, `Sequence` or `Mapping`).
pub fn wrong_kind(r: &Resource, at: &[Step], node: &Value, expected: &str) -> String {
    let kind = match node {
        Value::Seq(_) => "Sequence",
        Value::Map(_) => "Mapping",
        _ => "Scalar",
    };
    format!(
        "wrong node kind: expected {expected}Node but got {kind}Node: {}",
        node_contents(r, at, node)
    )
}

/// How kyaml shows a node it did not expect (`node`, at `at` in `r`):
/// `node contents:` and the node as YAML, in the styles its text wrote.
pub fn node_contents(r: &Resource, at: &[Step], node: &Value) -> String {
    format!("node contents:\n{}", r.node_dump(at, node))
}

/// Calls `f` on every value at `path` inside `v`, walking sequences item by
/// item and creating missing maps when `create` is set. The callback gets
/// the value slot (possibly `Null` when just created).
pub fn visit_mut(v: &mut Value, path: &str, create: bool, f: &mut dyn FnMut(&mut Value)) {
    visit_mut_at(v, path, create, &mut |_, slot| f(slot));
}

/// Like [`visit_mut_at`], but fails where kustomize's walk fails: on an
/// empty path segment, and on a scalar where the path goes on. Slots met
/// before the failure have been visited.
pub fn visit_checked(
    v: &mut Value,
    path: &str,
    create: bool,
    f: &mut dyn FnMut(&[Step], &mut Value),
) -> Result<(), WalkFailure> {
    walk_path(v, path, Walk { create, into_last_list: true }, f)
}

/// Like [`visit_checked`], but a list at the end of the path is handed over
/// whole, as kustomize's setters of scalars receive it (and refuse it).
pub fn visit_checked_node(
    v: &mut Value,
    path: &str,
    create: bool,
    f: &mut dyn FnMut(&[Step], &mut Value),
) -> Result<(), WalkFailure> {
    walk_path(v, path, Walk { create, into_last_list: false }, f)
}

/// The segments of a `/`-separated path; `\/` is a slash inside a
/// segment (an annotation key such as `example.com\/name`), and a
/// trailing `[]` (a list marker) is dropped.
pub fn segments(path: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if chars.peek() == Some(&'/') => {
                cur.push('/');
                chars.next();
            }
            '/' => out.push(std::mem::take(&mut cur)),
            c => cur.push(c),
        }
    }
    out.push(cur);
    out.into_iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.strip_suffix("[]").map(str::to_string).unwrap_or(s))
        .collect()
}

/// The segments of a path, each with whether it carries the `[]` list
/// marker: kustomize never creates a field so marked (it cannot invent list
/// items), it only walks it when it is there.
pub fn marked_segments(path: &str) -> Vec<(String, bool)> {
    let mut out = Vec::new();
    let mut cur = String::new();
    // kustomize's path splitter lets a path start with a separator
    // (`/spec/replicas`): an empty first part is dropped when more follow.
    let mut parts = path.split('/').peekable();
    if path.starts_with('/') && path.len() > 1 {
        parts.next();
    }
    // Re-split with the escape rules of `segments`, keeping the markers.
    for part in parts {
        if let Some(stripped) = part.strip_suffix('\\') {
            cur.push_str(stripped);
            cur.push('/');
            continue;
        }
        cur.push_str(part);
        let seg = std::mem::take(&mut cur);
        match seg.strip_suffix("[]") {
            Some(name) => out.push((name.to_string(), true)),
            None => out.push((seg, false)),
        }
    }
    if !cur.is_empty() {
        out.push((cur, false));
    }
    out
}

/// How a walk goes.
#[derive(Clone, Copy)]
struct Walk {
    /// Create missing maps.
    create: bool,
    /// Call back on each item of a list at the end of the path, rather than
    /// on the list.
    into_last_list: bool,
}

/// Walks `segs` from `v`, calling `f` at the end. As kustomize's walk, it
/// stops quietly at a missing or null field it may not create, turns a null
/// field marked `[]` into an empty list, and fails on an empty segment or
/// a scalar in the way (the first failure is kept in `err`; the walk of
/// other branches goes on).
fn walk(
    v: &mut Value,
    segs: &[(String, bool)],
    how: Walk,
    at: &mut Vec<Step>,
    f: &mut dyn FnMut(&[Step], &mut Value),
    err: &mut Option<(WalkError, Vec<Step>)>,
) {
    if let Value::Seq(items) = v {
        if !segs.is_empty() || how.into_last_list {
            for (i, item) in items.iter_mut().enumerate() {
                at.push(Step::Index(i));
                if segs.is_empty() {
                    // The items of the last list, whatever they are (a list
                    // inside it is an item, not walked into).
                    f(at, item);
                } else {
                    walk(item, segs, how, at, f, err);
                }
                at.pop();
            }
            return;
        }
    }
    let Some(((first, list), rest)) = segs.split_first() else {
        f(at, v);
        return;
    };
    let m = match v {
        Value::Map(m) => m,
        Value::Null => return,
        _ => {
            err.get_or_insert_with(|| (WalkError::NotContainer, at.clone()));
            return;
        }
    };
    if first.is_empty() {
        err.get_or_insert_with(|| (WalkError::EmptyField, at.clone()));
        return;
    }
    let create_here = how.create && !list;
    if !m.contains_key(first) {
        if !create_here {
            return;
        }
        m.insert(first.clone(), if rest.is_empty() { Value::Null } else { Value::Map(Map::new()) });
    }
    if let Some(child) = m.get_mut(first) {
        if child.is_null() {
            if *list {
                *child = Value::Seq(Vec::new());
            } else if !rest.is_empty() {
                if !create_here {
                    return;
                }
                *child = Value::Map(Map::new());
            }
        }
        at.push(Step::Key(first.clone()));
        walk(child, rest, how, at, f, err);
        at.pop();
    }
}

/// Like [`visit_mut`], but the callback also gets the concrete path of the
/// slot (map keys and sequence indexes).
pub fn visit_mut_at(
    v: &mut Value,
    path: &str,
    create: bool,
    f: &mut dyn FnMut(&[Step], &mut Value),
) {
    let _ = walk_path(v, path, Walk { create, into_last_list: true }, f);
}

/// Like [`visit_mut_at`], but a list at the end of the path is handed over
/// whole, as kustomize's var substitution receives it.
pub fn visit_mut_node(v: &mut Value, path: &str, f: &mut dyn FnMut(&[Step], &mut Value)) {
    let how = Walk { create: false, into_last_list: false };
    let _ = walk_path(v, path, how, f);
}

fn walk_path(
    v: &mut Value,
    path: &str,
    how: Walk,
    f: &mut dyn FnMut(&[Step], &mut Value),
) -> Result<(), WalkFailure> {
    walk_split(v, path, &marked_segments(path), how, f)
}

/// Like [`visit_checked`] without creating fields, for `path` already
/// split by [`marked_segments`] (once for the many objects it is walked in).
pub fn visit_checked_split(
    v: &mut Value,
    path: &str,
    segs: &[(String, bool)],
    f: &mut dyn FnMut(&[Step], &mut Value),
) -> Result<(), WalkFailure> {
    walk_split(v, path, segs, Walk { create: false, into_last_list: true }, f)
}

fn walk_split(
    v: &mut Value,
    path: &str,
    segs: &[(String, bool)],
    how: Walk,
    f: &mut dyn FnMut(&[Step], &mut Value),
) -> Result<(), WalkFailure> {
    let mut err = None;
    walk(v, segs, how, &mut Vec::new(), f, &mut err);
    match err {
        None => Ok(()),
        Some((reason, at)) => Err(WalkFailure { reason, wraps: traversal_wraps(path, &at), at }),
    }
}

/// Where walking `path` in `v` first meets a scalar where a map or
/// sequence must be (kustomize's field walk fails there: "expected
/// sequence or mapping node"), a scalar item of a list on the way
/// included. A null or missing field just ends the walk. `segs`: the
/// path's [`segments`].
pub fn blocked_by_scalar(v: &Value, segs: &[String]) -> Option<Vec<Step>> {
    fn go(v: &Value, segs: &[String], at: &mut Vec<Step>) -> bool {
        match v {
            Value::Seq(items) => items.iter().enumerate().any(|(i, item)| {
                at.push(Step::Index(i));
                let found = go(item, segs, at);
                if !found {
                    at.pop();
                }
                found
            }),
            Value::Map(m) => match segs.split_first() {
                None => false,
                Some((first, rest)) => m.get(first).is_some_and(|c| {
                    at.push(Step::Key(first.clone()));
                    let found = go(c, rest, at);
                    if !found {
                        at.pop();
                    }
                    found
                }),
            },
            Value::Null => false,
            _ => !segs.is_empty(),
        }
    }
    let mut at = Vec::new();
    go(v, segs, &mut at).then_some(at)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    #[test]
    fn list_markers_are_walked_never_created() {
        // (document, path, create, document after setting every slot to "x")
        let cases = [
            ("a: {}\n", "a/b[]/c", true, "a: {}\n"),
            ("a: {b: [{}, {c: 1}]}\n", "a/b[]/c", true, "a: {b: [{c: x}, {c: x}]}\n"),
            ("a: {b: [{}]}\n", "a/b[]/c/d", true, "a: {b: [{c: {d: x}}]}\n"),
            ("{}\n", "a/b/c", true, "a: {b: {c: x}}\n"),
            ("{}\n", "a/b/c", false, "{}\n"),
            ("a: {b/c: 1}\n", "a/b\\/c", false, "a: {b/c: x}\n"),
            // A null field marked as a list becomes an empty list; unmarked it stays.
            ("a: {b: null}\n", "a/b[]/c", false, "a: {b: []}\n"),
            ("a: {b: null}\n", "a/b/c", false, "a: {b: null}\n"),
        ];
        for (doc, path, create, want) in cases {
            let mut v = yaml::parse_documents(doc, "d").unwrap().remove(0);
            visit_mut(&mut v, path, create, &mut |slot| *slot = Value::String("x".into()));
            let want = yaml::parse_documents(want, "w").unwrap().remove(0);
            assert_eq!(v, want, "{doc} {path}");
        }
    }

    #[test]
    fn checked_walk_fails_where_kustomize_does() {
        let cases = [
            ("a: {b: x}\n", "a/b/c", Err("expected sequence or mapping node")),
            (
                "a: [x, {b: 1}]\n",
                "a/b",
                Err("visit traversal on path: [b]: expected sequence or mapping node"),
            ),
            ("a: {b: null}\n", "a/b/c", Ok(())),
            ("a: {}\n", "", Err("cannot set or create an empty field name")),
            ("a: {}\n", "a//b", Err("cannot set or create an empty field name")),
            ("a: {b: 1}\n", "/a/b", Ok(())),
            ("a: {}\n", "/", Err("cannot set or create an empty field name")),
            ("a: {b: x}\n", "a/b", Ok(())),
        ];
        for (doc, path, want) in cases {
            let mut v = yaml::parse_documents(doc, "d").unwrap().remove(0);
            let got = visit_checked(&mut v, path, true, &mut |_, _| {}).map_err(|e| e.to_string());
            assert_eq!(got, want.map_err(str::to_string), "{doc} {path}");
        }
    }
}
