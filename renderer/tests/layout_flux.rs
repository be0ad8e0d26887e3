//! Flux v2 semantics on top of the kustomize build, case by case, against Flux's documented behaviour.
//!
//! Each case is a small repository in memory with `clusters/c/` and the
//! expected units and objects (or the error). The behaviour is the one
//! documented for the kustomize-controller at fluxcd.io (Kustomization API,
//! `kustomize.toolkit.fluxcd.io/v1`): the fields named in each case's comment.

use renderer::{MemTree, Options, Value, render};

const ROOT: &str = "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 10m\n  path: ./clusters/c\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n";

const CM: &str = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  k: v\n";

const DEPLOY: &str = "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels:\n    app: web\nspec:\n  replicas: 1\n  selector:\n    matchLabels:\n      app: web\n  template:\n    metadata:\n      labels:\n        app: web\n    spec:\n      containers:\n      - name: web\n        image: nginx:1.0\n";

/// A Flux Kustomization `name` for `path` with extra `spec` lines (indented two spaces).
fn ks(name: &str, path: &str, spec: &str) -> String {
    format!(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: {name}\n  namespace: flux-system\nspec:\n  interval: 5m\n  path: {path}\n  sourceRef:\n    kind: GitRepository\n    name: flux-system\n{spec}"
    )
}

/// A Flux v2 HelmRelease `web` in `flux-system` of the chart `./charts/web`
/// in this repository, with extra `spec` lines (indented two spaces).
fn hr(spec: &str) -> String {
    format!(
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: web\n  namespace: flux-system\nspec:\n  interval: 5m\n  chart:\n    spec:\n      chart: ./charts/web\n      sourceRef:\n        kind: GitRepository\n        name: flux-system\n{spec}"
    )
}

/// Unit `a` at `./a` with `pairs` in it, and the chart `charts/web` (a
/// ConfigMap named after the release, and a CRD).
fn chart_files(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut out = files(&[
        ("clusters/c/a.yaml", &ks("a", "./a", "")),
        ("charts/web/Chart.yaml", "apiVersion: v2\nname: web\nversion: 0.1.0\n"),
        ("charts/web/values.yaml", "greeting: hello\nreplicas: 1\n"),
        (
            "charts/web/templates/cm.yaml",
            "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  greeting: {{ .Values.greeting | quote }}\n  replicas: {{ .Values.replicas | quote }}\n  {{- with .Values.extra }}\n  extra: {{ . | quote }}\n  {{- end }}\n",
        ),
        (
            "charts/web/crds/widgets.yaml",
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: widgets.example.com\n",
        ),
    ]);
    out.extend(files(pairs));
    out
}

struct Case {
    name: &'static str,
    files: Vec<(String, String)>,
    /// `unit: Kind ns/name [field=value]` lines, or the error's text.
    want: Result<Vec<&'static str>, &'static str>,
    /// Fields shown for each object (dotted paths).
    fields: &'static [&'static str],
}

fn files(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(p, c)| (p.to_string(), c.to_string())).collect()
}

fn field(v: &Value, path: &str) -> String {
    let parts: Vec<&str> = path.split('.').collect();
    match v.get_path(&parts) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Int(i)) => i.to_string(),
        Some(other) => renderer::yaml::to_string(other).trim().replace('\n', ","),
        None => "-".into(),
    }
}

fn run(case: &Case) -> Result<Vec<String>, String> {
    let mut t = MemTree::new();
    t.insert("clusters/c/flux-system/gotk-sync.yaml", ROOT);
    for (p, c) in &case.files {
        t.insert(p, c.as_str());
    }
    let rendered = render(&t, &Options::default()).map_err(|e| {
        let mut s = e.to_string();
        let mut src = std::error::Error::source(&e);
        while let Some(inner) = src {
            s.push_str(&format!(": {inner}"));
            src = inner.source();
        }
        s
    })?;
    let mut out = Vec::new();
    for u in &rendered.clusters[0].units {
        for r in &u.objects {
            if r.kind() == "Kustomization" || r.kind() == "GitRepository" {
                continue;
            }
            let mut line = format!("{}: {} {}/{}", u.name, r.kind(), r.namespace(), r.name());
            for f in case.fields {
                line.push_str(&format!(" {f}={}", field(&r.value, f)));
            }
            out.push(line);
        }
    }
    Ok(out)
}

fn cases() -> Vec<Case> {
    vec![
        // `spec.targetNamespace` sets the namespace of every namespaced object,
        // replacing the kustomization's own `namespace`.
        Case {
            name: "targetNamespace",
            files: files(&[
                ("clusters/c/app.yaml", &ks("app", "./app", "  targetNamespace: prod\n")),
                ("app/kustomization.yaml", "namespace: dev\nresources: [cm.yaml]\n"),
                ("app/cm.yaml", CM),
            ]),
            want: Ok(vec!["app: ConfigMap prod/cm"]),
            fields: &[],
        },
        // `spec.namePrefix` and `spec.nameSuffix` rename every object, and
        // references follow (kustomize's name reference transformer).
        Case {
            name: "namePrefix and nameSuffix",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  namePrefix: a-\n  nameSuffix: -z\n"),
                ),
                ("app/cm.yaml", CM),
            ]),
            want: Ok(vec!["app: ConfigMap /a-cm-z"]),
            fields: &[],
        },
        // `spec.images` overrides image names and tags like kustomize's `images`.
        Case {
            name: "images",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  images:\n  - name: nginx\n    newTag: '2.0'\n"),
                ),
                ("app/deploy.yaml", DEPLOY),
            ]),
            want: Ok(vec![
                "app: Deployment /web spec.template.spec.containers=- image: nginx:2.0,  name: web",
            ]),
            fields: &["spec.template.spec.containers"],
        },
        // `spec.patches` are kustomize patches with a target, applied on top
        // of the kustomization's own.
        Case {
            name: "patches",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks(
                        "app",
                        "./app",
                        "  patches:\n  - target:\n      kind: Deployment\n    patch: |\n      - op: replace\n        path: /spec/replicas\n        value: 3\n",
                    ),
                ),
                ("app/deploy.yaml", DEPLOY),
            ]),
            want: Ok(vec!["app: Deployment /web spec.replicas=3"]),
            fields: &["spec.replicas"],
        },
        // v1beta2's deprecated `patchesJson6902` and `patchesStrategicMerge`
        // still patch (the API keeps them until v1).
        Case {
            name: "patchesJson6902 and patchesStrategicMerge",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks(
                        "app",
                        "./app",
                        "  patchesJson6902:\n  - target:\n      kind: Deployment\n      name: web\n    patch:\n    - op: replace\n      path: /spec/replicas\n      value: 2\n  patchesStrategicMerge:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: cm\n    data:\n      k: patched\n",
                    )
                    .replace("kustomize.toolkit.fluxcd.io/v1\n", "kustomize.toolkit.fluxcd.io/v1beta2\n"),
                ),
                ("app/deploy.yaml", DEPLOY),
                ("app/cm.yaml", CM),
            ]),
            want: Ok(vec!["app: ConfigMap /cm spec.replicas=- data.k=patched", "app: Deployment /web spec.replicas=2 data.k=-"]),
            fields: &["spec.replicas", "data.k"],
        },
        // `spec.components` are paths relative to `spec.path`, added to the
        // kustomization's components.
        Case {
            name: "components",
            files: files(&[
                ("clusters/c/app.yaml", &ks("app", "./app", "  components:\n  - ../extra\n")),
                ("app/kustomization.yaml", "resources: [cm.yaml]\n"),
                ("app/cm.yaml", CM),
                (
                    "extra/kustomization.yaml",
                    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations:\n  from: component\n",
                ),
            ]),
            want: Ok(vec!["app: ConfigMap /cm metadata.annotations.from=component"]),
            fields: &["metadata.annotations.from"],
        },
        // `spec.commonMetadata` sets labels and annotations on every object's
        // metadata, overriding same keys, without touching selectors or pod templates.
        Case {
            name: "commonMetadata",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks(
                        "app",
                        "./app",
                        "  commonMetadata:\n    labels:\n      app: override\n      team: a\n    annotations:\n      owner: me\n",
                    ),
                ),
                ("app/deploy.yaml", DEPLOY),
            ]),
            want: Ok(vec![
                "app: Deployment /web metadata.labels.app=override metadata.labels.team=a metadata.annotations.owner=me spec.selector.matchLabels.app=web spec.template.metadata.labels.app=web",
            ]),
            fields: &[
                "metadata.labels.app",
                "metadata.labels.team",
                "metadata.annotations.owner",
                "spec.selector.matchLabels.app",
                "spec.template.metadata.labels.app",
            ],
        },
        // `commonMetadata` on objects whose labels or annotations are null:
        // the map is made, as helm-controller's common metadata makes it.
        Case {
            name: "commonMetadata over null labels and annotations",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks(
                        "app",
                        "./app",
                        "  commonMetadata:\n    labels:\n      team: a\n    annotations:\n      owner: me\n",
                    ),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels: null\n  annotations:\n",
                ),
            ]),
            want: Ok(vec!["app: ConfigMap /cm metadata.labels.team=a metadata.annotations.owner=me"]),
            fields: &["metadata.labels.team", "metadata.annotations.owner"],
        },
        // `postBuild.substitute`: `${var}` and the `${var:=default}` /
        // `${var:-default}` forms; substitution works on the YAML text, so a
        // quoted number becomes a number.
        Case {
            name: "postBuild.substitute",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks(
                        "app",
                        "./app",
                        "  postBuild:\n    substitute:\n      env: prod\n      replicas: \"4\"\n",
                    ),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm-${env}\ndata:\n  region: ${region:=eu-1}\n  zone: ${zone:-a}\n  shell: $HOME\n",
                ),
                ("app/deploy.yaml", &DEPLOY.replace("replicas: 1", "replicas: ${replicas}")),
            ]),
            want: Ok(vec![
                "app: ConfigMap /cm-prod data.region=eu-1 data.zone=a data.shell=$HOME spec.replicas=-",
                "app: Deployment /web data.region=- data.zone=- data.shell=- spec.replicas=4",
            ]),
            fields: &["data.region", "data.zone", "data.shell", "spec.replicas"],
        },
        // `postBuild.substituteFrom`: ConfigMaps and Secrets (base64 `data`)
        // in the Kustomization's namespace, in order, then `substitute`,
        // which wins; `optional: true` tolerates a missing one.
        Case {
            name: "postBuild.substituteFrom",
            files: files(&[
                (
                    "clusters/c/vars.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cluster-vars\n  namespace: flux-system\ndata:\n  env: staging\n  region: us-1\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: cluster-secrets\n  namespace: flux-system\ndata:\n  region: ZXUtMg==\n",
                ),
                (
                    "clusters/c/app.yaml",
                    &ks(
                        "app",
                        "./app",
                        "  postBuild:\n    substitute:\n      env: prod\n    substituteFrom:\n    - kind: ConfigMap\n      name: cluster-vars\n    - kind: Secret\n      name: cluster-secrets\n    - kind: ConfigMap\n      name: absent\n      optional: true\n",
                    ),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  env: ${env}\n  region: ${region}\n",
                ),
            ]),
            want: Ok(vec![
                "flux-system: ConfigMap flux-system/cluster-vars data.env=staging data.region=us-1",
                "flux-system: Secret flux-system/cluster-secrets data.env=- data.region=ZXUtMg==",
                "app: ConfigMap /cm data.env=prod data.region=eu-2",
            ]),
            fields: &["data.env", "data.region"],
        },
        // `kustomize.toolkit.fluxcd.io/substitute: disabled` opts an object out.
        Case {
            name: "substitute disabled",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  postBuild:\n    substitute:\n      x: y\n"),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations:\n    kustomize.toolkit.fluxcd.io/substitute: disabled\ndata:\n  script: echo ${UNSET}\n",
                ),
            ]),
            want: Ok(vec!["app: ConfigMap /cm data.script=echo ${UNSET}"]),
            fields: &["data.script"],
        },
        // An unset variable without a default is empty, as the
        // kustomize-controller substitutes by default...
        Case {
            name: "undefined variable",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  postBuild:\n    substitute:\n      x: y\n"),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: x-${nope}\n",
                ),
            ]),
            want: Ok(vec!["app: ConfigMap /cm data.a=x-"]),
            fields: &["data.a"],
        },
        // ...and an error with its `StrictPostBuildSubstitutions` feature
        // gate, which `kiln.yaml` turns on.
        Case {
            name: "undefined variable, strict",
            files: files(&[
                ("kiln.yaml", "strictPostBuildSubstitutions: true\n"),
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  postBuild:\n    substitute:\n      x: y\n"),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: ${nope}\n",
                ),
            ]),
            want: Err(
                "cluster c, unit app, file app/cm.yaml: postBuild substitution in ConfigMap/cm: variable \"nope\" is not set and has no default (line 3 of the object's built YAML), line 6 of app/cm.yaml",
            ),
            fields: &[],
        },
        Case {
            name: "missing substituteFrom",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks(
                        "app",
                        "./app",
                        "  postBuild:\n    substituteFrom:\n    - kind: Secret\n      name: gone\n",
                    ),
                ),
                ("app/cm.yaml", CM),
            ]),
            want: Err(
                "cluster c, unit app, file clusters/c/app.yaml: substituteFrom Secret flux-system/gone is not in the render",
            ),
            fields: &[],
        },
        // kustomize-controller substitutes in its build step and sets
        // `commonMetadata` when it applies, so common labels keep their
        // `${...}`; Flux removes newlines from every variable's value.
        Case {
            name: "commonMetadata after substitution, newlines removed",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks(
                        "app",
                        "./app",
                        "  commonMetadata:\n    labels:\n      team: ${team}\n  postBuild:\n    substitute:\n      team: a\n      multi: |\n        x\n        y\n",
                    ),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n    owner: ${team}\ndata:\n  m: ${multi}\n",
                ),
            ]),
            want: Ok(vec!["app: ConfigMap /cm metadata.labels.team=${team} metadata.labels.owner=a data.m=xy"]),
            fields: &["metadata.labels.team", "metadata.labels.owner", "data.m"],
        },
        // Flux's envsubst: `$$` is a literal `$` anywhere, bash functions.
        Case {
            name: "envsubst escapes and functions",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  postBuild:\n    substitute:\n      env: prod-eu\n"),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  sh: echo $$HOME $${env} $env\n  up: ${env^^}\n  region: ${env#*-}\n  size: ${#env}\n",
                ),
            ]),
            want: Ok(vec![
                "app: ConfigMap /cm data.sh=echo $HOME ${env} $env data.up=PROD-EU data.region=eu data.size=7",
            ]),
            fields: &["data.sh", "data.up", "data.region", "data.size"],
        },
        // "Substitution of variables only happens if at least a single
        // variable or resource to substitute from is defined."
        Case {
            name: "no variables, no substitution",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks(
                        "app",
                        "./app",
                        "  postBuild:\n    substituteFrom:\n    - kind: ConfigMap\n      name: absent\n      optional: true\n",
                    ),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: ${nope}\n  b: $$x\n",
                ),
            ]),
            want: Ok(vec!["app: ConfigMap /cm data.a=${nope} data.b=$$x"]),
            fields: &["data.a", "data.b"],
        },
        // `postBuild.substituteStrategy: Always` applies the defaults even
        // with no variable at all.
        Case {
            name: "substituteStrategy Always",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  postBuild:\n    substituteStrategy: Always\n"),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: ${env:=dev}\n  b: $$x\n",
                ),
            ]),
            want: Ok(vec!["app: ConfigMap /cm data.a=dev data.b=$x"]),
            fields: &["data.a", "data.b"],
        },
        Case {
            name: "substitute value not a string",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  postBuild:\n    substitute:\n      replicas: 3\n"),
                ),
                ("app/cm.yaml", CM),
            ]),
            want: Err(
                "cluster c, unit app, file clusters/c/app.yaml: postBuild.substitute.replicas: expected a string, found a number (quote it: the API server rejects the Kustomization otherwise)",
            ),
            fields: &[],
        },
        Case {
            name: "envsubst syntax error",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  postBuild:\n    substitute:\n      x: y\n"),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\ndata:\n  a: ${ x }\n",
                ),
            ]),
            want: Err(
                "cluster c, unit app, file app/cm.yaml: postBuild substitution in ConfigMap/cm: unable to parse variable name in \"${ x }\" (line 3 of the object's built YAML), line 6 of app/cm.yaml",
            ),
            fields: &[],
        },
        // Flux's generator replaces an image of the kustomization that has
        // the same name instead of appending a second entry.
        Case {
            name: "images replace by name",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  images:\n  - name: nginx\n    newName: reg/nginx\n"),
                ),
                (
                    "app/kustomization.yaml",
                    "resources: [deploy.yaml]\nimages:\n- name: nginx\n  newTag: \"9.9\"\n",
                ),
                ("app/deploy.yaml", DEPLOY),
            ]),
            want: Ok(vec!["app: Deployment /web spec.template.spec.containers=- image: reg/nginx:1.0,  name: web"]),
            fields: &["spec.template.spec.containers"],
        },
        // Components must be local relative paths; `ignoreMissingComponents`
        // drops the ones the source lacks.
        Case {
            name: "ignoreMissingComponents",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks(
                        "app",
                        "./app",
                        "  ignoreMissingComponents: true\n  components:\n  - ../gone\n  - ../label\n",
                    ),
                ),
                ("app/cm.yaml", CM),
                (
                    "label/kustomization.yaml",
                    "apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\ncommonAnnotations:\n  by: component\n",
                ),
            ]),
            want: Ok(vec!["app: ConfigMap /cm metadata.annotations.by=component"]),
            fields: &["metadata.annotations.by"],
        },
        Case {
            name: "remote component",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  components:\n  - https://example.com/c\n"),
                ),
                ("app/cm.yaml", CM),
            ]),
            want: Err(
                "cluster c, unit app, file clusters/c/app.yaml: component path 'https://example.com/c' must be local and relative",
            ),
            fields: &[],
        },
        // v1beta2's `patchesStrategicMerge` and `patchesJson6902` become the
        // kustomization's fields of the same names.
        Case {
            name: "v1beta2 legacy patches",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", "  patchesStrategicMerge:\n  - apiVersion: v1\n    kind: ConfigMap\n    metadata:\n      name: cm\n    data:\n      k: merged\n  patchesJson6902:\n  - target:\n      version: v1\n      kind: ConfigMap\n      name: cm\n    patch:\n    - op: add\n      path: /data/j\n      value: added\n")
                        .replace("kustomize.toolkit.fluxcd.io/v1\n", "kustomize.toolkit.fluxcd.io/v1beta2\n"),
                ),
                ("app/cm.yaml", CM),
            ]),
            want: Ok(vec!["app: ConfigMap /cm data.k=merged data.j=added"]),
            fields: &["data.k", "data.j"],
        },
        // A directory without kustomization.yaml gets one listing every YAML
        // file below it that the source artifact keeps: source-controller
        // leaves out what `.sourceignore` files list, scoped to their
        // directory; as they hold patterns, its defaults (`.github/`,
        // `**/.sops.yaml`, ...) no longer apply and are listed here too.
        Case {
            name: "generated kustomization and .sourceignore",
            files: files(&[
                ("clusters/c/app.yaml", &ks("app", "./app", "")),
                ("app/cm.yaml", CM),
                (".sourceignore", "*.draft.yaml\n"),
                ("app/.sourceignore", "/values/\n.github/\n.sops.yaml\n"),
                ("app/values/web.yaml", "replicas: 2\n"),
                ("app/next.draft.yaml", "title: later\n"),
                ("app/.sops.yaml", "creation_rules: []\n"),
                ("app/.github/workflows/ci.yml", "on: push\n"),
                ("app/nested/deploy.yaml", DEPLOY),
            ]),
            want: Ok(vec!["app: ConfigMap /cm", "app: Deployment /web"]),
            fields: &[],
        },
        // The repository's GitRepository `spec.ignore` shapes the artifact
        // too: its patterns win over .sourceignore files and replace the
        // defaults but for version control files.
        Case {
            name: "GitRepository spec.ignore",
            files: files(&[
                ("clusters/c/app.yaml", &ks("app", "./app", "")),
                (
                    "clusters/c/source.yaml",
                    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: https://example.com/repo\n  ignore: |\n    # work in progress\n    /app/wip/\n",
                ),
                ("app/cm.yaml", CM),
                ("app/wip/notes.yaml", "todo: everything\n"),
            ]),
            want: Ok(vec!["app: ConfigMap /cm"]),
            fields: &[],
        },
        // The GitRepository's `spec.ignore` narrows the artifact the root
        // unit builds in too: a file of the cluster directory it leaves out
        // (here one that is no manifest) is never read, though the
        // GitRepository is only known once the directory is read.
        Case {
            name: "spec.ignore leaves out a file of the cluster directory",
            files: files(&[
                ("clusters/c/app.yaml", &ks("app", "./app", "")),
                (
                    "clusters/c/source.yaml",
                    "apiVersion: source.toolkit.fluxcd.io/v1\nkind: GitRepository\nmetadata:\n  name: flux-system\n  namespace: flux-system\nspec:\n  interval: 1m\n  url: https://example.com/repo\n  ignore: |\n    /clusters/c/drafts/\n",
                ),
                ("clusters/c/drafts/next.yaml", "replicas: 2\n"),
                ("app/cm.yaml", CM),
            ]),
            want: Ok(vec!["app: ConfigMap /cm"]),
            fields: &[],
        },
        // "All YAML files present under that path must be valid Kubernetes
        // manifests": anything else fails the unit, as it fails Flux.
        Case {
            name: "generated kustomization with a file that is no manifest",
            files: files(&[
                ("clusters/c/app.yaml", &ks("app", "./app", "")),
                ("app/cm.yaml", CM),
                ("app/values.yaml", "replicas: 2\n"),
            ]),
            want: Err(
                "cluster c, unit app, file clusters/c/app.yaml: app/values.yaml: document 1 has no kind: with no kustomization in the directory, Flux generates one",
            ),
            fields: &[],
        },
        // A Kustomization rendered by another unit is followed too
        // (app-of-apps), and `dependsOn` orders units.
        Case {
            name: "recursive Kustomizations in dependsOn order",
            files: files(&[
                ("clusters/c/apps.yaml", &ks("apps", "./apps", "  dependsOn:\n  - name: infra\n")),
                ("clusters/c/infra.yaml", &ks("infra", "./infra", "")),
                ("infra/cm.yaml", CM),
                ("apps/web.yaml", &ks("web", "./web", "  dependsOn:\n  - name: infra\n")),
                ("web/cm.yaml", &CM.replace("name: cm", "name: web")),
            ]),
            want: Ok(vec!["infra: ConfigMap /cm", "web: ConfigMap /web"]),
            fields: &[],
        },
        Case {
            name: "dependsOn cycle",
            files: files(&[
                ("clusters/c/a.yaml", &ks("a", "./a", "  dependsOn:\n  - name: b\n")),
                ("clusters/c/b.yaml", &ks("b", "./a", "  dependsOn:\n  - name: a\n")),
                ("a/cm.yaml", CM),
            ]),
            want: Err("cluster c, unit a, file clusters/c/a.yaml: dependsOn cycle: a -> b -> a"),
            fields: &[],
        },
        // Recursion ends: a Kustomization rendered again with the same
        // definition (a renders b, b renders a) is one unit, built once.
        Case {
            name: "Kustomizations that render each other are built once",
            files: files(&[
                ("clusters/c/a.yaml", &ks("a", "./a", "")),
                ("a/b.yaml", &ks("b", "./b", "")),
                ("a/cm.yaml", CM),
                ("b/a.yaml", &ks("a", "./a", "")),
                ("b/cm.yaml", &CM.replace("name: cm", "name: from-b")),
            ]),
            want: Ok(vec!["a: ConfigMap /cm", "b: ConfigMap /from-b"]),
            fields: &[],
        },
        Case {
            name: "a Kustomization defined twice, differently",
            files: files(&[
                ("clusters/c/loop.yaml", &ks("loop", "./loop", "")),
                ("loop/self.yaml", &ks("loop", "./loop", "  prune: true\n")),
            ]),
            want: Err(
                "cluster c, unit loop, file loop/self.yaml: Kustomization flux-system/loop is also defined, differently, in clusters/c/loop.yaml",
            ),
            fields: &[],
        },
        Case {
            name: "dependsOn an unknown Kustomization",
            files: files(&[
                ("clusters/c/a.yaml", &ks("a", "./a", "  dependsOn:\n  - name: ghost\n")),
                ("a/cm.yaml", CM),
            ]),
            want: Err(
                "cluster c, unit a, file clusters/c/a.yaml: dependsOn flux-system/ghost: no such Kustomization in this cluster",
            ),
            fields: &[],
        },
        Case {
            name: "missing path",
            files: files(&[("clusters/c/a.yaml", &ks("a", "./nowhere", ""))]),
            want: Err(
                "cluster c, unit a, file clusters/c/a.yaml: spec.path \"./nowhere\" is not a directory of the repository",
            ),
            fields: &[],
        },
        // A HelmRelease is replaced by its chart's objects. helm-controller
        // (HelmRelease API, fluxcd.io): `releaseName` defaults to
        // `[<targetNamespace>-]<name>`; objects go to `targetNamespace`, else
        // the HelmRelease's namespace; `install.crds` defaults to `Create`
        // (CRDs installed) and `Skip` leaves them out.
        Case {
            name: "a HelmRelease from this repository renders its chart",
            files: chart_files(&[(
                "a/release.yaml",
                &hr("  targetNamespace: apps\n  values:\n    greeting: hi\n"),
            )]),
            want: Ok(vec![
                "a: CustomResourceDefinition /widgets.example.com data.greeting=- data.replicas=-",
                "a: ConfigMap apps/apps-web data.greeting=hi data.replicas=1",
            ]),
            fields: &["data.greeting", "data.replicas"],
        },
        // HelmRelease `spec.commonMetadata`: helm-controller's common
        // post-renderer labels and annotates the release manifests (not the
        // CRDs of crds/), before the origin labels.
        Case {
            name: "HelmRelease commonMetadata",
            files: chart_files(&[(
                "a/release.yaml",
                &hr(
                    "  commonMetadata:\n    labels:\n      team: web\n    annotations:\n      owner: ops\n",
                ),
            )]),
            want: Ok(vec![
                "a: CustomResourceDefinition /widgets.example.com metadata.labels.team=- metadata.annotations.owner=-",
                "a: ConfigMap flux-system/web metadata.labels.team=web metadata.annotations.owner=ops",
            ]),
            fields: &["metadata.labels.team", "metadata.annotations.owner"],
        },
        Case {
            name: "releaseName, install.crds Skip",
            files: chart_files(&[(
                "a/release.yaml",
                &hr("  releaseName: custom\n  install:\n    crds: Skip\n"),
            )]),
            want: Ok(vec!["a: ConfigMap flux-system/custom data.greeting=hello"]),
            fields: &["data.greeting"],
        },
        // `valuesFrom` (HelmRelease API): ConfigMaps and Secrets of the
        // HelmRelease's namespace, `valuesKey` defaulting to `values.yaml`,
        // `targetPath` setting one value, `optional` sources skipped when
        // missing; merged in order, then the inline `values` last.
        Case {
            name: "valuesFrom ConfigMap, Secret targetPath, optional; inline values win",
            files: chart_files(&[
                (
                    "a/release.yaml",
                    &hr("  valuesFrom:\n  - kind: ConfigMap\n    name: vals\n  - kind: Secret\n    name: sec\n    valuesKey: n\n    targetPath: replicas\n  - kind: ConfigMap\n    name: absent\n    optional: true\n  values:\n    extra: inline\n  install:\n    crds: Skip\n"),
                ),
                (
                    "a/vals.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: vals\n  namespace: flux-system\ndata:\n  values.yaml: |\n    greeting: from-cm\n    extra: from-cm\n",
                ),
                (
                    "a/sec.yaml",
                    "apiVersion: v1\nkind: Secret\nmetadata:\n  name: sec\n  namespace: flux-system\ndata:\n  n: Mw==\n",
                ),
            ]),
            want: Ok(vec![
                "a: ConfigMap flux-system/vals data.greeting=- data.replicas=- data.extra=-",
                "a: Secret flux-system/sec data.greeting=- data.replicas=- data.extra=-",
                "a: ConfigMap flux-system/web data.greeting=from-cm data.replicas=3 data.extra=inline",
            ]),
            fields: &["data.greeting", "data.replicas", "data.extra"],
        },
        Case {
            name: "a missing valuesFrom source is an error",
            files: chart_files(&[(
                "a/release.yaml",
                &hr("  valuesFrom:\n  - kind: Secret\n    name: nope\n"),
            )]),
            want: Err(
                "cluster c, unit a, file a/release.yaml: HelmRelease web: valuesFrom Secret flux-system/nope key \"values.yaml\": not in the render (mark it optional: true if it may be missing, or list \"Secret flux-system/nope\" under clusterObjects in kiln.yaml if the cluster holds it)",
            ),
            fields: &[],
        },
        // A valuesFrom Secret that the render holds only as a SealedSecret
        // (or an ExternalSecret's target) exists in the cluster alone: the
        // helm-controller reads it there. The release is kept as written
        // for it to render (its values never reach the rendered tree); a
        // Secret that is nowhere stays an error (case above).
        Case {
            name: "valuesFrom a Secret only the cluster holds keeps the release",
            files: chart_files(&[
                (
                    "a/release.yaml",
                    &hr("  valuesFrom:\n  - kind: ConfigMap\n    name: absent\n    optional: true\n  - kind: Secret\n    name: web-values\n"),
                ),
                (
                    "a/sealed.yaml",
                    "apiVersion: bitnami.com/v1alpha1\nkind: SealedSecret\nmetadata:\n  name: web-values\n  namespace: flux-system\nspec:\n  encryptedData:\n    values.yaml: AgBexample\n",
                ),
            ]),
            want: Ok(vec![
                "a: SealedSecret flux-system/web-values spec.chart.spec.chart=-",
                "a: HelmRelease flux-system/web spec.chart.spec.chart=./charts/web",
            ]),
            fields: &["spec.chart.spec.chart"],
        },
        // kiln.yaml's `clusterObjects` declares ConfigMaps and Secrets made
        // in the cluster outside the repository (by Terraform): a release
        // reading values from one is kept as written, as above.
        Case {
            name: "valuesFrom a declared cluster object keeps the release",
            files: chart_files(&[
                ("kiln.yaml", "clusterObjects:\n- ConfigMap flux-system/terraform-outputs\n"),
                (
                    "a/release.yaml",
                    &hr("  valuesFrom:\n  - kind: ConfigMap\n    name: terraform-outputs\n"),
                ),
            ]),
            want: Ok(vec!["a: HelmRelease flux-system/web spec.chart.spec.chart=./charts/web"]),
            fields: &["spec.chart.spec.chart"],
        },
        Case {
            name: "a HelmRelease of a HelmRepository without a chart cache is an error",
            files: files(&[
                ("clusters/c/a.yaml", &ks("a", "./a", "")),
                (
                    "a/release.yaml",
                    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: flux-system\nspec:\n  chart:\n    spec:\n      chart: podinfo\n      version: 6.5.0\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n",
                ),
            ]),
            want: Err(
                "cluster c, unit a, file a/release.yaml: HelmRelease podinfo: chart podinfo version 6.5.0 of HelmRepository flux-system/podinfo is not in this repository: pass --chart-cache DIR (or set chartCache in kiln.yaml) to render it from a chart cache; see the chart cache layout in the README",
            ),
            fields: &[],
        },
        Case {
            name: "a Kustomization of another source is kept as written and may be depended on",
            files: files(&[(
                "clusters/c/ext.yaml",
                "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nmetadata:\n  name: ext\n  namespace: flux-system\nspec:\n  path: ./deploy\n  sourceRef:\n    kind: GitRepository\n    name: other-repo\n",
            ), ("clusters/c/a.yaml", &ks("a", "./a", "  dependsOn:\n  - name: ext\n")), ("a/cm.yaml", CM)]),
            want: Ok(vec!["a: ConfigMap /cm"]),
            fields: &[],
        },
        // `dependsOn[].namespace` defaults to the Kustomization's own
        // namespace (Kustomization API, dependsOn).
        Case {
            name: "dependsOn across namespaces",
            files: files(&[
                ("clusters/c/infra.yaml", &ks("infra", "./infra", "")
                        .replacen("namespace: flux-system", "namespace: ops", 1)
                        .replace("name: flux-system\n", "name: flux-system\n    namespace: flux-system\n")),
                ("infra/cm.yaml", CM),
                ("clusters/c/a.yaml", &ks("a", "./a", "  dependsOn:\n  - name: infra\n    namespace: ops\n")),
                ("a/cm.yaml", &CM.replace("name: cm", "name: app")),
            ]),
            want: Ok(vec!["infra: ConfigMap /cm", "a: ConfigMap /app"]),
            fields: &[],
        },
        Case {
            name: "dependsOn without a namespace means the Kustomization's own",
            files: files(&[
                ("clusters/c/infra.yaml", &ks("infra", "./infra", "")
                        .replacen("namespace: flux-system", "namespace: ops", 1)
                        .replace("name: flux-system\n", "name: flux-system\n    namespace: flux-system\n")),
                ("infra/cm.yaml", CM),
                ("clusters/c/a.yaml", &ks("a", "./a", "  dependsOn:\n  - name: infra\n")),
                ("a/cm.yaml", CM),
            ]),
            want: Err("cluster c, unit a, file clusters/c/a.yaml: dependsOn flux-system/infra: no such Kustomization in this cluster"),
            fields: &[],
        },
        // A HelmRepository chart from the chart cache kept in the repository
        // (`chartCache` in kiln.yaml): the highest version meeting the
        // constraint, with a post-renderer patch and the origin labels.
        Case {
            name: "a HelmRelease of a HelmRepository from chartCache",
            files: files(&[
                ("kiln.yaml", "chartCache: vendor/charts\n"),
                ("clusters/c/a.yaml", &ks("a", "./a", "")),
                ("vendor/charts/flux-system/podinfo/podinfo-6.5.0/Chart.yaml", "apiVersion: v2\nname: podinfo\nversion: 6.5.0\n"),
                ("vendor/charts/flux-system/podinfo/podinfo-6.5.0/templates/cm.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {{ .Release.Name }}\ndata:\n  version: {{ .Chart.Version }}\n"),
                ("vendor/charts/flux-system/podinfo/podinfo-7.0.0/Chart.yaml", "apiVersion: v2\nname: podinfo\nversion: 7.0.0\n"),
                (
                    "a/release.yaml",
                    "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nmetadata:\n  name: podinfo\n  namespace: apps\nspec:\n  chart:\n    spec:\n      chart: podinfo\n      version: 6.x\n      sourceRef:\n        kind: HelmRepository\n        name: podinfo\n        namespace: flux-system\n  postRenderers:\n  - kustomize:\n      patches:\n      - target:\n          kind: ConfigMap\n        patch: |\n          - op: add\n            path: /data/patched\n            value: \"yes\"\n",
                ),
            ]),
            want: Ok(vec![
                "a: ConfigMap apps/podinfo data.version=6.5.0 data.patched=yes metadata.labels=helm.toolkit.fluxcd.io/name: podinfo,helm.toolkit.fluxcd.io/namespace: apps",
            ]),
            fields: &["data.version", "data.patched", "metadata.labels"],
        },
        // `kustomize.toolkit.fluxcd.io/reconcile: disabled` (label or
        // annotation) on an object in Git: the kustomize-controller never
        // applies it (fluxcd/pkg ssa: the desired object's metadata is
        // checked), so a HelmRelease so marked renders no chart (here there
        // is none) and a Kustomization so marked is not followed; both stay
        // as written, and a `dependsOn` on the latter is no error.
        Case {
            name: "reconcile disabled",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks("app", "./app", ""),
                ),
                (
                    "clusters/c/off.yaml",
                    &ks("off", "./off", "").replace(
                        "  namespace: flux-system\n",
                        "  namespace: flux-system\n  annotations:\n    kustomize.toolkit.fluxcd.io/reconcile: disabled\n",
                    ),
                ),
                ("clusters/c/after.yaml", &ks("after", "./after", "  dependsOn:\n  - name: off\n")),
                ("off/cm.yaml", CM),
                ("after/cm.yaml", CM),
                (
                    "app/hr.yaml",
                    &hr("").replace(
                        "  namespace: flux-system\n",
                        "  namespace: flux-system\n  labels:\n    kustomize.toolkit.fluxcd.io/reconcile: disabled\n",
                    ),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  annotations:\n    kustomize.toolkit.fluxcd.io/reconcile: disabled\n",
                ),
            ]),
            want: Ok(vec![
                "after: ConfigMap /cm",
                "app: ConfigMap /cm",
                "app: HelmRelease flux-system/web",
            ]),
            fields: &[],
        },
        // `spec.suspend: true`: the controllers apply nothing from the
        // object until it is resumed, leaving what they applied last, which
        // kiln cannot know; it renders what would be applied on resuming
        // (and says so, see `reports_what_flux_leaves_alone`).
        Case {
            name: "suspended",
            files: chart_files(&[
                ("clusters/c/a.yaml", ""),
                ("clusters/c/app.yaml", &ks("app", "./app", "  suspend: true\n")),
                ("app/hr.yaml", &hr("  suspend: true\n")),
            ]),
            want: Ok(vec![
                "app: CustomResourceDefinition /widgets.example.com",
                "app: ConfigMap flux-system/web",
            ]),
            fields: &[],
        },
        // A pattern in any `.sourceignore` of the repository drops
        // source-controller's default exclusions (but for version control
        // files), so a generated kustomization lists a `.sops.yaml`, and
        // Flux fails on it; without one, the defaults leave it out.
        Case {
            name: "sourceignore patterns drop the defaults",
            files: files(&[
                ("docs/.sourceignore", "*.md\n"),
                ("clusters/c/app.yaml", &ks("app", "./app", "")),
                ("app/cm.yaml", CM),
                ("app/.sops.yaml", "creation_rules:\n- age: x\n"),
            ]),
            want: Err(
                "cluster c, unit app, file clusters/c/app.yaml: app/.sops.yaml: document 1 has no kind",
            ),
            fields: &[],
        },
        Case {
            name: "sourceignore defaults",
            files: files(&[
                ("docs/.sourceignore", "# nothing ignored\n"),
                ("clusters/c/app.yaml", &ks("app", "./app", "")),
                ("app/cm.yaml", CM),
                ("app/.sops.yaml", "creation_rules:\n- age: x\n"),
            ]),
            want: Ok(vec!["app: ConfigMap /cm"]),
            fields: &[],
        },
        // Every unit builds in the source artifact, its own kustomization
        // too: a file the artifact leaves out is missing for kustomize, as
        // it is for the kustomize-controller.
        Case {
            name: "kustomization names a file the artifact leaves out",
            files: files(&[
                (".sourceignore", "*.local.yaml
"),
                ("clusters/c/app.yaml", &ks("app", "./app", "")),
                ("app/kustomization.yaml", "resources:\n- cm.yaml\n- dev.local.yaml\n"),
                ("app/cm.yaml", CM),
                ("app/dev.local.yaml", &CM.replace("name: cm", "name: dev")),
            ]),
            want: Err("dev.local.yaml"),
            fields: &[],
        },
        // Patterns judge each file: `!` brings back a file below a
        // directory left out, and the directory is there for it.
        Case {
            name: "artifact keeps a file brought back below a left-out directory",
            files: files(&[
                (".sourceignore", "/app/extra/\n!/app/extra/keep.yaml\n"),
                ("clusters/c/app.yaml", &ks("app", "./app", "")),
                ("app/kustomization.yaml", "resources:\n- cm.yaml\n- extra/keep.yaml\n"),
                ("app/cm.yaml", CM),
                ("app/extra/keep.yaml", &CM.replace("name: cm", "name: keep")),
                ("app/extra/drop.yaml", "not: a manifest\n"),
            ]),
            want: Ok(vec!["app: ConfigMap /cm", "app: ConfigMap /keep"]),
            fields: &[],
        },
        // kustomize-controller applies each object with the labels it reads
        // as a map of strings (apimachinery's `Unstructured.GetLabels`),
        // and that read finds none when one value is not a string: it then
        // writes back only its owner labels (fluxcd/pkg/ssa `SetOwnerLabels`),
        // which kiln does not write. cloud-platform-environments'
        // big-book-of-acronyms Namespace has `is-production: true`; the same
        // all-or-nothing read makes `kubectl apply` lose every annotation
        // when one is null (see tests/kubectl-apply-view.py).
        Case {
            name: "lf-labels that are not all strings are not applied",
            files: files(&[
                ("clusters/c/app.yaml", &ks("app", "./app", "")),
                (
                    "app/ns.yaml",
                    "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: bba\n  labels:\n    name: bba\n    is-production: true\n  annotations:\n    n: 1\n",
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n    keep: \"true\"\n  annotations:\n",
                ),
            ]),
            want: Ok(vec![
                "app: Namespace /bba metadata.labels=- metadata.annotations=\"n\": \"1\"",
                "app: ConfigMap /cm metadata.labels=keep: \"true\" metadata.annotations=-",
            ]),
            fields: &["metadata.labels", "metadata.annotations"],
        },
        // With `commonMetadata`, its labels are all such an object keeps
        // (`SetCommonMetadata` reads labels the same way), and annotations,
        // which it then sets too, are read and replaced alike. kustomize
        // writes every annotation as a string, but `postBuild` substitutes
        // the built YAML's text, so `n: ${n}` becomes the number 3.
        Case {
            name: "lf-commonMetadata over labels and annotations that are not all strings",
            files: files(&[
                (
                    "clusters/c/app.yaml",
                    &ks(
                        "app",
                        "./app",
                        "  commonMetadata:\n    labels:\n      team: a\n    annotations:\n      owner: me\n  postBuild:\n    substitute:\n      n: \"3\"\n",
                    ),
                ),
                (
                    "app/cm.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm\n  labels:\n    a: \"1\"\n    b: 2\n  annotations:\n    x: \"1\"\n    n: ${n}\n",
                ),
                (
                    "app/cm2.yaml",
                    "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cm2\n  labels:\n    a: \"1\"\n  annotations:\n    x: \"1\"\n",
                ),
            ]),
            want: Ok(vec![
                "app: ConfigMap /cm metadata.labels=team: a metadata.annotations=owner: me",
                "app: ConfigMap /cm2 metadata.labels=a: \"1\",team: a metadata.annotations=owner: me,x: \"1\"",
            ]),
            fields: &["metadata.labels", "metadata.annotations"],
        },
    ]
}

#[test]
fn flux_semantics() {
    let mut failures = Vec::new();
    let all = cases();
    for case in &all {
        let got = run(case);
        let ok = match (&got, &case.want) {
            (Ok(got), Ok(want)) => got == want,
            (Err(got), Err(want)) => got.contains(want),
            _ => false,
        };
        if !ok {
            failures.push(format!("{}:\n  got  {got:?}\n  want {:?}", case.name, case.want));
        }
    }
    println!("flux cases: {}/{} pass", all.len() - failures.len(), all.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn rendering_is_deterministic_and_the_root_is_the_bootstrap_kustomization() {
    let all = cases();
    let case =
        all.iter().find(|c| c.name == "recursive Kustomizations in dependsOn order").unwrap();
    let a = run(case).unwrap();
    for _ in 0..5 {
        assert_eq!(run(case).unwrap(), a);
    }
    let mut t = MemTree::new();
    t.insert("clusters/c/flux-system/gotk-sync.yaml", ROOT);
    t.insert("clusters/c/a.yaml", ks("a", "./a", ""));
    t.insert("a/cm.yaml", CM);
    let r = render(&t, &Options::default()).unwrap();
    let units: Vec<(&str, Option<&str>)> =
        r.clusters[0].units.iter().map(|u| (u.name.as_str(), u.parent.as_deref())).collect();
    assert_eq!(units, [("flux-system", None), ("a", Some("flux-system"))]);
}

/// What kiln leaves to the applier is reported with the cluster: objects
/// that opted out of reconciliation and postBuild variables that became
/// empty, each naming its unit and file.
#[test]
fn reports_what_flux_leaves_alone() {
    let all = cases();
    let notes = |name: &str| {
        let case = all.iter().find(|c| c.name == name).unwrap();
        let mut t = MemTree::new();
        t.insert("clusters/c/flux-system/gotk-sync.yaml", ROOT);
        for (p, c) in &case.files {
            t.insert(p, c.as_str());
        }
        render(&t, &Options::default()).unwrap().clusters[0].skipped.clone()
    };
    assert_eq!(
        notes("reconcile disabled"),
        [
            "Kustomization flux-system/off (clusters/c/off.yaml): kustomize.toolkit.fluxcd.io/reconcile: disabled, so its parent flux-system never applies it; kept as written, not followed",
            "ConfigMap /cm (app/cm.yaml): kustomize.toolkit.fluxcd.io/reconcile: disabled, so unit app never applies it; kept as written, as a Flux applier skips it too",
            "HelmRelease flux-system/web (app/hr.yaml): kustomize.toolkit.fluxcd.io/reconcile: disabled, so unit app never applies it; kept as written, its chart not rendered",
        ]
    );
    assert_eq!(
        notes("suspended"),
        [
            "Kustomization flux-system/app (clusters/c/app.yaml): spec.suspend is true, so Flux applies nothing from it until it is resumed; rendered as it would apply then",
            "HelmRelease flux-system/web (app/hr.yaml): spec.suspend is true, so Flux applies nothing from it until it is resumed; rendered as it would apply then",
        ]
    );
    assert_eq!(
        notes("undefined variable"),
        [
            "Kustomization flux-system/app (app/cm.yaml:6): postBuild variable \"nope\" in ConfigMap/cm (line 3 of its built YAML) is not set and became empty, as in Flux; set strictPostBuildSubstitutions: true in kiln.yaml to fail instead",
        ]
    );
}
