//! The watcher's config file (`kiln-watch.yaml`): every key is a flag of `kiln watch`, so the file can say whatever the command line can.
//!
//! A key is a flag's long name in camelCase (`targetBranch` is
//! `--target-branch`, `verifyTimeout` is `--verify-timeout`); a repeatable
//! flag also answers to its plural (`branches`, `clusters`,
//! `fluxKustomizations`). Values: a string or number is the flag's value,
//! `true` sets a switch (`false` leaves it off), a list repeats the flag, a
//! mapping under a repeatable flag gives `KEY=VALUE` items (`branches:
//! {staging: staging}`), and any other mapping nests names (`author: {name:
//! kiln}` is `--author-name kiln`). A flag given on the command line wins over
//! the file; a list on the command line replaces the file's list. The file
//! is not the repository's `kiln.yaml`, which declares a render layout.

use std::ffi::OsString;
use std::path::Path;

use anyhow::{Context as _, Result, anyhow, bail};
use clap::parser::ValueSource;
use clap::{Args as _, FromArgMatches as _};
use renderer::Value;

use super::watch::WatchArgs;

/// The name of the watcher's config file, read from the working directory when `--config` is not given.
pub const FILE_NAME: &str = "kiln-watch.yaml";

/// The arguments of `kiln watch`: `cli` (what followed `watch` on the
/// command line) over the settings of the config file at `path`.
pub fn merge(cli: &[OsString], path: &Path) -> Result<WatchArgs> {
    let file = load(path)?;
    let command = || WatchArgs::augment_args(clap::Command::new("watch")).no_binary_name(true);
    let given = command().try_get_matches_from(cli).map_err(|e| anyhow!("{e}"))?;
    let mut argv =
        file_args(&command(), &file, |id| given.value_source(id) == Some(ValueSource::CommandLine))
            .with_context(|| format!("{}", path.display()))?;
    argv.extend(cli.iter().cloned());
    let matches = command().try_get_matches_from(argv).map_err(|e| anyhow!("{e}"))?;
    WatchArgs::from_arg_matches(&matches).map_err(|e| anyhow!("{e}"))
}

/// Reads the file: a mapping at the top, or nothing.
fn load(path: &Path) -> Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let docs = renderer::yaml::parse_documents(&text, &path.to_string_lossy())
        .map_err(|e| anyhow!(e))
        .with_context(|| format!("parsing {}", path.display()))?;
    match docs.into_iter().next() {
        Some(doc @ Value::Map(_)) => Ok(doc),
        Some(Value::Null) | None => Ok(Value::Null),
        Some(_) => bail!("{}: expected a mapping at the top", path.display()),
    }
}

/// The flags the file stands for, leaving out those `on_command_line` says were given there.
fn file_args(
    command: &clap::Command,
    file: &Value,
    on_command_line: impl Fn(&str) -> bool,
) -> Result<Vec<OsString>> {
    let mut out = Vec::new();
    let Value::Map(map) = file else { return Ok(out) };
    let mut pending: Vec<(String, &Value)> = map.iter().map(|(k, v)| (k.clone(), v)).collect();
    pending.reverse();
    while let Some((key, value)) = pending.pop() {
        let arg = find(command, &key);
        if let (None, Value::Map(nested)) = (arg, value) {
            // `author: {name: x}` is `authorName: x`.
            for (k, v) in nested.iter().rev() {
                let mut chars = k.chars();
                let capital: String = chars
                    .next()
                    .map(|c| c.to_uppercase().chain(chars).collect())
                    .unwrap_or_default();
                pending.push((format!("{key}{capital}"), v));
            }
            continue;
        }
        let arg = arg.ok_or_else(|| anyhow!("unknown key {key:?}: {}", known(command)))?;
        let id = arg.get_id().as_str();
        if id == "config" {
            bail!("key {key:?}: a config file cannot name another");
        }
        if on_command_line(id) {
            continue;
        }
        let flag = format!("--{}", arg.get_long().unwrap_or(id));
        let switch = !arg.get_action().takes_values();
        let repeatable = matches!(arg.get_action(), clap::ArgAction::Append);
        let scalar = |v: &Value| -> Result<String> {
            match v {
                Value::String(s) => Ok(s.clone()),
                Value::Int(i) => Ok(i.to_string()),
                Value::Uint(u) => Ok(u.to_string()),
                Value::Float(f) => Ok(f.to_string()),
                Value::Bool(b) => Ok(b.to_string()),
                other => bail!("key {key:?}: expected a string, found a {}", other.type_name()),
            }
        };
        match value {
            Value::Null => {}
            Value::Bool(b) if switch => {
                if *b {
                    out.push(flag.into());
                }
            }
            _ if switch => bail!("key {key:?}: expected true or false"),
            Value::Seq(items) if repeatable => {
                for item in items {
                    out.push(format!("{flag}={}", scalar(item)?).into());
                }
            }
            Value::Map(items) if repeatable => {
                for (k, v) in items {
                    out.push(format!("{flag}={k}={}", scalar(v)?).into());
                }
            }
            other => out.push(format!("{flag}={}", scalar(other)?).into()),
        }
    }
    Ok(out)
}

/// The flag a key names: its long name in kebab case, or a repeatable flag's plural (`-s`, `-es`).
fn find<'a>(command: &'a clap::Command, key: &str) -> Option<&'a clap::Arg> {
    let mut kebab = String::new();
    for c in key.chars() {
        if c.is_ascii_uppercase() {
            kebab.push('-');
            kebab.push(c.to_ascii_lowercase());
        } else {
            kebab.push(c);
        }
    }
    let by = |name: &str| command.get_arguments().find(|a| a.get_long() == Some(name));
    let plural = |suffix: &str| {
        let singular = kebab.strip_suffix(suffix)?;
        by(singular).filter(|a| matches!(a.get_action(), clap::ArgAction::Append))
    };
    by(&kebab).or_else(|| plural("s")).or_else(|| plural("es"))
}

/// The keys a file may hold, for an error message.
fn known(command: &clap::Command) -> String {
    let keys: Vec<String> = command
        .get_arguments()
        .filter_map(|a| a.get_long())
        .filter(|l| *l != "config")
        .map(|l| {
            let mut out = String::new();
            let mut upper = false;
            for c in l.chars() {
                if c == '-' {
                    upper = true;
                } else if upper {
                    out.push(c.to_ascii_uppercase());
                    upper = false;
                } else {
                    out.push(c);
                }
            }
            out
        })
        .collect();
    format!("expected one of {}", keys.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(file: &str, cli: &[&str]) -> Result<WatchArgs> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(FILE_NAME);
        std::fs::write(&path, file).unwrap();
        let cli: Vec<OsString> = cli.iter().map(OsString::from).collect();
        merge(&cli, &path)
    }

    #[test]
    fn every_flag_from_the_file_and_the_command_line_wins() {
        let file = "repo: /srv/git/config.git\nbranches:\n  staging: stage\n  production: prod\ntargetBranch: rendered\nauthor:\n  name: Kiln Bot\n  email: kiln@acme.example\nallowEmpty: true\nadopt: false\npushAttempts: 7\nclusters: [a, b]\nverify: command\ncheckCommand: ./check.sh\nverifyTimeout: 5m\nonTimeout: succeed\nmainBranch: trunk\nmessage: 'Render {{ changes | length }}'\nlogFormat: json\n";
        let a = args(file, &[]).unwrap();
        assert_eq!(a.repo.as_deref(), Some("/srv/git/config.git"));
        assert_eq!(a.branches, ["staging=stage", "production=prod"]);
        assert_eq!(a.target_branch.as_deref(), Some("rendered"));
        assert_eq!(a.author_name.as_deref(), Some("Kiln Bot"));
        assert_eq!(a.author_email.as_deref(), Some("kiln@acme.example"));
        assert!(a.allow_empty && !a.adopt);
        assert_eq!(a.push_attempts, Some(7));
        assert_eq!(a.scope.clusters, ["a", "b"]);
        assert_eq!(a.verify, Some(super::super::watch::VerifyBy::Command));
        assert_eq!(a.check_command.as_deref(), Some("./check.sh"));
        assert_eq!(a.verify_timeout, std::time::Duration::from_secs(300));
        assert_eq!(a.on_timeout, kiln::verify::OnTimeout::Succeed);
        assert_eq!(a.main_branch, "trunk");
        assert_eq!(a.message.as_deref(), Some("Render {{ changes | length }}"));
        assert_eq!(a.log_format, "json");

        let cli = ["--repo", "/other.git", "--branch", "main=live", "--verify-timeout", "1m"];
        let a = args(file, &cli).unwrap();
        assert_eq!(a.repo.as_deref(), Some("/other.git"));
        assert_eq!(a.branches, ["main=live"]);
        assert_eq!(a.verify_timeout, std::time::Duration::from_secs(60));
        assert_eq!(a.main_branch, "trunk");
    }

    #[test]
    fn bad_files_are_errors() {
        let cases = [
            ("repoo: x\n", "unknown key \"repoo\""),
            ("config: other.yaml\n", "cannot name another"),
            ("adopt: yes please\n", "expected true or false"),
            ("repo: [a, b]\n", "expected a string"),
            ("verify: telepathy\n", "telepathy"),
            ("- a\n", "expected a mapping at the top"),
        ];
        for (file, want) in cases {
            let err = format!("{:#}", args(file, &[]).unwrap_err());
            assert!(err.contains(want), "{file}: {err}");
        }
    }
}
