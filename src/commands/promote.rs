//! `kiln promote`: set, update, stage and pin image tags in a config repository branch, one commit per run.
//!
//! Files are read straight from the branch's tree (no checkout) and the
//! result is one commit on the branch, moved by compare-and-swap; with
//! `--dry-run` a unified diff is printed and nothing is written.
//!
//! An environment is a directory of the branch: by default
//! `apps/overlays/<env>` (the example repository's layout, as in seed 003),
//! changed with `--env-dir` or `KILN_ENV_DIR`, a template in which `{env}`
//! stands for the environment's name. Without `--env`, a command covers
//! every YAML file of the branch except Helm chart templates (files under
//! `templates/` next to a `Chart.yaml`), which are not YAML.
//!
//! `--repo` is a local repository, edited in place, or a URL (`file://`,
//! `https://`, ssh): the branch is fetched into a temporary bare repository,
//! committed there, and pushed with a lease on the tip that was fetched, so a
//! branch that moved meanwhile rejects the push and the command starts over.
//!
//! A value that pins a digest next to its tag (a kustomize `images` entry's
//! `digest`, `name:tag@sha256:…`, `name@sha256:…`, or a value with a Flux
//! `:digest` marker) gets the digest the registry's `HEAD` of the manifest of
//! the new tag answers, so the digest never keeps an old build running.
//! Tags quarantined on the branch (`.kiln/quarantine.yaml`, after a failed
//! deploy) are never chosen by `update` or `pin`, and refused by `set` and `stage`.

use std::collections::{BTreeMap, HashMap};
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, Result, anyhow, bail};
use gix::ObjectId;
use kiln::daemon::edit;
use kiln::daemon::publish::{Identity, LostRace, Published};
use kiln::daemon::registry::{Registries, Settings};
use kiln::daemon::remote::{Pushed, Remote};
use kiln::daemon::repo;
use kiln::daemon::tree::GitTree;
use kiln::quarantine::Quarantine;
use promoter::Policy;
use promoter::rewrite::{self, Edit, Field, ImageRef, PolicyRef};
use promoter::tag::{Tag, UniqueTag};
use renderer::tree::{EntryKind, Tree};

/// The commit message when no `--message-template` is given.
const DEFAULT_TEMPLATE: &str = "\
{{ command }}: {% if images|length == 1 %}{{ images[0].image }} {{ images[0].old }} -> {{ images[0].new }}\
{% else %}{{ images|length }} images{% endif %}{% if env %} in {{ env }}{% endif %}

{% for c in changes %}- {{ c.file }}: {{ c.image }} {{ c.old }} -> {{ c.new }}
{% endfor %}
Kiln-Command: {{ command }}
{% if env %}Kiln-Environment: {{ env }}
{% endif %}{% for i in images %}Kiln-Image: {{ i.image }} {{ i.old }} -> {{ i.new }}
{% endfor %}";

/// HEAD requests `pin` makes at most per image while looking for a digest.
const MAX_PIN_LOOKUPS: usize = 2000;

/// Write image tags into a config repository branch: `set` (CI writes the tag
/// it built), `update` (apply policies against registries), `stage` (copy the
/// unique tags of one environment into another) and `pin` (replace an
/// environment tag by the unique tag with the same digest).
#[derive(Debug, clap::Args)]
pub struct PromoteArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: PromoteCommand,
}

/// `kiln promote` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum PromoteCommand {
    /// Set IMAGE's tag to TAG: in one environment, or every reference on the branch.
    Set {
        /// The image name, without tag, as the files write it.
        image: String,
        /// The new tag.
        tag: String,
        /// Only this environment.
        #[arg(long)]
        env: Option<String>,
        #[command(flatten)]
        registry: RegistryArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Apply each image's policy (Flux markers and annotations) to the tags its registry lists.
    Update {
        /// Only this environment.
        #[arg(long)]
        env: Option<String>,
        /// Only these images (repeatable).
        #[arg(long = "image")]
        images: Vec<String>,
        /// The policy of references that name none, e.g. `latest-unique`; without it they are left alone.
        #[arg(long)]
        policy: Option<String>,
        /// Take the tags from the command line instead of the registry (repeatable).
        #[arg(long = "tag")]
        tags: Vec<String>,
        /// Take the tags from standard input, one a line, instead of the registry.
        #[arg(long)]
        tags_from_stdin: bool,
        #[command(flatten)]
        registry: RegistryArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Copy the unique tags running in one environment into another.
    Stage {
        /// The environment whose tags are copied.
        #[arg(long)]
        from: String,
        /// The environment that receives them.
        #[arg(long)]
        to: String,
        /// Only these images (repeatable).
        #[arg(long = "image")]
        images: Vec<String>,
        #[command(flatten)]
        registry: RegistryArgs,
        #[command(flatten)]
        common: Common,
    },
    /// Replace environment tags (`app:production`) by the unique tag with the same digest.
    Pin {
        /// Only this environment.
        #[arg(long)]
        env: Option<String>,
        #[command(flatten)]
        registry: RegistryArgs,
        #[command(flatten)]
        common: Common,
    },
}

/// Options every `kiln promote` command takes.
#[derive(Debug, clap::Args)]
pub struct Common {
    /// The config repository: a local path (bare or with a work tree), or a URL
    /// (file://, https://, ssh) whose branch is fetched, committed and pushed with a lease.
    #[arg(long, default_value = ".")]
    pub repo: String,
    /// The branch to change; default: the local repository's current branch (required for a URL).
    #[arg(long)]
    pub branch: Option<String>,
    /// Print a unified diff of the change and write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Where an environment lives; `{env}` is its name.
    #[arg(long, env = "KILN_ENV_DIR", default_value = "apps/overlays/{env}")]
    pub env_dir: String,
    /// A minijinja template for the commit message (variables: command, env, changes, images).
    #[arg(long)]
    pub message_template: Option<PathBuf>,
    /// Create this release tag (`vX.Y.Z`) at the new commit; an existing one is never moved.
    #[arg(long)]
    pub release_tag: Option<String>,
    /// Commit author name.
    #[arg(long, default_value = "kiln")]
    pub author_name: String,
    /// Commit author email.
    #[arg(long, default_value = "kiln@localhost")]
    pub author_email: String,
}

/// How to reach registries.
#[derive(Debug, clap::Args)]
pub struct RegistryArgs {
    /// A docker config.json with credentials; default: $DOCKER_CONFIG/config.json or ~/.docker/config.json.
    #[arg(long)]
    pub docker_config: Option<PathBuf>,
    /// Speak plain HTTP to this registry host[:port] (repeatable); loopback hosts always are.
    #[arg(long = "insecure-registry")]
    pub insecure: Vec<String>,
}

impl RegistryArgs {
    fn registries(&self) -> Registries {
        Registries::new(Settings {
            docker_config: self.docker_config.clone(),
            insecure: self.insecure.clone(),
            options: Default::default(),
        })
    }
}

/// One value changed.
#[derive(Debug, Clone, serde::Serialize)]
struct Change {
    file: String,
    image: String,
    old: String,
    new: String,
}

/// A push to a remote repository lost its lease: the branch (or the release
/// tag) moved after it was fetched. Nothing changed on the remote.
#[derive(Debug)]
struct PushRejected {
    url: String,
    branch: String,
    reason: String,
}

impl std::fmt::Display for PushRejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "the push of branch {} to {} was rejected ({}): it moved since it was fetched",
            self.branch, self.url, self.reason
        )
    }
}

impl std::error::Error for PushRejected {}

/// A YAML file of the branch with the image values found in it.
struct File {
    path: String,
    text: String,
    refs: Vec<ImageRef>,
}

/// The branch being changed.
struct Branch {
    repo: gix::Repository,
    name: String,
    tip: ObjectId,
    tree: GitTree,
    /// The tags quarantined on the branch.
    quarantine: Quarantine,
    /// The temporary copy of a remote repository's branch, pushed after the commit.
    fetched: Option<edit::Fetched>,
}

/// Runs `kiln promote`. When the branch moves between the read and the
/// commit (another writer won the compare-and-swap), the command starts over
/// from the new tip, up to three times.
pub fn cmd_promote(args: &PromoteArgs) -> Result<()> {
    let mut attempt = 1;
    loop {
        match promote_once(args) {
            Err(e)
                if attempt < 3
                    && (e.downcast_ref::<LostRace>().is_some()
                        || e.downcast_ref::<PushRejected>().is_some()) =>
            {
                eprintln!("{e:#}; starting over from the new tip");
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn promote_once(args: &PromoteArgs) -> Result<()> {
    match &args.command {
        PromoteCommand::Set { image, tag, env, registry, common } => {
            check_tag(tag)?;
            let branch = open(common)?;
            let files = load(&branch, scope(common, env.as_deref(), &branch)?.as_deref())?;
            let mut registries = registry.registries();
            let changes =
                run(common, &branch, &files, &mut registries, "set", env.as_deref(), |_, r| {
                    Ok((r.image.as_deref() == Some(image.as_str()))
                        .then(|| (image.clone(), tag.clone())))
                })?;
            if changes.is_none() {
                let place = env.as_ref().map_or(String::new(), |e| format!(" in environment {e}"));
                bail!("no file of branch {} references image {image}{place}", branch.name);
            }
            Ok(())
        }
        PromoteCommand::Update { env, images, policy, tags, tags_from_stdin, registry, common } => {
            let branch = open(common)?;
            let policies = ImagePolicies::from_files(&texts(&branch, None)?)?;
            let files = load(&branch, scope(common, env.as_deref(), &branch)?.as_deref())?;
            let default = policy
                .as_deref()
                .map(|p| p.parse::<Policy>().with_context(|| format!("--policy {p}")))
                .transpose()?;
            let given: Option<Vec<String>> = if *tags_from_stdin {
                let mut text = String::new();
                std::io::stdin()
                    .read_to_string(&mut text)
                    .context("reading tags from standard input")?;
                Some(
                    text.lines()
                        .map(str::trim)
                        .filter(|l| !l.is_empty())
                        .map(str::to_owned)
                        .collect(),
                )
            } else {
                (!tags.is_empty()).then(|| tags.clone())
            };
            // Tags are listed once per image; the same registries answer digests in `run`.
            let mut lister = registry.registries();
            let mut registries = registry.registries();
            let quarantine = branch.quarantine.clone();
            run(common, &branch, &files, &mut registries, "update", env.as_deref(), |file, r| {
                let (policy, image) = match &r.policy {
                    Some(PolicyRef::ImagePolicy(name)) => {
                        let p = policies.get(name).with_context(|| {
                            format!(
                                "{}: marker {{\"$imagepolicy\": \"{name}\"}} at {}",
                                file.path, r.path
                            )
                        })?;
                        (p.policy.clone(), r.image.clone().or_else(|| p.image.clone()))
                    }
                    Some(PolicyRef::Annotation(text)) => (
                        text.parse::<Policy>().with_context(|| {
                            format!("{}: policy annotation for {}", file.path, r.path)
                        })?,
                        r.image.clone(),
                    ),
                    None => match &default {
                        Some(p) => (p.clone(), r.image.clone()),
                        None => return Ok(None),
                    },
                };
                let Some(image) = image else { return Ok(None) };
                if !images.is_empty() && !images.contains(&image) {
                    return Ok(None);
                }
                if r.field == Field::Name {
                    return Ok(None);
                }
                let list = match &given {
                    Some(list) => list.clone(),
                    None => lister.tags(&image)?,
                };
                let candidates = quarantine.exclude(&list);
                let winner = policy.select(&candidates).with_context(|| {
                    format!("{}: applying policy `{policy}` to {image}", file.path)
                })?;
                Ok(winner.map(|w| (image.clone(), w.to_owned())))
            })?;
            Ok(())
        }
        PromoteCommand::Stage { from, to, images, registry, common } => {
            let branch = open(common)?;
            let source = load(&branch, scope(common, Some(from), &branch)?.as_deref())?;
            let running = unique_tags(&source, from)?;
            for image in images {
                if !running.contains_key(image) {
                    bail!("image {image} does not run in environment {from}");
                }
            }
            let target = load(&branch, scope(common, Some(to), &branch)?.as_deref())?;
            let label = format!("{from} -> {to}");
            let mut registries = registry.registries();
            run(common, &branch, &target, &mut registries, "stage", Some(&label), |_, r| {
                let Some(image) = &r.image else { return Ok(None) };
                if !images.is_empty() && !images.contains(image) {
                    return Ok(None);
                }
                Ok(running.get(image).map(|tag| (image.clone(), tag.clone())))
            })?;
            Ok(())
        }
        PromoteCommand::Pin { env, registry, common } => {
            let branch = open(common)?;
            let files = load(&branch, scope(common, env.as_deref(), &branch)?.as_deref())?;
            let mut lister = registry.registries();
            let mut registries = registry.registries();
            let mut pinned: HashMap<(String, String), String> = HashMap::new();
            let quarantine = branch.quarantine.clone();
            run(common, &branch, &files, &mut registries, "pin", env.as_deref(), |_, r| {
                let (Some(image), Some(old)) = (&r.image, old_tag(r)) else { return Ok(None) };
                if Tag::parse(&old).kind() != "environment"
                    || !matches!(r.field, Field::Tag | Field::Image)
                {
                    return Ok(None);
                }
                let key = (image.clone(), old.clone());
                if let Some(tag) = pinned.get(&key) {
                    return Ok(Some((image.clone(), tag.clone())));
                }
                let tag = pin(&mut lister, &quarantine, image, &old)?;
                pinned.insert(key, tag.clone());
                Ok(Some((image.clone(), tag)))
            })?;
            Ok(())
        }
    }
}

/// The unique tag whose manifest digest equals that of `image:env_tag`, newest
/// first, passing over quarantined tags.
fn pin(
    registries: &mut Registries,
    quarantine: &Quarantine,
    image: &str,
    env_tag: &str,
) -> Result<String> {
    let wanted = registries.manifest(image, env_tag)?.digest;
    let listed = registries.tags(image)?;
    let mut unique: Vec<UniqueTag> = quarantine
        .exclude(&listed)
        .into_iter()
        .filter_map(|t| t.parse::<UniqueTag>().ok())
        .collect();
    unique.sort_by(|a, b| b.cmp(a));
    for (n, tag) in unique.iter().enumerate() {
        if n >= MAX_PIN_LOOKUPS {
            bail!(
                "{image}:{env_tag}: no match for digest {wanted} among the newest {MAX_PIN_LOOKUPS} unique tags"
            );
        }
        let tag = tag.to_string();
        if registries.manifest(image, &tag)?.digest == wanted {
            return Ok(tag);
        }
    }
    bail!(
        "{image}:{env_tag} has digest {wanted}, which no unique tag of {image} ({} listed) points to",
        unique.len()
    )
}

/// The unique tag each image runs in an environment's files.
fn unique_tags(files: &[File], env: &str) -> Result<BTreeMap<String, String>> {
    let mut running: BTreeMap<String, (String, String)> = BTreeMap::new();
    for file in files {
        for r in &file.refs {
            let (Some(image), Some(tag)) = (&r.image, old_tag(r)) else { continue };
            if tag.parse::<UniqueTag>().is_err() {
                bail!(
                    "{}: {image} runs tag {tag} in environment {env}, which is not a unique tag (v<semver>.<utc>.<sha>); pin it first",
                    file.path
                );
            }
            match running.get(image) {
                Some((other, at)) if *other != tag => bail!(
                    "{image} runs two tags in environment {env}: {other} ({at}) and {tag} ({})",
                    file.path
                ),
                _ => {
                    running.insert(image.clone(), (tag, file.path.clone()));
                }
            }
        }
    }
    Ok(running.into_iter().map(|(k, (tag, _))| (k, tag)).collect())
}

/// The tag a value holds: a tag field's value, or a whole reference's tag.
fn old_tag(r: &ImageRef) -> Option<String> {
    match r.field {
        Field::Tag => Some(r.value.clone()),
        Field::Image => rewrite::split_reference(&r.value).1.map(str::to_owned),
        Field::Name | Field::Digest => None,
    }
}

/// A tag as docker allows it: `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`; never `latest`.
fn check_tag(tag: &str) -> Result<()> {
    let valid = tag.len() <= 128
        && tag.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
        && tag.bytes().all(|b| b.is_ascii_alphanumeric() || b"_.-".contains(&b));
    if !valid {
        bail!(
            "{tag:?} is not a valid image tag ([A-Za-z0-9_][A-Za-z0-9_.-], at most 128 characters)"
        );
    }
    if tag == "latest" {
        bail!("refusing to deploy the tag `latest`: name a unique or environment tag");
    }
    Ok(())
}

/// Decides the image and new tag of each value, applies the edits and prints or commits them.
/// `None` when no value changes.
///
/// A value pinned to a digest (a whole reference with `@digest`, or a tag with
/// a `digest` beside it in the same mapping) gets the digest of the new tag
/// from `registries`; a digest value on its own (a `:digest` marker, a
/// kustomize entry with only `digest`) gets the digest of the tag decided for it.
fn run(
    common: &Common,
    branch: &Branch,
    files: &[File],
    registries: &mut Registries,
    command: &str,
    env: Option<&str>,
    mut decide: impl FnMut(&File, &ImageRef) -> Result<Option<(String, String)>>,
) -> Result<Option<Vec<Change>>> {
    let template = match &common.message_template {
        Some(path) => std::fs::read_to_string(path)
            .with_context(|| format!("reading the message template {}", path.display()))?,
        None => DEFAULT_TEMPLATE.to_owned(),
    };
    let mut digests: HashMap<(String, String), String> = HashMap::new();
    let mut digest_of = |image: &str, tag: &str| -> Result<String> {
        let key = (image.to_owned(), tag.to_owned());
        if let Some(d) = digests.get(&key) {
            return Ok(d.clone());
        }
        let digest = registries.manifest(image, tag)?.digest;
        digests.insert(key, digest.clone());
        Ok(digest)
    };
    let mut changes = Vec::new();
    let mut written: BTreeMap<String, (String, String)> = BTreeMap::new();
    let mut matched = false;
    for file in files {
        let mut edits = Vec::new();
        for r in &file.refs {
            // A digest beside a tag moves with the tag.
            if r.field == Field::Digest && sibling(file, r, Field::Tag).is_some() {
                continue;
            }
            let Some((image, new)) = decide(file, r)? else { continue };
            matched = true;
            check_tag(&new).with_context(|| format!("{}: new tag for {image}", file.path))?;
            if let Some(entry) = branch.quarantine.entries.iter().find(|e| e.tag == new) {
                bail!(
                    "{}: tag {new} of {image} is quarantined (the release of {} failed: {}); `kiln quarantine release {new}` allows it again",
                    file.path,
                    entry.commit,
                    entry.reason
                );
            }
            let before = edits.len();
            let (old, new_label) = match r.field {
                Field::Name => continue,
                Field::Tag => {
                    let pinned = sibling(file, r, Field::Digest);
                    let digest = pinned.map(|_| digest_of(&image, &new)).transpose()?;
                    if r.value != new {
                        edits.push(Edit { span: r.span.clone(), value: new.clone() });
                    }
                    if let (Some(p), Some(d)) = (pinned, &digest) {
                        if p.value != *d {
                            edits.push(Edit { span: p.span.clone(), value: d.clone() });
                        }
                    }
                    (
                        label(Some(&r.value), pinned.map(|p| p.value.as_str())),
                        label(Some(&new), digest.as_deref()),
                    )
                }
                Field::Image => {
                    let (name, old_tag, old_digest) = rewrite::split_reference(&r.value);
                    let digest = old_digest.map(|_| digest_of(&image, &new)).transpose()?;
                    // `name@digest` stays a digest reference; a tag is added only where one was.
                    let value = match (old_tag, &digest) {
                        (None, Some(d)) => format!("{name}@{d}"),
                        (Some(_), Some(d)) => format!("{name}:{new}@{d}"),
                        (_, None) => format!("{name}:{new}"),
                    };
                    if value != r.value {
                        edits.push(Edit { span: r.span.clone(), value });
                    }
                    (label(old_tag, old_digest), label(Some(&new), digest.as_deref()))
                }
                Field::Digest => {
                    let digest = digest_of(&image, &new)?;
                    if r.value != digest {
                        edits.push(Edit { span: r.span.clone(), value: digest.clone() });
                    }
                    (label(None, Some(&r.value)), label(Some(&new), Some(&digest)))
                }
            };
            if edits.len() > before {
                changes.push(Change { file: file.path.clone(), image, old, new: new_label });
            }
        }
        if !edits.is_empty() {
            let text = rewrite::apply(&file.text, &edits)
                .with_context(|| format!("rewriting {}", file.path))?;
            written.insert(file.path.clone(), (file.text.clone(), text));
        }
    }
    if !matched {
        return Ok(None);
    }
    if changes.is_empty() {
        println!("branch {}: every image already has its tag, nothing to change", branch.name);
        return Ok(Some(changes));
    }
    let message = message(&template, command, env, &changes)?;
    if common.dry_run {
        for (path, (old, new)) in &written {
            let diff = similar::TextDiff::from_lines(old.as_str(), new.as_str());
            print!("{}", diff.unified_diff().header(&format!("a/{path}"), &format!("b/{path}")));
        }
        eprintln!("dry run: nothing written; the commit message would be:\n{message}");
        return Ok(Some(changes));
    }
    let contents: BTreeMap<String, Vec<u8>> =
        written.into_iter().map(|(path, (_, new))| (path, new.into_bytes())).collect();
    // A branch checked out in a work tree: its changed files must be clean,
    // and are brought up to the new commit afterwards.
    let workdir = match &branch.fetched {
        Some(_) => None,
        None => edit::checked_out(&branch.repo, &branch.name)?,
    };
    let paths: Vec<&str> = contents.keys().map(String::as_str).collect();
    if let Some(dir) = &workdir {
        edit::check_clean(dir, &paths)?;
    }
    let author = Identity {
        name: common.author_name.clone(),
        email: common.author_email.clone(),
        time: None,
    };
    match edit::commit_files(&branch.repo, &branch.name, branch.tip, &contents, &author, &message)
        .with_context(|| format!("committing to branch {}", branch.name))?
    {
        Published::Unchanged => println!("branch {}: nothing to change", branch.name),
        Published::Committed { commit, .. } => {
            if let Some(fetched) = &branch.fetched {
                let pushed =
                    fetched.push(commit, common.release_tag.as_deref()).with_context(|| {
                        format!("pushing branch {} to {}", branch.name, common.repo)
                    })?;
                if let Pushed::Rejected { reason } = pushed {
                    return Err(PushRejected {
                        url: common.repo.clone(),
                        branch: branch.name.clone(),
                        reason,
                    }
                    .into());
                }
            }
            println!(
                "branch {}: committed {commit} ({} value(s) in {} file(s))",
                branch.name,
                changes.len(),
                contents.len()
            );
            if let Some(dir) = &workdir {
                edit::refresh(dir, commit, &paths)
                    .with_context(|| format!("updating the work tree {}", dir.display()))?;
            }
            if let Some(tag) = &common.release_tag {
                // A remote's tag was pushed with the branch; a local one is made here.
                if branch.fetched.is_none() {
                    edit::create_tag(&branch.repo, tag, commit)?;
                }
                println!("created release tag {tag} at {commit}");
            }
        }
    }
    Ok(Some(changes))
}

/// How a change shows a tag and digest: `tag`, `tag@digest` or `digest`.
fn label(tag: Option<&str>, digest: Option<&str>) -> String {
    match (tag, digest) {
        (Some(t), Some(d)) => format!("{t}@{d}"),
        (Some(t), None) => t.to_owned(),
        (None, Some(d)) => d.to_owned(),
        (None, None) => String::new(),
    }
}

/// The value of kind `field` in the same mapping as `value` (a kustomize
/// `images` entry's `newTag` and `digest`, a values map's `tag` and `digest`).
fn sibling<'f>(file: &'f File, value: &ImageRef, field: Field) -> Option<&'f ImageRef> {
    let parent = |path: &str| path.rsplit_once('.').map_or(String::new(), |(p, _)| p.to_owned());
    file.refs.iter().find(|d| {
        d.field == field
            && d.document == value.document
            && !d.value.is_empty()
            && parent(&d.path) == parent(&value.path)
    })
}

/// Refuses a malformed release tag, or one that exists already.
fn check_release_tag(repo: &gix::Repository, tag: &str) -> Result<()> {
    let well_formed = tag.strip_prefix('v').is_some_and(|v| semver::Version::parse(v).is_ok());
    if !well_formed {
        bail!("--release-tag {tag:?} is not a release tag vX.Y.Z");
    }
    if edit::tag_exists(repo, tag)? {
        bail!(
            "release tag {tag} already exists; release tags are immutable and kiln never moves one"
        );
    }
    Ok(())
}

/// Renders the commit message: every change, and one trailer per image move.
fn message(template: &str, command: &str, env: Option<&str>, changes: &[Change]) -> Result<String> {
    let mut images: Vec<Change> = Vec::new();
    for c in changes {
        if !images.iter().any(|i| i.image == c.image && i.old == c.old && i.new == c.new) {
            images.push(Change { file: String::new(), ..c.clone() });
        }
    }
    let env_ = minijinja::Environment::new();
    let rendered = env_
        .render_str(
            template,
            minijinja::context! { command => command, env => env, changes => changes, images => images },
        )
        .map_err(|e| anyhow!("rendering the commit message template: {e:#}"))?;
    Ok(format!("{}\n", rendered.trim_end()))
}

/// Opens the repository and reads the branch's tip and tree.
fn open(common: &Common) -> Result<Branch> {
    let (repo, fetched, name) = if edit::is_remote(&common.repo) {
        let name = common.branch.clone().ok_or_else(|| {
            anyhow!("{} is a remote repository: name the branch with --branch", common.repo)
        })?;
        let tags: Vec<&str> = common.release_tag.iter().map(String::as_str).collect();
        let fetched = edit::fetch_branch(&Remote::new(common.repo.clone()), &name, &tags)?;
        (fetched.repo.clone(), Some(fetched), name)
    } else {
        let repo = repo::open(Path::new(&common.repo))?;
        let name = match &common.branch {
            Some(b) => b.clone(),
            None => current_branch(&repo)?,
        };
        (repo, None, name)
    };
    if let Some(tag) = &common.release_tag {
        check_release_tag(&repo, tag)?;
    }
    let tip = repo::branch_tip(&repo, &name)?
        .ok_or_else(|| anyhow!("branch {name} does not exist in {}", common.repo))?;
    let tree = GitTree::at_commit(&repo, tip)?;
    let quarantine = Quarantine::load(&tree)
        .with_context(|| format!("reading the quarantine of branch {name}"))?;
    Ok(Branch { repo, name, tip, tree, quarantine, fetched })
}

/// The branch HEAD names.
fn current_branch(repo: &gix::Repository) -> Result<String> {
    let head = repo.head_name().context("reading HEAD")?;
    let head = head.ok_or_else(|| anyhow!("HEAD is detached: name the branch with --branch"))?;
    head.as_bstr().to_string().strip_prefix("refs/heads/").map(str::to_owned).ok_or_else(|| {
        anyhow!("HEAD points to {}, not a branch: name one with --branch", head.as_bstr())
    })
}

/// The directory of environment `env`, checked to exist; `None` without an environment.
fn scope(common: &Common, env: Option<&str>, branch: &Branch) -> Result<Option<String>> {
    let Some(env) = env else { return Ok(None) };
    if env.is_empty() || env.contains('/') || env.contains("..") {
        bail!("environment name {env:?} must be one path component");
    }
    let dir = common.env_dir.replace("{env}", env);
    let dir =
        renderer::tree::join("", &dir).with_context(|| format!("--env-dir {}", common.env_dir))?;
    if branch.tree.kind(&dir) != Some(EntryKind::Dir) {
        bail!(
            "environment {env}: directory {dir} does not exist on branch {} (see --env-dir)",
            branch.name
        );
    }
    Ok(Some(dir))
}

/// Every YAML file under `dir` (the whole branch when `None`) as path and text.
fn texts(branch: &Branch, dir: Option<&str>) -> Result<Vec<(String, String)>> {
    let mut paths = Vec::new();
    walk(&branch.tree, dir.unwrap_or(""), &mut paths)?;
    paths
        .into_iter()
        .map(|path| {
            let bytes = branch.tree.read(&path).with_context(|| format!("reading {path}"))?;
            let text = String::from_utf8(bytes).map_err(|_| anyhow!("{path}: not UTF-8 text"))?;
            Ok((path, text))
        })
        .collect()
}

/// Every YAML file under `dir` (the whole branch when `None`), parsed for image values.
fn load(branch: &Branch, dir: Option<&str>) -> Result<Vec<File>> {
    texts(branch, dir)?
        .into_iter()
        .map(|(path, text)| {
            let refs = rewrite::find(&text)
                .with_context(|| format!("{path} on branch {}", branch.name))?;
            Ok(File { path, text, refs })
        })
        .collect()
}

fn walk(tree: &GitTree, dir: &str, out: &mut Vec<String>) -> Result<()> {
    let entries = tree.list(dir).with_context(|| format!("listing {dir}"))?;
    let chart = entries.iter().any(|(n, k)| n == "Chart.yaml" && *k == EntryKind::File);
    for (name, kind) in entries {
        let path = if dir.is_empty() { name.clone() } else { format!("{dir}/{name}") };
        match kind {
            EntryKind::Dir if chart && name == "templates" => {}
            EntryKind::Dir => walk(tree, &path, out)?,
            EntryKind::File if name.ends_with(".yaml") || name.ends_with(".yml") => out.push(path),
            EntryKind::File => {}
        }
    }
    Ok(())
}

/// A Flux `ImagePolicy` found on the branch, with the image its `ImageRepository` names.
struct NamedPolicy {
    policy: Policy,
    image: Option<String>,
}

/// The branch's Flux `ImagePolicy` objects by `namespace:name`.
struct ImagePolicies(HashMap<String, NamedPolicy>);

impl ImagePolicies {
    fn from_files(files: &[(String, String)]) -> Result<Self> {
        let mut repositories: HashMap<String, String> = HashMap::new();
        let mut specs: Vec<(String, String, renderer::Value, String)> = Vec::new();
        for (path, text) in files {
            if !text.contains("image.toolkit.fluxcd.io") {
                continue;
            }
            let docs = renderer::yaml::parse_documents(text, path)
                .map_err(|e| anyhow!("{e}"))
                .with_context(|| format!("reading {path}"))?;
            for doc in docs {
                let api =
                    doc.get_path(&["apiVersion"]).and_then(|v| v.as_str()).unwrap_or_default();
                if !api.starts_with("image.toolkit.fluxcd.io/") {
                    continue;
                }
                let kind = doc.get_path(&["kind"]).and_then(|v| v.as_str()).unwrap_or_default();
                let name = doc
                    .get_path(&["metadata", "name"])
                    .and_then(|v| v.as_str())
                    .unwrap_or_default();
                let ns = doc
                    .get_path(&["metadata", "namespace"])
                    .and_then(|v| v.as_str())
                    .unwrap_or("flux-system");
                let key = format!("{ns}:{name}");
                match kind {
                    "ImageRepository" => {
                        if let Some(image) =
                            doc.get_path(&["spec", "image"]).and_then(|v| v.as_str())
                        {
                            repositories.insert(key, image.to_owned());
                        }
                    }
                    "ImagePolicy" => {
                        let repo = doc
                            .get_path(&["spec", "imageRepositoryRef", "name"])
                            .and_then(|v| v.as_str())
                            .map(|r| {
                                let rns = doc
                                    .get_path(&["spec", "imageRepositoryRef", "namespace"])
                                    .and_then(|v| v.as_str())
                                    .unwrap_or(ns);
                                format!("{rns}:{r}")
                            })
                            .unwrap_or_default();
                        let spec = doc.get_path(&["spec"]).cloned().unwrap_or_default();
                        specs.push((key, repo, spec, path.clone()));
                    }
                    _ => {}
                }
            }
        }
        let mut out = HashMap::new();
        for (key, repo, spec, path) in specs {
            let policy: Policy = serde_json::from_value(to_json(&spec))
                .map_err(|e| anyhow!("{e}"))
                .with_context(|| format!("{path}: ImagePolicy {key}"))?;
            out.insert(key, NamedPolicy { policy, image: repositories.get(&repo).cloned() });
        }
        Ok(ImagePolicies(out))
    }

    fn get(&self, name: &str) -> Result<&NamedPolicy> {
        self.0.get(name).ok_or_else(|| {
            anyhow!("ImagePolicy {name} does not exist on the branch (no image.toolkit.fluxcd.io ImagePolicy with that namespace and name)")
        })
    }
}

fn to_json(value: &renderer::Value) -> serde_json::Value {
    use renderer::Value as V;
    match value {
        V::Null => serde_json::Value::Null,
        V::Bool(b) => (*b).into(),
        V::Int(i) => (*i).into(),
        V::Uint(u) => (*u).into(),
        V::Float(f) => serde_json::Number::from_f64(*f).map_or(serde_json::Value::Null, Into::into),
        V::String(s) => s.clone().into(),
        V::Seq(items) => items.iter().map(to_json).collect(),
        V::Map(map) => map.iter().map(|(k, v)| (k.clone(), to_json(v))).collect(),
    }
}
