//! Quarantined image tags: unique tags whose release failed to deploy, recorded in the source repository.
//!
//! The record is `.kiln/quarantine.yaml` on the source branch, so it is
//! reviewed, versioned and shared like everything else there. The promoter
//! filters its candidate tags through [`Quarantine::exclude`] before its policy
//! picks one; `kiln quarantine release TAG` takes a tag out again.

use std::collections::BTreeSet;

use renderer::value::{Map, Value};

/// Where the record lives in the source tree.
pub const PATH: &str = ".kiln/quarantine.yaml";

/// Errors reading the record.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The file is not YAML.
    #[error("parsing {PATH}")]
    Parse(#[source] renderer::yaml::ParseError),
    /// The file's shape is wrong.
    #[error("{PATH}: {message}")]
    Shape {
        /// What is wrong.
        message: String,
    },
}

/// One quarantined tag.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// The tag, e.g. `v1.2.2.2022-01-15t161730814Z.9eabf5b5...`.
    pub tag: String,
    /// The image it was found on, e.g. `registry.example.com/web`; empty if unknown.
    pub image: String,
    /// The source commit whose release failed.
    pub commit: String,
    /// Why the release failed.
    pub reason: String,
}

/// The set of quarantined tags, in the order they were added.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Quarantine {
    /// The entries.
    pub entries: Vec<Entry>,
}

impl Quarantine {
    /// Reads the record's text; empty text is an empty quarantine.
    pub fn parse(text: &str) -> Result<Quarantine, Error> {
        let documents = renderer::yaml::parse_documents(text, PATH).map_err(Error::Parse)?;
        let Some(document) = documents.into_iter().find(|d| !d.is_null()) else {
            return Ok(Quarantine::default());
        };
        let shape = |message: &str| Error::Shape { message: message.into() };
        let list = match document.get_path(&["tags"]) {
            None | Some(Value::Null) => return Ok(Quarantine::default()),
            Some(list) => list.as_seq().ok_or_else(|| shape("tags must be a list"))?,
        };
        let mut entries = vec![];
        for item in list {
            let field = |name: &str| match item.get_path(&[name]) {
                None | Some(Value::Null) => Ok(String::new()),
                Some(value) => value
                    .as_str()
                    .map(str::to_string)
                    .ok_or_else(|| shape(&format!("tags[].{name} must be a string"))),
            };
            let entry = Entry {
                tag: field("tag")?,
                image: field("image")?,
                commit: field("commit")?,
                reason: field("reason")?,
            };
            if entry.tag.is_empty() {
                return Err(shape("every entry of tags needs a tag"));
            }
            entries.push(entry);
        }
        Ok(Quarantine { entries })
    }

    /// Reads the record from a source tree; a missing file is an empty quarantine.
    pub fn load(tree: &dyn renderer::tree::Tree) -> anyhow::Result<Quarantine> {
        if tree.kind(PATH).is_none() {
            return Ok(Quarantine::default());
        }
        let text = renderer::tree::read_text(tree, PATH)?;
        Ok(Quarantine::parse(&text)?)
    }

    /// The record's text.
    pub fn to_yaml(&self) -> String {
        let entries = self
            .entries
            .iter()
            .map(|e| {
                let mut map = Map::new();
                map.insert("tag".into(), Value::String(e.tag.clone()));
                for (key, value) in
                    [("image", &e.image), ("commit", &e.commit), ("reason", &e.reason)]
                {
                    if !value.is_empty() {
                        map.insert(key.into(), Value::String(value.clone()));
                    }
                }
                Value::Map(map)
            })
            .collect();
        let mut root = Map::new();
        root.insert("tags".into(), Value::Seq(entries));
        format!(
            "# Image tags kiln will not promote because their release failed to deploy.\n\
             # `kiln quarantine release TAG` removes one.\n{}",
            renderer::yaml::to_string(&Value::Map(root))
        )
    }

    /// Whether `tag` is quarantined.
    pub fn contains(&self, tag: &str) -> bool {
        self.entries.iter().any(|e| e.tag == tag)
    }

    /// Adds an entry unless its tag is already quarantined; whether it was added.
    pub fn add(&mut self, entry: Entry) -> bool {
        if self.contains(&entry.tag) {
            return false;
        }
        self.entries.push(entry);
        true
    }

    /// Removes `tag`; whether it was there.
    pub fn release(&mut self, tag: &str) -> bool {
        let before = self.entries.len();
        self.entries.retain(|e| e.tag != tag);
        self.entries.len() != before
    }

    /// The candidate tags that are not quarantined, in their order: what the
    /// promoter's policy selection should choose from.
    pub fn exclude<'t, S: AsRef<str>>(&self, tags: &'t [S]) -> Vec<&'t str> {
        let banned: BTreeSet<&str> = self.entries.iter().map(|e| e.tag.as_str()).collect();
        tags.iter().map(AsRef::as_ref).filter(|t| !banned.contains(t)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BAD: &str = "v1.2.3.2026-11-22t120000000Z.9eabf5b536662000f79978c4d1b6e4eff5c8d785";
    const GOOD: &str = "v1.2.2.2026-11-21t120000000Z.1111f5b536662000f79978c4d1b6e4eff5c8d785";

    #[test]
    fn round_trip_and_exclude() {
        let mut q = Quarantine::default();
        let entry = Entry {
            tag: BAD.into(),
            image: "registry.example.com/web".into(),
            commit: "abc".into(),
            reason: "Deployment apps/web failed: ProgressDeadlineExceeded: yes: no".into(),
        };
        assert!(q.add(entry.clone()));
        assert!(!q.add(entry));
        let text = q.to_yaml();
        assert_eq!(Quarantine::parse(&text).unwrap(), q, "{text}");
        assert_eq!(q.exclude(&[GOOD, BAD]), vec![GOOD]);
        let policy: promoter::policy::Policy = "semver:>=1.0.0".parse().unwrap();
        assert_eq!(policy.select(&q.exclude(&[GOOD, BAD])).unwrap(), Some(GOOD));
        assert!(q.release(BAD));
        assert!(!q.release(BAD));
        assert_eq!(q.exclude(&[GOOD, BAD]), vec![GOOD, BAD]);
    }

    #[test]
    fn parses() {
        let cases: &[(&str, Result<usize, &str>)] = &[
            ("", Ok(0)),
            ("tags: []\n", Ok(0)),
            ("tags:\n", Ok(0)),
            ("tags:\n- tag: a\n- tag: b\n  reason: x\n", Ok(2)),
            ("tags: a\n", Err("tags must be a list")),
            ("tags:\n- image: x\n", Err("needs a tag")),
            ("tags:\n- tag: [1]\n", Err("must be a string")),
        ];
        for (text, want) in cases {
            match (Quarantine::parse(text), want) {
                (Ok(q), Ok(n)) => assert_eq!(q.entries.len(), *n, "{text}"),
                (Err(e), Err(msg)) => assert!(e.to_string().contains(msg), "{text}: {e}"),
                (got, _) => panic!("{text}: {got:?}"),
            }
        }
    }
}
