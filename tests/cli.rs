//! The `kiln` binary end to end: `kiln render` on the example repository and
//! on kustomization directories, and `kiln sync --once` against real git
//! repositories in temporary directories.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::util::{TestRepo, copy_dir};

/// The repository root, which holds the example GitOps repo.
fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the built `kiln` with a cleared environment in `dir`.
pub(crate) fn kiln(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .output()
        .expect("kiln runs")
}

pub(crate) fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

pub(crate) fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).unwrap()
}

/// Copies the example repository (clusters/, apps/, infrastructure/) into `dest`.
fn copy_example(dest: &Path) {
    for top in ["clusters", "apps", "infrastructure"] {
        copy_dir(&root().join(top), &dest.join(top));
    }
}

#[test]
fn render_without_path_renders_the_example_repo_in_dependency_order() {
    let out = kiln(&root(), &["render"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    let units: Vec<&str> = text.lines().filter(|l| l.starts_with("# cluster:")).collect();
    assert!(!units.is_empty());
    // Every unit comes after the units it depends on, per cluster: the
    // example's apps depend on infrastructure.
    for cluster in ["development", "production"] {
        let order: Vec<&str> = units
            .iter()
            .filter(|l| l.contains(&format!("cluster: {cluster},")))
            .map(|l| l.split("unit: ").nth(1).unwrap().split(',').next().unwrap())
            .fold(Vec::new(), |mut acc, u| {
                if acc.last() != Some(&u) {
                    acc.push(u);
                }
                acc
            });
        let pos = |name: &str| {
            order.iter().position(|u| *u == name).unwrap_or_else(|| panic!("{name} in {order:?}"))
        };
        assert!(pos("infra-controllers") < pos("apps"), "{cluster}: {order:?}");
    }
    // The production overlay's unique image tags made it through.
    assert!(text.contains(".2022-") || text.contains("t"), "image tags rendered");
    // Same input, same bytes.
    let again = kiln(&root(), &["render"]);
    assert_eq!(stdout(&again), text);
}

#[test]
fn render_of_a_kustomization_matches_kubectl_when_present() {
    for overlay in ["apps/overlays/production", "infrastructure/controllers"] {
        let out = kiln(&root(), &["render", overlay]);
        assert!(out.status.success(), "{overlay}: {}", stderr(&out));
        let Ok(reference) =
            Command::new("kubectl").args(["kustomize", overlay]).current_dir(root()).output()
        else {
            continue;
        };
        if reference.status.success() {
            let ours = renderer::yaml::parse_documents(&stdout(&out), "kiln").unwrap();
            let theirs = renderer::yaml::parse_documents(
                &String::from_utf8_lossy(&reference.stdout),
                "kubectl",
            )
            .unwrap();
            assert_eq!(ours, theirs, "{overlay}");
        }
    }
}

#[test]
fn render_out_writes_one_file_per_object_and_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let out_dir = dir.path().join("rendered");
    let out = kiln(&root(), &["render", "--out", out_dir.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));
    let index = std::fs::read_to_string(out_dir.join("kiln-index.yaml")).unwrap();
    assert!(index.contains("kilnVersion:"), "{index}");
    let files = walk(&out_dir);
    assert!(files.iter().any(|f| f.starts_with("production/apps/")), "{files:?}");
    // Every object file holds exactly one document and its name says what it is.
    for f in files.iter().filter(|f| f.ends_with(".yaml") && f.as_str() != "kiln-index.yaml") {
        let text = std::fs::read_to_string(out_dir.join(f)).unwrap();
        let docs = renderer::yaml::parse_documents(&text, f).unwrap();
        assert_eq!(docs.len(), 1, "{f}");
        let kind = docs[0].get_path(&["kind"]).and_then(|v| v.as_str()).unwrap();
        assert!(f.contains(&format!("_{kind}_")), "{f}");
    }
    // Rendering again into the same directory leaves no stale files.
    std::fs::write(out_dir.join("stale.yaml"), "x: 1\n").unwrap();
    let out = kiln(&root(), &["render", "--out", out_dir.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(!out_dir.join("stale.yaml").exists());
}

fn walk(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p.strip_prefix(dir).unwrap().to_string_lossy().into_owned());
            }
        }
    }
    out.sort();
    out
}

/// `kubectl kustomize`'s Helm flags work on `kiln render` too:
/// `--enable-helm` and `--helm-command` are accepted (kiln renders charts
/// itself), and `--helm-kube-version`/`--helm-api-versions` stand in for a
/// `helmCharts` entry's unset `kubeVersion`/`apiVersions` while the entry's
/// own setting wins. The expected values are what `kubectl kustomize
/// --enable-helm` printed for these inputs with real Helm behind it.
#[test]
fn render_takes_kubectls_helm_flags() {
    let dir = tempfile::tempdir().unwrap();
    write_chart(
        &dir.path().join("charts/c"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: kv\ndata:\n  v: \"{{ .Capabilities.KubeVersion.Version }}\"\n  a: \"{{ .Capabilities.APIVersions.Has \"x.example.com/v1\" }}\"\n",
    );
    let flags = [
        "--enable-helm",
        "--helm-command",
        "helm",
        "--helm-kube-version",
        "1.25.0",
        "--helm-api-versions",
        "x.example.com/v1,y.example.com/v1",
    ];
    let cases = [
        ("", "v: v1.25.0", "a: \"true\""),
        ("  kubeVersion: 1.27.0\n", "v: v1.27.0", "a: \"true\""),
    ];
    for (extra, version, api) in cases {
        let text = format!("helmCharts:\n- name: c\n  releaseName: r\n{extra}");
        std::fs::write(dir.path().join("kustomization.yaml"), text).unwrap();
        let mut args = vec!["render", "."];
        args.extend(flags);
        let out = kiln(dir.path(), &args);
        assert!(out.status.success(), "{}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains(version) && text.contains(api), "{extra:?}: {text}");
    }
}

#[test]
fn render_errors_name_the_file_and_exit_non_zero() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, &str, &str)] = &[
        ("kustomization.yaml", "resources: [missing.yaml]\n", "missing.yaml"),
        ("kustomization.yaml", "resources: [d.yaml]\n", "d.yaml:2:7"),
        ("kustomization.yaml", "resources: [../outside.yaml]\n", "not in or below"),
        ("kustomization.yaml", "resourcse: [x.yaml]\n", "unknown field \"resourcse\""),
    ];
    std::fs::write(
        dir.path().join("outside.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: o}\n",
    )
    .unwrap();
    for (i, (file, text, want)) in cases.iter().enumerate() {
        let case = dir.path().join(format!("case{i}"));
        std::fs::create_dir_all(&case).unwrap();
        std::fs::write(case.join(file), text).unwrap();
        std::fs::write(case.join("d.yaml"), "apiVersion: v1\nkind: [unclosed\n").unwrap();
        let out = kiln(&case, &["render", "."]);
        assert!(!out.status.success(), "case {i} should fail");
        assert!(stderr(&out).contains(want), "case {i}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "case {i}: no partial output");
    }
}

/// Paths in a kustomization's build errors read as the user wrote them:
/// relative to the working directory below it, absolute elsewhere (the
/// engine reads from the filesystem root and once printed `tmp/x/...`).
#[test]
fn render_errors_show_paths_from_the_working_directory() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().canonicalize().unwrap();
    let overlay = dir.join("apps/overlays/dev");
    std::fs::create_dir_all(&overlay).unwrap();
    std::fs::write(overlay.join("kustomization.yaml"), "patchesStrategicMerge:\n- env.yaml\n")
        .unwrap();
    let shown = |cwd: &std::path::Path, arg: &str| stderr(&kiln(cwd, &["render", arg]));
    let below = shown(&dir, "apps/overlays/dev");
    assert!(below.contains(" apps/overlays/dev/kustomization.yaml: "), "{below}");
    let elsewhere = shown(std::path::Path::new("/"), overlay.to_str().unwrap());
    let absolute = format!(" {}/kustomization.yaml: ", overlay.display());
    assert!(elsewhere.contains(&absolute), "{elsewhere}");
}

/// A path that is no directory is refused in `kubectl kustomize`'s words:
/// `lstat` names the first component that is missing.
#[test]
fn render_of_a_missing_path_or_a_file_fails_as_kubectl_does() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path().canonicalize().unwrap();
    std::fs::write(dir.join("plain.yaml"), "a: b\n").unwrap();
    let cases = [
        (
            "noSuchThing",
            "must build at directory: not a valid directory: evalsymlink failure on 'noSuchThing' : lstat noSuchThing: no such file or directory",
        ),
        (
            "gone/deeper",
            "must build at directory: not a valid directory: evalsymlink failure on 'gone/deeper' : lstat gone: no such file or directory",
        ),
        ("plain.yaml", "must build at directory: 'plain.yaml': file is not directory"),
    ];
    for (arg, want) in cases {
        let out = kiln(&dir, &["render", arg]);
        assert!(!out.status.success(), "{arg} should fail");
        assert!(stderr(&out).contains(want), "{arg}: {}", stderr(&out));
        assert!(stdout(&out).is_empty(), "{arg}: no output");
    }
}

/// A repository whose `production` branch holds the example GitOps repo.
fn example_repo() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "config\n");
    repo.commit_all("initial");
    repo.git(&["switch", "--quiet", "-c", "production"]);
    copy_example(repo.path());
    repo.commit_all("release v1.2.2");
    repo
}

fn sync(repo: &TestRepo) -> Output {
    let path = repo.path().to_str().unwrap().to_string();
    kiln(
        repo.path(),
        &[
            "sync",
            "--repo",
            &path,
            "--source-branch",
            "production",
            "--target-branch",
            "rendered",
            "--target-dir",
            "production",
            "--once",
        ],
    )
}

#[test]
fn sync_once_commits_the_render_then_nothing_when_unchanged() {
    let repo = example_repo();
    let source = repo.tip("production").unwrap();
    let out = sync(&repo);
    assert!(out.status.success(), "{}", stderr(&out));
    let first = repo.tip("rendered").expect("target branch created");
    let files = repo.ls_tree(&first);
    assert!(files.keys().all(|p| p.starts_with("production/")), "{files:?}");
    assert!(files.contains_key("production/kiln-index.yaml"));
    let message = repo.git(&["log", "-1", "--format=%B", &first]);
    assert!(message.contains("Source-Branch: production"), "{message}");
    assert!(message.contains(&format!("Source-Commit: {source}")), "{message}");
    let index = repo.git(&["show", &format!("{first}:production/kiln-index.yaml")]);
    assert!(index.contains(&source), "{index}");

    // The same source again: no new commit.
    let out = sync(&repo);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(repo.tip("rendered").unwrap(), first);
    assert!(stdout(&out).contains("unchanged"), "{}", stdout(&out));

    // A change to the source moves the target by exactly one commit.
    let env = std::fs::read_to_string(repo.path().join("apps/overlays/production/user-roles.env"))
        .unwrap();
    repo.write("apps/overlays/production/user-roles.env", &format!("{env}TOUCHED=yes\n"));
    repo.commit_all("configure");
    let out = sync(&repo);
    assert!(out.status.success(), "{}", stderr(&out));
    let second = repo.tip("rendered").unwrap();
    assert_ne!(second, first);
    assert_eq!(repo.git(&["rev-parse", &format!("{second}^")]), first);
}

#[test]
fn sync_once_keeps_other_directories_of_the_target_branch() {
    let repo = example_repo();
    repo.git(&["switch", "--quiet", "--orphan", "rendered"]);
    repo.write("staging/keep.yaml", "kept: true\n");
    repo.write("production/stale.yaml", "stale: true\n");
    repo.commit_all("existing rendered branch");
    let before = repo.ls_tree("rendered");
    repo.git(&["switch", "--quiet", "production"]);
    let out = sync(&repo);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = repo.ls_tree("rendered");
    assert_eq!(after.get("staging/keep.yaml"), before.get("staging/keep.yaml"));
    assert!(!after.contains_key("production/stale.yaml"), "stale files go");
}

#[test]
fn sync_once_leaves_the_target_untouched_when_the_render_fails() {
    let repo = example_repo();
    let out = sync(&repo);
    assert!(out.status.success(), "{}", stderr(&out));
    let tip = repo.tip("rendered").unwrap();
    repo.write("apps/overlays/production/kustomization.yaml", "resources: [does-not-exist.yaml]\n");
    repo.commit_all("break it");
    let out = sync(&repo);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("does-not-exist.yaml"), "{err}");
    assert!(err.contains("production"), "{err}");
    assert_eq!(repo.tip("rendered").unwrap(), tip);
}

#[test]
fn tag_parse_prints_fields_and_tag_new_formats() {
    let seed = "v1.2.2.2022-01-15t161730814Z.9eabf5b536662000f79978c4d1b6e4eff5c8d785";
    let out = kiln(&root(), &["tag", "parse", seed]);
    assert!(out.status.success(), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_str(&stdout(&out)).unwrap();
    assert_eq!(json["kind"], "unique");
    assert_eq!(json["version"], "1.2.2");
    assert_eq!(json["time"], "2022-01-15T16:17:30.814Z");
    assert_eq!(json["sha"], "9eabf5b536662000f79978c4d1b6e4eff5c8d785");

    let out = kiln(
        &root(),
        &[
            "tag",
            "new",
            "--version",
            "1.2.2",
            "--sha",
            "9eabf5b536662000f79978c4d1b6e4eff5c8d785",
            "--time",
            "2022-01-15T16:17:30.814Z",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(stdout(&out).trim(), seed);

    let out = kiln(&root(), &["tag", "new", "--version", "1.2.2", "--sha", "XYZ"]);
    assert!(!out.status.success());
    assert!(stderr(&out).to_lowercase().contains("sha"), "{}", stderr(&out));
}

/// Templates run on a thread with a large lazily committed stack; where the
/// system refuses to reserve it (here a 2 GB `ulimit -v`, as on a machine
/// with strict overcommit), kiln falls back to a smaller stack instead of
/// failing every chart ("cannot start the template execution thread" before).
#[test]
fn helm_template_renders_under_a_small_address_space_limit() {
    let dir = tempfile::tempdir().unwrap();
    write_chart(
        &dir.path().join("c"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\n",
    );
    let out = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 2000000 && exec \"$KILN\" helm template r ./c")
        .env("KILN", env!("CARGO_BIN_EXE_kiln"))
        .current_dir(dir.path())
        .output()
        .expect("sh runs");
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("name: r"), "{}", stdout(&out));
}

/// `kiln helm template` fails as `helm template` does: status 1 and
/// `Error: ` plus Helm's text on stderr, with Helm's `--debug` hint after
/// errors met while rendering. The texts are the helm-template oracle's,
/// recorded in the Helm corpus (`renderer/tests/helm/expected/*.err`).
#[test]
fn helm_template_errors_read_as_helms() {
    let helm = Path::new(env!("CARGO_MANIFEST_DIR")).join("renderer/tests/helm");
    // (recorded case, chart, extra flags)
    let cases: [(&str, &str, &[&str]); 4] = [
        ("badyaml-default", "charts/own/badyaml", &[]),
        ("chartsstray-default", "charts/own/chartsstray", &[]),
        ("funcs-kube-old", "charts/own/funcs", &["--kube-version", "1.19.0"]),
        ("errors-required", "charts/own/errors", &["--set-json", "mode=\"required\""]),
    ];
    for (case, chart, flags) in cases {
        let want = std::fs::read_to_string(helm.join(format!("expected/{case}.err"))).unwrap();
        let mut args = vec!["helm", "template", "rel", chart, "-n", "ns1"];
        if !flags.contains(&"--kube-version") {
            args.extend(["--kube-version", "1.31.0"]);
        }
        args.extend(flags);
        let out = kiln(&helm, &args);
        assert_eq!(out.status.code(), Some(1), "{case}: {}", stderr(&out));
        assert_eq!(stderr(&out), format!("Error: {want}\n"), "{case}");
    }
}

/// A chart path that does not exist fails as the helm-template oracle fails:
/// `Error: path '<as given>' not found`, exit 1.
#[test]
fn helm_template_names_a_missing_chart_path_as_helm_does() {
    let dir = tempfile::tempdir().unwrap();
    for chart in ["./nonexist", "nonexist", "sub/nonexist.tgz"] {
        let out = kiln(dir.path(), &["helm", "template", "rel", chart]);
        assert_eq!(out.status.code(), Some(1), "{chart}: {}", stderr(&out));
        assert_eq!(stderr(&out), format!("Error: path '{chart}' not found\n"), "{chart}");
    }
}

/// A values file that is not there fails as Helm's `readFile` fails (Go's
/// `os.ReadFile` error, as the helm-template oracle prints it for `-f`);
/// `--set-file` reads with the same function, its error wrapped.
#[test]
fn helm_template_names_a_missing_values_file_as_helm_does() {
    let dir = tempfile::tempdir().unwrap();
    write_chart(&dir.path().join("c"), "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
    let missing = "open missing.yaml: no such file or directory";
    for (flag, arg, want) in [
        ("-f", "missing.yaml", format!("Error: {missing}\n")),
        (
            "--set-file",
            "a=missing.yaml",
            format!("Error: failed parsing --set-file data: {missing}\n"),
        ),
    ] {
        let out = kiln(dir.path(), &["helm", "template", "rel", "./c", flag, arg]);
        assert_eq!(out.status.code(), Some(1), "{flag}: {}", stderr(&out));
        assert_eq!(stderr(&out), want, "{flag}");
    }
}

/// `-f` is a pflag `StringSlice` in Helm (helm/helm `pkg/cmd/flags.go`): each
/// value is a CSV record, so `-f a.yaml,b.yaml` reads both files, later ones
/// winning, and a stray quote fails at flag parsing in pflag's words
/// (`invalid argument %q for %q flag: ...`, Go's `encoding/csv` message).
#[test]
fn helm_template_splits_values_flags_as_helm_does() {
    let dir = tempfile::tempdir().unwrap();
    write_chart(
        &dir.path().join("c"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n  a: {{ .Values.a | quote }}\n  b: {{ .Values.b | quote }}\n",
    );
    std::fs::write(dir.path().join("one.yaml"), "a: one\nb: one\n").unwrap();
    std::fs::write(dir.path().join("two.yaml"), "b: two\n").unwrap();
    let out = kiln(dir.path(), &["helm", "template", "rel", "./c", "-f", "one.yaml,two.yaml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("  a: \"one\"\n  b: \"two\"\n"), "{}", stdout(&out));
    let out = kiln(dir.path(), &["helm", "template", "rel", "./c", "-f", "one.yaml,\"two"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "Error: invalid argument \"one.yaml,\\\"two\" for \"-f, --values\" flag: \
         parse error on line 1, column 14: extraneous or missing \" in quoted-field\n"
    );
}

/// A release name Helm refuses fails before anything renders, in Helm's
/// words (recorded in the Helm corpus as `ro-release-name-invalid`); an
/// empty name is "no name provided".
#[test]
fn helm_template_refuses_release_names_as_helm_does() {
    let helm = Path::new(env!("CARGO_MANIFEST_DIR")).join("renderer/tests/helm");
    let want = std::fs::read_to_string(helm.join("expected/ro-release-name-invalid.err")).unwrap();
    let chart = "charts/own/ro-release-name";
    let out = kiln(&helm, &["helm", "template", "My_Release", chart, "--kube-version", "1.31.0"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(stderr(&out), format!("Error: {want}\n"));
    let out = kiln(&helm, &["helm", "template", "", chart]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "Error: release name check failed: release name \"\": no name provided\n"
    );
}

/// Writes a chart `c` (v2, empty values) at `chart` with one template, `cm.yaml`.
fn write_chart(chart: &Path, template: &str) {
    std::fs::create_dir_all(chart.join("templates")).unwrap();
    std::fs::write(chart.join("Chart.yaml"), "apiVersion: v2\nname: c\nversion: 0.1.0\n").unwrap();
    std::fs::write(chart.join("values.yaml"), "").unwrap();
    std::fs::write(chart.join("templates/cm.yaml"), template).unwrap();
}
