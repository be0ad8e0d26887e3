//! Flux Kustomization fields against `kubectl kustomize`: each case in `tests/flux-kustomization/` is a Flux Kustomization over a directory.
//!
//! Flux's kustomize-controller writes the Flux object's `targetNamespace`,
//! `namePrefix`, `nameSuffix`, `patches`, `images`, `components` and legacy
//! patches into the directory's kustomization (generating one when there is
//! none) and runs kustomize. Each case holds that kustomization written out
//! by hand from Flux's generator (`kustomization.yaml`) and what `kubectl
//! kustomize` printed for it (`expected.yaml`, recorded by
//! `tests/flux-kustomization/record.sh`). The test renders the case as a
//! repository with kiln and compares the unit's objects with the recording
//! as YAML data, document by document; when `kubectl` is on PATH the
//! recording is made again and compared too.

mod support;

use renderer::layout::manifests;
use renderer::{MemTree, Options, Value, render, yaml};
use std::path::{Path, PathBuf};
use std::process::Command;

const ROOT: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/c\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";

/// The files below `dir`, by their path relative to `base`.
fn files(base: &Path, dir: &Path, out: &mut Vec<(String, String)>) {
    let mut entries: Vec<PathBuf> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            files(base, &path, out);
        } else {
            let rel = path.strip_prefix(base).unwrap().to_string_lossy().into_owned();
            out.push((rel, std::fs::read_to_string(&path).unwrap()));
        }
    }
}

fn documents(text: &str, what: &str) -> Vec<Value> {
    yaml::parse_documents(text, what).unwrap().into_iter().filter(|d| !d.is_null()).collect()
}

/// `kubectl kustomize` over the case with Flux's kustomization, when kubectl is here.
fn live(case: &Path) -> Option<Vec<Value>> {
    let tmp = tempfile::tempdir().unwrap();
    let mut all = Vec::new();
    files(case, case, &mut all);
    for (rel, text) in &all {
        let to = tmp.path().join(rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::write(to, text).unwrap();
    }
    std::fs::copy(case.join("kustomization.yaml"), tmp.path().join("app/kustomization.yaml"))
        .unwrap();
    let out = Command::new("kubectl").arg("kustomize").arg(tmp.path().join("app")).output().ok()?;
    assert!(out.status.success(), "{}: {}", case.display(), String::from_utf8_lossy(&out.stderr));
    Some(documents(&String::from_utf8(out.stdout).unwrap(), "kubectl"))
}

#[test]
fn flux_kustomizations_build_like_kubectl_kustomize() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/flux-kustomization");
    let cases = support::case_dirs(&root, 5);
    let mut live_runs = 0;
    for case in &cases {
        let mut all = Vec::new();
        files(case, case, &mut all);
        let mut t = MemTree::new();
        t.insert("clusters/c/flux-system/gotk-sync.yaml", ROOT);
        t.insert("clusters/c/app.yaml", std::fs::read_to_string(case.join("ks.yaml")).unwrap());
        for (rel, text) in &all {
            if rel.contains('/') {
                t.insert(rel, text.as_str());
            }
        }
        let flux =
            documents(&std::fs::read_to_string(case.join("kustomization.yaml")).unwrap(), "k")
                .remove(0);
        // Where Flux generates the kustomization, kiln lists the same files.
        if !case.join("app/kustomization.yaml").exists() {
            let (_, k) = manifests::kustomization_for(&t, "app").unwrap();
            let strip = |v: &Value| match v {
                Value::String(s) => Value::String(s.trim_start_matches("./").to_string()),
                v => v.clone(),
            };
            let want: Vec<Value> = match flux.get_path(&["resources"]) {
                Some(Value::Seq(items)) => items.iter().map(strip).collect(),
                _ => Vec::new(),
            };
            assert_eq!(k.get_path(&["resources"]), Some(&Value::Seq(want)), "{}", case.display());
        }
        let rendered =
            render(&t, &Options::default()).unwrap_or_else(|e| panic!("{}: {e:?}", case.display()));
        let unit = rendered.clusters[0].units.iter().find(|u| u.name == "app").unwrap();
        let got: Vec<&Value> = unit.objects.iter().map(|r| &r.value).collect();
        let text = std::fs::read_to_string(case.join("expected.yaml")).unwrap();
        let want = documents(&text, "expected.yaml");
        assert_eq!(
            yaml::to_stream(got.iter().copied()),
            yaml::to_stream(want.iter()),
            "{}",
            case.display()
        );
        support::check_live(live(case), &want, case, &mut live_runs);
    }
    eprintln!("{} flux-kustomization cases, {live_runs} re-run with kubectl", cases.len());
}
