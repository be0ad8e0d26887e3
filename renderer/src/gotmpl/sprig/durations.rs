//! The duration functions of the Sprig that Helm 4 ships: mustToDuration, durationSeconds and the other unit conversions, durationRoundTo, durationTruncateTo.
//!
//! A duration is Go's `time.Duration`: nanoseconds as an int64 that prints
//! as `1h2m3s`. Strings parse as Go durations or as decimal seconds,
//! integers and floats count seconds.

use super::date::{duration_string, parse_duration};
use super::def;
use crate::gotmpl::fmt::quote;
use crate::gotmpl::{Funcs, Function, NamedType, Param, Value};

const SECOND: i64 = 1_000_000_000;

/// Go's `time.Duration`: an int64 count of nanoseconds that prints as `1h2m3s`.
pub(super) static DURATION: NamedType = NamedType {
    name: "time.Duration",
    kind: "int64",
    string: |d| duration_string(i128::from(d)),
    method: duration_method,
};

/// The `time.Duration` value of `nanos`.
pub(super) fn duration_value(nanos: i64) -> Value {
    Value::named(&DURATION, nanos)
}

/// The methods of a `time.Duration`.
fn duration_method(d: i64, name: &str) -> Option<Function> {
    let constant = |v: Value| Function::new(move |_, _| Ok(v.clone())).params(&[], None);
    let by = |f: fn(i64, i64) -> i64| {
        Function::new(move |_, a| Ok(duration_value(f(d, duration_nanos(&a[0])?))))
            .params(&[Param::Named(&DURATION)], None)
    };
    Some(match name {
        "String" => constant(Value::from(duration_string(i128::from(d)))),
        "Hours" => constant(Value::Float(in_units(d, 3600 * SECOND))),
        "Minutes" => constant(Value::Float(in_units(d, 60 * SECOND))),
        "Seconds" => constant(Value::Float(in_units(d, SECOND))),
        "Milliseconds" => constant(Value::Int64(d / 1_000_000)),
        "Microseconds" => constant(Value::Int64(d / 1_000)),
        "Nanoseconds" => constant(Value::Int64(d)),
        // Go's `Abs`: the most negative duration has no positive one.
        "Abs" => constant(duration_value(d.checked_abs().unwrap_or(i64::MAX))),
        "Round" => by(round),
        "Truncate" => by(|d, m| if m <= 0 { d } else { d - d % m }),
        _ => return None,
    })
}

/// The nanoseconds of a `time.Duration` parameter of a method (`Time.Add`),
/// which the executor has checked ([`Param::Named`]).
pub(super) fn duration_nanos(v: &Value) -> Result<i64, String> {
    match v {
        Value::Named(n) if n.is(&DURATION) => Ok(n.value),
        other => {
            Err(format!("wrong type for value; expected time.Duration; got {}", other.type_name()))
        }
    }
}

/// Sprig's `asDuration`.
fn as_duration(v: &Value) -> Result<i64, String> {
    match v {
        Value::Named(n) if n.is(&DURATION) => Ok(n.value),
        Value::String(s) => {
            let t = s.trim();
            if t.is_empty() {
                return Err("empty duration".into());
            }
            if let Ok(d) = parse_duration(t) {
                return i64::try_from(d)
                    .map_err(|_| format!("could not parse duration {}", quote(s)));
            }
            match t.parse::<f64>() {
                Ok(f) if !t.contains(['x', 'X', 'p', 'P', '_']) => Ok((f * SECOND as f64) as i64),
                _ => Err(format!("could not parse duration {}", quote(s))),
            }
        }
        Value::Int(i) | Value::Int64(i) => Ok(i.wrapping_mul(SECOND)),
        Value::Uint8(u) => Ok(i64::from(*u) * SECOND),
        Value::Uint64(u) => match i64::try_from(*u) {
            Ok(i) => Ok(i.wrapping_mul(SECOND)),
            Err(_) => Err(format!("duration seconds overflow: {u}")),
        },
        Value::Float(f) => Ok((f * SECOND as f64) as i64),
        Value::Nil | Value::Missing => Err("invalid duration".into()),
        other => Err(format!("unsupported duration type {}", other.type_name())),
    }
}

/// Go's `Duration.Round`.
fn round(d: i64, m: i64) -> i64 {
    if m <= 0 {
        return d;
    }
    let mut r = d % m;
    let less_than_half = |x: i64| (x as u64).wrapping_add(x as u64) < m as u64;
    if d < 0 {
        r = -r;
        if less_than_half(r) {
            return d + r;
        }
        return d.checked_sub(m - r).unwrap_or(i64::MIN);
    }
    if less_than_half(r) {
        return d - r;
    }
    d.checked_add(m - r).unwrap_or(i64::MAX)
}

/// A float count of `unit` nanoseconds, as Go's `Seconds`, `Minutes` and `Hours` compute it.
fn in_units(d: i64, unit: i64) -> f64 {
    (d / unit) as f64 + (d % unit) as f64 / unit as f64
}

/// A conversion of nanoseconds to a float count of some unit.
type Convert = fn(i64) -> f64;

pub(super) fn register(f: &mut Funcs) {
    use Param::Any;
    def(f, "mustToDuration", &[Any], None, |a| as_duration(&a[0]).map(duration_value));
    let floats: [(&str, Convert); 5] = [
        ("durationSeconds", |d| in_units(d, SECOND)),
        ("durationMinutes", |d| in_units(d, 60 * SECOND)),
        ("durationHours", |d| in_units(d, 3600 * SECOND)),
        ("durationDays", |d| in_units(d, 3600 * SECOND) / 24.0),
        ("durationWeeks", |d| in_units(d, 3600 * SECOND) / 24.0 / 7.0),
    ];
    for (name, conv) in floats {
        def(f, name, &[Any], None, move |a| Ok(Value::Float(as_duration(&a[0]).map_or(0.0, conv))));
    }
    let ints: [(&str, i64); 3] = [
        ("durationMilliseconds", 1_000_000),
        ("durationMicroseconds", 1_000),
        ("durationNanoseconds", 1),
    ];
    for (name, unit) in ints {
        def(f, name, &[Any], None, move |a| {
            Ok(Value::Int64(as_duration(&a[0]).map_or(0, |d| d / unit)))
        });
    }
    def(f, "durationRoundTo", &[Any, Any], None, |a| {
        Ok(duration_value(match as_duration(&a[0]) {
            Ok(d) => as_duration(&a[1]).map_or(d, |m| round(d, m)),
            Err(_) => 0,
        }))
    });
    def(f, "durationTruncateTo", &[Any, Any], None, |a| {
        Ok(duration_value(match as_duration(&a[0]) {
            Ok(d) => as_duration(&a[1]).map_or(d, |m| if m <= 0 { d } else { d - d % m }),
            Err(_) => 0,
        }))
    });
}
