//! Sprig's date functions with Go's layout strings: now, date, dateInZone, htmlDate, toDate, dateModify, unixEpoch, duration, durationRound, ago.
//!
//! kiln renders the same everywhere, so "Local" shows UTC's clock.
//! `dateInZone` and `htmlDateInZone` format in a named zone of the tz
//! database (chrono-tz), and fall back to UTC for an unknown name, as Sprig
//! does. A time is a `time.Time` struct whose native value is a
//! [`GoTime`]: its instant and location (`gotime.rs`).

use super::gotime::{GoTime, Loc, native_time, time_arg};
use super::{def, s};
use crate::gotmpl::strconv::{AtoiError, atoi};
use crate::gotmpl::{Funcs, Param, Struct, Value};

use Param::{Any, String as Str};

/// The Go type of time parameters.
const TIME: Param = Param::Struct("time.Time");

pub(super) const NANOS: i128 = 1_000_000_000;
pub(super) const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
pub(super) const DAYS: [&str; 7] =
    ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/// Go's `Time.GoString`, which `%#v` prints: `time.Date(2020, time.March,
/// 4, 0, 0, 0, 0, time.Local)`, for a wall clock (year, month, day, hour,
/// minute, second, nanosecond) in the zone `loc` as Go writes it.
pub(crate) fn go_date_syntax(year: i64, clock: [u32; 6], loc: &str) -> String {
    let [month, day, hour, minute, second, nano] = clock;
    let month = MONTHS
        .get((month as usize).wrapping_sub(1))
        .map_or_else(|| month.to_string(), |m| format!("time.{m}"));
    format!("time.Date({year}, {month}, {day}, {hour}, {minute}, {second}, {nano}, {loc})")
}

/// The JSON string a `time.Time` struct marshals to, if `st` is one.
pub(crate) fn time_json(st: &Struct) -> Option<String> {
    native_time(st).map(|t| t.json_text())
}

/// Why Go's `Time.MarshalJSON` refuses the `time.Time` `st`: RFC 3339 has
/// room for the years 0 to 9999 and zone offsets below 24 hours.
pub(crate) fn time_marshal_error(st: &Struct) -> Option<&'static str> {
    let text = native_time(st)?.json_text();
    let b = text.as_bytes();
    if !b.first().is_some_and(u8::is_ascii_digit) || b.get(4) != Some(&b'-') {
        return Some("year outside of range [0,9999]");
    }
    let hours = b.len().checked_sub(5).and_then(|i| text.get(i..i + 2));
    if !text.ends_with('Z') && hours.and_then(|h| h.parse::<u32>().ok()).is_some_and(|h| h >= 24) {
        return Some("timezone hour outside of range [0,23]");
    }
    None
}

/// Nanoseconds since the Unix epoch of a wall clock read in UTC.
pub(crate) fn civil_nanos(date: (i64, u32, u32), clock: (u32, u32, u32), nano: u32) -> i128 {
    let days = i128::from(days_from_civil(date.0, date.1, date.2));
    let secs = days * 86_400 + i128::from(clock.0 * 3600 + clock.1 * 60 + clock.2);
    secs * NANOS + i128::from(nano)
}

/// A `time.Time` at `unix_nanos` whose location is `zone`, as
/// BurntSushi/toml decodes date-times: `UTC`, a fixed `offset` (`zone`
/// empty), or one of its local locations (`datetime-local`, `date-local`,
/// `time-local`), which it keeps in package variables.
pub(crate) fn zoned_time(unix_nanos: i128, offset: i32, zone: &str) -> Value {
    let loc = match zone {
        "UTC" => Loc::utc(),
        "" => Loc::fixed("", offset),
        name => Loc::shared(name, offset),
    };
    GoTime::new(Time(unix_nanos), loc).value()
}

/// An instant: nanoseconds since the Unix epoch, in UTC.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Time(pub(super) i128);

/// The calendar fields of an instant.
pub(super) struct Civil {
    pub(super) year: i64,
    pub(super) month: u32,
    pub(super) day: u32,
    pub(super) hour: u32,
    pub(super) minute: u32,
    pub(super) second: u32,
    pub(super) nano: u32,
    pub(super) weekday: usize,
    pub(super) yday: u32,
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Days since 1970-01-01 to a (year, month, day), by Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

pub(super) fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

impl Time {
    pub(super) fn now() -> Time {
        match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
            Ok(d) => Time(d.as_nanos() as i128),
            Err(_) => Time(0),
        }
    }

    pub(super) fn unix(self) -> i64 {
        self.0.div_euclid(NANOS) as i64
    }

    pub(super) fn civil(self) -> Civil {
        let secs = self.0.div_euclid(NANOS) as i64;
        let nano = self.0.rem_euclid(NANOS) as u32;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400) as u32;
        let (year, month, day) = civil_from_days(days);
        let yday = (days - days_from_civil(year, 1, 1)) as u32 + 1;
        Civil {
            year,
            month,
            day,
            hour: rem / 3600,
            minute: rem / 60 % 60,
            second: rem % 60,
            nano,
            weekday: (days + 4).rem_euclid(7) as usize,
            yday,
        }
    }

    /// Go's `Time.Format` with a layout such as `2006-01-02T15:04:05Z07:00`, in UTC.
    fn format(self, layout: &str) -> String {
        self.format_in(layout, &Zone::utc())
    }

    /// `Time.In(zone).Format(layout)`.
    pub(super) fn format_in(self, layout: &str, zone: &Zone) -> String {
        let c = Time(self.0 + i128::from(zone.offset) * NANOS).civil();
        let mut out = String::new();
        let mut rest = layout;
        while !rest.is_empty() {
            let (token, len) = next_token(rest);
            match token {
                Token::Literal => out.push_str(&rest[..len]),
                Token::LongMonth => out.push_str(MONTHS[c.month as usize - 1]),
                Token::Month => out.push_str(&MONTHS[c.month as usize - 1][..3]),
                Token::NumMonth => out.push_str(&c.month.to_string()),
                Token::ZeroMonth => out.push_str(&format!("{:02}", c.month)),
                Token::LongWeekDay => out.push_str(DAYS[c.weekday]),
                Token::WeekDay => out.push_str(&DAYS[c.weekday][..3]),
                Token::Day => out.push_str(&c.day.to_string()),
                Token::UnderDay => out.push_str(&format!("{:>2}", c.day)),
                Token::ZeroDay => out.push_str(&format!("{:02}", c.day)),
                Token::UnderYearDay => out.push_str(&format!("{:>3}", c.yday)),
                Token::ZeroYearDay => out.push_str(&format!("{:03}", c.yday)),
                Token::Hour => out.push_str(&format!("{:02}", c.hour)),
                Token::Hour12 => out.push_str(&hour12(c.hour).to_string()),
                Token::ZeroHour12 => out.push_str(&format!("{:02}", hour12(c.hour))),
                Token::Minute => out.push_str(&c.minute.to_string()),
                Token::ZeroMinute => out.push_str(&format!("{:02}", c.minute)),
                Token::Second => out.push_str(&c.second.to_string()),
                Token::ZeroSecond => out.push_str(&format!("{:02}", c.second)),
                // Go pads the digits, not the sign (year -1 is `-0001`), and
                // `06` prints the last two digits of the year's magnitude.
                Token::LongYear if c.year < 0 => out.push_str(&format!("-{:04}", -c.year)),
                Token::LongYear => out.push_str(&format!("{:04}", c.year)),
                Token::Year => out.push_str(&format!("{:02}", c.year.abs() % 100)),
                Token::PM => out.push_str(if c.hour >= 12 { "PM" } else { "AM" }),
                Token::Pm => out.push_str(if c.hour >= 12 { "pm" } else { "am" }),
                Token::TzName => match &zone.name {
                    Some(name) => out.push_str(name),
                    // A zone with no abbreviation prints its offset, as tzdata's `+0530`.
                    None if zone.offset % 3600 == 0 => {
                        out.push_str(&offset_text("-07", zone.offset))
                    }
                    None => out.push_str(&offset_text("-0700", zone.offset)),
                },
                Token::IsoZ(_) if zone.offset == 0 => out.push('Z'),
                Token::IsoZ(form) | Token::Offset(form) => {
                    out.push_str(&offset_text(form, zone.offset))
                }
                Token::Frac { digits, trim, sep } => {
                    let full = format!("{:09}", c.nano);
                    let mut f = full[..digits].to_string();
                    if trim {
                        while f.ends_with('0') {
                            f.pop();
                        }
                        if !f.is_empty() {
                            out.push(sep);
                            out.push_str(&f);
                        }
                    } else {
                        out.push(sep);
                        out.push_str(&f);
                    }
                }
            }
            rest = &rest[len..];
        }
        out
    }
}

fn hour12(h: u32) -> u32 {
    match h % 12 {
        0 => 12,
        x => x,
    }
}

/// A piece of a Go layout string.
enum Token {
    Literal,
    LongMonth,
    Month,
    NumMonth,
    ZeroMonth,
    LongWeekDay,
    WeekDay,
    Day,
    UnderDay,
    ZeroDay,
    UnderYearDay,
    ZeroYearDay,
    Hour,
    Hour12,
    ZeroHour12,
    Minute,
    ZeroMinute,
    Second,
    ZeroSecond,
    LongYear,
    Year,
    PM,
    Pm,
    TzName,
    /// A `Z07:00`-style zone: `Z` in UTC, else the offset (the form without `Z`).
    IsoZ(&'static str),
    /// A `-07:00`-style zone offset, by its form.
    Offset(&'static str),
    Frac {
        digits: usize,
        trim: bool,
        sep: char,
    },
}

/// The next layout token and its length in bytes, as Go's `nextStdChunk` finds them.
fn next_token(s: &str) -> (Token, usize) {
    let starts = |p: &str| s.starts_with(p);
    let b = s.as_bytes();
    const OFFSETS: [&str; 5] = ["-070000", "-07:00:00", "-0700", "-07:00", "-07"];
    const ISO: [(&str, &str); 5] = [
        ("Z070000", "-070000"),
        ("Z07:00:00", "-07:00:00"),
        ("Z0700", "-0700"),
        ("Z07:00", "-07:00"),
        ("Z07", "-07"),
    ];
    let table: [(&str, Token); 23] = [
        ("January", Token::LongMonth),
        ("Jan", Token::Month),
        ("Monday", Token::LongWeekDay),
        ("Mon", Token::WeekDay),
        ("MST", Token::TzName),
        ("2006", Token::LongYear),
        ("002", Token::ZeroYearDay),
        ("__2", Token::UnderYearDay),
        ("_2", Token::UnderDay),
        ("01", Token::ZeroMonth),
        ("02", Token::ZeroDay),
        ("03", Token::ZeroHour12),
        ("04", Token::ZeroMinute),
        ("05", Token::ZeroSecond),
        ("06", Token::Year),
        ("15", Token::Hour),
        ("1", Token::NumMonth),
        ("2", Token::Day),
        ("3", Token::Hour12),
        ("4", Token::Minute),
        ("5", Token::Second),
        ("PM", Token::PM),
        ("pm", Token::Pm),
    ];
    for text in OFFSETS {
        if starts(text) {
            return (Token::Offset(text), text.len());
        }
    }
    for (text, form) in ISO {
        if starts(text) {
            return (Token::IsoZ(form), text.len());
        }
    }
    if (b[0] == b'.' || b[0] == b',') && b.len() > 1 && (b[1] == b'0' || b[1] == b'9') {
        let ch = b[1];
        let n = b[1..].iter().take_while(|c| **c == ch).count();
        if !b.get(1 + n).is_some_and(u8::is_ascii_digit) {
            let digits = n.min(9);
            return (Token::Frac { digits, trim: ch == b'9', sep: b[0] as char }, 1 + n);
        }
    }
    for (text, token) in table {
        if starts(text) {
            // Go reads `Jan` and `Mon` as text when a lower-case letter follows (`Janet`, `Month`).
            if matches!(token, Token::Month | Token::WeekDay)
                && s[text.len()..].starts_with(|c: char| c.is_ascii_lowercase())
            {
                return (Token::Literal, 1);
            }
            // `_2006` is a literal `_` and a year.
            if text == "_2" && s.starts_with("_2006") {
                return (Token::Literal, 1);
            }
            return (token, text.len());
        }
    }
    (Token::Literal, s.chars().next().map_or(1, char::len_utf8))
}

/// A time zone at one instant: its offset east of UTC in seconds, and its
/// abbreviation (`EDT`), if tzdata gives one.
pub(super) struct Zone {
    pub(super) offset: i32,
    pub(super) name: Option<String>,
}

impl Zone {
    pub(super) fn utc() -> Zone {
        Zone { offset: 0, name: Some("UTC".into()) }
    }

    /// `time.LoadLocation(name)` at `t`, with Sprig's fallback to UTC for a
    /// zone it cannot load. kiln renders alike everywhere, so `Local` is UTC.
    fn at(name: &str, t: Time) -> Zone {
        use chrono::{Offset, TimeZone};
        use chrono_tz::OffsetName;
        let Ok(tz) = name.parse::<chrono_tz::Tz>() else {
            return Zone::utc();
        };
        let secs = i64::try_from(t.0.div_euclid(NANOS)).unwrap_or_default();
        let Some(utc) = chrono::DateTime::from_timestamp(secs, 0) else {
            return Zone::utc();
        };
        let offset = tz.offset_from_utc_datetime(&utc.naive_utc());
        Zone {
            offset: offset.fix().local_minus_utc(),
            name: offset.abbreviation().map(str::to_string),
        }
    }
}

/// A zone offset in one of Go's layout forms (`-07`, `-0700`, `-07:00`,
/// `-070000`, `-07:00:00`); `-07` shows hours only.
pub(super) fn offset_text(form: &str, offset: i32) -> String {
    let sign = if offset < 0 { '-' } else { '+' };
    let a = offset.unsigned_abs();
    let (h, m, s) = (a / 3600, a / 60 % 60, a % 60);
    match form {
        "-07" => format!("{sign}{h:02}"),
        "-0700" => format!("{sign}{h:02}{m:02}"),
        "-07:00" => format!("{sign}{h:02}:{m:02}"),
        "-070000" => format!("{sign}{h:02}{m:02}{s:02}"),
        _ => format!("{sign}{h:02}:{m:02}:{s:02}"),
    }
}

/// The instant of a date argument: a `time.Time`, or Unix seconds as an int;
/// anything else is now, as Sprig decides.
fn instant(v: &Value) -> Time {
    match v {
        Value::Struct(st) => native_time(st).map_or_else(Time::now, |t| t.at),
        Value::Int(i) | Value::Int64(i) => Time(i128::from(*i) * NANOS),
        _ => Time::now(),
    }
}

/// Go's `Duration.String()`.
pub(super) fn duration_string(d: i128) -> String {
    if d == 0 {
        return "0s".into();
    }
    let neg = d < 0;
    let u = d.unsigned_abs();
    let sign = if neg { "-" } else { "" };
    if u < NANOS as u128 {
        let (unit, scale) = if u < 1_000 {
            ("ns", 1)
        } else if u < 1_000_000 {
            ("µs", 1_000)
        } else {
            ("ms", 1_000_000)
        };
        return format!("{sign}{}{unit}", frac(u, scale));
    }
    let secs = u / NANOS as u128;
    let nanos = u % NANOS as u128;
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    let mut out = String::from(sign);
    if h > 0 {
        out.push_str(&format!("{h}h"));
    }
    if h > 0 || m > 0 {
        out.push_str(&format!("{m}m"));
    }
    out.push_str(&frac(s * NANOS as u128 + nanos, NANOS as u128));
    out.push('s');
    out
}

/// `v / scale` with the fraction's trailing zeros dropped.
fn frac(v: u128, scale: u128) -> String {
    let whole = v / scale;
    let rest = v % scale;
    if rest == 0 {
        return whole.to_string();
    }
    let width = scale.to_string().len() - 1;
    let f = format!("{rest:0width$}");
    format!("{whole}.{}", f.trim_end_matches('0'))
}

/// Go's `time.ParseDuration`: exact integer nanoseconds (a fraction through
/// float64, as Go), with Go's error texts.
pub(super) fn parse_duration(orig: &str) -> Result<i128, String> {
    const LIMIT: u64 = 1 << 63;
    let invalid = || format!("time: invalid duration {}", time_quote(orig));
    let (neg, mut s) = match orig.as_bytes().first() {
        Some(b'-') => (true, &orig[1..]),
        Some(b'+') => (false, &orig[1..]),
        _ => (false, orig),
    };
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(invalid());
    }
    let mut d: u64 = 0;
    while !s.is_empty() {
        if !s.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
            return Err(invalid());
        }
        // Go's leadingInt: digits, refusing more than 1<<63.
        let n = s.bytes().take_while(u8::is_ascii_digit).count();
        let mut v: u64 = 0;
        for c in s[..n].bytes() {
            if v > LIMIT / 10 {
                return Err(invalid());
            }
            v = v * 10 + u64::from(c - b'0');
            if v > LIMIT {
                return Err(invalid());
            }
        }
        let pre = n > 0;
        s = &s[n..];
        // Go's leadingFraction: digits kept while they fit, the rest ignored.
        let (mut f, mut scale, mut post) = (0u64, 1f64, false);
        if let Some(rest) = s.strip_prefix('.') {
            let n = rest.bytes().take_while(u8::is_ascii_digit).count();
            let mut overflow = false;
            for c in rest[..n].bytes() {
                if overflow {
                    continue;
                }
                if f > (LIMIT - 1) / 10 {
                    overflow = true;
                    continue;
                }
                let y = f * 10 + u64::from(c - b'0');
                if y > LIMIT {
                    overflow = true;
                    continue;
                }
                f = y;
                scale *= 10.0;
            }
            post = n > 0;
            s = &rest[n..];
        }
        if !pre && !post {
            return Err(invalid());
        }
        let i = s.bytes().take_while(|c| *c != b'.' && !c.is_ascii_digit()).count();
        if i == 0 {
            return Err(format!("time: missing unit in duration {}", time_quote(orig)));
        }
        let u = &s[..i];
        s = &s[i..];
        let unit: u64 = match u {
            "ns" => 1,
            "us" | "\u{b5}s" | "\u{3bc}s" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            _ => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    time_quote(u),
                    time_quote(orig)
                ));
            }
        };
        if v > LIMIT / unit {
            return Err(invalid());
        }
        v *= unit;
        if f > 0 {
            v += (f as f64 * (unit as f64 / scale)) as u64;
            if v > LIMIT {
                return Err(invalid());
            }
        }
        d += v;
        if d > LIMIT {
            return Err(invalid());
        }
    }
    if neg {
        return Ok(-i128::from(d));
    }
    if d > LIMIT - 1 {
        return Err(invalid());
    }
    Ok(i128::from(d))
}

/// Go's `time.quote` in parse errors: double quotes, with `"` and `\` escaped
/// and the bytes of other than printable ASCII as `\xNN`.
fn time_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if (c as u32) < 0x20 || !c.is_ascii() {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("\\x{b:02x}"));
            }
        } else {
            if c == '"' || c == '\\' {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out.push('"');
    out
}

/// Go's `getnum`: one or two digits (exactly two when `fixed`).
fn getnum(v: &str, fixed: bool) -> Option<(u32, &str)> {
    let b = v.as_bytes();
    let digit = |i: usize| b.get(i).filter(|c| c.is_ascii_digit()).map(|c| u32::from(c - b'0'));
    let first = digit(0)?;
    match digit(1) {
        Some(second) => Some((first * 10 + second, &v[2..])),
        None if fixed => None,
        None => Some((first, &v[1..])),
    }
}

/// A clock field read by `getnum`, past `limit` Go's range error for `what`.
fn clock_field(
    v: &mut &str,
    fixed: bool,
    limit: u32,
    what: &'static str,
    range_err: &mut Option<&'static str>,
) -> Option<u32> {
    let (x, rest) = getnum(v, fixed)?;
    *v = rest;
    if x > limit {
        *range_err = Some(what);
    }
    Some(x)
}

/// Go's `getnum3`: one to three digits (exactly three when `fixed`).
fn getnum3(v: &str, fixed: bool) -> Option<(u32, &str)> {
    let n = v.bytes().take(3).take_while(u8::is_ascii_digit).count();
    if n == 0 || (fixed && n != 3) {
        return None;
    }
    Some((v[..n].parse().ok()?, &v[n..]))
}

/// Go's `skip`: the literal layout text `prefix` at the start of `value`, a
/// space in it matching any run of spaces; the rest of the value, or the
/// value where they differ.
fn skip<'v>(mut value: &'v str, mut prefix: &str) -> Result<&'v str, &'v str> {
    while let Some(p) = prefix.chars().next() {
        if p == ' ' {
            if value.starts_with(|c| c != ' ') {
                return Err(value);
            }
            prefix = prefix.trim_start_matches(' ');
            value = value.trim_start_matches(' ');
            continue;
        }
        match value.chars().next() {
            Some(c) if c == p => {
                value = &value[c.len_utf8()..];
                prefix = &prefix[p.len_utf8()..];
            }
            _ => return Err(value),
        }
    }
    Ok(value)
}

/// The index of the English name at the start of `v`, ASCII case ignored, as Go's `lookup` finds it.
fn lookup_name(names: &[&str], v: &str, short: bool) -> Option<(usize, usize)> {
    names.iter().enumerate().find_map(|(i, name)| {
        let name = if short { &name[..3] } else { name };
        v.get(..name.len()).filter(|p| p.eq_ignore_ascii_case(name)).map(|_| (i, name.len()))
    })
}

/// The next layout element after any literal text, as Go's `nextStdChunk` finds it.
fn next_element(mut l: &str) -> Option<Token> {
    while !l.is_empty() {
        let (token, len) = next_token(l);
        if !matches!(token, Token::Literal) {
            return Some(token);
        }
        l = &l[len..];
    }
    None
}

/// Go's `parseNanoseconds` of `.ddd` (or `,ddd`), `n` bytes with the
/// separator (at most 10 read): `Err(true)` for a negative fraction (Go's
/// `fractional second out of range`), `Err(false)` for other text.
fn parse_nanos(v: &str, n: usize) -> Result<u32, bool> {
    if !v.starts_with(['.', ',']) {
        return Err(false);
    }
    let n = n.min(10);
    let digits = v.get(1..n).ok_or(false)?;
    // Go's time `atoi`: a sign, then digits only.
    let (neg, body) = match digits.as_bytes().first() {
        Some(b'-') => (true, &digits[1..]),
        Some(b'+') => (false, &digits[1..]),
        _ => (false, digits),
    };
    if body.is_empty() || !body.bytes().all(|c| c.is_ascii_digit()) {
        return Err(false);
    }
    let x: u64 = body.parse().map_err(|_| false)?;
    if neg && x != 0 {
        return Err(true);
    }
    Ok((x * 10u64.pow((10 - n) as u32)) as u32)
}

/// Go's `parseTimeZone`: the length of a zone name at the start of `v`
/// (three to five capitals, `ChST`, `MeST`, `GMT` with an hour offset,
/// a signed hour offset).
fn zone_name_len(v: &str) -> Option<usize> {
    let b = v.as_bytes();
    if b.len() < 3 {
        return None;
    }
    if v.starts_with("ChST") || v.starts_with("MeST") {
        return Some(4);
    }
    if let Some(rest) = v.strip_prefix("GMT") {
        return Some(3 + signed_offset_len(rest));
    }
    if b[0] == b'+' || b[0] == b'-' {
        return Some(signed_offset_len(v)).filter(|n| *n > 0);
    }
    let upper = b.iter().take(6).take_while(|c| c.is_ascii_uppercase()).count();
    match upper {
        3 => Some(3),
        4 if b[3] == b'T' || v.starts_with("WITA") => Some(4),
        5 if b[4] == b'T' => Some(5),
        _ => None,
    }
}

/// Go's `parseSignedOffset`: a sign and an hour of at most 12.
fn signed_offset_len(v: &str) -> usize {
    let Some(rest) = v.strip_prefix(['+', '-']) else {
        return 0;
    };
    let n = rest.bytes().take_while(u8::is_ascii_digit).count();
    match rest[..n].parse::<u64>() {
        Ok(x) if n > 0 && x <= 12 => 1 + n,
        _ => 0,
    }
}

/// Whether Go's `time.Parse(layout, value)` accepts `value`, with its
/// error text when it does not (Helm's schema `date` format uses it).
pub(crate) fn check_time(layout: &str, value: &str) -> Result<(), String> {
    parse_time(layout, value).map(|_| ())
}

/// Go's `time.ParseInLocation(layout, value, time.Local)` (Sprig's `toDate`)
/// for the numeric and English layout elements,
/// with Go's error texts (`parsing time "x" as "2006": cannot parse "x" as
/// "2006"`, `: month out of range`, `: extra text: "x"`).
fn parse_time(layout: &str, value: &str) -> Result<GoTime, String> {
    let cannot = |lelem: &str, velem: &str| {
        format!(
            "parsing time {} as {}: cannot parse {} as {}",
            time_quote(value),
            time_quote(layout),
            time_quote(velem),
            time_quote(lelem)
        )
    };
    let failed = |message: &str| format!("parsing time {}{message}", time_quote(value));
    let (mut year, mut month, mut day, mut yday) = (0i64, -1i64, -1i64, -1i64);
    let (mut hour, mut min, mut sec, mut nano) = (0u32, 0u32, 0u32, 0u32);
    let (mut pm_set, mut am_set) = (false, false);
    let mut zone = ParsedZone::default();
    let (mut l, mut v) = (layout, value);
    loop {
        // The literal text up to the next layout element.
        let mut lit = 0;
        while lit < l.len() && matches!(next_token(&l[lit..]).0, Token::Literal) {
            lit += next_token(&l[lit..]).1;
        }
        let prefix = &l[..lit];
        v = skip(v, prefix).map_err(|rest| cannot(prefix, rest))?;
        l = &l[lit..];
        if l.is_empty() {
            if !v.is_empty() {
                return Err(failed(&format!(": extra text: {}", time_quote(v))));
            }
            break;
        }
        let (token, len) = next_token(l);
        let std = &l[..len];
        l = &l[len..];
        let mut range_err: Option<&'static str> = None;
        // Go names the value as it was before the element's reading.
        let hold = v;
        let ok: Option<()> = (|| {
            match token {
                Token::Literal => {}
                Token::LongYear => {
                    let y = v.get(..4).filter(|y| y.starts_with(|c: char| c.is_ascii_digit()))?;
                    v = &v[4..];
                    year = super::super::strconv::atoi(y).ok()?;
                }
                Token::Year => {
                    let y = v.get(..2)?;
                    let y: i64 = super::super::strconv::atoi(y).ok()?;
                    v = &v[2..];
                    year = if y >= 69 { 1900 + y } else { 2000 + y };
                }
                Token::Month | Token::LongMonth => {
                    let (i, n) = lookup_name(&MONTHS, v, matches!(token, Token::Month))?;
                    month = i as i64 + 1;
                    v = &v[n..];
                }
                Token::NumMonth | Token::ZeroMonth => {
                    let (m, rest) = getnum(v, matches!(token, Token::ZeroMonth))?;
                    v = rest;
                    month = i64::from(m);
                    if !(1..=12).contains(&m) {
                        range_err = Some("month");
                    }
                }
                Token::WeekDay | Token::LongWeekDay => {
                    let (_, n) = lookup_name(&DAYS, v, matches!(token, Token::WeekDay))?;
                    v = &v[n..];
                }
                Token::Day | Token::UnderDay | Token::ZeroDay => {
                    if matches!(token, Token::UnderDay) && v.starts_with(' ') {
                        v = &v[1..];
                    }
                    let (d, rest) = getnum(v, matches!(token, Token::ZeroDay))?;
                    v = rest;
                    day = i64::from(d);
                }
                Token::UnderYearDay | Token::ZeroYearDay => {
                    for _ in 0..2 {
                        if matches!(token, Token::UnderYearDay) && v.starts_with(' ') {
                            v = &v[1..];
                        }
                    }
                    let (d, rest) = getnum3(v, matches!(token, Token::ZeroYearDay))?;
                    v = rest;
                    yday = i64::from(d);
                }
                Token::Hour => hour = clock_field(&mut v, false, 23, "hour", &mut range_err)?,
                Token::Hour12 | Token::ZeroHour12 => {
                    let fixed = matches!(token, Token::ZeroHour12);
                    hour = clock_field(&mut v, fixed, 12, "hour", &mut range_err)?;
                }
                Token::Minute | Token::ZeroMinute => {
                    let fixed = matches!(token, Token::ZeroMinute);
                    min = clock_field(&mut v, fixed, 59, "minute", &mut range_err)?;
                }
                Token::Second | Token::ZeroSecond => {
                    let fixed = matches!(token, Token::ZeroSecond);
                    sec = clock_field(&mut v, fixed, 59, "second", &mut range_err)?;
                    if range_err.is_some() {
                        return Some(());
                    }
                    // A fraction after the seconds that the layout does not spell.
                    let b = v.as_bytes();
                    if b.len() >= 2
                        && (b[0] == b'.' || b[0] == b',')
                        && b[1].is_ascii_digit()
                        && !matches!(next_element(l), Some(Token::Frac { .. }))
                    {
                        let n = 1 + v[1..].bytes().take_while(u8::is_ascii_digit).count();
                        nano = parse_nanos(v, n).ok()?;
                        v = &v[n..];
                    }
                }
                Token::PM | Token::Pm => {
                    let p = v.get(..2)?;
                    v = &v[2..];
                    let (am, pm) =
                        if matches!(token, Token::PM) { ("AM", "PM") } else { ("am", "pm") };
                    if p == pm {
                        pm_set = true;
                    } else if p == am {
                        am_set = true;
                    } else {
                        return None;
                    }
                }
                Token::TzName => {
                    if let Some(rest) = v.strip_prefix("UTC") {
                        v = rest;
                        zone.utc = true;
                    } else {
                        let n = zone_name_len(v)?;
                        zone.name = v[..n].to_string();
                        v = &v[n..];
                    }
                }
                Token::IsoZ(form) | Token::Offset(form) => {
                    if matches!(token, Token::IsoZ(_)) && v.starts_with('Z') {
                        v = &v[1..];
                        zone.utc = true;
                        return Some(());
                    }
                    let b = v.as_bytes();
                    let colon = |i: usize| b.get(i) == Some(&b':');
                    let (h, m, sx, n) = match form {
                        "-07" => (v.get(1..3)?, "00", "00", 3),
                        "-0700" => (v.get(1..3)?, v.get(3..5)?, "00", 5),
                        "-07:00" if colon(3) => (v.get(1..3)?, v.get(4..6)?, "00", 6),
                        "-070000" => (v.get(1..3)?, v.get(3..5)?, v.get(5..7)?, 7),
                        "-07:00:00" if colon(3) && colon(6) => {
                            (v.get(1..3)?, v.get(4..6)?, v.get(7..9)?, 9)
                        }
                        _ => return None,
                    };
                    // Go takes the text of the offset before it reads its digits.
                    v = &v[n..];
                    let num = |t: &str| getnum(t, true).map(|(x, _)| i64::from(x));
                    let (h, m, sx) = (num(h)?, num(m)?, num(sx)?);
                    // Go allows 24 hours, 60 minutes and 60 seconds; the
                    // last part out of range names the error.
                    for (part, over, what) in [
                        (h, 24, "time zone offset hour"),
                        (m, 60, "time zone offset minute"),
                        (sx, 60, "time zone offset second"),
                    ] {
                        if part > over {
                            range_err = Some(what);
                        }
                    }
                    let secs = (h * 60 + m) * 60 + sx;
                    zone.offset = Some(match b[0] {
                        b'+' => secs,
                        b'-' => -secs,
                        _ => return None,
                    });
                }
                Token::Frac { digits, trim, .. } => {
                    if trim {
                        let b = v.as_bytes();
                        if b.len() < 2 || !(b[0] == b'.' || b[0] == b',') || !b[1].is_ascii_digit()
                        {
                            return Some(());
                        }
                        let n = 1 + v[1..].bytes().take_while(u8::is_ascii_digit).count();
                        nano = parse_nanos(v, n).ok()?;
                        v = &v[n..];
                    } else {
                        let rest = v.get(1 + digits..)?;
                        let n = parse_nanos(v, 1 + digits);
                        v = rest;
                        match n {
                            Ok(x) => nano = x,
                            Err(true) => range_err = Some("fractional second"),
                            Err(false) => return None,
                        }
                    }
                }
            }
            Some(())
        })();
        if let Some(what) = range_err {
            return Err(failed(&format!(": {what} out of range")));
        }
        if ok.is_none() {
            return Err(cannot(std, hold));
        }
    }
    if pm_set && hour < 12 {
        hour += 12;
    } else if am_set && hour == 12 {
        hour = 0;
    }
    let days_in = |m: i64, y: i64| -> i64 {
        [31, if is_leap(y) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
            [(m.clamp(1, 12) - 1) as usize]
    };
    if yday >= 0 {
        let max = if is_leap(year) { 366 } else { 365 };
        if yday < 1 || yday > max {
            return Err(failed(": day-of-year out of range"));
        }
        let (mut m, mut d) = (1, yday);
        while d > days_in(m, year) {
            d -= days_in(m, year);
            m += 1;
        }
        if month >= 0 && month != m {
            return Err(failed(": day-of-year does not match month"));
        }
        if day >= 0 && day != d {
            return Err(failed(": day-of-year does not match day"));
        }
        (month, day) = (m, d);
    } else {
        if month < 0 {
            month = 1;
        }
        if day < 0 {
            day = 1;
        }
    }
    if day < 1 || day > days_in(month, year) {
        return Err(failed(": day out of range"));
    }
    let secs = days_from_civil(year, month as u32, day as u32) * 86_400
        + i64::from(hour) * 3600
        + i64::from(min) * 60
        + i64::from(sec);
    let wall = i128::from(secs) * NANOS + i128::from(nano);
    // Go's choice of location: `Z` or `UTC` wins; then an offset, in Local
    // when Local has it (UTC here) under that name, else in a fixed zone of
    // that offset; then a zone name Local does not know, a fixed zone whose
    // offset only `GMT+h` gives, the clock read as UTC; then Local.
    Ok(if zone.utc {
        GoTime::new(Time(wall), Loc::utc())
    } else if let Some(offset) = zone.offset {
        let at = Time(wall - i128::from(offset) * NANOS);
        if offset == 0 && (zone.name.is_empty() || zone.name == "UTC") {
            GoTime::new(at, Loc::local())
        } else {
            GoTime::new(at, Loc::fixed(&zone.name, offset as i32))
        }
    } else if !zone.name.is_empty() {
        let hours = zone.name.strip_prefix("GMT").and_then(|h| h.parse::<i32>().ok());
        GoTime::new(Time(wall), Loc::fixed(&zone.name, hours.unwrap_or(0) * 3600))
    } else {
        GoTime::new(Time(wall), Loc::local())
    })
}

/// What a parsed value said of its zone.
#[derive(Default)]
struct ParsedZone {
    /// `Z` or `UTC`.
    utc: bool,
    /// A numeric offset, in seconds east of UTC.
    offset: Option<i64>,
    /// A zone abbreviation (`EST`, `GMT+3`).
    name: String,
}

/// The zero `time.Time`: January 1, year 1, 00:00:00 UTC.
pub(super) fn zero_time() -> Time {
    Time(i128::from(days_from_civil(1, 1, 1)) * 86_400 * NANOS)
}

pub(super) fn register(f: &mut Funcs) {
    def(f, "now", &[], None, |_| Ok(GoTime::now().value()));
    def(f, "date", &[Str, Any], None, |a| Ok(instant(&a[1]).format(s(&a[0])).into()));
    def(f, "dateInZone", &[Str, Any, Str], None, |a| {
        let t = instant(&a[1]);
        Ok(t.format_in(s(&a[0]), &Zone::at(s(&a[2]), t)).into())
    });
    def(f, "htmlDate", &[Any], None, |a| Ok(instant(&a[0]).format("2006-01-02").into()));
    def(f, "htmlDateInZone", &[Any, Str], None, |a| {
        let t = instant(&a[0]);
        Ok(t.format_in("2006-01-02", &Zone::at(s(&a[1]), t)).into())
    });
    def(f, "toDate", &[Str, Str], None, |a| {
        // A value that does not parse gives the zero time, in UTC.
        let zero = || GoTime::new(zero_time(), Loc::utc());
        Ok(parse_time(s(&a[0]), s(&a[1])).unwrap_or_else(|_| zero()).value())
    });
    def(f, "mustToDate", &[Str, Str], None, |a| parse_time(s(&a[0]), s(&a[1])).map(|t| t.value()));
    def(f, "unixEpoch", &[TIME], None, |a| Ok(time_arg(&a[0])?.at.unix().to_string().into()));
    def(f, "dateModify", &[Str, TIME], None, |a| {
        let t = time_arg(&a[1])?;
        Ok(match parse_duration(s(&a[0])) {
            Ok(d) => t.add(d).value(),
            Err(_) => t.value(),
        })
    });
    def(f, "mustDateModify", &[Str, TIME], None, |a| {
        let t = time_arg(&a[1])?;
        let d = parse_duration(s(&a[0]))?;
        Ok(t.add(d).value())
    });
    def(f, "duration", &[Any], None, |a| {
        // Sprig reads only strings (with strconv.ParseInt, whose value out of
        // range is the nearest int64) and int64s; Go ints and floats give 0s.
        let secs = match &a[0] {
            Value::String(t) => match atoi(t) {
                Ok(n) => n,
                Err(AtoiError::Range) if t.starts_with('-') => i64::MIN,
                Err(AtoiError::Range) => i64::MAX,
                Err(AtoiError::Syntax) => 0,
            },
            Value::Int64(n) => *n,
            _ => 0,
        };
        // time.Duration(n) * time.Second: an int64 product, which wraps.
        Ok(duration_string(i128::from(secs.wrapping_mul(1_000_000_000))).into())
    });
    def(f, "durationRound", &[Any], None, |a| {
        let d = match &a[0] {
            Value::String(t) => parse_duration(t).unwrap_or(0),
            // An int64 is a count of nanoseconds.
            Value::Int64(n) => i128::from(*n),
            Value::Struct(_) => time_arg(&a[0]).map_or(0, |t| Time::now().0 - t.at.0),
            _ => 0,
        };
        Ok(round_duration(d).into())
    });
    def(f, "ago", &[Any], None, |a| {
        let d = Time::now().0 - instant(&a[0]).0;
        Ok(duration_string((d + NANOS / 2).div_euclid(NANOS) * NANOS).into())
    });
}

/// Sprig's `durationRound`: the largest whole unit (y, mo, d, h, m, s) the duration exceeds.
fn round_duration(d: i128) -> String {
    let u = d.unsigned_abs();
    let hour = 3600 * NANOS as u128;
    let units: [(u128, &str); 6] = [
        (hour * 24 * 365, "y"),
        (hour * 24 * 30, "mo"),
        (hour * 24, "d"),
        (hour, "h"),
        (60 * NANOS as u128, "m"),
        (NANOS as u128, "s"),
    ];
    for (size, name) in units {
        if u > size {
            return format!("{}{name}", u / size);
        }
    }
    "0s".into()
}
