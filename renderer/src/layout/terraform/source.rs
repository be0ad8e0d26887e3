//! Module `source` addresses read as the Terraform version a repository targets: a directory of the repository, or a package `terraform init` installs.
//!
//! Terraform's reading of a source changed twice:
//!
//! - before 0.10.6, every address went through go-getter's detectors: the
//!   GitHub, Bitbucket, git-over-ssh, S3 and GCS forms and forced getters
//!   (`git::...`) are remote, and anything else is a file path, relative to
//!   the calling module's directory (`modules/vpc` is `./modules/vpc`);
//! - from 0.10.6 (the module registry), an address of the registry's form
//!   (`namespace/name/provider`, with an optional host first) is a registry
//!   module before the detectors are asked;
//! - from 0.12, only `./` and `../` (or `.\`, `..\`) mark a local path; an
//!   address that go-getter would take for a file path is refused
//!   (0.12 to 1.0: "cannot determine the module source", from 1.1: "Invalid
//!   module source address").
//!
//! Which reading applies comes from the root module's `required_version`
//! (its lowest admitted version). Without one, the address itself dates the
//! configuration: a path without `./` was only ever valid before 0.12, and a
//! configuration written since then has none, so kiln reads it as 0.10.6 to
//! 0.11 did (a registry address first, else a path); a registry-shaped
//! address that names a directory of the repository and no installed
//! module is read as go-getter read it before the registry, a path.

use std::cmp::Ordering;

/// The Terraform versions whose readings of a source differ.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Era {
    /// Before 0.10.6: go-getter's detectors alone.
    Detectors,
    /// 0.10.6 to 0.11: registry addresses, then the detectors.
    Registry,
    /// 0.12 to 1.0: a path must start with `./` or `../`.
    Explicit,
    /// 1.1 and later: the same, with 1.1's wording for a bare path.
    Addrs,
}

impl Era {
    /// The era of the lowest version a `required_version` constraint
    /// admits (hashicorp/go-version syntax: `>= 0.11.0, < 0.12`, `~> 0.9`);
    /// `None` without a constraint, or for one kiln cannot read.
    pub fn of_constraint(constraint: &str) -> Option<Era> {
        let mut lowest = [0u64; 3];
        for clause in constraint.split(',') {
            let clause = clause.trim();
            let (op, rest) = ["~>", ">=", "<=", "!=", "=", ">", "<"]
                .iter()
                .find_map(|op| clause.strip_prefix(op).map(|r| (*op, r)))
                .unwrap_or(("=", clause));
            let version = parse_version(rest.trim())?;
            // Upper bounds and exclusions leave the lowest admitted version
            // where the lower bounds put it.
            if matches!(op, "~>" | ">=" | "=" | ">") && version.cmp(&lowest) == Ordering::Greater {
                lowest = version;
            }
        }
        Some(match lowest {
            [0, m, p] if m < 10 || (m == 10 && p < 6) => Era::Detectors,
            [0, m, _] if m < 12 => Era::Registry,
            [0, _, _] | [1, 0, _] => Era::Explicit,
            _ => Era::Addrs,
        })
    }
}

/// `1`, `0.11`, `0.11.14`, `v0.12.0-beta1` as three numbers (a missing part is 0).
fn parse_version(text: &str) -> Option<[u64; 3]> {
    let text = text.strip_prefix('v').unwrap_or(text);
    let core = text.split(['-', '+']).next()?;
    let mut out = [0u64; 3];
    for (i, part) in core.split('.').enumerate() {
        *out.get_mut(i)? = part.parse().ok()?;
    }
    Some(out)
}

/// What a module's `source` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A directory relative to the calling module's.
    Local(String),
    /// A package `terraform init` downloads (git, registry, HTTP, S3, ...).
    Remote,
}

/// Reads `source` as Terraform of `era` reads it; an address that era
/// refuses, or a path outside every repository (absolute, `file://`), is
/// an error in Terraform's words where it has them.
pub fn classify(source: &str, era: Era) -> Result<Source, String> {
    let explicit = ["./", "../", ".\\", "..\\"].iter().any(|p| source.starts_with(p));
    if explicit {
        return Ok(Source::Local(source.replace('\\', "/")));
    }
    if era >= Era::Registry && is_registry_address(source) {
        return Ok(Source::Remote);
    }
    if is_remote_form(source) {
        return Ok(Source::Remote);
    }
    if source.starts_with('/') || source.starts_with("file://") {
        return Err(format!(
            "source {source:?} is an absolute path, outside the repository; kiln reads only the repository (and installed modules)"
        ));
    }
    match era {
        Era::Detectors | Era::Registry => Ok(Source::Local(source.to_string())),
        Era::Explicit => Err(format!(
            "Terraform cannot determine the module source for {source} (Terraform 0.12 and later read a local path only with a leading ./ or ../)"
        )),
        Era::Addrs => Err(format!(
            "Invalid module source address: Terraform failed to determine your intended installation method for remote module package {source:?}. If you intended this as a path relative to the current module, use \"./{source}\" instead."
        )),
    }
}

/// Whether go-getter's detectors take `source` for a remote package: a
/// forced getter (`git::`, `hg::`, `s3::`), a URL, or the GitHub,
/// Bitbucket, git-over-ssh, S3 and GCS shorthands. Everything else is what
/// its file detector takes, a path.
fn is_remote_form(source: &str) -> bool {
    let forced = source.split_once("::").is_some_and(|(getter, rest)| {
        !getter.is_empty() && getter.chars().all(|c| c.is_ascii_alphanumeric()) && !rest.is_empty()
    });
    let url = source.split_once("://").is_some_and(|(scheme, _)| {
        scheme != "file" && !scheme.is_empty() && scheme.chars().all(|c| c.is_ascii_alphanumeric())
    });
    forced
        || url
        || source.starts_with("github.com/")
        || source.starts_with("bitbucket.org/")
        || source.starts_with("git@")
        || source.contains(".amazonaws.com/")
        || source.contains("googleapis.com/")
}

/// Whether `source` has the registry's form: `[host/]namespace/name/provider[//subdir]`,
/// namespace and name alphanumeric with inner `-` and `_` (at most 64
/// characters), provider lower-case alphanumeric, a host holding a dot.
pub fn is_registry_address(source: &str) -> bool {
    let address = source.split_once("//").map_or(source, |(a, _)| a);
    let parts: Vec<&str> = address.split('/').collect();
    let parts = match parts.as_slice() {
        [host, rest @ ..] if rest.len() == 3 && host.contains('.') => rest,
        all if all.len() == 3 => all,
        _ => return false,
    };
    let name = |s: &str| {
        let b = s.as_bytes();
        !b.is_empty()
            && b.len() <= 64
            && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-' || *c == b'_')
            && b[0].is_ascii_alphanumeric()
            && b[b.len() - 1].is_ascii_alphanumeric()
    };
    let provider = |s: &str| {
        !s.is_empty()
            && s.len() <= 64
            && s.bytes().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase())
    };
    name(parts[0]) && name(parts[1]) && provider(parts[2])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn eras_come_from_the_lowest_admitted_version() {
        let cases: &[(&str, Option<Era>)] = &[
            ("", None),
            ("< 0.12", Some(Era::Detectors)),
            (">= 0.9.0", Some(Era::Detectors)),
            ("~> 0.10.5", Some(Era::Detectors)),
            (">= 0.10.6", Some(Era::Registry)),
            (">= 0.11.0, < 0.12.0", Some(Era::Registry)),
            ("0.11.14", Some(Era::Registry)),
            (">= 0.12", Some(Era::Explicit)),
            ("~> 1.0.0", Some(Era::Explicit)),
            (">= 0.13, >= 1.1.0", Some(Era::Addrs)),
            (">= 1.5", Some(Era::Addrs)),
            ("v0.12.0-beta1", Some(Era::Explicit)),
            (">= x", None),
        ];
        for (constraint, want) in cases {
            assert_eq!(Era::of_constraint(constraint), *want, "{constraint:?}");
        }
    }

    #[test]
    fn sources_are_read_as_their_era_reads_them() {
        use Era::*;
        let local = |s: &str| Ok(Source::Local(s.to_string()));
        let cases: &[(&str, Era, Result<Source, String>)] = &[
            ("./modules/vpc", Addrs, local("./modules/vpc")),
            ("../shared", Detectors, local("../shared")),
            (".\\modules\\vpc", Explicit, local("./modules/vpc")),
            ("modules/vpc", Detectors, local("modules/vpc")),
            ("modules/vpc", Registry, local("modules/vpc")),
            ("kubernetes", Registry, local("kubernetes")),
            // Three parts of the registry's form: a registry module from 0.10.6.
            ("modules/kube/master", Detectors, local("modules/kube/master")),
            ("modules/kube/master", Registry, Ok(Source::Remote)),
            ("modules/Kube/Master", Registry, local("modules/Kube/Master")),
            ("hashicorp/consul/aws", Addrs, Ok(Source::Remote)),
            ("app.terraform.io/corp/k8s/azurerm", Explicit, Ok(Source::Remote)),
            (
                "git::https://github.com/gambol99/kube-tf-master.git?ref=master",
                Detectors,
                Ok(Source::Remote),
            ),
            ("github.com/hashicorp/example", Detectors, Ok(Source::Remote)),
            ("git@github.com:hashicorp/example.git", Detectors, Ok(Source::Remote)),
            ("bitbucket.org/hashicorp/example", Detectors, Ok(Source::Remote)),
            ("https://example.com/vpc-module.zip", Detectors, Ok(Source::Remote)),
            ("bucket.s3.amazonaws.com/vpc.zip", Detectors, Ok(Source::Remote)),
            ("www.googleapis.com/storage/v1/modules/foomodule.zip", Detectors, Ok(Source::Remote)),
        ];
        for (source, era, want) in cases {
            assert_eq!(&classify(source, *era), want, "{source} in {era:?}");
        }
        for (source, era, text) in [
            ("modules/vpc", Explicit, "cannot determine the module source for modules/vpc"),
            ("modules/vpc", Addrs, "use \"./modules/vpc\" instead"),
            ("/opt/modules/vpc", Detectors, "absolute path"),
            ("file:///opt/modules/vpc", Registry, "absolute path"),
        ] {
            let err = classify(source, era).unwrap_err();
            assert!(err.contains(text), "{source} in {era:?}: {err}");
        }
    }
}
