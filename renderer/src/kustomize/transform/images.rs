//! `images:`: rewrites container images by name.

use crate::kustomize::fieldspec;
use crate::kustomize::kustomization::{Image, UserFieldSpec};
use crate::resource::Resource;
use crate::value::Value;

/// An image reference split into name, tag and digest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRef<'a> {
    /// Everything before the tag and digest.
    pub name: &'a str,
    /// The tag, without `:`.
    pub tag: Option<&'a str>,
    /// The digest, without `@`.
    pub digest: Option<&'a str>,
}

/// Splits `registry/repo:tag@digest`.
pub fn split(image: &str) -> ImageRef<'_> {
    let (rest, digest) = match image.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (image, None),
    };
    let slash = rest.rfind('/').map_or(0, |i| i + 1);
    match rest[slash..].rfind(':') {
        Some(i) => ImageRef { name: &rest[..slash + i], tag: Some(&rest[slash + i + 1..]), digest },
        None => ImageRef { name: rest, tag: None, digest },
    }
}

/// The new reference for `image` under `rule`, or `None` when the rule does
/// not name this image.
pub fn rewrite(image: &str, rule: &Image) -> Option<String> {
    let r = split(image);
    if r.name != rule.name {
        return None;
    }
    let name = rule.new_name.as_deref().unwrap_or(r.name);
    let mut out = name.to_string();
    match (&rule.new_tag, &rule.digest) {
        (Some(tag), Some(d)) => out.push_str(&format!(":{tag}@{d}")),
        (None, Some(d)) => out.push_str(&format!("@{d}")),
        (Some(tag), None) => out.push_str(&format!(":{tag}")),
        (None, None) => {
            if let Some(t) = r.tag {
                out.push_str(&format!(":{t}"));
            }
            if let Some(d) = r.digest {
                out.push_str(&format!("@{d}"));
            }
        }
    }
    Some(out)
}

/// Applies every rule to every `image` of every entry of a `containers` or
/// `initContainers` list, at any depth of every object, as kustomize does.
pub fn apply(resources: &mut [Resource], rules: &[Image]) {
    if rules.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        visit(&mut r.value, rules);
    }
}

/// Applies the rules at image fields named by configurations.
pub fn apply_fields(resources: &mut [Resource], rules: &[Image], specs: &[UserFieldSpec]) {
    if rules.is_empty() || specs.is_empty() {
        return;
    }
    for r in resources.iter_mut() {
        let gvk = r.gvk();
        for spec in specs.iter().filter(|s| s.matches(&gvk)) {
            fieldspec::visit_mut(&mut r.value, &spec.path, false, &mut |slot| {
                if let Value::String(img) = slot {
                    if let Some(new) = rules.iter().find_map(|rule| rewrite(img, rule)) {
                        *img = new;
                    }
                }
            });
        }
    }
}

fn visit(v: &mut Value, rules: &[Image]) {
    match v {
        Value::Map(m) => {
            for (k, child) in m.iter_mut() {
                if k == "containers" || k == "initContainers" {
                    if let Value::Seq(items) = child {
                        for c in items.iter_mut() {
                            if let Some(Value::String(img)) = c.get_path_mut(&["image"]) {
                                if let Some(new) = rules.iter().find_map(|rule| rewrite(img, rule))
                                {
                                    *img = new;
                                }
                            }
                        }
                    }
                }
                visit(child, rules);
            }
        }
        Value::Seq(items) => items.iter_mut().for_each(|i| visit(i, rules)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_references() {
        let cases = [
            ("nginx", ("nginx", None, None)),
            ("nginx:1.0", ("nginx", Some("1.0"), None)),
            ("localhost:5000/app:v1", ("localhost:5000/app", Some("v1"), None)),
            ("localhost:5000/app", ("localhost:5000/app", None, None)),
            ("app@sha256:abc", ("app", None, Some("sha256:abc"))),
            ("app:1@sha256:abc", ("app", Some("1"), Some("sha256:abc"))),
        ];
        for (input, (name, tag, digest)) in cases {
            assert_eq!(split(input), ImageRef { name, tag, digest }, "{input}");
        }
    }

    #[test]
    fn rewrites_like_kustomize() {
        let rule = |t: Option<&str>, d: Option<&str>| Image {
            name: "nginx".into(),
            new_name: None,
            new_tag: t.map(Into::into),
            digest: d.map(Into::into),
        };
        // Recorded from kubectl kustomize v5.5: tag and digest together give `name:tag@digest`.
        assert_eq!(
            rewrite("nginx:1.0@sha256:abc", &rule(Some("9"), Some("sha256:fff"))).unwrap(),
            "nginx:9@sha256:fff"
        );
        assert_eq!(rewrite("nginx", &rule(Some("9"), None)).unwrap(), "nginx:9");
        assert_eq!(rewrite("docker.io/nginx", &rule(Some("9"), None)), None);
    }
}
