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
use crate::kustomize::transform::images;
use crate::kustomize::transform::replacements::parse_selector;
use crate::resource::{Resource, Step};
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
pub fn apply(resources: &mut [Resource], va: &ValueAdd) -> Result<(), String> {
    for t in &va.targets {
        let matcher = t.selector.as_ref().map(Matcher::new).transpose()?;
        for r in resources.iter_mut().filter(|r| matcher.as_ref().is_none_or(|m| m.matches(r))) {
            if t.field_path == NAMESPACE_PATH {
                set_namespace(r, &va.value);
            } else {
                set_field(r, t, &va.value)?;
            }
        }
    }
    Ok(())
}

fn set_namespace(r: &mut Resource, namespace: &str) {
    let gvk = r.gvk();
    if gvk.is_cluster_scoped_in_kustomize() {
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
    let fields = field_path_parts(&t.field_path);
    let (at, slot) = match lookup_create(&mut r.value, &fields) {
        Ok(Some(found)) => found,
        // The path ends at nothing (a null on the way, a list position
        // past the end): kyaml sets nothing.
        Ok(None) => return Ok(()),
        Err(Lookup::Failed(why)) => return Err(why),
        Err(Lookup::Wrong { at, node, expected }) => {
            let kind = match &node {
                Value::Seq(_) => "Sequence",
                Value::Map(_) => "Mapping",
                _ => "Scalar",
            };
            return Err(format!(
                "wrong node kind: expected {expected}Node but got {kind}Node: {}",
                fieldspec::node_contents(r, &at, &node)
            ));
        }
    };
    let old = match &*slot {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Seq(_) | Value::Map(_) => {
            let node = slot.clone();
            return Err(fieldspec::scalar_expected(r, &at, &node));
        }
        other => crate::resource::scalar_text(other, &at, &r.scalar_texts).unwrap_or_default(),
    };
    let new = match usize::try_from(t.file_path_position) {
        Ok(pos) if pos > 0 => insert_path_part(&old, pos - 1, value),
        _ => value.to_string(),
    };
    *slot = if slot.as_str().is_some() && r.quoted.contains(&at) {
        Value::String(new)
    } else {
        crate::yaml::resolve::resolve_plain(&new)
    };
    images::record(&mut r.written, &at);
    Ok(())
}

/// Why kyaml's path lookup stopped.
enum Lookup {
    /// A node of another kind than the part wants: where, the node, and
    /// the kind wanted.
    Wrong { at: Vec<Step>, node: Value, expected: &'static str },
    /// Its own words.
    Failed(String),
}

/// The parts of a target's field path: `/`-separated, `\/` a slash inside
/// a part; kyaml's lookup trims blanks around each and drops empty ones
/// (`/spec/x` is `spec/x`).
fn field_path_parts(field_path: &str) -> Vec<String> {
    let mut fields: Vec<String> = Vec::new();
    for part in field_path.split('/') {
        match fields.last_mut() {
            Some(last) if last.ends_with('\\') => {
                last.pop();
                last.push('/');
                last.push_str(part);
            }
            _ => fields.push(part.to_string()),
        }
    }
    fields.iter().map(|f| f.trim()).filter(|f| !f.is_empty()).map(str::to_string).collect()
}

/// kyaml's `LookupCreate(ScalarNode, fields...)`: a number picks a list
/// item (none past the end, a negative one fails), `-` the last item,
/// `[key=value]` the first item whose field `key` (or, with no key, whose
/// text) is `value`, made and appended when there is none; any other part
/// is a map field, made when missing as a list (before a `[...]` part or a
/// number), a map, or at the end a null. A null on the way ends the lookup.
fn lookup_create<'v>(
    v: &'v mut Value,
    fields: &[String],
) -> Result<Option<(Vec<Step>, &'v mut Value)>, Lookup> {
    let mut at = Vec::new();
    let mut cur = v;
    for (i, part) in fields.iter().enumerate() {
        let next = fields.get(i + 1);
        let wrong = |at: &[Step], node: &Value, expected| Lookup::Wrong {
            at: at.to_vec(),
            node: node.clone(),
            expected,
        };
        if cur.is_null() {
            return Ok(None);
        }
        let index = if part == "-" {
            Some(None)
        } else if let Ok(n) = part.parse::<i64>() {
            if n < 0 {
                return Err(Lookup::Failed(format!("array index {n} cannot be negative")));
            }
            Some(usize::try_from(n).ok())
        } else {
            None
        };
        if let Some(index) = index {
            let Value::Seq(items) = cur else {
                return Err(wrong(&at, cur, "Sequence"));
            };
            let i = match index {
                None => items.len().checked_sub(1),
                Some(i) => index.filter(|_| i < items.len()),
            };
            let Some(i) = i else { return Ok(None) };
            at.push(Step::Index(i));
            cur = &mut items[i];
            continue;
        }
        if part == "*" {
            return Err(Lookup::Failed("wildcard is not supported in PathGetter".into()));
        }
        if let Some(inner) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            let Some((key, want)) = inner.split_once('=') else {
                return Err(Lookup::Failed(
                    "list path element must contain fieldName=fieldValue for element to match"
                        .into(),
                ));
            };
            let Value::Seq(items) = cur else {
                return Err(wrong(&at, cur, "Sequence"));
            };
            let text = |x: &Value| {
                crate::resource::scalar_text(x, &[], &[]).or_else(|| x.as_str().map(str::to_string))
            };
            let found = items.iter().position(|item| {
                if key.is_empty() {
                    text(item).is_some_and(|t| t == want)
                } else {
                    item.as_map().and_then(|m| m.get(key)).and_then(text).is_some_and(|t| t == want)
                }
            });
            let i = found.unwrap_or_else(|| {
                let made = crate::yaml::resolve::resolve_plain(want);
                items.push(if key.is_empty() {
                    made
                } else {
                    let mut m = crate::value::Map::new();
                    m.insert(key.to_string(), made);
                    Value::Map(m)
                });
                items.len() - 1
            });
            at.push(Step::Index(i));
            cur = &mut items[i];
            continue;
        }
        let Value::Map(m) = cur else {
            return Err(wrong(&at, cur, "Mapping"));
        };
        let fresh = match next {
            None => Value::Null,
            Some(n) if (n.starts_with('[') && n.ends_with(']')) || n.parse::<i64>().is_ok() => {
                Value::Seq(Vec::new())
            }
            Some(_) => Value::Map(crate::value::Map::new()),
        };
        at.push(Step::Key(part.clone()));
        cur = m.entry(part.clone()).or_insert(fresh);
    }
    Ok(Some((at, cur)))
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
