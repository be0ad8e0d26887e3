//! `commonLabels`, `labels` and `commonAnnotations`.
//!
//! One transformer writes each key of an object as one value shared by all
//! the fields where it creates the key (see [`crate::resource::SharedScalar`]);
//! where the key was already there, the field gets its own copy.

use crate::kustomize::config;
use crate::kustomize::fieldspec::{
    self, FieldSpec, SELECTOR_LABELS, TEMPLATE_ANNOTATIONS, TEMPLATE_LABELS,
};
use crate::kustomize::kustomization::{LabelSet, UserFieldSpec};
use crate::resource::{Resource, Step};
use crate::value::{Map, Value};
use crate::yaml::resolve::resolve_plain;

/// Where one transformer writes, in order: field specs of its own
/// (a `labels` entry's `fields`), built-in tables and configuration specs.
struct Places<'a> {
    own: &'a [UserFieldSpec],
    builtin: &'a [&'a [FieldSpec]],
    user: &'a [UserFieldSpec],
}

fn write(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    places: &Places<'_>,
) -> Result<(), String> {
    if pairs.is_empty() {
        return Ok(());
    }
    // kustomize writes keys as plain scalars; one that YAML reads back as
    // something other than a string (`true`, `1`, `~`) stays in the object,
    // which fails where kustomize turns it into JSON (see
    // [`Resource::plain_keys`]).
    let plain: Vec<bool> =
        pairs.iter().map(|(k, _)| !matches!(resolve_plain(k), Value::String(_))).collect();
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by(|&a, &b| pairs[a].0.cmp(&pairs[b].0));
    for r in resources.iter_mut() {
        let mut plain_keys = std::mem::take(&mut r.plain_keys);
        let gvk = r.gvk();
        // Per key, the fields where this transformer created it.
        let mut created: Vec<Vec<Vec<Step>>> = vec![Vec::new(); pairs.len()];
        // Every field written, created or not (see `Resource::written`).
        let mut written = std::mem::take(&mut r.written);
        // A list or scalar where the map of labels goes: kept in a cell, as
        // the walk holds the writer. A null field becomes a map only where
        // the field spec creates.
        let wrong = std::cell::RefCell::new(None);
        let mut put = |i: usize, create: bool, at: &[Step], slot: &mut Value| {
            if slot.is_null() && create {
                *slot = Value::Map(Map::new());
            }
            let m = match slot {
                Value::Map(m) => m,
                Value::Null => return,
                other => {
                    let kind = if other.as_seq().is_some() { "SequenceNode" } else { "ScalarNode" };
                    wrong.borrow_mut().get_or_insert_with(|| (kind, other.clone(), at.to_vec()));
                    return;
                }
            };
            let (k, v) = &pairs[i];
            if plain[i] && !plain_keys.iter().any(|(m, pk)| m[..] == at[..] && pk == k) {
                plain_keys.push((at.to_vec(), k.clone()));
            }
            let mut path = at.to_vec();
            path.push(Step::Key(k.clone()));
            if !written.contains(&path) {
                written.push(path.clone());
            }
            if m.insert(k.clone(), Value::String(v.clone())).is_none() {
                created[i].push(path);
            }
        };
        let own = places.own.iter().filter(|s| s.matches(&gvk)).map(|s| (&*s.path, s.create));
        let builtin = places.builtin.iter().flat_map(|t| t.iter()).filter(|s| s.matches(&gvk));
        let user = places.user.iter().filter(|s| s.matches(&gvk)).map(|s| (&*s.path, s.create));
        let specs: Vec<(&str, bool)> =
            own.chain(builtin.map(|s| (s.path, s.create))).chain(user).collect();
        // kustomize writes one key (in sorted order) at every place before
        // the next: a place without `create` that a later place created
        // for one key takes the keys after it.
        for (i, (path, create)) in order.iter().flat_map(|&i| specs.iter().map(move |s| (i, *s))) {
            if let Err(e) =
                fieldspec::visit_checked_node(&mut r.value, path, create, &mut |at, slot| {
                    put(i, create, at, slot)
                })
            {
                return Err(fieldspec::field_error(r, path, e));
            }
            // A list on the way wraps the error once per list.
            if let Some((got, node, at)) = wrong.take() {
                let why = format!(
                    "{}wrong node kind: expected MappingNode but got {got}: {}",
                    fieldspec::traversal_wraps(path, &at),
                    fieldspec::node_contents(r, &at, &node)
                );
                return Err(fieldspec::field_error(r, path, why));
            }
        }
        r.written = written;
        r.plain_keys = plain_keys;
        let meta_notes = [Step::Key("metadata".into()), Step::Key("annotations".into())];
        for paths in &created {
            for path in paths.iter().filter(|p| p.len() == 3 && p.starts_with(&meta_notes)) {
                if let Some(Step::Key(k)) = path.last() {
                    r.note_added(k);
                }
            }
        }
        r.sync_shared();
        for (paths, (_, v)) in created.into_iter().zip(pairs) {
            r.share(paths, Value::String(v.clone()));
        }
    }
    Ok(())
}

const META_LABELS: &[FieldSpec] =
    &[FieldSpec { group: None, kind: None, path: "metadata/labels", create: true }];
const META_ANNOTATIONS: &[FieldSpec] =
    &[FieldSpec { group: None, kind: None, path: "metadata/annotations", create: true }];

/// `commonLabels`: metadata, selectors and templates, and the label fields
/// of `configurations` (`extra`).
pub fn apply_common(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    extra: &[UserFieldSpec],
) -> Result<(), String> {
    let builtin: &[&[FieldSpec]] = &[META_LABELS, SELECTOR_LABELS, TEMPLATE_LABELS];
    write(resources, pairs, &Places { own: &[], builtin, user: extra })
}

/// One `labels` entry; `selectors` and `templates` are the `commonLabels`
/// and `templateLabels` fields of `configurations`, used with
/// `includeSelectors` and with `includeTemplates` alone; `every` is their
/// `labels` field, used by every entry.
pub fn apply_set(
    resources: &mut [Resource],
    set: &LabelSet,
    selectors: &[UserFieldSpec],
    templates: &[UserFieldSpec],
    every: &[UserFieldSpec],
) -> Result<(), String> {
    let tables: &[&[FieldSpec]] = if set.fields_only {
        &[]
    } else if set.include_selectors {
        &[META_LABELS, SELECTOR_LABELS, TEMPLATE_LABELS]
    } else if set.include_templates {
        &[META_LABELS, TEMPLATE_LABELS]
    } else {
        &[META_LABELS]
    };
    // kustomize's list starts with the entry's `fields` and takes each
    // other place unless a field for its path is of kinds it selects: a
    // `fields` entry for Jobs' `metadata/labels` keeps every other kind's
    // labels as they are.
    let fields = &set.fields;
    let builtin: Vec<FieldSpec> = tables
        .iter()
        .flat_map(|t| t.iter())
        .filter(|s| !config::builtin_covered(fields, s))
        .copied()
        .collect();
    let mut user: Vec<UserFieldSpec> = Vec::new();
    if !set.fields_only {
        let others = if set.include_selectors {
            selectors
        } else if set.include_templates {
            templates
        } else {
            &[]
        };
        let others = others.iter().chain(every);
        user.extend(others.filter(|s| !config::covered(fields, s)).cloned());
    }
    write(resources, &set.pairs, &Places { own: fields, builtin: &[&builtin], user: &user })
}

/// `commonAnnotations`: metadata and pod templates, and the annotation
/// fields of `configurations` (`extra`).
pub fn apply_annotations(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    extra: &[UserFieldSpec],
) -> Result<(), String> {
    let builtin: &[&[FieldSpec]] = &[META_ANNOTATIONS, TEMPLATE_ANNOTATIONS];
    write(resources, pairs, &Places { own: &[], builtin, user: extra })
}
