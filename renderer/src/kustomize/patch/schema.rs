//! Which lists of the built-in Kubernetes kinds a strategic merge patch merges, and by which keys.
//!
//! kustomize walks its built-in OpenAPI document (Kubernetes 1.21) and merges
//! a list only where the schema says `x-kubernetes-patch-strategy: merge`;
//! every other list, and every list of a kind the schema does not know
//! (custom resources, and fields added after 1.21 such as
//! `resourceClaims` or `schedulingGates`), is replaced. Maps are merged
//! everywhere, so the table only needs the paths that lead to merged lists.
//! Keys are the `x-kubernetes-list-map-keys` where the schema has them
//! (ports by port and protocol), else the patch merge key.

/// What the built-in table says about one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Static {
    /// An object of a named type in [`TYPES`].
    Object(&'static str),
    /// A list merged by `keys` (empty for a list of scalars merged as a set),
    /// whose elements are objects of type `elem` when known.
    MergeList { keys: &'static [&'static str], elem: Option<&'static str> },
}

use super::Error;
use crate::resource::Gvk;
use crate::value::{Map, Value};
use Static::{MergeList, Object};
use std::collections::HashMap;
use std::sync::LazyLock;

type Fields = &'static [(&'static str, Static)];

/// Object types and their fields that lead to merged lists.
const TYPES: &[(&str, Fields)] = &[
    (
        "ObjectMeta",
        &[
            ("finalizers", MergeList { keys: &[], elem: None }),
            ("ownerReferences", MergeList { keys: &["uid"], elem: None }),
        ],
    ),
    ("Object", &[("metadata", Object("ObjectMeta"))]),
    (
        "Pod",
        &[
            ("metadata", Object("ObjectMeta")),
            ("spec", Object("PodSpec")),
            ("status", Object("PodStatus")),
        ],
    ),
    (
        "PodStatus",
        &[
            ("conditions", MergeList { keys: &["type"], elem: None }),
            ("podIPs", MergeList { keys: &["ip"], elem: None }),
        ],
    ),
    ("PodTemplate", &[("metadata", Object("ObjectMeta")), ("template", Object("PodTemplateSpec"))]),
    ("PodTemplateSpec", &[("metadata", Object("ObjectMeta")), ("spec", Object("PodSpec"))]),
    (
        "PodSpec",
        &[
            ("containers", MergeList { keys: &["name"], elem: Some("Container") }),
            ("initContainers", MergeList { keys: &["name"], elem: Some("Container") }),
            ("ephemeralContainers", MergeList { keys: &["name"], elem: Some("Container") }),
            ("volumes", MergeList { keys: &["name"], elem: None }),
            ("imagePullSecrets", MergeList { keys: &["name"], elem: None }),
            ("hostAliases", MergeList { keys: &["ip"], elem: None }),
            (
                "topologySpreadConstraints",
                MergeList { keys: &["topologyKey", "whenUnsatisfiable"], elem: None },
            ),
        ],
    ),
    (
        "Container",
        &[
            ("env", MergeList { keys: &["name"], elem: None }),
            ("ports", MergeList { keys: &["containerPort", "protocol"], elem: None }),
            ("volumeMounts", MergeList { keys: &["mountPath"], elem: None }),
            ("volumeDevices", MergeList { keys: &["devicePath"], elem: None }),
        ],
    ),
    // Deployment, ReplicaSet, DaemonSet, StatefulSet, Job, ReplicationController.
    (
        "Workload",
        &[
            ("metadata", Object("ObjectMeta")),
            ("spec", Object("WorkloadSpec")),
            ("status", Object("Conditions")),
        ],
    ),
    ("WorkloadSpec", &[("template", Object("PodTemplateSpec"))]),
    ("Conditions", &[("conditions", MergeList { keys: &["type"], elem: None })]),
    ("CronJob", &[("metadata", Object("ObjectMeta")), ("spec", Object("CronJobSpec"))]),
    ("CronJobSpec", &[("jobTemplate", Object("JobTemplateSpec"))]),
    ("JobTemplateSpec", &[("metadata", Object("ObjectMeta")), ("spec", Object("WorkloadSpec"))]),
    (
        "Service",
        &[
            ("metadata", Object("ObjectMeta")),
            ("spec", Object("ServiceSpec")),
            ("status", Object("Conditions")),
        ],
    ),
    // PersistentVolumeClaim and Namespace: only their status conditions merge.
    ("StatusConditions", &[("metadata", Object("ObjectMeta")), ("status", Object("Conditions"))]),
    (
        "ComponentStatus",
        &[
            ("metadata", Object("ObjectMeta")),
            ("conditions", MergeList { keys: &["type"], elem: None }),
        ],
    ),
    ("ServiceSpec", &[("ports", MergeList { keys: &["port", "protocol"], elem: None })]),
    (
        "ServiceAccount",
        &[
            ("metadata", Object("ObjectMeta")),
            ("secrets", MergeList { keys: &["name"], elem: None }),
        ],
    ),
    (
        "WebhookConfiguration",
        &[
            ("metadata", Object("ObjectMeta")),
            ("webhooks", MergeList { keys: &["name"], elem: None }),
        ],
    ),
    (
        "Node",
        &[
            ("metadata", Object("ObjectMeta")),
            ("spec", Object("NodeSpec")),
            ("status", Object("NodeStatus")),
        ],
    ),
    ("NodeSpec", &[("podCIDRs", MergeList { keys: &[], elem: None })]),
    ("APIService", &[("metadata", Object("ObjectMeta")), ("status", Object("Conditions"))]),
    ("CSINode", &[("metadata", Object("ObjectMeta")), ("spec", Object("CSINodeSpec"))]),
    ("CSINodeSpec", &[("drivers", MergeList { keys: &["name"], elem: None })]),
    (
        "PodDisruptionBudget",
        &[("metadata", Object("ObjectMeta")), ("status", Object("Conditions"))],
    ),
    (
        "NodeStatus",
        &[
            ("conditions", MergeList { keys: &["type"], elem: None }),
            ("addresses", MergeList { keys: &["type"], elem: None }),
        ],
    ),
];

/// Kinds whose root type is more than [`Object`]: (group, kind, type).
const ROOTS: &[(&str, &str, &str)] = &[
    ("", "Pod", "Pod"),
    ("", "PodTemplate", "PodTemplate"),
    ("", "ReplicationController", "Workload"),
    ("", "Service", "Service"),
    ("", "ServiceAccount", "ServiceAccount"),
    ("", "Node", "Node"),
    ("", "PersistentVolumeClaim", "StatusConditions"),
    ("", "Namespace", "StatusConditions"),
    ("", "ComponentStatus", "ComponentStatus"),
    ("apps", "Deployment", "Workload"),
    ("apps", "ReplicaSet", "Workload"),
    ("apps", "DaemonSet", "Workload"),
    ("apps", "StatefulSet", "Workload"),
    ("batch", "Job", "Workload"),
    ("batch", "CronJob", "CronJob"),
    ("policy", "PodDisruptionBudget", "PodDisruptionBudget"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration", "WebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "WebhookConfiguration"),
    ("apiregistration.k8s.io", "APIService", "APIService"),
    ("storage.k8s.io", "CSINode", "CSINode"),
];

/// The definitions of the Kubernetes 1.21 schema, other than the kinds'
/// own (see [`kind_definition`]), that lead to merged lists, by the type of
/// [`TYPES`] they have: a field comment's `$ref` names them.
const DEFINITIONS: &[(&str, &[&str])] = &[
    ("ObjectMeta", &["io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"]),
    ("PodTemplateSpec", &["io.k8s.api.core.v1.PodTemplateSpec"]),
    ("PodSpec", &["io.k8s.api.core.v1.PodSpec"]),
    ("PodStatus", &["io.k8s.api.core.v1.PodStatus"]),
    ("Container", &["io.k8s.api.core.v1.Container", "io.k8s.api.core.v1.EphemeralContainer"]),
    (
        "WorkloadSpec",
        &[
            "io.k8s.api.apps.v1.DeploymentSpec",
            "io.k8s.api.apps.v1.ReplicaSetSpec",
            "io.k8s.api.apps.v1.DaemonSetSpec",
            "io.k8s.api.apps.v1.StatefulSetSpec",
            "io.k8s.api.batch.v1.JobSpec",
            "io.k8s.api.core.v1.ReplicationControllerSpec",
        ],
    ),
    (
        "Conditions",
        &[
            "io.k8s.api.apps.v1.DeploymentStatus",
            "io.k8s.api.apps.v1.ReplicaSetStatus",
            "io.k8s.api.apps.v1.DaemonSetStatus",
            "io.k8s.api.apps.v1.StatefulSetStatus",
            "io.k8s.api.batch.v1.JobStatus",
            "io.k8s.api.core.v1.ReplicationControllerStatus",
            "io.k8s.api.core.v1.ServiceStatus",
            "io.k8s.api.core.v1.PersistentVolumeClaimStatus",
            "io.k8s.api.core.v1.NamespaceStatus",
            "io.k8s.api.policy.v1.PodDisruptionBudgetStatus",
            "io.k8s.api.policy.v1beta1.PodDisruptionBudgetStatus",
            "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1.APIServiceStatus",
            "io.k8s.kube-aggregator.pkg.apis.apiregistration.v1beta1.APIServiceStatus",
        ],
    ),
    ("CronJobSpec", &["io.k8s.api.batch.v1.CronJobSpec", "io.k8s.api.batch.v1beta1.CronJobSpec"]),
    (
        "JobTemplateSpec",
        &["io.k8s.api.batch.v1.JobTemplateSpec", "io.k8s.api.batch.v1beta1.JobTemplateSpec"],
    ),
    ("ServiceSpec", &["io.k8s.api.core.v1.ServiceSpec"]),
    ("NodeSpec", &["io.k8s.api.core.v1.NodeSpec"]),
    ("NodeStatus", &["io.k8s.api.core.v1.NodeStatus"]),
    (
        "CSINodeSpec",
        &["io.k8s.api.storage.v1.CSINodeSpec", "io.k8s.api.storage.v1beta1.CSINodeSpec"],
    ),
];

/// The name of a kind's definition in the Kubernetes 1.21 schema.
fn kind_definition(group: &str, version: &str, kind: &str) -> String {
    let package = match group {
        "" => "io.k8s.api.core".to_string(),
        "apiextensions.k8s.io" => "io.k8s.apiextensions-apiserver.pkg.apis.apiextensions".into(),
        "apiregistration.k8s.io" => "io.k8s.kube-aggregator.pkg.apis.apiregistration".into(),
        _ => format!("io.k8s.api.{}", group.split('.').next().unwrap_or(group)),
    };
    format!("{package}.{version}.{kind}")
}

/// The kinds of Kubernetes 1.21 by group and version: kustomize looks a
/// schema up by all three, so `apps/v1beta2` Deployments and
/// `autoscaling/v2` HorizontalPodAutoscalers have none and merge no list.
const KNOWN: &[(&str, &[&str], &[&str])] = &[
    (
        "",
        &["v1"],
        &[
            "Binding",
            "ComponentStatus",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "Namespace",
            "Node",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "Pod",
            "PodTemplate",
            "ReplicationController",
            "ResourceQuota",
            "Secret",
            "Service",
            "ServiceAccount",
        ],
    ),
    (
        "admissionregistration.k8s.io",
        &["v1", "v1beta1"],
        &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"],
    ),
    ("apiextensions.k8s.io", &["v1", "v1beta1"], &["CustomResourceDefinition"]),
    ("apiregistration.k8s.io", &["v1", "v1beta1"], &["APIService"]),
    (
        "apps",
        &["v1"],
        &["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"],
    ),
    ("authentication.k8s.io", &["v1", "v1beta1"], &["TokenRequest", "TokenReview"]),
    (
        "authorization.k8s.io",
        &["v1", "v1beta1"],
        &[
            "LocalSubjectAccessReview",
            "SelfSubjectAccessReview",
            "SelfSubjectRulesReview",
            "SubjectAccessReview",
        ],
    ),
    ("autoscaling", &["v1"], &["HorizontalPodAutoscaler", "Scale"]),
    ("autoscaling", &["v2beta1", "v2beta2"], &["HorizontalPodAutoscaler"]),
    ("batch", &["v1"], &["CronJob", "Job"]),
    ("batch", &["v1beta1"], &["CronJob"]),
    ("certificates.k8s.io", &["v1", "v1beta1"], &["CertificateSigningRequest"]),
    ("coordination.k8s.io", &["v1", "v1beta1"], &["Lease"]),
    ("discovery.k8s.io", &["v1", "v1beta1"], &["EndpointSlice"]),
    ("events.k8s.io", &["v1", "v1beta1"], &["Event"]),
    ("extensions", &["v1beta1"], &["Ingress"]),
    (
        "flowcontrol.apiserver.k8s.io",
        &["v1alpha1", "v1beta1"],
        &["FlowSchema", "PriorityLevelConfiguration"],
    ),
    ("networking.k8s.io", &["v1"], &["Ingress", "IngressClass", "NetworkPolicy"]),
    ("networking.k8s.io", &["v1beta1"], &["Ingress", "IngressClass"]),
    ("node.k8s.io", &["v1", "v1alpha1", "v1beta1"], &["RuntimeClass"]),
    ("policy", &["v1"], &["Eviction", "PodDisruptionBudget"]),
    ("policy", &["v1beta1"], &["Eviction", "PodDisruptionBudget", "PodSecurityPolicy"]),
    (
        "rbac.authorization.k8s.io",
        &["v1", "v1alpha1", "v1beta1"],
        &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
    ),
    ("scheduling.k8s.io", &["v1", "v1alpha1", "v1beta1"], &["PriorityClass"]),
    ("storage.k8s.io", &["v1"], &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"]),
    (
        "storage.k8s.io",
        &["v1beta1"],
        &["CSIDriver", "CSINode", "CSIStorageCapacity", "StorageClass", "VolumeAttachment"],
    ),
    ("storage.k8s.io", &["v1alpha1"], &["CSIStorageCapacity", "VolumeAttachment"]),
];

/// What a strategic merge schema says about one field of an object type.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Field {
    /// An object of the named type.
    Object(String),
    /// A list merged by `keys` (empty: a set of scalars), whose elements
    /// are objects of type `elem` when known.
    MergeList { keys: Vec<String>, elem: Option<String> },
}

/// The kinds whose scope (namespaced or not) kustomize knows without
/// reading its built-in schema: group, versions, kinds. Any other kind it
/// meets makes it read the built-in schema, which a schema file named later
/// by a base or component is then added to (see [`OpenApi::over_builtin`]).
const SCOPE_KNOWN: &[(&str, &[&str], &[&str])] = &[
    (
        "",
        &["v1"],
        &[
            "ComponentStatus",
            "ConfigMap",
            "Endpoints",
            "Event",
            "LimitRange",
            "Namespace",
            "Node",
            "NodeProxyOptions",
            "PersistentVolume",
            "PersistentVolumeClaim",
            "Pod",
            "PodAttachOptions",
            "PodExecOptions",
            "PodPortForwardOptions",
            "PodProxyOptions",
            "PodTemplate",
            "ReplicationController",
            "ResourceQuota",
            "Secret",
            "Service",
            "ServiceAccount",
            "ServiceProxyOptions",
        ],
    ),
    (
        "admissionregistration.k8s.io",
        &["v1", "v1beta1"],
        &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"],
    ),
    ("apiextensions.k8s.io", &["v1", "v1beta1"], &["CustomResourceDefinition"]),
    ("apiregistration.k8s.io", &["v1", "v1beta1"], &["APIService"]),
    (
        "apps",
        &["v1"],
        &["ControllerRevision", "DaemonSet", "Deployment", "ReplicaSet", "StatefulSet"],
    ),
    ("autoscaling", &["v1"], &["HorizontalPodAutoscaler", "Scale"]),
    ("autoscaling", &["v2beta1", "v2beta2"], &["HorizontalPodAutoscaler"]),
    ("batch", &["v1"], &["CronJob", "Job"]),
    ("batch", &["v1beta1"], &["CronJob"]),
    ("certificates.k8s.io", &["v1", "v1beta1"], &["CertificateSigningRequest"]),
    ("coordination.k8s.io", &["v1", "v1beta1"], &["Lease"]),
    ("discovery.k8s.io", &["v1", "v1beta1"], &["EndpointSlice"]),
    ("events.k8s.io", &["v1", "v1beta1"], &["Event"]),
    ("extensions", &["v1beta1"], &["Ingress"]),
    ("flowcontrol.apiserver.k8s.io", &["v1beta1"], &["FlowSchema", "PriorityLevelConfiguration"]),
    ("networking.k8s.io", &["v1", "v1beta1"], &["Ingress", "IngressClass"]),
    ("networking.k8s.io", &["v1"], &["NetworkPolicy"]),
    ("node.k8s.io", &["v1", "v1beta1"], &["RuntimeClass"]),
    ("policy", &["v1", "v1beta1"], &["PodDisruptionBudget"]),
    ("policy", &["v1beta1"], &["PodSecurityPolicy"]),
    (
        "rbac.authorization.k8s.io",
        &["v1", "v1beta1"],
        &["ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding"],
    ),
    ("scheduling.k8s.io", &["v1", "v1beta1"], &["PriorityClass"]),
    (
        "storage.k8s.io",
        &["v1", "v1beta1"],
        &["CSIDriver", "CSINode", "StorageClass", "VolumeAttachment"],
    ),
    ("storage.k8s.io", &["v1beta1"], &["CSIStorageCapacity"]),
];

/// Whether kustomize knows the scope of objects of this group, version and
/// kind without reading its built-in schema (see [`SCOPE_KNOWN`]).
pub fn scope_known_without_schema(gvk: &Gvk) -> bool {
    SCOPE_KNOWN.iter().any(|(group, versions, kinds)| {
        *group == gvk.group
            && versions.contains(&gvk.version.as_str())
            && kinds.contains(&gvk.kind.as_str())
    })
}

/// A strategic merge schema: the root type of each group, version and
/// kind, and for each type the fields that lead to merged lists.
///
/// kustomize uses its built-in schema ([`OpenApi::builtin`]) unless the top
/// kustomization's `openapi: {path: ...}` names a schema file; that file
/// then replaces the built-in schema for every kind ([`OpenApi::parse`]),
/// so a kind it does not define merges no list.
#[derive(Debug, Clone, Default)]
pub struct OpenApi {
    types: HashMap<String, HashMap<String, Field>>,
    roots: HashMap<(String, String, String), String>,
    /// The scope its `paths` give each kind ([`OpenApi::scopes`]).
    scopes: crate::resource::SchemaScopes,
    /// The type of each definition a `$ref` can name.
    definitions: HashMap<String, String>,
}

static BUILTIN: LazyLock<OpenApi> = LazyLock::new(|| {
    let convert = |s: &Static| match *s {
        Object(t) => Field::Object(t.to_string()),
        MergeList { keys, elem } => Field::MergeList {
            keys: keys.iter().map(|k| k.to_string()).collect(),
            elem: elem.map(str::to_string),
        },
    };
    let types = TYPES
        .iter()
        .map(|(t, fields)| {
            (t.to_string(), fields.iter().map(|(f, s)| (f.to_string(), convert(s))).collect())
        })
        .collect();
    let mut roots = HashMap::new();
    let mut definitions: HashMap<String, String> = DEFINITIONS
        .iter()
        .flat_map(|(ty, names)| names.iter().map(|n| (n.to_string(), ty.to_string())))
        .collect();
    for (group, versions, kinds) in KNOWN {
        for version in *versions {
            for kind in *kinds {
                let ty = ROOTS
                    .iter()
                    .find(|(g, k, _)| g == group && k == kind)
                    .map_or("Object", |(_, _, t)| *t);
                roots.insert((group.to_string(), version.to_string(), kind.to_string()), ty.into());
                definitions.insert(kind_definition(group, version, kind), ty.into());
            }
        }
    }
    OpenApi { types, roots, scopes: Default::default(), definitions }
});

/// The prefix of a `$ref` to a definition of the same document.
pub(crate) const DEFINITIONS_REF: &str = "#/definitions/";

impl OpenApi {
    /// kustomize's built-in schema (Kubernetes 1.21).
    pub fn builtin() -> &'static OpenApi {
        &BUILTIN
    }

    /// Reads a schema file in the OpenAPI v2 (swagger) form kustomize's
    /// `openapi:` field takes: `definitions` whose kinds are named by
    /// `x-kubernetes-group-version-kind`, and properties that lead, through
    /// `$ref`s or inline objects, to lists marked
    /// `x-kubernetes-patch-strategy: merge` with
    /// `x-kubernetes-patch-merge-key` (or `x-kubernetes-list-map-keys`).
    pub fn parse(doc: &Value, file: &str) -> Result<OpenApi, Error> {
        let Some(defs) = doc.get_path(&["definitions"]).and_then(Value::as_map) else {
            return Err(Error::Schema {
                file: file.to_string(),
                message: "expected a map of definitions under `definitions`".into(),
            });
        };
        let mut api = OpenApi::default();
        for (name, def) in defs {
            api.add_type(name, def);
            api.definitions.insert(name.clone(), name.clone());
            let Some(Value::Seq(gvks)) = def.get_path(&["x-kubernetes-group-version-kind"]) else {
                continue;
            };
            for gvk in gvks {
                let part = |k: &str| gvk.get_path(&[k]).and_then(Value::as_str).unwrap_or("");
                let key = (part("group").into(), part("version").into(), part("kind").into());
                api.roots.insert(key, name.clone());
            }
        }
        api.add_scopes(doc);
        Ok(api)
    }

    /// Reads each kind's scope from the `paths` whose `get` names it by
    /// `x-kubernetes-group-version-kind`, as kyaml does
    /// (`findNamespaceability`): a path with `namespaces/{namespace}` makes
    /// the kind namespaced whatever else is listed; otherwise it is
    /// cluster-scoped. A kind no path names has no scope here. kube-openapi
    /// reads only the keys of `paths` that start with `/` as paths, and kyaml
    /// keys a kind by its `apiVersion` (the version alone without a group).
    fn add_scopes(&mut self, doc: &Value) {
        let Some(paths) = doc.get_path(&["paths"]).and_then(Value::as_map) else { return };
        for (path, item) in paths.iter().filter(|(path, _)| path.starts_with('/')) {
            let Some(gvk) = item.get_path(&["get", "x-kubernetes-group-version-kind"]) else {
                continue;
            };
            if gvk.as_map().is_none() {
                continue;
            }
            let part = |k: &str| gvk.get_path(&[k]).and_then(Value::as_str).unwrap_or("");
            let api_version = match part("group") {
                "" => part("version").to_string(),
                group => format!("{group}/{}", part("version")),
            };
            let Gvk { group, version, kind } = Gvk::from_api_version(&api_version, part("kind"));
            let key = (group, version, kind);
            let namespaced = path.contains("namespaces/{namespace}");
            let scope = self.scopes.entry(key).or_insert(namespaced);
            *scope |= namespaced;
        }
    }

    /// The scope (`true` for namespaced) the schema file's `paths` give
    /// each kind they name.
    pub fn scopes(&self) -> &crate::resource::SchemaScopes {
        &self.scopes
    }

    /// Records the fields of the object type `name` that lead to merged lists.
    fn add_type(&mut self, name: &str, def: &Value) {
        let mut fields = HashMap::new();
        if let Some(props) = def.get_path(&["properties"]).and_then(Value::as_map) {
            for (field, prop) in props {
                if let Some(f) = self.field(&format!("{name}.{field}"), prop) {
                    fields.insert(field.clone(), f);
                }
            }
        }
        self.types.insert(name.to_string(), fields);
    }

    /// What a property is; `inline` names an object defined in place.
    fn field(&mut self, inline: &str, prop: &Value) -> Option<Field> {
        let is_list = prop.get_path(&["type"]).and_then(Value::as_str) == Some("array")
            || prop.get_path(&["items"]).is_some();
        if !is_list {
            return self.object(inline, prop).map(Field::Object);
        }
        let strategy = prop.get_path(&["x-kubernetes-patch-strategy"]).and_then(Value::as_str);
        if !strategy.is_some_and(|s| s.split(',').any(|p| p.trim() == "merge")) {
            return None;
        }
        let map_keys: Vec<String> = match prop.get_path(&["x-kubernetes-list-map-keys"]) {
            Some(Value::Seq(keys)) => {
                keys.iter().filter_map(Value::as_str).map(str::to_string).collect()
            }
            _ => Vec::new(),
        };
        let keys = if map_keys.is_empty() {
            prop.get_path(&["x-kubernetes-patch-merge-key"])
                .and_then(Value::as_str)
                .map(|k| vec![k.to_string()])
                .unwrap_or_default()
        } else {
            map_keys
        };
        let elem = match prop.get_path(&["items"]) {
            Some(items) => self.object(&format!("{inline}[]"), items),
            None => None,
        };
        Some(Field::MergeList { keys, elem })
    }

    /// The type of an object property: a `$ref` (also inside `allOf`), or
    /// an inline object recorded under the name `inline`.
    fn object(&mut self, inline: &str, prop: &Value) -> Option<String> {
        let reference = prop.get_path(&["$ref"]).or_else(|| match prop.get_path(&["allOf"]) {
            Some(Value::Seq(all)) => all.iter().find_map(|s| s.get_path(&["$ref"])),
            _ => None,
        });
        if let Some(r) = reference.and_then(Value::as_str) {
            return Some(r.strip_prefix(DEFINITIONS_REF).unwrap_or(r).to_string());
        }
        prop.get_path(&["properties"]).and_then(Value::as_map).map(|_: &Map| {
            self.add_type(inline, prop);
            inline.to_string()
        })
    }

    /// This schema file added to the built-in schema, as kustomize adds a
    /// file named by a base or component once it has read the built-in one:
    /// the file's definitions and kinds win where both have them.
    pub fn over_builtin(self) -> OpenApi {
        let mut merged = BUILTIN.clone();
        merged.types.extend(self.types);
        merged.roots.extend(self.roots);
        merged.definitions.extend(self.definitions);
        merged.scopes = self.scopes;
        merged
    }

    /// Whether the schema describes objects of the given group, version and kind.
    pub fn knows(&self, gvk: &Gvk) -> bool {
        self.roots.contains_key(&(gvk.group.clone(), gvk.version.clone(), gvk.kind.clone()))
    }

    /// The schema of a whole object of the given group, version and kind.
    pub(crate) fn root(&self, gvk: &Gvk) -> Schema<'_> {
        let key = (gvk.group.clone(), gvk.version.clone(), gvk.kind.clone());
        let node = self.roots.get(&key).map_or(Node::Unknown, |t| Node::Object(t));
        Schema { api: self, node, comments: &[] }
    }
}

/// A node of a strategic merge schema: what is known about one value.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Schema<'a> {
    api: &'a OpenApi,
    node: Node<'a>,
    /// Schemas written in comments on fields of the object and of the patch
    /// ([`FieldComment`]), by the path of map keys to the field.
    comments: &'a [(Vec<String>, FieldComment)],
}

/// What a schema written in a YAML comment on a field says, as kyaml's
/// merge walk reads it (`fieldmeta.FieldMeta`): the comment, after its
/// leading `#`s, is a JSON OpenAPI schema that replaces the one the field
/// had (and, below it, that of its children).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldComment {
    /// The definition its `$ref` names (`#/definitions/NAME`): kyaml
    /// resolves it against the whole schema and, when that has it, takes
    /// the definition for the comment's schema.
    pub reference: Option<String>,
    /// Otherwise a list merged by these keys (`x-kubernetes-patch-strategy`
    /// listing `merge`, keyed by `x-kubernetes-patch-merge-key`; none: a
    /// set of scalars), or with `None` nothing known below it, so lists are
    /// replaced.
    pub merge_keys: Option<Vec<String>>,
}

/// What the schema says about one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Node<'a> {
    /// No schema: maps merge, lists are replaced, and a map that names a
    /// kind by `apiVersion` and `kind` takes that kind's schema
    /// ([`Schema::or_kind_of`]).
    Unknown,
    /// A schema that says nothing about merging: like `Unknown`, except that
    /// kyaml looks no further. The tables record only the fields that lead
    /// to merged lists, so every other field of a known type is taken to be
    /// one of these (kyaml's schema has most of them: scalars, maps of
    /// strings, `RawExtension`s), as are elements of merged lists of no
    /// recorded type and what a schema written in a comment leaves open.
    /// Below one (the entries of a map of strings) there is no schema.
    Untyped,
    /// An object of a named type.
    Object(&'a str),
    /// A list merged by `keys` (empty for a list of scalars merged as a set),
    /// whose elements are objects of type `elem` when known.
    MergeList { keys: &'a [String], elem: Option<&'a str> },
}

impl<'a> Schema<'a> {
    fn with(self, node: Node<'a>) -> Schema<'a> {
        Schema { node, ..self }
    }

    /// This schema, with these schemas written in comments on fields.
    pub(crate) fn with_comments(self, comments: &'a [(Vec<String>, FieldComment)]) -> Schema<'a> {
        Schema { comments, ..self }
    }

    /// The schema of the value at `path` (map keys from the object's root):
    /// the first schema written in a comment on that field, or this one.
    pub(crate) fn commented(self, path: &[String]) -> Schema<'a> {
        let Some((_, comment)) = self.comments.iter().find(|(p, _)| p == path) else {
            return self;
        };
        let definition = comment.reference.as_ref().and_then(|r| self.api.definitions.get(r));
        match (definition, &comment.merge_keys) {
            (Some(ty), _) => self.with(Node::Object(ty)),
            (None, Some(keys)) => self.with(Node::MergeList { keys, elem: None }),
            (None, None) => self.with(Node::Untyped),
        }
    }

    /// A node about which nothing is known.
    pub(crate) fn unknown(self) -> Schema<'a> {
        self.with(Node::Unknown)
    }

    /// The schema of a field of this object. A field a built-in type of
    /// [`TYPES`] other than the catch-all [`Object`] does not list has no
    /// schema ([`Node::Unknown`]): none of their fields kyaml knows holds an
    /// object naming its own kind, so the table lists every field where
    /// that matters, and a field the 1.21 schema lacks (an object embedded
    /// under a name of one's own) takes its own kind's schema as kyaml's
    /// walk gives it.
    pub(crate) fn field(self, name: &str) -> Schema<'a> {
        let Node::Object(ty) = self.node else { return self.unknown() };
        let closed = ty != "Object" && TYPES.iter().any(|(t, _)| *t == ty);
        let node = match self.api.types.get(ty).and_then(|fields| fields.get(name)) {
            None if closed => Node::Unknown,
            None => Node::Untyped,
            Some(Field::Object(t)) => Node::Object(t),
            Some(Field::MergeList { keys, elem }) => {
                Node::MergeList { keys, elem: elem.as_deref() }
            }
        };
        self.with(node)
    }

    /// This schema, or where there is none, that of the kind the first of
    /// `maps` (the object's node, then the patch's) that names one known to
    /// the schema by non-empty `apiVersion` and `kind`: kyaml's merge walk
    /// looks a node's type up so at every level, so an object embedded whole
    /// in a custom resource merges by its own kind's keys.
    pub(crate) fn or_kind_of(self, maps: [Option<&Map>; 2]) -> Schema<'a> {
        if self.node != Node::Unknown {
            return self;
        }
        fn text<'m>(m: &'m Map, key: &str) -> Option<&'m str> {
            m.get(key).and_then(Value::as_str).filter(|s| !s.is_empty())
        }
        maps.into_iter()
            .flatten()
            .filter_map(|m| Some(Gvk::from_api_version(text(m, "apiVersion")?, text(m, "kind")?)))
            .find_map(|gvk| self.api.roots.get(&(gvk.group, gvk.version, gvk.kind)))
            .map_or(self, |ty| self.with(Node::Object(ty)))
    }

    /// The schema of the elements of this list.
    pub(crate) fn elements(self) -> Schema<'a> {
        match self.node {
            Node::MergeList { elem: Some(ty), .. } => self.with(Node::Object(ty)),
            Node::MergeList { elem: None, .. } => self.with(Node::Untyped),
            _ => self.unknown(),
        }
    }

    /// The keys this list merges by (empty: a set of scalars), or `None`
    /// when the list is replaced.
    pub(crate) fn merge_keys(self) -> Option<&'a [String]> {
        match self.node {
            Node::MergeList { keys, .. } => Some(keys),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_named_type_exists() {
        let named = TYPES
            .iter()
            .flat_map(|(_, fields)| fields.iter().map(|(_, s)| *s))
            .chain(ROOTS.iter().map(|(_, _, t)| Object(t)))
            .chain(DEFINITIONS.iter().map(|(t, _)| Object(t)))
            .filter_map(|s| match s {
                Object(t) | MergeList { elem: Some(t), .. } => Some(t),
                _ => None,
            });
        for t in named {
            assert!(TYPES.iter().any(|(n, _)| *n == t), "type {t} is not in the table");
        }
    }

    fn keys(ks: &[&str]) -> Vec<String> {
        ks.iter().map(|k| k.to_string()).collect()
    }

    #[test]
    fn builtin_lookups() {
        let name = keys(&["name"]);
        let none: Vec<String> = Vec::new();
        let service_ports = keys(&["port", "protocol"]);
        let pod_spec: &[&str] = &["spec", "template", "spec"];
        type Case<'a> = (&'a str, &'a str, &'a [&'a str], &'a str, Option<&'a Vec<String>>);
        let cases: &[Case<'_>] = &[
            ("apps/v1", "Deployment", pod_spec, "containers", Some(&name)),
            ("apps/v1beta2", "Deployment", pod_spec, "containers", None),
            ("apps/v1", "Deployment", pod_spec, "tolerations", None),
            (
                "batch/v1beta1",
                "CronJob",
                &["spec", "jobTemplate", "spec", "template", "spec"],
                "volumes",
                Some(&name),
            ),
            ("v1", "ConfigMap", &["metadata"], "finalizers", Some(&none)),
            ("v1", "Service", &["spec"], "ports", Some(&service_ports)),
            ("autoscaling/v2", "HorizontalPodAutoscaler", &["metadata"], "finalizers", None),
            ("v1", "Widget", &["metadata"], "finalizers", None),
            ("example.com/v1", "Widget", &["metadata"], "finalizers", None),
        ];
        let api = OpenApi::builtin();
        for (api_version, kind, path, field, want) in cases {
            let root = api.root(&Gvk::from_api_version(api_version, kind));
            let got = path.iter().fold(root, |s, f| s.field(f)).field(field);
            assert_eq!(
                got.merge_keys(),
                want.map(Vec::as_slice),
                "{api_version} {kind} {path:?} {field}"
            );
        }
        let pod = api.root(&Gvk::from_api_version("v1", "Pod"));
        let container = pod.field("spec").field("containers").elements();
        assert_eq!(
            container.field("ports").merge_keys(),
            Some(keys(&["containerPort", "protocol"]).as_slice())
        );
    }

    #[test]
    fn parsed_lookups() {
        let text = r##"
definitions:
  io.example.v1.Widget:
    x-kubernetes-group-version-kind:
    - {group: example.io, version: v1, kind: Widget}
    properties:
      spec:
        properties:
          parts:
            type: array
            items: {$ref: "#/definitions/io.example.v1.Part"}
            x-kubernetes-patch-strategy: merge,retainKeys
            x-kubernetes-patch-merge-key: id
          tags:
            type: array
            items: {type: string}
            x-kubernetes-patch-strategy: merge
          plain:
            type: array
            x-kubernetes-patch-merge-key: id
          ports:
            type: array
            x-kubernetes-list-map-keys: [port, protocol]
            x-kubernetes-patch-merge-key: port
            x-kubernetes-patch-strategy: merge
  io.example.v1.Part:
    properties:
      pins:
        allOf: [{$ref: "#/definitions/io.example.v1.Pins"}]
  io.example.v1.Pins:
    properties:
      list: {type: array, x-kubernetes-patch-strategy: merge, x-kubernetes-patch-merge-key: n}
"##;
        let doc = crate::yaml::parse_documents(text, "schema.yaml").unwrap().remove(0);
        let api = OpenApi::parse(&doc, "schema.yaml").unwrap();
        let root = api.root(&Gvk::from_api_version("example.io/v1", "Widget"));
        let spec = root.field("spec");
        let cases: &[(&str, Option<Vec<String>>)] = &[
            ("parts", Some(keys(&["id"]))),
            ("tags", Some(Vec::new())),
            ("plain", None),
            ("ports", Some(keys(&["port", "protocol"]))),
            ("missing", None),
        ];
        for (field, want) in cases {
            assert_eq!(spec.field(field).merge_keys(), want.as_deref(), "{field}");
        }
        let pins = spec.field("parts").elements().field("pins").field("list");
        assert_eq!(pins.merge_keys(), Some(keys(&["n"]).as_slice()));
        let deployment = api.root(&Gvk::from_api_version("apps/v1", "Deployment"));
        assert_eq!(deployment.field("spec").merge_keys(), None);
        assert_eq!(deployment.node, Node::Unknown);
        let err = OpenApi::parse(&Value::Map(Map::new()), "s.json").unwrap_err();
        assert!(matches!(err, Error::Schema { .. }));
    }
}
