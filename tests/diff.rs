//! `kiln diff` and `kiln plan` against real git repositories holding the example Flux repository.

use crate::layouts::kiln;
use crate::util::TestRepo;
use crate::util::copy_dir;
use std::path::PathBuf;

/// A repository with the workspace's example (clusters/, apps/, infrastructure/) on `main`.
fn example_repo() -> TestRepo {
    let repo = TestRepo::new();
    let ws = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in ["clusters", "apps", "infrastructure"] {
        copy_dir(&ws.join(dir), &repo.path().join(dir));
    }
    repo.commit_all("example");
    repo
}

fn edit(repo: &TestRepo, path: &str, from: &str, to: &str) {
    let full = repo.path().join(path);
    let text = std::fs::read_to_string(&full).unwrap();
    assert!(text.contains(from), "{path} lacks {from:?}");
    std::fs::write(full, text.replacen(from, to, 1)).unwrap();
}

#[test]
fn diff_of_two_refs_reports_each_object() {
    let repo = example_repo();
    repo.git(&["switch", "--quiet", "-c", "feature"]);
    edit(&repo, "apps/overlays/production/kustomization.yaml", "count: 3", "count: 5");
    edit(
        &repo,
        "infrastructure/namespaces/kustomization.yaml",
        "- apps.yaml",
        "- apps.yaml\n  - secret.yaml",
    );
    repo.write(
        "infrastructure/namespaces/secret.yaml",
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: token\n  namespace: apps\nstringData:\n  token: hunter2\n",
    );
    repo.commit_all("scale user-roles, add a secret");
    let path = repo.path().to_str().unwrap().to_string();

    let (code, stdout, stderr) =
        kiln(repo.path(), &["diff", "--repo", &path, "--cluster", "production", "main", "feature"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.starts_with("added: production/namespaces: v1 Secret apps/token\nchanged: production/apps: apps/v1 Deployment apps/prod-user-roles\n"), "{stdout}");
    assert!(stdout.contains("-  replicas: 3\n+  replicas: 5\n"), "{stdout}");
    assert!(stdout.ends_with("1 added, 0 removed, 1 changed\n"), "{stdout}");
    assert!(!stdout.contains("hunter2"));

    let (code, stdout, _) = kiln(repo.path(), &["diff", "main", "main"]);
    assert_eq!((code, stdout.as_str()), (0, "0 added, 0 removed, 0 changed\n"));

    let (code, stdout, _) = kiln(repo.path(), &["diff", "--output", "json", "feature", "main"]);
    assert_eq!(code, 1);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["removed"][0]["kind"], "Secret");
    assert_eq!(json["removed"].as_array().unwrap().len(), 2, "{json}");
    assert_eq!(json["changed"].as_array().unwrap().len(), 1, "{json}");
    assert!(json["changed"][0]["diff"].as_str().unwrap().contains("+  replicas: 3\n"));
}

#[test]
fn diff_against_the_work_tree_and_bad_refs() {
    let repo = example_repo();
    edit(
        &repo,
        "infrastructure/namespaces/ingress-nginx.yaml",
        "name: ingress-nginx",
        "name: ingress",
    );
    let (code, stdout, stderr) = kiln(repo.path(), &["diff", "HEAD"]);
    assert_eq!(code, 1, "{stderr}");
    for want in [
        "added: development/namespaces: v1 Namespace ingress\n",
        "removed: production/namespaces: v1 Namespace ingress-nginx\n",
        "2 added, 2 removed, 0 changed\n",
    ] {
        assert!(stdout.contains(want), "{want}\n{stdout}");
    }
    let (code, _, stderr) = kiln(repo.path(), &["diff", "nope"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("nope: no such branch, tag or commit"), "{stderr}");
    // A ref that does not render is an error naming the ref, cluster, unit and file.
    repo.git(&["switch", "--quiet", "-c", "broken"]);
    edit(
        &repo,
        "clusters/production/apps.yaml",
        "./apps/overlays/production",
        "./apps/overlays/missing",
    );
    repo.commit_all("broken path");
    let (code, _, stderr) = kiln(repo.path(), &["diff", "main", "broken"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("rendering broken (") && stderr.contains("cluster production, unit apps, file clusters/production/apps.yaml: spec.path \"./apps/overlays/missing\" is not a directory"),
        "{stderr}"
    );
}

#[test]
fn plan_lists_layout_clusters_units_and_order() {
    let repo = example_repo();
    let (code, stdout, stderr) = kiln(repo.path(), &["plan", ".", "--cluster", "production"]);
    assert_eq!(code, 0, "{stderr}");
    let want = [
        "layout: flux-v2",
        "cluster production: 4 units",
        "  1. flux-system: clusters/production (5 objects)",
        "     defined in clusters/production/flux-system/gotk-sync.yaml",
        "  2. namespaces: infrastructure/namespaces (2 objects)",
        "     defined in clusters/production/namespaces.yaml",
        "     created by flux-system",
        "  3. infra-controllers: infrastructure/controllers (10 objects)",
        "     defined in clusters/production/infrastructure.yaml",
        "     after namespaces",
        "     created by flux-system",
        "  4. apps: apps/overlays/production (10 objects)",
        "     defined in clusters/production/apps.yaml",
        "     after namespaces, infra-controllers",
        "     created by flux-system",
    ];
    assert_eq!(stdout, want.map(|l| format!("{l}\n")).concat());
    let (code, stdout, _) = kiln(repo.path(), &["plan", "--output", "json"]);
    assert_eq!(code, 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["layout"], "flux-v2");
    assert_eq!(json["clusters"][1]["units"][3]["dependsOn"][1], "infra-controllers");
}

#[test]
fn sync_commits_the_rendered_tree_with_rewritten_kustomizations_and_an_index() {
    let repo = example_repo();
    let source = repo.tip("main").unwrap();
    let path = repo.path().to_str().unwrap().to_string();
    let args = [
        "sync",
        "--once",
        "--repo",
        &path,
        "--source-branch",
        "main",
        "--target-branch",
        "rendered",
        "--target-dir",
        "deploy",
    ];
    let (code, stdout, stderr) = kiln(repo.path(), &args);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("committed"), "{stdout}");
    let index = repo.git(&["show", "rendered:deploy/kiln-index.yaml"]);
    assert!(index.contains(&format!("sourceCommit: {source}")), "{index}");
    assert!(index.contains("layout: flux-v2"), "{index}");
    let apps = repo.git(&[
        "show",
        "rendered:deploy/production/flux-system/flux-system/kustomize.toolkit.fluxcd.io_v1_Kustomization_apps.yaml",
    ]);
    assert!(apps.contains("path: ./deploy/production/apps"), "{apps}");
    assert!(
        apps.contains("dependsOn:\n  - name: namespaces\n  - name: infra-controllers"),
        "{apps}"
    );
    // A unit removed from the source leaves no stale files behind.
    std::fs::remove_file(repo.path().join("clusters/production/apps.yaml")).unwrap();
    repo.commit_all("drop apps from production");
    let (code, _, stderr) = kiln(repo.path(), &args);
    assert_eq!(code, 0, "{stderr}");
    let files = repo.ls_tree("rendered");
    assert!(!files.keys().any(|p| p.starts_with("deploy/production/apps/")), "{files:?}");
    assert!(files.keys().any(|p| p.starts_with("deploy/development/apps/")));
}
