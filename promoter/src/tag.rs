//! The image tag grammar: unique build tags, plain semver tags, environment tags and the rest.

use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, SecondsFormat, TimeZone, Timelike, Utc};
use semver::Version;
use serde::Serialize;

/// Length of the build-time segment, e.g. `2022-01-15t161730814Z`.
const TIME_LEN: usize = 21;

/// Longest tag the Docker tag grammar allows.
const DOCKER_TAG_MAX: usize = 128;

/// Why a string is not a unique tag, or why a unique tag cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum ParseError {
    /// The tag does not start with `v`.
    #[error("unique tag must start with `v`")]
    Prefix,
    /// The tag does not have the three `.`-separated parts version, time, sha.
    #[error("expected `v<version>.<time>.<sha>`")]
    Shape,
    /// The version part is not a semantic version.
    #[error("invalid version `{version}`")]
    Version {
        /// The version part as written.
        version: String,
        /// What the semver parser said.
        #[source]
        source: semver::Error,
    },
    /// The time part is not a UTC time like `2022-01-15t161730814Z`.
    #[error("invalid build time `{time}`: expected UTC like `2022-01-15t161730814Z`")]
    Time {
        /// The time part as written.
        time: String,
    },
    /// The build time's year cannot be written with four digits.
    #[error("build time year {year} is outside 0000 to 9999")]
    Year {
        /// The year of the rejected time.
        year: i32,
    },
    /// The sha part is not 7 to 40 lower-case hex digits.
    #[error("invalid sha `{sha}`: expected 7 to 40 lower-case hex digits")]
    Sha {
        /// The sha part as written.
        sha: String,
    },
}

/// A unique build tag `v<semver>.<utc>.<sha>`, e.g.
/// `v1.2.2.2022-01-15t161730814Z.9eabf5b536662000f79978c4d1b6e4eff5c8d785`.
///
/// Ordered by semver precedence, then build time, then sha; build metadata
/// (which precedence ignores) breaks the remaining ties so that the order is
/// total and agrees with equality.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UniqueTag {
    version: Version,
    time: DateTime<Utc>,
    sha: String,
}

impl UniqueTag {
    /// Makes a unique tag. The time is truncated to milliseconds, the
    /// precision the tag carries; a leap second is written as `…59.999`.
    pub fn new(version: Version, time: DateTime<Utc>, sha: &str) -> Result<Self, ParseError> {
        check_sha(sha)?;
        if !(0..=9999).contains(&time.year()) {
            return Err(ParseError::Year { year: time.year() });
        }
        let millis = (time.nanosecond() / 1_000_000).min(999);
        let time = NaiveTime::from_hms_milli_opt(time.hour(), time.minute(), time.second(), millis)
            .map(|t| Utc.from_utc_datetime(&time.date_naive().and_time(t)))
            .ok_or_else(|| ParseError::Time { time: time.to_rfc3339() })?;
        Ok(Self { version, time, sha: sha.to_owned() })
    }

    /// The release version.
    pub fn version(&self) -> &Version {
        &self.version
    }

    /// The build time, with millisecond precision.
    pub fn time(&self) -> DateTime<Utc> {
        self.time
    }

    /// The source commit, 7 to 40 lower-case hex digits.
    pub fn sha(&self) -> &str {
        &self.sha
    }
}

impl FromStr for UniqueTag {
    type Err = ParseError;

    fn from_str(s: &str) -> Result<Self, ParseError> {
        let rest = s.strip_prefix('v').ok_or(ParseError::Prefix)?;
        // The version may itself hold dots (pre-release and build metadata),
        // the time and the sha never do: split them off from the right.
        let (rest, sha) = rest.rsplit_once('.').ok_or(ParseError::Shape)?;
        let (version, time) = rest.rsplit_once('.').ok_or(ParseError::Shape)?;
        let time = parse_time(time)?;
        check_sha(sha)?;
        let version = Version::parse(version)
            .map_err(|source| ParseError::Version { version: version.to_owned(), source })?;
        Ok(Self { version, time, sha: sha.to_owned() })
    }
}

impl fmt::Display for UniqueTag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let t = &self.time;
        write!(
            f,
            "v{}.{:04}-{:02}-{:02}t{:02}{:02}{:02}{:03}Z.{}",
            self.version,
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.nanosecond() / 1_000_000,
            self.sha
        )
    }
}

impl Ord for UniqueTag {
    fn cmp(&self, other: &Self) -> Ordering {
        self.version
            .cmp_precedence(&other.version)
            .then_with(|| self.time.cmp(&other.time))
            .then_with(|| self.sha.cmp(&other.sha))
            .then_with(|| self.version.build.cmp(&other.version.build))
    }
}

impl PartialOrd for UniqueTag {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for UniqueTag {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        Tag::Unique(self.clone()).view().serialize(serializer)
    }
}

/// Any image tag, classified by the first form it fits.
///
/// Parsing never fails: a string that fits no other form is [`Tag::Opaque`].
/// Display gives back the string that was parsed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Tag {
    /// A unique build tag `v<semver>.<utc>.<sha>`.
    Unique(UniqueTag),
    /// A semantic version, with or without a leading `v` (`1.2.3`, `v1.2.3-rc.1`).
    Semver {
        /// The version.
        version: Version,
        /// Whether the tag is written with a leading `v`.
        v_prefix: bool,
    },
    /// A mutable name such as `production`, `qa` or `latest`: any other string
    /// the Docker tag grammar `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}` accepts.
    Environment(String),
    /// Anything else, kept as written.
    Opaque(String),
}

impl Tag {
    /// Classifies a tag; never fails and never panics.
    pub fn parse(s: &str) -> Tag {
        if let Ok(unique) = s.parse::<UniqueTag>() {
            return Tag::Unique(unique);
        }
        let (bare, v_prefix) = match s.strip_prefix('v') {
            Some(bare) => (bare, true),
            None => (s, false),
        };
        if let Ok(version) = Version::parse(bare) {
            return Tag::Semver { version, v_prefix };
        }
        if is_docker_tag(s) { Tag::Environment(s.to_owned()) } else { Tag::Opaque(s.to_owned()) }
    }

    /// The version a unique or semver tag carries.
    pub fn version(&self) -> Option<&Version> {
        match self {
            Tag::Unique(u) => Some(u.version()),
            Tag::Semver { version, .. } => Some(version),
            Tag::Environment(_) | Tag::Opaque(_) => None,
        }
    }

    /// The name of the form: `unique`, `semver`, `environment` or `opaque`.
    pub fn kind(&self) -> &'static str {
        match self {
            Tag::Unique(_) => "unique",
            Tag::Semver { .. } => "semver",
            Tag::Environment(_) => "environment",
            Tag::Opaque(_) => "opaque",
        }
    }

    fn view(&self) -> TagView {
        let (time, sha) = match self {
            Tag::Unique(u) => {
                (Some(u.time.to_rfc3339_opts(SecondsFormat::Millis, true)), Some(u.sha.clone()))
            }
            _ => (None, None),
        };
        TagView {
            kind: self.kind(),
            tag: self.to_string(),
            version: self.version().map(Version::to_string),
            time,
            sha,
        }
    }
}

impl FromStr for Tag {
    type Err = std::convert::Infallible;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Tag::parse(s))
    }
}

impl fmt::Display for Tag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tag::Unique(u) => u.fmt(f),
            Tag::Semver { version, v_prefix } => {
                write!(f, "{}{version}", if *v_prefix { "v" } else { "" })
            }
            Tag::Environment(s) | Tag::Opaque(s) => f.write_str(s),
        }
    }
}

impl Serialize for Tag {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.view().serialize(serializer)
    }
}

/// The JSON shape of a tag: `kind` and `tag` always, the parts where the form has them.
#[derive(Serialize)]
struct TagView {
    kind: &'static str,
    tag: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    sha: Option<String>,
}

/// Whether `s` fits the Docker tag grammar `[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`.
pub(crate) fn is_docker_tag(s: &str) -> bool {
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    match s.as_bytes().split_first() {
        Some((first, rest)) => {
            s.len() <= DOCKER_TAG_MAX
                && word(*first)
                && rest.iter().all(|&b| word(b) || b == b'.' || b == b'-')
        }
        None => false,
    }
}

fn check_sha(sha: &str) -> Result<(), ParseError> {
    let hex = sha.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if hex && (7..=40).contains(&sha.len()) {
        Ok(())
    } else {
        Err(ParseError::Sha { sha: sha.to_owned() })
    }
}

/// Parses `YYYY-MM-DDtHHMMSSmmmZ`, exactly as [`UniqueTag`]'s Display writes it.
fn parse_time(s: &str) -> Result<DateTime<Utc>, ParseError> {
    let err = || ParseError::Time { time: s.to_owned() };
    let b = s.as_bytes();
    if b.len() != TIME_LEN || b[4] != b'-' || b[7] != b'-' || b[10] != b't' || b[20] != b'Z' {
        return Err(err());
    }
    let num = |from: usize, to: usize| -> Result<u32, ParseError> {
        b[from..to]
            .iter()
            .try_fold(0u32, |n, &d| d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0')))
            .ok_or_else(err)
    };
    let year = i32::try_from(num(0, 4)?).map_err(|_| err())?;
    let date = NaiveDate::from_ymd_opt(year, num(5, 7)?, num(8, 10)?).ok_or_else(err)?;
    let time =
        NaiveTime::from_hms_milli_opt(num(11, 13)?, num(13, 15)?, num(15, 17)?, num(17, 20)?)
            .ok_or_else(err)?;
    Ok(Utc.from_utc_datetime(&date.and_time(time)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const SEED: &str = "v1.2.2.2022-01-15t161730814Z.9eabf5b536662000f79978c4d1b6e4eff5c8d785";

    #[test]
    fn classifies() {
        let cases: &[(&str, &str)] = &[
            (SEED, "unique"),
            ("v1.2.3-rc.1+build.7.2022-01-15t161730814Z.abcdef0", "unique"),
            ("v0.0.0.0000-01-01t000000000Z.0000000", "unique"),
            ("1.2.3", "semver"),
            ("v1.2.3", "semver"),
            ("v1.2.3-rc.1+b.2", "semver"),
            ("production", "environment"),
            ("development", "environment"),
            ("qa", "environment"),
            ("latest", "environment"),
            ("1.2", "environment"),
            ("_x", "environment"),
            // Near-misses of the unique form fall through to the other forms.
            ("v1.2.2.2022-01-15T161730814Z.9eabf5b", "environment"),
            ("v1.2.2.2022-01-15t161730Z.9eabf5b", "environment"),
            ("v1.2.2.2022-01-15t161730814Z.9eabf5", "environment"),
            ("v1.2.2.2022-01-15t161730814Z.9EABF5B", "environment"),
            ("v1.2.2.2022-01-15t161730814Z.9eabf5g", "environment"),
            ("v1.2.2.2022-13-15t161730814Z.9eabf5b", "environment"),
            ("v1.2.2.2022-01-15t166030814Z.9eabf5b", "environment"),
            ("v01.2.2.2022-01-15t161730814Z.9eabf5b", "environment"),
            ("", "opaque"),
            ("-x", "opaque"),
            (".x", "opaque"),
            ("a:b", "opaque"),
            ("ünïcode", "opaque"),
        ];
        for (input, kind) in cases {
            let tag = Tag::parse(input);
            assert_eq!(tag.kind(), *kind, "{input}");
            assert_eq!(tag.to_string(), *input, "{input}");
        }
        let long = "a".repeat(DOCKER_TAG_MAX);
        assert_eq!(Tag::parse(&long).kind(), "environment");
        assert_eq!(Tag::parse(&format!("{long}a")).kind(), "opaque");
    }

    #[test]
    fn seed_fields() {
        let tag: UniqueTag = SEED.parse().unwrap();
        assert_eq!(tag.version(), &Version::new(1, 2, 2));
        assert_eq!(
            tag.time().to_rfc3339_opts(SecondsFormat::Millis, true),
            "2022-01-15T16:17:30.814Z"
        );
        assert_eq!(tag.sha(), "9eabf5b536662000f79978c4d1b6e4eff5c8d785");
        let json = serde_json::to_string(&Tag::parse(SEED)).unwrap();
        assert_eq!(
            json,
            format!(
                r#"{{"kind":"unique","tag":"{SEED}","version":"1.2.2","time":"2022-01-15T16:17:30.814Z","sha":"9eabf5b536662000f79978c4d1b6e4eff5c8d785"}}"#
            )
        );
        assert_eq!(
            serde_json::to_string(&Tag::parse("production")).unwrap(),
            r#"{"kind":"environment","tag":"production"}"#
        );
        assert_eq!(
            serde_json::to_string(&Tag::parse("v1.0.0")).unwrap(),
            r#"{"kind":"semver","tag":"v1.0.0","version":"1.0.0"}"#
        );
    }

    #[test]
    fn errors() {
        let cases: &[(&str, &str)] = &[
            ("1.2.2.2022-01-15t161730814Z.9eabf5b", "unique tag must start with `v`"),
            ("v1", "expected `v<version>.<time>.<sha>`"),
            (
                "v1.2.3.2022.9eabf5b",
                "invalid build time `2022`: expected UTC like `2022-01-15t161730814Z`",
            ),
            (
                "v1.2.2.2022-01-15t161730814Z.XYZ",
                "invalid sha `XYZ`: expected 7 to 40 lower-case hex digits",
            ),
            ("v1.2.2022-01-15t161730814Z.9eabf5b", "invalid version `1.2`"),
        ];
        for (input, message) in cases {
            let err = input.parse::<UniqueTag>().unwrap_err();
            assert_eq!(err.to_string(), *message, "{input}");
        }
        let far = Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap();
        assert!(matches!(
            UniqueTag::new(Version::new(1, 0, 0), far, "abcdef0"),
            Err(ParseError::Year { year: 10000 })
        ));
        assert!(UniqueTag::new(Version::new(1, 0, 0), Utc::now(), "abcdef").is_err());
    }

    #[test]
    fn new_truncates_to_millis() {
        let t = Utc.with_ymd_and_hms(2022, 1, 15, 16, 17, 30).unwrap()
            + chrono::Duration::nanoseconds(814_999_999);
        let tag = UniqueTag::new(Version::new(1, 2, 2), t, "9eabf5b").unwrap();
        assert_eq!(tag.to_string(), "v1.2.2.2022-01-15t161730814Z.9eabf5b");
        assert_eq!(tag.to_string().parse::<UniqueTag>().unwrap(), tag);
    }

    #[test]
    fn orders() {
        // Each tag is greater than the one before it.
        let ascending = [
            "v1.0.0-rc.1.2030-01-01t000000000Z.fffffff",
            "v1.0.0.2020-01-01t000000000Z.fffffff",
            "v1.0.0.2020-01-01t000000001Z.0000000",
            "v1.0.0.2020-01-01t000000001Z.0000001",
            "v1.0.0+a.2020-01-01t000000001Z.0000002",
            "v1.0.0+b.2020-01-01t000000001Z.0000002",
            "v1.0.1.2000-01-01t000000000Z.0000000",
            "v1.10.0.2000-01-01t000000000Z.0000000",
        ];
        for pair in ascending.windows(2) {
            let (a, b): (UniqueTag, UniqueTag) =
                (pair[0].parse().unwrap(), pair[1].parse().unwrap());
            assert!(a < b, "{a} < {b}");
        }
    }

    fn ident() -> impl Strategy<Value = String> {
        prop_oneof!["[1-9][0-9]{0,3}", "0", "[a-zA-Z-][a-zA-Z0-9-]{0,6}"]
    }

    fn version() -> impl Strategy<Value = Version> {
        (
            0u64..20,
            0u64..20,
            0u64..20,
            proptest::collection::vec(ident(), 0..3),
            proptest::collection::vec("[a-zA-Z0-9-]{1,5}", 0..3),
        )
            .prop_map(|(ma, mi, pa, pre, build)| {
                let mut v = Version::new(ma, mi, pa);
                if !pre.is_empty() {
                    v.pre = semver::Prerelease::new(&pre.join(".")).unwrap();
                }
                if !build.is_empty() {
                    v.build = semver::BuildMetadata::new(&build.join(".")).unwrap();
                }
                v
            })
    }

    fn unique() -> impl Strategy<Value = UniqueTag> {
        (version(), 0i64..253_402_300_799_999, "[0-9a-f]{7,40}").prop_map(|(v, ms, sha)| {
            let time = DateTime::from_timestamp_millis(ms).unwrap();
            UniqueTag::new(v, time, &sha).unwrap()
        })
    }

    proptest! {
        #[test]
        fn format_parse_identity(tag in unique()) {
            let text = tag.to_string();
            let back: UniqueTag = text.parse().unwrap();
            prop_assert_eq!(&back, &tag);
            prop_assert_eq!(back.to_string(), text.clone());
            prop_assert_eq!(Tag::parse(&text), Tag::Unique(tag));
        }

        #[test]
        fn rejects_mutations(tag in unique(), which in 0usize..6, pick in any::<prop::sample::Index>()) {
            let text = tag.to_string();
            let (head, sha) = text.rsplit_once('.').unwrap();
            let (version, time) = head.rsplit_once('.').unwrap();
            let mutated = match which {
                0 => format!("{version}.{}.{sha}", time.replace('t', "T")),
                1 => format!("{version}.{}Z.{sha}", &time[..17]),
                2 => format!("{version}.{time}.{}", &sha[..6]),
                3 => format!("{version}.{time}.{sha}{}", "0".repeat(41 - sha.len())),
                4 => {
                    let i = pick.index(sha.len());
                    format!("{version}.{time}.{}g{}", &sha[..i], &sha[i + 1..])
                }
                _ => format!("{version}.{time}.{}", sha.to_uppercase().replace(|c: char| c.is_ascii_digit(), "A")),
            };
            prop_assert!(mutated.parse::<UniqueTag>().is_err(), "{}", mutated);
            prop_assert!(!matches!(Tag::parse(&mutated), Tag::Unique(_)));
        }

        #[test]
        fn order_agrees_with_parts(a in unique(), b in unique()) {
            let parts = |t: &UniqueTag| (t.version().clone(), t.time(), t.sha().to_owned());
            let (pa, pb) = (parts(&a), parts(&b));
            let by_parts = pa.0.cmp_precedence(&pb.0).then(pa.1.cmp(&pb.1)).then(pa.2.cmp(&pb.2));
            if by_parts != Ordering::Equal {
                prop_assert_eq!(a.cmp(&b), by_parts);
            }
            prop_assert_eq!(a.cmp(&b) == Ordering::Equal, a == b);
            prop_assert_eq!(a.cmp(&b), b.cmp(&a).reverse());
        }

        #[test]
        fn parse_never_panics(s in "\\PC{0,80}") {
            let tag = Tag::parse(&s);
            prop_assert_eq!(tag.to_string(), s);
        }

        #[test]
        fn parse_near_tags_never_panics(s in "v[0-9.a-z+-]{0,12}\\.[0-9tTzZ:-]{0,24}\\.[0-9a-fA-F]{0,42}") {
            let tag = Tag::parse(&s);
            prop_assert_eq!(tag.to_string(), s);
        }
    }
}
