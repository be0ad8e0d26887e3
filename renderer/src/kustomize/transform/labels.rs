//! `commonLabels`, `labels` and `commonAnnotations`.
//!
//! One transformer writes each key of an object as one value shared by all
//! the fields where it creates the key (see [`crate::resource::SharedScalar`]);
//! where the key was already there, the field gets its own copy.

use crate::kustomize::fieldspec;
use crate::kustomize::kustomization::UserFieldSpec;
use crate::resource::{Gvk, Resource, Step};
use crate::value::{Map, Value};
use std::collections::HashMap;

/// Writes `pairs` into the label (or annotation) maps at `specs`, in the
/// order of the list: kustomize's merged `commonLabels`, `commonAnnotations`
/// list or the places of one `labels` entry
/// ([`crate::kustomize::config::Config::label_set_specs`]).
pub fn apply(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    specs: &[UserFieldSpec],
) -> Result<(), String> {
    if pairs.is_empty() {
        return Ok(());
    }
    // kustomize writes keys as plain scalars; one that YAML reads back as
    // something other than a string (`true`, `1`, `~`) stays in the object,
    // which fails where kustomize turns it into JSON (see
    // [`Resource::plain_keys`]).
    let plain: Vec<bool> =
        pairs.iter().map(|(k, _)| !crate::yaml::resolve::reads_as_string(k)).collect();
    let mut order: Vec<usize> = (0..pairs.len()).collect();
    order.sort_by(|&a, &b| pairs[a].0.cmp(&pairs[b].0));
    // The specs that select each kind, found once per kind.
    let mut by_kind: HashMap<Gvk, Vec<(&str, bool)>> = HashMap::new();
    for r in resources.iter_mut() {
        let mut plain_keys = std::mem::take(&mut r.plain_keys);
        let places = by_kind.entry(r.gvk()).or_insert_with_key(|gvk| {
            specs.iter().filter(|s| s.matches(gvk)).map(|s| (&*s.path, s.create)).collect()
        });
        // Per key, the fields where this transformer created it.
        let mut created: Vec<Vec<Vec<Step>>> = vec![Vec::new(); pairs.len()];
        // Every field written, created or not (see `Resource::written`).
        let mut written = std::mem::take(&mut r.written);
        // A list or scalar where the map of labels goes (the node kind
        // expected, the one found, the node, where): kept in a cell, as the
        // walk holds the writer. A null field becomes a map only where the
        // field spec creates.
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
                    wrong
                        .borrow_mut()
                        .get_or_insert_with(|| ("MappingNode", kind, other.clone(), at.to_vec()));
                    return;
                }
            };
            let (k, v) = &pairs[i];
            // kyaml's field setter takes an empty name for the node itself,
            // which must then be a scalar: the map fails, as it is.
            if k.is_empty() {
                wrong.borrow_mut().get_or_insert_with(|| {
                    ("ScalarNode", "MappingNode", Value::Map(m.clone()), at.to_vec())
                });
                return;
            }
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
        // kustomize writes one key (in sorted order) at every place before
        // the next: a place without `create` that a later place created
        // for one key takes the keys after it.
        for (i, (path, create)) in order.iter().flat_map(|&i| places.iter().map(move |s| (i, *s))) {
            let walked =
                fieldspec::visit_checked_node(&mut r.value, path, create, &mut |at, slot| {
                    put(i, create, at, slot)
                });
            let refused = wrong.borrow().as_ref().map(|w| w.3.clone());
            if let Err(e) =
                fieldspec::WalkFailure::unless_refused_before(walked, refused.as_deref())
            {
                return Err(fieldspec::field_error(r, path, e));
            }
            // A list on the way wraps the error once per list.
            if let Some((expected, got, node, at)) = wrong.take() {
                let why = format!(
                    "{}wrong node kind: expected {expected} but got {got}: {}",
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
