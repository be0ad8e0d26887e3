//! kustomize's build annotations (`internal.config.kubernetes.io/previousNames`, ...), rebuilt from kiln's bookkeeping, and the object dumps its messages print with them.
//!
//! kustomize keeps an object's build state in annotations of the object
//! itself until the end of the build: the identities it had
//! (`previousKinds`, `previousNames`, `previousNamespaces`, one entry per
//! stored identity), the prefixes and suffixes that renamed it, the renames
//! and kind changes a patch allowed, what a generator made of it
//! (`generatorBehavior`, `needsHashSuffix`) and the objects whose references
//! the name reference transformer pointed at it (`refBy`). kiln keeps that
//! state beside the object ([`Resource`]) and writes the annotations only
//! where kustomize's behaviour shows them: a JSON patch sees them, the
//! messages that print an object (Go's JSON or sigs.k8s.io/yaml of it) hold
//! them, a field spec walk into `metadata/annotations` meets them, and a
//! node dump (`node contents:`) holding the annotations prints them in the
//! order kustomize set them and in the styles kyaml gave their nodes
//! ([`held_node`], from the order kiln notes in
//! [`Resource::notes_added`]).

use super::generate;
use crate::resource::{Gvk, PrevId, ResId, Resource, SchemaScopes, Step, value_at, value_at_mut};
use crate::value::{Map, Value};
use crate::yaml::{Style, Styled};

/// Where kustomize's build annotations live.
pub(crate) const PREFIX: &str = "internal.config.kubernetes.io/";

/// The build annotations kustomize holds on `r` now: the patches' allowed
/// renames and kind changes, the identities stored before (each time one
/// was stored), the prefixes and suffixes of its renames, on a generated
/// object the generator's behavior and whether a hash suffix is due, and
/// the objects that refer to it.
pub(crate) fn of(r: &Resource, scopes: &SchemaScopes) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (allowed, key) in
        [(r.allowed_changes.1, "allowKindChange"), (r.allowed_changes.0, "allowNameChange")]
    {
        if allowed {
            out.push((format!("{PREFIX}{key}"), "enabled".to_string()));
        }
    }
    if !r.prev_ids.is_empty() {
        let join =
            |f: &dyn Fn(&PrevId) -> String| r.prev_ids.iter().map(f).collect::<Vec<_>>().join(",");
        out.push((format!("{PREFIX}previousKinds"), join(&|p| p.kind.clone())));
        // kustomize appends no empty name (an object a patch left nameless).
        let names: Vec<&str> =
            r.prev_ids.iter().map(|p| p.name.as_str()).filter(|n| !n.is_empty()).collect();
        if !names.is_empty() {
            out.push((format!("{PREFIX}previousNames"), names.join(",")));
        }
        let gvk = r.gvk();
        out.push((
            format!("{PREFIX}previousNamespaces"),
            join(&|p| {
                let then = ResId {
                    gvk: Gvk { kind: p.kind.clone(), ..gvk.clone() },
                    namespace: p.namespace.clone(),
                    name: String::new(),
                };
                then.effective_namespace(scopes).to_string()
            }),
        ));
    }
    // The prefixes and suffixes of its renames, oldest first.
    for (key, list) in [("prefixes", &r.affixes.0), ("suffixes", &r.affixes.1)] {
        if !list.is_empty() {
            out.push((format!("{PREFIX}{key}"), list.join(",")));
        }
    }
    if let Some(behavior) = &r.generator_behavior {
        out.push((format!("{PREFIX}generatorBehavior"), behavior.clone()));
    }
    if r.needs_hash && generate::generated_by(&r.source).is_some() {
        out.push((format!("{PREFIX}needsHashSuffix"), "enabled".to_string()));
    }
    if !r.ref_by.is_empty() {
        out.push((format!("{PREFIX}refBy"), r.ref_by.join(",")));
    }
    out
}

/// Every annotation kustomize holds on `r` now for its own use: the build
/// annotations ([`of`]) and the origin and transformations ([`held`]).
pub(crate) fn all(r: &Resource, scopes: &SchemaScopes) -> Vec<(String, String)> {
    let mut notes = of(r, scopes);
    notes.extend(held(r));
    notes
}

/// Whether kustomize holds any build annotation on `r` now.
pub(crate) fn holds_any(r: &Resource) -> bool {
    !all(r, &SchemaScopes::new()).is_empty()
}

/// kustomize keeps an object's build state in annotations, and reads them
/// from a file as well: a hash suffix is due where `needsHashSuffix` is
/// `enabled`, and the earlier identities are ones the object still answers
/// to. The annotations themselves never reach the output.
pub(crate) fn read(r: &mut Resource) {
    let note = |key: &str| {
        r.value
            .get_path(&["metadata", "annotations", &format!("{}{key}", PREFIX)])
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    if note("needsHashSuffix").as_deref() == Some("enabled") {
        r.needs_hash = true;
    }
    let list = |text: Option<String>| -> Vec<String> {
        text.map(|t| t.split(',').map(str::to_string).collect()).unwrap_or_default()
    };
    r.affixes = (list(note("prefixes")), list(note("suffixes")));
    if let (Some(names), Some(namespaces), Some(kinds)) =
        (note("previousNames"), note("previousNamespaces"), note("previousKinds"))
    {
        let earlier = names.split(',').zip(namespaces.split(',')).zip(kinds.split(','));
        for ((name, namespace), kind) in earlier {
            // kustomize writes the default namespace where there was none.
            let namespace = if namespace == "default" { "" } else { namespace };
            r.prev_ids.push(PrevId {
                kind: kind.to_string(),
                namespace: namespace.to_string(),
                name: name.to_string(),
            });
        }
    }
}

/// kustomize reads an object's annotations (its build state, its
/// identities) by walking the node's items two by two as a map's keys and
/// values, whatever the node: annotations a replacement made a list of odd
/// length fail that read with the Go panic of the index past the end.
pub(crate) fn list_read(r: &Resource) -> Option<String> {
    match r.value.get_path(&["metadata", "annotations"]) {
        Some(Value::Seq(items)) if items.len() % 2 == 1 => {
            let n = items.len();
            Some(format!("runtime error: index out of range [{n}] with length {n}"))
        }
        _ => None,
    }
}

/// kustomize's build state once something replaced `r`'s annotations whole
/// (a replacement writing `metadata` or `metadata.annotations`): the state
/// it kept there went with them, and what the new annotations hold is the
/// state now (a copy of another object's annotations brings that
/// object's). Where it remembered identities before or after, its original
/// identity is the first one remembered, or the current one.
pub(crate) fn replaced(r: &mut Resource) {
    let remembered = !r.prev_ids.is_empty();
    r.prev_ids.clear();
    r.affixes = Default::default();
    r.needs_hash = false;
    r.allowed_changes = (false, false);
    r.ref_by.clear();
    read(r);
    let behavior = format!("{PREFIX}generatorBehavior");
    r.generator_behavior = r
        .value
        .get_path(&["metadata", "annotations", &behavior])
        .and_then(Value::as_str)
        .map(str::to_string);
    if remembered || !r.prev_ids.is_empty() {
        let first = r.prev_res_ids().next();
        r.orig_id = first.unwrap_or_else(|| r.id());
    }
}

/// The origin and transformations annotations kustomize holds on `r` now
/// and kiln keeps beside it while the build tracks origins: none between a
/// patch that replaced the object's annotations and the end of its
/// kustomization's transformers, which then note themselves afresh.
pub(crate) fn held(r: &Resource) -> Vec<(String, String)> {
    let mut out = Vec::new();
    if r.annotations_wiped_by.is_some() {
        return out;
    }
    if let Some(origin) = r.origin_by.as_ref().or(r.origin_held.as_ref()) {
        out.push((super::build::ORIGIN.to_string(), origin.clone()));
    }
    if !r.transformations_held.is_empty() {
        out.push((super::build::TRANSFORMATIONS.to_string(), r.transformations_held.clone()));
    }
    out
}

/// Whether kustomize has set `r`'s annotations anew (kyaml's
/// `SetAnnotations`: sorted, at the end of `metadata`, every value a new
/// string node) since the build began to track origins: it does when it
/// stamps a generated object's origin, and after every transformer, when it
/// notes the transformer (or, for an object whose origin the transformer
/// dropped, takes it as the origin).
pub(crate) fn set_anew_by_origins(r: &Resource) -> bool {
    let tracked = r.origin_held.is_some() || r.origin_by.is_some();
    let noted = r.origin_by.is_some()
        || !r.transformations_held.is_empty()
        || r.value.get_path(&["metadata", "annotations", super::build::TRANSFORMATIONS]).is_some();
    tracked && (noted || generate::generated_by(&r.source).is_some())
}

/// The object as kustomize holds it while it builds: its own annotations
/// and the build annotations in `metadata.annotations`. A build annotation
/// takes the place of one of the same key the object wrote.
pub(crate) fn annotated(r: &Resource, scopes: &SchemaScopes) -> Value {
    let mut v = r.value.clone();
    let notes = all(r, scopes);
    if notes.is_empty() {
        return v;
    }
    // kustomize sets them, making `metadata` where a patch left none.
    if let Value::Map(m) = &mut v {
        m.entry("metadata".to_string()).or_insert_with(|| Value::Map(Map::new()));
    }
    if let Some(Value::Map(meta)) = v.get_path_mut(&["metadata"]) {
        let slot = meta.entry("annotations".to_string()).or_insert(Value::Null);
        if !matches!(slot, Value::Map(_)) {
            *slot = Value::Map(Map::new());
        }
        if let Value::Map(map) = slot {
            for (k, value) in notes {
                map.insert(k, Value::String(value));
            }
        }
    }
    v
}

/// The build annotations kyaml's `AnnotationSetter` sets (a single-quoted
/// string node, appended to the map or taking the place of the value of a
/// key it has, whose style it keeps); kustomize sets the others with the
/// whole map (`SetAnnotations`) or merges them from a patch.
const SET_ONE_BY_ONE: [&str; 6] =
    ["prefixes", "suffixes", "previousNames", "previousNamespaces", "previousKinds", "refBy"];

/// `node`, at `path` in `r`, as kustomize holds it mid-build, with the
/// styles its nodes have, where it holds `metadata.annotations` and
/// kustomize keeps build annotations there: the object's own annotations
/// first (sorted once kustomize set the map anew), then the ones added
/// since, build annotations included, in the order they came; `None` where
/// the node is as kiln keeps it. The build's schema file does not reach
/// here: a previous namespace is the effective one by kyaml's table.
pub(crate) fn held_node(
    r: &Resource,
    path: &[Step],
    node: &Value,
    styles: Option<&Styled>,
) -> Option<(Value, Styled)> {
    let notes_path = [Step::Key("metadata".into()), Step::Key("annotations".into())];
    if path.len() > 2 || !notes_path.starts_with(path) {
        return None;
    }
    let build = all(r, &SchemaScopes::new());
    if build.is_empty() {
        return None;
    }
    let rel = &notes_path[path.len()..];
    let own = match value_at(node, rel) {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Map(m)) => m.clone(),
        Some(_) => return None,
    };
    let built = |k: &str| build.iter().find(|(b, _)| b == k).map(|(_, v)| v);
    // While the build tracks origins, kustomize sets the map anew after
    // every transformer.
    let by_origins = set_anew_by_origins(r);
    let sorted = r.notes_sorted || by_origins;
    let added: Vec<&String> = r
        .notes_added
        .iter()
        .filter(|k| !by_origins && (own.contains_key(*k) || built(k).is_some()))
        .collect();
    let mut keys: Vec<&String> = own.keys().chain(build.iter().map(|(k, _)| k)).collect();
    keys.retain(|k| !added.contains(k));
    let mut seen = std::collections::HashSet::new();
    keys.retain(|k| seen.insert(*k));
    if sorted {
        keys.sort();
    }
    let base = keys.len();
    keys.extend(added);
    let file = styles.and_then(|s| s.at(&notes_path));
    let file_entry = |k: &str, v: &Value| match file {
        Some(Styled::Map { entries, .. }) => entries
            .iter()
            .rev()
            .find(|(key, _)| matches!(key, Styled::Scalar { text, .. } if text == k))
            .filter(|(_, st)| matches!(st, Styled::Scalar { value, .. } if value == v))
            .map(|(_, st)| st.clone()),
        _ => None,
    };
    let mut map = Map::new();
    let mut entries = Vec::new();
    for (i, k) in keys.into_iter().enumerate() {
        let appended = i >= base;
        let (value, st) = match built(k) {
            Some(v) => {
                let one_by_one = SET_ONE_BY_ONE.iter().any(|n| k.strip_prefix(PREFIX) == Some(*n));
                let style = if appended && one_by_one { Style::Single } else { string_style(v) };
                (Value::String(v.clone()), scalar(v, style))
            }
            None => {
                let v = own.get(k).cloned().unwrap_or(Value::Null);
                let restyled = r.notes_restyled.contains(k);
                let kept =
                    (!restyled && (appended || !sorted)).then(|| file_entry(k, &v)).flatten();
                let st = kept.unwrap_or_else(|| match &v {
                    Value::String(s) => scalar(s, string_style(s)),
                    _ => Styled::Other,
                });
                (v, st)
            }
        };
        entries.push((scalar(k, Style::Plain), st));
        map.insert(k.clone(), value);
    }
    // kyaml makes a map of its own where the object had none, or an empty one.
    let flow = matches!(file, Some(Styled::Map { flow: true, .. })) && r.notes_at.is_none();
    let notes_styled = Styled::Map { flow, entries, tag: None, notes: None };
    // The node with the map in kustomize's place.
    let mut held = node.clone();
    let (meta_path, _) = rel.split_at(rel.len().saturating_sub(1));
    match rel {
        [] => held = Value::Map(map),
        _ => {
            let meta = value_at_mut(&mut held, meta_path).and_then(Value::as_map_mut)?;
            let own_place = meta.get_index_of("annotations").filter(|_| r.notes_at.is_none());
            meta.shift_remove("annotations");
            let at = own_place.or(r.notes_at).unwrap_or(meta.len()).min(meta.len());
            meta.shift_insert(at, "annotations".into(), Value::Map(map));
        }
    }
    let mut st = styles.and_then(|s| s.at(path)).cloned().unwrap_or(Styled::Other);
    let mut slot = &mut st;
    for step in rel {
        let Step::Key(k) = step else { return None };
        slot = entry_mut(slot, k);
    }
    *slot = notes_styled;
    Some((held, st))
}

/// The style kyaml gives a string node it makes (`NewStringRNode`): a
/// literal block for text on several lines, double quotes for text YAML
/// would read as something else, else plain.
fn string_style(s: &str) -> Style {
    if s.contains('\n') {
        Style::Literal
    } else if crate::yaml::v3_value_not_plain(s) {
        Style::Double
    } else {
        Style::Plain
    }
}

/// A string scalar node in `style`.
fn scalar(s: &str, style: Style) -> Styled {
    let value = Value::String(s.to_string());
    Styled::Scalar { style, text: s.to_string(), value, tag: None, notes: None }
}

/// The style node of `key` in the map node `st`, made (and `st` made a
/// block map) where missing.
fn entry_mut<'a>(st: &'a mut Styled, key: &str) -> &'a mut Styled {
    if !matches!(st, Styled::Map { .. }) {
        *st = Styled::Map { flow: false, entries: Vec::new(), tag: None, notes: None };
    }
    let Styled::Map { entries, .. } = st else { unreachable!("made a map above") };
    let found =
        entries.iter().rposition(|(k, _)| matches!(k, Styled::Scalar { text, .. } if text == key));
    let i = found.unwrap_or_else(|| {
        entries.push((scalar(key, Style::Plain), Styled::Other));
        entries.len() - 1
    });
    &mut entries[i].1
}

/// The object as kustomize's messages print a resource with Go's `%v`
/// (its `String`): the JSON of the object with its build annotations.
pub(crate) fn json(r: &Resource, scopes: &SchemaScopes) -> String {
    generate::to_go_json(&annotated(r, scopes))
}

/// Go's `%v` of a list of resources: `[` the JSON of each, by spaces `]`.
pub(crate) fn json_list<'a>(
    objects: impl IntoIterator<Item = &'a Resource>,
    scopes: &SchemaScopes,
) -> String {
    let items: Vec<String> = objects.into_iter().map(|r| json(r, scopes)).collect();
    format!("[{}]", items.join(" "))
}

/// The object as kustomize's `MustYaml` prints it: its JSON with the build
/// annotations, turned into YAML by sigs.k8s.io/yaml.
pub(crate) fn yaml(r: &Resource, scopes: &SchemaScopes) -> String {
    crate::yaml::to_string(&annotated(r, scopes))
}

/// Notes the annotations a strategic merge patch added to `r` (`before`
/// it was merged), as kyaml's merge walk appends them: in the order of
/// their keys, the allow annotations the options give it among them. Where
/// kustomize set the patch's annotations anew (`set_anew`: a targeted
/// patch's copy, a patch the options allow to rename), each value the
/// patch gave is a new string node, whatever style its text wrote.
pub(crate) fn note_merged(
    r: &mut Resource,
    before: &Value,
    was_allowed: (bool, bool),
    set_anew: bool,
) {
    let had = before.get_path(&["metadata", "annotations"]).and_then(Value::as_map);
    let now = r.value.get_path(&["metadata", "annotations"]).and_then(Value::as_map);
    let given: Vec<&String> = now
        .into_iter()
        .flatten()
        .filter(|(k, v)| had.and_then(|m| m.get(*k)) != Some(*v))
        .map(|(k, _)| k)
        .collect();
    r.notes_restyled.retain(|k| !given.contains(&k));
    if set_anew {
        r.notes_restyled.extend(given.iter().map(|k| k.to_string()));
    }
    let mut added: Vec<String> = now
        .into_iter()
        .flatten()
        .map(|(k, _)| k)
        .filter(|k| !had.is_some_and(|m| m.contains_key(*k)))
        .cloned()
        .collect();
    for (allowed, was, key) in [
        (r.allowed_changes.0, was_allowed.0, "allowNameChange"),
        (r.allowed_changes.1, was_allowed.1, "allowKindChange"),
    ] {
        if allowed && !was {
            added.push(format!("{PREFIX}{key}"));
        }
    }
    added.sort();
    for k in added {
        r.note_added(&k);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    fn object(text: &str) -> Resource {
        let v = yaml::parse_documents(text, "o.yaml").unwrap().remove(0);
        Resource::new(v, "o.yaml")
    }

    #[test]
    fn stored_identities_note_the_effective_namespace() {
        let cases = [
            ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n", "default"),
            ("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: x}\n", "x"),
            ("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n", "_non_namespaceable_"),
            (
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: a, namespace: x}\n",
                "_non_namespaceable_",
            ),
            // A kind the build's schema file gives as cluster-scoped.
            (
                "apiVersion: x.io/v1\nkind: Widget\nmetadata: {name: a, namespace: x}\n",
                "_non_namespaceable_",
            ),
            ("apiVersion: x.io/v2\nkind: Widget\nmetadata: {name: a, namespace: x}\n", "x"),
        ];
        let scopes = SchemaScopes::from([(("x.io".into(), "v1".into(), "Widget".into()), false)]);
        for (text, want) in cases {
            let mut r = object(text);
            r.store_previous_id();
            let notes = of(&r, &scopes);
            let ns = notes.iter().find(|(k, _)| k.ends_with("previousNamespaces"));
            assert_eq!(ns.map(|(_, v)| v.as_str()), Some(want), "{text}");
        }
    }

    #[test]
    fn dumps_hold_the_build_annotations_with_sorted_keys() {
        let mut r =
            object("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, annotations: {z: '1'}}\n");
        let none = SchemaScopes::new();
        assert_eq!(
            json(&r, &none),
            r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"annotations":{"z":"1"},"name":"a"}}"#
        );
        r.store_previous_id();
        r.store_previous_id();
        r.ref_by.push("Deployment.v1.apps/d.[noNs]".into());
        assert_eq!(
            json(&r, &none),
            concat!(
                r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"annotations":{"#,
                r#""internal.config.kubernetes.io/previousKinds":"ConfigMap,ConfigMap","#,
                r#""internal.config.kubernetes.io/previousNames":"a,a","#,
                r#""internal.config.kubernetes.io/previousNamespaces":"default,default","#,
                r#""internal.config.kubernetes.io/refBy":"Deployment.v1.apps/d.[noNs]","#,
                r#""z":"1"},"name":"a"}}"#
            )
        );
        assert!(json_list([&r, &r], &none).starts_with("[{\"apiVersion\""));
        assert!(yaml(&r, &none).contains("    internal.config.kubernetes.io/previousNames: a,a\n"));
    }
}
