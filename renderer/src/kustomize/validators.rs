//! `validators:`: built-in plugin configs that run over the objects and must leave them as they were.
//!
//! kustomize runs a validator on the real objects and then compares every
//! YAML node with a copy taken before, so a validator fails not only when it
//! changes a value but also when it writes a value equal to the one there
//! (a written node is a new node). A validator that writes nowhere passes,
//! and whatever it did stays in the output; the `validated-by` label it may
//! add is ignored by the comparison where the object had no labels before.
//! kubectl also lets pass an equal write over a node an earlier transformer
//! of the build wrote, as that node has no source position either: kiln
//! knows the fields label, annotation, image and replica transformers wrote and no later
//! step overwrote from a file ([`Resource::written`]), and lets a write
//! pass there (anywhere else it stays a change, which errs on the side of
//! kubectl's failure).
//!
//! Writes of equal values are found by running the validator a second time
//! as a probe: its configuration is copied with every value it writes
//! replaced by one no object holds, so that any write shows as a change.

use super::build_annotations;
use super::kustomization::{Kustomization, Patch};
use super::select::Matcher;
use crate::resource::{ResId, Resource, SchemaScopes};
use crate::value::Value;

/// A value no object holds.
const PROBE: &str = "\u{1}kiln-validator-probe";
/// A replica count no object holds.
const PROBE_COUNT: i64 = i64::MIN + 17;
/// The label kustomize lets validators add.
const VALIDATED_BY: &str = "validated-by";

/// The probe of a validator's configuration: the same fields, with every
/// value it writes replaced by the probe value. Replacements copy values
/// from the objects themselves and so have no probe: an equal value they
/// copy leaves kustomize's nodes alone too.
pub fn probe(k: &Kustomization) -> Kustomization {
    let mut p = k.clone();
    let probe_pairs = |pairs: &mut Vec<(String, String)>| {
        for (_, v) in pairs.iter_mut() {
            *v = PROBE.to_string();
        }
    };
    for set in &mut p.labels {
        probe_pairs(&mut set.pairs);
    }
    probe_pairs(&mut p.common_labels);
    probe_pairs(&mut p.common_annotations);
    for field in [&mut p.namespace, &mut p.name_prefix, &mut p.name_suffix] {
        if field.is_some() {
            *field = Some(PROBE.to_string());
        }
    }
    // A PrefixSuffixTransformer config rewrites the names its field specs
    // pick even with neither a prefix nor a suffix.
    if p.prefix_fields.is_some() {
        p.name_prefix = Some(PROBE.to_string());
    }
    for image in &mut p.images {
        image.new_name = None;
        image.new_tag = Some(PROBE.to_string());
        image.digest = None;
    }
    for r in &mut p.replicas {
        r.count = PROBE_COUNT;
    }
    if let Some(va) = &mut p.value_add {
        va.value = PROBE.to_string();
    }
    p
}

/// Whether a validator's patches write to any of the objects: a patch that
/// names its own target always does (kustomize fails when it finds none),
/// one with a target selector does when the selector picks an object.
pub fn patches_write(
    k: &Kustomization,
    objects: &[Resource],
    scopes: &SchemaScopes,
) -> Result<bool, String> {
    let targeted = |p: &Patch| -> Result<bool, String> {
        match &p.target {
            None => Ok(true),
            Some(t) => {
                let m = Matcher::new(t)?;
                Ok(objects.iter().any(|r| m.matches(r, scopes)))
            }
        }
    };
    for p in k.patches_strategic_merge.iter().chain(&k.patches).chain(&k.patches_json6902) {
        if targeted(p)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// What the probe run of a validator (see the module's comment) showed.
#[derive(Clone, Copy)]
pub enum Probe<'a> {
    /// No probe ran, or it failed: only the real run's changes count.
    None,
    /// The objects once the probe ran, after [`forgive_written`]: a value
    /// that differs from before is a write.
    Values(&'a [Resource]),
    /// The validator's patches write to the objects: those whose written
    /// fields grew in the probe run are written to.
    PatchWrites(&'a [Resource]),
}

/// Checks that `after` (the objects once a validator ran) equals `before`
/// as kustomize compares them (`ErrorIfNotEqualSets`): each object of
/// `before`, in the order of the build, must have exactly one object of its
/// identity in `after`, whose nodes differ where the real run changed a
/// value or the probe shows a write. The message says where not.
pub fn unchanged(
    before: &[Resource],
    after: &[Resource],
    probe: Probe<'_>,
    scopes: &SchemaScopes,
) -> Result<(), String> {
    if before.len() != after.len() {
        return Err(format!(
            "lists have different number of entries: {} doesn't equal {}",
            before.len(),
            after.len()
        ));
    }
    let after_ids: Vec<ResId> = after.iter().map(Resource::id).collect();
    let mut seen = vec![false; after.len()];
    for b in before {
        let id = b.id();
        let mut others = after_ids.iter().enumerate().filter(|(_, o)| id.same_as(o, scopes));
        let Some((i, _)) = others.next() else {
            return Err(format!("id in self missing from other; id: {}", id.kustomize_form()));
        };
        let more = others.count();
        if more > 0 {
            return Err(format!(
                "id in self matches {} in other; id: {}",
                more + 1,
                id.kustomize_form()
            ));
        }
        let a = &after[i];
        let written = match probe {
            Probe::None => false,
            Probe::Values(probed) => {
                probed.get(i).is_some_and(|p| without_validated_by(b, p) != b.value)
            }
            Probe::PatchWrites(probed) => {
                probed.get(i).is_some_and(|p| p.written.len() > b.written.len())
            }
        };
        // An identity remembered (kustomize's namespace transformer
        // remembers one for every object it visits) is a build annotation
        // written to the object.
        let remembered = a.prev_ids.len() != b.prev_ids.len();
        if written || remembered || without_validated_by(b, a) != b.value {
            return Err(nodes_unequal(b, a, scopes));
        }
        seen[i] = true;
    }
    let seen = seen.iter().filter(|s| **s).count();
    if seen != before.len() {
        return Err(format!("counting problem {seen} != {}", before.len()));
    }
    // A patch that picks an object writes to it, even where kiln cannot
    // tell which fields it rewrote.
    match (probe, before.first(), after.first()) {
        (Probe::PatchWrites(_), Some(b), Some(a)) => Err(nodes_unequal(b, a, scopes)),
        (Probe::PatchWrites(_), _, _) => {
            Err("a patch of the validator writes to the objects".into())
        }
        _ => Ok(()),
    }
}

/// kustomize's message for an object a validator changed: both objects as
/// JSON with their build annotations, the second without the
/// `validated-by` label (kustomize takes it out of the copy it compares),
/// then Go dumps of its two resources, which hold heap addresses and are
/// left out here.
fn nodes_unequal(before: &Resource, after: &Resource, scopes: &SchemaScopes) -> String {
    let mut shown = after.clone();
    if let Some(Value::Map(meta)) = shown.value.get_path_mut(&["metadata"]) {
        if let Some(Value::Map(labels)) = meta.get_mut("labels") {
            if labels.shift_remove(VALIDATED_BY).is_some() && labels.is_empty() {
                meta.shift_remove("labels");
            }
        }
    }
    format!(
        "nodes unequal: \n -- {},\n -- {}\n\n--",
        build_annotations::json(before, scopes),
        build_annotations::json(&shown, scopes)
    )
}

/// Puts back, in the objects a probe ran over, the values of `before` at
/// the fields a transformer wrote (see [`Resource::written`]): a validator's
/// write there is no change to kustomize when the value is the same, which
/// the validator's real run has shown.
pub fn forgive_written(before: &[Resource], probed: &mut [Resource]) {
    for (b, p) in before.iter().zip(probed.iter_mut()) {
        for path in &b.written {
            if let (Some(old), Some(slot)) = (
                crate::resource::value_at(&b.value, path),
                crate::resource::value_at_mut(&mut p.value, path),
            ) {
                *slot = old.clone();
            }
        }
    }
}

/// `after`'s value with the `validated-by` label taken out where `before`
/// had no labels (removing it leaves no labels field then, as before).
fn without_validated_by(before: &Resource, after: &Resource) -> Value {
    let mut v = after.value.clone();
    if before.value.get_path(&["metadata", "labels"]).is_some() {
        return v;
    }
    if let Some(Value::Map(meta)) = v.get_path_mut(&["metadata"]) {
        if let Some(Value::Map(labels)) = meta.get_mut("labels") {
            labels.shift_remove(VALIDATED_BY);
            if labels.is_empty() {
                meta.shift_remove("labels");
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    fn objects(text: &str) -> Vec<Resource> {
        yaml::parse_documents(text, "o.yaml")
            .unwrap()
            .into_iter()
            .map(|v| Resource::new(v, "o.yaml"))
            .collect()
    }

    #[test]
    fn comparison_ignores_only_a_new_validated_by_label() {
        let plain = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n";
        let labelled = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {x: y}}\n";
        let cases = [
            (plain, plain, true),
            (
                plain,
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {validated-by: v}}\n",
                true,
            ),
            (
                plain,
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {other: v}}\n",
                false,
            ),
            (
                labelled,
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, labels: {x: y, validated-by: v}}\n",
                false,
            ),
            (plain, "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\n", false),
            (plain, "", false),
        ];
        for (before, after, ok) in cases {
            let got =
                unchanged(&objects(before), &objects(after), Probe::None, &SchemaScopes::new());
            assert_eq!(got.is_ok(), ok, "{before} -> {after}: {got:?}");
        }
    }

    #[test]
    fn probes_replace_written_values() {
        let k = Kustomization {
            namespace: Some("ns".into()),
            name_prefix: Some(String::new()),
            common_labels: vec![("a".into(), "b".into())],
            ..Default::default()
        };
        let p = probe(&k);
        assert_eq!(p.namespace.as_deref(), Some(PROBE));
        assert_eq!(p.name_prefix.as_deref(), Some(PROBE));
        assert_eq!(p.name_suffix, None);
        assert_eq!(p.common_labels, vec![("a".to_string(), PROBE.to_string())]);
    }
}
