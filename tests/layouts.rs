//! `kiln render` and `kiln check` on repositories of every layout, through the binary.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::util::copy_dir;

/// Runs the kiln binary with a cleared environment; returns (exit code, stdout, stderr).
pub fn kiln(dir: &Path, args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn workspace() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn render_prints_every_layout_or_a_clear_error() {
    let cases: &[(&str, i32, &str)] = &[
        (
            "tests/fixtures/layouts/namespaces",
            0,
            "# cluster: live-1, unit: team-a, source: namespaces/live-1/team-a/00-namespace.yaml\n",
        ),
        ("tests/fixtures/layouts/environments", 0, "        - --allow=192.168.0.0/16\n"),
        (
            "tests/fixtures/layouts/plain",
            0,
            "# cluster: default, unit: manifests, source: deploy/namespace.yaml\n",
        ),
        (
            ".",
            0,
            "# cluster: production, unit: apps, source: apps/overlays/production/user-roles-pdb.yaml\n",
        ),
        ("tests/fixtures/layouts/releases", 0, "        image: travisci/jupiter-brain:v1.0.0\n"),
    ];
    for (dir, code, want) in cases {
        let (got, stdout, stderr) = kiln(&workspace(), &["render", dir]);
        assert_eq!(got, *code, "{dir}: {stderr}");
        assert!(stdout.contains(want) || stderr.contains(want), "{dir}:\n{stdout}{stderr}");
    }
}

#[test]
fn render_out_replaces_the_whole_tree() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out");
    std::fs::create_dir_all(out.join("stale/unit")).unwrap();
    std::fs::write(out.join("stale/unit/old.yaml"), "kind: Old\n").unwrap();
    let dir = workspace().join("tests/fixtures/layouts/namespaces");
    let (code, _, stderr) = kiln(&dir, &["render", ".", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!out.join("stale").exists());
    assert!(out.join("live-1/team-b/team-b/core_v1_ResourceQuota_namespace-quota.yaml").is_file());
    assert!(out.join("kiln-index.yaml").is_file());
    // A failed render leaves the previous output whole.
    let bad = tmp.path().join("bad");
    copy_dir(&dir, &bad);
    std::fs::write(bad.join("namespaces/live-1/team-b/broken.yaml"), "kind: [\n").unwrap();
    let (code, _, stderr) = kiln(&bad, &["render", ".", "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("cluster live-1, unit team-b, file namespaces/live-1/team-b/broken.yaml"),
        "{stderr}"
    );
    assert!(out.join("kiln-index.yaml").is_file());
}

/// Every failing unit is a problem of its own in `kiln check`.
#[test]
fn check_counts_each_failing_unit() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    copy_dir(&workspace().join("tests/fixtures/layouts/namespaces"), &repo);
    for team in ["team-a", "team-b"] {
        std::fs::write(repo.join(format!("namespaces/live-1/{team}/broken.yaml")), "kind: [\n")
            .unwrap();
    }
    let (code, stdout, _) = kiln(&repo, &["check"]);
    assert_eq!(code, 1);
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 3, "{stdout}");
    assert!(
        lines[0]
            .starts_with("cluster live-1, unit team-a, file namespaces/live-1/team-a/broken.yaml")
    );
    assert!(
        lines[1]
            .starts_with("cluster live-1, unit team-b, file namespaces/live-1/team-b/broken.yaml")
    );
    assert_eq!(lines[2], ".: layout namespaces: 2 problems");
}

#[test]
fn check_reports_the_flux_v1_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let repo = tmp.path().join("repo");
    copy_dir(&workspace().join("tests/fixtures/layouts/releases"), &repo);
    let (code, stdout, _) = kiln(&repo, &["check"]);
    assert_eq!((code, stdout.as_str()), (0, ".: layout flux-v1: no problems\n"));
    let staging = repo.join("releases/macstadium-staging");
    let text = std::fs::read_to_string(staging.join("jupiter-brain-org.yaml")).unwrap();
    std::fs::write(
        staging.join("jupiter-brain.yaml"),
        text.replace("chart: jupiter-brain", "chart: jupiter"),
    )
    .unwrap();
    std::fs::remove_file(staging.join("jupiter-brain-org.yaml")).unwrap();
    let (code, stdout, _) = kiln(&repo, &["check"]);
    assert_eq!(code, 1);
    assert_eq!(
        stdout,
        "cluster macstadium-staging, unit jupiter-brain-org, file releases/macstadium-staging/jupiter-brain.yaml: metadata.name \"jupiter-brain-org\" does not match the file name \"jupiter-brain\"\n\
         cluster macstadium-staging, unit jupiter-brain-org, file releases/macstadium-staging/jupiter-brain.yaml: metadata.labels.chart \"jupiter\" does not match spec.chartGitPath \"jupiter-brain\"\n\
         .: layout flux-v1: 2 problems\n"
    );
}

/// Charts that are not in the repository come from `--chart-cache`: the
/// highest cached version meeting the HelmRelease's constraint, OCI charts
/// through `chartRef`, Flux v1 repository charts by URL; without the cache,
/// or without the version in it, the render fails naming the chart.
#[test]
fn render_reads_charts_from_the_chart_cache() {
    let cache = "tests/fixtures/layouts/chart-cache";
    let cases: &[(&[&str], i32, &[&str])] = &[
        (
            &["render", "tests/fixtures/layouts/flux-cache", "--chart-cache", cache],
            0,
            &[
                "    chart: hello-1.4.2\n    helm.toolkit.fluxcd.io/name: hello\n",
                "      - image: registry.example.com/hello:1.4.2\n",
                "    post-rendered: \"true\"\n",
                "    helm.toolkit.fluxcd.io/name: hello-oci\n",
            ],
        ),
        (
            &["render", "tests/fixtures/layouts/releases-cache", "--chart-cache", cache],
            0,
            &["    chart: hello-1.0.0\n", "  replicas: 4\n"],
        ),
        (
            &["plan", "tests/fixtures/layouts/releases-cache", "--chart-cache", cache],
            0,
            &[
                "skipped: HelmRelease hello (releases/staging/hello.yaml): optional values from https://config.example.com/hello.yaml not fetched",
            ],
        ),
        (
            &["check", "tests/fixtures/layouts/releases-cache", "--chart-cache", cache],
            0,
            &["layout flux-v1: no problems"],
        ),
        (
            &[
                "check",
                "tests/fixtures/layouts/releases-cache",
                "--chart-cache",
                "tests/fixtures/layouts/chart-cache/flux-system",
            ],
            1,
            &[
                "cluster staging, unit hello, file releases/staging/hello.yaml: chart hello version 1.0.0 of repository https://charts.example.com/stable/: not in the chart cache",
            ],
        ),
        (
            &["render", "tests/fixtures/layouts/flux-cache"],
            2,
            &[
                "cluster prod, unit apps, file apps/hello.yaml: HelmRelease hello: chart hello version >=1.0.0 <2.0.0 of HelmRepository flux-system/charts is not in this repository: pass --chart-cache DIR",
            ],
        ),
        (
            &[
                "render",
                "tests/fixtures/layouts/flux-cache",
                "--chart-cache",
                "tests/fixtures/layouts/chart-cache/flux-system",
            ],
            2,
            &[
                "HelmRelease hello: chart hello version >=1.0.0 <2.0.0 of HelmRepository flux-system/charts: not in the chart cache: no directory flux-system/charts/",
            ],
        ),
        (
            &[
                "render",
                "tests/fixtures/layouts/flux-cache",
                "--chart-cache",
                "tests/fixtures/layouts/nowhere",
            ],
            2,
            &["chart cache tests/fixtures/layouts/nowhere"],
        ),
    ];
    for (args, code, wants) in cases {
        let (got, stdout, stderr) = kiln(&workspace(), args);
        assert_eq!(got, *code, "{args:?}: {stderr}");
        for want in *wants {
            assert!(
                stdout.contains(want) || stderr.contains(want),
                "{args:?}: {want}\n{stdout}{stderr}"
            );
        }
    }
}

/// A Flux v1 release whose `spec.chart.git` is the repository rendered
/// reads its chart at `spec.chart.ref` (default `master`), as the
/// helm-operator clones it, not from the files rendered: the chart
/// differs between two branches and in the uncommitted work tree. A ref
/// the repository lacks, or another repository missing from the chart
/// cache, is an error naming the release, the URL and the ref.
#[test]
fn flux_v1_git_charts_are_read_at_their_ref() {
    let repo = crate::util::TestRepo::new();
    repo.git(&["remote", "add", "origin", "git@github.com:org/gitops.git"]);
    let chart = |greeting: &str| {
        repo.write("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 1.0.0\n");
        repo.write("charts/web/values.yaml", &format!("greeting: {greeting}\n"));
        repo.write(
            "charts/web/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting }}\n",
        );
    };
    let release = |name: &str, git: &str, reference: &str| {
        repo.write(
            &format!("releases/staging/{name}.yaml"),
            &format!(
                "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  name: {name}\n  namespace: staging\nspec:\n  releaseName: {name}\n  chart:\n    git: {git}\n{reference}    path: charts/web\n"
            ),
        );
    };
    repo.switch("master");
    chart("on-master");
    release("web", "ssh://git@github.com/org/gitops.git", "");
    release("web-prod", "https://github.com/org/gitops", "    ref: production\n");
    repo.commit_all("master");
    repo.git(&["switch", "--quiet", "-c", "production"]);
    chart("on-production");
    repo.commit_all("production");
    repo.switch("master");
    chart("uncommitted");

    let (code, stdout, stderr) = kiln(repo.path(), &["render", "."]);
    assert_eq!(code, 0, "{stderr}");
    let mut greetings: Vec<&str> =
        stdout.lines().filter(|l| l.trim_start().starts_with("greeting:")).collect();
    greetings.sort();
    assert_eq!(greetings, ["  greeting: on-master", "  greeting: on-production"], "{stdout}");

    release("web-gone", "git@github.com:org/gitops.git", "    ref: gone\n");
    release("web-other", "git@github.com:org/charts.git", "    ref: v1\n");
    let (code, _, stderr) = kiln(repo.path(), &["render", "."]);
    assert_eq!(code, 2, "{stderr}");
    for want in [
        "HelmRelease web-gone: chart \"charts/web\" of spec.chart.git git@github.com:org/gitops.git at ref gone: this repository has no branch, tag or commit \"gone\"",
        "HelmRelease web-other: chart \"charts/web\" of spec.chart.git git@github.com:org/charts.git at ref v1: not the repository rendered (its remotes are git@github.com:org/gitops.git), and no chart cache was given (pass --chart-cache DIR holding github.com/org/charts@v1/<chart path>)",
    ] {
        assert!(stderr.contains(want), "{want}\n{stderr}");
    }
    // The other repository's chart at that ref, from the chart cache.
    let cache = tempfile::tempdir().unwrap();
    let cached = cache.path().join("github.com/org/charts@v1/charts/web");
    crate::util::copy_dir(&repo.path().join("charts/web"), &cached);
    std::fs::write(cached.join("values.yaml"), "greeting: cached-v1\n").unwrap();
    std::fs::remove_file(repo.path().join("releases/staging/web-gone.yaml")).unwrap();
    let cache_arg = cache.path().to_str().unwrap();
    let (code, stdout, stderr) = kiln(repo.path(), &["render", ".", "--chart-cache", cache_arg]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("  greeting: cached-v1\n"), "{stdout}");

    // A helm-operator run with `--git-default-ref production`
    // (`gitDefaultRef` in kiln.yaml) reads a release without
    // `spec.chart.ref` at `production`; one naming a ref keeps it.
    std::fs::remove_file(repo.path().join("releases/staging/web-other.yaml")).unwrap();
    repo.write("kiln.yaml", "gitDefaultRef: production\n");
    release("web-master", "git@github.com:org/gitops.git", "    ref: master\n");
    let (code, stdout, stderr) = kiln(repo.path(), &["render", "."]);
    assert_eq!(code, 0, "{stderr}");
    let greetings = |stdout: &str| -> Vec<String> {
        let mut found: Vec<String> = stdout
            .split("\n---\n")
            .map(|doc| {
                let field = |key: &str| {
                    doc.lines().find_map(|l| l.trim_start().strip_prefix(key)).unwrap_or("")
                };
                format!("{} {}", field("name: "), field("greeting: "))
            })
            .collect();
        found.sort();
        found
    };
    assert_eq!(
        greetings(&stdout),
        ["web on-production", "web-master on-master", "web-prod on-production"],
        "{stdout}"
    );
    repo.write("kiln.yaml", "gitDefaultRef: gone\n");
    let (code, _, stderr) = kiln(repo.path(), &["render", "."]);
    assert_eq!(code, 2, "{stderr}");
    let want = "HelmRelease web: chart \"charts/web\" of spec.chart.git ssh://git@github.com/org/gitops.git at ref gone: this repository has no branch, tag or commit \"gone\" (the helm-operator clones spec.chart.ref, or its --git-default-ref when none is given: gitDefaultRef in kiln.yaml, default master)";
    assert!(stderr.contains(want), "{stderr}");
}

/// Flux v1 releases kept in plain directories, as spack-infrastructure
/// keeps them (`k8s/<app>/release.yaml`, no kustomization): fluxd, or the
/// kustomize-controller's generated kustomization, applies every manifest
/// below the path, and the helm-operator renders each `HelmRelease` (its
/// `valuesFrom` reading a ConfigMap beside it). The same tree under a Flux
/// v2 `gotk-sync.yaml` renders the same objects.
#[test]
fn flux_v1_releases_in_plain_directories_are_rendered() {
    let cache = "tests/fixtures/layouts/chart-cache";
    let fixture = "tests/fixtures/layouts/plain-releases";
    let summary = |stdout: &str| -> Vec<String> {
        stdout
            .split("\n---\n")
            .map(|doc| {
                let field = |key: &str| {
                    doc.lines().find_map(|l| l.trim_start().strip_prefix(key)).unwrap_or("")
                };
                format!("{} {} {}", field("kind: "), field("name: "), field("replicas: "))
            })
            .collect()
    };
    let (code, stdout, stderr) = kiln(&workspace(), &["render", fixture, "--chart-cache", cache]);
    assert_eq!(code, 0, "{stderr}");
    let plain = summary(&stdout);
    assert_eq!(
        plain,
        [
            "Namespace hello ",
            "ConfigMap hello-values 3",
            "Deployment hello 3",
            "Deployment hello-hello-staging 1",
        ],
        "{stdout}"
    );
    assert!(stdout.contains("# cluster: default, unit: hello, source: k8s/hello/release.yaml\n"));

    let dir = tempfile::tempdir().unwrap();
    crate::util::copy_dir(&workspace().join(fixture), dir.path());
    std::fs::remove_file(dir.path().join("kiln.yaml")).unwrap();
    std::fs::create_dir(dir.path().join("k8s/flux-system")).unwrap();
    std::fs::write(
        dir.path().join("k8s/flux-system/gotk-sync.yaml"),
        "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  ref:\n    branch: main\n  url: ssh://git@github.com/example/infrastructure\n---\napiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./k8s\n  prune: true\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n",
    )
    .unwrap();
    let cache = workspace().join(cache);
    let (code, stdout, stderr) =
        kiln(dir.path(), &["render", ".", "--chart-cache", cache.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let v2 = summary(&stdout);
    for want in &plain {
        assert!(v2.contains(want), "{want}\n{stdout}");
    }
}

/// A Terraform-templated platform (kube-coreos style): each
/// `environments/<env>.tfvars` renders the static pods and add-ons the
/// modules template, with the values Terraform would compute at plan time.
#[test]
fn terraform_platforms_render_each_environment() {
    let (code, stdout, stderr) = kiln(
        &workspace(),
        &["render", "tests/fixtures/layouts/terraform", "--terraform-modules", TERRAFORM_MODULES],
    );
    assert_eq!(code, 0, "{stderr}");
    let play = stdout.split("# cluster: prod").next().unwrap();
    let prod = &stdout[play.len()..];
    for want in [
        "# cluster: play, unit: master, source: terraform/modules/master/assets/manifests/kube-apiserver.yml\n",
        "# cluster: play, unit: root, source: terraform/manifests/namespace.yml\n",
        "# cluster: play, unit: master, source: terraform/modules/master/assets/addons/dns/deployment.yml\n",
        // A map from the environment file through a module argument, values() and formatlist().
        "    - --etcd-servers=https://10.80.10.100:2379,https://10.80.11.100:2379,https://10.80.12.100:2379\n",
        "    - --apiserver-count=3\n",
        "    - --bucket=play-jest-secrets-eu-west-1\n",
        // The variables.tf default where the environment sets none; $${ is a literal ${.
        "    image: quay.io/coreos/hyperkube:v1.4.7_coreos.0\n",
        "      value: ${HOME}\n",
        "    - --master=https://kube.play.example.internal\n",
        // %{ if } and %{ for } directives; templatefile() with a local.
        "    - addons/calico\n",
        "    environment: play-jest\n    managed-by: terraform\n",
        // data "gotemplate_file": Go templates with the provider's functions
        // (split, is_true, join, upper) and a snippet.
        "# cluster: play, unit: compute, source: terraform/modules/compute/assets/manifests/kube-proxy.yml\n",
        "    version: v1.4.7_coreos.0\n",
        "    - --proxy-mode=iptables\n    - --masquerade-all\n    image: quay.io/coreos/hyperkube:v1.4.7_coreos.0\n",
        "# cluster: play, unit: compute, source: terraform/modules/compute/assets/manifests/node-config.yml\n",
        "  group: DEFAULT\n  labels: role=compute;tier=general\n",
        // A module with for_each is a unit per instance, named by its
        // address, with each.key and each.value; a resource with count
        // renders per instance, its address in the source.
        "# cluster: play, unit: pools[\"gpu\"], source: terraform/modules/compute/assets/manifests/kube-proxy.yml\n",
        "    compute-group: gpu\n    version: v1.5.2_gpu\n",
        "  group: BATCH\n  labels: role=compute;pool=batch\n",
        "# cluster: play, unit: root, source: terraform/manifests/namespace.yml (aws_s3_bucket_object.team_namespace[1])\n",
        "  name: team-search\n",
        // The remote module, read where `terraform init` installed it, and
        // the module its package calls by a relative path.
        "# cluster: play, unit: network, source: terraform/.terraform/modules/network/manifests/ip-pool.yml\n",
        "# cluster: play, unit: network.flow, source: terraform/.terraform/modules/network/flow/flow-logs.yml\n",
        "  cidr: 10.80.0.0/16\n  environment: play-jest\n",
    ] {
        assert!(play.contains(want), "{want}\n{play}");
    }
    assert!(
        prod.contains(
            "    - --proxy-mode=iptables\n    image: registry.example.com/hyperkube:v1.5.2\n"
        ),
        "{prod}"
    );
    assert!(
        stderr.contains("terraform/modules/compute/assets/cloudinit/compute.yml: read by data.gotemplate_file.compute_user_data (terraform/modules/compute/compute.tf:4), not a Kubernetes manifest"),
        "{stderr}"
    );
    assert!(prod.contains("    image: registry.example.com/hyperkube:v1.5.2\n"), "{prod}");
    assert!(prod.contains("    - --etcd-servers=https://10.100.10.100:2379,"), "{prod}");
    assert!(!prod.contains("addons/calico"), "{prod}");
    // prod sets no pools and no teams: no instances.
    assert!(!prod.contains("unit: pools[") && !prod.contains("team-"), "{prod}");
    // The cloud-init template is not a manifest: left out and said so.
    assert!(!stdout.contains("write_files"), "{stdout}");
    assert!(
        stderr.contains("terraform/modules/master/assets/cloudinit/secure.yml: read by data.template_file.secure_cloudinit (terraform/modules/master/manifests.tf:35), not a Kubernetes manifest"),
        "{stderr}"
    );
    let (code, stdout, stderr) = kiln(
        &workspace(),
        &["plan", "tests/fixtures/layouts/terraform", "--terraform-modules", TERRAFORM_MODULES],
    );
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("terraform"), "{stdout}");
}

/// What `terraform init` leaves in `.terraform/modules` for the terraform fixture.
const TERRAFORM_MODULES: &str = "tests/fixtures/layouts/terraform-modules";

/// The terraform fixture copied into `dir`, with its modules installed as
/// `terraform init` installs them (`terraform/.terraform/modules`).
pub fn terraform_fixture(dir: &Path) {
    copy_dir(&workspace().join("tests/fixtures/layouts/terraform"), dir);
    copy_dir(&workspace().join(TERRAFORM_MODULES), &dir.join("terraform/.terraform/modules"));
}

/// kiln fetches no module: a remote module is read from what `terraform
/// init` installed (`.terraform/modules/modules.json` in the repository, or
/// `--terraform-modules`), and without it the environment fails naming the
/// module, its source and how to install it, as `terraform plan` fails.
#[test]
fn terraform_remote_modules_are_read_where_terraform_init_installed_them() {
    let fixture = "tests/fixtures/layouts/terraform";
    let (code, stdout, stderr) = kiln(&workspace(), &["render", fixture]);
    assert_eq!(code, 2, "{stdout}");
    for want in [
        "module.network (terraform/main.tf:9): source \"git::https://example.com/platform/network.git?ref=v0.1.0\" is not fetched: no .terraform/modules/modules.json in terraform",
        "run `terraform init` (or `terraform get`) in terraform and commit .terraform/modules, or give kiln that directory with --terraform-modules DIR",
    ] {
        assert!(stderr.contains(want), "{want}\n{stderr}");
    }
    // Installed in the repository itself: the same render as with the flag.
    let tmp = tempfile::tempdir().unwrap();
    terraform_fixture(tmp.path());
    let (code, installed, stderr) = kiln(tmp.path(), &["render", "."]);
    assert_eq!(code, 0, "{stderr}");
    let (code, given, stderr) =
        kiln(&workspace(), &["render", fixture, "--terraform-modules", TERRAFORM_MODULES]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(installed, given);
    // kiln.yaml names a modules directory of the repository.
    let tmp = tempfile::tempdir().unwrap();
    copy_dir(&workspace().join(fixture), tmp.path());
    copy_dir(&workspace().join(TERRAFORM_MODULES), &tmp.path().join("vendor/modules"));
    std::fs::write(tmp.path().join("kiln.yaml"), "terraformModules: vendor/modules\n").unwrap();
    let (code, from_config, stderr) = kiln(tmp.path(), &["render", "."]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(from_config, given);
    // A manifest that records another source (the call changed since
    // `terraform init` ran), and one that lacks a module.
    for (from, to, want) in [
        (
            "network.git?ref=v0.1.0",
            "network.git?ref=v0.2.0",
            "source \"git::https://example.com/platform/network.git?ref=v0.2.0\": module source has changed: terraform/.terraform/modules/modules.json records module.network as installed from \"git::https://example.com/platform/network.git?ref=v0.1.0\"",
        ),
        (
            "module \"network\" {",
            "module \"vpc\" {\n  source = \"terraform-aws-modules/vpc/aws\"\n}\n\nmodule \"network\" {",
            "module.vpc (terraform/main.tf:9): source \"terraform-aws-modules/vpc/aws\": not installed: terraform/.terraform/modules/modules.json has no record of module.vpc",
        ),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        terraform_fixture(tmp.path());
        let main = tmp.path().join("terraform/main.tf");
        let text = std::fs::read_to_string(&main).unwrap();
        std::fs::write(&main, text.replacen(from, to, 1)).unwrap();
        let (code, _, stderr) = kiln(tmp.path(), &["render", "."]);
        assert_eq!(code, 2, "{want}");
        assert!(stderr.contains(want), "{want}\n{stderr}");
        assert!(stderr.contains("terraform init"), "{stderr}");
    }
}

/// A module source without `./` (`modules/master`) is read as the Terraform
/// version the root module targets reads it: a path from the calling
/// module before 0.12 (go-getter's file detector), refused from 0.12 in
/// Terraform's words; a `namespace/name/provider` address is a registry
/// module from 0.10.6.
#[test]
fn terraform_module_sources_without_a_leading_dot_follow_the_targeted_version() {
    let cases: &[(&str, Result<&str, &str>)] = &[
        (
            "",
            Ok(
                "unit: master, source: terraform/modules/master/assets/manifests/kube-apiserver.yml",
            ),
        ),
        (
            "terraform {\n  required_version = \">= 0.9.0, < 0.12.0\"\n}\n",
            Ok(
                "unit: master, source: terraform/modules/master/assets/manifests/kube-apiserver.yml",
            ),
        ),
        (
            "terraform {\n  required_version = \">= 0.12\"\n}\n",
            Err(
                "module.master (terraform/main.tf:14): Terraform cannot determine the module source for modules/master",
            ),
        ),
        (
            "terraform {\n  required_version = \"~> 1.5\"\n}\n",
            Err(
                "module.master (terraform/main.tf:14): Invalid module source address: Terraform failed to determine your intended installation method for remote module package \"modules/master\". If you intended this as a path relative to the current module, use \"./modules/master\" instead.",
            ),
        ),
    ];
    for (terraform_block, want) in cases {
        let tmp = tempfile::tempdir().unwrap();
        terraform_fixture(tmp.path());
        let main = tmp.path().join("terraform/main.tf");
        let text = std::fs::read_to_string(&main).unwrap();
        let text = text.replace("\"./modules/master\"", "\"modules/master\"");
        std::fs::write(&main, format!("{terraform_block}{text}")).unwrap();
        // The lines the errors name are those of the unchanged file.
        if !terraform_block.is_empty() {
            std::fs::write(tmp.path().join("terraform/versions.tf"), terraform_block).unwrap();
            std::fs::write(&main, text).unwrap();
        }
        let (code, stdout, stderr) = kiln(tmp.path(), &["render", "."]);
        match want {
            Ok(want) => {
                assert_eq!(code, 0, "{terraform_block}{stderr}");
                assert!(stdout.contains(want), "{want}\n{stdout}");
            }
            Err(want) => {
                assert_eq!(code, 2, "{terraform_block}");
                assert!(stderr.contains(want), "{want}\n{stderr}");
            }
        }
    }
    // Three parts of the registry's form are a registry module from 0.10.6:
    // `init` installed the call from another source here, so the
    // environment fails saying so. Without `required_version`, the
    // directory of the repository at that path dates it before the registry.
    let tmp = tempfile::tempdir().unwrap();
    terraform_fixture(tmp.path());
    std::fs::rename(
        tmp.path().join("terraform/modules/compute"),
        tmp.path().join("terraform/modules/pool"),
    )
    .unwrap();
    std::fs::create_dir_all(tmp.path().join("terraform/modules/kube")).unwrap();
    std::fs::rename(
        tmp.path().join("terraform/modules/pool"),
        tmp.path().join("terraform/modules/kube/compute"),
    )
    .unwrap();
    let main = tmp.path().join("terraform/main.tf");
    let text = std::fs::read_to_string(&main).unwrap();
    std::fs::write(&main, text.replace("\"./modules/compute\"", "\"modules/kube/compute\""))
        .unwrap();
    let (code, stdout, stderr) = kiln(tmp.path(), &["render", "."]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("unit: compute, source: terraform/modules/kube/compute/"), "{stdout}");
    std::fs::write(
        tmp.path().join("terraform/versions.tf"),
        "terraform {\n  required_version = \">= 0.11.0\"\n}\n",
    )
    .unwrap();
    let (code, _, stderr) = kiln(tmp.path(), &["render", "."]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("module.compute (terraform/main.tf:26): source \"modules/kube/compute\": module source has changed: terraform/.terraform/modules/modules.json records module.compute as installed from \"./modules/compute\""),
        "{stderr}"
    );
}

/// Values known only after `terraform apply`, variables a template is not
/// given, and templates or files that do not parse fail naming the file,
/// the line and the variable; nothing renders as an empty string.
#[test]
fn terraform_errors_name_the_file_the_line_and_the_variable() {
    let master = "terraform/modules/master";
    let cases: &[(&str, &str, &str, &[&str])] = &[
        (
            // The VPC id comes from a module that is not even in the repository.
            "assets/manifests/kube-addons.yml",
            "    - --bucket=${secrets_bucket_name}\n",
            "    - --bucket=${secrets_bucket_name}\n    - --vpc=${vpc_id}\n",
            &[
                "cluster play, unit master, file terraform/modules/master/assets/manifests/kube-addons.yml: template error: line 15: ${vpc_id} cannot be rendered before `terraform apply`",
                "data.template_file.kube_addons (terraform/modules/master/manifests.tf:24) sets vpc_id",
                "var.vpc_id (terraform/modules/master/manifests.tf:31): set at terraform/main.tf:23: `module.network.vpc_id` (terraform/main.tf:23) is known only after `terraform apply`",
            ],
        ),
        (
            "assets/manifests/kube-proxy.yml",
            "    - proxy\n",
            "    - proxy\n    - --cluster-cidr=${cluster_cidr}\n",
            &[
                "file terraform/modules/master/assets/manifests/kube-proxy.yml: template error: line 14: ${cluster_cidr} is not a variable of this template: data.template_file.kube_proxy (terraform/modules/master/manifests.tf:16) passes kubeapi_dns_name, kubernetes_image",
            ],
        ),
        (
            "assets/manifests/kube-proxy.yml",
            "    image: ${kubernetes_image}\n",
            "    image: ${kubernetes_image\n",
            &[
                "kube-proxy.yml: template error: line 11: terraform/modules/master/assets/manifests/kube-proxy.yml is not a valid template: expected `}`",
            ],
        ),
        (
            "manifests.tf",
            "data \"template_file\" \"kube_proxy\" {\n",
            "data \"template_file\" \"kube_proxy\" {\n  template = \n",
            &[
                "file terraform/modules/master/manifests.tf: line 17, column 14: not valid HCL: invalid expression",
            ],
        ),
        (
            "assets/manifests/kube-proxy.yml",
            "kind: Pod\n",
            "kind: Pod\n  bad: [\n",
            &["kube-proxy.yml: template error: rendered manifest is not valid YAML"],
        ),
    ];
    let compute = "terraform/modules/compute";
    let go_cases: &[(&str, &str, &str, &[&str])] = &[
        (
            // A Go template reading a value known only after apply.
            "assets/manifests/kube-proxy.yml",
            "    - --proxy-mode=iptables\n",
            "    - --proxy-mode=iptables\n    - --vpc={{ .vpc_id }}\n",
            &[
                "cluster play, unit compute, file terraform/modules/compute/assets/manifests/kube-proxy.yml: template error: line 26: {{ .vpc_id }} cannot be rendered before `terraform apply`: data.gotemplate_file.kube_proxy (terraform/modules/compute/manifests.tf:5) sets vpc_id",
                "`module.network.vpc_id` (terraform/main.tf:35) is known only after `terraform apply`",
            ],
        ),
        (
            "assets/manifests/kube-proxy.yml",
            "    - --proxy-mode=iptables\n",
            "    - --proxy-mode=iptables\n    {{ if }}\n",
            &[
                "file terraform/modules/compute/assets/manifests/kube-proxy.yml: template error: data.gotemplate_file.kube_proxy (terraform/modules/compute/manifests.tf:5): template: base:26: missing value for if",
            ],
        ),
        (
            "assets/manifests/kube-proxy.yml",
            "    image: {{ .kubernetes_image }}\n",
            "    image: {{ lower 1 }}\n",
            &[
                "data.gotemplate_file.kube_proxy (terraform/modules/compute/manifests.tf:5): template: base:20:20: executing \"base\" at <1>: expected string; found 1",
            ],
        ),
        (
            "assets/snippets/labels.tpl",
            "  group: {{ upper .name }}\n",
            "  group: {{ upper .name }\n",
            &[
                "data.gotemplate_file.node_config (terraform/modules/compute/manifests.tf:19): snippet labels.tpl: template: labels.tpl:2: unexpected \"}\" in operand",
            ],
        ),
    ];
    let cases = cases.iter().map(|c| (master, c)).chain(go_cases.iter().map(|c| (compute, c)));
    for (module, (file, from, to, wants)) in cases {
        let tmp = tempfile::tempdir().unwrap();
        terraform_fixture(tmp.path());
        let path = tmp.path().join(module).join(file);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains(from), "{file}");
        std::fs::write(&path, text.replacen(from, to, 1)).unwrap();
        let (code, stdout, stderr) = kiln(tmp.path(), &["render", "."]);
        assert_eq!(code, 2, "{file}: {stdout}");
        for want in *wants {
            assert!(stderr.contains(want), "{file}: {want}\n{stderr}");
        }
        // The environment's secret-bearing values are never printed.
        assert!(!stderr.contains("00000000-aaaa"), "{stderr}");
    }
    // A value that does not convert to the variable's declared type fails
    // the environment, as it fails `terraform plan`.
    let tmp = tempfile::tempdir().unwrap();
    terraform_fixture(tmp.path());
    let env = tmp.path().join("environments/prod.tfvars");
    let text = std::fs::read_to_string(&env).unwrap();
    std::fs::write(&env, format!("{text}enable_calico = \"yes\"\n")).unwrap();
    let (code, _, stderr) = kiln(tmp.path(), &["render", ".", "--cluster", "prod"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("invalid value for input variable: the value given at environments/prod.tfvars:7 is not suitable for var.enable_calico declared at terraform/variables.tf:20: cannot convert \"yes\" to bool: only the strings \"true\" or \"false\" are allowed"),
        "{stderr}"
    );
    // A variable neither the environment nor a default sets.
    let tmp = tempfile::tempdir().unwrap();
    terraform_fixture(tmp.path());
    let env = tmp.path().join("environments/prod.tfvars");
    let text = std::fs::read_to_string(&env).unwrap();
    std::fs::write(&env, text.replace("aws_region          = \"eu-west-2\"\n", "")).unwrap();
    let (code, _, stderr) = kiln(tmp.path(), &["render", ".", "--cluster", "prod"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("kube-apiserver.yml: template error: line 12: ${aws_region} cannot be rendered before `terraform apply`"),
        "{stderr}"
    );
    assert!(
        stderr.contains("environments/prod.tfvars does not set it and terraform/variables.tf (line 4) gives no default"),
        "{stderr}"
    );
}

/// `kiln watch` renders a Terraform-templated platform from a git branch
/// onto the target branch, one directory per environment and module.
#[test]
fn terraform_platforms_are_watched_onto_a_target_branch() {
    let repo = crate::util::TestRepo::new();
    // The repository commits what `terraform init` installed.
    terraform_fixture(repo.path());
    repo.commit_all("platform");
    let remote = repo.bare_clone();
    let home = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["watch", "--once", "--repo", remote.path().to_str().unwrap()])
        .args(["--branch", "main=platform", "--target-branch", "rendered", "--workdir", "mirror"])
        .current_dir(home.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let files = remote.git(&["ls-tree", "-r", "--name-only", "rendered"]);
    for want in [
        "platform/play/master/kube-system/core_v1_Pod_kube-apiserver.yaml",
        "platform/play/master/kube-system/apps_v1_Deployment_kube-dns.yaml",
        "platform/play/root/_cluster/core_v1_Namespace_platform.yaml",
        "platform/prod/master/kube-system/core_v1_Pod_kube-proxy.yaml",
        "platform/prod/compute/kube-system/core_v1_ConfigMap_compute-default.yaml",
        // git quotes a path holding `"`.
        r#""platform/play/pools[\"batch\"]/kube-system/core_v1_Pod_kube-proxy.yaml""#,
        "platform/play/root/_cluster/core_v1_Namespace_team-payments.yaml",
        "platform/prod/network.flow/kube-system/core_v1_ConfigMap_vpc-flow-logs.yaml",
    ] {
        assert!(files.lines().any(|l| l == want), "{want}\n{files}");
    }
    let pod = remote
        .git(&["show", "rendered:platform/prod/master/kube-system/core_v1_Pod_kube-proxy.yaml"]);
    assert!(pod.contains("--master=https://kube.prod.example.internal"), "{pod}");
}
