//! The watcher's one HTTP listener: webhooks that trigger a cycle, health, readiness, metrics and status.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hmac::{Hmac, Mac as _};
use sha2::Sha256;
use tokio::sync::Notify;

use super::metrics::Metrics;

/// What the handlers share.
#[derive(Debug)]
pub struct Hooks {
    /// Read by `/metrics`, `/status` and `/readyz`.
    pub metrics: Arc<Metrics>,
    /// Woken by a verified webhook: the watch loop starts a cycle at once.
    pub trigger: Arc<Notify>,
    /// The GitHub webhook secret; `None` disables `/hooks/github`.
    pub github_secret: Option<Vec<u8>>,
    /// The GitLab webhook token; `None` disables `/hooks/gitlab`.
    pub gitlab_token: Option<Vec<u8>>,
}

/// The routes of the listener; with `flux`, also `POST /hooks/flux` for
/// Flux notification-controller events (deploy verification).
pub fn router_with(hooks: Arc<Hooks>, flux: Option<crate::verify::flux_events::Hooks>) -> Router {
    match flux {
        Some(flux) => router(hooks).merge(flux.router()),
        None => router(hooks),
    }
}

/// The routes of the listener.
pub fn router(hooks: Arc<Hooks>) -> Router {
    Router::new()
        .route("/hooks/github", post(github))
        .route("/hooks/gitlab", post(gitlab))
        .route("/healthz", get(|| async { "ok\n" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .route("/status", get(status))
        // GitHub sends push payloads of up to 25 MB; the signature covers all of it.
        .layer(axum::extract::DefaultBodyLimit::max(25 * 1024 * 1024))
        .with_state(hooks)
}

/// Whether `signature` (the `X-Hub-Signature-256` header, `sha256=<hex>`) is the
/// HMAC-SHA256 of `body` under `secret`. The comparison takes constant time.
pub fn github_signature_valid(secret: &[u8], body: &[u8], signature: &str) -> bool {
    let Some(hex) = signature.strip_prefix("sha256=") else {
        return false;
    };
    let Some(expected) = decode_hex(hex) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&expected).is_ok()
}

/// Compares two byte strings in time that depends only on their lengths.
fn same_token(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn decode_hex(hex: &str) -> Option<Vec<u8>> {
    if !hex.len().is_multiple_of(2) {
        return None;
    }
    (0..hex.len()).step_by(2).map(|i| u8::from_str_radix(hex.get(i..i + 2)?, 16).ok()).collect()
}

async fn github(State(hooks): State<Arc<Hooks>>, headers: HeaderMap, body: Bytes) -> Response {
    let Some(secret) = &hooks.github_secret else {
        return (StatusCode::NOT_FOUND, "GitHub webhooks are not configured\n").into_response();
    };
    let signature =
        headers.get("x-hub-signature-256").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if !github_signature_valid(secret, &body, signature) {
        tracing::warn!("GitHub webhook with a bad signature refused");
        return (StatusCode::UNAUTHORIZED, "bad signature\n").into_response();
    }
    let event = headers.get("x-github-event").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if event == "ping" {
        return (StatusCode::OK, "pong\n").into_response();
    }
    tracing::info!(event, "GitHub webhook: starting a cycle");
    hooks.trigger.notify_one();
    (StatusCode::ACCEPTED, "cycle triggered\n").into_response()
}

async fn gitlab(State(hooks): State<Arc<Hooks>>, headers: HeaderMap) -> Response {
    let Some(token) = &hooks.gitlab_token else {
        return (StatusCode::NOT_FOUND, "GitLab webhooks are not configured\n").into_response();
    };
    let given = headers.get("x-gitlab-token").map(HeaderValue::as_bytes).unwrap_or_default();
    if !same_token(given, token) {
        tracing::warn!("GitLab webhook with a bad token refused");
        return (StatusCode::UNAUTHORIZED, "bad token\n").into_response();
    }
    tracing::info!("GitLab webhook: starting a cycle");
    hooks.trigger.notify_one();
    (StatusCode::ACCEPTED, "cycle triggered\n").into_response()
}

async fn readyz(State(hooks): State<Arc<Hooks>>) -> Response {
    if hooks.metrics.ready() {
        (StatusCode::OK, "ready\n").into_response()
    } else if hooks.metrics.following() {
        (StatusCode::SERVICE_UNAVAILABLE, "following: another replica holds the lease\n")
            .into_response()
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "no successful cycle yet\n").into_response()
    }
}

async fn metrics(State(hooks): State<Arc<Hooks>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        hooks.metrics.prometheus(),
    )
        .into_response()
}

async fn status(State(hooks): State<Arc<Hooks>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], format!("{:#}\n", hooks.metrics.status_json()))
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn github_signatures() {
        // The example from GitHub's documentation on validating webhook deliveries.
        let secret = b"It's a Secret to Everybody";
        let body = b"Hello, World!";
        let good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17";
        let cases = [
            (good, true),
            ("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e18", false),
            ("757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17", false),
            ("sha256=", false),
            ("sha256=zz", false),
            ("sha256=757", false),
            ("", false),
        ];
        for (signature, want) in cases {
            assert_eq!(github_signature_valid(secret, body, signature), want, "{signature}");
        }
    }

    #[test]
    fn tokens() {
        let cases: [(&[u8], &[u8], bool); 4] = [
            (b"abc", b"abc", true),
            (b"abc", b"abd", false),
            (b"abc", b"ab", false),
            (b"", b"", true),
        ];
        for (a, b, want) in cases {
            assert_eq!(same_token(a, b), want);
        }
    }
}
