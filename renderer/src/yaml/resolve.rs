//! How plain scalars resolve to types: yaml.v3 on input, goyaml.v2 on output.
//!
//! Both libraries share one resolution table: the first character selects a
//! hint (sign, digit, dot, or a letter that may start a boolean or null), the
//! exact spellings come from a fixed list, and numbers and timestamps are
//! parsed with Go's `strconv` and `time.Parse` rules.

use crate::value::Value;
/// Whether `s` is a YAML float as both libraries' resolvers match it,
/// `^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`, read by hand:
/// compiling that expression cost more than a whole small render.
fn is_float_text(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    let digits = |i: &mut usize| {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i - start
    };
    if b.get(i) == Some(&b'.') {
        i += 1;
        if digits(&mut i) == 0 {
            return false;
        }
    } else {
        if digits(&mut i) == 0 {
            return false;
        }
        if b.get(i) == Some(&b'.') {
            i += 1;
            digits(&mut i);
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'-' | b'+')) {
            i += 1;
        }
        if digits(&mut i) == 0 {
            return false;
        }
    }
    i == b.len()
}

/// Whether `s` is a YAML 1.1 sexagesimal number as goyaml.v2 matches it,
/// `^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$`, read by hand.
fn is_base60_text(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'-' | b'+')));
    if !b.get(i).is_some_and(u8::is_ascii_digit) {
        return false;
    }
    while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
        i += 1;
    }
    let mut groups = 0;
    while b.get(i) == Some(&b':') {
        i += 1;
        let start = i;
        while b.get(i).is_some_and(u8::is_ascii_digit) {
            i += 1;
        }
        // One digit, or two of which the first is 0-5.
        match i - start {
            1 => {}
            2 if b[start] <= b'5' => {}
            _ => return false,
        }
        groups += 1;
    }
    if groups == 0 {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        while b.get(i).is_some_and(|c| c.is_ascii_digit() || *c == b'_') {
            i += 1;
        }
    }
    i == b.len()
}

/// Parses an integer the way Go's `strconv.ParseInt(s, 0, 64)` does after
/// underscores were removed: optional sign, then `0x`, `0o`, `0b`, a leading
/// `0` (octal) or decimal digits.
pub(crate) fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, magnitude) = parse_go_magnitude(s)?;
    let v = if neg { -i128::from(magnitude) } else { i128::from(magnitude) };
    i64::try_from(v).ok()
}

/// `strconv.ParseUint(s, 0, 64)`: no minus sign, up to 2^64-1.
pub(crate) fn parse_go_uint(s: &str) -> Option<u64> {
    match parse_go_magnitude(s)? {
        (false, m) if !s.starts_with('+') => Some(m),
        _ => None,
    }
}

/// The sign and magnitude of a Go integer literal with base prefix.
fn parse_go_magnitude(s: &str) -> Option<(bool, u64)> {
    let (neg, body) = match s.as_bytes().first()? {
        b'-' => (true, &s[1..]),
        b'+' => (false, &s[1..]),
        _ => (false, s),
    };
    let b = body.as_bytes();
    if b.is_empty() {
        return None;
    }
    let (radix, digits) = if b.len() > 1 && b[0] == b'0' {
        match b[1].to_ascii_lowercase() {
            b'x' => (16, &body[2..]),
            b'o' => (8, &body[2..]),
            b'b' => (2, &body[2..]),
            _ => (8, &body[1..]),
        }
    } else {
        (10, body)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    Some((neg, u64::from_str_radix(digits, radix).ok()?))
}

/// Go's `strconv.ParseFloat` on text that matched the YAML float pattern:
/// out-of-range values are errors, not infinities.
fn parse_go_float(s: &str) -> Option<f64> {
    let f: f64 = s.parse().ok()?;
    f.is_finite().then_some(f)
}

/// The first-character hint of the resolution table; `None` means the text
/// is always a string.
fn hint(s: &str) -> Option<u8> {
    match s.as_bytes().first() {
        None => Some(b'N'),
        Some(b'+' | b'-') => Some(b'S'),
        Some(b'0'..=b'9') => Some(b'D'),
        Some(b'y' | b'Y' | b'n' | b'N' | b't' | b'T' | b'f' | b'F' | b'o' | b'O' | b'~') => {
            Some(b'M')
        }
        Some(b'.') => Some(b'.'),
        _ => None,
    }
}

/// Resolves a plain (unquoted, untagged) scalar as yaml.v3 does when it
/// decodes into `interface{}`, then as JSON carries it on.
pub(crate) fn resolve_plain(s: &str) -> Value {
    let Some(hint) = hint(s) else {
        return Value::String(s.to_string());
    };
    match s {
        "" | "~" | "null" | "Null" | "NULL" => return Value::Null,
        "true" | "True" | "TRUE" => return Value::Bool(true),
        "false" | "False" | "FALSE" => return Value::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => {
            return Value::Float(f64::INFINITY);
        }
        "-.inf" | "-.Inf" | "-.INF" => return Value::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Value::Float(f64::NAN),
        _ => {}
    }
    match hint {
        b'.' => {
            let plain = s.replace('_', "");
            if is_float_text(&plain)
                && let Some(f) = parse_go_float(&plain)
            {
                return Value::Float(f);
            }
        }
        b'D' | b'S' => {
            if let Some(ts) = parse_timestamp(s) {
                return Value::String(ts.rfc3339());
            }
            let plain = s.replace('_', "");
            if let Some(i) = parse_go_int(&plain) {
                return Value::Int(i);
            }
            // Integers between 2^63 and 2^64 are uint64 in Go (not with a
            // plus sign: `strconv.ParseUint` refuses it).
            if let Some(u) = parse_go_uint(&plain) {
                return Value::from_u64(u);
            }
            if is_float_text(&plain)
                && let Some(f) = parse_go_float(&plain)
            {
                return Value::Float(f);
            }
        }
        _ => {}
    }
    Value::String(s.to_string())
}

/// Whether yaml.v3 decodes the plain scalar `s` as a string (not a null,
/// bool, number or timestamp).
pub(crate) fn reads_as_string(s: &str) -> bool {
    matches!(resolve_plain(s), Value::String(_)) && parse_timestamp(s).is_none()
}

/// Whether goyaml.v2 would read this string back as something other than a
/// string (YAML 1.1 rules), so that the emitter must quote it.
pub(crate) fn v2_resolves_to_non_string(s: &str) -> bool {
    let Some(hint) = hint(s) else {
        return false;
    };
    match s {
        "" | "~" | "null" | "Null" | "NULL" | "y" | "Y" | "yes" | "Yes" | "YES" | "n" | "N"
        | "no" | "No" | "NO" | "true" | "True" | "TRUE" | "false" | "False" | "FALSE" | "on"
        | "On" | "ON" | "off" | "Off" | "OFF" | ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf"
        | "+.INF" | "-.inf" | "-.Inf" | "-.INF" | ".nan" | ".NaN" | ".NAN" => return true,
        _ => {}
    }
    match hint {
        b'.' => {
            let plain = s.replace('_', "");
            is_float_text(&plain) && parse_go_float(&plain).is_some()
        }
        b'D' | b'S' => {
            if parse_timestamp(s).is_some() {
                return true;
            }
            let plain = s.replace('_', "");
            if parse_go_int(&plain).is_some() || parse_go_uint(&plain).is_some() {
                return true;
            }
            if is_float_text(&plain) && parse_go_float(&plain).is_some() {
                return true;
            }
            let bits = plain.strip_prefix("0b").or_else(|| plain.strip_prefix("-0b"));
            if bits.is_some_and(|b| {
                !b.is_empty() && b.len() <= 64 && b.chars().all(|c| c == '0' || c == '1')
            }) {
                return true;
            }
            is_base60_float(s)
        }
        _ => false,
    }
}

/// goyaml.v2 quotes YAML 1.1 sexagesimal numbers such as `190:20:30` even
/// though it no longer reads them as numbers.
fn is_base60_float(s: &str) -> bool {
    is_base60_text(s)
}

/// A point in time as Go's `time.Parse` read it from one of the layouts
/// yaml.v2 and yaml.v3 accept.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Timestamp {
    year: u32,
    month: u32,
    day: u32,
    hour: u32,
    minute: u32,
    second: u32,
    nanos: u32,
    /// Seconds east of UTC; `None` for UTC.
    offset: Option<i32>,
}

/// The separator between date and time in one timestamp layout.
#[derive(Clone, Copy, PartialEq)]
enum Layout {
    /// `2006-1-2T15:4:5.999999999Z07:00`
    Upper,
    /// `2006-1-2t15:4:5.999999999Z07:00`
    Lower,
    /// `2006-1-2 15:4:5.999999999`
    Space,
    /// `2006-1-2`
    DateOnly,
}

/// Parses the timestamp forms yaml.v2 and yaml.v3 recognise, with Go's
/// `time.Parse` rules (one- or two-digit fields, range checks, fractional
/// seconds of any length, `Z` or `±hh:mm` zones).
pub(crate) fn parse_timestamp(s: &str) -> Option<Timestamp> {
    let b = s.as_bytes();
    // Quick check, as both libraries do: four digits and a dash.
    if b.len() < 5 || !b[..4].iter().all(u8::is_ascii_digit) || b[4] != b'-' {
        return None;
    }
    [Layout::Upper, Layout::Lower, Layout::Space, Layout::DateOnly]
        .into_iter()
        .find_map(|layout| parse_layout(b, layout))
}

/// Go's `getnum(s, false)`: one digit, or two when a second follows.
fn getnum(b: &[u8], i: &mut usize) -> Option<u32> {
    let first = *b.get(*i).filter(|c| c.is_ascii_digit())?;
    *i += 1;
    let mut n = u32::from(first - b'0');
    if let Some(&c) = b.get(*i).filter(|c| c.is_ascii_digit()) {
        n = n * 10 + u32::from(c - b'0');
        *i += 1;
    }
    Some(n)
}

fn expect(b: &[u8], i: &mut usize, c: u8) -> Option<()> {
    (b.get(*i) == Some(&c)).then(|| *i += 1)
}

fn two_digits(b: &[u8]) -> Option<i32> {
    match b {
        [x, y] if x.is_ascii_digit() && y.is_ascii_digit() => {
            Some(i32::from((x - b'0') * 10 + (y - b'0')))
        }
        _ => None,
    }
}

fn parse_layout(b: &[u8], layout: Layout) -> Option<Timestamp> {
    let year = b[..4].iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    let mut i = 4;
    expect(b, &mut i, b'-')?;
    let month = getnum(b, &mut i)?;
    expect(b, &mut i, b'-')?;
    let day = getnum(b, &mut i)?;
    let mut t =
        Timestamp { year, month, day, hour: 0, minute: 0, second: 0, nanos: 0, offset: None };
    match layout {
        Layout::DateOnly => {}
        Layout::Upper => expect(b, &mut i, b'T')?,
        Layout::Lower => expect(b, &mut i, b't')?,
        Layout::Space => {
            // A space in a Go layout matches any run of spaces.
            if b.get(i).is_some_and(|c| *c != b' ') {
                return None;
            }
            while b.get(i) == Some(&b' ') {
                i += 1;
            }
        }
    }
    if layout != Layout::DateOnly {
        t.hour = getnum(b, &mut i)?;
        expect(b, &mut i, b':')?;
        t.minute = getnum(b, &mut i)?;
        expect(b, &mut i, b':')?;
        t.second = getnum(b, &mut i)?;
        if t.hour >= 24 || t.minute >= 60 || t.second >= 60 {
            return None;
        }
        if matches!(b.get(i), Some(b'.' | b',')) && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            // Go keeps nanosecond precision and drops further digits.
            let digits = &b[start..i.min(start + 9)];
            let scale = 10u32.pow(9 - digits.len() as u32);
            t.nanos = digits.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0')) * scale;
        }
        if matches!(layout, Layout::Upper | Layout::Lower) {
            if b.get(i) == Some(&b'Z') {
                i += 1;
            } else {
                let zone = b.get(i..i + 6)?;
                if zone[3] != b':' {
                    return None;
                }
                let (hh, mm) = (two_digits(&zone[1..3])?, two_digits(&zone[4..6])?);
                if hh > 24 || mm > 60 {
                    return None;
                }
                let offset = (hh * 60 + mm) * 60;
                t.offset = match zone[0] {
                    b'+' => Some(offset),
                    b'-' => Some(-offset),
                    _ => return None,
                };
                i += 6;
            }
        }
    }
    if i != b.len() || !(1..=12).contains(&month) || day < 1 || day > days_in(month, year) {
        return None;
    }
    Some(t)
}

fn days_in(month: u32, year: u32) -> u32 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

impl Timestamp {
    /// Go's `%#v` of the `time.Time` that `time.Parse` makes of it: a zone
    /// written as an offset is a fixed zone without a name.
    pub(crate) fn go_string(&self) -> String {
        let zone = match self.offset {
            None | Some(0) => "time.UTC",
            Some(_) => "time.Location(\"\")",
        };
        crate::gotmpl::sprig::go_date_syntax(
            i64::from(self.year),
            [self.month, self.day, self.hour, self.minute, self.second, self.nanos],
            zone,
        )
    }

    /// The fields Go's fmt compares two such `time.Time`s by (`wall`, then
    /// `ext`, without a monotonic reading): the nanoseconds within the
    /// second, then the instant in seconds.
    pub(crate) fn go_fields(&self) -> (u32, i128) {
        let date = (i64::from(self.year), self.month, self.day);
        let local =
            crate::gotmpl::sprig::civil_nanos(date, (self.hour, self.minute, self.second), 0);
        let offset = i128::from(self.offset.unwrap_or(0)) * 1_000_000_000;
        (self.nanos, local - offset)
    }

    /// RFC 3339 with nanoseconds, as Go's JSON encoding of `time.Time`
    /// writes it: trailing zeros of the fraction dropped, `Z` for UTC.
    pub(crate) fn rfc3339(&self) -> String {
        let mut out = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
            self.year, self.month, self.day, self.hour, self.minute, self.second
        );
        if self.nanos > 0 {
            let frac = format!("{:09}", self.nanos);
            out.push('.');
            out.push_str(frac.trim_end_matches('0'));
        }
        match self.offset {
            None | Some(0) => out.push('Z'),
            Some(off) => {
                let minutes = off.abs() / 60;
                let sign = if off < 0 { '-' } else { '+' };
                out.push_str(&format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60));
            }
        }
        out
    }
}

/// kyaml's `IsYaml1_1NonString`: whether goyaml.v2, reading the text `s`
/// as a whole document into an interface, gets something other than a
/// string (a YAML 1.1 bool or number, a null, a map, a list). Empty and
/// multi-line texts and texts goyaml.v2 cannot read count as strings, and
/// so does a timestamp (goyaml.v2 hands it to an interface as its text).
/// kyaml's field setter gives a `!!str` node of plain style holding such a
/// text the double-quoted style.
pub(crate) fn yaml11_non_string(s: &str) -> bool {
    if s.is_empty() || s.contains('\n') {
        return false;
    }
    // Only these texts can read as anything but a string; the others need
    // no parse. Blanks around the text are no part of a plain scalar (`1 `
    // is an int, blanks alone a null), nor is a comment after a blank, and
    // `\r` breaks the line for YAML 1.1.
    let t = s.trim_matches([' ', '\t']);
    let may_be_other = v2_resolves_to_non_string(t)
        || t.starts_with(['[', '{', '-', '?', '#', '!', '&', '*', '%', '|', '>', '~'])
        || s.contains(": ")
        || s.contains(":\t")
        || t.ends_with(':')
        || s.contains(" #")
        || s.contains("\t#")
        || s.contains('\r');
    if !may_be_other {
        return false;
    }
    match crate::yaml::parse_documents_yaml11(s, "") {
        Ok(docs) => !matches!(docs.first(), Some(Value::String(_))),
        Err(_) => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The hand-read matchers accept exactly what the expressions they
    /// replace accept, over every string of up to five characters drawn
    /// from the characters that matter to them.
    #[test]
    fn float_and_base60_texts_match_their_expressions() {
        let float =
            regex::Regex::new(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$").unwrap();
        let base60 =
            regex::Regex::new(r"^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$").unwrap();
        let alphabet: Vec<char> = "0569_:.+-eEx\n".chars().collect();
        let mut words = vec![String::new()];
        let mut start = 0;
        for _ in 0..5 {
            let end = words.len();
            for i in start..end {
                for c in &alphabet {
                    let w = format!("{}{c}", words[i]);
                    words.push(w);
                }
            }
            start = end;
        }
        for extra in ["190:20:30.15", "1_000:59:00", "-12:5:06.", "+.5e-10", "12.e+3", "1:60"] {
            words.push(extra.to_string());
        }
        for w in &words {
            assert_eq!(is_float_text(w), float.is_match(w), "float {w:?}");
            assert_eq!(is_base60_text(w), base60.is_match(w), "base60 {w:?}");
        }
    }

    #[test]
    fn yaml11_non_strings_are_what_kyaml_quotes() {
        // Texts kyaml's field setter double-quotes in a plain `!!str` node
        // (recorded from `kubectl kustomize`: cases 4622, 4623).
        for s in ["10", "0x10", "1.5", "true", "yes", "~", "null", "a: b", "[x]", "{a: 1}", "- x"] {
            assert!(yaml11_non_string(s), "{s:?}");
        }
        // Blanks around the text, a comment after it, a `\r` line break
        // (case 4700).
        for s in ["1 ", " 1", "1\t#x", "  ", " [x]", " - x", "yes\t", "1\r"] {
            assert!(yaml11_non_string(s), "{s:?}");
        }
        // And those it leaves plain: words, texts goyaml.v2 refuses
        // (`@at`, `a: b: c`), empty and multi-line texts, timestamps.
        for s in ["abc", "@at", "a: b: c", "", "a\nb", "x ", "1:20", "2001-12-14", "nginx:1.2"] {
            assert!(!yaml11_non_string(s), "{s:?}");
        }
        // A tab cannot start a token; `\r` ends a line (case 4700).
        for s in ["\t1", "x\r", "1\rx", "a:\rb"] {
            assert!(!yaml11_non_string(s), "{s:?}");
        }
    }

    #[test]
    fn timestamps_parse_like_go() {
        let cases: &[(&str, Option<&str>)] = &[
            ("2001-12-14", Some("2001-12-14T00:00:00Z")),
            ("2001-1-4", Some("2001-01-04T00:00:00Z")),
            ("2001-12-14t21:59:43.10-05:00", Some("2001-12-14T21:59:43.1-05:00")),
            ("2002-12-14 21:59:43", Some("2002-12-14T21:59:43Z")),
            ("2002-12-14   1:2:3.5", Some("2002-12-14T01:02:03.5Z")),
            ("2002-12-14T21:59:43.000Z", Some("2002-12-14T21:59:43Z")),
            ("2002-12-14T21:59:43.1234567891+00:00", Some("2002-12-14T21:59:43.123456789Z")),
            ("2001-12-14 21:59:43.10 -5", None),
            ("2001-02-29", None),
            ("2000-02-29", Some("2000-02-29T00:00:00Z")),
            ("2001-13-01", None),
            ("2001-12-14T24:00:00Z", None),
            ("20011214", None),
            ("2001-12-14x", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_timestamp(text).map(|t| t.rfc3339()).as_deref(), *want, "{text}");
        }
    }

    #[test]
    fn v2_quoting_decisions() {
        let cases: &[(&str, bool)] = &[
            ("<<", false),
            ("1e400", false),
            ("1e3", true),
            ("0x8000000000000000", true),
            ("2001-1-4", true),
            ("190:20:30", true),
            ("1_", true),
            ("_1", false),
            ("yes", true),
            ("yES", false),
            (".5", true),
            ("0b102", false),
        ];
        for (text, want) in cases {
            assert_eq!(v2_resolves_to_non_string(text), *want, "{text}");
        }
    }
}
