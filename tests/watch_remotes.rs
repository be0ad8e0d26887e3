//! `kiln watch` fetching and pushing over real transports: smart HTTP served by `git http-backend` with a token, and ssh through a stand-in `ssh` program.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use crate::watch_faults::Example;

/// The token the test server accepts.
const TOKEN: &str = "s3cret-t0ken";

/// A smart-HTTP git server on 127.0.0.1: each request runs `git
/// http-backend` as a CGI program over the repositories below `root`.
/// Requests without HTTP basic credentials whose password is [`TOKEN`] get
/// 401, as a forge does (any user name, the token as password). Every request line is logged with whether it was let in.
struct GitHttpServer {
    port: u16,
    log: Arc<Mutex<Vec<String>>>,
}

impl GitHttpServer {
    fn start(root: &Path) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (root, shared) = (root.to_path_buf(), Arc::clone(&log));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (root, log) = (root.clone(), Arc::clone(&shared));
                std::thread::spawn(move || {
                    let _ = serve(stream, &root, &log);
                });
            }
        });
        GitHttpServer { port, log }
    }

    fn url(&self, repo: &str) -> String {
        format!("http://127.0.0.1:{}/{repo}", self.port)
    }

    fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }
}

/// Answers one request (one per connection: the response ends by closing it).
fn serve(stream: TcpStream, root: &Path, log: &Mutex<Vec<String>>) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut line = String::new();
    reader.read_line(&mut line)?;
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or("").to_string(), parts.next().unwrap_or(""));
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let (path, query) = (path.to_string(), query.to_string());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h)?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((name, value)) = h.split_once(':') {
            headers.push((name.trim().to_ascii_lowercase(), value.trim().to_string()));
        }
    }
    let header = |name: &str| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone());
    let body = if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        read_chunked(&mut reader)?
    } else {
        let length = header("content-length").and_then(|v| v.parse().ok()).unwrap_or(0);
        let mut body = vec![0; length];
        reader.read_exact(&mut body)?;
        body
    };
    let allowed = header("authorization").is_some_and(|h| password(&h).as_deref() == Some(TOKEN));
    log.lock().unwrap().push(format!("{method} {path}?{query} allowed={allowed}"));
    let mut out = stream;
    if !allowed {
        let text = "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"git\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        return out.write_all(text.as_bytes());
    }
    let mut cgi = Command::new("git");
    cgi.arg("http-backend")
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("REMOTE_USER", "kiln")
        .env("REMOTE_ADDR", "127.0.0.1")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", &path)
        .env("QUERY_STRING", &query)
        .env("CONTENT_LENGTH", body.len().to_string())
        .env("CONTENT_TYPE", header("content-type").unwrap_or_default())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    if let Some(encoding) = header("content-encoding") {
        cgi.env("HTTP_CONTENT_ENCODING", encoding);
    }
    if let Some(protocol) = header("git-protocol") {
        cgi.env("GIT_PROTOCOL", protocol);
    }
    let mut child = cgi.spawn()?;
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&body));
    let mut response = Vec::new();
    child.stdout.take().unwrap().read_to_end(&mut response)?;
    let _ = writer.join();
    child.wait()?;
    // CGI output: headers (maybe a `Status:`), a blank line, the body.
    let split = response.windows(4).position(|w| w == b"\r\n\r\n").map(|i| (i, 4));
    let split = split.or_else(|| response.windows(2).position(|w| w == b"\n\n").map(|i| (i, 2)));
    let (head, body) = match split {
        Some((i, n)) => (String::from_utf8_lossy(&response[..i]).into_owned(), &response[i + n..]),
        None => (String::new(), &response[..]),
    };
    let mut status = "200 OK".to_string();
    let mut lines = Vec::new();
    for h in head.lines() {
        match h.strip_prefix("Status:") {
            Some(s) => status = s.trim().to_string(),
            None => lines.push(h.to_string()),
        }
    }
    let mut text = format!("HTTP/1.1 {status}\r\n");
    for h in lines {
        text.push_str(&format!("{h}\r\n"));
    }
    text.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", body.len()));
    out.write_all(text.as_bytes())?;
    out.write_all(body)
}

/// The password of HTTP basic credentials.
fn password(authorization: &str) -> Option<String> {
    use base64::Engine as _;
    let encoded = authorization.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).ok()?;
    let text = String::from_utf8(decoded).ok()?;
    Some(text.split_once(':')?.1.to_string())
}

fn read_chunked(reader: &mut impl BufRead) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        let mut size = String::new();
        reader.read_line(&mut size)?;
        let size = usize::from_str_radix(size.trim().split(';').next().unwrap_or(""), 16)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk)?;
        if size == 0 {
            return Ok(body);
        }
        body.extend_from_slice(&chunk[..size]);
    }
}

/// `kiln watch --once` with `args` and `env`; returns whether it succeeded and its log.
fn watch_once(workdir: &Path, args: &[&str], env: &[(&str, &str)], path: &str) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .args(["watch", "--once", "--target-branch", "rendered", "--branch", "production=prod"])
        .arg("--workdir")
        .arg(workdir)
        .args(args)
        .env_clear()
        .env("PATH", path)
        .env("HOME", workdir.parent().unwrap())
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).into_owned())
}

fn path_env() -> String {
    std::env::var("PATH").unwrap_or_default()
}

#[test]
fn https_with_a_token_from_the_environment() {
    let ex = Example::new();
    let root = ex.remote.path().parent().unwrap().to_path_buf();
    let name = ex.remote.path().file_name().unwrap().to_str().unwrap().to_string();
    let server = GitHttpServer::start(&root);
    let url = server.url(&name);
    let home = tempfile::tempdir().unwrap();
    let workdir = home.path().join("mirror");
    let args = ["--repo", url.as_str(), "--token-env", "KILN_GIT_TOKEN"];

    // (token in the environment, the cycle succeeds)
    let cases = [(Some("wrong"), false), (None, false), (Some(TOKEN), true)];
    for (token, want) in cases {
        let env: Vec<(&str, &str)> = token.map(|t| ("KILN_GIT_TOKEN", t)).into_iter().collect();
        let (ok, log) = watch_once(&workdir, &args, &env, &path_env());
        assert_eq!(ok, want, "{token:?}: {log}");
        assert!(!log.contains(TOKEN), "the token is in the log: {log}");
        if !want {
            assert!(ex.rendered().is_empty(), "{token:?}");
        }
    }
    let first = ex.rendered();
    assert_eq!(first.len(), 1);
    assert!(!ex.paths(&first[0].commit, "prod").is_empty());
    let requests = server.requests();
    assert!(requests.iter().any(|r| r.contains("git-upload-pack") && r.ends_with("allowed=true")));
    assert!(requests.iter().any(|r| r.contains("git-receive-pack") && r.ends_with("allowed=true")));
    assert!(requests.iter().any(|r| r.ends_with("allowed=false")));

    // A new source commit is fetched over HTTP and its render pushed.
    let source = ex.push_generation("production", 1);
    let env = [("KILN_GIT_TOKEN", TOKEN)];
    let (ok, log) = watch_once(&workdir, &args, &env, &path_env());
    assert!(ok, "{log}");
    let rendered = ex.rendered();
    assert_eq!(rendered.len(), 2);
    assert_eq!(rendered[0].sources.get("production"), Some(&source));
}

/// The ssh transport with a key file. There is no ssh server here, so a
/// stand-in `ssh` program first on `PATH` logs the arguments git gives it
/// and runs the remote command (`git-upload-pack '/path'`,
/// `git-receive-pack '/path'`) itself: git speaks its real ssh transport
/// protocol to a real upload-pack and receive-pack process, only the network
/// hop and the authentication are left out. What is checked of the key is
/// that kiln hands it to ssh (`-i KEY -o IdentitiesOnly=yes`, batch mode).
#[test]
fn ssh_with_a_key_file() {
    let ex = Example::new();
    let home = tempfile::tempdir().unwrap();
    let bin = home.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let args_log = home.path().join("ssh-args.log");
    let ssh = bin.join("ssh");
    std::fs::write(
        &ssh,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$*\" >> '{}'\nfor last; do :; done\nexec sh -c \"$last\"\n",
            args_log.display()
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&ssh, std::fs::Permissions::from_mode(0o755)).unwrap();
    let key: PathBuf = home.path().join("deploy key's file");
    std::fs::write(&key, "not a real key\n").unwrap();

    let url = format!("ssh://git@git.example.com{}", ex.remote.path().display());
    let key_arg = key.to_str().unwrap();
    let args = ["--repo", url.as_str(), "--ssh-key", key_arg];
    let path = format!("{}:{}", bin.display(), path_env());
    let (ok, log) = watch_once(&home.path().join("mirror"), &args, &[], &path);
    assert!(ok, "{log}");
    let rendered = ex.rendered();
    assert_eq!(rendered.len(), 1);

    let calls = std::fs::read_to_string(&args_log).unwrap();
    let remote = ex.remote.path().display().to_string();
    for (what, needle) in [
        ("the key", format!("-i {key_arg} ")),
        ("only that key", "-o IdentitiesOnly=yes".to_string()),
        ("no prompts", "-o BatchMode=yes".to_string()),
        ("the host", "git@git.example.com".to_string()),
        ("a fetch", format!("git-upload-pack '{remote}'")),
        ("a push", format!("git-receive-pack '{remote}'")),
    ] {
        assert!(calls.contains(&needle), "{what}: {needle:?} not in\n{calls}");
    }
}
