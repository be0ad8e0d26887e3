//! A verdict from an HTTP check given in the configuration: a URL polled until it answers 2xx.
//!
//! `{commit}` and `{env}` in the URL stand for the rendered commit and the
//! environment, so a service that reports its deployed revision can be asked
//! about this one (`https://app.example.com/healthz?rev={commit}`). The URL is
//! fetched every [`INTERVAL`]: a 2xx answer is success; when time runs out, a
//! last answer that was an HTTP error status is a failure carrying the status
//! and the end of the body, and no answer at all (connection refused, DNS) is
//! a timeout.

use std::time::{Duration, Instant};

use super::Verdict;

/// Time between two requests.
pub const INTERVAL: Duration = Duration::from_millis(500);
/// How much of an error body a failure reason keeps (the end of it).
const BODY_TAIL: usize = 300;
/// The most of a body read.
const MAX_BODY: u64 = 64 * 1024;

/// The URL with `{commit}` and `{env}` replaced.
pub fn expand(url: &str, commit: &str, env: &str) -> String {
    url.replace("{commit}", commit).replace("{env}", env)
}

/// Polls `url` (after [`expand`]) until it answers 2xx or `timeout` passes.
/// Blocking: call it from `spawn_blocking` in async code.
pub fn verdict(url: &str, commit: &str, env: &str, timeout: Duration) -> Verdict {
    let url = expand(url, commit, env);
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(timeout.clamp(Duration::from_millis(100), Duration::from_secs(30))))
        .build()
        .into();
    let start = Instant::now();
    let mut last_error: Option<(u16, String)> = None;
    let mut last_transport = String::new();
    loop {
        match agent.get(&url).call() {
            Ok(mut response) => {
                let status = response.status().as_u16();
                if (200..300).contains(&status) {
                    return Verdict::Success;
                }
                let body = response
                    .body_mut()
                    .with_config()
                    .limit(MAX_BODY)
                    .read_to_string()
                    .unwrap_or_default();
                last_error = Some((status, tail(body.trim())));
            }
            Err(e) => last_transport = e.to_string(),
        }
        if start.elapsed() + INTERVAL >= timeout {
            break;
        }
        std::thread::sleep(INTERVAL);
    }
    match last_error {
        Some((status, body)) => Verdict::Failure {
            reason: format!("GET {url} answered HTTP {status}: {body}"),
            objects: vec![],
        },
        None => Verdict::Timeout {
            after: timeout,
            pending: vec![format!("GET {url}: {last_transport}")],
        },
    }
}

fn tail(text: &str) -> String {
    match text.char_indices().rev().nth(BODY_TAIL) {
        Some((i, _)) => text[i..].to_string(),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders() {
        let cases = [
            ("http://app/healthz", "http://app/healthz"),
            ("http://app/rev/{commit}?env={env}", "http://app/rev/abc?env=production"),
            ("http://{env}.app/{commit}/{commit}", "http://production.app/abc/abc"),
        ];
        for (url, want) in cases {
            assert_eq!(expand(url, "abc", "production"), want, "{url}");
        }
    }
}
