//! The cluster's verdict through `kube`: Flux `Kustomization`/`HelmRelease` status and workload rollouts.
//!
//! Each object to check is a [`Target`]. [`verdict`] watches all of them
//! (list, then watch, the way `kubectl rollout status` does) and ends as soon
//! as one has failed, all are healthy, or the timeout passes. Whether one
//! object is healthy is decided by [`assess`], a pure function of the object's
//! JSON as the API server returns it.

use std::collections::BTreeSet;
use std::time::Duration;

use futures::{StreamExt as _, stream};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use kube::runtime::{WatchStreamExt as _, watcher};
use renderer::Value as Yaml;
use renderer::tree::{EntryKind, Tree};
use serde_json::Value as Json;

use super::{FailedObject, Verdict, revision_names};

/// Errors reading the objects to check from rendered output.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A rendered file could not be read.
    #[error("reading rendered file {path}")]
    Read {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: renderer::tree::Error,
    },
    /// A rendered file is not YAML.
    #[error("parsing rendered file {path}")]
    Parse {
        /// The file.
        path: String,
        /// Why.
        #[source]
        source: renderer::yaml::ParseError,
    },
    /// A Flux object reference is not `namespace/name`.
    #[error("flux object reference {reference:?} is not namespace/name")]
    Reference {
        /// The reference as given.
        reference: String,
    },
}

/// The kinds kiln knows how to judge, with where they live in the API.
const KINDS: &[(&str, &str, &str, &str)] = &[
    // kind, group, version, plural
    ("Deployment", "apps", "v1", "deployments"),
    ("StatefulSet", "apps", "v1", "statefulsets"),
    ("DaemonSet", "apps", "v1", "daemonsets"),
    ("Job", "batch", "v1", "jobs"),
    ("Kustomization", "kustomize.toolkit.fluxcd.io", "v1", "kustomizations"),
    ("HelmRelease", "helm.toolkit.fluxcd.io", "v2", "helmreleases"),
];

/// Reasons of a `Ready=False` Flux condition that mean "still working", not "failed".
const FLUX_PROGRESS_REASONS: &[&str] =
    &["Progressing", "ProgressingWithRetry", "DependencyNotReady"];

/// One object whose health is part of the verdict.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The kind, one of Deployment, StatefulSet, DaemonSet, Job, Kustomization, HelmRelease.
    pub kind: String,
    /// The namespace.
    pub namespace: String,
    /// The name.
    pub name: String,
    /// The container images (init containers first) the rendered output asks for;
    /// a workload running other images has not received the rendered spec yet.
    pub images: Vec<String>,
    /// Whether the object's `status.lastAppliedRevision` must name the rendered commit:
    /// true for the Flux Kustomizations that apply the target branch.
    pub revision: bool,
}

impl Target {
    /// A Flux Kustomization, given as `namespace/name`, that applies the rendered branch:
    /// its `lastAppliedRevision` must be the rendered commit.
    pub fn flux_kustomization(reference: &str) -> Result<Target, Error> {
        let Some((namespace, name)) = reference.split_once('/') else {
            return Err(Error::Reference { reference: reference.into() });
        };
        if namespace.is_empty() || name.is_empty() || name.contains('/') {
            return Err(Error::Reference { reference: reference.into() });
        }
        Ok(Target {
            kind: "Kustomization".into(),
            namespace: namespace.into(),
            name: name.into(),
            images: vec![],
            revision: true,
        })
    }

    fn api_resource(&self) -> Option<ApiResource> {
        let (kind, group, version, plural) = KINDS.iter().find(|(k, ..)| *k == self.kind)?;
        Some(ApiResource::from_gvk_with_plural(
            &GroupVersionKind::gvk(group, version, kind),
            plural,
        ))
    }

    fn label(&self) -> String {
        format!("{}/{}/{}", self.kind, self.namespace, self.name)
    }
}

/// The health of one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Healthy at the wanted spec (and revision).
    Ready,
    /// Not there yet; says what is awaited.
    Pending(String),
    /// Failed; says why.
    Failed(String),
}

/// Judges one object from its JSON as served by the API server.
pub fn assess(target: &Target, object: &Json, commit: &str) -> State {
    let observed = object.pointer("/status/observedGeneration").and_then(Json::as_i64);
    let generation = object.pointer("/metadata/generation").and_then(Json::as_i64);
    // Jobs are not updated in place; everything else must have been seen by its controller.
    if target.kind != "Job" && generation.is_some_and(|g| observed.is_none_or(|o| o < g)) {
        return State::Pending(format!(
            "generation {} not yet observed (observed {})",
            generation.unwrap_or_default(),
            observed.map_or_else(|| "none".into(), |o| o.to_string())
        ));
    }
    match target.kind.as_str() {
        "Kustomization" | "HelmRelease" => assess_flux(object, target.revision.then_some(commit)),
        kind => {
            let live = live_images(object);
            if !target.images.is_empty() && live != target.images {
                return State::Pending(format!(
                    "running images {} instead of {}",
                    live.join(","),
                    target.images.join(",")
                ));
            }
            match kind {
                "Deployment" => assess_deployment(object),
                "StatefulSet" => assess_statefulset(object),
                "DaemonSet" => assess_daemonset(object),
                "Job" => assess_job(object),
                other => State::Failed(format!("kiln cannot judge kind {other}")),
            }
        }
    }
}

/// A status condition: `(status, reason, message)`.
fn condition<'a>(object: &'a Json, kind: &str) -> Option<(&'a str, &'a str, &'a str)> {
    let conditions = object.pointer("/status/conditions")?.as_array()?;
    let c = conditions.iter().find(|c| c.get("type").and_then(Json::as_str) == Some(kind))?;
    let field = |name| c.get(name).and_then(Json::as_str).unwrap_or("");
    Some((field("status"), field("reason"), field("message")))
}

fn int(object: &Json, pointer: &str) -> i64 {
    object.pointer(pointer).and_then(Json::as_i64).unwrap_or(0)
}

fn assess_flux(object: &Json, commit: Option<&str>) -> State {
    let applied = object.pointer("/status/lastAppliedRevision").and_then(Json::as_str);
    let attempted = object.pointer("/status/lastAttemptedRevision").and_then(Json::as_str);
    let at_commit = |revision: Option<&str>| match commit {
        None => true,
        Some(commit) => revision.is_some_and(|r| revision_names(r, commit)),
    };
    if let Some(("True", reason, message)) = condition(object, "Stalled") {
        if at_commit(attempted) || at_commit(applied) {
            return State::Failed(format!("stalled: {reason}: {message}"));
        }
    }
    match condition(object, "Ready") {
        Some(("True", ..)) if at_commit(applied) => State::Ready,
        Some(("True", ..)) => State::Pending(format!(
            "applied revision {} is not the rendered commit",
            applied.unwrap_or("none")
        )),
        Some(("False", reason, message)) => {
            let reconciling = matches!(condition(object, "Reconciling"), Some(("True", ..)));
            if reconciling || FLUX_PROGRESS_REASONS.contains(&reason) || !at_commit(attempted) {
                State::Pending(format!("not ready: {reason}: {message}"))
            } else {
                State::Failed(format!("{reason}: {message}"))
            }
        }
        Some((_, reason, message)) => State::Pending(format!("ready unknown: {reason}: {message}")),
        None => State::Pending("no Ready condition yet".into()),
    }
}

fn assess_deployment(object: &Json) -> State {
    if let Some((_, "ProgressDeadlineExceeded", message)) = condition(object, "Progressing") {
        return State::Failed(format!("ProgressDeadlineExceeded: {message}"));
    }
    if let Some(("True", reason, message)) = condition(object, "ReplicaFailure") {
        return State::Failed(format!("ReplicaFailure: {reason}: {message}"));
    }
    let want = object.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
    let updated = int(object, "/status/updatedReplicas");
    let total = int(object, "/status/replicas");
    let available = int(object, "/status/availableReplicas");
    if updated < want {
        State::Pending(format!("{updated} of {want} replicas updated"))
    } else if total > updated {
        State::Pending(format!("{} old replicas pending termination", total - updated))
    } else if available < updated {
        State::Pending(format!("{available} of {updated} updated replicas available"))
    } else {
        State::Ready
    }
}

fn assess_statefulset(object: &Json) -> State {
    let strategy = object.pointer("/spec/updateStrategy/type").and_then(Json::as_str);
    if strategy.is_some_and(|s| s != "RollingUpdate") {
        // OnDelete: the controller does not roll pods, so there is nothing to await.
        return State::Ready;
    }
    let want = object.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
    let ready = int(object, "/status/readyReplicas");
    if ready < want {
        return State::Pending(format!("{ready} of {want} replicas ready"));
    }
    if let Some(partition) =
        object.pointer("/spec/updateStrategy/rollingUpdate/partition").and_then(Json::as_i64)
    {
        let updated = int(object, "/status/updatedReplicas");
        if updated < want - partition {
            return State::Pending(format!(
                "{updated} of {} partitioned replicas updated",
                want - partition
            ));
        }
        return State::Ready;
    }
    let update = object.pointer("/status/updateRevision").and_then(Json::as_str);
    let current = object.pointer("/status/currentRevision").and_then(Json::as_str);
    if update != current {
        return State::Pending(format!(
            "revision {} rolling out over {}",
            update.unwrap_or("none"),
            current.unwrap_or("none")
        ));
    }
    State::Ready
}

fn assess_daemonset(object: &Json) -> State {
    let desired = int(object, "/status/desiredNumberScheduled");
    let updated = int(object, "/status/updatedNumberScheduled");
    let available = int(object, "/status/numberAvailable");
    if updated < desired {
        State::Pending(format!("{updated} of {desired} pods updated"))
    } else if available < desired {
        State::Pending(format!("{available} of {desired} updated pods available"))
    } else {
        State::Ready
    }
}

fn assess_job(object: &Json) -> State {
    if let Some(("True", reason, message)) = condition(object, "Failed") {
        return State::Failed(format!("{reason}: {message}"));
    }
    match condition(object, "Complete") {
        Some(("True", ..)) => State::Ready,
        _ => State::Pending(format!(
            "{} pods succeeded, not complete",
            int(object, "/status/succeeded")
        )),
    }
}

/// The images of a workload's pod template, init containers first.
fn images(object: &Yaml, kind: &str) -> Vec<String> {
    if !KINDS.iter().any(|(k, ..)| *k == kind) {
        return vec![];
    }
    let mut out = vec![];
    for list in ["initContainers", "containers"] {
        let containers =
            object.get_path(&["spec", "template", "spec", list]).and_then(Yaml::as_seq);
        for container in containers.into_iter().flatten() {
            if let Some(image) = container.get_path(&["image"]).and_then(Yaml::as_str) {
                out.push(image.to_string());
            }
        }
    }
    out
}

/// The images of a live workload's pod template, init containers first.
fn live_images(object: &Json) -> Vec<String> {
    let mut out = vec![];
    for list in ["initContainers", "containers"] {
        let containers =
            object.pointer(&format!("/spec/template/spec/{list}")).and_then(Json::as_array);
        for container in containers.into_iter().flatten() {
            if let Some(image) = container.get("image").and_then(Json::as_str) {
                out.push(image.to_string());
            }
        }
    }
    out
}

/// The objects of the rendered output under `dir` that kiln can judge, in path order.
///
/// Objects without a namespace are taken to be in `default_namespace`.
pub fn targets_in_tree(
    tree: &dyn Tree,
    dir: &str,
    default_namespace: &str,
) -> Result<Vec<Target>, Error> {
    let files =
        files_under(tree, dir).map_err(|source| Error::Read { path: dir.to_string(), source })?;
    let mut targets = vec![];
    let mut seen = BTreeSet::new();
    for path in files {
        if !(path.ends_with(".yaml") || path.ends_with(".yml")) {
            continue;
        }
        let text = renderer::tree::read_text(tree, &path)
            .map_err(|source| Error::Read { path: path.clone(), source })?;
        let documents = renderer::yaml::parse_documents(&text, &path)
            .map_err(|source| Error::Parse { path: path.clone(), source })?;
        for document in documents {
            let text_at = |p: &[&str]| document.get_path(p).and_then(Yaml::as_str).unwrap_or("");
            let kind = text_at(&["kind"]);
            let api_version = text_at(&["apiVersion"]);
            let known = KINDS.iter().any(|(k, group, ..)| {
                *k == kind && api_version.split_once('/').map_or("", |(g, _)| g) == *group
            });
            let name = text_at(&["metadata", "name"]);
            if !known || name.is_empty() {
                continue;
            }
            let namespace = match text_at(&["metadata", "namespace"]) {
                "" => default_namespace,
                ns => ns,
            };
            if !seen.insert((kind.to_string(), namespace.to_string(), name.to_string())) {
                continue;
            }
            targets.push(Target {
                kind: kind.into(),
                namespace: namespace.into(),
                name: name.into(),
                images: images(&document, kind),
                revision: false,
            });
        }
    }
    Ok(targets)
}

/// Every file below `dir` (all of the tree for `""`), depth first in listing order.
pub fn files_under(tree: &dyn Tree, dir: &str) -> Result<Vec<String>, renderer::tree::Error> {
    let mut out = vec![];
    let mut stack = vec![dir.to_string()];
    while let Some(dir) = stack.pop() {
        let mut subdirs = vec![];
        for (name, kind) in tree.list(&dir)? {
            let path = if dir.is_empty() { name } else { format!("{dir}/{name}") };
            match kind {
                EntryKind::Dir => subdirs.push(path),
                _ => out.push(path),
            }
        }
        stack.extend(subdirs.into_iter().rev());
    }
    out.sort();
    Ok(out)
}

/// Knobs of [`verdict`].
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// How long to wait for all targets to become healthy.
    pub timeout: Duration,
}

/// Watches every target until one fails, all are ready, or `options.timeout` passes.
///
/// `commit` is the rendered commit (full hex id) that the Flux Kustomizations
/// with [`Target::revision`] must have applied. Errors talking to the API server
/// are retried with backoff and reported as pending when time runs out. No
/// targets at all is a success: there is nothing to wait for.
pub async fn verdict(
    client: kube::Client,
    targets: &[Target],
    commit: &str,
    options: Options,
) -> Verdict {
    let mut states: Vec<State> =
        targets.iter().map(|_| State::Pending("not seen yet".into())).collect();
    let mut streams = vec![];
    for (i, target) in targets.iter().enumerate() {
        let Some(resource) = target.api_resource() else {
            states[i] = State::Failed(format!("kiln cannot judge kind {}", target.kind));
            continue;
        };
        let api: Api<DynamicObject> =
            Api::namespaced_with(client.clone(), &target.namespace, &resource);
        let config = watcher::Config::default().fields(&format!("metadata.name={}", target.name));
        let events = watcher(api, config)
            .default_backoff()
            .applied_objects()
            .map(move |item| (i, item))
            .boxed();
        streams.push(events);
    }
    let mut events = stream::select_all(streams);
    let deadline = tokio::time::sleep(options.timeout);
    tokio::pin!(deadline);
    loop {
        if let Some(verdict) = decide(targets, &states) {
            return verdict;
        }
        tokio::select! {
            () = &mut deadline => {
                let pending = targets
                    .iter()
                    .zip(&states)
                    .filter_map(|(t, s)| match s {
                        State::Pending(why) => Some(format!("{}: {why}", t.label())),
                        _ => None,
                    })
                    .collect();
                return Verdict::Timeout { after: options.timeout, pending };
            }
            item = events.next() => match item {
                Some((i, Ok(object))) => {
                    states[i] = match serde_json::to_value(&object) {
                        Ok(json) => assess(&targets[i], &json, commit),
                        Err(e) => State::Pending(format!("unreadable object: {e}")),
                    };
                }
                Some((i, Err(e))) => states[i] = State::Pending(format!("watch error: {e}")),
                // Watch streams never end on their own; if they all did, only the timeout is left.
                None => {
                    (&mut deadline).await;
                }
            },
        }
    }
}

/// The verdict once states allow one: any failure fails, all ready succeeds.
fn decide(targets: &[Target], states: &[State]) -> Option<Verdict> {
    let failed: Vec<FailedObject> = targets
        .iter()
        .zip(states)
        .filter_map(|(t, s)| match s {
            State::Failed(reason) => Some(FailedObject {
                kind: t.kind.clone(),
                namespace: t.namespace.clone(),
                name: t.name.clone(),
                reason: reason.clone(),
            }),
            _ => None,
        })
        .collect();
    if let Some(first) = failed.first() {
        let reason =
            format!("{} {}/{} failed: {}", first.kind, first.namespace, first.name, first.reason);
        return Some(Verdict::Failure { reason, objects: failed });
    }
    states.iter().all(|s| *s == State::Ready).then_some(Verdict::Success)
}
