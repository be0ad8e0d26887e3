//! Leader election among watcher replicas through a Kubernetes `coordination.k8s.io/v1` Lease.
//!
//! The algorithm is client-go's `leaderelection` on a Lease object, spoken
//! through `kube`'s `Api<Lease>` directly:
//!
//! - no Lease: create it holding it (`POST`; `409 AlreadyExists` means another
//!   replica was first);
//! - held by this replica: renew it, a `PUT` of `renewTime` carrying the
//!   `resourceVersion` read, so a replica that lost the lease meanwhile gets
//!   `409 Conflict` instead of overwriting the new holder;
//! - held by another: take it over only when it was released (empty
//!   `holderIdentity`) or when the record has not changed for a whole lease
//!   duration *as observed locally*, which does not trust the clocks of other
//!   machines; `leaseTransitions` counts takeovers.
//!
//! A leader that cannot renew stops counting itself leader after the renew
//! deadline (two thirds of the lease duration), before any other replica can
//! take the lease over: losing the lease stops writing within one lease period.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::api::{Api, ObjectMeta, PostParams};

/// Errors talking to the API server (other than the conflicts election expects).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A request failed.
    #[error("{action} lease {namespace}/{name}")]
    Api {
        /// What was being done, e.g. `renewing`.
        action: &'static str,
        /// The Lease's namespace.
        namespace: String,
        /// The Lease's name.
        name: String,
        /// The client's error.
        #[source]
        source: kube::Error,
    },
}

/// Which Lease, who this replica is, and how long a lease lasts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// The Lease's namespace.
    pub namespace: String,
    /// The Lease's name.
    pub name: String,
    /// This replica's identity, written as `holderIdentity` (e.g. the pod name).
    pub identity: String,
    /// `leaseDurationSeconds`: how long other replicas wait on an unchanged record.
    pub duration: Duration,
}

impl Settings {
    /// How long a leader counts itself leader after its last successful renewal.
    pub fn renew_deadline(&self) -> Duration {
        self.duration.mul_f64(2.0 / 3.0)
    }

    /// How often to run [`Elector::step`]: a third of the renew deadline, so a
    /// leader has three tries to renew before it steps down.
    pub fn retry_period(&self) -> Duration {
        (self.renew_deadline() / 3).max(Duration::from_millis(100))
    }
}

/// What one [`Elector::step`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    /// This replica holds the lease.
    Leader {
        /// Whether it has just acquired it (created or taken over), rather than renewed it.
        acquired: bool,
    },
    /// Another replica holds it.
    Follower {
        /// The holder's identity.
        holder: String,
    },
}

/// One replica's view of the election.
pub struct Elector {
    api: Api<Lease>,
    settings: Settings,
    /// The last record seen (resourceVersion, holder, renewTime) and when it was first seen here.
    observed: Option<(String, Instant)>,
    /// When this replica last created, took over or renewed the lease.
    renewed: Option<Instant>,
}

impl std::fmt::Debug for Elector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Elector")
            .field("settings", &self.settings)
            .field("renewed", &self.renewed)
            .finish_non_exhaustive()
    }
}

impl Elector {
    /// An elector on the Lease `settings.namespace/settings.name`; nothing is sent yet.
    pub fn new(client: kube::Client, settings: Settings) -> Self {
        let api = Api::namespaced(client, &settings.namespace);
        Elector { api, settings, observed: None, renewed: None }
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Whether this replica may act as leader now: it renewed the lease within the renew deadline.
    pub fn leading(&self) -> bool {
        self.renewed.is_some_and(|at| at.elapsed() < self.settings.renew_deadline())
    }

    /// One round of the election: create, renew or take over the lease, or
    /// observe another holder. A conflict (another replica wrote first) makes
    /// this replica a follower; other errors leave [`Elector::leading`] to the
    /// renew deadline.
    pub async fn step(&mut self) -> Result<Role, Error> {
        let name = self.settings.name.clone();
        let Some(mut lease) =
            self.api.get_opt(&name).await.map_err(|e| self.error("reading", e))?
        else {
            return self.create().await;
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        let holder = spec.holder_identity.clone().unwrap_or_default();
        let record = format!(
            "{}/{holder}/{:?}",
            lease.metadata.resource_version.as_deref().unwrap_or_default(),
            spec.renew_time.as_ref().map(|t| t.0)
        );
        let now = Instant::now();
        let first_seen = match &self.observed {
            Some((seen, at)) if *seen == record => *at,
            _ => {
                self.observed = Some((record, now));
                now
            }
        };
        let their_duration = spec
            .lease_duration_seconds
            .and_then(|s| u64::try_from(s).ok())
            .map_or(self.settings.duration, Duration::from_secs);
        let mine = holder == self.settings.identity;
        let expired = holder.is_empty() || now.duration_since(first_seen) >= their_duration;
        if !mine && !expired {
            self.renewed = None;
            return Ok(Role::Follower { holder });
        }
        let stamp = MicroTime(k8s_openapi::jiff::Timestamp::now());
        if !mine {
            spec.holder_identity = Some(self.settings.identity.clone());
            spec.acquire_time = Some(stamp.clone());
            spec.lease_transitions = Some(spec.lease_transitions.unwrap_or(0).saturating_add(1));
        }
        spec.renew_time = Some(stamp);
        spec.lease_duration_seconds = Some(self.duration_seconds());
        match self.api.replace(&name, &PostParams::default(), &lease).await {
            Ok(_) => {
                self.renewed = Some(now);
                Ok(Role::Leader { acquired: !mine })
            }
            Err(kube::Error::Api(status)) if status.is_conflict() => {
                self.renewed = None;
                self.observed = None;
                Ok(Role::Follower { holder })
            }
            Err(e) => Err(self.error(if mine { "renewing" } else { "taking over" }, e)),
        }
    }

    /// Gives the lease up, if this replica holds it, so another can take it at once.
    pub async fn release(&mut self) -> Result<(), Error> {
        self.renewed = None;
        let name = self.settings.name.clone();
        let Some(mut lease) =
            self.api.get_opt(&name).await.map_err(|e| self.error("reading", e))?
        else {
            return Ok(());
        };
        let spec = lease.spec.get_or_insert_with(LeaseSpec::default);
        if spec.holder_identity.as_deref() != Some(self.settings.identity.as_str()) {
            return Ok(());
        }
        spec.holder_identity = None;
        spec.renew_time = Some(MicroTime(k8s_openapi::jiff::Timestamp::now()));
        match self.api.replace(&name, &PostParams::default(), &lease).await {
            Ok(_) => Ok(()),
            // Someone else wrote it meanwhile: it is not ours to release any more.
            Err(kube::Error::Api(status)) if status.is_conflict() => Ok(()),
            Err(e) => Err(self.error("releasing", e)),
        }
    }

    async fn create(&mut self) -> Result<Role, Error> {
        let stamp = MicroTime(k8s_openapi::jiff::Timestamp::now());
        let lease = Lease {
            metadata: ObjectMeta {
                name: Some(self.settings.name.clone()),
                namespace: Some(self.settings.namespace.clone()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: Some(self.settings.identity.clone()),
                lease_duration_seconds: Some(self.duration_seconds()),
                acquire_time: Some(stamp.clone()),
                renew_time: Some(stamp),
                lease_transitions: Some(0),
                ..LeaseSpec::default()
            }),
        };
        let now = Instant::now();
        match self.api.create(&PostParams::default(), &lease).await {
            Ok(_) => {
                self.renewed = Some(now);
                Ok(Role::Leader { acquired: true })
            }
            Err(kube::Error::Api(status)) if status.is_already_exists() || status.is_conflict() => {
                self.renewed = None;
                Ok(Role::Follower { holder: String::new() })
            }
            Err(e) => Err(self.error("creating", e)),
        }
    }

    /// `leaseDurationSeconds`, rounded up so other replicas never wait less than this one's duration.
    fn duration_seconds(&self) -> i32 {
        let d = self.settings.duration;
        let seconds = d.as_secs() + u64::from(d.subsec_nanos() > 0);
        i32::try_from(seconds.max(1)).unwrap_or(i32::MAX)
    }

    fn error(&self, action: &'static str, source: kube::Error) -> Error {
        Error::Api {
            action,
            namespace: self.settings.namespace.clone(),
            name: self.settings.name.clone(),
            source,
        }
    }
}

/// Parses `NAMESPACE/NAME` (or `NAME`, in `default_namespace`).
pub fn parse_reference(text: &str, default_namespace: &str) -> Option<(String, String)> {
    let (namespace, name) = text.split_once('/').unwrap_or((default_namespace, text));
    let valid = |s: &str| {
        !s.is_empty()
            && s.len() <= 253
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-.".contains(&b))
    };
    (valid(namespace) && valid(name)).then(|| (namespace.to_owned(), name.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references() {
        let cases = [
            ("kiln-system/kiln-watch", Some(("kiln-system", "kiln-watch"))),
            ("kiln-watch", Some(("default", "kiln-watch"))),
            ("a/b/c", None),
            ("/x", None),
            ("Kiln/x", None),
            ("", None),
        ];
        for (text, want) in cases {
            let want = want.map(|(a, b)| (a.to_owned(), b.to_owned()));
            assert_eq!(parse_reference(text, "default"), want, "{text}");
        }
    }

    #[test]
    fn periods() {
        let s = Settings {
            namespace: "n".into(),
            name: "l".into(),
            identity: "a".into(),
            duration: Duration::from_secs(15),
        };
        assert_eq!(s.renew_deadline(), Duration::from_secs(10));
        assert!(s.retry_period() < s.renew_deadline());
    }
}
