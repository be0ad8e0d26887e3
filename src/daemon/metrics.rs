//! The watcher's counters, histograms and per-branch status, shown as Prometheus text and as JSON.

use std::collections::BTreeMap;
use std::sync::{Mutex, PoisonError};

/// Upper bounds of the duration histograms, in seconds.
const BUCKETS: [f64; 12] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0];

/// A Prometheus histogram with fixed buckets.
#[derive(Debug, Clone, Default)]
struct Histogram {
    counts: [u64; BUCKETS.len()],
    count: u64,
    sum: f64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter_mut()) {
            if seconds <= *bound {
                *count += 1;
            }
        }
        self.count += 1;
        self.sum += seconds;
    }

    fn write(&self, out: &mut String, name: &str, help: &str) {
        out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} histogram\n"));
        for (bound, count) in BUCKETS.iter().zip(self.counts.iter()) {
            out.push_str(&format!("{name}_bucket{{le=\"{bound}\"}} {count}\n"));
        }
        out.push_str(&format!("{name}_bucket{{le=\"+Inf\"}} {}\n", self.count));
        out.push_str(&format!("{name}_sum {}\n{name}_count {}\n", self.sum, self.count));
    }
}

/// What is known about one source branch.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BranchStatus {
    /// The source tip seen by the last fetch.
    pub last_source_commit: Option<String>,
    /// The source commit whose render the target branch holds.
    pub last_rendered_commit: Option<String>,
    /// The last error of this branch (render, safety rail), cleared by the next success.
    pub last_error: Option<String>,
    /// Unix time of the last cycle in which this branch was up to date on the remote.
    pub last_success: Option<f64>,
}

/// Everything the HTTP endpoints show, behind one lock.
#[derive(Debug, Default)]
struct State {
    cycles_ok: u64,
    cycles_failed: u64,
    renders: u64,
    commits: u64,
    pushes: BTreeMap<&'static str, u64>,
    failures: BTreeMap<&'static str, u64>,
    units_rendered: BTreeMap<&'static str, u64>,
    units_reused: BTreeMap<&'static str, u64>,
    cycle_seconds: Histogram,
    render_seconds: Histogram,
    branches: BTreeMap<String, BranchStatus>,
    target_tip: Option<String>,
    last_error: Option<String>,
    ready: bool,
    following: bool,
}

/// Shared between the cycle (writer) and the HTTP handlers (readers).
#[derive(Debug, Default)]
pub struct Metrics {
    state: Mutex<State>,
}

/// Kinds of failure counted in `kiln_failures_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Fetching the source or target failed.
    Fetch,
    /// A branch failed to render.
    Render,
    /// A safety rail refused a render or the target branch.
    Safety,
    /// A push failed (not a lost race).
    Push,
    /// Anything else that failed a cycle.
    Cycle,
}

impl Failure {
    fn label(self) -> &'static str {
        match self {
            Failure::Fetch => "fetch",
            Failure::Render => "render",
            Failure::Safety => "safety",
            Failure::Push => "push",
            Failure::Cycle => "cycle",
        }
    }
}

impl Metrics {
    fn with<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        f(&mut self.state.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Records a finished cycle.
    pub fn cycle(&self, seconds: f64, error: Option<String>) {
        self.with(|s| {
            s.cycle_seconds.observe(seconds);
            match error {
                Some(e) => {
                    s.cycles_failed += 1;
                    s.last_error = Some(e);
                }
                None => {
                    s.cycles_ok += 1;
                    s.last_error = None;
                    s.ready = true;
                }
            }
        });
    }

    /// Records one render of a branch and how long it took.
    pub fn render(&self, seconds: f64) {
        self.with(|s| {
            s.renders += 1;
            s.render_seconds.observe(seconds);
        });
    }

    /// Counts one unit build by its step (`kustomize`, `helm`): run, or
    /// `reused` from the store because nothing it read changed.
    pub fn unit(&self, step: &'static str, reused: bool) {
        self.with(|s| {
            let map = if reused { &mut s.units_reused } else { &mut s.units_rendered };
            *map.entry(step).or_default() += 1;
        });
    }

    /// Counts a commit made on the target branch.
    pub fn commit(&self) {
        self.with(|s| s.commits += 1);
    }

    /// Counts a push by its result (`updated`, `rejected`).
    pub fn push(&self, result: &'static str) {
        self.with(|s| *s.pushes.entry(result).or_default() += 1);
    }

    /// Counts a failure.
    pub fn failure(&self, kind: Failure) {
        self.with(|s| *s.failures.entry(kind.label()).or_default() += 1);
    }

    /// Changes the status of `branch`.
    pub fn branch(&self, branch: &str, f: impl FnOnce(&mut BranchStatus)) {
        self.with(|s| f(s.branches.entry(branch.to_string()).or_default()));
    }

    /// Records the target tip after a cycle.
    pub fn target_tip(&self, tip: Option<String>) {
        self.with(|s| s.target_tip = tip);
    }

    /// Whether this replica serves: a cycle has succeeded since startup and
    /// no other replica holds the lease. A follower is not ready, so a
    /// Service sends webhooks and Flux events only to the leader, which
    /// acts on them.
    pub fn ready(&self) -> bool {
        self.with(|s| s.ready && !s.following)
    }

    /// Records whether this replica leads (always, without a lease).
    pub fn set_leading(&self, leading: bool) {
        self.with(|s| s.following = !leading);
    }

    /// Whether another replica holds the lease.
    pub fn following(&self) -> bool {
        self.with(|s| s.following)
    }

    /// The status of one branch.
    pub fn branch_status(&self, branch: &str) -> Option<BranchStatus> {
        self.with(|s| s.branches.get(branch).cloned())
    }

    /// The `/metrics` page in the Prometheus text format.
    pub fn prometheus(&self) -> String {
        self.with(|s| {
            let mut out = String::new();
            let counter = |out: &mut String, name: &str, help: &str, rows: &[(String, u64)]| {
                out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} counter\n"));
                for (labels, value) in rows {
                    out.push_str(&format!("{name}{labels} {value}\n"));
                }
            };
            counter(
                &mut out,
                "kiln_cycles_total",
                "Watch cycles by result.",
                &[
                    ("{result=\"ok\"}".into(), s.cycles_ok),
                    ("{result=\"error\"}".into(), s.cycles_failed),
                ],
            );
            counter(&mut out, "kiln_renders_total", "Branch renders.", &[(String::new(), s.renders)]);
            counter(
                &mut out,
                "kiln_commits_total",
                "Commits made on the target branch.",
                &[(String::new(), s.commits)],
            );
            let labelled = |map: &BTreeMap<&'static str, u64>, key: &str, all: &[&str]| {
                all.iter()
                    .map(|v| (format!("{{{key}=\"{v}\"}}"), map.get(v).copied().unwrap_or(0)))
                    .collect::<Vec<_>>()
            };
            counter(
                &mut out,
                "kiln_pushes_total",
                "Pushes by result.",
                &labelled(&s.pushes, "result", &["updated", "rejected"]),
            );
            counter(
                &mut out,
                "kiln_failures_total",
                "Failures by kind.",
                &labelled(&s.failures, "kind", &["fetch", "render", "safety", "push", "cycle"]),
            );
            counter(
                &mut out,
                "kiln_units_rendered_total",
                "Unit builds run, by step.",
                &labelled(&s.units_rendered, "step", &["kustomize", "helm", "terraform"]),
            );
            counter(
                &mut out,
                "kiln_units_reused_total",
                "Unit builds reused because none of their inputs changed, by step.",
                &labelled(&s.units_reused, "step", &["kustomize", "helm", "terraform"]),
            );
            s.cycle_seconds.write(
                &mut out,
                "kiln_cycle_duration_seconds",
                "Duration of watch cycles.",
            );
            s.render_seconds.write(
                &mut out,
                "kiln_render_duration_seconds",
                "Duration of branch renders.",
            );
            out.push_str("# HELP kiln_last_success_timestamp_seconds Last time a branch was up to date on the remote.\n# TYPE kiln_last_success_timestamp_seconds gauge\n");
            for (branch, b) in &s.branches {
                if let Some(t) = b.last_success {
                    out.push_str(&format!(
                        "kiln_last_success_timestamp_seconds{{branch=\"{}\"}} {t}\n",
                        escape_label(branch)
                    ));
                }
            }
            out.push_str("# HELP kiln_branch_error Whether the last cycle left an error on a branch.\n# TYPE kiln_branch_error gauge\n");
            for (branch, b) in &s.branches {
                out.push_str(&format!(
                    "kiln_branch_error{{branch=\"{}\"}} {}\n",
                    escape_label(branch),
                    u8::from(b.last_error.is_some())
                ));
            }
            out
        })
    }

    /// The `/status` document.
    pub fn status_json(&self) -> serde_json::Value {
        self.with(|s| {
            let branches: serde_json::Map<String, serde_json::Value> = s
                .branches
                .iter()
                .map(|(name, b)| {
                    (
                        name.clone(),
                        serde_json::json!({
                            "lastSourceCommit": b.last_source_commit,
                            "lastRenderedCommit": b.last_rendered_commit,
                            "lastError": b.last_error,
                            "lastSuccess": b.last_success,
                        }),
                    )
                })
                .collect();
            serde_json::json!({
                "ready": s.ready,
                "targetTip": s.target_tip,
                "lastError": s.last_error,
                "cycles": { "ok": s.cycles_ok, "error": s.cycles_failed },
                "commits": s.commits,
                "branches": branches,
            })
        })
    }
}

fn escape_label(value: &str) -> String {
    value.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A replica behind a lease serves (is ready) only while it leads, so a
    /// Service routes webhooks and Flux events to the leader alone.
    #[test]
    fn only_a_leader_that_has_cycled_is_ready() {
        let m = Metrics::default();
        assert!(!m.ready(), "no cycle yet");
        m.cycle(0.1, None);
        assert!(m.ready());
        m.set_leading(false);
        assert!(!m.ready() && m.following());
        m.set_leading(true);
        assert!(m.ready() && !m.following());
    }

    #[test]
    fn histogram_buckets_are_cumulative() {
        let mut h = Histogram::default();
        for s in [0.001, 0.02, 0.02, 3.0, 100.0] {
            h.observe(s);
        }
        let mut out = String::new();
        h.write(&mut out, "x", "help");
        for line in [
            "x_bucket{le=\"0.005\"} 1",
            "x_bucket{le=\"0.025\"} 3",
            "x_bucket{le=\"2.5\"} 3",
            "x_bucket{le=\"5\"} 4",
            "x_bucket{le=\"30\"} 4",
            "x_bucket{le=\"+Inf\"} 5",
            "x_count 5",
        ] {
            assert!(out.lines().any(|l| l == line), "{line} not in\n{out}");
        }
    }

    #[test]
    fn labels_are_escaped() {
        let cases = [("plain", "plain"), ("a\"b", "a\\\"b"), ("a\\b", "a\\\\b"), ("a\nb", "a\\nb")];
        for (input, want) in cases {
            assert_eq!(escape_label(input), want);
        }
    }
}
