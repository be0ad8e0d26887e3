//! Built-in plugin configs (`transformers:` and `generators:` entries with
//! `apiVersion: builtin`), read as the kustomization fields they stand for.
//!
//! Each built-in plugin is the engine behind one kustomization field, so a
//! config is rewritten into that field and runs through the same code.

use super::Error;
use super::config::specs;
use super::go_decode;
use super::kustomization::{Kustomization, Patch, SubjectNamespaces};
use super::transform::value_add::{self, ValueAdd};
use crate::value::{Map, Value};

/// What a plugin config does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// It generates objects.
    Generator,
    /// It transforms the accumulated objects.
    Transformer,
}

fn invalid(file: &str, message: impl Into<String>) -> Error {
    Error::Invalid { file: file.to_string(), message: message.into() }
}

fn take(m: &Map, key: &str) -> Value {
    m.get(key).cloned().unwrap_or(Value::Null)
}

fn one(key: &str, v: Value) -> Map {
    let mut out = Map::new();
    out.insert(key.to_string(), v);
    out
}

/// A plugin's label or annotation map (its numbers and bools already their
/// Go text, see [`go_decode::stringify`]) with a null value as Go's empty
/// string, which a kustomization's map would refuse.
fn stringified(v: &Value) -> Value {
    let Value::Map(m) = v else {
        return v.clone();
    };
    let text = |v: &Value| match v {
        Value::Null => Value::String(String::new()),
        // Kept as they are, so the reader reports them.
        other => other.clone(),
    };
    Value::Map(m.iter().map(|(k, v)| (k.clone(), text(v))).collect())
}

/// Whether a plugin config is one [`generated_object`] makes an object of.
pub fn is_generated_object(doc: &Value) -> bool {
    let field = |key: &str| doc.get_path(&[key]).and_then(Value::as_str).unwrap_or("");
    field("apiVersion") == "builtin" && field("kind") == "IAMPolicyGenerator"
}

/// The object a generator plugin with no kustomization field makes:
/// `IAMPolicyGenerator`, which binds a Kubernetes service account to a
/// cloud identity. `None` for every other plugin.
pub fn generated_object(doc: &Value, file: &str) -> Result<Option<Value>, Error> {
    let Value::Map(m) = doc else { return Ok(None) };
    if !is_generated_object(doc) {
        return Ok(None);
    }
    let field = |m: &Map, key: &str| m.get(key).and_then(Value::as_str).unwrap_or("").to_string();
    let cloud = field(m, "cloud");
    if cloud != "gke" {
        return Err(invalid(file, format!("cloud provider {cloud} not supported yet")));
    }
    let service = m.get("kubernetesService").and_then(Value::as_map).cloned().unwrap_or_default();
    let account = m.get("serviceAccount").and_then(Value::as_map).cloned().unwrap_or_default();
    let name = field(&service, "name");
    let nameless = name.is_empty();
    let identity = format!(
        "{}@{}.iam.gserviceaccount.com",
        field(&account, "name"),
        field(&account, "projectId")
    );
    let mut meta =
        one("annotations", Value::Map(one("iam.gke.io/gcp-service-account", identity.into())));
    meta.insert("name".into(), name.into());
    let namespace = field(&service, "namespace");
    if !namespace.is_empty() {
        meta.insert("namespace".into(), namespace.into());
    }
    let mut obj = one("apiVersion", "v1".into());
    obj.insert("kind".into(), "ServiceAccount".into());
    obj.insert("metadata".into(), Value::Map(meta));
    let obj = Value::Map(obj);
    // Without `kubernetesService.name` the account has no name, and
    // kustomize refuses it as it refuses any nameless object.
    if nameless {
        return Err(invalid(
            file,
            format!(
                "missing metadata.name in object {}",
                super::build::go_resource_meta(&obj, &[])
            ),
        ));
    }
    Ok(Some(obj))
}

/// The kinds of kustomize's built-in plugins that it loads from a config
/// (its sort and order transformers run only through their fields).
const LOADABLE: &[&str] = &[
    "LabelTransformer",
    "AnnotationsTransformer",
    "PrefixSuffixTransformer",
    "PrefixTransformer",
    "SuffixTransformer",
    "NamespaceTransformer",
    "ImageTagTransformer",
    "ReplicaCountTransformer",
    "PatchTransformer",
    "PatchStrategicMergeTransformer",
    "PatchJson6902Transformer",
    "ReplacementTransformer",
    "ValueAddTransformer",
    "HashTransformer",
    "ConfigMapGenerator",
    "SecretGenerator",
    "HelmChartInflationGenerator",
    "IAMPolicyGenerator",
];

/// Whether kustomize loads a built-in plugin for a config: its apiVersion
/// is `builtin` and its kind one of [`LOADABLE`].
pub fn is_loadable_builtin(doc: &Value) -> bool {
    let field = |key: &str| doc.get_path(&[key]).and_then(Value::as_str).unwrap_or("");
    field("apiVersion") == "builtin" && LOADABLE.contains(&field("kind"))
}

/// A plugin's id in kustomize's messages (`OrgId`): its config's kind,
/// version `builtin`, name and namespace, read as written.
pub fn org_id(doc: &Value) -> String {
    let written = |key: &str| match doc.get_path(&["metadata", key]) {
        Some(v @ (Value::Bool(_) | Value::Int(_) | Value::Uint(_) | Value::Float(_))) => {
            crate::helm::chart::go_string(v)
        }
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    };
    let kind = doc.get_path(&["kind"]).and_then(Value::as_str).unwrap_or("");
    let ns = written("namespace");
    let ns = if ns.is_empty() { "[noNs]" } else { ns.as_str() };
    format!("{kind}.builtin.[noGrp]/{}.{ns}", written("name"))
}

/// Reads one plugin config into the kustomization fields it stands for.
pub fn to_kustomization(doc: &Value, file: &str) -> Result<(Kustomization, Role), Error> {
    let Value::Map(m) = doc else {
        return Err(invalid(
            file,
            format!("plugin config: expected a map, found a {}", doc.type_name()),
        ));
    };
    let api_version = m.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = m.get("kind").and_then(Value::as_str).unwrap_or("");
    // kiln runs no external plugins, as `kubectl kustomize` without
    // `--enable-alpha-plugins`.
    if api_version != "builtin" {
        return Err(invalid(
            file,
            format!("external plugins disabled; unable to load external plugin '{kind}'"),
        ));
    }
    // kustomize decodes a plugin config leniently: field names ignore case
    // and unknown fields are dropped.
    // Its string fields take a YAML number or bool as their text.
    let folded = match (go_decode::builtin_plugin(kind), go_decode::yaml_v2_plugin(kind)) {
        (Some(ty), _) => {
            let mut folded = go_decode::canonical(doc, ty, false);
            go_decode::stringify(&mut folded, ty, false);
            folded
        }
        // goyaml.v2 matches names exactly and fills embedded structs' fields too.
        (None, Some(structs)) => {
            let mut folded = doc.clone();
            for ty in structs {
                go_decode::stringify(&mut folded, ty, true);
            }
            folded
        }
        (None, None) => doc.clone(),
    };
    // The plugin's fields (`metadata` too, where its Go struct has one) as
    // Go decoded them.
    let id = org_id(doc);
    let m = folded.as_map().unwrap_or(m);
    let meta = m.get("metadata").and_then(Value::as_map).cloned().unwrap_or_default();
    let fails =
        |message: &str| invalid(file, format!("plugin {id} fails configuration: {message}"));
    // kustomize decodes the config into the plugin's Go struct first
    // (sigs.k8s.io/yaml: YAML to JSON, then Go's decoder), and a field of the
    // wrong type fails there, in the decoder's words.
    // The prefix and suffix transformers decode it with goyaml.v2 instead.
    if let Some(e) = super::yaml_v2_decode::config_errors(doc, kind) {
        return Err(fails(&e));
    }
    if let Some(ty) = go_decode::builtin_plugin(kind)
        && let Some(e) = go_decode::first_error(doc, ty, go_decode::Source::Yaml, false)
    {
        // The namespace transformer says what it was decoding.
        let what = if kind == "NamespaceTransformer" {
            "unmarshalling NamespaceTransformer config: "
        } else {
            ""
        };
        return Err(fails(&format!("{what}error unmarshaling JSON: while decoding JSON: {e}")));
    }
    let mut role = Role::Transformer;
    let fields = match kind {
        "LabelTransformer" | "AnnotationsTransformer" => {
            let pairs = if kind == "LabelTransformer" { "labels" } else { "annotations" };
            let mut set = one("pairs", stringified(&take(m, pairs)));
            set.insert("fields".into(), take(m, "fieldSpecs"));
            one("labels", Value::Seq(vec![Value::Map(set)]))
        }
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            let mut out = Map::new();
            for (from, to) in [("prefix", "namePrefix"), ("suffix", "nameSuffix")] {
                if let Some(v) = m.get(from) {
                    out.insert(to.into(), v.clone());
                }
            }
            out
        }
        "NamespaceTransformer" => one("namespace", take(&meta, "namespace")),
        // A config without `imageTag` holds Go's zero image, which names no
        // image and so changes nothing.
        "ImageTagTransformer" => {
            let image = match take(m, "imageTag") {
                Value::Null => Value::Map(Map::new()),
                image => image,
            };
            one("images", Value::Seq(vec![image]))
        }
        "ReplicaCountTransformer" => one("replicas", Value::Seq(vec![take(m, "replica")])),
        "PatchTransformer" => {
            let mut p = Map::new();
            for key in ["path", "patch", "target", "options"] {
                if let Some(v) = m.get(key) {
                    p.insert(key.into(), v.clone());
                }
            }
            one("patches", Value::Seq(vec![Value::Map(p)]))
        }
        "PatchStrategicMergeTransformer" => {
            let paths = match take(m, "paths") {
                Value::Seq(items) => items,
                _ => Vec::new(),
            };
            let inline = m.get("patches").and_then(Value::as_str).filter(|p| !p.is_empty());
            if paths.is_empty() && inline.is_none() {
                return Err(fails("empty file path and empty patch content"));
            }
            // The inline patches are added below, as inline patches whatever
            // they look like.
            one("patchesStrategicMerge", Value::Seq(paths))
        }
        "PatchJson6902Transformer" => {
            let path = m.get("path").and_then(Value::as_str).filter(|p| !p.is_empty());
            let op = m.get("jsonOp").and_then(Value::as_str).filter(|p| !p.is_empty());
            let Some(target) = m.get("target").and_then(Value::as_map) else {
                return Err(fails(super::build::NIL_DEREFERENCE));
            };
            let name = target.get("name").and_then(Value::as_str);
            if let Some(problem) = super::kustomization::json6902_config_problem(name, path, op) {
                return Err(fails(problem));
            }
            // kustomize decodes inline operations as it loads the config,
            // before any transformer runs.
            if let (None, Some(op)) = (path, op) {
                if let Some(problem) = super::build::json6902_problem(None, op, file) {
                    return Err(fails(&problem));
                }
            }
            let mut p = one("target", take(m, "target"));
            if let Some(path) = m.get("path") {
                p.insert("path".into(), path.clone());
            }
            if let Some(op) = m.get("jsonOp") {
                p.insert("patch".into(), op.clone());
            }
            one("patchesJson6902", Value::Seq(vec![Value::Map(p)]))
        }
        "ReplacementTransformer" => one("replacements", take(m, "replacements")),
        "ValueAddTransformer" => {
            let value = take(m, "value").as_str().unwrap_or("").trim().to_string();
            let targets = value_add::parse_targets(&take(m, "targets")).map_err(|e| fails(&e))?;
            let targets_file =
                m.get("targetFilePath").and_then(Value::as_str).filter(|p| !p.is_empty());
            let k = Kustomization {
                file: file.to_string(),
                plugin: Some(id.clone()),
                value_add: Some(ValueAdd { value, targets }),
                value_add_targets_file: targets_file.map(str::to_string),
                ..Default::default()
            };
            return Ok((k, Role::Transformer));
        }
        "HashTransformer" => {
            let k = Kustomization {
                file: file.to_string(),
                plugin: Some(id.clone()),
                hash_names: true,
                ..Default::default()
            };
            return Ok((k, Role::Transformer));
        }
        "ConfigMapGenerator" | "SecretGenerator" => {
            role = Role::Generator;
            // kustomize reads the config leniently: the fields its Go struct
            // does not have are gone already, and of those it has all but
            // `metadata` are generator arguments. The plugin's own
            // `metadata` names the object only where `name`/`namespace` are unset.
            // The deprecated `env` is moved into `envs` for a kustomization
            // only: the plugin leaves it unread.
            let mut g = Map::new();
            for (key, v) in m {
                if !matches!(key.as_str(), "apiVersion" | "kind" | "metadata" | "env") {
                    g.insert(key.clone(), v.clone());
                }
            }
            // The config's own name and namespace fields win over its metadata's.
            for key in ["name", "namespace"] {
                if let Some(v) = meta.get(key)
                    && g.get(key).and_then(Value::as_str).is_none_or(str::is_empty)
                {
                    g.insert(key.into(), v.clone());
                }
            }
            let field =
                if kind == "ConfigMapGenerator" { "configMapGenerator" } else { "secretGenerator" };
            one(field, Value::Seq(vec![Value::Map(g)]))
        }
        "HelmChartInflationGenerator" => {
            role = Role::Generator;
            let (mut chart, mut globals) = (Map::new(), Map::new());
            for (key, v) in m {
                match key.as_str() {
                    "apiVersion" | "kind" | "metadata" => {}
                    "chartHome" | "configHome" => {
                        globals.insert(key.clone(), v.clone());
                    }
                    _ => {
                        chart.insert(key.clone(), v.clone());
                    }
                }
            }
            let mut out = one("helmCharts", Value::Seq(vec![Value::Map(chart)]));
            out.insert("helmGlobals".into(), Value::Map(globals));
            out
        }
        // A built-in of kustomize's that kiln does not run yet.
        "IAMPolicyGenerator" => {
            return Err(Error::Unsupported {
                file: file.to_string(),
                field: format!("builtin plugin {kind}"),
            });
        }
        // Not one of the built-ins kustomize loads from a config.
        other => {
            return Err(invalid(file, format!("unable to load builtin {other}.builtin.[noGrp]")));
        }
    };
    if kind == "PatchTransformer" {
        // kustomize checks these as it configures the plugin, showing the
        // config it was given; it trims the patch's text first, not the path.
        let text = |key: &str| m.get(key).and_then(Value::as_str).unwrap_or("");
        let problem = match (!text("patch").trim().is_empty(), !text("path").is_empty()) {
            (false, false) => Some("must specify one of patch and path in"),
            (true, true) => Some("patch and path can't be set at the same time"),
            _ => None,
        };
        if let Some(problem) = problem {
            return Err(fails(&format!("{problem}\n{}", crate::yaml::to_string(doc))));
        }
    }
    let mut k = Kustomization::from_value(&Value::Map(fields), file)?;
    k.plugin = Some(id.clone());
    match kind {
        "PatchStrategicMergeTransformer" => {
            if let Some(inline) = m.get("patches").and_then(Value::as_str).filter(|p| !p.is_empty())
            {
                k.patches_strategic_merge.push(Patch {
                    path: None,
                    patch: Some(inline.to_string()),
                    target: None,
                    allow_name_change: false,
                    allow_kind_change: false,
                    json6902_only: false,
                    legacy_strategic_merge: true,
                });
            }
        }
        "NamespaceTransformer" => {
            k.namespace_fields = Some(specs(m.get("fieldSpecs"), file, "fieldSpecs")?);
            k.namespace_unset_only = matches!(m.get("unsetOnly"), Some(Value::Bool(true)));
            k.role_binding_subjects = match m.get("setRoleBindingSubjects").and_then(Value::as_str)
            {
                None | Some("" | "defaultOnly") => SubjectNamespaces::DefaultOnly,
                Some("none") => SubjectNamespaces::None,
                Some("allServiceAccounts") => SubjectNamespaces::AllServiceAccounts,
                Some(other) => {
                    return Err(fails(&format!(
                        "invalid value {other:?} for setRoleBindingSubjects: must be one of \"defaultOnly\", \"none\" or \"allServiceAccounts\""
                    )));
                }
            };
        }
        // As a plugin config it writes only where its own field specs say.
        "ReplicaCountTransformer" => {
            k.replica_fields = Some(specs(m.get("fieldSpecs"), file, "fieldSpecs")?);
        }
        "PrefixSuffixTransformer" | "PrefixTransformer" | "SuffixTransformer" => {
            if matches!(m.get("fieldSpecs"), None | Some(Value::Null)) {
                return Err(invalid(
                    file,
                    format!(
                        "plugin {id} fails configuration: fieldSpecs is not expected to be nil"
                    ),
                ));
            }
            // goyaml.v2 leaves a null item out of a list of structs, where
            // the other plugins' decoder (JSON) reads the zero field spec.
            let listed = match m.get("fieldSpecs") {
                Some(Value::Seq(items)) => {
                    Value::Seq(items.iter().filter(|i| !i.is_null()).cloned().collect())
                }
                other => other.cloned().unwrap_or(Value::Null),
            };
            k.prefix_fields = Some(specs(Some(&listed), file, "fieldSpecs")?);
        }
        "ImageTagTransformer" => {
            k.image_fields = Some(specs(m.get("fieldSpecs"), file, "fieldSpecs")?);
        }
        _ => {}
    }
    // The label and annotation plugins write exactly where their field specs say.
    for set in &mut k.labels {
        set.fields_only = true;
    }
    Ok((k, role))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml;

    #[test]
    fn configs_become_fields() {
        let cases = [
            (
                "apiVersion: builtin\nkind: PrefixSuffixTransformer\nmetadata: {name: x}\nprefix: a-\nfieldSpecs: [{path: metadata/name}]\n",
                Role::Transformer,
                "namePrefix",
            ),
            (
                "apiVersion: builtin\nkind: ConfigMapGenerator\nmetadata: {name: x}\nliterals: [a=b]\n",
                Role::Generator,
                "configMapGenerator",
            ),
            (
                "apiVersion: builtin\nkind: NamespaceTransformer\nmetadata: {name: x, namespace: n}\n",
                Role::Transformer,
                "namespace",
            ),
        ];
        for (text, role, field) in cases {
            let doc = yaml::parse_documents(text, "t.yaml").unwrap().remove(0);
            let (k, got) = to_kustomization(&doc, "t.yaml").unwrap();
            assert_eq!(got, role, "{field}");
            let set = match field {
                "namePrefix" => k.name_prefix.is_some(),
                "configMapGenerator" => k.config_maps.len() == 1,
                _ => k.namespace.as_deref() == Some("n"),
            };
            assert!(set, "{field}");
        }
        let bad = yaml::parse_documents("apiVersion: example.com/v1\nkind: X\n", "t").unwrap();
        assert!(to_kustomization(&bad[0], "t").is_err());
    }

    #[test]
    fn loadable_kinds_are_the_ones_read() {
        let load = |kind: &str| {
            let text = format!("apiVersion: builtin\nkind: {kind}\nmetadata: {{name: x}}\n");
            let doc = yaml::parse_documents(&text, "t.yaml").unwrap().remove(0);
            let unknown = match to_kustomization(&doc, "t.yaml") {
                Err(e) => e.to_string().contains("unable to load builtin"),
                Ok(_) => false,
            };
            (is_loadable_builtin(&doc), unknown)
        };
        for kind in LOADABLE {
            assert_eq!(load(kind), (true, false), "{kind}");
        }
        for kind in ["SortOrderTransformer", "LegacyOrderTransformer", "Unknown"] {
            assert_eq!(load(kind), (false, true), "{kind}");
        }
    }
}
