//! The ValueAddTransformer plugin: adds one value at field paths of selected objects.
//!
//! A target's field is created when missing and replaced when present; with
//! a `filePathPosition` the field holds a file path and the value becomes one
//! more segment of it. `metadata/namespace` is special, as in kustomize: it
//! moves namespaced objects (and role binding subjects named `default`)
//! into the namespace and leaves cluster-scoped objects alone.

use crate::gotmpl::sprig::path::clean;
use crate::kustomize::fieldspec;
use crate::kustomize::kustomization::Selector;
use crate::kustomize::select::Matcher;
use crate::kustomize::transform::replacements::{parse_selector, path_splitter};
use crate::resource::{NodeTexts, Resource, SchemaScopes, Step, retext};
use crate::value::Value;

/// One place the value goes.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Target {
    /// Which objects; `None` selects every object.
    pub selector: Option<Selector>,
    /// A `/`-separated path (`\/` is a slash inside a key).
    pub field_path: String,
    /// With a position `i > 0` the field holds a file path and the value is
    /// inserted as its `i`-th segment (past the end: appended).
    pub file_path_position: i64,
}

/// A ValueAddTransformer config, its targets file already read.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ValueAdd {
    /// The value (already trimmed and defaulted).
    pub value: String,
    /// Where it goes, in order.
    pub targets: Vec<Target>,
}

impl ValueAdd {
    /// Checks a config the way kustomize does before running it.
    pub fn validate(&self) -> Result<(), String> {
        if self.targets.is_empty() {
            return Err("must specify at least one target".into());
        }
        for t in &self.targets {
            if t.field_path.is_empty() {
                return Err("fieldPath cannot be empty".into());
            }
            if t.file_path_position < 0 {
                return Err(format!(
                    "value of FilePathPosition ({}) cannot be negative",
                    t.file_path_position
                ));
            }
        }
        Ok(())
    }
}

/// Reads a `targets` list (of a config, or of its `targetFilePath` file),
/// its keys already matched to the field names.
pub fn parse_targets(v: &Value) -> Result<Vec<Target>, String> {
    let items = match v {
        Value::Null => return Ok(Vec::new()),
        Value::Seq(items) => items,
        other => return Err(format!("targets: expected a list, found a {}", other.type_name())),
    };
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let ctx = format!("targets[{i}]");
        let m = item.as_map().ok_or_else(|| format!("{ctx}: expected a map"))?;
        let selector = match m.get("selector") {
            None | Some(Value::Null) => None,
            Some(s) => Some(parse_selector(s, &format!("{ctx}.selector"), false)?),
        };
        let field_path = match m.get("fieldPath") {
            None | Some(Value::Null) => String::new(),
            Some(Value::String(s)) => s.clone(),
            Some(other) => {
                return Err(format!(
                    "{ctx}.fieldPath: expected a string, found a {}",
                    other.type_name()
                ));
            }
        };
        let file_path_position = match m.get("filePathPosition") {
            None | Some(Value::Null) => 0,
            Some(Value::Int(n)) => *n,
            Some(other) => {
                return Err(format!(
                    "{ctx}.filePathPosition: expected an integer, found a {}",
                    other.type_name()
                ));
            }
        };
        out.push(Target { selector, field_path, file_path_position });
    }
    Ok(out)
}

const NAMESPACE_PATH: &str = "metadata/namespace";

/// Adds the value at every target.
pub fn apply(
    resources: &mut [Resource],
    va: &ValueAdd,
    scopes: &SchemaScopes,
) -> Result<(), String> {
    for t in &va.targets {
        let matcher = t.selector.as_ref().map(Matcher::new).transpose()?;
        for r in
            resources.iter_mut().filter(|r| matcher.as_ref().is_none_or(|m| m.matches(r, scopes)))
        {
            if t.field_path == NAMESPACE_PATH {
                set_namespace(r, &va.value, scopes);
            } else {
                set_field(r, t, &va.value)?;
            }
        }
    }
    Ok(())
}

fn set_namespace(r: &mut Resource, namespace: &str, scopes: &SchemaScopes) {
    let gvk = r.gvk();
    if gvk.is_cluster_scoped_in_kustomize(scopes) {
        return;
    }
    r.value
        .ensure_path(&["metadata"])
        .and_then(Value::as_map_mut)
        .map(|m| m.insert("namespace".into(), Value::String(namespace.to_string())));
    if matches!(gvk.kind.as_str(), "RoleBinding" | "ClusterRoleBinding") {
        if let Some(Value::Seq(subjects)) = r.value.get_path_mut(&["subjects"]) {
            for s in subjects.iter_mut().filter_map(Value::as_map_mut) {
                if s.get("name").and_then(Value::as_str) == Some("default") {
                    s.insert("namespace".into(), Value::String(namespace.to_string()));
                }
            }
        }
    }
}

/// Sets the value at the target's field of one object. kyaml puts a new
/// scalar node there with the old node's style and no tag: in quotes it
/// stays a string, plain it reads as YAML reads it once kustomize turns the
/// object into JSON (`7` is a number). The old text is the one the file
/// wrote.
fn set_field(r: &mut Resource, t: &Target, value: &str) -> Result<(), String> {
    let parts = field_path_parts(&t.field_path);
    fieldspec::with_held_annotations(r, &parts, |r| set_field_at(r, &parts, t, value))
}

/// [`set_field`] at the field path `parts`.
fn set_field_at(r: &mut Resource, parts: &[String], t: &Target, value: &str) -> Result<(), String> {
    let mut at = Vec::new();
    // A field the path makes is an empty node.
    let mut made_leaf = false;
    let leaf = match locate(&mut r.value, parts, &mut at, &r.scalar_texts, false, &mut made_leaf) {
        Ok(leaf) => leaf,
        Err(Stop::Said(message)) => return Err(message),
        Err(Stop::WrongKind { expected, at, node, detached }) => {
            let kind = match node {
                Value::Seq(_) => "Sequence",
                Value::Map(_) => "Mapping",
                _ => "Scalar",
            };
            let contents = if detached {
                format!("node contents:\n{}", crate::yaml::node_to_string(&node))
            } else {
                fieldspec::node_contents(r, &at, &node)
            };
            return Err(format!(
                "wrong node kind: expected {expected}Node but got {kind}Node: {contents}"
            ));
        }
    };
    let Some(at) = leaf else { return Ok(()) };
    let Some(slot) = crate::resource::value_at_mut(&mut r.value, &at) else { return Ok(()) };
    let how =
        NodeTexts { texts: &r.scalar_texts, quoted: &r.quoted, rebuilt: r.json_rebuilt.is_some() };
    let (old, quotes) =
        if made_leaf { Default::default() } else { how.text(slot, &at).unwrap_or_default() };
    let new = match usize::try_from(t.file_path_position) {
        Ok(pos) if pos > 0 => insert_path_part(&old, pos - 1, value),
        _ => value.to_string(),
    };
    *slot = retext(new, quotes);
    r.note_set_scalar(&at);
    Ok(())
}

/// A field path split at `/` (`\/` is a slash inside a part), each part
/// trimmed of spaces and the empty ones left out, as kyaml's path lookup
/// cleans its path.
fn field_path_parts(field_path: &str) -> Vec<String> {
    path_splitter(field_path, '/')
        .into_iter()
        .map(|f| f.trim().to_string())
        .filter(|f| !f.is_empty())
        .collect()
}

/// Why kyaml's path lookup failed.
enum Stop {
    /// With these words.
    Said(String),
    /// It met `node` (at `at`, or in a node it made and lost) where it
    /// wanted a node of another kind.
    WrongKind { expected: &'static str, at: Vec<Step>, node: Value, detached: bool },
}

/// A list position as Go's `strconv.Atoi` reads it (`+1`, `-0`), if the
/// part is one.
fn position(part: &str) -> Option<i64> {
    part.parse().ok()
}

/// Follows `parts` from `v` (at `at`) as kyaml's path lookup does when it
/// creates a scalar at the end (`LookupCreate`), making the maps and lists
/// that are missing, and gives where the scalar is. A part is a list
/// position (`2`; `-` the last item), a `[name=value]` item (`[=value]`
/// for a list of scalars; made when no item matches) or a field.
/// `made_leaf` is set when the scalar is a field the lookup made.
///
/// Under a null the lookup makes the node it wants but cannot attach it:
/// the rest of the path goes on in that lost node (`detached`), so it can
/// still fail, and nothing is written. A position past the end ends the
/// lookup with nothing found.
fn locate(
    v: &mut Value,
    parts: &[String],
    at: &mut Vec<Step>,
    texts: &[(Vec<Step>, String)],
    detached: bool,
    made_leaf: &mut bool,
) -> Result<Option<Vec<Step>>, Stop> {
    let Some((part, rest)) = parts.split_first() else {
        if matches!(v, Value::Seq(_) | Value::Map(_)) {
            let node = v.clone();
            return Err(Stop::WrongKind { expected: "Scalar", at: at.clone(), node, detached });
        }
        return Ok((!detached).then(|| at.clone()));
    };
    let wrong = |expected, at: &Vec<Step>, node: &Value| Stop::WrongKind {
        expected,
        at: at.clone(),
        node: node.clone(),
        detached,
    };
    // A node made for this part: a list before a position or an item, the
    // scalar at the end, a map otherwise.
    let made = |rest: &[String]| match rest.first() {
        None => Value::Null,
        Some(next) if is_item(next) || position(next).is_some_and(|i| i >= 0) => {
            Value::Seq(Vec::new())
        }
        Some(_) => Value::Map(crate::value::Map::new()),
    };
    if let Some(i) = position(part) {
        if i < 0 {
            return Err(Stop::Said(format!("array index {i} cannot be negative")));
        }
        return match v {
            Value::Seq(items) => {
                match usize::try_from(i).ok().and_then(|i| items.get_mut(i).map(|item| (i, item))) {
                    Some((i, item)) => {
                        descend(item, Step::Index(i), rest, at, texts, detached, made_leaf)
                    }
                    None => Ok(None),
                }
            }
            Value::Null => Ok(None),
            other => Err(wrong("Sequence", at, other)),
        };
    }
    if part == "-" {
        return match v {
            Value::Seq(items) if !items.is_empty() => {
                let i = items.len() - 1;
                descend(&mut items[i], Step::Index(i), rest, at, texts, detached, made_leaf)
            }
            // kustomize panics taking the last item of no items.
            Value::Seq(_) | Value::Null => Err(Stop::Said(
                "the last item of an empty list: runtime error: index out of range [-1]".into(),
            )),
            other => Err(wrong("Sequence", at, other)),
        };
    }
    if part == "*" {
        return Err(Stop::Said("wildcard is not supported in PathGetter".into()));
    }
    if is_item(part) {
        let inner = &part[1..part.len() - 1];
        let Some((key, want)) = inner.split_once('=') else {
            return Err(Stop::Said(
                "list path element must contain fieldName=fieldValue for element to match".into(),
            ));
        };
        let fresh = || {
            let scalar = crate::yaml::resolve::resolve_plain(want);
            if key.is_empty() {
                scalar
            } else {
                let mut m = crate::value::Map::new();
                m.insert(key.to_string(), scalar);
                Value::Map(m)
            }
        };
        return match v {
            Value::Seq(items) => {
                let base = at.clone();
                let text_at = |i: usize, key: Option<&str>, x: &Value| {
                    let mut path = base.clone();
                    path.push(Step::Index(i));
                    path.extend(key.map(|k| Step::Key(k.to_string())));
                    match x {
                        Value::String(s) => s.clone(),
                        Value::Seq(_) | Value::Map(_) => String::new(),
                        other => {
                            crate::resource::scalar_text(other, &path, texts).unwrap_or_default()
                        }
                    }
                };
                let found = items.iter().enumerate().position(|(i, item)| {
                    if key.is_empty() {
                        return text_at(i, None, item) == want;
                    }
                    item.as_map()
                        .and_then(|m| m.get(key))
                        .is_some_and(|x| text_at(i, Some(key), x) == want)
                });
                let i = found.unwrap_or_else(|| {
                    items.push(fresh());
                    items.len() - 1
                });
                descend(&mut items[i], Step::Index(i), rest, at, texts, detached, made_leaf)
            }
            Value::Null => locate(&mut fresh(), rest, at, texts, true, made_leaf),
            other => Err(wrong("Sequence", at, other)),
        };
    }
    match v {
        Value::Map(m) => {
            if !m.contains_key(part.as_str()) {
                *made_leaf |= rest.is_empty();
                m.insert(part.clone(), made(rest));
            }
            let child = m.get_mut(part.as_str()).expect("the field was just found or made");
            descend(child, Step::Key(part.clone()), rest, at, texts, detached, made_leaf)
        }
        Value::Null => locate(&mut made(rest), rest, at, texts, true, made_leaf),
        other => Err(wrong("Mapping", at, other)),
    }
}

/// [`locate`] in the child at `step`.
fn descend(
    v: &mut Value,
    step: Step,
    parts: &[String],
    at: &mut Vec<Step>,
    texts: &[(Vec<Step>, String)],
    detached: bool,
    made_leaf: &mut bool,
) -> Result<Option<Vec<Step>>, Stop> {
    at.push(step);
    let found = locate(v, parts, at, texts, detached, made_leaf);
    at.pop();
    found
}

/// Whether a path part picks a list item by its contents (`[name=value]`).
fn is_item(part: &str) -> bool {
    part.len() >= 2 && part.starts_with('[') && part.ends_with(']')
}

/// Splits a path into its segments the way kyaml does: a leading `/`
/// gives an empty first segment, and empty segments inside count too.
fn path_split(path: &str) -> Vec<&str> {
    if path.is_empty() {
        return Vec::new();
    }
    // Go's filepath.Split cuts after the last separator; kyaml drops one
    // trailing separator from the directory part and recurses.
    let (dir, file) = match path.rfind('/') {
        Some(i) => (&path[..=i], &path[i + 1..]),
        None => ("", path),
    };
    if dir == "/" {
        return if file.is_empty() { vec![""] } else { vec!["", file] };
    }
    let dir = dir.strip_suffix('/').unwrap_or(dir);
    if dir.is_empty() {
        return vec![file];
    }
    let mut parts = path_split(dir);
    parts.push(file);
    parts
}

/// Go's `filepath.Join`: the non-empty elements joined and cleaned.
fn join(parts: &[&str]) -> String {
    let kept: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    if kept.is_empty() { String::new() } else { clean(&kept.join("/")) }
}

/// Inserts `part` as segment `pos` of `path` (kyaml's `InsertPathPart`):
/// positions past the end append, and an absolute path stays absolute.
fn insert_path_part(path: &str, pos: usize, part: &str) -> String {
    if part.is_empty() {
        return path.to_string();
    }
    let parts = path_split(path);
    let mut pos = pos.min(parts.len());
    if parts.first() == Some(&"") && pos < parts.len() {
        pos += 1;
    }
    let mut out: Vec<&str> = parts[..pos].to_vec();
    out.push(part);
    out.extend_from_slice(&parts[pos..]);
    if out.first() == Some(&"") { format!("/{}", join(&out[1..])) } else { join(&out) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_parts_insert_as_kyaml_does() {
        let cases = [
            ("", 5, "PEACH"),
            ("/", 0, "/PEACH"),
            ("pie", 0, "PEACH/pie"),
            ("/pie", 0, "/PEACH/pie"),
            ("raw", 1, "raw/PEACH"),
            ("/raw", 1, "/raw/PEACH"),
            ("/raw", 99, "/raw/PEACH"),
            ("a/nice/warm/pie", 3, "a/nice/warm/PEACH/pie"),
            ("/a/nice/warm/pie", 3, "/a/nice/warm/PEACH/pie"),
            ("a//b/./c/", 2, "a/PEACH/b/c"),
            ("../up/there", 1, "../PEACH/up/there"),
        ];
        for (path, pos, want) in cases {
            let want = if path.is_empty() { "PEACH" } else { want };
            assert_eq!(insert_path_part(path, pos, "PEACH"), want, "{path} at {pos}");
        }
        assert_eq!(insert_path_part("a/b", 1, ""), "a/b");
    }

    #[test]
    fn configs_are_checked() {
        let target = |path: &str, pos| Target {
            selector: None,
            field_path: path.into(),
            file_path_position: pos,
        };
        let cases = [
            (vec![], Some("at least one target")),
            (vec![target("", 0)], Some("fieldPath cannot be empty")),
            (vec![target("a/b", -1)], Some("cannot be negative")),
            (vec![target("a/b", 2)], None),
        ];
        for (targets, want) in cases {
            let got = ValueAdd { value: "v".into(), targets }.validate();
            match want {
                None => assert!(got.is_ok(), "{got:?}"),
                Some(w) => assert!(got.unwrap_err().contains(w)),
            }
        }
    }
}
