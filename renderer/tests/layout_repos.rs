//! Whole repositories in every layout: the example repo at the workspace root and the small trees in tests/fixtures/layouts/.

use renderer::layout::Layout;
use renderer::output::{self, Provenance};
use renderer::{DirTree, Options, Rendered, render};
use std::path::PathBuf;

fn repo(rel: &str) -> DirTree {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    DirTree::new(root).unwrap()
}

/// `cluster/unit: id` for every object, in order.
fn summary(r: &Rendered) -> Vec<String> {
    r.clusters
        .iter()
        .flat_map(|c| {
            c.units.iter().flat_map(move |u| {
                u.objects.iter().map(move |o| format!("{}/{}: {}", c.name, u.name, o.id()))
            })
        })
        .collect()
}

#[test]
fn renders_every_layout() {
    let cases: &[(&str, Layout, &[&str])] = &[
        (
            "tests/fixtures/layouts/namespaces",
            Layout::Namespaces,
            &[
                "live-1/team-a: ~G_v1_Namespace|~X|team-a",
                "live-1/team-a: rbac.authorization.k8s.io_v1_RoleBinding|team-a|team-a-admin",
                "live-1/team-a: ~G_v1_LimitRange|team-a|limitrange",
                "live-1/team-b: ~G_v1_Namespace|~X|team-b",
                "live-1/team-b: ~G_v1_ResourceQuota|team-b|namespace-quota",
                "live-2/team-a: ~G_v1_Namespace|~X|team-a",
                "live-2/team-a: rbac.authorization.k8s.io_v1_RoleBinding|team-a|team-a-admin",
            ],
        ),
        (
            // Shaped like cloud-platform-environments: a Namespace that leaves
            // its name to the folder, secrets encrypted with git-crypt.
            "tests/fixtures/layouts/namespaces-encrypted",
            Layout::Namespaces,
            &[
                "live-0/payments-dev: ~G_v1_Namespace|~X|payments-dev",
                "live-0/payments-dev: rbac.authorization.k8s.io_v1_RoleBinding|payments-dev|payments-dev-admin",
                "live-0/payments-prod: ~G_v1_Namespace|~X|payments-prod",
                "live-0/reports-dev: ~G_v1_Namespace|~X|reports-dev",
                "live-0/reports-dev: ~G_v1_Namespace|~X|reports-dev2",
                "live-0/reports-dev: ~G_v1_ResourceQuota|reports-dev|namespace-quota",
            ],
        ),
        (
            // Shaped like spack-infrastructure: Flux bootstrapped into
            // infra/prod and infra/stage, no clusters/ directory; stage
            // reuses prod's files through kustomizations.
            "tests/fixtures/layouts/flux-bootstrap",
            Layout::FluxV2,
            &[
                "prod/flux-system: ~G_v1_Namespace|~X|web",
                "prod/flux-system: kustomize.toolkit.fluxcd.io_v1_Kustomization|flux-system|flux-system",
                "prod/flux-system: networking.k8s.io_v1_Ingress|web|web",
                "prod/flux-system: source.toolkit.fluxcd.io_v1_GitRepository|flux-system|flux-system",
                "stage/flux-system: ~G_v1_Namespace|~X|web",
                "stage/flux-system: kustomize.toolkit.fluxcd.io_v1_Kustomization|flux-system|flux-system",
                "stage/flux-system: networking.k8s.io_v1_Ingress|web|web",
                "stage/flux-system: source.toolkit.fluxcd.io_v1_GitRepository|flux-system|flux-system",
            ],
        ),
        (
            // Shaped like spack-infrastructure today: no kustomization at
            // either bootstrapped root (Flux generates one: every manifest
            // below, a directory holding a kustomization taken whole and not
            // looked into, files that are not YAML left out); staging reuses
            // production's files from outside its directory (Flux builds
            // without kustomize's root-only rule) and patches its
            // HelmRelease, whose chart is this repository's.
            "tests/fixtures/layouts/flux-overlays",
            Layout::FluxV2,
            &[
                "production/flux-system: ~G_v1_Namespace|~X|dashboards",
                "production/flux-system: ~G_v1_Namespace|~X|flux-system",
                "production/flux-system: ~G_v1_Namespace|~X|jobs",
                "production/flux-system: ~G_v1_ConfigMap|dashboards|board-settings",
                "production/flux-system: batch_v1_CronJob|jobs|cleanup",
                "production/flux-system: bitnami.com_v1alpha1_SealedSecret|jobs|cleanup-token",
                "production/flux-system: apps_v1_Deployment|dashboards|board",
                "production/flux-system: kustomize.toolkit.fluxcd.io_v1_Kustomization|flux-system|flux-system",
                "production/flux-system: source.toolkit.fluxcd.io_v1_GitRepository|flux-system|flux-system",
                "staging/flux-system: ~G_v1_Namespace|~X|dashboards",
                "staging/flux-system: ~G_v1_Namespace|~X|flux-system",
                "staging/flux-system: ~G_v1_Namespace|~X|jobs",
                "staging/flux-system: ~G_v1_ConfigMap|dashboards|board-settings",
                "staging/flux-system: apps_v1_Deployment|dashboards|board",
                "staging/flux-system: kustomize.toolkit.fluxcd.io_v1_Kustomization|flux-system|flux-system",
                "staging/flux-system: source.toolkit.fluxcd.io_v1_GitRepository|flux-system|flux-system",
            ],
        ),
        (
            // Shaped like flux2-multi-tenancy: a root .sourceignore with a
            // pattern (so source-controller's defaults are off), a generated
            // kustomization, tenants whose Kustomizations have sources that
            // are not this repository (kept as written), and an object
            // marked `kustomize.toolkit.fluxcd.io/reconcile: disabled`.
            "tests/fixtures/layouts/flux-tenants",
            Layout::FluxV2,
            &[
                "prod/flux-system: kustomize.toolkit.fluxcd.io_v1_Kustomization|flux-system|flux-system",
                "prod/flux-system: kustomize.toolkit.fluxcd.io_v1_Kustomization|flux-system|policy-engine",
                "prod/flux-system: kustomize.toolkit.fluxcd.io_v1_Kustomization|flux-system|teams",
                "prod/flux-system: source.toolkit.fluxcd.io_v1_GitRepository|flux-system|flux-system",
                "prod/policy-engine: ~G_v1_ConfigMap|flux-system|legacy-settings",
                "prod/policy-engine: kustomize.toolkit.fluxcd.io_v1_Kustomization|flux-system|policy-engine-controller",
                "prod/policy-engine: source.toolkit.fluxcd.io_v1beta2_OCIRepository|flux-system|policy-engine",
                "prod/teams: ~G_v1_Namespace|~X|web",
                "prod/teams: ~G_v1_ServiceAccount|web|web-team",
                "prod/teams: rbac.authorization.k8s.io_v1_RoleBinding|web|web-team-reconciler",
                "prod/teams: kustomize.toolkit.fluxcd.io_v1_Kustomization|web|web-team",
                "prod/teams: source.toolkit.fluxcd.io_v1_GitRepository|web|web-team",
            ],
        ),
        (
            "tests/fixtures/layouts/environments",
            Layout::Environments,
            &[
                "play-jest/manifests: ~G_v1_Namespace|~X|ingress",
                "play-jest/ingress: ~G_v1_Service|ingress|ingress-elb",
                "play-jest/kube-system: apps_v1_Deployment|kube-system|kube-auth",
                "prod/manifests: ~G_v1_Namespace|~X|ingress",
                "prod/ingress: ~G_v1_Service|ingress|ingress-elb",
                "prod/kube-system: apps_v1_Deployment|kube-system|kube-auth",
            ],
        ),
        (
            "tests/fixtures/layouts/plain",
            Layout::Plain,
            &[
                "default/manifests: ~G_v1_Namespace|~X|gitops",
                "default/manifests: apps_v1_Deployment|gitops|gitops",
            ],
        ),
    ];
    for (dir, layout, want) in cases {
        let r = render(&repo(dir), &Options::default()).unwrap();
        assert_eq!(r.layout, *layout, "{dir}");
        assert_eq!(summary(&r), *want, "{dir}");
    }
}

#[test]
fn the_example_repo_renders_in_dependency_order() {
    let r =
        render(&repo(""), &Options { clusters: vec!["production".into()], ..Default::default() })
            .unwrap();
    assert_eq!(r.layout, Layout::FluxV2);
    let c = &r.clusters[0];
    let units: Vec<(&str, &str, Vec<&str>)> = c
        .units
        .iter()
        .map(|u| {
            (u.name.as_str(), u.path.as_str(), u.depends_on.iter().map(String::as_str).collect())
        })
        .collect();
    assert_eq!(
        units,
        [
            ("flux-system", "clusters/production", vec![]),
            ("namespaces", "infrastructure/namespaces", vec![]),
            ("infra-controllers", "infrastructure/controllers", vec!["namespaces"]),
            ("apps", "apps/overlays/production", vec!["namespaces", "infra-controllers"]),
        ]
    );
    let err =
        render(&repo(""), &Options { clusters: vec!["staging".into()], ..Default::default() })
            .unwrap_err();
    assert_eq!(
        err.to_string(),
        "kiln.yaml: no cluster \"staging\" in this flux-v2 repository; found: development, production"
    );
}

/// Flux v1 releases (`FluxHelmRelease` with `chartGitPath` under `charts/`,
/// `flux.weave.works` `HelmRelease` with `spec.chart.path`) render their
/// chart with the release's values, one unit per release.
#[test]
fn flux_v1_helm_releases_render_their_charts() {
    let rendered = render(&repo("tests/fixtures/layouts/releases"), &Options::default()).unwrap();
    let mut got = Vec::new();
    for c in &rendered.clusters {
        for u in &c.units {
            for r in &u.objects {
                let env = r.value.get_path(&["spec", "template", "spec", "containers"]);
                let env = env
                    .and_then(|v| v.as_seq())
                    .and_then(|s| s.first())
                    .and_then(|c| c.get_path(&["envFrom"]))
                    .and_then(|v| v.as_seq())
                    .and_then(|s| s.first())
                    .and_then(|v| v.get_path(&["secretRef", "name"]))
                    .and_then(|v| v.as_str())
                    .unwrap_or("-");
                got.push(format!(
                    "{} {}: {} {}/{} {env}",
                    c.name,
                    u.name,
                    r.kind(),
                    r.namespace(),
                    r.name()
                ));
            }
        }
    }
    assert_eq!(
        got,
        [
            "macstadium-prod-1 jupiter-brain-com: Deployment macstadium-prod-1/jupiter-brain-com prod-com",
            "macstadium-staging jupiter-brain-org: Deployment macstadium-staging/jupiter-brain-org staging-1",
        ]
    );
    let tree = repo("tests/fixtures/layouts/releases");
    let charts =
        renderer::layout::helm_release::Charts { repo: &tree, cache: None, revisions: None };
    let findings = renderer::layout::flux_v1::check(&charts).unwrap();
    assert_eq!(findings, []);
}

/// The overlay's patch of the HelmRelease and the `valuesFrom` ConfigMap
/// with `targetPath` reach the chart: production runs 3 replicas, staging
/// 1, both with the theme the ConfigMap holds over the chart's default.
#[test]
fn flux_overlays_patch_the_release_values() {
    let r = render(&repo("tests/fixtures/layouts/flux-overlays"), &Options::default()).unwrap();
    let mut got = Vec::new();
    for c in &r.clusters {
        for o in c.units.iter().flat_map(|u| &u.objects).filter(|o| o.kind() == "Deployment") {
            let container = ["spec", "template", "spec", "containers"];
            let env = o.value.get_path(&container).and_then(|v| v.as_seq()).and_then(|s| s.first());
            let env = env.and_then(|c| c.get_path(&["env"])).and_then(|v| v.as_seq());
            let env: Vec<String> = env
                .into_iter()
                .flatten()
                .map(|e| renderer::yaml::to_string(e).replace('\n', " ").trim().to_string())
                .collect();
            let replicas = o.value.get_path(&["spec", "replicas"]).cloned();
            got.push(format!("{} {:?} {}", c.name, replicas, env.join(", ")));
        }
    }
    assert_eq!(
        got,
        [
            "production Some(Int(3)) name: TITLE value: Builds, name: THEME value: dark",
            "staging Some(Int(1)) name: TITLE value: Builds, name: THEME value: dark",
        ]
    );
}

/// Shaped like travis-ci/kubernetes-config: the v1 helm-operator installs
/// through Helm's Kubernetes client, which reads the chart's output as
/// YAML 1.1 and keeps the last of duplicated keys (a chart that repeats a
/// ConfigMap key installs); fluxd applies only `.yaml` and `.yml` files,
/// so a release file without that extension is no unit.
#[test]
fn flux_v1_releases_read_chart_output_as_helm_installs_it() {
    let r = render(&repo("tests/fixtures/layouts/releases-workers"), &Options::default()).unwrap();
    assert_eq!(
        summary(&r),
        [
            "gce-production-1/worker-com: ~G_v1_ConfigMap|gce-production-1|worker-com",
            "gce-production-1/worker-com: ci.example.com_v1alpha1_WorkerCluster|gce-production-1|worker-com",
            "gce-staging/worker-org: ~G_v1_ConfigMap|gce-staging|worker-org",
            "gce-staging/worker-org: apps_v1_Deployment|gce-staging|worker-org",
        ]
    );
    let objects: Vec<_> =
        r.clusters.iter().flat_map(|c| &c.units).flat_map(|u| &u.objects).collect();
    let pool: Vec<_> =
        objects.iter().filter_map(|o| o.value.get_path(&["data", "WORKER_POOL_SIZE"])).collect();
    assert_eq!(pool, [&renderer::Value::String("2".into()), &renderer::Value::String("4".into())]);
    let paused = objects.iter().find_map(|o| o.value.get_path(&["spec", "paused"]));
    assert_eq!(paused, Some(&renderer::Value::Bool(false)));
}

#[test]
fn output_is_complete_deterministic_and_points_flux_at_rendered_paths() {
    let tree = repo("");
    let provenance = Provenance {
        source_branch: Some("main".into()),
        source_commit: Some("0123456789abcdef0123456789abcdef01234567".into()),
        target_dir: "rendered".into(),
    };
    let first = output::files(&render(&tree, &Options::default()).unwrap(), &provenance);
    for _ in 0..3 {
        assert_eq!(output::files(&render(&tree, &Options::default()).unwrap(), &provenance), first);
    }
    let text = |p: &str| String::from_utf8(first[p].clone()).unwrap();
    let apps = text(
        "production/flux-system/flux-system/kustomize.toolkit.fluxcd.io_v1_Kustomization_apps.yaml",
    );
    assert!(apps.contains("  path: ./rendered/production/apps\n"), "{apps}");
    assert!(
        apps.contains("  dependsOn:\n  - name: namespaces\n  - name: infra-controllers\n"),
        "{apps}"
    );
    let root = text(
        "production/flux-system/flux-system/kustomize.toolkit.fluxcd.io_v1_Kustomization_flux-system.yaml",
    );
    assert!(root.contains("  path: ./rendered/production/flux-system\n"), "{root}");
    let index = text(output::INDEX_FILE);
    for want in [
        "sourceCommit: 0123456789abcdef0123456789abcdef01234567\n",
        "sourceBranch: main\n",
        "layout: flux-v2\n",
        &format!("kilnVersion: {}\n", env!("CARGO_PKG_VERSION")),
        "  namespaces:\n  - apps\n  - ingress-nginx\n",
    ] {
        assert!(index.contains(want), "{want}\n{index}");
    }
    // Every file but the index belongs to a unit listed in the index.
    for path in first.keys().filter(|p| *p != output::INDEX_FILE) {
        assert!(index.contains(&format!("    - {path}\n")), "{path} not in the index");
    }
}

#[test]
fn namespace_output_lists_the_complete_namespace_set() {
    let r = render(&repo("tests/fixtures/layouts/namespaces"), &Options::default()).unwrap();
    let files = output::files(&r, &Provenance::default());
    let index = String::from_utf8(files[output::INDEX_FILE].clone()).unwrap();
    assert!(index.contains("- name: live-1\n  namespaces:\n  - team-a\n  - team-b\n"), "{index}");
    assert!(
        index.contains("  - 'namespace retired: namespaces/live-1/retired/.kiln-skip present'\n"),
        "{index}"
    );
    assert!(files.contains_key("live-2/team-a/_cluster/core_v1_Namespace_team-a.yaml"));
}

#[test]
fn kiln_yaml_declares_the_layout() {
    let mut t = renderer::MemTree::new();
    t.insert("clusters/README.md", "not a cluster\n");
    t.insert(
        "namespaces/live/a/q.yaml",
        "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\n",
    );
    assert_eq!(render(&t, &Options::default()).unwrap().layout, Layout::FluxV2);
    t.insert("kiln.yaml", "layout: namespaces\n");
    let r = render(&t, &Options::default()).unwrap();
    assert_eq!(summary(&r), ["live/a: ~G_v1_Namespace|~X|a", "live/a: ~G_v1_ResourceQuota|a|q"]);
    let mut bare = renderer::MemTree::new();
    bare.insert("kiln.yaml", "layout: flux-v2\n");
    bare.insert("apps/a.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n");
    assert_eq!(
        render(&bare, &Options::default()).unwrap_err().to_string(),
        "layout flux-v2: no clusters/ directory at the repository root and no directory below it holding flux-system/gotk-sync.yaml (as flux bootstrap --path writes it)"
    );
    t.insert("kiln.yaml", "layout: environments\n");
    assert_eq!(
        render(&t, &Options::default()).unwrap_err().to_string(),
        "layout environments: no environments/ directory at the repository root"
    );
}

#[test]
fn git_crypted_files_are_left_out_and_reported() {
    let r =
        render(&repo("tests/fixtures/layouts/namespaces-encrypted"), &Options::default()).unwrap();
    assert_eq!(
        r.clusters[0].skipped,
        [
            "namespaces/live-0/payments-dev/app-secret.yaml: encrypted with git-crypt",
            "namespaces/live-0/payments-prod/db-secret.yml: encrypted with git-crypt",
        ]
    );
    let ns = &r.clusters[0].units[0].objects[0].value;
    assert_eq!(
        ns.get_path(&["metadata", "labels", "team"]).and_then(|v| v.as_str()),
        Some("payments")
    );
}

/// A chart in git whose dependencies are not vendored: Flux builds them
/// (helm-operator `--update-chart-deps`, source-controller for Git
/// sources), kiln takes them from `file://` paths and the chart cache.
#[test]
fn chart_dependencies_missing_from_charts_dir_come_from_the_tree_and_the_cache() {
    let r = render(&repo("tests/fixtures/layouts/releases-deps"), &Options::default()).unwrap();
    assert_eq!(r.layout, Layout::FluxV1);
    assert_eq!(
        summary(&r),
        [
            "gce-staging/cleanup: ~G_v1_Service|gce-staging|cleanup-redis",
            "gce-staging/cleanup: apps_v1_Deployment|gce-staging|cleanup",
        ]
    );
    let deployment = &r.clusters[0].units[0].objects[1].value;
    assert_eq!(
        deployment
            .get_path(&["metadata", "labels", "app.kubernetes.io/managed-by"])
            .and_then(|v| v.as_str()),
        Some("Helm")
    );
}

/// Shaped like the templated platform: `environments/` holds Terraform
/// variable files and the manifests are Terraform templates. kiln renders
/// neither, and says so instead of printing an empty render.
#[test]
fn environments_without_environment_files_are_an_error() {
    let mut t = renderer::MemTree::new();
    t.insert("environments/play.tfvars", "environment = \"play\"\n");
    t.insert("environments/prod.tfvars", "environment = \"prod\"\n");
    t.insert(
        "terraform/assets/manifests/kube-proxy.yml",
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-proxy\nspec:\n  containers:\n  - image: ${image}\n",
    );
    let err = render(&t, &Options::default()).unwrap_err().to_string();
    assert_eq!(
        err,
        "layout environments: no environment file in environments/: expected <env>.yaml (a mapping of variables for the minijinja templates in manifests/); found play.tfvars, prod.tfvars"
    );
}

/// Shaped like gitops-service-example, whose clusters point at paths that
/// were deleted: every failing unit of every cluster is reported at once,
/// with its cause, and a unit that failed still counts for `dependsOn`.
#[test]
fn every_failing_unit_is_reported() {
    let ks = |name: &str, path: &str, deps: &[&str]| {
        let deps: String = deps.iter().map(|d| format!("  - name: {d}\n")).collect();
        let deps = if deps.is_empty() { String::new() } else { format!("  dependsOn:\n{deps}") };
        format!(
            "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n{deps}  path: {path}\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n"
        )
    };
    let mut t = renderer::MemTree::new();
    t.insert("clusters/dev/ns.yaml", ks("namespaces", "./infra/namespaces", &[]));
    t.insert("clusters/dev/istio.yaml", ks("istio", "./infra/istio", &["namespaces"]));
    t.insert("clusters/dev/apps.yaml", ks("apps", "./apps/dev", &["istio", "sources"]));
    t.insert("clusters/prod/apps.yaml", ks("apps", "./apps/prod", &[]));
    t.insert(
        "infra/namespaces/ns.yaml",
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: web\n",
    );
    t.insert("apps/dev/kustomization.yaml", "resources:\n- deployment.yaml\n");
    t.insert(
        "apps/prod/kustomization.yaml",
        "resources:\n- svc.yaml\npatchesStrategicMerge:\n- env.yaml\n",
    );
    t.insert("apps/prod/svc.yaml", "apiVersion: v1\nkind: Service\nmetadata:\n  name: web\n");
    let err = render(&t, &Options::default()).unwrap_err().to_string();
    let lines: Vec<&str> = err.lines().collect();
    assert_eq!(lines[0], "4 errors:", "{err}");
    let want = [
        "- cluster dev, unit istio, file clusters/dev/istio.yaml: spec.path \"./infra/istio\" is not a directory of the repository",
        // kustomize-controller builds without load restrictions, so a
        // missing file is kustomize's `open` failure, as with
        // `kubectl kustomize --load-restrictor LoadRestrictionsNone`.
        "- cluster dev, unit apps, file clusters/dev/apps.yaml: apps/dev/kustomization.yaml: accumulating resources: accumulation err='accumulating resources from 'deployment.yaml': open apps/dev/deployment.yaml: no such file or directory': must build at directory: not a valid directory: evalsymlink failure on 'apps/dev/deployment.yaml' : lstat apps/dev/deployment.yaml: no such file or directory",
        "- cluster dev, unit apps, file clusters/dev/apps.yaml: dependsOn flux-system/sources: no such Kustomization in this cluster",
        "- cluster prod, unit apps, file clusters/prod/apps.yaml: apps/prod/kustomization.yaml: trouble configuring builtin PatchStrategicMergeTransformer with config: `",
    ];
    for w in want {
        assert!(lines.iter().any(|l| l.starts_with(w)), "missing {w:?} in\n{err}");
    }
}

/// Shaped like spack-infrastructure's webhook-handler: Flux Kustomizations
/// written without a namespace inside a unit that sets no targetNamespace.
/// Flux refuses to apply them; kiln once took them for another source's.
#[test]
fn flux_kustomizations_without_a_namespace_are_errors() {
    let mut t = renderer::MemTree::new();
    t.insert(
        "clusters/prod/flux-system/gotk-sync.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  path: ./clusters/prod\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
    );
    t.insert(
        "clusters/prod/hooks/deploy.yaml",
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: hooks-deploy\nspec:\n  path: ./hooks/deploy\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
    );
    let err = render(&t, &Options::default()).unwrap_err().to_string();
    assert_eq!(
        err,
        "cluster prod, unit hooks-deploy, file clusters/prod/hooks/deploy.yaml: Flux Kustomization \"hooks-deploy\" has no metadata.namespace (and unit flux-system sets no targetNamespace): Flux cannot apply it (namespace not specified)"
    );
}
