//! Flux v2 HelmRelease post-renderers: `spec.postRenderers[].kustomize` run as a kustomize build over the chart's manifests, then `spec.commonMetadata` and the helm-controller's origin labels.
//!
//! The helm-controller writes the chart's rendered manifests to
//! `helm-output.yaml`, generates a kustomization whose only resource is that
//! file and which carries the post-renderer's `patches` (each with its
//! optional `target`), `patchesStrategicMerge`, `patchesJson6902` (v2beta1,
//! v2beta2) and `images`, builds it with `LoadRestrictionsNone`, and feeds
//! the result to the next post-renderer. kiln does the same with its own
//! kustomize engine. CRDs from `crds/` and hooks are not post-rendered, as
//! Helm post-renders only the release manifest.

use super::chain;
use crate::kustomize::{self, LoadRestrictor};
use crate::tree::MemTree;
use crate::value::{Map, Value};
use crate::yaml;

/// The directory of the in-memory build.
const DIR: &str = "post-render";

/// The kustomization a `kustomize` post-renderer amounts to.
pub fn kustomization(spec: &Value) -> Result<Value, String> {
    let mut k = Map::new();
    k.insert("apiVersion".into(), "kustomize.config.k8s.io/v1beta1".into());
    k.insert("kind".into(), "Kustomization".into());
    k.insert("resources".into(), Value::Seq(vec!["helm-output.yaml".into()]));
    let seq = |field: &str| -> Result<&[Value], String> {
        match spec.get_path(&[field]) {
            None | Some(Value::Null) => Ok(&[]),
            Some(Value::Seq(items)) => Ok(items),
            Some(other) => Err(format!("{field}: expected a list, found a {}", other.type_name())),
        }
    };
    let mut images = Vec::new();
    for image in seq("images")? {
        let mut m = Map::new();
        for f in ["name", "newName", "newTag", "digest"] {
            if let Some(v @ Value::String(s)) = image.get_path(&[f]) {
                if !s.is_empty() {
                    m.insert(f.into(), v.clone());
                }
            }
        }
        images.push(Value::Map(m));
    }
    let target = |item: &Value| -> Option<Value> {
        let t = item.get_path(&["target"])?;
        let mut m = Map::new();
        for f in
            ["group", "version", "kind", "name", "namespace", "labelSelector", "annotationSelector"]
        {
            if let Some(v @ Value::String(s)) = t.get_path(&[f]) {
                if !s.is_empty() {
                    m.insert(f.into(), v.clone());
                }
            }
        }
        Some(Value::Map(m))
    };
    let mut patches = Vec::new();
    for p in seq("patches")? {
        let mut m = Map::new();
        let text = p.get_path(&["patch"]).and_then(Value::as_str).unwrap_or("");
        m.insert("patch".into(), Value::String(text.to_string()));
        if let Some(t) = target(p) {
            m.insert("target".into(), t);
        }
        patches.push(Value::Map(m));
    }
    let mut json6902 = Vec::new();
    for p in seq("patchesJson6902")? {
        let mut m = Map::new();
        if let Some(t) = target(p) {
            m.insert("target".into(), t);
        }
        let ops = p.get_path(&["patch"]).cloned().unwrap_or(Value::Seq(Vec::new()));
        m.insert("patch".into(), Value::String(yaml::to_string(&ops)));
        json6902.push(Value::Map(m));
    }
    let smp: Vec<Value> =
        seq("patchesStrategicMerge")?.iter().map(|o| Value::String(yaml::to_string(o))).collect();
    for (field, items) in [
        ("images", images),
        ("patches", patches),
        ("patchesStrategicMerge", smp),
        ("patchesJson6902", json6902),
    ] {
        if !items.is_empty() {
            k.insert(field.into(), Value::Seq(items));
        }
    }
    Ok(Value::Map(k))
}

/// Runs every `kustomize` post-renderer of `release` over `manifests`, in order.
pub fn kustomize(release: &Value, manifests: Vec<Value>) -> Result<Vec<Value>, String> {
    let mut objects = manifests;
    let Some(Value::Seq(renderers)) = release.get_path(&["spec", "postRenderers"]) else {
        return Ok(objects);
    };
    for (i, r) in renderers.iter().enumerate() {
        let Some(spec) = r.get_path(&["kustomize"]) else { continue };
        let k = kustomization(spec).map_err(|e| format!("[{i}].kustomize.{e}"))?;
        objects = build(&k, &objects).map_err(|e| format!("[{i}].kustomize: {}", chain(&e)))?;
    }
    Ok(objects)
}

/// Builds `kustomization` over `objects` as its `helm-output.yaml`.
pub fn build(kustomization: &Value, objects: &[Value]) -> Result<Vec<Value>, kustomize::Error> {
    let mut t = MemTree::new();
    t.insert(&format!("{DIR}/helm-output.yaml"), yaml::to_stream(objects.iter()));
    t.insert(&format!("{DIR}/kustomization.yaml"), yaml::to_string(kustomization));
    let options =
        kustomize::Options { load_restrictor: LoadRestrictor::None, ..Default::default() };
    Ok(kustomize::build(&t, DIR, &options)?.into_iter().map(|r| r.value).collect())
}

/// Sets `pairs` in `metadata.<field>` of every object, as kustomize's label
/// and annotation transformers do with the one field spec
/// `metadata/<field>`: a missing map (or one that is null or no map) is
/// made, existing keys are replaced. The kustomize-controller's
/// `commonMetadata` uses it too.
pub(crate) fn set_metadata<'a>(
    objects: impl IntoIterator<Item = &'a mut Value>,
    field: &str,
    pairs: &Map,
) {
    if pairs.is_empty() {
        return;
    }
    for o in objects {
        let Some(Value::Map(md)) = o.get_path_mut(&["metadata"]) else { continue };
        let map = md.entry(field.to_string()).or_insert_with(|| Value::Map(Map::new()));
        if !matches!(map, Value::Map(_)) {
            *map = Value::Map(Map::new());
        }
        if let Value::Map(m) = map {
            for (k, v) in pairs {
                m.insert(k.clone(), v.clone());
            }
        }
    }
}

/// The helm-controller labels every post-rendered object with the release
/// that made it: `helm.toolkit.fluxcd.io/name` and `.../namespace` in
/// `metadata.labels`.
pub fn origin_labels(name: &str, namespace: &str, objects: &mut [Value]) {
    let mut labels = Map::new();
    labels.insert("helm.toolkit.fluxcd.io/name".into(), name.into());
    labels.insert("helm.toolkit.fluxcd.io/namespace".into(), namespace.into());
    set_metadata(objects, "labels", &labels);
}

/// A HelmRelease's `spec.commonMetadata` (helm-controller's common
/// post-renderer): its labels and annotations on every post-rendered
/// object's metadata, after the kustomize post-renderers and before the
/// origin labels, which therefore win.
pub fn common_metadata(release: &Value, objects: &mut [Value]) {
    for field in ["labels", "annotations"] {
        if let Some(Value::Map(pairs)) = release.get_path(&["spec", "commonMetadata", field]) {
            set_metadata(objects.iter_mut(), field, pairs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(text: &str) -> Vec<Value> {
        yaml::parse_documents(text, "t").unwrap()
    }

    const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\ndata:\n  k: v\n";

    #[test]
    fn runs_renderers_in_order_then_labels_the_origin() {
        let hr = |renderers: &str| {
            docs(&format!("apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: r, namespace: ns}}\nspec:\n  postRenderers:\n{renderers}")).remove(0)
        };
        let add = |path: &str, value: &str| {
            format!(
                "  - kustomize:\n      patches:\n      - target: {{kind: ConfigMap}}\n        patch: '[{{\"op\": \"add\", \"path\": \"{path}\", \"value\": \"{value}\"}}]'\n"
            )
        };
        let cases: Vec<(String, Result<&str, &str>)> = vec![
            // The second renderer sees what the first one made.
            (
                format!(
                    "{}{}",
                    add("/data/one", "1"),
                    "  - kustomize:\n      patches:\n      - target: {kind: ConfigMap}\n        patch: '[{\"op\": \"copy\", \"from\": \"/data/one\", \"path\": \"/data/two\"}]'\n"
                ),
                Ok("k: v\none: \"1\"\ntwo: \"1\"\n"),
            ),
            // Renderers other than kustomize are passed over.
            ("  - {}\n".to_string(), Ok("k: v\n")),
            (
                "  - kustomize:\n      patches: {}\n".to_string(),
                Err("[0].kustomize.patches: expected a list, found a map"),
            ),
            // The patch's own error is told, not only where it failed.
            (
                add("/nope/x", "1"),
                Err(
                    "[0].kustomize: post-render/kustomization.yaml: patch on ConfigMap.v1.[noGrp]/a.[noNs]: add operation does not apply: doc is missing path: \"/nope/x\": missing value",
                ),
            ),
        ];
        for (renderers, want) in &cases {
            let got = kustomize(&hr(renderers), docs(CM));
            match (got, want) {
                (Ok(objects), Ok(want)) => {
                    assert_eq!(
                        yaml::to_string(objects[0].get_path(&["data"]).unwrap()),
                        *want,
                        "{renderers}"
                    )
                }
                (Err(e), Err(want)) => assert!(e.contains(want), "{renderers}: {e}"),
                (got, want) => panic!("{renderers}: got {got:?}, want {want:?}"),
            }
        }
        // A chart without manifests is still built, as Helm always runs
        // the post-renderer: a targeted patch matches nothing.
        let none = kustomize(&hr(&add("/data/one", "1")), Vec::new()).unwrap();
        assert!(none.is_empty());
        let mut objects = docs(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels:\n    keep: me\n",
        );
        let release = docs(
            "spec:\n  commonMetadata:\n    labels:\n      keep: common\n      helm.toolkit.fluxcd.io/name: mine\n    annotations:\n      team: a\n",
        )
        .remove(0);
        common_metadata(&release, &mut objects);
        origin_labels("r", "ns", &mut objects);
        let labels: Vec<String> = objects
            .iter()
            .map(|o| yaml::to_string(o.get_path(&["metadata", "labels"]).unwrap()))
            .collect();
        assert_eq!(
            labels,
            [
                "helm.toolkit.fluxcd.io/name: r\nhelm.toolkit.fluxcd.io/namespace: ns\nkeep: common\n",
                "helm.toolkit.fluxcd.io/name: r\nhelm.toolkit.fluxcd.io/namespace: ns\nkeep: common\n"
            ]
        );
        assert!(objects.iter().all(|o| o.get_path(&["metadata", "annotations", "team"])
            == Some(&Value::String("a".into()))));
    }
}
