//! A loopback Kubernetes API server that serves scripted objects the way kube-apiserver does: gets, lists, watch streams and 404 Status objects.
//!
//! Objects can be added while it runs ([`FakeApi::put`]): open watch streams
//! poll for them and send them as `ADDED` events, the way a real watch sees an
//! object created after its list.

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::Response;
use serde_json::{Value as Json, json};

/// Where each kind lives: kind to plural.
const PLURALS: &[(&str, &str)] = &[
    ("Deployment", "deployments"),
    ("StatefulSet", "statefulsets"),
    ("DaemonSet", "daemonsets"),
    ("Job", "jobs"),
    ("Kustomization", "kustomizations"),
    ("HelmRelease", "helmreleases"),
    ("Lease", "leases"),
];

/// Groups served by [`FakeApi::start`]; anything else (here Helm's, as if
/// helm-controller were not installed) is answered like a missing CRD.
const INSTALLED: &[&str] =
    &["/apis/apps/v1", "/apis/batch/v1", "/apis/kustomize.toolkit.fluxcd.io/v1"];
/// Groups served by [`FakeApi::cluster`]: Flux's Helm controller as well.
const ALL_INSTALLED: &[&str] = &[
    "/apis/apps/v1",
    "/apis/batch/v1",
    "/apis/kustomize.toolkit.fluxcd.io/v1",
    "/apis/helm.toolkit.fluxcd.io/v2",
];

type Scripts = Arc<Mutex<HashMap<(String, String), Vec<Json>>>>;

/// What the handler serves from.
#[derive(Clone)]
struct Shared {
    scripts: Scripts,
    step: Duration,
    installed: &'static [&'static str],
    resource_version: Arc<Mutex<u64>>,
}

/// The server; it stops when dropped.
pub struct FakeApi {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    shared: Shared,
    dir: tempfile::TempDir,
    _runtime: tokio::runtime::Runtime,
}

/// The collection path of an object, e.g. `/apis/apps/v1/namespaces/apps/deployments`.
fn collection(object: &Json) -> (String, String) {
    let api_version = object["apiVersion"].as_str().unwrap();
    let kind = object["kind"].as_str().unwrap();
    let plural = PLURALS.iter().find(|(k, _)| *k == kind).unwrap().1;
    let namespace = object["metadata"]["namespace"].as_str().unwrap();
    let prefix = if api_version.contains('/') { "apis" } else { "api" };
    (
        format!("/{prefix}/{api_version}/namespaces/{namespace}/{plural}"),
        object["metadata"]["name"].as_str().unwrap().to_string(),
    )
}

impl FakeApi {
    /// Serves `scripts`: each is the successive versions of one object. Lists
    /// and gets return the first version; a watch then sends the others as
    /// `MODIFIED` events, `step` apart, and stays open.
    pub fn start(scripts: Vec<Vec<Json>>, step: Duration) -> FakeApi {
        FakeApi::serve(scripts, step, INSTALLED)
    }

    /// A cluster with every group kiln judges installed, Helm's too, and no objects yet.
    pub fn cluster(step: Duration) -> FakeApi {
        FakeApi::serve(vec![], step, ALL_INSTALLED)
    }

    fn serve(
        scripts: Vec<Vec<Json>>,
        step: Duration,
        installed: &'static [&'static str],
    ) -> FakeApi {
        let shared = Shared {
            scripts: Arc::new(Mutex::new(HashMap::new())),
            step,
            installed,
            resource_version: Arc::new(Mutex::new(1000)),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(serve).with_state(shared.clone());
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        let api = FakeApi { url, shared, dir: tempfile::tempdir().unwrap(), _runtime: runtime };
        for versions in scripts {
            api.put(versions);
        }
        api
    }

    /// Adds an object, or replaces it, as its successive versions.
    pub fn put(&self, versions: Vec<Json>) {
        let key = collection(&versions[0]);
        let mut rv = self.shared.resource_version.lock().unwrap();
        let versions = versions
            .into_iter()
            .map(|mut v| {
                *rv += 1;
                v["metadata"]["resourceVersion"] = json!(rv.to_string());
                v
            })
            .collect();
        self.shared.scripts.lock().unwrap().insert(key, versions);
    }

    /// A kubeconfig file pointing at this server.
    pub fn kubeconfig(&self) -> PathBuf {
        let path = self.dir.path().join("kubeconfig");
        write_kubeconfig(&path, &self.url);
        path
    }

    /// A client of this server, made the way kube makes one from a kubeconfig.
    pub async fn client(&self) -> kube::Client {
        let config = kube::Config::new(self.url.parse().unwrap());
        kube::Client::try_from(config).unwrap()
    }
}

/// Writes a kubeconfig whose only context talks to `url` without credentials.
pub fn write_kubeconfig(path: &Path, url: &str) {
    let text = format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: loopback\n  cluster:\n    server: {url}\n\
         users:\n- name: tester\n  user: {{}}\ncontexts:\n- name: loopback\n  context:\n    cluster: loopback\n    \
         user: tester\n    namespace: default\ncurrent-context: loopback\n"
    );
    std::fs::write(path, text).unwrap();
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = vec![];
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' if i + 2 < bytes.len() => {
                out.push(u8::from_str_radix(&text[i + 1..i + 3], 16).unwrap());
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap()
}

/// A JSON response with `status`.
pub fn json_response(status: StatusCode, body: &Json) -> Response {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

fn not_found(message: String, details: Json) -> Response {
    failure(404, "NotFound", message, details)
}

/// A `Status` object for a failed request, as kube-apiserver writes it.
pub fn failure(code: u16, reason: &str, message: String, details: Json) -> Response {
    json_response(
        StatusCode::from_u16(code).unwrap(),
        &json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": message,
            "reason": reason,
            "details": details,
            "code": code
        }),
    )
}

fn rv_of(object: &Json) -> u64 {
    object["metadata"]["resourceVersion"].as_str().unwrap().parse().unwrap()
}

async fn serve(State(shared): State<Shared>, uri: Uri) -> Response {
    let path = uri.path().to_string();
    let query: HashMap<String, String> = uri
        .query()
        .unwrap_or("")
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect();
    if !shared.installed.iter().any(|group| path.starts_with(&format!("{group}/"))) {
        return not_found("the server could not find the requested resource".into(), json!({}));
    }
    // One snapshot of the objects and of the resource version they reach,
    // taken in `put`'s lock order so that neither runs ahead of the other.
    let (scripts, current) = {
        let rv = shared.resource_version.lock().unwrap();
        (shared.scripts.lock().unwrap().clone(), *rv)
    };
    let plural = path.rsplit('/').next().unwrap_or("").to_string();
    if PLURALS.iter().any(|(_, p)| *p == plural) {
        // A collection: list or watch, narrowed by a metadata.name field selector.
        let wanted = query
            .get("fieldSelector")
            .and_then(|s| s.strip_prefix("metadata.name="))
            .map(str::to_string);
        let matching = move |scripts: &HashMap<(String, String), Vec<Json>>| -> Vec<Vec<Json>> {
            scripts
                .iter()
                .filter(|((c, name), _)| *c == path && wanted.as_ref().is_none_or(|w| w == name))
                .map(|(_, v)| v.clone())
                .collect()
        };
        let watch = matches!(query.get("watch").map(String::as_str), Some("true" | "1"));
        if !watch {
            let (api_version, kind) = kind_of(uri.path(), &plural);
            let items: Vec<Json> = matching(&scripts).into_iter().map(|v| v[0].clone()).collect();
            return json_response(
                StatusCode::OK,
                &json!({
                    "apiVersion": api_version,
                    "kind": format!("{kind}List"),
                    "metadata": { "resourceVersion": current.to_string() },
                    "items": items,
                }),
            );
        }
        let since: u64 = query.get("resourceVersion").and_then(|v| v.parse().ok()).unwrap_or(0);
        // A watch from the resource version of a list sends what the list
        // did not show: objects added after it (their first version is newer
        // than `since`) as `ADDED`, and the scripted later versions of every
        // object as `MODIFIED`, one per step, oldest first. Objects added
        // between the list and this request are sent too, as kube-apiserver
        // does: deciding by connection time would lose them.
        let sent = std::collections::HashSet::<u64>::new();
        let (scripts, step) = (Arc::clone(&shared.scripts), shared.step);
        let events = futures::stream::unfold(sent, move |mut sent| {
            let scripts = Arc::clone(&scripts);
            let matching = matching.clone();
            async move {
                loop {
                    tokio::time::sleep(step).await;
                    let snapshot = scripts.lock().unwrap().clone();
                    let next = matching(&snapshot)
                        .into_iter()
                        .flat_map(|versions| {
                            versions.into_iter().enumerate().map(|(i, v)| (rv_of(&v), i == 0, v))
                        })
                        .filter(|(rv, first, _)| (!first || *rv > since) && !sent.contains(rv))
                        .min_by_key(|(rv, ..)| *rv);
                    if let Some((rv, first, object)) = next {
                        sent.insert(rv);
                        let kind = if first { "ADDED" } else { "MODIFIED" };
                        let line = format!("{}\n", json!({ "type": kind, "object": object }));
                        return Some((Ok::<_, Infallible>(Bytes::from(line)), sent));
                    }
                }
            }
        });
        return Response::builder()
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from_stream(events))
            .unwrap();
    }
    let (parent, name) = uri.path().rsplit_once('/').unwrap();
    match scripts.get(&(parent.to_string(), name.to_string())) {
        Some(versions) => json_response(StatusCode::OK, versions.last().unwrap()),
        None => {
            let plural = parent.rsplit('/').next().unwrap_or("");
            let group = parent.split('/').nth(2).unwrap_or("");
            not_found(
                format!("{plural}.{group} \"{name}\" not found"),
                json!({ "name": name, "group": group, "kind": plural }),
            )
        }
    }
}

fn kind_of(path: &str, plural: &str) -> (String, String) {
    let mut parts = path.split('/').skip(2);
    let group = parts.next().unwrap_or("");
    let version = parts.next().unwrap_or("");
    let kind = PLURALS.iter().find(|(_, p)| *p == plural).map_or("", |(k, _)| k);
    (format!("{group}/{version}"), kind.to_string())
}

/// The standard metadata the API server adds to every object.
fn metadata(name: &str, namespace: &str, generation: i64) -> Json {
    json!({
        "name": name,
        "namespace": namespace,
        "uid": format!("0b5e3f64-8b6f-4f0e-9a51-{:012x}", name.len() as u64 * 7919 + generation as u64),
        "generation": generation,
        "creationTimestamp": "2026-11-22T10:00:00Z",
    })
}

/// A Deployment as `kubectl get -o json` shows it.
#[allow(clippy::too_many_arguments)]
pub fn deployment(
    name: &str,
    namespace: &str,
    image: &str,
    generation: i64,
    observed: i64,
    (replicas, updated, ready, available): (i64, i64, i64, i64),
    progressing: (&str, &str),
) -> Json {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": metadata(name, namespace, generation),
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": { "containers": [ { "name": name, "image": image, "imagePullPolicy": "IfNotPresent" } ] }
            },
            "strategy": { "type": "RollingUpdate", "rollingUpdate": { "maxUnavailable": "25%", "maxSurge": "25%" } },
            "revisionHistoryLimit": 10,
            "progressDeadlineSeconds": 600
        },
        "status": {
            "observedGeneration": observed,
            "replicas": replicas.max(updated),
            "updatedReplicas": updated,
            "readyReplicas": ready,
            "availableReplicas": available,
            "conditions": [
                {
                    "type": "Available",
                    "status": if available >= replicas { "True" } else { "False" },
                    "lastUpdateTime": "2026-11-22T10:01:00Z",
                    "lastTransitionTime": "2026-11-22T10:01:00Z",
                    "reason": if available >= replicas { "MinimumReplicasAvailable" } else { "MinimumReplicasUnavailable" },
                    "message": "Deployment has minimum availability."
                },
                {
                    "type": "Progressing",
                    "status": if progressing.0 == "ProgressDeadlineExceeded" { "False" } else { "True" },
                    "lastUpdateTime": "2026-11-22T10:01:00Z",
                    "lastTransitionTime": "2026-11-22T10:00:00Z",
                    "reason": progressing.0,
                    "message": progressing.1
                }
            ]
        }
    })
}

/// A Flux Kustomization with its status as kustomize-controller writes it.
pub fn kustomization(
    name: &str,
    ready: (&str, &str, &str),
    applied: &str,
    attempted: &str,
    reconciling: bool,
) -> Json {
    let mut conditions = vec![json!({
        "type": "Ready",
        "status": ready.0,
        "reason": ready.1,
        "message": ready.2,
        "observedGeneration": 1,
        "lastTransitionTime": "2026-11-22T10:02:00Z"
    })];
    if reconciling {
        conditions.push(json!({
            "type": "Reconciling",
            "status": "True",
            "reason": "Progressing",
            "message": format!("Reconciliation in progress for revision {attempted}"),
            "observedGeneration": 1,
            "lastTransitionTime": "2026-11-22T10:02:00Z"
        }));
    }
    json!({
        "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
        "kind": "Kustomization",
        "metadata": {
            "name": name,
            "namespace": "flux-system",
            "uid": "5d1e4a7c-2f53-4d39-8d6e-1f0c4b9a7e21",
            "generation": 1,
            "creationTimestamp": "2026-11-22T09:00:00Z",
            "finalizers": ["finalizers.fluxcd.io"]
        },
        "spec": {
            "interval": "1m0s",
            "path": format!("./{name}"),
            "prune": true,
            "wait": true,
            "timeout": "2m0s",
            "sourceRef": { "kind": "GitRepository", "name": "rendered" }
        },
        "status": {
            "observedGeneration": 1,
            "lastAppliedRevision": applied,
            "lastAttemptedRevision": attempted,
            "conditions": conditions
        }
    })
}
