//! The `.Capabilities` object: Kubernetes version, API versions and Helm version, with Helm's defaults.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::gotmpl::{Elem, Function, List, Param, Struct, Value};

/// The group/versions `helm template` reports without a cluster (Helm's `DefaultVersionSet`).
pub const DEFAULT_API_VERSIONS: &[&str] = &[
    "v1",
    "admissionregistration.k8s.io/v1",
    "admissionregistration.k8s.io/v1alpha1",
    "admissionregistration.k8s.io/v1beta1",
    "internal.apiserver.k8s.io/v1alpha1",
    "apps/v1",
    "apps/v1beta1",
    "apps/v1beta2",
    "authentication.k8s.io/v1",
    "authentication.k8s.io/v1alpha1",
    "authentication.k8s.io/v1beta1",
    "authorization.k8s.io/v1",
    "authorization.k8s.io/v1beta1",
    "autoscaling/v1",
    "autoscaling/v2",
    "batch/v1",
    "batch/v1beta1",
    "certificates.k8s.io/v1",
    "certificates.k8s.io/v1beta1",
    "certificates.k8s.io/v1alpha1",
    "coordination.k8s.io/v1alpha2",
    "coordination.k8s.io/v1beta1",
    "coordination.k8s.io/v1",
    "discovery.k8s.io/v1",
    "discovery.k8s.io/v1beta1",
    "events.k8s.io/v1",
    "events.k8s.io/v1beta1",
    "extensions/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1",
    "flowcontrol.apiserver.k8s.io/v1beta1",
    "flowcontrol.apiserver.k8s.io/v1beta2",
    "flowcontrol.apiserver.k8s.io/v1beta3",
    "lifecycle.k8s.io/v1alpha1",
    "networking.k8s.io/v1",
    "networking.k8s.io/v1beta1",
    "node.k8s.io/v1",
    "node.k8s.io/v1alpha1",
    "node.k8s.io/v1beta1",
    "policy/v1",
    "policy/v1beta1",
    "rbac.authorization.k8s.io/v1",
    "rbac.authorization.k8s.io/v1beta1",
    "rbac.authorization.k8s.io/v1alpha1",
    "resource.k8s.io/v1",
    "resource.k8s.io/v1beta2",
    "resource.k8s.io/v1beta1",
    "resource.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1alpha3",
    "scheduling.k8s.io/v1beta1",
    "scheduling.k8s.io/v1",
    "storage.k8s.io/v1beta1",
    "storage.k8s.io/v1",
    "storage.k8s.io/v1alpha1",
    "storagemigration.k8s.io/v1",
    "storagemigration.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1beta1",
    "apiextensions.k8s.io/v1",
];

/// The Kubernetes version `helm template` reports without `--kube-version`.
pub const DEFAULT_KUBE_VERSION: &str = "v1.37.0";

/// Helm's version as the library reports it.
pub const HELM_VERSION: &str = "v4.3";

/// Parses a `--kube-version` (`1.31`, `v1.31.0`) into (version, major, minor), as Helm's `ParseKubeVersion`.
pub fn parse_kube_version(v: &str) -> Option<(String, String, String)> {
    let bare = v.strip_prefix('v').unwrap_or(v);
    let core = bare.split(['-', '+']).next().unwrap_or(bare);
    let mut parts = core.split('.');
    let major = parts.next()?.parse::<u64>().ok()?;
    let minor = parts.next().map(|m| m.parse::<u64>()).transpose().ok()?.unwrap_or(0);
    let patch = parts.next().map(|p| p.parse::<u64>()).transpose().ok()?.unwrap_or(0);
    if parts.next().is_some() {
        return None;
    }
    let _ = patch;
    Some((format!("v{bare}"), major.to_string(), minor.to_string()))
}

/// A struct value with fields and no methods.
pub fn plain_struct(type_name: &str, fields: Vec<(&str, Value)>) -> Value {
    Value::Struct(Arc::new(Struct {
        type_name: type_name.into(),
        fields: fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
        ..Struct::default()
    }))
}

/// The `.Capabilities` value for a kube version and extra API versions.
pub fn capabilities(kube_version: &str, extra_api_versions: &[String]) -> Option<Value> {
    let (version, major, minor) = parse_kube_version(kube_version)?;
    let kube_string = version.clone();
    let mut kv_methods = BTreeMap::new();
    let v = version.clone();
    kv_methods.insert("String".to_string(), Function::new(move |_, _| Ok(Value::from(v.clone()))));
    // GitVersion is a method in Helm 4, so `toJson` shows only the three fields.
    let v = version.clone();
    kv_methods
        .insert("GitVersion".to_string(), Function::new(move |_, _| Ok(Value::from(v.clone()))));
    let kube = Value::Struct(Arc::new(Struct {
        type_name: "common.KubeVersion".into(),
        // The unexported field Helm 4 leaves empty shows in `%v` of a copy
        // (`{v1.31.0  1 31}`), not in its JSON.
        fields: vec![
            ("Version".into(), Value::from(version.clone())),
            ("normalizedVersion".into(), Value::from("")),
            ("Major".into(), Value::from(major.clone())),
            ("Minor".into(), Value::from(minor.clone())),
        ],
        methods: kv_methods,
        string: Some(kube_string),
        pointer_string: true,
        ..Struct::default()
    }));
    let mut apis: Vec<String> = DEFAULT_API_VERSIONS.iter().map(|s| s.to_string()).collect();
    for a in extra_api_versions {
        // A listed kind implies its group/version.
        if a.matches('/').count() == 2
            && let Some((gv, _)) = a.rsplit_once('/')
            && !apis.iter().any(|x| x == gv)
        {
            apis.push(gv.to_string());
        }
        apis.push(a.clone());
    }
    let set = Arc::new(apis);
    let mut methods = BTreeMap::new();
    let s = set.clone();
    methods.insert(
        "Has".to_string(),
        Function::new(move |_, a| {
            Ok(Value::Bool(s.iter().any(|x| Some(x.as_str()) == a[0].as_str())))
        })
        .params(&[Param::String], None),
    );
    // A `[]string`: `len`, `range` and `index` see the versions.
    let items = List::typed(Elem::String, set.iter().map(|v| Value::from(v.as_str())).collect());
    let api = Value::Struct(Arc::new(Struct {
        type_name: "common.VersionSet".into(),
        methods,
        native: Some(Arc::new(items)),
        ..Struct::default()
    }));
    // Helm's `version.BuildInfo`; the Go and client-go versions are those of
    // the Helm build the oracle runs (see HELM_VERSION).
    let helm = Struct {
        type_name: "version.BuildInfo".into(),
        fields: [
            ("Version", HELM_VERSION),
            ("GitCommit", ""),
            ("GitTreeState", ""),
            ("GoVersion", "go1.27.2"),
            ("KubeClientVersion", "v1.37"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), Value::from(v)))
        .collect(),
        json_tags: vec![
            "version",
            "git_commit,omitempty",
            "git_tree_state,omitempty",
            "go_version",
            "kube_client_version",
        ],
        ..Struct::default()
    };
    // In the order of Helm's struct, which `toJson` and `%v` follow.
    Some(plain_struct(
        "*common.Capabilities",
        vec![
            ("KubeVersion", kube),
            ("APIVersions", api),
            ("HelmVersion", Value::Struct(Arc::new(helm))),
        ],
    ))
}
