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

/// What the schema says about one node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Schema {
    /// Nothing known: maps merge, lists are replaced.
    Unknown,
    /// An object of a named type in [`TYPES`].
    Object(&'static str),
    /// A list merged by `keys` (empty for a list of scalars merged as a set),
    /// whose elements are objects of type `elem` when known.
    MergeList { keys: &'static [&'static str], elem: Option<&'static str> },
}

use Schema::{MergeList, Object};

type Fields = &'static [(&'static str, Schema)];

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
            ("status", Object("Conditions")),
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
    ("Service", &[("metadata", Object("ObjectMeta")), ("spec", Object("ServiceSpec"))]),
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
    ("Node", &[("metadata", Object("ObjectMeta")), ("status", Object("NodeStatus"))]),
    (
        "NodeStatus",
        &[
            ("conditions", MergeList { keys: &["type"], elem: None }),
            ("addresses", MergeList { keys: &["type"], elem: None }),
        ],
    ),
];

/// Kinds whose root type is more than [`Object`]: (group, kind, type).
const KINDS: &[(&str, &str, &str)] = &[
    ("", "Pod", "Pod"),
    ("", "PodTemplate", "PodTemplate"),
    ("", "ReplicationController", "Workload"),
    ("", "Service", "Service"),
    ("", "ServiceAccount", "ServiceAccount"),
    ("", "Node", "Node"),
    ("apps", "Deployment", "Workload"),
    ("apps", "ReplicaSet", "Workload"),
    ("apps", "DaemonSet", "Workload"),
    ("apps", "StatefulSet", "Workload"),
    ("extensions", "Deployment", "Workload"),
    ("extensions", "ReplicaSet", "Workload"),
    ("extensions", "DaemonSet", "Workload"),
    ("batch", "Job", "Workload"),
    ("batch", "CronJob", "CronJob"),
    ("admissionregistration.k8s.io", "MutatingWebhookConfiguration", "WebhookConfiguration"),
    ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration", "WebhookConfiguration"),
];

/// API groups of the built-in schema: their kinds at least have `metadata`.
const BUILTIN_GROUPS: &[&str] = &[
    "",
    "admissionregistration.k8s.io",
    "apiextensions.k8s.io",
    "apiregistration.k8s.io",
    "apps",
    "authentication.k8s.io",
    "authorization.k8s.io",
    "autoscaling",
    "batch",
    "certificates.k8s.io",
    "coordination.k8s.io",
    "discovery.k8s.io",
    "events.k8s.io",
    "extensions",
    "flowcontrol.apiserver.k8s.io",
    "networking.k8s.io",
    "node.k8s.io",
    "policy",
    "rbac.authorization.k8s.io",
    "scheduling.k8s.io",
    "storage.k8s.io",
];

impl Schema {
    /// The schema of a whole object of the given group and kind.
    pub(crate) fn root(group: &str, kind: &str) -> Schema {
        if let Some((_, _, ty)) = KINDS.iter().find(|(g, k, _)| *g == group && *k == kind) {
            Object(ty)
        } else if BUILTIN_GROUPS.contains(&group) {
            Object("Object")
        } else {
            Schema::Unknown
        }
    }

    /// The schema of a field of this object.
    pub(crate) fn field(self, name: &str) -> Schema {
        let Object(ty) = self else { return Schema::Unknown };
        TYPES
            .iter()
            .find(|(t, _)| *t == ty)
            .and_then(|(_, fields)| fields.iter().find(|(f, _)| *f == name))
            .map_or(Schema::Unknown, |(_, s)| *s)
    }

    /// The schema of the elements of this list.
    pub(crate) fn elements(self) -> Schema {
        match self {
            MergeList { elem: Some(ty), .. } => Object(ty),
            _ => Schema::Unknown,
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
            .chain(KINDS.iter().map(|(_, _, t)| Object(t)))
            .filter_map(|s| match s {
                Object(t) | MergeList { elem: Some(t), .. } => Some(t),
                _ => None,
            });
        for t in named {
            assert!(TYPES.iter().any(|(n, _)| *n == t), "type {t} is not in the table");
        }
    }

    #[test]
    fn lookups() {
        let cases: &[(&str, &str, &[&str], Schema)] = &[
            (
                "apps",
                "Deployment",
                &["spec", "template", "spec", "containers"],
                MergeList { keys: &["name"], elem: Some("Container") },
            ),
            (
                "batch",
                "CronJob",
                &["spec", "jobTemplate", "spec", "template", "spec", "volumes"],
                MergeList { keys: &["name"], elem: None },
            ),
            ("", "ConfigMap", &["metadata", "finalizers"], MergeList { keys: &[], elem: None }),
            (
                "",
                "Service",
                &["spec", "ports"],
                MergeList { keys: &["port", "protocol"], elem: None },
            ),
            ("apps", "Deployment", &["spec", "template", "spec", "tolerations"], Schema::Unknown),
            ("example.com", "Widget", &["metadata", "finalizers"], Schema::Unknown),
        ];
        for (group, kind, path, want) in cases {
            let got = path.iter().fold(Schema::root(group, kind), |s, f| s.field(f));
            assert_eq!(got, *want, "{group}/{kind} {path:?}");
        }
        let container = Schema::root("", "Pod").field("spec").field("containers").elements();
        assert_eq!(
            container.field("ports"),
            MergeList { keys: &["containerPort", "protocol"], elem: None }
        );
    }
}
