//! Name references: after renames, point every reference at the new name.
//!
//! The table follows kustomize's built-in `nameReference` configuration: for
//! each referenced kind, the fields of other kinds that hold its name.

use crate::kustomize::Error;
use crate::kustomize::fieldspec;
use crate::kustomize::kustomization::UserFieldSpec;
use crate::resource::Resource;
use crate::value::Value;
use std::collections::HashMap;

/// A field that refers to an object of another kind by name.
struct Referrer {
    /// Kind of the referring object (`None`: any kind).
    kind: Option<&'static str>,
    /// Path to the map that holds the name field.
    path: &'static str,
    /// The name field inside that map.
    field: &'static str,
    /// A sibling field that must equal the referenced kind (`roleRef.kind`).
    kind_field: Option<&'static str>,
    /// A sibling field that names the referenced object's namespace.
    namespace_field: Option<&'static str>,
}

const fn r(kind: &'static str, path: &'static str, field: &'static str) -> Referrer {
    Referrer { kind: Some(kind), path, field, kind_field: None, namespace_field: None }
}

/// Where pod specs live, per workload kind.
const POD_SPECS: &[(&str, &str)] = &[
    ("Pod", "spec"),
    ("PodTemplate", "template/spec"),
    ("Deployment", "spec/template/spec"),
    ("ReplicaSet", "spec/template/spec"),
    ("DaemonSet", "spec/template/spec"),
    ("StatefulSet", "spec/template/spec"),
    ("Job", "spec/template/spec"),
    ("ReplicationController", "spec/template/spec"),
    ("CronJob", "spec/jobTemplate/spec/template/spec"),
];

const CONTAINER_LISTS: &[&str] = &["containers", "initContainers", "ephemeralContainers"];

/// Fields inside a pod spec that name an object: (referenced kind, map path, field).
const POD_SPEC_REFS: &[(&str, &str, &str)] = &[
    ("ConfigMap", "volumes/configMap", "name"),
    ("ConfigMap", "volumes/projected/sources/configMap", "name"),
    ("ConfigMap", "*/env/valueFrom/configMapKeyRef", "name"),
    ("ConfigMap", "*/envFrom/configMapRef", "name"),
    ("Secret", "volumes/secret", "secretName"),
    ("Secret", "volumes/projected/sources/secret", "name"),
    ("Secret", "*/env/valueFrom/secretKeyRef", "name"),
    ("Secret", "*/envFrom/secretRef", "name"),
    ("Secret", "imagePullSecrets", "name"),
    ("Secret", "volumes/csi/nodePublishSecretRef", "name"),
    ("Secret", "volumes/cephfs/secretRef", "name"),
    ("Secret", "volumes/rbd/secretRef", "name"),
    ("Secret", "volumes/iscsi/secretRef", "name"),
    ("Secret", "volumes/flexVolume/secretRef", "name"),
    ("Secret", "volumes/azureFile", "secretName"),
    ("ServiceAccount", "", "serviceAccountName"),
    ("ServiceAccount", "", "serviceAccount"),
    ("PersistentVolumeClaim", "volumes/persistentVolumeClaim", "claimName"),
    ("PriorityClass", "", "priorityClassName"),
];

/// Other referrers: (referenced kind, referrer).
fn other_refs() -> Vec<(&'static str, Referrer)> {
    let role_ref = |kind: &'static str| Referrer {
        kind: Some(kind),
        path: "roleRef",
        field: "name",
        kind_field: Some("kind"),
        namespace_field: None,
    };
    let subjects = |kind: &'static str| Referrer {
        kind: Some(kind),
        path: "subjects",
        field: "name",
        // kustomize renames a subject of any kind (User, Group too) that
        // carries a renamed ServiceAccount's name.
        kind_field: None,
        namespace_field: Some("namespace"),
    };
    let scale = || Referrer {
        kind: Some("HorizontalPodAutoscaler"),
        path: "spec/scaleTargetRef",
        field: "name",
        kind_field: Some("kind"),
        namespace_field: None,
    };
    vec![
        ("Secret", r("ServiceAccount", "imagePullSecrets", "name")),
        ("Secret", r("Ingress", "spec/tls", "secretName")),
        ("Service", r("Ingress", "spec/rules/http/paths/backend", "serviceName")),
        ("Service", r("Ingress", "spec/rules/http/paths/backend/service", "name")),
        ("Service", r("Ingress", "spec/backend", "serviceName")),
        ("Service", r("Ingress", "spec/defaultBackend/service", "name")),
        ("Service", r("StatefulSet", "spec", "serviceName")),
        ("Service", r("APIService", "spec/service", "name")),
        ("Service", r("MutatingWebhookConfiguration", "webhooks/clientConfig/service", "name")),
        ("Service", r("ValidatingWebhookConfiguration", "webhooks/clientConfig/service", "name")),
        ("Role", role_ref("RoleBinding")),
        ("ClusterRole", role_ref("RoleBinding")),
        ("ClusterRole", role_ref("ClusterRoleBinding")),
        ("ServiceAccount", subjects("RoleBinding")),
        ("ServiceAccount", subjects("ClusterRoleBinding")),
        ("Deployment", scale()),
        ("ReplicaSet", scale()),
        ("StatefulSet", scale()),
        ("StorageClass", r("PersistentVolumeClaim", "spec", "storageClassName")),
        ("StorageClass", r("PersistentVolume", "spec", "storageClassName")),
        ("StorageClass", r("StatefulSet", "spec/volumeClaimTemplates/spec", "storageClassName")),
        ("PersistentVolume", r("PersistentVolumeClaim", "spec", "volumeName")),
    ]
}

/// Every (referenced kind, referrer) pair, pod-spec fields expanded per workload kind.
fn table() -> Vec<(&'static str, Referrer, String)> {
    let mut out = Vec::new();
    for (workload, spec) in POD_SPECS {
        for (target, path, field) in POD_SPEC_REFS {
            let lists: Vec<String> = if let Some(rest) = path.strip_prefix("*/") {
                CONTAINER_LISTS.iter().map(|c| format!("{spec}/{c}/{rest}")).collect()
            } else if path.is_empty() {
                vec![spec.to_string()]
            } else {
                vec![format!("{spec}/{path}")]
            };
            for full in lists {
                out.push((
                    *target,
                    Referrer {
                        kind: Some(workload),
                        path: "",
                        field,
                        kind_field: None,
                        namespace_field: None,
                    },
                    full,
                ));
            }
        }
    }
    for (target, referrer) in other_refs() {
        let path = referrer.path.to_string();
        out.push((target, referrer, path));
    }
    out
}

fn same_namespace(a: &str, b: &str) -> bool {
    let norm = |s: &str| if s.is_empty() { "default".to_string() } else { s.to_string() };
    norm(a) == norm(b)
}

/// The (prefix, suffix) pairs that renamed an object, oldest first, leaving
/// out namespace moves and the content hash of generated objects.
fn affixes(r: &Resource) -> Vec<(String, String)> {
    let mut chain: Vec<&str> = r.prev_names.iter().map(|(_, n)| n.as_str()).collect();
    chain.push(r.name());
    let generated = matches!(r.kind(), "ConfigMap" | "Secret");
    let mut out = Vec::new();
    for pair in chain.windows(2) {
        let (old, new) = (pair[0], pair[1]);
        if old == new {
            continue;
        }
        let Some(i) = new.find(old) else { continue };
        let (prefix, suffix) = (&new[..i], &new[i + old.len()..]);
        let is_hash = prefix.is_empty()
            && suffix.len() == 11
            && suffix.starts_with('-')
            && suffix[1..].chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
        if generated && is_hash {
            continue;
        }
        out.push((prefix.to_string(), suffix.to_string()));
    }
    out
}

/// Updates references to renamed objects.
pub fn apply(resources: &mut [Resource]) -> Result<(), Error> {
    let renamed: Vec<usize> =
        (0..resources.len()).filter(|&i| !resources[i].prev_names.is_empty()).collect();
    if renamed.is_empty() {
        return Ok(());
    }
    // Snapshot of the referable objects: kind, group, current name and
    // namespace, every earlier name, cluster scope.
    struct Target {
        kind: String,
        name: String,
        namespace: String,
        old: Vec<(String, String)>,
        cluster: bool,
        affixes: Vec<(String, String)>,
    }
    let targets: Vec<Target> = renamed
        .iter()
        .map(|&i| {
            let r = &resources[i];
            let mut old = r.prev_names.clone();
            old.push((r.orig_id.namespace.clone(), r.orig_id.name.clone()));
            Target {
                kind: r.kind().to_string(),
                name: r.name().to_string(),
                namespace: r.namespace().to_string(),
                old,
                cluster: r.gvk().is_cluster_scoped(),
                affixes: affixes(r),
            }
        })
        .collect();
    // Renamed objects by kind, and table entries by referring kind, so each
    // object only walks the fields that can name something renamed.
    let mut by_kind: HashMap<&str, Vec<(usize, &Target)>> = HashMap::new();
    for (i, t) in targets.iter().enumerate() {
        by_kind.entry(t.kind.as_str()).or_default().push((i, t));
    }
    let mut entries: HashMap<&str, Vec<(&str, &Referrer, &str)>> = HashMap::new();
    let table = table();
    for (target_kind, referrer, path) in &table {
        if by_kind.contains_key(target_kind) {
            let key = referrer.kind.unwrap_or("");
            entries.entry(key).or_default().push((target_kind, referrer, path.as_str()));
        }
    }
    for (idx, referrer_res) in resources.iter_mut().enumerate() {
        let kind = referrer_res.kind().to_string();
        let Some(mine) = entries.get(kind.as_str()) else { continue };
        let referrer_ns = referrer_res.namespace().to_string();
        let referrer_cluster = referrer_res.gvk().is_cluster_scoped();
        let referrer_affixes = affixes(referrer_res);
        let mut error: Option<Error> = None;
        for &(target_kind, referrer, path) in mine {
            let candidates = &by_kind[target_kind];
            fieldspec::visit_mut(&mut referrer_res.value, path, false, &mut |slot| {
                let Value::Map(m) = slot else { return };
                if let Some(kf) = referrer.kind_field {
                    if m.get(kf).and_then(Value::as_str) != Some(target_kind) {
                        return;
                    }
                }
                let Some(Value::String(current)) = m.get(referrer.field) else { return };
                let ref_ns = referrer
                    .namespace_field
                    .map(|f| m.get(f).and_then(Value::as_str).unwrap_or("").to_string());
                let matches: Vec<&Target> = candidates
                    .iter()
                    .filter(|(ti, _)| renamed[*ti] != idx)
                    .map(|(_, t)| *t)
                    .filter(|t| {
                        t.old.iter().any(|(old_ns, old_name)| {
                            if old_name != current {
                                return false;
                            }
                            if t.cluster {
                                return true;
                            }
                            match &ref_ns {
                                Some(ns) if !ns.is_empty() => {
                                    same_namespace(ns, old_ns) || same_namespace(ns, &t.namespace)
                                }
                                Some(_) => true,
                                None => {
                                    referrer_cluster || same_namespace(&referrer_ns, &t.namespace)
                                }
                            }
                        })
                    })
                    .collect();
                // Among several candidates kustomize keeps those renamed by the
                // same prefixes and suffixes as the referrer.
                let mut matches = matches;
                if matches.len() > 1 {
                    let same: Vec<&Target> =
                        matches.iter().copied().filter(|t| t.affixes == referrer_affixes).collect();
                    if !same.is_empty() {
                        matches = same;
                    }
                }
                let mut names: Vec<&str> = matches.iter().map(|t| t.name.as_str()).collect();
                names.sort_unstable();
                names.dedup();
                match names.as_slice() {
                    [] => {}
                    [one] => {
                        let new = (*one).to_string();
                        m.insert(referrer.field.to_string(), Value::String(new));
                        // Subjects name their object's namespace too; it follows the object.
                        if let (Some(field), [t]) = (referrer.namespace_field, matches.as_slice()) {
                            if !t.cluster && !t.namespace.is_empty() {
                                m.insert(field.to_string(), Value::String(t.namespace.clone()));
                            }
                        }
                    }
                    _ => {
                        error.get_or_insert(Error::Invalid {
                            file: String::new(),
                            message: format!(
                                "found multiple possible referrals for {target_kind} {current:?}: {}",
                                names.join(", ")
                            ),
                        });
                    }
                }
            });
        }
        if let Some(e) = error {
            return Err(e);
        }
    }
    Ok(())
}

/// Updates references at fields named by configurations and CRD schemas:
/// the field holds the name itself, or is a map whose `name` holds it.
pub fn apply_extra(resources: &mut [Resource], extra: &[(String, UserFieldSpec)]) {
    if extra.is_empty() {
        return;
    }
    // (kind, namespace, old names, new name) of every renamed object.
    let renamed: Vec<(String, String, Vec<String>, String)> = resources
        .iter()
        .filter(|r| !r.prev_names.is_empty())
        .map(|r| {
            let mut old: Vec<String> = r.prev_names.iter().map(|(_, n)| n.clone()).collect();
            old.push(r.orig_id.name.clone());
            (r.kind().to_string(), r.namespace().to_string(), old, r.name().to_string())
        })
        .collect();
    for r in resources.iter_mut() {
        let gvk = r.gvk();
        let ns = r.namespace().to_string();
        let cluster = gvk.is_cluster_scoped();
        for (kind, spec) in extra.iter().filter(|(_, s)| s.matches(&gvk)) {
            let new_name = |current: &str| {
                renamed
                    .iter()
                    .find(|(k, tns, old, _)| {
                        k == kind
                            && old.iter().any(|o| o == current)
                            && (cluster || same_namespace(tns, &ns))
                    })
                    .map(|(_, _, _, new)| new.clone())
            };
            fieldspec::visit_mut(&mut r.value, &spec.path, false, &mut |slot| {
                let field = match slot {
                    Value::Map(m) => m.get_mut("name"),
                    other => Some(other),
                };
                if let Some(Value::String(current)) = field {
                    if let Some(new) = new_name(current) {
                        *current = new;
                    }
                }
            });
        }
    }
}
