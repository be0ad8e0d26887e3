//! `replicas:`: sets the replica count of named workloads.

use crate::kustomize::fieldspec::{self, REPLICAS};
use crate::kustomize::kustomization::Replica;
use crate::resource::Resource;
use crate::value::Value;

/// Sets `spec.replicas` on workloads whose current or earlier name matches;
/// a name that matches no workload is an error, as in kustomize.
pub fn apply(resources: &mut [Resource], replicas: &[Replica]) -> Result<(), String> {
    for rep in replicas {
        let mut matched = false;
        for r in resources.iter_mut() {
            let known = r.name() == rep.name
                || r.orig_id.name == rep.name
                || r.prev_names.iter().any(|(_, n)| *n == rep.name);
            if !known {
                continue;
            }
            let gvk = r.gvk();
            for spec in REPLICAS.iter().filter(|s| s.matches(&gvk)) {
                matched = true;
                fieldspec::visit_mut(&mut r.value, spec.path, spec.create, &mut |slot| {
                    *slot = Value::Int(rep.count)
                });
            }
        }
        if !matched {
            return Err(format!(
                "replicas: resource with name {:?} does not match a config with the following kinds: Deployment, StatefulSet, ReplicaSet, ReplicationController",
                rep.name
            ));
        }
    }
    Ok(())
}
