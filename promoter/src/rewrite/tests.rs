//! Tests of finding and rewriting image values: tables, then properties.

use super::*;
use proptest::prelude::*;
use saphyr::{Scalar, Yaml};

/// (file, expected refs as `field image value path policy`).
const FIND_CASES: &[(&str, &[&str])] = &[
    (
        "apiVersion: apps/v1\nkind: Deployment\nspec:\n  template:\n    spec:\n      initContainers:\n      - image: busybox\n      containers:\n      - name: app\n        image: ghcr.io/acme/user-roles:v1.2.2.2022-01-15t161730814Z.9eabf5b # {\"$imagepolicy\": \"flux-system:user-roles\"}\n      - {name: side, image: 'nginx:1.25@sha256:abc'}\n",
        &[
            "Image busybox busybox spec.template.spec.initContainers[0].image -",
            "Image ghcr.io/acme/user-roles ghcr.io/acme/user-roles:v1.2.2.2022-01-15t161730814Z.9eabf5b spec.template.spec.containers[0].image marker=flux-system:user-roles",
            "Image nginx nginx:1.25@sha256:abc spec.template.spec.containers[1].image -",
        ],
    ),
    (
        "resources:\n- deployment.yaml\nimages:\n- name: user-roles\n  newName: ghcr.io/acme/user-roles\n  newTag: \"1.20\"\n- name: web\n  newTag: 1.20 # {\"$imagepolicy\": \"apps:web:tag\"}\n  digest: sha256:0123\n",
        &[
            "Name ghcr.io/acme/user-roles ghcr.io/acme/user-roles images[0].newName -",
            "Tag ghcr.io/acme/user-roles 1.20 images[0].newTag -",
            "Tag web 1.20 images[1].newTag marker=apps:web",
            "Digest web sha256:0123 images[1].digest -",
        ],
    ),
    (
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nspec:\n  images:\n  - name: api\n    newTag: v2\n",
        &["Tag api v2 spec.images[0].newTag -"],
    ),
    (
        // A Flux Kustomization's top-level `images` is not a kustomize field.
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\nimages:\n- name: api\n  newTag: v2\n",
        &[],
    ),
    (
        "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n  values:\n    image:\n      registry: docker.io\n      repository: bitnami/redis\n      tag: 7.2.4 # {\"$imagepolicy\": \"infra:redis:tag\"}\n    metrics:\n      image: prom/exporter:v1\n",
        &[
            "Name docker.io/bitnami/redis bitnami/redis spec.values.image.repository -",
            "Tag docker.io/bitnami/redis 7.2.4 spec.values.image.tag marker=infra:redis",
            "Image prom/exporter prom/exporter:v1 spec.values.metrics.image -",
        ],
    ),
    (
        "apiVersion: helm.fluxcd.io/v1\nkind: FluxHelmRelease\nspec:\n  values:\n    image: &img\n      name: quay.io/app\n      tag: v1\n",
        &[
            "Name quay.io/app quay.io/app spec.values.image.name -",
            "Tag quay.io/app v1 spec.values.image.tag -",
        ],
    ),
    (
        // Markers anywhere, on any value; a value map's `tag` outside a HelmRelease is not a rule.
        "app:\n  image:\n    repository: ghcr.io/x # {\"$imagepolicy\": \"ns:x:name\"}\n    tag: v1 # {\"$imagepolicy\": \"ns:x:tag\"}\n  full: 'ghcr.io/x:v1' #   {\"$imagepolicy\":\"ns:x\"}\n  other: v1 # {\"not\": \"a marker\"}\n",
        &[
            "Name ghcr.io/x ghcr.io/x app.image.repository marker=ns:x",
            "Tag - v1 app.image.tag marker=ns:x",
            "Image ghcr.io/x ghcr.io/x:v1 app.full marker=ns:x",
        ],
    ),
    (
        // Aliases, block scalars and empty values are not rewritable.
        "kind: Pod\nx: &i nginx:1\nspec:\n  containers:\n  - image: *i\n  - image: |\n      nginx:2\n  - image:\n  - image: &j nginx:3\n",
        &["Image nginx nginx:3 spec.containers[3].image -"],
    ),
    (
        "---\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - image: \"a/b:c\" # ünïcödé\r\n---\r\n# ünïcödé\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - image: a/b:d\r\n",
        &[
            "Image a/b a/b:c spec.containers[0].image -",
            "Image a/b a/b:d spec.containers[0].image -",
        ],
    ),
    (
        // Flux v1 workload annotations give a container's policy.
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  annotations:\n    fluxcd.io/automated: \"true\"\n    fluxcd.io/tag.app: semver:~1.0\n    flux.weave.works/tag.init: glob:v*\nspec:\n  template:\n    spec:\n      initContainers:\n      - name: init\n        image: init:v1\n      containers:\n      - name: app\n        image: app:1.0.1\n      - name: side\n        image: side:1\n",
        &[
            "Image init init:v1 spec.template.spec.initContainers[0].image annotation=glob:v*",
            "Image app app:1.0.1 spec.template.spec.containers[0].image annotation=semver:~1.0",
            "Image side side:1 spec.template.spec.containers[1].image -",
        ],
    ),
    (
        // Flux v1 helm-operator image detection and filters (chart-image at the top, else the key).
        "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  annotations:\n    filter.fluxcd.io/chart-image: semver:~4.0\n    filter.fluxcd.io/nats: regex:^0.6.*\nspec:\n  values:\n    registry: docker.io\n    image: bitnami/mongodb\n    tag: 4.0.3\n    nats:\n      image:\n        repository: nats-streaming\n        tag: 0.6.0\n    prometheus:\n      image: prom/prometheus:v2.3.1\n",
        &[
            "Name docker.io/bitnami/mongodb bitnami/mongodb spec.values.image annotation=semver:~4.0",
            "Tag docker.io/bitnami/mongodb 4.0.3 spec.values.tag annotation=semver:~4.0",
            "Name nats-streaming nats-streaming spec.values.nats.image.repository annotation=regex:^0.6.*",
            "Tag nats-streaming 0.6.0 spec.values.nats.image.tag annotation=regex:^0.6.*",
            "Image prom/prometheus prom/prometheus:v2.3.1 spec.values.prometheus.image -",
        ],
    ),
    (
        // Flux v1 helm-operator aliases map values paths to an image.
        "apiVersion: helm.fluxcd.io/v1\nkind: HelmRelease\nmetadata:\n  annotations:\n    repository.fluxcd.io/app: appImage\n    tag.fluxcd.io/app: appTag\n    filter.fluxcd.io/app: 'glob:*'\n    registry.fluxcd.io/submarine: sub.marinesystem.reg\n    repository.fluxcd.io/submarine: sub.marinesystem.img\n    tag.fluxcd.io/submarine: sub.marinesystem.tag\nspec:\n  values:\n    appImage: repo/image1\n    appTag: version\n    sub:\n      marinesystem:\n        reg: domain.com\n        img: repo/image2\n        tag: version\n",
        &[
            "Name repo/image1 repo/image1 spec.values.appImage annotation=glob:*",
            "Tag repo/image1 version spec.values.appTag annotation=glob:*",
            "Name domain.com/repo/image2 repo/image2 spec.values.sub.marinesystem.img -",
            "Tag domain.com/repo/image2 version spec.values.sub.marinesystem.tag -",
        ],
    ),
];

fn describe(r: &ImageRef) -> String {
    format!(
        "{:?} {} {} {} {}",
        r.field,
        r.image.as_deref().unwrap_or("-"),
        r.value,
        r.path,
        match &r.policy {
            None => "-".to_owned(),
            Some(PolicyRef::ImagePolicy(p)) => format!("marker={p}"),
            Some(PolicyRef::Annotation(p)) => format!("annotation={p}"),
        }
    )
}

#[test]
fn finds() {
    for (text, expected) in FIND_CASES {
        let refs = find(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let got: Vec<String> = refs.iter().map(describe).collect();
        assert_eq!(got, *expected, "{text}");
        for r in &refs {
            if let Some(PolicyRef::Annotation(policy)) = &r.policy {
                assert!(policy.parse::<crate::Policy>().is_ok(), "{policy}");
            }
            let written = &text[r.span.clone()];
            assert!(written.contains(r.value.as_str()), "{written} holds {}", r.value);
        }
    }
}

#[test]
fn documents_are_numbered() {
    let text = "kind: Pod\nspec: {containers: [{image: a}]}\n---\nkind: Pod\nspec: {containers: [{image: b}]}\n";
    let docs: Vec<usize> = find(text).unwrap().iter().map(|r| r.document).collect();
    assert_eq!(docs, [0, 1]);
}

/// (file, image, tag, file after).
const SET_CASES: &[(&str, &str, &str, Option<&str>)] = &[
    (
        "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app   # the app\n          image: ghcr.io/acme/app:v1  # pinned\n",
        "ghcr.io/acme/app",
        "v2",
        Some(
            "kind: Deployment\nspec:\n  template:\n    spec:\n      containers:\n        - name: app   # the app\n          image: ghcr.io/acme/app:v2  # pinned\n",
        ),
    ),
    (
        "spec:\r\n  containers:\r\n  - image: 'ghcr.io/acme/app@sha256:00'\r\n",
        "ghcr.io/acme/app",
        "v2",
        Some("spec:\r\n  containers:\r\n  - image: 'ghcr.io/acme/app:v2'\r\n"),
    ),
    (
        "images:\n- name: app\n  newTag: v1 # {\"$imagepolicy\": \"ns:app:tag\"}\n- name: other\n  newTag: v1\n",
        "app",
        "1.20",
        Some(
            "images:\n- name: app\n  newTag: \"1.20\" # {\"$imagepolicy\": \"ns:app:tag\"}\n- name: other\n  newTag: v1\n",
        ),
    ),
    (
        "images:\n- {name: app, newTag: 'v1'}\n",
        "app",
        "it's",
        Some("images:\n- {name: app, newTag: 'it''s'}\n"),
    ),
    (
        "kind: HelmRelease\nspec:\n  values:\n    image: {repository: app, tag: \"v1\"}\n",
        "app",
        "v\"2",
        Some(
            "kind: HelmRelease\nspec:\n  values:\n    image: {repository: app, tag: \"v\\\"2\"}\n",
        ),
    ),
    ("images:\n- name: app\n  newTag: v1\n", "web", "v2", None),
];

#[test]
fn sets_tags() {
    for (text, image, tag, expected) in SET_CASES {
        let got = set_tag(text, image, tag).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(got.as_deref(), *expected, "{text}");
    }
}

#[test]
fn errors() {
    let cases: &[(&str, &str)] = &[
        ("a: [1, 2\n", "not valid YAML at line 2 column 1: "),
        ("a: {b: 1\n  c: d: e\n", "not valid YAML at line"),
        (
            "x: v1 # {\"$imagepolicy\": \"ns:p:bogus\"}\n",
            "malformed $imagepolicy marker `ns:p:bogus` at line 1",
        ),
        ("\n\nx: v1 # {\"$imagepolicy\": \"p\"}\n", "malformed $imagepolicy marker `p` at line 3"),
    ];
    for (text, message) in cases {
        let err = find(text).unwrap_err().to_string();
        assert!(err.starts_with(message), "{text}: {err}");
    }
    let text = "kind: Pod\nspec: {containers: [{image: a}]}\n";
    let image = text.find("a}").unwrap();
    assert_eq!(
        apply(text, &[Edit { span: image..image + 1, value: "b".into() }]).unwrap(),
        text.replace("a}", "b}")
    );
    for span in [0..4, 6..10, image..image + 2, image..100, Range { start: 5, end: 3 }] {
        let edit = Edit { span: span.clone(), value: "x".into() };
        let err = apply(text, &[edit]).map(|_| ()).unwrap_err().to_string();
        assert_eq!(
            err,
            format!("edit span {}..{} is not an image value of the text", span.start, span.end)
        );
    }
    let overlapping = [
        Edit { span: image..image + 1, value: "x".into() },
        Edit { span: image..image + 1, value: "y".into() },
    ];
    assert!(apply(text, &overlapping).is_err());
}

#[test]
fn splits_references() {
    type Parts = (&'static str, Option<&'static str>, Option<&'static str>);
    let cases: &[(&str, Parts)] = &[
        ("nginx", ("nginx", None, None)),
        ("nginx:1.25", ("nginx", Some("1.25"), None)),
        ("localhost:5000/app", ("localhost:5000/app", None, None)),
        ("localhost:5000/app:v1@sha256:ab", ("localhost:5000/app", Some("v1"), Some("sha256:ab"))),
        ("app@sha256:ab", ("app", None, Some("sha256:ab"))),
    ];
    for (reference, parts) in cases {
        assert_eq!(split_reference(reference), *parts, "{reference}");
    }
}

#[test]
fn plain_values_stay_plain_only_when_safe() {
    let plain = ["v1.2.3", "v1.2.2.2022-01-15t161730814Z.9eabf5b", "ghcr.io/a/b:v1", "main-abc"];
    let quoted = [
        "1.20", "123", "9eabf5b", "1e3", "yes", "No", "null", "~", "", "-x", "a: b", "a #b", "[x]",
        "x,y", ":x", "x:",
    ];
    for value in plain {
        assert!(plain_safe(value), "{value}");
    }
    for value in quoted {
        assert!(!plain_safe(value), "{value}");
    }
}

/// Where the planted image value sits in a generated file.
#[derive(Debug, Clone, Copy)]
enum Site {
    Container,
    FlowContainer,
    Kustomize,
    HelmTag,
}

#[derive(Debug, Clone, Copy)]
enum Quote {
    Plain,
    Single,
    Double,
}

#[derive(Debug, Clone)]
struct Case {
    site: Site,
    quote: Quote,
    indent: usize,
    anchor: bool,
    comment: bool,
    marker: bool,
    crlf: bool,
    before: bool,
    after: bool,
    new_value: String,
}

fn quoted(value: &str, quote: Quote) -> String {
    match quote {
        Quote::Plain => value.to_owned(),
        Quote::Single => format!("'{value}'"),
        Quote::Double => format!("\"{value}\""),
    }
}

/// Builds the file; returns it with the planted value's path.
fn build(case: &Case) -> (String, &'static str) {
    let i = " ".repeat(case.indent);
    let anchor = if case.anchor { "&img " } else { "" };
    let mut tail = String::new();
    if case.marker {
        let field =
            if matches!(case.site, Site::Container | Site::FlowContainer) { "" } else { ":tag" };
        tail.push_str(&format!(" # {{\"$imagepolicy\": \"flux-system:app{field}\"}}"));
    } else if case.comment {
        tail.push_str("   # pinned by ünïcödé");
    }
    let (value, path) = match case.site {
        Site::Container | Site::FlowContainer => {
            ("ghcr.io/acme/app:v1.0.0", "spec.template.spec.containers[0].image")
        }
        Site::Kustomize => ("v1.0.0", "images[1].newTag"),
        Site::HelmTag => ("v1.0.0", "spec.values.image.tag"),
    };
    let value = format!("{anchor}{}", quoted(value, case.quote));
    let mut text = String::new();
    if case.before {
        text.push_str(
            "# först ✓ ünïcödé\napiVersion: v1\nkind: ConfigMap\ndata: {a: &x \"1\", b: *x}\n---\n",
        );
    }
    match case.site {
        Site::Container => text.push_str(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n{i}name: app # name\nspec:\n{i}template:\n{i}{i}spec:\n{i}{i}{i}containers:\n{i}{i}{i}- name: app\n{i}{i}{i}  image: {value}{tail}\n{i}{i}{i}  ports:\n{i}{i}{i}  - containerPort: 80\n"
        )),
        Site::FlowContainer => text.push_str(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nspec:\n{i}template:\n{i}{i}spec:\n{i}{i}{i}containers: [{{name: app, image: {value}, args: ['-v']}}]{tail}\n"
        )),
        Site::Kustomize => text.push_str(&format!(
            "resources:\n- deploy.yaml\nimages:\n- name: other\n  newTag: v9\n- name: app\n  newName: ghcr.io/acme/app\n  newTag: {value}{tail}\n"
        )),
        Site::HelmTag => text.push_str(&format!(
            "apiVersion: helm.toolkit.fluxcd.io/v2\nkind: HelmRelease\nspec:\n{i}values:\n{i}{i}image:\n{i}{i}{i}repository: ghcr.io/acme/app\n{i}{i}{i}tag: {value}{tail}\n{i}{i}replicas: 2\n"
        )),
    }
    if case.after {
        text.push_str("---\n# trailing document\nkind: Service\nspec: {ports: [{port: 80}]}\n");
    }
    if case.crlf {
        text = text.replace('\n', "\r\n");
    }
    (text, path)
}

fn case() -> impl Strategy<Value = Case> {
    let site = prop_oneof![
        Just(Site::Container),
        Just(Site::FlowContainer),
        Just(Site::Kustomize),
        Just(Site::HelmTag)
    ];
    let quote = prop_oneof![Just(Quote::Plain), Just(Quote::Single), Just(Quote::Double)];
    let new_value = prop_oneof![
        "v[0-9]\\.[0-9]{1,2}\\.[0-9]\\.20[0-9]{2}-0[1-9]-1[0-9]t[0-9]{9}Z\\.[0-9a-f]{7,40}",
        "[a-zA-Z0-9_./@:+-]{1,24}",
        "[ -~]{0,16}",
        "\\PC{0,8}",
        Just("1.20".to_owned()),
        Just("yes".to_owned()),
        Just("null".to_owned()),
    ];
    (site, quote, 1usize..5, any::<[bool; 6]>(), new_value).prop_map(
        |(site, quote, indent, [anchor, comment, marker, crlf, before, after], new_value)| Case {
            site,
            quote,
            indent,
            anchor,
            comment,
            marker,
            crlf,
            before,
            after,
            new_value,
        },
    )
}

/// Every difference between two parsed documents, as paths.
fn differences(a: &Yaml, b: &Yaml, path: &str, out: &mut Vec<String>) {
    match (a, b) {
        (Yaml::Mapping(x), Yaml::Mapping(y)) if x.len() == y.len() => {
            for ((ka, va), (kb, vb)) in x.iter().zip(y.iter()) {
                if ka != kb {
                    out.push(format!("{path} keys"));
                    continue;
                }
                let key = match ka {
                    Yaml::Value(Scalar::String(s)) => s.to_string(),
                    other => format!("{other:?}"),
                };
                let sub = if path.is_empty() { key } else { format!("{path}.{key}") };
                differences(va, vb, &sub, out);
            }
        }
        (Yaml::Sequence(x), Yaml::Sequence(y)) if x.len() == y.len() => {
            for (n, (va, vb)) in x.iter().zip(y.iter()).enumerate() {
                differences(va, vb, &format!("{path}[{n}]"), out);
            }
        }
        _ if a == b => {}
        _ => out.push(path.to_owned()),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn rewrite_changes_only_the_value(case in case()) {
        let (text, path) = build(&case);
        let refs = find(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let target: Vec<&ImageRef> = refs.iter().filter(|r| r.path == path).collect();
        prop_assert_eq!(target.len(), 1, "{}\n{:?}", text, refs);
        let target = target[0];
        prop_assert_eq!(target.policy.is_some(), case.marker && !matches!(case.site, Site::FlowContainer));
        let edit = Edit { span: target.span.clone(), value: case.new_value.clone() };
        let out = apply(&text, &[edit]).unwrap();

        // Outside the value's span, the bytes are the same.
        let (head, tail) = (&text[..target.span.start], &text[target.span.end..]);
        prop_assert!(out.starts_with(head));
        prop_assert!(out.ends_with(tail));
        prop_assert!(out.len() >= head.len() + tail.len());

        // The data is the same except that value, which is now the new value.
        let before = Yaml::load_from_str(&text).unwrap();
        let after = Yaml::load_from_str(&out).map_err(|e| TestCaseError::fail(format!("{e}\n{out}")))?;
        prop_assert_eq!(before.len(), after.len());
        let doc = usize::from(case.before);
        for (n, (a, b)) in before.iter().zip(&after).enumerate() {
            let mut diffs = Vec::new();
            differences(a, b, "", &mut diffs);
            let expected: Vec<String> = if n == doc && target.value != case.new_value {
                vec![path.to_owned()]
            } else {
                vec![]
            };
            prop_assert_eq!(diffs, expected, "{}", out);
        }
        // Read back, the value is exactly the new one.
        let again = find(&out).map_err(|e| TestCaseError::fail(format!("{e}\n{out}")))?;
        let value = again.iter().find(|r| r.path == path).map(|r| r.value.clone());
        prop_assert_eq!(value, Some(case.new_value.clone()), "{}", out);
    }
}
