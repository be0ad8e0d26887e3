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

/// kustomize fills one map from `first`, then from `last`: a kind listed
/// twice takes its last place, and one in both lists its place in `last`.
fn rank<S: AsRef<str>>(kind: &str, first: &[S], last: &[S]) -> i64 {
    if let Some(i) = last.iter().rposition(|k| k.as_ref() == kind) {
        return i as i64 + 1;
    }
    if let Some(i) = first.iter().rposition(|k| k.as_ref() == kind) {
        return i as i64 - first.len() as i64;
    }
    0
}

/// The place of a kind in kustomize's legacy order: negative for the kinds
/// it puts first, positive for those it puts last, 0 for the others.
pub(crate) fn kind_rank(kind: &str) -> i64 {
    rank(kind, ORDER_FIRST, ORDER_LAST)
}

/// Sorts by kind rank, then by `group_version_kind`, then by namespace and name.
pub fn legacy_sort(resources: &mut [Resource]) {
    legacy_sort_with(resources, ORDER_FIRST, ORDER_LAST);
}

/// [`legacy_sort`] with the kinds to put first and last given.
pub fn legacy_sort_with<S: AsRef<str>>(resources: &mut [Resource], first: &[S], last: &[S]) {
    struct Key {
        rank: i64,
        kind_is_namespace: bool,
        core_group: bool,
        gvk: String,
        id: String,
    }
    let keys: Vec<Key> = resources
        .iter()
        .map(|r| {
            let id = r.id();
            Key {
                rank: rank(&id.gvk.kind, first, last),
                kind_is_namespace: id.gvk.kind == "Namespace",
                core_group: id.gvk.group.is_empty(),
                gvk: id.gvk.kustomize_string(),
                id: id.to_string(),
            }
        })
        .collect();
    let mut order: Vec<usize> = (0..resources.len()).collect();
    order.sort_by(|&i, &j| {
        let (a, b) = (&keys[i], &keys[j]);
        a.rank.cmp(&b.rank).then_with(|| {
            // kustomize compares two Namespace kinds in reverse when one is the
            // core Namespace, which puts the core one first.
            let gvk =
                if a.kind_is_namespace && b.kind_is_namespace && (a.core_group || b.core_group) {
                    b.gvk.cmp(&a.gvk)
                } else {
                    a.gvk.cmp(&b.gvk)
                };
            gvk.then_with(|| a.id.cmp(&b.id))
        })
    });
    // Move the objects into that order in place: position i takes the object
    // first at order[i], following earlier swaps to where it went.
    for i in 0..order.len() {
        let mut j = order[i];
        while j < i {
            j = order[j];
        }
        resources.swap(i, j);
    }
}
