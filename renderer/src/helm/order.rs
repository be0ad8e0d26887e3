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
            let (kind, hook) = kept_head(doc, path)?;
            let m = Manifest {
                source: path.clone(),
                // The reader took every byte the text carries as UTF-8.
                content: crate::gotmpl::sprig::plain_text(doc).into_owned(),
                kind,
                is_test: false,
            };
            match hook.as_deref() {
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

/// What [`sort_manifests`] reads from a document: its `kind` and its
/// `helm.sh/hook` annotation.
type Head = (String, Option<String>);

/// Bytes of documents whose [`Head`] [`kept_head`] keeps.
const HEADS_KEPT_BYTES: usize = 16 << 20;

/// The [`Head`] of a document, kept from an earlier render that printed the
/// same text: a release rendered again (the watcher after a change) prints
/// mostly the documents it printed before, and reading one costs far more
/// than finding it. A document that fails is read again each time.
fn kept_head(doc: &str, path: &str) -> Result<Head, Error> {
    type Kept = (usize, std::collections::HashMap<String, Head>);
    static KEPT: std::sync::LazyLock<std::sync::Mutex<Kept>> =
        std::sync::LazyLock::new(Default::default);
    let lock = || KEPT.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if let Some(head) = lock().1.get(doc) {
        return Ok(head.clone());
    }
    let head = read_head(doc, path)?;
    let mut kept = lock();
    if kept.0 + doc.len() > HEADS_KEPT_BYTES {
        *kept = Kept::default();
    }
    kept.0 += doc.len();
    kept.1.insert(doc.to_string(), head.clone());
    Ok(head)
}

/// Reads a rendered document as Helm reads it into its `SimpleHead`
/// (sigs.k8s.io/yaml), with Helm's errors.
fn read_head(doc: &str, path: &str) -> Result<Head, Error> {
    let path = path.to_string();
    // yaml.v2's Unmarshal reads the first document only: what follows its
    // root node (`{...} x`, a document after `...`) is never looked at.
    let head =
        crate::yaml::parse_go_first_document_helm(doc, &path).map_err(|e| Error::Manifest {
            path: path.clone(),
            message: format!("error converting YAML to JSON: {}", super::funcs::go_yaml_error(&e)),
        })?;
    let head = head.unwrap_or(Value::Null);
    // sigs.k8s.io/yaml goes through JSON, which holds no infinite
    // or NaN float (`.inf`, `-.Inf`, `.nan` anywhere in the document).
    if let Some(message) = super::funcs::json_unsupported(&head) {
        return Err(Error::Manifest { path, message });
    }
    if let Some(detail) = head_error(&head) {
        return Err(Error::Manifest {
            path,
            message: format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {detail}"
            ),
        });
    }
    let kind = head.get_path(&["kind"]).and_then(Value::as_str).unwrap_or_default();
    let hook = head.get_path(&["metadata", "annotations", "helm.sh/hook"]).and_then(Value::as_str);
    Ok((kind.to_string(), hook.map(str::to_string)))
}

/// Why Helm cannot decode a document's head (`apiVersion`, `kind`,
/// `metadata.name`, `metadata.annotations`) into its struct, as the tail of
/// Go's message: scalars convert to the string fields, but a document that
/// is not a map, or a list or map where a string belongs, is an error.
fn head_error(head: &Value) -> Option<String> {
    fn json_kind(v: &Value) -> &'static str {
        match v {
            Value::Map(_) => "object",
            Value::Seq(_) => "array",
            Value::String(_) => "string",
            Value::Bool(_) => "bool",
            _ => "number",
        }
    }
    let composite = |v: Option<&Value>| matches!(v, Some(Value::Map(_) | Value::Seq(_)));
    let field = |v: &Value, name: &str, ty: &str| {
        format!("{} into Go struct field .{name} of type {ty}", json_kind(v))
    };
    let m = match head {
        Value::Null => return None,
        Value::Map(m) => m,
        other => {
            return Some(format!("{} into Go value of type util.SimpleHead", json_kind(other)));
        }
    };
    for name in ["apiVersion", "kind"] {
        if let Some(v) = m.get(name).filter(|v| composite(Some(v))) {
            return Some(field(v, name, "string"));
        }
    }
    let md = match m.get("metadata") {
        None | Some(Value::Null) => return None,
        Some(Value::Map(md)) => md,
        Some(other) => {
            let ty = r#"struct { Name string "json:\"name\""; Annotations map[string]string "json:\"annotations\"" }"#;
            return Some(field(other, "metadata", ty));
        }
    };
    if let Some(v) = md.get("name").filter(|v| composite(Some(v))) {
        return Some(field(v, "metadata.name", "string"));
    }
    match md.get("annotations") {
        None | Some(Value::Null) => None,
        Some(Value::Map(a)) => a
            .iter()
            .find(|(_, v)| composite(Some(v)))
            .map(|(k, v)| field(v, &format!("metadata.annotations.{k}"), "string")),
        Some(other) => Some(field(other, "metadata.annotations", "map[string]string")),
    }
}

/// Splits a rendered file as Helm 4 splits a v1/v2 chart's output: at every
/// line that starts with `---`, whatever follows on that line (`--- # x`, or
/// `---apiVersion: v1` where `{{-` ate the newline) beginning the next
/// document; each document loses its leading whitespace and keeps its
/// trailing lines; blank documents are dropped.
fn split_documents(content: &str) -> Vec<&str> {
    let mut docs = Vec::new();
    let mut start = 0;
    let mut pos = 0;
    for line in content.split_inclusive('\n') {
        if line.starts_with("---") {
            docs.push(&content[start..pos]);
            start = pos + 3;
        }
        pos += line.len();
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A document read once is found again by its text, with the same head;
    /// one that fails fails again, with its file named.
    #[test]
    fn heads_kept_by_document_text() {
        let doc = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kept-head\n  annotations:\n    helm.sh/hook: test\n";
        let want = ("Pod".to_string(), Some("test".to_string()));
        assert_eq!(kept_head(doc, "c/templates/a.yaml").unwrap(), want);
        assert_eq!(kept_head(doc, "c/templates/b.yaml").unwrap(), want);
        let bad = "kind: [kept-head\n";
        for _ in 0..2 {
            let e = kept_head(bad, "c/templates/bad.yaml").unwrap_err().to_string();
            assert!(e.contains("c/templates/bad.yaml"), "{e}");
        }
    }
}
