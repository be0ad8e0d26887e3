//! `publish` replaces exactly one directory of the target branch and moves the branch with compare-and-swap.

use std::collections::BTreeMap;

use gix::ObjectId;
use kiln::daemon::publish::{
    LostRace, Published, Update, last_provenance, publish, with_provenance,
};
use kiln::daemon::repo::open;

use crate::util::{TIME, TestRepo, kiln_identity};

fn files(entries: &[(&str, &str)]) -> BTreeMap<String, Vec<u8>> {
    entries
        .iter()
        .map(|(path, contents)| (path.to_string(), contents.as_bytes().to_vec()))
        .collect()
}

fn oid(hex: &str) -> ObjectId {
    ObjectId::from_hex(hex.as_bytes()).unwrap()
}

fn run(
    repo: &TestRepo,
    expected_tip: Option<&str>,
    target_dir: &str,
    files: &BTreeMap<String, Vec<u8>>,
) -> anyhow::Result<Published> {
    let git = open(repo.path())?;
    publish(
        &git,
        &Update {
            target_branch: "rendered",
            expected_tip: expected_tip.map(oid),
            target_dir,
            files,
            author: &kiln_identity(),
            message: "Render production\n\nSource-Branch: production\n",
        },
    )
}

/// A repository whose branch `rendered` holds several directories; returns it and that tip.
fn rendered_fixture() -> (TestRepo, String) {
    let repo = TestRepo::new();
    repo.switch("rendered");
    for (path, contents) in [
        ("README.md", "readme\n"),
        ("production/old.yaml", "old: 1\n"),
        ("production/keep/y.yaml", "y: 1\n"),
        ("production-extra/z.yaml", "z: 1\n"),
        ("staging/app.yaml", "app: 1\n"),
        ("rendered/production/p.yaml", "p: 1\n"),
        ("rendered/staging/s.yaml", "s: 1\n"),
        ("other/deep/z.yaml", "z: 2\n"),
    ] {
        repo.write(path, contents);
    }
    let tip = repo.commit_all("hand-made target");
    repo.switch("main");
    repo.write("source.yaml", "source: 1\n");
    repo.commit_all("main");
    (repo, tip)
}

fn under(path: &str, dir: &str) -> bool {
    path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'))
}

#[test]
fn creates_a_missing_branch() {
    let repo = TestRepo::new();
    repo.write("source.txt", "x\n");
    repo.commit_all("init");
    let rendered = files(&[("a.yaml", "a: 1\n"), ("ns/b.yaml", "b: 2\n")]);
    let Published::Committed { commit, tree } = run(&repo, None, "production", &rendered).unwrap()
    else {
        panic!("expected a commit");
    };
    assert_eq!(repo.tip("rendered"), Some(commit.to_string()));
    assert_eq!(repo.git(&["rev-parse", "rendered^{tree}"]), tree.to_string());
    let paths: Vec<String> = repo.ls_tree("rendered").into_keys().collect();
    assert_eq!(paths, ["production/a.yaml", "production/ns/b.yaml"]);
    assert_eq!(repo.git(&["show", "rendered:production/ns/b.yaml"]), "b: 2");
    let log = repo.git(&["log", "-1", "--format=%P|%an|%ae|%at|%cn|%ce|%ct|%B", "rendered"]);
    let t = TIME + 60;
    assert_eq!(
        log,
        format!(
            "|kiln|kiln@example.com|{t}|kiln|kiln@example.com|{t}|Render production\n\nSource-Branch: production"
        )
    );
    repo.git(&["fsck", "--strict", "--no-progress"]);
}

#[test]
fn replaces_only_the_target_directory() {
    let cases: &[(&str, &[(&str, &str)])] = &[
        ("production", &[("new.yaml", "new: 1\n"), ("keep/y.yaml", "y: 2\n")]),
        ("rendered/production", &[("n.yaml", "n: 1\n")]),
        ("brand/new/dir", &[("x.yaml", "x: 1\n")]),
        ("production", &[]),
        ("rendered/staging", &[]),
        ("other/deep", &[]),
        ("README.md/inside", &[("f", "a file's path turned into a directory\n")]),
    ];
    let (repo, base) = rendered_fixture();
    let before = repo.ls_tree(&base);
    for (target_dir, entries) in cases {
        repo.git(&["update-ref", "refs/heads/rendered", &base]);
        let rendered = files(entries);
        let Published::Committed { commit, .. } =
            run(&repo, Some(&base), target_dir, &rendered).unwrap()
        else {
            panic!("{target_dir}: expected a commit");
        };
        assert_eq!(repo.git(&["rev-parse", &format!("{commit}^")]), base, "{target_dir}: parent");
        let after = repo.ls_tree("rendered");
        // A file standing where the target directory goes is replaced too.
        let replaced =
            |path: &str| under(path, target_dir) || target_dir.starts_with(&format!("{path}/"));
        let kept_before: BTreeMap<_, _> = before.iter().filter(|(p, _)| !replaced(p)).collect();
        let kept_after: BTreeMap<_, _> =
            after.iter().filter(|(p, _)| !under(p, target_dir)).collect();
        assert_eq!(kept_after, kept_before, "{target_dir}: everything else keeps its blob ids");
        let inside: Vec<&String> = after.keys().filter(|p| under(p, target_dir)).collect();
        let want: Vec<String> = rendered.keys().map(|p| format!("{target_dir}/{p}")).collect();
        assert_eq!(inside, want.iter().collect::<Vec<_>>(), "{target_dir}: new contents");
        for (path, contents) in &rendered {
            let shown = repo.git(&["cat-file", "blob", &format!("rendered:{target_dir}/{path}")]);
            assert_eq!(shown, String::from_utf8_lossy(contents).trim_end(), "{target_dir}/{path}");
        }
        // Directories left empty are pruned, not kept as empty trees.
        let trees = repo.git(&["ls-tree", "-r", "-d", "--name-only", "rendered"]);
        for dir in trees.lines() {
            assert!(after.keys().any(|p| under(p, dir)), "{target_dir}: empty directory {dir}");
        }
        repo.git(&["fsck", "--strict", "--no-progress"]);
    }
}

#[test]
fn makes_no_commit_when_nothing_changes() {
    let (repo, base) = rendered_fixture();
    let same = files(&[("old.yaml", "old: 1\n"), ("keep/y.yaml", "y: 1\n")]);
    assert_eq!(run(&repo, Some(&base), "production", &same).unwrap(), Published::Unchanged);
    assert_eq!(run(&repo, Some(&base), "not-there", &files(&[])).unwrap(), Published::Unchanged);
    assert_eq!(repo.tip("rendered").as_deref(), Some(base.as_str()));

    // An empty render into a branch that does not exist creates nothing.
    let fresh = TestRepo::new();
    fresh.commit_all("init");
    assert_eq!(run(&fresh, None, "production", &files(&[])).unwrap(), Published::Unchanged);
    assert_eq!(fresh.tip("rendered"), None);
}

/// Points `rendered` at `tip`, or deletes it.
fn set_rendered(repo: &TestRepo, tip: Option<&str>) {
    match tip {
        Some(tip) => repo.git(&["update-ref", "refs/heads/rendered", tip]),
        None => repo.git(&["update-ref", "-d", "refs/heads/rendered"]),
    };
}

#[test]
fn a_branch_moved_meanwhile_is_a_lost_race() {
    let (repo, base) = rendered_fixture();
    let other = repo.tip("main").unwrap();
    let (base, other) = (Some(base.as_str()), Some(other.as_str()));
    // The tip read before rendering, and where another writer put the branch since.
    let cases = [("moved", base, other), ("created", None, other), ("deleted", base, None)];
    for (label, read, moved_to) in cases {
        set_rendered(&repo, read);
        set_rendered(&repo, moved_to);
        let err = run(&repo, read, "production", &files(&[("a.yaml", "a\n")])).unwrap_err();
        let lost = err
            .downcast_ref::<LostRace>()
            .unwrap_or_else(|| panic!("{label}: not a lost race: {err:#}"));
        let want = LostRace {
            branch: "rendered".into(),
            expected: read.map(oid),
            found: moved_to.map(oid),
        };
        assert_eq!(*lost, want, "{label}");
        assert_eq!(
            repo.tip("rendered").as_deref(),
            moved_to,
            "{label}: the winner's update stands"
        );
    }
}

#[test]
fn refuses_bad_paths_and_touches_nothing() {
    /// Target directory, rendered files, and a fragment of the error.
    type Case = (&'static str, &'static [(&'static str, &'static str)], &'static str);
    let cases: &[Case] = &[
        ("", &[("a.yaml", "a\n")], "must not be the root"),
        ("..", &[("a.yaml", "a\n")], "leaves the root"),
        ("../x", &[("a.yaml", "a\n")], "leaves the root"),
        ("production", &[("../a.yaml", "a\n")], "not a normalised relative path"),
        ("production", &[("./a.yaml", "a\n")], "not a normalised relative path"),
        ("production", &[("a//b.yaml", "a\n")], "not a normalised relative path"),
        ("production", &[("", "a\n")], "not a normalised relative path"),
        ("production", &[("/abs.yaml", "a\n")], "not a normalised relative path"),
        ("production", &[("a", "file\n"), ("a/b.yaml", "both\n")], "both a file and the directory"),
        ("production", &[(".git/config", "[core]\n")], ".git"),
        (".git", &[("config", "[core]\n")], ".git"),
    ];
    let (repo, base) = rendered_fixture();
    for (target_dir, entries, want) in cases {
        let err = run(&repo, Some(&base), target_dir, &files(entries)).unwrap_err();
        assert!(format!("{err:#}").contains(want), "{target_dir} {entries:?}: {err:#}");
        assert_eq!(repo.tip("rendered").as_deref(), Some(base.as_str()));
    }
}

#[test]
fn reads_provenance_back_from_the_tip() {
    let (repo, base) = rendered_fixture();
    let git = open(repo.path()).unwrap();
    assert_eq!(last_provenance(&git, "no-such-branch").unwrap(), None);
    assert_eq!(last_provenance(&git, "rendered").unwrap(), None, "a tip without trailers");

    let source = oid(&repo.tip("main").unwrap());
    let message = with_provenance("Render production\n\nBody text.\n", "production", source);
    assert_eq!(
        message,
        format!(
            "Render production\n\nBody text.\n\nSource-Branch: production\nSource-Commit: {source}\n"
        )
    );
    assert!(
        with_provenance("  \n", "staging", source)
            .starts_with("Render staging\n\nSource-Branch: staging\n")
    );
    let update = Update {
        target_branch: "rendered",
        expected_tip: Some(oid(&base)),
        target_dir: "production",
        files: &files(&[("a.yaml", "a\n")]),
        author: &kiln_identity(),
        message: &message,
    };
    publish(&git, &update).unwrap();
    assert_eq!(
        last_provenance(&git, "rendered").unwrap(),
        Some(("production".to_string(), source))
    );
    assert_eq!(
        repo.git(&["log", "-1", "--format=%(trailers:key=Source-Commit,valueonly)", "rendered"]),
        source.to_string()
    );
}
