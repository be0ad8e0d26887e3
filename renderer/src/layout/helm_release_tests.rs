//! Tests of reading and rendering Helm releases: charts in the repository and in the chart cache, values, post-renderers.

use super::*;
use crate::tree::MemTree;
use crate::yaml;

fn doc(text: &str) -> Value {
    yaml::parse_documents(text, "t").unwrap().remove(0)
}

fn res(text: &str) -> Resource {
    Resource::new(doc(text), "src.yaml")
}

const CHART: &str = "apiVersion: v2\nname: web\nversion: 1.0.0\n";
const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n  image: {{ .Values.image | default \"none\" | quote }}\n";

/// A chart `web` at `dir` of `t`: a ConfigMap of its values, a CRD and a hook.
fn add_chart(t: &mut MemTree, dir: &str, greeting: &str) {
    t.insert(&format!("{dir}/Chart.yaml"), CHART);
    t.insert(&format!("{dir}/values.yaml"), format!("greeting: {greeting}\nreplicas: 1\n"));
    t.insert(&format!("{dir}/values-prod.yaml"), "replicas: 3\n");
    t.insert(&format!("{dir}/templates/cm.yaml"), CM);
    t.insert(
        &format!("{dir}/templates/job.yaml"),
        "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: migrate\n  annotations:\n    helm.sh/hook: pre-install\n",
    );
    t.insert(
        &format!("{dir}/crds/w.yaml"),
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
    );
}

#[test]
fn reads_flux_v2_releases() {
    let at = Location::new("prod", "apps", "apps/podinfo.yaml");
    let repo = vec!["flux-system/flux-system".to_string()];
    let available = [
        res(
            "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata: {name: podinfo, namespace: flux-system}\nspec: {url: oci://ghcr.io/stefanprodan/charts/podinfo, ref: {semver: '>=6.0.0'}}\n",
        ),
        res(
            "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata: {name: tagged, namespace: flux-system}\nspec: {url: oci://ghcr.io/org/charts/web, ref: {tag: 1.2.3}}\n",
        ),
        res(
            "apiVersion: source.toolkit.fluxcd.io/v1beta2\nkind: OCIRepository\nmetadata: {name: pinned, namespace: flux-system}\nspec: {url: oci://ghcr.io/org/charts/web, ref: {digest: 'sha256:abc'}}\n",
        ),
        res(
            "apiVersion: source.toolkit.fluxcd.io/v1\nkind: HelmChart\nmetadata: {name: web, namespace: flux-system}\nspec: {chart: web, version: '1.x', sourceRef: {kind: HelmRepository, name: charts}, valuesFiles: [values.yaml, values-prod.yaml]}\n",
        ),
    ];
    let available: Vec<&Resource> = available.iter().collect();
    let cached = |source: &str, dir: &str, chart: &str, pick: Pick| Chart::Cached {
        source: source.into(),
        dir: dir.into(),
        chart: chart.into(),
        pick,
    };
    let c = |s: &str| Pick::Constraint(s.into());
    type Want = Result<(&'static str, &'static str, Chart, &'static [&'static str]), &'static str>;
    let hr = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {name: podinfo, namespace: flux-system}\nspec:\n";
    let cases: Vec<(String, Want)> = vec![
        (
            format!(
                "{hr}  targetNamespace: apps\n  chart:\n    spec: {{chart: podinfo, version: '6.x', sourceRef: {{kind: HelmRepository, name: podinfo}}}}\n"
            ),
            Ok((
                "apps-podinfo",
                "apps",
                cached(
                    "HelmRepository flux-system/podinfo",
                    "flux-system/podinfo",
                    "podinfo",
                    c("6.x"),
                ),
                &[],
            )),
        ),
        (
            format!(
                "{hr}  releaseName: web\n  chart:\n    spec: {{chart: ./charts/web, sourceRef: {{kind: GitRepository, name: flux-system}}, valuesFiles: [charts/web/values-prod.yaml]}}\n"
            ),
            Ok((
                "web",
                "flux-system",
                Chart::Path("charts/web".into()),
                &["charts/web/values-prod.yaml"],
            )),
        ),
        (
            format!(
                "{hr}  chart:\n    spec: {{chart: ./charts/web, sourceRef: {{kind: GitRepository, name: other, namespace: apps}}}}\n"
            ),
            Ok((
                "podinfo",
                "flux-system",
                Chart::CachedPath {
                    source: "GitRepository apps/other".into(),
                    dir: "apps/other".into(),
                    path: "./charts/web".into(),
                },
                &[],
            )),
        ),
        (
            format!(
                "{hr}  chart:\n    spec: {{chart: web, sourceRef: {{kind: HelmRepository, name: charts}}, valuesFile: a.yaml, valuesFiles: [b.yaml]}}\n"
            ),
            Ok((
                "podinfo",
                "flux-system",
                cached("HelmRepository flux-system/charts", "flux-system/charts", "web", c("")),
                &["a.yaml", "b.yaml"],
            )),
        ),
        (
            format!("{hr}  chartRef: {{kind: OCIRepository, name: podinfo}}\n"),
            Ok((
                "podinfo",
                "flux-system",
                cached(
                    "OCIRepository flux-system/podinfo",
                    "flux-system/podinfo",
                    "podinfo",
                    c(">=6.0.0"),
                ),
                &[],
            )),
        ),
        (
            format!(
                "{hr}  chartRef: {{kind: OCIRepository, name: tagged, namespace: flux-system}}\n"
            ),
            Ok((
                "podinfo",
                "flux-system",
                cached(
                    "OCIRepository flux-system/tagged",
                    "flux-system/tagged",
                    "web",
                    Pick::Tag("1.2.3".into()),
                ),
                &[],
            )),
        ),
        (
            format!("{hr}  chartRef: {{kind: HelmChart, name: web}}\n"),
            Ok((
                "podinfo",
                "flux-system",
                cached("HelmRepository flux-system/charts", "flux-system/charts", "web", c("1.x")),
                &["values.yaml", "values-prod.yaml"],
            )),
        ),
        (
            format!("{hr}  chartRef: {{kind: OCIRepository, name: pinned}}\n"),
            Err("spec.ref.digest cannot be looked up"),
        ),
        (
            format!("{hr}  chartRef: {{kind: OCIRepository, name: gone}}\n"),
            Err("spec.chartRef OCIRepository flux-system/gone is not in the render"),
        ),
        (
            format!("{hr}  chartRef: {{kind: HelmRepository, name: podinfo}}\n"),
            Err("is not in the render"),
        ),
        (
            format!(
                "{hr}  chart:\n    spec: {{chart: x, sourceRef: {{kind: ExternalArtifact, name: x}}}}\n"
            ),
            Err("chart sourceRef kind \"ExternalArtifact\""),
        ),
        (format!("{hr}  interval: 5m\n"), Err("neither spec.chart nor spec.chartRef")),
    ];
    for (text, want) in &cases {
        let d = doc(text);
        assert!(is_release(&d));
        match (from_flux_v2(&d, &at, &repo, &available), want) {
            (Ok(r), Ok((rn, ns, chart, files))) => {
                assert_eq!(
                    (r.release_name.as_str(), r.namespace.as_str(), &r.chart),
                    (*rn, *ns, chart),
                    "{text}"
                );
                assert_eq!(&r.values_files, files, "{text}");
            }
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{text}: {e}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn reads_flux_v1_releases() {
    let at = Location::new("staging", "r", "releases/staging/r.yaml");
    type Want = Result<(&'static str, &'static str, Chart), &'static str>;
    let cases: &[(&str, Want)] = &[
        (
            "apiVersion: helm.integrations.flux.weave.works/v1alpha2\nkind: FluxHelmRelease\nmetadata: {name: jupiter-brain-org, namespace: staging}\nspec: {chartGitPath: jupiter-brain, releaseName: jupiter-brain-org}\n",
            Ok(("jupiter-brain-org", "staging", Chart::Path("charts/jupiter-brain".into()))),
        ),
        (
            "apiVersion: flux.weave.works/v1beta1\nkind: HelmRelease\nmetadata: {name: a, namespace: ns}\nspec: {chart: {path: charts/a, git: 'git@github.com:org/repo.git', ref: v1.2}}\n",
            Ok((
                "ns-a",
                "ns",
                Chart::Git {
                    url: "git@github.com:org/repo.git".into(),
                    dir: "github.com/org/repo".into(),
                    path: "charts/a".into(),
                    reference: "v1.2".into(),
                },
            )),
        ),
        (
            "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata: {name: a, namespace: ns}\nspec: {chart: {path: ./charts/a/, git: 'git@github.com:../../x'}}\n",
            Err(
                "spec.chart.git: repository URL \"git@github.com:../../x\": github.com/../../x: path leaves the root",
            ),
        ),
        (
            "apiVersion: flux.weave.works/v1beta1\nkind: HelmRelease\nmetadata: {name: a}\nspec: {chart: {path: charts/a}}\n",
            Ok(("default-a", "default", Chart::Path("charts/a".into()))),
        ),
        (
            "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata: {name: a, namespace: ops}\nspec: {targetNamespace: apps, chart: {path: charts/a}}\n",
            Ok(("ops-apps-a", "apps", Chart::Path("charts/a".into()))),
        ),
        (
            "apiVersion: flux.weave.works/v1beta1\nkind: HelmRelease\nmetadata: {name: rate-limit-redis, namespace: gce}\nspec:\n  releaseName: rate-limit-redis\n  chart: {repository: 'https://kubernetes-charts.storage.googleapis.com/', name: redis, version: 8.0.13}\n",
            Ok((
                "rate-limit-redis",
                "gce",
                Chart::Cached {
                    source: "repository https://kubernetes-charts.storage.googleapis.com/".into(),
                    dir: "kubernetes-charts.storage.googleapis.com".into(),
                    chart: "redis".into(),
                    pick: Pick::Constraint("8.0.13".into()),
                },
            )),
        ),
        (
            "apiVersion: flux.weave.works/v1beta1\nkind: HelmRelease\nmetadata: {name: a}\nspec: {chart: {repository: 'https://x/'}}\n",
            Err("spec.chart.repository without spec.chart.name"),
        ),
        (
            "apiVersion: flux.weave.works/v1beta1\nkind: HelmRelease\nmetadata: {name: a}\nspec: {chart: {}}\n",
            Err("no spec.chart.path or spec.chart.repository"),
        ),
        (
            "apiVersion: helm.integrations.flux.weave.works/v1alpha2\nkind: FluxHelmRelease\nmetadata: {name: a}\nspec: {}\n",
            Err("no spec.chartGitPath"),
        ),
        (
            "apiVersion: helm.integrations.flux.weave.works/v1alpha2\nkind: FluxHelmRelease\nmetadata: {name: a}\nspec: {chartGitPath: ../../x}\n",
            Err("leaves the root"),
        ),
    ];
    for (text, want) in cases {
        let d = doc(text);
        assert!(is_release(&d));
        match (from_flux_v1(&d, &at, DEFAULT_GIT_REF), want) {
            (Ok(r), Ok((rn, ns, chart))) => {
                assert_eq!(
                    (r.release_name.as_str(), r.namespace.as_str(), &r.chart),
                    (*rn, *ns, chart),
                    "{text}"
                );
                assert!(!r.flux_v2);
            }
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{text}: {e}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }
}

/// `kind/name ns=... label=value` of each object, for the fields asked for
/// that it has.
fn summary(objects: &[Resource], fields: &[(&str, &[&str])]) -> Vec<String> {
    objects
        .iter()
        .map(|r| {
            let mut s = format!("{}/{} ns={}", r.kind(), r.name(), r.namespace());
            for (label, path) in fields {
                if let Some(v) = r.value.get_path(path) {
                    let text = match v {
                        Value::String(t) => t.clone(),
                        other => yaml::to_string(other).trim().to_string(),
                    };
                    s.push_str(&format!(" {label}={text}"));
                }
            }
            s
        })
        .collect()
}

const FIELDS: &[(&str, &[&str])] = &[
    ("greeting", &["data", "greeting"]),
    ("replicas", &["data", "replicas"]),
    ("image", &["data", "image"]),
    ("origin", &["metadata", "labels", "helm.toolkit.fluxcd.io/name"]),
];

/// A repository with the chart in `charts/web` and a cache with the same
/// chart as version 1.0.0 (directory), 1.5.0 (directory) and 2.0.0.
fn trees() -> (MemTree, MemTree) {
    let mut repo = MemTree::new();
    add_chart(&mut repo, "charts/web", "from-repo");
    let mut cache = MemTree::new();
    add_chart(&mut cache, "flux-system/charts/web-1.0.0", "one");
    add_chart(&mut cache, "flux-system/charts/web-1.5.0", "one-five");
    add_chart(&mut cache, "flux-system/charts/web-2.0.0", "two");
    add_chart(&mut cache, "apps/other/deploy/web", "other-git");
    add_chart(&mut cache, "charts.example.com/stable/web-0.9.0", "v1-repo");
    (repo, cache)
}

#[test]
fn renders_releases_from_the_repository_and_the_chart_cache() {
    let (repo, cache_tree) = trees();
    let cache = Some(ChartCache { tree: &cache_tree, root: "" });
    let with_cache = Charts { repo: &repo, cache, revisions: None };
    let without = Charts { repo: &repo, cache: None, revisions: None };
    let at = Location::new("c", "u", "apps/web.yaml");
    let this = vec!["flux-system/flux-system".to_string()];
    let hr = |spec: &str| {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: web, namespace: apps}}\nspec:\n{spec}"
        )
    };
    let git = "  chart:\n    spec: {chart: ./charts/web, sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}}\n";
    let helm = |version: &str| {
        format!(
            "  chart:\n    spec: {{chart: web, version: '{version}', sourceRef: {{kind: HelmRepository, name: charts, namespace: flux-system}}}}\n"
        )
    };
    type Want = Result<&'static [&'static str], &'static str>;
    let cases: Vec<(String, bool, Want)> = vec![
        (
            hr(git),
            true,
            Ok(&[
                "CustomResourceDefinition/widgets.example.com ns=",
                "ConfigMap/web ns=apps greeting=from-repo replicas=1 image=none origin=web",
                "Job/migrate ns=apps",
            ]),
        ),
        // Numbers reach the chart as float64, as the helm-controller reads them.
        (
            format!("{}  values: {{replicas: 1000000}}\n  install: {{crds: Skip}}\n", hr(git)),
            true,
            Ok(&[
                "ConfigMap/web ns=apps greeting=from-repo replicas=1e+06 image=none origin=web",
                "Job/migrate ns=apps",
            ]),
        ),
        (
            format!("{}  install: {{crds: Skip, createNamespace: true}}\n", hr(git)),
            true,
            Ok(&[
                "Namespace/apps ns=",
                "ConfigMap/web ns=apps greeting=from-repo replicas=1 image=none origin=web",
                "Job/migrate ns=apps",
            ]),
        ),
        (
            hr(&helm("*")),
            true,
            Ok(&[
                "CustomResourceDefinition/widgets.example.com ns=",
                "ConfigMap/web ns=apps greeting=two replicas=1 image=none origin=web",
                "Job/migrate ns=apps",
            ]),
        ),
        (
            format!("{}  install: {{crds: Skip}}\n", hr(&helm("<2.0.0"))),
            true,
            Ok(&[
                "ConfigMap/web ns=apps greeting=one-five replicas=1 image=none origin=web",
                "Job/migrate ns=apps",
            ]),
        ),
        (
            hr(&helm("~1.0")),
            true,
            Ok(&[
                "CustomResourceDefinition/widgets.example.com ns=",
                "ConfigMap/web ns=apps greeting=one replicas=1 image=none origin=web",
                "Job/migrate ns=apps",
            ]),
        ),
        (
            hr(&helm("^3")),
            true,
            Err(
                "chart web version ^3 of HelmRepository flux-system/charts: not in the chart cache: no flux-system/charts/web-<version>.tgz (or unpacked directory) with version ^3; cached versions: 1.0.0, 1.5.0, 2.0.0",
            ),
        ),
        (
            hr(&helm("*")),
            false,
            Err(
                "HelmRelease web: chart web version * of HelmRepository flux-system/charts is not in this repository: pass --chart-cache DIR",
            ),
        ),
        (
            hr(
                "  chart:\n    spec: {chart: deploy/web, sourceRef: {kind: GitRepository, name: other}}\n",
            ),
            true,
            Ok(&[
                "CustomResourceDefinition/widgets.example.com ns=",
                "ConfigMap/web ns=apps greeting=other-git replicas=1 image=none origin=web",
                "Job/migrate ns=apps",
            ]),
        ),
        (
            hr(
                "  chart:\n    spec: {chart: deploy/nope, sourceRef: {kind: GitRepository, name: other}}\n",
            ),
            true,
            Err(
                "chart deploy/nope of GitRepository apps/other: not in the chart cache: no apps/other/deploy/nope",
            ),
        ),
    ];
    for (text, cached, want) in &cases {
        let charts = if *cached { &with_cache } else { &without };
        let got = from_flux_v2(&doc(text), &at, &this, &[])
            .and_then(|r| render_release(charts, &r, &[], &mut Vec::new()));
        match (got, want) {
            (Ok(objects), Ok(want)) => assert_eq!(summary(&objects, FIELDS), *want, "{text}"),
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{text}: {e}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }
}

/// Flux v1 `spec.chart.git` at `spec.chart.ref` (default `master`), as
/// the helm-operator clones it: the repository rendered (named by any of
/// its remotes, scp-like and HTTPS URLs alike) is read at that ref; another
/// repository from the chart cache's `<host>/<path>@<ref>/`; a caller that
/// gives no git refs has the tree rendered stand for the ref, which is
/// reported. Errors name the release, the URL and the ref.
#[test]
fn renders_flux_v1_git_charts_at_their_ref() {
    let (repo, mut cache_tree) = trees();
    add_chart(&mut cache_tree, "github.com/other/charts-repo@master/charts/web", "other-master");
    add_chart(&mut cache_tree, "github.com/other/charts-repo@v2/charts/web", "other-v2");
    add_chart(&mut cache_tree, "github.com/old/layout/charts/web", "old-layout");
    let mut revisions = crate::revisions::MemRevisions::new(&["https://github.com/org/this"]);
    for (reference, greeting) in [("master", "this-master"), ("release/2", "this-release")] {
        let mut t = MemTree::new();
        add_chart(&mut t, "charts/web", greeting);
        revisions.insert(reference, t);
    }
    let cache = Some(ChartCache { tree: &cache_tree, root: "" });
    let git = Charts { repo: &repo, cache, revisions: Some(&revisions) };
    let no_git = Charts { repo: &repo, cache, revisions: None };
    let bare = Charts { repo: &repo, cache: None, revisions: None };
    let at = Location::new("staging", "web", "releases/staging/web.yaml");
    let hr = |git: &str, reference: &str, path: &str| {
        format!(
            "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata: {{name: web, namespace: apps}}\nspec:\n  releaseName: web\n  chart: {{git: '{git}', {reference} path: {path}}}\n"
        )
    };
    let greeting = |g: &str| format!("ConfigMap/web ns=apps greeting={g} replicas=1 image=none");
    let this = "git@github.com:org/this.git";
    let other = "https://github.com/other/charts-repo";
    type Want = Result<String, &'static str>;
    let cases: Vec<(String, &Charts<'_>, Want, bool)> = vec![
        (hr(this, "", "charts/web"), &git, Ok(greeting("this-master")), false),
        (hr(this, "ref: release/2,", "./charts/web/"), &git, Ok(greeting("this-release")), false),
        (
            hr(this, "ref: gone,", "charts/web"),
            &git,
            Err(
                "HelmRelease web: chart \"charts/web\" of spec.chart.git git@github.com:org/this.git at ref gone: this repository has no branch, tag or commit \"gone\"",
            ),
            false,
        ),
        (
            hr(this, "", "charts/none"),
            &git,
            Err(
                "HelmRelease web: chart \"charts/none\" of spec.chart.git git@github.com:org/this.git at ref master: no charts/none/Chart.yaml in this repository at that ref",
            ),
            false,
        ),
        (hr(other, "", "charts/web"), &git, Ok(greeting("other-master")), false),
        (
            hr("git@github.com:other/charts-repo", "ref: v2,", "charts/web"),
            &git,
            Ok(greeting("other-v2")),
            false,
        ),
        (
            hr(other, "ref: v3,", "charts/web"),
            &git,
            Err(
                "HelmRelease web: chart \"charts/web\" of spec.chart.git https://github.com/other/charts-repo at ref v3: not the repository rendered (its remotes are https://github.com/org/this), and the chart cache has no github.com/other/charts-repo@v3/ directory",
            ),
            false,
        ),
        (
            hr("https://github.com/old/layout", "", "charts/web"),
            &git,
            Err(
                "the chart cache has github.com/old/layout/ but no github.com/old/layout@master/ (a git repository's charts are cached per ref)",
            ),
            false,
        ),
        (
            hr(other, "", "charts/nope"),
            &git,
            Err(
                "HelmRelease web: chart charts/nope of git repository https://github.com/other/charts-repo at ref master: not in the chart cache: no github.com/other/charts-repo@master/charts/nope",
            ),
            false,
        ),
        // Without git refs the cache still answers for its repositories, and
        // the tree rendered stands for any other, with a note.
        (hr(other, "ref: v2,", "charts/web"), &no_git, Ok(greeting("other-v2")), false),
        (hr(this, "", "charts/web"), &no_git, Ok(greeting("from-repo")), true),
        (
            hr("git@gitlab.com:team/infra.git", "", "charts/api"),
            &bare,
            Err(
                "HelmRelease web: chart \"charts/api\" of spec.chart.git git@gitlab.com:team/infra.git at ref master not found: no charts/api/Chart.yaml in the tree rendered, and the chart cache has no gitlab.com/team/infra@master/ directory",
            ),
            false,
        ),
    ];
    for (text, charts, want, noted) in &cases {
        let mut skipped = Vec::new();
        let got = from_flux_v1(&doc(text), &at, DEFAULT_GIT_REF)
            .and_then(|r| render_release(charts, &r, &[], &mut skipped));
        match (got, want) {
            (Ok(objects), Ok(want)) => {
                let configmaps: Vec<String> = summary(&objects, FIELDS)
                    .into_iter()
                    .filter(|s| s.starts_with("ConfigMap"))
                    .collect();
                assert_eq!(configmaps, vec![want.to_string()], "{text}");
                assert_eq!(
                    skipped.iter().any(|s| s.contains("read from the tree rendered")),
                    *noted,
                    "{text}: {skipped:?}"
                );
            }
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{text}: {e}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }
}

/// A chart read at another ref is keyed by that ref's revision, so a unit
/// cache never answers a release with a chart of a ref that has moved.
#[test]
fn git_chart_revisions_key_the_unit_cache() {
    let (repo, _) = trees();
    let text = "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata: {name: web, namespace: apps}\nspec:\n  chart: {git: 'https://github.com/org/this', path: charts/web}\n";
    let release =
        from_flux_v1(&doc(text), &Location::new("s", "web", "web.yaml"), DEFAULT_GIT_REF).unwrap();
    let memo = crate::cache::tests::Memo::default();
    let mut rendered = Vec::new();
    for greeting in ["one", "two", "two"] {
        let mut revisions = crate::revisions::MemRevisions::new(&["https://github.com/org/this"]);
        let mut t = MemTree::new();
        add_chart(&mut t, "charts/web", greeting);
        revisions.insert("master", t);
        let revisions = RevisionsAt(revisions, greeting);
        let charts = Charts { repo: &repo, cache: None, revisions: Some(&revisions) };
        let objects = render_release_with(&charts, &release, &[], &mut Vec::new(), &memo).unwrap();
        rendered.push(summary(&objects, FIELDS).into_iter().find(|s| s.starts_with("ConfigMap")));
    }
    assert_eq!(memo.ran.load(std::sync::atomic::Ordering::SeqCst), 2, "{rendered:?}");
    assert!(rendered[1].as_deref().is_some_and(|s| s.contains("greeting=two")), "{rendered:?}");
}

/// [`crate::revisions::MemRevisions`] whose revision ids name `id`.
#[derive(Debug)]
struct RevisionsAt(crate::revisions::MemRevisions, &'static str);

impl Revisions for RevisionsAt {
    fn urls(&self) -> Vec<String> {
        self.0.urls()
    }

    fn tree_at(&self, reference: &str) -> Result<Option<Revision>, String> {
        Ok(self.0.tree_at(reference)?.map(|r| Revision { id: self.1.to_string(), ..r }))
    }
}

/// The values a release object renders with, over a few ConfigMaps and
/// Secrets of namespace `apps`, as YAML; or the error.
fn values_of(object: &str) -> (Result<String, String>, Vec<String>) {
    let (repo, _) = trees();
    let available = [
        res(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vals, namespace: apps}\ndata:\n  values.yaml: |\n    greeting: cm\n    replicas: 2\n  img: nginx:1.2\n  flag: 'true'\n  quoted: \"'true'\"\n  list: a,b\n  custom.yaml: 'greeting: custom'\n  bad.yaml: '[1'\n",
        ),
        res(
            "apiVersion: v1\nkind: Secret\nmetadata: {name: sec, namespace: apps}\ndata:\n  values.yaml: Z3JlZXRpbmc6IHNlY3JldAo=\nstringData:\n  extra.yaml: 'image: from-string-data'\n  bad.yaml: '[1'\n",
        ),
        res(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: vals, namespace: other}\ndata:\n  values.yaml: 'greeting: other-ns'\n",
        ),
        res(
            "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata: {name: sealed, namespace: apps}\nspec:\n  encryptedData: {values.yaml: AgB9}\n",
        ),
        res(
            "apiVersion: external-secrets.io/v1beta1\nkind: ExternalSecret\nmetadata: {name: ext, namespace: apps}\nspec:\n  target: {name: from-vault}\n",
        ),
    ];
    let available: Vec<&Resource> = available.iter().collect();
    let at = Location::new("c", "u", "r.yaml");
    let d = doc(object);
    let release = if str_at(&d, &["apiVersion"]).starts_with("helm.toolkit") {
        from_flux_v2(&d, &at, &["flux-system/flux-system".to_string()], &[])
    } else {
        from_flux_v1(&d, &at, DEFAULT_GIT_REF)
    };
    let charts = Charts { repo: &repo, cache: None, revisions: None };
    let mut skipped = Vec::new();
    let got = release.and_then(|r| {
        let loaded = load_chart(&charts, &r)?;
        release_values::values(&r, &loaded, &available, &mut skipped)
    });
    (got.map(|m| yaml::to_string(&Value::Map(m))).map_err(|e| e.to_string()), skipped)
}

#[test]
fn flux_v2_values_from() {
    let hr = |spec: &str| {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: web, namespace: apps}}\nspec:\n  chart:\n    spec: {{chart: ./charts/web, sourceRef: {{kind: GitRepository, name: flux-system, namespace: flux-system}}}}\n{spec}"
        )
    };
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("  values: {replicas: 3, big: 1000000}\n", Ok("big: 1000000\nreplicas: 3\n")),
        (
            "  valuesFrom: [{kind: ConfigMap, name: vals}]\n  values: {replicas: 5}\n",
            Ok("greeting: cm\nreplicas: 5\n"),
        ),
        ("  valuesFrom: [{kind: Secret, name: sec}]\n", Ok("greeting: secret\n")),
        (
            "  valuesFrom: [{kind: Secret, name: sec, valuesKey: extra.yaml}]\n",
            Ok("image: from-string-data\n"),
        ),
        (
            "  valuesFrom: [{kind: ConfigMap, name: vals, valuesKey: img, targetPath: image.tag}]\n",
            Ok("image:\n  tag: nginx:1.2\n"),
        ),
        (
            "  valuesFrom: [{kind: ConfigMap, name: vals, valuesKey: flag, targetPath: on}]\n",
            Ok("\"on\": true\n"),
        ),
        (
            "  valuesFrom: [{kind: ConfigMap, name: vals, valuesKey: quoted, targetPath: on}]\n",
            Ok("\"on\": \"true\"\n"),
        ),
        (
            "  valuesFrom: [{kind: ConfigMap, name: vals, valuesKey: img, targetPath: image.tag}]\n  values: {image: {tag: inline, pull: Always}}\n",
            Ok("image:\n  pull: Always\n  tag: inline\n"),
        ),
        (
            "  valuesFrom: [{kind: ConfigMap, name: vals, valuesKey: list, targetPath: x}]\n",
            Err("targetPath x"),
        ),
        ("  valuesFrom: [{kind: ConfigMap, name: gone, optional: true}]\n", Ok("{}\n")),
        (
            "  valuesFrom: [{kind: ConfigMap, name: vals, valuesKey: nope, optional: true}]\n",
            Ok("{}\n"),
        ),
        (
            "  valuesFrom: [{kind: ConfigMap, name: gone}]\n",
            Err("valuesFrom ConfigMap apps/gone key \"values.yaml\": not in the render"),
        ),
        (
            "  valuesFrom: [{kind: ConfigMap, name: vals, valuesKey: nope}]\n",
            Err("key \"nope\": no such key"),
        ),
        (
            "  valuesFrom: [{kind: Secret, name: sealed}]\n",
            Err(
                "not in the render (mark it optional: true if it may be missing); SealedSecret apps/sealed (src.yaml) makes it in the cluster",
            ),
        ),
        (
            "  valuesFrom: [{kind: Secret, name: from-vault}]\n",
            Err("; ExternalSecret apps/ext (src.yaml) makes it in the cluster"),
        ),
        ("  valuesFrom: [{kind: Secret, name: sealed, optional: true}]\n", Ok("{}\n")),
        ("  valuesFrom: [{kind: ConfigMap, name: vals, valuesKey: img}]\n", Err("key \"img\"")),
        ("  valuesFrom: [{kind: Pod, name: vals}]\n", Err("unsupported kind")),
    ];
    for (spec, want) in cases {
        let (got, _) = values_of(&hr(spec));
        match (got, want) {
            (Ok(got), Ok(want)) => assert_eq!(got, *want, "{spec}"),
            (Err(e), Err(want)) => assert!(e.contains(want), "{spec}: {e}"),
            (got, want) => panic!("{spec}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn flux_v1_values_from() {
    let hr = |spec: &str| {
        format!(
            "apiVersion: flux.weave.works/v1beta1\nkind: HelmRelease\nmetadata: {{name: web, namespace: apps}}\nspec:\n  chart: {{path: charts/web}}\n{spec}"
        )
    };
    let cases: &[(&str, Result<&str, &str>, &[&str])] = &[
        (
            "  valueFileSecrets: [{name: sec}]\n  valuesFrom:\n  - configMapKeyRef: {name: vals}\n  - secretKeyRef: {name: sec, key: extra.yaml}\n  values: {replicas: 9}\n",
            Ok("greeting: cm\nimage: from-string-data\nreplicas: 9\n"),
            &[],
        ),
        (
            "  valuesFrom: [{configMapKeyRef: {name: vals, namespace: other}}]\n",
            Ok("greeting: other-ns\n"),
            &[],
        ),
        (
            "  valuesFrom: [{configMapKeyRef: {name: vals, key: custom.yaml}}]\n",
            Ok("greeting: custom\n"),
            &[],
        ),
        ("  valuesFrom: [{chartFileRef: {path: values-prod.yaml}}]\n", Ok("replicas: 3\n"), &[]),
        ("  valuesFrom: [{chartFileRef: {path: nope.yaml, optional: true}}]\n", Ok("{}\n"), &[]),
        (
            "  valuesFrom: [{chartFileRef: {path: nope.yaml}}]\n",
            Err("chartFileRef nope.yaml: the chart has no such file"),
            &[],
        ),
        (
            "  valuesFrom: [{externalSourceRef: {url: 'https://example.com/v.yaml', optional: true}}]\n",
            Ok("{}\n"),
            &[
                "HelmRelease web (r.yaml): optional values from https://example.com/v.yaml not fetched",
            ],
        ),
        (
            "  valuesFrom: [{externalSourceRef: {url: 'https://example.com/v.yaml'}}]\n",
            Err("kiln fetches nothing"),
            &[],
        ),
        ("  valuesFrom: [{configMapKeyRef: {name: gone, optional: true}}]\n", Ok("{}\n"), &[]),
        (
            "  valuesFrom: [{secretKeyRef: {name: gone}}]\n",
            Err("secretKeyRef apps/gone key \"values.yaml\": Secret not in the render"),
            &[],
        ),
        ("  valuesFrom: [{configMapKeyRef: {name: vals, key: nope}}]\n", Err("no such key"), &[]),
        ("  valuesFrom: [{bucketRef: {name: x}}]\n", Err("expected configMapKeyRef"), &[]),
        // The helm-operator passes over an optional ConfigMap whose values
        // are not YAML, but not such a Secret.
        (
            "  valuesFrom: [{configMapKeyRef: {name: vals, key: bad.yaml, optional: true}}]\n",
            Ok("{}\n"),
            &[],
        ),
        ("  valuesFrom: [{configMapKeyRef: {name: vals, key: bad.yaml}}]\n", Err("bad.yaml"), &[]),
        (
            "  valuesFrom: [{secretKeyRef: {name: sec, key: bad.yaml, optional: true}}]\n",
            Err("secretKeyRef apps/sec key \"bad.yaml\""),
            &[],
        ),
        (
            "  valuesFrom: [{secretKeyRef: {name: gone, namespace: other}}]\n",
            Err(
                "list \"Secret other/gone\" under clusterObjects in kiln.yaml if the cluster holds it",
            ),
            &[],
        ),
    ];
    for (spec, want, notes) in cases {
        let (got, skipped) = values_of(&hr(spec));
        match (got, want) {
            (Ok(got), Ok(want)) => assert_eq!(got, *want, "{spec}"),
            (Err(e), Err(want)) => assert!(e.contains(want), "{spec}: {e}"),
            (got, want) => panic!("{spec}: got {got:?}, want {want:?}"),
        }
        assert_eq!(&skipped, notes, "{spec}");
    }
}

/// `chartFileRef` reads a file of the chart's directory, which only a git
/// chart has: the helm-operator cannot read one from a Helm repository's
/// chart, and passes over an optional one.
#[test]
fn flux_v1_chart_file_refs_need_a_git_chart() {
    let (repo, cache_tree) = trees();
    let charts = Charts {
        repo: &repo,
        cache: Some(ChartCache { tree: &cache_tree, root: "" }),
        revisions: None,
    };
    let at = Location::new("c", "u", "r.yaml");
    for (optional, want) in [
        ("", Err("chart files are read only from charts of a git repository")),
        ("optional: true", Ok("{}\n".to_string())),
    ] {
        let text = format!(
            "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata: {{name: web, namespace: apps}}\nspec:\n  chart: {{repository: 'https://charts.example.com/stable/', name: web, version: 0.9.0}}\n  valuesFrom: [{{chartFileRef: {{path: values-prod.yaml, {optional}}}}}]\n"
        );
        let got = from_flux_v1(&doc(&text), &at, DEFAULT_GIT_REF).and_then(|r| {
            let loaded = load_chart(&charts, &r)?;
            release_values::values(&r, &loaded, &[], &mut Vec::new())
        });
        match (got, want) {
            (Ok(got), Ok(want)) => assert_eq!(yaml::to_string(&Value::Map(got)), want),
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{e}"),
            (got, want) => panic!("got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn values_files_replace_the_chart_defaults() {
    let (repo, cache_tree) = trees();
    let charts = Charts {
        repo: &repo,
        cache: Some(ChartCache { tree: &cache_tree, root: "" }),
        revisions: None,
    };
    let at = Location::new("c", "u", "apps/web.yaml");
    let this = vec!["flux-system/flux-system".to_string()];
    let hr = |spec: &str| {
        format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata: {{name: web, namespace: apps}}\nspec:\n  chart:\n    spec: {spec}\n"
        )
    };
    let git = "chart: ./charts/web, sourceRef: {kind: GitRepository, name: flux-system, namespace: flux-system}";
    let helm = "chart: web, version: '1.0.0', sourceRef: {kind: HelmRepository, name: charts, namespace: flux-system}";
    let cases: Vec<(String, Result<&str, &str>)> = vec![
        (
            hr(&format!(
                "{{{git}, valuesFiles: [charts/web/values.yaml, charts/web/values-prod.yaml]}}"
            )),
            Ok("greeting=from-repo replicas=3"),
        ),
        (
            hr(&format!("{{{git}, valuesFiles: [charts/web/values-prod.yaml]}}")),
            Ok("greeting= replicas=3"),
        ),
        (
            hr(&format!("{{{helm}, valuesFiles: [values.yaml, values-prod.yaml]}}")),
            Ok("greeting=one replicas=3"),
        ),
        (
            hr(&format!(
                "{{{helm}, valuesFiles: [values.yaml, nope.yaml], ignoreMissingValuesFiles: true}}"
            )),
            Ok("greeting=one replicas=1"),
        ),
        (
            hr(&format!("{{{helm}, valuesFiles: [nope.yaml]}}")),
            Err("valuesFiles nope.yaml: no such file"),
        ),
    ];
    for (text, want) in &cases {
        let got = from_flux_v2(&doc(text), &at, &this, &[])
            .and_then(|r| render_release(&charts, &r, &[], &mut Vec::new()));
        match (got, want) {
            (Ok(objects), Ok(want)) => {
                let cm = objects.iter().find(|r| r.kind() == "ConfigMap").unwrap();
                let got = format!(
                    "greeting={} replicas={}",
                    str_at(&cm.value, &["data", "greeting"]),
                    str_at(&cm.value, &["data", "replicas"])
                );
                assert_eq!(got, *want, "{text}");
            }
            (Err(e), Err(want)) => assert!(e.to_string().contains(want), "{text}: {e}"),
            (got, want) => panic!("{text}: got {got:?}, want {want:?}"),
        }
    }
}

#[test]
fn splits_helm_output_into_crds_manifests_and_hooks() {
    let cases: &[(&str, bool)] = &[
        ("web/crds/a.yaml", true),
        ("web/charts/sub/crds/a.yaml", true),
        ("web/charts/sub/charts/deeper/crds/x/a.yaml", true),
        ("web/templates/crds/a.yaml", false),
        ("web/templates/a.yaml", false),
        ("web/charts/sub/templates/crds.yaml", false),
    ];
    for (source, want) in cases {
        assert_eq!(is_crd_file(source), *want, "{source}");
    }
    let out = split_output("---\n# Source: web/crds/c.yaml\nkind: CustomResourceDefinition\n---\n# Source: web/templates/a.yaml\nkind: A\n---\nkind: B\n---\n# Source: web/templates/h.yaml\nkind: H\nmetadata:\n  annotations:\n    helm.sh/hook: post-install\n", true).unwrap();
    let kinds =
        |v: &[Value]| v.iter().map(|d| str_at(d, &["kind"]).to_string()).collect::<Vec<_>>();
    assert_eq!(
        (kinds(&out.crds), kinds(&out.manifests), kinds(&out.hooks)),
        (
            vec!["CustomResourceDefinition".to_string()],
            vec!["A".to_string(), "B".to_string()],
            vec!["H".to_string()]
        )
    );
}

/// Flux v2's helm-controller reads chart output through kustomize (its
/// origin-labels post-renderer), where a duplicated key is an error; the
/// Flux v1 helm-operator installs through Helm's Kubernetes client, which
/// reads YAML 1.1 and keeps the last of duplicated keys.
#[test]
fn chart_output_is_read_as_the_installing_controller_reads_it() {
    let text = "---\n# Source: w/templates/cm.yaml\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: w\ndata:\n  POOL: \"5\"\n  POOL: \"2\"\nspec:\n  on: yes\n";
    let err = split_output(text, true).unwrap_err();
    assert!(err.contains("mapping key \"POOL\" already defined"), "{err}");
    let out = split_output(text, false).unwrap();
    let cm = &out.manifests[0];
    assert_eq!(cm.get_path(&["data", "POOL"]), Some(&Value::String("2".into())));
    assert_eq!(cm.get_path(&["spec", "true"]), Some(&Value::Bool(true)));
}
