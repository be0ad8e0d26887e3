//! kustomize's output order.

use crate::resource::Resource;

/// Kinds kustomize's legacy order puts first, in this order.
const ORDER_FIRST: &[&str] = &[
    "Namespace",
    "ResourceQuota",
    "StorageClass",
    "CustomResourceDefinition",
    "ServiceAccount",
    "PodSecurityPolicy",
    "Role",
    "ClusterRole",
    "RoleBinding",
    "ClusterRoleBinding",
    "ConfigMap",
    "Secret",
    "Endpoints",
    "Service",
    "LimitRange",
    "PriorityClass",
    "PersistentVolume",
    "PersistentVolumeClaim",
    "Deployment",
    "StatefulSet",
    "CronJob",
    "PodDisruptionBudget",
];

/// Kinds it puts last.
const ORDER_LAST: &[&str] = &["MutatingWebhookConfiguration", "ValidatingWebhookConfiguration"];

fn rank<S: AsRef<str>>(kind: &str, first: &[S], last: &[S]) -> i64 {
    if let Some(i) = first.iter().position(|k| k.as_ref() == kind) {
        return i as i64 - first.len() as i64;
    }
    if let Some(i) = last.iter().position(|k| k.as_ref() == kind) {
        return i as i64 + 1;
    }
    0
}

/// Sorts by kind rank, then by `group_version_kind`, then by namespace and name.
pub fn legacy_sort(resources: &mut [Resource]) {
    legacy_sort_with(resources, ORDER_FIRST, ORDER_LAST);
}

/// [`legacy_sort`] with the kinds to put first and last given.
pub fn legacy_sort_with<S: AsRef<str>>(resources: &mut [Resource], first: &[S], last: &[S]) {
    resources.sort_by_cached_key(|r| {
        let id = r.id();
        (rank(&id.gvk.kind, first, last), id.gvk.kustomize_string(), id.to_string())
    });
}
