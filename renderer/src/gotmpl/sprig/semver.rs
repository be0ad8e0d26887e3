//! Sprig's `semver` and `semverCompare`: Masterminds semver v3 versions and constraints (`>=1.19-0`, `~1.2`, `^2`, `1.x`, `1 - 2`, `||`).

use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::sync::{Arc, LazyLock};

use regex::Regex;

use super::{def, s};
use crate::gotmpl::{Funcs, Function, Param, Struct, Value};

const VERSION: &str = r"v?([0-9]+)(\.[0-9]+)?(\.[0-9]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const CONSTRAINT_VERSION: &str = r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?";
const OPS: &str = r"(=|!=|>|<|>=|=>|<=|=<|~|~>|\^)";

static VERSION_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(&format!("^{VERSION}$")).expect("the version pattern is valid"));
static CONSTRAINT_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"^\s*{OPS}?\s*({CONSTRAINT_VERSION})\s*$"))
        .expect("the constraint pattern is valid")
});
static FIND_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"{OPS}?\s*{CONSTRAINT_VERSION}")).expect("the constraint pattern is valid")
});
static VALID_RE: LazyLock<Regex> = LazyLock::new(|| {
    let one = format!(r"{OPS}?\s*{CONSTRAINT_VERSION}");
    Regex::new(&format!(r"^(\s*{one}\s*(,|\s)?\s*)*$")).expect("the constraint pattern is valid")
});
static RANGE_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(&format!(r"\s*({CONSTRAINT_VERSION})\s+-\s+({CONSTRAINT_VERSION})\s*"))
        .expect("the range pattern is valid")
});

pub(super) fn register(f: &mut Funcs) {
    def(
        f,
        "semver",
        &[Param::String],
        None,
        |a| Ok(Version::parse(s(&a[0]))?.into_value(s(&a[0]))),
    );
    def(f, "semverCompare", &[Param::String, Param::String], None, |a| {
        let constraints = parse_constraints(s(&a[0]))?;
        let v = Version::parse(s(&a[1]))?;
        Ok(constraints.iter().any(|and| group_matches(and, &v)).into())
    });
}

/// `semver` and `semverCompare` as the newer Masterminds
/// semver (v3.4, which Helm 4 links in place of Sprig's own) has them: its
/// errors in lower case with a bad constraint quoted, and versions whose
/// `SetPrerelease` and `SetMetadata` refuse an empty part.
pub(crate) fn register_newer(f: &mut Funcs) {
    def(f, "semver", &[Param::String], None, |a| {
        let mut v = Version::parse(s(&a[0])).map_err(newer_wording)?;
        v.newer = true;
        Ok(v.into_value(s(&a[0])))
    });
    def(f, "semverCompare", &[Param::String, Param::String], None, |a| {
        let constraints = parse_constraints(s(&a[0])).map_err(newer_wording)?;
        let v = Version::parse(s(&a[1])).map_err(newer_wording)?;
        Ok(constraints.iter().any(|and| group_matches(and, &v)).into())
    });
}

/// An error of this library as the newer one words it.
fn newer_wording(message: String) -> String {
    if let Some(c) = message.strip_prefix("improper constraint: ") {
        return format!("improper constraint: {}", crate::gotmpl::fmt::quote(c));
    }
    if let Some(rest) = message.strip_prefix("Error parsing version segment: ") {
        return format!("error parsing version segment: {rest}");
    }
    match message.as_str() {
        "Invalid Semantic Version" => "invalid semantic version".into(),
        "Version segment starts with 0" => "version segment starts with 0".into(),
        "Invalid Prerelease string" => "invalid prerelease string".into(),
        "Invalid Metadata string" => "invalid metadata string".into(),
        "constraint Parser Error" => "constraint parser error".into(),
        _ => message,
    }
}

/// The index of the highest of `versions` that meets the Masterminds
/// `constraint` (`""` is `*`), the way Helm's repository index and Flux's
/// source-controller pick a chart version; entries that are not versions are
/// passed over, and of equal versions the first wins.
pub(crate) fn highest_matching(
    constraint: &str,
    versions: &[&str],
) -> Result<Option<usize>, String> {
    let constraint = if constraint.trim().is_empty() { "*" } else { constraint };
    let ors = parse_constraints(constraint)?;
    let mut best: Option<(usize, Version)> = None;
    for (i, text) in versions.iter().enumerate() {
        let Ok(v) = Version::parse(text) else { continue };
        if !ors.iter().any(|and| group_matches(and, &v)) {
            continue;
        }
        if best.as_ref().is_none_or(|(_, b)| v.compare(b) == Ordering::Greater) {
            best = Some((i, v));
        }
    }
    Ok(best.map(|(i, _)| i))
}

/// Helm's `IsCompatibleRange`: whether `version` meets the Masterminds
/// `constraint`; false when either does not parse (an empty constraint
/// included).
pub(crate) fn is_compatible_range(constraint: &str, version: &str) -> bool {
    match (parse_constraints(constraint), Version::parse(version)) {
        (Ok(ors), Ok(v)) => ors.iter().any(|and| group_matches(and, &v)),
        _ => false,
    }
}

/// Whether `text` is a version Masterminds semver reads (`v1`, `1.2`, `1.2.3-rc.1`).
pub(crate) fn is_version(text: &str) -> bool {
    Version::parse(text).is_ok()
}

/// How a comparison method answers from the order of the two versions.
type Answer = fn(Ordering) -> Value;

/// The next version an `Inc*` method makes.
type Step = fn(&Version) -> Version;

/// The next version a `Set*` method makes from its argument.
type Setter = fn(&Version, &str) -> Result<Version, String>;

/// The Go type `semver` returns.
const POINTER: &str = "*semver.Version";

/// Whether a dot-separated part of a pre-release or metadata holds only
/// ASCII letters, digits and hyphens (an empty part passes, as in Masterminds').
fn is_identifier(part: &str) -> bool {
    part.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Masterminds' check of a pre-release given to `SetPrerelease` (the newer
/// library's refuses an empty part, `a..b`).
fn check_prerelease(pre: &str, newer: bool) -> Result<(), String> {
    for part in pre.split('.') {
        if newer && part.is_empty() {
            return Err("Invalid Prerelease string".to_string());
        }
        if part.bytes().all(|b| b.is_ascii_digit()) {
            if part.len() > 1 && part.starts_with('0') {
                return Err("Version segment starts with 0".to_string());
            }
        } else if !is_identifier(part) {
            return Err("Invalid Prerelease string".to_string());
        }
    }
    Ok(())
}

/// The zero `semver.Version` (or a pointer to one): what copystructure makes
/// of a version, whose fields are all unexported.
pub(super) fn zero_version(pointer: bool) -> Value {
    let zero = Version {
        major: 0,
        minor: 0,
        patch: 0,
        pre: String::new(),
        meta: String::new(),
        newer: false,
    };
    zero.into_value_typed("", pointer)
}

/// The version a method such as `Compare` receives.
fn other_version(v: &Value) -> Result<Version, String> {
    match v {
        Value::Struct(st) => Version::parse(&st.string.clone().unwrap_or_default()),
        // A nil `*semver.Version` (from `nil` or a missing value): the
        // comparison reads through it.
        Value::Nil | Value::Missing => Err(super::NIL_KIND.to_string()),
        other => Err(format!(
            "wrong type for value; expected *semver.Version; got {}",
            other.type_name()
        )),
    }
}

/// A semantic version.
#[derive(Debug, Clone)]
struct Version {
    major: u64,
    minor: u64,
    patch: u64,
    pre: String,
    meta: String,
    /// Whether the methods act as the newer library's (see [`register_newer`]).
    newer: bool,
}

impl Version {
    /// An error of a method, worded as this version's library words it.
    fn wording(&self, message: String) -> String {
        if self.newer { newer_wording(message) } else { message }
    }

    /// The `*semver.Version` a template sees: methods `Major`, `Minor`,
    /// `Patch`, `Prerelease`, `Metadata`, `Original`, `String`, `Compare`,
    /// `LessThan`, `GreaterThan`, `Equal`, `IncPatch`, `IncMinor`,
    /// `IncMajor`, `SetPrerelease`, `SetMetadata`.
    fn into_value(self, original: &str) -> Value {
        self.into_value_typed(original, true)
    }

    /// [`Version::into_value`] as a `*semver.Version` (`pointer`) or as the
    /// `semver.Version` value that the `Inc*` and `Set*` methods return, which
    /// lacks the pointer-receiver methods (`Original` and the comparisons).
    /// The unexported fields are there for `fmt` to print.
    fn into_value_typed(self, original: &str, pointer: bool) -> Value {
        let text = self.to_string();
        let mut methods = BTreeMap::new();
        let constant = |v: Value| Function::new(move |_, _| Ok(v.clone())).params(&[], None);
        methods.insert("Major".to_string(), constant(Value::Uint64(self.major)));
        methods.insert("Minor".to_string(), constant(Value::Uint64(self.minor)));
        methods.insert("Patch".to_string(), constant(Value::Uint64(self.patch)));
        methods.insert("Prerelease".to_string(), constant(Value::from(self.pre.as_str())));
        methods.insert("Metadata".to_string(), constant(Value::from(self.meta.as_str())));
        methods.insert("String".to_string(), constant(Value::from(text.as_str())));
        if pointer {
            methods.insert("Original".to_string(), constant(Value::from(original)));
            let comparisons: [(&str, Answer); 4] = [
                ("Compare", |o| Value::Int(o as i64)),
                ("LessThan", |o| Value::Bool(o == Ordering::Less)),
                ("GreaterThan", |o| Value::Bool(o == Ordering::Greater)),
                ("Equal", |o| Value::Bool(o == Ordering::Equal)),
            ];
            for (name, answer) in comparisons {
                let me = self.clone();
                let f = Function::new(move |_, a| Ok(answer(me.compare(&other_version(&a[0])?))));
                methods.insert(name.to_string(), f.params(&[Param::Struct(POINTER)], None));
            }
        }
        // Masterminds' IncPatch drops a pre-release instead of counting up;
        // every increment drops the pre-release and the metadata. Go's
        // uint64 arithmetic wraps.
        let prefix = if original.starts_with('v') { "v" } else { "" };
        let increments: [(&str, Step); 3] = [
            ("IncPatch", |v| Version {
                patch: if v.pre.is_empty() { v.patch.wrapping_add(1) } else { v.patch },
                pre: String::new(),
                meta: String::new(),
                ..v.clone()
            }),
            ("IncMinor", |v| Version {
                minor: v.minor.wrapping_add(1),
                patch: 0,
                pre: String::new(),
                meta: String::new(),
                ..v.clone()
            }),
            ("IncMajor", |v| Version {
                major: v.major.wrapping_add(1),
                minor: 0,
                patch: 0,
                pre: String::new(),
                meta: String::new(),
                newer: v.newer,
            }),
        ];
        for (name, step) in increments {
            let me = self.clone();
            let f = Function::new(move |_, _| {
                let next = step(&me);
                let original = format!("{prefix}{next}");
                Ok(next.into_value_typed(&original, false))
            });
            methods.insert(name.to_string(), f.params(&[], None));
        }
        // SetPrerelease and SetMetadata check the new part as the parser does.
        let setters: [(&str, Setter); 2] = [
            ("SetPrerelease", |v, pre| {
                check_prerelease(pre, v.newer).map_err(|e| v.wording(e))?;
                Ok(Version { pre: pre.to_string(), ..v.clone() })
            }),
            ("SetMetadata", |v, meta| {
                // The newer library refuses an empty part (`a..b`).
                if meta.split('.').any(|p| !is_identifier(p) || (v.newer && p.is_empty())) {
                    return Err(v.wording("Invalid Metadata string".to_string()));
                }
                Ok(Version { meta: meta.to_string(), ..v.clone() })
            }),
        ];
        for (name, set) in setters {
            let me = self.clone();
            let f = Function::new(move |_, a| {
                let next = set(&me, a[0].as_str().unwrap_or_default())?;
                let original = format!("{prefix}{next}");
                Ok(next.into_value_typed(&original, false))
            });
            methods.insert(name.to_string(), f.params(&[Param::String], None));
        }
        let fields = vec![
            ("major".to_string(), Value::Uint64(self.major)),
            ("minor".to_string(), Value::Uint64(self.minor)),
            ("patch".to_string(), Value::Uint64(self.patch)),
            ("pre".to_string(), Value::from(self.pre.as_str())),
            ("metadata".to_string(), Value::from(self.meta.as_str())),
            ("original".to_string(), Value::from(original)),
        ];
        Value::Struct(Arc::new(Struct {
            type_name: if pointer { POINTER } else { &POINTER[1..] }.to_string(),
            fields,
            methods,
            string: Some(text),
            ..Struct::default()
        }))
    }

    /// Reads a version as Masterminds semver does, with the error texts of
    /// the release Sprig 3.2.3 pins (capitalized; Helm 4 links a newer one
    /// that lower-cases them, see `helm::funcs`).
    fn parse(text: &str) -> Result<Version, String> {
        let m = VERSION_RE.captures(text).ok_or_else(|| "Invalid Semantic Version".to_string())?;
        let num = |i: usize| -> Result<u64, String> {
            match m.get(i) {
                Some(g) => {
                    let digits = g.as_str().trim_start_matches('.');
                    digits.parse().map_err(|_| {
                        // Only a number past u64 gets here: the pattern admits digits only.
                        format!(
                            "Error parsing version segment: strconv.ParseUint: parsing {}: value out of range",
                            crate::gotmpl::fmt::quote(digits)
                        )
                    })
                }
                None => Ok(0),
            }
        };
        let pre = m.get(5).map_or("", |g| g.as_str()).to_string();
        for part in pre.split('.').filter(|p| !p.is_empty()) {
            if part.len() > 1 && part.starts_with('0') && part.bytes().all(|b| b.is_ascii_digit()) {
                return Err("Version segment starts with 0".into());
            }
        }
        let meta = m.get(8).map_or("", |g| g.as_str()).to_string();
        Ok(Version { major: num(1)?, minor: num(2)?, patch: num(3)?, pre, meta, newer: false })
    }

    fn compare(&self, o: &Version) -> Ordering {
        (self.major, self.minor, self.patch)
            .cmp(&(o.major, o.minor, o.patch))
            .then_with(|| compare_pre(&self.pre, &o.pre))
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}.{}", self.major, self.minor, self.patch)?;
        if !self.pre.is_empty() {
            write!(f, "-{}", self.pre)?;
        }
        if !self.meta.is_empty() {
            write!(f, "+{}", self.meta)?;
        }
        Ok(())
    }
}

fn compare_pre(a: &str, b: &str) -> Ordering {
    match (a.is_empty(), b.is_empty()) {
        (true, true) => return Ordering::Equal,
        (true, false) => return Ordering::Greater,
        (false, true) => return Ordering::Less,
        _ => {}
    }
    let (pa, pb): (Vec<&str>, Vec<&str>) = (a.split('.').collect(), b.split('.').collect());
    for (x, y) in pa.iter().zip(pb.iter()) {
        let o = match (x.parse::<u64>(), y.parse::<u64>()) {
            (Ok(p), Ok(q)) => p.cmp(&q),
            (Ok(_), Err(_)) => Ordering::Less,
            (Err(_), Ok(_)) => Ordering::Greater,
            _ => x.cmp(y),
        };
        if o != Ordering::Equal {
            return o;
        }
    }
    pa.len().cmp(&pb.len())
}

/// One comparison of a constraint.
struct Constraint {
    op: String,
    con: Version,
    dirty: bool,
    minor_dirty: bool,
    patch_dirty: bool,
}

fn is_x(s: &str) -> bool {
    matches!(s, "x" | "X" | "*")
}

/// Parses `a || b, c` into OR groups of AND-ed constraints.
fn parse_constraints(text: &str) -> Result<Vec<Vec<Constraint>>, String> {
    let text = RANGE_RE.replace_all(text, ">= ${1}, <= ${11}");
    let mut ors = Vec::new();
    for segment in text.split("||") {
        if !VALID_RE.is_match(segment) {
            return Err(improper(segment));
        }
        let found: Vec<&str> = FIND_RE.find_iter(segment).map(|m| m.as_str()).collect();
        let found = if found.is_empty() { vec![segment] } else { found };
        let mut and = Vec::new();
        for c in found {
            and.push(parse_constraint(c)?);
        }
        ors.push(and);
    }
    Ok(ors)
}

/// The error for a constraint semver cannot read (v3.4, under Helm 4, quotes it).
fn improper(c: &str) -> String {
    format!("improper constraint: {c}")
}

fn parse_constraint(c: &str) -> Result<Constraint, String> {
    let m = CONSTRAINT_RE.captures(c).ok_or_else(|| improper(c))?;
    let op = m.get(1).map_or("", |g| g.as_str()).to_string();
    let g = |i: usize| m.get(i).map_or("", |g| g.as_str());
    let (major, minor, patch, pre) = (g(3), g(4), g(5), g(6));
    let (mut dirty, mut minor_dirty, mut patch_dirty) = (false, false, false);
    // A wildcard keeps the constraint's pre-release (`*-0` is `0.0.0-0`, which lets
    // pre-releases match), as Masterminds semver's parseConstraint builds it.
    let ver = if is_x(major) || major.is_empty() {
        dirty = true;
        format!("0.0.0{pre}")
    } else if is_x(minor.trim_start_matches('.')) || minor.is_empty() {
        dirty = true;
        minor_dirty = true;
        format!("{major}.0.0{pre}")
    } else if is_x(patch.trim_start_matches('.')) || patch.is_empty() {
        dirty = true;
        patch_dirty = true;
        format!("{major}{minor}.0{pre}")
    } else {
        g(2).to_string()
    };
    let con = Version::parse(&ver).map_err(|_| "constraint Parser Error".to_string())?;
    Ok(Constraint { op, con, dirty, minor_dirty, patch_dirty })
}

/// Whether `v` meets every constraint of an AND group. A pre-release
/// version meets only groups that name a pre-release in one of their
/// constraints (`>= 1.33.0-0 < 2.0` takes `1.33.1-gke.1`, `< 2.0` does
/// not), as the Masterminds semver that Helm 4 uses decides.
fn group_matches(and: &[Constraint], v: &Version) -> bool {
    let include_pre = and.iter().any(|c| !c.con.pre.is_empty());
    and.iter().all(|c| c.check(v, include_pre))
}

impl Constraint {
    fn check(&self, v: &Version, include_pre: bool) -> bool {
        let c = &self.con;
        if !include_pre && !v.pre.is_empty() && c.pre.is_empty() {
            return false;
        }
        let ord = v.compare(c);
        match self.op.as_str() {
            "" | "=" => {
                if self.dirty {
                    self.tilde(v)
                } else {
                    ord == Ordering::Equal
                }
            }
            "!=" => {
                if !self.dirty {
                    return ord != Ordering::Equal;
                }
                if c.major != v.major {
                    return true;
                }
                if self.minor_dirty {
                    return false;
                }
                if c.minor != v.minor {
                    return true;
                }
                if self.patch_dirty {
                    // `!= 1.5.x` is met by a pre-release of 1.5 only when
                    // the pre-release parts differ.
                    return (!v.pre.is_empty() || !c.pre.is_empty())
                        && compare_pre(&v.pre, &c.pre) != Ordering::Equal;
                }
                ord != Ordering::Equal
            }
            ">" => {
                if !self.dirty {
                    return ord == Ordering::Greater;
                }
                if v.major != c.major {
                    return v.major > c.major;
                }
                if self.minor_dirty {
                    return false;
                }
                if self.patch_dirty {
                    return v.minor > c.minor;
                }
                ord == Ordering::Greater
            }
            "<" => ord == Ordering::Less,
            ">=" | "=>" => ord != Ordering::Less,
            "<=" | "=<" => {
                if !self.dirty {
                    return ord != Ordering::Greater;
                }
                !(v.major > c.major
                    || (v.major == c.major && v.minor > c.minor && !self.minor_dirty))
            }
            "~" | "~>" => self.tilde(v),
            "^" => self.caret(v),
            _ => false,
        }
    }

    fn tilde(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major == 0 && c.minor == 0 && c.patch == 0 && !self.minor_dirty && !self.patch_dirty {
            return true;
        }
        if v.major != c.major {
            return false;
        }
        v.minor == c.minor || self.minor_dirty
    }

    fn caret(&self, v: &Version) -> bool {
        let c = &self.con;
        if v.compare(c) == Ordering::Less {
            return false;
        }
        if c.major > 0 || self.minor_dirty {
            return v.major == c.major;
        }
        if v.major > 0 {
            return false;
        }
        if c.minor > 0 || self.patch_dirty {
            return v.minor == c.minor;
        }
        if v.minor > 0 {
            return false;
        }
        c.patch == v.patch
    }
}

#[cfg(test)]
mod tests {
    use super::{Version, parse_constraints};

    /// Error texts as Sprig 3.2.3's semver words them (checked with the
    /// go-template oracle; Helm 4's are in `helm::funcs`).
    #[test]
    fn errors_read_as_sprigs_semver() {
        let version = |t: &str| Version::parse(t).err().unwrap_or_default();
        let constraint = |t: &str| parse_constraints(t).err().unwrap_or_default();
        let cases = [
            (version("x.y"), "Invalid Semantic Version"),
            (version(""), "Invalid Semantic Version"),
            (version("1.2.3-01"), "Version segment starts with 0"),
            (
                version("99999999999999999999.1.1"),
                "Error parsing version segment: strconv.ParseUint: parsing \"99999999999999999999\": value out of range",
            ),
            (version("1.2.3"), ""),
            (constraint("bogus"), "improper constraint: bogus"),
            (constraint(">= 1.x.y"), "improper constraint: >= 1.x.y"),
            (constraint(""), "improper constraint: "),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }
}
