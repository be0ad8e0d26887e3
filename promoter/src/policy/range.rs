//! Version ranges in the Helm/Masterminds constraint syntax, which also covers Cargo's.
//!
//! The semantics follow the Masterminds semver v3 README (the library Helm and
//! Flux use), section by section:
//!
//! - "a comparison string is a list of comma separated AND comparisons. These
//!   are then separated by || (OR) comparisons"; Helm users also separate AND
//!   comparisons by spaces (`>=1.0 <2`), so whitespace separates them too.
//! - Basic comparisons `=` (also no operator), `!=`, `>`, `<`, `>=`, `<=`
//!   (and `=<`, `=>`); a leading `v` on a version is ignored.
//! - Hyphen ranges: "`1.2 - 1.4.5` which is equivalent to `>= 1.2, <= 1.4.5`".
//! - Wildcards: "The `x`, `X`, and `*` characters can be used as a wildcard
//!   character. This works for all comparison operators. When used on the `=`
//!   operator it falls back to the pack level comparison": `1.2.x` is
//!   `>= 1.2.0, < 1.3.0`, `>= 1.2.x` is `>= 1.2.0`, `<= 2.x` is `< 3`, `*` is
//!   `>= 0.0.0`. A missing part counts as a wildcard (`1.2` is `1.2.x`).
//! - Tilde: "`~1.2.3` is equivalent to `>= 1.2.3, < 1.3.0`", "`~1` is
//!   equivalent to `>= 1, < 2`", "`~2.3` is equivalent to `>= 2.3, < 2.4`";
//!   `~>` is the same operator.
//! - Caret: "`^1.2.3` is equivalent to `>= 1.2.3, < 2.0.0`", "`^0.2.3` is
//!   equivalent to `>=0.2.3 <0.3.0`", "`^0.0.3` is equivalent to `>=0.0.3
//!   <0.0.4`", "`^0.0` is equivalent to `>=0.0.0 <0.1.0`", "`^0` is
//!   equivalent to `>=0.0.0 <1.0.0`".
//! - Pre-releases: "SemVer comparisons using constraints without a prerelease
//!   comparator will skip prerelease versions. For example, `>=1.2.3` will skip
//!   prereleases when looking at a list of releases while `>=1.2.3-0` will
//!   evaluate and find prereleases." As in Masterminds v3, the question is
//!   asked per `||` group: a group that names a pre-release admits
//!   pre-releases, the others do not.
//!
//! Deliberate difference from Cargo (the `semver` crate): a bare version
//! `1.2.3` means exactly that version, as in Helm and Flux, not `^1.2.3`.
//! Comparison uses semver precedence, so build metadata is ignored.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use semver::{Prerelease, Version};

/// Why a range does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RangeError {
    /// The range, or one of its `||` alternatives, is empty.
    #[error("empty version range")]
    Empty,
    /// A comparison is not an operator followed by a version.
    #[error("invalid comparison `{comparison}`: {reason}")]
    Comparison {
        /// The comparison as written.
        comparison: String,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// A parsed version range such as `^1.2`, `>= 1.0, < 2 || 3.x` or `1.2.3 - 1.4`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionRange {
    text: String,
    groups: Vec<Group>,
}

/// One `||` alternative: every check must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Group {
    checks: Vec<Check>,
    prerelease: bool,
}

/// One elementary comparison against a full version.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Check {
    Ge(Version),
    Gt(Version),
    Lt(Version),
    Le(Version),
    Eq(Version),
    Ne(Version),
    /// Outside the half-open interval `[lo, hi)`: a `!=` on a partial version.
    Outside(Version, Version),
}

impl Check {
    fn holds(&self, v: &Version) -> bool {
        let cmp = |b: &Version| v.cmp_precedence(b);
        match self {
            Check::Ge(b) => cmp(b) != Ordering::Less,
            Check::Gt(b) => cmp(b) == Ordering::Greater,
            Check::Lt(b) => cmp(b) == Ordering::Less,
            Check::Le(b) => cmp(b) != Ordering::Greater,
            Check::Eq(b) => cmp(b) == Ordering::Equal,
            Check::Ne(b) => cmp(b) != Ordering::Equal,
            Check::Outside(lo, hi) => cmp(lo) == Ordering::Less || cmp(hi) != Ordering::Less,
        }
    }
}

/// A version as a constraint writes it: parts may be missing or wildcards.
struct Partial {
    major: Option<u64>,
    minor: Option<u64>,
    patch: Option<u64>,
    pre: Prerelease,
}

impl Partial {
    /// The smallest version the partial version covers.
    fn lower(&self) -> Version {
        let mut v =
            Version::new(self.major.unwrap_or(0), self.minor.unwrap_or(0), self.patch.unwrap_or(0));
        v.pre = self.pre.clone();
        v
    }

    /// The smallest version above everything the partial version covers, or
    /// `None` when it covers everything (`*`) or is a full version.
    fn upper(&self) -> Option<Version> {
        match (self.major, self.minor, self.patch) {
            (None, _, _) => None,
            (Some(ma), None, _) => Some(Version::new(ma.saturating_add(1), 0, 0)),
            (Some(ma), Some(mi), None) => Some(Version::new(ma, mi.saturating_add(1), 0)),
            (Some(_), Some(_), Some(_)) => None,
        }
    }

    fn is_full(&self) -> bool {
        self.patch.is_some()
    }
}

impl VersionRange {
    /// Whether `version` satisfies the range.
    pub fn matches(&self, version: &Version) -> bool {
        self.groups.iter().any(|g| {
            (g.prerelease || version.pre.is_empty()) && g.checks.iter().all(|c| c.holds(version))
        })
    }
}

impl FromStr for VersionRange {
    type Err = RangeError;

    fn from_str(text: &str) -> Result<Self, RangeError> {
        let groups = text.split("||").map(parse_group).collect::<Result<Vec<_>, _>>()?;
        Ok(VersionRange { text: text.trim().to_owned(), groups })
    }
}

impl fmt::Display for VersionRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

fn parse_group(text: &str) -> Result<Group, RangeError> {
    // Operators may stand apart from their version (`>= 1.0`): glue them back.
    let mut words: Vec<String> = Vec::new();
    let mut pending = String::new();
    for word in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|w| !w.is_empty()) {
        if word.chars().all(|c| "=<>!~^".contains(c)) {
            pending.push_str(word);
        } else {
            words.push(format!("{pending}{word}"));
            pending.clear();
        }
    }
    if !pending.is_empty() {
        return Err(comparison_error(&pending, "operator without a version"));
    }
    if words.is_empty() {
        return Err(RangeError::Empty);
    }
    let mut checks = Vec::new();
    let mut prerelease = false;
    let mut i = 0;
    while i < words.len() {
        if words.get(i + 1).is_some_and(|w| w == "-") {
            // A hyphen range `A - B`.
            let to = words
                .get(i + 2)
                .ok_or_else(|| comparison_error(&words[i], "hyphen range without an end"))?;
            let (lo, hi) = (partial(&words[i])?, partial(to)?);
            prerelease |= !lo.pre.is_empty() || !hi.pre.is_empty();
            checks.push(Check::Ge(lo.lower()));
            checks.push(match hi.upper() {
                Some(up) => Check::Lt(up),
                None if hi.major.is_none() => Check::Ge(Version::new(0, 0, 0)),
                None => Check::Le(hi.lower()),
            });
            i += 3;
            continue;
        }
        let (op, rest) = split_operator(&words[i]);
        let p = partial(rest)?;
        prerelease |= !p.pre.is_empty();
        push_checks(&mut checks, op, &p).map_err(|reason| comparison_error(&words[i], reason))?;
        i += 1;
    }
    Ok(Group { checks, prerelease })
}

fn comparison_error(comparison: &str, reason: &'static str) -> RangeError {
    RangeError::Comparison { comparison: comparison.to_owned(), reason }
}

fn split_operator(word: &str) -> (&str, &str) {
    let end = word.find(|c: char| !"=<>!~^".contains(c)).unwrap_or(word.len());
    word.split_at(end)
}

/// Translates one comparison into elementary checks.
fn push_checks(checks: &mut Vec<Check>, op: &str, p: &Partial) -> Result<(), &'static str> {
    let lower = p.lower();
    match op {
        "" | "=" | "==" => match p.upper() {
            Some(up) => checks.extend([Check::Ge(lower), Check::Lt(up)]),
            None if p.is_full() => checks.push(Check::Eq(lower)),
            None => checks.push(Check::Ge(lower)),
        },
        "!=" => match p.upper() {
            Some(up) => checks.push(Check::Outside(lower, up)),
            None if p.is_full() => checks.push(Check::Ne(lower)),
            // `!= *` excludes everything.
            None => checks.push(Check::Lt(Version::new(0, 0, 0))),
        },
        ">" => match p.upper() {
            Some(up) => checks.push(Check::Ge(up)),
            None if p.is_full() => checks.push(Check::Gt(lower)),
            None => checks.push(Check::Lt(Version::new(0, 0, 0))),
        },
        ">=" | "=>" => checks.push(Check::Ge(lower)),
        "<" => checks.push(Check::Lt(lower)),
        "<=" | "=<" => match p.upper() {
            Some(up) => checks.push(Check::Lt(up)),
            None if p.is_full() => checks.push(Check::Le(lower)),
            None => checks.push(Check::Ge(Version::new(0, 0, 0))),
        },
        "~" | "~>" => {
            checks.push(Check::Ge(lower.clone()));
            match (p.major, p.minor) {
                (Some(ma), Some(mi)) => {
                    checks.push(Check::Lt(Version::new(ma, mi.saturating_add(1), 0)))
                }
                (Some(ma), None) => {
                    checks.push(Check::Lt(Version::new(ma.saturating_add(1), 0, 0)))
                }
                (None, _) => {}
            }
        }
        "^" => {
            checks.push(Check::Ge(lower.clone()));
            let up = match (p.major, p.minor, p.patch) {
                (None, _, _) => None,
                (Some(ma), None, _) => Some(Version::new(ma.saturating_add(1), 0, 0)),
                (Some(ma), Some(_), _) if ma > 0 => Some(Version::new(ma.saturating_add(1), 0, 0)),
                (Some(_), Some(mi), None) => Some(Version::new(0, mi.saturating_add(1), 0)),
                (Some(_), Some(mi), Some(_)) if mi > 0 => {
                    Some(Version::new(0, mi.saturating_add(1), 0))
                }
                (Some(_), Some(_), Some(pa)) => Some(Version::new(0, 0, pa.saturating_add(1))),
            };
            checks.extend(up.map(Check::Lt));
        }
        _ => return Err("unknown operator"),
    }
    Ok(())
}

/// Parses `1`, `1.2`, `v1.2.x`, `1.2.3-rc.1`, `*`.
fn partial(text: &str) -> Result<Partial, RangeError> {
    let err = |reason| comparison_error(text, reason);
    let bare = text.strip_prefix(['v', 'V']).unwrap_or(text);
    // Build metadata is ignored by precedence: drop it.
    let bare = bare.split_once('+').map_or(bare, |(v, _)| v);
    let (core, pre) = match bare.split_once('-') {
        Some((core, pre)) => (core, Prerelease::new(pre).map_err(|_| err("invalid pre-release"))?),
        None => (bare, Prerelease::EMPTY),
    };
    let mut parts = [None; 3];
    let mut wild = false;
    let pieces: Vec<&str> = core.split('.').collect();
    if pieces.len() > 3 {
        return Err(err("more than three version parts"));
    }
    for (slot, piece) in parts.iter_mut().zip(&pieces) {
        match *piece {
            "x" | "X" | "*" => wild = true,
            "" => return Err(err("empty version part")),
            _ if wild => return Err(err("a number after a wildcard")),
            digits => {
                if !digits.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(err("version parts are numbers or x, X, *"));
                }
                *slot = Some(digits.parse::<u64>().map_err(|_| err("version part too large"))?);
            }
        }
    }
    if !pre.is_empty() && parts[2].is_none() {
        return Err(err("a pre-release needs a full version"));
    }
    Ok(Partial { major: parts[0], minor: parts[1], patch: parts[2], pre })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// (range, versions that match, versions that do not).
    const CASES: &[(&str, &[&str], &[&str])] = &[
        ("1.2.3", &["1.2.3", "1.2.3+b"], &["1.2.4", "1.2.3-rc.1"]),
        ("=v1.2.3", &["1.2.3"], &["1.2.2"]),
        ("!=1.2.3", &["1.2.2", "2.0.0"], &["1.2.3", "1.2.4-rc.1"]),
        ("!=1.2", &["1.1.9", "1.3.0"], &["1.2.0", "1.2.9"]),
        (">1.2.3", &["1.2.4", "2.0.0"], &["1.2.3", "1.3.0-rc.1"]),
        (">1.2", &["1.3.0"], &["1.2.9"]),
        (">=1.2.3-0", &["1.2.3-alpha", "1.2.3", "2.0.0-rc.1"], &["1.2.2"]),
        (">=1.2.3", &["1.2.3"], &["1.2.3-beta", "2.3.0-beta", "1.2.2"]),
        ("<1.2.3", &["1.2.2", "0.0.1"], &["1.2.3", "1.2.3-rc.1"]),
        ("<=1.2.3", &["1.2.3"], &["1.2.4"]),
        ("<= 2.x", &["2.9.9"], &["3.0.0"]),
        (">= 1.2.x", &["1.2.0", "9.0.0"], &["1.1.9"]),
        ("1.2.x", &["1.2.0", "1.2.99"], &["1.3.0", "1.1.0"]),
        ("1.x", &["1.0.0", "1.9.9"], &["2.0.0", "0.9.0"]),
        ("1.*", &["1.5.0"], &["2.0.0"]),
        ("*", &["0.0.0", "99.0.0"], &["1.0.0-rc.1"]),
        ("~1.2.3", &["1.2.3", "1.2.9"], &["1.3.0", "1.2.2"]),
        ("~1.2", &["1.2.0", "1.2.9"], &["1.3.0"]),
        ("~1", &["1.0.0", "1.9.0"], &["2.0.0"]),
        ("~1.x", &["1.0.0"], &["2.0.0"]),
        ("~> 2.3", &["2.3.5"], &["2.4.0"]),
        ("^1.2.3", &["1.2.3", "1.9.0"], &["2.0.0", "1.2.2", "2.0.0-beta"]),
        ("^1.2.x", &["1.2.0", "1.9.0"], &["2.0.0"]),
        ("^2", &["2.0.0", "2.9.9"], &["3.0.0", "1.9.9"]),
        ("^0.2.3", &["0.2.3", "0.2.9"], &["0.3.0"]),
        ("^0.2", &["0.2.0"], &["0.3.0"]),
        ("^0.0.3", &["0.0.3"], &["0.0.4"]),
        ("^0.0", &["0.0.9"], &["0.1.0"]),
        ("^0", &["0.9.9"], &["1.0.0"]),
        (">=1.0 <2", &["1.0.0", "1.9.9"], &["2.0.0", "0.9.9"]),
        (">= 1.0, < 2", &["1.5.0"], &["2.0.0"]),
        (">=1.0.0, <2.0.0", &["1.5.0"], &["2.0.0"]),
        ("1.2 - 1.4.5", &["1.2.0", "1.4.5"], &["1.4.6", "1.1.9"]),
        ("2.3.4 - 4.5", &["2.3.4", "4.5.9"], &["4.6.0"]),
        (
            "^1.2 || >=3.1, <3.2 || 5.0.0",
            &["1.3.0", "3.1.5", "5.0.0"],
            &["2.0.0", "3.2.0", "5.0.1"],
        ),
        ("<1.0 || >=2.0.0-rc.1", &["0.9.0", "2.0.0-rc.2", "3.0.0-alpha"], &["0.9.0-rc.1", "1.5.0"]),
    ];

    #[test]
    fn matches_table() {
        for (range, yes, no) in CASES {
            let r: VersionRange = range.parse().unwrap_or_else(|e| panic!("{range}: {e}"));
            for v in *yes {
                assert!(r.matches(&Version::parse(v).unwrap()), "{range} should match {v}");
            }
            for v in *no {
                assert!(!r.matches(&Version::parse(v).unwrap()), "{range} should not match {v}");
            }
        }
    }

    /// A comparison both syntaxes write alike: an explicit operator and a
    /// partial version (a bare version is `=` in Masterminds, `^` in Cargo).
    fn comparison() -> impl Strategy<Value = String> {
        let op = prop::sample::select(vec!["=", ">", ">=", "<", "<=", "~", "^"]);
        let part =
            prop_oneof![4 => (0u64..4).prop_map(|n| n.to_string()), 1 => Just("*".to_owned())];
        (op, part.clone(), prop::option::of(part.clone()), prop::option::of(part)).prop_map(
            |(op, major, minor, patch)| {
                let mut v = major;
                if let Some(minor) = minor {
                    v = format!("{v}.{minor}");
                    if let Some(patch) = patch {
                        v = format!("{v}.{patch}");
                    }
                }
                format!("{op}{v}")
            },
        )
    }

    proptest! {
        /// On release versions, ranges in the syntax Cargo and Masterminds
        /// share mean the same in both: the `semver` crate is the oracle.
        #[test]
        fn agrees_with_cargo_on_shared_syntax(comparisons in prop::collection::vec(comparison(), 1..3)) {
            let text = comparisons.join(", ");
            let (Ok(ours), Ok(cargo)) = (text.parse::<VersionRange>(), semver::VersionReq::parse(&text)) else {
                // A number after a wildcard is an error in both; Cargo also rejects some `*` forms.
                return Ok(());
            };
            // Every version around the bounds the comparisons can name.
            for n in 0..5u64 * 5 * 5 {
                let v = Version::new(n / 25, n / 5 % 5, n % 5);
                prop_assert_eq!(ours.matches(&v), cargo.matches(&v), "{} on {}", text, v);
            }
        }
    }

    #[test]
    fn errors() {
        let cases: &[(&str, &str)] = &[
            ("", "empty version range"),
            ("1.0 ||", "empty version range"),
            (">=", "invalid comparison `>=`: operator without a version"),
            ("1.2.3.4", "invalid comparison `1.2.3.4`: more than three version parts"),
            ("1.x.3", "invalid comparison `1.x.3`: a number after a wildcard"),
            ("abc", "invalid comparison `abc`: version parts are numbers or x, X, *"),
            ("%1.0", "invalid comparison `%1.0`: version parts are numbers or x, X, *"),
            ("<>1.0", "invalid comparison `<>1.0`: unknown operator"),
            ("1.2-rc", "invalid comparison `1.2-rc`: a pre-release needs a full version"),
            ("1.2 -", "invalid comparison `1.2`: hyphen range without an end"),
            ("1..2", "invalid comparison `1..2`: empty version part"),
        ];
        for (range, message) in cases {
            let err = range.parse::<VersionRange>().unwrap_err();
            assert_eq!(err.to_string(), *message, "{range}");
        }
    }
}
