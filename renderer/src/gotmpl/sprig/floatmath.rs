//! Sprig's float arithmetic (addf, add1f, subf, mulf, divf), which computes in decimal as shopspring/decimal does.
//!
//! Each operand becomes the decimal of its shortest float64 text, so
//! `addf 0.1 0.2` is exactly 0.3. Division keeps 16 decimal places, rounded
//! half away from zero. Where an exact decimal would not fit 128 bits, the
//! float64 result stands in.

use super::{def, to_float64};
use crate::gotmpl::{Funcs, Param, Value};

use Param::Any;

/// `m * 10^e`.
#[derive(Clone, Copy)]
struct Decimal {
    m: i128,
    e: i32,
}

impl Decimal {
    fn from_f64(f: f64) -> Option<Decimal> {
        if !f.is_finite() {
            return None;
        }
        let s = format!("{f:e}");
        let (mant, exp) = s.split_once('e')?;
        let exp: i32 = exp.parse().ok()?;
        let frac_digits = mant.split_once('.').map_or(0, |(_, fr)| fr.len()) as i32;
        let m: i128 = mant.replace('.', "").parse().ok()?;
        Some(Decimal { m, e: exp - frac_digits })
    }

    fn to_f64(self) -> f64 {
        format!("{}e{}", self.m, self.e).parse().unwrap_or(f64::NAN)
    }

    fn rescale(self, e: i32) -> Option<i128> {
        let diff = u32::try_from(self.e - e).ok()?;
        self.m.checked_mul(10i128.checked_pow(diff)?)
    }

    fn add(self, o: Decimal) -> Option<Decimal> {
        let e = self.e.min(o.e);
        Some(Decimal { m: self.rescale(e)?.checked_add(o.rescale(e)?)?, e })
    }

    fn mul(self, o: Decimal) -> Option<Decimal> {
        Some(Decimal { m: self.m.checked_mul(o.m)?, e: self.e.checked_add(o.e)? })
    }

    fn div(self, o: Decimal) -> Option<Decimal> {
        if o.m == 0 {
            return None;
        }
        // The quotient to 16 places, with one more digit to round on.
        let shift = self.e - o.e + 17;
        let (num, den) = if shift >= 0 {
            (self.m.checked_mul(10i128.checked_pow(shift as u32)?)?, o.m)
        } else {
            (self.m, o.m.checked_mul(10i128.checked_pow((-shift) as u32)?)?)
        };
        let q = num / den;
        let rounded = if (q % 10).abs() >= 5 { q / 10 + q.signum() } else { q / 10 };
        Some(Decimal { m: rounded, e: -16 })
    }
}

/// Folds `rest` into `first` with `op`, in decimal where it fits, else in float64.
/// As shopspring/decimal does, an operand that is NaN or infinite fails (Sprig's
/// panic, which the template reports as the call's error), and with `divides` a
/// zero divisor fails, each when the fold reaches it.
fn fold(
    first: &Value,
    rest: &[Value],
    op: fn(Decimal, Decimal) -> Option<Decimal>,
    float: fn(f64, f64) -> f64,
    divides: bool,
) -> Result<f64, String> {
    let mut acc_f = finite(to_float64(first))?;
    let mut acc = Decimal::from_f64(acc_f);
    for v in rest {
        let x = finite(to_float64(v))?;
        if divides && x == 0.0 {
            return Err("decimal division by 0".into());
        }
        acc = acc.zip(Decimal::from_f64(x)).and_then(|(a, b)| op(a, b));
        acc_f = float(acc_f, x);
    }
    Ok(acc.map_or(acc_f, Decimal::to_f64))
}

/// The operand, or the error of `decimal.NewFromFloat`, which has no NaN or infinity.
fn finite(f: f64) -> Result<f64, String> {
    if f.is_finite() {
        return Ok(f);
    }
    Err(format!("Cannot create a Decimal from {}", super::json::non_finite_name(f)))
}

pub(super) fn register(f: &mut Funcs) {
    def(f, "addf", &[], Some(Any), |a| {
        Ok(Value::Float(fold(&Value::Float(0.0), a, Decimal::add, |x, y| x + y, false)?))
    });
    def(f, "add1f", &[Any], None, |a| {
        Ok(Value::Float(fold(&a[0], &[Value::Int(1)], Decimal::add, |x, y| x + y, false)?))
    });
    def(f, "subf", &[Any], Some(Any), |a| {
        let neg = |d: Decimal, o: Decimal| d.add(Decimal { m: -o.m, e: o.e });
        Ok(Value::Float(fold(&a[0], &a[1..], neg, |x, y| x - y, false)?))
    });
    def(f, "mulf", &[Any], Some(Any), |a| {
        Ok(Value::Float(fold(&a[0], &a[1..], Decimal::mul, |x, y| x * y, false)?))
    });
    def(f, "divf", &[Any], Some(Any), |a| {
        Ok(Value::Float(fold(&a[0], &a[1..], Decimal::div, |x, y| x / y, true)?))
    });
}
