//! The namespace transformer (`namespace:` and the NamespaceTransformer
//! plugin): moves every namespaced object into one namespace.

use crate::kustomize::kustomization::{SubjectNamespaces, UserFieldSpec};
use crate::kustomize::{build_annotations, fieldspec};
use crate::resource::{Resource, SchemaScopes, Step, scalar_text, value_at};
use crate::value::Value;
use std::collections::HashMap;

/// How the namespace transformer runs.
#[derive(Debug, Clone, Copy, Default)]
pub struct NamespaceOptions {
    /// Only fields without a namespace (none, or an empty text) get one.
    pub unset_only: bool,
    /// Which role binding subjects move too.
    pub subjects: SubjectNamespaces,
}

/// Runs kustomize's namespace filter over every object, in order, with the
/// field specs `specs` (the merged transformer configuration's `namespace`
/// list for `namespace:`, a plugin config's own `fieldSpecs`). Every object
/// remembers its identity from before, as kustomize does, so references
/// written against it are found; two objects that end up with one identity
/// are an error.
pub fn apply(
    resources: &mut [Resource],
    namespace: &str,
    options: NamespaceOptions,
    specs: &[UserFieldSpec],
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
        move_object(&mut resources[i], namespace, options, specs, scopes)?;
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

fn is_binding(kind: &str) -> bool {
    matches!(kind, "RoleBinding" | "ClusterRoleBinding")
}

/// kustomize's namespace filter on one object. `metadata/namespace` is set
/// by hand on namespaced kinds only, never through a field spec; a
/// `metadata/name` spec applies only to objects of `apiVersion: v1` (so a
/// `Namespace` of another group keeps its name); a role binding's subjects
/// move by `options.subjects`, which takes the place of the specs for
/// `subjects/namespace` of a role binding kind. Then every other spec that
/// selects the object sets its field.
fn move_object(
    r: &mut Resource,
    namespace: &str,
    options: NamespaceOptions,
    specs: &[UserFieldSpec],
    scopes: &SchemaScopes,
) -> Result<(), String> {
    r.store_previous_id();
    let gvk = r.gvk();
    let v1 = r.value.get_path(&["apiVersion"]).and_then(Value::as_str) == Some("v1");
    let binding = is_binding(&gvk.kind);
    if !gvk.is_cluster_scoped_in_kustomize(scopes) {
        set_field(r, "metadata/namespace", true, false, namespace, options.unset_only)?;
    }
    if binding {
        move_subjects(r, namespace, options)
            .map_err(|e| format!("setting namespace on (cluster)role binding subjects: {e}"))?;
    }
    let by_hand = |s: &UserFieldSpec| {
        s.path == "metadata/namespace"
            || (s.path == "metadata/name" && !v1)
            || (binding
                && s.path == "subjects/namespace"
                && is_binding(s.kind.as_deref().unwrap_or("")))
    };
    for spec in specs.iter().filter(|s| !by_hand(s) && s.matches(&gvk)) {
        set_field(r, &spec.path, spec.create, true, namespace, options.unset_only).map_err(
            |e| {
                // kustomize words a list or map at the end of the path apart
                // from a walk that failed on its way.
                let what = if e.contains("wrong node kind") {
                    "namespace field specs must target scalar nodes"
                } else {
                    "namespace transformation failed"
                };
                format!("{what}: {e}")
            },
        )?;
    }
    Ok(())
}

/// Sets the scalars at `path` to the namespace (with `unset_only`, those
/// kyaml reads as empty). kyaml's walk retypes a null it finds where the
/// spec creates the field: into a string of the null's text when the walk
/// creates strings (`string_tag`: the field specs' walk, not the one for
/// `metadata/namespace`), else into an untyped scalar (kept null here); a
/// retyped null whose text is not empty (`null`, `~`) counts as set. A null
/// found where the spec does not create counts as empty.
fn set_field(
    r: &mut Resource,
    path: &str,
    create: bool,
    string_tag: bool,
    namespace: &str,
    unset_only: bool,
) -> Result<(), String> {
    // The places that keep their value, found before the walk (which
    // creates fields), each with the string a null there becomes.
    let mut found = Vec::new();
    if unset_only {
        let _ = fieldspec::visit_checked_node(&mut r.value, path, false, &mut |at, _| {
            found.push(at.to_vec());
        });
    }
    let kept: Vec<(Vec<Step>, Option<String>)> = found
        .into_iter()
        .filter_map(|at| {
            let v = value_at(&r.value, &at)?;
            let keep = match v {
                Value::Null if create => {
                    let text = scalar_text(v, &at, &r.scalar_texts).unwrap_or_default();
                    (!text.is_empty()).then(|| string_tag.then_some(text))
                }
                Value::String(s) => (!s.is_empty()).then_some(None),
                Value::Null | Value::Seq(_) | Value::Map(_) => None,
                _ => Some(None),
            };
            keep.map(|retyped| (at, retyped))
        })
        .collect();
    fieldspec::set_scalars(r, path, create, &mut |at, slot| match kept
        .iter()
        .find(|(p, _)| p[..] == at[..])
    {
        None => *slot = Value::String(namespace.to_string()),
        Some((_, Some(text))) => *slot = Value::String(text.clone()),
        Some((_, None)) => {}
    })
}

/// Sets the namespace of a role binding's subjects that `options.subjects`
/// picks: those named `default`, every ServiceAccount, or none. kyaml's
/// lookups fail on a `subjects` that is not a list and on an item or a
/// looked-up field of the wrong kind; a null item is passed over.
fn move_subjects(
    r: &mut Resource,
    namespace: &str,
    options: NamespaceOptions,
) -> Result<(), String> {
    let (field, wanted) = match options.subjects {
        SubjectNamespaces::None => return Ok(()),
        SubjectNamespaces::DefaultOnly => ("name", "default"),
        SubjectNamespaces::AllServiceAccounts => ("kind", "ServiceAccount"),
    };
    let at = |i: Option<usize>, key: Option<&str>| {
        let mut at = vec![Step::Key("subjects".into())];
        at.extend(i.map(Step::Index));
        at.extend(key.map(|k| Step::Key(k.into())));
        at
    };
    let items = match r.value.get_path(&["subjects"]) {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Seq(items)) => items,
        Some(other) => return Err(fieldspec::wrong_kind(r, &at(None, None), other, "Sequence")),
    };
    let looking_up =
        |e: String| format!("looking up {field} on (cluster)role binding subject: {e}");
    let mut picked = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let subject = match item {
            Value::Null => continue,
            Value::Map(m) => m,
            other => {
                return Err(looking_up(fieldspec::wrong_kind(
                    r,
                    &at(Some(i), None),
                    other,
                    "Mapping",
                )));
            }
        };
        match subject.get(field) {
            Some(v @ (Value::Seq(_) | Value::Map(_))) => {
                return Err(looking_up(fieldspec::scalar_expected(
                    r,
                    &at(Some(i), Some(field)),
                    v,
                )));
            }
            Some(v) if v.as_str() == Some(wanted) => {}
            _ => continue,
        }
        // kyaml's lookup that creates the field replaces a null with a new,
        // empty node.
        let empty = match subject.get("namespace") {
            Some(v @ (Value::Seq(_) | Value::Map(_))) => {
                return Err(fieldspec::scalar_expected(r, &at(Some(i), Some("namespace")), v));
            }
            None | Some(Value::Null) => true,
            Some(v) => v.as_str() == Some(""),
        };
        if !options.unset_only || empty {
            picked.push(i);
        }
    }
    if let Some(Value::Seq(items)) = r.value.get_path_mut(&["subjects"]) {
        for i in picked {
            if let Some(Value::Map(m)) = items.get_mut(i) {
                m.insert("namespace".into(), Value::String(namespace.to_string()));
            }
        }
    }
    Ok(())
}
