//! The kustomize engine on hostile and broken input: clear errors, never a panic.
//!
//! A table of hand-written trees (alias bomb, cycles, deep nesting, non-UTF-8
//! files, paths leaving the root), each expected to fail with a message
//! holding a given phrase, and a proptest that builds random kustomization
//! trees from a vocabulary of fields and files and asserts the build returns.

use proptest::prelude::*;
use renderer::MemTree;
use renderer::kustomize::{self, Options};
use std::panic::{AssertUnwindSafe, catch_unwind};

/// The error chain of a failed build, or `None` when it built.
fn build_error(tree: &MemTree, dir: &str) -> Option<String> {
    build_error_with(tree, dir, &Options::default())
}

/// The error chain of a failed build with these options, or `None`.
fn build_error_with(tree: &MemTree, dir: &str, options: &Options) -> Option<String> {
    match kustomize::build(tree, dir, options) {
        Ok(_) => None,
        Err(e) => {
            let mut msg = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                msg.push_str(": ");
                msg.push_str(&s.to_string());
                source = s.source();
            }
            Some(msg)
        }
    }
}

fn alias_bomb() -> String {
    let mut s = String::from(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n",
    );
    for i in 1..12 {
        let prev = i - 1;
        s.push_str(&format!(
            "  a{i}: &a{i} [*a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}, *a{prev}]\n"
        ));
    }
    s
}

fn deep_nesting(levels: usize) -> MemTree {
    let mut t = MemTree::new();
    let mut dir = String::new();
    for i in 0..levels {
        let next = format!("{dir}{}l{i}", if dir.is_empty() { "" } else { "/" });
        t.insert(
            &format!(
                "{}kustomization.yaml",
                if dir.is_empty() { String::new() } else { format!("{dir}/") }
            ),
            format!("resources:\n- l{i}\n"),
        );
        dir = next;
    }
    t.insert(&format!("{dir}/kustomization.yaml"), "resources:\n- cm.yaml\n");
    t.insert(
        &format!("{dir}/cm.yaml"),
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: deep\n",
    );
    t
}

#[test]
fn hostile_trees_fail_clearly() {
    let cycle = {
        let mut t = MemTree::new();
        t.insert("kustomization.yaml", "resources:\n- a\n");
        t.insert("a/kustomization.yaml", "resources:\n- ../b\n");
        t.insert("b/kustomization.yaml", "resources:\n- ../a\n");
        t
    };
    let self_cycle = {
        let mut t = MemTree::new();
        t.insert("kustomization.yaml", "resources:\n- .\n");
        t
    };
    let bomb = {
        let mut t = MemTree::new();
        t.insert("kustomization.yaml", "resources:\n- bomb.yaml\n");
        t.insert("bomb.yaml", alias_bomb());
        t
    };
    let non_utf8 = {
        let mut t = MemTree::new();
        t.insert("kustomization.yaml", "resources:\n- bad.yaml\n");
        t.insert(
            "bad.yaml",
            b"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: \xff\xfe\n".to_vec(),
        );
        t
    };
    let non_utf8_kustomization = {
        let mut t = MemTree::new();
        t.insert("kustomization.yaml", b"resources:\n- \xc3\x28\n".to_vec());
        t
    };
    let escape = {
        let mut t = MemTree::new();
        t.insert("overlay/kustomization.yaml", "resources:\n- ../../etc/passwd\n");
        t
    };
    let outside_dir = {
        let mut t = MemTree::new();
        t.insert("overlay/kustomization.yaml", "resources:\n- ../cm.yaml\n");
        t.insert("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
        t
    };
    let remote = {
        let mut t = MemTree::new();
        t.insert("kustomization.yaml", "resources:\n- https://github.com/org/repo//base?ref=v1\n");
        t
    };
    let malformed = {
        let mut t = MemTree::new();
        t.insert("kustomization.yaml", "resources:\n- cm.yaml\n");
        t.insert("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: [x\n");
        t
    };
    let cases: Vec<(&str, MemTree, &str, &str)> = vec![
        ("cycle of bases", cycle, "", "cycle"),
        ("kustomization listing itself", self_cycle, "", "cycle"),
        ("alias bomb", bomb, "", "alias"),
        ("non-UTF-8 resource", non_utf8, "", "UTF-8"),
        ("non-UTF-8 kustomization", non_utf8_kustomization, "", "UTF-8"),
        ("path above the root", escape, "overlay", "leaves the root"),
        ("file outside the kustomization directory", outside_dir, "overlay", "security"),
        ("remote resource", remote, "", "remote"),
        ("malformed resource", malformed, "", "cm.yaml"),
        ("bases nested too deep", deep_nesting(80), "", "deeper"),
    ];
    for (what, tree, dir, phrase) in cases {
        let run = catch_unwind(AssertUnwindSafe(|| build_error(&tree, dir)));
        let Ok(outcome) = run else { panic!("{what}: the engine panicked") };
        let Some(message) = outcome else { panic!("{what}: built, expected an error") };
        assert!(
            message.to_lowercase().contains(&phrase.to_lowercase()),
            "{what}: error {message:?} does not mention {phrase:?}"
        );
    }
}

#[test]
fn load_restrictor_none_reads_outside_the_kustomization_directory() {
    let mut t = MemTree::new();
    t.insert("overlay/kustomization.yaml", "resources:\n- ../cm.yaml\n");
    t.insert("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
    let options =
        Options { load_restrictor: kustomize::LoadRestrictor::None, ..Default::default() };
    let out = kustomize::build(&t, "overlay", &options).expect("builds without the restriction");
    assert_eq!(out.len(), 1);
    // Still confined to the tree.
    let mut t = MemTree::new();
    t.insert("overlay/kustomization.yaml", "resources:\n- ../../cm.yaml\n");
    assert!(kustomize::build(&t, "overlay", &options).is_err());
}

/// Without load restrictions kustomize's loader reads a named file without
/// resolving it first, so a directory or a missing file fails with Go's read
/// and open errors where the restriction's own words stand otherwise
/// (messages as `kubectl kustomize --load-restrictor LoadRestrictionsNone`
/// v5.5 prints them, the tree's directory dropped).
#[test]
fn load_restrictor_none_reports_the_loaders_read_errors() {
    let none = Options { load_restrictor: kustomize::LoadRestrictor::None, ..Default::default() };
    let cases = [
        (
            "configMapGenerator:\n- name: x\n  files:\n  - sub\n",
            "loading KV pairs: file sources: [sub]: read o/sub: is a directory",
            "loading KV pairs: file sources: [sub]: 'o/sub' must resolve to a file",
        ),
        (
            "configMapGenerator:\n- name: x\n  envs:\n  - nope.env\n",
            "loading KV pairs: env source files: [nope.env]: open o/nope.env: no such file or directory",
            "loading KV pairs: env source files: [nope.env]: evalsymlink failure on 'o/nope.env' : lstat o/nope.env: no such file or directory",
        ),
        (
            "patches:\n- path: nope.yaml\n",
            "failed to get the patch file from path(nope.yaml): open o/nope.yaml: no such file or directory",
            "failed to get the patch file from path(nope.yaml): evalsymlink failure on 'o/nope.yaml'",
        ),
        (
            "patches:\n- path: sub\n",
            "failed to get the patch file from path(sub): read o/sub: is a directory",
            "failed to get the patch file from path(sub): 'o/sub' must resolve to a file",
        ),
        (
            "configurations:\n- sub\n",
            "read o/sub: is a directory",
            "'o/sub' must resolve to a file",
        ),
        (
            "resources:\n- ../base\n- missing.yaml\n",
            "accumulation err='accumulating resources from 'missing.yaml': open o/missing.yaml: no such file or directory': must build at directory: not a valid directory: evalsymlink failure on 'o/missing.yaml' : lstat o/missing.yaml: no such file or directory",
            "accumulation err='accumulating resources from 'missing.yaml': evalsymlink failure on 'o/missing.yaml' : lstat o/missing.yaml: no such file or directory': must build",
        ),
        (
            "resources:\n- sub\n",
            "accumulation err='accumulating resources from 'sub': read o/sub: is a directory': couldn't make target for path 'o/sub': unable to find one of",
            "accumulation err='accumulating resources from 'sub': 'o/sub' must resolve to a file': couldn't make target",
        ),
    ];
    for (kustomization, unrestricted, restricted) in cases {
        let mut t = MemTree::new();
        t.insert("o/kustomization.yaml", kustomization);
        t.insert("o/sub/empty.txt", "");
        t.insert("base/kustomization.yaml", "resources:\n- cm.yaml\n");
        t.insert("base/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n");
        let chain = |options: &Options| build_error_with(&t, "o", options).expect(kustomization);
        let got = chain(&none);
        assert!(got.contains(unrestricted), "{kustomization}: {got:?} lacks {unrestricted:?}");
        let got = chain(&Options::default());
        assert!(got.contains(restricted), "{kustomization}: {got:?} lacks {restricted:?}");
    }
}

/// Pieces random kustomizations are made of.
const FIELDS: &[&str] = &[
    "resources:\n- cm.yaml\n",
    "resources:\n- base\n",
    "resources:\n- ../base\n",
    "resources:\n- missing.yaml\n",
    "resources:\n- deploy.yaml\n- cm.yaml\n",
    "components:\n- comp\n",
    "namePrefix: p-\n",
    "nameSuffix: -s\n",
    "namespace: ns\n",
    "commonLabels:\n  a: b\n",
    "labels:\n- pairs:\n    x: y\n  includeSelectors: true\n",
    "commonAnnotations:\n  n: v\n",
    "images:\n- name: nginx\n  newTag: \"2\"\n",
    "replicas:\n- name: web\n  count: 3\n",
    "configMapGenerator:\n- name: gen\n  literals:\n  - a=b\n",
    "configMapGenerator:\n- name: gen\n  behavior: merge\n  literals:\n  - c=d\n",
    "secretGenerator:\n- name: sec\n  literals:\n  - p=q\n",
    "patches:\n- path: patch.yaml\n",
    "patches:\n- target:\n    kind: Deployment\n  patch: '[{\"op\": \"add\", \"path\": \"/spec/paused\", \"value\": true}]'\n",
    "patchesStrategicMerge:\n- patch.yaml\n",
    "replacements:\n- source:\n    kind: ConfigMap\n  targets:\n  - select:\n      kind: Deployment\n    fieldPaths:\n    - metadata.annotations.x\n    options:\n      create: true\n",
    "vars:\n- name: V\n  objref:\n    kind: ConfigMap\n    name: cm\n    apiVersion: v1\n",
    "sortOptions:\n  order: fifo\n",
    "kind: Component\n",
    "transformers:\n- t.yaml\n",
    "generators:\n- t.yaml\n",
    "configurations:\n- t.yaml\n",
    "bogus: 1\n",
    "resources: 7\n",
    ": [\n",
    "resources:\n- .\n",
];

/// Files random trees may hold, besides kustomizations.
const FILES: &[(&str, &str)] = &[
    ("cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n"),
    (
        "deploy.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: nginx:1\n        env:\n        - name: X\n          value: $(V)\n",
    ),
    (
        "patch.yaml",
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 2\n",
    ),
    ("patch.yaml", "- op: remove\n  path: /spec\n"),
    (
        "t.yaml",
        "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: t\nlabels:\n  t: u\nfieldSpecs:\n- path: metadata/labels\n  create: true\n",
    ),
    ("t.yaml", "nameReference:\n- kind: ConfigMap\n  fieldSpecs:\n  - path: spec/x\n"),
    ("cm.yaml", "- not\n- an object\n"),
    (
        "cm.yaml",
        "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: a\n",
    ),
];

const DIRS: &[&str] = &["", "base", "comp", "overlay"];

fn tree_strategy() -> impl Strategy<Value = MemTree> {
    let kustomization = prop::collection::vec(prop::sample::select(FIELDS), 0..6);
    let kustomizations = prop::collection::vec(kustomization, DIRS.len());
    let files =
        prop::collection::vec((prop::sample::select(DIRS), prop::sample::select(FILES)), 0..8);
    (kustomizations, files).prop_map(|(ks, files)| {
        let mut t = MemTree::new();
        for (dir, fields) in DIRS.iter().zip(ks) {
            if fields.is_empty() && !dir.is_empty() {
                continue;
            }
            let path = if dir.is_empty() {
                "kustomization.yaml".to_string()
            } else {
                format!("{dir}/kustomization.yaml")
            };
            t.insert(&path, fields.concat());
        }
        for (dir, (name, text)) in files {
            let path = if dir.is_empty() { name.to_string() } else { format!("{dir}/{name}") };
            t.insert(&path, text);
        }
        t
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn random_trees_never_panic(tree in tree_strategy(), dir in prop::sample::select(DIRS)) {
        let run = catch_unwind(AssertUnwindSafe(|| {
            let _ = kustomize::build(&tree, dir, &Options::default());
        }));
        prop_assert!(run.is_ok(), "the engine panicked");
    }
}
