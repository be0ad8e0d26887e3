//! `vars:`: `$(NAME)` substitution in kustomize's var reference fields.

use crate::kustomize::fieldspec;
use crate::kustomize::kustomization::UserFieldSpec;
use crate::kustomize::transform::replacements;
use crate::resource::{Gvk, ResId, Resource, Retyped, Step};
use crate::value::{Map, Value};
use std::collections::{HashMap, HashSet};

/// One `vars` entry, bound to the object it names when it was declared.
#[derive(Debug, Clone, PartialEq)]
pub struct Var {
    /// The variable's name.
    pub name: String,
    /// Kind, group and version of the object.
    pub gvk: Gvk,
    /// The object's name.
    pub obj_name: String,
    /// The object's namespace, if given.
    pub namespace: String,
    /// `fieldref.fieldPath` (default `metadata.name`).
    pub field_path: String,
    /// The objref's own `group`, `version` and `fieldref.fieldPath` as
    /// written, which kustomize prints in some messages.
    written: (String, String, String),
}

impl Var {
    /// The var as Go's `%v` prints kustomize's `types.Var` once its field
    /// path is defaulted: `{NAME Kind.version.group {field.path}}`.
    fn go_string(&self) -> String {
        self.go_form(&self.gvk.version, &self.gvk.group, &self.field_path)
    }

    /// The var as Go's `%v` prints kustomize's `types.Var` as it was read:
    /// the objref's kind, `version` and `group` fields (not `apiVersion`)
    /// and the field path as written.
    fn go_string_as_written(&self) -> String {
        let (group, version, field_path) = &self.written;
        self.go_form(version, group, field_path)
    }

    /// The var as kustomize prints it once it has looked up its object,
    /// which fills the objref's version and group from its `apiVersion`.
    fn go_string_looked_up(&self) -> String {
        self.go_form(&self.gvk.version, &self.gvk.group, &self.written.2)
    }

    /// `{NAME Kind.version.group {field.path}}`, with kustomize's words for
    /// what is empty.
    fn go_form(&self, version: &str, group: &str, field_path: &str) -> String {
        let or = |s: &str, none: &'static str| if s.is_empty() { none } else { s }.to_string();
        format!(
            "{{{} {}.{}.{} {{{field_path}}}}}",
            self.name,
            or(&self.gvk.kind, "[noKind]"),
            or(version, "[noVer]"),
            or(group, "[noGrp]"),
        )
    }
}

fn string(m: &Map, key: &str, ctx: &str) -> Result<String, String> {
    match m.get(key) {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(other) => {
            Err(format!("{ctx}.{key}: expected a string, found a {}", other.type_name()))
        }
    }
}

fn map<'v>(v: &'v Value, ctx: &str) -> Result<&'v Map, String> {
    v.as_map().ok_or_else(|| format!("{ctx}: expected a map, found a {}", v.type_name()))
}

impl Var {
    /// Reads a `vars` entry.
    pub fn parse(v: &Value, ctx: &str) -> Result<Var, String> {
        let m = map(v, ctx)?;
        if let Some(k) = m.keys().find(|k| !["name", "objref", "fieldref"].contains(&k.as_str())) {
            return Err(format!("{ctx}: unknown field {k:?}"));
        }
        let name = string(m, "name", ctx)?;
        let octx = format!("{ctx}.objref");
        // A missing or null objref is Go's zero struct.
        let empty = Map::new();
        let o = match m.get("objref") {
            None | Some(Value::Null) => &empty,
            Some(v) => map(v, &octx)?,
        };
        let api_version = string(o, "apiVersion", &octx)?;
        let mut gvk = Gvk::from_api_version(&api_version, &string(o, "kind", &octx)?);
        let group = string(o, "group", &octx)?;
        if !group.is_empty() {
            gvk.group = group.clone();
        }
        let version = string(o, "version", &octx)?;
        if !version.is_empty() {
            gvk.version = version.clone();
        }
        let field_path = match m.get("fieldref") {
            None | Some(Value::Null) => String::new(),
            Some(f) => string(map(f, &format!("{ctx}.fieldref"))?, "fieldPath", ctx)?,
        };
        Ok(Var {
            name,
            gvk,
            obj_name: string(o, "name", &octx)?,
            namespace: string(o, "namespace", &octx)?,
            field_path: if field_path.is_empty() {
                "metadata.name".into()
            } else {
                field_path.clone()
            },
            written: (group, version, field_path),
        })
    }

    /// kustomize binds a var to an object of exactly its group, version and
    /// kind: an objref without `apiVersion` names no object.
    fn gvk_selects(&self, g: &Gvk) -> bool {
        self.gvk == *g
    }
}

/// A var with the identity of its object at declaration time.
#[derive(Debug, Clone)]
pub struct BoundVar {
    /// The var.
    pub var: Var,
    /// The object it reads, as it was named when the var was declared.
    pub object: Option<ResId>,
}

/// Binds the vars a kustomization declares to the objects they name and
/// adds them to its accumulator's set, `known`, as kustomize merges them:
/// every var's object must be unambiguous, then no name may be in the set
/// already.
pub fn declare(
    resources: &mut [Resource],
    vars: &[Var],
    known: &mut Vec<BoundVar>,
) -> Result<(), String> {
    let merging = |problem: String| {
        let listed: Vec<String> = vars.iter().map(Var::go_string_as_written).collect();
        format!("merging vars [{}]: {problem}", listed.join(" "))
    };
    let mut bound = Vec::new();
    for v in vars {
        let mut matched = Vec::new();
        let mut at = None;
        for (i, r) in resources.iter().enumerate() {
            let hit = replacements::ids(r).into_iter().find(|id| {
                v.gvk_selects(&id.gvk)
                    && id.name == v.obj_name
                    && (v.namespace.is_empty() || same_ns(&v.namespace, &id.namespace))
            });
            if hit.is_some() {
                matched.push(r.id());
                at = Some(i);
            }
        }
        if matched.len() > 1 {
            return Err(merging(format!(
                "found {} resId matches for var {} (unable to disambiguate)",
                matched.len(),
                v.go_string_looked_up()
            )));
        }
        bound.push((BoundVar { var: v.clone(), object: matched.pop() }, at));
    }
    for (b, at) in bound {
        if known.iter().any(|k| k.var.name == b.var.name) {
            return Err(merging(format!("var '{}' already encountered", b.var.name)));
        }
        if let Some(i) = at {
            resources[i].ref_vars.push(b.var.name.clone());
        }
        known.push(b);
    }
    Ok(())
}

/// Adds the vars of a kustomization built as a resource to its parent's
/// set, as kustomize merges one accumulator into another: a name may be in
/// the set once.
pub fn merge(known: &mut Vec<BoundVar>, incoming: Vec<BoundVar>) -> Result<(), String> {
    let mut incoming = incoming;
    // kustomize walks a Go map; kiln reports the first clash by name.
    incoming.sort_by(|a, b| a.var.name.cmp(&b.var.name));
    for b in incoming {
        if known.iter().any(|k| k.var.name == b.var.name) {
            return Err(format!("var '{}' already encountered", b.var.name));
        }
        known.push(b);
    }
    Ok(())
}

fn same_ns(a: &str, b: &str) -> bool {
    fn norm(s: &str) -> &str {
        if s.is_empty() { "default" } else { s }
    }
    norm(a) == norm(b)
}

/// Reads a field as kyaml's `GetFieldValue` does: the path split as
/// [`replacements::split_path`], a part `name[N]` read as `name` and the
/// index `N` (`convertSliceIndex`), then followed as its `PathGetter`
/// follows a path: each part trimmed and the empty ones skipped, a number
/// or `-` picks an item of a list, `[k=v]` the item whose field `k` reads
/// `v` (`[=v]` a scalar item), anything else a map key.
fn field_value(v: &Value, path: &str) -> Option<Value> {
    let mut parts = Vec::new();
    for part in replacements::split_path(path) {
        match slice_index(&part) {
            Some((name, index)) => {
                if !name.is_empty() {
                    parts.push(name.to_string());
                }
                parts.push(index.to_string());
            }
            None => parts.push(part),
        }
    }
    let mut cur = v;
    for part in parts.iter().map(|p| p.trim()).filter(|p| !p.is_empty()) {
        cur = if let Ok(i) = part.parse::<i64>() {
            // A negative index is refused; one past the end finds nothing.
            let items = cur.as_seq()?;
            items.get(usize::try_from(i).ok()?)?
        } else if part == "-" {
            cur.as_seq()?.last()?
        } else if let Some(inner) = part.strip_prefix('[').and_then(|p| p.strip_suffix(']')) {
            let (key, want) = inner.split_once('=')?;
            cur.as_seq()?.iter().find(|item| {
                let found = if key.is_empty() {
                    Some(*item)
                } else {
                    item.as_map().and_then(|m| m.get(key))
                };
                found.and_then(Value::as_str) == Some(want)
            })?
        } else {
            cur.as_map()?.get(part)?
        };
    }
    Some(cur.clone())
}

/// A part `name[N]` of a var's path as kyaml cuts it: `name` (maybe empty)
/// and the digits `N`.
fn slice_index(part: &str) -> Option<(&str, &str)> {
    let (name, index) = part.strip_suffix(']')?.rsplit_once('[')?;
    (!index.is_empty() && index.bytes().all(|b| b.is_ascii_digit())).then_some((name, index))
}

/// Resolves the vars against the finished objects and expands `$(NAME)`
/// at the fields of `specs`: kustomize's merged `varReference` list of the
/// top kustomization.
pub fn resolve(
    resources: &mut [Resource],
    vars: &[BoundVar],
    specs: &[UserFieldSpec],
) -> Result<(), String> {
    if vars.is_empty() {
        return Ok(());
    }
    let mut values: Vec<(String, Value)> = Vec::new();
    // kustomize resolves its set of vars sorted by name (`VarSet.AsSlice`),
    // so of two vars that cannot be resolved the first by name is reported.
    let mut by_name: Vec<&BoundVar> = vars.iter().collect();
    by_name.sort_by(|a, b| a.var.name.cmp(&b.var.name));
    for b in by_name {
        let found = b.object.as_ref().and_then(|want| {
            // kustomize ties a var to the object it named when declared,
            // whatever name or kind later steps give that object.
            resources.iter().find(|r| r.ref_vars.contains(&b.var.name)).or_else(|| {
                resources.iter().find(|r| {
                    replacements::ids(r).iter().any(|id| {
                        id.gvk == want.gvk && id.name == want.name && id.namespace == want.namespace
                    })
                })
            })
        });
        let Some(r) = found else {
            return Err(format!(
                "var '{}' cannot be mapped to a field in the set of known resources",
                b.var.go_string()
            ));
        };
        let not_found = || {
            format!(
                "field specified in var '{}' not found in corresponding resource",
                b.var.go_string()
            )
        };
        let Some(mut v) = field_value(&r.value, &b.var.field_path) else {
            return Err(not_found());
        };
        // A NaN is only ever written `.nan` (any case), which Go's
        // `ParseFloat` refuses; no text reads back equal to it.
        if matches!(v, Value::Float(f) if f.is_nan()) {
            return Err(not_found());
        }
        let path = replacements::plain_path(&b.var.field_path);
        let texts = &r.scalar_texts;
        let text = path.as_ref().and_then(|path| {
            crate::resource::written_text(&v, path, texts).or_else(|| {
                // A `!!float` node written as an integer (`!!float 0x10`)
                // holds that text, which `ParseFloat` may refuse.
                let Value::Float(f) = v else { return None };
                let (_, text) = texts.iter().find(|(p, _)| p[..] == path[..])?;
                let whole = match crate::yaml::resolve::resolve_plain(text) {
                    Value::Int(i) => i as f64,
                    Value::Uint(u) => u as f64,
                    _ => return None,
                };
                (whole == f).then(|| text.clone())
            })
        });
        let retyped = path.as_ref().and_then(|path| Retyped::tag_at(&r.retyped, path, &v));
        if let (Some(tag), Value::String(text)) = (retyped, &v) {
            // A string whose node has another tag (see [`Retyped`]) is read
            // by that tag, as `GetFieldValue` reads any scalar node.
            use crate::gotmpl::strconv::{atoi, parse_float};
            v = match tag {
                "int" => Value::Int(atoi(text).map_err(|_| not_found())?),
                "float" => Value::Float(parse_float(text).ok_or_else(not_found)?),
                "bool" => crate::yaml::resolve::resolve_plain(text),
                _ => v,
            };
        } else if v.is_null() {
            // A null node's text, as written (`~`, `null`, nothing), is
            // what `GetFieldValue` gives for it: a string.
            let text = path.as_ref().and_then(|path| crate::resource::scalar_text(&v, path, texts));
            v = text.map_or(v, Value::String);
        } else if let Some(text) = text {
            use crate::gotmpl::strconv::{atoi, parse_float};
            v = match v {
                // yaml.v3 gives a timestamp read into an interface as its
                // text (`2020-01-01`).
                Value::String(_) => Value::String(text),
                // kyaml's `GetFieldValue` reads an int node's text with Go's
                // `strconv.Atoi` (0777 is 777; 0x1F, 0o17, 1_000 fail) and a
                // float's with `ParseFloat` (.inf fails).
                Value::Int(_) | Value::Uint(_) => Value::Int(atoi(&text).map_err(|_| not_found())?),
                Value::Float(_) if parse_float(&text).is_none() => return Err(not_found()),
                v => v,
            };
        }
        // kustomize substitutes only scalars: a reference to a var whose
        // field holds a map or a list stays as written.
        if !matches!(v, Value::Map(_) | Value::Seq(_)) {
            values.push((b.var.name.clone(), v));
        }
    }
    // The paths that select each kind, found once per kind.
    let mut by_kind: HashMap<Gvk, Vec<&str>> = HashMap::new();
    for r in resources.iter_mut() {
        let paths = by_kind.entry(r.gvk()).or_insert_with_key(|gvk| {
            specs.iter().filter(|s| s.matches(gvk)).map(|s| s.path.as_str()).collect()
        });
        if paths.is_empty() {
            continue;
        }
        let mut error = None;
        let id = r.id();
        let nodes = Nodes::of(&r.untagged, &r.scalar_texts);
        for &path in paths.iter() {
            fieldspec::visit_mut_node(&mut r.value, path, &mut |at, slot| {
                // kustomize walks the keys of a map it substitutes in and
                // refuses one that is not a string.
                let bad_key = r.non_string_key.as_ref().filter(|k| k.map == at);
                let wraps = || fieldspec::traversal_wraps(path, at);
                if let (Some(key), Value::Map(_)) = (bad_key, &slot) {
                    error.get_or_insert(format!(
                        "considering field '{path}' of object {}: {}invalid map key: value='{}', tag='{}'",
                        id.kustomize_form(),
                        wraps(),
                        key.text,
                        key.tag
                    ));
                } else if let Err(e) = substitute(slot, at, &nodes, &values) {
                    error.get_or_insert(format!(
                        "considering field '{path}' of object {}: {}{e}",
                        id.kustomize_form(),
                        wraps()
                    ));
                }
            });
        }
        if let Some(e) = error {
            return Err(e);
        }
    }
    Ok(())
}

/// Substitutes the vars in one field (at `at`), as kustomize does: in a
/// string, in the string values of a map (others are left alone), or in a
/// list, all of whose items must be strings. kyaml counts a scalar without
/// a tag (one a replacement created, see [`Resource::untagged`]) as a
/// string, and the substitution tags it `!!str`: an empty one is `""`,
/// a timestamp keeps the text it was given (`2001-12-14`). A plain
/// timestamp the file wrote is a `!!timestamp` node, no string.
fn substitute(
    slot: &mut Value,
    at: &[Step],
    nodes: &Nodes<'_>,
    values: &[(String, Value)],
) -> Result<(), String> {
    let mut path = at.to_vec();
    let mut as_string = |v: &mut Value, step: Option<Step>| {
        if matches!(v, Value::Seq(_) | Value::Map(_)) {
            return false;
        }
        path.extend(step);
        let texts = nodes.text_at(&path);
        let string = if nodes.untagged.contains(&path[..]) {
            *v = Value::String(untagged_text(v, &path, texts));
            true
        } else {
            // Only a string that reads as a timestamp can be the RFC 3339
            // form of one the file wrote plain.
            matches!(v, Value::String(s)
                if crate::yaml::resolve::parse_timestamp(s).is_none()
                    || crate::resource::written_text(v, &path, texts).is_none())
        };
        path.truncate(at.len());
        string
    };
    match slot {
        Value::Map(m) => {
            for (k, v) in m.iter_mut() {
                if as_string(v, Some(Step::Key(k.clone()))) {
                    substitute_string(v, values);
                }
            }
        }
        Value::Seq(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                if !as_string(item, Some(Step::Index(i))) {
                    return Err("invalid value type expect a string".into());
                }
                substitute_string(item, values);
            }
        }
        scalar => {
            if as_string(scalar, None) {
                substitute_string(scalar, values);
            }
        }
    }
    Ok(())
}

/// An object's untagged places ([`Resource::untagged`]) and scalar texts
/// ([`Resource::scalar_texts`]) by path, so that a var reference field
/// with thousands of entries looks each up once, not by a scan.
struct Nodes<'a> {
    untagged: HashSet<&'a [Step]>,
    texts: HashMap<&'a [Step], &'a (Vec<Step>, String)>,
}

impl<'a> Nodes<'a> {
    fn of(untagged: &'a [Vec<Step>], texts: &'a [(Vec<Step>, String)]) -> Self {
        let mut by_path = HashMap::with_capacity(texts.len());
        for entry in texts {
            // The first entry for a path is the one a scan finds.
            by_path.entry(&entry.0[..]).or_insert(entry);
        }
        Nodes { untagged: untagged.iter().map(Vec::as_slice).collect(), texts: by_path }
    }

    /// The text entry of `at`, as the slice [`crate::resource::scalar_text`] reads.
    fn text_at(&self, at: &[Step]) -> &'a [(Vec<Step>, String)] {
        self.texts.get(at).map_or(&[], |entry| std::slice::from_ref(*entry))
    }
}

/// The text of a scalar without a tag at `at`: the text it was given
/// (see [`Resource::scalar_texts`]), else its value's own, empty for a null.
fn untagged_text(v: &Value, at: &[Step], texts: &[(Vec<Step>, String)]) -> String {
    if let Value::String(s) = v {
        return crate::resource::written_text(v, at, texts).unwrap_or_else(|| s.clone());
    }
    match crate::resource::scalar_text(v, at, texts) {
        Some(t) if v.is_null() && t == "null" && !texts.iter().any(|(p, _)| p[..] == at[..]) => {
            String::new()
        }
        t => t.unwrap_or_default(),
    }
}

fn substitute_string(slot: &mut Value, values: &[(String, Value)]) {
    let Value::String(s) = slot else { return };
    // A field that is exactly one reference takes the value with its type.
    if let Some(name) = s.strip_prefix("$(").and_then(|r| r.strip_suffix(')')) {
        if let Some((_, v)) = values.iter().find(|(n, _)| n == name) {
            *slot = v.clone();
            return;
        }
    }
    *s = expand(s, values);
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => crate::yaml::to_string(other).trim_end().to_string(),
    }
}

/// Kubernetes' `$(VAR)` expansion: `$$` is a literal `$`, unknown names stay.
pub fn expand(s: &str, values: &[(String, Value)]) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(inner) = after.strip_prefix('(') {
            match inner.find(')') {
                Some(j) => {
                    let name = &inner[..j];
                    match values.iter().find(|(n, _)| n == name) {
                        Some((_, v)) => out.push_str(&text(v)),
                        None => {
                            out.push_str("$(");
                            out.push_str(name);
                            out.push(')');
                        }
                    }
                    rest = &inner[j + 1..];
                }
                None => {
                    out.push_str("$(");
                    rest = inner;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expansion() {
        let vals = vec![("A".to_string(), Value::String("x".into())), ("N".into(), Value::Int(3))];
        let cases = [
            ("$(A)", "x"),
            ("a-$(A)-$(N)", "a-x-3"),
            ("$$(A)", "$(A)"),
            ("$(B)", "$(B)"),
            ("$(A", "$(A"),
            ("$x$", "$x$"),
        ];
        for (input, want) in cases {
            assert_eq!(expand(input, &vals), want, "{input}");
        }
    }
}
