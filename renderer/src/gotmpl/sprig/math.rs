//! Sprig's math and conversion functions: int64 arithmetic through `cast.ToInt64`, float helpers, int/float conversions.

use super::{atoi, def, i, s, to_float64, to_int64};
use crate::gotmpl::{Funcs, Param, Value};

use Param::{Any, Int, String as Str};

pub(super) fn register(f: &mut Funcs) {
    def(f, "add1", &[Any], None, |a| Ok(Value::Int64(to_int64(&a[0]).wrapping_add(1))));
    def(f, "add", &[], Some(Any), |a| {
        Ok(Value::Int64(a.iter().map(to_int64).fold(0, i64::wrapping_add)))
    });
    def(f, "sub", &[Any, Any], None, |a| {
        Ok(Value::Int64(to_int64(&a[0]).wrapping_sub(to_int64(&a[1]))))
    });
    def(f, "mul", &[Any], Some(Any), |a| {
        Ok(Value::Int64(a.iter().map(to_int64).fold(1, i64::wrapping_mul)))
    });
    def(f, "div", &[Any, Any], None, |a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err("runtime error: integer divide by zero".into());
        }
        Ok(Value::Int64(to_int64(&a[0]).wrapping_div(d)))
    });
    def(f, "mod", &[Any, Any], None, |a| {
        let d = to_int64(&a[1]);
        if d == 0 {
            return Err("runtime error: integer divide by zero".into());
        }
        Ok(Value::Int64(to_int64(&a[0]).wrapping_rem(d)))
    });
    let max = |a: &[Value]| Ok(Value::Int64(a.iter().map(to_int64).max().unwrap_or(0)));
    def(f, "max", &[Any], Some(Any), max);
    def(f, "biggest", &[Any], Some(Any), max);
    def(f, "min", &[Any], Some(Any), |a| {
        Ok(Value::Int64(a.iter().map(to_int64).min().unwrap_or(0)))
    });
    def(f, "maxf", &[Any], Some(Any), |a| {
        Ok(Value::Float(a.iter().map(to_float64).fold(f64::NEG_INFINITY, go_max)))
    });
    def(f, "minf", &[Any], Some(Any), |a| {
        Ok(Value::Float(a.iter().map(to_float64).fold(f64::INFINITY, go_min)))
    });
    def(f, "floor", &[Any], None, |a| Ok(Value::Float(to_float64(&a[0]).floor())));
    def(f, "ceil", &[Any], None, |a| Ok(Value::Float(to_float64(&a[0]).ceil())));
    def(f, "round", &[Any, Int], Some(Param::Float), |a| {
        let x = to_float64(&a[0]);
        let places = i(&a[1]);
        let half = match a.get(2) {
            Some(Value::Float(h)) => *h,
            _ => 0.5,
        };
        let pow = 10f64.powi(places.clamp(-400, 400) as i32);
        let digit = pow * x;
        let rounded = if digit.fract() >= half { digit.ceil() } else { digit.floor() };
        Ok(Value::Float(rounded / pow))
    });
    def(f, "int", &[Any], None, |a| Ok(Value::Int(to_int64(&a[0]))));
    def(f, "int64", &[Any], None, |a| Ok(Value::Int64(to_int64(&a[0]))));
    def(f, "float64", &[Any], None, |a| Ok(Value::Float(to_float64(&a[0]))));
    def(f, "atoi", &[Str], None, |a| Ok(Value::Int(atoi(s(&a[0])))));
    def(f, "toDecimal", &[Any], None, |a| {
        let text = super::strval(&a[0]);
        Ok(Value::Int64(i64::from_str_radix(&text, 8).unwrap_or(0)))
    });
}

/// Go's `math.Max`: NaN wins.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.max(b) }
}

/// Go's `math.Min`: NaN wins.
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() { f64::NAN } else { a.min(b) }
}
