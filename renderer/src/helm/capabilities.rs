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

/// A `--kube-version` as Helm 4 reads it (`common.ParseKubeVersion`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KubeVersion {
    /// As given, with a `v` in front (`v1.30.2-eks-1234`). `helm template`
    /// also keeps the numbers alone (`v1.30.2`) for `String()` and the
    /// `kubeVersion` check; the library's install, which the oracle runs,
    /// leaves that empty and uses this, and so does kiln.
    pub version: String,
    /// The first component.
    pub major: String,
    /// The second component.
    pub minor: String,
}

/// Parses a `--kube-version` (`1.31`, `v1.31.0`, `v1.30.2-eks-1234`) as
/// Helm 4 does, with Kubernetes' generic version parser: optional spaces
/// and `v`, two or more dot-separated numbers (the first without a leading
/// zero), then anything. The error is that parser's.
pub fn parse_kube_version(v: &str) -> Result<KubeVersion, String> {
    let trimmed = v.trim_start();
    let bare = trimmed.strip_prefix('v').unwrap_or(trimmed);
    let digits = |s: &str| s.bytes().take_while(u8::is_ascii_digit).count();
    let mut end = digits(bare);
    if end == 0 {
        return Err(format!("could not parse {} as version", go_quote(v)));
    }
    // Further `.N` components, as long as a number follows the dot.
    while bare[end..].starts_with('.') && digits(&bare[end + 1..]) > 0 {
        end += 1 + digits(&bare[end + 1..]);
    }
    let components: Vec<&str> = bare[..end].split('.').collect();
    if components.len() < 2 {
        return Err(format!("illegal version string {}", go_quote(v)));
    }
    let mut numbers = Vec::new();
    for (i, c) in components.iter().enumerate() {
        if i == 0 && c.starts_with('0') && *c != "0" {
            return Err(format!(
                "illegal zero-prefixed version component {} in {}",
                go_quote(c),
                go_quote(v)
            ));
        }
        let n: u64 = c.parse().map_err(|_| {
            format!(
                "illegal non-numeric version component {} in {}: strconv.ParseUint: parsing {}: value out of range",
                go_quote(c),
                go_quote(v),
                go_quote(c)
            )
        })?;
        numbers.push(n.to_string());
    }
    let version = if v.starts_with('v') { v.to_string() } else { format!("v{v}") };
    Ok(KubeVersion { version, major: numbers[0].clone(), minor: numbers[1].clone() })
}

fn go_quote(s: &str) -> String {
    crate::gotmpl::fmt::quote(s)
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
pub fn capabilities(kube_version: &KubeVersion, extra_api_versions: &[String]) -> Value {
    let KubeVersion { version, major, minor } = kube_version.clone();
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
        // The unexported field the library leaves empty shows in `%v` of a
        // copy (`{v1.31.0  1 31}`), not in its JSON.
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
    // `helm template` appends the extra versions as given (helm/helm
    // `pkg/action/install.go`); `g/v/Kind` does not bring `g/v` with it, and
    // `Has` is an exact match.
    apis.extend(extra_api_versions.iter().cloned());
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
    plain_struct(
        "*common.Capabilities",
        vec![
            ("KubeVersion", kube),
            ("APIVersions", api),
            ("HelmVersion", Value::Struct(Arc::new(helm))),
        ],
    )
}

#[cfg(test)]
mod tests {
    use super::parse_kube_version;

    /// Helm 4's `ParseKubeVersion` over Kubernetes' generic parser (the
    /// oracle reads the version from a fake API server instead, so these
    /// come from Helm's and apimachinery's sources).
    #[test]
    fn kube_versions_parse_as_helm_reads_them() {
        let ok = [
            ("1.30", "v1.30", "1", "30"),
            ("v1.30.2-eks-1234", "v1.30.2-eks-1234", "1", "30"),
            ("v1.29.3+k3s1", "v1.29.3+k3s1", "1", "29"),
            ("1.30.0.1", "v1.30.0.1", "1", "30"),
            ("1.030", "v1.030", "1", "30"),
            ("1.30.x", "v1.30.x", "1", "30"),
        ];
        for (input, version, major, minor) in ok {
            let kv = parse_kube_version(input).unwrap_or_else(|e| panic!("{input}: {e}"));
            assert_eq!(
                (kv.version.as_str(), kv.major.as_str(), kv.minor.as_str()),
                (version, major, minor),
                "{input}"
            );
        }
        let bad = [
            ("1", "illegal version string \"1\""),
            ("x.y", "could not parse \"x.y\" as version"),
            ("-1.2", "could not parse \"-1.2\" as version"),
            ("01.30", "illegal zero-prefixed version component \"01\" in \"01.30\""),
            ("", "could not parse \"\" as version"),
        ];
        for (input, want) in bad {
            assert_eq!(parse_kube_version(input), Err(want.to_string()), "{input}");
        }
    }
}
