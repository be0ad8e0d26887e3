//! `namespace:`: moves every namespaced object into one namespace.

use crate::kustomize::fieldspec;
use crate::kustomize::kustomization::{SubjectNamespaces, UserFieldSpec};
use crate::resource::Resource;
use crate::value::{Map, Value};

/// How the namespace transformer runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct NamespaceOptions {
    /// Only objects (and fields) without a namespace get one.
    pub unset_only: bool,
    /// Which role binding subjects move too.
    pub subjects: SubjectNamespaces,
}

/// Sets the namespace at the extra fields `configurations` name.
pub fn apply_fields(
    resources: &mut [Resource],
    namespace: &str,
    options: NamespaceOptions,
    specs: &[UserFieldSpec],
) {
    for r in resources.iter_mut() {
        let gvk = r.gvk();
        for spec in specs.iter().filter(|s| s.matches(&gvk) && s.path != "metadata/namespace") {
            fieldspec::visit_mut(&mut r.value, &spec.path, spec.create, &mut |slot| {
                let empty = slot.as_str().is_none_or(str::is_empty);
                if matches!(slot, Value::String(_) | Value::Null) && (!options.unset_only || empty)
                {
                    *slot = Value::String(namespace.to_string());
                }
            });
        }
    }
}

/// Sets the namespace of every namespaced object, renames `Namespace`
/// objects to it, and follows the references kustomize follows: role
/// binding subjects (per `options.subjects`), and the APIService and CRD
/// conversion services (webhook services follow their Service through the
/// name references instead). Every object remembers its identity from before, as kustomize
/// does, so references written against it are found; two objects that end
/// up with one identity are an error.
pub fn apply(
    resources: &mut [Resource],
    namespace: &str,
    options: NamespaceOptions,
) -> Result<(), String> {
    let set = |slot: &mut Map, key: &str| {
        let empty = slot.get(key).and_then(Value::as_str).is_none_or(str::is_empty);
        if !options.unset_only || empty {
            slot.insert(key.into(), Value::String(namespace.to_string()));
        }
    };
    for r in resources.iter_mut() {
        r.store_previous_id();
        let gvk = r.gvk();
        if gvk.group.is_empty() && gvk.kind == "Namespace" && gvk.version == "v1" {
            if !options.unset_only {
                r.set_name(namespace.to_string());
            }
            continue;
        }
        if !gvk.is_cluster_scoped() && (!options.unset_only || r.namespace().is_empty()) {
            r.set_namespace(namespace.to_string());
        }
        match (gvk.group.as_str(), gvk.kind.as_str()) {
            ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
                if let Some(Value::Seq(subjects)) = r.value.get_path_mut(&["subjects"]) {
                    for s in subjects {
                        let Value::Map(m) = s else { continue };
                        let moves = match options.subjects {
                            SubjectNamespaces::None => false,
                            SubjectNamespaces::DefaultOnly => {
                                m.get("name").and_then(Value::as_str) == Some("default")
                            }
                            SubjectNamespaces::AllServiceAccounts => {
                                m.get("kind").and_then(Value::as_str) == Some("ServiceAccount")
                            }
                        };
                        if moves {
                            set(m, "namespace");
                        }
                    }
                }
            }
            ("apiregistration.k8s.io", "APIService") => {
                if let Some(Value::Map(svc)) = r.value.get_path_mut(&["spec", "service"]) {
                    set(svc, "namespace");
                }
            }
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                if let Some(Value::Map(svc)) = r.value.get_path_mut(&[
                    "spec",
                    "conversion",
                    "webhook",
                    "clientConfig",
                    "service",
                ]) {
                    set(svc, "namespace");
                }
            }
            _ => {}
        }
    }
    let mut seen = std::collections::HashSet::new();
    for r in resources.iter() {
        let id = r.id();
        if !seen.insert(id.to_string()) {
            return Err(format!(
                "namespace transformation produces ID conflict: two objects are now {id}"
            ));
        }
    }
    Ok(())
}
