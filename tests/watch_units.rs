//! Incremental renders per unit on the example repository: a push re-renders only the units whose inputs it changed, and the output equals a full render.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use kiln::daemon::metrics::Metrics;
use kiln::daemon::remote::Remote;
use kiln::daemon::sync::Source;
use kiln::daemon::watch::{BranchMap, Config, CycleOutcome, DEFAULT_MESSAGE, Watcher, render_flux};
use renderer::cache::UnitCache;
use renderer::tree::Tree;

use crate::watch_faults::Example;

/// An in-process watcher of `production` into `prod/` of `target`, with its mirror in `workdir`.
fn watcher(ex: &Example, workdir: &std::path::Path, target: &str) -> Watcher {
    let prod = BranchMap { source: "production".into(), dir: "prod".into() };
    watcher_of(ex.remote.path(), prod, workdir, target, None)
}

/// An in-process watcher of one branch of the repository at `remote` into
/// `target`, with its mirror in `workdir`, reading charts the repository does
/// not hold from `chart_cache` as `kiln watch --chart-cache` does.
fn watcher_of(
    remote: &std::path::Path,
    branch: BranchMap,
    workdir: &std::path::Path,
    target: &str,
    chart_cache: Option<&std::path::Path>,
) -> Watcher {
    let remote = Remote::new(remote.to_str().unwrap());
    let config = Config {
        source: remote.clone(),
        target: remote,
        branches: vec![branch],
        target_branch: target.into(),
        author: crate::util::kiln_identity(),
        message: DEFAULT_MESSAGE.into(),
        allow_empty: false,
        adopt: false,
        push_attempts: 3,
        workdir: workdir.to_path_buf(),
        outside: chart_cache.into_iter().map(std::path::Path::to_path_buf).collect(),
    };
    let options = renderer::Options {
        chart_cache: chart_cache.map(std::path::Path::to_path_buf),
        ..renderer::Options::default()
    };
    let render = move |tree: &dyn Tree, cache: &dyn UnitCache, source: &Source, dir: &str, _| {
        render_flux(tree, cache, source, dir, &options)
    };
    Watcher::new(
        config,
        Arc::new(render),
        Arc::new(Metrics::default()),
        Arc::new(AtomicBool::new(false)),
    )
}

/// A counter of the `/metrics` page, e.g. `kiln_units_rendered_total{step="helm"}`.
fn counter(metrics: &Metrics, series: &str) -> u64 {
    let page = metrics.prometheus();
    page.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("{series} not in\n{page}"))
}

/// Unit builds run and reused since the last call: (kustomize run, helm run, reused).
struct Counts {
    last: (u64, u64, u64),
}

impl Counts {
    fn delta(&mut self, metrics: &Metrics) -> (u64, u64, u64) {
        let now = (
            counter(metrics, "kiln_units_rendered_total{step=\"kustomize\"}"),
            counter(metrics, "kiln_units_rendered_total{step=\"helm\"}"),
            counter(metrics, "kiln_units_reused_total{step=\"kustomize\"}")
                + counter(metrics, "kiln_units_reused_total{step=\"helm\"}"),
        );
        let delta = (now.0 - self.last.0, now.1 - self.last.1, now.2 - self.last.2);
        self.last = now;
        delta
    }
}

/// The builds of a full render of the example: per cluster, five kustomize
/// builds of Flux units (the root twice: before and after its own
/// Kustomization is found) and the cluster-info chart.
const ALL_BUILDS: u64 = 12;

/// The tree id of `prod/` on `branch` of the example's remote.
fn prod_tree(ex: &Example, branch: &str) -> String {
    ex.remote.git(&["rev-parse", &format!("refs/heads/{branch}:prod")])
}

#[test]
fn a_push_re_renders_only_the_units_whose_inputs_changed() {
    let ex = Example::new();
    let home = tempfile::tempdir().unwrap();
    let mut w = watcher(&ex, &home.path().join("mirror"), "rendered");
    let mut counts = Counts { last: (0, 0, 0) };

    assert!(matches!(w.cycle(), Ok(CycleOutcome::Committed { .. })));
    let (kustomize, helm, reused) = counts.delta(w.metrics());
    assert_eq!((kustomize, helm, reused), (ALL_BUILDS - 2, 2, 0));

    // Each push and the builds it may cost: (kustomize, helm).
    let pdb = "apps/overlays/production/user-roles-pdb.yaml";
    let values = "infrastructure/charts/cluster-info/values.yaml";
    let dev_overlay = "apps/overlays/development/user-roles-debug.yaml";
    let cases: Vec<(&str, String, (u64, u64), bool)> = vec![
        // One overlay of one cluster: that cluster's `apps` unit only.
        (pdb, read(pdb).replace("minAvailable: 2", "minAvailable: 3"), (1, 0), true),
        // The chart's default values: the two chart renders, no kustomize build.
        (values, read(values).replace("ingressClass: nginx", "ingressClass: other"), (0, 2), true),
        // A new line at the end of the development overlay: the development
        // cluster's `apps` unit builds again, to the same objects, so no commit.
        (dev_overlay, format!("{}\n", read(dev_overlay)), (1, 0), false),
        // A file no unit reads: no build, no commit.
        ("docs/README.md", "notes\n".into(), (0, 0), false),
        // A `.sourceignore` anywhere decides whether source-controller's
        // default exclusions hold in the artifact every unit builds in, so
        // every unit builds again (the chart renders do not), and nothing
        // they render changes.
        ("docs/.sourceignore", "*.draft.yaml\n".into(), (ALL_BUILDS - 2, 0), false),
    ];
    for (path, contents, (want_kustomize, want_helm), commits) in cases {
        let before = ex.rendered()[0].commit.clone();
        ex.push_file("production", path, &contents, &format!("change {path}"));
        let outcome = w.cycle().unwrap();
        let (kustomize, helm, reused) = counts.delta(w.metrics());
        assert_eq!((kustomize, helm), (want_kustomize, want_helm), "{path}");
        // A render that ran at all asked for every build; a push that no
        // render input saw reuses the whole branch render instead.
        let asked = if (kustomize, helm) == (0, 0) { 0 } else { ALL_BUILDS };
        assert_eq!(kustomize + helm + reused, asked, "{path}");
        let committed = matches!(outcome, CycleOutcome::Committed { .. });
        if commits {
            assert!(committed, "{path}: {outcome:?}");
        } else {
            assert_eq!(ex.rendered()[0].commit, before, "{path}");
        }

        // A new watcher renders everything from scratch into another branch:
        // the same files.
        let fresh_home = tempfile::tempdir().unwrap();
        let mut full = watcher(&ex, fresh_home.path(), "full");
        full.cycle().unwrap();
        assert_eq!(prod_tree(&ex, "rendered"), prod_tree(&ex, "full"), "{path}");
        ex.remote.git(&["update-ref", "-d", "refs/heads/full"]);
    }
}

#[test]
fn a_broken_unit_names_its_file_and_unit_and_leaves_the_directory_alone() {
    let ex = Example::new();
    let home = tempfile::tempdir().unwrap();
    let mut w = watcher(&ex, &home.path().join("mirror"), "rendered");
    assert!(matches!(w.cycle(), Ok(CycleOutcome::Committed { .. })));
    let tip = ex.rendered()[0].clone();

    let pdb = "apps/overlays/production/user-roles-pdb.yaml";
    ex.push_file("production", pdb, "kind: PodDisruptionBudget\nmetadata: [unclosed\n", "broken");
    assert!(matches!(w.cycle(), Ok(CycleOutcome::Unchanged)));
    assert_eq!(ex.rendered()[0].commit, tip.commit);
    let status = w.metrics().status_json();
    let error = status["branches"]["production"]["lastError"].as_str().unwrap_or_default();
    for part in ["cluster production", "unit apps", "user-roles-pdb.yaml"] {
        assert!(error.contains(part), "{part} not in {error}");
    }
    let metrics = w.metrics().prometheus();
    assert!(metrics.contains("kiln_failures_total{kind=\"render\"} 1\n"), "{metrics}");
    assert!(metrics.contains("kiln_branch_error{branch=\"production\"} 1\n"), "{metrics}");

    // The fix renders; the failed build was not stored.
    let good = ex.push_file(
        "production",
        pdb,
        &read(pdb).replace("minAvailable: 2", "minAvailable: 1"),
        "fixed",
    );
    assert!(matches!(w.cycle(), Ok(CycleOutcome::Committed { .. })));
    assert_eq!(ex.rendered()[0].sources.get("production"), Some(&good));
    assert!(w.metrics().status_json()["branches"]["production"]["lastError"].is_null());
}

/// A file of the workspace's example repository.
fn read(path: &str) -> String {
    std::fs::read_to_string(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(path)).unwrap()
}

/// A watcher of `main` into `platform/` of `target`, for a repository at `remote`.
fn platform_watcher(remote: &std::path::Path, workdir: &std::path::Path, target: &str) -> Watcher {
    let main = BranchMap { source: "main".into(), dir: "platform".into() };
    watcher_of(remote, main, workdir, target, None)
}

/// Terraform units (module instances) go through the watcher's store too:
/// the walk through the modules runs on every render and gives each unit
/// its key (templates, their variables, snippets), so an environment whose
/// templates and variables did not change builds nothing again, and a
/// changed template, environment file or module builds only the units it
/// reaches.
#[test]
fn terraform_units_are_built_again_only_when_what_they_render_changes() {
    let work = crate::util::TestRepo::new();
    crate::layouts::terraform_fixture(work.path());
    work.commit_all("platform");
    let remote = work.bare_clone();
    let home = tempfile::tempdir().unwrap();
    let mut w = platform_watcher(remote.path(), &home.path().join("mirror"), "rendered");
    let terraform = |metrics: &Metrics| {
        (
            counter(metrics, "kiln_units_rendered_total{step=\"terraform\"}"),
            counter(metrics, "kiln_units_reused_total{step=\"terraform\"}"),
        )
    };
    assert!(matches!(w.cycle(), Ok(CycleOutcome::Committed { .. })));
    // play: root, master, compute, pools["batch"], pools["gpu"], network,
    // network.flow; prod: the same without the pools.
    const UNITS: u64 = 12;
    assert_eq!(terraform(w.metrics()), (UNITS, 0));
    let mut last = (UNITS, 0);

    let file = |path: &str| std::fs::read_to_string(work.path().join(path)).unwrap();
    let flow = "terraform/.terraform/modules/network/flow/main.tf";
    let cases: Vec<(&str, String, u64, bool)> = vec![
        // A comment in a module: the walk runs again, every unit's key is
        // the same, nothing is built.
        (
            "terraform/modules/master/main.tf",
            format!("{}# a note\n", file("terraform/modules/master/main.tf")),
            0,
            false,
        ),
        // A template: the master unit of each environment.
        (
            "terraform/modules/master/assets/manifests/kube-proxy.yml",
            file("terraform/modules/master/assets/manifests/kube-proxy.yml")
                .replace("    - proxy\n", "    - proxy\n    - --v=2\n"),
            2,
            true,
        ),
        // An environment file: prod's units that read the changed value
        // (the master and compute modules' kubernetes_image).
        (
            "environments/prod.tfvars",
            file("environments/prod.tfvars").replace("hyperkube:v1.5.2", "hyperkube:v1.5.3"),
            2,
            true,
        ),
        // An installed module: the variables its template gets, in both environments.
        (
            flow,
            file(flow).replace("vpc_cidr    = \"${var.vpc_cidr}\"", "vpc_cidr    = \"10.0.0.0/8\""),
            2,
            true,
        ),
    ];
    for (path, contents, built, commits) in cases {
        work.write(path, &contents);
        work.commit_all(&format!("change {path}"));
        work.git(&["push", "--quiet", "--force", remote.path().to_str().unwrap(), "main:main"]);
        let before = remote.git(&["rev-parse", "refs/heads/rendered"]);
        let outcome = w.cycle().unwrap();
        let now = terraform(w.metrics());
        let delta = (now.0 - last.0, now.1 - last.1);
        last = now;
        assert_eq!(delta, (built, UNITS - built), "{path}");
        assert_eq!(
            matches!(outcome, CycleOutcome::Committed { .. }),
            commits,
            "{path}: {outcome:?}"
        );
        if !commits {
            assert_eq!(remote.git(&["rev-parse", "refs/heads/rendered"]), before, "{path}");
        }
        // A new watcher renders everything from scratch: the same files.
        let fresh = tempfile::tempdir().unwrap();
        let mut full = platform_watcher(remote.path(), fresh.path(), "full");
        full.cycle().unwrap();
        let tree = |b: &str| remote.git(&["rev-parse", &format!("refs/heads/{b}:platform")]);
        assert_eq!(tree("rendered"), tree("full"), "{path}");
        remote.git(&["update-ref", "-d", "refs/heads/full"]);
    }
}

/// The chart cache lives outside the repository, so no push tells the
/// watcher it changed: a chart version added to it (as `helm pull` adds one)
/// or a cached chart edited in place is rendered in the next cycle, and a
/// cycle in which neither the repository nor the cache changed commits nothing.
#[test]
fn a_changed_chart_cache_is_rendered_again() {
    let work = crate::util::TestRepo::new();
    crate::util::copy_dir(std::path::Path::new("tests/fixtures/layouts/flux-cache"), work.path());
    work.commit_all("flux cluster with charts from a cache");
    work.git(&["branch", "production"]);
    let remote = work.bare_clone();
    let home = tempfile::tempdir().unwrap();
    let cache = home.path().join("chart-cache");
    crate::util::copy_dir(std::path::Path::new("tests/fixtures/layouts/chart-cache"), &cache);
    let prod = BranchMap { source: "production".into(), dir: "prod".into() };
    let mut w =
        watcher_of(remote.path(), prod, &home.path().join("mirror"), "rendered", Some(&cache));
    let rendered = || {
        remote
            .git(&["show", "refs/heads/rendered:prod/prod/apps/apps/apps_v1_Deployment_hello.yaml"])
    };

    assert!(matches!(w.cycle(), Ok(CycleOutcome::Committed { .. })));
    assert!(rendered().contains("image: registry.example.com/hello:1.4.2"), "{}", rendered());
    assert_eq!(w.cycle().unwrap(), CycleOutcome::Unchanged);

    // A newer version meeting the release's `>=1.0.0 <2.0.0` lands in the cache.
    let charts = cache.join("flux-system/charts");
    crate::util::copy_dir(&charts.join("hello-1.4.2"), &charts.join("hello-1.5.0"));
    let chart_yaml = charts.join("hello-1.5.0/Chart.yaml");
    let text = std::fs::read_to_string(&chart_yaml).unwrap().replace("1.4.2", "1.5.0");
    std::fs::write(&chart_yaml, text).unwrap();
    let outcome = w.cycle();
    assert!(matches!(outcome, Ok(CycleOutcome::Committed { .. })), "{outcome:?}");
    assert!(rendered().contains("image: registry.example.com/hello:1.5.0"), "{}", rendered());
    assert_eq!(w.cycle().unwrap(), CycleOutcome::Unchanged);

    // The cached chart edited in place.
    let template = charts.join("hello-1.5.0/templates/deployment.yaml");
    let text =
        std::fs::read_to_string(&template).unwrap().replace("- name: hello", "- name: hello-main");
    std::fs::write(&template, text).unwrap();
    assert!(matches!(w.cycle(), Ok(CycleOutcome::Committed { .. })));
    assert!(rendered().contains("        name: hello-main"), "{}", rendered());
    assert_eq!(w.cycle().unwrap(), CycleOutcome::Unchanged);
}
