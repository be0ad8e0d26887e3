//! The HTTP transport under `promoter::registry`: blocking requests with ureq, credentials from docker config and the environment.

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context as _;
use promoter::registry::{
    Client, Credentials, ImageName, Manifest, Method, Options, Request, Response,
};

/// The largest body kiln reads from a registry (a 100,000-tag list is about 10 MB).
const MAX_BODY: u64 = 64 * 1024 * 1024;
/// Environment variables with credentials for every registry; they win over a docker config.
pub const USERNAME_VAR: &str = "KILN_REGISTRY_USERNAME";
/// See [`USERNAME_VAR`].
pub const PASSWORD_VAR: &str = "KILN_REGISTRY_PASSWORD";

/// Where credentials and connection settings come from.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// A docker `config.json`; `None` means `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`.
    pub docker_config: Option<PathBuf>,
    /// Registry hosts (with port) spoken to over plain HTTP; loopback hosts always are.
    pub insecure: Vec<String>,
    /// Paging and size bounds.
    pub options: Options,
}

/// The transport function [`Client`] drives.
type Transport = Box<dyn FnMut(&Request) -> Result<Response, String>>;

/// Registry clients by host, sharing one HTTP agent.
pub struct Registries {
    settings: Settings,
    agent: ureq::Agent,
    clients: HashMap<String, Client<Transport>>,
    tags: HashMap<String, Vec<String>>,
}

impl std::fmt::Debug for Registries {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registries").field("settings", &self.settings).finish_non_exhaustive()
    }
}

impl Registries {
    /// Clients made on first use, with `settings`.
    pub fn new(settings: Settings) -> Self {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(60)))
            .max_redirects(5)
            .build()
            .into();
        Registries { settings, agent, clients: HashMap::new(), tags: HashMap::new() }
    }

    /// Every tag of image `name` (no tag or digest), read once per run.
    pub fn tags(&mut self, name: &str) -> anyhow::Result<Vec<String>> {
        if let Some(tags) = self.tags.get(name) {
            return Ok(tags.clone());
        }
        let image = ImageName::parse(name);
        let tags = self
            .client(&image)?
            .tags(&image.repository)
            .with_context(|| format!("listing the tags of {name}"))?;
        self.tags.insert(name.to_owned(), tags.clone());
        Ok(tags)
    }

    /// The manifest digest of `name:reference`.
    pub fn manifest(&mut self, name: &str, reference: &str) -> anyhow::Result<Manifest> {
        let image = ImageName::parse(name);
        self.client(&image)?
            .manifest(&image.repository, reference)
            .with_context(|| format!("reading the manifest of {name}:{reference}"))
    }

    fn client(&mut self, image: &ImageName) -> anyhow::Result<&mut Client<Transport>> {
        if !self.clients.contains_key(&image.registry) {
            let credentials = credentials(&self.settings, &image.registry)?;
            let agent = self.agent.clone();
            let transport: Transport = Box::new(move |request| send(&agent, request));
            let client = Client::new(
                &image.registry,
                &image.base_url(&self.settings.insecure),
                credentials,
                self.settings.options,
                transport,
            );
            self.clients.insert(image.registry.clone(), client);
        }
        Ok(self.clients.get_mut(&image.registry).expect("inserted above"))
    }
}

/// Credentials for `registry`: the environment first, then the docker config.
fn credentials(settings: &Settings, registry: &str) -> anyhow::Result<Option<Credentials>> {
    if let (Ok(username), Ok(password)) = (std::env::var(USERNAME_VAR), std::env::var(PASSWORD_VAR))
    {
        return Ok(Some(Credentials { username, password }));
    }
    let path = match &settings.docker_config {
        Some(path) => Some(path.clone()),
        None => std::env::var_os("DOCKER_CONFIG")
            .map(|dir| PathBuf::from(dir).join("config.json"))
            .or_else(|| {
                std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".docker/config.json"))
            }),
    };
    let Some(path) = path else { return Ok(None) };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        // No config file is no credentials, unless one was named explicitly.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && settings.docker_config.is_none() => {
            return Ok(None);
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
    };
    promoter::registry::config_credentials(&text, registry)
        .with_context(|| format!("reading {}", path.display()))
}

/// Sends one request; any HTTP status is an answer, only transport failures are errors.
fn send(agent: &ureq::Agent, request: &Request) -> Result<Response, String> {
    let result = match request.method {
        Method::Get => {
            let mut builder = agent.get(&request.url);
            for (k, v) in &request.headers {
                builder = builder.header(k, v);
            }
            builder.call()
        }
        Method::Head => {
            let mut builder = agent.head(&request.url);
            for (k, v) in &request.headers {
                builder = builder.header(k, v);
            }
            builder.call()
        }
    };
    let mut response = result.map_err(|e| e.to_string())?;
    let headers = response
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = if request.method == Method::Head {
        Vec::new()
    } else {
        response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(|e| format!("reading the body: {e}"))?
    };
    Ok(Response { status: response.status().as_u16(), headers, body })
}
