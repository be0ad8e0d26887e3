//! `kiln promote` end to end: set, stage, update and pin on temporary git repositories, against a real registry where tags come from one.

use crate::cli::{kiln, stderr, stdout};
use crate::registry::{Registry, serve, unique};
use crate::util::TestRepo;
use promoter::registry::{DOCKER_MANIFEST, OCI_MANIFEST};

const DEV: &str = "v1.2.3.2026-11-20t093015123Z.4f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39";
const PROD: &str = "v1.2.2.2022-01-15t161730814Z.9eabf5b536662000f79978c4d1b6e4eff5c8d785";

fn overlay(tag: &str) -> String {
    format!(
        "# the overlay\nresources:\n  - ../../base/api\nimages:\n  - name: ghcr.io/acme/api   # the API\n    newTag: '{tag}'\n  - name: ghcr.io/acme/web\n    newTag: {tag}\n"
    )
}

fn repo_with_overlays() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("apps/overlays/development/kustomization.yaml", &overlay(DEV));
    repo.write("apps/overlays/production/kustomization.yaml", &overlay(PROD));
    repo.write(
        "apps/base/api/deployment.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: ghcr.io/acme/api:base # kustomize sets the tag\n",
    );
    repo.commit_all("initial");
    repo
}

fn run(repo: &TestRepo, args: &[&str]) -> std::process::Output {
    let mut all = args.to_vec();
    let path = repo.path().to_str().unwrap().to_owned();
    all.extend(["--repo", &path]);
    kiln(repo.path(), &all)
}

fn show(repo: &TestRepo, path: &str) -> String {
    repo.git(&["show", &format!("main:{path}")])
}

#[test]
fn set_changes_only_the_tag_bytes_and_commits_with_trailers() {
    let repo = repo_with_overlays();
    let before = repo.tip("main").unwrap();
    let new = unique(42);
    // Dry run: a diff on stdout, nothing written.
    let out = run(
        &repo,
        &["promote", "set", "ghcr.io/acme/api", &new, "--env", "development", "--dry-run"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let diff = stdout(&out);
    assert!(diff.contains("--- a/apps/overlays/development/kustomization.yaml"), "{diff}");
    assert!(diff.contains(&format!("-    newTag: '{DEV}'\n+    newTag: '{new}'")), "{diff}");
    assert_eq!(repo.tip("main").unwrap(), before);
    // For real, on the current branch (no --branch).
    let out = run(&repo, &["promote", "set", "ghcr.io/acme/api", &new, "--env", "development"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        show(&repo, "apps/overlays/development/kustomization.yaml"),
        overlay(DEV).replacen(DEV, &new, 1).trim_end()
    );
    assert_eq!(
        show(&repo, "apps/overlays/production/kustomization.yaml"),
        overlay(PROD).trim_end()
    );
    let message = repo.git(&["log", "-1", "--format=%B", "main"]);
    assert!(
        message.starts_with(&format!("set: ghcr.io/acme/api {DEV} -> {new} in development")),
        "{message}"
    );
    let trailers = repo.git(&["log", "-1", "--format=%(trailers:only,unfold)", "main"]);
    assert_eq!(
        trailers,
        format!(
            "Kiln-Command: set\nKiln-Environment: development\nKiln-Image: ghcr.io/acme/api {DEV} -> {new}"
        )
    );
    assert_eq!(repo.git(&["rev-parse", "main^"]), before);
    // Without --env every reference on the branch moves, the base's whole reference too.
    let out = run(&repo, &["promote", "set", "ghcr.io/acme/api", &new]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        show(&repo, "apps/base/api/deployment.yaml")
            .contains(&format!("image: ghcr.io/acme/api:{new} # kustomize"))
    );
    assert!(
        show(&repo, "apps/overlays/production/kustomization.yaml")
            .contains(&format!("newTag: '{new}'"))
    );
}

#[test]
fn stage_copies_unique_tags_and_release_tags_never_move() {
    let repo = repo_with_overlays();
    let out = run(
        &repo,
        &[
            "promote",
            "stage",
            "--from",
            "development",
            "--to",
            "production",
            "--image",
            "ghcr.io/acme/web",
            "--release-tag",
            "v1.2.3",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let prod = show(&repo, "apps/overlays/production/kustomization.yaml");
    assert!(
        prod.contains(&format!("newTag: '{PROD}'")) && prod.contains(&format!("newTag: {DEV}")),
        "{prod}"
    );
    let tagged = repo.git(&["rev-parse", "v1.2.3^{commit}"]);
    assert_eq!(tagged, repo.tip("main").unwrap());
    // The same release again: refused before anything is written.
    let out = run(
        &repo,
        &[
            "promote",
            "stage",
            "--from",
            "development",
            "--to",
            "production",
            "--release-tag",
            "v1.2.3",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("release tag v1.2.3 already exists"), "{}", stderr(&out));
    assert_eq!(repo.tip("main").unwrap(), tagged);
    assert_eq!(repo.git(&["rev-parse", "v1.2.3^{commit}"]), tagged);
}

#[test]
fn bad_inputs_are_clear_errors_and_write_nothing() {
    let repo = repo_with_overlays();
    repo.write("apps/overlays/qa/kustomization.yaml", &overlay("production"));
    repo.write("apps/overlays/broken/kustomization.yaml", "images: [\n  - name: x\n");
    repo.write(
        "apps/overlays/marker/deploy.yaml",
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: a\n          image: ghcr.io/acme/api:v1 # {\"$imagepolicy\": \"flux-system:missing\"}\n",
    );
    repo.write(
        "apps/overlays/digest/kustomization.yaml",
        "images:\n  - name: 127.0.0.1:9/acme/api\n    newTag: v1\n    digest: sha256:0123\n",
    );
    let tip = repo.commit_all("more environments");
    let cases: &[(&[&str], &str)] = &[
        (&["promote", "set", "ghcr.io/acme/api", "latest"], "refusing to deploy the tag `latest`"),
        (
            &["promote", "set", "127.0.0.1:9/acme/api", "v2", "--env", "digest"],
            "reading the manifest of 127.0.0.1:9/acme/api:v2",
        ),
        (&["promote", "set", "ghcr.io/acme/api", "bad tag!"], "is not a valid image tag"),
        (
            &["promote", "set", "ghcr.io/acme/none", "v1", "--env", "development"],
            "no file of branch main references image ghcr.io/acme/none in environment development",
        ),
        (
            &["promote", "set", "ghcr.io/acme/api", "v1", "--env", "staging"],
            "environment staging: directory apps/overlays/staging does not exist",
        ),
        (
            &["promote", "set", "ghcr.io/acme/api", "v1", "--env", "../x"],
            "must be one path component",
        ),
        (
            &["promote", "set", "ghcr.io/acme/api", "v1", "--env", "broken"],
            "apps/overlays/broken/kustomization.yaml on branch main",
        ),
        (
            &["promote", "set", "ghcr.io/acme/api", "v1", "--branch", "nope"],
            "branch nope does not exist",
        ),
        (
            &["promote", "stage", "--from", "qa", "--to", "production"],
            "runs tag production in environment qa, which is not a unique tag",
        ),
        (
            &[
                "promote",
                "stage",
                "--from",
                "development",
                "--to",
                "production",
                "--image",
                "ghcr.io/acme/db",
            ],
            "image ghcr.io/acme/db does not run in environment development",
        ),
        (
            &["promote", "update", "--env", "marker", "--tag", "v2"],
            "ImagePolicy flux-system:missing does not exist",
        ),
        (
            &["promote", "set", "ghcr.io/acme/api", "v1", "--release-tag", "1.0"],
            "is not a release tag vX.Y.Z",
        ),
    ];
    for (args, want) in cases {
        let out = run(&repo, args);
        assert!(!out.status.success(), "{args:?} succeeded");
        assert!(stderr(&out).contains(want), "{args:?}: {}", stderr(&out));
        assert_eq!(repo.tip("main").unwrap(), tip, "{args:?} wrote");
    }
    let out = run(&repo, &["promote", "set", "ghcr.io/acme/api", "v1", "--env", "broken"]);
    assert!(stderr(&out).contains("not valid YAML at line 2 column 3"), "{}", stderr(&out));
}

#[test]
fn update_applies_markers_and_annotations_against_a_real_registry() {
    let Some(registry) = Registry::start() else { return };
    let host = &registry.host;
    for n in [1, 15, 23, 9] {
        registry.push_image("team/api", &unique(n), &format!("api {n}"), DOCKER_MANIFEST);
    }
    registry.push_image("team/api", "latest", "api latest", OCI_MANIFEST);
    for tag in ["1.4.0", "1.5.2", "2.0.0", "1.5.10-rc.1"] {
        registry.push_image("team/chart", tag, tag, OCI_MANIFEST);
    }
    let repo = TestRepo::new();
    let deploy = format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n    spec:\n      containers:\n        - name: api\n          image: \"{host}/team/api:{}\" # {{\"$imagepolicy\": \"flux-system:api\"}}\n",
        unique(1)
    );
    repo.write("apps/overlays/production/api.yaml", &deploy);
    let release = format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: chart\n  annotations:\n    fluxcd.io/tag.chart: semver:~1.5\nspec:\n  values:\n    chart:\n      image:\n        repository: {host}/team/chart\n        tag: 1.4.0\n"
    );
    repo.write("apps/overlays/production/release.yaml", &release);
    repo.write(
        "clusters/production/policies.yaml",
        &format!(
            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nmetadata:\n  name: api\n  namespace: flux-system\nspec:\n  image: {host}/team/api\n---\napiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  name: api\n  namespace: flux-system\nspec:\n  imageRepositoryRef:\n    name: api\n  filterTags:\n    pattern: '^v1\\.1\\..*'\n  policy:\n    alphabetical:\n      order: asc\n"
        ),
    );
    let before = repo.commit_all("config");
    let out = run(&repo, &["promote", "update", "--env", "production"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(repo.git(&["rev-parse", "main^"]), before);
    let api = show(&repo, "apps/overlays/production/api.yaml");
    // A plain value that would read as a number after the change is quoted.
    // Builds 15 (v1.1.0, 2026-11-16) and 9 (v1.0.0): only 1.1.x pass the
    // filter, and of 15 alone the alphabetical winner is 15.
    assert_eq!(api, deploy.replace(&unique(1), &unique(15)).trim_end());
    let chart = show(&repo, "apps/overlays/production/release.yaml");
    assert_eq!(chart, release.replace("tag: 1.4.0", "tag: \"1.5.2\"").trim_end());
    let trailers = repo.git(&["log", "-1", "--format=%(trailers:only,unfold)", "main"]);
    assert!(
        trailers.contains(&format!("Kiln-Image: {host}/team/chart 1.4.0 -> 1.5.2")),
        "{trailers}"
    );
    // Run again: nothing left to change, no commit.
    let tip = repo.tip("main").unwrap();
    let out = run(&repo, &["promote", "update", "--env", "production"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(repo.tip("main").unwrap(), tip);
    // A registry that fails: a clear error, nothing written.
    let broken = serve(|_, _| (500, vec![], b"upstream down".to_vec()));
    repo.write(
        "apps/overlays/qa/api.yaml",
        &format!(
            "kind: Pod\nspec:\n  containers:\n    - name: a\n      image: {broken}/team/api:v1\n"
        ),
    );
    let tip = repo.commit_all("qa");
    let out = run(&repo, &["promote", "update", "--env", "qa", "--policy", "latest-unique"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("answered HTTP 500: upstream down"), "{}", stderr(&out));
    assert_eq!(repo.tip("main").unwrap(), tip);
}

#[test]
fn pin_resolves_an_environment_tag_to_the_unique_tag_with_its_digest() {
    let Some(registry) = Registry::start() else { return };
    let host = &registry.host;
    for n in 0..12 {
        registry.push_image("team/web", &unique(n), &format!("web {n}"), OCI_MANIFEST);
    }
    registry.push_image("team/web", "production", "web 4", OCI_MANIFEST);
    registry.push_image("team/web", "orphan", "built elsewhere", OCI_MANIFEST);
    let repo = TestRepo::new();
    let file =
        format!("images:\n  - name: {host}/team/web\n    newTag: production  # pinned by kiln\n");
    repo.write("apps/overlays/production/kustomization.yaml", &file);
    repo.commit_all("config");
    let out = run(&repo, &["promote", "pin", "--env", "production"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        show(&repo, "apps/overlays/production/kustomization.yaml"),
        file.replace("production  #", &format!("{}  #", unique(4))).trim_end()
    );
    let trailers = repo.git(&["log", "-1", "--format=%(trailers:only,unfold)", "main"]);
    assert!(
        trailers.contains(&format!("Kiln-Image: {host}/team/web production -> {}", unique(4))),
        "{trailers}"
    );
    // A tag whose digest no unique tag shares cannot be pinned.
    repo.write(
        "apps/overlays/qa/kustomization.yaml",
        &format!("images:\n  - name: {host}/team/web\n    newTag: orphan\n"),
    );
    let tip = repo.commit_all("qa");
    let out = run(&repo, &["promote", "pin", "--env", "qa"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("which no unique tag of"), "{}", stderr(&out));
    assert_eq!(repo.tip("main").unwrap(), tip);
}

#[test]
fn the_checked_out_branch_keeps_a_clean_work_tree_and_local_edits_are_never_overwritten() {
    let repo = repo_with_overlays();
    let path = "apps/overlays/development/kustomization.yaml";
    let new = unique(7);
    let out = run(&repo, &["promote", "set", "ghcr.io/acme/web", &new, "--env", "development"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(repo.git(&["status", "--porcelain"]), "");
    let on_disk = std::fs::read_to_string(repo.path().join(path)).unwrap();
    assert!(on_disk.contains(&format!("newTag: {new}")), "{on_disk}");
    // A local edit to a file the command would change: refused, nothing written.
    repo.write(path, &format!("{on_disk}# local note\n"));
    let tip = repo.tip("main").unwrap();
    let out =
        run(&repo, &["promote", "set", "ghcr.io/acme/web", &unique(8), "--env", "development"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("uncommitted changes"), "{}", stderr(&out));
    assert_eq!(repo.tip("main").unwrap(), tip);
    assert!(std::fs::read_to_string(repo.path().join(path)).unwrap().ends_with("# local note\n"));
}

#[test]
fn update_from_ci_tags_with_tag_markers_and_a_custom_message() {
    let repo = TestRepo::new();
    let values = "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: api\nspec:\n  values:\n    api:\n      repo: ghcr.io/acme/api  # {\"$imagepolicy\": \"apps:api:name\"}\n      version: \"1.0.0\" # {\"$imagepolicy\": \"apps:api:tag\"}\n";
    repo.write("apps/overlays/production/release.yaml", values);
    repo.write(
        "apps/overlays/production/other.yaml",
        "kind: Pod\nspec:\n  containers:\n    - name: o\n      image: ghcr.io/acme/other:v1.0.0\n",
    );
    repo.write(
        "clusters/production/images.yaml",
        "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nmetadata:\n  name: api\n  namespace: apps\nspec:\n  image: ghcr.io/acme/api\n---\napiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  name: api\n  namespace: apps\nspec:\n  imageRepositoryRef:\n    name: api\n  policy:\n    semver:\n      range: '>=1.0 <2'\n",
    );
    let template = repo.path().join("../message.j2");
    std::fs::write(&template, "Release {{ images|map(attribute='new')|join(', ') }}\n\n{% for i in images %}Kiln-Image: {{ i.image }} {{ i.old }} -> {{ i.new }}\n{% endfor %}").unwrap();
    repo.commit_all("config");
    let out = run(
        &repo,
        &[
            "promote",
            "update",
            "--env",
            "production",
            "--tag",
            "1.2.0",
            "--tag",
            "2.0.0",
            "--tag",
            "latest",
            "--tag",
            "1.10.1",
            "--message-template",
            template.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        show(&repo, "apps/overlays/production/release.yaml"),
        values.replace("\"1.0.0\"", "\"1.10.1\"").trim_end()
    );
    // No policy for the other image and no --policy: left alone.
    assert!(show(&repo, "apps/overlays/production/other.yaml").contains("other:v1.0.0"));
    assert_eq!(
        repo.git(&["log", "-1", "--format=%B", "main"]),
        "Release 1.10.1\n\nKiln-Image: ghcr.io/acme/api 1.0.0 -> 1.10.1"
    );
}

#[test]
fn commit_files_is_a_compare_and_swap_and_skips_empty_changes() {
    use kiln::daemon::edit::commit_files;
    use kiln::daemon::publish::{LostRace, Published};
    let repo = repo_with_overlays();
    let first = repo.tip("main").unwrap();
    repo.write("extra.yaml", "a: 1\n");
    let second = repo.commit_all("second");
    let git = kiln::daemon::repo::open(repo.path()).unwrap();
    let id = |hex: &str| gix::ObjectId::from_hex(hex.as_bytes()).unwrap();
    let author = crate::util::kiln_identity();
    let files = std::collections::BTreeMap::from([("extra.yaml".to_owned(), b"a: 2\n".to_vec())]);
    // Based on a tip that is no longer the branch's: a lost race, nothing moves.
    let err = commit_files(&git, "main", id(&first), &files, &author, "stale").unwrap_err();
    let race = err.downcast_ref::<LostRace>().expect("a lost race");
    assert_eq!(race.found, Some(id(&second)));
    assert_eq!(repo.tip("main").unwrap(), second);
    // The same contents: no commit.
    let same = std::collections::BTreeMap::from([("extra.yaml".to_owned(), b"a: 1\n".to_vec())]);
    assert_eq!(
        commit_files(&git, "main", id(&second), &same, &author, "noop").unwrap(),
        Published::Unchanged
    );
    // A path that climbs out is refused.
    let bad = std::collections::BTreeMap::from([("../x.yaml".to_owned(), Vec::new())]);
    assert!(commit_files(&git, "main", id(&second), &bad, &author, "bad").is_err());
    assert_eq!(repo.tip("main").unwrap(), second);
    // A real change: one commit on top of the tip, only that file differs.
    let Published::Committed { commit, .. } =
        commit_files(&git, "main", id(&second), &files, &author, "change").unwrap()
    else {
        panic!("no commit")
    };
    assert_eq!(repo.tip("main").unwrap(), commit.to_string());
    assert_eq!(repo.git(&["diff", "--name-only", &second, "main"]), "extra.yaml");
}

#[test]
fn update_writes_digests_and_passes_over_quarantined_tags() {
    let Some(registry) = Registry::start() else { return };
    let host = &registry.host;
    let digests: Vec<String> = (0..4)
        .map(|n| registry.push_image("team/api", &unique(n), &format!("api {n}"), OCI_MANIFEST))
        .collect();
    registry.push_image("team/api", "production", "api 0", OCI_MANIFEST);
    let (old, new, banned) = (unique(1), unique(2), unique(3));
    let (d1, d2) = (&digests[1], &digests[2]);
    let repo = TestRepo::new();
    let kustomization = format!(
        "images:\n  - name: {host}/team/api\n    newTag: {old} # moves\n    digest: {d1}\n  - name: {host}/team/api-digest-only\n    newName: {host}/team/api\n    digest: \"{d1}\"\n"
    );
    let pods = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: api\nspec:\n  containers:\n    - name: tagged\n      image: {host}/team/api:{old}@{d1}\n    - name: digest\n      image: '{host}/team/api@{d1}'\n    - name: plain\n      image: {host}/team/api:{old}\n"
    );
    let release = format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: api\nspec:\n  values:\n    api:\n      tag: {old} # {{\"$imagepolicy\": \"flux-system:api:tag\"}}\n      digest: {d1} # {{\"$imagepolicy\": \"flux-system:api:digest\"}}\n    sidecar:\n      sha: {d1} # {{\"$imagepolicy\": \"flux-system:api:digest\"}}\n"
    );
    repo.write("apps/overlays/production/kustomization.yaml", &kustomization);
    repo.write("apps/overlays/production/pods.yaml", &pods);
    repo.write("apps/overlays/production/release.yaml", &release);
    repo.write(
        "clusters/production/policies.yaml",
        &format!(
            "apiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImageRepository\nmetadata:\n  name: api\n  namespace: flux-system\nspec:\n  image: {host}/team/api\n---\napiVersion: image.toolkit.fluxcd.io/v1beta2\nkind: ImagePolicy\nmetadata:\n  name: api\n  namespace: flux-system\nspec:\n  imageRepositoryRef:\n    name: api\n  filterTags:\n    pattern: '^v1\\.0\\.'\n  policy:\n    alphabetical:\n      order: asc\n"
        ),
    );
    repo.write(
        ".kiln/quarantine.yaml",
        &format!("tags:\n- tag: {banned}\n  image: {host}/team/api\n  commit: abc\n  reason: deploy failed\n"),
    );
    let before = repo.commit_all("config");
    let out =
        run(&repo, &["promote", "update", "--env", "production", "--policy", "latest-unique"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(repo.git(&["rev-parse", "main^"]), before);
    // Every tag moves to the newest build that is not quarantined, every digest to that build's.
    let cases = [
        ("kustomization.yaml", kustomization.replace(&old, &new).replace(d1, d2)),
        ("pods.yaml", pods.replace(&old, &new).replace(d1, d2)),
        ("release.yaml", release.replace(&old, &new).replace(d1, d2)),
    ];
    for (file, want) in cases {
        assert_eq!(
            show(&repo, &format!("apps/overlays/production/{file}")),
            want.trim_end(),
            "{file}"
        );
    }
    let trailers = repo.git(&["log", "-1", "--format=%(trailers:only,unfold)", "main"]);
    assert!(
        trailers.contains(&format!("Kiln-Image: {host}/team/api {old}@{d1} -> {new}@{d2}")),
        "{trailers}"
    );
    assert!(
        trailers.contains(&format!("Kiln-Image: {host}/team/api {d1} -> {new}@{d2}")),
        "{trailers}"
    );
    // Again: nothing left to change.
    let tip = repo.tip("main").unwrap();
    let out =
        run(&repo, &["promote", "update", "--env", "production", "--policy", "latest-unique"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(repo.tip("main").unwrap(), tip);
    // A quarantined tag is refused by set, and its digest never written.
    let out = run(
        &repo,
        &["promote", "set", &format!("{host}/team/api"), &banned, "--env", "production"],
    );
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains(&format!("tag {banned} of {host}/team/api is quarantined")),
        "{}",
        stderr(&out)
    );
    assert_eq!(repo.tip("main").unwrap(), tip);
    // set writes the digest of the tag it is given.
    let out = run(
        &repo,
        &["promote", "set", &format!("{host}/team/api"), &unique(0), "--env", "production"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let pods_now = show(&repo, "apps/overlays/production/pods.yaml");
    assert!(
        pods_now.contains(&format!("image: {host}/team/api:{}@{}", unique(0), digests[0])),
        "{pods_now}"
    );
    assert!(pods_now.contains(&format!("image: '{host}/team/api@{}'", digests[0])), "{pods_now}");
}

#[test]
fn a_remote_branch_is_fetched_committed_and_pushed_with_a_lease() {
    let repo = repo_with_overlays();
    let bare = repo.bare_clone();
    let url = format!("file://{}", bare.path().display());
    let new = unique(42);
    let dir = repo.path();
    // A remote has no current branch.
    let out = kiln(dir, &["promote", "set", "ghcr.io/acme/api", &new, "--repo", &url]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("name the branch with --branch"), "{}", stderr(&out));
    let before = bare.git(&["rev-parse", "main"]);
    let args = [
        "promote",
        "set",
        "ghcr.io/acme/api",
        &new,
        "--env",
        "development",
        "--repo",
        &url,
        "--branch",
        "main",
        "--release-tag",
        "v1.2.3",
    ];
    let out = kiln(dir, &args);
    assert!(out.status.success(), "{}", stderr(&out));
    let tip = bare.git(&["rev-parse", "main"]);
    assert_eq!(bare.git(&["rev-parse", "main^"]), before);
    assert_eq!(bare.git(&["rev-parse", "v1.2.3^{commit}"]), tip);
    assert!(
        bare.git(&["show", "main:apps/overlays/development/kustomization.yaml"])
            .contains(&format!("newTag: '{new}'"))
    );
    // The local repository the remote was cloned from is untouched.
    assert_eq!(repo.tip("main").unwrap(), before);
    // The release tag exists on the remote now: refused, nothing pushed.
    let out = kiln(
        dir,
        &[
            "promote",
            "set",
            "ghcr.io/acme/web",
            &new,
            "--repo",
            &url,
            "--branch",
            "main",
            "--release-tag",
            "v1.2.3",
        ],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("release tag v1.2.3 already exists"), "{}", stderr(&out));
    assert_eq!(bare.git(&["rev-parse", "main"]), tip);
    // A missing branch is a clear error.
    let out = kiln(
        dir,
        &["promote", "set", "ghcr.io/acme/web", &new, "--repo", &url, "--branch", "nope"],
    );
    assert!(!out.status.success());
    assert!(stderr(&out).contains("branch nope does not exist"), "{}", stderr(&out));
}

#[test]
fn a_push_whose_branch_or_tag_moved_is_rejected_and_changes_nothing() {
    use kiln::daemon::edit::{commit_files, fetch_branch};
    use kiln::daemon::publish::Published;
    use kiln::daemon::remote::{Pushed, Remote};
    let repo = repo_with_overlays();
    let bare = repo.bare_clone();
    let remote = Remote::new(format!("file://{}", bare.path().display()));
    let author = crate::util::kiln_identity();
    // (what happens on the remote between fetch and push, tag pushed, pushed?)
    let cases: [(&str, Option<&str>, bool); 3] = [
        ("nothing", Some("v9.0.0"), true),
        ("the branch moves", None, false),
        ("the tag appears", Some("v9.1.0"), false),
    ];
    for (meanwhile, tag, pushed) in cases {
        let fetched = fetch_branch(&remote, "main", &[]).unwrap();
        let tip = fetched.tip().unwrap();
        let contents = format!("a: {meanwhile}\n").into_bytes();
        let files = std::collections::BTreeMap::from([("extra.yaml".to_owned(), contents)]);
        let Published::Committed { commit, .. } =
            commit_files(&fetched.repo, "main", tip, &files, &author, meanwhile).unwrap()
        else {
            panic!("{meanwhile}: no commit")
        };
        let remote_before = bare.git(&["rev-parse", "main"]);
        match meanwhile {
            "the branch moves" => {
                repo.write("race.yaml", &format!("b: {}\n", remote_before.len()));
                repo.commit_all("racing writer");
                let path = bare.path().to_str().unwrap();
                repo.git(&["push", "--quiet", "--force", path, "main:main"]);
            }
            "the tag appears" => {
                bare.git(&["tag", tag.unwrap(), &remote_before]);
            }
            _ => {}
        }
        let remote_now = bare.git(&["rev-parse", "main"]);
        let result = fetched.push(commit, tag).unwrap();
        assert_eq!(result == Pushed::Updated, pushed, "{meanwhile}: {result:?}");
        if pushed {
            assert_eq!(bare.git(&["rev-parse", "main"]), commit.to_string(), "{meanwhile}");
            assert_eq!(
                bare.git(&["rev-parse", &format!("{}^{{commit}}", tag.unwrap())]),
                commit.to_string()
            );
        } else {
            assert_eq!(
                bare.git(&["rev-parse", "main"]),
                remote_now,
                "{meanwhile}: the branch moved"
            );
        }
    }
}
