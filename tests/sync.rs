//! `sync_once` renders the source branch tip and publishes it, or touches nothing.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::anyhow;
use gix::ObjectId;
use kiln::daemon::publish::{LostRace, Published, last_provenance};
use kiln::daemon::repo::open;
use kiln::daemon::sync::{Context, Source, SyncOutcome, sync_once};
use renderer::tree::{EntryKind, Tree, join};

use crate::util::{TestRepo, kiln_identity};

/// A stand-in renderer: every file below `apps`, by its path relative to `apps`.
fn copy_apps(tree: &dyn Tree) -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
    let mut out = BTreeMap::new();
    let mut dirs = vec![String::new()];
    while let Some(rel) = dirs.pop() {
        for (name, kind) in tree.list(&join("apps", &rel)?)? {
            let child = join(&rel, &name)?;
            match kind {
                EntryKind::Dir => dirs.push(child),
                EntryKind::File => {
                    drop(out.insert(child.clone(), tree.read(&join("apps", &child)?)?))
                }
            }
        }
    }
    Ok(out)
}

fn message(source: &Source) -> String {
    format!("Render {}\n\nFrom: {}\n", source.branch, source.subject)
}

fn sync(
    path: &Path,
    render: impl FnOnce(&dyn Tree) -> anyhow::Result<BTreeMap<String, Vec<u8>>>,
) -> anyhow::Result<SyncOutcome> {
    let author = kiln_identity();
    let cx = Context {
        repo: path,
        source_branch: "production",
        target_branch: "rendered",
        target_dir: "production",
        author: &author,
    };
    sync_once(&cx, |tree, _| render(tree), message)
}

/// A repository with a `main` branch and a `production` branch holding `apps/`.
fn fixture() -> TestRepo {
    let repo = TestRepo::new();
    repo.write("README.md", "main\n");
    repo.commit_all("main");
    repo.switch("production");
    repo.write("apps/a.yaml", "a: 1\n");
    repo.write("apps/sub/b.yaml", "b: 1\n");
    repo.write("notes.txt", "not rendered\n");
    repo.commit_all("deploy v1");
    repo
}

fn oid(hex: &str) -> ObjectId {
    ObjectId::from_hex(hex.as_bytes()).unwrap()
}

/// The blob ids below `dir` of `rev`, by path relative to `dir`.
fn blobs(ls_tree: &BTreeMap<String, String>, dir: &str) -> BTreeMap<String, String> {
    ls_tree
        .iter()
        .filter_map(|(path, meta)| {
            Some((path.strip_prefix(&format!("{dir}/"))?.to_string(), meta.clone()))
        })
        .collect()
}

#[test]
fn follows_the_source_branch_and_skips_unchanged_renders() {
    let repo = fixture();
    let outcome = sync(repo.path(), copy_apps).unwrap();
    let source = oid(&repo.tip("production").unwrap());
    assert_eq!(
        outcome.source,
        Source { branch: "production".into(), commit: source, subject: "deploy v1".into() }
    );
    let Published::Committed { commit: first, .. } = outcome.published else {
        panic!("expected a commit, got {outcome:?}");
    };
    assert_eq!(repo.tip("rendered"), Some(first.to_string()));
    assert_eq!(
        blobs(&repo.ls_tree("rendered"), "production"),
        blobs(&repo.ls_tree("production"), "apps")
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%B", "rendered"]),
        format!(
            "Render production\n\nFrom: deploy v1\n\nSource-Branch: production\nSource-Commit: {source}"
        )
    );
    let git = open(repo.path()).unwrap();
    assert_eq!(last_provenance(&git, "rendered").unwrap(), Some(("production".into(), source)));

    // Same source, same output: no commit.
    assert_eq!(sync(repo.path(), copy_apps).unwrap().published, Published::Unchanged);
    // A source commit that changes nothing rendered: no commit either.
    repo.write("notes.txt", "still not rendered\n");
    repo.commit_all("notes");
    assert_eq!(sync(repo.path(), copy_apps).unwrap().published, Published::Unchanged);
    assert_eq!(repo.tip("rendered"), Some(first.to_string()));

    // A rendered change makes a commit on top of the previous one.
    repo.write("apps/a.yaml", "a: 2\n");
    repo.git(&["rm", "--quiet", "apps/sub/b.yaml"]);
    repo.commit_all("deploy v2");
    let Published::Committed { commit: second, .. } =
        sync(repo.path(), copy_apps).unwrap().published
    else {
        panic!("expected a second commit");
    };
    assert_eq!(repo.git(&["rev-parse", "rendered^"]), first.to_string());
    assert_eq!(repo.tip("rendered"), Some(second.to_string()));
    let paths: Vec<String> = repo.ls_tree("rendered").into_keys().collect();
    assert_eq!(paths, ["production/a.yaml"]);
}

#[test]
fn a_render_error_touches_nothing() {
    let repo = fixture();
    let broken = |_: &dyn Tree| -> anyhow::Result<BTreeMap<String, Vec<u8>>> {
        Err(anyhow!("apps/a.yaml: broken manifest"))
    };
    let err = sync(repo.path(), broken).unwrap_err();
    assert!(format!("{err:#}").contains("rendering production at"), "{err:#}");
    assert!(format!("{err:#}").contains("broken manifest"), "{err:#}");
    assert_eq!(repo.tip("rendered"), None);

    sync(repo.path(), copy_apps).unwrap();
    let before = repo.tip("rendered");
    repo.write("apps/a.yaml", "a: 3\n");
    repo.commit_all("deploy v3");
    assert!(sync(repo.path(), broken).is_err());
    assert_eq!(repo.tip("rendered"), before);
}

#[test]
fn a_missing_source_branch_is_an_error() {
    let repo = TestRepo::new();
    repo.write("README.md", "main\n");
    repo.commit_all("main");
    let err = sync(repo.path(), copy_apps).unwrap_err();
    assert!(format!("{err:#}").contains("source branch production does not exist"), "{err:#}");
    assert_eq!(repo.tip("rendered"), None);
}

#[test]
fn a_target_moved_during_the_render_loses_the_race() {
    let repo = fixture();
    sync(repo.path(), copy_apps).unwrap();
    let read_before_render = oid(&repo.tip("rendered").unwrap());
    repo.write("apps/a.yaml", "a: 4\n");
    repo.commit_all("deploy v4");
    let winner = repo.tip("main").unwrap();
    let err = sync(repo.path(), |tree| {
        // Another writer moves the target branch while this render runs.
        repo.git(&["update-ref", "refs/heads/rendered", &winner]);
        copy_apps(tree)
    })
    .unwrap_err();
    let lost = err.downcast_ref::<LostRace>().unwrap_or_else(|| panic!("not a lost race: {err:#}"));
    assert_eq!(
        *lost,
        LostRace {
            branch: "rendered".into(),
            expected: Some(read_before_render),
            found: Some(oid(&winner))
        }
    );
    assert_eq!(repo.tip("rendered"), Some(winner));
}

#[test]
fn works_on_a_bare_repository() {
    let repo = fixture();
    let bare = repo.bare_clone();
    let Published::Committed { commit, .. } = sync(bare.path(), copy_apps).unwrap().published
    else {
        panic!("expected a commit");
    };
    assert_eq!(bare.git(&["rev-parse", "refs/heads/rendered"]), commit.to_string());
    assert_eq!(
        bare.git(&["ls-tree", "-r", "--name-only", "rendered"]),
        "production/a.yaml\nproduction/sub/b.yaml"
    );
    bare.git(&["fsck", "--strict", "--no-progress"]);
}
