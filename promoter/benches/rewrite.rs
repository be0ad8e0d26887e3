//! Times rewriting the tag in 10,000 YAML files with one image each (goal: under 1 s).

use std::hint::black_box;
use std::time::Instant;

use promoter::rewrite::set_tag;

const FILES: usize = 10_000;
const IMAGE: &str = "ghcr.io/acme/user-roles";
const TAG: &str = "v1.2.3.2026-11-22t120000000Z.9eabf5b536662000f79978c4d1b6e4eff5c8d785";

/// A realistic file of the given variant: a Deployment, a kustomization or a HelmRelease.
fn file(n: usize) -> String {
    let old = format!("v1.0.{n}.2022-01-15t161730814Z.9eabf5b");
    match n % 3 {
        0 => format!(
            "# Deployment {n}\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{n}\n  labels:\n    app: app-{n}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: app-{n}\n  template:\n    metadata:\n      labels:\n        app: app-{n}\n    spec:\n      containers:\n      - name: app\n        image: {IMAGE}:{old} # {{\"$imagepolicy\": \"flux-system:user-roles\"}}\n        ports:\n        - containerPort: 8080\n        env:\n        - name: MODE\n          value: \"production\"\n"
        ),
        1 => format!(
            "apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nnamespace: team-{n}\nresources:\n- ../../base\npatches:\n- path: replicas.yaml\nimages:\n- name: user-roles\n  newName: {IMAGE}\n  newTag: '{old}'\n"
        ),
        _ => format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\r\nkind: HelmRelease\r\nmetadata:\r\n  name: release-{n}\r\nspec:\r\n  interval: 5m\r\n  chart:\r\n    spec:\r\n      chart: user-roles\r\n  values:\r\n    image:\r\n      repository: {IMAGE}\r\n      tag: \"{old}\"\r\n    resources: {{limits: {{cpu: 100m}}}}\r\n"
        ),
    }
}

fn main() {
    let files: Vec<String> = (0..FILES).map(file).collect();
    let bytes: usize = files.iter().map(String::len).sum();
    let mut best = f64::INFINITY;
    for _ in 0..3 {
        let start = Instant::now();
        let mut changed = 0;
        for text in &files {
            match set_tag(black_box(text), IMAGE, TAG) {
                Ok(Some(out)) if out != *text => changed += 1,
                other => panic!("file not rewritten: {other:?}"),
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        assert_eq!(changed, FILES);
        best = best.min(seconds);
    }
    // The floor: parsing alone, with the same YAML crate.
    let start = Instant::now();
    for text in &files {
        black_box(<saphyr::MarkedYaml as saphyr::LoadableYamlNode>::load_from_str(text).ok());
    }
    let parse = start.elapsed().as_secs_f64();
    println!(
        "rewrite: {FILES} files ({:.1} MB), one image each: best of 3 runs {:.3} s (goal < 1 s); parsing alone {:.3} s",
        bytes as f64 / 1e6,
        best,
        parse
    );
}
