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
    let head = head_as_json(head.unwrap_or(Value::Null));
    // sigs.k8s.io/yaml goes through JSON, which holds no infinite or NaN
    // float (`.inf`, `-.Inf`, `.nan` anywhere in the document but the
    // string fields of the head).
    if let Some(message) = super::funcs::json_unsupported(&head) {
        return Err(Error::Manifest { path, message });
    }
    let fields = HeadFields::of(&head);
    if let Some(detail) = fields.error {
        return Err(Error::Manifest {
            path,
            message: format!(
                "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal {detail}"
            ),
        });
    }
    Ok((fields.kind.unwrap_or_default(), fields.hook))
}

/// The head as sigs.k8s.io/yaml hands it to Go's JSON encoder: a number or
/// bool bound for one of `SimpleHead`'s string fields (found by name,
/// regardless of case) is made a string first, so that `.nan` or `.inf`
/// there is no JSON error.
fn head_as_json(head: Value) -> Value {
    fn to_string(v: Value) -> Value {
        match v {
            Value::Int(i) => Value::String(i.to_string()),
            Value::Uint(u) => Value::String(u.to_string()),
            Value::Float(f) => Value::String(crate::yaml::go_format_float32_g(f)),
            Value::Bool(b) => Value::String(b.to_string()),
            other => other,
        }
    }
    let Value::Map(m) = head else { return head };
    let field = |k: &str, names: &[&str]| names.iter().any(|n| k.eq_ignore_ascii_case(n));
    Value::Map(
        m.into_iter()
            .map(|(k, v)| {
                let v = match v {
                    v if field(&k, &["apiVersion", "kind"]) => to_string(v),
                    Value::Map(md) if field(&k, &["metadata"]) => Value::Map(
                        md.into_iter()
                            .map(|(k, v)| match v {
                                v if field(&k, &["name"]) => (k, to_string(v)),
                                Value::Map(a) if field(&k, &["annotations"]) => (
                                    k,
                                    Value::Map(
                                        a.into_iter().map(|(k, v)| (k, to_string(v))).collect(),
                                    ),
                                ),
                                v => (k, v),
                            })
                            .collect(),
                    ),
                    v => v,
                };
                (k, v)
            })
            .collect(),
    )
}

/// What Helm decodes from a document's head into its struct: the kind, the
/// hook annotation, and the first error (the tail of Go's message).
/// Scalars convert to the string fields, but a document that is not a map,
/// or a list or map where a string belongs, is an error.
#[derive(Default)]
struct HeadFields {
    kind: Option<String>,
    hook: Option<String>,
    error: Option<String>,
}

impl HeadFields {
    fn of(head: &Value) -> HeadFields {
        fn json_kind(v: &Value) -> &'static str {
            match v {
                Value::Map(_) => "object",
                Value::Seq(_) => "array",
                Value::String(_) => "string",
                Value::Bool(_) => "bool",
                _ => "number",
            }
        }
        let field = |v: &Value, name: &str, ty: &str| {
            Some(format!("{} into Go struct field .{name} of type {ty}", json_kind(v)))
        };
        let mut out = HeadFields::default();
        let m = match head {
            Value::Null => return out,
            Value::Map(m) => m,
            other => {
                out.error =
                    Some(format!("{} into Go value of type util.SimpleHead", json_kind(other)));
                return out;
            }
        };
        // Go's decoder goes on after a type error and reports the first.
        let fail = |out: &mut HeadFields, e: Option<String>| {
            if out.error.is_none() {
                out.error = e;
            }
        };
        // The JSON text has the head's keys sorted, which Go's decoder
        // reads in turn; it names a field by the keys of that text.
        let mut keys: Vec<&String> = m.keys().collect();
        keys.sort();
        for mkey in keys {
            let v = &m[mkey];
            if mkey.eq_ignore_ascii_case("apiVersion") || mkey.eq_ignore_ascii_case("kind") {
                match v {
                    Value::Map(_) | Value::Seq(_) => fail(&mut out, field(v, mkey, "string")),
                    Value::String(s) if mkey.eq_ignore_ascii_case("kind") => {
                        out.kind = Some(s.clone())
                    }
                    _ => {}
                }
                continue;
            }
            if !mkey.eq_ignore_ascii_case("metadata") {
                continue;
            }
            let md = match v {
                Value::Null => continue,
                Value::Map(md) => md,
                other => {
                    let ty = r#"struct { Name string "json:\"name\""; Annotations map[string]string "json:\"annotations\"" }"#;
                    fail(&mut out, field(other, mkey, ty));
                    continue;
                }
            };
            let mut keys: Vec<&String> = md.keys().collect();
            keys.sort();
            for key in keys {
                let v = &md[key];
                if key.eq_ignore_ascii_case("name") {
                    if matches!(v, Value::Map(_) | Value::Seq(_)) {
                        fail(&mut out, field(v, &format!("{mkey}.{key}"), "string"));
                    }
                    continue;
                }
                if !key.eq_ignore_ascii_case("annotations") {
                    continue;
                }
                match v {
                    Value::Null => {}
                    Value::Map(a) => {
                        let mut names: Vec<&String> = a.keys().collect();
                        names.sort();
                        for k in names {
                            match &a[k] {
                                v @ (Value::Map(_) | Value::Seq(_)) => {
                                    fail(&mut out, field(v, &format!("{mkey}.{key}.{k}"), "string"))
                                }
                                Value::String(s) if k == "helm.sh/hook" => {
                                    out.hook = Some(s.clone())
                                }
                                _ => {}
                            }
                        }
                    }
                    other => {
                        fail(&mut out, field(other, &format!("{mkey}.{key}"), "map[string]string"))
                    }
                }
            }
        }
        out
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
