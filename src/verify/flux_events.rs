//! Flux notification-controller events posted to kiln (`generic` and `generic-hmac` providers).
//!
//! A Flux `Provider` of type `generic` POSTs each event as JSON; type
//! `generic-hmac` also signs the body with the provider's token in the
//! `X-Signature: sha256=<hex>` header. [`parse_event`] and [`verify_signature`]
//! are pure; [`Hooks`] is the axum endpoint (`POST /hooks/flux`) that checks
//! them and hands events to whoever waits for a verdict ([`await_verdict`]).

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use hmac::{Hmac, Mac as _};
use serde::Deserialize;
use sha2::Sha256;
use tokio::sync::broadcast;

use super::{FailedObject, Verdict, revision_names};

/// The header carrying the `generic-hmac` signature.
pub const SIGNATURE_HEADER: &str = "x-signature";

/// Errors reading a posted event.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The body is not a Flux event.
    #[error("event body is not a flux event")]
    Json(#[source] serde_json::Error),
    /// A signature was required and none was sent.
    #[error("missing X-Signature header")]
    MissingSignature,
    /// The signature header is not `<hash>=<hex>`, or uses a hash kiln does not accept.
    #[error("malformed X-Signature header {header:?}: expected sha256=<hex>")]
    MalformedSignature {
        /// The header as sent.
        header: String,
    },
    /// The signature does not match the body.
    #[error("X-Signature does not match the body")]
    BadSignature,
}

/// The object an event is about.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct InvolvedObject {
    /// e.g. `Kustomization`.
    pub kind: String,
    /// e.g. `flux-system`.
    pub namespace: String,
    /// e.g. `apps`.
    pub name: String,
}

/// The fields of a Flux event that matter to a verdict.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FluxEvent {
    /// The object the event is about.
    pub involved_object: InvolvedObject,
    /// `info` or `error`.
    pub severity: String,
    /// e.g. `ReconciliationSucceeded`, `HealthCheckFailed`, `Progressing`.
    #[serde(default)]
    pub reason: String,
    /// The human-readable message.
    #[serde(default)]
    pub message: String,
    /// Extra data; kustomize-controller puts the applied revision under `revision`.
    #[serde(default)]
    pub metadata: std::collections::BTreeMap<String, String>,
    /// e.g. `kustomize-controller`.
    #[serde(default)]
    pub reporting_controller: String,
}

impl FluxEvent {
    /// The revision the event is about, such as `rendered@sha1:<commit>`.
    pub fn revision(&self) -> Option<&str> {
        self.metadata
            .iter()
            .find(|(key, _)| *key == "revision" || key.ends_with("/revision"))
            .map(|(_, value)| value.as_str())
    }
}

/// Parses an event body.
pub fn parse_event(body: &[u8]) -> Result<FluxEvent, Error> {
    serde_json::from_slice(body).map_err(Error::Json)
}

/// Checks `header` (the `X-Signature` value, `sha256=<hex>`) against the HMAC-SHA256 of `body` under `key`.
pub fn verify_signature(body: &[u8], header: Option<&str>, key: &[u8]) -> Result<(), Error> {
    let header = header.ok_or(Error::MissingSignature)?;
    let malformed = || Error::MalformedSignature { header: header.to_string() };
    let (hash, hex) = header.trim().split_once('=').ok_or_else(malformed)?;
    if !hash.eq_ignore_ascii_case("sha256") {
        return Err(malformed());
    }
    let signature = decode_hex(hex).ok_or_else(malformed)?;
    let mut mac = Hmac::<Sha256>::new_from_slice(key).map_err(|_| Error::BadSignature)?;
    mac.update(body);
    // verify_slice compares in constant time.
    mac.verify_slice(&signature).map_err(|_| Error::BadSignature)
}

/// The `sha256=<hex>` signature of `body` under `key`, as `generic-hmac` sends it.
pub fn sign(body: &[u8], key: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("sha256={hex}")
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len())
        .step_by(2)
        .map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
        .collect()
}

/// What one event says about the deploy of `commit`: `Some(Success)` for a
/// finished reconciliation at that revision, `Some(Failure)` for an error at
/// it, `None` when it says nothing about it.
pub fn judge(event: &FluxEvent, commit: &str) -> Option<Verdict> {
    if !event.revision().is_some_and(|r| revision_names(r, commit)) {
        return None;
    }
    let object = &event.involved_object;
    if event.severity.eq_ignore_ascii_case("error") {
        let failed = FailedObject {
            kind: object.kind.clone(),
            namespace: object.namespace.clone(),
            name: object.name.clone(),
            reason: format!("{}: {}", event.reason, event.message),
        };
        return Some(Verdict::Failure {
            reason: format!(
                "{} {}/{} reported {}",
                object.kind, object.namespace, object.name, event.reason
            ),
            objects: vec![failed],
        });
    }
    matches!(
        event.reason.as_str(),
        "ReconciliationSucceeded" | "InstallSucceeded" | "UpgradeSucceeded"
    )
    .then_some(Verdict::Success)
}

/// The webhook endpoint's shared state: the optional HMAC key and the event channel.
#[derive(Debug, Clone)]
pub struct Hooks {
    key: Option<Arc<[u8]>>,
    events: broadcast::Sender<FluxEvent>,
}

impl Hooks {
    /// An endpoint; with `key`, only `generic-hmac` events signed with it are accepted.
    pub fn new(key: Option<Vec<u8>>) -> Hooks {
        let (events, _) = broadcast::channel(256);
        Hooks { key: key.map(Arc::from), events }
    }

    /// A receiver of every accepted event from now on; pass it to [`await_verdict`].
    pub fn subscribe(&self) -> broadcast::Receiver<FluxEvent> {
        self.events.subscribe()
    }

    /// A router serving `POST /hooks/flux`; merge it into the watcher's router.
    pub fn router(self) -> axum::Router {
        axum::Router::new().route("/hooks/flux", axum::routing::post(handle)).with_state(self)
    }

    /// Checks and parses one posted body and passes it on; the HTTP status to answer with.
    pub fn accept(&self, headers: &HeaderMap, body: &[u8]) -> StatusCode {
        if let Some(key) = &self.key {
            let header = headers.get(SIGNATURE_HEADER).and_then(|v| v.to_str().ok());
            if verify_signature(body, header, key).is_err() {
                return StatusCode::UNAUTHORIZED;
            }
        }
        match parse_event(body) {
            Ok(event) => {
                // No receiver means nobody is verifying right now: the event is dropped, as intended.
                let _ = self.events.send(event);
                StatusCode::ACCEPTED
            }
            Err(_) => StatusCode::BAD_REQUEST,
        }
    }
}

/// The axum handler behind `POST /hooks/flux`.
pub async fn handle(State(hooks): State<Hooks>, headers: HeaderMap, body: Bytes) -> StatusCode {
    hooks.accept(&headers, &body)
}

/// Waits for events about `commit`: the first failure fails; success needs a
/// success event from every object in `expect` (given as `namespace/name`),
/// or from any object when `expect` is empty.
pub async fn await_verdict(
    events: &mut broadcast::Receiver<FluxEvent>,
    commit: &str,
    expect: &[String],
    timeout: Duration,
) -> Verdict {
    let mut waiting: BTreeSet<&str> = expect.iter().map(String::as_str).collect();
    let wait = async {
        loop {
            let event = match events.recv().await {
                Ok(event) => event,
                Err(broadcast::error::RecvError::Lagged(_)) => continue,
                Err(broadcast::error::RecvError::Closed) => std::future::pending().await,
            };
            match judge(&event, commit) {
                Some(Verdict::Success) => {
                    let object = &event.involved_object;
                    waiting.remove(format!("{}/{}", object.namespace, object.name).as_str());
                    if waiting.is_empty() {
                        return Verdict::Success;
                    }
                }
                Some(failure) => return failure,
                None => {}
            }
        }
    };
    match tokio::time::timeout(timeout, wait).await {
        Ok(verdict) => verdict,
        Err(_) => Verdict::Timeout {
            after: timeout,
            pending: if expect.is_empty() {
                vec!["no flux event for the rendered commit".into()]
            } else {
                expect.iter().map(|e| format!("Kustomization {e}: no success event")).collect()
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &str = "9eabf5b536662000f79978c4d1b6e4eff5c8d785";

    fn event(severity: &str, reason: &str, revision: &str) -> String {
        serde_json::json!({
            "involvedObject": {
                "kind": "Kustomization",
                "namespace": "flux-system",
                "name": "apps",
                "uid": "cc4d0095-83f4-4f08-98f2-d2e9f3731fb9",
                "apiVersion": "kustomize.toolkit.fluxcd.io/v1",
                "resourceVersion": "56921",
            },
            "severity": severity,
            "timestamp": "2026-11-22T12:00:00Z",
            "message": "Health check failed after 30s: timeout waiting for: [Deployment/apps/web status: 'InProgress']",
            "reason": reason,
            "metadata": { "revision": revision, "summary": "production" },
            "reportingController": "kustomize-controller",
            "reportingInstance": "kustomize-controller-7f5c8b9d4-xk2lp",
        })
        .to_string()
    }

    #[test]
    fn judges_events() {
        let at = format!("rendered@sha1:{COMMIT}");
        let other = "rendered@sha1:0000f5b536662000f79978c4d1b6e4eff5c8d785";
        let cases: &[(&str, &str, &str, Option<bool>)] = &[
            ("info", "ReconciliationSucceeded", &at, Some(true)),
            ("error", "HealthCheckFailed", &at, Some(false)),
            ("error", "ReconciliationFailed", &at, Some(false)),
            ("info", "Progressing", &at, None),
            ("info", "ReconciliationSucceeded", other, None),
            ("error", "HealthCheckFailed", other, None),
        ];
        for (severity, reason, revision, want) in cases {
            let parsed = parse_event(event(severity, reason, revision).as_bytes()).unwrap();
            let got = judge(&parsed, COMMIT).map(|v| v == Verdict::Success);
            assert_eq!(got, *want, "{severity} {reason} {revision}");
        }
    }

    #[test]
    fn signatures() {
        let body = event("info", "ReconciliationSucceeded", COMMIT);
        let key = b"s3cr3t";
        let good = sign(body.as_bytes(), key);
        let cases: Vec<(Option<String>, bool)> = vec![
            (Some(good.clone()), true),
            (Some(good.to_uppercase().replacen("SHA256", "sha256", 1)), true),
            (Some(sign(b"other body", key)), false),
            (Some(sign(body.as_bytes(), b"wrong")), false),
            (Some(good.replacen("sha256", "sha1", 1)), false),
            (Some("sha256=zz".into()), false),
            (Some("sha256".into()), false),
            (None, false),
        ];
        for (header, ok) in cases {
            let got = verify_signature(body.as_bytes(), header.as_deref(), key).is_ok();
            assert_eq!(got, ok, "{header:?}");
        }
    }

    #[test]
    fn rejects_non_events() {
        for body in ["", "{}", "[1]", "{\"severity\": 3}"] {
            assert!(parse_event(body.as_bytes()).is_err(), "{body}");
        }
    }
}
