//! Flux HelmRelease post-renderers against `kubectl kustomize`: each case in `tests/post-render/` is a HelmRelease with one `postRenderers[].kustomize`.
//!
//! The helm-controller turns the post-renderer into a kustomization over the
//! chart's output (`helm-output.yaml`) and builds it. Each case holds that
//! kustomization written out (`kustomization.yaml`) and what `kubectl
//! kustomize` printed for it (`expected.yaml`, recorded by
//! `tests/post-render/record.sh`). The test checks that kiln generates the
//! same kustomization and that its build equals the recording, compared as
//! YAML data document by document; when `kubectl` is on PATH it is run again.

mod support;

use renderer::layout::post_render;
use renderer::{Value, yaml};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A kustomization with its inline patch texts parsed, so that two
/// spellings of one patch compare equal (the helm-controller writes them as
/// JSON).
fn normalize(k: &Value) -> Value {
    let mut k = k.clone();
    let parse = |v: &mut Value| {
        if let Value::String(text) = v {
            *v = yaml::parse_documents(text, "patch").unwrap().remove(0);
        }
    };
    for field in ["patches", "patchesJson6902"] {
        if let Some(Value::Seq(items)) = k.get_path_mut(&[field]) {
            for item in items {
                if let Some(p) = item.get_path_mut(&["patch"]) {
                    parse(p);
                }
            }
        }
    }
    if let Some(Value::Seq(items)) = k.get_path_mut(&["patchesStrategicMerge"]) {
        items.iter_mut().for_each(parse);
    }
    k
}

fn read(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    yaml::parse_documents(&text, &path.to_string_lossy())
        .unwrap()
        .into_iter()
        .filter(|d| !d.is_null())
        .collect()
}

/// `kubectl kustomize` over the case's kustomization, when kubectl is here.
fn live(dir: &Path, root: &Path) -> Option<Vec<Value>> {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::copy(root.join("helm-output.yaml"), tmp.path().join("helm-output.yaml")).unwrap();
    std::fs::copy(dir.join("kustomization.yaml"), tmp.path().join("kustomization.yaml")).unwrap();
    let out = Command::new("kubectl").arg("kustomize").arg(tmp.path()).output().ok()?;
    assert!(out.status.success(), "{}: {}", dir.display(), String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    Some(yaml::parse_documents(&text, "kubectl").unwrap())
}

#[test]
fn post_renderers_build_like_kubectl_kustomize() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/post-render");
    let input = read(&root.join("helm-output.yaml"));
    let cases = support::case_dirs(&root, 4);
    let mut live_runs = 0;
    for dir in &cases {
        let release = read(&dir.join("helmrelease.yaml")).remove(0);
        let spec = release.get_path(&["spec", "postRenderers"]).and_then(|r| match r {
            Value::Seq(items) => items.first()?.get_path(&["kustomize"]).cloned(),
            _ => None,
        });
        let generated = post_render::kustomization(&spec.unwrap()).unwrap();
        let written = read(&dir.join("kustomization.yaml")).remove(0);
        assert_eq!(
            yaml::to_string(&normalize(&generated)),
            yaml::to_string(&normalize(&written)),
            "{}: kiln's kustomization differs from the helm-controller's",
            dir.display()
        );
        let got = post_render::kustomize(&release, input.clone()).unwrap();
        let want = read(&dir.join("expected.yaml"));
        assert_eq!(yaml::to_stream(got.iter()), yaml::to_stream(want.iter()), "{}", dir.display());
        support::check_live(live(dir, &root), &want, dir, &mut live_runs);
    }
    eprintln!("{} post-render cases, {live_runs} re-run with kubectl", cases.len());
}
