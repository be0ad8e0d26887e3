//! The OCI distribution protocol without IO: requests to make, answers to read, and the auth flow.
//!
//! The library never opens a connection. [`Client`] drives the protocol over
//! a transport the caller gives it, a function from [`Request`] to
//! [`Response`]; the `kiln` binary passes one made with a blocking HTTP
//! client, the tests pass canned answers.
//!
//! What it speaks:
//! - tag lists: `GET /v2/<name>/tags/list?n=<page>`, following
//!   `Link: <…>; rel="next"` headers. Some registries (Debian's
//!   `docker-registry` among them) ignore `n` and `last` and answer every
//!   page with the whole list; paging stops when a page brings no new tag;
//! - digests: `HEAD /v2/<name>/manifests/<reference>` accepting Docker v2
//!   and OCI manifests and indexes, read from `Docker-Content-Digest`;
//! - auth: a `401` with `WWW-Authenticate: Bearer realm=…,service=…,scope=…`
//!   fetches a token from the realm (with basic credentials when known) and
//!   retries once; `WWW-Authenticate: Basic` retries with basic credentials;
//! - credentials from a docker `config.json` (`auths.<host>.auth` as base64
//!   `user:password`, or `username`/`password`).

use std::collections::{HashMap, HashSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;

/// Docker image manifest, schema 2.
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (multi-platform).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index (multi-platform).
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// The manifest media types kiln accepts, most specific first.
pub const MANIFEST_TYPES: [&str; 4] =
    [OCI_INDEX, OCI_MANIFEST, DOCKER_MANIFEST_LIST, DOCKER_MANIFEST];

/// The header that carries a manifest's digest.
pub const DIGEST_HEADER: &str = "Docker-Content-Digest";

/// Docker Hub's API host, for names without a registry.
const DOCKER_HUB: &str = "registry-1.docker.io";
/// Docker Hub's key in a docker `config.json`.
const DOCKER_HUB_CONFIG_KEY: &str = "https://index.docker.io/v1/";

/// Bounds that keep a hostile or broken registry from running forever.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Tags asked for per page (`n`).
    pub page_size: usize,
    /// Pages followed at most for one tag list.
    pub max_pages: usize,
    /// Tags kept at most for one repository.
    pub max_tags: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options { page_size: 1000, max_pages: 1000, max_tags: 1_000_000 }
    }
}

/// Why talking to a registry failed.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The transport could not deliver the request.
    #[error("request to {url} failed: {message}")]
    Transport {
        /// The URL.
        url: String,
        /// What the transport said.
        message: String,
    },
    /// The registry refused the credentials, or asked for some and none were given.
    #[error("registry {registry} refused access to {repository} (HTTP {status}){hint}")]
    Unauthorized {
        /// The registry host.
        registry: String,
        /// The repository.
        repository: String,
        /// 401 or 403.
        status: u16,
        /// What to do about it.
        hint: &'static str,
    },
    /// The repository or manifest does not exist.
    #[error("{what} not found at {url}")]
    NotFound {
        /// `repository app/api` or `manifest app/api:production`.
        what: String,
        /// The URL.
        url: String,
    },
    /// Any other non-success status.
    #[error("{url} answered HTTP {status}: {excerpt}")]
    Status {
        /// The URL.
        url: String,
        /// The status code.
        status: u16,
        /// The start of the body.
        excerpt: String,
    },
    /// A body that is not what the protocol promises.
    #[error("{url} answered with a malformed {what}: {message}")]
    Malformed {
        /// The URL.
        url: String,
        /// `tag list`, `token response`, `Link header`...
        what: &'static str,
        /// What is wrong.
        message: String,
    },
    /// A bearer challenge that cannot be followed.
    #[error("cannot follow the auth challenge `{challenge}` from {url}")]
    Challenge {
        /// The URL that was answered with 401.
        url: String,
        /// The `WWW-Authenticate` value.
        challenge: String,
    },
    /// A bound of [`Options`] was reached.
    #[error("tag list of {repository} exceeds {limit} {what}")]
    TooLarge {
        /// The repository.
        repository: String,
        /// `pages` or `tags`.
        what: &'static str,
        /// The bound.
        limit: usize,
    },
    /// The docker config file is not JSON of the expected shape.
    #[error("docker config: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}

/// An HTTP method the protocol needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET.
    Get,
    /// HEAD.
    Head,
}

/// A request for the transport to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// The absolute URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(String, String)>,
}

/// What the transport received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// Header names and values, names in any case.
    pub headers: Vec<(String, String)>,
    /// The body (empty for HEAD).
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// A user name and password for a registry.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password or access token.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The password never reaches a log.
        f.debug_struct("Credentials").field("username", &self.username).finish_non_exhaustive()
    }
}

impl Credentials {
    /// The value of a basic `Authorization` header.
    pub fn basic(&self) -> String {
        format!("Basic {}", BASE64.encode(format!("{}:{}", self.username, self.password)))
    }
}

/// An image name split into the registry host and the repository path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageName {
    /// The registry host, with port if any, e.g. `ghcr.io` or `127.0.0.1:5000`.
    pub registry: String,
    /// The repository, e.g. `acme/user-roles`.
    pub repository: String,
}

impl ImageName {
    /// Splits `name` (no tag or digest) the way docker does: the first
    /// component is a registry when it has a `.` or `:` or is `localhost`;
    /// otherwise the name is on Docker Hub, under `library/` when it has no `/`.
    pub fn parse(name: &str) -> ImageName {
        match name.split_once('/') {
            Some((host, rest))
                if host.contains('.') || host.contains(':') || host == "localhost" =>
            {
                ImageName { registry: host.to_owned(), repository: rest.to_owned() }
            }
            Some(_) => ImageName { registry: DOCKER_HUB.to_owned(), repository: name.to_owned() },
            None => {
                ImageName { registry: DOCKER_HUB.to_owned(), repository: format!("library/{name}") }
            }
        }
    }

    /// The base URL of the registry's API: `http` for loopback hosts and the
    /// hosts in `insecure`, `https` otherwise.
    pub fn base_url(&self, insecure: &[String]) -> String {
        let host = match self.registry.rsplit_once(':') {
            Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
            _ => self.registry.as_str(),
        };
        let plain = matches!(host, "localhost" | "127.0.0.1" | "[::1]")
            || insecure.contains(&self.registry);
        format!("{}://{}", if plain { "http" } else { "https" }, self.registry)
    }
}

/// A manifest's identity as the registry reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Manifest {
    /// `sha256:<64 hex>`.
    pub digest: String,
    /// The media type from `Content-Type`, when given.
    pub media_type: Option<String>,
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Challenge {
    /// `Basic realm=…`.
    Basic,
    /// `Bearer realm=…,service=…,scope=…`.
    Bearer {
        /// The token endpoint.
        realm: String,
        /// The service parameter, if any.
        service: Option<String>,
        /// The scope parameter, if any.
        scope: Option<String>,
    },
}

impl Challenge {
    /// Parses a `WWW-Authenticate` value; `None` for schemes kiln does not speak.
    pub fn parse(value: &str) -> Option<Challenge> {
        let value = value.trim();
        let (scheme, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
        let params = auth_params(rest);
        let get =
            |k: &str| params.iter().find(|(n, _)| n.eq_ignore_ascii_case(k)).map(|p| p.1.clone());
        if scheme.eq_ignore_ascii_case("basic") {
            Some(Challenge::Basic)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            Some(Challenge::Bearer {
                realm: get("realm")?,
                service: get("service"),
                scope: get("scope"),
            })
        } else {
            None
        }
    }
}

/// `key=value` and `key="quoted, value"` pairs separated by commas.
fn auth_params(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text.trim();
    while let Some((key, after)) = rest.split_once('=') {
        let key = key.trim().trim_start_matches(',').trim().to_owned();
        let after = after.trim_start();
        let (value, next) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, c)) = chars.next() {
                            value.push(c);
                        }
                    }
                    '"' => {
                        end = i + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        out.push((key, value));
        rest = next.trim_start().trim_start_matches(',');
    }
    out
}

/// The URL of the token request for a bearer challenge; `scope` is used
/// when the challenge names none.
pub fn token_url(realm: &str, service: Option<&str>, scope: &str) -> String {
    let mut url = realm.to_owned();
    let mut sep = if realm.contains('?') { '&' } else { '?' };
    for (k, v) in [("service", service), ("scope", Some(scope))] {
        if let Some(v) = v {
            url.push(sep);
            url.push_str(k);
            url.push('=');
            url.push_str(&percent_encode(v));
            sep = '&';
        }
    }
    url
}

/// Reads the token from a token endpoint's answer (`token` or `access_token`).
pub fn parse_token(body: &[u8]) -> Result<String, String> {
    let json: serde_json::Value = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    ["token", "access_token"]
        .iter()
        .find_map(|k| json.get(k).and_then(|v| v.as_str()).filter(|s| !s.is_empty()))
        .map(str::to_owned)
        .ok_or_else(|| "no `token` or `access_token` string".to_owned())
}

/// Looks up credentials for `registry` in the text of a docker `config.json`.
/// Keys may be the bare host, or a URL of it (`https://host/v1/`); Docker
/// Hub's key is `https://index.docker.io/v1/`.
pub fn config_credentials(config: &str, registry: &str) -> Result<Option<Credentials>, Error> {
    let bad = |message: String| Error::Config { message };
    let json: serde_json::Value =
        serde_json::from_str(config).map_err(|e| bad(format!("not JSON: {e}")))?;
    let Some(auths) = json.get("auths") else { return Ok(None) };
    let auths = auths.as_object().ok_or_else(|| bad("`auths` is not an object".into()))?;
    let host_of = |key: &str| {
        let key = key.split_once("://").map_or(key, |(_, rest)| rest);
        key.split('/').next().unwrap_or_default().to_owned()
    };
    let wanted =
        if registry == DOCKER_HUB { host_of(DOCKER_HUB_CONFIG_KEY) } else { registry.to_owned() };
    let Some((key, entry)) = auths.iter().find(|(k, _)| host_of(k) == wanted) else {
        return Ok(None);
    };
    let field = |name: &str| entry.get(name).and_then(|v| v.as_str()).filter(|s| !s.is_empty());
    if let Some(auth) = field("auth") {
        let decoded = BASE64
            .decode(auth.trim())
            .ok()
            .and_then(|b| String::from_utf8(b).ok())
            .ok_or_else(|| bad(format!("auths.{key}.auth is not base64 of UTF-8 text")))?;
        let (username, password) = decoded
            .split_once(':')
            .ok_or_else(|| bad(format!("auths.{key}.auth does not decode to user:password")))?;
        return Ok(Some(Credentials { username: username.into(), password: password.into() }));
    }
    match (field("username"), field("password")) {
        (Some(u), Some(p)) => Ok(Some(Credentials { username: u.into(), password: p.into() })),
        _ => Ok(None),
    }
}

/// The `rel="next"` target of a `Link` header, resolved against `base`
/// (the registry's `scheme://host`).
pub fn next_link(link: &str, base: &str) -> Option<String> {
    link.split(',').find_map(|part| {
        let (target, params) = part.trim().split_once('>')?;
        let target = target.trim().strip_prefix('<')?;
        let is_next = params.split(';').any(|p| {
            let p = p.trim().replace(' ', "");
            p == "rel=\"next\"" || p == "rel=next"
        });
        is_next.then(|| {
            if target.starts_with("http://") || target.starts_with("https://") {
                target.to_owned()
            } else {
                format!("{base}{}{target}", if target.starts_with('/') { "" } else { "/" })
            }
        })
    })
}

/// One repository's tag list being paged through.
#[derive(Debug)]
pub struct TagPager {
    base: String,
    repository: String,
    options: Options,
    next: Option<String>,
    pages: usize,
    seen: HashSet<String>,
    tags: Vec<String>,
}

impl TagPager {
    /// Starts at the first page of `repository` on the registry at `base`.
    pub fn new(base: &str, repository: &str, options: Options) -> TagPager {
        let first = format!("{base}/v2/{repository}/tags/list?n={}", options.page_size);
        TagPager {
            base: base.to_owned(),
            repository: repository.to_owned(),
            options,
            next: Some(first),
            pages: 0,
            seen: HashSet::new(),
            tags: Vec::new(),
        }
    }

    /// The next page's URL, or `None` when the list is complete.
    pub fn next_url(&self) -> Option<&str> {
        self.next.as_deref()
    }

    /// Takes in the answer to [`TagPager::next_url`] (a success status).
    pub fn feed(&mut self, url: &str, response: &Response) -> Result<(), Error> {
        #[derive(serde::Deserialize)]
        struct Page {
            tags: Option<Vec<String>>,
        }
        let page: Page = serde_json::from_slice(&response.body).map_err(|e| Error::Malformed {
            url: url.to_owned(),
            what: "tag list",
            message: e.to_string(),
        })?;
        self.pages += 1;
        let before = self.tags.len();
        for tag in page.tags.unwrap_or_default() {
            if self.seen.insert(tag.clone()) {
                self.tags.push(tag);
            }
        }
        if self.tags.len() > self.options.max_tags {
            return Err(self.too_large("tags", self.options.max_tags));
        }
        let new = self.tags.len() > before;
        self.next = match response.header("link") {
            Some(link) if new => {
                Some(next_link(link, &self.base).ok_or_else(|| Error::Malformed {
                    url: url.to_owned(),
                    what: "Link header",
                    message: format!("no <url>; rel=\"next\" in `{link}`"),
                })?)
            }
            _ => None,
        };
        if self.next.is_some() && self.pages >= self.options.max_pages {
            return Err(self.too_large("pages", self.options.max_pages));
        }
        Ok(())
    }

    fn too_large(&self, what: &'static str, limit: usize) -> Error {
        Error::TooLarge { repository: self.repository.clone(), what, limit }
    }

    /// The tags, in the order the registry listed them.
    pub fn into_tags(self) -> Vec<String> {
        self.tags
    }
}

/// Reads a manifest's digest and media type from the answer to a `HEAD`.
pub fn manifest_of(url: &str, response: &Response) -> Result<Manifest, Error> {
    let malformed = |message: String| Error::Malformed {
        url: url.to_owned(),
        what: "manifest answer",
        message,
    };
    let digest = response
        .header(DIGEST_HEADER)
        .ok_or_else(|| malformed(format!("no {DIGEST_HEADER} header")))?
        .trim();
    let valid = digest
        .strip_prefix("sha256:")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        || digest
            .strip_prefix("sha512:")
            .is_some_and(|hex| hex.len() == 128 && hex.bytes().all(|b| b.is_ascii_hexdigit()));
    if !valid {
        return Err(malformed(format!(
            "{DIGEST_HEADER} `{digest}` is not a sha256 or sha512 digest"
        )));
    }
    let media_type =
        response.header("content-type").map(|t| t.split(';').next().unwrap_or(t).trim().to_owned());
    if let Some(t) = &media_type
        && !MANIFEST_TYPES.contains(&t.as_str())
    {
        return Err(malformed(format!("unexpected media type `{t}`")));
    }
    Ok(Manifest { digest: digest.to_ascii_lowercase(), media_type })
}

/// Drives the protocol for one registry over a caller's transport.
pub struct Client<T> {
    transport: T,
    image_registry: String,
    base: String,
    credentials: Option<Credentials>,
    options: Options,
    /// Bearer tokens by scope.
    tokens: HashMap<String, String>,
}

impl<T> std::fmt::Debug for Client<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("base", &self.base).finish_non_exhaustive()
    }
}

impl<T: FnMut(&Request) -> Result<Response, String>> Client<T> {
    /// A client for the registry `registry` (host) at `base` (`scheme://host`).
    pub fn new(
        registry: &str,
        base: &str,
        credentials: Option<Credentials>,
        options: Options,
        transport: T,
    ) -> Self {
        Client {
            transport,
            image_registry: registry.to_owned(),
            base: base.trim_end_matches('/').to_owned(),
            credentials,
            options,
            tokens: HashMap::new(),
        }
    }

    /// Every tag of `repository`, following pagination.
    pub fn tags(&mut self, repository: &str) -> Result<Vec<String>, Error> {
        let mut pager = TagPager::new(&self.base, repository, self.options);
        while let Some(url) = pager.next_url().map(str::to_owned) {
            let request = Request {
                method: Method::Get,
                url: url.clone(),
                headers: vec![("Accept".into(), "application/json".into())],
            };
            let response = self.send(request, repository, &format!("repository {repository}"))?;
            pager.feed(&url, &response)?;
        }
        Ok(pager.into_tags())
    }

    /// The digest of `repository:reference` (a tag or digest), by `HEAD`.
    pub fn manifest(&mut self, repository: &str, reference: &str) -> Result<Manifest, Error> {
        let url = format!("{}/v2/{repository}/manifests/{reference}", self.base);
        let request = Request {
            method: Method::Head,
            url: url.clone(),
            headers: vec![("Accept".into(), MANIFEST_TYPES.join(", "))],
        };
        let response =
            self.send(request, repository, &format!("manifest {repository}:{reference}"))?;
        manifest_of(&url, &response)
    }

    /// Sends with auth, answering one challenge; maps failure statuses to errors.
    fn send(
        &mut self,
        mut request: Request,
        repository: &str,
        what: &str,
    ) -> Result<Response, Error> {
        let scope = format!("repository:{repository}:pull");
        if let Some(token) = self.tokens.get(&scope) {
            request.headers.push(("Authorization".into(), format!("Bearer {token}")));
        }
        let mut response = self.transport_send(&request)?;
        // One answer to a challenge, also when a cached token has expired.
        if response.status == 401 {
            let challenge = response.header("www-authenticate").unwrap_or_default().to_owned();
            request.headers.retain(|(k, _)| k != "Authorization");
            let authorization = match Challenge::parse(&challenge) {
                Some(Challenge::Basic) => self.credentials.as_ref().map(Credentials::basic),
                Some(Challenge::Bearer { realm, service, scope: asked }) => {
                    let scope = asked.unwrap_or(scope);
                    let token = self.token(&realm, service.as_deref(), &scope, repository)?;
                    self.tokens.insert(format!("repository:{repository}:pull"), token.clone());
                    Some(format!("Bearer {token}"))
                }
                None => return Err(Error::Challenge { url: request.url, challenge }),
            };
            if let Some(authorization) = authorization {
                request.headers.push(("Authorization".into(), authorization));
                response = self.transport_send(&request)?;
            }
        }
        self.check(&request.url, response, repository, what)
    }

    fn token(
        &mut self,
        realm: &str,
        service: Option<&str>,
        scope: &str,
        repository: &str,
    ) -> Result<String, Error> {
        if !(realm.starts_with("https://") || realm.starts_with("http://")) {
            return Err(Error::Challenge {
                url: realm.to_owned(),
                challenge: format!("realm {realm}"),
            });
        }
        let url = token_url(realm, service, scope);
        let mut headers = vec![("Accept".into(), "application/json".into())];
        if let Some(c) = &self.credentials {
            headers.push(("Authorization".into(), c.basic()));
        }
        let request = Request { method: Method::Get, url: url.clone(), headers };
        let response = self.transport_send(&request)?;
        let response =
            self.check(&url, response, repository, &format!("token endpoint {realm}"))?;
        parse_token(&response.body).map_err(|message| Error::Malformed {
            url,
            what: "token response",
            message,
        })
    }

    fn transport_send(&mut self, request: &Request) -> Result<Response, Error> {
        (self.transport)(request)
            .map_err(|message| Error::Transport { url: request.url.clone(), message })
    }

    fn check(
        &self,
        url: &str,
        response: Response,
        repository: &str,
        what: &str,
    ) -> Result<Response, Error> {
        match response.status {
            200..=299 => Ok(response),
            401 | 403 => Err(Error::Unauthorized {
                registry: self.image_registry.clone(),
                repository: repository.to_owned(),
                status: response.status,
                hint: if self.credentials.is_some() {
                    ": check the credentials"
                } else {
                    ": give credentials in a docker config.json or the environment"
                },
            }),
            404 => Err(Error::NotFound { what: what.to_owned(), url: url.to_owned() }),
            status => {
                Err(Error::Status { url: url.to_owned(), status, excerpt: excerpt(&response.body) })
            }
        }
    }
}

/// The first line of a body, at most 200 chars, for error messages.
fn excerpt(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let line = text.lines().next().unwrap_or_default();
    let mut out: String = line.chars().take(200).collect();
    if out.len() < line.len() {
        out.push('…');
    }
    out
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:/".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests;
