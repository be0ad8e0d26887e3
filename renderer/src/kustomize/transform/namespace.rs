//! `namespace:`: moves every namespaced object into one namespace.

use crate::kustomize::kustomization::{SubjectNamespaces, UserFieldSpec};
use crate::kustomize::{build_annotations, fieldspec};
use crate::resource::{Resource, SchemaScopes, Step};
use crate::value::{Map, Value};
use std::collections::HashMap;

/// How the namespace transformer runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct NamespaceOptions {
    /// Only objects (and fields) without a namespace get one.
    pub unset_only: bool,
    /// Which role binding subjects move too.
    pub subjects: SubjectNamespaces,
    /// Whether kustomize's built-in namespace field specs apply (the
    /// `namespace:` field): `Namespace` objects are renamed, APIService and
    /// CRD conversion services move. A NamespaceTransformer plugin config
    /// writes only where its own field specs say.
    pub builtin_fields: bool,
}

/// Sets the namespace at extra field specs (`configurations`, or a plugin
/// config's `fieldSpecs`). As kustomize does, `metadata/namespace` is left to
/// [`apply`], `metadata/name` applies only to `apiVersion: v1` objects, and
/// role binding `subjects/namespace` to the subjects rule; a field spec that
/// reaches a list or a map is an error.
pub fn apply_fields(
    resources: &mut [Resource],
    namespace: &str,
    options: NamespaceOptions,
    specs: &[UserFieldSpec],
) -> Result<(), String> {
    for r in resources.iter_mut() {
        let gvk = r.gvk();
        let v1 = r.value.get_path(&["apiVersion"]).and_then(Value::as_str) == Some("v1");
        let binding = matches!(gvk.kind.as_str(), "RoleBinding" | "ClusterRoleBinding");
        for spec in specs.iter().filter(|s| s.matches(&gvk)) {
            let subjects = spec.path == "subjects/namespace"
                && matches!(spec.kind.as_deref(), Some("RoleBinding" | "ClusterRoleBinding"));
            if spec.path == "metadata/namespace"
                || (spec.path == "metadata/name" && !v1)
                || (binding && subjects)
            {
                continue;
            }
            if spec.path == "metadata/name" {
                if !options.unset_only || r.name().is_empty() {
                    r.rename(namespace.to_string());
                }
                continue;
            }
            // With unsetOnly, a null the file wrote as `null` or `~` counts
            // as set (its text is not empty); where the spec may create the
            // field, kustomize retypes that node as the string "null".
            let written_null = if options.unset_only {
                let mut nulls = Vec::new();
                let _ =
                    fieldspec::visit_checked_node(&mut r.value, &spec.path, false, &mut |at, v| {
                        if v.is_null() {
                            nulls.push(at.to_vec());
                        }
                    });
                nulls.retain(|at| !r.written_empty(at));
                nulls
            } else {
                Vec::new()
            };
            let walked = fieldspec::set_scalars(r, &spec.path, spec.create, &mut |at, slot| {
                if written_null.iter().any(|p| p[..] == at[..]) {
                    if spec.create {
                        *slot = Value::String("null".into());
                    }
                    return;
                }
                let empty = slot.is_null() || slot.as_str() == Some("");
                if !options.unset_only || empty {
                    *slot = Value::String(namespace.to_string());
                }
            });
            walked.map_err(|e| {
                // kustomize words a list or map at the end of the path
                // apart from a walk that failed on its way.
                let what = if e.contains("wrong node kind") {
                    "namespace field specs must target scalar nodes"
                } else {
                    "namespace transformation failed"
                };
                format!("{what}: {e}")
            })?;
        }
    }
    Ok(())
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
    scopes: &SchemaScopes,
) -> Result<(), String> {
    // kustomize checks each object as soon as it moved, against the objects
    // as they are then (those after it not moved yet): how many hold each
    // identity, kept up to date object by object.
    let mut holders: HashMap<String, usize> = HashMap::new();
    for r in resources.iter() {
        *holders.entry(identity_key(r, scopes)).or_default() += 1;
    }
    for i in 0..resources.len() {
        let before = identity_key(&resources[i], scopes);
        move_object(&mut resources[i], namespace, options, scopes);
        let after = identity_key(&resources[i], scopes);
        if after != before {
            if let Some(n) = holders.get_mut(&before) {
                *n -= 1;
            }
            *holders.entry(after.clone()).or_default() += 1;
        }
        if holders.get(&after).copied() != Some(1) {
            let matches = resources.iter().filter(|o| identity_key(o, scopes) == after);
            return Err(format!(
                "namespace transformation produces ID conflict: {}",
                build_annotations::json_list(matches, scopes)
            ));
        }
    }
    Ok(())
}

/// An object's identity as kustomize compares two ([`ResId::same_as`]).
fn identity_key(r: &Resource, scopes: &SchemaScopes) -> String {
    let id = r.id();
    format!("{}|{}|{}", id.gvk.kustomize_string(), id.effective_namespace(scopes), id.name)
}

/// Moves one object: remembers its identity, sets its namespace (renames a
/// `Namespace`) and moves the references kustomize follows.
fn move_object(
    r: &mut Resource,
    namespace: &str,
    options: NamespaceOptions,
    scopes: &SchemaScopes,
) {
    let set = |slot: &mut Map, key: &str| {
        let empty = slot.get(key).and_then(Value::as_str).is_none_or(str::is_empty);
        if !options.unset_only || empty {
            slot.insert(key.into(), Value::String(namespace.to_string()));
        }
    };
    r.store_previous_id();
    let gvk = r.gvk();
    if options.builtin_fields
        && gvk.group.is_empty()
        && gvk.kind == "Namespace"
        && gvk.version == "v1"
    {
        if !options.unset_only {
            r.rename(namespace.to_string());
        }
        return;
    }
    let meta_ns = [Step::Key("metadata".into()), Step::Key("namespace".into())];
    let written_null = r.value.get_path(&["metadata", "namespace"]).is_some_and(Value::is_null)
        && !r.written_empty(&meta_ns);
    let unset = r.namespace().is_empty() && !written_null;
    if !gvk.is_cluster_scoped_in_kustomize(scopes) && (!options.unset_only || unset) {
        r.set_namespace(namespace.to_string());
    }
    match (gvk.group.as_str(), gvk.kind.as_str()) {
        // kustomize moves the subjects of any group's role bindings.
        (_, "RoleBinding" | "ClusterRoleBinding") => {
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
        _ if !options.builtin_fields => {}
        ("apiregistration.k8s.io", "APIService") => {
            // kustomize creates the field when the object has none.
            fieldspec::visit_mut(&mut r.value, "spec/service/namespace", true, &mut |slot| {
                let empty = slot.as_str().is_none_or(str::is_empty);
                if !options.unset_only || empty {
                    *slot = Value::String(namespace.to_string());
                }
            });
        }
        ("apiextensions.k8s.io", "CustomResourceDefinition") => {
            if let Some(Value::Map(svc)) =
                r.value.get_path_mut(&["spec", "conversion", "webhook", "clientConfig", "service"])
            {
                set(svc, "namespace");
            }
        }
        _ => {}
    }
}
