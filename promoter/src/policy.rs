//! Promotion policies: which tag of an image's tag list wins.
//!
//! A policy is written as a string or as a Flux `ImagePolicy` spec object:
//!
//! | written as | picks |
//! | --- | --- |
//! | `latest-unique` | the greatest unique tag: version, then build time, then sha |
//! | `semver:RANGE` (also `semver: RANGE`) | the greatest version in [`VersionRange`]; unique and plain semver tags take part |
//! | `glob:PATTERN`, `regex:PATTERN` | Flux v1 annotation forms (`flux.weave.works/tag.<container>`): the newest match |
//! | `{filterTags: {pattern, extract}, policy: {semver: {range}}}` | Flux `ImagePolicy`: semver on the extracted value |
//! | `{…, policy: {alphabetical: {order: asc}}}` | the last extracted value in byte order (`desc`: the first) |
//! | `{…, policy: {numerical: {order: asc}}}` | the largest extracted number (`desc`: the smallest) |
//!
//! Flux v1 ranked `glob:` and `regex:` matches by the image's creation time,
//! read from the registry. kiln ranks them by the build time a unique tag
//! carries, then version, then sha; matches that are not unique tags have no
//! time and are left out; when several tags match and none is a unique tag,
//! selection fails with [`Error::NoBuildTime`] rather than guessing. As in
//! Flux v1, a `glob:` pattern's only wildcard is `*`, and glob and regex
//! patterns are taken as written, spaces included.
//!
//! The tag `latest` is never picked unless the policy names it: it takes part
//! only when the policy's pattern contains the word `latest`.

mod range;

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use regex::Regex;
use serde::Deserialize;

pub use range::{RangeError, VersionRange};

use crate::tag::{Tag, UniqueTag};

/// The tag no policy picks unless it names it.
const LATEST: &str = "latest";

/// Why a policy does not parse, or why it cannot pick from a tag list.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The string is none of the policy forms.
    #[error(
        "unknown policy `{policy}`: expected latest-unique, semver:RANGE, glob:PATTERN or regex:PATTERN"
    )]
    Unknown {
        /// The policy as written.
        policy: String,
    },
    /// A `semver` policy's range does not parse.
    #[error("invalid semver range `{range}`")]
    Range {
        /// The range as written.
        range: String,
        /// What is wrong with it.
        #[source]
        source: RangeError,
    },
    /// A `regex` policy or `filterTags.pattern` is not a regular expression.
    #[error("invalid tag pattern `{pattern}`")]
    Pattern {
        /// The pattern as written.
        pattern: String,
        /// What the regex parser said.
        #[source]
        source: Box<regex::Error>,
    },
    /// `filterTags.extract` refers to a group the pattern does not have.
    #[error(
        "extract `{extract}` refers to group `{group}`, which pattern `{pattern}` does not have"
    )]
    Extract {
        /// The extract template.
        extract: String,
        /// The missing group.
        group: String,
        /// The pattern.
        pattern: String,
    },
    /// An `ImagePolicy` object names no rule or more than one.
    #[error("an ImagePolicy's policy must name exactly one of semver, alphabetical, numerical")]
    Rule,
    /// An order is neither `asc` nor `desc`.
    #[error("invalid order `{order}`: expected asc or desc")]
    Order {
        /// The order as written.
        order: String,
    },
    /// A numerical policy met a value that is not a number.
    #[error("tag `{tag}`: value `{value}` is not a number")]
    NotNumeric {
        /// The tag.
        tag: String,
        /// The value extracted from it.
        value: String,
    },
    /// A `glob:` or `regex:` policy matched only tags that carry no build time.
    #[error(
        "policy `{policy}` matched {matched} tag(s), none of them a unique tag with a build time"
    )]
    NoBuildTime {
        /// The policy.
        policy: String,
        /// How many tags matched.
        matched: usize,
    },
}

/// Which end of the sorted values wins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    /// Ascending: the last value wins (Flux's default).
    Asc,
    /// Descending: the first value wins.
    Desc,
}

/// A parsed policy; see the module docs for the forms.
#[derive(Debug, Clone, Deserialize)]
#[serde(try_from = "Raw")]
pub struct Policy {
    text: String,
    filter: Option<Filter>,
    rule: Rule,
}

#[derive(Debug, Clone)]
struct Filter {
    regex: Regex,
    extract: Option<String>,
}

#[derive(Debug, Clone)]
enum Rule {
    LatestUnique,
    /// Flux v1 `glob:`/`regex:`: newest unique tag by build time.
    Newest,
    Semver(VersionRange),
    Alphabetical(Order),
    Numerical(Order),
}

impl Policy {
    /// Picks the winning tag, or `None` when no tag qualifies.
    pub fn select<'t, S: AsRef<str>>(&self, tags: &'t [S]) -> Result<Option<&'t str>, Error> {
        let names_latest = self.text.contains(LATEST);
        let candidates: Vec<(&str, String)> = tags
            .iter()
            .map(AsRef::as_ref)
            .filter(|tag| *tag != LATEST || names_latest)
            .filter_map(|tag| self.value(tag).map(|value| (tag, value)))
            .collect();
        let best = match &self.rule {
            Rule::LatestUnique => best_by(&candidates, |v| v.parse::<UniqueTag>().ok(), Ord::cmp),
            Rule::Newest => {
                let newest = best_by(
                    &candidates,
                    |v| v.parse::<UniqueTag>().ok(),
                    |a, b| a.time().cmp(&b.time()).then_with(|| a.cmp(b)),
                );
                if newest.is_none() && candidates.len() == 1 {
                    // A single match needs no time to be ordered by.
                    candidates.first().map(|(tag, _)| *tag)
                } else if newest.is_none() && !candidates.is_empty() {
                    return Err(Error::NoBuildTime {
                        policy: self.text.clone(),
                        matched: candidates.len(),
                    });
                } else {
                    newest
                }
            }
            Rule::Semver(range) => best_by(
                &candidates,
                |v| Some(Tag::parse(v)).filter(|t| t.version().is_some_and(|v| range.matches(v))),
                compare_versioned,
            ),
            Rule::Alphabetical(order) => {
                best_by(&candidates, |v| Some(v.to_owned()), |a, b| directed(*order, a.cmp(b)))
            }
            Rule::Numerical(order) => {
                let mut numbers = Vec::with_capacity(candidates.len());
                for (tag, value) in &candidates {
                    match value.trim().parse::<f64>() {
                        Ok(n) if !n.is_nan() => numbers.push((*tag, n)),
                        _ => {
                            return Err(Error::NotNumeric {
                                tag: (*tag).to_owned(),
                                value: value.clone(),
                            });
                        }
                    }
                }
                numbers
                    .into_iter()
                    .max_by(|(ta, a), (tb, b)| directed(*order, a.total_cmp(b)).then(ta.cmp(tb)))
                    .map(|(tag, _)| tag)
            }
        };
        Ok(best)
    }

    /// The value the rule orders: the tag itself, or what the filter extracts.
    fn value(&self, tag: &str) -> Option<String> {
        let Some(filter) = &self.filter else { return Some(tag.to_owned()) };
        let caps = filter.regex.captures(tag)?;
        let mut out = String::new();
        match &filter.extract {
            Some(template) => caps.expand(template, &mut out),
            None => out.push_str(tag),
        }
        Some(out)
    }

    fn from_spec(spec: Spec) -> Result<Policy, Error> {
        let rule = match (spec.policy.semver, spec.policy.alphabetical, spec.policy.numerical) {
            (Some(s), None, None) => Rule::Semver(parse_range(&s.range)?),
            (None, Some(o), None) => Rule::Alphabetical(parse_order(o.order.as_deref())?),
            (None, None, Some(o)) => Rule::Numerical(parse_order(o.order.as_deref())?),
            _ => return Err(Error::Rule),
        };
        let filter = spec
            .filter_tags
            .map(|f| -> Result<Filter, Error> {
                let regex = compile(&f.pattern)?;
                if let Some(extract) = &f.extract {
                    check_extract(&regex, extract)?;
                }
                Ok(Filter { regex, extract: f.extract })
            })
            .transpose()?;
        let mut text = match &rule {
            Rule::Semver(r) => format!("semver:{r}"),
            Rule::Alphabetical(o) => format!("alphabetical:{}", order_name(*o)),
            Rule::Numerical(o) => format!("numerical:{}", order_name(*o)),
            Rule::LatestUnique | Rule::Newest => String::new(),
        };
        if let Some(f) = &filter {
            text.push_str(&format!(" filter:{}", f.regex.as_str()));
            if let Some(e) = &f.extract {
                text.push_str(&format!(" extract:{e}"));
            }
        }
        Ok(Policy { text, filter, rule })
    }
}

impl FromStr for Policy {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        let unknown = || Error::Unknown { policy: s.trim().to_owned() };
        let (filter, rule) = if s.trim() == "latest-unique" {
            (None, Rule::LatestUnique)
        } else {
            let (kind, arg) = s.split_once(':').ok_or_else(unknown)?;
            // As in Flux v1, a glob or regex is taken as written, spaces and all.
            match kind.trim_start() {
                "semver" => (None, Rule::Semver(parse_range(arg.trim())?)),
                "glob" => (Some(Filter { regex: glob(arg)?, extract: None }), Rule::Newest),
                "regex" => (Some(Filter { regex: compile(arg)?, extract: None }), Rule::Newest),
                _ => return Err(unknown()),
            }
        };
        Ok(Policy { text: s.trim_start().to_owned(), filter, rule })
    }
}

impl fmt::Display for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// A policy as users write it: a string, or a Flux `ImagePolicy` spec.
#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Text(String),
    Spec(Spec),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    filter_tags: Option<FilterTags>,
    policy: Choice,
}

#[derive(Deserialize)]
struct FilterTags {
    pattern: String,
    extract: Option<String>,
}

#[derive(Deserialize)]
struct Choice {
    semver: Option<SemverChoice>,
    alphabetical: Option<OrderChoice>,
    numerical: Option<OrderChoice>,
}

#[derive(Deserialize)]
struct SemverChoice {
    range: String,
}

#[derive(Deserialize)]
struct OrderChoice {
    order: Option<String>,
}

impl TryFrom<Raw> for Policy {
    type Error = Error;

    fn try_from(raw: Raw) -> Result<Self, Error> {
        match raw {
            Raw::Text(text) => text.parse(),
            Raw::Spec(spec) => Policy::from_spec(spec),
        }
    }
}

/// The candidate whose key is greatest by `cmp`; ties go to the greater tag
/// string so that the answer never depends on the order of the list.
fn best_by<'t, K>(
    candidates: &[(&'t str, String)],
    key: impl Fn(&str) -> Option<K>,
    cmp: impl Fn(&K, &K) -> Ordering,
) -> Option<&'t str> {
    candidates
        .iter()
        .filter_map(|(tag, value)| key(value).map(|k| (*tag, k)))
        .max_by(|(ta, a), (tb, b)| cmp(a, b).then(ta.cmp(tb)))
        .map(|(tag, _)| tag)
}

/// Orders versioned tags by version precedence, then the unique tag order
/// (a unique tag above a plain semver tag of the same version).
fn compare_versioned(a: &Tag, b: &Tag) -> Ordering {
    let (Some(va), Some(vb)) = (a.version(), b.version()) else { return Ordering::Equal };
    va.cmp_precedence(vb).then_with(|| match (a, b) {
        (Tag::Unique(x), Tag::Unique(y)) => x.cmp(y),
        (Tag::Unique(_), _) => Ordering::Greater,
        (_, Tag::Unique(_)) => Ordering::Less,
        _ => va.build.cmp(&vb.build),
    })
}

fn directed(order: Order, ord: Ordering) -> Ordering {
    match order {
        Order::Asc => ord,
        Order::Desc => ord.reverse(),
    }
}

fn order_name(order: Order) -> &'static str {
    match order {
        Order::Asc => "asc",
        Order::Desc => "desc",
    }
}

fn parse_order(order: Option<&str>) -> Result<Order, Error> {
    match order {
        None | Some("asc") => Ok(Order::Asc),
        Some("desc") => Ok(Order::Desc),
        Some(other) => Err(Error::Order { order: other.to_owned() }),
    }
}

fn parse_range(range: &str) -> Result<VersionRange, Error> {
    range.parse().map_err(|source| Error::Range { range: range.to_owned(), source })
}

fn compile(pattern: &str) -> Result<Regex, Error> {
    Regex::new(pattern)
        .map_err(|source| Error::Pattern { pattern: pattern.to_owned(), source: Box::new(source) })
}

/// A Flux v1 glob: `*` matches any run of characters, everything else itself.
fn glob(pattern: &str) -> Result<Regex, Error> {
    let body: Vec<String> = pattern.split('*').map(regex::escape).collect();
    compile(&format!("^{}$", body.join(".*")))
}

/// Checks that every `$name`, `${name}` or `$1` in `extract` names a group of `regex`.
fn check_extract(regex: &Regex, extract: &str) -> Result<(), Error> {
    let mut rest = extract;
    while let Some(at) = rest.find('$') {
        rest = &rest[at + 1..];
        let (group, after) = if let Some(braced) = rest.strip_prefix('{') {
            match braced.split_once('}') {
                Some((name, after)) => (name, after),
                None => (braced, ""),
            }
        } else if let Some(after) = rest.strip_prefix('$') {
            ("", after)
        } else {
            let end =
                rest.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(rest.len());
            rest.split_at(end)
        };
        rest = after;
        if group.is_empty() {
            continue;
        }
        let known = match group.parse::<usize>() {
            Ok(n) => n < regex.captures_len(),
            Err(_) => regex.capture_names().flatten().any(|name| name == group),
        };
        if !known {
            return Err(Error::Extract {
                extract: extract.to_owned(),
                group: group.to_owned(),
                pattern: regex.as_str().to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const U_100_OLD: &str = "v1.0.0.2022-01-01t000000000Z.aaaaaaa";
    const U_100_NEW: &str = "v1.0.0.2022-06-01t000000000Z.bbbbbbb";
    const U_110_OLD: &str = "v1.1.0.2021-01-01t000000000Z.ccccccc";
    const U_200_RC: &str = "v2.0.0-rc.1.2023-01-01t000000000Z.ddddddd";

    fn tags() -> Vec<&'static str> {
        vec![
            U_100_OLD,
            U_110_OLD,
            U_100_NEW,
            U_200_RC,
            "latest",
            "production",
            "1.0.0",
            "v1.2.0",
            "1.3.0-beta.1",
            "main-abc1234-1700000000",
            "main-def5678-1700000100",
            "main-0000000-999",
            "2026-01-15",
            "2026-03-05",
        ]
    }

    /// (policy as a string or JSON object, the winner).
    const CASES: &[(&str, Option<&str>)] = &[
        ("latest-unique", Some(U_200_RC)),
        ("  latest-unique ", Some(U_200_RC)),
        ("semver:1.0.0", Some(U_100_NEW)),
        ("semver: ~1.0", Some(U_100_NEW)),
        ("semver:^1", Some("v1.2.0")),
        ("semver:>=1.0 <1.2", Some(U_110_OLD)),
        ("semver:>= 1.0, < 2", Some("v1.2.0")),
        ("semver:1.x || 2.x", Some("v1.2.0")),
        ("semver:>=1.3.0-0 <1.4", Some("1.3.0-beta.1")),
        // A group that names a pre-release admits them all, as in Masterminds.
        ("semver:>=1.3.0-0 <2", Some(U_200_RC)),
        ("semver:>=2.0.0-rc.0", Some(U_200_RC)),
        ("semver:>=3", None),
        ("glob:v1.0.*", Some(U_100_NEW)),
        ("glob:v1.*", Some(U_100_NEW)),
        ("glob:*", Some(U_200_RC)),
        ("glob:lat*", None),
        ("glob:latest", Some("latest")),
        ("glob: v1.*", None),
        ("regex:^v1\\.1\\.", Some(U_110_OLD)),
        ("regex:^latest$", Some("latest")),
        ("regex:^prod", Some("production")),
        (r#"{"policy": {"semver": {"range": "1.0.x"}}}"#, Some(U_100_NEW)),
        (
            r#"{"policy": {"alphabetical": {}}, "filterTags": {"pattern": "^\\d{4}-"}}"#,
            Some("2026-03-05"),
        ),
        (
            r#"{"policy": {"alphabetical": {"order": "desc"}}, "filterTags": {"pattern": "^\\d{4}-"}}"#,
            Some("2026-01-15"),
        ),
        (
            r#"{"filterTags": {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"}, "policy": {"numerical": {"order": "asc"}}}"#,
            Some("main-def5678-1700000100"),
        ),
        (
            r#"{"filterTags": {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "${ts}"}, "policy": {"numerical": {"order": "desc"}}}"#,
            Some("main-0000000-999"),
        ),
        (
            r#"{"filterTags": {"pattern": "^main-[a-f0-9]+-(?P<ts>[0-9]+)", "extract": "$ts"}, "policy": {"alphabetical": {"order": "asc"}}}"#,
            Some("main-0000000-999"),
        ),
        (
            r#"{"filterTags": {"pattern": "^v(?P<v>[0-9.]+)$", "extract": "$v"}, "policy": {"semver": {"range": ">=1.0.0"}}}"#,
            Some("v1.2.0"),
        ),
        (r#"{"policy": {"alphabetical": {"order": "asc"}}}"#, Some(U_200_RC)),
        (r#""semver:~1.1""#, Some(U_110_OLD)),
    ];

    fn parse(text: &str) -> Result<Policy, String> {
        if text.trim_start().starts_with(['{', '"']) {
            serde_json::from_str(text).map_err(|e| e.to_string())
        } else {
            text.parse().map_err(|e: Error| e.to_string())
        }
    }

    #[test]
    fn selects() {
        let tags = tags();
        for (text, expected) in CASES {
            let policy = parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(policy.select(&tags).unwrap(), *expected, "{text}");
            // The winner does not depend on the order of the list.
            let reversed: Vec<&str> = tags.iter().rev().copied().collect();
            assert_eq!(policy.select(&reversed).unwrap(), *expected, "{text} reversed");
        }
    }

    #[test]
    fn parse_errors() {
        let cases: &[(&str, &str)] = &[
            (
                "newest",
                "unknown policy `newest`: expected latest-unique, semver:RANGE, glob:PATTERN or regex:PATTERN",
            ),
            (
                "calver:2024",
                "unknown policy `calver:2024`: expected latest-unique, semver:RANGE, glob:PATTERN or regex:PATTERN",
            ),
            ("semver:", "invalid semver range ``"),
            ("semver:>=x.y", "invalid semver range `>=x.y`"),
            ("regex:(", "invalid tag pattern `(`"),
            (
                r#"{"policy": {}}"#,
                "an ImagePolicy's policy must name exactly one of semver, alphabetical, numerical",
            ),
            (
                r#"{"policy": {"semver": {"range": "1"}, "numerical": {}}}"#,
                "an ImagePolicy's policy must name exactly one of semver, alphabetical, numerical",
            ),
            (
                r#"{"policy": {"numerical": {"order": "up"}}}"#,
                "invalid order `up`: expected asc or desc",
            ),
            (
                r#"{"filterTags": {"pattern": "^(?P<ts>\\d+)$", "extract": "$tss"}, "policy": {"numerical": {}}}"#,
                "extract `$tss` refers to group `tss`, which pattern `^(?P<ts>\\d+)$` does not have",
            ),
            (
                r#"{"filterTags": {"pattern": "^(\\d+)$", "extract": "$2"}, "policy": {"numerical": {}}}"#,
                "extract `$2` refers to group `2`, which pattern `^(\\d+)$` does not have",
            ),
        ];
        for (text, message) in cases {
            let err = parse(text).unwrap_err();
            assert!(err.starts_with(message), "{text}: {err}");
        }
        assert!(parse(r#"{"filterTags": {"pattern": "^(\\d+)$", "extract": "$1$$"}, "policy": {"numerical": {}}}"#).is_ok());
    }

    #[test]
    fn selects_from_a_hundred_thousand_tags() {
        let tags: Vec<String> = (0..100_000u32)
            .map(|n| match n % 4 {
                0 => format!("v1.{}.0.2024-01-01t000000000Z.{:07x}", n % 97, n),
                1 => format!("1.{}.{}", n % 89, n % 7),
                2 => format!("main-{n}"),
                _ => format!("pr-{n}-x"),
            })
            .collect();
        let cases: &[(&str, &str)] = &[
            // 0x185e4 = 99812, the largest n < 100000 with n % 4 == 0 and n % 97 == 96.
            ("latest-unique", "v1.96.0.2024-01-01t000000000Z.00185e4"),
            // Some n < 100000 has n % 4 == 1, n % 89 == 88 and n % 7 == 6 (Chinese remainders).
            ("semver:~1.88", "1.88.6"),
            (
                r#"{"filterTags": {"pattern": "^main-(?P<n>\\d+)$", "extract": "$n"}, "policy": {"numerical": {}}}"#,
                "main-99998",
            ),
        ];
        for (text, expected) in cases {
            let policy = parse(text).unwrap();
            assert_eq!(policy.select(&tags).unwrap(), Some(*expected), "{text}");
        }
    }

    #[test]
    fn select_errors() {
        let numerical: Policy = parse(r#"{"policy": {"numerical": {}}}"#).unwrap();
        assert_eq!(
            numerical.select(&["10", "9", "production"]).unwrap_err().to_string(),
            "tag `production`: value `production` is not a number"
        );
        assert_eq!(numerical.select(&["10", "9", "latest"]).unwrap(), Some("10"));
        let glob: Policy = "glob:prod*".parse().unwrap();
        assert_eq!(
            glob.select(&["production", "prod-1"]).unwrap_err().to_string(),
            "policy `glob:prod*` matched 2 tag(s), none of them a unique tag with a build time"
        );
        assert_eq!(glob.select(&["qa"]).unwrap(), None);
        let empty: [&str; 0] = [];
        assert_eq!("latest-unique".parse::<Policy>().unwrap().select(&empty).unwrap(), None);
    }
}
