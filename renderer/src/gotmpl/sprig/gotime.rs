//! Go's `time.Time` as templates see it: an instant, the `*time.Location` it shows its wall clock in, a monotonic reading; its methods and `==`.
//!
//! Go's `==` on two times compares the instant, the monotonic reading and
//! the location pointer, so the location's identity matters: UTC and Local
//! are one location each, `time.FixedZone` makes a new one on every call
//! except for an unnamed whole hour between -12 and +14, which current Go
//! (the one Helm 4 is built with) shares. kiln renders alike everywhere, so
//! Local shows UTC's wall clock and abbreviation, as on a machine whose
//! zone is UTC.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use super::date::{DAYS, MONTHS, NANOS, Time, Zone, offset_text, zero_time};
use super::durations::{DURATION, duration_nanos, duration_value};
use super::s;
use crate::gotmpl::{Function, NamedType, Param, Struct, Value};

/// The Go type of `Time.Location`.
const LOCATION: &str = "*time.Location";

/// A `*time.Location`: what it is and its identity (the pointer Go compares).
#[derive(Clone, Debug, PartialEq)]
pub(super) struct Loc {
    kind: LocKind,
    id: u64,
}

#[derive(Clone, Debug, PartialEq)]
enum LocKind {
    Utc,
    Local,
    /// `time.FixedZone(name, offset)`.
    Fixed(Arc<str>, i32),
}

/// Identities of fixed zones made one by one; the shared ones come below.
static NEXT_LOC: AtomicU64 = AtomicU64::new(1 << 32);

impl Loc {
    pub(super) fn utc() -> Loc {
        Loc { kind: LocKind::Utc, id: 0 }
    }

    pub(super) fn local() -> Loc {
        Loc { kind: LocKind::Local, id: 1 }
    }

    /// `time.FixedZone(name, offset)`: Go hands out one location per unnamed
    /// whole hour from -12 to +14 and a new one otherwise.
    pub(super) fn fixed(name: &str, offset: i32) -> Loc {
        let hour = offset / 3600;
        let id = if name.is_empty() && (-12..=14).contains(&hour) && hour * 3600 == offset {
            (hour + 12) as u64 + 2
        } else {
            NEXT_LOC.fetch_add(1, Ordering::Relaxed)
        };
        Loc { kind: LocKind::Fixed(name.into(), offset), id }
    }

    /// A fixed zone that a library keeps in one package variable (the TOML
    /// decoder's `datetime-local`), so every time in it shares it.
    pub(super) fn shared(name: &str, offset: i32) -> Loc {
        let id =
            name.bytes().fold(1u64 << 48, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
        Loc { kind: LocKind::Fixed(name.into(), offset), id }
    }

    /// `Location.String()`.
    fn name(&self) -> &str {
        match &self.kind {
            LocKind::Utc => "UTC",
            LocKind::Local => "Local",
            LocKind::Fixed(name, _) => name,
        }
    }

    /// The zone in effect: its offset and the abbreviation `MST` prints.
    pub(super) fn zone(&self) -> Zone {
        match &self.kind {
            LocKind::Utc | LocKind::Local => Zone::utc(),
            LocKind::Fixed(name, offset) => {
                // Go prints an unnamed zone's offset in the `-0700` form.
                let shown =
                    if name.is_empty() { offset_text("-0700", *offset) } else { name.to_string() };
                Zone { offset: *offset, name: Some(shown) }
            }
        }
    }

    fn value(&self) -> Value {
        let name = Value::from(self.name());
        let mut methods = BTreeMap::new();
        methods.insert(
            "String".to_string(),
            Function::new(move |_, _| Ok(name.clone())).params(&[], None),
        );
        Value::Struct(Arc::new(Struct {
            type_name: LOCATION.to_string(),
            methods,
            string: Some(self.name().to_string()),
            native: Some(Arc::new(self.clone())),
            // The pointer Go compares.
            eq_key: Some(self.id.to_string()),
            ..Struct::default()
        }))
    }
}

/// A `time.Time`: the instant, its location and, for `now` and what is
/// added to it, the monotonic reading (nanoseconds since the process began).
#[derive(Clone, Debug)]
pub(super) struct GoTime {
    pub(super) at: Time,
    pub(super) loc: Loc,
    pub(super) mono: Option<i128>,
}

impl GoTime {
    pub(super) fn new(at: Time, loc: Loc) -> GoTime {
        GoTime { at, loc, mono: None }
    }

    /// `time.Now()`: Local, with a monotonic reading.
    pub(super) fn now() -> GoTime {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        let start = *START.get_or_init(std::time::Instant::now);
        let mono = start.elapsed().as_nanos() as i128 + 1;
        GoTime { at: Time::now(), loc: Loc::local(), mono: Some(mono) }
    }

    /// The same instant in `loc`, without the monotonic reading (`In`, `UTC`, `Local`).
    fn with_loc(&self, loc: Loc) -> GoTime {
        GoTime::new(self.at, loc)
    }

    /// `Add(d)`: the monotonic reading moves too.
    pub(super) fn add(&self, d: i128) -> GoTime {
        GoTime { at: Time(self.at.0 + d), loc: self.loc.clone(), mono: self.mono.map(|m| m + d) }
    }

    pub(super) fn format(&self, layout: &str) -> String {
        self.at.format_in(layout, &self.loc.zone())
    }

    /// `Time.String()`: the zone, and the monotonic reading when there is one.
    fn go_string(&self) -> String {
        let mut out = self.format("2006-01-02 15:04:05.999999999 -0700 MST");
        if let Some(m) = self.mono {
            let sign = if m < 0 { '-' } else { '+' };
            let a = m.unsigned_abs();
            let n = NANOS as u128;
            out.push_str(&format!(" m={sign}{}.{:09}", a / n, a % n));
        }
        out
    }

    /// `GoString()`, which `%#v` prints: `time.Date(2020, time.March, 4,
    /// 0, 0, 0, 0, time.Local)`, with the wall clock of its zone.
    fn go_syntax(&self) -> String {
        let c = self.wall().civil();
        let loc = match &self.loc.kind {
            LocKind::Utc => "time.UTC".to_string(),
            LocKind::Local => "time.Local".to_string(),
            LocKind::Fixed(name, _) => {
                format!("time.Location({})", crate::gotmpl::fmt::quote(name))
            }
        };
        super::date::go_date_syntax(
            c.year,
            [c.month, c.day, c.hour, c.minute, c.second, c.nano],
            &loc,
        )
    }

    /// What `json.Marshal` writes (RFC 3339 with nanoseconds, in its zone), unquoted.
    pub(super) fn json_text(&self) -> String {
        self.format("2006-01-02T15:04:05.999999999Z07:00")
    }

    /// The instant as the wall clock of its zone reads it.
    fn wall(&self) -> Time {
        Time(self.at.0 + i128::from(self.loc.zone().offset) * NANOS)
    }

    /// `Round(d)` or `Truncate(d)`: Go counts from the zero time, and drops
    /// the monotonic reading.
    fn round(&self, d: i128, up_at_half: bool) -> GoTime {
        if d <= 0 {
            return GoTime::new(self.at, self.loc.clone());
        }
        let r = (self.at.0 - zero_time().0).rem_euclid(d);
        let at = if up_at_half && r + r >= d { self.at.0 + d - r } else { self.at.0 - r };
        GoTime::new(Time(at), self.loc.clone())
    }

    /// `AddDate(years, months, days)`: calendar arithmetic on the wall clock,
    /// normalized as `time.Date` normalizes.
    fn add_date(&self, years: i64, months: i64, days: i64) -> GoTime {
        let wall = self.wall();
        let c = wall.civil();
        let m0 = i64::from(c.month) - 1 + months;
        let year = c.year + years + m0.div_euclid(12);
        let month = m0.rem_euclid(12) as u32 + 1;
        let day_nanos = wall.0.rem_euclid(86_400 * NANOS);
        let day = super::date::days_from_civil(year, month, 1) + i64::from(c.day) - 1 + days;
        let wall = i128::from(day) * 86_400 * NANOS + day_nanos;
        let at = wall - i128::from(self.loc.zone().offset) * NANOS;
        GoTime::new(Time(at), self.loc.clone())
    }

    /// The `time.Time` struct value.
    pub(super) fn value(&self) -> Value {
        let mut methods = BTreeMap::new();
        let constant = |v: Value| Function::new(move |_, _| Ok(v.clone())).params(&[], None);
        let c = self.wall().civil();
        let int = |v: i64| constant(Value::Int(v));
        let unix = self.at.unix();
        methods.insert("Unix".to_string(), constant(Value::Int64(unix)));
        methods.insert("UnixNano".to_string(), constant(Value::Int64(self.at.0 as i64)));
        methods.insert(
            "UnixMilli".to_string(),
            constant(Value::Int64(self.at.0.div_euclid(1_000_000) as i64)),
        );
        methods.insert(
            "UnixMicro".to_string(),
            constant(Value::Int64(self.at.0.div_euclid(1_000) as i64)),
        );
        methods.insert("Year".to_string(), int(c.year));
        methods.insert("Day".to_string(), int(i64::from(c.day)));
        methods.insert("Hour".to_string(), int(i64::from(c.hour)));
        methods.insert("Minute".to_string(), int(i64::from(c.minute)));
        methods.insert("Second".to_string(), int(i64::from(c.second)));
        methods.insert("Nanosecond".to_string(), int(i64::from(c.nano)));
        methods.insert("YearDay".to_string(), int(i64::from(c.yday)));
        methods.insert("IsZero".to_string(), constant(Value::Bool(self.at == zero_time())));
        methods.insert("IsDST".to_string(), constant(Value::Bool(false)));
        methods.insert("String".to_string(), constant(Value::from(self.go_string())));
        methods.insert("Location".to_string(), constant(self.loc.value()));
        for (name, loc) in [("UTC", Loc::utc()), ("Local", Loc::local())] {
            let this = self.with_loc(loc);
            methods.insert(
                name.to_string(),
                Function::new(move |_, _| Ok(this.value())).params(&[], None),
            );
        }
        let this = self.clone();
        methods.insert(
            "In".to_string(),
            Function::new(move |_, a| match location_arg(&a[0]) {
                Some(loc) => Ok(this.with_loc(loc).value()),
                None => Err("time: missing Location in call to Time.In".into()),
            })
            .params(&[Param::Struct(LOCATION)], None),
        );
        let this = self.clone();
        methods.insert(
            "Format".to_string(),
            Function::new(move |_, a| Ok(this.format(s(&a[0])).into()))
                .params(&[Param::String], None),
        );
        let this = self.clone();
        methods.insert(
            "Add".to_string(),
            Function::new(move |_, a| Ok(this.add(i128::from(duration_nanos(&a[0])?)).value()))
                .params(&[Param::Named(&DURATION)], None),
        );
        let this = self.clone();
        methods.insert(
            "AddDate".to_string(),
            Function::new(move |_, a| {
                let n = |v: &Value| match v {
                    Value::Int(i) | Value::Int64(i) => *i,
                    _ => 0,
                };
                Ok(this.add_date(n(&a[0]), n(&a[1]), n(&a[2])).value())
            })
            .params(&[Param::Int, Param::Int, Param::Int], None),
        );
        for (name, up) in [("Round", true), ("Truncate", false)] {
            let this = self.clone();
            methods.insert(
                name.to_string(),
                Function::new(move |_, a| {
                    Ok(this.round(i128::from(duration_nanos(&a[0])?), up).value())
                })
                .params(&[Param::Named(&DURATION)], None),
            );
        }
        let at = self.at;
        let compare = move |f: fn(Time, Time) -> Value| {
            Function::new(move |_, a| Ok(f(at, time_arg(&a[0])?.at)))
                .params(&[Param::Struct("time.Time")], None)
        };
        methods.insert("Equal".to_string(), compare(|a, b| Value::Bool(a == b)));
        methods.insert("Before".to_string(), compare(|a, b| Value::Bool(a.0 < b.0)));
        methods.insert("After".to_string(), compare(|a, b| Value::Bool(a.0 > b.0)));
        methods.insert("Compare".to_string(), compare(|a, b| Value::Int(a.0.cmp(&b.0) as i64)));
        methods.insert(
            "Sub".to_string(),
            compare(|a, b| {
                let d = (a.0 - b.0).clamp(i128::from(i64::MIN), i128::from(i64::MAX));
                duration_value(d as i64)
            }),
        );
        methods.insert("Month".to_string(), constant(Value::named(&MONTH, i64::from(c.month))));
        methods.insert("Weekday".to_string(), constant(Value::named(&WEEKDAY, c.weekday as i64)));
        // Go's template calls only methods with one result, or two whose
        // second is an error.
        let second = |name: &str, ty: &str| {
            format!(
                "invalid function signature for {name}: second return value should be error; is {ty}"
            )
        };
        for (name, why) in [
            ("Zone", second("Zone", "int")),
            ("ISOWeek", second("ISOWeek", "int")),
            ("ZoneBounds", second("ZoneBounds", "time.Time")),
            ("Date", "function Date has 3 return values; should be 1 or 2".to_string()),
            ("Clock", "function Clock has 3 return values; should be 1 or 2".to_string()),
        ] {
            methods.insert(name.to_string(), Function::refused(why, &[]));
        }
        let key = format!("{} {} {:?}", self.at.0, self.loc.id, self.mono);
        Value::Struct(Arc::new(Struct {
            type_name: "time.Time".to_string(),
            methods,
            string: Some(self.go_string()),
            go_syntax: Some(self.go_syntax()),
            native: Some(Arc::new(self.clone())),
            // Go's `==` on two `time.Time`s compares the instant, the
            // monotonic reading and the location pointer.
            eq_key: Some(key),
            ..Struct::default()
        }))
    }
}

/// Go's `time.Month`: an int, January = 1, that prints as the month's name.
static MONTH: NamedType = NamedType {
    name: "time.Month",
    kind: "int",
    string: |m| name_or_number(&MONTHS, m - 1, "Month", m),
    method: |m, name| string_method(&MONTH, m, name),
};

/// Go's `time.Weekday`: an int, Sunday = 0, that prints as the day's name.
static WEEKDAY: NamedType = NamedType {
    name: "time.Weekday",
    kind: "int",
    string: |d| name_or_number(&DAYS, d, "Weekday", d),
    method: |d, name| string_method(&WEEKDAY, d, name),
};

/// `names[i]`, or for a number out of range Go's `%!Type(n)`.
fn name_or_number(names: &[&str], i: i64, ty: &str, n: i64) -> String {
    match usize::try_from(i).ok().and_then(|i| names.get(i)) {
        Some(name) => (*name).to_string(),
        None => format!("%!{ty}({n})"),
    }
}

/// The one method of a type whose only method is `String`.
fn string_method(ty: &'static NamedType, v: i64, name: &str) -> Option<Function> {
    let text = Value::from((ty.string)(v));
    (name == "String").then(|| Function::new(move |_, _| Ok(text.clone())).params(&[], None))
}

fn location_arg(v: &Value) -> Option<Loc> {
    match v {
        Value::Struct(st) => st.native.as_ref()?.downcast_ref::<Loc>().cloned(),
        _ => None,
    }
}

/// The `time.Time` behind a struct, if it is one.
pub(super) fn native_time(st: &Struct) -> Option<GoTime> {
    st.native.as_ref()?.downcast_ref::<GoTime>().cloned()
}

/// A `time.Time` argument, with Go's error for anything else.
pub(super) fn time_arg(v: &Value) -> Result<GoTime, String> {
    let wrong = |t: String| format!("wrong type for value; expected time.Time; got {t}");
    match v {
        Value::Struct(st) => native_time(st).ok_or_else(|| wrong(st.type_name.clone())),
        other => Err(wrong(other.type_name())),
    }
}
