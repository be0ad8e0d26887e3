//! The watcher's cluster manifests (`infrastructure/kiln`) rendered by kiln itself, checked against `kubectl kustomize` when present, and their `kiln-watch.yaml` run by `kiln watch`.

use std::path::Path;
use std::process::Command;

use renderer::Value;

use crate::watch_faults::{Example, free_port};

fn render_with(program: &str, args: &[&str]) -> Option<Vec<Value>> {
    let out =
        Command::new(program).args(args).current_dir(env!("CARGO_MANIFEST_DIR")).output().ok()?;
    assert!(out.status.success(), "{program} {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    Some(renderer::yaml::parse_documents(&text, program).unwrap())
}

fn field<'a>(value: &'a Value, path: &[&str]) -> &'a str {
    value.get_path(path).and_then(Value::as_str).unwrap_or_default()
}

#[test]
fn the_watcher_manifests_render_and_their_config_runs() {
    let objects =
        render_with(env!("CARGO_BIN_EXE_kiln"), &["render", "infrastructure/kiln"]).unwrap();
    let kinds: Vec<String> = objects
        .iter()
        .map(|o| format!("{}/{}", field(o, &["kind"]), field(o, &["metadata", "name"])))
        .collect();
    assert_eq!(kinds.len(), 7, "{kinds:?}");
    for want in [
        "Namespace/kiln",
        "ServiceAccount/kiln",
        "Service/kiln",
        "Deployment/kiln",
        "Role/kiln-leader-election",
        "RoleBinding/kiln-leader-election",
    ] {
        assert!(kinds.iter().any(|k| k == want), "{want} not in {kinds:?}");
    }
    let config_map = objects.iter().find(|o| field(o, &["kind"]) == "ConfigMap").unwrap();
    let config_name = field(config_map, &["metadata", "name"]);
    assert!(config_name.starts_with("kiln-config-"), "{config_name}");
    let deployment = objects.iter().find(|o| field(o, &["kind"]) == "Deployment").unwrap();
    let Some(Value::Seq(volumes)) = deployment.get_path(&["spec", "template", "spec", "volumes"])
    else {
        panic!("no volumes: {deployment:?}");
    };
    assert!(
        volumes.iter().any(|v| field(v, &["configMap", "name"]) == config_name),
        "the Deployment does not mount {config_name}"
    );
    let Some(Value::Seq(containers)) =
        deployment.get_path(&["spec", "template", "spec", "containers"])
    else {
        panic!("no containers");
    };
    assert_eq!(field(&containers[0], &["image"]), "ghcr.io/acme/kiln:v0.1.0");
    let args = containers[0].get_path(&["args"]).and_then(Value::as_seq).unwrap();
    assert!(args.iter().any(|a| a.as_str() == Some("--lease=kiln/kiln-watch")), "{args:?}");
    for object in &objects {
        if field(object, &["kind"]) != "Namespace" {
            assert_eq!(field(object, &["metadata", "namespace"]), "kiln", "{object:?}");
        }
    }

    // Same objects as kubectl kustomize, compared as data, when kubectl is here.
    if let Some(reference) = render_with("kubectl", &["kustomize", "infrastructure/kiln"]) {
        assert_eq!(objects, reference);
    }

    // The kiln-watch.yaml of the ConfigMap drives a real watcher (repository and listener overridden).
    let ex = Example::new();
    let home = tempfile::tempdir().unwrap();
    let config = home.path().join("kiln-watch.yaml");
    std::fs::write(&config, field(config_map, &["data", "kiln-watch.yaml"])).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["watch", "--once", "--config"])
        .arg(&config)
        .args(["--repo", ex.remote.path().to_str().unwrap()])
        .args(["--listen", &format!("127.0.0.1:{}", free_port())])
        .arg("--workdir")
        .arg(home.path().join("mirror"))
        .env("GIT_TOKEN", "unused-for-local-remotes")
        .env("GITHUB_WEBHOOK_SECRET", "secret")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let rendered = ex.rendered();
    assert_eq!(rendered.len(), 1);
    assert_eq!(
        rendered[0].sources.keys().collect::<Vec<_>>(),
        ["production", "staging"],
        "both branches of kiln-watch.yaml"
    );
    assert!(Path::new(env!("CARGO_MANIFEST_DIR")).join("Containerfile").is_file());
}

#[test]
fn kiln_watch_yaml_in_the_working_directory_and_flags_over_it() {
    let ex = Example::new();
    let home = tempfile::tempdir().unwrap();
    let remote = ex.remote.path().to_str().unwrap();
    let file = format!(
        "repo: {remote}\nbranches:\n  production: prod\ntargetBranch: from-file\nauthor:\n  name: File Author\nmessage: 'from the file'\n"
    );
    std::fs::write(home.path().join("kiln-watch.yaml"), file).unwrap();
    let run = |extra: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
            .args(["watch", "--once", "--workdir", "mirror"])
            .args(extra)
            .current_dir(home.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    };
    let log = |branch: &str| {
        ex.remote.git(&["log", "-1", "--format=%an|%s", &format!("refs/heads/{branch}"), "--"])
    };

    run(&[]);
    assert_eq!(log("from-file"), "File Author|from the file");
    let paths = ex.remote.git(&["ls-tree", "--name-only", "refs/heads/from-file"]);
    assert_eq!(paths, "prod");

    run(&["--target-branch", "from-flag", "--author-name", "Flag Author"]);
    assert_eq!(log("from-flag"), "Flag Author|from the file");
}
