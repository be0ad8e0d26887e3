//! Benchmark: builds generated kustomizations whose cost grows with the size of one object, and prints the mean time per build.
//!
//! Run with `cargo bench -p renderer --bench kustomize`. `KILN_BENCH_RUNS` is
//! the builds per case (default 10), `KILN_BENCH_FIELDS` the fields of the
//! large object (default 40000). Each case doubles as a check that a large
//! input does not make a pass quadratic: compare the case at N and 2N fields.

use std::time::Instant;

use renderer::MemTree;
use renderer::kustomize::{Options, build};

fn env_or(key: &str, default: &str) -> usize {
    std::env::var(key)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| default.parse().expect("default is a number"))
}

/// A custom resource whose `spec` has `fields` keys, each a one-item list
/// written in hex, patched by a strategic merge patch that adds one key:
/// the merge notes where every list of the object landed, and kiln follows
/// each written text through that record.
fn patched_large_object(fields: usize) -> MemTree {
    let mut object =
        String::from("apiVersion: example.com/v1\nkind: Thing\nmetadata:\n  name: t\nspec:\n");
    for i in 0..fields {
        object.push_str(&format!("  k{i}: [0x{i:x}]\n"));
    }
    let mut tree = MemTree::new();
    tree.insert("t.yaml", object);
    tree.insert(
        "kustomization.yaml",
        "resources: [t.yaml]\npatches:\n- patch: |\n    apiVersion: example.com/v1\n    kind: Thing\n    metadata: {name: t}\n    spec: {extra: 1}\n",
    );
    tree
}

/// A `List` document of `fields / 8` ConfigMaps, each with a quoted and a
/// hex value (texts the reader notes by path): kiln sorts what it noted of
/// the document by the item it is in.
fn large_list(fields: usize) -> MemTree {
    let mut list = String::from("apiVersion: v1\nkind: List\nitems:\n");
    for i in 0..fields / 8 {
        list.push_str(&format!(
            "- apiVersion: v1\n  kind: ConfigMap\n  metadata:\n    name: c{i}\n  data:\n    a: \"{i}\"\n    b: 0x{i:x}\n"
        ));
    }
    let mut tree = MemTree::new();
    tree.insert("list.yaml", list);
    tree.insert("kustomization.yaml", "resources: [list.yaml]\n");
    tree
}

/// A ConfigMap whose `data` has `fields` keys and a null key first: kyaml
/// appends a copy of that entry and yaml.v3 refuses the key given twice, so
/// the build fails, after kiln compared the map's keys by their texts.
fn large_map_with_null_key(fields: usize) -> MemTree {
    let mut object =
        String::from("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\ndata:\n  ~: x\n");
    for i in 0..fields {
        object.push_str(&format!("  k{i}: v{i}\n"));
    }
    let mut tree = MemTree::new();
    tree.insert("cm.yaml", object);
    tree.insert("kustomization.yaml", "resources: [cm.yaml]\n");
    tree
}

/// A Pod whose `spec` is a flow map of `fields / 4` entries, each a list
/// with a comment above it and one after it, and a prefix transformer told
/// to change `spec`: the build fails with kyaml's dump of the map, which
/// places every comment found in the text.
fn commented_flow_dump(fields: usize) -> MemTree {
    let mut object = String::from("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec: {\n");
    for i in 0..fields / 4 {
        object.push_str(&format!("  # above {i}\n  k{i}: [{i}, x], # after {i}\n"));
    }
    object.push_str("}\n");
    let mut tree = MemTree::new();
    tree.insert("pod.yaml", object);
    tree.insert(
        "prefix.yaml",
        "apiVersion: builtin\nkind: PrefixSuffixTransformer\nmetadata:\n  name: p\nprefix: x\nfieldSpecs:\n- path: spec\n",
    );
    tree.insert("kustomization.yaml", "resources: [pod.yaml]\ntransformers: [prefix.yaml]\n");
    tree
}

/// A named case: the tree it builds for a number of fields, and whether
/// that build succeeds.
type Case = (&'static str, fn(usize) -> MemTree, bool);

fn main() {
    let runs = env_or("KILN_BENCH_RUNS", "10");
    let fields = env_or("KILN_BENCH_FIELDS", "40000");
    println!("{:<40} {:>10}", "case", "ms/build");
    let cases: [Case; 4] = [
        ("strategic merge over a large object", patched_large_object, true),
        ("a List of many items", large_list, true),
        ("a large map with a null key", large_map_with_null_key, false),
        ("the dump of a commented flow map", commented_flow_dump, false),
    ];
    for (name, make, builds) in cases {
        let tree = make(fields);
        let options = Options::default();
        assert_eq!(build(&tree, "", &options).is_ok(), builds, "{name}");
        let start = Instant::now();
        for _ in 0..runs {
            std::hint::black_box(build(&tree, "", &options).ok());
        }
        let ms = start.elapsed().as_secs_f64() * 1000.0 / runs as f64;
        println!("{name:<40} {ms:>10.1}");
    }
}
