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

use crate::resource::Gvk;
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
];

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

impl Schema {
    /// The schema of a whole object of the given group, version and kind.
    pub(crate) fn root(gvk: &Gvk) -> Schema {
        let known = KNOWN.iter().any(|(g, versions, kinds)| {
            *g == gvk.group
                && versions.contains(&gvk.version.as_str())
                && kinds.contains(&gvk.kind.as_str())
        });
        if !known {
            return Schema::Unknown;
        }
        match ROOTS.iter().find(|(g, k, _)| *g == gvk.group && *k == gvk.kind) {
            Some((_, _, ty)) => Object(ty),
            None => Object("Object"),
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
            .chain(ROOTS.iter().map(|(_, _, t)| Object(t)))
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
        let containers = MergeList { keys: &["name"], elem: Some("Container") };
        let volumes = MergeList { keys: &["name"], elem: None };
        let set = MergeList { keys: &[], elem: None };
        let service_ports = MergeList { keys: &["port", "protocol"], elem: None };
        let pod_spec: &[&str] = &["spec", "template", "spec"];
        let cases: &[(&str, &str, &[&str], &str, Schema)] = &[
            ("apps/v1", "Deployment", pod_spec, "containers", containers),
            ("apps/v1beta2", "Deployment", pod_spec, "containers", Schema::Unknown),
            ("apps/v1", "Deployment", pod_spec, "tolerations", Schema::Unknown),
            (
                "batch/v1beta1",
                "CronJob",
                &["spec", "jobTemplate", "spec", "template", "spec"],
                "volumes",
                volumes,
            ),
            ("v1", "ConfigMap", &["metadata"], "finalizers", set),
            ("v1", "Service", &["spec"], "ports", service_ports),
            (
                "autoscaling/v2",
                "HorizontalPodAutoscaler",
                &["metadata"],
                "finalizers",
                Schema::Unknown,
            ),
            ("v1", "Widget", &["metadata"], "finalizers", Schema::Unknown),
            ("example.com/v1", "Widget", &["metadata"], "finalizers", Schema::Unknown),
        ];
        for (api_version, kind, path, field, want) in cases {
            let root = Schema::root(&Gvk::from_api_version(api_version, kind));
            let got = path.iter().fold(root, |s, f| s.field(f)).field(field);
            assert_eq!(got, *want, "{api_version} {kind} {path:?} {field}");
        }
        let pod = Schema::root(&Gvk::from_api_version("v1", "Pod"));
        let container = pod.field("spec").field("containers").elements();
        let ports = MergeList { keys: &["containerPort", "protocol"], elem: None };
        assert_eq!(container.field("ports"), ports);
    }
}
