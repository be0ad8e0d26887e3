//! Leader election through a `coordination.k8s.io/v1` Lease, against a loopback API server.
//!
//! There is no Kubernetes API server on these machines: [`LeaseApi`] serves
//! the requests the real one answers for Leases on 127.0.0.1, with the same
//! JSON shapes: `GET` of one Lease (404 `Status` with reason `NotFound` when
//! missing), `POST` to the collection (201, or 409 `AlreadyExists`), and `PUT`
//! with optimistic concurrency (409 `Conflict` when the body's
//! `metadata.resourceVersion` is not the stored one). The real `kube` client
//! drives it, through [`kiln::daemon::lease::Elector`] and through `kiln watch
//! --lease` processes.

use std::collections::HashMap;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::Response;
use kiln::daemon::lease::{Elector, Role, Settings};
use serde_json::{Value as Json, json};

use crate::verify_api::{failure, json_response, write_kubeconfig};
use crate::watch_faults::{Example, wait_until};

const GROUP: &str = "/apis/coordination.k8s.io/v1/namespaces/";

/// The stored Leases and the knobs tests turn.
#[derive(Default)]
struct Store {
    leases: HashMap<(String, String), Json>,
    resource_version: u64,
    /// Answer the next `PUT` with 409, as if another writer had written first.
    conflict_next_put: bool,
    /// Answer everything with 500, as an API server whose storage is gone.
    down: bool,
}

/// The server; it stops when dropped.
pub struct LeaseApi {
    /// `http://127.0.0.1:<port>`.
    pub url: String,
    store: Arc<Mutex<Store>>,
    runtime: tokio::runtime::Runtime,
}

impl LeaseApi {
    fn start() -> LeaseApi {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let store = Arc::new(Mutex::new(Store { resource_version: 5000, ..Store::default() }));
        let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let app = axum::Router::new().fallback(serve).with_state(Arc::clone(&store));
        runtime.spawn(async move { axum::serve(listener, app).await.unwrap() });
        LeaseApi { url, store, runtime }
    }

    fn lease(&self, namespace: &str, name: &str) -> Option<Json> {
        self.store.lock().unwrap().leases.get(&(namespace.into(), name.into())).cloned()
    }

    fn elector(&self, identity: &str, duration: Duration) -> Elector {
        let config = kube::Config::new(self.url.parse().unwrap());
        let client = self.runtime.block_on(async { kube::Client::try_from(config).unwrap() });
        Elector::new(
            client,
            Settings {
                namespace: "kiln".into(),
                name: "kiln-watch".into(),
                identity: identity.into(),
                duration,
            },
        )
    }

    fn step(&self, elector: &mut Elector) -> Result<Role, String> {
        self.runtime.block_on(elector.step()).map_err(|e| format!("{e:#}"))
    }

    /// A kubeconfig pointing at this server, where `kiln watch` finds it with `HOME=home`.
    fn kubeconfig_in(&self, home: &Path) {
        std::fs::create_dir_all(home.join(".kube")).unwrap();
        write_kubeconfig(&home.join(".kube/config"), &self.url);
    }
}

/// A `Status` failure about a Lease.
fn status(code: u16, reason: &str, message: String, name: &str) -> Response {
    let details = json!({ "name": name, "group": "coordination.k8s.io", "kind": "leases" });
    failure(code, reason, message, details)
}

async fn serve(
    State(store): State<Arc<Mutex<Store>>>,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let mut store = store.lock().unwrap();
    if store.down {
        return status(
            500,
            "InternalError",
            "Internal error occurred: etcdserver: request timed out".into(),
            "",
        );
    }
    let Some(rest) = uri.path().strip_prefix(GROUP) else {
        return status(
            404,
            "NotFound",
            "the server could not find the requested resource".into(),
            "",
        );
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let (namespace, name) = match parts.as_slice() {
        [ns, "leases"] => (ns.to_string(), None),
        [ns, "leases", name] => (ns.to_string(), Some(name.to_string())),
        _ => {
            return status(
                404,
                "NotFound",
                "the server could not find the requested resource".into(),
                "",
            );
        }
    };
    let not_found = |name: &str| {
        status(404, "NotFound", format!("leases.coordination.k8s.io \"{name}\" not found"), name)
    };
    match (method, name) {
        (Method::GET, Some(name)) => match store.leases.get(&(namespace, name.clone())) {
            Some(lease) => json_response(StatusCode::OK, lease),
            None => not_found(&name),
        },
        (Method::POST, None) => {
            let mut lease: Json = serde_json::from_slice(&body).unwrap();
            let name = lease["metadata"]["name"].as_str().unwrap().to_string();
            if store.leases.contains_key(&(namespace.clone(), name.clone())) {
                return status(
                    409,
                    "AlreadyExists",
                    format!("leases.coordination.k8s.io \"{name}\" already exists"),
                    &name,
                );
            }
            store.resource_version += 1;
            let metadata = &mut lease["metadata"];
            metadata["namespace"] = json!(namespace);
            metadata["uid"] = json!("6f1c2a3b-4d5e-4f60-8a7b-9c0d1e2f3a4b");
            metadata["resourceVersion"] = json!(store.resource_version.to_string());
            metadata["creationTimestamp"] = json!("2026-11-22T14:00:00Z");
            lease["apiVersion"] = json!("coordination.k8s.io/v1");
            lease["kind"] = json!("Lease");
            store.leases.insert((namespace, name), lease.clone());
            json_response(StatusCode::CREATED, &lease)
        }
        (Method::PUT, Some(name)) => {
            let mut lease: Json = serde_json::from_slice(&body).unwrap();
            let key = (namespace, name.clone());
            let Some(stored) = store.leases.get(&key) else { return not_found(&name) };
            let stale =
                lease["metadata"]["resourceVersion"] != stored["metadata"]["resourceVersion"];
            let conflict = std::mem::take(&mut store.conflict_next_put) || stale;
            if conflict {
                return status(
                    409,
                    "Conflict",
                    format!(
                        "Operation cannot be fulfilled on leases.coordination.k8s.io \"{name}\": the object has been modified; please apply your changes to the latest version and try again"
                    ),
                    &name,
                );
            }
            store.resource_version += 1;
            lease["metadata"]["resourceVersion"] = json!(store.resource_version.to_string());
            store.leases.insert(key, lease.clone());
            json_response(StatusCode::OK, &lease)
        }
        _ => status(
            405,
            "MethodNotAllowed",
            "the server does not allow this method on the requested resource".into(),
            "",
        ),
    }
}

fn holder(api: &LeaseApi) -> (String, i64) {
    let lease = api.lease("kiln", "kiln-watch").unwrap();
    (
        lease["spec"]["holderIdentity"].as_str().unwrap_or_default().to_string(),
        lease["spec"]["leaseTransitions"].as_i64().unwrap_or_default(),
    )
}

/// Acquire, renew, conflict, takeover after expiry, release, an API server that goes away.
#[test]
fn one_replica_leads_and_another_takes_over_only_when_the_lease_lapses() {
    let api = LeaseApi::start();
    let duration = Duration::from_secs(2);
    let mut a = api.elector("replica-a", duration);
    let mut b = api.elector("replica-b", duration);

    // No Lease yet: the first replica creates it holding it; the second follows.
    assert_eq!(api.step(&mut a), Ok(Role::Leader { acquired: true }));
    assert_eq!(api.step(&mut b), Ok(Role::Follower { holder: "replica-a".into() }));
    assert_eq!(holder(&api), ("replica-a".into(), 0));
    let lease = api.lease("kiln", "kiln-watch").unwrap();
    assert_eq!(lease["spec"]["leaseDurationSeconds"], json!(2));
    let renewed = lease["spec"]["renewTime"].clone();
    assert!(renewed.as_str().unwrap().ends_with('Z'), "{lease}");

    // Renewal moves renewTime and nothing else.
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(api.step(&mut a), Ok(Role::Leader { acquired: false }));
    assert_ne!(api.lease("kiln", "kiln-watch").unwrap()["spec"]["renewTime"], renewed);
    assert!(a.leading() && !b.leading());

    // Another writer got there first: a conflict makes the replica a follower at once.
    api.store.lock().unwrap().conflict_next_put = true;
    assert_eq!(api.step(&mut a), Ok(Role::Follower { holder: "replica-a".into() }));
    assert!(!a.leading());
    assert_eq!(api.step(&mut a), Ok(Role::Leader { acquired: false }));

    // The leader stops renewing (it died). The follower waits a whole lease
    // duration from when it first saw the last record, then takes over; the
    // old leader counted itself leader for two thirds of it only.
    let stopped = Instant::now();
    let mut a_stopped_leading = None;
    let taken = loop {
        if a_stopped_leading.is_none() && !a.leading() {
            a_stopped_leading = Some(stopped.elapsed());
        }
        match api.step(&mut b).unwrap() {
            Role::Leader { acquired } => {
                assert!(acquired);
                break stopped.elapsed();
            }
            Role::Follower { holder } => assert_eq!(holder, "replica-a"),
        }
        assert!(stopped.elapsed() < Duration::from_secs(10), "no takeover");
        std::thread::sleep(Duration::from_millis(50));
    };
    let a_stopped = a_stopped_leading.expect("the old leader stopped leading before the takeover");
    assert!(taken >= duration, "taken over after {taken:?}, before the lease lapsed");
    // Measured once per round of the loop, so only roughly the renew deadline (2/3 of it).
    assert!(a_stopped < duration, "old leader led for {a_stopped:?}");
    assert!(a_stopped < taken, "{a_stopped:?} {taken:?}");
    assert_eq!(holder(&api), ("replica-b".into(), 1));
    // The old leader comes back: it follows the new holder.
    assert_eq!(api.step(&mut a), Ok(Role::Follower { holder: "replica-b".into() }));

    // A released lease is taken at once.
    api.runtime.block_on(b.release()).unwrap();
    assert!(!b.leading());
    assert_eq!(holder(&api), (String::new(), 1));
    assert_eq!(api.step(&mut a), Ok(Role::Leader { acquired: true }));
    assert_eq!(holder(&api), ("replica-a".into(), 2));

    // The API server goes away: renewals fail, and the leader stops leading
    // within the renew deadline, before anyone else could take over.
    api.store.lock().unwrap().down = true;
    let down = Instant::now();
    while a.leading() {
        let error = api.step(&mut a).unwrap_err();
        assert!(error.contains("lease kiln/kiln-watch"), "{error}");
        assert!(down.elapsed() < duration, "still leading after {:?}", down.elapsed());
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Two `kiln watch --lease` processes on one remote: one renders, and the other
/// takes over when it dies.
#[test]
fn two_watchers_one_leader_and_a_takeover() {
    let api = LeaseApi::start();
    let ex = Example::new();
    let remote = ex.remote.path();
    let rendered_count = || {
        let out = Command::new("git")
            .arg("-C")
            .arg(remote)
            .args(["rev-list", "--count", "refs/heads/rendered"])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().parse::<u32>().unwrap_or(0)
    };
    let home = tempfile::tempdir().unwrap();
    let args = |id: &'static str| {
        vec![
            "--branch",
            "staging=staging",
            "--interval",
            "200ms",
            "--lease",
            "kiln/kiln-watch",
            "--lease-duration",
            "2s",
            "--lease-identity",
            id,
        ]
    };
    let mut watchers = vec![];
    for id in ["replica-a", "replica-b"] {
        let dir = home.path().join(id);
        std::fs::create_dir_all(&dir).unwrap();
        api.kubeconfig_in(&dir);
        watchers.push(ex.spawn(&dir.join("mirror"), &args(id)));
    }
    wait_until(Duration::from_secs(60), "a rendered commit", || rendered_count() == 1);
    let (leader, _) = holder(&api);
    let leading = usize::from(leader == "replica-b");
    let (follower_id, follower) = (["replica-a", "replica-b"][1 - leading], 1 - leading);
    // The follower never rendered: it has not even fetched.
    assert!(
        watchers[follower].log().contains("following: another replica holds the lease"),
        "{}",
        watchers[follower].log()
    );
    assert!(!watchers[follower].log().contains("pushed a rendered commit"));

    // The leader dies without releasing the lease; a new source commit waits
    // for the follower, which takes over once the lease lapses.
    watchers[leading].kill();
    let died = Instant::now();
    ex.push_generation("staging", 1);
    wait_until(Duration::from_secs(60), "the takeover's commit", || rendered_count() == 2);
    // The last renewal was at most a retry period (2s * 2/3 / 3) before the kill.
    assert!(died.elapsed() >= Duration::from_millis(1500), "taken over before the lease lapsed");
    assert_eq!(holder(&api), (follower_id.to_string(), 1));
    let log = watchers[follower].log();
    assert!(log.contains("holding the lease: leading"), "{log}");

    // A clean stop gives the lease up.
    let status = watchers[follower].terminate(Duration::from_secs(20));
    assert!(status.success(), "{}", watchers[follower].log());
    assert_eq!(holder(&api).0, "");
}
