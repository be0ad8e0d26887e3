//! `GitTree` reads files, directories and symbolic links straight from the object database.

use kiln::daemon::repo::{branch_tip, open};
use kiln::daemon::tree::GitTree;
use renderer::tree::{EntryKind, Error, Tree};

use crate::util::TestRepo;

const DEPLOY: &str = "kind: Deployment\n";
const PROD: &str = "resources: [../../base]\n";

/// A repository whose `main` holds files, nested directories, links of every kind and a submodule.
fn fixture() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("base/kustomization.yaml", "resources: [deploy.yaml]\n");
    repo.write("base/deploy.yaml", DEPLOY);
    repo.write("overlays/prod/kustomization.yaml", PROD);
    repo.write("overlays/prod/nested/deep/file.txt", "deep\n");
    repo.write("run.sh", "#!/bin/sh\n");
    repo.git(&["update-index", "--add", "--chmod=+x", "run.sh"]);
    repo.symlink("link-file", "base/deploy.yaml");
    repo.symlink("link-dir", "overlays");
    repo.symlink("overlays/prod/up", "../../base");
    repo.symlink("overlays/prod/chain", "../../link-dir/prod/up");
    repo.symlink("escape", "../outside");
    repo.symlink("escape-deep", "overlays/../../x");
    repo.symlink("absolute", "/etc/passwd");
    repo.symlink("dangling", "nothing-here");
    repo.symlink("loop-a", "loop-b");
    repo.symlink("loop-b", "loop-a");
    repo.commit_all("fixture");
    // A submodule is a commit entry (gitlink); no submodule repository is needed for that.
    let head = repo.git(&["rev-parse", "HEAD"]);
    repo.git(&["update-index", "--add", "--cacheinfo", &format!("160000,{head},vendor/sub")]);
    repo.git(&["commit", "--quiet", "-m", "add a submodule"]);
    repo
}

fn outcome(result: Result<Vec<u8>, Error>) -> String {
    match result {
        Ok(bytes) => format!("ok {}", String::from_utf8(bytes).unwrap()),
        Err(Error::NotFound { .. }) => "not found".into(),
        Err(Error::Escapes { .. }) => "escapes".into(),
        Err(Error::Io { message, .. }) => format!("io {message}"),
    }
}

/// Runs `check` on the tree of `main` in the work-tree repository and in a bare clone.
fn on_both(check: impl Fn(&GitTree)) {
    let repo = fixture();
    let bare = repo.bare_clone();
    assert_eq!(bare.git(&["rev-parse", "--is-bare-repository"]), "true");
    for path in [repo.path(), bare.path()] {
        let git = open(path).unwrap();
        let tip = branch_tip(&git, "main").unwrap().unwrap();
        check(&GitTree::at_commit(&git, tip).unwrap());
    }
}

#[test]
fn reads_files_through_links_and_refuses_escapes() {
    let cases: &[(&str, &str)] = &[
        ("base/deploy.yaml", "ok kind: Deployment\n"),
        ("overlays/prod/kustomization.yaml", "ok resources: [../../base]\n"),
        ("overlays/prod/nested/deep/file.txt", "ok deep\n"),
        ("run.sh", "ok #!/bin/sh\n"),
        ("link-file", "ok kind: Deployment\n"),
        ("link-dir/prod/kustomization.yaml", "ok resources: [../../base]\n"),
        ("overlays/prod/up/deploy.yaml", "ok kind: Deployment\n"),
        ("overlays/prod/chain/deploy.yaml", "ok kind: Deployment\n"),
        ("link-dir/prod/up/deploy.yaml", "ok kind: Deployment\n"),
        ("escape", "escapes"),
        ("escape/file", "escapes"),
        ("escape-deep", "escapes"),
        ("absolute", "escapes"),
        ("../base/deploy.yaml", "escapes"),
        ("dangling", "not found"),
        ("missing.yaml", "not found"),
        ("base/deploy.yaml/x", "not found"),
        ("vendor/sub", "not found"),
        ("base", "io is a directory"),
        ("link-dir", "io is a directory"),
        ("loop-a", "io too many levels of symbolic links"),
    ];
    on_both(|tree| {
        for (path, want) in cases {
            assert_eq!(outcome(tree.read(path)), *want, "read {path}");
        }
    });
}

#[test]
fn kinds() {
    let cases: &[(&str, Option<EntryKind>)] = &[
        ("", Some(EntryKind::Dir)),
        ("base", Some(EntryKind::Dir)),
        ("overlays/prod/nested/deep", Some(EntryKind::Dir)),
        ("base/deploy.yaml", Some(EntryKind::File)),
        ("link-file", Some(EntryKind::File)),
        ("link-dir", Some(EntryKind::Dir)),
        ("overlays/prod/up", Some(EntryKind::Dir)),
        ("escape", None),
        ("dangling", None),
        ("loop-a", None),
        ("vendor/sub", None),
        ("nope", None),
    ];
    on_both(|tree| {
        for (path, want) in cases {
            assert_eq!(tree.kind(path), *want, "kind {path}");
        }
    });
}

#[test]
fn lists_directories_without_submodules_or_bad_links() {
    use EntryKind::{Dir, File};
    let cases: &[(&str, &[(&str, EntryKind)])] = &[
        (
            "",
            &[
                ("base", Dir),
                ("link-dir", Dir),
                ("link-file", File),
                ("overlays", Dir),
                ("run.sh", File),
                ("vendor", Dir),
            ],
        ),
        ("base", &[("deploy.yaml", File), ("kustomization.yaml", File)]),
        (
            "overlays/prod",
            &[("chain", Dir), ("kustomization.yaml", File), ("nested", Dir), ("up", Dir)],
        ),
        ("link-dir/prod/up", &[("deploy.yaml", File), ("kustomization.yaml", File)]),
        ("vendor", &[]),
    ];
    on_both(|tree| {
        for (path, want) in cases {
            let got = tree.list(path).unwrap();
            let want: Vec<(String, EntryKind)> =
                want.iter().map(|(n, k)| (n.to_string(), *k)).collect();
            assert_eq!(got, want, "list {path}");
        }
        assert!(matches!(tree.list("base/deploy.yaml"), Err(Error::Io { .. })));
        assert!(matches!(tree.list("nope"), Err(Error::NotFound { .. })));
        assert!(matches!(tree.list("escape"), Err(Error::Escapes { .. })));
    });
}

#[test]
fn reads_from_several_threads() {
    on_both(|tree| {
        std::thread::scope(|scope| {
            let readers: Vec<_> = (0..4)
                .map(|_| {
                    scope.spawn(|| {
                        (0..20).all(|_| {
                            tree.read("link-dir/prod/up/deploy.yaml").unwrap() == DEPLOY.as_bytes()
                        })
                    })
                })
                .collect();
            assert!(readers.into_iter().all(|r| r.join().unwrap()));
        });
    });
}

#[test]
fn refuses_an_object_that_is_not_a_tree() {
    let repo = fixture();
    let git = open(repo.path()).unwrap();
    let blob = repo.git(&["rev-parse", "HEAD:base/deploy.yaml"]);
    assert!(GitTree::at_tree(&git, gix::ObjectId::from_hex(blob.as_bytes()).unwrap()).is_err());
}

#[test]
fn real_paths_follow_links() {
    let cases: &[(&str, Result<&str, &str>)] = &[
        ("base/deploy.yaml", Ok("base/deploy.yaml")),
        ("", Ok("")),
        ("link-file", Ok("base/deploy.yaml")),
        ("link-dir", Ok("overlays")),
        ("link-dir/prod/up/deploy.yaml", Ok("base/deploy.yaml")),
        ("overlays/prod/chain", Ok("base")),
        ("overlays/prod/up/kustomization.yaml", Ok("base/kustomization.yaml")),
        ("escape", Err("escapes")),
        ("dangling", Err("not found")),
    ];
    on_both(|tree| {
        for (path, want) in cases {
            let got = match tree.real_path(path) {
                Ok(real) => Ok(real),
                Err(e) => Err(outcome(Err(e))),
            };
            assert_eq!(got.as_deref().map_err(String::as_str), want.map_err(|e| e), "{path}");
        }
    });
}

/// A kustomization may not reach a file outside its own directory through a
/// symbolic link, even when the link stays inside the repository: the same
/// confinement holds on a git tree as on a checkout.
#[test]
fn kustomize_refuses_links_out_of_the_kustomization_root() {
    use renderer::kustomize::{Options, build};
    let repo = TestRepo::new();
    repo.write("private/secret.yaml", "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s\n");
    repo.write("app/kustomization.yaml", "resources:\n- leak.yaml\n");
    repo.symlink("app/leak.yaml", "../private/secret.yaml");
    repo.write("inside/kustomization.yaml", "resources:\n- link.yaml\n");
    repo.write("inside/real/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n");
    repo.symlink("inside/link.yaml", "real/cm.yaml");
    repo.commit_all("links");
    let git = open(repo.path()).unwrap();
    let tip = branch_tip(&git, "main").unwrap().unwrap();
    let git_tree = GitTree::at_commit(&git, tip).unwrap();
    let dir_tree = renderer::DirTree::new(repo.path()).unwrap();
    let trees: [(&str, &dyn Tree); 2] = [("git", &git_tree), ("dir", &dir_tree)];
    for (name, tree) in trees {
        let err = build(tree, "app", &Options::default()).unwrap_err().to_string();
        assert!(err.contains("leak.yaml"), "{name}: {err}");
        let built = build(tree, "inside", &Options::default()).unwrap();
        assert_eq!(built.len(), 1, "{name}");
    }
}
