//! `commonLabels`, `labels` and `commonAnnotations`.

use crate::kustomize::fieldspec::{
    self, FieldSpec, SELECTOR_LABELS, TEMPLATE_ANNOTATIONS, TEMPLATE_LABELS, merge_string_map,
};
use crate::kustomize::kustomization::{LabelSet, UserFieldSpec};
use crate::resource::Resource;

fn write(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    meta_field: &str,
    specs: &[&[FieldSpec]],
) {
    if pairs.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        let gvk = r.gvk();
        fieldspec::visit_mut(&mut r.value, &format!("metadata/{meta_field}"), true, &mut |slot| {
            merge_string_map(slot, pairs)
        });
        for table in specs {
            for spec in table.iter().filter(|s| s.matches(&gvk)) {
                fieldspec::visit_mut(&mut r.value, spec.path, spec.create, &mut |slot| {
                    merge_string_map(slot, pairs)
                });
            }
        }
    }
}

/// `commonLabels`: metadata, selectors and templates.
pub fn apply_common(resources: &mut [Resource], pairs: &[(String, String)]) {
    write(resources, pairs, "labels", &[SELECTOR_LABELS, TEMPLATE_LABELS]);
}

/// One `labels` entry.
pub fn apply_set(resources: &mut [Resource], set: &LabelSet) {
    let specs: &[&[FieldSpec]] = if set.fields_only {
        &[]
    } else if set.include_selectors {
        &[SELECTOR_LABELS, TEMPLATE_LABELS]
    } else if set.include_templates {
        &[TEMPLATE_LABELS]
    } else {
        &[]
    };
    if !set.fields_only {
        write(resources, &set.pairs, "labels", specs);
    }
    if set.pairs.is_empty() {
        return;
    }
    apply_fields(resources, &set.pairs, &set.fields);
}

/// Writes labels or annotations into the maps at user field specs.
pub fn apply_fields(
    resources: &mut [Resource],
    pairs: &[(String, String)],
    specs: &[UserFieldSpec],
) {
    if pairs.is_empty() || specs.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        let gvk = r.gvk();
        for f in specs.iter().filter(|f| f.matches(&gvk)) {
            fieldspec::visit_mut(&mut r.value, &f.path, f.create, &mut |slot| {
                merge_string_map(slot, pairs)
            });
        }
    }
}

/// `commonAnnotations`: metadata and pod templates.
pub fn apply_annotations(resources: &mut [Resource], pairs: &[(String, String)]) {
    write(resources, pairs, "annotations", &[TEMPLATE_ANNOTATIONS]);
}
