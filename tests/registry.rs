//! The registry client against a real registry (Debian's `docker-registry`, started on 127.0.0.1) and against loopback servers that misbehave.
//!
//! Bearer tokens are served by a loopback test server: the Debian registry's
//! own `token` auth needs a signing certificate chain and JWTs made by an
//! external token service, which is more machinery than the flow under test
//! (401 with a challenge, a token fetched with basic credentials, a retry).

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use kiln::daemon::registry::{Registries, Settings};
use promoter::registry::{DOCKER_MANIFEST, OCI_MANIFEST, Options};
use sha2::Digest as _;

/// A `docker-registry` process on a free loopback port, with its storage in a temp dir.
pub struct Registry {
    child: Child,
    /// The basic `Authorization` header pushes send, when the registry has users.
    auth: Option<String>,
    /// `127.0.0.1:<port>`.
    pub host: String,
    _dir: tempfile::TempDir,
}

impl Registry {
    /// Starts the registry without auth and waits until `/v2/` answers.
    pub fn start() -> Option<Registry> {
        Registry::start_with_users(None)
    }

    /// Starts the registry, with htpasswd auth for `(user, password, bcrypt hash)` if given.
    ///
    /// `None` when `docker-registry` is not installed, so that a machine with
    /// only the Rust toolchain still passes; under CI (`CI=true`, where
    /// `.ci/run` installs it) a missing registry is a failure.
    pub fn start_with_users(user: Option<(&str, &str, &str)>) -> Option<Registry> {
        let installed = ["/usr/bin/docker-registry", "/usr/local/bin/docker-registry"]
            .iter()
            .any(|b| Path::new(b).exists());
        if !installed {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "docker-registry is not installed; .ci/run installs it"
            );
            eprintln!(
                "skipping: docker-registry is not installed (apt-get install docker-registry)"
            );
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let config = format!(
            "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
            dir.path().join("data").display()
        );
        let mut config = config;
        if let Some((name, _, hash)) = user {
            let htpasswd = dir.path().join("htpasswd");
            std::fs::write(&htpasswd, format!("{name}:{hash}\n")).unwrap();
            config.push_str(&format!(
                "auth:\n  htpasswd:\n    realm: kiln-test\n    path: {}\n",
                htpasswd.display()
            ));
        }
        let config_path = dir.path().join("config.yml");
        std::fs::write(&config_path, config).unwrap();
        let binary = ["/usr/bin/docker-registry", "docker-registry"]
            .into_iter()
            .find(|b| Path::new(b).exists())
            .unwrap_or("docker-registry");
        let child = Command::new(binary)
            .arg("serve")
            .arg(&config_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("docker-registry runs (apt-get install docker-registry; .ci/run installs it)");
        let auth = user.map(|(name, password, _)| {
            promoter::registry::Credentials { username: name.into(), password: password.into() }
                .basic()
        });
        let registry = Registry { child, auth, host, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Ok(r) =
                registry.call("GET", &format!("http://{}/v2/", registry.host), "text/plain", b"")
            {
                if r.status() == 200 {
                    return Some(registry);
                }
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not start on {}",
                registry.host
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Uploads a blob and returns its digest.
    pub fn push_blob(&self, name: &str, data: &[u8]) -> String {
        let digest = format!("sha256:{}", hex(&sha2::Sha256::digest(data)));
        let start = self
            .call(
                "POST",
                &format!("http://{}/v2/{name}/blobs/uploads/", self.host),
                "text/plain",
                b"",
            )
            .unwrap();
        assert_eq!(start.status(), 202);
        let location = start.headers().get("location").unwrap().to_str().unwrap().to_owned();
        let location = if location.starts_with("http") {
            location
        } else {
            format!("http://{}{location}", self.host)
        };
        let sep = if location.contains('?') { '&' } else { '?' };
        let put = self
            .call(
                "PUT",
                &format!("{location}{sep}digest={digest}"),
                "application/octet-stream",
                data,
            )
            .unwrap();
        assert_eq!(put.status(), 201, "blob upload");
        digest
    }

    /// Pushes a one-config-blob image as `name:tag` in the given manifest
    /// media type; `seed` makes the image distinct. Returns the manifest digest.
    pub fn push_image(&self, name: &str, tag: &str, seed: &str, media_type: &str) -> String {
        let config = format!(
            r#"{{"architecture":"amd64","os":"linux","rootfs":{{"type":"layers","diff_ids":[]}},"config":{{"Labels":{{"seed":"{seed}"}}}}}}"#
        );
        let config_digest = self.push_blob(name, config.as_bytes());
        let config_type = if media_type == OCI_MANIFEST {
            "application/vnd.oci.image.config.v1+json"
        } else {
            "application/vnd.docker.container.image.v1+json"
        };
        let manifest = format!(
            r#"{{"schemaVersion":2,"mediaType":"{media_type}","config":{{"mediaType":"{config_type}","size":{},"digest":"{config_digest}"}},"layers":[]}}"#,
            config.len()
        );
        self.put_manifest(name, tag, &manifest, media_type)
    }

    /// Puts a manifest under `tag`; returns its digest.
    pub fn put_manifest(&self, name: &str, tag: &str, manifest: &str, media_type: &str) -> String {
        let response = self
            .call(
                "PUT",
                &format!("http://{}/v2/{name}/manifests/{tag}", self.host),
                media_type,
                manifest.as_bytes(),
            )
            .unwrap();
        assert_eq!(response.status(), 201, "manifest upload of {name}:{tag}");
        format!("sha256:{}", hex(&sha2::Sha256::digest(manifest.as_bytes())))
    }
}

impl Registry {
    /// Sends a request with the registry's credentials, if it has users.
    fn call(
        &self,
        method: &str,
        url: &str,
        content_type: &str,
        body: &[u8],
    ) -> Result<ureq::http::Response<ureq::Body>, ureq::Error> {
        let mut builder = ureq::http::Request::builder()
            .method(method)
            .uri(url)
            .header("Content-Type", content_type);
        if let Some(auth) = &self.auth {
            builder = builder.header("Authorization", auth);
        }
        ureq::Agent::new_with_defaults().run(builder.body(body).unwrap())
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One request a loopback server received.
pub struct Seen {
    /// Path and query.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
}

impl Seen {
    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// What a loopback server answers: status, headers, body.
pub type Answer = (u16, Vec<(String, String)>, Vec<u8>);

/// A loopback HTTP server answering with `handler`, serving at most 500
/// connections, on a thread that ends with the test process.
pub fn serve(handler: impl Fn(&Seen, &str) -> Answer + Send + Sync + 'static) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let host = listener.local_addr().unwrap().to_string();
    let base = format!("http://{host}");
    let handler = Arc::new(handler);
    std::thread::spawn(move || {
        for stream in listener.incoming().take(500) {
            let Ok(stream) = stream else { continue };
            let handler = Arc::clone(&handler);
            let base = base.clone();
            std::thread::spawn(move || answer(stream, &*handler, &base));
        }
    });
    host
}

fn answer(mut stream: TcpStream, handler: &dyn Fn(&Seen, &str) -> Answer, base: &str) {
    stream.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, path) =
        (parts.next().unwrap_or("").to_owned(), parts.next().unwrap_or("").to_owned());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).unwrap_or(0) == 0 || h.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let length: usize = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    let _ = reader.read_exact(&mut body);
    let seen = Seen { path, headers };
    let (status, headers, body) = handler(&seen, base);
    let mut out =
        format!("HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        out.push_str(&format!("{k}: {v}\r\n"));
    }
    out.push_str("\r\n");
    let _ = stream.write_all(out.as_bytes());
    if method != "HEAD" {
        let _ = stream.write_all(&body);
    }
}

/// Clients with no credentials from the user's environment.
fn registries(docker_config: &Path, page_size: usize) -> Registries {
    Registries::new(Settings {
        docker_config: Some(docker_config.to_path_buf()),
        insecure: Vec::new(),
        options: Options { page_size, ..Options::default() },
    })
}

fn empty_config() -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), "{}").unwrap();
    file
}

/// A unique tag for build `n`.
pub fn unique(n: u32) -> String {
    format!("v1.{}.0.2026-11-{:02}t120000000Z.{:07x}", n / 10, 1 + n % 28, 0xabc0000 + n)
}

#[test]
fn real_registry_lists_pages_and_reads_digests_of_docker_and_oci_manifests() {
    let Some(registry) = Registry::start() else { return };
    let name = format!("{}/team/app", registry.host);
    let mut digests = Vec::new();
    for n in 0..25 {
        let media = if n % 2 == 0 { DOCKER_MANIFEST } else { OCI_MANIFEST };
        digests.push(registry.push_image("team/app", &unique(n), &format!("build {n}"), media));
    }
    registry.push_image("team/app", "production", "build 7", OCI_MANIFEST);
    let config = empty_config();
    for page_size in [1, 7, 100] {
        let mut clients = registries(config.path(), page_size);
        let mut tags = clients.tags(&name).unwrap();
        tags.sort();
        let mut want: Vec<String> = (0..25).map(unique).chain(["production".to_owned()]).collect();
        want.sort();
        assert_eq!(tags, want, "page size {page_size}");
    }
    let mut clients = registries(config.path(), 100);
    for (n, media) in [(0, DOCKER_MANIFEST), (7, OCI_MANIFEST)] {
        let manifest = clients.manifest(&name, &unique(n)).unwrap();
        assert_eq!(manifest.digest, digests[n as usize]);
        assert_eq!(manifest.media_type.as_deref(), Some(media));
    }
    // Same content, same digest: the environment tag resolves to build 7.
    assert_eq!(clients.manifest(&name, "production").unwrap().digest, digests[7]);
    let missing = clients.manifest(&name, "nope").unwrap_err();
    assert!(format!("{missing:#}").contains("manifest team/app:nope not found"), "{missing:#}");
    let missing = clients.tags(&format!("{}/no/such", registry.host)).unwrap_err();
    assert!(format!("{missing:#}").contains("not found"), "{missing:#}");
}

/// A loopback registry behind bearer auth: tokens for alice:s3cret only.
fn bearer_registry() -> String {
    serve(|req, base| {
        let json = |body: String| {
            (200, vec![("Content-Type".into(), "application/json".into())], body.into_bytes())
        };
        if req.path.starts_with("/token?") {
            // base64("alice:s3cret")
            return if req.header("authorization") == Some("Basic YWxpY2U6czNjcmV0")
                && req.path.contains("scope=repository:app:pull")
                && req.path.contains("service=loopback")
            {
                json(r#"{"token":"T-123"}"#.into())
            } else {
                (401, vec![], b"bad credentials".to_vec())
            };
        }
        if req.header("authorization") != Some("Bearer T-123") {
            let challenge = format!(
                r#"Bearer realm="{base}/token",service="loopback",scope="repository:app:pull""#
            );
            return (
                401,
                vec![("WWW-Authenticate".into(), challenge)],
                br#"{"errors":[]}"#.to_vec(),
            );
        }
        match req.path.as_str() {
            "/v2/app/tags/list?n=2" => {
                let mut a = json(r#"{"name":"app","tags":["a","b"]}"#.into());
                a.1.push(("Link".into(), r#"</v2/app/tags/list?n=2&last=b>; rel="next""#.into()));
                a
            }
            "/v2/app/tags/list?n=2&last=b" => json(r#"{"name":"app","tags":["c"]}"#.into()),
            _ => (404, vec![], Vec::new()),
        }
    })
}

#[test]
fn bearer_flow_with_docker_config_credentials() {
    let host = bearer_registry();
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    };
    // base64("alice:s3cret") and base64("alice:wrong").
    let good =
        write("good.json", &format!(r#"{{"auths":{{"{host}":{{"auth":"YWxpY2U6czNjcmV0"}}}}}}"#));
    let bad = write(
        "bad.json",
        &format!(r#"{{"auths":{{"http://{host}":{{"auth":"YWxpY2U6d3Jvbmc="}}}}}}"#),
    );
    let none = write("none.json", "{}");
    let garbage = write("garbage.json", "{not json");
    let image = format!("{host}/app");
    assert_eq!(registries(&good, 2).tags(&image).unwrap(), ["a", "b", "c"]);
    let cases = [
        (&bad, "refused access to app (HTTP 401): check the credentials"),
        (&none, "refused access to app (HTTP 401): give credentials"),
        (&garbage, "docker config: not JSON"),
    ];
    for (config, want) in cases {
        let err = format!("{:#}", registries(config, 2).tags(&image).unwrap_err());
        assert!(err.contains(want), "{}: {err}", config.display());
        assert!(!err.contains("s3cret") && !err.contains("YWxp"), "{err}");
    }
}

#[test]
fn bad_answers_are_clear_errors() {
    let host = serve(|req, _| match req.path.split('?').next().unwrap_or("") {
        "/v2/e401/tags/list" => (401, vec![], Vec::new()),
        "/v2/e404/tags/list" => (404, vec![], br#"{"errors":[{"code":"NAME_UNKNOWN"}]}"#.to_vec()),
        "/v2/e500/tags/list" => (500, vec![], b"database on fire".to_vec()),
        "/v2/garbage/tags/list" => (200, vec![], b"\x00\xffnot json at all".to_vec()),
        "/v2/html/tags/list" => (200, vec![], b"<html><body>login</body></html>".to_vec()),
        "/v2/nodigest/manifests/x" => (200, vec![], Vec::new()),
        _ => (418, vec![], Vec::new()),
    });
    let config = empty_config();
    let cases = [
        ("e401", "cannot follow the auth challenge"),
        ("e404", "repository e404 not found"),
        ("e500", "answered HTTP 500: database on fire"),
        ("garbage", "malformed tag list"),
        ("html", "malformed tag list"),
    ];
    for (repo, want) in cases {
        let err = format!(
            "{:#}",
            registries(config.path(), 10).tags(&format!("{host}/{repo}")).unwrap_err()
        );
        assert!(err.contains(want), "{repo}: {err}");
    }
    let err = format!(
        "{:#}",
        registries(config.path(), 10).manifest(&format!("{host}/nodigest"), "x").unwrap_err()
    );
    assert!(err.contains("no Docker-Content-Digest header"), "{err}");
    // Nothing listens on a port just freed: a transport error, not a hang.
    let err = format!(
        "{:#}",
        registries(config.path(), 10).tags(&format!("127.0.0.1:{}/x", free_port())).unwrap_err()
    );
    assert!(err.contains("request to http://127.0.0.1:"), "{err}");
}

#[test]
fn a_hundred_thousand_tags_in_pages() {
    const TOTAL: usize = 100_000;
    const PAGE: usize = 10_000;
    let host = serve(|req, _| {
        let start: usize = req
            .path
            .split_once("last=t")
            .and_then(|(_, n)| n.parse::<usize>().ok())
            .map_or(0, |n| n + 1);
        let tags: Vec<String> =
            (start..(start + PAGE).min(TOTAL)).map(|n| format!("t{n}")).collect();
        let mut headers = vec![("Content-Type".to_owned(), "application/json".to_owned())];
        if start + PAGE < TOTAL {
            headers.push((
                "Link".to_owned(),
                format!("</v2/big/tags/list?n={PAGE}&last=t{}>; rel=\"next\"", start + PAGE - 1),
            ));
        }
        (200, headers, serde_json::json!({"name": "big", "tags": tags}).to_string().into_bytes())
    });
    let config = empty_config();
    let started = Instant::now();
    let tags = registries(config.path(), PAGE).tags(&format!("{host}/big")).unwrap();
    let elapsed = started.elapsed();
    assert_eq!(tags.len(), TOTAL);
    assert_eq!(tags.last().map(String::as_str), Some("t99999"));
    eprintln!("100,000 tags in 10 pages: {elapsed:?}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
    // Picking the winner among them is quick too.
    let policy: promoter::Policy = "regex:^t9999[0-9]$".parse().unwrap();
    assert!(matches!(
        policy.select(&tags),
        Err(promoter::policy::Error::NoBuildTime { matched: 10, .. })
    ));
}

/// `s3cret` hashed with bcrypt (cost 5), as htpasswd files hold it; made by
/// `perl -e 'print crypt("s3cret", "\$2y\$05\$abcdefghijklmnopqrstuu")'`.
const S3CRET_BCRYPT: &str = "$2y$05$abcdefghijklmnopqrstuuLK7U1u6pVRmL7L1BBM2aS35PSZnDXlK";

#[test]
fn real_registry_with_htpasswd_users_takes_basic_credentials() {
    let Some(registry) = Registry::start_with_users(Some(("alice", "s3cret", S3CRET_BCRYPT)))
    else {
        return;
    };
    registry.push_image("team/app", &unique(3), "locked", OCI_MANIFEST);
    let image = format!("{}/team/app", registry.host);
    let dir = tempfile::tempdir().unwrap();
    // base64("alice:s3cret") and base64("alice:wrong").
    let cases = [
        (format!(r#"{{"auths":{{"{}":{{"auth":"YWxpY2U6czNjcmV0"}}}}}}"#, registry.host), None),
        (
            format!(
                r#"{{"auths":{{"{}":{{"username":"alice","password":"s3cret"}}}}}}"#,
                registry.host
            ),
            None,
        ),
        (
            format!(r#"{{"auths":{{"{}":{{"auth":"YWxpY2U6d3Jvbmc="}}}}}}"#, registry.host),
            Some("(HTTP 401): check the credentials"),
        ),
        ("{}".to_owned(), Some("(HTTP 401): give credentials")),
    ];
    for (n, (config, want)) in cases.into_iter().enumerate() {
        let path = dir.path().join(format!("{n}.json"));
        std::fs::write(&path, &config).unwrap();
        let result = registries(&path, 10).tags(&image);
        match want {
            None => assert_eq!(result.unwrap(), [unique(3)], "{config}"),
            Some(want) => {
                let err = format!("{:#}", result.unwrap_err());
                assert!(err.contains(want), "{config}: {err}");
            }
        }
    }
}
