//! Splitting rendered files into manifests and hooks, and Helm's install order by kind.

use super::Error;
use crate::value::Value;

/// The kinds in the order Helm installs them; other kinds come after, by name.
pub const INSTALL_ORDER: &[&str] = &[
    "PriorityClass",
    "Namespace",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PodSecurityPolicy",
    "PodDisruptionBudget",
    "ServiceAccount",
    "Secret",
    "SecretList",
    "ConfigMap",
    "StorageClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "CustomResourceDefinition",
    "ClusterRole",
    "ClusterRoleList",
    "ClusterRoleBinding",
    "ClusterRoleBindingList",
    "Role",
    "RoleList",
    "RoleBinding",
    "RoleBindingList",
    "Service",
    "DaemonSet",
    "Pod",
    "ReplicationController",
    "ReplicaSet",
    "Deployment",
    "HorizontalPodAutoscaler",
    "StatefulSet",
    "Job",
    "CronJob",
    "IngressClass",
    "Ingress",
    "APIService",
    "MutatingWebhookConfiguration",
    "ValidatingWebhookConfiguration",
];

/// The hook events Helm knows.
const HOOK_EVENTS: &[&str] = &[
    "pre-install",
    "post-install",
    "pre-delete",
    "post-delete",
    "pre-upgrade",
    "post-upgrade",
    "pre-rollback",
    "post-rollback",
    "test",
    "test-success",
];

/// One rendered document with the template it came from.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The template path, e.g. `chart/templates/deployment.yaml`.
    pub source: String,
    /// The document text, trimmed.
    pub content: String,
    /// Its `kind`.
    pub kind: String,
    /// Whether it is a test hook.
    pub is_test: bool,
}

/// Splits the rendered files (sorted by path) into manifests and hooks, each
/// sorted by kind as Helm sorts them.
pub fn sort_manifests(files: &[(String, String)]) -> Result<(Vec<Manifest>, Vec<Manifest>), Error> {
    let mut generic = Vec::new();
    let mut hooks = Vec::new();
    for (path, content) in files {
        let base = path.rsplit('/').next().unwrap_or(path);
        if base.starts_with('_') || content.trim().is_empty() {
            continue;
        }
        for doc in split_documents(content) {
            let head =
                crate::yaml::parse_documents_helm(doc, path).map_err(|e| Error::Manifest {
                    path: path.clone(),
                    message: format!(
                        "error converting YAML to JSON: {}",
                        super::funcs::go_yaml_error(&e)
                    ),
                })?;
            let head = head.into_iter().next().unwrap_or(Value::Null);
            let kind = head.get_path(&["kind"]).and_then(Value::as_str).unwrap_or_default();
            let m = Manifest {
                source: path.clone(),
                content: doc.to_string(),
                kind: kind.to_string(),
                is_test: false,
            };
            let hook =
                head.get_path(&["metadata", "annotations", "helm.sh/hook"]).and_then(Value::as_str);
            match hook {
                None => generic.push(m),
                Some(events) => {
                    let known = events
                        .split(',')
                        .all(|e| HOOK_EVENTS.contains(&e.trim().to_lowercase().as_str()));
                    if known {
                        let is_test =
                            events.split(',').any(|e| e.trim().to_lowercase().starts_with("test"));
                        hooks.push(Manifest { is_test, ..m });
                    }
                }
            }
        }
    }
    sort_by_kind(&mut generic);
    sort_by_kind(&mut hooks);
    Ok((generic, hooks))
}

/// Splits a rendered file at lines that are `---` (trailing blanks allowed),
/// as Helm 4 does: each document loses its leading whitespace and keeps its
/// trailing lines; blank documents are dropped.
fn split_documents(content: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in content.split_inclusive('\n') {
        let end = pos + line.len();
        if line.trim_end() == "---" {
            docs.push(&content[start..pos]);
            start = end;
        }
        pos = end;
    }
    docs.push(&content[start..]);
    docs.into_iter().map(str::trim_start).filter(|d| !d.is_empty()).collect()
}

/// Stable sort by install order; unknown kinds last, alphabetically.
fn sort_by_kind(items: &mut [Manifest]) {
    items.sort_by(|a, b| {
        let pa = INSTALL_ORDER.iter().position(|k| *k == a.kind);
        let pb = INSTALL_ORDER.iter().position(|k| *k == b.kind);
        match (pa, pb) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => std::cmp::Ordering::Less,
            (None, Some(_)) => std::cmp::Ordering::Greater,
            (None, None) => a.kind.cmp(&b.kind),
        }
    });
}
