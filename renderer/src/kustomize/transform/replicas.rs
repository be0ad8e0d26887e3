//! `replicas:`: sets the replica count of named workloads.

use crate::kustomize::fieldspec;
use crate::kustomize::kustomization::{Replica, UserFieldSpec};
use crate::kustomize::transform::images;
use crate::resource::{Gvk, NodeTexts, Resource};
use crate::value::Value;

/// A field spec's type as kustomize prints a `Gvk`: `Kind.version.group`,
/// `[noKind]`, `[noVer]`, `[noGrp]` for blanks.
fn gvk_string(s: &UserFieldSpec) -> String {
    let or = |v: &Option<String>, none: &'static str| {
        v.as_deref().filter(|v| !v.is_empty()).unwrap_or(none).to_string()
    };
    format!("{}.{}.{}", or(&s.kind, "[noKind]"), or(&s.version, "[noVer]"), or(&s.group, "[noGrp]"))
}

/// Sets the replica count on objects whose current or earlier identity has
/// the name and a kind a spec selects, at `specs`: a ReplicaCountTransformer's own field specs, or kustomize's
/// merged `replicas` list. A name that matches no object of those kinds is
/// an error, as in kustomize.
pub fn apply(
    resources: &mut [Resource],
    replicas: &[Replica],
    specs: &[UserFieldSpec],
) -> Result<(), String> {
    for rep in replicas {
        let mut matched = false;
        for r in resources.iter_mut() {
            // kustomize picks an object by an identity (current, original or
            // earlier) that has both the name and a kind the spec selects;
            // the spec then writes only where it selects the current kind.
            let gvk = r.gvk();
            let named: Vec<Gvk> = std::iter::once(r.id())
                .chain(std::iter::once(r.orig_id.clone()))
                .chain(r.prev_res_ids())
                .filter(|id| id.name == rep.name)
                .map(|id| id.gvk)
                .collect();
            for spec in specs.iter().filter(|s| named.iter().any(|g| s.matches(g))) {
                matched = true;
                if !spec.matches(&gvk) {
                    continue;
                }
                // kustomize sets the number's text and keeps the node's
                // style: a count written in quotes stays a quoted string.
                // The count is a new node (see [`Resource::written`]).
                // A list or a map where the path ends fails.
                let quoted = std::mem::take(&mut r.quoted);
                let how =
                    NodeTexts { texts: &[], quoted: &quoted, rebuilt: r.json_rebuilt.is_some() };
                let mut written = std::mem::take(&mut r.written);
                let walked = fieldspec::set_scalars(r, &spec.path, spec.create, &mut |at, slot| {
                    *slot = if slot.as_str().is_some_and(|s| how.quoted_string(at, s)) {
                        Value::String(rep.count.to_string())
                    } else {
                        Value::Int(rep.count)
                    };
                    images::record(&mut written, at);
                });
                r.quoted = quoted;
                r.written = written;
                walked?;
            }
        }
        if !matched {
            // kustomize lists the types of its field specs as Go prints a
            // slice of them.
            let gvks: Vec<String> = specs.iter().map(gvk_string).collect();
            return Err(format!(
                "resource with name {} does not match a config with the following GVK [{}]",
                rep.name,
                gvks.join(" ")
            ));
        }
    }
    Ok(())
}
