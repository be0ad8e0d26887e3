//! `namespace:`: moves every namespaced object into one namespace.

use crate::resource::Resource;
use crate::value::Value;

/// Sets the namespace of every namespaced object, renames `Namespace`
/// objects to it, and follows the references kustomize follows: subjects
/// named `default` of role bindings, and webhook and APIService services.
pub fn apply(resources: &mut [Resource], namespace: &str) {
    for r in resources.iter_mut() {
        let gvk = r.gvk();
        if gvk.group.is_empty() && gvk.kind == "Namespace" {
            r.set_name(namespace.to_string());
            continue;
        }
        if !gvk.is_cluster_scoped() {
            r.set_namespace(namespace.to_string());
        }
        match (gvk.group.as_str(), gvk.kind.as_str()) {
            ("rbac.authorization.k8s.io", "RoleBinding" | "ClusterRoleBinding") => {
                if let Some(Value::Seq(subjects)) = r.value.get_path_mut(&["subjects"]) {
                    for s in subjects {
                        if let Value::Map(m) = s {
                            if m.get("name").and_then(Value::as_str) == Some("default") {
                                m.insert("namespace".into(), Value::String(namespace.to_string()));
                            }
                        }
                    }
                }
            }
            (
                "admissionregistration.k8s.io",
                "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration",
            ) => {
                if let Some(Value::Seq(hooks)) = r.value.get_path_mut(&["webhooks"]) {
                    for h in hooks {
                        if let Some(Value::Map(svc)) = h.get_path_mut(&["clientConfig", "service"])
                        {
                            svc.insert("namespace".into(), Value::String(namespace.to_string()));
                        }
                    }
                }
            }
            ("apiregistration.k8s.io", "APIService") => {
                if let Some(Value::Map(svc)) = r.value.get_path_mut(&["spec", "service"]) {
                    svc.insert("namespace".into(), Value::String(namespace.to_string()));
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
                    svc.insert("namespace".into(), Value::String(namespace.to_string()));
                }
            }
            _ => {}
        }
    }
}
