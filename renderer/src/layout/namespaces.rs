//! Namespace folders: `namespaces/<cluster>/<namespace>/*.yaml`, one unit per namespace.
//!
//! Each folder becomes its Namespace object (written in the folder or made
//! by kiln) and every object of the YAML and JSON files directly in it
//! (the items of a `List` one by one, as kubectl applies them), placed in
//! that namespace: the pipeline applies a folder with `kubectl -n <ns> apply
//! -f <folder>`, which reads no subdirectory, so a subdirectory (such as
//! Terraform's `resources/`, with its templates and values) is left out and
//! reported. Files that are not YAML or JSON and documents that are not
//! Kubernetes objects are left out and reported,
//! as are files encrypted with git-crypt (kiln holds no key: their objects are
//! applied by whoever can decrypt them); a folder holding [`SKIP_MARKER`] is
//! left out and reported. A `Namespace` written without `metadata.name` is the
//! folder's own; one with another name is kept as written, besides the
//! folder's own. A folder with a kustomization is built with it. Either way
//! the objects are what client-side `kubectl apply` creates: `null` values
//! are left out ([`super::as_kubectl_applies`]).

use super::manifests::{build_dir, kustomization_file};
use super::{
    Cluster, Error, Location, Unit, check_object_meta, is_kubectl_manifest, is_object,
    read_kubectl_documents, str_at,
};
use crate::kustomize::order;
use crate::resource::Resource;
use crate::tree::{self, EntryKind, Tree};
use crate::value::{Map, Value};
use rayon::prelude::*;

/// The top directory of the layout.
pub const ROOT: &str = "namespaces";
/// The source of the entries a folder's build passed over: they travel
/// through the unit cache inside the build's result, so a build answered
/// from the cache reports them as a fresh one does.
const SKIPPED: &str = "\0kiln-skipped";

/// A file whose presence in a namespace folder leaves the folder out.
pub const SKIP_MARKER: &str = ".kiln-skip";

/// The cluster names under `namespaces/`.
pub fn cluster_names(tree: &dyn Tree) -> Result<Vec<String>, Error> {
    super::subdirs(tree, ROOT)
}

/// Renders the namespaces of one cluster, folders in parallel, kept in
/// folder order (every folder's error reported, in folder order).
pub fn render_cluster(tree: &dyn Tree, cluster: &str) -> Result<Cluster, Error> {
    render_cluster_with(tree, cluster, &crate::cache::NoCache)
}

/// [`render_cluster`], each folder's build (kustomize or plain files) handed to `cache`.
pub fn render_cluster_with(
    tree: &dyn Tree,
    cluster: &str,
    cache: &dyn crate::cache::UnitCache,
) -> Result<Cluster, Error> {
    let dir = format!("{ROOT}/{cluster}");
    let mut out = Cluster::new(cluster);
    let folders = super::subdirs(tree, &dir)?;
    type Folder = Result<(Option<Unit>, Vec<String>), Error>;
    let results: Vec<Folder> = folders
        .par_iter()
        .map(|ns| {
            let folder = format!("{dir}/{ns}");
            if tree.kind(&format!("{folder}/{SKIP_MARKER}")) == Some(EntryKind::File) {
                return Ok((None, vec![format!("namespace {ns}: {folder}/{SKIP_MARKER} present")]));
            }
            let mut skipped = Vec::new();
            let unit = render_namespace(tree, cluster, ns, &folder, &mut skipped, cache)?;
            Ok((Some(unit), skipped))
        })
        .collect();
    let mut errors = Vec::new();
    for result in results {
        match result {
            Ok((unit, skipped)) => {
                out.units.extend(unit);
                out.skipped.extend(skipped);
            }
            Err(e) => errors.push(e),
        }
    }
    match Error::many(errors) {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

fn render_namespace(
    tree: &dyn Tree,
    cluster: &str,
    ns: &str,
    folder: &str,
    skipped: &mut Vec<String>,
    cache: &dyn crate::cache::UnitCache,
) -> Result<Unit, Error> {
    let at = Location::new(cluster, ns, folder);
    let mut objects = if kustomization_file(tree, folder).is_some() {
        let key = crate::cache::UnitKey {
            cluster,
            unit: ns,
            step: crate::cache::Step::Kustomize,
            spec: folder.as_bytes(),
        };
        cache
            .build(&key, tree, &|tree| build_dir(tree, folder).map_err(|e| Error::build(&at, e)))?
    } else {
        // The key's spec differs from a kustomize build's, so adding or
        // removing a kustomization never reuses the other kind of build.
        let spec = format!("{folder}\0folder");
        let key = crate::cache::UnitKey {
            cluster,
            unit: ns,
            step: crate::cache::Step::Kustomize,
            spec: spec.as_bytes(),
        };
        let built = cache.build(&key, tree, &|tree| {
            let (mut objects, mut passed) = (Vec::new(), Vec::new());
            collect(tree, &at, folder, &mut objects, &mut passed)?;
            objects.extend(passed.into_iter().map(|m| Resource::new(Value::String(m), SKIPPED)));
            Ok(objects)
        })?;
        let (marks, objects): (Vec<Resource>, Vec<Resource>) =
            built.into_iter().partition(|r| r.source == SKIPPED);
        skipped.extend(marks.into_iter().filter_map(|r| r.value.as_str().map(String::from)));
        objects
    };
    let mut has_namespace = false;
    for r in &mut objects {
        super::as_kubectl_applies(&mut r.value);
        let fat = at.with_file(&r.source);
        let gvk = r.gvk();
        if gvk.group.is_empty() && gvk.kind == "Namespace" {
            if r.name().is_empty() {
                r.metadata_mut().insert("name".into(), ns.into());
            }
            // Another Namespace written in the folder is one more object the
            // folder defines (the pipeline applies it as written); the
            // folder's own Namespace is still made below.
            has_namespace |= r.name() == ns;
        } else if !gvk.is_cluster_scoped() {
            match r.namespace() {
                "" => r.set_namespace(ns.to_string()),
                n if n == ns => {}
                n => {
                    return Err(fat.invalid(format!(
                        "{} {:?} is in namespace {n:?} but lives in the folder of namespace {ns:?}",
                        gvk.kind,
                        r.name()
                    )));
                }
            }
        }
    }
    if !has_namespace {
        let mut md = Map::new();
        md.insert("name".into(), ns.into());
        let mut m = Map::new();
        m.insert("apiVersion".into(), "v1".into());
        m.insert("kind".into(), "Namespace".into());
        m.insert("metadata".into(), Value::Map(md));
        objects.push(Resource::new(Value::Map(m), folder.to_string()));
    }
    order::legacy_sort(&mut objects);
    let mut unit = Unit::new(ns, folder, folder);
    unit.namespace = ns.to_string();
    unit.objects = objects;
    Ok(unit)
}

fn collect(
    tree: &dyn Tree,
    at: &Location,
    dir: &str,
    objects: &mut Vec<Resource>,
    skipped: &mut Vec<String>,
) -> Result<(), Error> {
    for (name, kind) in tree.list(dir).map_err(|e| Error::read(&at.with_file(dir), e))? {
        let path = tree::join(dir, &name).map_err(|e| Error::read(at, e))?;
        match kind {
            EntryKind::Dir if tree::through_link(tree, &path) => {}
            EntryKind::Dir => skipped.push(format!(
                "{path}/: a subdirectory, which kubectl apply -f of the folder does not read"
            )),
            EntryKind::File if is_kubectl_manifest(&name) && is_git_crypted(tree, &path) => {
                skipped.push(format!("{path}: encrypted with git-crypt"))
            }
            // kubectl reads JSON as the YAML it is a subset of.
            EntryKind::File if is_kubectl_manifest(&name) => {
                let mut docs: Vec<Value> = Vec::new();
                for doc in read_kubectl_documents(tree, at, &path)? {
                    if !doc.is_null() {
                        let items = super::list_items(doc, super::Lists::Kubectl)
                            .map_err(|e| at.with_file(&path).invalid(e))?;
                        docs.extend(items);
                    }
                }
                if docs.is_empty() || !docs.iter().all(is_object) {
                    skipped.push(format!("{path}: not Kubernetes objects"));
                    continue;
                }
                for doc in docs {
                    // A Namespace may leave its name to the folder; its
                    // metadata must still be a mapping to receive it.
                    let folders_own = super::api_kind(&doc) == ("v1", "Namespace")
                        && doc.get_path(&["metadata"]).is_none_or(|m| m.as_map().is_some());
                    if !folders_own && str_at(&doc, &["metadata", "name"]).is_empty() {
                        return Err(at.with_file(&path).invalid("object without metadata.name"));
                    }
                    check_object_meta(&doc).map_err(|e| at.with_file(&path).invalid(e))?;
                    objects.push(Resource::new(doc, path.clone()));
                }
            }
            EntryKind::File if !name.starts_with('.') => {
                skipped.push(format!("{path}: not YAML or JSON"))
            }
            EntryKind::File => {}
        }
    }
    Ok(())
}

/// The header git-crypt writes at the start of every file it encrypts.
const GIT_CRYPT_HEADER: &[u8] = b"\0GITCRYPT\0";

/// Whether the file at `path` is encrypted with git-crypt (as a checkout
/// without the key holds it).
fn is_git_crypted(tree: &dyn Tree, path: &str) -> bool {
    tree.read(path).is_ok_and(|bytes| bytes.starts_with(GIT_CRYPT_HEADER))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tree::MemTree;

    /// Folders without a kustomization go through the unit cache too, and a
    /// build answered from it reports the same passed-over files.
    #[test]
    fn plain_folders_are_cached_with_what_they_skip() {
        let mut tree = MemTree::new();
        tree.insert(
            "namespaces/live/a/rbac.yaml",
            "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: x\n",
        );
        tree.insert("namespaces/live/a/README.md", "notes\n");
        tree.insert("namespaces/live/b/kustomization.yaml", "resources: [q.yaml]\n");
        tree.insert(
            "namespaces/live/b/q.yaml",
            "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\n",
        );
        let memo = crate::cache::tests::Memo::default();
        let first = render_cluster_with(&tree, "live", &memo).unwrap();
        assert_eq!(memo.ran.load(std::sync::atomic::Ordering::SeqCst), 2);
        let again = render_cluster_with(&tree, "live", &memo).unwrap();
        assert_eq!(memo.ran.load(std::sync::atomic::Ordering::SeqCst), 2, "nothing rebuilt");
        assert_eq!(ids(&first), ids(&again));
        assert_eq!(first.skipped, again.skipped);
        assert!(again.skipped.iter().any(|s| s.contains("README.md")), "{:?}", again.skipped);
        assert_eq!(ids(&again), ids(&render_cluster(&tree, "live").unwrap()));
    }

    /// The objects `keep` picks of cluster `live`'s first unit, as YAML.
    fn first_unit_yaml(t: &MemTree, keep: impl Fn(&Resource) -> bool) -> Vec<String> {
        let c = render_cluster(t, "live").unwrap();
        c.units[0]
            .objects
            .iter()
            .filter(|r| keep(r))
            .map(|r| crate::yaml::to_string(&r.value))
            .collect()
    }

    fn ids(c: &Cluster) -> Vec<(String, Vec<String>)> {
        c.units
            .iter()
            .map(|u| (u.name.clone(), u.objects.iter().map(|r| r.id().to_string()).collect()))
            .collect()
    }

    #[test]
    fn folders_become_namespaces_with_their_objects() {
        let mut t = MemTree::new();
        let ns =
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: team-a\n  labels: {team: a}\n";
        t.insert("namespaces/live-1/team-a/00-namespace.yaml", ns);
        t.insert(
            "namespaces/live-1/team-a/01-rbac.yaml",
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: admins\n",
        );
        t.insert("namespaces/live-1/team-a/resources/main.tf", "module \"x\" {}\n");
        t.insert("namespaces/live-1/team-a/resources/vars.yaml", "region: eu-west-2\n");
        // Below the folder: a template of an object and a file that is no
        // YAML at all, neither read by the pipeline's `kubectl apply -f`.
        t.insert(
            "namespaces/live-1/team-a/resources/prototype/deploy.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: ${BRANCH}\n",
        );
        t.insert("namespaces/live-1/team-a/resources/prototype/cd.yaml", "on:\n - a\n  - b\n");
        t.insert("namespaces/live-1/team-a/notes.md", "# team a\n");
        t.insert(
            "namespaces/live-1/team-b/quota.yaml",
            "apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\n",
        );
        // kubectl reads `.json` files too, and applies a List's items.
        t.insert(
            "namespaces/live-1/team-b/limits.json",
            "{\n\t\"apiVersion\": \"v1\",\n\t\"kind\": \"LimitRange\",\n\t\"metadata\": {\"name\": \"l\"}\n}\n",
        );
        t.insert(
            "namespaces/live-1/team-b/list.yml",
            "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: b, namespace: team-b}}\n",
        );
        t.insert("namespaces/live-1/old/.kiln-skip", "");
        t.insert(
            "namespaces/live-1/old/x.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n",
        );
        let c = render_cluster(&t, "live-1").unwrap();
        assert_eq!(
            ids(&c),
            [
                (
                    "team-a".to_string(),
                    vec![
                        "~G_v1_Namespace|~X|team-a".to_string(),
                        "rbac.authorization.k8s.io_v1_RoleBinding|team-a|admins".to_string()
                    ]
                ),
                (
                    "team-b".to_string(),
                    vec![
                        "~G_v1_Namespace|~X|team-b".to_string(),
                        "~G_v1_ResourceQuota|team-b|q".to_string(),
                        "~G_v1_ConfigMap|team-b|a".to_string(),
                        "~G_v1_ConfigMap|team-b|b".to_string(),
                        "~G_v1_LimitRange|team-b|l".to_string(),
                    ]
                ),
            ]
        );
        assert_eq!(
            c.skipped,
            [
                "namespace old: namespaces/live-1/old/.kiln-skip present",
                "namespaces/live-1/team-a/notes.md: not YAML or JSON",
                "namespaces/live-1/team-a/resources/: a subdirectory, which kubectl apply -f of the folder does not read",
            ]
        );
    }

    /// A namespace folder's files are read as `kubectl apply -f` reads
    /// them: YAML 1.1 through `sigs.k8s.io/yaml`, and a repeated key, in
    /// YAML or JSON, replaces the earlier one. Each expected object is what
    /// `kubectl label --local -f FILE z=1 -o yaml` (which reads files as
    /// `apply -f` does) printed for the file, its label aside.
    #[test]
    fn files_are_read_as_kubectl_reads_them() {
        let mut t = MemTree::new();
        t.insert(
            "namespaces/live/team-a/a.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  annotations:\n    a: \"1\"\n    a: \"2\"\n  labels:\n    on: \"x\"\ndata:\n  y: \"1\"\n  y: \"2\"\n  mode: 0644\n  n: 1_000\n  t: 2001-12-14\n  f: 1e3\n  o: off\n",
        );
        t.insert(
            "namespaces/live/team-a/b.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"a\", \"name\": \"b\"}, \"data\": {\"x\": \"1\", \"x\": \"2\"}}\n",
        );
        // kubectl reads a stream of JSON objects one after another.
        t.insert(
            "namespaces/live/team-a/c.json",
            "{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\", \"metadata\": {\"name\": \"d\"}}\n{\"apiVersion\": \"v1\", \"kind\": \"ConfigMap\",\n \"metadata\": {\"name\": \"e\"}, \"data\": {\"x\": \"}{\\\"[\"}}\n",
        );
        let got = first_unit_yaml(&t, |r| r.kind() == "ConfigMap");
        assert_eq!(
            got,
            [
                "apiVersion: v1\ndata:\n  x: \"2\"\nkind: ConfigMap\nmetadata:\n  name: b\n  namespace: team-a\n",
                "apiVersion: v1\ndata:\n  f: 1000\n  \"false\": 1000\n  mode: 420\n  o: false\n  t: \"2001-12-14\"\n  \"true\": \"2\"\nkind: ConfigMap\nmetadata:\n  annotations:\n    a: \"2\"\n  labels:\n    \"true\": x\n  name: c\n  namespace: team-a\n",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: d\n  namespace: team-a\n",
                "apiVersion: v1\ndata:\n  x: '}{\"['\nkind: ConfigMap\nmetadata:\n  name: e\n  namespace: team-a\n",
            ]
        );
    }

    /// The API server decodes every object's metadata into `ObjectMeta`
    /// before `kubectl apply` can create it, so a folder with a label
    /// `true` (as cloud-platform-environments once wrote
    /// `is-production: true`) cannot be applied. Each message is the one
    /// `kubectl label --local -f FILE z=1` printed for the object; `null`
    /// values decode, so those objects render.
    #[test]
    fn metadata_that_does_not_decode_is_refused() {
        let head = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n";
        let cases: &[(&str, Option<&str>)] = &[
            (
                "  labels:\n    is-production: true\n",
                Some("bool into Go struct field ObjectMeta.metadata.labels of type string"),
            ),
            (
                "  labels:\n    v: 1\n",
                Some("number into Go struct field ObjectMeta.metadata.labels of type string"),
            ),
            (
                "  annotations:\n    x: {a: 1}\n",
                Some("object into Go struct field ObjectMeta.metadata.annotations of type string"),
            ),
            (
                "  labels: []\n",
                Some(
                    "array into Go struct field ObjectMeta.metadata.labels of type map[string]string",
                ),
            ),
            (
                "  labels: x\n",
                Some(
                    "string into Go struct field ObjectMeta.metadata.labels of type map[string]string",
                ),
            ),
            (
                "  namespace: 1\n",
                Some("number into Go struct field ObjectMeta.metadata.namespace of type string"),
            ),
            ("  labels:\n    x: null\n  annotations:\n", None),
        ];
        for (meta, want) in cases {
            let mut t = MemTree::new();
            t.insert("namespaces/live/a/00-namespace.yaml", format!("{head}{meta}"));
            match (render_cluster(&t, "live"), want) {
                (Err(e), Some(want)) => assert_eq!(
                    e.to_string(),
                    format!(
                        "cluster live, unit a, file namespaces/live/a/00-namespace.yaml: Namespace \"a\": kubectl apply is refused: json: cannot unmarshal {want}"
                    ),
                ),
                (Ok(_), None) => {}
                (got, _) => panic!("{meta}: {:?}", got.map(|c| c.units.len())),
            }
        }
    }

    /// The objects are what client-side `kubectl apply` creates, not what
    /// it reads: `null` values are pruned (the RoleBinding's `labels:` with
    /// nothing after it is cloud-platform-environments'
    /// abundant-namespace-dev/bypass-psp-rbac.yaml), and annotations with a
    /// `null` among them are lost whole. Each expected object is what
    /// `tests/kubectl-apply-view.py -n team-a a.yaml b.yaml` printed.
    #[test]
    fn lf_nulls_are_left_out_as_kubectl_apply_creates_objects() {
        let mut t = MemTree::new();
        t.insert(
            "namespaces/live/team-a/a.yaml",
            "kind: RoleBinding\napiVersion: rbac.authorization.k8s.io/v1\nmetadata:\n  name: temp-bypass-psp\n  labels:\nsubjects:\n  - kind: Group\n    name: \"system:authenticated\"\n    apiGroup: rbac.authorization.k8s.io\nroleRef:\n  kind: ClusterRole\n  name: psp:0-super-privileged\n  apiGroup: rbac.authorization.k8s.io\n",
        );
        t.insert(
            "namespaces/live/team-a/b.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: b\n  labels: {keep: \"1\", gone: null}\n  annotations: {lost: \"1\", z: null}\n  finalizers: null\ndata:\n  k: null\n  j: \"\"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n  labels: {}\n  annotations: {kept: \"1\"}\nbinaryData:\n---\napiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\nspec:\n  a: null\n  b: {c: null}\n  l: [null, 1, {d: null, e: 2}]\n",
        );
        let got = first_unit_yaml(&t, |r| r.kind() != "Namespace");
        assert_eq!(
            got,
            [
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata:\n  name: temp-bypass-psp\n  namespace: team-a\nroleRef:\n  apiGroup: rbac.authorization.k8s.io\n  kind: ClusterRole\n  name: psp:0-super-privileged\nsubjects:\n- apiGroup: rbac.authorization.k8s.io\n  kind: Group\n  name: system:authenticated\n",
                "apiVersion: v1\ndata:\n  j: \"\"\nkind: ConfigMap\nmetadata:\n  labels:\n    keep: \"1\"\n  name: b\n  namespace: team-a\n",
                "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  annotations:\n    kept: \"1\"\n  labels: {}\n  name: c\n  namespace: team-a\n",
                "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n  namespace: team-a\nspec:\n  b: {}\n  l:\n  - null\n  - 1\n  - e: 2\n",
            ]
        );
    }

    #[test]
    fn objects_in_another_namespace_are_errors() {
        let cases: &[(&str, &str)] = &[(
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n  namespace: other\n",
            "cluster live, unit a, file namespaces/live/a/x.yaml: ConfigMap \"x\" is in namespace \"other\" but lives in the folder of namespace \"a\"",
        )];
        for (text, want) in cases {
            let mut t = MemTree::new();
            t.insert("namespaces/live/a/x.yaml", *text);
            assert_eq!(render_cluster(&t, "live").unwrap_err().to_string(), *want);
        }
    }
}
