//! `replicas:`: sets the replica count of named workloads.

use crate::kustomize::config;
use crate::kustomize::fieldspec::{self, REPLICAS};
use crate::kustomize::kustomization::{Replica, UserFieldSpec};
use crate::kustomize::transform::images;
use crate::resource::{NodeTexts, Resource};
use crate::value::Value;

/// The kinds of kustomize's built-in replica configuration, in its order.
const BUILTIN_ORDER: [&str; 4] =
    ["Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"];

/// A field spec's type as kustomize prints a `Gvk`: `Kind.version.group`,
/// `[noKind]`, `[noVer]`, `[noGrp]` for blanks.
fn gvk_string(s: &UserFieldSpec) -> String {
    let or = |v: &Option<String>, none: &'static str| {
        v.as_deref().filter(|v| !v.is_empty()).unwrap_or(none).to_string()
    };
    format!("{}.{}.{}", or(&s.kind, "[noKind]"), or(&s.version, "[noVer]"), or(&s.group, "[noGrp]"))
}

/// Sets the replica count on objects whose current or earlier name matches,
/// at the built-in places or at `fields` (a ReplicaCountTransformer's own
/// field specs) and those of `configurations` (`extra`); a name that
/// matches no object of those kinds is an error, as in kustomize.
pub fn apply(
    resources: &mut [Resource],
    replicas: &[Replica],
    fields: Option<&[UserFieldSpec]>,
    extra: &[UserFieldSpec],
) -> Result<(), String> {
    let specs: Vec<UserFieldSpec> = match fields {
        Some(f) => f.to_vec(),
        None => REPLICAS
            .iter()
            .map(|s| UserFieldSpec {
                group: s.group.map(str::to_string),
                version: None,
                kind: s.kind.map(str::to_string),
                path: s.path.to_string(),
                create: s.create,
            })
            .chain(extra.iter().cloned())
            .collect(),
    };
    for rep in replicas {
        let mut matched = false;
        for r in resources.iter_mut() {
            let known = r.name() == rep.name
                || r.orig_id.name == rep.name
                || r.prev_ids.iter().any(|p| p.name == rep.name);
            if !known {
                continue;
            }
            let gvk = r.gvk();
            for spec in specs.iter().filter(|s| s.matches(&gvk)) {
                matched = true;
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
            // kustomize lists the types of its configuration as Go prints a
            // slice of them; its built-in entries name no group. The
            // configuration's specs, built-in and from `configurations:`,
            // are sorted by type (`Gvk.IsLessThan`) when it is loaded; a
            // transformer's own field specs keep their order.
            let gvks: Vec<String> = match fields {
                Some(f) => f.iter().map(gvk_string).collect(),
                None => {
                    let mut all: Vec<((i64, String), String)> = BUILTIN_ORDER
                        .iter()
                        .map(|kind| {
                            (
                                config::gvk_order(None, None, Some(kind)),
                                format!("{kind}.[noVer].[noGrp]"),
                            )
                        })
                        .chain(extra.iter().map(|s| {
                            let order = config::gvk_order(
                                s.group.as_deref(),
                                s.version.as_deref(),
                                s.kind.as_deref(),
                            );
                            (order, gvk_string(s))
                        }))
                        .collect();
                    all.sort_by(|a, b| a.0.cmp(&b.0));
                    all.into_iter().map(|(_, s)| s).collect()
                }
            };
            return Err(format!(
                "resource with name {} does not match a config with the following GVK [{}]",
                rep.name,
                gvks.join(" ")
            ));
        }
    }
    Ok(())
}
