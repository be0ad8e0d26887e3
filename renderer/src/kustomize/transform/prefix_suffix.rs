//! `namePrefix:` and `nameSuffix:`.

use crate::resource::Resource;

/// Adds a prefix and a suffix to every name, except the kinds kustomize
/// leaves alone: CustomResourceDefinitions, APIServices and Namespaces, whose
/// names are fixed by the API.
pub fn apply(resources: &mut [Resource], prefix: &str, suffix: &str) {
    if prefix.is_empty() && suffix.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        let gvk = r.gvk();
        let skip = matches!(
            (gvk.group.as_str(), gvk.kind.as_str()),
            (_, "CustomResourceDefinition")
                | ("apiregistration.k8s.io", "APIService")
                | ("", "Namespace")
        );
        if skip {
            continue;
        }
        let name = format!("{prefix}{}{suffix}", r.name());
        r.set_name(name);
    }
}
