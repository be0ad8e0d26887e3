//! TOML scalars as BurntSushi/toml converts them: escapes, numbers checked then read by Go's `strconv`, and date-times by Go's `time.Parse`.

use crate::gotmpl::Value;
use crate::gotmpl::sprig::{civil_nanos, zoned_time};

/// A multi-line string loses a newline right after its opening quotes.
pub(super) fn strip_first_newline(s: &str) -> &str {
    s.strip_prefix('\n').or_else(|| s.strip_prefix("\r\n")).unwrap_or(s)
}

/// Drops a line-ending backslash and the whitespace (newlines included) after it.
pub(super) fn strip_escaped_newlines(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let (mut from, mut i) = (0, 0);
    while let Some(ix) = s[i..].find('\\') {
        i += ix;
        if b.get(i + 1) == Some(&b'\\') {
            i += 2;
            continue;
        }
        let mut j = i + 1;
        while j < b.len() && matches!(b[j], b' ' | b'\t' | b'\r' | b'\n') {
            j += 1;
        }
        if j == i + 1 || !s[i..j].contains('\n') {
            i += 1;
            continue;
        }
        out.push_str(&s[from..i]);
        from = j;
        i = j;
    }
    out.push_str(&s[from..]);
    out
}

/// Replaces the escapes of a basic string (the lexer checked their form).
pub(super) fn escapes(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some((_, e)) = chars.next() else { return Ok(out) };
        let simple = match e {
            'b' => Some('\x08'),
            't' => Some('\t'),
            'n' => Some('\n'),
            'f' => Some('\x0c'),
            'r' => Some('\r'),
            'e' => Some('\x1b'),
            '"' => Some('"'),
            '\\' => Some('\\'),
            ' ' | '\t' => return Err(format!("invalid escape: '\\{e}'")),
            _ => None,
        };
        if let Some(c) = simple {
            out.push(c);
            continue;
        }
        let n = match e {
            'x' => 2,
            'u' => 4,
            'U' => 8,
            _ => return Err(format!("BUG: Expected valid escape code after \\, but got '{e}'.")),
        };
        let hex = s.get(i + 2..i + 2 + n).unwrap_or_default();
        for _ in 0..n {
            chars.next();
        }
        match u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
            // A character of the carriers' range is carried as its bytes.
            Some(c) => crate::gotmpl::sprig::push_char(&mut out, c),
            None => return Err(format!("Escaped character '\\u{hex}' is not valid UTF-8.")),
        }
    }
    Ok(out)
}

/// Go's `strconv.ParseInt(s, 0, 64)` after BurntSushi's own checks.
pub(super) fn integer(s: &str) -> Result<Value, String> {
    if !underscores_ok(s) {
        return Err(format!(
            "Invalid integer {}: underscores must be surrounded by digits",
            crate::gotmpl::fmt::quote(s)
        ));
    }
    if leading_zero(s) {
        return Err(format!(
            "Invalid integer {}: cannot have leading zeroes",
            crate::gotmpl::fmt::quote(s)
        ));
    }
    crate::gotmpl::strconv::parse_int(s)
        .map(Value::Int64)
        .ok_or_else(|| format!("{s} is out of range for int64"))
}

/// Go's `strconv.ParseFloat` after BurntSushi's own checks.
pub(super) fn float(s: &str) -> Result<Value, String> {
    let q = crate::gotmpl::fmt::quote(s);
    let parts: Vec<&str> = s.split(['.', 'e', 'E']).filter(|p| !p.is_empty()).collect();
    if parts.iter().any(|p| !underscores_ok(p)) {
        return Err(format!("Invalid float {q}: underscores must be surrounded by digits"));
    }
    if parts.first().is_some_and(|p| leading_zero(p)) {
        return Err(format!("Invalid float {q}: cannot have leading zeroes"));
    }
    let mut period = false;
    for c in s.chars() {
        if period && !c.is_ascii_digit() {
            return Err(format!("Invalid float {q}: '.' must be followed by one or more digits"));
        }
        period = c == '.';
    }
    if period {
        return Err(format!("Invalid float {q}: '.' must be followed by one or more digits"));
    }
    let clean = s.replace('_', "");
    let (negative_nan, clean) = match clean.as_str() {
        "+nan" => (false, "nan".to_string()),
        "-nan" => (true, "nan".to_string()),
        _ => (false, clean),
    };
    match crate::gotmpl::strconv::parse_float(&clean) {
        Some(f) if negative_nan => Ok(Value::Float(-f)),
        Some(f) => Ok(Value::Float(f)),
        None if clean.parse::<f64>().is_ok_and(f64::is_infinite) => {
            Err(format!("{s} is out of range for float64"))
        }
        None => Err(format!("Invalid float value: {q}")),
    }
}

/// Whether each underscore sits between two digits (hex digits count).
fn underscores_ok(s: &str) -> bool {
    if matches!(s, "nan" | "+nan" | "-nan" | "inf" | "-inf" | "+inf") {
        return true;
    }
    let mut accept = false;
    for c in s.chars() {
        if c == '_' && !accept {
            return false;
        }
        accept = c.is_ascii_hexdigit();
    }
    accept
}

/// A leading zero other than a lone `0` or a base prefix.
fn leading_zero(s: &str) -> bool {
    let b = s.as_bytes();
    (b.len() > 1 && b[0] == b'0' && !matches!(b[1], b'b' | b'o' | b'x'))
        || (b.len() > 2 && matches!(b[0], b'-' | b'+') && b[1] == b'0')
}

/// The layouts BurntSushi tries, in order: which parts each has, and the
/// location of the result when the text names no offset.
const LAYOUTS: [(&str, bool, u8, &str); 7] = [
    ("2006-01-02T15:04:05.999999999Z07:00", true, 3, ""),
    ("2006-01-02T15:04:05.999999999", true, 3, "datetime-local"),
    ("2006-01-02", true, 0, "date-local"),
    ("15:04:05.999999999", false, 3, "time-local"),
    ("2006-01-02T15:04Z07:00", true, 2, ""),
    ("2006-01-02T15:04", true, 2, "datetime-local"),
    ("15:04", false, 2, "time-local"),
];

/// A date-time: Go's `time.Time` in UTC, a fixed offset or a local location.
pub(super) fn datetime(raw: &str) -> Result<Value, String> {
    let text: String = raw
        .chars()
        .map(|c| {
            if c == 'z' {
                'Z'
            } else if c == 't' || c == ' ' {
                'T'
            } else {
                c
            }
        })
        .collect();
    for (layout, has_date, clock, local) in LAYOUTS {
        let zoned = layout.ends_with("Z07:00");
        let Some(t) = parse_layout(&text, has_date, clock, zoned) else { continue };
        if missing_leading_zero(&text, layout) {
            break;
        }
        let (zone, offset) = match t.offset {
            None => (local, 0),
            Some(0) => ("UTC", 0),
            Some(o) => ("", o),
        };
        let nanos = civil_nanos(t.date, t.clock, t.nano) - i128::from(offset) * 1_000_000_000;
        return Ok(zoned_time(nanos, offset, zone));
    }
    Err(format!("invalid datetime: {}", crate::gotmpl::fmt::quote(&text)))
}

struct Parsed {
    date: (i64, u32, u32),
    clock: (u32, u32, u32),
    nano: u32,
    offset: Option<i32>,
}

/// Reads `n` digits (or, for `flexible`, one or two) from `s` at `*i`.
fn digits(s: &[u8], i: &mut usize, n: usize, flexible: bool) -> Option<u32> {
    let mut len = 0;
    while len < n && s.get(*i + len).is_some_and(u8::is_ascii_digit) {
        len += 1;
    }
    if len == 0 || (len < n && !flexible) {
        return None;
    }
    let v = std::str::from_utf8(&s[*i..*i + len]).ok()?.parse().ok()?;
    *i += len;
    Some(v)
}

fn lit(s: &[u8], i: &mut usize, c: u8) -> Option<()> {
    (s.get(*i) == Some(&c)).then(|| *i += 1)
}

/// Go's `time.Parse` for one of the [`LAYOUTS`]: `clock` is 0 (none), 2
/// (hours and minutes) or 3 (with seconds and an optional fraction).
fn parse_layout(text: &str, has_date: bool, clock: u8, zoned: bool) -> Option<Parsed> {
    let s = text.as_bytes();
    let mut i = 0;
    let mut t = Parsed { date: (0, 1, 1), clock: (0, 0, 0), nano: 0, offset: None };
    if has_date {
        let year = digits(s, &mut i, 4, false)?;
        lit(s, &mut i, b'-')?;
        let month = digits(s, &mut i, 2, false)?;
        lit(s, &mut i, b'-')?;
        let day = digits(s, &mut i, 2, false)?;
        if !(1..=12).contains(&month) {
            return None;
        }
        t.date = (i64::from(year), month, day);
        if clock > 0 {
            lit(s, &mut i, b'T')?;
        }
    }
    if clock > 0 {
        let hour = digits(s, &mut i, 2, true)?;
        lit(s, &mut i, b':')?;
        let minute = digits(s, &mut i, 2, false)?;
        let mut second = 0;
        if clock == 3 {
            lit(s, &mut i, b':')?;
            second = digits(s, &mut i, 2, false)?;
            if matches!(s.get(i), Some(b'.' | b',')) && s.get(i + 1).is_some_and(u8::is_ascii_digit)
            {
                i += 1;
                let start = i;
                while s.get(i).is_some_and(u8::is_ascii_digit) {
                    i += 1;
                }
                let frac = format!("{:0<9}", &text[start..i.min(start + 9)]);
                t.nano = frac.parse().ok()?;
            }
        }
        if hour >= 24 || minute >= 60 || second >= 60 {
            return None;
        }
        t.clock = (hour, minute, second);
    }
    if zoned {
        if s.get(i) == Some(&b'Z') {
            i += 1;
            t.offset = Some(0);
        } else {
            let sign = match s.get(i) {
                Some(b'+') => 1,
                Some(b'-') => -1,
                _ => return None,
            };
            i += 1;
            let h = digits(s, &mut i, 2, false)?;
            lit(s, &mut i, b':')?;
            let m = digits(s, &mut i, 2, false)?;
            if h > 24 || m > 60 {
                return None;
            }
            t.offset = Some(sign * (h * 3600 + m * 60) as i32);
        }
    }
    if i != s.len() {
        return None;
    }
    if has_date {
        let (y, m, d) = t.date;
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
        if d < 1 || d > days[m as usize - 1] {
            return None;
        }
    }
    Some(t)
}

/// Go's `time.Parse` takes a one-digit hour; BurntSushi refuses it by
/// checking that the separators stand where the layout has them.
fn missing_leading_zero(text: &str, layout: &str) -> bool {
    let d = text.as_bytes();
    for (i, c) in layout.bytes().enumerate() {
        if c == b'.' || c == b'Z' {
            return false;
        }
        if !c.is_ascii_digit() && d.get(i) != Some(&c) {
            return true;
        }
    }
    false
}
